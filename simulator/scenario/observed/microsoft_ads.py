"""Microsoft Advertising campaign performance reports (Reports > Campaign > Download, CSV).

The download (Microsoft Advertising Help "Download a report", help.ads.microsoft.com/#apex/ads/en/50816)
opens with report settings lines — ``"Report Name: ..."``, ``"Report Time: ..."``, ``"Time Zone: ..."``,
``"Last Completed Available Day: ..."``, ``"Report Aggregation: Daily"``, ``"Report Filter: ..."``,
``"Potential Incomplete Data: ..."``, ``"Rows: N"`` — a blank line, the header, the rows, a ``Total``
row and the footer ``"©2024 Microsoft Corporation. All rights reserved."``. Column display names
follow the Reporting API's CampaignPerformanceReportColumn (learn.microsoft.com/advertising/reporting-service/
campaignperformancereportcolumn): ``Gregorian date`` / ``TimePeriod``, ``Campaign name`` /
``CampaignName``, ``Impressions``, ``Clicks``, ``Spend``, ``Conversions``. Days are the account's days.
"""

from __future__ import annotations

from simulator.scenario.observed._table import read_ads
from simulator.scenario.observed.rows import Report

__all__ = ["KNOWN", "read"]

KNOWN = {
    "day": ("Gregorian date", "Date", "TimePeriod", "Day", "Time period"),
    "campaign": ("Campaign name", "CampaignName", "Campaign"),
    "impressions": ("Impressions", "Impr."),
    "clicks": ("Clicks",),
    "cost": ("Spend", "Cost"),
    "conversions": ("Conversions", "Conv."),
}
_METRICS = {"impressions": ("impressions", 1.0), "clicks": ("clicks", 1.0), "cost": ("cost", 1.0)}


def read(text: str, path: str) -> Report:
    """Read a Microsoft Advertising campaign report into rows of ``ads.<metric>``."""
    return read_ads(text, path, "microsoft_ads", KNOWN, _METRICS, totals=("total",), footers=("©", "(c)"))

"""Google Ads campaign reports: the UI download (CSV) and the API report (GAQL field names).

**UI download** (Reports > Predefined or the Campaigns table > Download > CSV; Google Ads Help
"Download your reports", support.google.com/google-ads/answer/2404182): a title line (the report's
name), a date-range line (``May 6, 2024 - May 12, 2024``), then the header row, one row per day and
campaign, and totals rows at the end (``Total: Account``, ``Total: Campaigns``, ...). Numbers carry
thousands separators (``1,234``), cost may carry a currency symbol (``€45.20``), and ``--`` means
"no value". Display names are those of the AdWords/Google Ads report reference ("Display Name" of
each field, developers.google.com/adwords/api/docs/appendix/reports/campaign-performance-report):
``Day``, ``Campaign``, ``Impr.`` / ``Impressions``, ``Clicks``, ``Cost``, ``Conversions``,
``Currency code``, ``Campaign state``, ...; the German UI's ``Tag``, ``Kampagne``, ``Impr.``,
``Klicks``, ``Kosten``, ``Conversions`` are accepted too.

**API report** (GoogleAdsService.SearchStream with a GAQL query, written out as CSV with the field
names as the header; developers.google.com/google-ads/api/fields/v17/campaign): ``segments.date``,
``campaign.name``, ``metrics.impressions``, ``metrics.clicks``, ``metrics.cost_micros`` (cost in
millionths of the account currency), ``metrics.conversions``. The legacy AdWords API CSV
(``CAMPAIGN_PERFORMANCE_REPORT``: a title line ``"CAMPAIGN_PERFORMANCE_REPORT (May 6, 2024-May 12,
2024)"``, display names, Cost in micros, a ``Total`` row) is read as the UI form; pass cost in
micros with the API form only.

Days are the ad account's days (its time zone); aligned with the scenario's ``ad_timezone``.
Conversions are read but not compared: the simulation has no ad-side conversion count (a notice).
"""

from __future__ import annotations

from simulator.scenario.observed._table import read_ads
from simulator.scenario.observed.rows import Report

__all__ = ["KNOWN", "read"]

#: canonical column -> accepted header names (UI English/German, API field names)
KNOWN = {
    "day": ("Day", "Date", "Tag", "Datum", "Jour", "Día", "segments.date"),
    "campaign": ("Campaign", "Kampagne", "Campagne", "Campaña", "campaign.name"),
    "impressions": ("Impr.", "Impressions", "Impressionen", "metrics.impressions"),
    "clicks": ("Clicks", "Klicks", "Clics", "metrics.clicks"),
    "cost": ("Cost", "Kosten", "Coût", "Costo", "Coste"),
    "cost_micros": ("metrics.cost_micros",),
    "conversions": ("Conversions", "Conv.", "metrics.conversions"),
}
_METRICS = {
    "impressions": ("impressions", 1.0),
    "clicks": ("clicks", 1.0),
    "cost": ("cost", 1.0),
    "cost_micros": ("cost", 1e-6),
}


def read(text: str, path: str) -> Report:
    """Read a Google Ads campaign report (UI download or API form) into rows of ``ads.<metric>``."""
    return read_ads(
        text, path, "google_ads", KNOWN, _METRICS, totals=("total", "gesamt", "summe"), footers=()
    )

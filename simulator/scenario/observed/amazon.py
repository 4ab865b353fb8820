"""Amazon Seller Central Business Reports and the Sponsored Products report.

**Business Reports** (Seller Central > Reports > Business Reports > Detail Page Sales and Traffic,
"by Date" or "by Child Item", Download (.csv); Seller Central Help "Business Reports" and the
Selling Partner API GET_SALES_AND_TRAFFIC_REPORT schema, developer-docs.amazon.com/sp-api/docs/
report-type-values-analytics): one header row; by Date a ``Date`` column (``5/6/2024``), by Child
Item ``(Parent) ASIN``, ``(Child) ASIN``, ``Title``, ``SKU`` and no date (range totals). Traffic and
sales columns: ``Sessions - Total``, ``Page Views - Total``, ``Units Ordered``, ``Ordered Product
Sales`` (``$1,234.56``), ``Unit Session Percentage`` (``12.34%``), each with a ``- B2B`` twin; older
downloads write ``Sessions`` / ``Page Views`` and newer ones an en dash (``Sessions \\u2013 Total``), both
matched. B2B columns are a subset of the totals and are named in a notice, not added. Percentages
are ratios Amazon computes; they are not compared (compare the counts). Business Reports count days
in Pacific Time (America/Los_Angeles) whatever the marketplace: aligned on that zone.

**Sponsored Products** (Advertising console > Measurement & Reporting > Sponsored ads reports >
Sponsored Products, Campaign report, Daily; advertising.amazon.com/API/docs/en-us/guides/reporting/
v3/report-types/campaign): ``Date``, ``Campaign Name``, ``Impressions``, ``Clicks``, ``Spend``,
``7 Day Total Sales``, ``14 Day Total Sales``; days of the advertising account (``ad_timezone``).
"""

from __future__ import annotations

import csv
import io

from simulator.errors import ScenarioError
from simulator.scenario.observed._table import collect, read_ads
from simulator.scenario.observed.headers import match_headers, normalise
from simulator.scenario.observed.rows import Report

__all__ = ["BUSINESS", "PACIFIC", "SPONSORED", "read_business", "read_sponsored_products"]

#: The zone of Business Reports' days.
PACIFIC = "America/Los_Angeles"

BUSINESS = {
    "day": ("Date",),
    "sessions": ("Sessions - Total", "Sessions"),
    "views": ("Page Views - Total", "Page Views"),
    "units": ("Units Ordered",),
    "value": ("Ordered Product Sales",),
}
_BUSINESS_METRICS = {m: (m, 1.0) for m in ("sessions", "views", "units", "value")}
_B2B_OR_RATIO = ("b2b", "percentage", "buy box", "average offer count", "total order items")

SPONSORED = {
    "day": ("Date", "Start Date"),
    "campaign": ("Campaign Name",),
    "impressions": ("Impressions",),
    "clicks": ("Clicks",),
    "cost": ("Spend", "Cost"),
    "sales_7d": ("7 Day Total Sales", "7 Day Total Sales ($)"),
    "sales_14d": ("14 Day Total Sales", "14 Day Total Sales ($)"),
}
_SPONSORED_METRICS = {m: (m, 1.0) for m in ("impressions", "clicks", "cost", "sales_7d", "sales_14d")}


def read_business(text: str, path: str) -> Report:
    """A Detail Page Sales and Traffic report (by Date or by Child Item) as ``amazon.<metric>`` rows."""
    lines = list(csv.reader(io.StringIO(text)))
    if not lines:
        raise ScenarioError(path, "", "empty file: expected a Business Report header row")
    headers = lines[0]
    columns, notices = match_headers(headers, BUSINESS, path, 1)
    if not any(m in columns for m in _BUSINESS_METRICS):
        raise ScenarioError(
            path, "line 1", "no 'Sessions - Total' or 'Page Views - Total' column in the header"
        )
    notices = [
        n.replace("is not used", "is not used (a B2B subset or a ratio)")
        if any(w in n.lower() for w in _B2B_OR_RATIO)
        else n
        for n in notices
    ]
    by_item = any(normalise(h) in {"(child) asin", "(parent) asin", "sku"} for h in headers)
    if "day" not in columns and not by_item:
        raise ScenarioError(
            path, "line 1", "neither a Date column (by Date) nor ASIN columns (by Child Item)"
        )
    records = [(n, cells) for n, cells in enumerate(lines[1:], start=2) if any(c.strip() for c in cells)]
    rows = collect(records, columns, headers, _BUSINESS_METRICS, system="amazon", path=path)
    return Report(path, "amazon_business", tuple(rows), tuple(notices))


def read_sponsored_products(text: str, path: str) -> Report:
    """A Sponsored Products campaign report (daily) as ``ads.<metric>`` rows."""
    return read_ads(
        text, path, "amazon_sponsored_products", SPONSORED, _SPONSORED_METRICS, totals=("total",), footers=()
    )

"""GA4 report exports: Reports > (a report) > Share this report > Download File > CSV.

The file (Analytics Help "Download report data", support.google.com/analytics/answer/9317657) opens
with ``#`` comment lines (a dashed rule, the report's name, account and property, ``# Start date:
20240506``, ``# End date: 20240512``) and may hold several tables, each introduced by its own comment
block and separated by a blank line. Each table has a header row of dimension and metric display
names (GA4 Data API schema, developers.google.com/analytics/devguides/reporting/data/v1/api-schema):
``Date`` (``YYYYMMDD``), ``Session source / medium``, ``Session campaign``, ``Sessions``,
``Engaged sessions``, ``Views``, ``Key events`` (``Conversions`` before March 2024), ``Total users``;
the German UI's ``Datum``, ``Sitzungen``, ``Aufrufe``, ``Schlüsselereignisse``, ``Nutzer insgesamt``
are accepted too. A table without Date gives totals per campaign (or for the range).

Rows with the same date and campaign (e.g. several source/medium rows) are summed. Days are the
property's days (its time zone); aligned with the scenario's ``timezone``.
"""

from __future__ import annotations

import csv

from simulator.errors import ScenarioError
from simulator.scenario.observed._table import collect
from simulator.scenario.observed.headers import match_headers, normalise
from simulator.scenario.observed.rows import Report, Row

__all__ = ["KNOWN", "read"]

KNOWN = {
    "day": ("Date", "Datum", "date"),
    "campaign": ("Session campaign", "Sitzungskampagne", "Session campaign name", "sessionCampaignName"),
    "sessions": ("Sessions", "Sitzungen", "sessions"),
    "views": ("Views", "Aufrufe", "Screen page views", "screenPageViews"),
    "users": ("Total users", "Nutzer insgesamt", "totalUsers"),
    "conversions": ("Key events", "Conversions", "Schlüsselereignisse", "keyEvents"),
}
_METRICS = {
    "sessions": ("sessions", 1.0),
    "views": ("views", 1.0),
    "users": ("users", 1.0),
    "conversions": ("conversions", 1.0),
}
_DIMENSIONS = {
    normalise(h)
    for h in (
        "Session source / medium",
        "Session source",
        "Session medium",
        "Session default channel group",
        "Sitzungsquelle/-medium",
    )
}


def _tables(text: str) -> list[list[tuple[int, list[str]]]]:
    """Split the file at comment lines and blank lines into tables of ``(line, cells)``."""
    tables: list[list[tuple[int, list[str]]]] = []
    current: list[tuple[int, list[str]]] = []
    for n, raw in enumerate(text.splitlines(), start=1):
        if raw.lstrip().startswith("#") or not raw.strip():
            if current:
                tables.append(current)
                current = []
            continue
        current.append((n, next(csv.reader([raw]))))
    if current:
        tables.append(current)
    return tables


def read(text: str, path: str) -> Report:
    """Read a GA4 report export into rows of ``analytics.<metric>`` per day and campaign."""
    rows: list[Row] = []
    notices: list[str] = []
    tables = _tables(text)
    if not tables:
        raise ScenarioError(path, "", "no table: expected a header row like Date,Sessions after the # lines")
    for table in tables:
        (head_line, headers), body = table[0], table[1:]
        columns, unused = match_headers(headers, KNOWN, path, head_line)
        summed = [h for h in headers if normalise(h) in _DIMENSIONS]
        metrics = dict(_METRICS)
        if summed and "users" in columns:
            del metrics["users"]  # users are not additive over source/medium rows
            notices.append(
                f"{path}:{head_line}: {headers[columns['users']]!r} is not compared: users do not add up "
                f"over {summed[0].strip()!r} rows"
            )
        body = [
            (n, c) for n, c in body if not c[0].strip().lower().startswith(("grand total", "total", "gesamt"))
        ]
        for h in headers:
            if normalise(h) in _DIMENSIONS:
                unused = [u for u in unused if f"{h.strip()!r}" not in u]
                notices.append(f"{path}:{head_line}: dimension {h.strip()!r} is summed over")
        notices.extend(unused)
        if not any(c in columns for c in metrics):
            raise ScenarioError(
                path,
                f"line {head_line}",
                "no Sessions, Views, Total users or Key events column in this table's header",
            )
        if "day" not in columns and "campaign" not in columns:
            notices.append(
                f"{path}:{head_line}: a table without Date or Session campaign (range totals) is not compared"
            )
            continue
        rows.extend(collect(body, columns, headers, metrics, system="analytics", path=path))
    return Report(path, "ga4_report", tuple(rows), tuple(notices))

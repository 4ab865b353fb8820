"""Meta Ads Manager reports (Ads Reporting > Export table data, CSV).

The export (Meta Business Help "Export your Ads Manager data", facebook.com/business/help/1696591897273442)
has one header row and one row per campaign and day when broken down by day: ``Reporting starts``,
``Reporting ends`` (both ``YYYY-MM-DD``; with a Day breakdown also ``Day``), ``Campaign name``,
``Impressions``, ``Link clicks`` (clicks that lead to a destination — the ones comparable with
landings; ``Clicks (all)`` is not used), ``Amount spent (EUR)`` (the account currency in
parentheses). Cells with no value are empty. Days are the ad account's days. Without a Day
column, every row's ``Reporting starts`` must equal its ``Reporting ends`` (a day breakdown).
"""

from __future__ import annotations

import csv
import io

from simulator.errors import ScenarioError
from simulator.scenario.observed._table import read_ads
from simulator.scenario.observed.headers import normalise
from simulator.scenario.observed.rows import Report

__all__ = ["KNOWN", "read"]

KNOWN = {
    "day": ("Day", "Reporting starts", "Tag", "Berichtsbeginn"),
    "campaign": ("Campaign name", "Kampagnenname"),
    "impressions": ("Impressions", "Impressionen"),
    "clicks": ("Link clicks", "Link-Klicks"),
    "cost": (
        *(f"Amount spent ({c})" for c in ("EUR", "USD", "GBP", "CHF", "CAD", "AUD")),
        "Amount spent",
        "Ausgegebener Betrag (EUR)",
    ),
}
_METRICS = {"impressions": ("impressions", 1.0), "clicks": ("clicks", 1.0), "cost": ("cost", 1.0)}


def read(text: str, path: str) -> Report:
    """Read a Meta Ads Manager export into rows of ``ads.<metric>``."""
    lines = list(csv.reader(io.StringIO(text)))
    names = [normalise(h) for h in lines[0]] if lines else []
    known = KNOWN
    if "day" in names or "tag" in names:
        known = {**KNOWN, "day": ("Day", "Tag")}  # Reporting starts is then the range's first day
    elif "reporting starts" in names and "reporting ends" in names:
        s, e = names.index("reporting starts"), names.index("reporting ends")
        for n, cells in enumerate(lines[1:], start=2):
            if len(cells) > max(s, e) and cells[s].strip() != cells[e].strip():
                raise ScenarioError(
                    path,
                    f"line {n}",
                    f"the row covers {cells[s]} to {cells[e]}; export with a day breakdown "
                    "(Breakdown > By time > Day) so each row is one day",
                )
    return read_ads(text, path, "meta_ads", known, _METRICS, totals=(), footers=())

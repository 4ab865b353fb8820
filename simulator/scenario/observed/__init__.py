"""Readers of report exports: ad platforms' and analytics' downloads as observed numbers per day and campaign.

Each module reads one family of exports, laid out as the platform documents it (see each module's
docstring and docs/testing.md), into :class:`~simulator.scenario.observed.rows.Report`: one
:class:`~simulator.scenario.observed.rows.Row` per (day, campaign, metric) with the line it came from.
Headers are matched by :mod:`~simulator.scenario.observed.headers` (case, spacing, localised names);
an unrecognised column becomes a notice, a number that does not parse a
:class:`~simulator.errors.ScenarioError` naming file, line and column.
"""

from __future__ import annotations

from pathlib import Path

from simulator.errors import ScenarioError
from simulator.scenario.observed import amazon, ga4_report, google_ads, meta_ads, microsoft_ads
from simulator.scenario.observed.rows import Report, Row

__all__ = ["FORMATS", "Report", "Row", "read_report"]

#: format name -> reader
FORMATS = {
    "google_ads": google_ads.read,
    "ga4_report": ga4_report.read,
    "microsoft_ads": microsoft_ads.read,
    "meta_ads": meta_ads.read,
    "amazon_business": amazon.read_business,
    "amazon_sponsored_products": amazon.read_sponsored_products,
}


def read_report(path: str | Path, fmt: str) -> Report:
    """Read one export file in ``fmt`` (a key of :data:`FORMATS`)."""
    if fmt not in FORMATS:
        raise ScenarioError(
            str(path), "format", f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}"
        )
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        text = Path(path).read_text(encoding="utf-16")  # Google Ads "CSV (Excel)" downloads are UTF-16
    except OSError as err:
        raise ScenarioError(str(path), "", f"cannot read the report: {err.strerror or err}") from None
    return FORMATS[fmt](text, str(path))

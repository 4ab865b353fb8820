"""The records every report reader produces."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

__all__ = ["Report", "Row"]


@dataclass(frozen=True, slots=True)
class Row:
    """One number of a report: ``system.metric`` on ``day`` for ``campaign`` (None = every campaign).

    ``system`` is ``"ads"`` for ad-platform reports, ``"analytics"`` for analytics reports and
    ``"amazon"`` for Amazon Business Reports (the scenario's definition replaces the last two when
    aligned); ``line`` is the 1-based line in the file.
    """

    system: str
    metric: str
    day: dt.date | None
    campaign: str | None
    value: float
    line: int


@dataclass(frozen=True, slots=True)
class Report:
    """The rows of one export file, and notices about columns it did not use."""

    path: str
    format: str
    rows: tuple[Row, ...]
    notices: tuple[str, ...] = field(default=())

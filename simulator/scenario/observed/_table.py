"""Shared row handling of the readers: day parsing, aggregation into (day, campaign, metric) rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Mapping, Sequence

from simulator.errors import ScenarioError
from simulator.scenario.observed.headers import match_headers, normalise, parse_number
from simulator.scenario.observed.rows import Report, Row

_DAY_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%b %d, %Y", "%a, %b %d, %Y", "%B %d, %Y", "%m/%d/%Y", "%d.%m.%Y")


def parse_day(cell: str, path: str, line: int, column: str) -> dt.date:
    """A report's date: ``2024-05-06``, ``20240506``, ``May 6, 2024``, ``Mon, May 6, 2024``,
    ``5/6/2024`` or ``06.05.2024``."""
    text = re.sub(r"\s+", " ", cell.strip())
    for fmt in _DAY_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ScenarioError(
        path, f"line {line}, column {column!r}", f"expected a date like 2024-05-06 or 20240506, got {cell!r}"
    )


def collect(
    records: Sequence[tuple[int, Sequence[str]]],
    columns: Mapping[str, int],
    headers: Sequence[str],
    metrics: Mapping[str, tuple[str, float]],
    *,
    system: str,
    path: str,
) -> list[Row]:
    """Rows of ``(line, cells)`` -> one :class:`Row` per (day, campaign, metric), summed over repeats.

    ``metrics`` maps a canonical column to ``(metric, scale)`` (``cost_micros`` has scale 1e-6).
    Rows with the same day and campaign (other dimensions, like source/medium) are summed.
    """
    sums: dict[tuple[dt.date | None, str | None, str], list[float]] = {}
    for line, cells in records:
        if len(cells) < len(headers):
            raise ScenarioError(path, f"line {line}", f"expected {len(headers)} columns, got {len(cells)}")
        day = (
            parse_day(cells[columns["day"]], path, line, headers[columns["day"]])
            if "day" in columns
            else None
        )
        campaign = cells[columns["campaign"]].strip() if "campaign" in columns else None
        for canon, (metric, scale) in metrics.items():
            if canon not in columns:
                continue
            value = parse_number(cells[columns[canon]], path, line, headers[columns[canon]])
            if value is None:
                continue
            slot = sums.setdefault((day, campaign, metric), [0.0, float(line)])
            slot[0] += value * scale
    return [
        Row(system, metric, day, campaign, round(total, 9), int(line))
        for (day, campaign, metric), (total, line) in sums.items()
    ]


def read_ads(
    text: str,
    path: str,
    fmt: str,
    known: Mapping[str, Sequence[str]],
    metrics: Mapping[str, tuple[str, float]],
    *,
    totals: tuple[str, ...],
    footers: tuple[str, ...],
) -> Report:
    """An ad-platform CSV: lines above the header (title, date range, report settings) are skipped,
    the header is the first row naming a day or campaign column, rows whose first cell starts with one
    of ``totals`` are skipped with a notice, rows starting with one of ``footers`` end the table."""
    lines = list(csv.reader(io.StringIO(text), strict=False))
    anchors = {normalise(n) for canon in ("day", "campaign") for n in (canon, *known[canon])}
    start = next(
        (
            i
            for i, cells in enumerate(lines)
            if len(cells) > 1 and any(normalise(c) in anchors for c in cells)
        ),
        None,
    )
    if start is None:
        names = ", ".join(repr(n) for n in (*known["day"][:1], *known["campaign"][:1]))
        raise ScenarioError(path, "", f"no header row naming {names} (is this a {fmt} report?)")
    headers = lines[start]
    columns, notices = match_headers(headers, known, path, start + 1)
    if not any(c in columns for c in metrics):
        raise ScenarioError(path, f"line {start + 1}", "no impressions, clicks or cost column in the header")
    if "conversions" in columns:
        notices.append(
            f"{path}:{start + 1}: column {headers[columns['conversions']]!r} is read but not compared "
            "(the simulation has no ad-side conversions)"
        )
    records = []
    for i in range(start + 1, len(lines)):
        cells = lines[i]
        if not any(c.strip() for c in cells):
            continue
        first = cells[0].strip().lower()
        if footers and first.startswith(footers):
            break
        if first.startswith(totals):
            notices.append(
                f"{path}:{i + 1}: totals row {cells[0].strip()!r} skipped (a sum of the rows above)"
            )
            continue
        records.append((i + 1, cells))
    return Report(
        path, fmt, tuple(collect(records, columns, headers, metrics, system="ads", path=path)), tuple(notices)
    )

"""Plain-text tables and number formats shared by the terminal report and ``report.md``."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: format_table (sessionize) must not load the simulator
    from simulator.analysis.breakdown import Breakdown

__all__ = [
    "BREAKDOWN_HEADER",
    "breakdown_rows",
    "drop_zero",
    "fit_lines",
    "format_table",
    "format_value",
    "is_zero",
]

#: A cell that prints as zero (``0``, ``+0``, ``0.00``, ``0.00 %``) or as no value (``-``, ``n/a``).
_ZERO = re.compile(r"[+-]?0(\.0+)?( %)?|-|n/a")
#: The narrowest a wrapped column gets before the last resort (:func:`fit_lines`) takes over.
_MIN_WRAP = 16


def format_value(value: float | None, kind: str) -> str:
    """A number as the reports print it: ``int``, ``money``, ``pct`` (a share), ``pct100`` or plain."""
    if value is None:
        return "-"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "pct":
        return f"{100 * value:.2f} %"
    if kind == "pct100":
        return f"{value:.2f} %"
    return f"{value:,.2f}"


def format_table(
    header: list[str],
    rows: list[list[str]],
    align: str = "",
    *,
    width: int | None = None,
    wrap: int | None = None,
) -> str:
    """A plain-text table; ``align`` has one ``l`` or ``r`` per column (default: ``lrr…r``).

    With ``width`` (a terminal's columns), a table wider than that first wraps its column ``wrap`` (an
    index, e.g. the "why" column) onto continuation lines, then its header labels at their spaces.
    Without ``width`` the layout depends on the cells only (stable when piped).
    """
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    heads = [[h] for h in header]
    if width is not None and _total(widths) > width:
        if wrap is not None:
            room = max(width - _total(widths) + widths[wrap], _MIN_WRAP, len(header[wrap]))
            widths[wrap] = min(widths[wrap], room)
        if _total(widths) > width:  # header labels onto two or more lines, no wider than the data
            data = [max((len(r[i]) for r in rows), default=0) for i in range(len(header))]
            for i, h in enumerate(header):
                longest = max((len(w) for w in h.split()), default=0)
                heads[i] = textwrap.wrap(h, max(data[i], longest), break_on_hyphens=False) or [""]
                widths[i] = max(*(len(x) for x in heads[i]), data[i] if i != wrap else widths[i])
    depth = max(len(h) for h in heads)
    head_lines = [[([""] * (depth - len(h)) + h)[k] for h in heads] for k in range(depth)]  # on the rule
    lines = [_line(cells, widths, align) for cells in head_lines]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        if wrap is not None and len(row[wrap]) > widths[wrap]:
            parts = textwrap.wrap(row[wrap], widths[wrap], break_on_hyphens=False) or [""]
            lines.append(_line([*row[:wrap], parts[0], *row[wrap + 1 :]], widths, align))
            blank = [""] * len(row)
            lines += [_line([*blank[:wrap], part, *blank[wrap + 1 :]], widths, align) for part in parts[1:]]
        else:
            lines.append(_line(row, widths, align))
    return "\n".join(lines)


def _total(widths: list[int]) -> int:
    return sum(widths) + 2 * (len(widths) - 1)


def _line(cells: list[str], widths: list[int], align: str) -> str:
    out = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align, strict=True)]
    return "  ".join(out).rstrip()


def is_zero(cell: str) -> bool:
    """Whether a formatted cell prints as zero or as no value (``-``, ``n/a``)."""
    return _ZERO.fullmatch(cell.strip()) is not None


def drop_zero(
    header: list[str], rows: list[list[str]], *, columns: bool = True, keep: int = 1
) -> tuple[list[str], list[list[str]], int, int]:
    """The table without rows (and, with ``columns``, columns) whose every number prints as zero.

    The first ``keep`` cells of a row (its labels) and the first ``keep`` columns are never judged or
    dropped. Returns ``(header, rows, rows dropped, columns dropped)``.
    """
    kept = [r for r in rows if not all(is_zero(c) for c in r[keep:])]
    dropped_rows = len(rows) - len(kept)
    cols = list(range(len(header)))
    if columns and kept:
        cols = [i for i in cols if i < keep or not all(is_zero(r[i]) for r in kept)]
    return (
        [header[i] for i in cols],
        [[r[i] for i in cols] for r in kept],
        dropped_rows,
        len(header) - len(cols),
    )


def fit_lines(text: str, width: int | None) -> str:
    """Every line of ``text`` no longer than ``width`` (wrapped at spaces, indented); as is when None."""
    if width is None:
        return text
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = " " * min(len(line) - len(line.lstrip()) + 2, width // 2)
        out += textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False) or [""]
    return "\n".join(out)


#: Columns of a breakdown table (terminal and report.md).
BREAKDOWN_HEADER = ("ad cost", "clicks", "sessions", "cost/session", "conversions", "conv. rate")


def breakdown_rows(table: Breakdown, na: str = "n/a") -> list[list[str]]:
    """Rows ``[segment, cost, clicks, sessions, cost per session, conversions, rate]``, total last."""
    out = []
    for r in (*table.rows, table.total):
        cps, rate = r.cost_per_session, r.conversion_rate
        out.append(
            [
                r.segment,
                format_value(r.cost, "money"),
                f"{r.clicks:,}",
                f"{r.sessions:,}",
                na if cps is None else format_value(cps, "money"),
                f"{r.conversions:,}",
                na if rate is None else format_value(rate, "pct"),
            ]
        )
    return out

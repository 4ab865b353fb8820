"""Plain-text tables and number formats shared by the terminal report and ``report.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only annotations: format_table (sessionize) must not load the simulator
    from simulator.analysis.breakdown import Breakdown

__all__ = ["BREAKDOWN_HEADER", "breakdown_rows", "format_table", "format_value"]


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


def format_table(header: list[str], rows: list[list[str]], align: str = "") -> str:
    """A plain-text table; ``align`` has one ``l`` or ``r`` per column (default: ``lrr…r``)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


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

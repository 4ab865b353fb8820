"""Rendering a run for the terminal and as JSON: text waterfalls, tables, deterministic ``result.json``.

The terminal report shows each bridge as a text waterfall: a bar for the starting number, one
segment per cause at the running total, and a bar for the end. The report directory
(:mod:`simulator.report.directory`) writes the JSON rendered here next to ``report.md`` and charts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from simulator.analysis.breakdown import Breakdown
from simulator.analysis.breakdown import to_json as breakdowns_json
from simulator.analysis.bridges import AD_VOCABULARY, GROUPS, VIEW_VOCABULARY, VOCABULARY, Bridge
from simulator.analysis.comparisons import compare_vocabulary
from simulator.analysis.result import Result
from simulator.report.tables import (
    BREAKDOWN_HEADER,
    breakdown_rows,
    drop_zero,
    fit_lines,
    format_table,
    format_value,
    is_zero,
)

__all__ = ["render_json", "render_text", "waterfall_rows"]

_ROWS: tuple[tuple[str, str, str], ...] = (
    # (metric, label, format)
    ("views", "views", "int"),
    ("sessions", "sessions", "int"),
    ("users", "users", "int"),
    ("conversions", "conversions", "int"),
    ("units", "units", "int"),
    ("value", "conversion value", "money"),
    ("views_per_session", "views per session", "num"),
    ("sessions_per_click", "sessions per click", "num"),
    ("clicks_per_session", "clicks per session", "num"),
    ("cost_per_session", "cost per session", "money"),
    ("conversion_rate_click", "conversion rate per click", "pct"),
    ("conversion_rate_session", "conversion rate per session", "pct"),
    ("conversion_rate_user", "conversion rate per user", "pct"),
    ("unit_session_percentage", "unit session percentage", "pct100"),
)

#: Bar characters: (start/end totals, increases, decreases).
_BARS = {"unicode": ("█", "▓", "░"), "ascii": ("#", "+", "-")}


def _segment(lo: float, hi: float, scale: float, char: str) -> str:
    """A bar from ``lo`` to ``hi`` (data units), at least one character wide when non-empty."""
    a, b = round(lo * scale), round(hi * scale)
    if hi > lo and b == a:
        b = a + 1
    return " " * a + char * (b - a)


def waterfall_rows(
    bridge: Bridge,
    start_label: str,
    end_label: str,
    vocabulary: Mapping[str, str],
    *,
    width: int = 32,
    charset: str = "unicode",
) -> list[list[str]]:
    """Rows ``[label, count, bar, why]`` of a text waterfall: each term drawn at the running total."""
    total, up, down = _BARS[charset]
    running, high = bridge.start, max(bridge.start, bridge.end, 1)
    for t in bridge.terms:
        running += t.delta
        high = max(high, running)
    scale = width / high
    rows = [[start_label, f"{bridge.start:,}", _segment(0, bridge.start, scale, total), ""]]
    running = bridge.start
    for t in bridge.terms:
        lo, hi = sorted((running, running + t.delta))
        bar = _segment(lo, hi, scale, up if t.delta > 0 else down)
        rows.append([t.cause, f"{t.delta:+,}", bar, vocabulary.get(t.cause, "")])
        running += t.delta
    rows.append([end_label, f"{bridge.end:,}", _segment(0, bridge.end, scale, total), ""])
    return rows


class _Layout:
    """How the terminal report is laid out: the width to fit (None: as is) and what was hidden."""

    def __init__(self, charset: str, width: int | None, show_all: bool) -> None:
        self.charset, self.width, self.show_all = charset, width, show_all
        self.rows = self.columns = self.sections = 0
        #: Bar width of the waterfalls: 32 characters, fewer on a narrow terminal.
        self.bar = 32 if width is None else min(32, max(8, (width - 40) // 2))

    def table(
        self,
        header: list[str],
        rows: list[list[str]],
        align: str = "",
        *,
        columns: bool = False,
        wrap: int | None = None,
    ) -> str | None:
        """The table with its all-zero rows (and columns) hidden unless ``show_all``; None when all are."""
        if not self.show_all:
            kept_header, kept, n_rows, n_cols = drop_zero(header, rows, columns=columns)
            if not kept:
                self.sections += 1
                return None
            if n_cols:
                idx = [header.index(h) for h in kept_header]
                align = "".join(align[i] for i in idx) if align else ""
                wrap = idx.index(wrap) if wrap is not None and wrap in idx else None
            header, rows = kept_header, kept
            self.rows, self.columns = self.rows + n_rows, self.columns + n_cols
        return format_table(header, rows, align, width=self.width, wrap=wrap)

    def hidden(self) -> str | None:
        """The one line that says what was hidden (None when nothing was)."""
        parts = [
            f"{n} all-zero {what}{'s' if n != 1 else ''}"
            for n, what in ((self.rows, "row"), (self.columns, "column"), (self.sections, "section"))
            if n
        ]
        return f"hidden: {', '.join(parts)} (--all shows them)" if parts else None


def _waterfall(
    title: str, bridge: Bridge, labels: tuple[str, str], vocab: Mapping[str, str], lay: _Layout
) -> list[str]:
    if not lay.show_all and not bridge.start and not bridge.end and not any(t.delta for t in bridge.terms):
        lay.sections += 1
        return []
    rows = waterfall_rows(bridge, labels[0], labels[1], vocab, width=lay.bar, charset=lay.charset)
    if not lay.show_all:
        terms = rows[1:-1]
        kept = [r for r in terms if not is_zero(r[1])]
        lay.rows += len(terms) - len(kept)
        rows = [rows[0], *kept, rows[-1]]
    return [title, format_table(["", "count", "", "why"], rows, "lrll", width=lay.width, wrap=3)]


def _ads_section(result: Result, lay: _Layout) -> list[str]:
    ads = result.ads
    out = []
    total = lay.table(
        ["ad platform", "impressions", "clicks", "cost", "CTR", "CPC"],
        [
            [
                "",
                f"{ads.impressions:,}",
                f"{ads.clicks:,}",
                format_value(ads.cost, "money"),
                format_value(ads.ctr, "pct"),
                format_value(ads.cpc, "money"),
            ]
        ],
        columns=True,
    )
    if total is not None:
        out += [total, ""]
    rows = [
        [
            c.campaign,
            f"{c.impressions:,}",
            f"{c.clicks:,}",
            f"{c.invalid_clicks:,}",
            format_value(c.ctr, "pct"),
            format_value(c.cost, "money"),
            format_value(c.cpc, "money"),
        ]
        for c in result.ad_bridge.campaigns
    ]
    if rows:
        header = ["campaign", "impressions", "clicks", "invalid clicks", "CTR", "cost", "CPC"]
        table = lay.table(header, rows, columns=True)
        if table is not None:
            out += [table, ""]
    return out


def _ratio_line(value: float | None, label: str, bridge: Bridge) -> str:
    causes = ", ".join(f"{t.cause} {t.delta:+,}" for t in bridge.biggest(3)) or "none"
    return f"{label} {format_value(value, 'num')}; biggest causes: {causes}"


def _day_rows(result: Result, name: str) -> list[list[str]]:
    rows = []
    for day in result.definitions[name].days:
        b = day.bridge
        groups = {g: sum(b.term(c) for c in causes) for g, causes in GROUPS.items()}
        other = b.end - b.start - b.term("timezone_shift") - sum(groups.values())
        rows.append(
            [
                day.day.isoformat(),
                f"{b.start:,}",
                f"{b.term('timezone_shift'):+,}",
                f"{b.start + b.term('timezone_shift'):,}",
            ]
            + [f"{groups[g]:+,}" for g in GROUPS]
            + [f"{other:+,}", f"{b.end:,}"]
        )
    return rows


def _days_section(result: Result, lay: _Layout) -> list[str]:
    head = ["day", "ad clicks", "tz shift", "clicks", *GROUPS, "other", "sessions"]
    tables = {name: _day_rows(result, name) for name in result.definitions}
    if not lay.show_all:  # the same columns for every definition: hidden only when zero in all of them
        every = [r for rows in tables.values() for r in rows]
        cols = [i for i in range(len(head)) if i == 0 or not all(is_zero(r[i]) for r in every)]
        lay.columns += len(head) - len(cols)
        head = [head[i] for i in cols]
        tables = {name: [[r[i] for i in cols] for r in rows] for name, rows in tables.items()}
    out = []
    for name, rows in tables.items():
        table = lay.table(head, rows)
        if table is not None:
            out += [f"  {name}", table, ""]
    if not out:
        return []
    return [
        f"day by day: ad account days ({result.ad_timezone}) -> property days ({result.timezone}); "
        "'clicks' are the same clicks counted in the property's days",
        *out,
    ]


def _breakdowns_section(tables: Mapping[str, Mapping[str, Breakdown]], lay: _Layout) -> list[str]:
    out = []
    for name, dims in tables.items():
        for dim, table in dims.items():
            text = lay.table([dim, *BREAKDOWN_HEADER], breakdown_rows(table))
            if text is not None:
                out += [f"cost per session by {dim} ({name})", text, ""]
    return out


def render_text(
    result: Result,
    charset: str = "unicode",
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
    *,
    width: int | None = None,
    show_all: bool = False,
) -> str:
    """The terminal report: ad platform, analytics per definition, and every bridge as a waterfall.

    Parameters
    ----------
    result
        What :func:`simulator.run` returned.
    charset
        ``"unicode"`` (block characters) or ``"ascii"`` for the waterfall bars.
    breakdowns
        Tables of :func:`simulator.analysis.breakdown.breakdowns`, shown at the end (one per dimension and
        definition); none by default.
    width
        Fit every line into this many columns (a terminal's width): the "why" column wraps onto
        continuation lines, wide tables wrap their header labels, and the bars get shorter; any line still
        too long wraps at its spaces. ``None`` (the default, and what the CLI uses when stdout is not a
        terminal) lays out by the content only, so the bytes never depend on the terminal.
    show_all
        Keep the rows, columns and sections whose every number prints as zero (or as no value, ``-``);
        by default they are hidden and a last line says how many (``hidden: ... (--all shows them)``).
    """
    lay = _Layout(charset, width, show_all)
    out = [f"scenario {result.scenario!r}  seed {result.seed}  events {result.n_events:,}", ""]
    out += _ads_section(result, lay)
    ad = result.ad_bridge.bridge
    if ad.start:
        out += [*_waterfall("impressions -> clicks", ad, ("impressions", "= clicks"), AD_VOCABULARY, lay), ""]
    names = list(result.definitions)
    rows = [
        [label, *(format_value(result.metric(metric, n), kind) for n in names)]
        for metric, label, kind in _ROWS
    ]
    table = lay.table(["analytics", *names], rows)
    if table is not None:
        out += [table, ""]
    for name, block in result.definitions.items():
        labels = ("ad clicks", f"= {name} sessions")
        part = _waterfall(f"clicks -> sessions ({name})", block.bridge, labels, VOCABULARY, lay)
        if part:
            out += [
                *part,
                _ratio_line(block.ratios["sessions_per_click"], "  sessions per click", block.bridge),
                "",
            ]
        labels = ("page views", f"= {name} sessions")
        part = _waterfall(f"views -> sessions ({name})", block.views_bridge, labels, VIEW_VOCABULARY, lay)
        if part:
            ratio = block.ratios["views_per_session"]
            out += [*part, _ratio_line(ratio, "  views per session", block.views_bridge), ""]
    for comp in result.comparisons:
        labels = (f"{comp.a} sessions", f"= {comp.b} sessions")
        vocab = compare_vocabulary(comp.a, comp.b)
        part = _waterfall(f"{comp.a} -> {comp.b}", comp.bridge, labels, vocab, lay)
        if part:
            out += [*part, ""]
    if any(len(d.days) > 1 for d in result.definitions.values()) or result.timezone != result.ad_timezone:
        out += _days_section(result, lay)
    if breakdowns:
        out += _breakdowns_section(breakdowns, lay)
    text = "\n".join(out).rstrip()
    hidden = lay.hidden()
    return fit_lines(f"{text}\n\n{hidden}" if hidden else text, width) + "\n"


def _clean(value: Any) -> Any:
    """Round floats so that summation noise never changes the bytes of the output."""
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def render_json(result: Result, breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None) -> str:
    """The result as JSON: stable key order, no timings; the same inputs give the same bytes.

    With ``breakdowns`` (:func:`simulator.analysis.breakdown.breakdowns`), a last key ``"breakdowns"`` holds
    ``{definition: {dimension: {"rows": [...], "total": {...}}}}``; without, the bytes are unchanged.
    """
    doc = result.to_dict()
    if breakdowns:
        doc["breakdowns"] = breakdowns_json(breakdowns)
    return json.dumps(_clean(doc), indent=2) + "\n"

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
from simulator.report.tables import BREAKDOWN_HEADER, breakdown_rows, format_table, format_value

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


def _waterfall(title: str, bridge: Bridge, labels: tuple[str, str], vocab: Mapping[str, str], cs: str) -> str:
    rows = waterfall_rows(bridge, labels[0], labels[1], vocab, charset=cs)
    return f"{title}\n" + format_table(["", "count", "", "why"], rows, "lrll")


def _ads_section(result: Result) -> list[str]:
    ads = result.ads
    out = [
        format_table(
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
        ),
        "",
    ]
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
        out += [format_table(header, rows), ""]
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


def _days_section(result: Result) -> list[str]:
    head = ["day", "ad clicks", "tz shift", "clicks", *GROUPS, "other", "sessions"]
    out = [
        f"day by day: ad account days ({result.ad_timezone}) -> property days ({result.timezone}); "
        "'clicks' are the same clicks counted in the property's days",
    ]
    for name in result.definitions:
        out += [f"  {name}", format_table(head, _day_rows(result, name)), ""]
    return out


def _breakdowns_section(tables: Mapping[str, Mapping[str, Breakdown]]) -> list[str]:
    out = []
    for name, dims in tables.items():
        for dim, table in dims.items():
            out += [f"cost per session by {dim} ({name})"]
            out += [format_table([dim, *BREAKDOWN_HEADER], breakdown_rows(table)), ""]
    return out


def render_text(
    result: Result,
    charset: str = "unicode",
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
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
    """
    out = [f"scenario {result.scenario!r}  seed {result.seed}  events {result.n_events:,}", ""]
    out += _ads_section(result)
    ad = result.ad_bridge.bridge
    if ad.start:
        out += [
            _waterfall("impressions -> clicks", ad, ("impressions", "= clicks"), AD_VOCABULARY, charset),
            "",
        ]
    names = list(result.definitions)
    rows = [
        [label, *(format_value(result.metric(metric, n), kind) for n in names)]
        for metric, label, kind in _ROWS
    ]
    out += [format_table(["analytics", *names], rows), ""]
    for name, block in result.definitions.items():
        labels = ("ad clicks", f"= {name} sessions")
        out += [_waterfall(f"clicks -> sessions ({name})", block.bridge, labels, VOCABULARY, charset)]
        out += [_ratio_line(block.ratios["sessions_per_click"], "  sessions per click", block.bridge), ""]
        labels = ("page views", f"= {name} sessions")
        out += [
            _waterfall(f"views -> sessions ({name})", block.views_bridge, labels, VIEW_VOCABULARY, charset)
        ]
        out += [_ratio_line(block.ratios["views_per_session"], "  views per session", block.views_bridge), ""]
    for comp in result.comparisons:
        labels = (f"{comp.a} sessions", f"= {comp.b} sessions")
        vocab = compare_vocabulary(comp.a, comp.b)
        out += [_waterfall(f"{comp.a} -> {comp.b}", comp.bridge, labels, vocab, charset), ""]
    if any(len(d.days) > 1 for d in result.definitions.values()) or result.timezone != result.ad_timezone:
        out += _days_section(result)
    if breakdowns:
        out += _breakdowns_section(breakdowns)
    return "\n".join(out).rstrip() + "\n"


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

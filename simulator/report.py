"""Rendering results: a readable terminal report and deterministic JSON."""

from __future__ import annotations

import json
from typing import Any

from simulator.explain import VOCABULARY
from simulator.result import Result

__all__ = ["format_table", "render_json", "render_text"]

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
    ("cost_per_session", "cost per session", "money"),
    ("conversion_rate_click", "conversion rate per click", "pct"),
    ("conversion_rate_session", "conversion rate per session", "pct"),
    ("conversion_rate_user", "conversion rate per user", "pct"),
    ("unit_session_percentage", "unit session percentage", "pct100"),
)


def _fmt(value: float | None, kind: str) -> str:
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


def render_text(result: Result) -> str:
    """The terminal report: ad platform, analytics per definition, and each clicks -> sessions bridge."""
    ads = result.ads
    out = [
        f"scenario {result.scenario!r}  seed {result.seed}  events {len(result.log):,}",
        "",
        format_table(
            ["ad platform", "impressions", "clicks", "cost", "CTR", "CPC"],
            [
                [
                    "",
                    f"{ads.impressions:,}",
                    f"{ads.clicks:,}",
                    _fmt(ads.cost, "money"),
                    _fmt(ads.ctr, "pct"),
                    _fmt(ads.cpc, "money"),
                ]
            ],
        ),
        "",
    ]
    names = list(result.definitions)
    rows = [[label, *(_fmt(result.metric(metric, n), kind) for n in names)] for metric, label, kind in _ROWS]
    out += [format_table(["analytics", *names], rows), ""]
    for name, block in result.definitions.items():
        bridge = block.bridge
        rows = [["ad clicks", f"{bridge.start:,}", ""]]
        rows += [[t.cause, f"{t.delta:+,}", VOCABULARY[t.cause]] for t in bridge.terms]
        rows.append([f"= {name} sessions", f"{bridge.end:,}", ""])
        out += [f"clicks -> sessions ({name})", format_table(["", "count", "why"], rows, "lrl"), ""]
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


def render_json(result: Result) -> str:
    """The result as JSON: stable key order, no timings; the same inputs give the same bytes."""
    return json.dumps(_clean(result.to_dict()), indent=2) + "\n"

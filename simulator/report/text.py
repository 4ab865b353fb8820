"""Rendering results: a readable terminal report, deterministic JSON, and a report directory.

The terminal report shows each bridge as a text waterfall: a bar for the starting number, one
segment per cause at the running total, and a bar for the end. ``write_report`` writes
``report.md`` (see :mod:`simulator.report.markdown`), ``result.json``, ``sessions.csv`` (each hit's session
and the rule that started it, per definition) and, with matplotlib, PNG charts
(:mod:`simulator.report.plots`). Every file is written atomically (temp file + rename).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from simulator.analysis.breakdown import Breakdown
from simulator.analysis.breakdown import to_json as breakdowns_json
from simulator.analysis.bridges import AD_VOCABULARY, GROUPS, VIEW_VOCABULARY, VOCABULARY, Bridge, split_table
from simulator.analysis.comparisons import compare_vocabulary
from simulator.analysis.result import Result
from simulator.log.atomic import atomic_open, ensure_dir
from simulator.log.events import Cause, Kind

__all__ = [
    "breakdown_rows",
    "format_table",
    "render_json",
    "render_text",
    "sessions_csv",
    "waterfall_rows",
    "write_atomic",
    "write_report",
]

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
                    _fmt(ads.cost, "money"),
                    _fmt(ads.ctr, "pct"),
                    _fmt(ads.cpc, "money"),
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
            _fmt(c.ctr, "pct"),
            _fmt(c.cost, "money"),
            _fmt(c.cpc, "money"),
        ]
        for c in result.ad_bridge.campaigns
    ]
    if rows:
        header = ["campaign", "impressions", "clicks", "invalid clicks", "CTR", "cost", "CPC"]
        out += [format_table(header, rows), ""]
    return out


def _ratio_line(value: float | None, label: str, bridge: Bridge) -> str:
    causes = ", ".join(f"{t.cause} {t.delta:+,}" for t in bridge.biggest(3)) or "none"
    return f"{label} {_fmt(value, 'num')}; biggest causes: {causes}"


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
                _fmt(r.cost, "money"),
                f"{r.clicks:,}",
                f"{r.sessions:,}",
                na if cps is None else _fmt(cps, "money"),
                f"{r.conversions:,}",
                na if rate is None else _fmt(rate, "pct"),
            ]
        )
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
    out = [f"scenario {result.scenario!r}  seed {result.seed}  events {len(result.log):,}", ""]
    out += _ads_section(result)
    ad = result.ad_bridge.bridge
    if ad.start:
        out += [
            _waterfall("impressions -> clicks", ad, ("impressions", "= clicks"), AD_VOCABULARY, charset),
            "",
        ]
    names = list(result.definitions)
    rows = [[label, *(_fmt(result.metric(metric, n), kind) for n in names)] for metric, label, kind in _ROWS]
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


def write_atomic(path: Path, write: Callable[[IO[Any]], object], binary: bool = False) -> None:
    """Write ``path`` with ``write(handle)`` through :func:`simulator.log.atomic.atomic_open`.

    Raises
    ------
    ScenarioError
        When the file cannot be written (one line: the path and the reason).
    """
    with atomic_open(path, binary=binary) as fh:
        write(fh)


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda fh: fh.write(text))


def sessions_csv(result: Result) -> str:
    """One row per tracked hit with, per definition, its session id and the rule that started it."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    names = list(result.definitions)
    out.writerow(
        ["row", "user", "ts_ms", "kind", "cause"]
        + [f"{c}.{n}" for n in names for c in ("session", "split_cause")]
    )
    tables = [split_table(result.log, result.hits, result.definitions[n].split) for n in names]
    kind, cause = result.log.kind[result.hits], result.log.cause[result.hits]
    for i, row in enumerate(result.hits.tolist()):
        cells = [
            row,
            int(result.log.user[row]),
            int(result.log.ts[row]),
            Kind(int(kind[i])).name.lower(),
            Cause(int(cause[i])).label,
        ]
        for t in tables:
            cells += [int(t["session"][i]), t["split_cause"][i]]
        out.writerow(cells)
    return buf.getvalue()


def write_report(
    result: Result,
    directory: str | Path,
    description: str = "",
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
) -> list[Path]:
    """Write ``report.md``, ``result.json``, ``sessions.csv`` and (with matplotlib) PNG charts.

    Parameters
    ----------
    result
        What :func:`simulator.run` returned.
    directory
        Created if missing; files in it with the same names are replaced.
    description
        The scenario's description, shown under the title of ``report.md``.
    breakdowns
        Optional tables of :func:`simulator.analysis.breakdown.breakdowns`, added to ``report.md`` and
        ``result.json``.

    Returns
    -------
    list of Path
        The files written, in the order written.
    """
    from simulator.report import markdown, plots  # noqa: PLC0415 - keeps `sessionlab run` lean

    root = ensure_dir(directory)
    written = []
    for name, text in (
        ("result.json", render_json(result, breakdowns)),
        ("sessions.csv", sessions_csv(result)),
    ):
        _write_text(root / name, text)
        written.append(root / name)
    charts, missing = plots.write_charts(result, root, write_atomic)
    written += list(charts.values())
    _write_text(
        root / "report.md", markdown.render_markdown(result, description, charts, missing, breakdowns)
    )
    written.append(root / "report.md")
    return written

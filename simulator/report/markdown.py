"""``report.md``: the bridges as tables, and a plain-language story of the biggest causes.

Written for a reader who knows marketing but not this code: every cause name in a table is followed
by what happened in words, and the first section tells the story in one paragraph.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simulator.analysis.breakdown import Breakdown
from simulator.analysis.bridges import AD_VOCABULARY, GROUPS, VIEW_VOCABULARY, VOCABULARY, Bridge, Term
from simulator.analysis.comparisons import DAY_VOCABULARY, compare_vocabulary
from simulator.analysis.result import Result
from simulator.report.story import INTRO
from simulator.report.story import RULE_WORDS as _RULE_WORDS
from simulator.report.story import click_phrase as _click_phrase
from simulator.report.story import join as _join
from simulator.report.story import say as _say
from simulator.report.tables import BREAKDOWN_HEADER, breakdown_rows

__all__ = ["INSTALL_PLOTS", "render_markdown", "story"]

#: What to run to get the charts.
INSTALL_PLOTS = 'pip install "sessionlab[plots]"'


def _comparison_phrase(t: Term, a: str, b: str) -> str:
    kind, _, rule = t.cause.partition("_")
    words = _RULE_WORDS.get(rule, f"by its {rule} rule")
    if kind == "split":
        return _say("{n} extra {session|sessions} where " + f"{b} splits a visit {words}", t.delta)
    return _say(
        "{n} {session|sessions} that " + f"{a} starts {words} but {b} keeps inside a longer session", -t.delta
    )


def story(result: Result, limit: int = 4) -> str:
    """One paragraph, in plain language, naming the biggest causes behind every difference."""
    names = list(result.definitions)
    first = result.definitions[names[0]]
    b = first.bridge
    clicks, sessions = b.start, b.end
    gap = sessions - clicks
    direction = f"{-gap:,} fewer" if gap < 0 else (f"{gap:,} more" if gap > 0 else "the same number")
    out = [
        f"Your ad platform counted **{clicks:,} {'click' if clicks == 1 else 'clicks'}**; analytics "
        f"({names[0]}) counted **{sessions:,} {'session' if sessions == 1 else 'sessions'}**, {direction}. "
        + INTRO["different_things"]
    ]
    down = [t for t in b.biggest(len(b.terms)) if t.delta < 0][:limit]
    up = [t for t in b.biggest(len(b.terms)) if t.delta > 0][:limit]
    if not b.terms:
        out.append(
            "In this traffic every click became exactly one session, and every session began with one."
        )
    if down:
        out.append(f"Of the {clicks:,} clicks, " + _join([_click_phrase(t, names[0]) for t in down]) + ".")
    if up:
        lead = "In the other direction, " if down else ""
        text = _join([_click_phrase(t, names[0]) for t in up])
        out.append(lead + (text[0].upper() + text[1:] if not lead else text) + ".")
    for comp in result.comparisons:
        bb = comp.bridge
        diff = bb.end - bb.start
        change = f"{abs(diff):,} {'fewer' if diff < 0 else 'more'}" if diff else "the same number"
        line = (
            f"Counted by {comp.b}'s rules, the same traffic gives {bb.end:,} sessions, {change} than {comp.a}"
        )
        terms = bb.biggest(limit)
        out.append(
            line
            + (": " + _join([_comparison_phrase(t, comp.a, comp.b) for t in terms]) if terms else "")
            + "."
        )
    out += _timezone_sentence(result)
    return " ".join(out)


def _timezone_sentence(result: Result) -> list[str]:
    if result.timezone == result.ad_timezone:
        return []
    days = next(iter(result.definitions.values())).days
    moved = sum(abs(d.bridge.term("timezone_shift")) for d in days) // 2
    if not moved:
        return [
            f"The ad account counts days in {result.ad_timezone} and analytics in {result.timezone}, but no "
            "click fell on a different day in the two."
        ]
    return [
        f"Day by day there is one more difference: the ad account counts days in {result.ad_timezone} and "
        f"analytics in {result.timezone}, so {moved:,} {'click falls' if moved == 1 else 'clicks fall'} on a "
        "different calendar day in the two reports (the 'timezone_shift' term below); no click is gained "
        "or lost."
    ]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str = "") -> list[str]:
    align = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    return ["| " + " | ".join(r) + " |" for r in [header, sep, *rows]]


def _num(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def _bridge_table(bridge: Bridge, start: str, end: str, vocab: Mapping[str, str]) -> list[str]:
    rows = [[start, f"{bridge.start:,}", ""]]
    rows += [[f"`{t.cause}`", f"{t.delta:+,}", vocab.get(t.cause, "")] for t in bridge.terms]
    rows.append([f"**{end}**", f"**{bridge.end:,}**", ""])
    return _md_table(["step", "count", "what happened"], rows, "lrl")


def _numbers(result: Result) -> list[str]:
    names = list(result.definitions)
    ads = result.ads
    blank = [""] * len(names)
    rows = [
        ["impressions", f"{ads.impressions:,}", *blank],
        ["clicks", f"{ads.clicks:,}", *blank],
        ["cost", _num(ads.cost), *blank],
    ]
    for metric, label, digits in (
        ("views", "page views", 0),
        ("sessions", "sessions", 0),
        ("users", "users", 0),
        ("conversions", "conversions", 0),
        ("clicks_per_session", "clicks per session", 2),
        ("sessions_per_click", "sessions per click", 2),
        ("views_per_session", "views per session", 2),
        ("cost_per_session", "cost per session", 2),
    ):
        rows.append([label, "", *(_num(result.metric(metric, n), digits) for n in names)])
    return _md_table(["", "ad platform", *(f"analytics: {n}" for n in names)], rows)


def _clicks_section(result: Result, charts: Mapping[str, Path]) -> list[str]:
    out = [
        "## From ad clicks to sessions",
        "",
        INTRO["bridges"],
        "",
    ]
    for name, block in result.definitions.items():
        out += [f"### {name}", ""]
        if f"waterfall_{name}" in charts:
            out += [f"![clicks to sessions under {name}]({charts[f'waterfall_{name}'].name})", ""]
        out += _bridge_table(block.bridge, "ad clicks (ad platform)", f"= sessions ({name})", VOCABULARY)
        out.append("")
    if len(result.definitions) > 1:
        names = list(result.definitions)
        causes = list(dict.fromkeys(t.cause for d in result.definitions.values() for t in d.bridge.terms))
        rows = [["ad clicks", *(f"{result.ads.clicks:,}" for _ in names), ""]]
        rows += [
            [f"`{c}`", *(f"{result.definitions[n].bridge.term(c):+,}" for n in names), VOCABULARY.get(c, "")]
            for c in causes
        ]
        rows.append(["**sessions**", *(f"**{result.definitions[n].counts.sessions:,}**" for n in names), ""])
        out += [
            "All definitions side by side:",
            "",
            *_md_table(["step", *names, "what happened"], rows, "l" + "r" * len(names) + "l"),
            "",
        ]
    return out


def _causes(bridge: Bridge, n: int = 3) -> str:
    terms = bridge.biggest(n)
    return ", ".join(f"`{t.cause}` {t.delta:+,}" for t in terms) if terms else "no cause: they are equal"


def _ratios_section(result: Result) -> list[str]:
    out = [
        "## The ratios people quote, and what drives them",
        "",
        "Each ratio is a quotient of the two ends of a bridge above; the biggest terms of that bridge are "
        "what moves it away from 1.",
        "",
    ]
    rows = []
    for name, block in result.definitions.items():
        r = block.ratios
        rows.append([f"clicks per session ({name})", _num(r["clicks_per_session"]), _causes(block.bridge)])
        rows.append([f"sessions per click ({name})", _num(r["sessions_per_click"]), _causes(block.bridge)])
        rows.append(
            [f"views per session ({name})", _num(r["views_per_session"]), _causes(block.views_bridge)]
        )
    return [*out, *_md_table(["ratio", "value", "biggest causes"], rows, "lrl"), ""]


def _views_section(result: Result) -> list[str]:
    out = [
        "## From page views to sessions (pages per session)",
        "",
        INTRO["views"],
        "",
    ]
    for name, block in result.definitions.items():
        out += [f"### {name}", ""]
        out += _bridge_table(block.views_bridge, "page views", f"= sessions ({name})", VIEW_VOCABULARY)
        out.append("")
    return out


def _comparisons_section(result: Result, charts: Mapping[str, Path]) -> list[str]:
    if not result.comparisons:
        return []
    out = [
        "## Why the definitions disagree",
        "",
        "The same tracked hits, grouped into sessions by each definition's rules. Each row counts the hits "
        "where exactly one of the two definitions starts a new session, named by the rule that fired.",
        "",
    ]
    if "definitions" in charts:
        out += [f"![sessions under each definition]({charts['definitions'].name})", ""]
    for comp in result.comparisons:
        meaning = compare_vocabulary(comp.a, comp.b)
        out += [f"### {comp.a} → {comp.b}", ""]
        out += _bridge_table(comp.bridge, f"sessions ({comp.a})", f"= sessions ({comp.b})", meaning)
        out.append("")
    return out


def _ads_section(result: Result) -> list[str]:
    ad = result.ad_bridge
    if not ad.campaigns:
        return []
    shown = ad.bridge.start or ad.bridge.term("invalid_click")  # else it only restates the clicks
    rows = [
        [
            c.campaign,
            f"{c.impressions:,}",
            f"{c.clicks:,}",
            f"{c.invalid_clicks:,}",
            "n/a" if c.ctr is None else f"{100 * c.ctr:.2f} %",
            _num(c.cost),
            _num(c.cpc),
        ]
        for c in ad.campaigns
    ]
    return [
        "## From impressions to clicks (CTR by campaign)",
        "",
        INTRO["campaigns"],
        "",
        *_md_table(["campaign", "impressions", "clicks", "invalid clicks", "CTR", "cost", "CPC"], rows),
        "",
        *(_bridge_table(ad.bridge, "impressions", "= clicks", AD_VOCABULARY) if shown else []),
        "",
    ]


def _days_section(result: Result) -> list[str]:
    days = {n: d.days for n, d in result.definitions.items()}
    if result.timezone == result.ad_timezone and all(len(v) <= 1 for v in days.values()):
        return []
    out = [
        "## Day by day across time zones",
        "",
        f"The ad account reports days in **{result.ad_timezone}**, analytics in **{result.timezone}**. "
        "*timezone shift* is the part of each day's gap that is only the time zones: the same clicks "
        "counted in the property's days instead of the ad account's. The other columns are the "
        "clicks-to-sessions reasons of that day, grouped.",
        "",
    ]
    head = ["day", "ad clicks", "timezone shift", "clicks (property day)", *GROUPS, "other", "sessions"]
    for name, rows in days.items():
        table = []
        for day in rows:
            b = day.bridge
            shift = b.term("timezone_shift")
            groups = [sum(b.term(c) for c in causes) for causes in GROUPS.values()]
            other = b.end - b.start - shift - sum(groups)
            table.append(
                [day.day.isoformat(), f"{b.start:,}", f"{shift:+,}", f"{b.start + shift:,}"]
                + [f"{g:+,}" for g in groups]
                + [f"{other:+,}", f"**{b.end:,}**"]
            )
        out += [f"### {name}", "", *_md_table(head, table), ""]
    return out


def _glossary(result: Result) -> list[str]:
    used: dict[str, str] = {}
    for block in result.definitions.values():
        for t in block.bridge.terms:
            used.setdefault(t.cause, VOCABULARY.get(t.cause, ""))
        for t in block.views_bridge.terms:
            used.setdefault(f"{t.cause} (views)", VIEW_VOCABULARY.get(t.cause, ""))
    for comp in result.comparisons:
        vocab = compare_vocabulary(comp.a, comp.b)
        for t in comp.bridge.terms:
            used.setdefault(t.cause, vocab.get(t.cause, ""))
    for t in result.ad_bridge.bridge.terms:
        used.setdefault(f"{t.cause} (ads)", AD_VOCABULARY.get(t.cause, ""))
    if any(d.bridge.term("timezone_shift") for b in result.definitions.values() for d in b.days):
        used.setdefault("timezone_shift", DAY_VOCABULARY["timezone_shift"])
    rows = [[f"`{c}`", m] for c, m in used.items()]
    return ["## Glossary of the causes in this report", "", *_md_table(["cause", "meaning"], rows, "ll"), ""]


def _breakdowns_section(tables: Mapping[str, Mapping[str, Breakdown]]) -> list[str]:
    out = [
        "## Cost per session by segment",
        "",
        INTRO["breakdowns"],
        "",
    ]
    for name, dims in tables.items():
        for dim, table in dims.items():
            rows = breakdown_rows(table)
            rows[-1] = [f"**{c}**" for c in rows[-1]]
            out += [f"### By {dim} ({name})", "", *_md_table([dim, *BREAKDOWN_HEADER], rows), ""]
    return out


def render_markdown(
    result: Result,
    description: str = "",
    charts: Mapping[str, Path] | None = None,
    missing: str = "",
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
    *,
    validate: Mapping[str, Any] | None = None,
) -> str:
    """The text of ``report.md``.

    Parameters
    ----------
    result
        What :func:`simulator.run` returned.
    description
        The scenario's description.
    charts
        Chart key (``waterfall_<definition>``, ``definitions``) -> PNG file, as written beside the report.
    missing
        Why charts were not drawn (e.g. matplotlib is not installed); shown with the fix.
    breakdowns
        Optional tables of :func:`~simulator.analysis.breakdown.breakdowns`: a section after the days.
    validate
        Optional ``sessionlab validate`` document (:func:`simulator.report.validate.validate_document`):
        its findings and effects, a section after the breakdowns.
    """
    charts = charts or {}
    names = ", ".join(result.definitions)
    out = [f"# Why the numbers differ: {result.scenario or 'event log'}", ""]
    if description:
        out += [description, ""]
    out += [
        f"*Seed {result.seed}; {result.n_events:,} simulated events. Ad account time zone "
        f"{result.ad_timezone}; analytics property time zone {result.timezone}. Session definitions "
        f"compared: {names}.*",
        "",
    ]
    if missing:
        out += [
            f"> **Charts were not drawn:** {missing} To get them, run `{INSTALL_PLOTS}` and run again.",
            "",
        ]
    out += ["## In short", "", story(result), "", "## The numbers side by side", "", *_numbers(result), ""]
    out += _clicks_section(result, charts)
    out += _ratios_section(result)
    out += _comparisons_section(result, charts)
    out += _views_section(result)
    out += _ads_section(result)
    out += _days_section(result)
    if breakdowns:
        out += _breakdowns_section(breakdowns)
    if validate:
        from simulator.report.validate import validate_markdown  # noqa: PLC0415 - only for validate

        out += validate_markdown(dict(validate))
    out += [
        "## Files",
        "",
        "- `result.json`: every number and bridge in this report, machine-readable.",
        "- `sessions.csv`: one row per tracked hit with, per definition, its session and the rule that "
        "started that session (`split_cause`).",
        *(f"- `{p.name}`: chart" for p in charts.values()),
        "",
    ]
    out += _glossary(result)
    return "\n".join(out).rstrip() + "\n"

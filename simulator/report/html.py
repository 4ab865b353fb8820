"""``report.html``: the report a marketer opens and forwards, one self-contained page.

Rendered with Jinja2 (``templates/report.html.j2``, autoescaping on: scenario names, descriptions,
campaign and definition names are user input and never become markup) from the *document* of
``result.json`` itself (:func:`simulator.report.directory.result_document`), so the page cannot say
anything the JSON does not. Every number in the page is an element

    <span class="n" data-key="/definitions/ga4/bridge/start" data-value="2647" data-format="int">2,647</span>

whose ``data-key`` is the RFC 6901 JSON Pointer of the value in ``result.json`` and ``data-value`` its
exact JSON text (``data-format`` says how it is shown: :data:`FORMATS`). A number computed from others
(the headline gap) carries ``data-derived`` with the pointers it is computed from instead. Charts are
inline SVG from :mod:`simulator.report.plots`; styles are inline; there is no script, and no URL
points off the page, so the file works offline, from an e-mail attachment, and on paper
(``@media print``). The same document and charts give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

from simulator.analysis.bridges import AD_VOCABULARY, GROUPS, VIEW_VOCABULARY, VOCABULARY
from simulator.analysis.comparisons import DAY_VOCABULARY, compare_vocabulary
from simulator.report.markdown import INSTALL_PLOTS
from simulator.report.story import ADVICE, CLICK_STORY, INTRO, click_parts
from simulator.report.tables import BREAKDOWN_HEADER

__all__ = ["FORMATS", "pointer", "render_html", "resolve"]


def _sig(v: float) -> str:
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"  # noqa: PLR2004 - as the terminal tables


#: How a marked number is shown (``data-format``): value -> text.
FORMATS: dict[str, Callable[[Any], str]] = {
    "int": lambda v: f"{int(v):,}",
    "signed": lambda v: f"{int(v):+,}",
    "abs": lambda v: f"{abs(int(v)):,}",
    "money": lambda v: f"{v:,.2f}",
    "num": lambda v: f"{v:,.2f}",
    "pct": lambda v: f"{100 * v:.2f} %",
    "pct100": lambda v: f"{v:.2f} %",
    "sig": _sig,
    "text": str,
}

#: (metric, label, format) of the numbers table, per definition.
_METRICS: tuple[tuple[str, str, str], ...] = (
    ("views", "page views", "int"),
    ("sessions", "sessions", "int"),
    ("users", "users", "int"),
    ("conversions", "conversions", "int"),
    ("value", "conversion value", "money"),
    ("views_per_session", "views per session", "num"),
    ("sessions_per_click", "sessions per click", "num"),
    ("clicks_per_session", "clicks per session", "num"),
    ("cost_per_session", "cost per session", "money"),
    ("conversion_rate_click", "conversion rate per click", "pct"),
    ("conversion_rate_session", "conversion rate per session", "pct"),
)
_ADS: tuple[tuple[str, str, str], ...] = (
    ("impressions", "impressions", "int"),
    ("clicks", "clicks", "int"),
    ("cost", "cost", "money"),
    ("ctr", "CTR", "pct"),
    ("cpc", "CPC", "money"),
)


def pointer(*parts: str | int) -> str:
    """The RFC 6901 JSON Pointer of a path: ``pointer("definitions", "ga4", "sessions")``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def resolve(doc: Any, ptr: str) -> Any:
    """The value at a JSON Pointer (``KeyError``/``IndexError`` when there is none)."""
    node = doc
    for raw in ptr.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


class _Marker:
    """The template's ``n(...)``: a marked number read from the document by its pointer."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc

    def __call__(self, ptr: str, fmt: str = "int", na: str = "n/a") -> Any:
        from markupsafe import Markup, escape  # noqa: PLC0415

        value = resolve(self.doc, ptr)
        text = na if value is None else FORMATS[fmt](value)
        return Markup(
            f'<span class="n" data-key="{escape(ptr)}" data-value="{escape(json.dumps(value))}" '
            f'data-format="{fmt}">{escape(text)}</span>'
        )


def _biggest(terms: Sequence[Mapping[str, Any]], n: int) -> list[int]:
    """Indices of the ``n`` terms with the largest absolute delta (ties in order), as Bridge.biggest."""
    return sorted(range(len(terms)), key=lambda i: -abs(terms[i]["delta"]))[:n]


def _story(doc: Mapping[str, Any], first: str) -> dict[str, Any]:
    """The headline and the three biggest causes of the first definition, with advice."""
    from simulator.analysis.bridges import Term  # noqa: PLC0415

    base = pointer("definitions", first, "bridge")
    bridge = resolve(doc, base)
    causes = []
    for i in _biggest(bridge["terms"], 3):
        t = bridge["terms"][i]
        before, after = click_parts(Term(t["cause"], t["delta"]), first)
        if t["cause"] in CLICK_STORY:
            before = before[:1].upper() + before[1:]
        causes.append(
            {
                "cause": t["cause"],
                "ptr": pointer("definitions", first, "bridge", "terms", i, "delta"),
                "before": before,
                "after": after,
                "direction": "fewer" if t["delta"] < 0 else "more",
                "advice": ADVICE.get(t["cause"], ""),
            }
        )
    gap = bridge["end"] - bridge["start"]
    return {
        "start": base + "/start",
        "end": base + "/end",
        "gap": gap,
        "gap_text": f"{abs(gap):,}",
        "gap_derived": f"{base}/end - {base}/start",
        "causes": causes,
    }


def _days(doc: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """Each day's row: pointers of start/end/shift and the grouped sums (derived, with their terms)."""
    rows = []
    for k, day in enumerate(doc["definitions"][name]["days"]):
        base = pointer("definitions", name, "days", k)
        index = {t["cause"]: i for i, t in enumerate(day["terms"])}
        groups = []
        for causes in GROUPS.values():
            ptrs = [f"{base}/terms/{index[c]}/delta" for c in causes if c in index]
            total = sum(day["terms"][index[c]]["delta"] for c in causes if c in index)
            groups.append({"value": total, "text": f"{total:+,}", "derived": " + ".join(ptrs) or "0"})
        shift = index.get("timezone_shift")
        rows.append(
            {
                "day": f"{base}/day",
                "start": f"{base}/start",
                "end": f"{base}/end",
                "shift": None if shift is None else f"{base}/terms/{shift}/delta",
                "groups": groups,
            }
        )
    return rows


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape  # noqa: PLC0415

    return Environment(
        loader=PackageLoader("simulator.report", "templates"),
        autoescape=select_autoescape(("html", "j2"), default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(
    doc: Mapping[str, Any],
    description: str = "",
    charts: Mapping[str, str] | None = None,
    missing: str = "",
) -> str:
    """The text of ``report.html``.

    Parameters
    ----------
    doc
        The document of ``result.json`` (:func:`simulator.report.directory.result_document`); every
        number in the page is read from it.
    description
        The scenario's description (user text: escaped).
    charts
        Chart key (``waterfall_<definition>``, ``definitions``) -> SVG text from
        :func:`simulator.report.plots.svg` (trusted: drawn by matplotlib, which escapes its text).
    missing
        Why charts were not drawn (e.g. matplotlib is not installed); shown with the fix.
    """
    from markupsafe import Markup  # noqa: PLC0415

    names = list(doc["definitions"])
    tz = doc["timezones"]
    show_days = tz["property"] != tz["ad_account"] or any(
        len(doc["definitions"][n]["days"]) > 1 for n in names
    )
    comparisons = [
        {"index": k, "a": c["from"], "b": c["to"], "vocab": compare_vocabulary(c["from"], c["to"])}
        for k, c in enumerate(doc.get("comparisons", []))
    ]
    side_causes = list(
        dict.fromkeys(t["cause"] for n in names for t in doc["definitions"][n]["bridge"]["terms"])
    )
    side = {n: {t["cause"]: i for i, t in enumerate(doc["definitions"][n]["bridge"]["terms"])} for n in names}
    context = {
        "doc": doc,
        "n": _Marker(doc),
        "p": pointer,
        "names": names,
        "first": names[0],
        "description": description,
        "charts": {k: Markup(v) for k, v in (charts or {}).items()},
        "missing": missing,
        "install_plots": INSTALL_PLOTS,
        "story": _story(doc, names[0]),
        "show_days": show_days,
        "days": {n: _days(doc, n) for n in names} if show_days else {},
        "groups": list(GROUPS),
        "day_vocab": DAY_VOCABULARY,
        "comparisons": comparisons,
        "side_causes": side_causes,
        "side": side,
        "metrics": _METRICS,
        "ads": _ADS,
        "vocab": VOCABULARY,
        "view_vocab": VIEW_VOCABULARY,
        "ad_vocab": AD_VOCABULARY,
        "breakdown_header": BREAKDOWN_HEADER,
        "advice": ADVICE,
        "intro": INTRO,
        "doc_at": lambda ptr: resolve(doc, ptr),
    }
    return _environment().get_template("report.html.j2").render(context)

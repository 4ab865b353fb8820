"""Charts for the report directory: a waterfall per definition and a bar chart of definitions.

Each chart is drawn once and saved twice: as PNG beside ``report.md`` and as SVG inside ``report.html``.
Bars start at zero (a waterfall whose y axis started above zero made small terms look big), both axes
are labelled with their units, the counts are written on the bars, and the colours are the Okabe-Ito
palette (safe for the common colour-vision deficiencies) with hatching on the bars that take away, so
that fewer and more also read apart in grey-scale and on paper.

matplotlib is an optional extra (``pip install "sessionlab[plots]"``), imported only here and only
when charts are drawn. Figures are built with the object-oriented API on the Agg canvas (no pyplot,
no global state, no display needed). Output is deterministic: PNG metadata without the matplotlib
version, SVG with a fixed hash salt, text as ``<text>`` (``svg.fonttype: none``) and no date.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.analysis.bridges import Bridge
from simulator.analysis.result import Result

__all__ = ["PALETTE", "draw_charts", "draw_definitions", "draw_waterfall", "svg", "write_charts"]

#: Okabe & Ito (2008), "Color Universal Design": blue, bluish green, vermillion, orange, grey.
PALETTE = {
    "total": "#0072B2",
    "up": "#009E73",
    "down": "#D55E00",
    "users": "#E69F00",
    "grid": "#999999",
}
_TOTAL, _UP, _DOWN = PALETTE["total"], PALETTE["up"], PALETTE["down"]
#: Hatching of the bars that take away (and none on those that add), for grey-scale and print.
_DOWN_HATCH, _USERS_HATCH = "///", ".."
#: PNG metadata without the matplotlib version, so the bytes do not change with it.
_METADATA = {"Software": None}
#: SVG settings that make the bytes depend on the figure only (ids from a fixed salt, no date).
_SVG_RC = {"svg.hashsalt": "sessionlab", "svg.fonttype": "none", "hatch.linewidth": 0.8}


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _plain(text: str) -> str:
    """User text (definition and campaign names) as literal text: ``$`` never starts mathtext."""
    return text.replace("$", r"\$")


def _floating_bars(bridge: Bridge) -> tuple[list[int], list[int], list[str]]:
    """Bottoms, heights and colours: the start bar, each term at the running total, the end bar."""
    running, bottoms, heights, colors = bridge.start, [0], [bridge.start], [_TOTAL]
    for t in bridge.terms:
        bottoms.append(min(running, running + t.delta))
        heights.append(abs(t.delta))
        colors.append(_UP if t.delta > 0 else _DOWN)
        running += t.delta
    return [*bottoms, 0], [*heights, bridge.end], [*colors, _TOTAL]


def draw_waterfall(bridge: Bridge, title: str, start_label: str, end_label: str) -> Any:
    """A matplotlib Figure: the start bar, one floating bar per term at the running total, the end bar.

    The y axis starts at 0, so every bar's length is its count.
    """
    from matplotlib.patches import Patch  # noqa: PLC0415

    labels = [start_label, *(t.cause.replace("_", " ") for t in bridge.terms), end_label]
    fig = _figure(max(6.0, 1.0 + 0.75 * len(labels)), 4.8)
    ax = fig.add_subplot()
    bottoms, heights, colors = _floating_bars(bridge)
    x = range(len(labels))
    hatches = ["" if c != _DOWN else _DOWN_HATCH for c in colors]
    ax.bar(x, heights, bottom=bottoms, color=colors, width=0.7, edgecolor="white", hatch=hatches)
    top = max(*(b + h for b, h in zip(bottoms, heights, strict=True)), 1)
    texts = [f"{bridge.start:,}", *(f"{t.delta:+,}" for t in bridge.terms), f"{bridge.end:,}"]
    for i, (b, h, text) in enumerate(zip(bottoms, heights, texts, strict=True)):
        ax.text(i, b + h + top * 0.012, text, ha="center", va="bottom", fontsize=8)
    level = bridge.start  # dotted connectors between consecutive running totals
    for i, t in enumerate(bridge.terms):
        ax.plot([i - 0.35, i + 1.35], [level, level], color=PALETTE["grid"], linewidth=0.7, linestyle=":")
        level += t.delta
    ax.set_xticks(list(x), [_plain(s) for s in labels], rotation=35, ha="right", fontsize=8)
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("count (clicks or sessions)")
    ax.set_xlabel("step (each bar after the first adds or takes away, one cause at a time)", fontsize=8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_title(_plain(title), fontsize=11, pad=24)
    handles = [
        Patch(facecolor=_TOTAL, label="total"),
        Patch(facecolor=_DOWN, hatch=_DOWN_HATCH, edgecolor="white", label="fewer: clicks without a session"),
        Patch(facecolor=_UP, label="more: sessions no counted click started"),
    ]
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False, fontsize=8
    )
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def draw_definitions(result: Result) -> Any:
    """A matplotlib Figure: sessions per definition, with the ad platform's clicks as a reference."""
    names = list(result.definitions)
    sessions = [result.definitions[n].counts.sessions for n in names]
    users = [result.definitions[n].counts.users for n in names]
    fig = _figure(max(5.0, 1.6 + 1.4 * len(names)), 4.2)
    ax = fig.add_subplot()
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], sessions, width=0.4, color=_TOTAL, label="sessions")
    ax.bar(
        [i + 0.2 for i in x],
        users,
        width=0.4,
        color=PALETTE["users"],
        hatch=_USERS_HATCH,
        edgecolor="white",
        label="users",
    )
    clicks = result.ads.clicks
    ax.axhline(clicks, color=_DOWN, linestyle="--", linewidth=1.2, label=f"ad clicks ({clicks:,})")
    top = max([clicks, *sessions, *users, 1])
    for i, (s, u) in enumerate(zip(sessions, users, strict=True)):
        ax.text(i - 0.2, s + top * 0.015, f"{s:,}", ha="center", va="bottom", fontsize=9)
        ax.text(i + 0.2, u + top * 0.015, f"{u:,}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x), [_plain(n) for n in names])
    ax.set_xlabel("session definition")
    ax.set_ylabel("count (sessions, users)")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.yaxis.set_major_formatter("{x:,.0f}")
    ax.set_ylim(0, top * 1.18)
    ax.set_title("The same traffic under each session definition", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=_METADATA)
    return buf.getvalue()


_PROLOGUE = re.compile(r"\A(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>]*>\s*)?", re.DOTALL)
_RDF = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)


_IDS = re.compile(r'(\bid="|href="#|url\(#)([^"#)]+)')


def svg(fig: Any, prefix: str = "") -> str:
    """The figure as an SVG element for inlining in HTML: same figure, same bytes.

    The XML prologue, the DOCTYPE (which names a URL) and the RDF metadata block are left out; text
    stays text (``svg.fonttype: none``), so it is searchable and scales. With ``prefix``, every id (and
    every reference to one) starts with it, so several charts can share one page.
    """
    import matplotlib  # noqa: PLC0415

    buf = io.StringIO()
    with matplotlib.rc_context(_SVG_RC):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = _RDF.sub("", _PROLOGUE.sub("", buf.getvalue()), count=1)
    if prefix:
        text = _IDS.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    return text.strip() + "\n"


def draw_charts(result: Result) -> dict[str, Any]:
    """Chart key (``waterfall_<definition>``, ``definitions``) -> matplotlib Figure, in report order.

    Raises ImportError without matplotlib.
    """
    import matplotlib  # noqa: F401, PLC0415

    figures = {}
    for name, block in result.definitions.items():
        title = f"{name}: from ad clicks to sessions"
        figures[f"waterfall_{name}"] = draw_waterfall(block.bridge, title, "ad clicks", f"{name} sessions")
    if len(result.definitions) > 1:
        figures["definitions"] = draw_definitions(result)
    return figures


def write_charts(
    result: Result,
    directory: Path,
    write: Callable[..., None],
    svgs: dict[str, str] | None = None,
) -> tuple[dict[str, Path], str]:
    """Draw every chart into ``directory`` as PNG with ``write(path, writer, binary=True)``.

    With ``svgs`` (a dict), each chart's SVG text is also put there under its key, for ``report.html``.

    Returns
    -------
    (charts, missing)
        Chart key -> file written, and why nothing was drawn ("" when charts were drawn).
    """
    try:
        figures = draw_charts(result)
    except ImportError:
        return {}, "matplotlib is not installed."
    charts = {}
    for k, (key, fig) in enumerate(figures.items()):
        path = directory / f"{key}.png"
        data = _png(fig)
        write(path, lambda fh, data=data: fh.write(data), binary=True)
        charts[key] = path
        if svgs is not None:
            svgs[key] = svg(fig, f"chart{k + 1}")
    return charts, ""

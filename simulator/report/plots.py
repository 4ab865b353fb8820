"""PNG charts for the report directory: a waterfall per definition and a bar chart of definitions.

matplotlib is an optional extra (``pip install "sessionlab[plots]"``), imported only here and only
when charts are drawn. Figures are built with the object-oriented API on the Agg canvas (no pyplot,
no global state, no display needed).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.analysis.bridges import Bridge
from simulator.analysis.result import Result

__all__ = ["draw_definitions", "draw_waterfall", "write_charts"]

_TOTAL, _UP, _DOWN = "#4c72b0", "#55a868", "#c44e52"
#: PNG metadata without the matplotlib version, so the bytes do not change with it.
_METADATA = {"Software": None}
#: Waterfalls whose bars reach at least this count may start the y axis above 0.
_ZOOM_MIN = 20


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _nice_floor(value: float) -> int:
    """``value`` rounded down to 1, 2 or 5 times a power of ten (0 for values below 1)."""
    if value < 1:
        return 0
    power = 10 ** (len(str(int(value))) - 1)
    return max(m * power for m in (1, 2, 5) if m * power <= value)


def _floating_bars(bridge: Bridge) -> tuple[list[int], list[int], list[str]]:
    """Bottoms, heights and colours: the start bar, each term at the running total, the end bar."""
    running, bottoms, heights, colors = bridge.start, [0], [bridge.start], [_TOTAL]
    for t in bridge.terms:
        bottoms.append(min(running, running + t.delta))
        heights.append(abs(t.delta))
        colors.append(_UP if t.delta > 0 else _DOWN)
        running += t.delta
    return [*bottoms, 0], [*heights, bridge.end], [*colors, _TOTAL]


def _y_floor(bridge: Bridge) -> int:
    """Where the y axis starts: 0, or higher when the terms are small next to the totals."""
    levels = [bridge.start]
    for t in bridge.terms:
        levels.append(levels[-1] + t.delta)
    low, high = min(levels), max(levels)
    return _nice_floor(low - 0.4 * (high - low)) if high >= _ZOOM_MIN and low > 0.4 * high else 0


def draw_waterfall(bridge: Bridge, title: str, start_label: str, end_label: str) -> Any:
    """A matplotlib Figure: the start bar, one floating bar per term at the running total, the end bar."""
    from matplotlib.patches import Patch  # noqa: PLC0415

    labels = [start_label, *(t.cause.replace("_", " ") for t in bridge.terms), end_label]
    fig = _figure(max(6.0, 1.0 + 0.9 * len(labels)), 4.6)
    ax = fig.add_subplot()
    bottoms, heights, colors = _floating_bars(bridge)
    x = range(len(labels))
    ax.bar(x, heights, bottom=bottoms, color=colors, width=0.7, edgecolor="white")
    floor = _y_floor(bridge)
    top = max(*(b + h for b, h in zip(bottoms, heights, strict=True)), floor + 1)
    texts = [f"{bridge.start:,}", *(f"{t.delta:+,}" for t in bridge.terms), f"{bridge.end:,}"]
    for i, (b, h, text) in enumerate(zip(bottoms, heights, texts, strict=True)):
        ax.text(i, b + h + (top - floor) * 0.015, text, ha="center", va="bottom", fontsize=9)
    level = bridge.start  # dotted connectors between consecutive running totals
    for i, t in enumerate(bridge.terms):
        ax.plot([i - 0.35, i + 1.35], [level, level], color="#999999", linewidth=0.7, linestyle=":")
        level += t.delta
    ax.set_xticks(list(x), labels, rotation=30, ha="right", fontsize=9)
    # Zoomed in, the total bars are cut: the axis label says so.
    ax.set_ylim(floor, floor + (top - floor) * 1.12)
    ax.set_ylabel(f"count (axis starts at {floor:,}, not 0)" if floor else "count")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontsize=11, pad=24)
    handles = [
        Patch(color=_DOWN, label="fewer: clicks that did not become a session"),
        Patch(color=_UP, label="more: sessions no counted click started"),
    ]
    ax.legend(
        handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8
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
    ax.bar([i + 0.2 for i in x], users, width=0.4, color="#8172b2", label="users")
    clicks = result.ads.clicks
    ax.axhline(clicks, color=_DOWN, linestyle="--", linewidth=1.2, label=f"ad clicks ({clicks:,})")
    top = max([clicks, *sessions, *users, 1])
    for i, (s, u) in enumerate(zip(sessions, users, strict=True)):
        ax.text(i - 0.2, s + top * 0.015, f"{s:,}", ha="center", va="bottom", fontsize=9)
        ax.text(i + 0.2, u + top * 0.015, f"{u:,}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(list(x), names)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(0, top * 1.18)
    ax.set_title("The same traffic under each session definition", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata=_METADATA)
    return buf.getvalue()


def write_charts(result: Result, directory: Path, write: Callable[..., None]) -> tuple[dict[str, Path], str]:
    """Draw every chart into ``directory`` with ``write(path, writer, binary=True)``.

    Returns
    -------
    (charts, missing)
        Chart key -> file written, and why nothing was drawn ("" when charts were drawn).
    """
    try:
        import matplotlib  # noqa: F401, PLC0415
    except ImportError:
        return {}, "matplotlib is not installed."
    figures = {}
    for name, block in result.definitions.items():
        title = f"{name}: from ad clicks to sessions"
        figures[f"waterfall_{name}"] = draw_waterfall(block.bridge, title, "ad clicks", f"{name} sessions")
    if len(result.definitions) > 1:
        figures["definitions"] = draw_definitions(result)
    charts = {}
    for key, fig in figures.items():
        path = directory / f"{key}.png"
        data = _png(fig)
        write(path, lambda fh, data=data: fh.write(data), binary=True)
        charts[key] = path
    return charts, ""

"""Charts: axis choice and figure contents (matplotlib is an optional extra)."""

from __future__ import annotations

import pytest

from simulator.analysis.bridges import Bridge, Term
from simulator.report.plots import _nice_floor, _y_floor


def test_nice_floor_rounds_down_to_1_2_5():
    """Axis floors are round numbers at or below the value."""
    assert [_nice_floor(v) for v in (0.5, 1, 3, 87, 230, 999)] == [0, 1, 2, 50, 200, 500]


def test_waterfall_axis_zooms_only_when_terms_are_small_next_to_totals():
    """136 -> 127 with small terms starts the axis above 0; 9 -> 6 starts at 0."""
    big = Bridge(136, (Term("left_before_tag", -42), Term("inactivity", 33)), 127)
    small = Bridge(9, (Term("repeat_click", -3),), 6)
    assert _y_floor(big) == 50
    assert _y_floor(small) == 0


def test_waterfall_figure_has_one_bar_per_step():
    """start + one floating bar per term + end, labelled by cause."""
    pytest.importorskip("matplotlib")
    from simulator.report.plots import draw_waterfall

    bridge = Bridge(9, (Term("repeat_click", -2), Term("bookmark", 1)), 8)
    ax = draw_waterfall(bridge, "t", "ad clicks", "sessions").axes[0]
    assert [round(p.get_height()) for p in ax.patches] == [9, 2, 1, 8]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "ad clicks",
        "repeat click",
        "bookmark",
        "sessions",
    ]

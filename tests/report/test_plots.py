"""Charts: bars from zero, labelled axes, counts on the bars, a palette for grey-scale, deterministic SVG."""

from __future__ import annotations

import re

import pytest

from simulator import load_scenario, run
from simulator.analysis.bridges import Bridge, Term
from tests.conftest import SCENARIOS

pytest.importorskip("matplotlib")

from simulator.report.plots import PALETTE, draw_charts, draw_waterfall, svg


@pytest.fixture(scope="module")
def google_ads():
    """2,647 clicks -> 3,798 GA4 sessions: the waterfall whose y axis used to start at 500."""
    return run(load_scenario(SCENARIOS / "google_ads_vs_ga4.toml"))


def test_the_google_ads_waterfall_starts_at_zero(google_ads):
    """Every bar's length is its count: the axis starts at 0 and the total bars stand on it."""
    bridge = google_ads.definitions["ga4"].bridge
    assert (bridge.start, bridge.end) == (2647, 3798)
    ax = draw_waterfall(bridge, "t", "ad clicks", "sessions").axes[0]
    assert ax.get_ylim()[0] == 0
    first, last = ax.patches[0], ax.patches[len(bridge.terms) + 1]
    assert (first.get_y(), round(first.get_height())) == (0, 2647)
    assert (last.get_y(), round(last.get_height())) == (0, 3798)
    assert ax.get_ylim()[1] >= max(p.get_y() + p.get_height() for p in ax.patches)
    assert "axis starts" not in ax.get_ylabel()  # no broken axis to explain any more


def test_waterfall_figure_has_one_bar_per_step():
    """start + one floating bar per term + end, labelled by cause."""
    bridge = Bridge(9, (Term("repeat_click", -2), Term("bookmark", 1)), 8)
    ax = draw_waterfall(bridge, "t", "ad clicks", "sessions").axes[0]
    assert [round(p.get_height()) for p in ax.patches] == [9, 2, 1, 8]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "ad clicks",
        "repeat click",
        "bookmark",
        "sessions",
    ]


def test_counts_on_bars_labels_with_units_and_hatching_for_fewer():
    """Counts written on the bars; y label names the unit; 'fewer' bars hatched, others plain."""
    bridge = Bridge(1200, (Term("blocked", -301), Term("organic", 880)), 1779)
    ax = draw_waterfall(bridge, "t", "ad clicks", "sessions").axes[0]
    assert [t.get_text() for t in ax.texts] == ["1,200", "-301", "+880", "1,779"]
    assert "count" in ax.get_ylabel()
    assert ax.get_xlabel()
    assert [p.get_hatch() or "" for p in ax.patches] == ["", "///", "", ""]
    colours = [p.get_facecolor()[:3] for p in ax.patches]
    from matplotlib.colors import to_rgb

    assert colours == [to_rgb(PALETTE[k]) for k in ("total", "down", "up", "total")]


def test_palette_is_okabe_ito():
    """The Okabe-Ito colours (blue, bluish green, vermillion, orange): safe for colour-blind readers."""
    assert {PALETTE[k] for k in ("total", "up", "down", "users")} == {
        "#0072B2",
        "#009E73",
        "#D55E00",
        "#E69F00",
    }


def test_definitions_chart_starts_at_zero_with_users_hatched(google_ads):
    amazon = run(load_scenario(SCENARIOS / "amazon_clicks_vs_sessions.toml"))
    ax = draw_charts(amazon)["definitions"].axes[0]
    assert ax.get_ylim()[0] == 0
    n = len(amazon.definitions)
    assert [p.get_hatch() or "" for p in ax.patches] == [""] * n + [".."] * n
    assert ax.get_xlabel() == "session definition"
    assert "count" in ax.get_ylabel()


def test_svg_is_deterministic_self_contained_and_prefixed(google_ads):
    """Same figure -> same SVG bytes; no date, no DOCTYPE URL, ids prefixed so charts can share a page."""
    figs = draw_charts(google_ads)
    a = svg(figs["waterfall_ga4"], "chart1")
    b = svg(draw_charts(google_ads)["waterfall_ga4"], "chart1")
    assert a == b
    assert a.startswith("<svg")
    assert "<dc:date>" not in a
    assert "DOCTYPE" not in a
    assert "<metadata>" not in a
    urls = set(re.findall(r"https?://[^\"'\s)]+", a))
    assert urls == {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # namespaces only
    ids = re.findall(r'\bid="([^"]+)"', a)
    assert ids
    assert all(i.startswith("chart1-") for i in ids)
    refs = re.findall(r'href="#([^"]+)"', a) + re.findall(r"url\(#([^)]+)\)", a)
    assert refs
    assert set(refs) <= set(ids)
    assert ">2,647<" in a
    assert ">3,798<" in a


def test_user_text_is_literal_in_charts():
    """A '$' in a definition name is text, not mathtext."""
    bridge = Bridge(3, (Term("repeat_click", -1),), 2)
    fig = draw_waterfall(bridge, "$a$ b", "ad clicks", "$x$ sessions")
    out = svg(fig)
    assert "$a$ b" in out
    assert "$x$ sessions" in out

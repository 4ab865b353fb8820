"""run(): counts per system, ratios, the clicks -> sessions bridge identity, and the JSON shape."""

from __future__ import annotations

import json

import pytest

from simulator import loads_scenario, run
from simulator.report.text import render_json, render_text

SCENARIO = """
[scenario]
name = "r"
start = 2024-05-01T00:00:00

[sessions]
definitions = ["ga4", "salesreach"]

[[journey]]
name = "a"
steps = [
  { at = 10:00:00, do = "impression", campaign = "c", cost = 0.01 },
  { after = "5s", do = "click", campaign = "c", cost = 1.0 },
  { after = "1m", do = "view" },
  { after = "40m", do = "view" },
  { after = "1m", do = "convert", value = 20.0, units = 3 },
]

[[journey]]
name = "b"
steps = [
  { at = 10:00:00, do = "impression", campaign = "c", cost = 0.01 },
  { after = "5s", do = "click", campaign = "c", cost = 1.0, invalid = true },
]
"""


@pytest.fixture(scope="module")
def result():
    return run(loads_scenario(SCENARIO, "r.toml"))


def test_ad_counts_include_only_counted_rows(result):
    """The invalid click is neither counted nor charged; impressions cost their CPM share."""
    assert (result.ads.impressions, result.ads.clicks) == (2, 1)
    assert result.ads.cost == pytest.approx(1.02)
    assert result.ads.ctr == pytest.approx(0.5)


def test_analytics_counts_per_definition(result):
    """A 40-minute gap splits ga4 but not salesreach; the invalid click's landing is a session."""
    ga4, sr = result.definitions["ga4"].counts, result.definitions["salesreach"].counts
    assert (ga4.views, ga4.sessions, ga4.users) == (4, 3, 2)
    assert (sr.views, sr.sessions, sr.users) == (4, 2, 2)
    assert (ga4.conversions, ga4.units, ga4.value) == (1, 3, 20.0)
    assert result.metric("conversion_rate_session", "ga4") == pytest.approx(1 / 3)
    assert result.metric("conversion_rate_user", "ga4") == pytest.approx(1 / 2)
    assert result.metric("unit_session_percentage", "ga4") == pytest.approx(100.0)


def test_bridge_adds_up_and_names_invalid_click_and_inactivity(result):
    """1 click + 1 invalid-click session + 1 timeout split = 3 ga4 sessions."""
    bridge = result.definitions["ga4"].bridge
    assert (bridge.start, bridge.end) == (1, 3)
    assert {t.cause: t.delta for t in bridge.terms} == {"invalid_click": 1, "inactivity": 1}
    assert result.metric("bridge.inactivity", "ga4") == 1
    assert result.metric("bridge.repeat_click", "ga4") == 0


def test_json_shape_and_stability(result):
    """The JSON has the documented keys and the same bytes on every run."""
    doc = json.loads(render_json(result))
    assert {"scenario", "seed", "events", "ads", "definitions"} <= set(doc)
    assert {"impressions", "clicks", "cost"} <= set(doc["ads"])
    ga4 = doc["definitions"]["ga4"]
    assert {"views", "sessions", "users", "conversions"} <= set(ga4)
    assert ga4["bridge"]["start"] == doc["ads"]["clicks"]
    assert ga4["bridge"]["end"] == ga4["sessions"]
    again = run(loads_scenario(SCENARIO, "r.toml"))
    assert render_json(again) == render_json(result)


def test_zero_denominators_are_none_not_errors():
    """No impressions means no CTR: None in Python, null in JSON, '-' in the table."""
    r = run(
        loads_scenario(
            """
[scenario]
name = "z"
[[journey]]
name = "a"
steps = [{ at = 2024-01-01T10:00:00, do = "return", via = "direct" }]
""",
            "z.toml",
        )
    )
    assert r.ads.ctr is None
    assert r.metric("cost_per_session", "ga4") == 0.0
    assert r.metric("sessions_per_click", "ga4") is None
    assert json.loads(render_json(r))["ads"]["ctr"] is None
    assert "-" in render_text(r)


def test_text_report_shows_bridge_lines(result):
    """The terminal report lists each bridge term with its explanation."""
    text = render_text(result)
    assert "clicks -> sessions (ga4)" in text
    assert "invalid_click" in text
    assert "a visit split by the inactivity timeout" in text


def test_ad_attributed_sales_respect_the_7_and_14_day_windows():
    """Sales count for the latest counted click within 7 or 14 days of it; ACoS = cost / sales."""
    r = run(
        loads_scenario(
            """
[scenario]
name = "acos"
start = 2024-05-01T00:00:00
[[journey]]
name = "buys twice"
steps = [
  { at = 10:00:00, do = "click", campaign = "sp", cost = 2.0 },
  { after = "5m", do = "convert", value = 30.0 },
  { after = "10d", do = "return", via = "direct" },
  { after = "1m", do = "convert", value = 50.0 },
  { after = "5d", do = "return", via = "direct" },
  { after = "1m", do = "convert", value = 70.0 },
]
[[journey]]
name = "never clicked"
steps = [{ at = 10:00:00, do = "return", via = "organic" }, { after = "1m", do = "convert", value = 9.0 }]
""",
            "acos.toml",
        )
    )
    assert (r.ads.sales_7d, r.ads.sales_14d) == (30.0, 80.0)
    assert r.ads.acos_7d == pytest.approx(2.0 / 30.0)
    assert r.ads.acos_14d == pytest.approx(2.0 / 80.0)
    assert r.metric("conversions", "ga4") == 4

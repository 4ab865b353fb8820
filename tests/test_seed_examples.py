"""The seed articles' worked examples, asserted through the Python API (not only `check`)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import evaluate, load_scenario, run
from simulator.analysis.result import run_log

from .conftest import SCENARIOS


def result_of(name: str):
    return run(load_scenario(SCENARIOS / f"{name}.toml"))


def only(result, *journeys: str):
    """The result recomputed over the named journeys' people."""
    names = [j.name for j in load_scenario(SCENARIOS / f"{result.scenario}.toml").journeys]
    picked = [names.index(j) for j in journeys]
    log = result.log.select(np.isin(result.log.journey, picked))
    return run_log(log, tuple(result.definitions), result.scenario)


def test_salesreach_store_variant_one_two_visitors_three_views_two_sessions():
    """Seed 002: B leaves for the purse and is back within 2 h."""
    r = only(result_of("salesreach_store"), "customer A", "customer B, back with the purse")
    assert (r.metric("users", "salesreach"), r.metric("views", "salesreach")) == (2, 3)
    assert r.metric("sessions", "salesreach") == 2


def test_salesreach_store_variant_two_next_day_is_a_third_session():
    """Seed 002: B comes back the next day: 2 visitors, 3 views, 3 sessions."""
    r = only(result_of("salesreach_store"), "customer A", "customer B, back the next day")
    assert (r.metric("users", "salesreach"), r.metric("views", "salesreach")) == (2, 3)
    assert r.metric("sessions", "salesreach") == 3


def test_salesreach_reload_and_second_page_add_views_not_sessions():
    """Seed 002: a reload and another sales page within 2 h are views in the same session."""
    r = only(result_of("salesreach_store"), "e-mail reader, second page")
    assert (r.metric("views", "salesreach"), r.metric("sessions", "salesreach")) == (3, 1)


@pytest.mark.parametrize(
    ("journey", "clicks", "sessions"),
    [
        ("distracted", 1, 2),
        ("bookmarker", 1, 2),
        ("repeat clicker", 3, 1),
        ("short click", 1, 0),
        ("raincoat tabs", 3, 1),
    ],
)
def test_amazon_clicks_vs_sessions_each_case(journey, clicks, sessions):
    """Seed 000: each bullet case and the raincoat tabs, under a 30-minute timeout."""
    r = only(result_of("amazon_clicks_vs_sessions"), journey)
    assert (r.metric("clicks"), r.metric("sessions", "ga4")) == (clicks, sessions)


def test_amazon_bridge_explains_nine_clicks_as_six_sessions():
    """Seed 000 overall: 9 clicks - 1 short - 2 repeats - 2 tabs + 1 bookmark + 1 timeout = 6."""
    bridge = result_of("amazon_clicks_vs_sessions").definitions["ga4"].bridge
    assert bridge.start == 9
    assert {t.cause: t.delta for t in bridge.terms} == {
        "left_before_tag": -1,
        "repeat_click": -2,
        "new_tab_click": -2,
        "bookmark": 1,
        "inactivity": 1,
    }
    assert bridge.end == 6


def test_impressions_ctr_one_percent_and_cpc():
    """Seed 001: 1,000 impressions and 10 clicks give CTR 1 %; CPC = cost / clicks."""
    r = result_of("impressions_ctr")
    assert (r.ads.impressions, r.ads.clicks) == (1000, 10)
    assert r.ads.ctr == pytest.approx(0.01)
    assert r.ads.cpc == pytest.approx(0.45)


def test_cost_per_session_eighty_cents():
    """Seed 003: $8,000 over 10,000 sessions is $0.80 per session."""
    r = result_of("cost_per_session")
    assert r.ads.cost == pytest.approx(8000)
    assert r.metric("sessions", "ga4") == 10_000
    assert r.metric("cost_per_session", "ga4") == pytest.approx(0.80)


def test_clicks_vs_conversions_rates_differ_on_the_same_traffic():
    """Seed 004: CTR 5 %, conversion rate 6 % per click and 6.25 % per session."""
    r = result_of("clicks_vs_conversions")
    assert r.ads.ctr == pytest.approx(0.05)
    assert r.metric("conversion_rate_click", "ga4") == pytest.approx(0.06)
    assert r.metric("conversion_rate_session", "ga4") == pytest.approx(0.0625)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_bundled_expectation_holds(path):
    """Every [[expect]] in scenarios/ holds for the bundled seed."""
    scenario = load_scenario(path)
    outcomes = evaluate(run(scenario), scenario.expectations, scenario)  # segments need its time zones
    failed = [o.describe() for o in outcomes if not o.passed]
    assert failed == []

"""The stochastic population: each mechanism alone, determinism, and the EventLog contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import run, simulate
from simulator.log.events import Cause, Kind, Loss
from simulator.log.localtime import local_hour, local_weekday
from simulator.report.text import render_json
from tests._popkit import check_contract, scenario


def _terms(result, definition: str = "ga4") -> dict[str, int]:
    return {t.cause: t.delta for t in result.definitions[definition].bridge.terms}


@pytest.fixture(scope="module")
def quiet():
    return run(scenario())


def test_quiet_population_has_one_click_and_one_session_per_person(quiet):
    """With every mechanism off, clicks = sessions = users = visitors and the bridge is empty."""
    ga4 = quiet.definitions["ga4"]
    assert quiet.ads.clicks == 400
    assert ga4.counts.sessions == 400
    assert ga4.counts.users == 400
    assert ga4.counts.views == 400
    assert _terms(quiet) == {}
    assert quiet.log.meta["people"] == 400


def test_impressions_follow_the_click_through_rate(quiet):
    """Impressions per click average 1 / ctr (geometric until the click)."""
    assert quiet.ads.impressions / quiet.ads.clicks == pytest.approx(2.0, rel=0.15)


@pytest.mark.parametrize(
    ("changes", "term"),
    [
        ({"tracking": {"not_reached": 0.2}}, "not_reached"),
        ({"tracking": {"blockers": 0.3}}, "blocked"),
        ({"tracking": {"consent": 0.6}}, "no_consent"),
        ({"tracking": {"tag_missing": 0.2}}, "tag_missing"),
        ({"behavior": {"patience": {"dist": "lognormal", "median": "3s", "sigma": 1}}}, "left_before_tag"),
        ({"behavior": {"repeat_click": 0.3, "pages": 3}}, "repeat_click"),
        ({"behavior": {"new_tab_click": 0.3, "pages": 3}}, "new_tab_click"),
        ({"behavior": {"pages": 2, "idle": 1.0}}, "inactivity"),
        ({"behavior": {"returns": 0.5, "return_via": {"direct": 1}, "return_delay": "1d"}}, "direct"),
        ({"behavior": {"returns": 0.5, "return_via": {"organic": 1}, "return_delay": "1d"}}, "organic"),
        (
            {"tracking": {"consent": 0.6, "consent_mode": "advanced"}, "behavior": {"pages": 3}},
            "new_user_mid_visit",
        ),
    ],
)
def test_each_mechanism_alone_shows_only_its_own_bridge_term(changes, term):
    """Switching one mechanism on makes its bridge term appear, and no other."""
    terms = _terms(run(scenario(**changes)))
    assert set(terms) == {term}
    assert terms[term] != 0


def test_redirect_drop_turns_ad_sessions_into_direct_ones():
    """A redirect that drops the click id: as many 'campaign_dropped' clicks as 'redirect' sessions."""
    result = run(scenario(tracking={"redirect_drop": 0.25}))
    terms = _terms(result)
    assert set(terms) == {"campaign_dropped", "redirect"}
    assert terms["redirect"] == -terms["campaign_dropped"] > 50
    log = result.log
    dropped = log.cause == Cause.REDIRECT
    assert np.all(log.campaign[dropped] == -1)
    assert np.all(log.click[dropped] == -1)
    assert result.definitions["ga4"].counts.sessions == 400


def test_filtered_invalid_clicks_are_not_counted_but_still_start_sessions():
    """Invalid clicks filtered by the platform: fewer clicks, the same landings, an 'invalid_click' term."""
    result = run(
        scenario(campaign=[{"name": "s", "share": 1.0, "cpc": 1.0, "invalid_rate": 0.3, "invalid_lands": 1}])
    )
    terms = _terms(result)
    assert set(terms) == {"invalid_click"}
    assert result.ads.clicks + terms["invalid_click"] == 400
    invalid = (result.log.kind == Kind.CLICK) & ~result.log.counted
    assert result.log.cost[invalid].sum() == 0


def test_unfiltered_invalid_clicks_are_counted_and_billed():
    """With invalid_filtered = false, every click counts and costs, landed or not."""
    camp = {
        "name": "s",
        "share": 1.0,
        "cpc": 1.0,
        "invalid_rate": 0.3,
        "invalid_filtered": False,
        "invalid_lands": 0.5,
    }
    result = run(scenario(campaign=[camp]))
    assert result.ads.clicks == 400
    assert result.ads.cost == pytest.approx(400.0)
    assert set(_terms(result)) == {"not_reached"}


def test_second_ad_needs_another_campaign_and_joins_the_session():
    """A second campaign's ad clicked during a visit: an extra click, no extra session."""
    campaigns = [
        {"name": "a", "share": 0.5, "cpc": 1.0, "invalid_rate": 0},
        {"name": "b", "share": 0.5, "cpc": 2.0, "invalid_rate": 0},
    ]
    result = run(scenario(campaign=campaigns, behavior={"second_ad": 0.4, "pages": 3}))
    terms = _terms(result)
    assert set(terms) == {"second_ad"}
    log = result.log
    second = (log.kind == Kind.CLICK) & (log.cause == Cause.SECOND_AD)
    first = (log.kind == Kind.CLICK) & (log.cause == Cause.AD_CLICK)
    visit_campaign = dict(zip(log.visit[first].tolist(), log.campaign[first].tolist(), strict=True))
    assert all(visit_campaign[v] != c for v, c in zip(log.visit[second], log.campaign[second], strict=True))


def test_bookmarks_bring_people_back_without_a_click():
    """Bookmark returns only happen after a visit that bookmarked; they add 'bookmark' sessions."""
    result = run(
        scenario(
            behavior={"bookmark": 1.0, "returns": 0.5, "return_via": {"bookmark": 1}, "return_delay": "1d"}
        )
    )
    assert set(_terms(result)) == {"bookmark"}
    no_mark = run(
        scenario(
            behavior={"bookmark": 0.0, "returns": 0.5, "return_via": {"bookmark": 1}, "return_delay": "1d"}
        )
    )
    assert set(_terms(no_mark)) == {"direct"}  # nobody bookmarked: they type the address instead


def test_reloads_and_tabs_add_views_not_sessions(quiet):
    """Reloads and new tabs within a visit raise views only."""
    result = run(scenario(behavior={"pages": 4, "reload": 0.3, "new_tab": 0.3}))
    assert _terms(result) == {}
    causes = set(np.unique(result.log.cause[result.log.kind == Kind.PAGEVIEW]).tolist())
    assert {Cause.RELOAD, Cause.TAB, Cause.NAVIGATION} <= causes
    assert result.definitions["ga4"].counts.views == 1600
    assert result.definitions["ga4"].counts.sessions == 400


def test_site_slowdown_under_load_loses_more_landings():
    """A site with little capacity loads slower at busy times, so more visitors leave before the tag."""
    patience = {"dist": "lognormal", "median": "6s", "sigma": 1}
    fast = _terms(run(scenario(behavior={"patience": patience}, population={"visitors": 3000})))
    slow = _terms(
        run(
            scenario(behavior={"patience": patience}, population={"visitors": 3000}, tracking={"capacity": 1})
        )
    )
    assert set(fast) == set(slow) == {"left_before_tag"}
    assert slow["left_before_tag"] < fast["left_before_tag"] * 1.5


def test_devices_and_cookies_multiply_users_not_people():
    """Other devices, cleared cookies and capped cookies give one person several analytics users."""
    returns = {"returns": 0.6, "return_via": {"direct": 1}, "return_delay": "2d"}
    base = run(scenario(behavior=returns))
    for change in ({"multi_device": 0.5}, {"clear_cookies": 0.5}, {"itp": 1.0, "cookie_lifetime": "1d"}):
        result = run(scenario(behavior=returns, population=change))
        assert result.definitions["ga4"].counts.users > base.definitions["ga4"].counts.users
        assert result.log.meta["people"] == base.log.meta["people"]
        assert result.definitions["ga4"].counts.sessions == base.definitions["ga4"].counts.sessions


def test_conversions_carry_value_units_and_their_attributed_click():
    """Converting visits add conversions with value and units, credited to the visit's click."""
    result = run(scenario(behavior={"convert": 0.5, "units": {"dist": "geometric", "mean": 2}}))
    log = result.log
    conv = log.kind == Kind.CONVERSION
    assert 150 < conv.sum() < 250
    assert np.all(log.units[conv] >= 1)
    assert np.all(log.value[conv] > 0)
    clicks = dict(
        zip(
            log.click[log.kind == Kind.CLICK].tolist(),
            log.person[log.kind == Kind.CLICK].tolist(),
            strict=True,
        )
    )
    assert all(clicks[c] == p for c, p in zip(log.click[conv], log.person[conv], strict=True))
    assert _terms(result) == {}


def test_attribution_window_limits_credit():
    """A conversion later than the attribution window after the click is credited to no click."""
    later = {
        "convert": 1.0,
        "returns": 0.9,
        "return_via": {"direct": 1},
        "return_delay": "3d",
        "attribution_window": "1d",
    }
    log = run(scenario(behavior=later, population={"days": 14})).log
    conv = log.kind == Kind.CONVERSION
    direct_visit = np.isin(log.visit, log.visit[(log.kind == Kind.PAGEVIEW) & (log.cause == Cause.DIRECT)])
    assert np.all(log.click[conv & direct_visit] == -1)
    assert np.all(log.click[conv & ~direct_visit] >= 0)


def test_daily_budget_stops_clicks_for_everyone():
    """A small daily budget caps spend per day; accelerated pacing spends it early in the day."""
    camp = {
        "name": "s",
        "share": 1.0,
        "cpc": 1.0,
        "invalid_rate": 0,
        "daily_budget": 40,
        "pacing": "accelerated",
    }
    result = run(scenario(campaign=[camp], population={"visitors": 1000}))
    log = result.log
    clicks = (log.kind == Kind.CLICK) & log.counted
    day = (log.ts[clicks] - log.ts[clicks].min()) // 86_400_000
    spent = np.bincount(day.astype(np.int64), log.cost[clicks])
    assert result.ads.clicks < 1000 * 0.5
    assert np.all(spent <= 40 + 5)
    assert local_hour(log.ts[clicks], "UTC").max() < 20  # spent before the evening
    standard = run(scenario(campaign=[{**camp, "pacing": "standard"}], population={"visitors": 1000}))
    std_clicks = standard.log.ts[(standard.log.kind == Kind.CLICK) & standard.log.counted]
    assert local_hour(std_clicks, "UTC").max() >= 20  # spread over the whole day


def test_schedule_runs_ads_only_in_its_hours_and_days_of_the_ad_timezone():
    """Ads scheduled 9-17 on weekdays in the ad account's zone get no clicks outside them."""
    camp = {
        "name": "s",
        "share": 1.0,
        "cpc": 1.0,
        "invalid_rate": 0,
        "schedule": {"hours": [9, 17], "weekdays": [1, 2, 3, 4, 5]},
    }
    sc = scenario(campaign=[camp], scenario={"ad_timezone": "America/New_York"}, population={"days": 7})
    log = run(sc).log
    ts = log.ts[log.kind == Kind.CLICK]
    hours = local_hour(ts, "America/New_York")
    assert len(ts) > 50
    assert hours.min() >= 9
    assert hours.max() < 17
    assert local_weekday(ts, "America/New_York").max() <= 4


@pytest.mark.parametrize("chunk_size", [1, 5000, 10**6])
def test_json_is_identical_whatever_the_chunk_size(chunk_size):
    """Same seed => byte-identical JSON, whatever the chunk size."""
    sc = scenario(
        population={"visitors": 9000, "multi_device": 0.2},
        behavior={"pages": {"dist": "geometric", "mean": 3}, "returns": 0.3, "repeat_click": 0.1},
    )
    assert render_json(run(sc, chunk_size=chunk_size)) == render_json(run(sc, chunk_size=8192))


def test_different_seeds_give_different_logs():
    """Another seed gives another log of the same size order."""
    sc = scenario(behavior={"pages": {"dist": "geometric", "mean": 3}})
    a, b = simulate(sc), simulate(sc, seed=8)
    assert len(a) != len(b) or not np.array_equal(a.ts, b.ts)
    assert a.meta["seed"] == 7
    assert b.meta["seed"] == 8


def test_visitors_override_keeps_earlier_blocks_unchanged():
    """--visitors N simulates N people; whole blocks of people before N come out identical."""
    from simulator.engine.population import BLOCK

    sc = scenario()
    small, large = simulate(sc, visitors=BLOCK + 10), simulate(sc, visitors=BLOCK + 300)
    assert small.meta["people"] == BLOCK + 10
    assert large.meta["people"] == BLOCK + 300
    for name in ("user", "ts", "kind", "cause", "click", "visit"):
        assert np.array_equal(
            small.columns[name][small.person < BLOCK], large.columns[name][large.person < BLOCK]
        )


def test_population_and_journeys_share_one_log():
    """A scenario with journeys and a population: journeys first, ids never collide, contract holds."""
    from simulator import loads_scenario
    from tests._popkit import QUIET, to_toml

    text = to_toml(QUIET) + (
        '[[journey]]\nname = "scripted"\nsteps = [{ at = 2024-05-06T10:00:00, do = "click", '
        'campaign = "other", cost = 2.0 }]\n'
    )
    result = run(loads_scenario(text))
    log = result.log
    assert log.campaigns[:2] == ("search", "other")
    assert result.ads.clicks == 401
    assert np.all(log.journey[log.user == 0] == 0)
    check_contract(log)


_probability = st.floats(0, 1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31),
    tracking=st.fixed_dictionaries(
        {
            "not_reached": st.floats(0, 0.3),
            "blockers": st.floats(0, 0.5),
            "consent": _probability,
            "consent_mode": st.sampled_from(["basic", "advanced"]),
            "redirect_drop": st.floats(0, 0.3),
            "tag_missing": st.floats(0, 0.3),
            "capacity": st.sampled_from([0, 1, 5]),
        }
    ),
    behavior=st.fixed_dictionaries(
        {
            "reload": st.floats(0, 0.3),
            "new_tab": st.floats(0, 0.3),
            "repeat_click": _probability,
            "new_tab_click": _probability,
            "second_ad": _probability,
            "idle": st.floats(0, 0.5),
            "bookmark": _probability,
            "returns": st.floats(0, 0.9),
            "convert": _probability,
            "pages": st.sampled_from([1, 2, {"dist": "geometric", "mean": 4}]),
            "patience": st.sampled_from(["1h", {"dist": "lognormal", "median": "4s", "sigma": 1.5}]),
        }
    ),
    population=st.fixed_dictionaries(
        {
            "multi_device": _probability,
            "clear_cookies": _probability,
            "itp": _probability,
            "visitors": st.integers(0, 150),
        }
    ),
    invalid=st.floats(0, 0.5),
    filtered=st.booleans(),
)
def test_random_populations_keep_the_eventlog_contract_and_the_bridge_adds_up(
    *, seed, tracking, behavior, population, invalid, filtered
):
    """On random populations each counted, unlost click has one tracked landing; the bridge adds up."""
    campaigns = [
        {"name": "a", "share": 0.5, "cpc": 1.0, "invalid_rate": invalid, "invalid_filtered": filtered},
        {"name": "b", "share": 0.3, "cpm": 4.0, "ctr": 0.2, "invalid_rate": invalid, "daily_budget": 3},
    ]
    population = {**population, "days": 2}
    sc = scenario(
        scenario={"seed": seed},
        tracking=tracking,
        behavior=behavior,
        population=population,
        campaign=campaigns,
    )
    result = run(sc)  # the bridge checks its identity and raises if it does not add up
    check_contract(result.log)
    for block in result.definitions.values():
        assert block.bridge.start + sum(t.delta for t in block.bridge.terms) == block.counts.sessions
    lost = (result.log.kind == Kind.CLICK) & (result.log.loss != Loss.NONE)
    assert set(np.unique(result.log.loss[lost]).tolist()) <= {loss.value for loss in Loss} - {0}

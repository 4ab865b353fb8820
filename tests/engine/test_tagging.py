"""The tagging mechanisms (engine/tagging.py): duplicate tags, single-page-app route changes, leaving hits.

Each mechanism is switched on alone at a known rate against the same visitors (its draws come from its
own stream, so the visits are those of the run without it): the counts it changes are checked exactly
where the mechanism is deterministic, and against the binomial expectation (4 standard deviations)
where it draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator import run
from simulator.analysis.metrics import engaged
from simulator.log.events import Cause, Kind, Loss
from simulator.report.text import render_json
from tests._popkit import check_contract, scenario

#: A few pages per visit, tabs and reloads, idle breaks, returns and conversions: every cause around.
BUSY = {
    "pages": {"dist": "geometric", "mean": 4},
    "reload": 0.05,
    "new_tab": 0.05,
    "idle": 0.05,
    "returns": 0.3,
    "return_delay": "2h",
    "convert": 0.1,
}


def _run(tracking=None, behavior=None, visitors=None):
    sc = scenario(behavior={**BUSY, **(behavior or {})}, tracking=tracking or {})
    return run(sc, visitors=visitors)


@pytest.fixture(scope="module")
def plain():
    return _run()


def _views_term(result, cause: str) -> int:
    return result.definitions["ga4"].views_bridge.term(cause)


@pytest.mark.parametrize("k", [1, 2])
def test_duplicate_tags_multiply_views_exactly_and_change_no_session(plain, k):
    dup = _run({"duplicate_tags": k})
    a, b = plain.definitions["ga4"], dup.definitions["ga4"]
    assert b.counts.views == (1 + k) * a.counts.views
    assert (b.counts.sessions, b.counts.users, b.counts.conversions) == (
        a.counts.sessions,
        a.counts.users,
        a.counts.conversions,
    )
    assert dup.ads == plain.ads
    assert b.bridge == a.bridge  # clicks -> sessions: not a single term moves
    assert _views_term(dup, "duplicate_tag") == -k * a.counts.views
    assert b.ratios["views_per_session"] == pytest.approx((1 + k) * a.ratios["views_per_session"])
    # every session with a page view now has 2+ page views: engaged
    with_view = len(np.unique(np.cumsum(b.split != 0)[dup.log.kind[dup.hits] == Kind.PAGEVIEW]))
    assert b.counts.engaged_sessions == with_view
    check_contract(dup.log)


def test_route_changes_are_a_binomial_share_of_navigation_views(plain):
    p = 0.4
    spa = _run(behavior={"route_changes": p})
    nav = int(np.count_nonzero((plain.log.kind == Kind.PAGEVIEW) & (plain.log.cause == Cause.NAVIGATION)))
    routes = int(np.count_nonzero(spa.log.cause == Cause.ROUTE_CHANGE))
    assert nav > 500
    assert abs(routes - p * nav) < 4 * math.sqrt(nav * p * (1 - p))
    # history page views on (GA4's default): every route change is a page view, nothing else moves
    a, b = plain.definitions["ga4"], spa.definitions["ga4"]
    assert (b.counts.views, b.counts.sessions, b.bridge) == (a.counts.views, a.counts.sessions, a.bridge)
    assert _views_term(spa, "route_change") + _views_term(spa, "navigation") == _views_term(
        plain, "navigation"
    )


def test_history_page_views_off_loses_every_route_change(plain):
    spa = _run({"history_page_views": False}, {"route_changes": 0.4})
    route = spa.log.cause == Cause.ROUTE_CHANGE
    lost = route & (spa.log.loss == Loss.ROUTE_UNTRACKED)
    assert not np.any(route & spa.log.tracked)
    # a route change that a blocker or a consent denial already stopped keeps that loss
    assert np.all((spa.log.loss[route & ~lost]) != Loss.NONE)
    assert spa.definitions["ga4"].counts.views == plain.definitions["ga4"].counts.views - int(lost.sum())
    assert spa.ads == plain.ads
    check_contract(spa.log)


def test_manual_page_view_with_history_on_counts_each_route_change_twice(plain):
    on = _run(behavior={"route_changes": 0.4})
    twice = _run({"manual_page_view": True}, {"route_changes": 0.4})
    routes = int(np.count_nonzero((on.log.cause == Cause.ROUTE_CHANGE) & on.log.tracked))
    a, b = on.definitions["ga4"], twice.definitions["ga4"]
    assert b.counts.views == a.counts.views + routes
    assert _views_term(twice, "manual_page_view") == -routes
    assert b.counts.sessions == a.counts.sessions
    # with history page views off, the manual page_view is the only one: counted once
    manual_only = _run({"manual_page_view": True, "history_page_views": False}, {"route_changes": 0.4})
    assert manual_only.definitions["ga4"].counts.views == a.counts.views


def test_duplicate_tags_also_copy_manual_page_views():
    both = _run({"manual_page_view": True, "duplicate_tags": 1}, {"route_changes": 0.4})
    one = _run({"manual_page_view": True}, {"route_changes": 0.4})
    assert both.definitions["ga4"].counts.views == 2 * one.definitions["ga4"].counts.views


def test_leaving_hit_makes_single_page_sessions_measurable():
    """One page per visit, 20 s on it: engaged only when the leaving hit shows the 20 s."""
    single = {"pages": 1, "think": "20s", "convert": 0, "returns": 0, "reload": 0, "new_tab": 0}
    without = run(scenario(behavior=single))
    with_leave = run(scenario(behavior=single, tracking={"user_engagement": True}))
    longer_timer = run(
        scenario(behavior=single, tracking={"user_engagement": True, "engagement_timer": "30s"})
    )
    for r in (without, with_leave, longer_timer):
        assert r.definitions["ga4"].counts.sessions == 400
        assert r.definitions["ga4"].counts.views == 400
    assert without.metric("engagement_rate", "ga4") == 0.0
    assert without.metric("bounce_rate", "ga4") == 1.0
    assert with_leave.metric("engaged_sessions", "ga4") == 400
    assert with_leave.metric("bounce_rate", "ga4") == 0.0
    assert longer_timer.metric("engagement_rate", "ga4") == 0.0  # 20 s is not longer than 30 s
    leave = with_leave.log.kind == Kind.ENGAGEMENT
    assert int(leave.sum()) == 400
    assert np.all(with_leave.log.cause[leave] == Cause.LEAVE)
    # 20 s after the one page view of the same user, as a hit of the same session
    views = with_leave.log.kind == Kind.PAGEVIEW
    assert np.array_equal(with_leave.log.ts[leave] - with_leave.log.ts[views], np.full(400, 20_000))
    assert np.array_equal(with_leave.log.user[leave], with_leave.log.user[views])


def test_two_page_sessions_are_engaged_at_the_geometric_rate():
    """Without leaving hits a session is engaged by 2+ views (or a conversion): P(pages >= 2) = 1 - 1/mean."""
    r = run(scenario(behavior={"pages": {"dist": "geometric", "mean": 2}}), visitors=4000)
    rate = r.metric("engagement_rate", "ga4")
    assert abs(rate - 0.5) < 4 * math.sqrt(0.25 / 4000)
    assert r.metric("bounce_rate", "ga4") == pytest.approx(1 - rate)


def test_engaged_rule_by_hand():
    """2+ views, a conversion, or longer (strictly) than the timer."""
    pv, cv, eng = Kind.PAGEVIEW, Kind.CONVERSION, Kind.ENGAGEMENT
    kind = np.array([pv, pv, pv, pv, cv, pv, eng, pv, eng], dtype=np.int8)
    ts = np.array([0, 5, 0, 0, 3, 0, 10_000, 0, 10_001], dtype=np.int64)
    sid = np.array([0, 0, 1, 2, 2, 3, 3, 4, 4])
    assert engaged(kind, ts, sid).tolist() == [True, False, True, False, True]
    assert engaged(kind, ts, sid, timer_ms=10_001).tolist() == [True, False, True, False, False]
    assert engaged(kind[:0], ts[:0], sid[:0]).tolist() == []


def test_mechanisms_on_are_deterministic_and_chunk_independent():
    sc = scenario(
        behavior={**BUSY, "route_changes": 0.5},
        tracking={"duplicate_tags": 1, "manual_page_view": True, "user_engagement": True},
        population={"visitors": 9000},
    )
    a = render_json(run(sc))
    assert a == render_json(run(sc))
    assert a == render_json(run(sc, chunk_size=8192))
    check_contract(run(sc).log)


def test_off_draws_nothing_and_changes_no_row(plain):
    """Explicit defaults give the very same log as a scenario that never names the keys."""
    same = _run(
        {
            "duplicate_tags": 0,
            "history_page_views": True,
            "manual_page_view": False,
            "user_engagement": False,
        },
        {"route_changes": 0.0},
    )
    for name, col in plain.log.columns.items():
        assert np.array_equal(col, same.log.columns[name]), name


def _bot_run(**pop):
    return run(
        scenario(
            population={"visitors": 4000, **pop},
            campaign=[{"name": "search", "share": 0.5, "ctr": 0.5, "cpc": 1.0, "invalid_rate": 0}],
            behavior={**BUSY, "return_delay": "1d"},
        )
    )


@pytest.fixture(scope="module")
def no_bots():
    return _bot_run()


def test_unknown_bots_are_counted_like_people_but_as_the_bot_term(no_bots):
    bots = _bot_run(bots=0.2, known_bots=0.0)
    a, b = no_bots.definitions["ga4"], bots.definitions["ga4"]
    assert bots.ads == no_bots.ads  # bots who click ads are the campaigns' invalid clicks, not these
    assert b.counts.sessions == a.counts.sessions  # returns are a day apart: one session per visit
    assert b.counts.views == a.counts.views
    unpaid = ("direct", "organic", "bot")
    assert sum(b.bridge.term(t) for t in unpaid) == sum(a.bridge.term(t) for t in unpaid)
    # a bot keeps no cookie: one analytics user per visit; and it never converts
    bot_rows = bots.log.cause == Cause.BOT
    assert len(np.unique(bots.log.user[bot_rows])) == int(bot_rows.sum()) == b.bridge.term("bot")
    bot_people = np.unique(bots.log.person[bot_rows])
    assert not np.any(np.isin(bots.log.person[bots.log.kind == Kind.CONVERSION], bot_people))
    assert not np.any(np.isin(bot_people, bots.log.person[bots.log.kind == Kind.CLICK]))
    # about 20 % of the people who click no ad
    clickers = np.unique(no_bots.log.person[no_bots.log.kind == Kind.CLICK])
    n = 4000 - len(clickers)
    assert abs(len(bot_people) - 0.2 * n) < 4 * math.sqrt(n * 0.2 * 0.8)
    check_contract(bots.log)


def test_known_bots_are_excluded_exactly_where_unknown_ones_were_counted(no_bots):
    unknown = _bot_run(bots=0.2, known_bots=0.0)
    known = _bot_run(bots=0.2, known_bots=1.0)
    u, k = unknown.definitions["ga4"], known.definitions["ga4"]
    assert k.bridge.term("bot") == 0
    # every session of a bot goes (its visits' landings, the bot term, and their inactivity splits)
    bots = np.unique(unknown.log.person[unknown.log.cause == Cause.BOT])
    started = unknown.hits[u.split != 0]
    bot_sessions = int(np.count_nonzero(np.isin(unknown.log.person[started], bots)))
    assert bot_sessions > u.bridge.term("bot") > 300
    assert k.counts.sessions == u.counts.sessions - bot_sessions
    bot_views = int(
        np.count_nonzero(
            (unknown.log.kind == Kind.PAGEVIEW)
            & np.isin(unknown.log.person, unknown.log.person[unknown.log.cause == Cause.BOT])
            & unknown.log.tracked
        )
    )
    assert k.counts.views == u.counts.views - bot_views
    filtered = known.log.loss == Loss.BOT_FILTERED
    assert int(filtered.sum()) == bot_views
    half = _bot_run(bots=0.2, known_bots=0.5)
    people = len(np.unique(unknown.log.person[unknown.log.cause == Cause.BOT]))
    kept = len(np.unique(half.log.person[(half.log.cause == Cause.BOT) & half.log.tracked]))
    assert abs(kept - 0.5 * people) < 4 * math.sqrt(people * 0.25)
    check_contract(known.log)

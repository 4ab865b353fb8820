"""[site] mechanisms (simulator.engine.hops): one mechanism on at a known rate, closed-form checks.

The shop below makes every number exact but the mechanism's own draw: one ad campaign or unpaid
arrivals, one visit per person, exactly four page views, no pauses, nobody near midnight, nothing
lost. Then each session beyond the clicks is one mechanism's doing, and its bridge term's count is
Binomial(visits, rate): its mean over replications must lie within 4 standard errors of
``rate x visits`` (a false alarm about once in 16,000 runs).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.analysis.result import Result, run
from simulator.engine.hops import CHECKOUT_KEY
from simulator.engine.simulate import simulate
from simulator.errors import ScenarioError
from simulator.log.events import Cause, Kind, Loss, Source
from simulator.scenario.loader import scenario_from_dict

N = 1500
REPS = 4
DEFS = ["ga4", "universal_analytics", "matomo", "ga4_source_split"]


def _shop(site: dict | None, *, paid: float = 1.0, seed: int = 11) -> dict:
    doc = {
        "scenario": {"name": "hops", "seed": seed, "start": "2024-05-06T00:00:00", "timezone": "UTC"},
        "population": {
            "visitors": N,
            "days": 2,
            "unpaid": {"organic": 1.0},
            "hours": [0.0] + [1.0] * 22 + [0.0],  # nobody near midnight (UA and Matomo split there)
            "multi_device": 0.0,
            "clear_cookies": 0.0,
            "itp": 0.0,
        },
        "campaign": [{"name": "search", "share": paid, "ctr": 0.1, "invalid_rate": 0.0}] if paid else [],
        "behavior": {
            "pages": {"dist": "fixed", "value": 4},
            "think": "30s",
            "reload": 0.0,
            "new_tab": 0.0,
            "repeat_click": 0.0,
            "new_tab_click": 0.0,
            "second_ad": 0.0,
            "idle": 0.0,
            "patience": "1h",
            "bookmark": 0.0,
            "returns": 0.0,
            "convert": 0.0,
        },
        "tracking": {"not_reached": 0.0, "blockers": 0.0, "consent": 1.0},
        "sessions": {"definitions": DEFS},
    }
    if not paid:
        doc.pop("campaign")
    if site is not None:
        doc["site"] = site
    return doc


def _run(site: dict | None, **kw: object) -> Result:
    doc = _shop(site, **kw)  # type: ignore[arg-type]
    scenario = scenario_from_dict(doc, "hops.toml")
    return run(scenario)


def _views(r: Result, cause: Cause) -> int:
    log = r.log
    return int(np.count_nonzero((log.kind == Kind.PAGEVIEW) & (log.cause == cause)))


def _within(counts: list[int], rate: float, n: int) -> None:
    mean = sum(counts) / len(counts)
    se = math.sqrt(n * rate * (1 - rate) / len(counts))
    assert abs(mean - rate * n) <= 4 * se, (counts, rate * n, se)


def test_the_baseline_shop_has_one_session_per_click_under_every_definition() -> None:
    r = _run(None)
    assert r.ads.clicks == N
    for name in DEFS:
        assert r.definitions[name].counts.sessions == N, name
        assert r.definitions[name].counts.users == N


def test_checkout_hop_without_linking_is_a_new_user_and_session_per_hop() -> None:
    rate, hops = 0.3, []
    for seed in range(REPS):
        r = _run({"checkout_hop": rate}, seed=seed)
        h = _views(r, Cause.DOMAIN_HOP)
        assert _views(r, Cause.DOMAIN_RETURN) == h
        ga4 = r.definitions["ga4"]
        assert ga4.bridge.term("cross_domain") == h  # each checkout page opens its own user's session
        assert ga4.counts.sessions == N + h
        assert ga4.counts.users == N + h
        # universal analytics also splits the shop's visit on the referral back from the checkout
        ua = r.definitions["universal_analytics"]
        assert ua.bridge.term("cross_domain") == h
        assert ua.bridge.term("checkout_referral") == h
        assert ua.counts.sessions == N + 2 * h
        assert r.definitions["matomo"].counts.sessions == N + h  # a referrer change is not a new visit
        hops.append(h)
    _within(hops, rate, N)


def test_the_checkout_domain_has_its_own_cookie_per_person_and_device() -> None:
    r = _run({"checkout_hop": 0.5})
    log = r.log
    hop = (log.kind == Kind.PAGEVIEW) & (log.cause == Cause.DOMAIN_HOP)
    assert set(log.source[hop].tolist()) == {Source.REFERRAL}
    shop_users = set(log.user[~hop].tolist())
    assert not shop_users & set(log.user[hop].tolist())  # never a shop user
    assert len(set(log.user[hop].tolist())) == int(hop.sum())  # one visit each: one checkout user each
    assert CHECKOUT_KEY < (1 << 23)  # below the identifier-less hits' keys


def test_checkout_hop_with_cross_domain_linking_keeps_one_session() -> None:
    r = _run({"checkout_hop": 0.3, "cross_domain": True})
    assert _views(r, Cause.DOMAIN_HOP) > 0
    for name in DEFS:
        block = r.definitions[name]
        assert block.counts.sessions == N, name
        assert block.counts.users == N
        assert block.bridge.term("cross_domain") == 0


def test_payment_round_trip_splits_under_ua_and_the_disputed_ga4_reading_only() -> None:
    rate, trips = 0.4, []
    for seed in range(REPS):
        r = _run({"payment_round_trip": rate}, seed=seed)
        p = _views(r, Cause.PAYMENT_RETURN)
        assert r.definitions["ga4"].counts.sessions == N  # Google's documented rule: no split
        assert r.definitions["ga4"].bridge.term("payment_referral") == 0
        # Matomo: create_new_visit_when_website_referrer_changes = 0
        assert r.definitions["matomo"].counts.sessions == N
        for name in ("universal_analytics", "ga4_source_split"):
            assert r.definitions[name].bridge.term("payment_referral") == p, name
            assert r.definitions[name].counts.sessions == N + p
        assert r.definitions["ga4"].counts.users == N  # same cookie: the same user
        trips.append(p)
    _within(trips, rate, N)


def test_an_excluded_payment_provider_keeps_one_session_everywhere() -> None:
    r = _run({"payment_round_trip": 0.4, "payment_excluded": True})
    assert _views(r, Cause.PAYMENT_RETURN) > 0
    for name in DEFS:
        assert r.definitions[name].counts.sessions == N, name


def test_internal_campaign_splits_paid_sessions_under_ua_and_every_session_under_matomo() -> None:
    rate, paid_share, in_paid, in_all = 0.3, 0.5, [], []
    for seed in range(REPS):
        r = _run({"internal_campaign": rate}, paid=paid_share, seed=seed)
        log = r.log
        hit = (log.kind == Kind.PAGEVIEW) & (log.cause == Cause.INTERNAL_CAMPAIGN)
        assert set(log.campaign[hit].tolist()) == {log.campaigns.index("internal-promo")}
        paid_visits = set(log.visit[(log.kind == Kind.CLICK)].tolist())
        i_paid = sum(1 for v in log.visit[hit].tolist() if v in paid_visits)
        i_all = int(hit.sum())
        clicks = r.ads.clicks
        sessions0 = N  # one session per visit without the mechanism
        assert r.definitions["ga4"].counts.sessions == sessions0
        # UA adopts a campaign in a session begun without one (organic); Matomo splits there too
        assert r.definitions["universal_analytics"].bridge.term("internal_campaign") == i_paid
        assert r.definitions["matomo"].bridge.term("internal_campaign") == i_all
        assert r.definitions["matomo"].counts.sessions == sessions0 + i_all
        assert clicks == len(paid_visits)
        in_paid.append(i_paid)
        in_all.append(i_all)
    _within(in_all, rate, N)


def test_site_off_draws_nothing_and_toggles_share_their_random_numbers() -> None:
    plain = _run(None).log
    zero = _run({"checkout_hop": 0.0, "payment_round_trip": 0.0, "internal_campaign": 0.0}).log
    for name in plain.columns:
        assert np.array_equal(plain.columns[name], zero.columns[name]), name
    linked = _run({"checkout_hop": 0.3, "cross_domain": True}).log
    unlinked = _run({"checkout_hop": 0.3}).log
    # the same visits, views and times: only who analytics thinks the checkout visitor is differs
    key = lambda log: sorted(zip(log.person.tolist(), log.ts.tolist(), log.cause.tolist(), strict=True))  # noqa: E731
    assert key(linked) == key(unlinked)
    assert key(linked) != key(plain)


@pytest.mark.parametrize(
    ("site", "message"),
    [
        ({"checkout_hop": 0.7, "payment_round_trip": 0.5}, "more than 1"),
        ({"internal_campaign": 0.1, "internal_campaign_name": "search"}, "name of an ad campaign"),
        ({"checkout_hopp": 0.1}, "did you mean 'checkout_hop'"),
        ({"cross_domain": "yes"}, "site.cross_domain"),
    ],
)
def test_bad_site_tables_are_one_line_errors(site: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(_shop(site), "hops.toml")


def test_site_needs_a_population() -> None:
    doc = {
        "scenario": {"name": "x"},
        "journey": [{"name": "a", "steps": [{"do": "click", "campaign": "c"}]}],
        "site": {"checkout_hop": 0.1},
    }
    with pytest.raises(ScenarioError, match="site: applies to a stochastic population"):
        scenario_from_dict(doc, "x.toml")


def test_site_mechanisms_do_not_depend_on_the_chunk_size() -> None:
    doc = _shop({"checkout_hop": 0.2, "payment_round_trip": 0.2, "internal_campaign": 0.2}, paid=0.6)
    doc["population"]["visitors"] = 20_000  # three blocks of 8,192
    scenario = scenario_from_dict(doc, "hops.toml")
    a = simulate(scenario, chunk_size=8192)
    b = simulate(scenario, chunk_size=65_536)
    for name in a.columns:
        assert np.array_equal(a.columns[name], b.columns[name]), name
    assert a.campaigns == b.campaigns == ("search", "internal-promo")


def test_cause_codes_stay_contiguous() -> None:
    """The Parquet writer's fixed dictionaries label every code up to the largest; a gap would repeat
    the empty label, and Arrow then writes row groups that depend on the chunk size."""
    for enum in (Cause, Kind, Loss):
        assert sorted(int(c) for c in enum) == list(range(len(enum))), enum.__name__

"""The [site] mechanisms (engine/hops.py) and the tagging ones (engine/tagging.py) on at once.

Both were built beside each other: their random streams differ (``HOPS_STREAM`` 7 vs the tagging
streams 11-13), so switching one set on moves none of the other's draws, and the bridges show both
sets of terms. Same seed => the same log bytes, whatever the chunk size.
"""

from __future__ import annotations

import numpy as np

from simulator.analysis.result import run
from simulator.engine import tagging
from simulator.engine.hops import HOPS_STREAM
from simulator.engine.simulate import iter_chunks
from simulator.log.events import Cause, Kind
from simulator.log.writer import write_chunks
from simulator.scenario.loader import scenario_from_dict
from tests.engine.test_hops import _shop

SITE = {"checkout_hop": 0.3, "payment_round_trip": 0.2}


def _doc(site: dict | None, tracking: dict | None, bots: float = 0.0) -> dict:
    doc = _shop(site, paid=0.6)
    doc["population"]["bots"] = bots
    doc["tracking"].update(tracking or {})
    return doc


def _views(r, cause: Cause) -> int:
    return int(np.count_nonzero((r.log.kind == Kind.PAGEVIEW) & (r.log.cause == cause)))


def test_streams_are_distinct() -> None:
    assert HOPS_STREAM not in {tagging.STREAM, tagging.STREAM + 1, tagging.STREAM + 2}


def test_both_sets_of_terms_appear_and_each_is_what_it_is_alone() -> None:
    site_only = run(scenario_from_dict(_doc(SITE, None), "t.toml"))
    tags_only = run(scenario_from_dict(_doc(None, {"duplicate_tags": 1}), "t.toml"))
    both = run(scenario_from_dict(_doc(SITE, {"duplicate_tags": 1}), "t.toml"))
    ga4, ua = both.definitions["ga4"], both.definitions["universal_analytics"]
    hops = _views(both, Cause.DOMAIN_HOP)
    assert hops == _views(site_only, Cause.DOMAIN_HOP) > 0  # the tag copies move no hop draw
    assert ga4.bridge.term("cross_domain") == hops
    assert _views(both, Cause.PAYMENT_RETURN) == _views(site_only, Cause.PAYMENT_RETURN) > 0
    alone = site_only.definitions["universal_analytics"].bridge
    for term in ("cross_domain", "checkout_referral", "payment_referral"):
        assert ua.bridge.term(term) == alone.term(term) > 0, term
    # one copy of every tracked page view (hop views included), and no session more for it
    dup = -ga4.views_bridge.term("duplicate_tag")  # views -> sessions: each copy is one view less
    assert dup == _views(both, Cause.DUPLICATE_TAG) > 0
    assert dup == int(np.count_nonzero((both.log.kind == Kind.PAGEVIEW) & both.log.tracked)) // 2
    assert dup == -tags_only.definitions["ga4"].views_bridge.term("duplicate_tag")  # same views, same copies
    assert ga4.counts.sessions == site_only.definitions["ga4"].counts.sessions


def test_bots_keep_the_mid_visit_causes() -> None:
    r = run(scenario_from_dict(_doc(SITE, {"duplicate_tags": 1}, bots=0.3), "t.toml"))
    bot_people = np.unique(r.log.person[r.log.cause == Cause.BOT])
    assert len(bot_people) > 0
    mine = np.isin(r.log.person, bot_people) & (r.log.kind == Kind.PAGEVIEW)
    # a bot's landing is its one arrival; its hops stay hops (not a second "bot" arrival mid-visit)
    hop = mine & (r.log.cause == Cause.DOMAIN_HOP)
    assert np.count_nonzero(hop) > 0
    assert np.count_nonzero(mine & (r.log.cause == Cause.BOT)) == len(np.unique(r.log.visit[mine]))
    # on the checkout domain a bot is yet another user: one of its own per hop, never a shop one
    assert len(np.unique(r.log.user[hop])) == int(hop.sum())
    shop = mine & (r.log.cause != Cause.DOMAIN_HOP) & (r.log.cause != Cause.DUPLICATE_TAG)
    assert not set(r.log.user[hop].tolist()) & set(r.log.user[shop].tolist())
    ga4 = r.definitions["ga4"].bridge
    assert ga4.term("bot") > 0
    tracked_hops = (r.log.kind == Kind.PAGEVIEW) & (r.log.cause == Cause.DOMAIN_HOP) & r.log.tracked
    assert ga4.term("cross_domain") == int(tracked_hops.sum())  # known bots' hops: excluded by GA4


def test_same_seed_same_bytes_whatever_the_chunk_size(tmp_path) -> None:
    doc = _doc(SITE | {"internal_campaign": 0.2}, {"duplicate_tags": 1, "user_engagement": True}, 0.2)
    doc["behavior"]["route_changes"] = 0.5
    doc["population"]["visitors"] = 20_000  # three blocks
    sc = scenario_from_dict(doc, "t.toml")
    write_chunks(iter_chunks(sc, chunk_size=8192), tmp_path / "a.parquet")
    write_chunks(iter_chunks(sc, chunk_size=10**6), tmp_path / "b.parquet")
    write_chunks(iter_chunks(scenario_from_dict(doc, "t.toml"), chunk_size=8192), tmp_path / "c.parquet")
    a = (tmp_path / "a.parquet").read_bytes()
    assert a == (tmp_path / "b.parquet").read_bytes() == (tmp_path / "c.parquet").read_bytes()

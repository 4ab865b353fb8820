"""The bridges of simulator.analysis.bridges on small hand-worked journeys."""

from __future__ import annotations

import numpy as np
import pytest

from simulator import loads_scenario, run
from simulator.analysis.bridges import (
    AD_VOCABULARY,
    VIEW_VOCABULARY,
    VOCABULARY,
    Bridge,
    Term,
    group_of,
    make_bridge,
    split_table,
)
from simulator.log.events import Loss
from tests.conftest import scenario_text

SHOPPER = """
[[journey]]
name = "shopper"
steps = [
  { at = 10:00:00, do = "click", campaign = "a", cost = 1.0 },
  { after = "1m", do = "view", page = "p2" },
  { after = "1m", do = "reload" },
  { after = "1m", do = "click", campaign = "a", cost = 1.0 },
  { after = "1m", do = "click", campaign = "b", tab = true, cost = 1.0 },
  { after = "1m", do = "tab", page = "p3" },
  { after = "40m", do = "view", page = "p4" },
  { after = "1m", do = "leave" },
  { after = "5m", do = "click", campaign = "a", cost = 1.0 },
  { after = "50m", do = "convert", value = 10.0 },
]
"""


def test_clicks_to_sessions_hand_worked(simulate_text):
    """4 clicks: a repeat and a tab join the first session, a 40-minute pause splits it, the click after
    leaving joins the open session, the conversion 50 minutes later starts another: 4 - 3 + 2 = 3."""
    result = simulate_text(SHOPPER)
    bridge = result.definitions["ga4"].bridge
    assert (bridge.start, bridge.end) == (4, 3)
    assert bridge.terms == (
        Term("repeat_click", -1),
        Term("new_tab_click", -1),
        Term("click_in_open_session", -1),
        Term("inactivity", 2),
    )


def test_views_to_sessions_hand_worked(simulate_text):
    """8 page views, 3 sessions: navigation, reload, tab and click landings continue sessions; the
    session opened by the conversion is the one without a page view."""
    bridge = simulate_text(SHOPPER).definitions["ga4"].views_bridge
    assert bridge.start == 8  # landing, p2, reload, repeat landing, tab-click landing, p3, p4, landing
    assert bridge.end == 3
    assert {t.cause: t.delta for t in bridge.terms} == {
        "navigation": -1,  # p2 (p4 opened a session after the 40-minute pause)
        "reload": -1,
        "tab": -1,
        "repeat_click": -1,
        "new_tab_click": -1,
        "click_in_open_session": -1,
        "conversion_first": 1,
    }


# A dropped campaign is not a lost hit: the landing is tracked, as a redirect (see the engine tests).
SCRIPTED_LOSSES = [loss for loss in Loss if loss not in (Loss.NONE, Loss.CAMPAIGN_DROPPED)]


def test_lost_landings_by_loss():
    """Each loss reason on a counted click is its own negative term, named by the Loss label."""
    journeys = "".join(
        f'[[journey]]\nname = "{loss.label}"\nsteps = [{{ at = 10:00:00, do = "click", campaign = "a", '
        f'tag = false, loss = "{loss.label}" }}]\n'
        for loss in SCRIPTED_LOSSES
    )
    bridge = run(loads_scenario(scenario_text(journeys))).definitions["ga4"].bridge
    assert bridge.end == 0
    assert {t.cause: t.delta for t in bridge.terms} == {loss.label: -1 for loss in SCRIPTED_LOSSES}


def test_untracked_landing_then_tracked_view_is_new_user_mid_visit(simulate_text):
    """A landing lost to a missing tag, then a tracked page: -1 tag_missing, +1 new_user_mid_visit."""
    result = simulate_text(
        """
[[journey]]
name = "x"
steps = [
  { at = 10:00:00, do = "click", campaign = "a", tag = false, loss = "tag_missing" },
  { after = "1m", do = "view", page = "p2" },
]
"""
    )
    bridge = result.definitions["ga4"].bridge
    assert bridge.terms == (Term("tag_missing", -1), Term("new_user_mid_visit", 1))
    assert bridge.end == 1


def test_invalid_click_starts_session_but_is_not_counted(simulate_text):
    """An invalid click that lands opens a session the ad platform never counted: +1 invalid_click."""
    result = simulate_text(
        """
[[journey]]
name = "bot"
steps = [{ at = 10:00:00, do = "click", campaign = "a", invalid = true }]
"""
    )
    bridge = result.definitions["ga4"].bridge
    assert (bridge.start, bridge.terms, bridge.end) == (0, (Term("invalid_click", 1),), 1)


def test_impressions_to_clicks_by_campaign(simulate_text):
    """Per campaign: impressions, counted and invalid clicks; the bridge nets unclicked impressions."""
    result = simulate_text(
        """
[[journey]]
name = "seen"
count = 10
steps = [{ at = 09:00:00, do = "impression", campaign = "a", cost = 0.01 }]

[[journey]]
name = "clicked"
count = 2
steps = [
  { at = 09:00:00, do = "impression", campaign = "a" },
  { after = "1s", do = "click", campaign = "a", cost = 0.5 },
]

[[journey]]
name = "bot"
steps = [
  { at = 09:00:00, do = "impression", campaign = "a", invalid = true },
  { after = "1s", do = "click", campaign = "a", invalid = true },
]

[[journey]]
name = "no impression logged"
steps = [{ at = 09:00:00, do = "click", campaign = "b", cost = 0.7 }]
"""
    )
    ad = result.ad_bridge
    rows = {c.campaign: c for c in ad.campaigns}
    assert (rows["a"].impressions, rows["a"].clicks, rows["a"].invalid_clicks) == (12, 2, 1)
    assert rows["a"].ctr == pytest.approx(2 / 12)
    assert rows["a"].cost == pytest.approx(1.0)
    assert (rows["b"].impressions, rows["b"].clicks, rows["b"].ctr) == (0, 1, None)
    assert ad.bridge.start == 12
    assert ad.bridge.end == 3
    assert {t.cause: t.delta for t in ad.bridge.terms} == {
        "no_click": -(12 - 3),
        "click_without_impression": 1,
        "invalid_click": -1,
    }


def test_split_table_labels_each_hit_with_its_session_rule(simulate_text):
    """split_table: every hit carries its session id and the rule that started its session."""
    result = simulate_text(SHOPPER)
    block = result.definitions["ga4"]
    table = split_table(result.log, result.hits, block.split)
    assert table["session"].tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 2]
    assert table["split_cause"].tolist() == ["new_user"] * 6 + ["inactivity"] * 3
    assert table["starts"].tolist() == [True] + [False] * 5 + [True, False, True]
    assert np.array_equal(table["row"], result.hits)


def test_make_bridge_keeps_unknown_causes_after_vocabulary():
    """A cause outside the vocabulary (added by another module later) is kept, sorted after the known."""
    bridge = make_bridge(5, {"zz_new": -1, "repeat_click": -1, "aa_new": 1, "blocked": 0}, 4, VOCABULARY)
    assert [t.cause for t in bridge.terms] == ["repeat_click", "aa_new", "zz_new"]


def test_make_bridge_refuses_a_broken_identity():
    """Terms that do not add up raise instead of printing a wrong report."""
    with pytest.raises(RuntimeError, match="does not add up"):
        make_bridge(5, {"repeat_click": -1}, 3, VOCABULARY)


def test_biggest_orders_by_absolute_delta():
    """Bridge.biggest: largest |delta| first, ties in vocabulary order."""
    bridge = Bridge(10, (Term("a", -1), Term("b", 3), Term("c", -3)), 9)
    assert [t.cause for t in bridge.biggest(2)] == ["b", "c"]


def test_every_vocabulary_has_meanings_and_groups_cover_clicks_vocabulary():
    """Each cause of each vocabulary has a non-empty meaning; every clicks cause has a group."""
    for vocab in (VOCABULARY, VIEW_VOCABULARY, AD_VOCABULARY):
        assert all(isinstance(m, str) and m for m in vocab.values())
    assert all(group_of(c) != "other" for c in VOCABULARY)
    assert group_of("something_new") == "other"

"""The SimPy engine on scripted journeys: exact rows, causes, flags and ids."""

from __future__ import annotations

import numpy as np

from simulator import Cause, Kind, Loss, Source, loads_scenario, simulate
from simulator.log.events import COLUMNS

HEAD = """
[scenario]
name = "t"
start = 2024-05-01T00:00:00
timezone = "UTC"
"""
T0 = 1_714_521_600_000  # 2024-05-01T00:00:00Z in ms
MIN = 60_000


def log_of(journeys: str):
    return simulate(loads_scenario(HEAD + journeys, "t.toml"))


def test_click_emits_click_and_landing_with_shared_click_id():
    """A click is a counted CLICK row plus a tracked landing PAGEVIEW after the load time."""
    log = log_of("""
[[journey]]
name = "a"
steps = [{ at = 10:00:00, do = "click", campaign = "c", cost = 0.5, load = "3s" }]
""")
    assert log.kind.tolist() == [Kind.CLICK, Kind.PAGEVIEW]
    assert log.ts.tolist() == [T0 + 600 * MIN, T0 + 600 * MIN + 3000]
    assert log.click.tolist() == [0, 0]
    assert log.counted.tolist() == [True, False]
    assert log.tracked.tolist() == [False, True]
    assert log.cost.tolist() == [0.5, 0.0]
    assert log.source.tolist() == [Source.PAID, Source.PAID]
    assert log.campaigns == ("c",)


def test_click_causes_follow_the_open_visit():
    """First click opens a visit; then same ad = repeat, tab = new tab, other ad = second ad."""
    log = log_of("""
[[journey]]
name = "a"
steps = [
  { at = 10:00:00, do = "click", campaign = "c" },
  { after = "1m", do = "click", campaign = "c" },
  { after = "1m", do = "click", campaign = "d", tab = true },
  { after = "1m", do = "click", campaign = "d" },
  { after = "1m", do = "click", campaign = "e" },
  { after = "1m", do = "leave" },
  { after = "1m", do = "click", campaign = "e" },
]
""")
    clicks = log.cause[log.kind == Kind.CLICK].tolist()
    assert clicks == [
        Cause.AD_CLICK,
        Cause.REPEAT_CLICK,
        Cause.NEW_TAB_CLICK,
        Cause.REPEAT_CLICK,
        Cause.SECOND_AD,
        Cause.AD_CLICK,
    ]
    visits = log.visit[log.kind == Kind.CLICK].tolist()
    assert visits == [0, 0, 0, 0, 0, 1]


def test_untracked_landing_records_the_loss_on_click_and_hit():
    """tag = false keeps the landing row untracked and puts the reason on both rows."""
    log = log_of("""
[[journey]]
name = "a"
steps = [{ at = 10:00:00, do = "click", campaign = "c", tag = false, loss = "no_consent" }]
""")
    assert log.loss.tolist() == [Loss.NO_CONSENT, Loss.NO_CONSENT]
    assert log.tracked.tolist() == [False, False]
    assert len(log.hits) == 0


def test_click_that_never_lands_has_no_landing_row():
    """lands = false: only the click row, with loss not_reached and no visit."""
    log = log_of("""
[[journey]]
name = "a"
steps = [{ at = 10:00:00, do = "click", campaign = "c", lands = false }]
""")
    assert log.kind.tolist() == [Kind.CLICK]
    assert log.loss.tolist() == [Loss.NOT_REACHED]
    assert log.visit.tolist() == [-1]


def test_invalid_click_is_not_counted_nor_charged_but_lands():
    """An invalid click still produces a tracked landing; the ad platform ignores it."""
    log = log_of("""
[[journey]]
name = "a"
steps = [{ at = 10:00:00, do = "click", campaign = "c", cost = 1.0, invalid = true }]
""")
    assert log.counted.tolist() == [False, False]
    assert log.cost.sum() == 0
    assert log.tracked.tolist() == [False, True]


def test_journey_tracking_blocked_untracks_every_hit():
    """tracking = "blocked" applies to every hit of the journey."""
    log = log_of("""
[[journey]]
name = "a"
tracking = "blocked"
steps = [
  { at = 10:00:00, do = "return", via = "direct" },
  { after = "1m", do = "view" },
  { after = "1m", do = "convert", value = 10.0 },
]
""")
    assert not log.tracked.any()
    assert set(log.loss.tolist()) == {Loss.BLOCKED}


def test_clear_cookies_and_devices_make_new_users_for_the_same_person():
    """Cookies are per device and per generation; the person stays the same."""
    log = log_of("""
[[journey]]
name = "a"
steps = [
  { at = 10:00:00, do = "return", via = "direct" },
  { after = "1m", do = "clear_cookies" },
  { after = "1m", do = "view" },
  { after = "1m", do = "view", device = "tablet" },
]
""")
    assert len(set(log.user.tolist())) == 3
    assert set(log.person.tolist()) == {0}


def test_count_makes_distinct_people_and_sorted_log():
    """count copies are different people; the log is sorted by (user, ts)."""
    log = log_of("""
[[journey]]
name = "a"
count = 3
steps = [{ at = 10:00:00, do = "return", via = "organic" }, { after = "1m", do = "reload" }]
""")
    assert sorted(set(log.person.tolist())) == [0, 1, 2]
    key = log.user * 10**13 + log.ts
    assert np.all(np.diff(key) >= 0)
    assert log.cause.tolist() == [Cause.ORGANIC, Cause.RELOAD] * 3
    assert set(COLUMNS) == set(log.columns)
    assert log.meta["people"] == 3
    assert log.meta["visits"] == 3


def test_conversion_carries_value_units_and_page():
    """A conversion is a hit with its value and units, on the page where it happened."""
    log = log_of("""
[[journey]]
name = "a"
steps = [
  { at = 10:00:00, do = "return", via = "email", page = "offer" },
  { after = "2m", do = "convert", value = 49.5, units = 2 },
]
""")
    conv = log.kind == Kind.CONVERSION
    assert log.value[conv].tolist() == [49.5]
    assert log.units[conv].tolist() == [2]
    assert log.pages[log.page[conv][0]] == "offer"


def test_same_scenario_gives_identical_logs():
    """Simulation is deterministic: two runs give equal columns."""
    text = """
[[journey]]
name = "a"
count = 5
steps = [{ at = 10:00:00, do = "click", campaign = "c", load = "2s" }, { after = "1m", do = "view" }]
"""
    one, two = log_of(text), log_of(text)
    for name in COLUMNS:
        assert np.array_equal(one.columns[name], two.columns[name]), name

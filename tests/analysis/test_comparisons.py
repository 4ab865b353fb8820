"""Definition A -> B and day-by-day bridges (simulator.analysis.comparisons) on hand-worked journeys."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import loads_scenario, run_log, simulate
from simulator.analysis.bridges import Term
from simulator.analysis.comparisons import compare_definitions, compare_vocabulary, local_days
from simulator.sessions import Definition, SplitCause
from simulator.sessions.rules import Inactivity
from tests.conftest import scenario_text

MIN = 60_000
#: Zones with DST both ways, 45- and 30-minute offsets and a 30-minute DST shift.
ZONES = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)


def _ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def _log(journeys: str, **kwargs):
    return simulate(loads_scenario(scenario_text(journeys, **kwargs)))


GAPS = """
[[journey]]
name = "gaps"
steps = [
  { at = 10:00:00, do = "click", campaign = "a" },
  { after = "30m", do = "view", note = "exactly the timeout" },
  { after = "45m", do = "view" },
  { after = "3h", do = "view" },
]
"""


def test_ga4_to_salesreach_merges_the_45_minute_pause():
    """ga4 splits after 45 and 180 minutes; salesreach's 2 hours only after 180: one merged split."""
    result = run_log(_log(GAPS), ("ga4", "salesreach"))
    (comp,) = result.comparisons
    assert (comp.a, comp.b) == ("ga4", "salesreach")
    assert comp.bridge.start == 3
    assert comp.bridge.terms == (Term("merged_inactivity", -1),)
    assert comp.bridge.end == 2


def test_boundary_new_splits_at_exactly_the_timeout():
    """Ad-hoc definitions: the same 30 minutes, 'new' at the boundary splits the exact 30-minute gap."""
    same = Definition("same30", (Inactivity(30 * MIN, "same"),), "")
    new = Definition("new30", (Inactivity(30 * MIN, "new"),), "")
    result = run_log(_log(GAPS), (same, new))
    (comp,) = result.comparisons
    assert comp.bridge.terms == (Term("split_inactivity", 1),)
    assert (comp.bridge.start, comp.bridge.end) == (3, 4)
    assert result.definitions["new30"].counts.sessions == 4


def test_compare_names_each_side_by_its_own_rule():
    """B-only starts are named by B's rule (+), A-only starts by A's rule (-)."""
    a = np.array([1, 0, 0, 2, 0, 1], dtype=np.int8)
    b = np.array([1, 3, 0, 0, 4, 1], dtype=np.int8)
    bridge = compare_definitions(a, b).bridge
    assert bridge.terms == (
        Term("split_midnight", 1),
        Term("split_campaign_change", 1),
        Term("merged_inactivity", -1),
    )
    assert (bridge.start, bridge.end) == (3, 4)


def test_compare_vocabulary_covers_every_split_cause():
    """Every SplitCause has a split_ and a merged_ meaning naming both definitions."""
    vocab = compare_vocabulary("ga4", "ua")
    for cause in SplitCause:
        if cause is SplitCause.CONTINUES:
            continue
        assert "ga4" in vocab[f"split_{cause.label}"]
        assert "ua" in vocab[f"merged_{cause.label}"]


def test_compare_rejects_misaligned_splits():
    """Split arrays of different hits cannot be compared."""
    with pytest.raises(ValueError, match="differ in shape"):
        compare_definitions(np.zeros(2, np.int8), np.zeros(3, np.int8))


def test_local_days_across_dst_changes():
    """New York days start at 05:00 UTC in winter and 04:00 UTC in summer, on both DST days."""
    ts = np.array(
        [
            _ms("2024-03-10T04:59:59.999+00:00"),  # 23:59:59.999 EST, March 9
            _ms("2024-03-10T05:00:00+00:00"),  # midnight EST, March 10 (clocks spring forward at 2:00)
            _ms("2024-03-11T03:59:59+00:00"),  # 23:59:59 EDT, March 10: a 23-hour day
            _ms("2024-03-11T04:00:00+00:00"),  # March 11
            _ms("2024-11-03T03:59:00+00:00"),  # 23:59 EDT, November 2
            _ms("2024-11-04T04:59:00+00:00"),  # 23:59 EST, November 3: a 25-hour day
        ]
    )
    days = [dt.date.fromordinal(d).isoformat() for d in local_days(ts, "America/New_York")]
    assert days == ["2024-03-09", "2024-03-10", "2024-03-10", "2024-03-11", "2024-11-02", "2024-11-03"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 2_000_000_000_000), min_size=1, max_size=40),
    st.sampled_from(
        [
            "UTC",
            "America/New_York",
            "Europe/Berlin",
            "Asia/Kathmandu",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
        ]
    ),
)
def test_local_days_matches_a_per_row_zoneinfo_conversion(ts, zone):
    """local_days equals converting each timestamp with zoneinfo one by one (odd offsets, DST)."""
    expected = [dt.datetime.fromtimestamp(t / 1000, ZoneInfo(zone)).date().toordinal() for t in ts]
    assert local_days(np.array(ts, dtype=np.int64), zone).tolist() == expected


def test_daily_bridge_shows_the_timezone_shift():
    """A 22:30 click in Los Angeles is on the next day in New York: +1 / -1 timezone_shift."""
    journeys = """
[[journey]]
name = "day"
steps = [{ at = 10:00:00, do = "click", campaign = "a" }]

[[journey]]
name = "night"
steps = [{ at = 22:30:00, do = "click", campaign = "a" }, { after = "5m", do = "view" }]
"""
    log = _log(journeys, timezone="America/Los_Angeles")
    result = run_log(log, ("ga4",), timezone="America/Los_Angeles", ad_timezone="America/New_York")
    days = result.definitions["ga4"].days
    assert [d.day.isoformat() for d in days] == ["2024-05-01", "2024-05-02"]
    assert (days[0].bridge.start, days[0].bridge.terms, days[0].bridge.end) == (
        1,
        (Term("timezone_shift", 1),),
        2,
    )
    assert (days[1].bridge.start, days[1].bridge.terms, days[1].bridge.end) == (
        1,
        (Term("timezone_shift", -1),),
        0,
    )


def test_daily_bridge_moves_a_landing_after_midnight():
    """A click at 23:59:59 whose page loads at 00:00:01 is a click on day 1 and a session on day 2;
    a repeat click at 23:59:59 that joins a session stays a -1 on day 1."""
    journeys = """
[[journey]]
name = "late loader"
steps = [{ at = 23:59:59, do = "click", campaign = "a", load = "2s" }]

[[journey]]
name = "late repeat"
steps = [
  { at = 23:50:00, do = "click", campaign = "a" },
  { at = 23:59:59, do = "click", campaign = "a", load = "2s" },
]
"""
    result = run_log(_log(journeys), ("ga4",))
    day1, day2 = result.definitions["ga4"].days
    assert (day1.bridge.start, day1.bridge.end) == (3, 1)
    assert {t.cause: t.delta for t in day1.bridge.terms} == {"repeat_click": -1, "landed_next_day": -1}
    assert (day2.bridge.start, day2.bridge.terms, day2.bridge.end) == (0, (Term("landed_next_day", 1),), 1)
    assert result.definitions["ga4"].bridge.term("landed_next_day") == 0

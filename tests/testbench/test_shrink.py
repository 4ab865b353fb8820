"""Delta debugging and classification on hand-made timelines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.testbench.classify import RuleParams, classify, rule_params
from simulator.testbench.shrink import ddmin

GA4 = RuleParams(timeouts_ms=(1_800_000,))
MIDNIGHT_NY = int(dt.datetime(2024, 6, 2, tzinfo=dt.timezone(dt.timedelta(hours=-4))).timestamp() * 1000)


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(0, 39), min_size=1, max_size=4))
def test_ddmin_finds_exactly_the_needed_items(needed):
    """When a failure needs a set of items, ddmin returns exactly that set."""
    calls = []

    def holds(batch):
        calls.append(len(batch))
        return [needed <= set(c) for c in batch]

    assert sorted(ddmin(list(range(40)), holds)) == sorted(needed)


def test_rule_params_of_ga4():
    """ga4: one 30-minute timeout, no midnight, no campaign, no caps."""
    assert rule_params("ga4") == GA4


def _cls(ts, ref, cand, camp=None, cand_sorted=None):
    ts = np.array(ts, dtype=np.int64)
    camp = np.array(camp or [""] * len(ts))
    found = classify(
        ts,
        camp,
        np.array(ref),
        np.array(cand),
        params=GA4,
        timezone="America/New_York",
        cand_sorted=cand_sorted,
    )
    return found and (found.cls, found.alternatives)


@pytest.mark.parametrize(
    ("ts", "ref", "cand", "camp", "expected"),
    [
        ([0, 1_800_000], [0, 0], [0, 1], None, ("boundary", ())),
        ([0, 1_800_001], [0, 1], [0, 0], None, ("other", ())),
        ([0, 60_000, 60_000], [0, 0, 0], [0, 0, 1], None, ("ties", ())),
        ([0, 60_000], [0, 0], [0, 1], ["", "spring"], ("campaign", ())),
        ([MIDNIGHT_NY - 60_000, MIDNIGHT_NY + 60_000], [0, 0], [0, 1], None, ("midnight", ())),
        ([MIDNIGHT_NY - 60_000, MIDNIGHT_NY + 1_740_000], [0, 0], [0, 1], None, ("boundary", ("midnight",))),
        ([0, 60_000], [0, 0], [0, 0], None, None),
    ],
)
def test_classify_hand_worked_rows(ts, ref, cand, camp, expected):
    """Each class from its smallest example; an exact-timeout gap across midnight is ambiguous."""
    assert _cls(ts, ref, cand, camp) == expected


def test_ordering_needs_the_sorted_run_to_agree():
    """Rows out of order that agree when sorted are an ordering difference."""
    got = _cls([2_000_000, 0], [1, 0], [0, 0], cand_sorted=np.array([1, 0]))
    assert got == ("ordering", ())


def test_a_split_inside_a_steady_session_is_a_max_duration_difference():
    """Reference cuts a session of 5-minute gaps after 4 h (a cap rule); the candidate does not."""
    ts = np.arange(0, 5 * 3_600_000, 300_000, dtype=np.int64)
    ref = (ts >= 4 * 3_600_000).astype(np.int64)
    params = RuleParams(timeouts_ms=(1_800_000,), caps=("max_duration",))
    found = classify(
        ts, np.full(len(ts), ""), ref, np.zeros(len(ts), np.int64), params=params, timezone="UTC"
    )
    assert (found.cls, found.row) == ("max_duration", 48)
    assert found.detail == "the reference ends a session after 4h and 48 events"

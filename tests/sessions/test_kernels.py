"""Kernels against the per-event reference on random logs: ties, exact boundaries, midnight, DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.sessions import kernels
from simulator.sessions.kernels import Columns, local_days, split_causes
from simulator.sessions.presets import PRESETS
from simulator.sessions.rules import (
    CampaignChange,
    FixedWindow,
    Inactivity,
    MaxDuration,
    MaxEvents,
    Midnight,
    SplitCause,
)
from tests.sessions.reference import local_date, reference_causes

MIN, HOUR, DAY = 60_000, 3_600_000, 86_400_000
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo")


def _utc(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=dt.UTC).timestamp() * 1000)


#: Instants just before interesting moments: DST starts and ends (Berlin, New York), local
#: midnights, Lord Howe's 30-minute DST, and Sao Paulo's DST change at midnight (the date repeats).
BASES = (
    _utc(2024, 3, 31, 0, 30),  # Berlin: clocks jump 02:00 -> 03:00 at 01:00 UTC
    _utc(2024, 10, 27, 0, 30),  # Berlin: 03:00 -> 02:00 at 01:00 UTC
    _utc(2024, 3, 10, 6, 30),  # New York: 02:00 -> 03:00 at 07:00 UTC
    _utc(2024, 11, 3, 5, 30),  # New York: 02:00 -> 01:00 at 06:00 UTC
    _utc(2024, 6, 1, 21, 50),  # 23:50 in Berlin (CEST)
    _utc(2024, 1, 1, 4, 50),  # 23:50 in New York (EST)
    _utc(2024, 4, 6, 14, 30),  # Lord Howe: 02:00 -> 01:30 at 15:00 UTC
    _utc(2019, 2, 17, 1, 30),  # Sao Paulo: 00:00 -> 23:00 of the day before, at 02:00 UTC
    _utc(2018, 11, 4, 2, 30),  # Sao Paulo: 00:00 -> 01:00 at 03:00 UTC
    _utc(2024, 5, 1, 23, 50),  # 23:50 UTC
)
GAPS = (0, 0, 1, 10 * MIN, 30 * MIN - 1, 30 * MIN, 30 * MIN + 1, HOUR, 2 * HOUR, 12 * HOUR, DAY - 1, DAY)

gaps = st.one_of(st.sampled_from(GAPS), st.integers(0, 3 * HOUR))
user_logs = st.lists(
    st.tuples(st.sampled_from(BASES), st.lists(st.tuples(gaps, st.integers(-1, 2)), min_size=1, max_size=14)),
    min_size=1,
    max_size=5,
)
durations = st.sampled_from((30 * MIN, HOUR, 2 * HOUR, DAY))
rules = st.one_of(
    st.builds(Inactivity, st.sampled_from((10 * MIN, 30 * MIN, 2 * HOUR)), st.sampled_from(("same", "new"))),
    st.builds(Midnight, st.sampled_from((None, *ZONES))),
    st.builds(MaxDuration, durations, st.sampled_from(("same", "new"))),
    st.builds(FixedWindow, durations, st.sampled_from(("same", "new"))),
    st.builds(MaxEvents, st.integers(1, 5)),
    st.builds(CampaignChange, st.sampled_from(("adopt", "split"))),
)


def _columns(logs: list) -> Columns:
    user, ts, camp = [], [], []
    for u, (base, events) in enumerate(logs):
        t = base
        for gap, c in events:
            t += gap
            user.append(u)
            ts.append(t)
            camp.append(c)
    return Columns(np.array(user, np.int64), np.array(ts, np.int64), np.array(camp, np.int32))


@pytest.fixture(
    params=[(0, 3), (1, 7), (kernels.ROUNDS, kernels.BLOCK)], ids=lambda p: f"rounds={p[0]},block={p[1]}"
)
def rounds(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Also run with 0 and 1 vectorised rounds (pointer doubling finishes), tiny stateless blocks,
    tiny blocks of segments in the first round, and every binary search split into short and long."""
    if request.param[0] < kernels.ROUNDS:
        monkeypatch.setattr(kernels, "_LONG_SEARCH", 2)
    monkeypatch.setattr(kernels, "ROUNDS", request.param[0])
    monkeypatch.setattr(kernels, "BLOCK", request.param[1])
    monkeypatch.setattr(kernels, "SEGMENTS", request.param[1])
    return request.param[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(logs=user_logs, definition=st.lists(rules, min_size=1, max_size=4), tz=st.sampled_from(ZONES))
def test_random_rule_lists_match_reference(logs: list, definition: list, tz: str, rounds: int) -> None:
    """Any rule combination gives the reference's causes on every row, in every kernel path."""
    cols = _columns(logs)
    got = split_causes(cols, definition, tz)
    want = reference_causes(cols.user.tolist(), cols.ts.tolist(), cols.campaign.tolist(), definition, tz)
    assert got.tolist() == want


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(logs=user_logs, name=st.sampled_from(sorted(PRESETS)), tz=st.sampled_from(ZONES))
def test_every_preset_matches_reference(logs: list, name: str, tz: str, rounds: int) -> None:
    """Each preset gives the reference's causes on random logs."""
    cols = _columns(logs)
    rules_ = PRESETS[name].rules
    got = split_causes(cols, rules_, tz)
    want = reference_causes(cols.user.tolist(), cols.ts.tolist(), cols.campaign.tolist(), rules_, tz)
    assert got.tolist() == want


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(-3 * DAY, 3 * DAY), min_size=1, max_size=50),
    base=st.sampled_from(BASES),
    tz=st.sampled_from(ZONES),
)
def test_local_days_match_zoneinfo_dates(offsets: list, base: int, tz: str) -> None:
    """The vectorised local day equals the zoneinfo date of every instant, DST days included."""
    ts = np.array(sorted(base + o for o in offsets), dtype=np.int64)
    epoch = dt.date(1970, 1, 1)
    want = [(local_date(t, tz) - epoch).days for t in ts.tolist()]
    assert local_days(ts, tz).tolist() == want


def test_heavy_user_max_events_uses_doubling_and_matches_closed_form() -> None:
    """One user with 10,000 events under max_events(2): a cut every second row, labelled max_events."""
    n = 10_000
    cols = Columns(np.zeros(n, np.int64), np.arange(n, dtype=np.int64) * 1000)
    causes = split_causes(cols, [MaxEvents(2)])
    assert causes[0] == SplitCause.NEW_USER
    assert (causes[2::2] == SplitCause.MAX_EVENTS).all()
    assert (causes[1::2] == SplitCause.CONTINUES).all()


def test_stateful_rule_listed_first_names_a_shared_start() -> None:
    """When max_duration and inactivity fire on the same row, the rule listed first names it."""
    cols = Columns(np.zeros(2, np.int64), np.array([0, 2 * HOUR], np.int64))
    first = split_causes(cols, [MaxDuration(HOUR), Inactivity(30 * MIN)])
    second = split_causes(cols, [Inactivity(30 * MIN), MaxDuration(HOUR)])
    assert first.tolist() == [SplitCause.NEW_USER, SplitCause.MAX_DURATION]
    assert second.tolist() == [SplitCause.NEW_USER, SplitCause.INACTIVITY]


def test_empty_log_gives_empty_causes() -> None:
    """No rows, no causes, for stateless and stateful rules alike."""
    cols = Columns(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
    assert split_causes(cols, PRESETS["matomo"].rules, "Europe/Berlin").tolist() == []


def test_heavy_user_max_duration_mixes_long_and_short_searches() -> None:
    """A 600-event user (one long binary search) next to short users: a cut every 60 minutes."""
    heavy = np.arange(600, dtype=np.int64) * MIN
    light = np.array([0, 50 * MIN, 70 * MIN, 3 * HOUR], dtype=np.int64)
    cols = Columns(np.repeat(np.arange(4), [600, 4, 4, 4]), np.concatenate((heavy, light, light, light)))
    causes = split_causes(cols, [MaxDuration(HOUR)])
    want = reference_causes(cols.user.tolist(), cols.ts.tolist(), None, [MaxDuration(HOUR)])
    assert causes.tolist() == want
    assert np.flatnonzero(causes[:600]).tolist() == list(range(0, 600, 60))


def test_gap_of_the_window_is_named_by_the_rule_listed_first() -> None:
    """A 2-day gap ends a 24-hour window, but max_events(2), listed first, names the shared start."""
    cols = Columns(np.zeros(3, np.int64), np.array([0, MIN, 2 * DAY], np.int64))
    first = split_causes(cols, [MaxEvents(2), FixedWindow(DAY)])
    second = split_causes(cols, [FixedWindow(DAY), MaxEvents(2)])
    assert first.tolist() == [SplitCause.NEW_USER, SplitCause.CONTINUES, SplitCause.MAX_EVENTS]
    assert second.tolist() == [SplitCause.NEW_USER, SplitCause.CONTINUES, SplitCause.FIXED_WINDOW]


@pytest.mark.parametrize(
    "day", [dt.datetime(1, 1, 5, 12, tzinfo=dt.UTC), dt.datetime(9999, 12, 25, tzinfo=dt.UTC)]
)
def test_local_days_at_the_ends_of_the_calendar(day: dt.datetime) -> None:
    """Times in years 1 and 9999 get local days (offsets are looked up inside datetime's range)."""
    ms = (day - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(milliseconds=1)
    ts = np.array([ms, ms + 3_600_000], dtype=np.int64)
    zone = "Pacific/Kiritimati"
    offset = int(day.astimezone(ZoneInfo(zone)).utcoffset().total_seconds() * 1000)
    assert local_days(ts, zone).tolist() == ((ts + offset) // 86_400_000).tolist()


@pytest.mark.parametrize(
    ("rule", "cause"), [(MaxDuration, SplitCause.MAX_DURATION), (FixedWindow, SplitCause.FIXED_WINDOW)]
)
def test_elapsed_boundary_at_exactly_the_limit(rule, cause) -> None:
    """Events 0, limit - 1, limit, limit + 1 ms after the first: 'new' splits at the limit, 'same' after."""
    ts = np.array([0, HOUR - 1, HOUR, HOUR + 1], np.int64)
    cols = Columns(np.zeros(4, np.int64), ts, None)
    assert split_causes(cols, [rule(HOUR)]).tolist() == [SplitCause.NEW_USER, 0, cause, 0]
    assert split_causes(cols, [rule(HOUR, "new")]).tolist() == [SplitCause.NEW_USER, 0, cause, 0]
    assert split_causes(cols, [rule(HOUR, "same")]).tolist() == [SplitCause.NEW_USER, 0, 0, cause]
    # A lone gap of exactly the limit (the stateless stand-in) follows the boundary too.
    two = Columns(np.zeros(2, np.int64), np.array([0, HOUR], np.int64), None)
    assert split_causes(two, [rule(HOUR, "same")]).tolist() == [SplitCause.NEW_USER, 0]
    assert split_causes(two, [rule(HOUR, "new")]).tolist() == [SplitCause.NEW_USER, cause]

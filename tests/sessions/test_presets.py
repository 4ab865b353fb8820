"""Each platform's documented examples, hand-worked (docs/domain.md), through the public ``sessionize``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from simulator import sessionize
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.presets import PRESETS
from simulator.sessions.rules import SplitCause

MIN, HOUR = 60_000, 3_600_000
C = SplitCause


def _at(*times: str, tz: str = "UTC") -> np.ndarray:
    """Epoch ms of local ISO times in ``tz``."""
    zone = ZoneInfo(tz)
    return np.array(
        [int(dt.datetime.fromisoformat(t).replace(tzinfo=zone).timestamp() * 1000) for t in times],
        dtype=np.int64,
    )


def _causes(definition: str, ts: np.ndarray, campaign: list | None = None, tz: str = "UTC") -> list:
    camp = None if campaign is None else np.array(campaign)
    definition_ = parse_definition_spec(definition) if ":" in definition else definition
    _, causes = sessionize(np.zeros(len(ts), np.int64), ts, definition_, camp, timezone=tz, with_causes=True)
    return causes.tolist()


def test_ua_lunch_break_of_31_minutes_splits() -> None:
    """UA: 'a 31-minute lunch break' ends the session; 29 minutes does not (answer 2731565)."""
    assert _causes("universal_analytics", _at("2024-05-01T12:00", "2024-05-01T12:31")) == [
        C.NEW_USER,
        C.INACTIVITY,
    ]
    assert _causes("universal_analytics", _at("2024-05-01T12:00", "2024-05-01T12:29")) == [C.NEW_USER, 0]


def test_ua_splits_at_midnight_and_on_a_new_campaign() -> None:
    """UA: midnight in the view's zone ends a session; so does coming back via another campaign."""
    ts = _at("2024-05-01T23:50", "2024-05-02T00:05", tz="Europe/London")
    assert _causes("universal_analytics", ts, tz="Europe/London") == [C.NEW_USER, C.MIDNIGHT]
    ts = _at("2024-05-01T10:00", "2024-05-01T10:05", "2024-05-01T10:10", "2024-05-01T10:15")
    assert _causes("universal_analytics", ts, [0, -1, 0, 1]) == [C.NEW_USER, 0, 0, C.CAMPAIGN_CHANGE]


def test_mixpanel_1150pm_and_1205am_are_two_sessions() -> None:
    """Mixpanel: events at 11:50 pm and 12:05 am are two sessions, in the project's time zone."""
    ts = _at("2024-03-09T23:50", "2024-03-10T00:05", tz="America/New_York")
    assert _causes("mixpanel", ts, tz="America/New_York") == [C.NEW_USER, C.MIDNIGHT]
    assert _causes("mixpanel", ts, tz="UTC") == [C.NEW_USER, 0]  # 04:50 and 05:05 UTC
    assert _causes("ga4", ts, tz="America/New_York") == [C.NEW_USER, 0]  # GA4 does not split


def test_mixpanel_15_minute_timeout_example() -> None:
    """Mixpanel with a 15-min timeout: a 14-min gap is 'within', a 16-min gap is a break."""
    ts = _at("2024-05-01T10:00", "2024-05-01T10:14", "2024-05-01T10:30")
    assert _causes("mixpanel:timeout=15m", ts) == [C.NEW_USER, 0, C.INACTIVITY]


def test_matomo_is_strict_at_1800_seconds() -> None:
    """Matomo: same visit only if the last action was < 1800 s ago; GA4 keeps exactly 30 min."""
    ts = np.array([0, 1_800_000, 1_800_000 + 1_799_999], dtype=np.int64) + 1_700_000_000_000
    assert _causes("matomo", ts) == [C.NEW_USER, C.INACTIVITY, 0]
    assert _causes("ga4", ts) == [C.NEW_USER, 0, 0]
    assert _causes("ga4:boundary=new", ts) == [C.NEW_USER, C.INACTIVITY, 0]


def test_matomo_counts_absent_to_present_campaign_as_a_change() -> None:
    """Matomo: a direct visit then a campaign arrival is two visits; UA adopts the campaign."""
    ts = _at("2024-05-01T10:00", "2024-05-01T10:05", "2024-05-01T10:06")
    assert _causes("matomo", ts, [-1, 3, -1]) == [C.NEW_USER, C.CAMPAIGN_CHANGE, 0]
    assert _causes("universal_analytics", ts, [-1, 3, -1]) == [C.NEW_USER, 0, 0]


def test_adobe_ends_a_visit_after_12_hours_of_activity() -> None:
    """Adobe: 13 h of hits 20 min apart is two visits; the hit at 12 h opens the second."""
    ts = np.arange(0, 13 * HOUR + 1, 20 * MIN, dtype=np.int64) + 1_700_000_000_000
    causes = _causes("adobe_analytics", ts)
    assert causes.count(C.MAX_DURATION) == 1
    assert causes.index(C.MAX_DURATION) == 36  # 36 * 20 min = 12 h


def test_adobe_does_not_split_at_midnight() -> None:
    """Adobe: a visit from 11:45 pm to 12:30 am is one visit."""
    ts = _at("2024-12-01T23:45", "2024-12-02T00:00", "2024-12-02T00:15", "2024-12-02T00:30")
    assert _causes("adobe_analytics", ts, tz="America/New_York") == [C.NEW_USER, 0, 0, 0]


def test_adobe_hit_cap_of_2500() -> None:
    """Adobe: hit 2,501 of a visit starts a new one."""
    ts = np.arange(2600, dtype=np.int64) * 10_000
    causes = _causes("adobe_analytics", ts)
    assert [i for i, c in enumerate(causes) if c] == [0, 2500]


def test_posthog_caps_sessions_at_24_hours() -> None:
    """PostHog: 25 h of activity every 20 min is two sessions."""
    ts = np.arange(0, 25 * HOUR, 20 * MIN, dtype=np.int64)
    assert _causes("posthog", ts).count(C.MAX_DURATION) == 1


def test_posthog_keeps_an_event_exactly_24_hours_after_the_first() -> None:
    """posthog-js sessionid.ts: a session ends only when it is MORE than 24 h old."""
    ts = np.concatenate([np.arange(0, 24 * HOUR + 1, 20 * MIN, dtype=np.int64), [24 * HOUR + 1]])
    causes = _causes("posthog", ts)
    assert ts[-2] == 24 * HOUR
    assert causes[-2] == 0
    assert causes[-1] == C.MAX_DURATION  # 1 ms more: a new one
    assert causes.count(C.MAX_DURATION) == 1


def test_amazon_window_is_24_hours_from_the_first_visit() -> None:
    """Amazon: visits at 09:00, 20:00 and 08:59 next day are one session; 09:00 next day is another."""
    ts = _at("2024-05-01T09:00", "2024-05-01T20:00", "2024-05-02T08:59", "2024-05-02T09:00")
    assert _causes("amazon", ts) == [C.NEW_USER, 0, 0, C.FIXED_WINDOW]


def test_salesreach_two_hour_rolling_window() -> None:
    """SalesReach: back after 25 min is the same session; back the next day is a new one."""
    ts = _at("2024-03-04T10:05", "2024-03-04T10:32", "2024-03-05T10:30")
    assert _causes("salesreach", ts) == [C.NEW_USER, 0, C.INACTIVITY]


def test_snowplow_caps_at_three_days() -> None:
    """Snowplow (dbt): a session of hits every 25 min ends after max_session_days = 3."""
    ts = np.arange(0, 4 * 24 * HOUR, 25 * MIN, dtype=np.int64)
    assert _causes("snowplow", ts).count(C.MAX_DURATION) == 1


@pytest.mark.parametrize("name", ["ga4", "amplitude", "plausible"])
def test_thirty_minute_platforms_do_not_split_at_midnight_or_on_campaign(name: str) -> None:
    """GA4, Amplitude, Plausible: 30 min of inactivity, nothing else."""
    ts = _at("2024-05-01T23:50", "2024-05-02T00:05", "2024-05-02T00:36")
    assert _causes(name, ts, [0, 1, 1], tz="Europe/Berlin") == [C.NEW_USER, 0, C.INACTIVITY]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_cites_its_sources(name: str) -> None:
    """Every preset has a summary and at least one source tagged [P] or [S]."""
    preset = PRESETS[name]
    assert preset.summary
    assert preset.sources
    assert all(s.startswith(("[P]", "[S]")) for s in preset.sources)

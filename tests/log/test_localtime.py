"""Local calendar buckets of UTC timestamps, checked against zoneinfo one timestamp at a time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from simulator.log.localtime import local_day, local_hour, local_weekday, utc_of_local, utc_offset_ms


def _reference(ts: int, tz: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts / 1000, dt.UTC).astimezone(ZoneInfo(tz))


@pytest.mark.parametrize(
    "tz", ["Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe", "Asia/Kolkata", "UTC"]
)
def test_vectorised_buckets_match_zoneinfo_across_dst(tz):
    """Around DST changes (including Lord Howe's 30-minute one) every bucket matches zoneinfo."""
    rng = np.random.default_rng(5)
    spring, autumn = 1711846800000, 1729990800000  # 2024-03-31 and 2024-10-27, 01:00 UTC
    ts = np.concatenate(
        [
            spring + rng.integers(-2 * 86_400_000, 2 * 86_400_000, 3000),
            autumn + rng.integers(-2 * 86_400_000, 2 * 86_400_000, 3000),
            rng.integers(1_704_067_200_000, 1_735_689_600_000, 3000),  # 2024
            np.array([1712413800000, 1712415600000, 1712417400000]),  # Lord Howe's 2024-04-07 change
        ]
    )
    offsets = utc_offset_ms(ts, tz)
    days, hours, weekdays = local_day(ts, tz), local_hour(ts, tz), local_weekday(ts, tz)
    for i in range(0, len(ts), 7):
        ref = _reference(int(ts[i]), tz)
        assert offsets[i] == ref.utcoffset().total_seconds() * 1000
        assert str(days[i]) == ref.date().isoformat()
        assert hours[i] == ref.hour
        assert weekdays[i] == ref.weekday()


def test_one_instant_is_on_different_days_in_different_zones():
    """22:00 UTC on 1 May is already 2 May in Berlin and still 1 May in Los Angeles."""
    ts = np.array([1714600800000])
    assert local_day(ts, "Europe/Berlin").astype(str).tolist() == ["2024-05-02"]
    assert local_day(ts, "America/Los_Angeles").astype(str).tolist() == ["2024-05-01"]


def test_utc_of_local_handles_the_short_night():
    """Local 01:00 and 03:00 on Berlin's spring-forward day are one hour apart in UTC."""
    day = dt.date(2024, 3, 31)
    assert utc_of_local(day, 3, "Europe/Berlin") - utc_of_local(day, 1, "Europe/Berlin") == 3_600_000


def test_empty_input_gives_empty_output():
    """No timestamps, no buckets."""
    assert local_day(np.array([], dtype=np.int64), "UTC").shape == (0,)

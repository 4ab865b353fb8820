"""Slicing a run by day and campaign."""

from __future__ import annotations

import datetime as dt

import pytest

from simulator.analysis.result import run
from simulator.analysis.segments import day_bounds, segment
from simulator.scenario.loader import load_scenario

HOUR = 3_600_000


@pytest.mark.parametrize(
    ("day", "hours"),
    [(dt.date(2024, 3, 31), 23), (dt.date(2024, 10, 27), 25), (dt.date(2024, 6, 1), 24)],
)
def test_day_bounds_follow_daylight_saving(day: dt.date, hours: int) -> None:
    """A local day in Berlin lasts 23 or 25 hours on the DST changes."""
    start, end = day_bounds(day, "Europe/Berlin")
    assert end - start == hours * HOUR
    assert (
        start
        == int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)
        - (2 if day.month in (6, 10) else 1) * HOUR
    )


def test_slices_of_the_amazon_scenario() -> None:
    """May 2 (Los Angeles) holds only the bookmarker's return; raincoat-a has one click and session."""
    result = run(load_scenario("scenarios/amazon_clicks_vs_sessions.toml"))
    tz = {"timezone": "America/Los_Angeles", "ad_timezone": "America/Los_Angeles"}
    may2 = segment(result, day=dt.date(2024, 5, 2), **tz)
    assert (may2.metric("clicks"), may2.metric("sessions", "ga4"), may2.metric("views", "ga4")) == (0, 1, 1)
    may1 = segment(result, day=dt.date(2024, 5, 1), **tz)
    assert may1.metric("sessions", "ga4") + may2.metric("sessions", "ga4") == result.metric("sessions", "ga4")
    tabs = segment(result, campaign="raincoat-a", **tz)
    assert (tabs.metric("clicks"), tabs.metric("sessions", "ga4"), tabs.metric("cost")) == (1, 1, 0.6)
    assert tabs.metric("views", "ga4") == 3  # the session it started holds the two tab landings
    none = segment(result, campaign="never-ran", **tz)
    assert (none.metric("clicks"), none.metric("sessions", "ga4"), none.metric("ctr")) == (0, 0, None)
    with pytest.raises(ValueError, match="bridge terms are not counted per day"):
        tabs.metric("bridge.bookmark", "ga4")

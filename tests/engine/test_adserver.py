"""Ad servers in SimPy: daily budgets, pacing, schedules in the ad account's zone; site slowdown."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engine.adserver import active_minutes, pace, slowdown
from tests._popkit import scenario

_DAY = 1440
_BASE = 1714953600000  # 2024-05-06T00:00:00Z, a Monday


def _campaign(**changes):
    camp = {"name": "s", "share": 1.0, "cpc": 1.0, **changes}
    return scenario(campaign=[camp]).campaigns


def test_accelerated_pacing_serves_everything_until_the_budget_is_spent():
    """Demand of 1 per minute and a budget of 100: minutes 0-99 served in full, nothing after, each day."""
    demand = np.ones((1, 2 * _DAY))
    served = pace(_campaign(daily_budget=100, pacing="accelerated"), demand, _BASE, "UTC")[0]
    for day in range(2):
        today = served[day * _DAY : (day + 1) * _DAY]
        assert today[:100].tolist() == [1.0] * 100
        assert today[100:].sum() == 0
    assert (served * demand[0]).sum() == pytest.approx(200)


def test_standard_pacing_spreads_the_budget_over_the_day():
    """Standard pacing serves the same fraction all day: budget / the day's demand."""
    demand = np.ones((1, _DAY))
    served = pace(_campaign(daily_budget=360, pacing="standard"), demand, _BASE, "UTC")[0]
    assert served == pytest.approx(np.full(_DAY, 0.25))


def test_budget_days_follow_the_ad_account_time_zone():
    """In Los Angeles (UTC-7 in May) the budget refills at 07:00 UTC, not at midnight UTC."""
    demand = np.ones((1, 2 * _DAY))
    served = pace(_campaign(daily_budget=60, pacing="accelerated"), demand, _BASE, "America/Los_Angeles")[0]
    refill = 7 * 60
    assert served[:60].sum() == 60  # the end of Sunday in LA still had its budget
    assert served[60:refill].sum() == 0
    assert served[refill : refill + 60].tolist() == [1.0] * 60


def test_without_a_budget_only_the_schedule_limits_delivery():
    """No budget: every scheduled minute is fully served; outside the schedule nothing."""
    camps = _campaign(schedule={"hours": [9, 17], "weekdays": [1]})
    served = pace(camps, np.ones((1, 2 * _DAY)), _BASE, "UTC")[0]
    assert served[: 9 * 60].sum() == 0
    assert served[9 * 60 : 17 * 60].tolist() == [1.0] * 480
    assert served[17 * 60 :].sum() == 0  # Tuesday is not scheduled
    minutes = _BASE + np.arange(2 * _DAY) * 60_000
    assert active_minutes(camps[0], minutes, "UTC").sum() == 480


def test_slowdown_grows_with_utilisation_and_is_capped():
    """Slowdown is 1 / (1 - load / capacity), capped at 20x; capacity 0 means none."""
    assert slowdown(np.array([0.0, 5.0, 9.0, 50.0]), 10).tolist() == pytest.approx([1.0, 2.0, 10.0, 20.0])
    assert slowdown(np.array([100.0]), 0).tolist() == [1.0]

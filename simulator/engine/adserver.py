"""The shared world of a population: ad budgets and pacing (SimPy), and site load.

Both couple every visitor to every other: once a campaign's daily budget is spent its ads stop for
everyone; the more people land at once, the slower the site. They are simulated over the whole
population's *demand* (what every visitor would click, minute by minute, from the cheap first pass in
:mod:`simulator.engine.population`), so the outcome never depends on how visitors are chunked.

One SimPy process per campaign walks the minutes of the period: at each midnight of the ad account's
time zone it refills the campaign's budget (a ``simpy.Container``), and each minute it takes what the
minute's demand and the pacing allow. The fraction of demand served per minute is what each visitor's
own random draw is compared against later.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from simulator.log.localtime import local_day, local_hour, local_weekday
from simulator.scenario.loader import Campaign

__all__ = ["MINUTE", "active_minutes", "pace", "slowdown"]

MINUTE = 60_000
#: Utilisation at which the site's slowdown stops growing (1 / (1 - 0.95) = 20x).
MAX_UTILISATION = 0.95


def active_minutes(campaign: Campaign, minute_ts: np.ndarray, ad_tz: str) -> np.ndarray:
    """True for the minutes (epoch ms of their start) inside the campaign's schedule, in ``ad_tz``."""
    hour = local_hour(minute_ts, ad_tz)
    weekday = local_weekday(minute_ts, ad_tz) + 1  # ISO: 1 = Monday
    first, end = campaign.hours
    return (hour >= first) & (hour < end) & np.isin(weekday, campaign.weekdays)


def ad_server(
    env: simpy.Environment,
    budget: simpy.Container,
    *,
    demand: np.ndarray,
    active: np.ndarray,
    day_starts: np.ndarray,
    standard: bool,
    served: np.ndarray,
) -> Generator:
    """Serve one campaign's demand minute by minute out of its daily budget; write ``served``."""
    refill_at = set(day_starts.tolist())
    day_ends = np.append(day_starts[1:], len(demand))
    rate = 1.0
    for m in range(len(demand)):
        if m in refill_at:
            if budget.level < budget.capacity:
                yield budget.put(budget.capacity - budget.level)
            if standard:  # spread the day's budget evenly over the day's demand
                end = int(day_ends[np.searchsorted(day_starts, m)])
                wanted = float(demand[m:end][active[m:end]].sum())
                rate = min(1.0, budget.capacity / wanted) if wanted > 0 else 1.0
        if active[m] and budget.level > 0:
            if demand[m] > 0:
                take = min(rate * demand[m], budget.level)
                yield budget.get(take)
                served[m] = take / demand[m]
            else:  # free clicks (filtered invalid ones) are served while the ads run
                served[m] = rate
        yield env.timeout(1)


def pace(campaigns: tuple[Campaign, ...], demand: np.ndarray, base_ms: int, ad_tz: str) -> np.ndarray:
    """The fraction of each campaign's demand served in each minute, shape ``(campaigns, minutes)``.

    Parameters
    ----------
    campaigns
        The scenario's campaigns.
    demand
        Spend each campaign's would-be clicks and impressions ask for, per minute (same shape).
    base_ms
        Epoch ms of minute 0.
    ad_tz
        The ad account's time zone: schedules and budget days follow it.
    """
    n_minutes = demand.shape[1]
    minute_ts = base_ms + np.arange(n_minutes, dtype=np.int64) * MINUTE
    day = local_day(minute_ts, ad_tz)
    day_starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    served = np.zeros(demand.shape, dtype=np.float64)
    env = simpy.Environment()
    for c in campaigns:
        active = active_minutes(c, minute_ts, ad_tz)
        if c.daily_budget is None:
            served[c.index] = active
            continue
        budget = simpy.Container(env, capacity=c.daily_budget, init=c.daily_budget)
        env.process(
            ad_server(
                env,
                budget,
                demand=demand[c.index],
                active=active,
                day_starts=day_starts,
                standard=c.pacing == "standard",
                served=served[c.index],
            )
        )
    env.run()
    return served


def slowdown(landings: np.ndarray, capacity: float) -> np.ndarray:
    """Page-load multiplier per minute: ``1 / (1 - utilisation)``, utilisation = landings / capacity.

    The queueing delay of a server at utilisation rho grows like 1 / (1 - rho); it is capped at
    :data:`MAX_UTILISATION`. A capacity of 0 means unlimited (no slowdown).
    """
    if capacity <= 0:
        return np.ones(len(landings))
    rho = np.minimum(landings / capacity, MAX_UTILISATION)
    return 1.0 / (1.0 - rho)

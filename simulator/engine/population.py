"""A stochastic population: who arrives when and through what, and the plan shared by all chunks.

Three passes, each deterministic and independent of the chunk size:

1. **Demand** (cheap, vectorised): every visitor's arrival schedule -- first arrival from the day and
   hour profiles, returns after delays, the campaign clicked or the unpaid way in, the cost each
   would-be click asks for. Summed per campaign and minute; nothing per visitor is kept.
2. **Shared world** (:mod:`simulator.engine.adserver`): SimPy ad servers spend each campaign's daily budget
   on that demand; the site's slowdown follows the landings per minute.
3. **Visits** (:mod:`simulator.engine.visits`): each block of visitors is drawn again, its arrivals are served
   or not against pass 2, and what happens inside each visit is generated in numpy batches.

Random numbers: visitors are grouped in fixed blocks of :data:`BLOCK`; block ``b`` draws its arrival
schedule from ``SeedSequence(seed, spawn_key=(b, 0))`` and its visits from ``(b, 1)``. Chunks are
whole blocks, so ``--chunk-size`` only changes how many blocks are written at once, never a number.
A generator per visitor would be simpler to explain but costs ~20-40 us per visitor (measured in
``benchmarks/bench_simulate.py --design``), more than the whole visit costs in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from simulator.engine.adserver import MINUTE, active_minutes, pace, slowdown
from simulator.log.events import Cause
from simulator.log.localtime import utc_of_local
from simulator.scenario.loader import Scenario

__all__ = ["BLOCK", "Arrivals", "Plan", "draw_arrivals", "make_plan", "pilot_plan", "rng_for"]

#: Visitors per random-number block (the unit of determinism). Chunk sizes are rounded up to it.
BLOCK = 8192
#: At most this many returns per person.
MAX_RETURNS = 20
#: Bytes of block schedules the demand pass keeps for the visit pass (which would draw them again):
#: a constant, so memory stays flat however many visitors (~1.8 MB per block of 8,192 visitors).
SCHEDULE_CACHE = 64 << 20
_HOUR = 3_600_000

#: Unpaid first arrivals, in the order of [population] unpaid.
UNPAID_CAUSES = np.array([Cause.ORGANIC, Cause.DIRECT, Cause.REFERRAL, Cause.EMAIL], dtype=np.int8)
#: Return ways, in the order of [behavior] return_via (campaign is resolved to an ad click).
RETURN_CAUSES = np.array([Cause.BOOKMARK, Cause.DIRECT, Cause.ORGANIC, Cause.AD_CLICK], dtype=np.int8)


def rng_for(seed: int, block: int, stream: int) -> np.random.Generator:
    """The generator of one block's stream (0 = arrivals, 1 = visits), derived from the seed."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block, stream))))


def _cdf(weights: tuple[float, ...] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w) / w.sum()
    cdf[-1] = 1.0
    return cdf


def _pick(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(cdf, rng.random(n), side="right").astype(np.int64)


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything shared by all chunks of one run: the period, the profiles and the world's state."""

    scenario: Scenario
    seed: int
    visitors: int
    base_ms: int  # start of the period: local midnight of the start date, population time zone
    end_ms: int
    slot_ms: np.ndarray  # UTC start of each local hour of the period
    slot_cdf: np.ndarray  # arrival probability of each hour, cumulated
    pages: tuple[str, ...]
    served: np.ndarray  # (campaigns, minutes): fraction of demand the ad server served
    slow: np.ndarray  # (minutes,): page-load multiplier from site load
    #: block -> its schedule, drawn by the demand pass and taken (once) by the visit pass; a cache
    #: only: a block not in it is drawn again, with the same numbers
    schedules: dict[int, Schedule] = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_blocks(self) -> int:
        return -(-self.visitors // BLOCK)

    def block_range(self, block: int) -> tuple[int, int]:
        return block * BLOCK, min((block + 1) * BLOCK, self.visitors)


@dataclass(frozen=True, slots=True)
class Arrivals:
    """One block's arrivals: per-person arrays (``n`` rows) and per-arrival arrays, by person and time."""

    first: int  # global index of the block's first person
    n: int
    dev_type: np.ndarray  # (n, 2) Device code of the person's main and other device
    blocked: np.ndarray  # (n, 2) the device's blocker stops analytics
    consent: np.ndarray  # (n, 2) the device granted analytics consent
    itp: np.ndarray  # (n,) script cookies capped
    person: np.ndarray  # local person index of each arrival
    t: np.ndarray  # float64 epoch ms
    minute: np.ndarray  # minute index into the period
    cause: np.ndarray  # AD_CLICK for ad clicks, else the unpaid way in
    campaign: np.ndarray  # -1 unless an ad click
    slot: np.ndarray  # device slot 0/1
    clear: np.ndarray  # cookies cleared before this arrival
    bookmark: np.ndarray  # the visit would bookmark the site
    invalid: np.ndarray  # an invalid click
    counted: np.ndarray  # the ad platform counts the click
    cost: np.ndarray  # what the click costs if counted and billed per click
    n_imp: np.ndarray  # impressions shown up to and including the clicked one
    imp_cost: np.ndarray  # cost of those impressions (billed per impression)
    u_serve: np.ndarray  # compared with the served fraction
    extra_campaign: np.ndarray  # (A, 3) campaign of a repeat click, new-tab click, second ad; -1 none
    extra_cost: np.ndarray  # (A, 3) cost per click of each extra click (each also shows one impression)
    extra_u: np.ndarray  # (A, 3)


def _choose_campaign(rng: np.random.Generator, shares: np.ndarray, n: int) -> np.ndarray:
    if len(shares) == 0 or n == 0:
        return np.full(n, -1, dtype=np.int64)
    weights = shares if shares.sum() > 0 else np.ones(len(shares))
    return _pick(rng, _cdf(weights), n)


def _costs(rng: np.random.Generator, scenario: Scenario, campaign: np.ndarray) -> np.ndarray:
    """A cost-per-click draw for each entry's campaign (0 for -1 and for impression billing)."""
    cost = np.zeros(len(campaign))
    for c in scenario.campaigns:
        at = np.flatnonzero(campaign == c.index)
        if c.cpc is not None and at.size:
            cost[at] = np.maximum(c.cpc.sample(rng, at.size), 0.0)
    return cost


def _extras(rng: np.random.Generator, scenario: Scenario, campaign: np.ndarray) -> np.ndarray:
    """Campaigns of the extra clicks a paid visit would make: repeat, new tab, another campaign's ad."""
    b = scenario.behavior
    n = len(campaign)
    out = np.full((n, 3), -1, dtype=np.int64)
    paid = campaign >= 0
    u = rng.random((n, 3))
    out[:, 0] = np.where(paid & (u[:, 0] < b.repeat_click), campaign, -1)
    out[:, 1] = np.where(paid & (u[:, 1] < b.new_tab_click), campaign, -1)
    n_camp = len(scenario.campaigns)
    if n_camp > 1:
        shares = np.array([c.share for c in scenario.campaigns])
        # another campaign: draw among the others by share (shift past the clicked one)
        other = _choose_campaign(rng, shares, n)
        clash = other == campaign
        other[clash] = (other[clash] + 1 + rng.integers(0, n_camp - 1, int(clash.sum()))) % n_camp
        out[:, 2] = np.where(paid & (u[:, 2] < b.second_ad), other, -1)
    return out


@dataclass(frozen=True, slots=True)
class Schedule:
    """One block's arrivals and what each ad click asks of the ad server (stream 0), before the window cut."""

    n: int
    person: np.ndarray
    k: np.ndarray  # 0 for the first arrival, then 1, 2, ... for returns
    t: np.ndarray
    cause: np.ndarray
    campaign: np.ndarray
    invalid: np.ndarray
    counted: np.ndarray
    cost: np.ndarray
    n_imp: np.ndarray
    imp_cost: np.ndarray
    u_serve: np.ndarray
    extra_campaign: np.ndarray
    extra_cost: np.ndarray
    extra_u: np.ndarray


def _schedule(plan: Plan, block: int) -> Schedule:
    """When each person of the block arrives, and through what (stream 0)."""
    sc = plan.scenario
    pop, beh = sc.population, sc.behavior
    rng = rng_for(plan.seed, block, 0)
    first, stop = plan.block_range(block)
    n = stop - first
    returns = np.zeros(n, dtype=np.int64)
    if beh.returns > 0:
        returns = np.minimum(rng.geometric(1 - beh.returns, n) - 1, MAX_RETURNS)
    t_first = plan.slot_ms[_pick(rng, plan.slot_cdf, n)] + rng.random(n) * _HOUR
    shares = np.array([c.share for c in sc.campaigns])
    paid_first = rng.random(n) < shares.sum()
    camp_first = np.where(paid_first, _choose_campaign(rng, shares, n), -1)
    unpaid_first = UNPAID_CAUSES[_pick(rng, _cdf(pop.unpaid), n)]
    size = returns + 1
    person = np.repeat(np.arange(n), size)
    total = len(person)
    starts = np.cumsum(size) - size
    k = np.arange(total) - np.repeat(starts, size)
    delay = beh.return_delay.sample(rng, total)
    delay[k == 0] = 0.0
    csum = np.cumsum(delay)
    t = t_first[person] + csum - np.repeat(csum[starts], size)
    via = RETURN_CAUSES[_pick(rng, _cdf(beh.return_via), total)]
    returning = (k > 0) & (via == Cause.AD_CLICK)
    campaign = np.where(k == 0, camp_first[person], -1)
    campaign[returning] = _choose_campaign(rng, shares, int(returning.sum()))
    cause = np.where(k == 0, np.where(campaign >= 0, Cause.AD_CLICK, unpaid_first[person]), via)
    cause = np.where((cause == Cause.AD_CLICK) & (campaign < 0), Cause.ORGANIC, cause).astype(np.int8)
    return Schedule(n, person, k, t, cause, campaign, *_ad_draws(rng, sc, campaign))


def _ad_draws(rng: np.random.Generator, sc: Scenario, campaign: np.ndarray) -> tuple[np.ndarray, ...]:
    """Validity, cost, impressions and extra clicks of each ad click (drawn for ad clicks only)."""
    total = len(campaign)
    paid = np.flatnonzero(campaign >= 0)
    c = campaign[paid]
    n_camp = len(sc.campaigns)
    ctr = np.array([x.ctr for x in sc.campaigns])
    inv_rate = np.array([x.invalid_rate for x in sc.campaigns])
    filtered = np.array([x.invalid_filtered for x in sc.campaigns], dtype=np.bool_)
    cpm = np.array([x.cpm or 0.0 for x in sc.campaigns])
    invalid, counted = np.zeros(total, dtype=np.bool_), np.zeros(total, dtype=np.bool_)
    cost, imp_cost = np.zeros(total), np.zeros(total)
    n_imp, u_serve = np.zeros(total, dtype=np.int64), np.zeros(total)
    extra_campaign = np.full((total, 3), -1, dtype=np.int64)
    extra_cost, extra_u = np.zeros((total, 3)), np.zeros((total, 3))
    if n_camp:
        invalid[paid] = rng.random(len(paid)) < inv_rate[c]
        counted[paid] = ~(invalid[paid] & filtered[c])
        cost[paid] = np.where(counted[paid], _costs(rng, sc, c), 0.0)
        n_imp[paid] = np.where(invalid[paid], 1, rng.geometric(ctr[c]))
        imp_cost[paid] = np.where(counted[paid], n_imp[paid] * cpm[c] / 1000, 0.0)
        u_serve[paid] = rng.random(len(paid))
        extra = _extras(rng, sc, np.where(invalid[paid], -1, c))
        extra_campaign[paid] = extra
        extra_cost[paid] = _costs(rng, sc, extra.reshape(-1)).reshape(len(paid), 3)
        extra_u[paid] = rng.random((len(paid), 3))
    return invalid, counted, cost, n_imp, imp_cost, u_serve, extra_campaign, extra_cost, extra_u


def draw_arrivals(plan: Plan, block: int, *, habits: bool = True) -> Arrivals:
    """The arrival schedule of one block of visitors, cut to the period.

    With ``habits`` false, the per-person and per-arrival habits (devices, blockers, consent,
    cookies, bookmarks: stream 2) are left empty -- the demand pass does not need them.
    """
    sc = plan.scenario
    pop, tr, beh = sc.population, sc.tracking, sc.behavior
    s = plan.schedules.pop(block, None) or _schedule(plan, block)
    n, total = s.n, len(s.t)
    keep = s.t < plan.end_ms
    if habits:
        rng = rng_for(plan.seed, block, 2)
        dev_type = (_pick(rng, _cdf(pop.devices), 2 * n) + 1).reshape(n, 2).astype(np.int8)
        blocked = rng.random((n, 2)) < tr.blockers
        consent = rng.random((n, 2)) < tr.consent
        itp = rng.random(n) < pop.itp
        slot = np.where(s.k == 0, 0, rng.random(total) < pop.multi_device).astype(np.int8)
        clear = (s.k > 0) & (rng.random(total) < pop.clear_cookies)
        bookmark = rng.random(total) < beh.bookmark
    else:
        dev_type, blocked, consent = (np.zeros((n, 2), dtype=np.int8),) * 3
        itp = np.zeros(n, dtype=np.bool_)
        slot, clear, bookmark = (np.zeros(total, dtype=np.int8),) * 3
    minute = ((s.t - plan.base_ms) // MINUTE).astype(np.int64)
    first = plan.block_range(block)[0]
    per_arrival = (s.person, s.t, minute, s.cause, s.campaign, slot, clear, bookmark, s.invalid, s.counted)
    ads = (s.cost, s.n_imp, s.imp_cost, s.u_serve, s.extra_campaign, s.extra_cost, s.extra_u)
    columns = (*per_arrival, *ads)
    if not keep.all():  # returns after the period are cut (one index for every column)
        at = np.flatnonzero(keep)
        columns = tuple(x[at] for x in columns)
    return Arrivals(first, n, dev_type, blocked, consent, itp, *columns)


def _demand(plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pass 1: spend asked per (campaign, minute), ad landings per (campaign, minute), other landings.

    Keeps the blocks' schedules in ``plan.schedules`` up to :data:`SCHEDULE_CACHE` bytes.
    """
    n_camp = len(plan.scenario.campaigns)
    n_min = len(plan.slow)
    cpm = np.array([c.cpm or 0.0 for c in plan.scenario.campaigns])
    spend = np.zeros((n_camp, n_min))
    paid = np.zeros((n_camp, n_min))
    unpaid = np.zeros(n_min)
    kept = 0
    for block in range(plan.n_blocks):
        s = _schedule(plan, block)
        size = _nbytes(s)
        if kept + size <= SCHEDULE_CACHE:
            plan.schedules[block] = s
            kept += size
        keep = s.t < plan.end_ms
        minute = ((s.t[keep] - plan.base_ms) // MINUTE).astype(np.int64)
        campaign = s.campaign[keep]
        is_paid = campaign >= 0
        unpaid += np.bincount(minute[~is_paid], minlength=n_min)
        cell = campaign[is_paid] * n_min + minute[is_paid]
        ask = s.cost[keep][is_paid] + s.imp_cost[keep][is_paid]
        spend += np.bincount(cell, ask, minlength=n_camp * n_min).reshape(n_camp, n_min)
        paid += np.bincount(cell, minlength=n_camp * n_min).reshape(n_camp, n_min)
        extra_campaign = s.extra_campaign[keep]
        extra = extra_campaign >= 0
        rows = np.nonzero(extra)[0]
        cell = extra_campaign[extra] * n_min + minute[rows]
        ask = s.extra_cost[keep][extra] + cpm[extra_campaign[extra]] / 1000
        spend += np.bincount(cell, ask, minlength=n_camp * n_min).reshape(n_camp, n_min)
    return spend, paid, unpaid


def _nbytes(s: Schedule) -> int:
    return sum(
        x.nbytes
        for x in (
            s.person,
            s.k,
            s.t,
            s.cause,
            s.campaign,
            s.invalid,
            s.counted,
            s.cost,
            s.n_imp,
            s.imp_cost,
            s.u_serve,
            s.extra_campaign,
            s.extra_cost,
            s.extra_u,
        )
    )


def _period(scenario: Scenario) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Epoch ms of the period's start and end, and each local hour's UTC start and weight."""
    pop = scenario.population
    assert pop is not None
    zone = ZoneInfo(pop.timezone)
    start = dt.datetime.fromtimestamp(scenario.start_ms / 1000, dt.UTC).astimezone(zone).date()
    slot_ms, weights = [], []
    for d in range(pop.days):
        day = start + dt.timedelta(days=d)
        for h in range(24):
            slot_ms.append(utc_of_local(day, h, pop.timezone))
            weights.append(pop.weekdays[day.weekday()] * pop.hours[h])
    end_ms = utc_of_local(start + dt.timedelta(days=pop.days), 0, pop.timezone)
    return slot_ms[0], end_ms, np.array(slot_ms, dtype=np.float64), np.array(weights)


def make_plan(scenario: Scenario, seed: int, visitors: int | None = None) -> Plan:
    """Run passes 1 and 2: the period, the demand, the ad servers and the site's slowdown."""
    if scenario.population is None or scenario.behavior is None or scenario.tracking is None:
        raise ValueError(f"scenario {scenario.name!r} has no [population]")
    visitors = scenario.population.visitors if visitors is None else visitors
    if visitors < 0:
        raise ValueError(f"visitors(={visitors}) must be >= 0")
    base_ms, end_ms, slot_ms, weights = _period(scenario)
    n_min = -(-(end_ms - base_ms) // MINUTE)
    pages = (
        "home",
        *dict.fromkeys(c.landing_page for c in scenario.campaigns),
        *(f"page-{i}" for i in range(1, scenario.behavior.site_pages + 1)),
    )
    n_camp = len(scenario.campaigns)
    plan = Plan(
        scenario,
        seed,
        visitors,
        base_ms,
        end_ms,
        slot_ms,
        _cdf(weights),
        pages,
        np.ones((n_camp, n_min)),
        np.ones(n_min),
    )
    spend, paid, unpaid = _demand(plan)
    served = pace(scenario.campaigns, spend, base_ms, scenario.ad_timezone)
    landings = unpaid + (served * paid).sum(axis=0)
    slow = slowdown(landings, scenario.tracking.capacity)
    return Plan(
        scenario, seed, visitors, base_ms, end_ms, slot_ms, plan.slot_cdf, pages, served, slow, plan.schedules
    )


def pilot_plan(scenario: Scenario, seed: int, visitors: int) -> Plan:
    """A plan without passes 1-2, for estimating how many events a population makes.

    Campaigns with a daily budget serve none of their clicks (the real plan serves some), the others
    serve every click in their schedule, and the site never slows down: fewer ad visits than the
    real world, so events per visitor are (about) a lower bound. Costs one block, not a pass over all.
    """
    if scenario.population is None or scenario.behavior is None or scenario.tracking is None:
        raise ValueError(f"scenario {scenario.name!r} has no [population]")
    base_ms, end_ms, slot_ms, weights = _period(scenario)
    n_min = -(-(end_ms - base_ms) // MINUTE)
    pages = (
        "home",
        *dict.fromkeys(c.landing_page for c in scenario.campaigns),
        *(f"page-{i}" for i in range(1, scenario.behavior.site_pages + 1)),
    )
    minute_ts = base_ms + np.arange(n_min, dtype=np.int64) * MINUTE
    served = np.zeros((len(scenario.campaigns), n_min))
    for c in scenario.campaigns:
        if c.daily_budget is None:
            served[c.index] = active_minutes(c, minute_ts, scenario.ad_timezone)
    return Plan(
        scenario, seed, visitors, base_ms, end_ms, slot_ms, _cdf(weights), pages, served, np.ones(n_min)
    )


def block_chunks(plan: Plan, chunk_size: int) -> Iterator[range]:
    """Ranges of block indices, ``chunk_size`` visitors (rounded up to whole blocks) each."""
    per = max(1, -(-chunk_size // BLOCK))
    for first in range(0, plan.n_blocks, per):
        yield range(first, min(first + per, plan.n_blocks))

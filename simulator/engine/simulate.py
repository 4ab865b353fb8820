"""The SimPy world: scripted visitors run as processes and write the event log; populations stream.

Scripted ``[[journey]]`` visitors: one generator function per actor, yielding ``env.timeout``.
Simulation time is milliseconds since the scenario's earliest journey start; SimPy breaks ties by
(time, priority, event id), so same-time events keep creation order and the same scenario always
gives the same log.

A ``[population]`` is simulated in chunks of visitors (:func:`iter_chunks`): the ad servers run in
SimPy over the whole population's demand (:mod:`simulator.engine.adserver`), the visits of each block of
visitors in numpy batches (:mod:`simulator.engine.visits`). Scripted journeys come first in the log, then
the population, with ids numbered after them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from simulator.engine.population import BLOCK, Plan, make_plan
from simulator.engine.population import block_chunks as _block_chunks
from simulator.engine.visits import Ids, simulate_block
from simulator.engine.workers import BlockPool
from simulator.errors import ScenarioError
from simulator.log.events import COLUMNS, Cause, Device, EventLog, Kind, Loss, Source
from simulator.scenario.loader import Journey, Scenario, Step

__all__ = ["DEFAULT_CHUNK", "Setup", "iter_chunks", "setup", "simulate"]

#: Visitors simulated (and held in memory) at a time by default.
DEFAULT_CHUNK = 65_536

_RETURN = {
    "bookmark": (Cause.BOOKMARK, Source.BOOKMARK),
    "direct": (Cause.DIRECT, Source.DIRECT),
    "organic": (Cause.ORGANIC, Source.ORGANIC),
    "referral": (Cause.REFERRAL, Source.REFERRAL),
    "email": (Cause.EMAIL, Source.EMAIL),
}
_LOSS = {loss.label: loss for loss in Loss}
_DEVICES = {d.label: d for d in Device}


def _device(params: dict[str, Any]) -> Device:
    """A scripted step's device as a Device code: its name if it is one ("mobile"), else UNKNOWN."""
    return _DEVICES.get(params.get("device", ""), Device.UNKNOWN)


@dataclass
class Recorder:
    """Collects rows in emission order and interns campaign and page names."""

    base_ms: int
    rows: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    campaigns: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    cookies: dict[tuple[int, str, int], int] = field(default_factory=dict)
    journey_of: dict[int, int] = field(default_factory=dict)
    n_clicks: int = 0
    n_visits: int = 0

    def emit(self, now: float, **row: Any) -> None:
        row.setdefault("ts", self.base_ms + int(now))
        row["journey"] = self.journey_of[row["person"]]
        for name, col in self.rows.items():
            col.append(row[name] if name in row else _DEFAULTS[name])

    def intern(self, table: dict[str, int], name: str | None) -> int:
        return -1 if name is None else table.setdefault(name, len(table))

    def to_log(self, meta: dict[str, object]) -> EventLog:
        return EventLog.from_rows(self.rows, tuple(self.campaigns), tuple(self.pages), meta)


_DEFAULTS: dict[str, Any] = {
    "visit": -1,
    "source": Source.NONE,
    "campaign": -1,
    "page": -1,
    "click": -1,
    "tracked": False,
    "counted": False,
    "loss": Loss.NONE,
    "cost": 0.0,
    "value": 0.0,
    "units": 0,
    "device": Device.UNKNOWN,
}


@dataclass
class Visitor:
    """A person's state as their journey unfolds (ground truth)."""

    journey: Journey
    person: int
    last_click: int = -1  # the latest counted click: a conversion is attributed to it (last click)
    cookie_gen: dict[str, int] = field(default_factory=dict)
    visit: int = -1  # open visit id, -1 when none
    visit_campaign: int = -1
    page: int = -1

    def user(self, rec: Recorder, device: str) -> int:
        key = (self.person, device, self.cookie_gen.get(device, 0))
        return rec.cookies.setdefault(key, len(rec.cookies))

    def tag(self, params: dict[str, Any], default_loss: Loss) -> tuple[bool, Loss]:
        """Whether a hit is tracked, and why not."""
        if self.journey.tracking != "ok":
            return False, _LOSS[self.journey.tracking]
        if params.get("tag", True):
            return True, Loss.NONE
        return False, _LOSS[params["loss"]] if "loss" in params else default_loss


def _hit(rec: Recorder, env: simpy.Environment, v: Visitor, p: dict[str, Any], **row: Any) -> None:
    tracked, loss = v.tag(p, row.pop("default_loss", Loss.TAG_MISSING))
    user = v.user(rec, p.get("device", "default"))
    rec.emit(
        env.now,
        user=user,
        person=v.person,
        visit=v.visit,
        tracked=tracked,
        loss=loss,
        device=_device(p),
        **row,
    )


def _click(rec: Recorder, env: simpy.Environment, v: Visitor, step: Step) -> Generator:
    p = step.params
    campaign = rec.intern(rec.campaigns, p["campaign"])
    if v.visit < 0:
        cause = Cause.AD_CLICK
    elif p.get("tab", False):
        cause = Cause.NEW_TAB_CLICK
    else:
        cause = Cause.REPEAT_CLICK if campaign == v.visit_campaign else Cause.SECOND_AD
    lands = p.get("lands", True)
    tracked, loss = v.tag(p, Loss.LEFT_BEFORE_TAG) if lands else (False, Loss.NOT_REACHED)
    if lands and v.visit < 0:
        v.visit, rec.n_visits = rec.n_visits, rec.n_visits + 1
    click_id, rec.n_clicks = rec.n_clicks, rec.n_clicks + 1
    counted = not p.get("invalid", False)
    if counted:
        v.last_click = click_id
    user = v.user(rec, p.get("device", "default"))
    rec.emit(
        env.now,
        user=user,
        person=v.person,
        visit=v.visit if lands else -1,
        kind=Kind.CLICK,
        cause=cause,
        source=Source.PAID,
        campaign=campaign,
        click=click_id,
        counted=counted,
        loss=loss,
        cost=p.get("cost", 0.0) if counted else 0.0,
        device=_device(p),
    )
    if not lands:
        return
    v.visit_campaign = campaign
    v.page = rec.intern(rec.pages, p.get("page", "landing"))
    yield env.timeout(p.get("load", 0))
    rec.emit(
        env.now,
        user=user,
        person=v.person,
        visit=v.visit,
        kind=Kind.PAGEVIEW,
        cause=cause,
        source=Source.PAID,
        campaign=campaign,
        page=v.page,
        click=click_id,
        tracked=tracked,
        loss=loss,
        device=_device(p),
    )


def _step(rec: Recorder, env: simpy.Environment, v: Visitor, step: Step) -> Generator:
    """Carry out one step at the current simulated time."""
    p, do = step.params, step.do
    if do == "click":
        yield from _click(rec, env, v, step)
    elif do == "impression":
        counted = not p.get("invalid", False)
        rec.emit(
            env.now,
            user=v.user(rec, p.get("device", "default")),
            person=v.person,
            kind=Kind.IMPRESSION,
            cause=Cause.AD_SERVED,
            campaign=rec.intern(rec.campaigns, p["campaign"]),
            counted=counted,
            cost=p.get("cost", 0.0) if counted else 0.0,
            device=_device(p),
        )
    elif do in ("view", "tab", "reload"):
        if do != "reload":
            v.page = rec.intern(rec.pages, p.get("page", "page"))
        cause = {"view": Cause.NAVIGATION, "tab": Cause.TAB, "reload": Cause.RELOAD}[do]
        _hit(rec, env, v, p, kind=Kind.PAGEVIEW, cause=cause, page=v.page)
    elif do == "return":
        cause, source = _RETURN[p["via"]]
        v.visit, rec.n_visits = rec.n_visits, rec.n_visits + 1
        v.visit_campaign = -1
        v.page = rec.intern(rec.pages, p.get("page", "landing"))
        _hit(rec, env, v, p, kind=Kind.PAGEVIEW, cause=cause, source=source, page=v.page)
    elif do == "convert":
        _hit(
            rec,
            env,
            v,
            p,
            kind=Kind.CONVERSION,
            cause=Cause.CONVERSION,
            page=v.page,
            click=v.last_click,
            value=p.get("value", 0.0),
            units=p.get("units", 1),
        )
    elif do == "leave":
        v.visit = -1
    elif do == "clear_cookies":
        device = p.get("device", "default")
        v.cookie_gen[device] = v.cookie_gen.get(device, 0) + 1
    # "bookmark" leaves no event: the ground truth is the later return via the bookmark.


def visitor(env: simpy.Environment, rec: Recorder, v: Visitor) -> Generator:
    """One scripted journey: wait for each step's time, then carry it out."""
    for step in v.journey.steps:
        wait = step.t_ms - rec.base_ms - env.now
        if wait > 0:
            yield env.timeout(wait)
        yield from _step(rec, env, v, step)


def _simulate_journeys(scenario: Scenario, seed: int) -> EventLog:
    """Run the scenario's scripted journeys and return their event log, sorted by (user, ts)."""
    base = min((j.start_ms for j in scenario.journeys), default=scenario.start_ms)
    base = min(base, *(s.t_ms for j in scenario.journeys for s in j.steps))
    rec = Recorder(base)
    env = simpy.Environment()
    people: dict[tuple[str, int], int] = {}
    for journey in scenario.journeys:
        for copy in range(journey.count):
            person = people.setdefault((journey.person, copy), len(people))
            rec.journey_of.setdefault(person, journey.index)
            env.process(visitor(env, rec, Visitor(journey, person)))
    env.run()
    return rec.to_log({"seed": seed, "people": len(people), "visits": rec.n_visits})


def _remap(codes: np.ndarray, names: tuple[str, ...], table: dict[str, int]) -> np.ndarray:
    """Codes into ``names`` rewritten as codes into the merged ``table`` (-1 stays -1)."""
    lookup = np.array([table[n] for n in names] + [-1], dtype=codes.dtype)
    return lookup[codes]


def _concat(logs: list[EventLog], campaigns: tuple[str, ...], pages: tuple[str, ...], meta: dict) -> EventLog:
    cols = {name: np.concatenate([log.columns[name] for log in logs]) for name in COLUMNS}
    return EventLog(cols, campaigns, pages, meta)


def iter_chunks(
    scenario: Scenario,
    seed: int | None = None,
    *,
    visitors: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
) -> Iterator[EventLog]:
    """Simulate ``scenario`` chunk by chunk; each chunk is sorted and the chunks follow each other in order.

    The first chunk holds the scripted journeys (if any); then come the population's visitors,
    ``chunk_size`` at a time (rounded up to whole blocks of :data:`simulator.engine.population.BLOCK`).
    Concatenated, the chunks are exactly the log :func:`simulate` returns, whatever ``chunk_size``.
    Each chunk's ``meta`` counts its own ``people`` (with at least one row), ``visits`` and
    ``visitors`` (population visitors simulated in it).

    Parameters
    ----------
    scenario
        A loaded scenario.
    seed
        Overrides the scenario's seed.
    visitors
        Overrides ``[population] visitors``.
    chunk_size
        Visitors per chunk; memory grows with it, results do not change.
    workers
        Processes simulating blocks (:mod:`simulator.engine.workers`); results do not change.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size(={chunk_size}) must be >= 1")
    if workers < 1:
        raise ValueError(f"workers(={workers}) must be >= 1")
    if visitors is not None and scenario.population is None:
        raise ScenarioError(
            scenario.path,
            "",
            "--visitors overrides [population] visitors, but this scenario has no [population]",
        )
    seed = scenario.seed if seed is None else seed
    with contextlib.ExitStack() as stack:
        pool = _pool(scenario, visitors, workers, stack)
        yield from _chunks(scenario, seed, visitors, chunk_size, pool)


def _pool(
    scenario: Scenario, visitors: int | None, workers: int, stack: contextlib.ExitStack
) -> BlockPool | None:
    """A worker pool when it can help (several workers, several blocks), started before the plan."""
    if scenario.population is None or workers < 2:  # noqa: PLR2004
        return None
    n_blocks = -(-(scenario.population.visitors if visitors is None else visitors) // BLOCK)
    if n_blocks < 2:  # noqa: PLR2004
        return None
    return stack.enter_context(BlockPool(min(workers, n_blocks)))


@dataclass
class Setup:
    """What every chunk of one run shares, computed before any population block is simulated.

    ``journeys`` is the first chunk (the scripted journeys, codes remapped to the merged names) or
    None; ``ids`` and ``person0`` are where the population's numbering starts after it. The Spark
    engine (:mod:`simulator.spark.simulate`) starts from the same setup, so both give the same rows.
    """

    plan: Plan | None  # None without a [population]
    names: tuple[str, ...]
    pages: tuple[str, ...]
    meta: dict[str, Any]
    journeys: EventLog | None
    ids: Ids
    person0: int

    def block_log(self, cols: dict[str, np.ndarray], meta: dict[str, Any]) -> EventLog:
        """A chunk of population rows (person ids not yet shifted by ``person0``) as an EventLog."""
        cols["person"] = cols["person"] + self.person0
        return EventLog(cols, self.names, self.pages, {**self.meta, **meta})


def setup(scenario: Scenario, seed: int, visitors: int | None = None) -> Setup:
    """Plan the population (the ad servers' shared SimPy pass) and run the scripted journeys."""
    plan = make_plan(scenario, seed, visitors) if scenario.population is not None else None
    campaigns = {c.name: c.index for c in scenario.campaigns}
    pages = {name: i for i, name in enumerate(plan.pages)} if plan else {}
    networks = {c.name: c.network for c in scenario.campaigns}
    ids, person0 = Ids(), 0
    journeys = _simulate_journeys(scenario, seed) if scenario.journeys else None
    if journeys is not None:
        for name in journeys.campaigns:
            campaigns.setdefault(name, len(campaigns))
        for name in journeys.pages:
            pages.setdefault(name, len(pages))
    names, page_names = tuple(campaigns), tuple(pages)
    meta = {"seed": seed, "networks": tuple(networks.get(n, "") for n in names)}
    first = None
    if journeys is not None:
        cols = dict(journeys.columns)
        cols["campaign"] = _remap(cols["campaign"], journeys.campaigns, campaigns)
        cols["page"] = _remap(cols["page"], journeys.pages, pages)
        ids = Ids(
            user=int(cols["user"].max(initial=-1)) + 1,
            visit=int(cols["visit"].max(initial=-1)) + 1,
            click=int(cols["click"].max(initial=-1)) + 1,
        )
        person0 = int(journeys.meta["people"])
        first = EventLog(
            cols, names, page_names, {**meta, **{k: journeys.meta[k] for k in ("people", "visits")}}
        )
    return Setup(plan, names, page_names, meta, first, ids, person0)


def _chunks(
    scenario: Scenario, seed: int, visitors: int | None, chunk_size: int, pool: BlockPool | None
) -> Iterator[EventLog]:
    s = setup(scenario, seed, visitors)
    plan, ids, meta = s.plan, s.ids, s.meta
    if s.journeys is not None:
        yield s.journeys
    if plan is None:
        return
    if plan.n_blocks == 0 and s.journeys is None:  # nobody at all: one empty chunk
        empty = {name: np.zeros(0, dtype=dtype) for name, dtype in COLUMNS.items()}
        yield EventLog(empty, s.names, s.pages, {**meta, "people": 0, "visits": 0, "visitors": 0})
    if pool is not None:
        simulated = pool.blocks(plan, range(plan.n_blocks), ids)
    else:
        simulated = (simulate_block(plan, block, ids) for block in range(plan.n_blocks))
    for blocks in _block_chunks(plan, chunk_size):
        first_visit = ids.visit
        parts, people, n_visitors = [], 0, 0
        for block, (cols, n_people) in zip(blocks, simulated, strict=False):
            parts.append(cols)
            people += n_people
            n_visitors += len(range(*plan.block_range(block)))
        chunk = {name: np.concatenate([p[name] for p in parts]) for name in COLUMNS}
        meta_chunk = {"people": people, "visits": ids.visit - first_visit, "visitors": n_visitors}
        yield s.block_log(chunk, meta_chunk)


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    *,
    visitors: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
) -> EventLog:
    """Simulate the scenario (scripted journeys, then the population) and return the event log.

    The log is sorted by (user, ts, emission order). The same scenario and seed give the same log
    whatever ``chunk_size``.

    Parameters
    ----------
    scenario
        A loaded scenario (see :func:`simulator.load_scenario`).
    seed
        Overrides the scenario's seed (recorded in the log's metadata; scripted journeys are exact).
    visitors
        Overrides ``[population] visitors``.
    chunk_size
        Visitors simulated at a time.
    workers
        Processes simulating blocks of visitors (the log is the same for any number).
    """
    chunks = list(iter_chunks(scenario, seed, visitors=visitors, chunk_size=chunk_size, workers=workers))
    meta = dict(chunks[0].meta)
    meta["people"] = sum(int(c.meta["people"]) for c in chunks)
    meta["visits"] = sum(int(c.meta["visits"]) for c in chunks)
    meta.pop("visitors", None)
    return _concat(chunks, chunks[0].campaigns, chunks[0].pages, meta)

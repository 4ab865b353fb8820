"""The SimPy world: scripted visitors run as processes and write the event log; populations stream.

Scripted ``[[journey]]`` visitors: one SimPy process per journey, carrying all its identical copies
(:mod:`simulator.engine.journeys`). SimPy breaks ties by (time, priority, event id), so same-time
events keep creation order and the same scenario always gives the same log.

A ``[population]`` is simulated in chunks of visitors (:func:`iter_chunks`): the ad servers run in
SimPy over the whole population's demand (:mod:`simulator.engine.adserver`), the visits of each block of
visitors in numpy batches (:mod:`simulator.engine.visits`). Scripted journeys come first in the log, then
the population, with ids numbered after them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.engine.budget import check_memory
from simulator.engine.journeys import simulate_journeys
from simulator.engine.population import BLOCK, Plan, make_plan
from simulator.engine.population import block_chunks as _block_chunks
from simulator.engine.visits import Ids, simulate_block
from simulator.engine.workers import BlockPool
from simulator.errors import ScenarioError
from simulator.log.events import COLUMNS, EventLog
from simulator.scenario.loader import Scenario, require_scenario

__all__ = ["DEFAULT_CHUNK", "Setup", "iter_chunks", "setup", "simulate"]

#: Visitors simulated (and held in memory) at a time by default.
DEFAULT_CHUNK = 65_536


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
    require_scenario(scenario, "simulate")
    for name, value in (
        ("seed", seed),
        ("visitors", visitors),
        ("chunk_size", chunk_size),
        ("workers", workers),
    ):
        if (value is not None or name in ("chunk_size", "workers")) and (
            not isinstance(value, int | np.integer) or isinstance(value, bool)
        ):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r:.40}")
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
    check_memory(scenario, seed, visitors, streaming=True)
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
    if plan and scenario.site.internal_campaign > 0:  # [site]: its code follows the ad campaigns'
        campaigns[scenario.site.internal_campaign_name] = len(campaigns)
    pages = {name: i for i, name in enumerate(plan.pages)} if plan else {}
    networks = {c.name: c.network for c in scenario.campaigns}
    ids, person0 = Ids(), 0
    journeys = simulate_journeys(scenario, seed) if scenario.journeys else None
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
    on_progress: Callable[[int], None] | None = None,
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
    on_progress
        Called with the number of population visitors simulated after each chunk (for a progress bar).

    Raises
    ------
    ScenarioError
        Before simulating anything, when the log would not fit in the available memory
        (:mod:`simulator.engine.budget`); stream it with :func:`iter_chunks` instead.
    """
    require_scenario(scenario, "simulate")
    check_memory(scenario, scenario.seed if seed is None else seed, visitors, streaming=False)
    chunks = []
    for chunk in iter_chunks(scenario, seed, visitors=visitors, chunk_size=chunk_size, workers=workers):
        chunks.append(chunk)
        if on_progress is not None:
            on_progress(int(chunk.meta.get("visitors", 0)))
    meta = dict(chunks[0].meta)
    meta["people"] = sum(int(c.meta["people"]) for c in chunks)
    meta["visits"] = sum(int(c.meta["visits"]) for c in chunks)
    meta.pop("visitors", None)
    return _concat(chunks, chunks[0].campaigns, chunks[0].pages, meta)

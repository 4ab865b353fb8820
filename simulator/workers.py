"""Simulating blocks of visitors in worker processes, with the same bytes as one process.

Pass 3 of the engine (:mod:`simulator.visits`) is independent per block once the shared world (the
:class:`~simulator.population.Plan`) is known: block ``b`` draws only from its own seed streams. The
only thing a block takes from the blocks before it is where its ids start (users, visits, clicks are
numbered block after block). So a worker simulates a whole block with ids starting at 0 and reports
how many of each it used; the parent shifts the block's ids by the running totals, in block order.
The result is exactly what one process gives (tests compare the bytes).

Workers are started with the ``spawn`` context (no forked copy of the parent's state) and ignore
SIGINT: on Ctrl-C the parent alone gets ``KeyboardInterrupt``, and leaving :class:`BlockPool`
terminates and joins every worker, so none outlives the command. At most ``2 * workers`` blocks are
in flight, so memory stays flat as the population grows.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

import numpy as np

from simulator.population import Plan
from simulator.visits import Ids, simulate_block

__all__ = ["BlockPool", "shift_ids"]

_PLAN: Plan | None = None  # the worker's copy of the shared world, set once by _init


def _init(plan: Plan) -> None:
    global _PLAN  # noqa: PLW0603 - one plan per worker process, set by the pool initializer
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _PLAN = plan


def _simulate(block: int) -> tuple[dict[str, np.ndarray], int, Ids]:
    """One block with ids from 0, in a worker; also the ids it used."""
    assert _PLAN is not None
    used = Ids()
    cols, people = simulate_block(_PLAN, block, used)
    return cols, people, used


def shift_ids(cols: dict[str, np.ndarray], base: Ids) -> None:
    """Renumber a block simulated with ids from 0 as if its ids started at ``base`` (in place)."""
    cols["user"] += base.user
    for name, start in (("visit", base.visit), ("click", base.click)):
        col = cols[name]
        col[col >= 0] += start


class BlockPool:
    """A pool of ``workers`` processes simulating blocks of one plan; use as a context manager.

    Parameters
    ----------
    plan
        The shared world, sent once to each worker.
    workers
        Number of processes (>= 1).
    """

    def __init__(self, plan: Plan, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers(={workers}) must be >= 1")
        self.workers = workers
        context = multiprocessing.get_context("spawn")
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # children start with SIGINT ignored
        try:
            self._pool: Any = context.Pool(workers, initializer=_init, initargs=(plan,))
        finally:
            signal.signal(signal.SIGINT, previous)

    def __enter__(self) -> BlockPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(graceful=kind is None)

    def close(self, graceful: bool = True) -> None:
        """Stop the workers: let them finish (``graceful``) or terminate them; then wait for them."""
        if graceful:
            self._pool.close()
        else:
            self._pool.terminate()
        self._pool.join()

    def blocks(self, blocks: Iterable[int], ids: Ids) -> Iterator[tuple[dict[str, np.ndarray], int]]:
        """Each block's columns (ids numbered from ``ids``, which advances) and people, in order."""
        pending: deque = deque()
        todo = iter(blocks)
        for block in todo:
            pending.append(self._pool.apply_async(_simulate, (block,)))
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            cols, people, used = pending.popleft().get()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(self._pool.apply_async(_simulate, (nxt,)))
            shift_ids(cols, ids)
            ids.user += used.user
            ids.visit += used.visit
            ids.click += used.click
            yield cols, people

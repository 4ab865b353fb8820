"""Simulating blocks of visitors in worker processes, with the same bytes as one process.

Pass 3 of the engine (:mod:`simulator.engine.visits`) is independent per block once the shared world (the
:class:`~simulator.engine.population.Plan`) is known: block ``b`` draws only from its own seed streams. The
only thing a block takes from the blocks before it is where its ids start (users, visits, clicks are
numbered block after block). So a worker simulates a whole block with ids starting at 0 and reports
how many of each it used; the parent shifts the block's ids by the running totals, in block order.
The result is exactly what one process gives (tests compare the bytes).

Workers are started with the ``spawn`` context (no forked copy of the parent's state; ``forkserver``
would start faster but Python 3.11's forkserver ignores the parent's ``sys.path``) as soon as the
command starts, so they import the engine while the parent computes the plan. They ignore SIGINT: on
Ctrl-C the parent alone gets ``KeyboardInterrupt``, and leaving :class:`BlockPool` terminates and
joins every worker, so none outlives the command. At most ``2 * workers`` blocks are
in flight, so memory stays flat as the population grows.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing import resource_tracker
from types import TracebackType
from typing import Any

import numpy as np

from simulator.engine.population import Plan
from simulator.engine.visits import Ids, simulate_block

__all__ = ["BlockPool", "shift_ids"]

_PLANS: dict[str, Plan] = {}  # the worker's copy of the shared world, by file; loaded once


def _init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _simulate(path: str, block: int) -> tuple[str, int, Ids]:
    """One block with ids from 0, in a worker: the file its columns are in, its people, the ids it used.

    The columns go through a file beside the plan, not through the pool's result pipe: a result of a few
    MB written to the pipe by a worker that ``Pool.terminate()`` kills halfway leaves half a message there,
    and the pool's result thread then waits for the rest forever (the parent holds the pipe's write end
    too, so no end of file comes): a Ctrl-C then hung the command in ``terminate()``. The message that
    says where the file is is a few dozen bytes, written whole or not at all.
    """
    if path not in _PLANS:
        _PLANS.clear()
        with open(path, "rb") as fh:
            _PLANS[path] = pickle.load(fh)  # our own file, in a private (0700) directory
    used = Ids()
    cols, people = simulate_block(_PLANS[path], block, used)
    out = f"{path}.block-{block}"
    with open(out, "wb") as fh:
        pickle.dump(cols, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return out, people, used


def _take(path: str) -> dict[str, np.ndarray]:
    """A block's columns from the file a worker wrote; the file is removed."""
    with open(path, "rb") as fh:
        cols = pickle.load(fh)  # our own workers' file, in our private directory
    os.unlink(path)
    return cols


def shift_ids(cols: dict[str, np.ndarray], base: Ids) -> None:
    """Renumber a block simulated with ids from 0 as if its ids started at ``base`` (in place)."""
    cols["user"] += base.user
    for name, start in (("visit", base.visit), ("click", base.click)):
        col = cols[name]
        col[col >= 0] += start


class BlockPool:
    """A pool of ``workers`` processes simulating blocks; use as a context manager.

    The pool starts at once (its processes import the engine while the caller computes the plan);
    :meth:`blocks` hands them the plan through a private temporary file, read once per worker.

    Parameters
    ----------
    workers
        Number of processes (>= 1).
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers(={workers}) must be >= 1")
        self.workers = workers
        self._dir = tempfile.mkdtemp(prefix="sessionlab-plan-")
        context = multiprocessing.get_context("spawn")
        # How a Ctrl-C during the pool's start is neither lost nor fatal to a half-started worker:
        # - SIGINT is blocked in this thread while the workers are spawned: the mask survives fork
        #   and exec, so a worker holds a Ctrl-C pending until its initializer ignores it.
        # - This process keeps a handler, never SIG_IGN: blocking covers one thread only, and a
        #   Ctrl-C (sent to the process) goes to any other thread that has it unblocked (numpy's
        #   OpenBLAS threads do) -- with SIG_IGN it was discarded there, the first Ctrl-C
        #   "swallowed" under load. The handler only notes it; it is raised once the pool exists
        #   (so no worker is left behind by a KeyboardInterrupt inside Pool()).
        # - The pool's first semaphore would start multiprocessing's resource tracker, which ends
        #   with an unconditional SIG_UNBLOCK of SIGINT: started here, before the mask is set.
        resource_tracker.ensure_running()
        caught: list[int] = []
        in_main = threading.current_thread() is threading.main_thread()  # signal.signal needs it
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        previous = signal.signal(signal.SIGINT, lambda signum, _: caught.append(signum)) if in_main else 0
        pool = None
        try:
            try:
                pool = context.Pool(workers, initializer=_init)
            finally:
                if in_main:  # (None: a handler set outside Python; the default then)
                    signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a pending Ctrl-C is raised here
            if caught:  # the noted Ctrl-C, with the disposition the caller had (KeyboardInterrupt)
                signal.raise_signal(signal.SIGINT)
        except BaseException:
            if pool is not None:
                pool.terminate()
                pool.join()
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        self._pool: Any = pool

    def __enter__(self) -> BlockPool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(graceful=kind is None)

    def close(self, graceful: bool = True) -> None:
        """Stop the workers: let them finish (``graceful``) or terminate them; wait; remove the plan file."""
        try:
            if graceful:
                self._pool.close()
            else:
                self._pool.terminate()
            self._pool.join()
        finally:
            shutil.rmtree(self._dir, ignore_errors=True)

    def blocks(
        self, plan: Plan, blocks: Iterable[int], ids: Ids
    ) -> Iterator[tuple[dict[str, np.ndarray], int]]:
        """Each block's columns (ids numbered from ``ids``, which advances) and people, in block order."""
        path = os.path.join(self._dir, f"plan-{id(plan)}.pickle")
        with open(path, "wb") as fh:  # without the demand pass's schedules: the workers draw their own
            pickle.dump(dataclasses.replace(plan, schedules={}), fh, protocol=pickle.HIGHEST_PROTOCOL)
        plan.schedules.clear()
        pending: deque = deque()
        todo = iter(blocks)
        for block in todo:
            pending.append(self._pool.apply_async(_simulate, (path, block)))
            if len(pending) >= 2 * self.workers:
                break
        while pending:
            where, people, used = pending.popleft().get()
            cols = _take(where)
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(self._pool.apply_async(_simulate, (path, nxt)))
            shift_ids(cols, ids)
            ids.user += used.user
            ids.visit += used.visit
            ids.click += used.click
            yield cols, people

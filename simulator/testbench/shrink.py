"""Shrink a user's timeline to a minimal counterexample that still shows the same class of difference.

The search is delta debugging (Zeller's ddmin) over the user's rows, then simplification of what is
left: round the first timestamp, shrink each gap to 0 / 1 s / 1 min or round it, clear campaigns --
each step kept only if the difference is still there *and of the same class*. A ``max_duration``
example is then respaced to rows exactly a timeout apart and ddmin'ed again (the fewest rows a long
session can have). Every candidate of a step
is evaluated in one batch: all candidate timelines become distinct users of one workload, so each step
costs one reference run and one or two candidate runs however many candidates it has (one extra run
with rows in time order tells ``ordering`` apart). The result is checked once more on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from simulator.testbench.adapters import Sessionizer
from simulator.testbench.baselines import sessionlab_ids
from simulator.testbench.classify import Finding, RuleParams, classify
from simulator.testbench.workload import Workload

__all__ = ["Counterexample", "Oracle", "Timeline", "ddmin", "shrink"]

_S, _MIN, _H, _DAY = 1_000, 60_000, 3_600_000, 86_400_000


@dataclass(frozen=True)
class Timeline:
    """One user's rows in input order: epoch ms and campaign ("" none)."""

    ts: np.ndarray
    campaign: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, rows: Sequence[int] | np.ndarray) -> Timeline:
        rows = np.sort(np.asarray(rows, dtype=np.int64))  # keep input order
        return Timeline(self.ts[rows], self.campaign[rows])


@dataclass
class Oracle:
    """Runs reference and candidate on many timelines at once and classifies each one."""

    sessionizer: Sessionizer
    definition: str
    params: RuleParams
    timezone: str
    time_limit: float | None = None
    max_rows: int = 50_000  #: rows per batch
    calls: int = field(default=0, init=False)  #: candidate runs so far

    def _batch(self, timelines: Sequence[Timeline]) -> tuple[Workload, np.ndarray]:
        sizes = np.array([len(t) for t in timelines], dtype=np.int64)
        users = np.repeat(np.arange(1, len(timelines) + 1, dtype=np.int64), sizes)
        ts = np.concatenate([t.ts for t in timelines]).astype(np.int64)
        camp = np.concatenate([t.campaign for t in timelines]).astype(str)
        return Workload(users, ts, camp, self.timezone), np.concatenate(([0], np.cumsum(sizes)))

    def run(self, timelines: Sequence[Timeline]) -> list[tuple[np.ndarray, np.ndarray, Finding | None]]:
        """(reference ids, candidate ids, finding) per timeline, in batches of at most ``max_rows``."""
        out, chunk, rows = [], [], 0
        for tl in timelines:
            if chunk and rows + len(tl) > self.max_rows:
                out += self._run_batch(chunk)
                chunk, rows = [], 0
            chunk.append(tl)
            rows += len(tl)
        return out + (self._run_batch(chunk) if chunk else [])

    def _run_batch(
        self, timelines: Sequence[Timeline]
    ) -> list[tuple[np.ndarray, np.ndarray, Finding | None]]:
        wl, bounds = self._batch(timelines)
        ref = sessionlab_ids(
            wl.user_id, wl.timestamp_ms, wl.campaign, definition=self.definition, timezone=self.timezone
        )
        cand = self.sessionizer(wl, self.definition, self.time_limit)
        self.calls += 1
        order = np.lexsort((wl.timestamp_ms, wl.user_id))
        cand_sorted = None
        if not np.array_equal(order, np.arange(len(order))):
            cand_sorted = np.empty(len(wl), dtype=np.int64)
            cand_sorted[order] = self.sessionizer(wl.take(order), self.definition, self.time_limit)
            self.calls += 1
        out = []
        for i in range(len(timelines)):
            s = slice(bounds[i], bounds[i + 1])
            srt = None if cand_sorted is None else cand_sorted[s]
            found = classify(
                wl.timestamp_ms[s], wl.campaign[s], ref[s], cand[s],
                params=self.params, timezone=self.timezone, cand_sorted=srt,
            )  # fmt: skip
            out.append((ref[s], cand[s], found))
        return out

    def findings(self, timelines: Sequence[Timeline]) -> list[Finding | None]:
        return [f for _, _, f in self.run(timelines)]


def ddmin(items: list[int], holds: Callable[[list[list[int]]], list[bool]]) -> list[int]:
    """Delta debugging: a 1-minimal sublist of ``items`` for which ``holds`` is still true.

    ``holds`` receives a batch of candidate sublists and returns one verdict per candidate.
    """
    n = 2
    while len(items) >= 2:  # noqa: PLR2004
        size = len(items)
        bounds = [round(i * size / n) for i in range(n + 1)]
        chunks = [items[bounds[i] : bounds[i + 1]] for i in range(n)]
        comps = [items[: bounds[i]] + items[bounds[i + 1] :] for i in range(n)] if n > 2 else []  # noqa: PLR2004
        verdicts = holds(chunks + comps)
        if any(verdicts[:n]):
            items, n = chunks[verdicts.index(True)], 2
        elif any(verdicts[n:]):
            items, n = comps[verdicts[n:].index(True)], max(n - 1, 2)
        elif n >= size:
            break
        else:
            n = min(2 * n, size)
    return items


@dataclass(frozen=True)
class Counterexample:
    """A minimal timeline that shows one class of difference, with both partitions."""

    cls: str
    detail: str
    user_id: int  #: the workload user it was shrunk from
    source_rows: int  #: that user's row count
    timeline: Timeline
    reference: np.ndarray  #: session number per row (1 = the user's first session)
    candidate: np.ndarray
    verified: bool  #: reproduced on its own after shrinking
    calls: int  #: candidate runs spent shrinking


def _first_holding(tl: Timeline, variants: list[Timeline], holds: Callable) -> Timeline:
    verdicts = holds(variants) if variants else []
    return variants[verdicts.index(True)] if True in verdicts else tl


def _windows(tl: Timeline, finding: Finding, holds: Callable) -> Timeline:
    """Cut the timeline to a short time window ending at the first difference, if that keeps it."""
    order = np.argsort(tl.ts, kind="stable")
    t = tl.ts[order]
    end = int(np.flatnonzero(t == t[finding.row]).max()) + 1 if len(t) > finding.row else len(t)
    sizes, w = [], 2
    while w < end:
        sizes.append(w)
        w *= 2
    variants = [tl.take(order[end - w : end]) for w in sizes] + (
        [tl.take(order[:end])] if end < len(t) else []
    )
    return _first_holding(tl, variants, holds)


def _simplify_times(tl: Timeline, holds: Callable) -> Timeline:
    """Round the first timestamp, then make each gap (in time order) as small or round as possible."""
    t0 = int(tl.ts.min())
    shifts = [(t0 // u) * u - t0 for u in (_DAY, _H, _MIN, _S)]
    tl = _first_holding(tl, [Timeline(tl.ts + s, tl.campaign) for s in dict.fromkeys(shifts) if s], holds)
    for i in range(1, len(tl)):
        order = np.argsort(tl.ts, kind="stable")
        gap = int(tl.ts[order[i]] - tl.ts[order[i - 1]])
        options = [0, _S, _MIN, gap // _H * _H, gap // _MIN * _MIN, gap // _S * _S]
        variants = []
        for g in dict.fromkeys(o for o in options if o < gap):
            ts = tl.ts.copy()
            ts[order[i:]] -= gap - g
            variants.append(Timeline(ts, tl.campaign))
        tl = _first_holding(tl, variants, holds)
    return tl


def _simplify_campaigns(tl: Timeline, holds: Callable) -> Timeline:
    """Clear campaigns (all at once, else one by one) where the difference survives it."""
    if not (tl.campaign != "").any():
        return tl
    cleared = Timeline(tl.ts, np.full(len(tl), "", dtype=tl.campaign.dtype))
    if holds([cleared])[0]:
        return cleared
    for i in np.flatnonzero(tl.campaign != ""):
        camp = tl.campaign.copy()
        camp[i] = ""
        tl = _first_holding(tl, [Timeline(tl.ts, camp)], holds)
    return tl


def _regular(tl: Timeline, timeouts_ms: tuple[int, ...], holds: Callable) -> Timeline:
    """For a long session: the same span in rows exactly a timeout apart (or a minute less), if that holds.

    Removing a row of a long session opens a gap beyond the timeout, so ddmin alone cannot go
    below the rows the original gaps need; evenly spaced rows at the largest gap that keeps the
    session need the fewest.
    """
    t = np.sort(tl.ts)
    span, variants = int(t[-1] - t[0]), []
    for gap in dict.fromkeys(g for timeout in timeouts_ms for g in (timeout, timeout - _MIN) if g > 0):
        n = -(-span // gap) + 1
        if n < len(tl):
            ts = t[0] + gap * np.arange(n, dtype=np.int64)
            variants.append(Timeline(ts, np.full(n, "", dtype=tl.campaign.dtype)))
    return _first_holding(tl, variants, holds)


def _session_numbers(ids: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Sessions numbered 1, 2, ... in order of their first event."""
    order = np.argsort(ts, kind="stable")
    first_seen = dict.fromkeys(ids[order].tolist())
    rank = {sid: k + 1 for k, sid in enumerate(first_seen)}
    return np.array([rank[i] for i in ids.tolist()], dtype=np.int64)


def shrink(tl: Timeline, finding: Finding, oracle: Oracle, user_id: int = 0) -> Counterexample:
    """Shrink ``tl`` (a user whose difference is ``finding``) to a minimal counterexample."""
    target, start_calls, ambiguous = finding.cls, oracle.calls, bool(finding.alternatives)

    def fits(f: Finding | None) -> bool:
        return f is not None and f.cls == target and (ambiguous or not f.alternatives)

    def holds(variants: Sequence[Timeline]) -> list[bool]:
        return [fits(f) for f in oracle.findings(variants)]

    small = _windows(tl, finding, holds)
    small = small.take(
        ddmin(list(range(len(small))), lambda subsets: holds([small.take(s) for s in subsets]))
    )
    small = _simplify_campaigns(_simplify_times(small, holds), holds)
    if target == "max_duration" and oracle.params.timeouts_ms:
        regular = _regular(small, oracle.params.timeouts_ms, holds)
        if regular is not small:
            small = regular.take(
                ddmin(list(range(len(regular))), lambda subsets: holds([regular.take(s) for s in subsets]))
            )
    ref, cand, found = oracle.run([small])[0]
    verified = fits(found)
    return Counterexample(
        cls=target,
        detail=found.detail if found is not None and verified else finding.detail,
        user_id=user_id,
        source_rows=len(tl),
        timeline=small,
        reference=_session_numbers(ref, small.ts),
        candidate=_session_numbers(cand, small.ts),
        verified=verified,
        calls=oracle.calls - start_calls,
    )

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

import heapq
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.testbench.adapters import Sessionizer
from simulator.testbench.baselines import sessionlab_ids
from simulator.testbench.classify import Finding, RuleParams, classify
from simulator.testbench.workload import Workload

__all__ = ["Counterexample", "Oracle", "Search", "Timeline", "ddmin", "shrink", "shrink_all"]

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


def _key(tl: Timeline) -> tuple[bytes, tuple[str, ...]]:
    return tl.ts.astype(np.int64).tobytes(), tuple(tl.campaign.tolist())


@dataclass
class Oracle:
    """Runs reference and candidate on many timelines at once and classifies each one.

    Every timeline of a call is its own user of one workload. With a batching sessionizer
    (:attr:`~simulator.testbench.adapters.Sessionizer.batching`: ``spark:``, ``spark-sql:``, ``sql:``,
    ``builtin:``) the run in time order that tells ``ordering`` apart rides in the same call (the
    sorted copies as further users). For ``spark:`` and ``spark-sql:``, whose every call is a Spark
    job, :func:`shrink_all` also evaluates the candidates of the steps most likely to come next
    (:attr:`states` search states per call, within ``max_rows``); for the in-process kinds that
    lookahead costs more Python time than the calls it saves, so it is off. Findings are cached by
    timeline, so no timeline is run twice.
    """

    sessionizer: Sessionizer
    definition: str
    params: RuleParams
    timezone: str
    time_limit: float | None = None
    max_rows: int = 50_000  #: rows per batch
    lookahead: int | None = None  #: search states per call (default: 128 for Spark kinds, else 1)
    calls: int = field(default=0, init=False)  #: sessionizer runs so far
    _cache: dict = field(default_factory=dict, init=False, repr=False)

    @property
    def batching(self) -> bool:
        """Whether the sessionizer takes many candidates (and the sorted copies) in one call."""
        return bool(getattr(self.sessionizer, "batching", False))

    @property
    def states(self) -> int:
        """Search states evaluated per call (1 = only the step being decided, as without batching)."""
        if self.lookahead is not None:
            return max(1, self.lookahead)
        return 128 if getattr(self.sessionizer, "kind", "") in ("spark", "spark-sql") else 1

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

    def _candidate(self, wl: Workload) -> tuple[np.ndarray, np.ndarray | None]:
        """Candidate ids of ``wl`` and, when its rows are not in time order, of ``wl`` sorted."""
        order = np.lexsort((wl.timestamp_ms, wl.user_id))
        if np.array_equal(order, np.arange(len(order))):
            self.calls += 1
            return self.sessionizer(wl, self.definition, self.time_limit), None
        srt = wl.take(order)
        cand_sorted = np.empty(len(wl), dtype=np.int64)
        if self.batching:  # one call: the sorted copies are further users after the originals
            top = int(wl.user_id.max(initial=0)) + 1
            both = Workload(
                np.concatenate([wl.user_id, srt.user_id + top]),
                np.concatenate([wl.timestamp_ms, srt.timestamp_ms]),
                np.concatenate([wl.campaign, srt.campaign]),
                self.timezone,
            )
            ids = self.sessionizer(both, self.definition, self.time_limit)
            self.calls += 1
            cand_sorted[order] = ids[len(wl) :]
            return ids[: len(wl)], cand_sorted
        cand = self.sessionizer(wl, self.definition, self.time_limit)
        cand_sorted[order] = self.sessionizer(srt, self.definition, self.time_limit)
        self.calls += 2
        return cand, cand_sorted

    def _run_batch(
        self, timelines: Sequence[Timeline]
    ) -> list[tuple[np.ndarray, np.ndarray, Finding | None]]:
        wl, bounds = self._batch(timelines)
        ref = sessionlab_ids(
            wl.user_id, wl.timestamp_ms, wl.campaign, definition=self.definition, timezone=self.timezone
        )
        cand, cand_sorted = self._candidate(wl)
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
        """The finding of each timeline, running (in as few batches as fit) only those not seen before."""
        todo = list({_key(t): t for t in timelines if _key(t) not in self._cache}.items())
        if todo:
            for (key, _), (_, _, found) in zip(todo, self.run([t for _, t in todo]), strict=True):
                self._cache[key] = found
        return [self._cache[_key(t)] for t in timelines]

    def known(self, timelines: Sequence[Timeline]) -> bool:
        """Whether every timeline's finding is cached."""
        return all(_key(t) in self._cache for t in timelines)

    def cached(self, tl: Timeline) -> Finding | None:
        return self._cache[_key(tl)]


#: A shrinking search: yields the candidates of a step, receives the index of the first candidate
#: that still shows the difference (None if none does), returns the shrunk timeline.
Search = Generator[list[Timeline], int | None, Timeline]


class _Lazy(Sequence):
    """Candidates built only when looked at (replaying a search to a later step skips them)."""

    def __init__(self, subsets: list[list[int]], take: Callable[[list[int]], Any]) -> None:
        self._subsets, self._take = subsets, take
        self._built: list[Any] | None = None

    def _all(self) -> list[Any]:
        if self._built is None:
            self._built = [self._take(c) for c in self._subsets]
        return self._built

    def __len__(self) -> int:
        return len(self._subsets)

    def __getitem__(self, i: Any) -> Any:
        return self._all()[i]


def _first_index(verdicts: Sequence[bool]) -> int | None:
    return verdicts.index(True) if True in verdicts else None


def _ddmin_steps(
    items: list[int], take: Callable[[list[int]], Any]
) -> Generator[list, int | None, list[int]]:
    """ddmin as a search: yields ``take(subset)`` per candidate subset, receives the first that holds."""
    n = 2
    while len(items) >= 2:  # noqa: PLR2004
        size = len(items)
        bounds = [round(i * size / n) for i in range(n + 1)]
        chunks = [items[bounds[i] : bounds[i + 1]] for i in range(n)]
        comps = [items[: bounds[i]] + items[bounds[i + 1] :] for i in range(n)] if n > 2 else []  # noqa: PLR2004
        k = yield _Lazy(chunks + comps, take)
        if k is not None and k < n:  # the first chunk that holds (chunks come first)
            items, n = chunks[k], 2
        elif k is not None:  # else the first complement that holds
            items, n = comps[k - n], max(n - 1, 2)
        elif n >= size:
            break
        else:
            n = min(2 * n, size)
    return items


def ddmin(items: list[int], holds: Callable[[list[list[int]]], list[bool]]) -> list[int]:
    """Delta debugging: a 1-minimal sublist of ``items`` for which ``holds`` is still true.

    ``holds`` receives a batch of candidate sublists and returns one verdict per candidate.
    """
    steps = _ddmin_steps(items, lambda subset: subset)
    try:
        batch = next(steps)
        while True:
            batch = steps.send(_first_index(holds(list(batch))))
    except StopIteration as stop:
        return stop.value


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


def _first_holding(tl: Timeline, variants: list[Timeline]) -> Search:
    k = (yield variants) if variants else None
    return tl if k is None else variants[k]


def _windows(tl: Timeline, finding: Finding) -> Search:
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
    return (yield from _first_holding(tl, variants))


def _simplify_times(tl: Timeline) -> Search:
    """Round the first timestamp, then make each gap (in time order) as small or round as possible."""
    t0 = int(tl.ts.min())
    shifts = [(t0 // u) * u - t0 for u in (_DAY, _H, _MIN, _S)]
    tl = yield from _first_holding(tl, [Timeline(tl.ts + s, tl.campaign) for s in dict.fromkeys(shifts) if s])
    for i in range(1, len(tl)):
        order = np.argsort(tl.ts, kind="stable")
        gap = int(tl.ts[order[i]] - tl.ts[order[i - 1]])
        options = [0, _S, _MIN, gap // _H * _H, gap // _MIN * _MIN, gap // _S * _S]
        variants = []
        for g in dict.fromkeys(o for o in options if o < gap):
            ts = tl.ts.copy()
            ts[order[i:]] -= gap - g
            variants.append(Timeline(ts, tl.campaign))
        tl = yield from _first_holding(tl, variants)
    return tl


def _simplify_campaigns(tl: Timeline) -> Search:
    """Clear campaigns (all at once, else one by one) where the difference survives it."""
    if not (tl.campaign != "").any():
        return tl
    cleared = Timeline(tl.ts, np.full(len(tl), "", dtype=tl.campaign.dtype))
    if (yield [cleared]) == 0:
        return cleared
    for i in np.flatnonzero(tl.campaign != ""):
        camp = tl.campaign.copy()
        camp[i] = ""
        tl = yield from _first_holding(tl, [Timeline(tl.ts, camp)])
    return tl


def _regular(tl: Timeline, timeouts_ms: tuple[int, ...]) -> Search:
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
    return (yield from _first_holding(tl, variants))


def _search(tl: Timeline, finding: Finding, params: RuleParams) -> Search:
    """The whole shrink as one search: windows, ddmin, simpler times and campaigns, respacing."""
    small = yield from _windows(tl, finding)
    small = small.take((yield from _ddmin_steps(list(range(len(small))), small.take)))
    small = yield from _simplify_times(small)
    small = yield from _simplify_campaigns(small)
    if finding.cls == "max_duration" and params.timeouts_ms:
        regular = yield from _regular(small, params.timeouts_ms)
        if regular is not small:
            small = regular.take((yield from _ddmin_steps(list(range(len(regular))), regular.take)))
    return small


def _session_numbers(ids: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Sessions numbered 1, 2, ... in order of their first event."""
    order = np.argsort(ts, kind="stable")
    first_seen = dict.fromkeys(ids[order].tolist())
    rank = {sid: k + 1 for k, sid in enumerate(first_seen)}
    return np.array([rank[i] for i in ids.tolist()], dtype=np.int64)


class _Shrinking:
    """One search in progress: its live generator, the outcomes so far, and its verdict rule."""

    def __init__(self, tl: Timeline, finding: Finding, params: RuleParams) -> None:
        self.tl, self.finding, self.params = tl, finding, params
        self.path: list[int | None] = []
        self.sizes: list[int] = []  #: candidates of each step taken
        self.gen = _search(tl, finding, params)
        self.step: list[Timeline] | None = next(self.gen, None)  # a search always yields at least once
        self.result: Timeline | None = None
        self.calls = 0

    def fits(self, f: Finding | None) -> bool:
        ambiguous = bool(self.finding.alternatives)
        return f is not None and f.cls == self.finding.cls and (ambiguous or not f.alternatives)

    def advance(self, oracle: Oracle) -> None:
        """Take every step whose candidates are already known."""
        while self.step is not None and oracle.known(self.step):
            k = _first_index([self.fits(oracle.cached(t)) for t in self.step])
            self.path.append(k)
            self.sizes.append(len(self.step))
            try:
                self.step = self.gen.send(k)
            except StopIteration as stop:
                self.step, self.result = None, stop.value

    def _replay(self, path: list[int | None]) -> list[Timeline] | None:
        """The candidates the search would ask for after ``path`` (None when it would be done)."""
        gen = _search(self.tl, self.finding, self.params)
        try:
            step = next(gen)
            for k in path:
                step = gen.send(k)
        except StopIteration:
            return None
        return step

    def ahead(self, states: int, rows: int) -> list[Timeline]:
        """The current step's candidates, then those of the states most likely to follow it.

        Best first: a state's weight is the product of its outcomes' estimated chances, learnt from
        this search's own steps so far (how often the first candidate held, none held, the middle
        one -- ddmin's first complement --, the last or another). Stops at ``states`` search states
        or ``rows`` rows of candidates, whichever comes first.
        """
        assert self.step is not None
        out, used = list(self.step), sum(len(t) for t in self.step)
        heap: list[tuple[float, int, list[int | None]]] = []
        order = 0
        for k, p in self._chances(len(self.step)):
            heapq.heappush(heap, (-p, order, [*self.path, k]))
            order += 1
        seen = 1
        while heap and seen < states:
            weight, _, path = heapq.heappop(heap)
            step = self._replay(path)
            if step is None:
                continue
            size = sum(len(t) for t in step)
            if used + size > rows:
                break
            out += list(step)
            used += size
            seen += 1
            for k, p in self._chances(len(step)):
                heapq.heappush(heap, (weight * p, order, [*path, k]))
                order += 1
        return out

    def _chances(self, m: int) -> list[tuple[int | None, float]]:
        """Each outcome of a step with ``m`` candidates and its estimated chance."""
        counts = dict.fromkeys(("none", "first", "middle", "last", "other"), 1.0)
        for k, size in zip(self.path, self.sizes, strict=True):
            counts[_category(k, size)] += 1
        members: dict[str, list[int | None]] = {c: [] for c in counts}
        for k in (None, *range(m)):
            members[_category(k, m)].append(k)
        total = sum(counts[c] for c in counts if members[c])
        return [(k, counts[c] / total / len(ks)) for c, ks in members.items() for k in ks]


def _category(k: int | None, m: int) -> str:
    if k is None:
        return "none"
    if k == 0:
        return "first"
    if m > 2 and m % 2 == 0 and k == m // 2:  # noqa: PLR2004 - ddmin: the first complement
        return "middle"
    return "last" if k == m - 1 else "other"


def shrink_all(items: Sequence[tuple[Timeline, Finding, int]], oracle: Oracle) -> list[Counterexample]:
    """Shrink several users at once (one per class, as ``conform`` does); one call serves them all.

    Each round evaluates, in one sessionizer call, the pending step of every search and (with a
    batching sessionizer) the steps that may follow it, up to :attr:`Oracle.states` search states
    and ``Oracle.max_rows`` rows. Decisions are those of a step-by-step search, so the counterexamples
    are the same; only the number of calls changes. Each result is then verified on its own.
    """
    searches = [_Shrinking(tl, f, oracle.params) for tl, f, _ in items]
    while True:
        for s in searches:
            s.advance(oracle)
        live = [s for s in searches if s.step is not None]
        if not live:
            break
        rows = max(1, oracle.max_rows // len(live))
        batch: list[Timeline] = []
        for s in live:
            batch += s.ahead(oracle.states, rows)
            s.calls += 1
        before = oracle.calls
        oracle.findings(batch)
        for s in live:
            s.calls += oracle.calls - before - 1
    out = []
    for s, (tl, finding, user_id) in zip(searches, items, strict=True):
        small = s.result if s.result is not None else tl
        before = oracle.calls
        ref, cand, found = oracle.run([small])[0]  # on its own: no other user in the workload
        verified = s.fits(found)
        out.append(
            Counterexample(
                cls=finding.cls,
                detail=found.detail if found is not None and verified else finding.detail,
                user_id=user_id,
                source_rows=len(tl),
                timeline=small,
                reference=_session_numbers(ref, small.ts),
                candidate=_session_numbers(cand, small.ts),
                verified=verified,
                calls=s.calls + oracle.calls - before,
            )
        )
    return out


def shrink(tl: Timeline, finding: Finding, oracle: Oracle, user_id: int = 0) -> Counterexample:
    """Shrink ``tl`` (a user whose difference is ``finding``) to a minimal counterexample."""
    return shrink_all([(tl, finding, user_id)], oracle)[0]

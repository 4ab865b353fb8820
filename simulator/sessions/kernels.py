"""Pure numpy kernels: sorted columns in, per-row split causes out. No I/O, no validation.

:func:`split_causes` takes columns sorted by (user, ts) and returns an int8 array of
:class:`~simulator.sessions.rules.SplitCause` codes: non-zero where a session starts, naming the rule
that started it. Session ids are ``np.cumsum(causes != 0) - 1``.

How rules combine (the same semantics as the per-event reference in ``tests/sessions/reference.py``):
at each row, the rules are asked in definition order whether the row starts a session given the
session so far; the first that says yes names the cause, and a user's first row is always
``NEW_USER``. Stateless rules are masks. Stateful rules depend on where the current session began,
which depends on every earlier cut, so they are evaluated together in one ordered pass over the
*segments* between stateless starts:

* each stateful rule offers ``next_start(cur, last)``: the first row after a session start ``cur``
  where it would cut, assuming nothing else cuts first (a searchsorted-style lookup, O(1) per start);
* a max-duration or fixed-window rule also fires on every row whose gap to the previous one is at
  least its limit, whatever the session so far: those rows are taken as stateless starts (at the
  rule's rank, with its cause) unless a shorter inactivity timeout already starts them;
* a round advances every still-open segment by one cut at once (vectorised over segments, in blocks
  of :data:`SEGMENTS` that stay in cache), so the cost is O(cuts) numpy work plus a small overhead
  per round. The first round visits every segment; most have no cut and drop out;
* a start's rank (the position of the rule that made it) is kept only when a stateful rule precedes
  a stateless one in the definition: then a segment reaches up to the next start, which the
  stateful rule names if it also fires there;
* segments that need many cuts (a heavy user under ``max_events(2)``) would need many rounds; after
  :data:`ROUNDS` rounds the rest is finished by pointer doubling over the rows of the remaining
  segments (``next^(2^k)``), which takes O(rows * log(cuts)) and no Python loop per cut.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from simulator.sessions.causes import SplitCause

#: A rule of :mod:`simulator.sessions.rules` (``stateful``, ``cause``, and ``starts`` or ``next_start``).
#: Typed loosely because the rules build on these kernels: importing them here would be a cycle.
Rule = Any

__all__ = [
    "BLOCK",
    "ROUNDS",
    "SEGMENTS",
    "Columns",
    "NextStart",
    "campaign_next_start",
    "count_next_start",
    "dynamic_gap_starts",
    "elapsed_next_start",
    "flag_starts",
    "inactivity_starts",
    "local_days",
    "midnight_starts",
    "new_user_starts",
    "session_event_starts",
    "session_ids",
    "split_causes",
]

DAY_MS = 86_400_000
#: Rows per block of the stateless pass (temporaries of this many rows stay in cache).
BLOCK = 1 << 15
_CACHE_SPAN = 400 * DAY_MS  # time-zone transitions are looked up (and cached) per 400-day window
#: Segments per block of a round of the stateful pass.
SEGMENTS = 1 << 15
#: Rounds of the vectorised stateful pass before the remaining segments switch to pointer doubling.
ROUNDS = 24
_SAMPLE_MS = 6 * 3_600_000  # time-zone offsets are sampled every 6 h, then transitions bisected
_NEW_USER = int(SplitCause.NEW_USER)


#: For a stateful rule: given session-start rows ``cur`` and ``last``, the last row of each one's
#: segment that the kernel asks about (the row before the next start a stateless rule or a new user
#: makes, or that start itself when a stateful rule may have to name it), the first row ``j > cur``
#: at which the rule starts a session, assuming no other start in between. Rows ``cur..last`` are one
#: user's, in time order. Only values ``<= last`` are used, so a rule may look past ``last``; it
#: returns anything ``> last`` (e.g. the number of rows) for "never".
NextStart = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Columns(NamedTuple):
    """Columns sorted by (user, ts): int64 user codes, int64 epoch ms, int32 campaign codes (-1 none).

    Rules that need more of each event read the optional per-event arrays: ``event`` (event names,
    a str or object array; for session-event rules), ``gap`` (int64 ms each event keeps the session
    open, -1 where the event has none; for dynamic-gap rules), ``flag`` (bool, a new-session flag;
    for flag rules) and ``referral`` (int codes of the referring site that brought the hit, -1 where
    none; for campaign-change rules that treat a referral as a change of source).
    """

    user: np.ndarray
    ts: np.ndarray
    campaign: np.ndarray | None = None
    event: np.ndarray | None = None
    gap: np.ndarray | None = None
    flag: np.ndarray | None = None
    referral: np.ndarray | None = None

    def rows(self, lo: int, hi: int) -> Columns:
        """Rows ``[lo, hi)`` of every column that is present."""
        return Columns(*(None if col is None else col[lo:hi] for col in self))


def new_user_starts(cols: Columns) -> np.ndarray:
    """True on each user's first row."""
    out = np.empty(len(cols.user), dtype=np.bool_)
    if len(out):
        out[0] = True
        np.not_equal(cols.user[1:], cols.user[:-1], out=out[1:])
    return out


def inactivity_starts(cols: Columns, timeout: int, boundary: str) -> np.ndarray:
    """True where the gap to the previous row exceeds ``timeout`` (equals it too if ``boundary='new'``)."""
    out = np.zeros(len(cols.ts), dtype=np.bool_)
    if len(out) > 1:
        gap = np.subtract(cols.ts[1:], cols.ts[:-1])
        (np.greater if boundary == "same" else np.greater_equal)(gap, timeout, out=out[1:])
    return out


#: Instants (epoch ms) a ``datetime`` holds in any zone: years 1 to 9999, two days in from each end.
_FIRST_MS, _LAST_MS = (
    (dt.datetime(*day, tzinfo=dt.UTC) - dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    // dt.timedelta(milliseconds=1)
    for day in ((1, 1, 3), (9999, 12, 29))
)


def _offset_ms(zone: ZoneInfo, t_ms: int) -> int:
    """The zone's UTC offset at ``t_ms``; beyond what a datetime holds, the offset at the nearest end."""
    t_ms = min(max(t_ms, _FIRST_MS), _LAST_MS)
    when = dt.datetime.fromtimestamp(t_ms / 1000, tz=zone)
    return int(when.utcoffset().total_seconds() * 1000)


@functools.lru_cache(maxsize=64)
def _transitions(tz: str, lo_ms: int, hi_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """UTC instants from which each UTC offset (ms) applies, over [lo_ms, hi_ms].

    zoneinfo has no public list of transitions, so the offset is sampled every 6 hours and each change
    is bisected to the millisecond (no zone changes its offset twice within 6 hours).
    """
    zone = ZoneInfo(tz)
    samples = [*range(lo_ms, hi_ms, _SAMPLE_MS), hi_ms]
    offsets = [_offset_ms(zone, t) for t in samples]
    starts, values = [lo_ms], [offsets[0]]
    for k in range(1, len(samples)):
        if offsets[k] == offsets[k - 1]:
            continue
        a, b = samples[k - 1], samples[k]  # offset(a) != offset(b): find the first t with offset(b)
        while b - a > 1:
            mid = (a + b) // 2
            a, b = (a, mid) if _offset_ms(zone, mid) == offsets[k] else (mid, b)
        starts.append(b)
        values.append(offsets[k])
    return np.asarray(starts, dtype=np.int64), np.asarray(values, dtype=np.int64)


def local_days(ts: np.ndarray, tz: str) -> np.ndarray:
    """The local calendar day (days since 1970-01-01 in zone ``tz``) of each epoch-ms timestamp."""
    if tz == "UTC" or not len(ts):
        return np.floor_divide(ts, DAY_MS)
    lo, hi = int(ts.min()), int(ts.max())
    # Round the range out to whole windows so that the calls for each block share the cache.
    span = _CACHE_SPAN
    starts, offsets = _transitions(tz, (lo // span - 1) * span, (hi // span + 2) * span)
    # Only the offsets in force within [lo, hi] matter; most blocks of rows see one.
    first, stop = np.searchsorted(starts, (lo, hi), side="right")
    if stop - first <= 0:
        return np.floor_divide(ts + offsets[first - 1], DAY_MS)
    offset = offsets[first - 1 : stop][np.searchsorted(starts[first:stop], ts, side="right")]
    offset += ts
    return np.floor_divide(offset, DAY_MS, out=offset)


def midnight_starts(cols: Columns, tz: str) -> np.ndarray:
    """True where the local calendar date in ``tz`` differs from the previous row's."""
    out = np.zeros(len(cols.ts), dtype=np.bool_)
    if len(out) > 1:
        days = local_days(cols.ts, tz)
        np.not_equal(days[1:], days[:-1], out=out[1:])
    return out


def _needs(cols: Columns, field: str, rule: str, how: str) -> np.ndarray:
    values = getattr(cols, field)
    if values is None:
        raise ValueError(f"rule {rule!r} needs {how} per event (the {field} column), but none was given")
    return values


def _run_first(cols: Columns) -> np.ndarray:
    """For each row, the index of its user's first row."""
    first = np.where(new_user_starts(cols), np.arange(len(cols.user), dtype=np.int64), 0)
    return np.maximum.accumulate(first) if len(first) else first


def dynamic_gap_starts(cols: Columns, default: int | None, boundary: str) -> np.ndarray:
    """True where no earlier row of the same user covers the row: row ``k`` covers up to
    ``ts[k] + gap[k]``, and a row starts a session when its time is past (``boundary='same'``), or at
    or past (``'new'``), the largest such end over the user's earlier rows (Spark's and Flink's
    session windows with a dynamic gap merge the windows ``[ts, ts + gap)``).

    Needs the whole log (the cover runs over all of a user's earlier rows), not a block of it. The
    running maximum per user is a segmented scan by doubling: ``log2(longest user)`` vector steps.
    """
    gap = _needs(cols, "gap", "dynamic_gap", "a gap")
    missing = gap < 0
    if missing.any():
        if default is None:
            row = int(np.flatnonzero(missing)[0])
            raise ValueError(f"event {row} has no gap value and rule 'dynamic_gap' has no default")
        gap = np.where(missing, default, gap)
    n = len(cols.ts)
    out = np.zeros(n, dtype=np.bool_)
    if n <= 1:
        return out
    cover = cols.ts + gap
    first = _run_first(cols)
    pos = np.arange(n, dtype=np.int64)
    step, longest = 1, int((pos - first).max()) + 1
    while step < longest:
        back = pos[step:] - step
        reach = back >= first[step:]
        # Hillis-Steele: the new value from the old ones, so compute before writing.
        merged = np.where(reach, np.maximum(cover[step:], cover[back]), cover[step:])
        cover[step:] = merged
        step <<= 1
    prev = cover[:-1]
    (np.greater if boundary == "same" else np.greater_equal)(cols.ts[1:], prev, out=out[1:])
    return out


def session_event_starts(cols: Columns, start: str | None, end: str | None) -> np.ndarray:
    """True on a ``start`` event and on the row after an ``end`` event (the user's first row aside)."""
    event = _needs(cols, "event", "session_events", "an event name")
    out = np.zeros(len(cols.ts), dtype=np.bool_)
    if start is not None:
        out |= event == start
    if end is not None and len(out) > 1:
        out[1:] |= event[:-1] == end
    return out


def flag_starts(cols: Columns) -> np.ndarray:
    """True where the event's new-session flag is set."""
    return np.asarray(_needs(cols, "flag", "flag", "a new-session flag"), dtype=np.bool_).copy()


def elapsed_next_start(cols: Columns, limit: int) -> NextStart:
    """Next start for max-duration and fixed-window rules: the first row ``>= ts[cur] + limit``."""
    ts = cols.ts

    def next_start(cur: np.ndarray, last: np.ndarray) -> np.ndarray:
        target = ts.take(cur)
        target += limit
        out = last + 1
        # Most sessions end before the limit: only search the segments whose last row reaches it.
        hit = np.flatnonzero(ts.take(last) >= target)
        if len(hit):
            # ts[last] >= target, so the first such row is in (cur, last].
            out[hit] = _first_at_least(ts, cur.take(hit) + 1, last.take(hit), target.take(hit))
        return out

    return next_start


#: Searches over more rows than this run apart from the others, so the short ones stop early.
_LONG_SEARCH = 255


def _first_at_least(ts: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Vectorised binary search: first ``j`` in ``[lo, hi)`` with ``ts[j] >= target`` (``hi`` if none).

    ``ts`` must be non-decreasing on each ``[lo, hi)``. The rows of one user are, while the whole
    array is not, so ``np.searchsorted`` cannot be used without a packed global key.
    """
    size = hi - lo
    long = np.flatnonzero(size > _LONG_SEARCH)
    if not len(long) or len(long) == len(size):
        return _lower_bound(ts, lo, size, target)
    short = np.flatnonzero(size <= _LONG_SEARCH)
    out = np.empty_like(lo)
    out[short] = _lower_bound(ts, lo.take(short), size.take(short), target.take(short))
    out[long] = _lower_bound(ts, lo.take(long), size.take(long), target.take(long))
    return out


def _lower_bound(ts: np.ndarray, lo: np.ndarray, size: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Branchless binary search over ``[lo, lo + size)`` by binary lifting: ``pos`` is the last row
    known to be below the target and advances by each power of two, largest first, that keeps it so.
    Whole-array arithmetic, ``bit_length(max(size))`` steps, no compaction."""
    hi = lo + size
    pos = lo - 1
    step = 1 << (int(size.max()).bit_length() - 1) if len(size) and size.max() > 0 else 0
    while step:
        probe = pos + step
        below = probe < hi
        below &= ts.take(probe, mode="clip") < target  # a probe at or past hi may be past the end
        pos += below * step
        step >>= 1
    return pos + 1


def count_next_start(cols: Columns, n_events: int) -> NextStart:
    """Next start for max-events rules: the ``n + 1``-th row of the session."""

    def next_start(cur: np.ndarray, last: np.ndarray) -> np.ndarray:
        return cur + n_events

    return next_start


def _next_index_at_or_after(flags: np.ndarray) -> np.ndarray:
    """For each i in [0, n], the first j >= i with ``flags[j]`` (n when none); length n + 1."""
    n = len(flags)
    idx = np.where(flags, np.arange(n, dtype=np.int64), n)
    out = np.empty(n + 1, dtype=np.int64)
    out[n] = n
    out[:n] = np.minimum.accumulate(idx[::-1])[::-1]
    return out


def campaign_next_start(cols: Columns, from_none: str) -> NextStart:
    """Next start for campaign-change rules (see :class:`~simulator.sessions.rules.CampaignChange`).

    A *conflict* is a row with a campaign that differs from the previous row with a campaign. In a
    session that began on a row with campaign ``c``, every later campaign row equals ``c`` until the
    first conflict, which is the cut. In a session that began without one, the first campaign row
    ``f`` cuts (``split``) or becomes the session's campaign (``adopt``: the cut is the first conflict
    after ``f``).
    """
    n = len(cols.ts)
    if cols.campaign is None:
        return lambda cur, last: np.full(len(cur), n + 1, dtype=np.int64)
    camp = cols.campaign
    has = camp >= 0
    last = np.maximum.accumulate(np.where(has, np.arange(n, dtype=np.int64), -1))
    prev = np.empty(n, dtype=np.int64)
    prev[:1] = -1
    prev[1:] = last[:-1]  # the previous row with a campaign, -1 if none
    conflict = has & (prev >= 0) & (camp != camp[np.maximum(prev, 0)])
    next_conflict = _next_index_at_or_after(conflict)
    next_campaign = _next_index_at_or_after(has)

    def next_start(cur: np.ndarray, last: np.ndarray) -> np.ndarray:
        out = next_conflict[cur + 1]
        bare = ~has[cur]
        first = next_campaign[cur[bare] + 1]
        out[bare] = first if from_none == "split" else next_conflict[np.minimum(first + 1, n)]
        return out

    return next_start


class _Stateful(NamedTuple):
    rank: int
    cause: int
    next_start: NextStart


class _Cut(NamedTuple):
    at: np.ndarray  # the row of the next cut (> last: none within the segment)
    which: np.ndarray | None  # index into the stateful rules of the rule that makes it (None: the only one)


def _next_cut(rules: Sequence[_Stateful], cur: np.ndarray, last: np.ndarray) -> _Cut:
    """The first cut after each ``cur`` over all stateful rules (the earlier rule wins a tie)."""
    at = np.asarray(rules[0].next_start(cur, last), dtype=np.int64)
    if len(rules) == 1:
        return _Cut(at, None)
    which = np.zeros(len(cur), dtype=np.int8)
    for k, rule in enumerate(rules[1:], start=1):  # in definition order: on a tie the earlier rule stays
        cand = rule.next_start(cur, last)
        _overwrite(which, cand < at, k)
        at = np.minimum(at, cand)
    return _Cut(at, which)


class _Writer(NamedTuple):
    """Writes cuts into ``causes``; with ``ranks``, a cut on a stateless start must win on rank."""

    causes: np.ndarray
    ranks: np.ndarray | None
    cause: np.ndarray  # int8 cause per stateful rule
    rank: np.ndarray  # int16 rank per stateful rule

    def write(self, rows: np.ndarray, which: np.ndarray | None) -> None:
        cause = self.cause[0] if which is None else self.cause.take(which)
        if self.ranks is not None:
            # A row that already starts a session is the next stateless start (a segment extended by
            # one row): the stateful rule names it only if it comes first in the definition.
            rank = self.rank[0] if which is None else self.rank.take(which)
            keep = np.flatnonzero((self.causes.take(rows) == 0) | (self.ranks.take(rows) > rank))
            rows = rows.take(keep)
            cause = cause if which is None else cause.take(keep)
        self.causes[rows] = cause


def _lasts(causes: np.ndarray, ranks: np.ndarray | None, cur: np.ndarray, first_rank: int) -> np.ndarray:
    """The last row of each start's segment: the row before the next start, or that start itself
    where a stateful rule listed before the stateless rule that made it may name it."""
    last = np.empty_like(cur)
    np.subtract(cur[1:], 1, out=last[:-1])
    last[-1:] = len(causes) - 1
    if ranks is not None:
        last[np.flatnonzero(ranks.take(cur[1:]) > first_rank)] += 1  # a user's first row has rank -1
    return last


def _advance(
    stateful: Sequence[_Stateful], writer: _Writer, cur: np.ndarray, last: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One round: each segment's next cut, written; the segments that had one, from that cut on.

    Many segments go in blocks of :data:`SEGMENTS`, so that the rows and temporaries of a block stay
    in cache (the first rounds visit most sessions).
    """
    if len(cur) > SEGMENTS:
        parts = [
            _advance(stateful, writer, cur[a : a + SEGMENTS], last[a : a + SEGMENTS])
            for a in range(0, len(cur), SEGMENTS)
        ]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    cut = _next_cut(stateful, cur, last)
    inside = np.flatnonzero(cut.at <= last)
    cur, last = cut.at.take(inside), last.take(inside)
    writer.write(cur, None if cut.which is None else cut.which.take(inside))
    return cur, last


def _stateful_pass(
    cols: Columns, stateful: Sequence[_Stateful], causes: np.ndarray, ranks: np.ndarray | None
) -> None:
    """Add the cuts of the stateful rules to ``causes`` (which holds the stateless starts).

    ``ranks`` (None when no stateful rule precedes a stateless one) holds, on each start, the position
    in the definition of the rule that made it. The first round visits every segment and keeps those
    with a cut: most sessions are short, so later rounds only touch the few long segments.
    """
    writer = _Writer(
        causes,
        ranks,
        np.array([s.cause for s in stateful], dtype=np.int8),
        np.array([s.rank for s in stateful], dtype=np.int16),
    )
    cur = np.flatnonzero(np.not_equal(causes, 0))  # a bool mask: much faster to scan than int8
    last = _lasts(causes, ranks, cur, min(s.rank for s in stateful))
    for _ in range(ROUNDS):
        if not len(cur):
            return
        cur, last = _advance(stateful, writer, cur, last)
    if len(cur):
        _doubling(stateful, cur, last, writer)


def _doubling(stateful: Sequence[_Stateful], cur: np.ndarray, last: np.ndarray, writer: _Writer) -> None:
    """Finish long segments: every cut is on the chain ``cur, next(cur), next(next(cur)), ...``.

    The rows ``[cur, last]`` of the remaining segments are laid out contiguously; ``P`` maps a row's
    position to the position of its next cut (``m`` past the segment). Doubling ``P`` (``P = P[P]``)
    while adding ``P[R]`` to the reached set ``R`` reaches chains of length ``L`` in ``log2(L)`` steps.
    """
    lens = last - cur + 1
    m = int(lens.sum())
    base = np.zeros(len(cur), dtype=np.int64)
    np.cumsum(lens[:-1], out=base[1:])
    pos = np.arange(m, dtype=np.int64)
    rows = pos + np.repeat(cur - base, lens)
    row_last = np.repeat(last, lens)
    cut = _next_cut(stateful, rows, row_last)
    jump = np.full(m + 1, m, dtype=np.int64)
    inside = np.flatnonzero(cut.at <= row_last)
    jump[inside] = pos.take(inside) + (cut.at.take(inside) - rows.take(inside))
    reached = base
    while True:
        new = jump[reached]
        new = new[new < m]
        if not len(new):
            break
        reached = np.concatenate((reached, new))
        jump = jump[jump]
    reached.sort()
    is_root = np.zeros(m, dtype=np.bool_)
    is_root[base] = True
    made = np.flatnonzero(~is_root[reached[1:]])
    at, by = reached[1:].take(made), reached[:-1].take(made)
    writer.write(rows.take(at), None if cut.which is None else cut.which.take(by))


def split_causes(cols: Columns, rules: Sequence[Rule], timezone: str = "UTC") -> np.ndarray:
    """Evaluate ``rules`` over sorted ``cols``; the first rule (in order) that fires names the cause.

    Parameters
    ----------
    cols
        Columns sorted by (user, ts).
    rules
        The definition's rules, in priority order.
    timezone
        The analytics property's IANA time zone, for midnight rules that do not name their own.

    Returns
    -------
    numpy.ndarray
        int8 :class:`SplitCause` per row; non-zero where a session starts.
    """
    n = len(cols.ts)
    causes = np.empty(n, dtype=np.int8)
    stateful = [
        _Stateful(rank, int(rule.cause), rule.next_start(cols, timezone))
        for rank, rule in enumerate(rules)
        if rule.stateful
    ]
    stateless = [(rank, _whole(rule, cols, timezone)) for rank, rule in enumerate(rules) if not rule.stateful]
    stateless += _forced_starts(rules)
    # Later rules first, so earlier rules overwrite: the cause shown is the first rule that fires.
    stateless.sort(key=lambda entry: -entry[0])
    # Each start also records the position of the rule that made it, when a stateful rule listed
    # before a stateless one may have to name a stateless start.
    ranks = None
    if stateful and any(rank > stateful[0].rank for rank, _ in stateless):
        ranks = np.empty(n, dtype=np.int16)
    for a in range(0, n, BLOCK):
        _stateless_block(cols, stateless, timezone, (a, min(a + BLOCK, n)), causes=causes, ranks=ranks)
    if stateful and n:
        _stateful_pass(cols, stateful, causes, ranks)
    return causes


class _Whole(NamedTuple):
    """A stateless rule that needs the whole log (``whole = True``), evaluated once over it."""

    mask: np.ndarray
    cause: int


def _whole(rule: Rule, cols: Columns, timezone: str) -> Rule:
    """A rule that needs the whole log, evaluated once over it; any other rule as it is."""
    return _Whole(rule.starts(cols, timezone), int(rule.cause)) if getattr(rule, "whole", False) else rule


class _GapStarts(NamedTuple):
    """A stateless stand-in for the rows where a stateful rule fires whatever the session so far."""

    gap: int
    cause: int

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        return inactivity_starts(cols, self.gap, "new")


def _forced_starts(rules: Sequence[Rule]) -> list[tuple[int, _GapStarts]]:
    """Stateless starts standing in for stateful rules that fire on any gap of ``gap_start`` or more.

    A max-duration or fixed-window rule fires on a row whose gap to the previous row is at least its
    limit, wherever the session began. Taking those rows as stateless starts (at the rule's rank,
    with its cause) splits the long segments (a user's visits days apart under a 24-hour window)
    before the ordered pass. Rows that a stateless rule already starts on every such gap (an
    inactivity timeout shorter than the limit) need no stand-in.
    """
    covered = min(
        (getattr(rule, "gap_start", None) or np.inf for rule in rules if not rule.stateful), default=np.inf
    )
    return [
        (rank, _GapStarts(rule.gap_start, int(rule.cause)))
        for rank, rule in enumerate(rules)
        if rule.stateful and getattr(rule, "gap_start", None) is not None and rule.gap_start < covered
    ]


def _stateless_block(
    cols: Columns,
    stateless: Sequence[tuple[int, Rule]],
    timezone: str,
    span: tuple[int, int],
    *,
    causes: np.ndarray,
    ranks: np.ndarray | None,
) -> None:
    """Stateless starts of rows ``[a, b)``, from a view with one row of look-behind.

    Working in blocks of :data:`BLOCK` rows keeps the temporaries (gaps, masks) in cache: one pass
    over memory instead of one per temporary.
    """
    a, b = span
    lo = a - 1 if a else 0
    view = cols.rows(lo, b)
    out = causes[a:b]
    out.fill(0)
    for rank, rule in stateless:
        mask = rule.mask[a:b] if isinstance(rule, _Whole) else rule.starts(view, timezone)[a - lo :]
        _overwrite(out, mask, rule.cause)
        if ranks is not None:
            _overwrite(ranks[a:b], mask, rank)
    new_user = new_user_starts(view)[a - lo :]
    _overwrite(out, new_user, _NEW_USER)
    if ranks is not None:
        _overwrite(ranks[a:b], new_user, -1)


def _overwrite(out: np.ndarray, mask: np.ndarray, value: int) -> None:
    """``out[mask] = value`` as ``out += mask * (value - out)``: SIMD integer arithmetic, no gather."""
    step = np.subtract(value, out, dtype=out.dtype)
    step *= mask
    out += step


def session_ids(causes: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """int64 session ids (from 0, in row order) from split causes (a blocked cumulative sum).

    With ``order`` (the permutation that sorted the rows), the ids are scattered back to the
    original rows block by block: ``ids[order] = session_ids(causes)`` without the temporary.
    """
    n = len(causes)
    ids = np.empty(n, dtype=np.int64)
    block = np.empty(min(n, BLOCK), dtype=np.int64) if order is not None else None
    offset = -1
    for a in range(0, n, BLOCK):
        b = min(a + BLOCK, n)
        out = ids[a:b] if block is None else block[: b - a]
        np.cumsum(causes[a:b] != 0, dtype=np.int64, out=out)
        out += offset
        offset = int(out[-1])
        if order is not None:
            ids[order[a:b]] = out
    return ids

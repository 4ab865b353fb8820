"""Agreement between two partitions into sessions, and what kind of difference one user shows.

Partitions are compared, not ids: two sessionizers agree on an event when the *set* of events in its
session is the same under both. A user's difference is classified at its earliest differing session
start (later differences are often consequences of the first):

=============  ================================================================================
ordering       the candidate agrees when the user's rows arrive in time order: it depends on
               input order (did not sort, or sorted on the wrong key)
ties           the events that differ share one timestamp, and a session boundary cuts through them
boundary       the gap at the differing start is exactly a timeout of the definition: the
               candidate uses the other convention (``>`` vs ``>=``)
midnight       the calendar date changes there, in UTC or the property's time zone: a midnight
               split in the wrong time zone, or where the definition has none (or the reverse)
campaign       the campaign changes there (``""`` is none): campaign-change handling differs
max_duration   inside a long session: a cap on duration, events or a fixed window differs
other          none of the above
=============  ================================================================================
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from simulator.schema import format_duration
from simulator.sessions import get_definition

__all__ = ["CLASSES", "Agreement", "Finding", "RuleParams", "agreement", "classify", "rule_params"]

CLASSES: dict[str, str] = {
    "ordering": "depends on input row order (agrees when rows come in time order)",
    "ties": "differs only among events with identical timestamps",
    "boundary": "differs only at a gap of exactly the timeout (boundary convention)",
    "midnight": "differs where the calendar date changes (time zone of midnight)",
    "campaign": "differs where the campaign changes (campaign handling)",
    "max_duration": "differs inside a long session (max duration / events / window)",
    "other": "none of the above",
}


@dataclass(frozen=True, slots=True)
class RuleParams:
    """What classification needs to know about a definition, read from its rules by duck typing."""

    timeouts_ms: tuple[int, ...] = ()
    midnight_zones: tuple[str, ...] = ()
    campaign: bool = False
    caps: tuple[str, ...] = ()  #: names of cap rules (max_duration, max_events, fixed_window)
    midnight: bool = False  #: has a midnight rule (zones it names are in ``midnight_zones``)


def rule_params(definition: Any) -> RuleParams:
    """Read timeouts, midnight zones, campaign and cap rules from a definition's rule records
    (a definition's name, or the definition)."""
    timeouts, zones, caps, campaign, midnight = [], [], [], False, False
    defn = get_definition(definition) if isinstance(definition, str) else definition
    for rule in defn.rules:
        name = str(getattr(rule, "name", type(rule).__name__)).lower()
        values = (
            {f.name: getattr(rule, f.name) for f in dataclasses.fields(rule)}
            if dataclasses.is_dataclass(rule)
            else dict(vars(rule))
        )
        if name == "inactivity":
            timeouts.append(int(rule.timeout_ms))
        elif name == "midnight":
            midnight = True
            zones += [v for v in values.values() if isinstance(v, str) and v]
        elif name.startswith("campaign"):
            campaign = True
        elif name in {"max_duration", "max_events", "fixed_window"}:
            caps.append(name)
    return RuleParams(tuple(timeouts), tuple(zones), campaign, tuple(caps), midnight)


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far two partitions of the same rows agree."""

    events: int
    events_agree: int  #: events whose session (as a set of events) is the same in both
    sessions_ref: int
    sessions_cand: int
    sessions_agree: int  #: reference sessions that the candidate has exactly
    users: int
    users_disagree: int

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


def _sizes(ids: np.ndarray) -> np.ndarray:
    return np.bincount(ids)[ids]


def agreeing_rows(ref: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """True on rows whose reference session and candidate session hold the same rows (global ids)."""
    if not len(ref):
        return np.ones(0, dtype=np.bool_)
    key = ref.astype(np.int64) * (int(cand.max()) + 1) + cand  # ids are dense, < len(rows)
    pair = np.unique(key, return_inverse=True)[1].reshape(-1)
    return (_sizes(ref) == _sizes(cand)) & (_sizes(ref) == _sizes(pair))


def agreement(user: np.ndarray, ref: np.ndarray, cand: np.ndarray) -> tuple[Agreement, np.ndarray]:
    """The :class:`Agreement` and the sorted ids of users whose partitions differ."""
    ok = agreeing_rows(ref, cand)
    bad_users = np.unique(user[~ok])
    agr = Agreement(
        events=len(ref),
        events_agree=int(ok.sum()),
        sessions_ref=len(np.unique(ref)),
        sessions_cand=len(np.unique(cand)),
        sessions_agree=len(np.unique(ref[ok])),
        users=len(np.unique(user)),
        users_disagree=len(bad_users),
    )
    return agr, bad_users


@dataclass(frozen=True, slots=True)
class Finding:
    """A classified difference: the class, a sentence saying what happened, the row (time order).

    ``alternatives`` lists other classes that fit the same row equally well (a gap of exactly 30 min
    that also crosses midnight); such a finding is *ambiguous*.
    """

    cls: str
    detail: str
    row: int
    alternatives: tuple[str, ...] = ()


def _dense(ids: np.ndarray) -> np.ndarray:
    return np.unique(ids, return_inverse=True)[1].reshape(-1)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(agreeing_rows(_dense(a), _dense(b)).all())


def _date_changes(t0: int, t1: int, zones: list[str]) -> list[str]:
    out = []
    for zone in zones:
        tz = ZoneInfo(zone)
        d0 = dt.datetime.fromtimestamp(t0 / 1000, tz).date()
        d1 = dt.datetime.fromtimestamp(t1 / 1000, tz).date()
        if d0 != d1:
            out.append(zone)
    return out


class _Rows(NamedTuple):
    """One user's rows in time order: epoch ms, campaign, reference ids, candidate ids."""

    t: np.ndarray
    c: np.ndarray
    r: np.ndarray
    k: np.ndarray


def classify(
    ts: np.ndarray,
    campaign: np.ndarray,
    ref: np.ndarray,
    cand: np.ndarray,
    *,
    params: RuleParams,
    timezone: str,
    cand_sorted: np.ndarray | None = None,
) -> Finding | None:
    """Classify how one user's candidate partition differs from the reference; None if it does not.

    The earliest differing session start decides (later ones are often its consequences: a wrong
    split moves the campaign or duration state the next rules see). When it fits several classes
    it is returned with its ``alternatives``, and :func:`~simulator.testbench.conform.conform`
    assigns the user to the class most unambiguous users show.

    Parameters
    ----------
    ts, campaign, ref, cand
        The user's rows in input order: epoch ms, campaign ("" none), reference and candidate ids.
    params, timezone
        The definition's rule parameters and the property's time zone.
    cand_sorted
        Candidate ids for the same rows when they were given in time order (for ``ordering``).
    """
    if _same_partition(ref, cand):
        return None
    order = np.argsort(ts, kind="stable")
    in_order = bool(np.all(order == np.arange(len(order))))
    if cand_sorted is not None and not in_order and _same_partition(ref, cand_sorted):
        return Finding("ordering", "agrees when the rows arrive in time order; differs in input order", 0)
    rows = _Rows(ts[order], campaign[order], ref[order], cand[order])
    r, k = rows.r, rows.k
    diff = np.flatnonzero((r[1:] != r[:-1]) != (k[1:] != k[:-1])) + 1
    if not len(diff):
        return Finding("other", "the candidate's sessions interleave in time", 0)
    return _at_row(int(diff[0]), rows, params, timezone)


def _features(d: int, rows: _Rows, params: RuleParams, timezone: str, who: str) -> list[tuple[str, str]]:
    """Every class whose signature row ``d`` shows, in priority order, with its sentence."""
    t, c, r, k = rows
    other = "the reference" if who == "the candidate" else "the candidate"
    out = []
    tie = t == t[d]
    if len(np.unique(r[tie])) > 1 or len(np.unique(k[tie])) > 1:
        out.append(("ties", f"{who} puts events with the same timestamp into different sessions"))
    gap = int(t[d] - t[d - 1])
    if gap in params.timeouts_ms:
        sentence = f"gap of exactly {format_duration(gap)}: {who} starts a new session, {other} does not"
        out.append(("boundary", sentence))
    # the reference splits only by its own rules: no midnight or campaign class where it has none
    candidate = who == "the candidate"
    zones = _date_changes(
        int(t[d - 1]), int(t[d]), list(dict.fromkeys(["UTC", timezone, *params.midnight_zones]))
    )
    if zones and (candidate or params.midnight):
        rule = (
            "midnight in " + (", ".join(params.midnight_zones) or f"the property's zone, {timezone}")
            if params.midnight
            else "no midnight rule"
        )
        sentence = (
            f"{who} starts a session where the date changes in {' and '.join(zones)} "
            f"(gap {format_duration(gap)}; the definition has {rule})"
        )
        out.append(("midnight", sentence))
    if c[d] != c[d - 1] and (candidate or params.campaign):
        out.append(
            ("campaign", f"campaign {c[d - 1] or '(none)'} -> {c[d] or '(none)'}: {who} starts a new session")
        )
    return out


def _at_row(d: int, rows: _Rows, params: RuleParams, timezone: str) -> Finding:
    """Classify the differing session start at row ``d`` (time order)."""
    t, _, r, k = rows
    who = "the candidate" if k[d] != k[d - 1] else "the reference"
    feats = _features(d, rows, params, timezone, who)
    if feats:
        return Finding(feats[0][0], feats[0][1], d, tuple(f[0] for f in feats[1:]))
    keep = k if who == "the reference" else r  # the side that does *not* split at d
    start = int(np.flatnonzero(keep[:d] != keep[d - 1]).max(initial=-1)) + 1
    elapsed, events = int(t[d] - t[start]), d - start
    timeout = min(params.timeouts_ms, default=30 * 60_000)
    if int(t[d] - t[d - 1]) <= timeout and (params.caps or elapsed >= timeout):
        sentence = f"{who} ends a session after {format_duration(elapsed)} and {events} events"
        return Finding("max_duration", sentence, d)
    return Finding(
        "other", f"{who} starts a session after a gap of {format_duration(int(t[d] - t[d - 1]))}", d
    )

"""Bridges between two reports of the same traffic: definition A -> definition B, and day by day.

**Definition A -> definition B** matches session starts hit by hit on the same tracked hits::

    sessions_B = sessions_A
               + hits where B starts a session and A does not   (split_<rule>: B's rule that fired)
               - hits where A starts a session and B does not   (merged_<rule>: A's rule B overrules)

**Day by day across time zones**, per definition and calendar day D::

    sessions on D (property's days) = ad clicks on D (ad account's days)
        + timezone_shift    clicks on D in the property's days - clicks on D in the ad account's days
        + the clicks -> sessions terms of D (causes as in :data:`simulator.analysis.bridges.VOCABULARY`)
        + landed_next_day   a click just before midnight whose landing opened a session after it

Local days come from :mod:`zoneinfo`, so they are DST-correct (a day may last 23 or 25 hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from simulator.analysis.bridges import (
    LANDED_LATER,
    VOCABULARY,
    Bridge,
    click_ledger,
    make_bridge,
    split_labels,
)
from simulator.log.events import EventLog, Kind
from simulator.sessions.rules import SplitCause

__all__ = [
    "DAY_VOCABULARY",
    "Comparison",
    "DayBridge",
    "compare_definitions",
    "compare_vocabulary",
    "daily_bridges",
    "local_days",
]

_RULE_PHRASES = {
    "new_user": "a new user (or cookie)",
    "inactivity": "an inactivity gap",
    "midnight": "midnight",
    "campaign_change": "a change of campaign",
    "max_duration": "the maximum session length",
    "max_events": "the maximum number of hits",
    "fixed_window": "the end of a fixed session window",
    "dynamic_gap": "the end of the events' own gaps",
    "session_event": "a session-start or session-end event",
    "flag": "a new-session flag",
}

#: Causes of a day-by-day bridge besides the clicks -> sessions vocabulary.
DAY_VOCABULARY: dict[str, str] = {
    "timezone_shift": "clicks that fall on another calendar day in the property's time zone than in "
    "the ad account's (only the time-zone shift; no click is gained or lost)",
    **VOCABULARY,
    LANDED_LATER: "a click just before midnight whose landing page (and session) came after it",
}


def compare_vocabulary(a: str = "A", b: str = "B") -> dict[str, str]:
    """Cause -> meaning for comparisons of definition ``a`` with ``b``, for every :class:`SplitCause`."""
    out: dict[str, str] = {}
    for label in split_labels().values():
        if label == "continues":
            continue
        phrase = _RULE_PHRASES.get(label, f"its {label} rule")
        out[f"split_{label}"] = f"sessions {b} starts at {phrase} where {a} continues the session"
    for label in split_labels().values():
        if label == "continues":
            continue
        phrase = _RULE_PHRASES.get(label, f"its {label} rule")
        out[f"merged_{label}"] = f"sessions {a} starts at {phrase} that {b} keeps inside another session"
    return out


@dataclass(frozen=True, slots=True)
class Comparison:
    """Definition ``a`` -> definition ``b`` on the same traffic; ``bridge.start`` is a's sessions."""

    a: str
    b: str
    bridge: Bridge

    def to_dict(self) -> dict[str, object]:
        return {"from": self.a, "to": self.b, "bridge": self.bridge.to_dict()}


def compare_definitions(split_a: np.ndarray, split_b: np.ndarray, a: str = "A", b: str = "B") -> Comparison:
    """The bridge from definition ``a``'s sessions to ``b``'s, matching session starts hit by hit.

    Parameters
    ----------
    split_a, split_b
        Split causes per tracked hit under each definition, aligned (same hits, same order).
    a, b
        The definitions' names (for the record).
    """
    if split_a.shape != split_b.shape:
        raise ValueError(f"split arrays differ in shape: {split_a.shape} and {split_b.shape}")
    starts_a, starts_b = split_a != SplitCause.CONTINUES, split_b != SplitCause.CONTINUES
    labels = split_labels()
    deltas: dict[str, int] = {}
    only_b, only_a = starts_b & ~starts_a, starts_a & ~starts_b
    for code, n in zip(*np.unique(split_b[only_b], return_counts=True), strict=True):
        deltas[f"split_{labels[int(code)]}"] = int(n)
    for code, n in zip(*np.unique(split_a[only_a], return_counts=True), strict=True):
        deltas[f"merged_{labels[int(code)]}"] = -int(n)
    start, end = int(np.count_nonzero(starts_a)), int(np.count_nonzero(starts_b))
    return Comparison(a, b, make_bridge(start, deltas, end, compare_vocabulary()))


def local_days(ts: np.ndarray, timezone: str) -> np.ndarray:
    """The local calendar date of each epoch-ms timestamp, as a proleptic Gregorian ordinal.

    Converts each distinct minute once with :mod:`zoneinfo` (every zone's offset and transitions
    are whole minutes since 1970), so it is DST-correct and fast on large logs.
    """
    zone = ZoneInfo(timezone)
    minutes = np.floor_divide(np.asarray(ts, dtype=np.int64), 60_000)
    uniq, inverse = np.unique(minutes, return_inverse=True)
    ordinals = np.fromiter(
        (dt.datetime.fromtimestamp(m * 60, zone).toordinal() for m in uniq.tolist()),
        dtype=np.int64,
        count=len(uniq),
    )
    return ordinals[inverse.reshape(-1)]


@dataclass(frozen=True, slots=True)
class DayBridge:
    """One calendar day: the ad account's clicks that day -> the property's sessions that day."""

    day: dt.date
    bridge: Bridge

    def to_dict(self) -> dict[str, object]:
        return {"day": self.day.isoformat(), **self.bridge.to_dict()}


def daily_bridges(
    log: EventLog, hits: np.ndarray, split: np.ndarray, timezone: str, ad_timezone: str
) -> tuple[DayBridge, ...]:
    """Day-by-day bridges from the ad account's daily clicks to the property's daily sessions.

    Parameters
    ----------
    log, hits, split
        As for :func:`simulator.analysis.bridges.clicks_to_sessions`.
    timezone
        The analytics property's time zone (its report days).
    ad_timezone
        The ad account's time zone (its report days).

    Returns
    -------
    tuple of DayBridge
        One per calendar day with a click or a session in either zone, in date order. Each day's
        ``start`` is that day's clicks in the ad account, ``end`` that day's sessions, and the
        ``timezone_shift`` term is the only difference between the two zones' click counts.
    """
    clicks = (log.kind == Kind.CLICK) & log.counted
    click_ts = log.ts[clicks]
    ad_days = local_days(click_ts, ad_timezone)
    prop_days = local_days(click_ts, timezone)
    session_days = local_days(log.ts[hits][split != SplitCause.CONTINUES], timezone)
    ledger = click_ledger(log, hits, split)
    code, delta, item_ts = ledger.arrays()
    item_days = local_days(item_ts, timezone)
    all_days = np.unique(np.concatenate([ad_days, prop_days, session_days, item_days]))
    n_days, n_causes = len(all_days), len(ledger.names)
    # Per (day, cause) sums in one pass: a flat index day * n_causes + cause.
    flat = np.searchsorted(all_days, item_days) * n_causes + code
    sums = np.bincount(flat, weights=delta, minlength=n_days * n_causes).reshape(n_days, n_causes)
    n_ad = np.bincount(np.searchsorted(all_days, ad_days), minlength=n_days)
    n_prop = np.bincount(np.searchsorted(all_days, prop_days), minlength=n_days)
    n_sessions = np.bincount(np.searchsorted(all_days, session_days), minlength=n_days)
    out = []
    for i, day in enumerate(all_days.tolist()):
        deltas = {name: round(s) for name, s in zip(ledger.names, sums[i].tolist(), strict=True)}
        deltas["timezone_shift"] = int(n_prop[i] - n_ad[i])
        bridge = make_bridge(int(n_ad[i]), deltas, int(n_sessions[i]), DAY_VOCABULARY)
        out.append(DayBridge(dt.date.fromordinal(day), bridge))
    return tuple(out)

"""The bridge: an exact identity from the ad platform's clicks to analytics sessions, cause by cause.

For one session definition::

    sessions = counted clicks
             - counted clicks whose landing was never tracked      (by loss: left_before_tag, ...)
             - counted clicks whose landing joined an open session (by click cause: repeat_click, ...)
             + sessions that started without a counted click       (invalid_click, bookmark, ...)
             + sessions split off an ongoing visit                 (by rule: inactivity, ...)

Every term is a count taken from the event log's ground truth; the identity holds by construction and
is checked on every call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.events import ARRIVALS, Cause, EventLog, Kind, Loss
from simulator.sessions.rules import SplitCause

__all__ = ["VOCABULARY", "Bridge", "Term", "clicks_to_sessions"]

#: Every cause a bridge term can name, in report order, with its plain-language meaning.
VOCABULARY: dict[str, str] = {
    # clicks whose landing analytics never saw
    "left_before_tag": "clicked, but left before the analytics tag fired",
    "blocked": "clicked, but a blocker stopped the analytics hit",
    "no_consent": "clicked, but denied analytics consent",
    "not_reached": "clicked, but never reached the site",
    "tag_missing": "clicked, but the landing page has no working tag",
    "campaign_dropped": "clicked, but a redirect dropped the click id (the visit shows as direct)",
    # clicks that landed in a session that was already open
    "repeat_click": "clicked the same ad again during the visit",
    "new_tab_click": "opened the ad in another tab during the visit",
    "second_ad": "clicked another campaign's ad during the visit",
    "click_in_open_session": "left and clicked again before the session timed out",
    # sessions no counted click started
    "invalid_click": "came through a click the ad platform filtered as invalid",
    "bookmark": "came back through a bookmark",
    "direct": "came back by typing the address",
    "organic": "came back through unpaid search results",
    "referral": "came back through a link on another site",
    "email": "came through a link in an e-mail",
    "redirect": "an ad landing whose click id a redirect dropped, seen as direct",
    # sessions split off a visit that was still going on
    "inactivity": "a visit split by the inactivity timeout",
    "midnight": "a visit split at midnight in the property's time zone",
    "campaign_change": "a visit split by a change of campaign",
    "max_duration": "a visit split by the maximum session length",
    "max_events": "a visit split by the maximum number of hits",
    "fixed_window": "a visit split by the fixed session window",
    "new_user_mid_visit": "a visit whose first tracked hit came after its landing (or a new cookie)",
}

_JOINED = {
    Cause.REPEAT_CLICK: "repeat_click",
    Cause.NEW_TAB_CLICK: "new_tab_click",
    Cause.SECOND_AD: "second_ad",
    Cause.AD_CLICK: "click_in_open_session",
}


@dataclass(frozen=True, slots=True)
class Term:
    cause: str
    delta: int


@dataclass(frozen=True, slots=True)
class Bridge:
    """``start + sum(term.delta) == end``, terms in :data:`VOCABULARY` order, zero terms omitted."""

    start: int
    terms: tuple[Term, ...]
    end: int

    def term(self, cause: str) -> int:
        """The delta for ``cause`` (0 if absent)."""
        return sum(t.delta for t in self.terms if t.cause == cause)

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "terms": [{"cause": t.cause, "delta": t.delta} for t in self.terms],
            "end": self.end,
        }


def _tally(labels: np.ndarray, names: dict[int, str], sign: int, into: dict[str, int]) -> None:
    codes, counts = np.unique(labels, return_counts=True)
    for code, n in zip(codes.tolist(), counts.tolist(), strict=True):
        into[names[code]] = into.get(names[code], 0) + sign * n


def clicks_to_sessions(log: EventLog, hits: np.ndarray, split: np.ndarray) -> Bridge:
    """The clicks -> sessions bridge for one definition.

    Parameters
    ----------
    log
        The event log.
    hits
        Indices of the tracked hits, in (user, ts) order, as sessionized.
    split
        The split cause per hit (non-zero where a session starts).
    """
    kind, counted, click = log.kind, log.counted, log.click
    counted_click = (kind == Kind.CLICK) & counted
    start = int(np.count_nonzero(counted_click))
    deltas: dict[str, int] = {}

    lost = counted_click & (log.loss != Loss.NONE)
    _tally(log.loss[lost], {loss.value: loss.label for loss in Loss}, -1, deltas)

    counted_ids = click[counted_click & ~lost]
    hit_click = click[hits]
    is_landing = (kind[hits] == Kind.PAGEVIEW) & (hit_click >= 0)
    of_counted = is_landing & np.isin(hit_click, counted_ids)
    opens = split != SplitCause.CONTINUES
    _tally(log.cause[hits][of_counted & ~opens], {c.value: v for c, v in _JOINED.items()}, -1, deltas)

    # Sessions that no counted click started: an arrival of another kind, or a split.
    other = opens & ~of_counted
    cause = log.cause[hits]
    invalid = other & is_landing
    arrival = other & ~is_landing & np.isin(cause, [c.value for c in ARRIVALS])
    split_off = other & ~is_landing & ~arrival
    if invalid.any():
        deltas["invalid_click"] = int(np.count_nonzero(invalid))
    _tally(cause[arrival], {c.value: c.label for c in ARRIVALS}, +1, deltas)
    split_names = {s.value: s.label for s in SplitCause}
    split_names[SplitCause.NEW_USER] = "new_user_mid_visit"
    _tally(split[split_off], split_names, +1, deltas)

    end = int(np.count_nonzero(opens))
    terms = tuple(Term(c, deltas[c]) for c in VOCABULARY if deltas.get(c))
    if start + sum(t.delta for t in terms) != end:  # pragma: no cover - a broken EventLog contract
        raise RuntimeError(
            f"bridge does not add up: {start} + {sum(t.delta for t in terms)} != {end}; every "
            "counted click without a loss must have exactly one tracked landing page view"
        )
    return Bridge(start, terms, end)

"""Bridges: exact identities between the numbers users compare, cause by cause.

For one session definition, **clicks -> sessions**::

    sessions = counted clicks
             - counted clicks whose landing was never tracked      (by loss: left_before_tag, ...)
             - counted clicks whose landing joined an open session (by click cause: repeat_click, ...)
             + sessions that started without a counted click       (invalid_click, bookmark, ...)
             + sessions split off an ongoing visit                 (by rule: inactivity, ...)

**views -> sessions** (pages per session)::

    sessions = tracked page views
             - page views that continued a session  (by the view's cause: navigation, reload, tab, ...)
             + sessions whose first hit was not a page view (conversion_first)

**impressions -> clicks** (CTR), from the ad platform alone::

    clicks = counted impressions
           - impressions that drew no click             (per campaign: impressions - click rows)
           + click rows beyond their campaign's impressions
           - invalid clicks                              (filtered by the ad platform)

Every term is a count taken from the event log's ground truth; each identity holds by construction
and is checked on every call. The cause names of each bridge are a documented vocabulary
(:data:`VOCABULARY`, :data:`VIEW_VOCABULARY`, :data:`AD_VOCABULARY`). Comparisons between two
definitions and day-by-day bridges across time zones live in :mod:`simulator.analysis.comparisons`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from simulator.log.events import ARRIVALS, Cause, EventLog, Kind, Loss, Source
from simulator.scenario.vocabulary import AD_VOCABULARY, GROUPS, VIEW_VOCABULARY, VOCABULARY, group_of
from simulator.sessions.rules import SplitCause

__all__ = [
    "AD_VOCABULARY",
    "GROUPS",
    "LANDED_LATER",
    "VIEW_VOCABULARY",
    "VOCABULARY",
    "AdBridge",
    "Bridge",
    "CampaignRow",
    "Ledger",
    "Term",
    "click_ledger",
    "clicks_to_sessions",
    "group_of",
    "impressions_to_clicks",
    "make_bridge",
    "split_labels",
    "split_table",
    "views_to_sessions",
]

_JOINED = {
    Cause.REPEAT_CLICK: "repeat_click",
    Cause.NEW_TAB_CLICK: "new_tab_click",
    Cause.SECOND_AD: "second_ad",
    Cause.AD_CLICK: "click_in_open_session",
}


#: Sessions split off a visit by a mid-visit change of source or user (simulator.engine.hops), by cause.
_MID_VISIT = {
    Cause.DOMAIN_HOP: "cross_domain",
    Cause.DOMAIN_RETURN: "checkout_referral",
    Cause.PAYMENT_RETURN: "payment_referral",
    Cause.INTERNAL_CAMPAIGN: "internal_campaign",
}


def _mid_visit(log: EventLog, hits: np.ndarray, split: np.ndarray) -> np.ndarray:
    """Per hit: a session it opens is owed to a mid-visit change of source or user.

    A checkout-domain view with its own cookie (a referral from the shop: no cross-domain linking)
    opens a session whatever rule names it (its user's previous hit, if any, was an earlier visit). A
    return from the checkout domain or a payment provider, and an internal link's campaign, owe it
    only when the campaign-change rule started it (a pause before it would have split it anyway:
    then it stays under that rule's term).
    """
    cause = log.cause[hits]
    hop = (cause == Cause.DOMAIN_HOP) & (log.source[hits] == Source.REFERRAL)
    changed = np.isin(cause, [Cause.DOMAIN_RETURN, Cause.PAYMENT_RETURN, Cause.INTERNAL_CAMPAIGN])
    return hop | (changed & (split == SplitCause.CAMPAIGN_CHANGE))


@dataclass(frozen=True, slots=True)
class Term:
    cause: str
    delta: int


@dataclass(frozen=True, slots=True)
class Bridge:
    """``start + sum(term.delta) == end``, terms in vocabulary order, zero terms omitted."""

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

    def biggest(self, n: int = 3) -> tuple[Term, ...]:
        """The ``n`` terms with the largest absolute delta (ties keep vocabulary order)."""
        return tuple(sorted(self.terms, key=lambda t: -abs(t.delta))[:n])


def make_bridge(start: int, deltas: Mapping[str, int], end: int, vocabulary: Mapping[str, str]) -> Bridge:
    """A checked :class:`Bridge`: vocabulary causes first, in order, then any others sorted by name.

    Causes outside the vocabulary (e.g. a loss reason added later) are kept, never dropped, so the
    identity cannot silently break.
    """
    order = [c for c in vocabulary if deltas.get(c)]
    order += sorted(c for c in deltas if c not in vocabulary and deltas[c])
    terms = tuple(Term(c, int(deltas[c])) for c in order)
    total = sum(t.delta for t in terms)
    if start + total != end:  # pragma: no cover - a broken EventLog contract
        raise RuntimeError(
            f"bridge does not add up: {start} + {total} != {end}; every counted click without a "
            "loss must have exactly one tracked landing page view"
        )
    return Bridge(start, terms, end)


def _table(enum_cls: type, rename: Mapping[int, str] | None = None) -> dict[int, str]:
    """Enum code -> cause name: the member's label unless ``rename`` says otherwise."""
    rename = rename or {}
    return {m.value: rename.get(m.value, m.name.lower()) for m in enum_cls}


def split_labels() -> dict[int, str]:
    """SplitCause code -> label (``continues`` for rows inside a session)."""
    return _table(SplitCause)


@dataclass
class Ledger:
    """Signed, timestamped items whose sum per cause is a bridge's terms.

    Each item is one event-log row's contribution (``delta`` of +1 or -1) to one cause, dated by
    ``ts`` (epoch ms), so the same items can be summed overall or per calendar day.
    """

    names: list[str] = field(default_factory=list)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)

    def _code(self, name: str) -> int:
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def add(self, codes: np.ndarray, table: Mapping[int, str], sign: int, ts: np.ndarray) -> None:
        """Add one item per row: cause ``table[code]``, delta ``sign``, dated ``ts``."""
        if not len(codes):
            return
        lut = np.full(max(table) + 1, -1, dtype=np.int64)
        for code in np.unique(codes).tolist():
            lut[code] = self._code(table[code])
        deltas = np.full(len(codes), sign, dtype=np.int64)
        self.parts.append((lut[codes], deltas, np.asarray(ts, dtype=np.int64)))

    def add_one(self, name: str, mask: np.ndarray, sign: int, ts: np.ndarray) -> None:
        """Add an item for every true row of ``mask`` under the single cause ``name``."""
        n = int(np.count_nonzero(mask))
        if n:
            code = self._code(name)
            self.parts.append((np.full(n, code), np.full(n, sign, dtype=np.int64), ts[mask]))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cause code, delta, ts) of every item."""
        if not self.parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return tuple(np.concatenate(cols) for cols in zip(*self.parts, strict=True))  # type: ignore[return-value]

    def totals(self) -> dict[str, int]:
        """Sum of deltas per cause."""
        code, delta, _ = self.arrays()
        sums = np.bincount(code, weights=delta, minlength=len(self.names))
        return {name: round(s) for name, s in zip(self.names, sums.tolist(), strict=True)}


#: Ledger cause of an opening click's landing that falls on a later day than the click (day bridges).
LANDED_LATER = "landed_next_day"


def click_ledger(log: EventLog, hits: np.ndarray, split: np.ndarray) -> Ledger:
    """The items of the clicks -> sessions bridge, each dated for day-by-day bridges.

    Items about a counted click (lost, joined) are dated by the click; sessions not started by a
    counted click by their first hit. A counted click whose landing opened a session is dated by the
    click in the start and by the landing in the end; when those fall on different days the pair
    ``landed_next_day`` (-1 on the click, +1 on the landing) moves it. Overall the pair cancels.
    """
    kind, click, ts = log.kind, log.click, log.ts
    counted_click = (kind == Kind.CLICK) & log.counted
    lost = counted_click & (log.loss != Loss.NONE)
    ledger = Ledger()
    ledger.add(log.loss[lost], _table(Loss), -1, ts[lost])

    click_rows = np.flatnonzero(counted_click & ~lost)
    order = np.argsort(click[click_rows], kind="stable")
    kept_ids, kept_ts = click[click_rows][order], ts[click_rows][order]

    hit_click, hit_kind, cause = click[hits], kind[hits], log.cause[hits]
    is_landing = (hit_kind == Kind.PAGEVIEW) & (hit_click >= 0)
    of_counted = is_landing & np.isin(hit_click, kept_ids)
    opens = split != SplitCause.CONTINUES
    # ts of the click row each landing of a counted click belongs to
    click_ts = np.zeros(len(hits), dtype=np.int64)
    if len(kept_ids):
        pos = np.searchsorted(kept_ids, hit_click[of_counted])
        click_ts[of_counted] = kept_ts[pos]
    joined = of_counted & ~opens
    ledger.add(cause[joined], _table(Cause, _JOINED), -1, click_ts[joined])
    landed = of_counted & opens
    ledger.add_one(LANDED_LATER, landed, -1, click_ts)
    ledger.add_one(LANDED_LATER, landed, +1, ts[hits])

    other = opens & ~of_counted
    hit_ts = ts[hits]
    ledger.add_one("invalid_click", other & is_landing, +1, hit_ts)
    arrival = other & ~is_landing & np.isin(cause, [c.value for c in ARRIVALS])
    ledger.add(cause[arrival], _table(Cause), +1, hit_ts[arrival])
    split_off = other & ~is_landing & ~arrival
    mid = split_off & _mid_visit(log, hits, split)
    ledger.add(cause[mid], _table(Cause, _MID_VISIT), +1, hit_ts[mid])
    split_off &= ~mid
    names = split_labels()
    names[SplitCause.NEW_USER] = "new_user_mid_visit"
    ledger.add(split[split_off], names, +1, hit_ts[split_off])
    return ledger


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

    Returns
    -------
    Bridge
        ``start`` = counted clicks, ``end`` = sessions, terms named from :data:`VOCABULARY`.
    """
    start = int(np.count_nonzero((log.kind == Kind.CLICK) & log.counted))
    end = int(np.count_nonzero(split != SplitCause.CONTINUES))
    deltas = click_ledger(log, hits, split).totals()
    deltas.pop(LANDED_LATER, None)  # +1 and -1 per opening click: always 0 overall
    return make_bridge(start, deltas, end, VOCABULARY)


def views_to_sessions(log: EventLog, hits: np.ndarray, split: np.ndarray) -> Bridge:
    """The views -> sessions bridge (pages per session) for one definition.

    Each session's first hit is the page view that opened it (views and sessions both count it) or
    another hit (``conversion_first``: a session that only the conversion opened). Every other page
    view continued a session and is a negative term named by its cause (:data:`VIEW_VOCABULARY`).

    Returns
    -------
    Bridge
        ``start`` = tracked page views, ``end`` = sessions.
    """
    is_view = log.kind[hits] == Kind.PAGEVIEW
    opens = split != SplitCause.CONTINUES
    deltas: dict[str, int] = {}
    cont = is_view & ~opens
    names = _table(Cause, _JOINED)
    for code, n in zip(*np.unique(log.cause[hits][cont], return_counts=True), strict=True):
        deltas[names[int(code)]] = -int(n)
    for code, n in zip(*np.unique(log.kind[hits][~is_view & opens], return_counts=True), strict=True):
        deltas[f"{Kind(int(code)).name.lower()}_first"] = int(n)
    return make_bridge(int(np.count_nonzero(is_view)), deltas, int(np.count_nonzero(opens)), VIEW_VOCABULARY)


@dataclass(frozen=True, slots=True)
class CampaignRow:
    """What the ad platform reports for one campaign, with the invalid clicks it filtered."""

    campaign: str
    impressions: int
    clicks: int
    invalid_clicks: int
    cost: float

    @property
    def ctr(self) -> float | None:
        return None if self.impressions == 0 else self.clicks / self.impressions

    @property
    def cpc(self) -> float | None:
        return None if self.clicks == 0 else self.cost / self.clicks

    def to_dict(self) -> dict[str, object]:
        return {
            "campaign": self.campaign,
            "impressions": self.impressions,
            "clicks": self.clicks,
            "invalid_clicks": self.invalid_clicks,
            "cost": self.cost,
            "ctr": self.ctr,
            "cpc": self.cpc,
        }


@dataclass(frozen=True, slots=True)
class AdBridge:
    """Impressions -> clicks: the bridge and the per-campaign table it sums."""

    bridge: Bridge
    campaigns: tuple[CampaignRow, ...]

    def to_dict(self) -> dict[str, object]:
        return {**self.bridge.to_dict(), "campaigns": [c.to_dict() for c in self.campaigns]}


def _per_campaign(log: EventLog, mask: np.ndarray, n: int) -> np.ndarray:
    """Rows of ``mask`` counted per campaign code (index ``n`` holds rows without a campaign)."""
    codes = np.where(log.campaign[mask] < 0, n, log.campaign[mask])
    return np.bincount(codes, minlength=n + 1)


def impressions_to_clicks(log: EventLog) -> AdBridge:
    """The impressions -> clicks bridge (CTR by campaign; invalid clicks shown).

    The event log does not link a click to the impression it came from, so "impressions that drew
    no click" is netted per campaign: a campaign's counted impressions minus all its click rows
    (valid and invalid), or, when it has more click rows than impressions (scripted journeys that
    start at the click), the surplus is ``click_without_impression``.
    """
    n = len(log.campaigns)
    kind, counted = log.kind, log.counted
    imp = _per_campaign(log, counted & (kind == Kind.IMPRESSION), n)
    raw = _per_campaign(log, kind == Kind.CLICK, n)
    valid = _per_campaign(log, counted & (kind == Kind.CLICK), n)
    codes = np.where(log.campaign < 0, n, log.campaign)
    cost = np.bincount(
        codes[counted & (kind == Kind.CLICK)],
        weights=log.cost[counted & (kind == Kind.CLICK)],
        minlength=n + 1,
    )
    names = [log.campaign_name(c if c < n else -1) for c in range(n + 1)]
    return ad_bridge(names, imp, raw, valid, cost)


def ad_bridge(
    names: Sequence[str], imp: np.ndarray, raw: np.ndarray, valid: np.ndarray, cost: Sequence[float]
) -> AdBridge:
    """The impressions -> clicks bridge from per-campaign counts (index ``i`` of each is campaign
    ``names[i]``; the last is rows without a campaign): counted impressions, click rows, valid clicks
    and cost. Shared by :func:`impressions_to_clicks` and the per-block totals of a Spark run."""
    rows = tuple(
        CampaignRow(names[c], int(imp[c]), int(valid[c]), int(raw[c] - valid[c]), float(cost[c]))
        for c in range(len(names))
        if imp[c] or raw[c]
    )
    deltas = {
        "no_click": -int(np.maximum(imp - raw, 0).sum()),
        "click_without_impression": int(np.maximum(raw - imp, 0).sum()),
        "invalid_click": -int((raw - valid).sum()),
    }
    return AdBridge(make_bridge(int(imp.sum()), deltas, int(valid.sum()), AD_VOCABULARY), rows)


def split_table(log: EventLog, hits: np.ndarray, split: np.ndarray) -> dict[str, np.ndarray]:
    """One row per tracked hit: which session it belongs to and which rule started that session.

    Returns
    -------
    dict
        Equal-length columns: ``row`` (index into the event log), ``user``, ``ts`` (epoch ms, UTC),
        ``session`` (0-based session id), ``split_cause`` (the label of the rule that started the
        hit's session: ``new_user``, ``inactivity``, ``midnight``, ...), ``starts`` (True on the
        session's first hit).
    """
    starts = split != SplitCause.CONTINUES
    session = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    labels = split_labels()
    start_labels = np.array([labels[int(c)] for c in split[first]], dtype=object)
    return {
        "row": np.asarray(hits, dtype=np.int64),
        "user": log.user[hits],
        "ts": log.ts[hits],
        "session": session.astype(np.int64),
        "split_cause": start_labels[session] if len(first) else np.zeros(0, dtype=object),
        "starts": starts,
    }

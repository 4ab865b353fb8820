"""The event log: one row per event, as numpy columns, with ground truth on every row.

Which system sees what is explicit: the ad platform counts rows with ``counted``; analytics receives
the hits (page views, conversions) with ``tracked``. ``cause`` says why the event happened, ``loss``
why a hit (or a click's landing) was not tracked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final

import numpy as np

__all__ = ["COLUMNS", "Cause", "Device", "EventLog", "Kind", "Loss", "Source"]


class Kind(enum.IntEnum):
    """What the row is."""

    IMPRESSION = 0  #: an ad was shown (ad platform)
    CLICK = 1  #: an ad was clicked (ad platform)
    PAGEVIEW = 2  #: a page loaded on the site (analytics hit when tracked)
    CONVERSION = 3  #: a purchase or goal (analytics hit when tracked)
    ENGAGEMENT = 4  #: the visitor left the page: GA4's ``user_engagement`` (analytics hit when tracked)


class Cause(enum.IntEnum):
    """Why the event happened (ground truth). Landing page views carry their click's cause."""

    AD_SERVED = 0  #: an impression
    AD_CLICK = 1  #: a click that opens a new visit
    REPEAT_CLICK = 2  #: the same ad clicked again during an open visit
    NEW_TAB_CLICK = 3  #: an ad opened in another tab during an open visit
    SECOND_AD = 4  #: a different campaign's ad clicked during an open visit
    NAVIGATION = 5  #: a page reached from another page of the site
    RELOAD = 6  #: the same page loaded again
    TAB = 7  #: a page of the site opened in a new tab
    BOOKMARK = 8  #: a return through a bookmark
    DIRECT = 9  #: a return by typing the address
    ORGANIC = 10  #: a return from a search engine's unpaid results
    REFERRAL = 11  #: a return from a link on another site
    EMAIL = 12  #: a visit from a link in an e-mail
    CONVERSION = 13  #: a purchase or goal
    REDIRECT = 14  #: an ad landing whose click id a redirect dropped: analytics sees a direct visit
    # mid-visit changes of source or user (issue 13; simulator.engine.hops)
    DOMAIN_HOP = 15  #: a page of the checkout on another of the site's domains, reached from the shop
    DOMAIN_RETURN = 16  #: back on the shop from the checkout domain
    PAYMENT_RETURN = 17  #: back on the shop from a payment provider (PayPal, Stripe, ...)
    INTERNAL_CAMPAIGN = 18  #: a page reached through an internal link that carries campaign parameters
    # duplicate tags, single-page apps, leaving and bots (issue 13; simulator.engine.tagging); the codes
    # stay contiguous: the Parquet writer's fixed dictionaries label every code up to the largest
    DUPLICATE_TAG = 19  #: the same page view sent again by another tag for the same measurement id
    ROUTE_CHANGE = 20  #: a single-page app changed its route (a new screen without a page load)
    MANUAL_PAGE_VIEW = 21  #: a route change's second page_view, sent by the site besides the history one
    LEAVE = 22  #: the visitor left the site (the ``user_engagement`` hit sent on leaving)
    BOT = 23  #: a visit by a bot that runs the page's JavaScript (its source is what analytics sees)

    @property
    def label(self) -> str:
        return self.name.lower()


#: Causes that open a visit: the first hit of a visit has one of these (or is an ad landing).
ARRIVALS: Final = frozenset(
    {Cause.BOOKMARK, Cause.DIRECT, Cause.ORGANIC, Cause.REFERRAL, Cause.EMAIL, Cause.REDIRECT, Cause.BOT}
)
#: Causes of ad clicks (and of the landing page views they produce).
CLICK_CAUSES: Final = frozenset({Cause.AD_CLICK, Cause.REPEAT_CLICK, Cause.NEW_TAB_CLICK, Cause.SECOND_AD})
#: Causes of page views that change the visit's source or analytics user mid-visit (simulator.engine.hops).
MID_VISIT: Final = frozenset(
    {Cause.DOMAIN_HOP, Cause.DOMAIN_RETURN, Cause.PAYMENT_RETURN, Cause.INTERNAL_CAMPAIGN}
)


class Source(enum.IntEnum):
    """Traffic source of a hit as analytics would attribute it."""

    NONE = 0  #: internal navigation, reloads, conversions: no new source information
    PAID = 1
    ORGANIC = 2
    DIRECT = 3
    BOOKMARK = 4
    REFERRAL = 5
    EMAIL = 6


class Loss(enum.IntEnum):
    """Why a hit was not tracked; on a click row, why its landing was not tracked."""

    NONE = 0  #: tracked
    LEFT_BEFORE_TAG = 1  #: the visitor left before the tag fired (a "short click")
    BLOCKED = 2  #: an ad or tracking blocker stopped the hit
    NO_CONSENT = 3  #: the visitor denied analytics consent
    NOT_REACHED = 4  #: the click never reached the site (network, failed load)
    TAG_MISSING = 5  #: the page has no (working) tag
    CAMPAIGN_DROPPED = 6  #: a redirect dropped the click id: the landing was tracked, but as direct
    ROUTE_UNTRACKED = 7  #: a single-page app's route change that sent no page_view (history off)
    BOT_FILTERED = 8  #: a known bot: GA4 excludes its traffic (IAB/ABC spiders and bots list)

    @property
    def label(self) -> str:
        return self.name.lower()


class Device(enum.IntEnum):
    """The device a row happened on (each device has its own cookies); UNKNOWN for scripted devices."""

    UNKNOWN = 0
    DESKTOP = 1
    MOBILE = 2
    TABLET = 3

    @property
    def label(self) -> str:
        return self.name.lower()


#: Column name -> dtype. Every EventLog has exactly these columns, all of equal length.
COLUMNS: Final[dict[str, type]] = {
    "user": np.int64,  # the analytics user (cookie) id
    "person": np.int64,  # the real human (ground truth)
    "journey": np.int32,  # index of the scripted [[journey]] that produced the row, -1 if none
    "visit": np.int64,  # ground-truth visit id (-1 for impressions and clicks that never landed)
    "ts": np.int64,  # milliseconds since the Unix epoch, UTC
    "kind": np.int8,  # Kind
    "cause": np.int8,  # Cause
    "source": np.int8,  # Source
    "campaign": np.int32,  # index into EventLog.campaigns, -1 = none
    "page": np.int32,  # index into EventLog.pages, -1 = none
    "click": np.int64,  # click id: on a click row its own id, on its landing page view the same id
    "tracked": np.bool_,  # analytics received this hit
    "counted": np.bool_,  # the ad platform counted this impression or click
    "loss": np.int8,  # Loss
    "cost": np.float64,  # what the ad platform charged for this row
    "value": np.float64,  # conversion value
    "units": np.int32,  # units ordered in a conversion
    "device": np.int8,  # Device
}

#: Columns an EventLog may be built without; they are filled with this value (Device.UNKNOWN).
OPTIONAL_COLUMNS: Final[dict[str, int]] = {"device": 0}


@dataclass(frozen=True, slots=True)
class EventLog:
    """A struct of arrays, sorted by (user, ts, emission order).

    ``campaigns`` and ``pages`` are the string tables that ``campaign`` and ``page`` index into.
    """

    columns: dict[str, np.ndarray]
    campaigns: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    meta: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.columns:
            size = len(next(iter(self.columns.values())))
            for name, fill in OPTIONAL_COLUMNS.items():
                if name not in self.columns:
                    self.columns[name] = np.full(size, fill, dtype=COLUMNS[name])
        missing = set(COLUMNS) - set(self.columns)
        if missing:
            raise ValueError(f"EventLog is missing columns {sorted(missing)}")
        lengths = {len(col) for col in self.columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"EventLog columns differ in length: {sorted(lengths)}")

    def __len__(self) -> int:
        return len(self.columns["ts"])

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.columns[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def is_hit(self) -> np.ndarray:
        """Rows analytics could receive (page views, conversions, engagement), tracked or not."""
        kind = self.columns["kind"]
        return (kind == Kind.PAGEVIEW) | (kind == Kind.CONVERSION) | (kind == Kind.ENGAGEMENT)

    @property
    def hits(self) -> np.ndarray:
        """Indices of the rows analytics received, in (user, ts) order."""
        return np.flatnonzero(self.is_hit & self.columns["tracked"])

    @classmethod
    def from_rows(
        cls,
        rows: dict[str, list],
        campaigns: tuple[str, ...] = (),
        pages: tuple[str, ...] = (),
        meta: dict[str, object] | None = None,
    ) -> EventLog:
        """Build from lists of equal length (in emission order) and sort by (user, ts, emission)."""
        size = len(rows["ts"])
        cols = {
            name: np.asarray(rows[name], dtype=dtype)
            if name in rows
            else np.full(size, OPTIONAL_COLUMNS[name], dtype=dtype)
            for name, dtype in COLUMNS.items()
        }
        order = np.lexsort((cols["ts"], cols["user"]))  # lexsort is stable: ties keep emission order
        return cls({k: v[order] for k, v in cols.items()}, campaigns, pages, meta or {})

    def select(self, mask: np.ndarray) -> EventLog:
        """The rows where ``mask`` is true, in the same order."""
        return EventLog({k: v[mask] for k, v in self.columns.items()}, self.campaigns, self.pages, self.meta)

    def campaign_name(self, code: int) -> str:
        return self.campaigns[code] if code >= 0 else "(none)"

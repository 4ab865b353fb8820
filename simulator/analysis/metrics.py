"""Counts per system and the ratios users quote, derived from the event log and session ids.

The ad platform counts impressions, clicks and cost (``counted`` rows); analytics counts what it
received (``tracked`` hits) grouped into sessions by one definition. Ratios with a zero denominator
are ``None`` (JSON ``null``), never a crash or an infinity.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from simulator.log.events import EventLog, Kind
from simulator.scenario.vocabulary import AD_METRICS, DEFINITION_METRICS, metric_names, needs_definition

__all__ = [
    "AD_METRICS",
    "DEFINITION_METRICS",
    "AdCounts",
    "AnalyticsCounts",
    "ad_counts",
    "analytics_counts",
    "engaged",
    "metric_names",
    "needs_definition",
]

#: Attribution windows of the ad platform's sales metrics (Amazon Sponsored Products 7 d, Brands 14 d).
SALES_WINDOWS_MS = {"7d": 7 * 86_400_000, "14d": 14 * 86_400_000}


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


@dataclass(frozen=True, slots=True)
class AdCounts:
    """What the ad platform reports."""

    impressions: int
    clicks: int
    cost: float
    sales_7d: float = 0.0  #: value of conversions credited to a counted click at most 7 days earlier
    sales_14d: float = 0.0  #: the same within 14 days

    @property
    def acos_7d(self) -> float | None:
        """Advertising cost of sales: cost / 7-day attributed sales (a fraction; 0.25 = 25 %)."""
        return _ratio(self.cost, self.sales_7d)

    @property
    def acos_14d(self) -> float | None:
        """Advertising cost of sales over 14-day attributed sales."""
        return _ratio(self.cost, self.sales_14d)

    @property
    def ctr(self) -> float | None:
        """Click-through rate: clicks / impressions."""
        return _ratio(self.clicks, self.impressions)

    @property
    def cpc(self) -> float | None:
        """Average cost per click: cost / clicks."""
        return _ratio(self.cost, self.clicks)

    @property
    def cpm(self) -> float | None:
        """Cost per thousand impressions."""
        r = _ratio(self.cost, self.impressions)
        return None if r is None else 1000 * r

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            **asdict(self),
            "ctr": self.ctr,
            "cpc": self.cpc,
            "cpm": self.cpm,
            "acos_7d": self.acos_7d,
            "acos_14d": self.acos_14d,
        }


def _attributed_sales(log: EventLog) -> dict[str, float]:
    """Conversion value per window, for conversions whose ``click`` is a counted click that recent."""
    kind = log.kind
    conv = np.flatnonzero((kind == Kind.CONVERSION) & (log.click >= 0))
    clicks = np.flatnonzero((kind == Kind.CLICK) & log.counted)
    out = dict.fromkeys(SALES_WINDOWS_MS, 0.0)
    if not len(conv) or not len(clicks):
        return out
    order = np.argsort(log.click[clicks], kind="stable")
    ids, when = log.click[clicks][order], log.ts[clicks][order]
    at = np.minimum(np.searchsorted(ids, log.click[conv]), len(ids) - 1)
    found = ids[at] == log.click[conv]
    age = log.ts[conv] - when[at]
    for name, window in SALES_WINDOWS_MS.items():
        out[name] = float(log.value[conv][found & (age <= window)].sum())
    return out


@dataclass(frozen=True, slots=True)
class AnalyticsCounts:
    """What analytics reports under one session definition."""

    views: int
    sessions: int
    users: int
    conversions: int
    units: int
    value: float
    converting_sessions: int
    converting_users: int
    #: GA4 engaged sessions: longer than the engaged-session timer, or 2+ page views, or a conversion
    engaged_sessions: int = 0

    def ratios(self, ads: AdCounts) -> dict[str, float | None]:
        """The derived ratios, given the ad platform's counts for the same traffic."""
        return {
            "cost_per_session": _ratio(ads.cost, self.sessions),
            "conversion_rate_click": _ratio(self.conversions, ads.clicks),
            "conversion_rate_session": _ratio(self.converting_sessions, self.sessions),
            "conversion_rate_user": _ratio(self.converting_users, self.users),
            "views_per_session": _ratio(self.views, self.sessions),
            "sessions_per_click": _ratio(self.sessions, ads.clicks),
            "clicks_per_session": _ratio(ads.clicks, self.sessions),
            "unit_session_percentage": (None if self.sessions == 0 else 100 * self.units / self.sessions),
            "engagement_rate": _ratio(self.engaged_sessions, self.sessions),
            "bounce_rate": None if self.sessions == 0 else 1 - self.engaged_sessions / self.sessions,
        }


def ad_counts(log: EventLog) -> AdCounts:
    """Count what the ad platform counted: impressions, clicks and their cost."""
    counted, kind = log.counted, log.kind
    sales = _attributed_sales(log)
    return AdCounts(
        impressions=int(np.count_nonzero(counted & (kind == Kind.IMPRESSION))),
        clicks=int(np.count_nonzero(counted & (kind == Kind.CLICK))),
        cost=float(log.cost[counted].sum()),
        sales_7d=sales["7d"],
        sales_14d=sales["14d"],
    )


#: GA4's default engaged-session timer (GA4 help answer/12131703: adjustable from 10 to 60 seconds).
ENGAGEMENT_TIMER_MS = 10_000


def engaged(
    kind: np.ndarray, ts: np.ndarray, session_ids: np.ndarray, timer_ms: int = ENGAGEMENT_TIMER_MS
) -> np.ndarray:
    """Per session (ids 0..n-1, non-decreasing over the hits): is it an engaged session?

    GA4: a session that "lasts longer than 10 seconds, has a key event, or has at least 2 pageviews
    or screenviews" (GA4 help answer/12195621 "Engagement rate and bounce rate"). The duration is
    from the session's first hit to its last (a ``user_engagement`` hit sent on leaving included),
    so without leaving hits the time on the last page is not seen; longer than the timer is ``>``.
    """
    n = int(session_ids[-1]) + 1 if len(session_ids) else 0
    if not n:
        return np.zeros(0, dtype=np.bool_)
    views = np.bincount(session_ids[kind == Kind.PAGEVIEW], minlength=n)
    convs = np.bincount(session_ids[kind == Kind.CONVERSION], minlength=n)
    starts = np.flatnonzero(np.r_[True, session_ids[1:] != session_ids[:-1]])
    longest = np.maximum.reduceat(ts, starts) - np.minimum.reduceat(ts, starts)
    return (views >= 2) | (convs >= 1) | (longest > timer_ms)  # noqa: PLR2004


def analytics_counts(
    log: EventLog, hits: np.ndarray, session_ids: np.ndarray, timer_ms: int = ENGAGEMENT_TIMER_MS
) -> AnalyticsCounts:
    """Count analytics numbers over the tracked hit rows ``hits`` with their ``session_ids``.

    ``timer_ms`` is the engaged-session timer (:func:`engaged`).
    """
    kind = log.kind[hits]
    users = log.user[hits]
    conv = kind == Kind.CONVERSION
    n_sessions = int(session_ids[-1]) + 1 if len(session_ids) else 0
    return AnalyticsCounts(
        views=int(np.count_nonzero(kind == Kind.PAGEVIEW)),
        sessions=n_sessions,
        users=len(np.unique(users)),
        conversions=int(np.count_nonzero(conv)),
        units=int(log.units[hits][conv].sum()),
        value=float(log.value[hits][conv].sum()),
        converting_sessions=len(np.unique(session_ids[conv])),
        converting_users=len(np.unique(users[conv])),
        engaged_sessions=int(np.count_nonzero(engaged(kind, log.ts[hits], session_ids, timer_ms))),
    )

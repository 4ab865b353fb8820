"""What the tags on the page send, beyond one hit per page view: the mechanisms that change what is
counted per page and per session (issue 13).

Each is off by default and then draws nothing and changes no row, so a scenario that does not use
them gives the same log, byte for byte, as before they existed. When on, random draws come from the
block's own stream :data:`STREAM` (``SeedSequence(seed, spawn_key=(block, STREAM))``), so they never
shift the draws of the visits themselves: a scenario with and without a mechanism shares its visitors
(common random numbers, what ``sessionlab validate`` compares).

* **Single-page apps** (``[behavior] route_changes``): that share of navigation page views are route
  changes (``Cause.ROUTE_CHANGE``): the app shows a new screen without loading a page, so only a
  history-change listener or the site's own code sends a ``page_view``. With ``[tracking]
  history_page_views = false`` and no ``manual_page_view`` the route change sends nothing
  (``Loss.ROUTE_UNTRACKED``: views under-counted). With both on it is sent twice (a second row,
  ``Cause.MANUAL_PAGE_VIEW``). GA4 help answer/9216061 ("page changes based on browser history
  events"); Google tag help on single-page apps (developers.google.com/analytics/devguides/collection/
  ga4/single-page-applications).
* **Duplicate tags** (``[tracking] duplicate_tags = k``): every tracked page view is sent ``k`` more
  times (``Cause.DUPLICATE_TAG`` rows at the same time, same user and page, no source or campaign, so
  they continue the session: sessions and users do not change). Conversions are sent once. Google tag
  help answer/13543899.
* **Bots** (``[population] bots``, ``known_bots``): that share of the people who click no ad are bots
  that run the page's JavaScript. A bot keeps no cookie (each visit a new analytics user), never
  converts (its conversion rows are not emitted), and its landings have ``Cause.BOT`` (the source
  analytics sees is unchanged: direct, organic, ...). Known bots (the share ``known_bots``) are
  excluded by GA4 (every hit untracked, ``Loss.BOT_FILTERED``: "Known bot-traffic exclusion", GA4
  help answer/9888366, from Google research and the IAB/ABC International Spiders and Bots List);
  the others are counted like people: sessions (the ``bot`` term), views and users. Bots that click
  ads are the campaigns' invalid clicks (``[[campaign]] invalid_rate``), not these.
* **Leaving** (``[tracking] user_engagement = true``): when the visitor leaves, one
  ``Kind.ENGAGEMENT`` hit (``Cause.LEAVE``) a think time after the visit's last hit, tracked like the
  visit's last page view. It lets analytics measure the time on the last page: a session's duration
  is from its first hit to its last hit (this one included), as GA4's ``user_engagement`` event
  reports the time spent before leaving (GA4 help answer/9234069 "Automatically collected events":
  ``user_engagement`` with ``engagement_time_msec``).
"""

from __future__ import annotations

import numpy as np

from simulator.engine.hops import CHECKOUT_KEY
from simulator.engine.population import Plan, rng_for
from simulator.log.events import MID_VISIT, Cause, Kind, Loss, Source

_USER_SPAN = 1 << 24  # user keys per person (as in engine/visits.py)
_BOT_KEYS = 2 * 4096  # a bot's per-visit keys: after the two devices' cookie keys, before the fresh ones

__all__ = ["STREAM", "add_tag_hits", "mark_bots", "mark_route_changes"]

#: The random stream of these mechanisms within a block (0 arrivals, 1 visits, 2 returns use others).
STREAM = 11


def mark_route_changes(plan: Plan, block: int, rows: dict[str, np.ndarray]) -> None:
    """Mark the share ``[behavior] route_changes`` of navigation views as route changes, in place.

    One uniform draw per navigation page view (in row order) when the share is above 0; none when 0.
    A tracked route change that sends no page_view becomes untracked with ``Loss.ROUTE_UNTRACKED``.
    """
    share = plan.scenario.behavior.route_changes
    if share <= 0:
        return
    nav = np.flatnonzero((rows["kind"] == Kind.PAGEVIEW) & (rows["cause"] == Cause.NAVIGATION))
    u = rng_for(plan.seed, block, STREAM).random(len(nav))
    route = nav[u < share]
    cause = rows["cause"].copy()
    cause[route] = Cause.ROUTE_CHANGE
    rows["cause"] = cause
    tr = plan.scenario.tracking
    if not tr.history_page_views and not tr.manual_page_view:
        lost = route[rows["tracked"][route]]
        tracked, loss = rows["tracked"].copy(), rows["loss"].copy()
        tracked[lost] = False
        loss[lost] = Loss.ROUTE_UNTRACKED
        rows["tracked"], rows["loss"] = tracked, loss


def mark_bots(plan: Plan, block: int, rows: dict[str, np.ndarray], people: int) -> dict[str, np.ndarray]:
    """``rows`` with the block's bots marked (``people`` = persons in the block); ``rows`` itself when
    ``[population] bots`` is 0. Two uniform draws per person of the block when on, none when off."""
    pop = plan.scenario.population
    share = pop.bots if pop is not None else 0.0
    if share <= 0:
        return rows
    u_bot, u_known = rng_for(plan.seed, block, STREAM + 2).random((2, people))
    person, kind = rows["person"], rows["kind"]
    clicks = np.bincount(person[kind == Kind.CLICK], minlength=people) > 0
    bot_person = (u_bot < share) & ~clicks
    bot = bot_person[person]
    keep = ~(bot & (kind == Kind.CONVERSION))
    out = {name: col[keep] for name, col in rows.items()}
    bot, person, kind = bot[keep], out["person"], out["kind"]
    # a mid-visit change of source (engine/hops.py: the referral back from a checkout domain or a
    # payment provider) is not a landing: it keeps its cause
    mid = np.isin(out["cause"], np.array(sorted(MID_VISIT), dtype=out["cause"].dtype))
    landing = bot & (kind == Kind.PAGEVIEW) & (out["source"] != Source.NONE) & ~mid
    out["cause"] = np.where(landing, Cause.BOT, out["cause"]).astype(rows["cause"].dtype)
    # a new analytics user per visit: the visit's rank among the person's visits (a person's visits
    # are numbered in time order, so the rank follows it)
    at = np.flatnonzero(bot & (out["visit"] >= 0))
    pairs = np.unique(np.stack((person[at], out["visit"][at]), axis=1), axis=0)
    first = np.r_[True, pairs[1:, 0] != pairs[:-1, 0]]
    starts = np.flatnonzero(first)
    rank = np.arange(len(pairs)) - np.repeat(starts, np.diff(np.r_[starts, len(pairs)]))
    pos = np.searchsorted(pairs[:, 0] * (1 << 40) + pairs[:, 1], person[at] * (1 << 40) + out["visit"][at])
    key = out["key"].copy()
    # a checkout-domain view (engine/hops.py, not linked) stays under a key of the checkout domain's
    # own: a bot keeps no cookie there either, so one per visit, apart from the two devices' ones
    checkout = (out["key"][at] % _USER_SPAN >= CHECKOUT_KEY) * CHECKOUT_KEY
    key[at] = person[at] * _USER_SPAN + checkout + _BOT_KEYS + np.minimum(rank[pos], 4095)
    out["key"] = key
    known = bot & (u_known < pop.known_bots)[person]
    is_hit = (kind == Kind.PAGEVIEW) | (kind == Kind.CONVERSION)
    filtered = known & is_hit & out["tracked"]
    out["tracked"] = out["tracked"] & ~filtered
    out["loss"] = np.where(filtered, Loss.BOT_FILTERED, out["loss"]).astype(rows["loss"].dtype)
    return out


def _copies(
    rows: dict[str, np.ndarray], at: np.ndarray, cause: Cause, times: int = 1
) -> dict[str, np.ndarray]:
    """``times`` copies of the rows ``at`` as further page views of the same visit: ``cause``, no
    source, campaign or click (they never open a session), in ``at`` order, each copy after the last."""
    idx = np.tile(at, times)
    out = {name: col[idx] for name, col in rows.items()}
    out["cause"] = np.full(len(idx), cause, dtype=rows["cause"].dtype)
    out["source"] = np.full(len(idx), Source.NONE, dtype=rows["source"].dtype)
    out["campaign"] = np.full(len(idx), -1, dtype=rows["campaign"].dtype)
    out["click"] = np.full(len(idx), -1, dtype=rows["click"].dtype)
    return out


def _leaving(plan: Plan, block: int, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
    """One ``user_engagement`` hit per visit with a page view, a think time after its last hit."""
    kind, visit = rows["kind"], rows["visit"]
    of_visit = np.flatnonzero(((kind == Kind.PAGEVIEW) | (kind == Kind.CONVERSION)) & (visit >= 0))
    if not len(of_visit):
        return None
    # the last hit of each visit (by time; ties: the later row), and its last page view
    order = of_visit[np.lexsort((of_visit, rows["ts"][of_visit], visit[of_visit]))]
    v = visit[order]
    last = order[np.r_[v[1:] != v[:-1], True]]
    views = order[kind[order] == Kind.PAGEVIEW]
    vv = visit[views]
    last_view = views[np.r_[vv[1:] != vv[:-1], True]]
    has_view = np.isin(visit[last], visit[last_view])
    last = last[has_view]
    # both are sorted by visit id, so ``last`` and ``last_view`` align visit by visit
    rng = rng_for(plan.seed, block, STREAM + 1)
    dwell = plan.scenario.behavior.think.sample(rng, len(last))
    out = {name: col[last_view] for name, col in rows.items()}
    out["ts"] = rows["ts"][last] + dwell
    # the tag is on the page even where a route change sent no page_view: it still reports leaving
    silent = out["loss"] == Loss.ROUTE_UNTRACKED
    out["tracked"] = out["tracked"] | silent
    out["loss"] = np.where(silent, Loss.NONE, out["loss"]).astype(rows["loss"].dtype)
    out["kind"] = np.full(len(last), Kind.ENGAGEMENT, dtype=kind.dtype)
    out["cause"] = np.full(len(last), Cause.LEAVE, dtype=rows["cause"].dtype)
    out["source"] = np.full(len(last), Source.NONE, dtype=rows["source"].dtype)
    out["campaign"] = np.full(len(last), -1, dtype=rows["campaign"].dtype)
    out["click"] = np.full(len(last), -1, dtype=rows["click"].dtype)
    return out


def add_tag_hits(plan: Plan, block: int, rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``rows`` with the extra hits the tags send: manual page views of route changes, duplicate
    tags' copies, the leaving hit. Returns ``rows`` itself (unchanged) when all are off.

    Called once the analytics user of every row is known, so each copy keeps its original's user.
    """
    tr = plan.scenario.tracking
    parts = [rows]
    if tr.manual_page_view and tr.history_page_views and plan.scenario.behavior.route_changes > 0:
        twice = np.flatnonzero((rows["cause"] == Cause.ROUTE_CHANGE) & rows["tracked"])
        parts.append(_copies(rows, twice, Cause.MANUAL_PAGE_VIEW))
    if tr.duplicate_tags:
        views = [np.flatnonzero((p["kind"] == Kind.PAGEVIEW) & p["tracked"]) for p in parts]
        parts += [
            _copies(p, at, Cause.DUPLICATE_TAG, tr.duplicate_tags) for p, at in zip(parts, views, strict=True)
        ]
    if tr.user_engagement:
        leaving = _leaving(plan, block, rows)
        if leaving is not None:
            parts.append(leaving)
    if len(parts) == 1:
        return rows
    return {name: np.concatenate([p[name] for p in parts]) for name in rows}

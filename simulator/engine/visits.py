"""Pass 3: what happens in each visit of a block of visitors, generated in numpy batches.

For one block (see :mod:`simulator.engine.population`) this serves its arrivals against the ad servers,
decides each landing (reached? page shown before the visitor gave up? tag fired? blocked, no consent,
tag missing, click id dropped by a redirect?), lays out the page views of each visit (navigation, tabs,
reloads, idle breaks, repeat clicks, a second ad), its conversions and their attributed clicks, the
impressions behind each click, and the analytics user (cookie) of every row. Rows come out sorted by
(user, ts, emission order) with ids numbered after ``Ids``, so blocks concatenate into one sorted log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.engine.hops import mid_visit
from simulator.engine.population import Arrivals, Plan, draw_arrivals, rng_for
from simulator.engine.tagging import add_tag_hits, mark_bots, mark_route_changes
from simulator.log.events import COLUMNS, Cause, Kind, Loss, Source

__all__ = ["Ids", "simulate_block"]

#: At most this many page views per visit (before extra ad clicks).
MAX_PAGES = 500
_POS = 8192  # slot positions per visit in the sort key (4 per page view)
_USER_SPAN = 1 << 24  # user keys per person
_FRESH = 1 << 23  # user keys from here on are identifier-less hits
_TS_BITS = 40  # ms since (period start - 2 days): 34 years
_SOURCE_OF = {
    Cause.ORGANIC: Source.ORGANIC,
    Cause.DIRECT: Source.DIRECT,
    Cause.REFERRAL: Source.REFERRAL,
    Cause.EMAIL: Source.EMAIL,
    Cause.BOOKMARK: Source.BOOKMARK,
    Cause.AD_CLICK: Source.PAID,
    Cause.REPEAT_CLICK: Source.PAID,
    Cause.NEW_TAB_CLICK: Source.PAID,
    Cause.SECOND_AD: Source.PAID,
}
# slot kinds
_LAND, _NAV, _TAB, _RELOAD, _REPEAT, _NEWTAB, _SECOND = range(7)
_SLOT_CAUSE = np.array(
    [
        Cause.AD_CLICK,
        Cause.NAVIGATION,
        Cause.TAB,
        Cause.RELOAD,
        Cause.REPEAT_CLICK,
        Cause.NEW_TAB_CLICK,
        Cause.SECOND_AD,
    ],
    dtype=np.int8,
)


@dataclass
class Ids:
    """The next free id of each kind; blocks number their rows after the previous blocks."""

    user: int = 0
    visit: int = 0
    click: int = 0


@dataclass
class _Visits:
    """Per served arrival of one block: its landing outcome and analytics identity."""

    a: Arrivals
    ix: np.ndarray  # arrival indices that were served
    paid: np.ndarray
    invalid: np.ndarray
    reached: np.ndarray
    shown: np.ndarray
    stayed: np.ndarray
    land_loss: np.ndarray
    dev_loss: np.ndarray
    no_id: np.ndarray
    cause: np.ndarray
    land_ms: np.ndarray
    slow: np.ndarray
    cookie: np.ndarray
    visit: np.ndarray  # visit id, -1 if none
    device: np.ndarray
    n_pages: np.ndarray
    convert: np.ndarray

    taken: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, name: str) -> np.ndarray:
        """A per-arrival array of the served arrivals (gathered once; callers never write to it)."""
        if name not in self.taken:
            self.taken[name] = getattr(self.a, name)[self.ix]
        return self.taken[name]


def _segment_starts(keys: np.ndarray) -> np.ndarray:
    """True where a run of equal keys starts."""
    out = np.ones(len(keys), dtype=np.bool_)
    out[1:] = keys[1:] != keys[:-1]
    return out


def _segmented_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each ``starts`` row."""
    csum = np.cumsum(values)
    first = np.flatnonzero(starts)
    base = np.repeat(csum[first] - values[first], np.diff(np.r_[first, len(values)]))
    return csum - base


def _cookies(plan: Plan, a: Arrivals, ix: np.ndarray) -> np.ndarray:
    """The cookie (user key) of each served arrival: per person and device, renewed by clearing or ITP."""
    person, slot, t = a.person[ix], a.slot[ix].astype(np.int64), a.t[ix]
    group = person * 2 + slot
    order = np.argsort(group, kind="stable")  # keeps time order within a device
    g, ts = group[order], t[order]
    first = _segment_starts(g)
    gap = np.r_[0.0, np.diff(ts)]
    expired = a.itp[person[order]] & (gap > plan.scenario.population.cookie_lifetime)
    reset = (a.clear[ix][order] | expired) & ~first
    gen = np.minimum(_segmented_cumsum(reset.astype(np.int64), first), 4095)
    out = np.empty(len(ix), dtype=np.int64)
    out[order] = person[order] * _USER_SPAN + slot[order] * 4096 + gen  # person-major keys
    return out


def _outcomes(plan: Plan, a: Arrivals, rng: np.random.Generator, ids: Ids) -> _Visits:
    """Serve the block's arrivals and decide each landing."""
    sc, tr, beh = plan.scenario, plan.scenario.tracking, plan.scenario.behavior
    paid_all = a.campaign >= 0
    serve = np.ones(len(a.t), dtype=np.bool_)
    serve[paid_all] = a.u_serve[paid_all] < plan.served[a.campaign[paid_all], a.minute[paid_all]]
    ix = np.flatnonzero(serve)
    n = len(ix)
    campaign, minute, person = a.campaign[ix], a.minute[ix], a.person[ix]
    paid, invalid = campaign >= 0, a.invalid[ix]
    u_reach, u_tag, u_redirect, u_convert = rng.random((4, n))
    slow = plan.slow[minute]
    load = tr.page_load.sample(rng, n) * slow
    tag = tr.tag_load.sample(rng, n)
    patience = beh.patience.sample(rng, n)
    n_pages = np.clip(beh.pages.sample(rng, n), 1, MAX_PAGES)
    lands = np.array([c.invalid_lands for c in sc.campaigns] + [0.0])[campaign]
    not_reached = paid & ~invalid & (u_reach < tr.not_reached)
    reached = np.where(invalid, u_reach < lands, ~not_reached)
    shown = reached & (invalid | (patience >= load))
    stayed = shown & ~invalid & (patience >= load + tag)
    slot = a.slot[ix]
    blocked = a.blocked[person, slot] & ~invalid
    denied = ~a.consent[person, slot] & ~invalid
    basic = tr.consent_mode == "basic"
    dev_loss = np.where(blocked, Loss.BLOCKED, np.where(denied & basic, Loss.NO_CONSENT, Loss.NONE))
    land_loss = np.select(
        [
            ~reached,
            dev_loss != Loss.NONE,
            ~invalid & (u_tag < tr.tag_missing),
            ~invalid & ~stayed,
            paid & ~invalid & (u_redirect < tr.redirect_drop),
        ],
        [Loss.NOT_REACHED, dev_loss, Loss.TAG_MISSING, Loss.LEFT_BEFORE_TAG, Loss.CAMPAIGN_DROPPED],
        Loss.NONE,
    ).astype(np.int8)
    # a bookmark return needs an earlier visit that bookmarked; otherwise it is a direct return
    cause = a.cause[ix].copy()
    marked = (stayed & a.bookmark[ix]).astype(np.int64)
    before = _segmented_cumsum(marked, _segment_starts(person)) - marked
    cause[(cause == Cause.BOOKMARK) & (before == 0)] = Cause.DIRECT
    is_visit = reached & (paid | shown)
    visit = np.where(is_visit, ids.visit + np.cumsum(is_visit) - 1, -1)
    ids.visit += int(is_visit.sum())
    return _Visits(
        a,
        ix,
        paid,
        invalid,
        reached,
        shown,
        stayed,
        land_loss,
        dev_loss.astype(np.int8),
        denied & ~basic,
        cause,
        a.t[ix] + load,
        slow,
        _cookies(plan, a, ix),
        visit,
        a.dev_type[person, slot],
        n_pages,
        u_convert < beh.convert,
    )


@dataclass
class _Slots:
    """Page views of the block's visits, in visit order: arrival index, kind, time, page, campaign."""

    arr: np.ndarray
    kind: np.ndarray
    ts: np.ndarray
    page: np.ndarray
    campaign: np.ndarray
    click_ts: np.ndarray  # for ad-click slots: when the click happened
    cost: np.ndarray  # for ad-click slots: what the click costs
    first: np.ndarray  # the visit's landing slot


def _slots(plan: Plan, v: _Visits, rng: np.random.Generator) -> _Slots:
    """Lay out each shown visit's page views, with extra ad clicks inserted between them."""
    beh = plan.scenario.behavior
    n = len(v.ix)
    pages = np.where(v.stayed, v.n_pages, v.shown.astype(np.int64))
    arr = np.repeat(np.arange(n), pages)
    k = np.arange(len(arr)) - np.repeat(np.cumsum(pages) - pages, pages)
    u = rng.random(len(arr))
    kind = np.where(u < beh.reload, _RELOAD, np.where(u < beh.reload + beh.new_tab, _TAB, _NAV))
    kind[k == 0] = _LAND
    campaign = np.where(k == 0, v.get("campaign")[arr], -1)
    # extra ad clicks of paid visits that stayed, served like any click, at a random place in the visit
    camp_x = v.get("extra_campaign")
    where_x = 1 + (rng.random((n, 3)) * v.n_pages[:, None]).astype(np.int64)
    live = (camp_x >= 0) & v.stayed[:, None] & ~v.invalid[:, None]
    if len(plan.served):  # no [[campaign]]: nobody clicks an ad (and ``served`` has no rows to index)
        live &= v.get("extra_u") < plan.served[np.maximum(camp_x, 0), v.get("minute")[:, None]]
    else:
        live[:] = False
    xa, xe = np.nonzero(live)
    pos = np.concatenate((4 * k, 4 * where_x[xa, xe] - 3 + xe))
    order = np.argsort(np.concatenate((arr, xa)) * _POS + pos, kind="stable")
    arr = np.concatenate((arr, xa))[order]
    kind = np.concatenate((kind, _REPEAT + xe))[order]
    campaign = np.concatenate((campaign, camp_x[xa, xe]))[order]
    cost = np.concatenate((np.zeros(len(k)), v.get("extra_cost")[xa, xe]))[order]
    # timing: think times or idle breaks between views, page loads after ad clicks
    m = len(arr)
    gap = np.where(rng.random(m) < beh.idle, beh.idle_time.sample(rng, m), beh.think.sample(rng, m))
    reload_time = plan.scenario.tracking.page_load.sample(rng, m) * v.slow[arr]
    is_click = kind >= _REPEAT
    first = _segment_starts(arr)
    delta = np.where(first, 0.0, gap + np.where(is_click, reload_time, 0.0))
    ts = v.land_ms[arr] + _segmented_cumsum(delta, first)
    click_ts = np.where(is_click, ts - reload_time, 0.0)
    page = _pages(plan, rng, kind, campaign)
    return _Slots(arr, kind, ts, page, campaign, click_ts, cost, first)


def _pages(plan: Plan, rng: np.random.Generator, kind: np.ndarray, campaign: np.ndarray) -> np.ndarray:
    """Page index of each slot: landings of the clicked campaign, site pages, reloads repeat the last."""
    landing = {name: i for i, name in enumerate(plan.pages)}
    lp = np.array([landing[c.landing_page] for c in plan.scenario.campaigns] + [0], dtype=np.int32)
    offset = len(plan.pages) - plan.scenario.behavior.site_pages
    page = (offset + rng.integers(0, plan.scenario.behavior.site_pages, len(kind))).astype(np.int32)
    on_lp = (kind == _LAND) | (kind >= _REPEAT)
    page[on_lp] = lp[campaign[on_lp]]  # campaign -1 (unpaid landing) picks the last entry: "home"
    reload = kind == _RELOAD
    if reload.any():
        last = np.where(reload, 0, np.arange(len(kind)))
        page = page[np.maximum.accumulate(last)]
    return page


def _frame(n: int, **cols: object) -> dict[str, np.ndarray]:
    """Columns of ``n`` rows: the given values (arrays or scalars), defaults for the rest."""
    defaults = {
        "visit": -1,
        "campaign": -1,
        "page": -1,
        "click": -1,
        "source": Source.NONE,
        "loss": Loss.NONE,
    }
    out = {}
    for name, dtype in _FRAME_DTYPES.items():
        value = cols.get(name, defaults.get(name, 0))
        out[name] = np.broadcast_to(np.asarray(value, dtype=dtype), (n,))
    return out


#: The columns of a block's rows before sorting: the log's own types (cast here rather than after
#: concatenating and sorting: the same values, a quarter of the bytes to move), times still in
#: fractional ms, and the sort key and arrival index of each row.
_FRAME_DTYPES = {
    **{name: dtype for name, dtype in COLUMNS.items() if name not in ("user", "journey")},
    "ts": np.float64,
    "key": np.int64,
    "arr": np.int64,
}


def _impressions(plan: Plan, v: _Visits, s: _Slots, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The impressions behind each ad click: the clicked one seconds before, the others within the hour."""
    cpm = np.array([c.cpm or 0.0 for c in plan.scenario.campaigns] + [0.0]) / 1000
    paid = np.flatnonzero(v.paid)
    rep = v.get("n_imp")[paid]
    arr = np.repeat(paid, rep)
    last = np.arange(len(arr)) == np.repeat(np.cumsum(rep) - 1, rep)
    before = np.where(last, rng.uniform(1_000, 20_000, len(arr)), rng.uniform(20_000, 3_600_000, len(arr)))
    xs = np.flatnonzero(s.kind >= _REPEAT)
    x_before = rng.uniform(1_000, 20_000, len(xs))
    arr_all = np.concatenate((arr, s.arr[xs]))
    campaign = np.concatenate((v.get("campaign")[arr], s.campaign[xs]))
    counted = np.concatenate((v.get("counted")[arr], np.ones(len(xs), dtype=np.bool_)))
    return _frame(
        len(arr_all),
        arr=arr_all,
        key=v.cookie[arr_all],
        person=v.get("person")[arr_all],
        ts=np.concatenate((v.get("t")[arr] - before, s.click_ts[xs] - x_before)),
        kind=Kind.IMPRESSION,
        cause=Cause.AD_SERVED,
        campaign=campaign,
        counted=counted,
        cost=np.where(counted, cpm[campaign], 0.0),
        device=v.device[arr_all],
    )


def _clicks(v: _Visits, s: _Slots, ids: Ids) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Ad clicks: each paid arrival's click and the extra clicks inside visits; also their ids per slot."""
    paid = np.flatnonzero(v.paid)
    xs = np.flatnonzero(s.kind >= _REPEAT)
    arr = np.concatenate((paid, s.arr[xs]))
    order = np.lexsort((np.concatenate((np.full(len(paid), -1), xs)), arr))  # arrival order, then slot order
    click = np.empty(len(arr), dtype=np.int64)
    click[order] = ids.click + np.arange(len(arr))
    ids.click += len(arr)
    loss = np.concatenate((v.land_loss[paid], v.dev_loss[s.arr[xs]]))
    frame = _frame(
        len(arr),
        arr=arr,
        key=v.cookie[arr],
        person=v.get("person")[arr],
        visit=v.visit[arr],
        ts=np.concatenate((v.get("t")[paid], s.click_ts[xs])),
        kind=Kind.CLICK,
        cause=np.concatenate((np.full(len(paid), Cause.AD_CLICK, dtype=np.int8), _SLOT_CAUSE[s.kind[xs]])),
        source=Source.PAID,
        campaign=np.concatenate((v.get("campaign")[paid], s.campaign[xs])),
        click=click,
        counted=np.concatenate((v.get("counted")[paid], np.ones(len(xs), dtype=np.bool_))),
        loss=loss,
        cost=np.concatenate((v.get("cost")[paid], s.cost[xs])),
        device=v.device[arr],
    )
    slot_click = np.full(len(s.arr), -1, dtype=np.int64)
    slot_click[xs] = click[len(paid) :]
    arrival_click = np.full(len(v.ix), -1, dtype=np.int64)
    arrival_click[paid] = click[: len(paid)]
    return frame, slot_click, arrival_click


def _views(v: _Visits, s: _Slots, slot_click: np.ndarray, arrival_click: np.ndarray) -> dict[str, np.ndarray]:
    """Page views: landings (tracked or lost as decided), then navigation, tabs, reloads, ad landings."""
    arr, kind, landing = s.arr, s.kind, s.kind == _LAND
    paid_land = landing & v.paid[arr]
    dropped = paid_land & (v.land_loss[arr] == Loss.CAMPAIGN_DROPPED)
    loss = np.where(landing, v.land_loss[arr], v.dev_loss[arr])
    loss = np.where(dropped, Loss.NONE, loss)
    cause = np.where(landing & ~v.paid[arr], v.cause[arr], _SLOT_CAUSE[kind])
    cause = np.where(dropped, Cause.REDIRECT, cause).astype(np.int8)
    source_of = np.zeros(int(max(Cause)) + 1, dtype=np.int8)
    for c, src in _SOURCE_OF.items():
        source_of[c] = src
    source = np.where(landing | (kind >= _REPEAT), source_of[cause], Source.NONE)
    source = np.where(dropped, Source.DIRECT, source)
    click = np.where(paid_land, arrival_click[arr], slot_click)
    return _frame(
        len(arr),
        arr=arr,
        key=v.cookie[arr],
        person=v.get("person")[arr],
        visit=v.visit[arr],
        ts=s.ts,
        kind=Kind.PAGEVIEW,
        cause=cause,
        source=source,
        campaign=np.where(dropped, -1, s.campaign),
        page=s.page,
        click=np.where(dropped, -1, click),
        tracked=loss == Loss.NONE,
        loss=loss,
        device=v.device[arr],
    )


def _conversions(plan: Plan, v: _Visits, s: _Slots, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Conversions at the end of converting visits (page of the last view)."""
    beh = plan.scenario.behavior
    starts = np.flatnonzero(s.first)
    ends = np.r_[starts[1:], len(s.arr)] - 1
    seg_arr = s.arr[starts]
    conv = v.convert[seg_arr] & v.stayed[seg_arr]
    last, arr = ends[conv], seg_arr[conv]
    n = len(arr)
    ts = s.ts[last] + beh.think.sample(rng, n)
    loss = v.dev_loss[arr]
    return _frame(
        n,
        arr=arr,
        key=v.cookie[arr],
        person=v.get("person")[arr],
        visit=v.visit[arr],
        ts=ts,
        kind=Kind.CONVERSION,
        cause=Cause.CONVERSION,
        page=s.page[last],
        tracked=loss == Loss.NONE,
        loss=loss,
        value=np.maximum(beh.value.sample(rng, n), 0.0),
        units=beh.units.sample(rng, n),
        device=v.device[arr],
    )


def _attribute(plan: Plan, rows: dict[str, np.ndarray], rel: np.ndarray) -> None:
    """Credit each conversion to the person's last counted click within the attribution window."""
    kind = rows["kind"]
    clicks = np.flatnonzero((kind == Kind.CLICK) & rows["counted"])
    convs = np.flatnonzero(kind == Kind.CONVERSION)
    if not len(clicks) or not len(convs):
        return
    shift = np.int64(1) << (_TS_BITS + 1)
    ck = rows["person"][clicks] * shift + rel[clicks]
    order = np.argsort(ck, kind="stable")
    ck, clicks = ck[order], clicks[order]
    vk = rows["person"][convs] * shift + rel[convs]
    at = np.searchsorted(ck, vk, side="right") - 1
    ok = at >= 0
    at = np.maximum(at, 0)
    ok &= rows["person"][clicks[at]] == rows["person"][convs]
    ok &= rel[convs] - rel[clicks[at]] <= plan.scenario.behavior.attribution_window
    click = rows["click"].copy()
    click[convs[ok]] = rows["click"][clicks[at[ok]]]
    rows["click"] = click


def simulate_block(plan: Plan, block: int, ids: Ids) -> tuple[dict[str, np.ndarray], int]:
    """All rows of one block of visitors, sorted by (user, ts, emission order), and its people count.

    ``ids`` is advanced past the users, visits and clicks the block used.
    """
    a = draw_arrivals(plan, block)
    rng = rng_for(plan.seed, block, 1)
    v = _outcomes(plan, a, rng, ids)
    s = _slots(plan, v, rng)
    clicks, slot_click, arrival_click = _clicks(v, s, ids)
    views = _views(v, s, slot_click, arrival_click)
    if plan.scenario.site.active:  # [site]: checkout domain, payment provider, internal campaigns
        mid_visit(plan, block, s.first, (s.kind >= _NAV) & (s.kind <= _RELOAD), views)
    parts = [_impressions(plan, v, s, rng), clicks, views]
    parts.append(_conversions(plan, v, s, rng))
    rows = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    rows = mark_bots(plan, block, rows, a.n)  # bots (engine/tagging.py); off: no change
    mark_route_changes(plan, block, rows)  # single-page apps (engine/tagging.py); off: no change
    # identifier-less hits (consent denied, advanced mode): a fresh analytics user each
    person = rows["person"]
    is_hit = (rows["kind"] == Kind.PAGEVIEW) | (rows["kind"] == Kind.CONVERSION)
    no_id = is_hit & rows["tracked"] & v.no_id[rows["arr"]]
    rows["key"] = np.where(no_id, person * _USER_SPAN + _FRESH + np.cumsum(no_id), rows["key"])
    rows = add_tag_hits(plan, block, rows)  # duplicate tags, manual page views, leaving; off: no change
    person = rows["person"]
    ts = np.floor(rows["ts"]).astype(np.int64)
    rel = ts - (plan.base_ms - 2 * 86_400_000)
    rows["ts"] = ts
    _attribute(plan, rows, rel)
    order, user, n_users = _user_order(rows["key"], rel)
    out = {
        name: rows[name][order].astype(dtype, copy=False)
        for name, dtype in COLUMNS.items()
        if name in rows and name != "person"
    }
    out["user"] = ids.user + user
    out["person"] = (a.first + person[order]).astype(np.int64)
    out["journey"] = np.full(len(ts), -1, dtype=np.int32)
    ids.user += n_users
    return out, int(np.count_nonzero(np.bincount(person, minlength=a.n)))


def _user_order(key: np.ndarray, rel: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """The rows' order by (user key, time, emission order), each sorted row's user number, the count.

    Users are numbered in key order. Two stable sorts: by key (the rows come in a few runs already
    sorted by key, which a stable sort merges in one pass), then by (user number, time), again nearly
    sorted. The result is the stable sort by (key, time) in one step, without the quicksort that
    ``np.unique(key, return_inverse=True)`` would do.
    """
    by_key = np.argsort(key, kind="stable")
    sorted_key = key[by_key]
    new = np.ones(len(key), dtype=np.bool_)
    np.not_equal(sorted_key[1:], sorted_key[:-1], out=new[1:])
    number = np.cumsum(new) - 1
    then = np.argsort((number << _TS_BITS) | rel[by_key], kind="stable")
    return by_key[then], number[then], int(number[-1]) + 1 if len(key) else 0

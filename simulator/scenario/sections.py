"""The stochastic sections of a scenario file: [population], [[campaign]], [behavior], [tracking].

Declarative tables (``simulator.schema``) with documented defaults, the frozen records built from them,
and their cross-checks. :mod:`~simulator.scenario.loader` wires them into ``SCHEMA`` and ``Scenario``.
Defaults and their sources are listed in ``docs/engine.md`` (facts from docs/domain.md; [NC] where no
source exists).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from simulator.scenario.distributions import Dist, DistCheck
from simulator.schema import Bool, Choice, Ctx, Duration, Field, Int, ListOf, Num, Str, Table, TimeZone

__all__ = [
    "BEHAVIOR",
    "CAMPAIGN",
    "NETWORKS",
    "POPULATION",
    "TRACKING",
    "Behavior",
    "Campaign",
    "Population",
    "Tracking",
    "build_population",
]


class Weights:
    """A list of ``n`` non-negative weights with a positive sum (a time-of-day or weekday profile)."""

    def __init__(self, n: int, what: str) -> None:
        self.n, self.what = n, what

    def __call__(self, value: Any, ctx: Ctx) -> tuple[float, ...]:
        if not isinstance(value, list) or len(value) != self.n:
            got = f"{len(value)} items" if isinstance(value, list) else repr(value)
            ctx.fail(f"expected a list of {self.n} weights ({self.what}), got {got}")
        for i, item in enumerate(value):
            with ctx.at(i):
                Num(0, what="a weight")(item, ctx)
        if sum(value) <= 0:
            ctx.fail("expected at least one positive weight, got all zeros")
        return tuple(float(v) for v in value)

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "number", "minimum": 0},
            "minItems": self.n,
            "maxItems": self.n,
        }


class Mix(Table):
    """A table of named non-negative weights: a name left out weighs 0; the sum must be positive."""

    def __call__(self, value: Any, ctx: Ctx) -> dict[str, Any]:
        out = super().__call__(value, ctx)
        if sum(out.values()) <= 0:
            ctx.fail(f"expected at least one positive weight among {', '.join(self.fields)}")
        return out


def _mix(names: tuple[str, ...], defaults: tuple[float, ...], doc: str) -> Field:
    """A :class:`Mix` field whose default (when the table is absent) is ``defaults``."""
    share = Num(0, what="a weight")
    table = Mix({n: Field(share, default=0.0) for n in names}, doc)
    return Field(table, doc, default=dict(zip(names, defaults, strict=True)))


_FRACTION = Num(0, 1, what="a fraction", hint="write 0.05 for 5%")


def _frac(default: float, doc: str) -> Field:
    return Field(_FRACTION, doc, default=default)


def _dist(kind: str, default: Dist, doc: str, minimum: float = 0.0) -> Field:
    return Field(DistCheck(kind, minimum=minimum), doc, default=default)  # type: ignore[arg-type]


def _lognormal(median: float, sigma: float, kind: str = "duration") -> Dist:
    return Dist("lognormal", (("median", median), ("sigma", sigma)), kind)  # type: ignore[arg-type]


_S, _M, _H, _D = 1_000, 60_000, 3_600_000, 86_400_000


class _EngagementTimer(Duration):
    """GA4's engaged-session timer: "from 10 seconds to 60 seconds" (GA4 help answer/12131703)."""

    def __call__(self, value: Any, ctx: Ctx) -> int:
        ms = super().__call__(value, ctx)
        if not 10 * _S <= ms <= 60 * _S:
            ctx.fail(f"expected a duration from 10s to 60s (GA4's engaged-session timer), got {value!r}")
        return ms


#: Ad networks a campaign can run on (the name is a label for reports; the mechanics are the same).
NETWORKS = (
    "google_ads",
    "microsoft_ads",
    "amazon_ads",
    "meta",
    "linkedin_ads",
    "tiktok_ads",
    "pinterest_ads",
    "email",
    "other",
)

#: Arrivals by local hour (property audience), a typical retail web curve: quiet nights, evening peak.
DEFAULT_HOURS = (
    1,
    0.6,
    0.4,
    0.3,
    0.3,
    0.5,
    1,
    2,
    3.5,
    4.5,
    5,
    5.2,
    5.5,
    5.2,
    5,
    5,
    5.2,
    5.5,
    6,
    6.5,
    6.5,
    5.5,
    3.5,
    2,
)
#: Arrivals by weekday, Monday first.
DEFAULT_WEEKDAYS = (1.0, 1.0, 1.0, 1.0, 0.95, 0.85, 0.9)

POPULATION = Table(
    {
        "visitors": Field(
            Int(0, 1_000_000_000, what="a number of people"), "people who try to reach the site", default=1000
        ),
        "days": Field(Int(1, 366, what="a number of days"), "length of the simulated period", default=7),
        "timezone": Field(
            TimeZone(), "the audience's time zone for the profiles (default: [scenario] timezone)"
        ),
        "hours": Field(Weights(24, "by local hour, 0-23"), "time-of-day profile", default=DEFAULT_HOURS),
        "weekdays": Field(Weights(7, "Monday to Sunday"), "day-of-week profile", default=DEFAULT_WEEKDAYS),
        "devices": _mix(("desktop", "mobile", "tablet"), (0.40, 0.55, 0.05), "device shares"),
        "unpaid": _mix(
            ("organic", "direct", "referral", "email"),
            (0.55, 0.30, 0.10, 0.05),
            "how people who do not arrive through a campaign first arrive",
        ),
        "multi_device": _frac(0.10, "chance a return happens on the person's other device (a new user)"),
        "clear_cookies": _frac(0.03, "chance the person cleared cookies before a return (a new user)"),
        "itp": _frac(0.25, "share of people whose browser caps script cookies (Safari ITP)"),
        "cookie_lifetime": Field(
            Duration(positive=True),
            "cookie cap of those browsers: a later return is a new user",
            default=7 * _D,
        ),
        "bots": _frac(0.0, "share of people (among those who click no ad) that are bots running the tag"),
        "known_bots": _frac(0.5, "share of those bots on the known-bot list that GA4 excludes"),
    },
    doc="Who visits and when (a stochastic population; see also [[journey]] for scripted visitors).",
)

SCHEDULE = Table(
    {
        "hours": Field(
            ListOf(Int(0, 24, what="an hour"), min_len=2),
            "[first, end) local hours the ads run",
            default=[0, 24],
        ),
        "weekdays": Field(
            ListOf(Int(1, 7, what="an ISO weekday (1 = Monday)"), min_len=1),
            "days the ads run, 1 = Monday",
            default=[1, 2, 3, 4, 5, 6, 7],
        ),
    },
    doc="When the ads run, in the ad account's time zone.",
)

CAMPAIGN = Table(
    {
        "name": Field(Str(what="a campaign name"), "shown in reports", required=True),
        "network": Field(Choice(NETWORKS, "an ad network"), "where the ads run", default="google_ads"),
        "share": Field(
            _FRACTION, "share of people whose first visit is a click on this campaign", required=True
        ),
        "ctr": Field(
            Num(
                1e-4,
                1,
                what="a click-through rate",
                hint="rates below 0.01 % would simulate ten thousand impressions and more per click",
            ),
            "clicks per impression",
            default=0.05,
        ),
        "cpc": Field(DistCheck("number"), "cost per click (a number or a distribution); default 1.0"),
        "cpm": Field(Num(0, what="a cost per thousand impressions"), "bill impressions instead of clicks"),
        "daily_budget": Field(Num(0, lo_open=True, what="a budget"), "spend cap per ad-account day"),
        "pacing": Field(
            Choice(("standard", "accelerated"), "a pacing"),
            "standard spreads the budget over the day; accelerated serves until it is spent",
            default="standard",
        ),
        "schedule": Field(SCHEDULE, "when the ads run (ad account time zone)"),
        "invalid_rate": _frac(0.02, "share of clicks that are invalid (bots, accidental clicks)"),
        "invalid_filtered": Field(
            Bool(), "the platform filters invalid clicks (not counted, not billed)", default=True
        ),
        "invalid_lands": _frac(0.5, "chance an invalid click still loads the landing page"),
        "landing_page": Field(Str(what="a page name"), "where the ads lead (default: lp-<name>)"),
    },
    doc="An ad campaign delivering clicks to the population.",
)

BEHAVIOR = Table(
    {
        "pages": _dist(
            "count", Dist("geometric", (("mean", 3.0),), "count"), "page views per visit", minimum=1
        ),
        "think": _dist("duration", _lognormal(40 * _S, 1.0), "time between page views"),
        "reload": _frac(0.03, "chance a page view is a reload of the previous page"),
        "new_tab": _frac(0.05, "chance a page view opens in a new tab"),
        "repeat_click": _frac(0.05, "chance a paid visit clicks the same ad again"),
        "new_tab_click": _frac(0.02, "chance a paid visit opens the ad again in another tab"),
        "second_ad": _frac(0.02, "chance a paid visit clicks another campaign's ad"),
        "idle": _frac(0.03, "chance a gap between page views is an idle break"),
        "idle_time": _dist("duration", _lognormal(45 * _M, 0.3), "length of an idle break"),
        "patience": _dist("duration", _lognormal(30 * _S, 1.5), "how long a visitor waits for a page"),
        "bookmark": _frac(0.05, "chance a visit bookmarks the site"),
        "returns": Field(
            Num(0, 0.95, what="a probability"), "chance of another visit after each visit", default=0.3
        ),
        "return_delay": _dist("duration", _lognormal(2 * _D, 1.0), "time from one visit to the next"),
        "return_via": _mix(
            ("bookmark", "direct", "organic", "campaign"),
            (0.3, 0.3, 0.3, 0.1),
            "how people come back (bookmark only if they bookmarked; campaign = another ad click)",
        ),
        "convert": _frac(0.03, "chance a visit converts"),
        "value": _dist("number", _lognormal(40.0, 0.6, "number"), "conversion value"),
        "units": _dist("count", Dist.fixed(1, "count"), "units per conversion", minimum=1),
        "attribution_window": Field(
            Duration(positive=True), "conversions are credited to a click this recent", default=30 * _D
        ),
        "site_pages": Field(Int(1, 100_000, what="a number of pages"), "pages besides landings", default=20),
        "route_changes": _frac(
            0.0, "share of navigation page views that are a single-page app's route changes (no page load)"
        ),
    },
    doc="What people do during and after a visit.",
)

TRACKING = Table(
    {
        "page_load": _dist("duration", _lognormal(1.5 * _S, 0.6), "click to landing page shown"),
        "tag_load": _dist("duration", _lognormal(400, 0.6), "page shown to analytics tag fired"),
        "capacity": Field(
            Num(0, what="a rate"),
            "landings per minute the site serves at full speed (0 = unlimited)",
            default=0,
        ),
        "not_reached": _frac(0.01, "share of clicks that never reach the site"),
        "blockers": _frac(0.10, "share of devices whose blocker stops analytics"),
        "consent": _frac(1.0, "share of devices that grant analytics consent"),
        "consent_mode": Field(
            Choice(("basic", "advanced"), "a consent mode"),
            "basic: no hit without consent; advanced: hits without identifiers",
            default="basic",
        ),
        "redirect_drop": _frac(0.0, "share of ad landings whose redirect drops the click id"),
        "tag_missing": _frac(0.0, "share of landings on a page without a working tag"),
        "duplicate_tags": Field(
            Int(0, 9, what="a number of extra tags"),
            "extra tags sending each page view to the same measurement id (1 = every view counted twice)",
            default=0,
        ),
        "history_page_views": Field(
            Bool(), "GA4 enhanced measurement: a route change (history event) sends a page_view", default=True
        ),
        "manual_page_view": Field(
            Bool(), "the site also sends its own page_view on each route change", default=False
        ),
        "user_engagement": Field(
            Bool(), "send GA4's user_engagement hit when the visitor leaves (session duration)", default=False
        ),
        "engagement_timer": Field(
            _EngagementTimer(), "GA4's engaged-session timer (10s to 60s)", default=10 * _S
        ),
    },
    doc="What analytics receives of what happens.",
)


@dataclass(frozen=True, slots=True)
class Population:
    """Who visits and when; shares and profiles are normalised weights."""

    visitors: int
    days: int
    timezone: str
    hours: tuple[float, ...]
    weekdays: tuple[float, ...]
    devices: tuple[float, float, float]  # desktop, mobile, tablet
    unpaid: tuple[float, float, float, float]  # organic, direct, referral, email
    multi_device: float
    clear_cookies: float
    itp: float
    cookie_lifetime: int  # ms
    bots: float = 0.0
    known_bots: float = 0.5


@dataclass(frozen=True, slots=True)
class Campaign:
    """One ad campaign. ``cpc`` is None when the campaign bills impressions (``cpm``)."""

    index: int
    name: str
    network: str
    share: float
    ctr: float
    cpc: Dist | None
    cpm: float | None
    daily_budget: float | None
    pacing: str
    hours: tuple[int, int]  # [first, end) local hours in the ad account's time zone
    weekdays: tuple[int, ...]  # ISO weekdays, 1 = Monday
    invalid_rate: float
    invalid_filtered: bool
    invalid_lands: float
    landing_page: str


@dataclass(frozen=True, slots=True)
class Behavior:
    """What people do during and after a visit (see ``BEHAVIOR`` for each field's meaning)."""

    pages: Dist
    think: Dist
    reload: float
    new_tab: float
    repeat_click: float
    new_tab_click: float
    second_ad: float
    idle: float
    idle_time: Dist
    patience: Dist
    bookmark: float
    returns: float
    return_delay: Dist
    return_via: tuple[float, float, float, float]  # bookmark, direct, organic, campaign
    convert: float
    value: Dist
    units: Dist
    attribution_window: int  # ms
    site_pages: int
    route_changes: float = 0.0  # share of navigation views that are SPA route changes


@dataclass(frozen=True, slots=True)
class Tracking:
    """What analytics receives (see ``TRACKING`` for each field's meaning)."""

    page_load: Dist
    tag_load: Dist
    capacity: float
    not_reached: float
    blockers: float
    consent: float
    consent_mode: str
    redirect_drop: float
    tag_missing: float
    duplicate_tags: int = 0
    history_page_views: bool = True
    manual_page_view: bool = False
    user_engagement: bool = False
    engagement_timer: int = 10 * _S  # ms


def _record(cls: type, raw: dict[str, Any]) -> Any:
    """Build a section record from its validated table: mixes become tuples in schema order."""
    values = {}
    for f in fields(cls):
        value = raw.get(f.name)
        values[f.name] = tuple(value.values()) if isinstance(value, dict) else value
    return cls(**values)


def build_population(
    doc: dict[str, Any], tz: str, ctx: Ctx
) -> tuple[Population | None, tuple[Campaign, ...], Behavior, Tracking]:
    """The stochastic sections: [population], [[campaign]], [behavior], [tracking], cross-checked."""
    behavior = _record(Behavior, doc["behavior"] if "behavior" in doc else BEHAVIOR({}, ctx))
    tracking = _record(Tracking, doc["tracking"] if "tracking" in doc else TRACKING({}, ctx))
    if "population" not in doc:
        for section in ("campaign", "behavior", "tracking"):
            if doc.get(section):
                with ctx.at(section):
                    ctx.fail("applies to a stochastic population: add a [population] table")
        return None, (), behavior, tracking
    raw = dict(doc["population"])
    raw.setdefault("timezone", tz)
    population = _record(Population, raw)
    with ctx.at("campaign"):
        campaigns = tuple(_build_campaign(i, c, ctx) for i, c in enumerate(doc["campaign"]))
        names = [c.name for c in campaigns]
        total = 0.0
        for c in campaigns:
            total += c.share
            with ctx.at(c.index):
                if names.index(c.name) != c.index:
                    with ctx.at("name"):
                        ctx.fail(f"{c.name!r} is already the name of campaign[{names.index(c.name) + 1}]")
                if total > 1 + 1e-9:
                    with ctx.at("share"):
                        ctx.fail(f"campaign shares add up to {total:g}, more than 1 (the whole population)")
    return population, campaigns, behavior, tracking


def _build_campaign(i: int, raw: dict[str, Any], ctx: Ctx) -> Campaign:
    with ctx.at(i):
        if "cpc" in raw and "cpm" in raw:
            with ctx.at("cpm"):
                ctx.fail(
                    "give either 'cpc' (billed per click) or 'cpm' (billed per 1000 impressions), not both"
                )
        schedule = SCHEDULE(raw.get("schedule", {}), ctx)
        with ctx.at("schedule"), ctx.at("hours"):
            hours = schedule["hours"]
            if len(hours) != 2 or hours[0] >= hours[1]:  # noqa: PLR2004
                ctx.fail(f"expected [first, end) with first < end, like [8, 22], got {hours!r}")
    cpc = raw.get("cpc", None if "cpm" in raw else Dist.fixed(1.0))
    return Campaign(
        index=i,
        name=raw["name"],
        network=raw["network"],
        share=raw["share"],
        ctr=raw["ctr"],
        cpc=cpc,
        cpm=raw.get("cpm"),
        daily_budget=raw.get("daily_budget"),
        pacing=raw["pacing"],
        hours=(hours[0], hours[1]),
        weekdays=tuple(sorted(set(schedule["weekdays"]))),
        invalid_rate=raw["invalid_rate"],
        invalid_filtered=raw["invalid_filtered"],
        invalid_lands=raw["invalid_lands"],
        landing_page=raw.get("landing_page", f"lp-{raw['name']}"),
    )

"""Static findings: what in a GTM container and the settings table makes clicks, sessions and views disagree.

Each :class:`Finding` names its rule id, severity, the evidence (file + JSON pointer; container
pointers count from 0 like JSON, e.g. ``containerVersion.tag[3].firingTriggerId``), the documented rule
and its source, the bridge terms it moves, the fix, and -- when the engine has the mechanism -- the
scenario change "as configured" and "as fixed" that :mod:`simulator.validate.effect` simulates.
docs/validate.md explains every rule with its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simulator.schema import format_duration
from simulator.validate.gtm import Container, Tag
from simulator.validate.settings import DEFAULT_TIMEOUT_MS, Settings

__all__ = ["RULES", "SEVERITIES", "TRIGGER_DELAY_MS", "Finding", "find", "find_findings"]

SEVERITIES = ("info", "warning", "error")

#: Extra delay from page shown to hit, by the GA4 tag's firing trigger [NC: typical values, no source
#: publishes them; the order is documented: consentInit < init < pageview (gtm.js) < domReady (gtm.dom)
#: < windowLoaded (gtm.load), GTM help answer/7679319 "Trigger types"].
TRIGGER_DELAY_MS: dict[str, int] = {
    "consentInit": 0,
    "init": 0,
    "pageview": 0,
    "domReady": 800,
    "windowLoaded": 2500,
    "customEvent": 1500,
    "historyChange": 1500,
    "click": 5000,
    "linkClick": 5000,
    "timer": 5000,
}
#: ``[behavior] route_changes`` of a single-page app when the scenario gives none: every navigation
#: inside the site is a route change (tabs, reloads and ad landings still load a page).
SPA_ROUTE_CHANGES = 1.0
_EARLY = ("consentInit", "init", "pageview")
_ORDER = {"consentInit": 0, "init": 1, "pageview": 2, "domReady": 3, "windowLoaded": 4}
_GA4_CONFIG = ("googtag", "gaawc")
_LPURL = ("{lpurl}", "{lpurl+2}", "{lpurl+3}", "{escapedlpurl}", "{unescapedlpurl}")

#: Shares of visits the simulation gives a mechanism when neither the settings (``[site] checkout_share``
#: ...) nor the scenario's ``[site]`` table say [NC: typical values; no source publishes them].
DEFAULT_CHECKOUT_HOP = 0.10
DEFAULT_PAYMENT_TRIP = 0.10
DEFAULT_INTERNAL_CAMPAIGN = 0.05


def _share(s: Settings, key: str, default: float) -> Any:
    """The settings' share if given, else the scenario's own [site] value, else ``default``."""
    value = s.get("site", key)
    return float(value) if value is not None else ("default", default)


#: rule id -> (severity, title, documented rule, source, bridge terms, fix)
RULES: dict[str, tuple[str, str, str, str, tuple[str, ...], str]] = {
    "GA4-DUPLICATE-TAG": (
        "error",
        "two GA4 tags for one measurement id",
        "each GA4 configuration (Google tag) loaded for the same measurement id sends its own page_view",
        "Google tag help answer/13543899 'Avoid duplicate tags'; GA4 help answer/9304153",
        ("views", "views_per_session", "engagement_rate", "duplicate_tag"),
        "keep one Google tag per measurement id (remove gtag.js from the page or the second GTM tag)",
    ),
    "GA4-TAG-TRIGGER": (
        "warning",
        "GA4 tag fires late",
        "the GA4 configuration should fire on Initialization / All Pages; later triggers (DOM Ready, "
        "Window Loaded, custom events) lose visitors who leave before the tag fires",
        "GTM help answer/7679319 'Trigger types'; Google tag help answer/12002338",
        ("left_before_tag",),
        "fire the Google tag on 'Initialization - All Pages'",
    ),
    "GA4-EVENT-BEFORE-CONFIG": (
        "warning",
        "GA4 event tag fires before its configuration",
        "an event tag that fires before the Google tag is loaded is queued or lost, and a page_view "
        "sent by an event tag before the configuration starts no session",
        "GTM help answer/9442095 'Google Analytics 4 event tag'",
        ("left_before_tag", "views"),
        "fire event tags on a trigger at or after the Google tag's, or use tag sequencing",
    ),
    "CONSENT-BASIC-DENIED": (
        "warning",
        "consent denied by default in basic mode",
        "basic consent mode blocks Google tags until consent; denied visitors send nothing",
        "developers.google.com/tag-platform/security/concepts/consent-mode (basic vs advanced)",
        ("no_consent",),
        "use advanced consent mode (cookieless pings when denied), or accept the loss as policy",
    ),
    "LINKER-NO-CROSS-DOMAIN": (
        "error",
        "several domains without cross-domain linking",
        "without the linker parameter (_gl) the next domain sets a new client id: a new user and a new "
        "session whose source is a referral",
        "GA4 help answer/10071811 'Set up cross-domain measurement'; GTM help answer/7549390 "
        "'Conversion Linker'",
        ("cross_domain", "checkout_referral"),
        "list every own domain under Configure your domains (and enable cross-domain in the "
        "Conversion Linker, or URL passthrough when ad_storage is denied)",
    ),
    "SPA-DOUBLE-PAGEVIEW": (
        "error",
        "history page views and a manual page_view",
        "with 'page changes based on browser history events' on, GA4 sends a page_view per route "
        "change; a manual page_view on the same change counts it twice",
        "GA4 help answer/9216061 'Enhanced measurement events'",
        ("views", "views_per_session", "manual_page_view"),
        "turn history page views off or remove the manual page_view tag",
    ),
    "SPA-NO-HISTORY-PAGEVIEW": (
        "warning",
        "single-page app without history page views",
        "on a single-page app, route changes load no page; without history page views they are not counted",
        "GA4 help answer/9216061 'Enhanced measurement events'",
        ("views", "route_change"),
        "turn on page changes based on browser history events",
    ),
    "ADS-AUTOTAG-OFF": (
        "error",
        "Google Ads auto-tagging is off",
        "without auto-tagging no gclid is added; GA4 cannot attribute the click to Google Ads "
        "(unless every final URL carries UTM parameters)",
        "Google Ads help answer/3095550 'About auto-tagging'",
        ("campaign_dropped", "redirect"),
        "turn auto-tagging on",
    ),
    "ADS-TEMPLATE-DROPS-GCLID": (
        "error",
        "tracking template drops the click id",
        "a tracking template must end at {lpurl} (or a variant) so the landing page, with its gclid, is "
        "reached; a template without it lands without the click id",
        "Google Ads help answer/6076199 'About tracking in Google Ads' and answer/2375447 (ValueTrack)",
        ("campaign_dropped", "redirect"),
        "end the tracking template with {lpurl} and keep query parameters through redirects",
    ),
    "REFERRAL-PAYMENT-PROVIDER": (
        "warning",
        "payment provider not an unwanted referral",
        "a return from a payment provider is a referral mid-visit; definitions that split on a source "
        "change start a new session, and the conversion is credited to the provider",
        "GA4 help answer/10327750 'Identify unwanted referrals'; whether GA4 itself splits is disputed "
        "(docs/engine.md): ga4 does not, ga4_source_split does",
        ("payment_referral",),
        "add the provider's domains to List unwanted referrals",
    ),
    "GA4-SESSION-TIMEOUT": (
        "info",
        "session timeout differs from the default",
        "GA4 ends a session after 30 minutes without activity unless the stream's timeout is changed",
        "GA4 help answer/12131703 'Adjust session timeout'",
        ("inactivity", "click_in_open_session"),
        "compare like with like: use the same timeout where numbers are compared (or 30m)",
    ),
    "TIMEZONE-MISMATCH": (
        "warning",
        "property and ad-account time zones differ",
        "Google Ads reports days in the account's time zone, GA4 in the property's; the same click and "
        "its session fall on different days",
        "Google Ads help answer/2375399 'Time zone'; GA4 help answer/1042429",
        ("midnight", "days"),
        "set the GA4 property's time zone to the ad account's (the account's cannot change)",
    ),
    "UTM-INTERNAL-LINKS": (
        "warning",
        "campaign parameters on internal links",
        "utm_* parameters on a link between the site's own pages are a new campaign mid-visit: "
        "Universal Analytics and Matomo start a new session and credit the internal campaign; GA4 keeps "
        "the session (the disputed reading, ga4_source_split, splits it)",
        "UA help answer/2731565 'How a web session is defined'; Matomo config/global.ini.php "
        "create_new_visit_when_campaign_changes = 1; GA4: docs/engine.md (disputed, preset ga4_source_split)",
        ("internal_campaign",),
        "remove utm_* from internal links; measure internal promotions with events "
        "(select_promotion / view_promotion)",
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    message: str
    evidence: tuple[tuple[str, str], ...]  # (file, JSON pointer)
    #: dotted scenario keys -> values for the simulation as configured / as fixed; None: not simulated
    configured: dict[str, Any] | None = None
    fixed: dict[str, Any] | None = None
    #: why there is no simulated effect (the engine lacks the mechanism), or "derived"
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return RULES[self.rule][0]

    @property
    def title(self) -> str:
        return RULES[self.rule][1]

    @property
    def documented(self) -> str:
        return RULES[self.rule][2]

    @property
    def source(self) -> str:
        return RULES[self.rule][3]

    @property
    def terms(self) -> tuple[str, ...]:
        return RULES[self.rule][4]

    @property
    def fix(self) -> str:
        return RULES[self.rule][5]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "evidence": [{"file": f, "pointer": p} for f, p in self.evidence],
            "documented_rule": self.documented,
            "source": self.source,
            "terms": list(self.terms),
            "fix": self.fix,
            "simulated": self.configured is not None,
            "note": self.note,
        }


def _ga4_id(tag: Tag) -> str:
    if tag.type == "googtag":
        return tag.param("tagId")
    if tag.type == "gaawc":
        return tag.param("measurementId")
    return tag.param("measurementIdOverride") or tag.param("measurementId")


def _live(c: Container) -> list[Tag]:
    return [t for t in c.tags if not t.paused]


def _trigger_types(c: Container, tag: Tag) -> list[str]:
    return [tr.type for tr in (c.trigger(i) for i in tag.firing) if tr is not None]


def _container_rules(c: Container, s: Settings | None) -> list[Finding]:  # noqa: PLR0912 (one rule a block)
    out: list[Finding] = []
    configs = [t for t in _live(c) if t.type in _GA4_CONFIG]
    by_id: dict[str, list[Tag]] = {}
    for t in configs:
        by_id.setdefault(_ga4_id(t), []).append(t)
    for mid, tags in by_id.items():
        if mid and len(tags) > 1:
            out.append(
                Finding(
                    "GA4-DUPLICATE-TAG",
                    f"{len(tags)} GA4 tags load {mid}: " + ", ".join(repr(t.name) for t in tags),
                    tuple((c.path, t.pointer) for t in tags),
                    {"tracking.duplicate_tags": len(tags) - 1},
                    {"tracking.duplicate_tags": 0},
                    extra={"copies": len(tags)},
                )
            )
    config_rank = None
    for t in configs:
        kinds = _trigger_types(c, t)
        if not kinds:
            continue
        rank = min(_ORDER.get(k, 5) for k in kinds)
        config_rank = rank if config_rank is None else min(config_rank, rank)
        if not any(k in _EARLY for k in kinds):
            delay = min(TRIGGER_DELAY_MS.get(k, 1500) for k in kinds)
            out.append(
                Finding(
                    "GA4-TAG-TRIGGER",
                    f"{t.name!r} fires on {'/'.join(kinds)} (about +{delay} ms after the page is shown)",
                    ((c.path, f"{t.pointer}.firingTriggerId"),),
                    {"tracking.tag_load": ("+", delay)},
                    {"tracking.tag_load": ("+", 0)},
                )
            )
    if config_rank is not None:
        for t in _live(c):
            if t.type != "gaawe":
                continue
            kinds = _trigger_types(c, t)
            if kinds and min(_ORDER.get(k, 5) for k in kinds) < config_rank:
                out.append(
                    Finding(
                        "GA4-EVENT-BEFORE-CONFIG",
                        f"{t.name!r} fires on {'/'.join(kinds)}, before the GA4 configuration",
                        ((c.path, f"{t.pointer}.firingTriggerId"),),
                        note="not simulated: the engine has no per-tag firing order",
                    )
                )
    domains = s.domains if s else ()
    if len(domains) > 1:
        linkers = [t for t in _live(c) if t.type == "gclidw"]
        crossing = [t for t in linkers if t.flag("enableCrossDomain") or t.flag("enableUrlPassthrough")]
        listed = set(s.get("ga4", "cross_domain", [])) if s else set()
        missing = [d for d in domains if d not in listed]
        if not crossing and missing:
            ev = [(c.path, t.pointer + ".parameter") for t in linkers] or [(c.path, "containerVersion.tag")]
            ev.append((s.path, "site.domains"))
            if s.has("ga4", "cross_domain"):
                ev.append((s.path, "ga4.cross_domain"))
            out.append(
                Finding(
                    "LINKER-NO-CROSS-DOMAIN",
                    f"{len(domains)} own domains ({', '.join(domains)}); no linker crosses them "
                    f"and {', '.join(missing)} not in GA4 cross-domain",
                    tuple(ev),
                    {
                        "site.checkout_hop": _share(s, "checkout_share", DEFAULT_CHECKOUT_HOP),
                        "site.cross_domain": False,
                    },
                    {"site.cross_domain": True},
                )
            )
    history_on = bool(s.get("ga4", "history_page_views", True)) if s else True
    manual = [
        t
        for t in _live(c)
        if t.type == "gaawe"
        and t.param("eventName") == "page_view"
        and "historyChange" in _trigger_types(c, t)
    ]
    if history_on and manual:
        ev = tuple((c.path, t.pointer) for t in manual)
        if s is not None:
            ev += ((s.path, "ga4.history_page_views"),)
        out.append(
            Finding(
                "SPA-DOUBLE-PAGEVIEW",
                f"history page views are on and {len(manual)} page_view tag(s) fire on history changes",
                ev,
                {
                    "behavior.route_changes": ("default", SPA_ROUTE_CHANGES),
                    "tracking.history_page_views": True,
                    "tracking.manual_page_view": True,
                },
                {"tracking.manual_page_view": False},
            )
        )
    return out


def _settings_rules(s: Settings) -> list[Finding]:
    out: list[Finding] = []
    if s.get("consent", "analytics_storage") == "denied" and s.get("consent", "mode", "basic") == "basic":
        grant = s.get("consent", "grant_rate")
        configured = {"tracking.consent_mode": "basic"}
        if grant is not None:
            configured["tracking.consent"] = grant
        out.append(
            Finding(
                "CONSENT-BASIC-DENIED",
                "analytics_storage defaults to denied and consent mode is basic"
                + (f"; {grant:.0%} grant" if grant is not None else ""),
                ((s.path, "consent.analytics_storage"), (s.path, "consent.mode")),
                configured,
                {**configured, "tracking.consent_mode": "advanced"},
            )
        )
    if s.get("google_ads", "auto_tagging") is False:
        out.append(
            Finding(
                "ADS-AUTOTAG-OFF",
                "auto_tagging = false",
                ((s.path, "google_ads.auto_tagging"),),
                {"tracking.redirect_drop": 1.0},
                {"tracking.redirect_drop": ("keep",)},
            )
        )
    template = s.get("google_ads", "tracking_template")
    if template is not None and not any(v in template.lower() for v in _LPURL):
        out.append(
            Finding(
                "ADS-TEMPLATE-DROPS-GCLID",
                f"tracking template {template!r} has no {{lpurl}}",
                ((s.path, "google_ads.tracking_template"),),
                {"tracking.redirect_drop": 1.0},
                {"tracking.redirect_drop": ("keep",)},
            )
        )
    providers = s.get("site", "payment_providers", [])
    unwanted = set(s.get("ga4", "unwanted_referrals", []))
    missing = [p for p in providers if p not in unwanted]
    if missing:
        out.append(
            Finding(
                "REFERRAL-PAYMENT-PROVIDER",
                f"{', '.join(missing)} not listed as unwanted referrals",
                ((s.path, "site.payment_providers"), (s.path, "ga4.unwanted_referrals")),
                {
                    "site.payment_round_trip": _share(s, "payment_share", DEFAULT_PAYMENT_TRIP),
                    "site.payment_excluded": False,
                },
                {"site.payment_excluded": True},
            )
        )
    if s.get("site", "internal_campaign_links", False):
        out.append(
            Finding(
                "UTM-INTERNAL-LINKS",
                "links between the site's own pages carry utm_* parameters",
                ((s.path, "site.internal_campaign_links"),),
                {"site.internal_campaign": _share(s, "internal_campaign_share", DEFAULT_INTERNAL_CAMPAIGN)},
                {"site.internal_campaign": 0.0},
            )
        )
    timeout = s.get("ga4", "session_timeout")
    if timeout is not None and timeout != DEFAULT_TIMEOUT_MS:
        shown = format_duration(timeout)
        out.append(
            Finding(
                "GA4-SESSION-TIMEOUT",
                f"session timeout {shown} (default 30m)",
                ((s.path, "ga4.session_timeout"),),
                {
                    "sessions.definitions": (
                        "first",
                        {"name": "ga4_configured", "preset": "ga4", "timeout": shown},
                    )
                },
                {"sessions.definitions": ("first", "ga4")},
            )
        )
    tz, ad_tz = s.get("ga4", "timezone"), s.get("google_ads", "timezone")
    if tz and ad_tz and tz != ad_tz:
        out.append(
            Finding(
                "TIMEZONE-MISMATCH",
                f"property {tz}, ad account {ad_tz}",
                ((s.path, "ga4.timezone"), (s.path, "google_ads.timezone")),
                {"scenario.timezone": tz, "scenario.ad_timezone": ad_tz},
                {"scenario.timezone": ad_tz, "scenario.ad_timezone": ad_tz},
            )
        )
    if s.get("site", "single_page_app") is True and s.get("ga4", "history_page_views") is False:
        out.append(
            Finding(
                "SPA-NO-HISTORY-PAGEVIEW",
                "single_page_app = true, history_page_views = false",
                ((s.path, "site.single_page_app"), (s.path, "ga4.history_page_views")),
                {
                    "behavior.route_changes": ("default", SPA_ROUTE_CHANGES),
                    "tracking.history_page_views": False,
                    "tracking.manual_page_view": False,
                },
                {"tracking.history_page_views": True},
            )
        )
    return out


def find(containers: Sequence[Container], settings: Settings | None) -> list[Finding]:
    """Every finding, containers first (in file order), then settings; severities high to low is the
    renderer's business."""
    out: list[Finding] = []
    for c in containers:
        out += _container_rules(c, settings)
    if settings is not None:
        out += _settings_rules(settings)
    return out


#: The public API name (``simulator.find_findings``).
find_findings = find

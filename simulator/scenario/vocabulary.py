"""The names that scenario files, bridges and reports share: metrics, bridge causes and their meanings.

A scenario's ``[[expect]]`` and ``[observed]`` tables may name any metric of :func:`metric_names` and any
bridge term of :data:`VOCABULARY`; :mod:`simulator.analysis` computes them and :mod:`simulator.report`
prints the plain-language meanings. They live here, in the lowest layer that needs them, so that the
scenario loader can check names without importing the analysis.
"""

from __future__ import annotations

__all__ = [
    "AD_METRICS",
    "AD_VOCABULARY",
    "BRIDGE_METRICS",
    "DEFINITION_METRICS",
    "GROUPS",
    "VIEW_BRIDGE_METRICS",
    "VIEW_VOCABULARY",
    "VOCABULARY",
    "group_of",
    "metric_names",
    "needs_definition",
]

#: Every cause a clicks -> sessions term can name, in report order, with its plain-language meaning.
VOCABULARY: dict[str, str] = {
    # clicks whose landing analytics never saw
    "left_before_tag": "clicked, but left before the analytics tag fired",
    "blocked": "clicked, but a blocker stopped the analytics hit",
    "no_consent": "clicked, but denied analytics consent",
    "not_reached": "clicked, but never reached the site",
    "tag_missing": "clicked, but the landing page has no working tag",
    "campaign_dropped": "clicked, but a redirect dropped the click id (the visit shows as direct)",
    "route_untracked": "clicked, but the page was a single-page app's route change that sent no page_view",
    "bot_filtered": "clicked, but the visitor was a known bot whose traffic GA4 excludes",
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
    "bot": "a bot's visit that analytics counted (not on the known-bot list GA4 excludes)",
    # sessions split off a visit that was still going on
    "inactivity": "a visit split by the inactivity timeout",
    "midnight": "a visit split at midnight in the property's time zone",
    "campaign_change": "a visit split by a change of campaign",
    "max_duration": "a visit split by the maximum session length",
    "max_events": "a visit split by the maximum number of hits",
    "fixed_window": "a visit split by the fixed session window",
    "plugin_rule": "a visit split by a third-party session rule",
    "dynamic_gap": "a visit split where the events' own gaps (from the gap column) ran out",
    "session_event": "a visit split at a named session-start event or after a session-end event",
    "flag": "a visit split by an event flagged to start a new session (Matomo new_visit=1)",
    "new_user_mid_visit": "a visit whose first tracked hit came after its landing (or a new cookie)",
    # mid-visit changes of source or user ([site]; simulator.engine.hops)
    "cross_domain": "a visit's checkout on another domain, seen as a new user (no cross-domain linking)",
    "checkout_referral": "a visit split when it came back from its checkout domain as a referral",
    "payment_referral": "a visit split when it came back from a payment provider as a referral",
    "internal_campaign": "a visit split by campaign parameters on a link of the site itself",
}

#: Causes of the views -> sessions bridge: page views that continued a session (negative terms) and
#: sessions that did not start with a page view (positive terms).
VIEW_VOCABULARY: dict[str, str] = {
    "navigation": "further pages viewed within the session",
    "reload": "pages loaded again (reloads)",
    "tab": "pages of the site opened in another tab",
    "repeat_click": "landing pages of repeat clicks on the same ad",
    "new_tab_click": "landing pages of ads opened in another tab",
    "second_ad": "landing pages of another campaign's ad",
    "click_in_open_session": "landing pages of ad clicks after leaving, before the session ended",
    "bookmark": "returns through a bookmark before the session ended",
    "direct": "returns by typing the address before the session ended",
    "organic": "returns through unpaid search results before the session ended",
    "referral": "returns through a link on another site before the session ended",
    "email": "visits from an e-mail link before the session ended",
    "domain_hop": "pages of the checkout on another domain, within the session (linked)",
    "domain_return": "returns from the checkout domain within the session",
    "payment_return": "returns from a payment provider within the session",
    "internal_campaign": "pages reached through an internal link with campaign parameters",
    "conversion_first": "sessions whose first hit was a conversion, not a page view",
    "route_change": "screens of a single-page app reached without a page load (history page views)",
    "manual_page_view": "route changes sent a second time by the site's own page_view",
    "duplicate_tag": "the same page views sent again by another tag for the same measurement id",
    "engagement_first": "sessions whose first hit was the user_engagement hit sent on leaving",
}

#: Causes of the impressions -> clicks bridge (ad platform only).
AD_VOCABULARY: dict[str, str] = {
    "no_click": "impressions that drew no click (per campaign: impressions minus clicks)",
    "click_without_impression": "clicks beyond their campaign's impressions in the log",
    "invalid_click": "clicks the ad platform filtered as invalid (not counted, not charged)",
}

#: The four kinds of clicks -> sessions term (docs/design.md's identity), for grouped tables and stories.
GROUPS: dict[str, tuple[str, ...]] = {
    "not tracked": (
        "left_before_tag",
        "blocked",
        "no_consent",
        "not_reached",
        "tag_missing",
        "campaign_dropped",
        "route_untracked",
        "bot_filtered",
    ),
    "joined a session": ("repeat_click", "new_tab_click", "second_ad", "click_in_open_session"),
    "no counted click": (
        "invalid_click",
        "bookmark",
        "direct",
        "organic",
        "referral",
        "email",
        "redirect",
        "bot",
    ),
    "split off a visit": (
        "inactivity",
        "midnight",
        "campaign_change",
        "max_duration",
        "max_events",
        "fixed_window",
        "plugin_rule",
        "dynamic_gap",
        "session_event",
        "flag",
        "new_user_mid_visit",
        "cross_domain",
        "checkout_referral",
        "payment_referral",
        "internal_campaign",
    ),
}


def group_of(cause: str) -> str:
    """The :data:`GROUPS` key of a clicks -> sessions cause (``"other"`` for causes added later)."""
    for group, causes in GROUPS.items():
        if cause in causes:
            return group
    return "other"


#: Ad-platform metrics (no session definition involved).
AD_METRICS = (
    "impressions",
    "clicks",
    "cost",
    "ctr",
    "cpc",
    "cpm",
    "sales_7d",
    "sales_14d",
    "acos_7d",
    "acos_14d",
)
#: Analytics metrics, one value per session definition.
DEFINITION_METRICS = (
    "views",
    "sessions",
    "users",
    "conversions",
    "units",
    "value",
    "cost_per_session",
    "conversion_rate_click",
    "conversion_rate_session",
    "conversion_rate_user",
    "views_per_session",
    "sessions_per_click",
    "clicks_per_session",
    "unit_session_percentage",
    "engaged_sessions",
    "engagement_rate",
    "bounce_rate",
)


#: Bridge terms, one per cause of the clicks -> sessions bridge (see VOCABULARY above).
BRIDGE_METRICS = tuple(f"bridge.{cause}" for cause in VOCABULARY)
#: Views -> sessions terms (see VIEW_VOCABULARY): ``views_bridge.duplicate_tag`` and the like.
VIEW_BRIDGE_METRICS = tuple(f"views_bridge.{cause}" for cause in VIEW_VOCABULARY)


def metric_names() -> tuple[str, ...]:
    """Every metric an expectation can name."""
    return AD_METRICS + DEFINITION_METRICS + BRIDGE_METRICS + VIEW_BRIDGE_METRICS


def needs_definition(metric: str) -> bool:
    return metric not in AD_METRICS

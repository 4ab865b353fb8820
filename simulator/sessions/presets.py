"""Named session definitions as data: name -> rules, with the sources each one follows.

Every preset cites ``docs/domain.md`` (the platform facts, tagged [P] primary, [S] secondary,
[NC] not confirmed). Where the platform does not document a behaviour, the preset makes a choice,
exposes it as a parameter (override it in a scenario: ``{ name = "x", preset = "ga4", boundary =
"new" }``) and says so in ``choices``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from simulator.sessions.rules import (
    CampaignChange,
    FixedWindow,
    Inactivity,
    MaxDuration,
    MaxEvents,
    Midnight,
    Rule,
)

__all__ = ["PRESETS", "Definition"]

_MIN = 60_000
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR


@dataclass(frozen=True, slots=True)
class Definition:
    """A session definition: a name, the rules that start sessions (in priority order), and sources.

    Parameters
    ----------
    name
        How scenarios, expectations and the CLI refer to it.
    rules
        The rules; at a row where several fire, the first one names the cause.
    summary
        One paragraph: what the platform does.
    sources
        Where each fact comes from (``[P]``/``[S]``/``[NC]`` tags as in docs/domain.md).
    choices
        Behaviour the platform leaves undocumented, the choice made, and the parameter to change it.
    preset
        The preset this definition was derived from (with overrides), if any.
    """

    name: str
    rules: tuple[Rule, ...]
    summary: str
    sources: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The first source (kept for callers of the walking skeleton)."""
        return self.sources[0] if self.sources else ""

    def parameters(self) -> dict[str, tuple[int, str]]:
        """Override keys -> (rule index, parameter).

        A parameter of one rule only is addressed by its name (``timeout``); one that several rules
        take (``boundary`` of inactivity and max_duration) by ``RULE.PARAM`` (``max_duration.boundary``).
        See :meth:`qualified_parameters` for the ``RULE.PARAM`` form of every parameter.
        """
        seen: dict[str, list[int]] = {}
        for i, rule in enumerate(self.rules):
            for key in getattr(rule, "params", {}):
                seen.setdefault(key, []).append(i)
        out = {key: (idx[0], key) for key, idx in seen.items() if len(idx) == 1}
        qualified = self.qualified_parameters()
        for key, idx in seen.items():
            if len(idx) > 1:
                out.update({q: where for q, where in qualified.items() if where[1] == key})
        return out

    def qualified_parameters(self) -> dict[str, tuple[int, str]]:
        """``RULE.PARAM`` -> (rule index, parameter) for every parameter of a rule named once."""
        names = [rule.name for rule in self.rules]
        return {
            f"{rule.name}.{key}": (i, key)
            for i, rule in enumerate(self.rules)
            if names.count(rule.name) == 1
            for key in getattr(rule, "params", {})
        }

    def describe(self) -> str:
        """The rules on one line, e.g. ``inactivity(timeout=30m, boundary=same) + midnight()``."""
        return " + ".join(rule.describe() for rule in self.rules)

    def renamed(self, name: str, rules: tuple[Rule, ...], overrides: Mapping[str, Any]) -> Definition:
        """A copy derived from this preset under a new name, with replaced rules."""
        return replace(self, name=name, rules=rules, preset=self.name, overrides=dict(overrides))


_GA4_9191807 = "[P] https://support.google.com/analytics/answer/9191807 (30 min inactivity timeout)"
_UA_2731565 = (
    "[P] https://support.google.com/analytics/answer/2731565 (30 min inactivity, midnight, "
    "campaign change; the 31-minute lunch break splits a session)"
)
_MIXPANEL = "[P] https://docs.mixpanel.com/docs/features/sessions (timeout, midnight reset, examples)"
_SAME_NC = (
    "boundary='same': a gap of exactly the timeout stays in the session; the platform says "
    "'after {t} of inactivity' / 'within {t}' and leaves equality undocumented [NC] "
    '(override: boundary = "new")'
)

PRESETS: dict[str, Definition] = {
    d.name: d
    for d in (
        Definition(
            "ga4",
            (Inactivity(30 * _MIN, boundary="same"),),
            "Google Analytics 4: a session ends after 30 minutes of inactivity (configurable up to "
            "7 h 55 min); no midnight split and no campaign split.",
            (
                _GA4_9191807,
                "[P] https://support.google.com/analytics/answer/12798876 (timeout up to 7 h 55 min)",
                "[S] https://www.optimics.cz/what-are-the-differences-between-ga3-and-ga4-sessions/ "
                "(no midnight or campaign split)",
            ),
            (
                _SAME_NC.format(t="30 minutes"),
                "a new source mid-session (a referral such as the return from PayPal, or campaign "
                "parameters) does not split, as Google's session article says; many practitioners "
                "report that it does: that reading is the preset ga4_source_split",
            ),
        ),
        Definition(
            "universal_analytics",
            (
                Inactivity(30 * _MIN, boundary="same"),
                Midnight(),
                CampaignChange(from_none="adopt", referrals="split"),
            ),
            "Universal Analytics (legacy): a session ends after 30 minutes of inactivity, at "
            "midnight in the view's time zone, and when the visitor comes back through a different "
            "campaign or referring site (a return from PayPal not on the referral exclusion list "
            "included). Direct visits do not replace the session's campaign.",
            (
                _UA_2731565,
                "[P] https://support.google.com/analytics/answer/2795871 (timeout 1 min - 4 h)",
                "[S] https://funnel.io/blog/reporting-on-sessions-in-google-analytics-4 (view time zone)",
                "[S] https://www.optimics.com/blog/an-understanding-of-google-analytics-4-sessions "
                "(direct visits keep the campaign; a referring website updates the campaign source)",
                "[S] https://docs.glew.io/en/articles/1045856-excluding-paypal-as-a-referrer-in-google-"
                "analytics (a return from paypal.com is a new session unless on the Referral Exclusion "
                "List)",
            ),
            (
                _SAME_NC.format(t="30 minutes"),
                "midnight uses the property's time zone (scenario timezone / --timezone); override: "
                'timezone = "..."',
                'campaign arriving in a session begun without one: adopted (from_none = "adopt"); '
                "UA's inheritance of the last non-direct campaign by later direct sessions is not "
                "modelled",
                "the 500-hits-per-session cap drops hits rather than splitting, so it is not a rule",
            ),
        ),
        Definition(
            "adobe_analytics",
            (Inactivity(30 * _MIN, boundary="same"), MaxDuration(12 * _HOUR), MaxEvents(2500)),
            "Adobe Analytics visits: a visit ends after 30 minutes of inactivity, after 12 hours of "
            "continuous activity or after 2,500 hits. No midnight split (a cross-midnight visit "
            "counts on both days) and no split on a new referrer.",
            (
                "[P] https://experienceleague.adobe.com/docs/analytics/components/metrics/visits.html "
                "(30 min)",
                "[P] https://helpx.adobe.com/ca/analytics/kb/comparing-visits-and-instances.html "
                "(12 h; referrer change is not a new visit)",
                "[S] https://experienceleaguecommunities.adobe.com/t5/adobe-analytics-ideas/"
                "session-visit-end-type-indication-in-analytics/idc-p/335094/highlight/true "
                "(2,500 hits)",
                "[P] https://marketing.adobe.com/resources/help/en_US/reference/metrics_visit.html "
                "(no midnight split)",
            ),
            (
                _SAME_NC.format(t="30 minutes"),
                "the 2,500-hit cap is secondary [S] (override: n = ...); the '>100 hits in <100 s' "
                "bot guard [S] is not modelled",
            ),
        ),
        Definition(
            "matomo",
            (
                Inactivity(30 * _MIN, boundary="new"),
                Midnight(),
                CampaignChange(from_none="split"),
                MaxEvents(10_000),
            ),
            "Matomo: same visit only if the last action was less than visit_standard_length = 1800 s "
            "ago (strict: a gap of exactly 1800 s is a new visit); a new visit after midnight in the "
            "website's time zone, when campaign parameters change (absent -> present included), and "
            "after create_new_visit_after_x_actions = 10000 actions.",
            (
                "[P] https://github.com/matomo-org/matomo/blob/HEAD/plugins/CoreHome/Tracker/"
                "VisitRequestProcessor.php (strict 1800 s, midnight in the site's zone)",
                "[P] https://github.com/matomo-org/matomo/blob/HEAD/config/global.ini.php "
                "(create_new_visit_when_campaign_changes = 1, after_x_actions = 10000)",
                "[P] https://matomo.org/faq/general/faq_36/ (campaign, midnight)",
            ),
            (
                "a referrer change without campaign parameters is not a new visit "
                "(create_new_visit_when_website_referrer_changes = 0); a User ID change is not "
                "modelled",
            ),
        ),
        Definition(
            "mixpanel",
            (Inactivity(30 * _MIN, boundary="same"), Midnight()),
            "Mixpanel timeout-based sessions: a session ends after 30 minutes without an event "
            "(1 min - 24 h) and is reset every day at midnight in the project's time zone (events "
            "at 11:50 pm and 12:05 am are two sessions).",
            (_MIXPANEL,),
            (
                _SAME_NC.format(t="30 minutes"),
                "event- and property-based Mixpanel sessions are not modelled; excluded events are "
                "the caller's to filter",
            ),
        ),
        Definition(
            "amplitude",
            (Inactivity(30 * _MIN, boundary="same"),),
            "Amplitude web (Browser SDK): events within 30 minutes of each other count toward the "
            "same session. Midnight, campaign and length limits are not documented.",
            ("[P] https://amplitude.com/docs/data/sources/instrument-track-sessions (30 min)",),
            (
                _SAME_NC.format(t="30 minutes"),
                "no midnight, campaign or length rule [NC]; the mobile 5-minute background rule is "
                'not modelled (override: timeout = "5m")',
            ),
        ),
        Definition(
            "posthog",
            (Inactivity(30 * _MIN, boundary="same"), MaxDuration(24 * _HOUR, boundary="same")),
            "PostHog: a session ends after 30 minutes of inactivity (session_idle_timeout_seconds) "
            "and when it is more than 24 hours old (an event exactly 24 h after the first stays).",
            (
                "[P] https://posthog.com/docs/data/sessions (30 min idle, 24 h maximum)",
                "[P] https://github.com/PostHog/posthog-js src/sessionid.ts "
                "(timestamp - startTimestamp > SESSION_LENGTH_LIMIT)",
            ),
            (_SAME_NC.format(t="30 minutes"), "midnight and campaign behaviour are not documented [NC]"),
        ),
        Definition(
            "plausible",
            (Inactivity(30 * _MIN, boundary="same"),),
            "Plausible: a visit ends when no action is taken for 30 minutes. The daily visitor-hash "
            "reset changes unique-visitor counts, not sessions: a session continues across it.",
            (
                "[P] https://plausible.io/docs/metrics-definitions (30 min)",
                "[P] https://github.com/plausible/docs (docs/dashboard-faq.md: daily reset)",
            ),
            (_SAME_NC.format(t="30 minutes"),),
        ),
        Definition(
            "snowplow",
            (Inactivity(30 * _MIN, boundary="same"), MaxDuration(3 * _DAY)),
            "Snowplow: the JS tracker's session cookie expires after 30 minutes of inactivity "
            "(sessionCookieTimeout); dbt-snowplow-web stops processing a session's events after "
            "snowplow__max_session_days = 3 days.",
            (
                "[P] https://docs.snowplow.io/docs/sources/web-trackers/cookies-and-local-storage (30 min)",
                "[P] https://github.com/snowplow/dbt-snowplow-web dbt_project.yml (max_session_days 3)",
            ),
            (
                _SAME_NC.format(t="30 minutes"),
                "dbt-snowplow-web drops (quarantines) events after 3 days; here they start a new "
                'session so that nothing is lost (override: limit = "...")',
            ),
        ),
        Definition(
            "amazon",
            (FixedWindow(24 * _HOUR),),
            "Amazon Seller Central Business Reports: all activity of a user within a 24-hour period "
            "is one session, on browser and app alike.",
            (
                "[P] https://github.com/amzn/selling-partner-api-models "
                "(schemas/reports/sellerSalesAndTrafficReport.json: sessions)",
                "[S] https://docs.openbridge.com/en/articles/6574649-amazon-sales-traffic-reports-"
                "glossary (report days in PT)",
            ),
            (
                "whether the 24 hours are rolling or a calendar day is not documented [NC]: the "
                'window is rolling from the session\'s first event (override: length = "..."; for '
                'calendar days use rules = [{ rule = "midnight", timezone = "America/Los_Angeles" }])',
            ),
        ),
        Definition(
            "salesreach",
            (Inactivity(2 * _HOUR, boundary="same"),),
            "SalesReach: a rolling two-hour window after the user's last action.",
            ("[P] https://help.salesreach.io/what-is-the-difference-between-session-and",),
            (_SAME_NC.format(t="2 hours"), "no cap, day or source split is stated [NC]"),
        ),
        Definition(
            "ga4_source_split",
            (Inactivity(30 * _MIN, boundary="same"), CampaignChange(from_none="split", referrals="split")),
            "GA4 as many practitioners describe it (disputed): besides the 30-minute timeout, a hit "
            "that brings a new traffic source mid-session -- a referral not listed as unwanted (the "
            "return from PayPal or Stripe) or new campaign parameters -- starts a new session. "
            "Google's own session article says GA4 does not split on a source change (preset ga4); "
            "compare both to see what the dispute is worth.",
            (
                "[S] https://analyticsdetectives.com/blog/fix-payment-gateway-referral-sessions-in-ga4 "
                "(the return from a payment gateway starts a new session)",
                "[S] https://nativeoreanalytics.com/blog/ga4-payment-processor-attribution "
                "(GA4 creates a new session whenever a user arrives from a new source)",
                "[S] https://snifflytics.com/blog/paypal-stripe-and-checkout-attribution-leaks-auditing-"
                "ga4-for-the-4-gateway-patterns-that-break-tracking (GA4 split the visit into two sessions)",
                "[P] https://support.google.com/analytics/answer/10327750 (unwanted referrals: the "
                "ignore_referrer parameter; third-party payment processors as the first use case)",
                "[S] against: https://www.analyticstraps.com/ga4-bug-midnight-sessions-are-worth-double/ "
                "quoting Google's definition (sessions do not end with a change of source/medium/"
                "campaign); https://www.graphed.com/blog/does-google-analytics-4-start-a-new-session-on-"
                "campaign-change",
            ),
            (
                _SAME_NC.format(t="30 minutes"),
                "the disputed reading, chosen by naming this preset instead of (or beside) ga4 in "
                "[sessions] definitions; a campaign arriving in a session begun without one splits "
                '(from_none = "split"), as a new source would',
            ),
        ),
    )
}

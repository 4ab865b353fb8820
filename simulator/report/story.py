"""The plain-language story shared by ``report.md`` and ``report.html``: one phrase per cause, what to do.

Each clicks -> sessions cause has a sentence fragment (:data:`CLICK_STORY`, with ``{n}`` for the count,
``{definition}`` for the definition's name and ``{singular|plural}`` choices) and a piece of advice
(:data:`ADVICE`). :func:`say` fills a template into text (``report.md``); :func:`say_parts` splits it
around the count, so ``report.html`` can mark the number with where it comes from in ``result.json``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from simulator.analysis.bridges import VOCABULARY, Term

__all__ = [
    "ADVICE",
    "CLICK_STORY",
    "INTRO",
    "RULE_WORDS",
    "click_parts",
    "click_phrase",
    "join",
    "say",
    "say_parts",
]

#: One sentence fragment per clicks -> sessions cause; ``{a|b}`` picks singular or plural by ``n``.
CLICK_STORY: dict[str, str] = {
    "left_before_tag": "{n} {click|clicks} came from {a visitor|visitors} who left before the analytics "
    "tag fired",
    "blocked": "{n} {click|clicks} came from {a visitor|visitors} whose blocker stopped the analytics tag",
    "no_consent": "{n} {click|clicks} came from {a visitor|visitors} who declined analytics cookies",
    "not_reached": "{n} {click|clicks} never reached the site (a failed load or network error)",
    "tag_missing": "{n} {click|clicks} landed on pages without a working analytics tag",
    "repeat_click": "{n} {was a repeat click|were repeat clicks} on the same ad by someone already on "
    "the site",
    "new_tab_click": "{n} {was an ad|were ads} opened in another tab during a visit that already had a "
    "session",
    "second_ad": "{n} {was a click|were clicks} on another campaign's ad during a visit that already had a "
    "session",
    "click_in_open_session": "{n} {was a click|were clicks} by visitors who left and clicked again before "
    "their session timed out",
    "invalid_click": "{n} {session came|sessions came} through clicks the ad platform filtered as invalid "
    "(and so did not count as clicks)",
    "bookmark": "{n} {session|sessions} came from {a visitor|visitors} returning through a bookmark, "
    "with no ad click",
    "direct": "{n} {session|sessions} came from {a visitor|visitors} typing the address, with no ad click",
    "organic": "{n} {session came|sessions came} from unpaid search results, with no ad click",
    "referral": "{n} {session came|sessions came} from links on other sites, with no ad click",
    "email": "{n} {session came|sessions came} from e-mail links, with no ad click",
    "inactivity": "{n} {visit was|visits were} split in two by {definition}'s inactivity timeout (the "
    "visitor paused longer than it allows)",
    "midnight": "{n} {visit was|visits were} split in two at midnight",
    "campaign_change": "{n} {visit was|visits were} split because the visitor came back through a different "
    "campaign",
    "max_duration": "{n} {visit was|visits were} split on reaching {definition}'s maximum session length",
    "max_events": "{n} {visit was|visits were} split on reaching {definition}'s maximum number of hits",
    "fixed_window": "{n} {visit was|visits were} split when {definition}'s fixed session window ended",
    "dynamic_gap": "{n} {visit was|visits were} split where the events' own gaps ran out",
    "session_event": "{n} {visit was|visits were} split at a session-start event or after a "
    "session-end event",
    "flag": "{n} {visit was|visits were} split by an event flagged to start a new session",
    "campaign_dropped": "{n} {click|clicks} arrived through a redirect that dropped the click id, so "
    "analytics filed {the visit|the visits} as direct",
    "redirect": "{n} {session|sessions} came from ad landings whose click id a redirect dropped, seen as "
    "direct traffic",
    "new_user_mid_visit": "{n} {session was|sessions were} started mid-visit by a hit that analytics took "
    "for a new visitor (a lost landing page or cleared cookies)",
    "cross_domain": "{n} {session was|sessions were} started on the checkout domain by {a visitor|visitors} "
    "it took for new, because the domains are not linked for cross-domain measurement",
    "checkout_referral": "{n} {visit was|visits were} split when the visitor came back from the checkout "
    "domain, which {definition} counted as a new referral",
    "payment_referral": "{n} {visit was|visits were} split when the visitor came back from the payment "
    "provider, which {definition} counted as a new referral",
    "internal_campaign": "{n} {visit was|visits were} split by campaign parameters on a link of the site "
    "itself",
    "route_untracked": "{n} {click|clicks} landed on a single-page app's route change that sent no page view",
    "bot_filtered": "{n} {click|clicks} came from known bots, whose traffic analytics excludes",
    "bot": "{n} {session came|sessions came} from bots that run the analytics tag and are not on the "
    "known-bot list, with no ad click",
}

RULE_WORDS = {
    "inactivity": "after a pause",
    "midnight": "at midnight",
    "campaign_change": "on a change of campaign",
    "max_duration": "at its maximum session length",
    "max_events": "at its maximum number of hits",
    "fixed_window": "when its fixed window ends",
    "dynamic_gap": "when the events' own gaps run out",
    "session_event": "at a session-start or after a session-end event",
    "flag": "on a new-session flag",
    "new_user": "for a new visitor",
}


def say(template: str, n: int, definition: str = "") -> str:
    """Fill a story template: ``{n}``, ``{definition}`` and ``{singular|plural}`` choices."""
    before, after = say_parts(template, n, definition)
    return before + f"{n:,}" + after if "{n}" in template else before


def join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return "; ".join(parts[:-1]) + "; and " + parts[-1]


def click_phrase(t: Term, definition: str) -> str:
    template = CLICK_STORY.get(t.cause)
    if template is None:
        return f"{abs(t.delta):,} x {t.cause} ({VOCABULARY.get(t.cause, 'a cause added later')})"
    return say(template, abs(t.delta), definition)


#: What to do about each clicks -> sessions cause: one sentence, for the reader who owns the numbers.
ADVICE: dict[str, str] = {
    "left_before_tag": "Load the analytics tag earlier (in the page head, before heavy scripts) and make "
    "landing pages faster; compare the ad clicks with sessions only after allowing for these quick exits.",
    "blocked": "Expect blockers to hide a share of visits; measure it with server-side tagging or a "
    "server log, and do not read the gap as lost clicks.",
    "no_consent": "Check the consent banner and consent mode settings; with advanced consent mode, "
    "modelled data can fill part of this gap in analytics reports.",
    "not_reached": "Check landing-page availability and load errors (uptime, redirects, slow servers): "
    "these clicks were paid for but the visitor never arrived.",
    "tag_missing": "Audit which landing pages lack a working tag (a tag assistant or crawl) and add it.",
    "campaign_dropped": "Fix the redirect so that it keeps the query string (gclid, utm_*), or the "
    "visits show up as direct traffic.",
    "repeat_click": "Nothing to fix: repeat clicks are real clicks; judge campaigns by sessions or "
    "conversions, not by clicks alone.",
    "new_tab_click": "Nothing to fix: opening ads in new tabs joins the open session; expect fewer "
    "sessions than clicks for shoppers who compare.",
    "second_ad": "Nothing to fix: a visitor who clicks two campaigns' ads has one session; attribution "
    "decides which campaign gets the credit.",
    "click_in_open_session": "Nothing to fix: a quick return within the timeout continues the session.",
    "invalid_click": "Nothing to fix: the ad platform did not charge these clicks; they still reach "
    "your site and start sessions.",
    "bookmark": "Compare paid traffic with paid sessions only (filter by source/medium): returning "
    "visitors add sessions without any click.",
    "direct": "Filter the sessions by source/medium before comparing with ad clicks: direct visits have "
    "no click behind them.",
    "organic": "Compare paid clicks with paid sessions only: unpaid search adds sessions without clicks.",
    "referral": "Compare paid clicks with paid sessions only: links on other sites add sessions.",
    "email": "Compare paid clicks with paid sessions only: e-mail traffic adds sessions.",
    "redirect": "Fix the redirect so that it keeps the click id; these are really ad visits.",
    "inactivity": "Check the session timeout: a longer timeout merges pauses into one session; the "
    "clicks do not change.",
    "midnight": "Expect a split at midnight in the property's time zone for visits across it.",
    "campaign_change": "Expect a new session when a visitor returns through another campaign.",
    "max_duration": "Check the maximum session length of the definition if long visits matter.",
    "max_events": "Check the maximum number of hits per session of the definition.",
    "fixed_window": "Check the definition's fixed session window if it cuts visits in two.",
    "dynamic_gap": "Check the gap column: each event keeps the session open only as long as its own gap.",
    "session_event": "Check which events start and end a session in the definition.",
    "flag": "Check where the tracking sets the new-session flag (Matomo: new_visit=1).",
    "new_user_mid_visit": "Check cookie settings and that the landing page is tagged; a visitor who "
    "looks new mid-visit starts a second session.",
    "cross_domain": "Configure cross-domain measurement for the checkout domain (GA4: Configure your "
    "domains; the Conversion Linker's cross-domain setting), so that the _gl parameter carries the visitor "
    "across.",
    "checkout_referral": "List the checkout domain for cross-domain measurement (or as an unwanted "
    "referral), so that the return does not count as a new source.",
    "payment_referral": "List the payment providers (paypal.com, stripe.com, ...) as unwanted referrals, "
    "so that the return from paying keeps the visit's source and session.",
    "internal_campaign": "Remove utm_* parameters from links between your own pages; track internal "
    "promotions with events instead.",
    "route_untracked": "Turn on page changes based on browser history events (GA4 enhanced measurement) "
    "or send a page_view from the app's router, not both.",
    "bot_filtered": "Nothing to fix: GA4 already excludes known bots; they never were sessions.",
    "bot": "Filter the bots GA4 does not know (by hostname, user agent or behaviour, e.g. sessions of one "
    "page and no engagement) before comparing sessions with clicks.",
}


#: The paragraphs that open a section, the same in report.md and report.html.
INTRO: dict[str, str] = {
    "different_things": (
        "The two count different things: the ad platform counts every valid click on an ad, analytics counts "
        "visits its tag recorded, however they started."
    ),
    "bridges": (
        "Each row is one reason, counted from the simulated visitors' ground truth. Start from the ad "
        "platform's clicks, subtract clicks that never became a session of their own, add sessions that no "
        "click started: the result is exactly the analytics sessions."
    ),
    "views": (
        "Every session's first page view is counted both as a view and as a session; the other page views "
        "continued a session that was already open. A session can also start with a hit that is not a page "
        "view (a conversion after a long pause)."
    ),
    "campaigns": (
        "What the ad platform reports. Invalid clicks are clicks it filtered (bots, accidental double "
        "clicks): not counted and not charged, but their visitors may still reach the site."
    ),
    "breakdowns": (
        "A session counts in the segment of its first hit (campaign, network, device, source, and the "
        "hour it started in the property's time zone); ad cost and clicks count in the segment of the "
        "ad row that carries them (hour in the property's time zone). Each table adds up to the total; "
        "cost per session is n/a where nothing was bought."
    ),
}


def say_parts(template: str, n: int, definition: str = "") -> tuple[str, str]:
    """The text of ``say(template, n, definition)`` before and after the count (``{n}`` once at most)."""
    text = re.sub(r"\{([^{}|]*)\|([^{}|]*)\}", lambda m: m.group(1 if n == 1 else 2), template)
    text = text.replace("{definition}", definition)
    before, _, after = text.partition("{n}")
    return before, after


def click_parts(t: Term, definition: str) -> tuple[str, str]:
    """:func:`click_phrase` split around the count ``abs(t.delta)``."""
    template = CLICK_STORY.get(t.cause)
    if template is None:
        return "", f" x {t.cause} ({VOCABULARY.get(t.cause, 'a cause added later')})"
    return say_parts(template, abs(t.delta), definition)

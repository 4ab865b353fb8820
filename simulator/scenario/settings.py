"""The ``[settings]`` table's schema: site and property settings for ``sessionlab validate``.

Defined here, below the scenario loader, so that a scenario file may carry the same table under
``[settings]`` and have it validated by the loader (unknown keys are errors with a "did you mean"), and
so that :mod:`simulator.validate.settings` reads a separate settings file with the very same tables.
The keys, their meaning and their sources: docs/validate.md and :mod:`simulator.validate.settings`.
"""

from __future__ import annotations

from simulator.schema import Bool, Choice, Duration, Field, ListOf, Num, Str, Table, TimeZone

__all__ = ["SETTINGS"]

_DOMAIN = Str(r"[A-Za-z0-9.-]+\.[A-Za-z]{2,}", what="a domain like 'shop.example'")
_DOMAINS = ListOf(_DOMAIN, what="a list of domains")

SETTINGS = Table(
    {
        "ga4": Field(
            Table(
                {
                    "measurement_id": Field(
                        Str(r"G-[A-Z0-9]+", what="a GA4 measurement id like 'G-ABC123'"),
                        "the web stream's measurement id",
                    ),
                    "session_timeout": Field(
                        Duration(positive=True),
                        "Admin > Data streams > Configure tag "
                        "settings > Adjust session timeout (default 30m)",
                    ),
                    "engaged_session_timer": Field(
                        Duration(positive=True), "the same page, 'engaged sessions' timer (default 10s)"
                    ),
                    "unwanted_referrals": Field(_DOMAINS, "List unwanted referrals"),
                    "cross_domain": Field(_DOMAINS, "Configure your domains (cross-domain measurement)"),
                    "history_page_views": Field(
                        Bool(),
                        "enhanced measurement: page changes based on browser history events (default true)",
                    ),
                    "timezone": Field(TimeZone(), "the property's reporting time zone"),
                },
                "GA4 web-stream and property settings",
            ),
            "GA4 property and web stream",
        ),
        "google_ads": Field(
            Table(
                {
                    "auto_tagging": Field(Bool(), "Account settings > Auto-tagging (default on)"),
                    "tracking_template": Field(Str(what="a tracking template"), "account-level template"),
                    "final_url_suffix": Field(Str(what="a final URL suffix"), "account-level suffix"),
                    "timezone": Field(TimeZone(), "the ad account's time zone (fixed at creation)"),
                },
                "Google Ads account settings",
            ),
            "the Google Ads account",
        ),
        "consent": Field(
            Table(
                {
                    "analytics_storage": Field(
                        Choice(("granted", "denied"), "a consent default"),
                        "the default of analytics_storage before the banner",
                    ),
                    "ad_storage": Field(
                        Choice(("granted", "denied"), "a consent default"),
                        "the default of ad_storage before the banner",
                    ),
                    "mode": Field(
                        Choice(("basic", "advanced"), "a consent mode"),
                        "basic: tags wait for consent; advanced: cookieless pings when denied",
                    ),
                    "grant_rate": Field(
                        Num(0, 1, what="a fraction"),
                        "share of visitors who grant analytics consent (from the CMP)",
                    ),
                },
                "consent defaults and mode",
            ),
            "consent",
        ),
        "site": Field(
            Table(
                {
                    "domains": Field(_DOMAINS, "the site's own domains (shop, blog, ...)"),
                    "checkout_domains": Field(_DOMAINS, "own domains the checkout runs on"),
                    "payment_providers": Field(_DOMAINS, "providers visitors return from (paypal.com ...)"),
                    "single_page_app": Field(Bool(), "routes change without page loads"),
                    "checkout_share": Field(
                        Num(0, 1, what="a share"),
                        "share of visits that go through the checkout domain (for the simulation)",
                    ),
                    "payment_share": Field(
                        Num(0, 1, what="a share"),
                        "share of visits that pay through a provider and come back (for the simulation)",
                    ),
                    "internal_campaign_links": Field(
                        Bool(), "links between the site's own pages carry utm_* campaign parameters"
                    ),
                    "internal_campaign_share": Field(
                        Num(0, 1, what="a share"),
                        "share of visits that follow such a link (for the simulation)",
                    ),
                },
                "the site",
            ),
            "the site",
        ),
    },
    "Site and property settings for `sessionlab validate`.",
)

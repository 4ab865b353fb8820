"""The site and property settings table (TOML) that no API exports in one place.

Validated with the same declarative tables as scenario files (:mod:`simulator.schema`), so errors name
the file, the key path and what is allowed; :func:`json_schema` is generated from the same tables.
Every key is optional: a table left out means "not known", and the rules that need it stay silent.

Sources of the defaults (docs/validate.md has the full list):

- GA4 session timeout 30 min, adjustable up to 7 h 55 min; engaged-session timer 10 s, 10 s-60 s:
  GA4 help "[GA4] Adjust session timeout" (support.google.com/analytics/answer/12131703).
- Unwanted referrals and cross-domain domains: GA4 help "[GA4] Identify unwanted referrals"
  (answer/10327750) and "[GA4] Set up cross-domain measurement" (answer/10071811).
- Enhanced measurement "page changes based on browser history events": GA4 help answer/9216061.
- Google Ads auto-tagging and tracking templates: Google Ads help answer/3095550 and answer/6076199.
- Consent mode basic vs advanced: Google developers "Consent mode overview"
  (developers.google.com/tag-platform/security/concepts/consent-mode).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError
from simulator.schema import Bool, Choice, Ctx, Duration, Field, ListOf, Num, Str, Table, TimeZone

__all__ = ["SETTINGS", "Settings", "json_schema", "load_settings", "settings_from_dict"]

_MIN = 60_000
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


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated table; ``raw`` keeps what was given (absent keys are absent)."""

    path: str
    raw: dict[str, dict[str, Any]]

    def get(self, section: str, key: str, default: Any = None) -> Any:
        return self.raw.get(section, {}).get(key, default)

    def has(self, section: str, key: str) -> bool:
        return key in self.raw.get(section, {})

    def pointer(self, section: str, key: str = "") -> str:
        return f"{section}.{key}" if key else section

    @property
    def domains(self) -> tuple[str, ...]:
        own = list(self.get("site", "domains", [])) + list(self.get("site", "checkout_domains", []))
        return tuple(dict.fromkeys(own))


def settings_from_dict(doc: dict[str, Any], path: str = "<dict>") -> Settings:
    """Validate a parsed TOML table (only the settings sections)."""
    return Settings(path, SETTINGS(doc, Ctx(path)))


def load_settings(path: str | Path) -> Settings:
    """Read and validate a settings file; one-line :class:`ScenarioError` for any problem."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot read: {exc}") from None
    try:
        doc = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, "", f"not valid TOML: {err}") from None
    return settings_from_dict(doc, path)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the settings file, generated from :data:`SETTINGS`."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sessionlab validate settings",
        **SETTINGS.json_schema(),
    }


DEFAULT_TIMEOUT_MS = 30 * _MIN

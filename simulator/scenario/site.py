"""The ``[site]`` section: what in a visit changes its source or its analytics user mid-visit.

Three mechanisms of the population engine (:mod:`simulator.engine.hops`), each off by default (rate 0),
so a scenario without ``[site]`` simulates exactly as before:

- **domain hops**: the checkout on another of the site's domains and back. Without cross-domain
  linking (the ``_gl`` parameter) the checkout domain sets its own client id (a new user, whose
  session's source is a referral from the shop), and the shop sees the return as a referral from the
  checkout domain (GA4 help answer/10071811, answer/10327750).
- **payment-provider round trips** (PayPal, Stripe): the return to the shop carries a referral from
  the provider, unless the provider is listed as an unwanted referral (GA4 help answer/10327750; UA's
  referral exclusion list).
- **campaign parameters on internal links** (``utm_*`` on a banner of the site itself): a new campaign
  mid-visit (a new session under Universal Analytics and Matomo).

Sources and the disputed GA4 behaviour are in docs/engine.md ("Mid-visit changes of source or user").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.schema import Bool, Ctx, Field, Num, Str, Table

__all__ = ["SITE", "Site", "build_site"]


def _rate(doc: str) -> Field:
    return Field(Num(0, 1, what="a probability"), doc, default=0.0)


SITE = Table(
    {
        "checkout_hop": _rate(
            "share of visits (3+ page views) that go to the checkout on another domain and back"
        ),
        "cross_domain": Field(
            Bool(),
            "cross-domain measurement links the checkout domain (_gl): one user, one session",
            default=False,
        ),
        "payment_round_trip": _rate(
            "share of visits (2+ page views) that leave for a payment provider and come back"
        ),
        "payment_excluded": Field(
            Bool(), "the payment provider is listed as an unwanted referral (excluded)", default=False
        ),
        "internal_campaign": _rate(
            "share of visits (2+ page views) that follow an internal link with campaign parameters"
        ),
        "internal_campaign_name": Field(
            Str(what="a campaign name"),
            "the utm_campaign of the internal link",
            default="internal-promo",
        ),
    },
    doc="Mid-visit changes of source or user: checkout domain, payment provider, internal campaigns.",
)


@dataclass(frozen=True, slots=True)
class Site:
    """The ``[site]`` section (see :data:`SITE` for each field's meaning)."""

    checkout_hop: float = 0.0
    cross_domain: bool = False
    payment_round_trip: float = 0.0
    payment_excluded: bool = False
    internal_campaign: float = 0.0
    internal_campaign_name: str = "internal-promo"

    @property
    def active(self) -> bool:
        """Whether any mechanism is on (off: the engine draws nothing for them)."""
        return self.checkout_hop > 0 or self.payment_round_trip > 0 or self.internal_campaign > 0


def build_site(doc: dict[str, Any], campaign_names: set[str], ctx: Ctx) -> Site:
    """The validated ``[site]`` table as a :class:`Site` (defaults without one), cross-checked."""
    if "site" not in doc:
        return Site()
    raw = doc["site"]
    with ctx.at("site"):
        if "population" not in doc:
            ctx.fail("applies to a stochastic population: add a [population] table")
        if raw["checkout_hop"] + raw["payment_round_trip"] > 1 + 1e-12:
            with ctx.at("payment_round_trip"):
                ctx.fail(
                    f"checkout_hop + payment_round_trip = {raw['checkout_hop'] + raw['payment_round_trip']:g}"
                    ", more than 1 (a visit makes at most one of the two trips)"
                )
        if raw["internal_campaign"] > 0 and raw["internal_campaign_name"] in campaign_names:
            with ctx.at("internal_campaign_name"):
                ctx.fail(
                    f"{raw['internal_campaign_name']!r} is the name of an ad campaign; an internal "
                    "campaign needs a name of its own"
                )
    return Site(**{k: raw[k] for k in SITE.fields})

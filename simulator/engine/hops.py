"""Mid-visit changes of source or analytics user: the ``[site]`` mechanisms, applied to a block's views.

After :mod:`simulator.engine.visits` has laid out each visit's page views, a visit may

- **hop to the checkout domain and back** (``checkout_hop``, visits of 3+ views whose last two views
  are site pages): the second-last view is the checkout on the other domain (cause ``domain_hop``),
  the last the return to the shop (``domain_return``). Without ``cross_domain`` the checkout domain
  has its own cookie -- a new analytics user per person and device, whose hit's source is a referral
  from the shop -- and the shop sees the return as a referral from the checkout domain. With it (the
  ``_gl`` linker), the checkout view keeps the shop's user and neither view brings a source: GA4
  ignores referrals between the configured domains when the linker parameter is present (GA4 help
  answer/10327750, "self-referrals"; answer/10071811).
- **make a payment-provider round trip** (``payment_round_trip``, visits of 2+ views whose last view
  is a site page): the last view is the return from the provider (``payment_return``), a referral
  unless ``payment_excluded`` (the provider is an unwanted referral: GA4 help answer/10327750).
- **follow an internal link with campaign parameters** (``internal_campaign``, visits of 2+ views):
  one view after the landing (chosen uniformly among views 2..n, a site page not used by a trip)
  carries the campaign ``internal_campaign_name`` (cause ``internal_campaign``).

A visit makes at most one trip (one uniform draw decides: below ``checkout_hop`` a hop, then up to
``checkout_hop + payment_round_trip`` a round trip). Conversions stay at the end of the visit, on the
shop, so the purchase falls in the session of the return. The draws come from their own stream
(``SeedSequence(seed, spawn_key=(block, HOPS_STREAM))``), three uniforms per served arrival whatever
its eligibility, and only when a ``[site]`` rate is above 0: a scenario without ``[site]`` draws
nothing and its log is the same to the bit, and switching one mechanism (or the linker, or the
exclusion) never moves another draw -- as configured and as fixed share their random numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.engine.population import rng_for
from simulator.log.events import Cause, Source

if TYPE_CHECKING:
    from simulator.engine.population import Plan

__all__ = ["CHECKOUT_KEY", "HOPS_STREAM", "mid_visit"]

#: The random stream of these mechanisms (0 arrivals, 1 visits, 2 habits; 7 leaves room for others).
HOPS_STREAM = 7
#: Added to a shop cookie's key (person * 2**24 + device slot * 4096 + cookie generation, see
#: ``visits._cookies``), without its generation, to give the checkout domain's cookie of that person
#: and device: above every shop cookie (< 8192) and below the identifier-less hits (2**23 on).
CHECKOUT_KEY = 1 << 22
_GEN = 4096  # cookie generations per device slot in a shop key


def mid_visit(
    plan: Plan, block: int, first: np.ndarray, site_page: np.ndarray, views: dict[str, np.ndarray]
) -> None:
    """Apply the ``[site]`` mechanisms to one block's page views, in place.

    Parameters
    ----------
    plan, block
        The population plan and the block's number (for the random stream).
    first
        Per view (slot order, grouped by arrival): True on each visit's landing.
    site_page
        Per view: a page of the site reached by navigation, a tab or a reload (not a landing, not an
        ad click inside the visit).
    views
        The block's page-view columns (``key``, ``arr``, ``cause``, ``source``, ``campaign``, ...),
        aligned with ``first``; the changed columns are replaced by changed copies.
    """
    site = plan.scenario.site
    if not site.active or not len(first):
        return
    n_arrivals = int(views["arr"].max()) + 1
    u = rng_for(plan.seed, block, HOPS_STREAM).random((n_arrivals, 3))
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(first)] - 1
    count = ends - starts + 1
    uu = u[views["arr"][starts]]
    last_ok = site_page[ends]
    prev_ok = site_page[np.maximum(ends - 1, 0)] & (count >= 3)  # noqa: PLR2004
    hop_to = site.checkout_hop
    hop = (uu[:, 0] < hop_to) & prev_ok & last_ok
    pay = (uu[:, 0] >= hop_to) & (uu[:, 0] < hop_to + site.payment_round_trip) & (count >= 2) & last_ok  # noqa: PLR2004
    at = np.minimum(starts + 1 + (uu[:, 2] * (count - 1)).astype(np.int64), ends)  # views 2..n
    used = (hop & (at >= ends - 1)) | (pay & (at == ends))
    internal = (uu[:, 1] < site.internal_campaign) & (count >= 2) & site_page[at] & ~used  # noqa: PLR2004

    cause, source = views["cause"].copy(), views["source"].copy()
    out, back = ends[hop] - 1, ends[hop]
    cause[out], cause[back] = Cause.DOMAIN_HOP, Cause.DOMAIN_RETURN
    if not site.cross_domain:
        key = views["key"].copy()
        key[out] = key[out] - key[out] % _GEN + CHECKOUT_KEY  # the checkout domain's own cookie
        views["key"] = key
        source[out] = source[back] = Source.REFERRAL
    ret = ends[pay]
    cause[ret] = Cause.PAYMENT_RETURN
    if not site.payment_excluded:
        source[ret] = Source.REFERRAL
    if internal.any():
        campaign = views["campaign"].copy()
        campaign[at[internal]] = len(plan.scenario.campaigns)  # the name's code: see simulate.setup
        cause[at[internal]] = Cause.INTERNAL_CAMPAIGN
        views["campaign"] = campaign
    views["cause"], views["source"] = cause, source

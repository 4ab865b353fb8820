"""Counts for one slice of a run: one day, or one campaign, as the reports of each system cut them.

* **day** — the ad platform counts impressions, clicks and cost on the date in the *ad account's*
  time zone; analytics counts the hits on the date in the *property's* time zone, and a session
  counts on every day it has a hit (a session across midnight counts on both days, as GA4 and
  Adobe report it; docs/domain.md).
* **campaign** — the ad platform counts the campaign's rows; analytics counts the sessions the
  campaign *started* (the campaign of the session's first hit, the landing page view of its click)
  with all their hits: session-scoped attribution.
* **device** — the same rule by device: the ad rows (impressions, clicks, their cost) shown or
  clicked on the device, and the sessions whose first hit was on it, with all their hits. These are
  the rows of ``simulator.analysis.breakdown`` by campaign and device.

Sessions come from the whole run (a day does not cut a session short); only the counting is sliced.
Bridge terms are not sliced: a click and its landing can fall on different days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from simulator.analysis.metrics import AD_METRICS, AdCounts, AnalyticsCounts, ad_counts, analytics_counts
from simulator.analysis.result import Result
from simulator.log.events import Device, Kind

__all__ = ["Segment", "day_bounds", "segment"]


def day_bounds(day: dt.date, timezone: str) -> tuple[int, int]:
    """``[start, end)`` of a local date in epoch milliseconds (handles DST days of 23 or 25 hours)."""
    zone = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Segment:
    """The numbers of one slice, read like :meth:`Result.metric`."""

    ads: AdCounts
    counts: dict[str, AnalyticsCounts]
    ratios: dict[str, dict[str, float | None]]

    def metric(self, name: str, definition: str | None = None) -> float | int | None:
        """The value of a count or ratio in this slice."""
        if name in AD_METRICS:
            return getattr(self.ads, name)
        if name.startswith(("bridge.", "views_bridge.")):
            raise ValueError(f"bridge terms are not counted per day or campaign, got {name!r}")
        if definition is None:
            raise ValueError(f"metric {name!r} needs a definition")
        if name in self.ratios[definition]:
            return self.ratios[definition][name]
        return getattr(self.counts[definition], name)


def _renumber(ids: np.ndarray) -> np.ndarray:
    """Session ids of a subset of hits (non-decreasing), renumbered 0, 1, 2 ... for counting."""
    if len(ids) == 0:
        return ids
    return np.cumsum(np.r_[True, ids[1:] != ids[:-1]]) - 1


def segment(
    result: Result,
    *,
    timezone: str,
    ad_timezone: str,
    day: dt.date | None = None,
    campaign: str | None = None,
    device: str | None = None,
) -> Segment:
    """Slice ``result`` to one day and/or one campaign (see the module docstring for the rules).

    Parameters
    ----------
    result
        A run (or a journeys-restricted run).
    timezone, ad_timezone
        The analytics property's and the ad account's time zones (IANA names).
    day
        A local date, or None for every day.
    campaign
        A campaign name, or None for every campaign; a name the run never used counts nothing.
    device
        A device name (``desktop``, ``mobile``, ``tablet``, ``unknown``), or None for every device.
    """
    log, hits = result.log, result.hits
    ad_rows = np.isin(log.kind, (Kind.IMPRESSION, Kind.CLICK))
    hit_keep = np.ones(len(hits), dtype=bool)
    code = log.campaigns.index(campaign) if campaign in log.campaigns else -2
    if day is not None:
        ad_lo, ad_hi = day_bounds(day, ad_timezone)
        lo, hi = day_bounds(day, timezone)
        ad_rows &= (log.ts >= ad_lo) & (log.ts < ad_hi)
        hit_ts = log.ts[hits]
        hit_keep &= (hit_ts >= lo) & (hit_ts < hi)
    if campaign is not None:
        ad_rows &= log.campaign == code
    device_code = Device[device.upper()] if device is not None else None
    if device_code is not None:
        ad_rows &= log.device == device_code
    ads = ad_counts(log.select(ad_rows))
    counts, ratios = {}, {}
    for name, block in result.definitions.items():
        ids = np.cumsum(block.split != 0) - 1
        keep = hit_keep
        starts = np.flatnonzero(block.split != 0)
        if campaign is not None:
            session_campaign = log.campaign[hits[starts]]
            keep = keep & (session_campaign[ids] == code)
        if device_code is not None:
            keep = keep & (log.device[hits[starts]][ids] == device_code)
        counts[name] = analytics_counts(log, hits[keep], _renumber(ids[keep]), result.engagement_timer)
        ratios[name] = counts[name].ratios(ads)
    return Segment(ads, counts, ratios)

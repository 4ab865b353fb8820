"""Cost per session broken down by campaign, device, hour of day, network and channel.

For one run and one session definition, each dimension gives a table with one row per segment
value: ad cost, clicks, sessions, cost per session, conversions and conversion rate. The rows of a
table add up to the run's totals (cost, clicks, sessions, conversions), because every ad row and
every session belongs to exactly one segment:

* **Sessions** (and their conversions) belong to the segment of the session's **first hit**: the
  campaign, device and source (channel) of the hit that started it, the network of that campaign,
  and the hour of the session start in the **property's** time zone. A session started by a hit
  without a campaign is in ``(none)`` for campaign and network; one started by a hit that carries
  no source (a page view after an inactivity split, a conversion first) is in channel ``(none)``.
* **Ad cost and clicks** belong to the ad row that carries them (the click for CPC billing, the
  impression for CPM billing): its campaign, that campaign's network, its device, and its hour in
  the **property's** time zone (so the hour table sets cost and sessions side by side on the same
  clock). Every ad row is channel ``paid``.
* **Cost per session** = segment cost / segment sessions; it is ``None`` (shown ``n/a``) when
  nothing was bought in the segment (no counted impression or click: organic, direct, ``(none)``)
  or the segment has no session. **Conversions** are tracked conversion hits in the segment's
  sessions; **conversion rate** = converting sessions / sessions (``conversion_rate_session``).
* **Engaged sessions** (GA4's rule, :func:`simulator.analysis.metrics.engaged`) belong to the segment of
  the session like the session itself; **engagement rate** = engaged sessions / sessions (JSON only,
  ``engaged_sessions`` and ``engagement_rate`` of each row).

Cost per session of a segment is therefore "what this segment's ads cost / the sessions that this
segment started": the paid channel's cost per session divides all ad cost by sessions that started
on a paid hit, not by every session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.analysis.metrics import _ratio, engaged
from simulator.analysis.result import Result
from simulator.log.events import Device, EventLog, Kind, Source
from simulator.log.localtime import local_hour

__all__ = ["DIMENSIONS", "Breakdown", "Row", "breakdown", "breakdowns", "parse_dimensions"]

#: The dimensions a run can be broken down by, in display order.
DIMENSIONS = ("campaign", "device", "hour", "network", "channel")
NONE = "(none)"
_NOT_SET = "(not set)"  # a campaign without a network (scripted journeys)
_LAST = frozenset({NONE, Device.UNKNOWN.label})


@dataclass(frozen=True, slots=True)
class Row:
    """One segment's numbers."""

    segment: str
    cost: float
    clicks: int
    sessions: int
    conversions: int
    converting_sessions: int
    paid: bool  #: the segment has counted impressions or clicks
    engaged_sessions: int = 0  #: GA4 engaged sessions among the segment's sessions

    @property
    def engagement_rate(self) -> float | None:
        """Engaged sessions / sessions (GA4; bounce rate is 1 minus this)."""
        return _ratio(self.engaged_sessions, self.sessions)

    @property
    def cost_per_session(self) -> float | None:
        """Cost / sessions; None when nothing was bought in the segment or it has no session."""
        return _ratio(self.cost, self.sessions) if self.paid else None

    @property
    def conversion_rate(self) -> float | None:
        """Converting sessions / sessions."""
        return _ratio(self.converting_sessions, self.sessions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "segment": self.segment,
            "cost": self.cost,
            "clicks": self.clicks,
            "sessions": self.sessions,
            "cost_per_session": self.cost_per_session,
            "conversions": self.conversions,
            "conversion_rate": self.conversion_rate,
            "engaged_sessions": self.engaged_sessions,
            "engagement_rate": self.engagement_rate,
        }


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One dimension under one definition: a row per segment and the total."""

    dimension: str
    definition: str
    rows: tuple[Row, ...]
    total: Row

    def row(self, segment: str) -> Row:
        """The row of ``segment`` (KeyError if the segment has no rows)."""
        for r in self.rows:
            if r.segment == segment:
                return r
        raise KeyError(segment)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.rows], "total": self.total.to_dict()}


def parse_dimensions(text: str) -> tuple[str, ...]:
    """``"campaign,device"`` -> ``("campaign", "device")``; ``"all"`` -> every dimension.

    Raises
    ------
    ValueError
        For an unknown or repeated name (the message lists the allowed names).
    """
    names = [n.strip() for n in text.split(",") if n.strip()]
    if names == ["all"]:
        return DIMENSIONS
    bad = [n for n in names if n not in DIMENSIONS]
    if bad or not names or len(set(names)) != len(names):
        what = f"unknown dimension {bad[0]!r}" if bad else "expected distinct names"
        raise ValueError(f"{what}; allowed: {', '.join(DIMENSIONS)} (comma-separated) or all")
    return tuple(names)


def _networks(log: EventLog) -> tuple[np.ndarray, tuple[str, ...]]:
    """Network index of each campaign code (last entry: no campaign) and the network labels."""
    raw = tuple(log.meta.get("networks", ()))  # type: ignore[arg-type]
    per_campaign = [raw[i] if i < len(raw) and raw[i] else _NOT_SET for i in range(len(log.campaigns))]
    labels = (*dict.fromkeys(per_campaign), NONE)
    index = np.array([labels.index(n) for n in per_campaign] + [len(labels) - 1], dtype=np.int64)
    return index, labels


def _codes(
    log: EventLog, rows: np.ndarray, dimension: str, timezone: str, ads: bool
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Segment code of each row of ``rows`` (ad rows when ``ads``) and the segment labels."""
    if dimension == "campaign":
        labels = (*log.campaigns, NONE)
        code = log.campaign[rows].astype(np.int64)
        return np.where(code < 0, len(labels) - 1, code), labels
    if dimension == "network":
        index, labels = _networks(log)
        return index[log.campaign[rows]], labels  # -1 (no campaign) picks the last entry
    if dimension == "device":
        return log.device[rows].astype(np.int64), tuple(d.label for d in Device)
    if dimension == "hour":
        return local_hour(log.ts[rows], timezone).astype(np.int64), tuple(f"{h:02d}" for h in range(24))
    if dimension == "channel":
        labels = tuple(NONE if s == Source.NONE else s.name.lower() for s in Source)
        code = np.full(len(rows), Source.PAID, dtype=np.int64) if ads else log.source[rows].astype(np.int64)
        return code, labels
    raise ValueError(f"unknown dimension {dimension!r}; allowed: {', '.join(DIMENSIONS)}")


def breakdown(result: Result, dimension: str, definition: str | None = None) -> Breakdown:
    """Break ``result`` down by ``dimension`` under one definition (see the module docstring).

    Parameters
    ----------
    result
        A run.
    dimension
        One of :data:`DIMENSIONS`.
    definition
        A definition of the run (default: the first).

    Examples
    --------
    >>> from simulator import load_scenario, run
    >>> result = run(load_scenario("scenarios/ecommerce_cost_per_session.toml"))  # doctest: +SKIP
    >>> breakdown(result, "channel").row("organic").cost_per_session is None  # doctest: +SKIP
    True
    """
    log, hits = result.log, result.hits
    name = definition or next(iter(result.definitions))
    split = result.definitions[name].split
    kind = log.kind
    ad_rows = np.flatnonzero(((kind == Kind.IMPRESSION) | (kind == Kind.CLICK)) & log.counted)
    ad_code, labels = _codes(log, ad_rows, dimension, result.timezone, ads=True)
    n = len(labels)
    ad_cost = log.cost[ad_rows]
    # numpy's pairwise sum per segment, over the same rows in the same order as segments.segment:
    # the same float as an [[expect]] on that campaign or device (a bincount drifts by ~1e-12)
    cost = [float(ad_cost[ad_code == i].sum()) for i in range(n)]
    clicks = np.bincount(ad_code[kind[ad_rows] == Kind.CLICK], minlength=n)
    bought = np.bincount(ad_code, minlength=n) > 0
    starts = np.flatnonzero(split != 0)
    start_code, _ = _codes(log, hits[starts], dimension, result.timezone, ads=False)
    sessions = np.bincount(start_code, minlength=n)
    session_of = np.cumsum(split != 0) - 1
    conv_session = session_of[kind[hits] == Kind.CONVERSION]
    conversions = np.bincount(start_code[conv_session], minlength=n)
    converting = np.bincount(start_code[np.unique(conv_session)], minlength=n)
    is_engaged = engaged(kind[hits], log.ts[hits], session_of, result.engagement_timer)
    engaged_n = np.bincount(start_code[is_engaged], minlength=n)
    rows = [
        Row(
            labels[i],
            float(cost[i]),
            int(clicks[i]),
            int(sessions[i]),
            int(conversions[i]),
            int(converting[i]),
            bool(bought[i]),
            int(engaged_n[i]),
        )
        for i in range(n)
        if dimension == "hour" or bought[i] or sessions[i] or clicks[i]
    ]
    rows.sort(key=lambda r: r.segment in _LAST)  # stable: (none) and unknown go last
    total = Row(
        "total",
        float(log.cost[ad_rows].sum()),
        int(clicks.sum()),
        len(starts),
        len(conv_session),
        len(np.unique(conv_session)),
        bool(len(ad_rows)),
        int(np.count_nonzero(is_engaged)),
    )
    return Breakdown(dimension, name, tuple(rows), total)


def breakdowns(result: Result, dimensions: Sequence[str]) -> dict[str, dict[str, Breakdown]]:
    """``{definition: {dimension: Breakdown}}`` for every definition of the run."""
    if not result.has_rows:
        raise ValueError("breakdowns need the run's rows; this result was aggregated without them (Spark)")
    return {name: {dim: breakdown(result, dim, name) for dim in dimensions} for name in result.definitions}


def to_json(tables: dict[str, dict[str, Breakdown]]) -> dict[str, Any]:
    """The ``breakdowns`` JSON block: ``{definition: {dimension: {"rows": [...], "total": {...}}}}``."""
    return {name: {dim: b.to_dict() for dim, b in dims.items()} for name, dims in tables.items()}

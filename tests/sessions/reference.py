"""A slow, obviously correct sessionizer: one Python loop over the events, one rule at a time.

It shares nothing with the kernels but the rule records (their parameters) and the cause codes: time
zones go through ``datetime.fromtimestamp(..., ZoneInfo(tz)).date()``, stateful rules keep the
session's first timestamp, event count and campaign in plain variables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from simulator.sessions.rules import (
    CampaignChange,
    DynamicGap,
    FixedWindow,
    Flag,
    Inactivity,
    MaxDuration,
    MaxEvents,
    Midnight,
    SessionEvents,
    SplitCause,
)


def local_date(ts_ms: int, tz: str) -> dt.date:
    """The calendar date of an epoch-ms instant in zone ``tz``."""
    return dt.datetime.fromtimestamp(ts_ms / 1000, tz=ZoneInfo(tz)).date()


class _Session:
    def __init__(self, ts: int, campaign: int) -> None:
        self.start = ts
        self.events = 1
        self.campaign = campaign if campaign >= 0 else None


class Extra:
    """The optional per-event columns: names, gaps (ms, None = none) and new-session flags."""

    def __init__(self, n: int, event=None, gap=None, flag=None) -> None:
        self.event = list(event) if event is not None else None
        self.gap = list(gap) if gap is not None else None
        self.flag = list(flag) if flag is not None else None
        #: per dynamic-gap rule (its own default), the latest ts + gap over the user's events so far
        self.cover: dict[int, int] = {}


def _fires(
    rule: object, i: int, ts: Sequence[int], camp: Sequence[int], s: _Session, *, tz: str, x: Extra
) -> bool:
    if isinstance(rule, DynamicGap):
        cover = x.cover[id(rule)]
        return ts[i] > cover if rule.boundary == "same" else ts[i] >= cover
    if isinstance(rule, SessionEvents):
        return (rule.start is not None and x.event[i] == rule.start) or (
            rule.end is not None and x.event[i - 1] == rule.end
        )
    if isinstance(rule, Flag):
        return bool(x.flag[i])
    if isinstance(rule, Inactivity):
        gap = ts[i] - ts[i - 1]
        return gap > rule.timeout if rule.boundary == "same" else gap >= rule.timeout
    if isinstance(rule, Midnight):
        zone = rule.timezone or tz
        return local_date(ts[i], zone) != local_date(ts[i - 1], zone)
    if isinstance(rule, MaxDuration):
        age = ts[i] - s.start
        return age > rule.limit if rule.boundary == "same" else age >= rule.limit
    if isinstance(rule, FixedWindow):
        age = ts[i] - s.start
        return age > rule.length if rule.boundary == "same" else age >= rule.length
    if isinstance(rule, MaxEvents):
        return s.events >= rule.n
    if isinstance(rule, CampaignChange):
        if camp[i] < 0:
            return False
        if s.campaign is None:
            return rule.from_none == "split"
        return camp[i] != s.campaign
    raise TypeError(f"the reference does not know rule {rule!r}")


def reference_causes(
    user: Sequence[int],
    ts: Sequence[int],
    campaign: Sequence[int] | None,
    rules: Sequence[object],
    timezone: str = "UTC",
    *,
    event: Sequence[str] | None = None,
    gap: Sequence[int | None] | None = None,
    flag: Sequence[bool] | None = None,
) -> list[int]:
    """Split cause per row of a log sorted by (user, ts): the first rule (in order) that fires."""
    camp = list(campaign) if campaign is not None else [-1] * len(ts)
    x = Extra(len(ts), event, gap, flag)
    out: list[int] = []
    session = None
    for i in range(len(ts)):
        if i == 0 or user[i] != user[i - 1]:
            cause = SplitCause.NEW_USER
            x.cover = {}
        else:
            cause = next(
                (r.cause for r in rules if _fires(r, i, ts, camp, session, tz=timezone, x=x)),
                SplitCause.CONTINUES,
            )
        for dyn in (r for r in rules if isinstance(r, DynamicGap)):
            end = ts[i] + (x.gap[i] if x.gap[i] is not None else dyn.default)
            x.cover[id(dyn)] = max(x.cover.get(id(dyn), end), end)
        if cause:
            session = _Session(ts[i], camp[i])
        else:
            session.events += 1
            if session.campaign is None and camp[i] >= 0:
                session.campaign = camp[i]
        out.append(int(cause))
    return out


def reference_ids(causes: Sequence[int]) -> list[int]:
    """Session ids (from 0) from split causes."""
    ids, current = [], -1
    for cause in causes:
        current += cause != 0
        ids.append(current)
    return ids

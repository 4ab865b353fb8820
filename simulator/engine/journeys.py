"""Scripted ``[[journey]]`` visitors in SimPy: one process per journey, however many identical copies.

A journey with ``count = c`` is ``c`` identical visitors (different people). They do the same things at
the same times, so one process carries them all: each step emits ``c`` rows at once (numpy arrays of
people, users, visits and clicks) instead of ``c`` processes emitting one row each. The log is exactly
the one ``c`` processes give (``tests/engine/test_journeys.py`` checks it against such a plain
reference on random scenarios), because:

- SimPy resumes same-time processes in the order their events were scheduled (time, priority, event
  id). Copies of a journey schedule their events one after the other, so they stay contiguous and in
  copy order at every step, and the journey's process sits exactly where its first copy would.
- Ids (users, visits, clicks) are handed out in the order ``c`` processes would: all the ids one
  copy takes between two waits (a *segment*), then the next copy's. Each id taken here is recorded with
  (segment, copy, order in the segment) and renumbered in that order at the end.

Simulation time is milliseconds since the scenario's earliest journey start.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

from simulator.log.events import COLUMNS, Cause, Device, EventLog, Kind, Loss, Source
from simulator.scenario.loader import Journey, Scenario, Step

__all__ = ["simulate_journeys"]

_RETURN = {
    "bookmark": (Cause.BOOKMARK, Source.BOOKMARK),
    "direct": (Cause.DIRECT, Source.DIRECT),
    "organic": (Cause.ORGANIC, Source.ORGANIC),
    "referral": (Cause.REFERRAL, Source.REFERRAL),
    "email": (Cause.EMAIL, Source.EMAIL),
}
_LOSS = {loss.label: loss for loss in Loss}
_DEVICES = {d.label: d for d in Device}
_DEFAULTS: dict[str, Any] = {
    "visit": -1,
    "source": Source.NONE,
    "campaign": -1,
    "page": -1,
    "click": -1,
    "tracked": False,
    "counted": False,
    "loss": Loss.NONE,
    "cost": 0.0,
    "value": 0.0,
    "units": 0,
    "device": Device.UNKNOWN,
}
_KINDS_OF_ID = ("user", "visit", "click")


def _device(params: dict[str, Any]) -> Device:
    """A scripted step's device as a Device code: its name if it is one ("mobile"), else UNKNOWN."""
    return _DEVICES.get(params.get("device", ""), Device.UNKNOWN)


@dataclass
class _Ids:
    """Provisional ids of one kind, each with where ``c`` separate processes would have taken it."""

    next: int = 0
    where: list[tuple[int, np.ndarray, int]] = field(default_factory=list)  # (segment, copies, order)

    def take(self, segment: int, order: int, copies: np.ndarray) -> np.ndarray:
        """New ids for ``copies`` (copy indices within the journey, ascending)."""
        ids = self.next + np.arange(len(copies), dtype=np.int64)
        self.where.append((segment, copies, order))
        self.next += len(copies)
        return ids

    def final(self) -> np.ndarray:
        """Final id of each provisional id: ranks by (segment, copy, order in the segment)."""
        if not self.where:
            return np.zeros(0, dtype=np.int64)
        copy = np.concatenate([c for _, c, _ in self.where])
        segment = np.concatenate([np.full(len(c), s, dtype=np.int64) for s, c, _ in self.where])
        order = np.concatenate([np.full(len(c), o, dtype=np.int64) for _, c, o in self.where])
        rank = np.empty(len(copy), dtype=np.int64)
        rank[np.lexsort((order, copy, segment))] = np.arange(len(copy))
        return rank


@dataclass
class Recorder:
    """Collects rows (scalars or one value per copy) in emission order; hands out ids; interns names."""

    base_ms: int
    journey_of: np.ndarray  # person -> the first journey of that person
    parts: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    campaigns: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    users: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)  # (device, gen) -> per person
    ids: dict[str, _Ids] = field(default_factory=lambda: {k: _Ids() for k in _KINDS_OF_ID})
    segment: int = 0
    order: int = 0
    _segments: Any = field(default_factory=itertools.count)

    def new_segment(self) -> None:
        """Called whenever a process resumes: the ids it takes until it waits again form one segment."""
        self.segment, self.order = next(self._segments), 0

    def take(self, kind: str, n: int, copies: np.ndarray | None = None) -> np.ndarray:
        """New ids of ``kind`` for all ``n`` copies, or for those ``copies`` only (indices)."""
        self.order += 1
        which = np.arange(n, dtype=np.int64) if copies is None else copies
        return self.ids[kind].take(self.segment, self.order, which)

    def emit(self, now: float, person: np.ndarray, **row: Any) -> None:
        row.setdefault("ts", self.base_ms + int(now))
        row["person"] = person
        row["journey"] = self.journey_of[person]
        self.parts.append((len(person), row))

    def intern(self, table: dict[str, int], name: str | None) -> int:
        return -1 if name is None else table.setdefault(name, len(table))

    def to_log(self, meta: dict[str, object]) -> EventLog:
        """The rows with final ids, sorted by (user, ts, emission order)."""
        cols = {}
        for name, dtype in COLUMNS.items():
            default = _DEFAULTS.get(name, 0)
            values = [
                np.broadcast_to(np.asarray(row.get(name, default), dtype=dtype), (n,))
                for n, row in self.parts
            ]
            cols[name] = np.concatenate(values) if values else np.zeros(0, dtype=dtype)
        for kind in _KINDS_OF_ID:
            final = self.ids[kind].final()
            col = cols[kind]
            cols[kind] = np.where(col >= 0, final[np.maximum(col, 0)] if len(final) else -1, -1).astype(
                col.dtype
            )
        order = np.lexsort((cols["ts"], cols["user"]))  # lexsort is stable: ties keep emission order
        return EventLog(
            {k: v[order] for k, v in cols.items()}, tuple(self.campaigns), tuple(self.pages), meta
        )


@dataclass
class Visitors:
    """The identical copies of one journey as it unfolds (ground truth): one state, ids per copy."""

    journey: Journey
    person: np.ndarray  # person id of each copy
    last_click: np.ndarray  # the latest counted click of each copy (a conversion is attributed to it), -1
    cookie_gen: dict[str, int] = field(default_factory=dict)
    visit: np.ndarray | None = None  # each copy's open visit id; None when none is open
    visit_campaign: int = -1
    page: int = -1

    def user(self, rec: Recorder, device: str) -> np.ndarray:
        """Each copy's analytics user (cookie) on ``device``; new cookies get new ids in copy order."""
        table = rec.users.get((device, self.cookie_gen.get(device, 0)))
        if table is None:
            table = rec.users[(device, self.cookie_gen.get(device, 0))] = np.full(len(rec.journey_of), -1)
        users = table[self.person]
        new = users < 0
        if new.any():
            users[new] = rec.take("user", len(users), np.flatnonzero(new))
            table[self.person] = users
        return users

    def visit_ids(self) -> np.ndarray | int:
        return -1 if self.visit is None else self.visit

    def tag(self, params: dict[str, Any], default_loss: Loss) -> tuple[bool, Loss]:
        """Whether a hit is tracked, and why not."""
        if self.journey.tracking != "ok":
            return False, _LOSS[self.journey.tracking]
        if params.get("tag", True):
            return True, Loss.NONE
        return False, _LOSS[params["loss"]] if "loss" in params else default_loss


def _hit(rec: Recorder, env: simpy.Environment, v: Visitors, p: dict[str, Any], **row: Any) -> None:
    tracked, loss = v.tag(p, row.pop("default_loss", Loss.TAG_MISSING))
    user = v.user(rec, p.get("device", "default"))
    rec.emit(
        env.now,
        v.person,
        user=user,
        visit=v.visit_ids(),
        tracked=tracked,
        loss=loss,
        device=_device(p),
        **row,
    )


def _click(rec: Recorder, env: simpy.Environment, v: Visitors, step: Step) -> Generator:
    p = step.params
    n = len(v.person)
    campaign = rec.intern(rec.campaigns, p["campaign"])
    if v.visit is None:
        cause = Cause.AD_CLICK
    elif p.get("tab", False):
        cause = Cause.NEW_TAB_CLICK
    else:
        cause = Cause.REPEAT_CLICK if campaign == v.visit_campaign else Cause.SECOND_AD
    lands = p.get("lands", True)
    tracked, loss = v.tag(p, Loss.LEFT_BEFORE_TAG) if lands else (False, Loss.NOT_REACHED)
    if lands and v.visit is None:
        v.visit = rec.take("visit", n)
    click_id = rec.take("click", n)
    counted = not p.get("invalid", False)
    if counted:
        v.last_click = click_id
    user = v.user(rec, p.get("device", "default"))
    rec.emit(
        env.now,
        v.person,
        user=user,
        visit=v.visit_ids() if lands else -1,
        kind=Kind.CLICK,
        cause=cause,
        source=Source.PAID,
        campaign=campaign,
        click=click_id,
        counted=counted,
        loss=loss,
        cost=p.get("cost", 0.0) if counted else 0.0,
        device=_device(p),
    )
    if not lands:
        return
    v.visit_campaign = campaign
    v.page = rec.intern(rec.pages, p.get("page", "landing"))
    yield env.timeout(p.get("load", 0))
    rec.new_segment()
    rec.emit(
        env.now,
        v.person,
        user=user,
        visit=v.visit_ids(),
        kind=Kind.PAGEVIEW,
        cause=cause,
        source=Source.PAID,
        campaign=campaign,
        page=v.page,
        click=click_id,
        tracked=tracked,
        loss=loss,
        device=_device(p),
    )


def _step(rec: Recorder, env: simpy.Environment, v: Visitors, step: Step) -> Generator:
    """Carry out one step at the current simulated time, for every copy."""
    p, do = step.params, step.do
    if do == "click":
        yield from _click(rec, env, v, step)
    elif do == "impression":
        counted = not p.get("invalid", False)
        rec.emit(
            env.now,
            v.person,
            user=v.user(rec, p.get("device", "default")),
            kind=Kind.IMPRESSION,
            cause=Cause.AD_SERVED,
            campaign=rec.intern(rec.campaigns, p["campaign"]),
            counted=counted,
            cost=p.get("cost", 0.0) if counted else 0.0,
            device=_device(p),
        )
    elif do in ("view", "tab", "reload"):
        if do != "reload":
            v.page = rec.intern(rec.pages, p.get("page", "page"))
        cause = {"view": Cause.NAVIGATION, "tab": Cause.TAB, "reload": Cause.RELOAD}[do]
        _hit(rec, env, v, p, kind=Kind.PAGEVIEW, cause=cause, page=v.page)
    elif do == "return":
        cause, source = _RETURN[p["via"]]
        v.visit = rec.take("visit", len(v.person))
        v.visit_campaign = -1
        v.page = rec.intern(rec.pages, p.get("page", "landing"))
        _hit(rec, env, v, p, kind=Kind.PAGEVIEW, cause=cause, source=source, page=v.page)
    elif do == "convert":
        _hit(
            rec,
            env,
            v,
            p,
            kind=Kind.CONVERSION,
            cause=Cause.CONVERSION,
            page=v.page,
            click=v.last_click,
            value=p.get("value", 0.0),
            units=p.get("units", 1),
        )
    elif do == "leave":
        v.visit = None
    elif do == "clear_cookies":
        device = p.get("device", "default")
        v.cookie_gen[device] = v.cookie_gen.get(device, 0) + 1
    # "bookmark" leaves no event: the ground truth is the later return via the bookmark.


def visitors(env: simpy.Environment, rec: Recorder, v: Visitors) -> Generator:
    """One scripted journey's copies: wait for each step's time, then carry it out."""
    rec.new_segment()
    for step in v.journey.steps:
        wait = step.t_ms - rec.base_ms - env.now
        if wait > 0:
            yield env.timeout(wait)
            rec.new_segment()
        yield from _step(rec, env, v, step)


def _people(journeys: tuple[Journey, ...]) -> tuple[list[np.ndarray], np.ndarray]:
    """Person ids of each journey's copies and each person's first journey.

    Journeys naming the same person share it: copy ``i`` of each is the same human. Ids are given
    journey by journey, copy by copy, to people not seen before.
    """
    known: dict[str, np.ndarray] = {}
    persons, first_journey, total = [], [], 0
    for journey in journeys:
        have = known.get(journey.person, np.zeros(0, dtype=np.int64))
        extra = max(0, journey.count - len(have))
        if extra:
            have = np.concatenate([have, total + np.arange(extra, dtype=np.int64)])
            known[journey.person] = have
            first_journey.append(np.full(extra, journey.index, dtype=np.int32))
            total += extra
        persons.append(have[: journey.count])
    journey_of = np.concatenate(first_journey) if first_journey else np.zeros(0, dtype=np.int32)
    return persons, journey_of


def simulate_journeys(scenario: Scenario, seed: int) -> EventLog:
    """Run the scenario's scripted journeys and return their event log, sorted by (user, ts)."""
    base = min((j.start_ms for j in scenario.journeys), default=scenario.start_ms)
    base = min(base, *(s.t_ms for j in scenario.journeys for s in j.steps))
    persons, journey_of = _people(scenario.journeys)
    rec = Recorder(base, journey_of)
    env = simpy.Environment()
    for journey, person in zip(scenario.journeys, persons, strict=True):
        env.process(visitors(env, rec, Visitors(journey, person, np.full(len(person), -1, dtype=np.int64))))
    env.run()
    return rec.to_log({"seed": seed, "people": len(journey_of), "visits": rec.ids["visit"].next})

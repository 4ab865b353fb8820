"""The scripted-journey engine as it was: one SimPy process per visitor copy (the plain reference).

Kept verbatim from ``simulator/engine/simulate.py`` before copies shared one process, so
``test_journeys.py`` can check that the fast engine gives exactly the same log. It is slow (a process,
a dict and a row of Python objects per copy and event) and obviously right.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulator.log.events import COLUMNS, Cause, Device, EventLog, Kind, Loss, Source
from simulator.scenario.loader import Journey, Scenario, Step

_RETURN = {
    "bookmark": (Cause.BOOKMARK, Source.BOOKMARK),
    "direct": (Cause.DIRECT, Source.DIRECT),
    "organic": (Cause.ORGANIC, Source.ORGANIC),
    "referral": (Cause.REFERRAL, Source.REFERRAL),
    "email": (Cause.EMAIL, Source.EMAIL),
}
_LOSS = {loss.label: loss for loss in Loss}
_DEVICES = {d.label: d for d in Device}


def _device(params: dict[str, Any]) -> Device:
    """A scripted step's device as a Device code: its name if it is one ("mobile"), else UNKNOWN."""
    return _DEVICES.get(params.get("device", ""), Device.UNKNOWN)


@dataclass
class Recorder:
    """Collects rows in emission order and interns campaign and page names."""

    base_ms: int
    rows: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in COLUMNS})
    campaigns: dict[str, int] = field(default_factory=dict)
    pages: dict[str, int] = field(default_factory=dict)
    cookies: dict[tuple[int, str, int], int] = field(default_factory=dict)
    journey_of: dict[int, int] = field(default_factory=dict)
    n_clicks: int = 0
    n_visits: int = 0

    def emit(self, now: float, **row: Any) -> None:
        row.setdefault("ts", self.base_ms + int(now))
        row["journey"] = self.journey_of[row["person"]]
        for name, col in self.rows.items():
            col.append(row[name] if name in row else _DEFAULTS[name])

    def intern(self, table: dict[str, int], name: str | None) -> int:
        return -1 if name is None else table.setdefault(name, len(table))

    def to_log(self, meta: dict[str, object]) -> EventLog:
        return EventLog.from_rows(self.rows, tuple(self.campaigns), tuple(self.pages), meta)


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


@dataclass
class Visitor:
    """A person's state as their journey unfolds (ground truth)."""

    journey: Journey
    person: int
    last_click: int = -1  # the latest counted click: a conversion is attributed to it (last click)
    cookie_gen: dict[str, int] = field(default_factory=dict)
    visit: int = -1  # open visit id, -1 when none
    visit_campaign: int = -1
    page: int = -1

    def user(self, rec: Recorder, device: str) -> int:
        key = (self.person, device, self.cookie_gen.get(device, 0))
        return rec.cookies.setdefault(key, len(rec.cookies))

    def tag(self, params: dict[str, Any], default_loss: Loss) -> tuple[bool, Loss]:
        """Whether a hit is tracked, and why not."""
        if self.journey.tracking != "ok":
            return False, _LOSS[self.journey.tracking]
        if params.get("tag", True):
            return True, Loss.NONE
        return False, _LOSS[params["loss"]] if "loss" in params else default_loss


def _hit(rec: Recorder, env: simpy.Environment, v: Visitor, p: dict[str, Any], **row: Any) -> None:
    tracked, loss = v.tag(p, row.pop("default_loss", Loss.TAG_MISSING))
    user = v.user(rec, p.get("device", "default"))
    rec.emit(
        env.now,
        user=user,
        person=v.person,
        visit=v.visit,
        tracked=tracked,
        loss=loss,
        device=_device(p),
        **row,
    )


def _click(rec: Recorder, env: simpy.Environment, v: Visitor, step: Step) -> Generator:
    p = step.params
    campaign = rec.intern(rec.campaigns, p["campaign"])
    if v.visit < 0:
        cause = Cause.AD_CLICK
    elif p.get("tab", False):
        cause = Cause.NEW_TAB_CLICK
    else:
        cause = Cause.REPEAT_CLICK if campaign == v.visit_campaign else Cause.SECOND_AD
    lands = p.get("lands", True)
    tracked, loss = v.tag(p, Loss.LEFT_BEFORE_TAG) if lands else (False, Loss.NOT_REACHED)
    if lands and v.visit < 0:
        v.visit, rec.n_visits = rec.n_visits, rec.n_visits + 1
    click_id, rec.n_clicks = rec.n_clicks, rec.n_clicks + 1
    counted = not p.get("invalid", False)
    if counted:
        v.last_click = click_id
    user = v.user(rec, p.get("device", "default"))
    rec.emit(
        env.now,
        user=user,
        person=v.person,
        visit=v.visit if lands else -1,
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
    rec.emit(
        env.now,
        user=user,
        person=v.person,
        visit=v.visit,
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


def _step(rec: Recorder, env: simpy.Environment, v: Visitor, step: Step) -> Generator:
    """Carry out one step at the current simulated time."""
    p, do = step.params, step.do
    if do == "click":
        yield from _click(rec, env, v, step)
    elif do == "impression":
        counted = not p.get("invalid", False)
        rec.emit(
            env.now,
            user=v.user(rec, p.get("device", "default")),
            person=v.person,
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
        v.visit, rec.n_visits = rec.n_visits, rec.n_visits + 1
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
        v.visit = -1
    elif do == "clear_cookies":
        device = p.get("device", "default")
        v.cookie_gen[device] = v.cookie_gen.get(device, 0) + 1
    # "bookmark" leaves no event: the ground truth is the later return via the bookmark.


def visitor(env: simpy.Environment, rec: Recorder, v: Visitor) -> Generator:
    """One scripted journey: wait for each step's time, then carry it out."""
    for step in v.journey.steps:
        wait = step.t_ms - rec.base_ms - env.now
        if wait > 0:
            yield env.timeout(wait)
        yield from _step(rec, env, v, step)


def _simulate_journeys(scenario: Scenario, seed: int) -> EventLog:
    """Run the scenario's scripted journeys and return their event log, sorted by (user, ts)."""
    base = min((j.start_ms for j in scenario.journeys), default=scenario.start_ms)
    base = min(base, *(s.t_ms for j in scenario.journeys for s in j.steps))
    rec = Recorder(base)
    env = simpy.Environment()
    people: dict[tuple[str, int], int] = {}
    for journey in scenario.journeys:
        for copy in range(journey.count):
            person = people.setdefault((journey.person, copy), len(people))
            rec.journey_of.setdefault(person, journey.index)
            env.process(visitor(env, rec, Visitor(journey, person)))
    env.run()
    return rec.to_log({"seed": seed, "people": len(people), "visits": rec.n_visits})

"""Helpers for population tests: a quiet baseline scenario (every mechanism off) and a TOML writer."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from simulator import loads_scenario
from simulator.log.events import CLICK_CAUSES, EventLog, Kind, Loss
from simulator.scenario.loader import Scenario

#: Every mechanism off: each person clicks the one ad once, lands, is tracked, views one page, leaves.
QUIET: dict[str, Any] = {
    "scenario": {"name": "quiet", "seed": 7, "start": "2024-05-06T00:00:00", "timezone": "UTC"},
    "population": {
        "visitors": 400,
        "days": 3,
        "multi_device": 0,
        "clear_cookies": 0,
        "itp": 0,
        "unpaid": {"organic": 1},
    },
    "campaign": [{"name": "search", "share": 1.0, "ctr": 0.5, "cpc": 1.0, "invalid_rate": 0}],
    "behavior": {
        "pages": 1,
        "think": "40s",
        "reload": 0,
        "new_tab": 0,
        "repeat_click": 0,
        "new_tab_click": 0,
        "second_ad": 0,
        "idle": 0,
        "patience": "1h",
        "bookmark": 0,
        "returns": 0,
        "convert": 0,
    },
    "tracking": {
        "page_load": "1s",
        "tag_load": "200ms",
        "not_reached": 0,
        "blockers": 0,
        "consent": 1,
        "redirect_drop": 0,
        "tag_missing": 0,
    },
}


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)


def to_toml(doc: dict[str, Any]) -> str:
    """TOML text of a scenario dict: tables for dicts, arrays of tables for lists of dicts."""
    lines = []
    for section, body in doc.items():
        items = body if isinstance(body, list) else [body]
        for item in items:
            lines.append(f"[[{section}]]" if isinstance(body, list) else f"[{section}]")
            lines += [f"{k} = {_value(v)}" for k, v in item.items()]
            lines.append("")
    return "\n".join(lines)


def scenario(**changes: dict[str, Any] | list) -> Scenario:
    """The quiet scenario with some sections' keys changed (``behavior={"idle": 1}``)."""
    doc = copy.deepcopy(QUIET)
    for section, change in changes.items():
        if isinstance(change, list):
            doc[section] = change
        else:
            doc.setdefault(section, {}).update(change)
    return loads_scenario(to_toml(doc), "quiet.toml")


def check_contract(log: EventLog) -> None:
    """Assert the EventLog contract the bridge relies on (docs/design.md, EventLog)."""
    kind, click, tracked, loss, counted = log.kind, log.click, log.tracked, log.loss, log.counted
    user, ts = log.user, log.ts
    assert np.all((np.diff(user) > 0) | ((np.diff(user) == 0) & (np.diff(ts) >= 0))), (
        "not sorted by (user, ts)"
    )
    clicks = np.flatnonzero(kind == Kind.CLICK)
    assert len(np.unique(click[clicks])) == len(clicks), "click ids repeat"
    landing = (kind == Kind.PAGEVIEW) & (click >= 0)
    tracked_landing = landing & tracked
    ids, n = np.unique(click[tracked_landing], return_counts=True)
    per_click = dict(zip(ids.tolist(), n.tolist(), strict=True))
    cause_of = dict(zip(click[tracked_landing].tolist(), log.cause[tracked_landing].tolist(), strict=True))
    for i in clicks:
        cid = int(click[i])
        if counted[i] and loss[i] == Loss.NONE:
            assert per_click.get(cid) == 1, f"click {cid} has {per_click.get(cid, 0)} tracked landings"
            assert cause_of[cid] == log.cause[i], f"click {cid}: landing cause differs"
        elif loss[i] != Loss.NONE:
            assert cid not in per_click, f"click {cid} lost ({Loss(loss[i]).label}) but has a tracked landing"
        if not counted[i]:
            assert log.cost[i] == 0, "an uncounted click costs money"
    assert set(np.unique(log.cause[landing]).tolist()) <= {c.value for c in CLICK_CAUSES}
    assert np.all(log.source[landing] == 1), "an ad landing whose source is not PAID"  # Source.PAID
    assert np.all(log.visit[kind == Kind.PAGEVIEW] >= 0), "a page view outside a visit"
    hits = (kind == Kind.PAGEVIEW) | (kind == Kind.CONVERSION)
    assert np.all(tracked[hits] == (loss[hits] == Loss.NONE)), "tracked and loss disagree"

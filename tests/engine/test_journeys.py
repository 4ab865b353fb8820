"""Scripted journeys: one process for all copies gives exactly the log of one process per copy."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine.journeys import simulate_journeys
from simulator.engine.simulate import simulate
from simulator.log.events import COLUMNS, Kind
from simulator.scenario.loader import scenario_from_dict
from tests.engine._journeys_reference import _simulate_journeys as reference

_AFTER = ["0s", "0s", "1s", "30s", "31m", "1d"]
_DEVICES = ["desktop", "mobile", "tablet"]


def _same(fast, slow) -> None:
    assert fast.campaigns == slow.campaigns
    assert fast.pages == slow.pages
    assert fast.meta == slow.meta
    for name in COLUMNS:
        assert fast.columns[name].dtype == slow.columns[name].dtype, name
        assert np.array_equal(fast.columns[name], slow.columns[name]), name


@st.composite
def _steps(draw: Any) -> list[dict[str, Any]]:
    """A valid step list: what may come next depends on whether a visit is open and a bookmark set."""
    steps: list[dict[str, Any]] = []
    visiting = bookmarked = False
    for _ in range(draw(st.integers(1, 9))):
        options = ["impression", "click", "click", "clear_cookies", "return"]
        if visiting:
            options += ["view", "reload", "tab", "convert", "bookmark", "leave"]
        do = draw(st.sampled_from(options))
        step: dict[str, Any] = {"do": do}
        if steps:
            step["after"] = draw(st.sampled_from(_AFTER))
        if do in ("impression", "click"):
            step["campaign"] = draw(st.sampled_from(["brand", "generic"]))
            if draw(st.booleans()):
                step["invalid"] = True
        if do == "click":
            step.update(
                draw(st.fixed_dictionaries({}, optional={"tab": st.booleans(), "lands": st.booleans()}))
            )
            step["load"] = draw(st.sampled_from(["0s", "2s"]))
            step["cost"] = 0.5
        if do in ("view", "tab") and draw(st.booleans()):
            step["page"] = draw(st.sampled_from(["p1", "p2"]))
        if do == "return":
            step["via"] = draw(st.sampled_from(["bookmark", "direct"] if bookmarked else ["direct", "email"]))
        if do in ("view", "convert", "click", "return") and draw(st.integers(0, 4)) == 0:
            step.update(tag=False, loss="blocked")
        if do not in {"leave", "bookmark"} and draw(st.booleans()):
            step["device"] = draw(st.sampled_from(_DEVICES))
        visiting = (
            visiting or do == "return" or (do == "click" and step.get("lands", True))
        ) and do != "leave"
        bookmarked |= do == "bookmark"
        steps.append(step)
    return steps


@st.composite
def _scenarios(draw: Any) -> dict[str, Any]:
    journeys = []
    for i in range(draw(st.integers(1, 4))):
        journey = {"name": f"j{i}", "count": draw(st.integers(1, 4)), "steps": draw(_steps())}
        if draw(st.booleans()):
            journey["person"] = draw(st.sampled_from(["alice", "bob"]))  # shared people across journeys
        if draw(st.booleans()):
            journey["start"] = draw(st.sampled_from(["2024-05-01T09:00:00", "2024-05-01T09:00:01"]))
        if draw(st.integers(0, 5)) == 0:
            journey["tracking"] = "no_consent"
        journeys.append(journey)
    return {
        "scenario": {"name": "random", "start": "2024-05-01T09:00:00", "timezone": "Europe/Berlin"},
        "sessions": {"definitions": ["ga4"]},
        "journey": journeys,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenarios())
def test_copies_in_one_process_give_the_log_of_one_process_each(doc):
    """Random journeys (shared people, same-time steps, devices, cookie clearing, tabs, returns,
    conversions, clicks that never land): the same rows, ids, order and metadata as the reference."""
    sc = scenario_from_dict(doc)
    _same(simulate_journeys(sc, 0), reference(sc, 0))


def test_new_cookies_of_some_copies_only_are_numbered_by_copy():
    """Found by the property test: journeys j0 and j2 share the person "alice", so only j2's second
    copy needs a new default-device cookie on its first step, then both copies a desktop one.

    Per-copy processes: j0 -> user 0 (alice#0), j1 -> 1, j2 copy 0 reuses 0 twice and takes 2
    (desktop), j2 copy 1 takes 3 (default, twice) and 4 (desktop).
    """
    imp = {"do": "impression", "campaign": "brand"}
    doc = {
        "scenario": {"name": "shared", "start": "2024-05-01T09:00:00", "timezone": "Europe/Berlin"},
        "sessions": {"definitions": ["ga4"]},
        "journey": [
            {"name": "j0", "count": 1, "person": "alice", "steps": [imp]},
            {"name": "j1", "count": 1, "steps": [imp]},
            {
                "name": "j2",
                "count": 2,
                "person": "alice",
                "steps": [imp, {**imp, "after": "0s"}, {**imp, "after": "0s", "device": "desktop"}],
            },
        ],
    }
    sc = scenario_from_dict(doc)
    log = simulate_journeys(sc, 0)
    assert log.columns["user"].tolist() == [0, 0, 0, 1, 2, 3, 3, 4]
    assert log.columns["person"].tolist() == [0, 0, 0, 1, 0, 2, 2, 2]
    assert log.columns["journey"].tolist() == [0, 0, 0, 1, 0, 2, 2, 2]  # a person's first journey
    _same(log, reference(sc, 0))


def test_identical_copies_get_ids_copy_by_copy():
    """Hand-worked: 3 copies click then return; ids are numbered as 3 separate visitors take them.

    Copy k clicks (click k, visit k, user k) at 09:00 and returns at 10:00 (visit 3 + k), so each
    copy's rows are: click, landing view, return view, with users 0, 1, 2 in order.
    """
    doc = {
        "scenario": {"name": "hand", "start": "2024-05-01T09:00:00", "timezone": "UTC"},
        "sessions": {"definitions": ["ga4"]},
        "journey": [
            {
                "name": "j",
                "count": 3,
                "steps": [
                    {"do": "click", "campaign": "c"},
                    {"after": "1m", "do": "leave"},
                    {"at": "2024-05-01T10:00:00", "do": "return", "via": "direct"},
                ],
            }
        ],
    }
    log = simulate_journeys(scenario_from_dict(doc), 0)
    assert log.columns["user"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert log.columns["person"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert log.columns["kind"].tolist() == [Kind.CLICK, Kind.PAGEVIEW, Kind.PAGEVIEW] * 3
    assert log.columns["click"].tolist() == [0, 0, -1, 1, 1, -1, 2, 2, -1]
    assert log.columns["visit"].tolist() == [0, 0, 3, 1, 1, 4, 2, 2, 5]
    assert log.meta == {"seed": 0, "people": 3, "visits": 6}


def test_a_million_identical_visitors_is_one_process():
    """10^6 copies of a 4-event journey: 4 x 10^6 rows, one per copy and event, every id distinct
    (the per-copy engine took 43 s for 10^5; one process carries them all)."""
    doc = {
        "scenario": {"name": "many", "start": "2024-05-01T09:00:00", "timezone": "UTC"},
        "sessions": {"definitions": ["ga4"]},
        "journey": [
            {
                "name": "j",
                "count": 1_000_000,
                "steps": [
                    {"do": "impression", "campaign": "c"},
                    {"after": "5s", "do": "click", "campaign": "c", "load": "1s"},
                    {"after": "1m", "do": "convert", "value": 10},
                ],
            }
        ],
    }
    log = simulate(scenario_from_dict(doc))
    n = 1_000_000
    assert len(log) == 4 * n
    assert np.array_equal(np.bincount(log.columns["person"]), np.full(n, 4))
    clicks = log.columns["click"][log.columns["kind"] == Kind.CLICK]
    assert np.array_equal(np.sort(clicks), np.arange(n))
    conversions = log.columns["click"][log.columns["kind"] == Kind.CONVERSION]
    assert np.array_equal(conversions, clicks)  # each copy's conversion is credited to its own click
    assert log.columns["user"][-1] == n - 1

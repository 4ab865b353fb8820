"""Workloads from a scenario: the analytics hits the stochastic engine simulates.

``sessionlab workload --scenario FILE`` runs the scenario (its ``[population]`` and scripted
journeys) through :func:`simulator.engine.simulate.iter_chunks` and keeps what an analytics property
receives: the *tracked* page views and conversions, as ``user_id`` (the analytics user, i.e. the
cookie), ``timestamp_ms`` and ``campaign`` (the hit's campaign name, "" for none). Rows are in
arrival order -- time order, users and emission order breaking ties -- and the workload's time zone
is the scenario's property zone. Same scenario and seed => the same rows, so the same files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from simulator.engine.simulate import iter_chunks
from simulator.errors import SessionlabError
from simulator.scenario.loader import Scenario, load_scenario
from simulator.testbench.workload import Workload, _tz

__all__ = ["from_scenario"]


def _hits(
    path: Path, seed: int | None, visitors: int | None
) -> tuple[Scenario, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """The scenario; (user, ts, campaign name) of every tracked hit, chunk by chunk; people, visits."""
    scenario = load_scenario(path)
    if visitors is not None and scenario.population is None:
        raise SessionlabError(f"{path}: --visitors needs a [population] section; the scenario has none")
    users, times, camps, names = [], [], [], ("",)
    people = visits = 0
    for chunk in iter_chunks(scenario, seed, visitors=visitors):
        names = ("", *chunk.campaigns)
        hits = chunk.hits
        users.append(chunk.user[hits])
        times.append(chunk.ts[hits])
        camps.append(chunk.campaign[hits])
        people += int(chunk.meta.get("people", 0))
        visits += int(chunk.meta.get("visits", 0))
    user, ts = np.concatenate(users), np.concatenate(times)
    campaign = np.array(names)[np.concatenate(camps) + 1]
    return scenario, user.astype(np.int64), ts.astype(np.int64), campaign, people, visits


def from_scenario(
    path: str | Path,
    *,
    seed: int | None = None,
    visitors: int | None = None,
    timezone: str | None = None,
) -> Workload:
    """The tracked analytics hits of a simulated scenario, as a workload.

    Parameters
    ----------
    path
        A scenario TOML file (see "Scenario format" in README.md).
    seed
        Overrides the scenario's ``[scenario] seed``.
    visitors
        Overrides ``[population] visitors``.
    timezone
        Overrides the property's time zone (default: the scenario's ``timezone``). Timestamps do
        not move: only the zone midnight rules and the local ``timestamp`` column use.

    Returns
    -------
    Workload
        Rows in arrival (time) order; ``meta`` records the scenario, its SHA-256, seed and visitors.

    Raises
    ------
    SessionlabError
        If the scenario is invalid, ``visitors`` is given without a population, or no hit is tracked.
    """
    path = Path(path)
    if timezone is not None:
        _tz(timezone)  # an unknown zone fails before the simulation
    scenario, user, ts, campaign, people, visits = _hits(path, seed, visitors)
    if not len(ts):
        raise SessionlabError(f"{path}: the simulation tracked no analytics hits; nothing to write")
    order = np.lexsort((user, ts))  # stable: a user's same-time hits keep emission order
    n_users = len(np.unique(user))
    meta = {
        "source": "scenario",
        "scenario": scenario.name,
        "scenario_file": str(path),
        "scenario_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "seed": scenario.seed if seed is None else seed,
        "visitors": visitors if visitors is not None else getattr(scenario.population, "visitors", 0),
        "people": people,
        "visits": visits,
        "events": len(ts),
        "users": n_users,
    }
    return Workload(user[order], ts[order], campaign[order], timezone or scenario.timezone, meta)

"""``run``: scenario -> event log -> sessions per definition -> counts and bridges, as a Result."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from simulator.engine import DEFAULT_CHUNK, simulate
from simulator.events import EventLog
from simulator.explain import Bridge, clicks_to_sessions
from simulator.metrics import AD_METRICS, AdCounts, AnalyticsCounts, ad_counts, analytics_counts
from simulator.scenario import Scenario
from simulator.sessions import Columns, get_definition, sessionize_sorted

__all__ = ["SCHEMA_VERSION", "DefinitionResult", "Result", "run", "run_log"]

#: Version of the JSON the Result serialises to; bumped only when a key changes meaning.
SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class DefinitionResult:
    """Analytics numbers under one session definition."""

    name: str
    counts: AnalyticsCounts
    ratios: dict[str, float | None]
    bridge: Bridge
    split: np.ndarray  # SplitCause per tracked hit, aligned with ``Result.hits``

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self.counts), **self.ratios, "bridge": self.bridge.to_dict()}


@dataclass(frozen=True, slots=True)
class Result:
    """Everything one run produced."""

    scenario: str
    seed: int
    log: EventLog
    hits: np.ndarray
    ads: AdCounts
    definitions: dict[str, DefinitionResult]

    def metric(self, name: str, definition: str | None = None) -> float | int | None:
        """The value of a metric (see :data:`simulator.metrics.metric_names`)."""
        if name in AD_METRICS:
            return getattr(self.ads, name)
        if definition is None:
            raise ValueError(f"metric {name!r} needs a definition")
        block = self.definitions[definition]
        if name.startswith("bridge."):
            return block.bridge.term(name.removeprefix("bridge."))
        if name in block.ratios:
            return block.ratios[name]
        return getattr(block.counts, name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: stable keys, no timings, so the same inputs give the same bytes."""
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "seed": self.seed,
            "events": len(self.log),
            "ads": self.ads.to_dict(),
            "truth": {k: self.log.meta.get(k) for k in ("people", "visits")},
            "definitions": {name: d.to_dict() for name, d in self.definitions.items()},
        }


def run_log(log: EventLog, definitions: tuple[str, ...], scenario: str = "", seed: int = 0) -> Result:
    """Sessionize an event log under each definition and count everything."""
    hits = log.hits
    cols = Columns(log.user[hits], log.ts[hits], log.campaign[hits])
    ads = ad_counts(log)
    blocks = {}
    for name in definitions:
        split = sessionize_sorted(cols, get_definition(name))
        ids = np.cumsum(split != 0) - 1
        counts = analytics_counts(log, hits, ids)
        bridge = clicks_to_sessions(log, hits, split)
        blocks[name] = DefinitionResult(name, counts, counts.ratios(ads), bridge, split)
    return Result(scenario, seed, log, hits, ads, blocks)


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    visitors: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> Result:
    """Simulate ``scenario`` and evaluate every definition it compares.

    ``visitors`` overrides ``[population] visitors``; ``chunk_size`` (visitors simulated at a time)
    never changes the result.

    Examples
    --------
    >>> from simulator import load_scenario, run
    >>> result = run(load_scenario("scenarios/impressions_ctr.toml"))  # doctest: +SKIP
    >>> result.metric("ctr")  # doctest: +SKIP
    0.01
    """
    seed = scenario.seed if seed is None else seed
    log = simulate(scenario, seed, visitors=visitors, chunk_size=chunk_size)
    return run_log(log, scenario.definitions, scenario.name, seed)

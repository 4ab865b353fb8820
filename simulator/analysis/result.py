"""``run``: scenario -> event log -> sessions per definition -> counts and bridges, as a Result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from simulator.analysis.bridges import (
    AdBridge,
    Bridge,
    clicks_to_sessions,
    impressions_to_clicks,
    views_to_sessions,
)
from simulator.analysis.comparisons import Comparison, DayBridge, compare_definitions, daily_bridges
from simulator.analysis.metrics import (
    AD_METRICS,
    DEFINITION_METRICS,
    ENGAGEMENT_TIMER_MS,
    AdCounts,
    AnalyticsCounts,
    ad_counts,
    analytics_counts,
)
from simulator.engine.simulate import DEFAULT_CHUNK, simulate
from simulator.log.events import EventLog, Kind, Source
from simulator.scenario.loader import Scenario, require_scenario
from simulator.scenario.vocabulary import BRIDGE_METRICS, VIEW_BRIDGE_METRICS
from simulator.schema import check_timezone, did_you_mean
from simulator.sessions import Columns, Definition, get_definition, sessionize_sorted

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
    views_bridge: Bridge  # tracked page views -> sessions
    days: tuple[DayBridge, ...]  # ad account's clicks per its day -> property's sessions per its day
    definition: Definition | None = None  # the rules used (inline scenario definitions included)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self.counts),
            **self.ratios,
            "bridge": self.bridge.to_dict(),
            "views_bridge": self.views_bridge.to_dict(),
            "days": [d.to_dict() for d in self.days],
        }


@dataclass(frozen=True, slots=True)
class Result:
    """Everything one run produced."""

    scenario: str
    seed: int
    log: EventLog
    hits: np.ndarray
    ads: AdCounts
    definitions: dict[str, DefinitionResult]
    ad_bridge: AdBridge  # impressions -> clicks, with the per-campaign table
    comparisons: tuple[Comparison, ...]  # the first definition -> each other definition
    timezone: str = "UTC"  # the analytics property's
    ad_timezone: str = "UTC"  # the ad account's
    #: Events of a run aggregated without its rows (``simulator.spark.run``): then ``log`` has no rows,
    #: ``hits`` and each definition's ``split`` are empty, and per-row views (breakdowns, sessions.csv)
    #: are not available. None when ``log`` holds every row.
    events: int | None = None
    #: GA4's engaged-session timer (ms) the counts used: segments and breakdowns count with it too
    engagement_timer: int = ENGAGEMENT_TIMER_MS

    @property
    def n_events(self) -> int:
        """Events in the run (``len(log)``, or the aggregated count when the rows were not kept)."""
        return len(self.log) if self.events is None else self.events

    @property
    def has_rows(self) -> bool:
        """Whether ``log``, ``hits`` and the splits hold the run's rows (False for aggregated runs)."""
        return self.events is None

    def definition_specs(self) -> tuple[Definition, ...]:
        """The definitions evaluated, for re-running them (e.g. on a subset of the log)."""
        return tuple(d.definition or get_definition(d.name) for d in self.definitions.values())

    def metric(self, name: str, definition: str | None = None) -> float | int | None:
        """The value of a metric (see :data:`simulator.analysis.metrics.metric_names`).

        Raises
        ------
        TypeError
            If ``name`` or ``definition`` is not a string.
        ValueError
            If the metric is unknown, needs a definition and has none, or the definition was not run
            (each message lists what is allowed, with a "did you mean").
        """
        if not isinstance(name, str):
            raise TypeError(f"metric name must be a str such as 'sessions', got {type(name).__name__}")
        if definition is not None and not isinstance(definition, str):
            raise TypeError(f"definition must be a str such as 'ga4', got {type(definition).__name__}")
        if name in AD_METRICS:
            return getattr(self.ads, name)
        counts = {f.name for f in fields(AnalyticsCounts)}
        known = (
            *DEFINITION_METRICS,
            *sorted(counts - set(DEFINITION_METRICS)),
            *BRIDGE_METRICS,
            *VIEW_BRIDGE_METRICS,
        )
        if name not in known:
            hint = did_you_mean(name, (*AD_METRICS, *known))
            raise ValueError(
                f"unknown metric {name!r}; ad metrics: {', '.join(AD_METRICS)}; per definition: "
                f"{', '.join(DEFINITION_METRICS)}, bridge.<term>, views_bridge.<term>"
                + (f"; {hint}" if hint else "")
            )
        if definition is None:
            raise ValueError(f"metric {name!r} needs a definition: one of {', '.join(self.definitions)}")
        if definition not in self.definitions:
            hint = did_you_mean(definition, tuple(self.definitions))
            raise ValueError(
                f"definition {definition!r} was not run; this result has {', '.join(self.definitions)}"
                + (f"; {hint}" if hint else "")
            )
        block = self.definitions[definition]
        if name.startswith("bridge."):
            return block.bridge.term(name.removeprefix("bridge."))
        if name.startswith("views_bridge."):
            return block.views_bridge.term(name.removeprefix("views_bridge."))
        if name in block.ratios:
            return block.ratios[name]
        return getattr(block.counts, name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: stable keys, no timings, so the same inputs give the same bytes."""
        return {
            "schema_version": SCHEMA_VERSION,
            "scenario": self.scenario,
            "seed": self.seed,
            "events": self.n_events,
            "ads": self.ads.to_dict(),
            "truth": {k: self.log.meta.get(k) for k in ("people", "visits")},
            "definitions": {name: d.to_dict() for name, d in self.definitions.items()},
            "timezones": {"property": self.timezone, "ad_account": self.ad_timezone},
            "impressions_bridge": self.ad_bridge.to_dict(),
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def run_log(
    log: EventLog,
    definitions: tuple[str | Definition, ...],
    scenario: str = "",
    seed: int = 0,
    *,
    timezone: str = "UTC",
    ad_timezone: str | None = None,
    engagement_timer: int = ENGAGEMENT_TIMER_MS,
) -> Result:
    """Sessionize an event log under each definition, count everything and build every bridge.

    Parameters
    ----------
    log
        The event log.
    definitions
        Registered definition names or ad-hoc :class:`~simulator.sessions.Definition` records.
    scenario, seed
        Recorded in the result.
    timezone, ad_timezone
        The analytics property's and the ad account's time zones (report days of the day-by-day
        bridges); ``ad_timezone`` defaults to ``timezone``.
    engagement_timer
        GA4's engaged-session timer in ms (``engaged_sessions``; default 10 s).
    """
    if not isinstance(log, EventLog):
        raise TypeError(f"log must be an EventLog (from simulate), got {type(log).__name__}")
    if isinstance(definitions, str | Definition) or not isinstance(definitions, tuple | list):
        raise TypeError(
            f"definitions must be a tuple of names or Definitions, such as ('ga4',), got {definitions!r:.60}"
        )
    check_timezone(timezone)
    ad_timezone = ad_timezone or timezone
    check_timezone(ad_timezone)
    hits = log.hits
    resolved_all = [d if isinstance(d, Definition) else get_definition(d) for d in definitions]
    # session_events rules read event names: a simulated hit is named by its kind (pageview, conversion)
    needs_event = any(getattr(r, "needs", None) == "event" for d in resolved_all for r in d.rules)
    names = np.array([k.name.lower() for k in Kind], dtype=object)
    event = names[log.columns["kind"][hits]] if needs_event else None
    cols = Columns(log.user[hits], log.ts[hits], log.campaign[hits], event, referral=_referrals(log, hits))
    ads = ad_counts(log)
    blocks = {}
    for definition in definitions:
        resolved = definition if isinstance(definition, Definition) else get_definition(definition)
        split = sessionize_sorted(cols, resolved, timezone)
        ids = np.cumsum(split != 0) - 1
        counts = analytics_counts(log, hits, ids, engagement_timer)
        blocks[resolved.name] = DefinitionResult(
            resolved.name,
            counts,
            counts.ratios(ads),
            clicks_to_sessions(log, hits, split),
            split,
            views_to_sessions(log, hits, split),
            daily_bridges(log, hits, split, timezone, ad_timezone),
            resolved,
        )
    names = list(blocks)
    comparisons = tuple(
        compare_definitions(blocks[names[0]].split, blocks[b].split, names[0], b) for b in names[1:]
    )
    return Result(
        scenario,
        seed,
        log,
        hits,
        ads,
        blocks,
        impressions_to_clicks(log),
        comparisons,
        timezone,
        ad_timezone,
        engagement_timer=engagement_timer,
    )


def _referrals(log: EventLog, hits: np.ndarray) -> np.ndarray:
    """Per hit, a code of the site whose link brought it (-1 none): the hit's cause where analytics sees
    a referral source (a referral arrival, the return from a payment provider or another domain)."""
    cause = log.cause[hits].astype(np.int64)
    return np.where(log.source[hits] == Source.REFERRAL, cause, -1)


def run(
    scenario: Scenario,
    seed: int | None = None,
    *,
    visitors: int | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
    on_progress: Callable[[int], None] | None = None,
) -> Result:
    """Simulate ``scenario`` and evaluate every definition it compares.

    ``visitors`` overrides ``[population] visitors``; ``chunk_size`` (visitors simulated at a time)
    and ``workers`` (processes simulating blocks of visitors) never change the result. ``on_progress``
    is called with the visitors simulated after each chunk (see :func:`simulator.engine.simulate.simulate`).

    Examples
    --------
    >>> from simulator import load_scenario, run
    >>> result = run(load_scenario("scenarios/impressions_ctr.toml"))  # doctest: +SKIP
    >>> result.metric("ctr")  # doctest: +SKIP
    0.01
    """
    require_scenario(scenario, "run")
    seed = scenario.seed if seed is None else seed
    log = simulate(
        scenario, seed, visitors=visitors, chunk_size=chunk_size, workers=workers, on_progress=on_progress
    )
    return run_log(
        log,
        scenario.sessions or scenario.definitions,
        scenario.name,
        seed,
        timezone=scenario.timezone,
        ad_timezone=scenario.ad_timezone,
        engagement_timer=engagement_timer_of(scenario),
    )


def engagement_timer_of(scenario: Scenario) -> int:
    """The scenario's engaged-session timer in ms (``[tracking] engagement_timer``, default 10 s)."""
    return scenario.tracking.engagement_timer if scenario.tracking is not None else ENGAGEMENT_TIMER_MS

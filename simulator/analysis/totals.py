"""The additive part of a :class:`~simulator.analysis.result.Result`: run piece by piece, then merged.

A simulated log splits into blocks that share no user, person, visit or click (each block numbers its
own; see :mod:`simulator.engine.visits`), so every session, every click's landing and every
conversion's attributed click lies inside one block. Therefore the counts, the ratios' numerators and
denominators, and every bridge term (clicks -> sessions, views -> sessions, impressions -> clicks
with its campaign table, definition comparisons, day-by-day bridges) are sums over blocks of the
same numbers computed on each block alone. :class:`Totals` holds those sums; :func:`totals_of` takes
them from one block's ``Result`` and :meth:`Totals.merge` adds two (in any order and grouping: it is
what Spark's ``treeReduce`` does in :mod:`simulator.spark.run`). :meth:`Totals.result` rebuilds a
``Result`` without rows (``Result.has_rows`` is False).

Exactness: integer counts and bridge terms are exact. Float totals (cost, value, sales) are kept as
the list of per-block sums and added with :func:`math.fsum` (correctly rounded, so independent of the
merge order and of the number of Spark partitions); they equal the one-process run's numpy sums to
within float rounding (the JSON report rounds to 9 decimals).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from simulator.analysis.bridges import (
    VIEW_VOCABULARY,
    VOCABULARY,
    AdBridge,
    Bridge,
    ad_bridge,
    make_bridge,
)
from simulator.analysis.comparisons import DAY_VOCABULARY, Comparison, DayBridge, compare_vocabulary
from simulator.analysis.metrics import AdCounts, AnalyticsCounts
from simulator.analysis.result import DefinitionResult, Result, engagement_timer_of, run_log
from simulator.engine.simulate import Setup
from simulator.engine.visits import Ids, simulate_block
from simulator.log.events import COLUMNS, EventLog
from simulator.scenario.loader import Scenario
from simulator.sessions import Definition, get_definition

__all__ = ["Totals", "block_totals", "definitions_of", "journey_totals", "totals_of"]

_COUNT_FIELDS = (
    "views",
    "sessions",
    "users",
    "conversions",
    "units",
    "converting_sessions",
    "converting_users",
    "engaged_sessions",
)


@dataclass
class Totals:
    """Sums over blocks: integers in ``ints`` (tuple keys), float parts in ``floats`` (lists of sums)."""

    ints: Counter = field(default_factory=Counter)
    floats: dict[tuple, list[float]] = field(default_factory=dict)

    def add_int(self, key: tuple, value: int) -> None:
        if value:
            self.ints[key] += int(value)

    def add_float(self, key: tuple, value: float) -> None:
        self.floats.setdefault(key, []).append(float(value))

    def merge(self, other: Totals) -> Totals:
        """The sum of two totals (a new object; neither input changes)."""
        out = Totals(Counter(self.ints), {k: list(v) for k, v in self.floats.items()})
        out.ints.update(other.ints)
        for key, values in other.floats.items():
            out.floats.setdefault(key, []).extend(values)
        return out

    def _int(self, *key: object) -> int:
        return int(self.ints.get(key, 0))

    def _float(self, *key: object) -> float:
        return math.fsum(self.floats.get(key, ()))

    def _bridge(self, prefix: tuple, vocabulary: dict[str, str]) -> Bridge:
        deltas = {
            k[len(prefix) + 1]: v for k, v in self.ints.items() if k[: len(prefix) + 1] == (*prefix, "term")
        }
        return make_bridge(self._int(*prefix, "start"), deltas, self._int(*prefix, "end"), vocabulary)

    def result(
        self,
        scenario: str,
        seed: int,
        definitions: tuple[Definition, ...],
        campaigns: tuple[str, ...],
        *,
        timezone: str = "UTC",
        ad_timezone: str = "UTC",
    ) -> Result:
        """The :class:`Result` these totals describe, without rows (``has_rows`` is False)."""
        ads = AdCounts(
            self._int("ads", "impressions"),
            self._int("ads", "clicks"),
            self._float("ads", "cost"),
            self._float("ads", "sales_7d"),
            self._float("ads", "sales_14d"),
        )
        blocks = {}
        for d in definitions:
            counts = AnalyticsCounts(
                **{f: self._int("def", d.name, f) for f in _COUNT_FIELDS[:4]},
                units=self._int("def", d.name, "units"),
                value=self._float("def", d.name, "value"),
                converting_sessions=self._int("def", d.name, "converting_sessions"),
                converting_users=self._int("def", d.name, "converting_users"),
                engaged_sessions=self._int("def", d.name, "engaged_sessions"),
            )
            days = sorted({k[3] for k in self.ints if k[:3] == ("day", d.name, "seen")})
            day_bridges = tuple(
                DayBridge(dt.date.fromordinal(day), self._bridge(("day", d.name, day), DAY_VOCABULARY))
                for day in days
            )
            blocks[d.name] = DefinitionResult(
                d.name,
                counts,
                counts.ratios(ads),
                self._bridge(("bridge", d.name), VOCABULARY),
                np.zeros(0, dtype=np.int8),
                self._bridge(("views", d.name), VIEW_VOCABULARY),
                day_bridges,
                d,
            )
        names = [d.name for d in definitions]
        comparisons = tuple(
            Comparison(names[0], b, self._bridge(("compare", b), compare_vocabulary())) for b in names[1:]
        )
        empty = {name: np.zeros(0, dtype=dtype) for name, dtype in COLUMNS.items()}
        meta = {"seed": seed, "people": self._int("truth", "people"), "visits": self._int("truth", "visits")}
        log = EventLog(empty, campaigns, (), meta)
        return Result(
            scenario,
            seed,
            log,
            np.zeros(0, dtype=np.int64),
            ads,
            blocks,
            self._ad_bridge(campaigns),
            comparisons,
            timezone,
            ad_timezone,
            events=self._int("events"),
        )

    def _ad_bridge(self, campaigns: tuple[str, ...]) -> AdBridge:
        n = len(campaigns)
        imp = np.array([self._int("campaign", c, "impressions") for c in range(n + 1)], dtype=np.int64)
        raw = np.array([self._int("campaign", c, "raw") for c in range(n + 1)], dtype=np.int64)
        valid = np.array([self._int("campaign", c, "valid") for c in range(n + 1)], dtype=np.int64)
        cost = [self._float("campaign", c, "cost") for c in range(n + 1)]
        return ad_bridge([*campaigns, "(none)"], imp, raw, valid, cost)


def _add_bridge(t: Totals, prefix: tuple, bridge: Bridge) -> None:
    t.add_int((*prefix, "start"), bridge.start)
    t.add_int((*prefix, "end"), bridge.end)
    for term in bridge.terms:
        t.add_int((*prefix, "term", term.cause), term.delta)


def totals_of(result: Result) -> Totals:
    """The additive numbers of one block's (or one whole log's) ``Result``."""
    if not result.has_rows:
        raise ValueError("totals_of needs a result with its rows")
    t = Totals()
    log = result.log
    t.add_int(("events",), len(log))
    for k in ("people", "visits"):
        t.add_int(("truth", k), int(log.meta.get(k, 0) or 0))
    t.add_int(("ads", "impressions"), result.ads.impressions)
    t.add_int(("ads", "clicks"), result.ads.clicks)
    for k in ("cost", "sales_7d", "sales_14d"):
        t.add_float(("ads", k), getattr(result.ads, k))
    codes = {name: i for i, name in enumerate(log.campaigns)}
    for row in result.ad_bridge.campaigns:
        c = codes.get(row.campaign, len(log.campaigns)) if row.campaign != "(none)" else len(log.campaigns)
        t.add_int(("campaign", c, "impressions"), row.impressions)
        t.add_int(("campaign", c, "raw"), row.clicks + row.invalid_clicks)
        t.add_int(("campaign", c, "valid"), row.clicks)
        t.add_float(("campaign", c, "cost"), row.cost)
    for name, block in result.definitions.items():
        for f in _COUNT_FIELDS:
            t.add_int(("def", name, f), getattr(block.counts, f))
        t.add_float(("def", name, "value"), block.counts.value)
        _add_bridge(t, ("bridge", name), block.bridge)
        _add_bridge(t, ("views", name), block.views_bridge)
        for day in block.days:
            ordinal = day.day.toordinal()
            t.ints[("day", name, "seen", ordinal)] += 1  # the day exists even if every number on it is 0
            _add_bridge(t, ("day", name, ordinal), day.bridge)
    for comp in result.comparisons:
        _add_bridge(t, ("compare", comp.b), comp.bridge)
    return t


def definitions_of(scenario: Scenario) -> tuple[Definition, ...]:
    """The definitions a run of ``scenario`` evaluates, resolved (as :func:`~.result.run` does)."""
    return tuple(
        d if isinstance(d, Definition) else get_definition(d)
        for d in (scenario.sessions or scenario.definitions)
    )


def block_totals(s: Setup, block: int, definitions: tuple[Definition, ...]) -> Totals:
    """Simulate one block of visitors (ids from 0: counts do not depend on them) and total it."""
    used = Ids()
    cols, people = simulate_block(s.plan, block, used)
    log = s.block_log(cols, {"people": people, "visits": used.visit})
    sc = s.plan.scenario
    timer = engagement_timer_of(sc)
    return totals_of(
        run_log(log, definitions, timezone=sc.timezone, ad_timezone=sc.ad_timezone, engagement_timer=timer)
    )


def journey_totals(s: Setup, scenario: Scenario, definitions: tuple[Definition, ...]) -> Totals:
    """The totals of the scripted journeys (the run's first chunk), or empty totals without any."""
    if s.journeys is None:
        return Totals()
    return totals_of(
        run_log(
            s.journeys,
            definitions,
            timezone=scenario.timezone,
            ad_timezone=scenario.ad_timezone,
            engagement_timer=engagement_timer_of(scenario),
        )
    )

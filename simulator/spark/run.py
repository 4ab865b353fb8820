"""``run`` on Spark: a scenario whose event log does not fit in memory, counted on the cluster.

The driver plans (:func:`simulator.engine.simulate.setup`: the ad servers' shared SimPy pass and the
scripted journeys); each Spark task simulates its blocks of visitors from the same ``SeedSequence``
spawn as the local engine, runs every definition of the scenario on each block
(:func:`simulator.analysis.result.run_log`) and keeps only the block's additive totals
(:mod:`simulator.analysis.totals`); Spark adds the tasks' totals with ``treeReduce``, so only one
:class:`~simulator.analysis.totals.Totals` reaches the driver. Exact because a block shares no user,
visit or click with any other block (a session never spans blocks).

Supported (equal to ``simulator.run``; integers exact, float totals to rounding): the ad platform's
counts and ratios (impressions, clicks, cost, CTR, CPC, CPM, 7/14-day sales, ACoS), every definition's
analytics counts and ratios, the clicks -> sessions and views -> sessions bridges, the impressions ->
clicks bridge with its campaign table, the comparisons between definitions and the day-by-day bridges.
Not supported (they need the rows on the driver): ``Result.log`` / ``hits`` / ``split`` (empty;
``Result.has_rows`` is False), breakdowns, the report directory (sessions.csv), replications.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import reduce

from pyspark.sql import SparkSession

from simulator.analysis.result import Result
from simulator.analysis.totals import Totals, block_totals, definitions_of, journey_totals
from simulator.engine.simulate import setup
from simulator.scenario.loader import Scenario
from simulator.spark.simulate import block_partitions

__all__ = ["run"]


def run(
    spark: SparkSession,
    scenario: Scenario,
    seed: int | None = None,
    *,
    visitors: int | None = None,
    partitions: int | None = None,
) -> Result:
    """Simulate ``scenario`` and evaluate its definitions on Spark; a :class:`Result` without rows."""
    seed = scenario.seed if seed is None else seed
    s = setup(scenario, seed, visitors)
    definitions = definitions_of(scenario)
    total = journey_totals(s, scenario, definitions)
    n_blocks = s.plan.n_blocks if s.plan is not None else 0
    if n_blocks:
        sc = spark.sparkContext
        shared = sc.broadcast(s)

        def task(blocks: Iterator[int]) -> Iterator[Totals]:
            yield reduce(Totals.merge, (block_totals(shared.value, b, definitions) for b in blocks), Totals())

        tasks = block_partitions(n_blocks, sc.defaultParallelism, partitions)
        try:
            part = sc.parallelize(range(n_blocks), tasks).mapPartitions(task).treeReduce(Totals.merge)
        finally:
            shared.unpersist()
        total = total.merge(part)
    return total.result(
        scenario.name,
        seed,
        definitions,
        s.names,
        timezone=scenario.timezone,
        ad_timezone=scenario.ad_timezone,
    )

"""``simulate`` on Spark: blocks of visitors as Spark tasks, the same rows as the one-process run.

How it works (see :mod:`simulator.engine.workers` for the local pool, which does the same in processes):

1. The driver plans (:func:`simulator.engine.simulate.setup`): the period, the demand, the ad servers'
   shared SimPy pass and the scripted journeys. The plan is broadcast to the executors.
2. **Sizes** (a Spark job): each task simulates its blocks with ids from 0 and returns, per block, the
   users, visits and clicks it used (a few integers per block of 8,192 visitors). Block ``b`` draws
   only from ``SeedSequence(seed, spawn_key=(b, stream))``, so a task anywhere gets the same rows.
3. The driver turns the sizes into each block's first ids (running totals in block order, after the
   scripted journeys), exactly as the local engine numbers blocks one after the other.
4. **Rows** (a Spark job): ``spark.range`` of block numbers in contiguous, ordered partitions; each
   task simulates its blocks again, now with their final ids, and hands Spark the rows as Arrow (the
   columns of :func:`simulator.log.writer.arrow_table`, names as plain strings); Spark writes Parquet.

Each block is simulated twice (sizes, then rows) instead of holding every block until the ids
before it are known; simulating is cheaper than writing (``benchmarks/bench_simulate.py``), and
nothing but the sizes reaches the driver.

Order of the dataset: partition ``i`` holds a contiguous run of blocks in block order (partition 0
starts with the scripted journeys), and Spark names its file ``part-<i, 5 digits>-<uuid>-c<k>.…``.
So the files sorted by name, each read in row order, are the rows of ``sessionlab simulate
--out FILE.parquet`` in order (sorted by (user, ts, emission order)). ``pyarrow.dataset`` reads a
directory in that order; Spark's own reader does not keep file order (it packs files by size), so
sort by ``user, ts`` there when order matters.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import types as T  # noqa: N812

from simulator.engine.simulate import Setup, setup
from simulator.engine.visits import Ids, simulate_block
from simulator.log.events import COLUMNS
from simulator.log.writer import FIELDS, arrow_table
from simulator.scenario.loader import Scenario

__all__ = ["SimulateStats", "block_partitions", "simulate", "spark_schema"]

#: Blocks per task by default (8 x 8,192 visitors = the local engine's default chunk).
BLOCKS_PER_TASK = 8

_SPARK_TYPES = {
    np.dtype(np.int64): T.LongType(),
    np.dtype(np.int32): T.IntegerType(),
    np.dtype(np.int8): T.ByteType(),
    np.dtype(np.bool_): T.BooleanType(),
    np.dtype(np.float64): T.DoubleType(),
}
_NAMED = frozenset(("kind", "cause", "source", "loss", "device", "campaign", "page", "network"))


@dataclass(frozen=True)
class SimulateStats:
    """What :func:`simulate` wrote."""

    path: str
    rows: int
    blocks: int
    partitions: int


def spark_schema() -> T.StructType:
    """The dataset's schema: the columns of the local Parquet file, names as strings."""
    fields = []
    for name in FIELDS:
        kind = T.StringType() if name in _NAMED else _SPARK_TYPES[np.dtype(COLUMNS[name])]
        fields.append(T.StructField(name, kind, True))
    return T.StructType(fields)


def _arrow_schema() -> pa.Schema:
    types = {T.StringType(): pa.string(), T.LongType(): pa.int64(), T.IntegerType(): pa.int32()}
    types |= {T.ByteType(): pa.int8(), T.BooleanType(): pa.bool_(), T.DoubleType(): pa.float64()}
    return pa.schema([pa.field(f.name, types[f.dataType]) for f in spark_schema().fields])


def _plain(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Dictionary columns decoded to strings (Spark has no dictionary type); values unchanged."""
    return table.cast(schema)


def _sizes(s: Setup, blocks: Iterator[int]) -> Iterator[tuple[int, int, int, int, int]]:
    for block in blocks:
        used = Ids()
        cols, _ = simulate_block(s.plan, block, used)
        yield block, used.user, used.visit, used.click, len(cols["ts"])


def block_partitions(n_blocks: int, parallelism: int, partitions: int | None = None) -> int:
    """Tasks for ``n_blocks`` blocks: ``partitions``, else enough for every core and ~8 blocks a task."""
    if partitions is not None:
        return max(1, partitions)
    return max(1, min(n_blocks, parallelism), -(-n_blocks // BLOCKS_PER_TASK))


def _first_ids(s: Setup, sizes: list[tuple[int, int, int, int, int]]) -> list[tuple[int, int, int]]:
    """Each block's first (user, visit, click) id: running totals in block order, after the journeys."""
    out, ids = [], Ids(s.ids.user, s.ids.visit, s.ids.click)
    for _, users, visits, clicks, _ in sorted(sizes):
        out.append((ids.user, ids.visit, ids.click))
        ids.user, ids.visit, ids.click = ids.user + users, ids.visit + visits, ids.click + clicks
    return out


def _rows_fn(shared: Any, firsts: Any, schema: pa.Schema) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        s: Setup = shared.value
        for batch in batches:
            for block in batch.column(0).to_pylist():
                if block < 0:
                    log = s.journeys
                else:
                    cols, _ = simulate_block(s.plan, block, Ids(*firsts.value[block]))
                    log = s.block_log(cols, {})
                yield from _plain(arrow_table(log), schema).to_batches()

    return run


def _local_path(out: str) -> bool:
    return "://" not in out or out.startswith("file:")


def simulate(
    spark: SparkSession,
    scenario: Scenario,
    out: str,
    *,
    seed: int | None = None,
    visitors: int | None = None,
    partitions: int | None = None,
) -> SimulateStats:
    """Simulate ``scenario`` on Spark and write its event log to the Parquet dataset directory ``out``.

    The rows (values and order, see the module docstring) are those of ``sessionlab simulate --out
    FILE.parquet`` with the same seed, whatever the number of partitions or executors. A local ``out``
    is written to a temporary sibling and renamed into place when complete; on a cluster file system
    Spark's commit protocol applies (``_SUCCESS`` marks a complete dataset).
    """
    seed = scenario.seed if seed is None else seed
    s = setup(scenario, seed, visitors)
    n_blocks = s.plan.n_blocks if s.plan is not None else 0
    sc = spark.sparkContext
    tasks = block_partitions(n_blocks, sc.defaultParallelism, partitions)
    shared = sc.broadcast(s)
    sizes: list[tuple[int, int, int, int, int]] = []
    if n_blocks:
        sizes = (
            sc.parallelize(range(n_blocks), tasks)
            .mapPartitions(lambda it: _sizes(shared.value, it))
            .collect()
        )
    firsts = sc.broadcast(_first_ids(s, sizes))
    schema = _arrow_schema()
    start = -1 if s.journeys is not None else 0
    blocks = spark.range(start, n_blocks, 1, tasks)
    rows = blocks.mapInArrow(_rows_fn(shared, firsts, schema), spark_schema())
    target = out
    if _local_path(out):
        path = Path(out.removeprefix("file:"))
        target = str(path.with_name(f".{path.name}.sessionlab-{uuid.uuid4().hex[:8]}"))
    try:
        rows.write.option("compression", "zstd").parquet(target)
        if target != out:
            os.rename(target, out.removeprefix("file:"))
    except BaseException:
        if target != out:
            shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shared.unpersist()
        firsts.unpersist()
    total = sum(r for *_, r in sizes) + (len(s.journeys) if s.journeys is not None else 0)
    return SimulateStats(out, total, n_blocks, tasks)

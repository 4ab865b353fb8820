"""Sessionizing on Spark: sessionlab's kernels per user partition vs Spark's native formulations.

One run, one SparkSession (local[2] by default), the same generated DataFrame (N events, N/10 users,
cached before timing) for every contender; each contender is timed to a full count of its sessions
(``noop``-free: an aggregate forces the whole plan). Reported as ratios against ``session_window``
measured in the same run, plus events/s per core and the growth between sizes.

    python benchmarks/bench_spark.py --events 1000000 10000000 --master local[2]

Every contender is timed in two interleaved rounds and its best time is kept (both are printed).
Before timing, every contender runs once on 10,000 rows (so the first one timed does not also pay
the start of Spark's Python workers). Peak memory is sampled from /proc every 0.2 s: this Python
process (the driver's Python side), the JVM it started (in local mode the driver and the executors
share it) and the Python workers the JVM forks (the executors' Python side, where the kernels run),
each role summed over its processes.

Contenders, all GA4's 30-minute inactivity rule unless named, all on the same ``ts`` column (epoch ms):
* sessionlab ga4 / universal_analytics: ``simulator.spark.count_sessions`` (repartition by user hash,
  ``mapInArrow``, each task counts its partition's sessions and returns one row)
* sessionlab ga4, batches of 10,000: the same with Spark's default ``maxRecordsPerBatch``
* sessionlab ga4 rows: ``counts(sessionize(df, "ga4", keep=[]))``: every row's session id and cause
  back to Spark, then counted (what ``--out`` pays, without the write)
* call: applyInArrow / applyInPandas: the same kernel and totals, called through
  ``groupBy(hash % partitions).applyInArrow`` / ``.applyInPandas`` instead of ``mapInArrow``
* session_window: ``groupBy(user, session_window(ts, '30 minutes'))`` count
* lag_sum: ``LAG`` over (user order by ts), a new-session flag, ``SUM`` of flags as the session number
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.window import Window

from simulator.spark import count_sessions, counts, sessionize
from simulator.spark.context import local_session


def _events(spark, n: int):
    users = max(n // 10, 1)
    return (
        spark.range(n)
        .select(
            F.abs(F.xxhash64("id") % users).cast("string").alias("user_id"),
            (F.lit(1_714_500_000_000) + F.abs(F.xxhash64(F.col("id") * 7) % (7 * 86_400_000)))
            .cast("long")
            .alias("ts"),
        )
        .withColumn("t", F.timestamp_millis("ts"))
    )


def _calls(df, partitions: int):
    """The kernel with per-partition totals through applyInArrow and applyInPandas (mapInArrow is
    ``count_sessions``): the same plan, the same task function, another way to call it."""
    import pyarrow as pa
    from pyspark.sql import types as T  # noqa: N812

    from simulator.spark.sessionize import _HASH, _kernel_fn, _plan

    plan = _plan(
        df,
        "ga4",
        user="user_id",
        time="ts",
        campaign=None,
        timezone="UTC",
        epoch="ms",
        input_timezone=None,
        ambiguous="error",
        event="event_name",
        exclude_events=(),
        keep=[],
        partitions=None,
    )
    names = ["events", "users", "s0"]
    struct = T.StructType([T.StructField(c, T.LongType(), False) for c in names])
    schema = pa.schema([(c, pa.int64()) for c in names])
    fn = _kernel_fn(plan.defs, **plan.kernel, out_schema=schema, totals=True)

    def arrow_fn(table):
        out = list(fn(iter(table.to_batches())))
        return pa.Table.from_batches(out, schema) if out else schema.empty_table()

    def pandas_fn(pdf):
        return arrow_fn(pa.Table.from_pandas(pdf, preserve_index=False)).to_pandas()

    key = F.pmod(F.col(_HASH), F.lit(partitions)).alias("__bucket")
    grouped = plan.prepared.groupBy(key)

    def total(out):
        return out.agg(F.sum("s0")).collect()[0][0]

    return {
        "call: applyInArrow": lambda: total(grouped.applyInArrow(arrow_fn, struct)),
        "call: applyInPandas": lambda: total(grouped.applyInPandas(pandas_fn, struct)),
    }


def _small_batches(spark, fn):
    """``fn()`` with Spark's default Arrow batch size (sessionlab's sessions use 200,000 rows)."""
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "10000")
    try:
        return fn()
    finally:
        spark.conf.set(key, before)


def _contenders(df, partitions: int):
    w = Window.partitionBy("user_id").orderBy("ts")
    gap = F.col("ts") - F.lag("ts").over(w)

    def lag_sum():  # a new DataFrame each time: re-running one would reuse its shuffle files
        return (
            df.withColumn("new", F.when(gap.isNull() | (gap > 1_800_000), 1).otherwise(0))
            .withColumn("sid", F.sum("new").over(w))
            .select(F.countDistinct("user_id", "sid").alias("n"))
        )

    ua = "universal_analytics"
    return {
        "sessionlab ga4": lambda: count_sessions(df, "ga4", time="ts", epoch="ms")["ga4"]["sessions"],
        f"sessionlab {ua}": lambda: count_sessions(df, ua, time="ts", epoch="ms")[ua]["sessions"],
        "sessionlab ga4, batches of 10,000": lambda: _small_batches(
            df.sparkSession, lambda: count_sessions(df, "ga4", time="ts", epoch="ms")["ga4"]["sessions"]
        ),
        "sessionlab ga4 rows": lambda: counts(sessionize(df, "ga4", time="ts", epoch="ms", keep=[]), "ga4")[
            "ga4"
        ]["sessions"],
        **_calls(df, partitions),
        "session_window": lambda: df.groupBy("user_id", F.session_window("t", "30 minutes")).count().count(),
        "lag_sum": lambda: lag_sum().collect()[0]["n"],
    }


class _Memory:
    """Peak RSS per role (driver python, JVM, python workers) over this process tree, from /proc."""

    def __init__(self) -> None:
        self.peak = {"driver python": 0, "JVM": 0, "python workers": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _tree(root: int) -> list[int]:
        kids: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(entry.name))
        out, todo = [], [root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo += kids.get(pid, [])
        return out

    @staticmethod
    def _rss(pid: int) -> tuple[str, int]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return "", 0
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
        return fields.get("Name", "").strip(), rss

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(0.2):
            now = dict.fromkeys(self.peak, 0)
            for pid in self._tree(me):
                name, rss = self._rss(pid)
                role = "driver python" if pid == me else "JVM" if name == "java" else "python workers"
                now[role] += rss
            for role, value in now.items():
                self.peak[role] = max(self.peak[role], value)

    def take(self) -> str:
        """The peaks since the last call, as one line; then start again."""
        peak, self.peak = self.peak, dict.fromkeys(self.peak, 0)
        return "peak RSS: " + ", ".join(f"{k} {v / 2**20:,.0f} MiB" for k, v in peak.items())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=8, help="spark.sql.shuffle.partitions")
    args = ap.parse_args()
    memory = _Memory()
    t0 = time.perf_counter()
    ap_conf = {"spark.sql.shuffle.partitions": str(args.partitions), "spark.driver.memory": "3g"}
    spark = local_session(args.master, ap_conf)
    cores = spark.sparkContext.defaultParallelism
    print(
        f"Spark {spark.version} on {args.master} ({cores} cores), start-up {time.perf_counter() - t0:.1f} s"
    )
    warm = _events(spark, 10_000).cache()
    for fn in _contenders(
        warm, args.partitions
    ).values():  # start the Python workers and compile each plan once
        fn()
    warm.unpersist()
    first: dict[str, float] = {}
    for n in args.events:
        memory.take()
        df = _events(spark, n).cache()
        df.count()
        runs = _contenders(df, args.partitions)
        times, results = {}, {}
        for _ in range(2):  # two rounds, interleaved; each contender's best is kept (a noisy machine)
            for name, fn in runs.items():
                sec, results[name] = _timed(fn)
                times.setdefault(name, []).append(sec)
        print(
            f"\n{n:,} events: seconds per round: "
            + "; ".join(f"{k} {' / '.join(f'{v:.1f}' for v in vs)}" for k, vs in times.items())
        )
        times = {k: min(vs) for k, vs in times.items()}
        base = times["session_window"]
        print(f"{n:,} events, {max(n // 10, 1):,} users (best of 2 rounds)")
        head = f"{'contender':36} {'seconds':>8} {'vs session_window':>18} {'events/s/core':>14}"
        print(f"{head} {'sessions':>10}")
        for name, sec in times.items():
            print(f"{name:36} {sec:8.1f} {base / sec:17.2f}x {n / sec / cores:14,.0f} {results[name]:>10,}")
        ga4 = times["sessionlab ga4"]
        lag = times["lag_sum"]
        print(f"sessionlab ga4: {base / ga4:.2f}x faster than session_window, {lag / ga4:.2f}x than lag_sum")
        print(memory.take() + " (each role summed over its processes)")
        print(f"UA / ga4 on Spark: {times['sessionlab universal_analytics'] / times['sessionlab ga4']:.2f}x")
        if first:
            for name, sec in times.items():
                print(f"growth {name}: {sec / first[name]:.1f}x time for {n / first['n']:.0f}x events")
        else:
            first = {**times, "n": n}
        df.unpersist()
    spark.stop()
    memory.stop()


if __name__ == "__main__":
    main()

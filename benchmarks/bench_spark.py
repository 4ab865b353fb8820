"""Sessionizing on Spark: sessionlab's kernels per user partition vs Spark's native formulations.

One run, one SparkSession (local[2] by default), the same generated DataFrame (N events, N/10 users,
cached before timing) for every contender; each contender is timed to a full count of its sessions
(``noop``-free: an aggregate forces the whole plan). Reported as ratios against ``session_window``
measured in the same run, plus events/s per core and the growth between sizes.

    python benchmarks/bench_spark.py --events 1000000 10000000 --master local[2]

Contenders, all GA4's 30-minute inactivity rule unless named:
* sessionlab ga4 / universal_analytics: ``simulator.spark.sessionize`` (mapInArrow) + ``counts``
* session_window: ``groupBy(user, session_window(ts, '30 minutes'))`` count
* lag_sum: ``LAG`` over (user order by ts), a new-session flag, ``SUM`` of flags as the session number
"""

from __future__ import annotations

import argparse
import resource
import time

from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.window import Window

from simulator.spark import counts, sessionize
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


def _contenders(df):
    w = Window.partitionBy("user_id").orderBy("ts")
    gap = F.col("ts") - F.lag("ts").over(w)
    lag_sum = (
        df.withColumn("new", F.when(gap.isNull() | (gap > 1_800_000), 1).otherwise(0))
        .withColumn("sid", F.sum("new").over(w))
        .select(F.countDistinct("user_id", "sid").alias("n"))
    )
    ua = "universal_analytics"
    return {
        "sessionlab ga4": lambda: counts(sessionize(df, "ga4", time="ts", epoch="ms"), "ga4")["ga4"][
            "sessions"
        ],
        f"sessionlab {ua}": lambda: counts(sessionize(df, ua, time="t"), ua)[ua]["sessions"],
        "session_window": lambda: df.groupBy("user_id", F.session_window("t", "30 minutes")).count().count(),
        "lag_sum": lambda: lag_sum.collect()[0]["n"],
    }


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--master", default="local[2]")
    args = ap.parse_args()
    t0 = time.perf_counter()
    spark = local_session(args.master, {"spark.sql.shuffle.partitions": "8", "spark.driver.memory": "3g"})
    cores = spark.sparkContext.defaultParallelism
    print(
        f"Spark {spark.version} on {args.master} ({cores} cores), start-up {time.perf_counter() - t0:.1f} s"
    )
    first: dict[str, float] = {}
    for n in args.events:
        df = _events(spark, n).cache()
        df.count()
        runs = _contenders(df)
        times, results = {}, {}
        for name, fn in runs.items():
            times[name], results[name] = _timed(fn)
        base = times["session_window"]
        print(f"\n{n:,} events, {max(n // 10, 1):,} users")
        head = f"{'contender':32} {'seconds':>8} {'vs session_window':>18} {'events/s/core':>14}"
        print(f"{head} {'sessions':>10}")
        for name, sec in times.items():
            print(f"{name:32} {sec:8.1f} {base / sec:17.2f}x {n / sec / cores:14,.0f} {results[name]:>10,}")
        print(f"UA / ga4 on Spark: {times['sessionlab universal_analytics'] / times['sessionlab ga4']:.2f}x")
        if first:
            for name, sec in times.items():
                print(f"growth {name}: {sec / first[name]:.1f}x time for {n / first['n']:.0f}x events")
        else:
            first = {**times, "n": n}
        df.unpersist()
    spark.stop()
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # reaped children: python workers
    print(f"\npeak RSS: driver python {kib / 1024:,.0f} MiB; largest reaped child {kids / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()

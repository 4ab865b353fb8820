"""Sessionizing throughput: sessionlab vs pandas, Polars and DuckDB, measured in one run.

    PYTHONPATH=. python benchmarks/bench_sessionize.py            # 10 M events, 1 M users (< 5 min)
    PYTHONPATH=. python benchmarks/bench_sessionize.py --events 1000000 --users 100000

Every tool assigns a session to every row (30-minute inactivity, a gap of exactly 30 minutes stays)
on the same log, sorted by (user, time) and shuffled, and must agree on the session count. Polars
runs in a subprocess per thread setting (its pool size is fixed at import); DuckDB uses
``SET threads``. Then: sessionlab's presorted single pass, stateful rules against plain inactivity,
and peak memory against the input columns. Needs the ``bench`` extra (pandas, polars, duckdb); a
missing tool is reported and skipped. Figures are events per second and ratios to DuckDB with one
thread, in this run: absolute numbers vary by machine and load (docs/baselines.md saw 30 % between runs).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

from simulator.sessions import Columns, sessionize
from simulator.sessions.kernels import session_ids, split_causes
from simulator.sessions.presets import PRESETS, Definition
from simulator.sessions.rules import Inactivity, MaxDuration, MaxEvents, Midnight

TIMEOUT = 30 * 60_000
MIN = 60_000


def make_log(n_events: int, n_users: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A log sorted by (user, ts): visits of page views a minute or so apart, idle gaps, returns."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_events - n_users, np.full(n_users, 1 / n_users)) + 1
    user = np.repeat(np.arange(n_users, dtype=np.int64), counts)
    kind = rng.random(n_events)
    gaps = np.where(
        kind < 0.8,
        rng.exponential(90_000, n_events),  # browsing: ~1.5 min between hits
        np.where(
            kind < 0.9, rng.uniform(10 * MIN, 50 * MIN, n_events), rng.exponential(2 * 86_400_000, n_events)
        ),
    ).astype(np.int64)
    gaps[kind < 0.01] = TIMEOUT  # some gaps of exactly the timeout
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    gaps[first] = rng.integers(0, 30 * 86_400_000, n_users)  # each user's first hit in a 30-day window
    ts = np.cumsum(gaps)
    ts -= np.repeat(ts[first] - gaps[first], counts)  # restart the running sum at each user
    return user, ts + 1_704_067_200_000  # 2024-01-01 UTC


def timed(fn: Callable[[], int], repeat: int = 1) -> tuple[float, int]:
    """Best wall time of ``repeat`` runs and the session count the last run returned."""
    best, sessions = float("inf"), -1
    for _ in range(repeat):
        start = time.perf_counter()
        sessions = fn()
        best = min(best, time.perf_counter() - start)
    return best, sessions


def sessionlab_ids(user: np.ndarray, ts: np.ndarray, definition: str | Definition = "ga4") -> int:
    ids = sessionize(user, ts, definition)
    return int(ids.max()) + 1


def sessionlab_presorted(user: np.ndarray, ts: np.ndarray, definition: Definition) -> int:
    ids = session_ids(split_causes(Columns(user, ts), definition.rules))
    return int(ids[-1]) + 1


def pandas_run(user: np.ndarray, ts: np.ndarray) -> int:
    import pandas as pd

    df = pd.DataFrame({"user": user, "ts": ts}).sort_values(["user", "ts"])
    new = (df["user"] != df["user"].shift()) | (df["ts"].diff() > TIMEOUT)
    df["session"] = new.cumsum()
    return int(df["session"].iloc[-1])


def duckdb_run(con: object, threads: int | None) -> int:
    con.execute(f"SET threads = {threads or os.cpu_count()}")  # type: ignore[attr-defined]
    con.execute(  # type: ignore[attr-defined]
        f"""
        CREATE OR REPLACE TABLE s AS
        SELECT rid, user, SUM(new) OVER (PARTITION BY user ORDER BY ts, rid) AS session FROM (
            SELECT rid, user, ts,
                   CASE WHEN ts - LAG(ts) OVER (PARTITION BY user ORDER BY ts, rid) <= {TIMEOUT}
                        THEN 0 ELSE 1 END AS new
            FROM ev)
        """
    )
    # Sessions = distinct (user, session) pairs; counted after the timed per-row assignment.
    return -1


def duckdb_count(con: object) -> int:
    return int(con.execute("SELECT COUNT(*) FROM (SELECT DISTINCT user, session FROM s)").fetchone()[0])  # type: ignore[attr-defined]


_POLARS = """
import json, sys, time
import numpy as np, polars as pl
user, ts = np.load(sys.argv[1]), np.load(sys.argv[2])
df = pl.DataFrame({"user": user, "ts": ts})
del user, ts
start = time.perf_counter()
out = df.sort(["user", "ts"]).with_columns(
    ((pl.col("user") != pl.col("user").shift()).fill_null(True) | (pl.col("ts").diff() > %d))
    .cum_sum().alias("session")
)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "sessions": int(out["session"][-1]), "threads": pl.thread_pool_size()}))
""".replace("%d", str(TIMEOUT))


def polars_run(paths: tuple[str, str], threads: int | None) -> tuple[float, int, int]:
    env = dict(os.environ)
    if threads:
        env["POLARS_MAX_THREADS"] = str(threads)
    else:
        env.pop("POLARS_MAX_THREADS", None)
    done = subprocess.run(
        [sys.executable, "-c", _POLARS, *paths], capture_output=True, text=True, env=env, check=True
    )
    doc = json.loads(done.stdout)
    return doc["seconds"], doc["sessions"], doc["threads"]


def peak_memory(user: np.ndarray, ts: np.ndarray, definition: str | Definition) -> int:
    """Peak bytes allocated by one ``sessionize`` call (the returned ids included)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    ids = sessionize(user, ts, definition)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del ids
    return peak


Logs = dict[str, tuple[np.ndarray, np.ndarray]]
Results = dict[tuple[str, str], tuple[float, int]]


def _others(logs: Logs, results: Results) -> None:
    """pandas, DuckDB (1 thread, all threads) and Polars (subprocesses) on both row orders."""
    n = len(logs["sorted"][1])
    try:
        for order, (u, t) in logs.items():
            results[("pandas", order)] = timed(lambda u=u, t=t: pandas_run(u, t))
    except ImportError:
        print("# pandas not installed: skipped (pip install 'sessionlab[bench]')")
    try:
        import duckdb
        import pyarrow as pa

        for order, (u, t) in logs.items():
            con = duckdb.connect()
            con.register("arrow_ev", pa.table({"user": u, "ts": t, "rid": np.arange(n)}))
            con.execute("CREATE TABLE ev AS SELECT * FROM arrow_ev")
            for threads in (1, None):
                seconds, _ = timed(lambda con=con, threads=threads: duckdb_run(con, threads))
                results[(f"DuckDB ({threads or os.cpu_count()} threads)", order)] = (
                    seconds,
                    duckdb_count(con),
                )
            con.close()
    except ImportError:
        print("# duckdb or pyarrow not installed: skipped")
    try:
        import polars  # noqa: F401
    except ImportError:
        print("# polars not installed: skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        for order, (u, t) in logs.items():
            paths = (str(Path(tmp) / f"{order}_u.npy"), str(Path(tmp) / f"{order}_t.npy"))
            np.save(paths[0], u)
            np.save(paths[1], t)
            for threads in (1, None):
                seconds, sessions, pool = polars_run(paths, threads)
                results[(f"Polars ({pool} threads)", order)] = (seconds, sessions)


def _print_comparison(results: Results, n: int) -> None:
    counts = {s for _, s in results.values()}
    print(f"\n## Plain inactivity, per-row session ids (session counts: {sorted(counts)})")
    if len(counts) != 1:
        raise SystemExit(f"tools disagree on the session count: {results}")
    base = {order: results.get(("DuckDB (1 threads)", order), (float("nan"), 0))[0] for _, order in results}
    print(f"{'tool':34} {'order':9} {'seconds':>8} {'M events/s':>11} {'vs DuckDB 1 thread':>19}")
    for (tool, order), (seconds, _) in sorted(results.items(), key=lambda kv: (kv[0][1], kv[1][0])):
        print(f"{tool:34} {order:9} {seconds:8.3f} {n / seconds / 1e6:11.1f} {base[order] / seconds:18.2f}x")


def _stateful(logs: Logs, repeat: int) -> dict[str, Definition]:
    """Stateful rules against plain inactivity, end to end (shuffled) and kernel only (presorted)."""
    plain = Definition("inactivity", (Inactivity(TIMEOUT),), "")
    cases = {
        "inactivity 30m (plain)": plain,
        "+ max_duration 1h": Definition("d", (Inactivity(TIMEOUT), MaxDuration(60 * MIN)), ""),
        "+ max_events 5": Definition("e", (Inactivity(TIMEOUT), MaxEvents(5)), ""),
        "fixed_window 24h (amazon)": PRESETS["amazon"],
        "+ midnight Europe/Berlin": Definition("m", (Inactivity(TIMEOUT), Midnight("Europe/Berlin")), ""),
        "all: 30m+midnight+1h+5 events": Definition(
            "all", (Inactivity(TIMEOUT), Midnight("Europe/Berlin"), MaxDuration(60 * MIN), MaxEvents(5)), ""
        ),
    }
    user, ts = logs["sorted"]
    print("\n## Stateful rules vs plain inactivity (sessionlab; same log)")
    print(
        f"{'definition':34} {'shuffled s':>10} {'ratio':>6} {'presorted s':>11} {'ratio':>6} {'sessions':>10}"
    )
    ref: list[float] = []
    for label, definition in cases.items():
        s_sec, sessions = timed(lambda d=definition: sessionlab_ids(*logs["shuffled"], d), repeat)
        p_sec, p_sessions = timed(lambda d=definition: sessionlab_presorted(user, ts, d), repeat)
        assert sessions == p_sessions, (label, sessions, p_sessions)
        ref = ref or [s_sec, p_sec]
        row = f"{s_sec:10.3f} {s_sec / ref[0]:5.2f}x {p_sec:11.3f} {p_sec / ref[1]:5.2f}x {sessions:10,}"
        print(f"{label:34} {row}")
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per sessionlab measurement (best)")
    args = parser.parse_args()
    n = args.events
    t0 = time.perf_counter()
    user, ts = make_log(n, args.users)
    perm = np.random.default_rng(1).permutation(n)
    logs = {"sorted": (user, ts), "shuffled": (user[perm], ts[perm])}
    del perm
    print(
        f"# {n:,} events, {args.users:,} users, 30-min inactivity; "
        f"{os.cpu_count()} CPUs; numpy {np.__version__}"
    )
    results: Results = {}
    for order, (u, t) in logs.items():
        results[("sessionlab (numpy, per-row ids)", order)] = timed(
            lambda u=u, t=t: sessionlab_ids(u, t), args.repeat
        )
    _others(logs, results)
    _print_comparison(results, n)

    print("\n## sessionlab on presorted columns: one pass (split causes + ids), no sort")
    plain = Definition("inactivity", (Inactivity(TIMEOUT),), "")
    one_pass, _ = timed(lambda: sessionlab_presorted(user, ts, plain), args.repeat)
    print(f"{'kernel on sorted columns':34} {one_pass:8.3f} s {n / one_pass / 1e6:9.1f} M events/s")

    cases = _stateful(logs, args.repeat)

    print("\n## Peak memory of one sessionize call on shuffled input (tracemalloc, ids included)")
    inputs = logs["shuffled"][0].nbytes + logs["shuffled"][1].nbytes
    for label, definition in (("ga4", "ga4"), ("all rules", cases["all: 30m+midnight+1h+5 events"])):
        peak = peak_memory(*logs["shuffled"], definition)
        ratio = f"{peak / inputs:4.2f}x the input columns ({inputs / 2**20:.0f} MiB)"
        print(f"{label:34} peak {peak / 2**20:8.0f} MiB = {ratio}")
    print(f"\n# total benchmark time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

"""Whole-process sessionizing of files: ``sessionlab sessionize`` vs DuckDB and Polars, in one run.

    PYTHONPATH=. python benchmarks/bench_sessionize_files.py                      # 10 M events
    PYTHONPATH=. python benchmarks/bench_sessionize_files.py --events 1e6         # quicker
    PYTHONPATH=. python benchmarks/bench_sessionize_files.py --large 1e8          # + out of core

``sessionlab workload --profile realistic`` writes ``events.parquet`` and ``events.csv`` (users =
events / 10, rows in time order, so users interleave). Then, each as its own process (interpreter
start-up, imports, reading, writing included), Parquet -> Parquet and CSV -> CSV:

* ``sessionlab sessionize events.parquet --out sessions.parquet`` (GA4: 30-minute inactivity);
* DuckDB: the inactivity query of ``docs/examples/ga4_duckdb.sql`` (LAG + SUM window) and
  ``COPY ... TO``, with ``SET threads = 1`` and with DuckDB's default;
* Polars: ``scan_parquet``/``scan_csv`` -> sort, ``shift``, ``cum_sum`` -> ``sink_parquet``/
  ``sink_csv`` (lazy, streaming), with one thread and with its default.

All must agree on the session count. Printed: wall seconds (median of ``--repeat``), events per
second, the ratio to DuckDB with one thread on the same format in this run, and each process's peak
RSS. With ``--large N``: the 10 M log repeated N / events times with disjoint user ids (so the
sessions are exactly that multiple), sessionized with ``--memory 2GiB`` through the shard spool;
printed against the in-memory path's cost per event. Needs the ``bench`` extra (duckdb, polars).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DUCKDB = """
import sys, duckdb
src, out, threads = sys.argv[1], sys.argv[2], sys.argv[3]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
if threads != "default":
    con.execute(f"SET threads = {int(threads)}")
reader = "read_csv" if src.endswith(".csv") else "read_parquet"
fmt = "csv" if out.endswith(".csv") else "parquet"
con.execute(f"CREATE VIEW events AS SELECT row_number() OVER () - 1 AS row_id, user_id, timestamp_ms "
            f"FROM {reader}('{src}')")
query = '''
WITH marked AS (
  SELECT row_id, user_id, timestamp_ms,
         CASE WHEN LAG(timestamp_ms) OVER w IS NULL OR timestamp_ms - LAG(timestamp_ms) OVER w > 1800000
              THEN 1 ELSE 0 END AS is_new
  FROM events WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id))
SELECT row_id, user_id, SUM(is_new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id
FROM marked'''
con.execute(f"COPY ({query}) TO '{out}' (FORMAT {fmt})")
if len(sys.argv) > 4:  # the untimed check run: count the sessions written
    distinct = f"SELECT DISTINCT user_id, session_id FROM {reader}('{out}')"
    print(con.execute(f"SELECT count(*) FROM ({distinct})").fetchone()[0])
"""

POLARS = """
import sys, polars as pl
src, out = sys.argv[1], sys.argv[2]
scan = pl.scan_csv if src.endswith(".csv") else pl.scan_parquet
lf = scan(src).select("user_id", "timestamp_ms").with_row_index("row_id")
lf = lf.sort("user_id", "timestamp_ms", "row_id")
new = (pl.col("user_id") != pl.col("user_id").shift()) | (
    pl.col("timestamp_ms") - pl.col("timestamp_ms").shift() > 1_800_000
)
lf = lf.with_columns(session_id=new.fill_null(True).cum_sum() - 1)
(lf.sink_csv if out.endswith(".csv") else lf.sink_parquet)(out)
if len(sys.argv) > 3:
    read = pl.scan_csv if out.endswith(".csv") else pl.scan_parquet
    print(read(out).select(pl.col("session_id").n_unique()).collect().item())
"""


def _sessionlab() -> list[str]:
    script = Path(sys.executable).with_name("sessionlab")
    return [str(script)] if script.exists() else [shutil.which("sessionlab") or "sessionlab"]


def _run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, str, int]:
    """Wall seconds, stdout and the process's own peak RSS (bytes, from wait4); its CPU seconds
    (user + system, all threads) are printed on a line of their own."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            sys.exit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.read().decode()}")
        cpu = usage.ru_utime + usage.ru_stime
        what = " ".join(Path(c).name if "\n" not in c else "(script)" for c in cmd[:5])[:70]
        print(f"#   {what}: wall {elapsed:.2f} s, cpu {cpu:.2f} s", flush=True)
        return elapsed, out.read().decode(), usage.ru_maxrss * 1024


def _input_bytes(path: Path) -> int:
    """The columns sessionize reads, as Arrow holds them."""
    import pyarrow.parquet as pq

    return pq.read_table(path, columns=["user_id", "timestamp", "campaign"]).nbytes


def _tools(src: Path, out: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    py = sys.executable
    return {
        "sessionlab": ([*_sessionlab(), "sessionize", str(src), "--out", str(out), "--json"], {}),
        "duckdb (1 thread)": ([py, "-c", DUCKDB, str(src), str(out), "1"], {}),
        "duckdb (default)": ([py, "-c", DUCKDB, str(src), str(out), "default"], {}),
        "polars (1 thread)": ([py, "-c", POLARS, str(src), str(out)], {"POLARS_MAX_THREADS": "1"}),
        "polars (default)": ([py, "-c", POLARS, str(src), str(out)], {}),
    }


def _large(wl: Path, tmp: Path, factor: int, users: int) -> Path:
    """The workload ``factor`` times, users shifted by ``users`` each time: one Parquet file."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    base = pq.read_table(wl / "events.parquet", columns=["user_id", "timestamp_ms", "timestamp", "campaign"])
    path = tmp / "large.parquet"
    with pq.ParquetWriter(path, base.schema, compression="zstd") as writer:
        for k in range(factor):
            shifted = pc.add(base.column("user_id"), pa.scalar(k * users, pa.int64()))
            writer.write_table(base.set_column(0, "user_id", shifted), row_group_size=1 << 20)
    return path


def main() -> None:  # noqa: PLR0912, PLR0915 - one report
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=1e7, help="events (default 10,000,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tool and format (median)")
    parser.add_argument("--formats", default="parquet,csv", help="parquet, csv or both (default)")
    parser.add_argument("--large", type=float, default=0, help="also N events out of core (--memory 2GiB)")
    parser.add_argument("--memory", default="2GiB", help="--memory of the out-of-core run (2GiB)")
    parser.add_argument("--tools", default="sessionlab,duckdb,polars", help="tools to run (name prefixes)")
    parser.add_argument("--workload", metavar="DIR", help="reuse a 'sessionlab workload' directory")
    args = parser.parse_args()
    try:
        import duckdb  # noqa: F401
        import polars  # noqa: F401
    except ImportError:
        sys.exit("needs duckdb and polars: pip install 'sessionlab[bench]'")
    size = int(args.events)
    users = max(size // 10, 1)
    print(f"{'events':>11} {'in -> out':<18} {'tool':<18} {'s':>7} {'events/s':>11} {'x duckdb-1':>10} "
          f"{'peak MB':>8} sessions")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench_files_", dir=os.environ.get("BENCH_TMP")) as name:
        tmp = Path(name)
        wl = Path(args.workload) if args.workload else tmp / "wl"
        if not args.workload:
            gen = [*_sessionlab(), "workload", "--events", str(size), "--users", str(users)]
            _run([*gen, "--profile", "realistic", "--out", str(wl)])
        in_memory_rate = 0.0
        for fmt in args.formats.split(","):
            src, out = wl / f"events.{fmt}", tmp / f"sessions.{fmt}"
            results: dict[str, tuple[float, int, int]] = {}
            for tool, (cmd, env) in _tools(src, out).items():
                if not any(tool.startswith(t) for t in args.tools.split(",")):
                    continue
                runs = [_run(cmd, env) for _ in range(args.repeat)]
                seconds = statistics.median(r[0] for r in runs)
                peak = max(r[2] for r in runs)
                if tool == "sessionlab":
                    sessions = json.loads(runs[0][1])["definitions"]["ga4"]["sessions"]
                    if fmt == "parquet":
                        in_memory_rate = size / seconds
                        columns = _input_bytes(src)
                else:  # an untimed run that also counts what it wrote
                    sessions = int(_run([*cmd, "count"], env)[1].strip())
                results[tool] = (seconds, peak, sessions)
                print(f"# {tool}: {seconds:.2f} s, {peak / 2**20:,.0f} MB, {sessions:,} sessions", flush=True)
            base = results.get("duckdb (1 thread)", (math.nan,))[0]
            for tool, (seconds, peak, sessions) in results.items():
                rate = size / seconds
                print(f"{size:>11,} {fmt + ' -> ' + fmt:<18} {tool:<18} {seconds:>7.2f} {rate:>11,.0f} "
                      f"{base / seconds:>10.2f} {peak / 2**20:>8,.0f} {sessions:,}")  # fmt: skip
            if len({s for _, _, s in results.values()}) != 1:
                sys.exit(f"the tools disagree on the session count: {results}")
            if fmt == "parquet" and "sessionlab" in results:
                peak = results["sessionlab"][1]
                print(f"sessionlab peak RSS {peak / 2**20:,.0f} MB = {peak / columns:.2f}x the input columns "
                      f"({columns / 2**20:,.0f} MB as Arrow: user_id, timestamp, campaign)")  # fmt: skip
        if args.large:
            factor = max(1, round(args.large / size))
            big = _large(wl, tmp, factor, users)
            n = factor * size
            cmd = [*_sessionlab(), "sessionize", str(big), "--out", str(tmp / "large_sessions.parquet")]
            seconds, stdout, peak = _run([*cmd, "--memory", args.memory, "--json"])
            doc = json.loads(stdout)
            sessions = doc["definitions"]["ga4"]["sessions"]
            expected = factor * results_sessions(tmp, wl)
            rate = n / seconds
            shards = f"({doc['shards']} shards, --memory {args.memory})"
            head = f"{n:>11,} {'parquet -> parquet':<18} {'sessionlab ooc':<18}"
            print(f"{head} {seconds:>7.2f} {rate:>11,.0f} "
                  f"{'':>10} {peak / 2**20:>8,.0f} {sessions:,} {shards}")  # fmt: skip
            if sessions != expected:
                sys.exit(f"out of core: {sessions:,} sessions, expected {expected:,} ({factor} x the log)")
            if in_memory_rate:
                ratio = in_memory_rate / rate
                print(f"out-of-core cost per event: {ratio:.2f}x the in-memory path at {size:,}")


def results_sessions(tmp: Path, wl: Path) -> int:
    """The session count of the base log (in memory, untimed)."""
    _, stdout, _ = _run([*_sessionlab(), "sessionize", str(wl / "events.parquet"), "--json"])
    return int(json.loads(stdout)["definitions"]["ga4"]["sessions"])


if __name__ == "__main__":
    main()

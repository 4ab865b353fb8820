"""Whole-process sessionizing of a Parquet file: ``sessionlab sessionize`` vs DuckDB, in one run.

    PYTHONPATH=. python benchmarks/bench_sessionize_files.py                  # 1 M and 10 M events
    PYTHONPATH=. python benchmarks/bench_sessionize_files.py --sizes 1e6 --repeat 3

For each size, ``sessionlab workload --profile realistic`` writes ``events.parquet`` (users = events /
10). Then, each as its own process (interpreter start-up, imports, reading, writing included):

* ``sessionlab sessionize events.parquet --out sessions.parquet`` (GA4: 30-minute inactivity);
* DuckDB reading the same file, the inactivity query of ``docs/examples/ga4_duckdb.sql``, and
  ``COPY ... TO sessions.parquet``, with ``SET threads = 1`` and with DuckDB's default.

Both must agree on the session count. Printed: median wall seconds of ``--repeat`` runs, events per
second, and ratios to DuckDB with one thread measured in the same run (absolute figures vary with the
machine and its load). Needs the ``bench`` extra (duckdb).
"""

from __future__ import annotations

import argparse
import json
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
if threads != "default":
    con.execute(f"SET threads = {int(threads)}")
con.execute(f"CREATE VIEW events AS SELECT row_number() OVER () - 1 AS row_id, user_id, timestamp_ms "
            f"FROM read_parquet('{src}')")
query = '''
WITH marked AS (
  SELECT row_id, user_id, timestamp_ms,
         CASE WHEN LAG(timestamp_ms) OVER w IS NULL OR timestamp_ms - LAG(timestamp_ms) OVER w > 1800000
              THEN 1 ELSE 0 END AS is_new
  FROM events WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id))
SELECT row_id, user_id, SUM(is_new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id
FROM marked'''
con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet)")
if len(sys.argv) > 4:  # the untimed check run: count the sessions written
    distinct = f"SELECT DISTINCT user_id, session_id FROM read_parquet('{out}')"
    print(con.execute(f"SELECT count(*) FROM ({distinct})").fetchone()[0])
"""


def _sessionlab() -> list[str]:
    script = Path(sys.executable).with_name("sessionlab")
    return [str(script)] if script.exists() else [shutil.which("sessionlab") or "sessionlab"]


def _timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="event counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and size (median)")
    args = parser.parse_args()
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sys.exit("needs duckdb: pip install 'sessionlab[bench]'")
    print(f"{'events':>10} {'tool':<22} {'median s':>9} {'events/s':>12} {'x duckdb-1':>10} sessions")
    for size in (int(float(s)) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="bench_files_") as tmp:
            wl = Path(tmp) / "wl"
            gen = [*_sessionlab(), "workload", "--events", str(size), "--users", str(max(size // 10, 1))]
            _timed([*gen, "--profile", "realistic", "--out", str(wl)])
            src, out = wl / "events.parquet", Path(tmp) / "sessions.parquet"
            tools = {
                "sessionlab": [*_sessionlab(), "sessionize", str(src), "--out", str(out), "--json"],
                "duckdb (1 thread)": [sys.executable, "-c", DUCKDB, str(src), str(out), "1"],
                "duckdb (default)": [sys.executable, "-c", DUCKDB, str(src), str(out), "default"],
            }
            results: dict[str, tuple[float, int]] = {}
            for name, cmd in tools.items():
                times, sessions = [], 0
                for _ in range(args.repeat):
                    elapsed, stdout = _timed(cmd)
                    times.append(elapsed)
                    if name == "sessionlab":
                        sessions = json.loads(stdout)["definitions"]["ga4"]["sessions"]
                if name != "sessionlab":  # an untimed run that also counts what it wrote
                    sessions = int(_timed([*cmd, "count"])[1].strip())
                results[name] = (statistics.median(times), sessions)
            base = results["duckdb (1 thread)"][0]
            counts = {s for _, s in results.values()}
            for name, (median, sessions) in results.items():
                rate, ratio = size / median, base / median
                print(f"{size:>10,} {name:<22} {median:>9.2f} {rate:>12,.0f} {ratio:>10.2f} {sessions:,}")
            if len(counts) != 1:
                sys.exit(f"the tools disagree on the session count: {results}")


if __name__ == "__main__":
    main()

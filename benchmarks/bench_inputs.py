"""Whole-process ``sessionlab sessionize`` on the same log in every input form, as ratios to plain CSV.

    PYTHONPATH=. python benchmarks/bench_inputs.py                 # 1 M events (users = events / 10)
    PYTHONPATH=. python benchmarks/bench_inputs.py --events 200000 --repeat 1

``sessionlab workload --profile realistic`` writes ``events.csv``; this script derives the other forms
from it with pyarrow (CSV gzip/zstd/bzip2, semicolon-delimited, 8 Hive partitions, Parquet, Arrow IPC,
standard input) and runs ``sessionlab sessionize FORM --out sessions.parquet`` on each, as its own
process (start-up, reading, writing included). Every form must give the same session count. Printed:
median wall seconds of ``--repeat`` runs and the ratio to plain CSV measured in the same run (absolute
figures vary with the machine and its load).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from pyarrow import feather


def _sessionlab() -> list[str]:
    return [sys.executable, "-m", "simulator.cli"]


def _forms(work: Path, csv: Path) -> dict[str, tuple[list[str], Path | None]]:
    """Name -> (arguments, file fed to standard input or None)."""
    table = pcsv.read_csv(csv, convert_options=pcsv.ConvertOptions(column_types={"user_id": pa.string()}))
    data = csv.read_bytes()
    for codec, suffix in (("gzip", "gz"), ("zstd", "zst"), ("bz2", "bz2")):
        with pa.CompressedOutputStream(str(work / f"events.csv.{suffix}"), codec) as out:
            out.write(data)
    (work / "semicolon.csv").write_bytes(data.replace(b",", b";"))
    parts = work / "hive"
    n = table.num_rows
    for i in range(8):
        folder = parts / f"part={i}"
        folder.mkdir(parents=True)
        pq.write_table(table.slice(i * n // 8, (i + 1) * n // 8 - i * n // 8), folder / "part-0.parquet")
    pq.write_table(table, work / "events.parquet")
    feather.write_feather(table, work / "events.arrow")
    return {
        "csv": ([str(csv)], None),
        "csv.gz": ([str(work / "events.csv.gz")], None),
        "csv.zst": ([str(work / "events.csv.zst")], None),
        "csv.bz2": ([str(work / "events.csv.bz2")], None),
        "csv ; sniffed": ([str(work / "semicolon.csv")], None),
        "stdin csv": (["-"], csv),
        "hive dir (8 parquet)": ([str(parts)], None),
        "parquet": ([str(work / "events.parquet")], None),
        "arrow": ([str(work / "events.arrow")], None),
    }


def _run(args: list[str], stdin: Path | None, out: Path) -> tuple[float, int]:
    cmd = [*_sessionlab(), "sessionize", *args, "--json", "--out", str(out)]
    start = time.perf_counter()
    with open(stdin, "rb") if stdin else open("/dev/null", "rb") as fh:
        done = subprocess.run(cmd, stdin=fh, capture_output=True, check=True)
    seconds = time.perf_counter() - start
    return seconds, json.loads(done.stdout)["definitions"]["ga4"]["sessions"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per form (median)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sessionlab-bench-inputs-") as tmp:
        work = Path(tmp)
        subprocess.run(
            [*_sessionlab(), "workload", "--events", str(opts.events), "--users", str(opts.events // 10),
             "--profile", "realistic", "--out", str(work / "wl")],
            check=True, capture_output=True,
        )  # fmt: skip
        forms = _forms(work, work / "wl" / "events.csv")
        print(f"# {opts.events:,} events, {opts.events // 10:,} users; median of {opts.repeat}; ratio to csv")
        base = None
        sessions = set()
        for name, (args, stdin) in forms.items():
            runs = [_run(args, stdin, work / "sessions.parquet") for _ in range(opts.repeat)]
            median = statistics.median(s for s, _ in runs)
            sessions |= {c for _, c in runs}
            base = base or median
            print(f"{name:22s} {median:7.2f} s  x{median / base:5.2f}")
        if len(sessions) != 1:
            raise SystemExit(f"the forms disagree on the session count: {sorted(sessions)}")
        print(f"sessions (every form): {sessions.pop():,}")


if __name__ == "__main__":
    main()

"""Peak memory of ``sessionlab sessionize --memory`` on compressed CSV and JSON Lines and on standard
input, against the in-memory path on the same log (whole process, start-up included).

    PYTHONPATH=. python benchmarks/bench_spool_streams.py                       # 10 M events
    PYTHONPATH=. python benchmarks/bench_spool_streams.py --events 1000000 --memory 512MiB

The log is ``sessionlab workload --profile realistic`` (``generate``: users = events / 10), written by
this script as ``events.csv.gz`` (user_id, ISO-8601 timestamp with its offset, campaign) and
``events.jsonl.gz`` (the same rows, epoch milliseconds); nothing is committed. Each form runs as its
own process with ``--memory SIZE`` (the spool, since the log is larger than that), once more from a
pipe (``cat events.csv.gz | sessionlab sessionize -``), and the in-memory path on the CSV with a
budget that fits. Printed: wall seconds, peak RSS of the process (``wait4``), the shard count and the
sessions; every output file must be byte for byte the in-memory one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv

from simulator.testbench.workload import generate, iso_local


def _rss(cmd: list[str], stdin: Path | None = None) -> tuple[float, dict, int]:
    """Wall seconds, the ``--json`` document and the peak RSS in bytes of ``cmd``, run under a small
    Python parent that reports its child's ``ru_maxrss``."""
    probe = (
        "import json,os,subprocess,sys,time;"
        "f=open(sys.argv[1],'rb') if sys.argv[1] else subprocess.DEVNULL;"
        "t=time.perf_counter();p=subprocess.Popen(sys.argv[2:],stdin=f,stdout=subprocess.PIPE,stderr=subprocess.PIPE);"
        "o,e=p.communicate();w=time.perf_counter()-t;"
        "import resource;r=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss*1024;"
        "sys.stderr.write(e.decode()[-3000:]) if p.returncode else None;"
        "print(json.dumps({'rc':p.returncode,'wall':w,'rss':r,'out':o.decode()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(stdin or ""), *cmd], capture_output=True, text=True, check=False
    )
    if done.returncode or not done.stdout.strip():
        raise SystemExit(f"probe failed: {done.stderr[-3000:]}")
    res = json.loads(done.stdout)
    if res["rc"]:
        raise SystemExit(f"{' '.join(cmd)} exited {res['rc']}: {done.stderr[-3000:]}")
    return res["wall"], json.loads(res["out"]), res["rss"]


def _write(work: Path, events: int) -> tuple[Path, Path]:
    wl = generate(events, max(1, events // 10), "realistic", 1)
    csv_gz, jsonl_gz = work / "events.csv.gz", work / "events.jsonl.gz"
    step = 1_000_000
    with pa.CompressedOutputStream(str(csv_gz), "gzip") as out:
        for k, lo in enumerate(range(0, events, step)):
            part = slice(lo, min(events, lo + step))
            table = pa.table(
                {
                    "user_id": pa.array(wl.user_id[part].astype(str)),
                    "timestamp": pa.array(iso_local(wl.timestamp_ms[part], wl.timezone)),
                    "campaign": pa.array(wl.campaign[part]),
                }
            )
            pcsv.write_csv(table, out, pcsv.WriteOptions(include_header=k == 0, quoting_style="none"))
    with pa.CompressedOutputStream(str(jsonl_gz), "gzip") as out:
        for lo in range(0, events, step):
            rows = zip(
                wl.user_id[lo : lo + step].tolist(),
                wl.timestamp_ms[lo : lo + step].tolist(),
                wl.campaign[lo : lo + step].tolist(),
                strict=True,
            )
            text = "".join(
                f'{{"user_id": {u}, "timestamp": {t}, "campaign": {json.dumps(c) if c else "null"}}}\n'
                for u, t, c in rows
            )
            out.write(text.encode())
    return csv_gz, jsonl_gz


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            h.update(block)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--memory", default="1GiB", help="--memory of the spool runs (default 1GiB)")
    ap.add_argument("--in-memory", default="16GiB", help="--memory of the in-memory run (default 16GiB)")
    ap.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    args = ap.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench-spool-"))
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    csv_gz, jsonl_gz = _write(work, args.events)
    print(f"wrote {args.events:,} events in {time.perf_counter() - t:.0f} s: "
          f"{csv_gz.name} {csv_gz.stat().st_size / 2**20:,.0f} MiB, "
          f"{jsonl_gz.name} {jsonl_gz.stat().st_size / 2**20:,.0f} MiB (gzip)")  # fmt: skip
    cli = [sys.executable, "-m", "simulator.cli", "sessionize"]
    runs = {
        f"csv.gz in memory (--memory {args.in_memory})": ([str(csv_gz), "--memory", args.in_memory], None),
        f"csv.gz spool (--memory {args.memory})": ([str(csv_gz), "--memory", args.memory], None),
        f"stdin csv.gz spool (--memory {args.memory})": (["-", "--memory", args.memory], csv_gz),
        f"jsonl.gz spool (--memory {args.memory})": ([str(jsonl_gz), "--memory", args.memory], None),
    }
    digests = {}
    print(f"{'run':44} {'seconds':>8} {'peak RSS MiB':>13} {'shards':>7} {'ga4 sessions':>13}")
    for label, (argv, feed) in runs.items():
        out = work / f"out-{len(digests)}.parquet"
        epoch = ["--epoch", "ms"] if "jsonl" in label else []
        wall, doc, rss = _rss([*cli, *argv, *epoch, "--out", str(out), "--json"], feed)
        sessions = doc["definitions"]["ga4"]["sessions"]
        print(f"{label:44} {wall:8.1f} {rss / 2**20:13,.0f} {doc.get('shards', '-')!s:>7} {sessions:13,}")
        digests[label] = (_digest(out), sessions)
        out.unlink()
    csv_runs = [v for k, v in digests.items() if k.startswith(("csv", "stdin"))]
    same = len(set(csv_runs)) == 1
    print(f"CSV outputs byte for byte the in-memory one: {same}")
    jsonl = next(v for k, v in digests.items() if "jsonl" in k)
    print(f"JSONL sessions equal the CSV's: {jsonl[1] == csv_runs[0][1]}")


if __name__ == "__main__":
    main()

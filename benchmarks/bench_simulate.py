"""Simulator throughput: events per second per core and peak memory as the population grows.

Each population size runs in its own child process (so peak RSS is that run's own), simulating
``scenarios/google_ads_vs_ga4.toml`` chunk by chunk. ``sink=count`` drops each chunk after counting it
(pure simulation); ``sink=parquet`` streams it to a Parquet file (needs pyarrow). Events per second per
core = events / CPU seconds of the (single-threaded) child.

``--design`` also measures, in this run, the alternatives the engine's design rejected: a numpy
generator per visitor and a SimPy process per visitor (with and without a shared ``simpy.Resource``),
per visitor, next to the engine's own cost per visitor.

``--whole`` times the whole command as a user runs it (``python -m simulator.cli simulate
scenarios/google_ads_vs_ga4.toml --visitors 200000 --out events.parquet``: start-up, imports, simulation
and writing), wall clock, next to a baseline measured in the same run: a process that imports numpy and
pyarrow, makes as many rows of the same column types with numpy and writes them with
``pyarrow.parquet.write_table`` (its defaults but zstd; pandas kept out, as sessionlab keeps it out).
The children run with bytecode caching on (as an installed package has it: ``PYTHONDONTWRITEBYTECODE``
is dropped) after one warm-up run each.

Usage::

    python benchmarks/bench_simulate.py --whole            # the whole command vs the pyarrow baseline
    python benchmarks/bench_simulate.py                    # 10k, 100k, 1M visitors, count + parquet
    python benchmarks/bench_simulate.py --sizes 10000 --sinks count --design
    python benchmarks/bench_simulate.py --sizes 1000000 --sinks count --workers 1 2

With ``--workers``, CPU seconds include the workers' (so events/s/core stays per core) and peak MiB
is the parent's; "speed-up" is the wall time with the first worker count over this row's.

Last ``--whole --repeat 3`` (2026-12-02, 2 cores, load average 11.9 from other jobs: compare CPU)::

    process                       wall s   cpu s  M events/s (wall)  M events/s (cpu)
    sessionlab simulate --out       7.50    1.88               0.14              0.57
    baseline, fast settings         5.61    1.18               0.19              0.91
    baseline, pyarrow defaults      6.37    1.47               0.17              0.73

(0.48 M events/s wall on a quieter machine, load 1.9, before this round; the issue's 1 M/s is not
reached: see README "The whole command" and docs/engine.md.)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "google_ads_vs_ga4.toml"
#: eventsim's published throughput (events/s), the anchor of the issue; not measured here.
EVENTSIM = (115_000, 147_000)


def _child(visitors: int, sink: str, chunk_size: int, workers: int = 1) -> dict[str, float]:
    """Run one simulation in this process (and its workers) and report its figures."""
    sys.path.insert(0, str(ROOT))
    from simulator import load_scenario
    from simulator.engine.simulate import iter_chunks

    scenario = load_scenario(SCENARIO)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    chunks = iter_chunks(scenario, visitors=visitors, chunk_size=chunk_size, workers=workers)
    if sink == "parquet":
        from simulator.log.writer import write_chunks

        with tempfile.TemporaryDirectory() as tmp:
            events = write_chunks(chunks, Path(tmp) / "events.parquet")
            size = (Path(tmp) / "events.parquet").stat().st_size
    else:
        events, size = sum(len(chunk) for chunk in chunks), 0
    wall = time.perf_counter() - wall0
    done = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, joined by now
    cpu = time.process_time() - cpu0 + done.ru_utime + done.ru_stime
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "visitors": visitors,
        "events": events,
        "cpu": cpu,
        "wall": wall,
        "peak_mib": peak_kib / 1024,
        "bytes": size,
    }


def _design(n: int = 20_000) -> dict[str, float]:
    """Microseconds per visitor of the rejected designs and of the chosen block generator."""
    import numpy as np
    import simpy

    out = {}
    t = time.perf_counter()
    for i in range(n):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(1, spawn_key=(i,))))
        rng.random(8)
        rng.lognormal(0, 1, 6)
    out["generator per visitor"] = (time.perf_counter() - t) / n * 1e6
    t = time.perf_counter()
    for b in range(n // 8192 + 1):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(1, spawn_key=(b,))))
        rng.random(8 * 8192)
        rng.lognormal(0, 1, 6 * 8192)
    out["generator per block of 8192"] = (time.perf_counter() - t) / n * 1e6
    arrivals = np.sort(np.random.default_rng(0).random(n) * 86_400)

    def visitor(env, site, t0):
        yield env.timeout(t0)
        if site is not None:
            with site.request() as req:
                yield req
                yield env.timeout(1.0)
        yield env.timeout(60.0)

    for label, shared in (("SimPy process per visitor", False), ("... with a shared simpy.Resource", True)):
        env = simpy.Environment()
        site = simpy.Resource(env, capacity=50) if shared else None
        t = time.perf_counter()
        for t0 in arrivals:
            env.process(visitor(env, site, float(t0)))
        env.run()
        out[label] = (time.perf_counter() - t) / n * 1e6
    return out


def _run_child(visitors: int, sink: str, chunk_size: int, workers: int = 1) -> dict[str, float]:
    code = (
        f"import json, sys; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import bench_simulate as b; "
        f"print(json.dumps(b._child({visitors}, {sink!r}, {chunk_size}, {workers})))"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # spawned workers import the package from here
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


_BASELINE = """
import sys
class NoPandas:  # pyarrow would import pandas (0.4 s) to check input types; sessionlab does not
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NoPandas())
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
n, out, settings = int(sys.argv[1]), sys.argv[2], sys.argv[3]
rng = np.random.default_rng(0)
cols = {}
for name in ("user", "person", "visit", "ts", "click"):
    cols[name] = pa.array(np.sort(rng.integers(0, n, n)))
for name in ("journey", "units"):
    cols[name] = pa.array(rng.integers(0, 8, n).astype(np.int32))
NAMED = ("kind", "cause", "source", "loss", "device", "campaign", "page", "network")
words = pa.array([f"name-{k}" for k in range(8)])
for name in NAMED:  # as sessionlab writes them: names, as dictionaries of 8 strings
    cols[name] = pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 8, n).astype(np.int32)), words)
for name in ("tracked", "counted"):
    cols[name] = pa.array(rng.random(n) < 0.5)
for name in ("cost", "value"):
    cols[name] = pa.array(np.round(rng.random(n), 2))
table = pa.table(cols)
if settings == "defaults":  # pyarrow's defaults (dictionary tried on every column, statistics on all)
    pq.write_table(table, out, compression="zstd")
else:  # what a fast writer sets (sessionlab's writer's settings): dictionaries for names only, etc.
    pq.write_table(
        table, out, compression="zstd", row_group_size=262_144, use_dictionary=list(NAMED),
        write_statistics=[c for c in cols if c not in NAMED],
        column_encoding=dict.fromkeys(("user", "person", "ts"), "DELTA_BINARY_PACKED"),
    )
"""

#: The baselines: the same rows written with a fast writer's settings, and with pyarrow's defaults.
_BASELINES = {"baseline, fast settings": "fast", "baseline, pyarrow defaults": "defaults"}


def _timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one child process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.perf_counter()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - wall0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def whole(visitors: int, repeat: int) -> None:
    """The whole ``simulate --out events.parquet`` command vs numpy + pyarrow writing as many rows."""
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        out, base = Path(tmp) / "events.parquet", Path(tmp) / "baseline.parquet"
        command = [sys.executable, "-m", "simulator.cli", "simulate", str(SCENARIO)]
        command += ["--visitors", str(visitors), "--out", str(out)]
        _timed(command)  # warm-up: bytecode, file cache
        events = pq.ParquetFile(out).metadata.num_rows
        baselines = {
            label: [sys.executable, "-c", _BASELINE, str(events), str(base), how]
            for label, how in _BASELINES.items()
        }
        for argv in baselines.values():
            _timed(argv)
        runs: dict[str, list[tuple[float, float]]] = {"sessionlab simulate --out": []}
        runs.update({label: [] for label in baselines})
        for _ in range(repeat):  # interleaved, so all see the same load
            runs["sessionlab simulate --out"].append(_timed(command))
            for label, argv in baselines.items():
                runs[label].append(_timed(argv))
        size = out.stat().st_size
    print(
        f"whole process, {events:,} events ({visitors:,} visitors, {SCENARIO.name}), {repeat} runs each, "
        f"best wall; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; file {size / 1e6:.1f} MB"
    )
    print(f"{'process':<28} {'wall s':>7} {'cpu s':>7} {'M events/s (wall)':>18} {'M events/s (cpu)':>17}")
    best = {}
    for label, times in runs.items():
        wall = min(w for w, _ in times)
        cpu = min(c for _, c in times)
        best[label] = wall
        rates = f"{events / wall / 1e6:>18.2f} {events / cpu / 1e6:>17.2f}"
        print(f"{label:<28} {wall:>7.2f} {cpu:>7.2f} {rates}")
    for label in baselines:
        print(f"sessionlab / {label} speed: {best[label] / best['sessionlab simulate --out']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--sinks", nargs="+", default=["count", "parquet"], choices=["count", "parquet"])
    parser.add_argument("--chunk-size", type=int, default=65_536)
    parser.add_argument("--design", action="store_true", help="also time the rejected designs")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1],
        help="worker processes per row (e.g. 1 2); 'speed-up' is wall time of the first count over this one",
    )
    parser.add_argument("--whole", action="store_true", help="time the whole command against a baseline")
    parser.add_argument("--whole-visitors", type=int, default=200_000, metavar="N")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each process with --whole")
    args = parser.parse_args()
    if args.whole:
        whole(args.whole_visitors, args.repeat)
        return
    print(
        f"scenario {SCENARIO.name}, chunk size {args.chunk_size:,}, one child process per row, "
        f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'sink':>8} {'visitors':>10} {'workers':>7} {'events':>11} {'cpu s':>7} {'wall s':>7} "
        f"{'events/s/core':>14} {'vs eventsim':>12} {'peak MiB':>9} {'speed-up':>8}"
    )
    print(header)
    print("-" * len(header))
    for sink in args.sinks:
        for visitors in args.sizes:
            first_wall = None
            for workers in args.workers:
                r = _run_child(visitors, sink, args.chunk_size, workers)
                first_wall = first_wall or r["wall"]
                rate = r["events"] / r["cpu"]
                ratio = f"{rate / EVENTSIM[1]:.1f}-{rate / EVENTSIM[0]:.1f}x"
                print(
                    f"{sink:>8} {visitors:>10,} {workers:>7} {r['events']:>11,} {r['cpu']:>7.2f} "
                    f"{r['wall']:>7.2f} {rate:>14,.0f} {ratio:>12} {r['peak_mib']:>9.0f} "
                    f"{first_wall / r['wall']:>7.2f}x"
                )
    if args.design:
        print("\ncost per visitor, measured in this run (microseconds)")
        for label, us in _design().items():
            print(f"  {label:<36} {us:8.2f}")
        r = _run_child(100_000, "count", args.chunk_size)
        print(f"  {'sessionlab engine, whole visit':<36} {r['cpu'] / 100_000 * 1e6:8.2f}")


if __name__ == "__main__":
    main()

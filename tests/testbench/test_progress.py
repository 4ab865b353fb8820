"""The test bench's progress callbacks: conform counts its steps, bench one tick per run slot."""

from __future__ import annotations

from simulator.testbench.adapters import parse_sessionizer
from simulator.testbench.bench import bench
from simulator.testbench.conform import conform


def test_conform_ticks_once_per_step(edge_workload, wrong_module):
    """Agreeing: the reference and the one run. Disagreeing: also the subset run, each user, each class."""
    ticks: list[int] = []
    res = conform(edge_workload, parse_sessionizer("builtin:numpy"), "ga4", on_progress=ticks.append)
    assert res.ok
    assert ticks == [1, 1]
    ticks.clear()
    res = conform(
        edge_workload, parse_sessionizer(f"py:{wrong_module}:utc_midnight"), "ga4", on_progress=ticks.append
    )
    assert not res.ok
    assert set(ticks) == {1}
    assert len(ticks) == 3 + res.classified + len(res.counterexamples)


def test_bench_ticks_once_per_run_slot(tmp_path):
    """sizes x repeats x sessionizers ticks, one per finished child run."""
    ticks: list[int] = []
    specs = [parse_sessionizer("builtin:numpy"), parse_sessionizer("builtin:sessionlab")]
    results = bench(specs, [200, 400], out=tmp_path, repeats=2, on_progress=ticks.append)
    assert ticks == [1] * (2 * 2 * 2)
    assert all(m.status == "ok" for m in results)

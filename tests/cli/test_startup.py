"""What a ``sessionlab sessionize`` process loads: not the simulator, scipy or pandas (start-up is
part of every run's time; the benchmarks time it, this checks what it is made of)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
sys.argv = ["sessionlab", *sys.argv[1:]]
import os
import simulator.cli.main as cli
heavy = ("pandas", "scipy", "simpy", "simulator.engine", "simulator.analysis", "simulator.report.text")
def report(code):  # also where the console script ends at once, skipping teardown
    print("LOADED", sorted(m for m in heavy if m in sys.modules), code, flush=True)
    os._exit(code)
cli._exit_at_once = report
report(cli.main())
"""


def _loaded(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    return next(line for line in done.stdout.splitlines() if line.startswith("LOADED"))


def test_sessionize_loads_neither_the_simulator_nor_pandas(tmp_path: Path) -> None:
    log = tmp_path / "e.csv"
    log.write_text("user_id,timestamp,campaign\nu,2024-05-01T10:00:00Z,spring\nu,2024-05-01T11:00:00Z,\n")
    for out in ("o.parquet", "o.csv", "o.jsonl"):
        assert _loaded("--debug", "sessionize", str(log), "--out", str(tmp_path / out)) == "LOADED [] 0"
    assert (tmp_path / "o.csv").read_text().splitlines()[1:] == [
        "2,u,2024-05-01T10:00:00Z,0,new_user",
        "3,u,2024-05-01T11:00:00Z,1,inactivity",
    ]


def test_the_full_help_still_lists_every_command() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "--help"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for command in ("run", "check", "sessionize", "workload", "conform", "audit", "bench", "validate"):
        assert f"\n    {command} " in done.stdout or f"\n    {command}\n" in done.stdout

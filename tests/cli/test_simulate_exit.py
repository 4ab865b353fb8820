"""The console script's ``simulate`` ends without the interpreter's teardown, yet loses nothing (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = str(ROOT / "scenarios" / "google_ads_vs_ga4.toml")


def test_simulate_exits_at_once_with_its_file_and_its_last_line(tmp_path) -> None:
    """After os._exit: exit 0, the file complete and in place, the stderr line flushed, no temporary left."""
    out = tmp_path / "events.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "simulate", SCENARIO, "--visitors", "3000", "--out", out],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = pq.ParquetFile(out).metadata.num_rows
    assert done.stderr == f"{out}: {rows:,} events\n"
    assert rows > 3000
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


def test_main_called_from_python_returns_instead_of_exiting(tmp_path, capsys) -> None:
    """main(argv) (tests, notebooks) returns its code: the early exit is for the console script only."""
    from simulator.cli.main import main

    out = tmp_path / "events.csv"
    assert main(["simulate", SCENARIO, "--visitors", "500", "--out", str(out)]) == 0
    assert out.read_text().count("\n") > 500
    assert "events" in capsys.readouterr().err


def test_sessionize_exits_at_once_with_its_file_and_its_json(tmp_path) -> None:
    """sessionize too: exit 0 after os._exit, the whole JSON on a pipe, the file complete, no temporary."""
    import json

    log = tmp_path / "log.csv"
    rows = ["user_id,timestamp"] + [f"u{i % 7},2024-05-01T10:{i % 60:02d}:00Z" for i in range(300)]
    log.write_text("\n".join(rows) + "\n")
    out = tmp_path / "sessions.parquet"
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "sessionize", log, "--out", out, "--json", "-q"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["rows"] == 300
    assert doc["definitions"]["ga4"]["users"] == 7
    assert pq.ParquetFile(out).metadata.num_rows == 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv", "sessions.parquet"]

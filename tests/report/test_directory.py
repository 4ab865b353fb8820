"""Issue 17: ``run --report DIR`` writes a fresh directory beside the target and renames it into place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator import load_scenario, run
from simulator.errors import ScenarioError
from simulator.report.directory import MARKER, write_report
from tests.conftest import SCENARIOS

AMAZON = SCENARIOS / "amazon_clicks_vs_sessions.toml"


@pytest.fixture(scope="module")
def result():
    return run(load_scenario(AMAZON))


def test_a_new_report_replaces_the_old_one_whole(tmp_path: Path, result) -> None:
    target = tmp_path / "rep"
    write_report(result, target)
    (target / "stale.png").write_bytes(b"from an older run")
    written = write_report(result, target)
    names = sorted(p.name for p in target.iterdir())
    assert "stale.png" not in names  # nothing of the previous run is mixed in
    assert sorted(p.name for p in written) == sorted(n for n in names if n != MARKER)
    assert json.loads((target / "result.json").read_text())["scenario"]
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no staging directory left


def test_a_failure_midway_leaves_the_previous_report(tmp_path: Path, result, monkeypatch) -> None:
    """A full disk while writing report.md: the old report stays, nothing half-written appears."""
    target = tmp_path / "rep"
    write_report(result, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    def full(*args: object, **kwargs: object) -> str:
        raise ScenarioError(
            str(kwargs.get("path", "x")), "", "cannot write the file: No space left on device"
        )

    from simulator.report import markdown

    monkeypatch.setattr(markdown, "render_markdown", full)
    with pytest.raises(ScenarioError, match="No space left"):
        write_report(result, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_a_directory_with_other_files_is_refused(tmp_path: Path, result) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="not a sessionlab report"):
        write_report(result, tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_stale_staging_directory_of_a_killed_run_is_removed(tmp_path: Path, result) -> None:
    import subprocess
    import sys

    from simulator.log.atomic import temp_prefix

    pid = int(
        subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
        ).stdout
    )
    stale = tmp_path / f"{temp_prefix('rep', pid)}zz.tmp"
    stale.mkdir()
    (stale / "result.json").write_text("{")
    write_report(result, tmp_path / "rep")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]

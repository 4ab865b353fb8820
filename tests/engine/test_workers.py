"""Worker processes: the same bytes whatever the number of workers and the chunk size; clean Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simulator.cli.main import main
from simulator.engine.visits import Ids
from simulator.engine.workers import shift_ids
from tests._popkit import to_toml

ROOT = Path(__file__).resolve().parents[2]

#: Three blocks of 8,192 visitors (so two workers and two chunk sizes cut them differently), kept cheap.
SMALL = {
    "scenario": {"name": "workers", "seed": 3, "start": "2024-05-06T00:00:00", "timezone": "Europe/Berlin"},
    "population": {"visitors": 17_000, "days": 2},
    "campaign": [
        {"name": "search", "share": 0.4, "cpc": 0.8, "daily_budget": 150},
        {"name": "social", "network": "meta", "share": 0.2, "ctr": 0.01, "cpm": 6.0},
    ],
    "behavior": {"pages": 2, "returns": 0.3},
    "tracking": {"capacity": 20},
}


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "workers.toml"
    path.write_text(to_toml(SMALL), encoding="utf-8")
    return path


def test_shift_ids_renumbers_but_keeps_missing_ids() -> None:
    """Users always shift; visits and clicks shift except -1 (no visit, no click)."""
    cols = {"user": np.array([0, 1]), "visit": np.array([-1, 0]), "click": np.array([2, -1])}
    shift_ids(cols, Ids(user=10, visit=5, click=7))
    assert cols["user"].tolist() == [10, 11]
    assert cols["visit"].tolist() == [-1, 5]
    assert cols["click"].tolist() == [9, -1]


def test_run_json_and_csv_bytes_do_not_depend_on_workers_or_chunk_size(tmp_path, capsys) -> None:
    """run --json and simulate --out x.csv: identical bytes for workers 1/2 and chunk sizes 8192/16384."""
    path = str(_file(tmp_path))
    outputs = set()
    for workers, chunk in (("1", "8192"), ("2", "16384")):
        assert main(["run", path, "--json", "--workers", workers, "--chunk-size", chunk]) == 0
        outputs.add(capsys.readouterr().out)
    assert len(outputs) == 1  # (workers 2 with chunk 8192 is the CSV case below)
    assert '"clicks"' in outputs.pop()
    files = []
    for workers, chunk in (("1", "16384"), ("2", "8192")):
        out = tmp_path / f"events-{workers}-{chunk}.csv"
        assert main(["simulate", path, "--out", str(out), "--workers", workers, "--chunk-size", chunk]) == 0
        files.append(out.read_bytes())
    assert files[0] == files[1]
    assert files[0].count(b"\n") > 17_000


def _children(pid: int) -> set[int]:
    """Direct children of ``pid`` (Linux /proc)."""
    found = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found |= {int(c) for c in (task / "children").read_text().split()}
    except OSError:  # it (or one of its threads) has just exited
        pass
    return found


def _as_a_terminal_job() -> None:
    """Give the child the default SIGINT action, as a terminal's foreground job has.

    A process started in the background of a non-interactive shell (CI runners, agents, `cmd &`)
    inherits SIGINT *ignored*; Python then installs no KeyboardInterrupt handler and a SIGINT does
    nothing at all, which made this test wait out its deadline on such machines.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:  # it has just exited
        return ""


#: Sends itself SIGINT while the pool starts (just before the workers are spawned): inside
#: BlockPool's window where SIGINT is ignored, so it must stay blocked and pending, then be raised.
_SIGINT_DURING_START = """
import os, signal, multiprocessing.pool as mp
from simulator.engine.workers import BlockPool
start = mp.Pool._repopulate_pool
def interrupted_start(self):
    os.kill(os.getpid(), signal.SIGINT)
    return start(self)
mp.Pool._repopulate_pool = interrupted_start
try:
    with BlockPool(2):
        pass
    print("lost")
except KeyboardInterrupt:
    print("raised")
"""


def test_a_ctrl_c_while_the_pool_starts_is_raised_not_lost() -> None:
    """The first Ctrl-C during the pool's start is KeyboardInterrupt, not ignored.

    Before the fix the resource tracker (started by the pool's first semaphore) unblocked SIGINT
    while BlockPool had it ignored, and this printed "lost". A fresh process, so no tracker runs yet.
    """
    proc = subprocess.run(
        [sys.executable, "-c", _SIGINT_DURING_START],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_as_a_terminal_job,
        check=False,
    )
    assert proc.stdout.strip() == "raised", proc.stderr


@pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="finds the worker processes through Linux's /proc"
)
def test_ctrl_c_leaves_no_file_and_no_worker(tmp_path) -> None:
    """Ctrl-C (SIGINT to the group) in simulate --workers 2: exit 130, no file, no traceback, no worker."""
    path = _file(tmp_path)
    out = tmp_path / "events.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "simulator.cli", "simulate", str(path), "--out", str(out)]
    cmd += ["--workers", "2", "--visitors", "2000000", "--chunk-size", "8192"]
    # its own process group, which gets the SIGINT as a terminal's Ctrl-C does (workers included)
    proc = subprocess.Popen(
        cmd,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_a_terminal_job,  # noqa: PLW1509 - no threads here
    )
    try:
        # wait on events, not on time: both workers spawned (the pool's start)
        workers: set[int] = set()
        deadline = time.monotonic() + 300  # generous: a loaded 2-core machine is slow to spawn
        while time.monotonic() < deadline and proc.poll() is None:
            workers = {c for c in _children(proc.pid) if "spawn_main" in _cmdline(c)}
            if len(workers) >= 2:
                break
            time.sleep(0.01)
        assert proc.poll() is None, f"simulate ended before the Ctrl-C: {proc.communicate()[1]}"
        assert len(workers) >= 2, "the workers never appeared"
        # ONE Ctrl-C, in the pool's start window: the workers are importing the engine and the parent
        # starts the plan, importing numpy.random on first use, whose Cython set-up swallowed a
        # KeyboardInterrupt (a few in a hundred runs under load; test_a_swallowed_ctrl_c_...)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=300)  # generous: terminating the pool on a loaded machine
    finally:  # a failed test must not leave its 2 M-visitor simulate (and workers) running
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["workers.toml"]  # no .events.csv.*.tmp left
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_a_swallowed_ctrl_c_still_stops_the_command(tmp_path, monkeypatch, capsys) -> None:
    """A Ctrl-C whose KeyboardInterrupt library code catches (as Cython's memoryview set-up does, in
    ``try: Sequence.register(...) except: pass`` while numpy.random is imported) still ends simulate:
    exit 130 at the next chunk, no file. Before the fix this wrote the whole file and returned 0.
    """
    import simulator.engine.simulate as engine

    plan = engine.make_plan

    def swallowing_plan(*args, **kwargs):
        with contextlib.suppress(BaseException):  # ... and is swallowed, as by a bare except
            signal.raise_signal(signal.SIGINT)  # the Ctrl-C lands here ...
        return plan(*args, **kwargs)

    monkeypatch.setattr(engine, "make_plan", swallowing_plan)
    out = tmp_path / "events.csv"
    # Python's own handler, as in a terminal's job (a background job's pytest inherits SIGINT ignored)
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        code = main(["simulate", str(_file(tmp_path)), "--out", str(out)])
        after = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert code == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workers.toml"]
    assert after is signal.default_int_handler  # restored after the command

"""Hostile sessionizers: ones that die, hang, leave processes behind or return NaN must never end
conform silently, outlive it, or be believed (issue 17)."""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simulator.cli.main import main
from simulator.testbench.adapters import SessionizerError, canonical_ids, parse_sessionizer
from simulator.testbench.conform import conform
from simulator.testbench.isolate import reuse_children

_SMALL = ["--events", "200", "--users", "10"]

HOSTILE = """
import os, signal, subprocess, sys, time
import numpy as np

def exits(user_id, ts, campaign):
    os._exit(0)

def killed(user_id, ts, campaign):
    print("about to die", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

def hangs(user_id, ts, campaign):
    time.sleep(1000)

def hangs_with_grandchild(user_id, ts, campaign):
    proc = subprocess.Popen(["sleep", "1000"])
    open(os.environ["HOSTILE_PID_FILE"], "w").write(str(proc.pid))
    time.sleep(1000)

def nan_ids(user_id, ts, campaign):
    ids = np.arange(len(ts), dtype=float)
    ids[3] = np.nan
    return ids

def inf_ids(user_id, ts, campaign):
    ids = np.zeros(len(ts))
    ids[0] = np.inf
    return ids

def prints_and_agrees(user_id, ts, campaign):
    print("chatty user code on stdout")
    return user_id  # one session per user: wrong for ga4, but an answer

def records_pid(user_id, ts, campaign):
    with open(os.environ["HOSTILE_PID_FILE"], "a") as fh:
        fh.write(f"{os.getpid()}\\n")
    return user_id
"""


@pytest.fixture
def hostile(tmp_path, monkeypatch) -> str:
    (tmp_path / "hostile_sessionizers.py").write_text(HOSTILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "hostile_sessionizers"


def _gone(pid: int, deadline_s: float = 120) -> bool:
    """Whether ``pid`` ends (or is a zombie) within a generous deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        status = Path(f"/proc/{pid}/status")
        try:
            if "zombie" in status.read_text():
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


def _pid_from(path: Path, deadline_s: float = 120) -> int:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if path.is_file() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.05)
    raise AssertionError(f"{path} never written")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("exits", "the sessionizer's process ended during the call (exit status 0) without returning"),
        ("killed", "(killed by SIGKILL) without returning session ids; its last words: about to die"),
    ],
)
def test_a_py_sessionizer_that_dies_is_a_failure_not_a_silent_exit_0(
    hostile, tmp_path, capsys, name, message
) -> None:
    """os._exit(0) or SIGKILL inside the function: conform exits 2 with one line, never 0 and silent."""
    spec = f"py:{hostile}:{name}"
    code = main(["conform", "--sessionizer", spec, *_SMALL, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith(f"sessionlab: error: --sessionizer {spec!r}: ")
    assert message in err


def test_a_hanging_py_sessionizer_is_ended_at_the_time_limit_with_what_it_started(
    hostile, tmp_path, capsys, monkeypatch
) -> None:
    """A py: function that sleeps (and started a grandchild): killed at --time-limit, group and all."""
    pid_file = tmp_path / "grandchild.pid"
    monkeypatch.setenv("HOSTILE_PID_FILE", str(pid_file))
    spec = f"py:{hostile}:hangs_with_grandchild"
    argv = ["conform", "--sessionizer", spec, *_SMALL, "--time-limit", "20", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        f"sessionlab: error: --sessionizer {spec!r}: did not finish within the time limit "
        "(20 s, --time-limit)\n"
    )
    assert _gone(_pid_from(pid_file)), "the sessionizer's grandchild outlived conform"


def test_a_cmd_sessionizer_leaves_no_process_behind(edge_workload, tmp_path) -> None:
    """A command that starts `sleep 1000` in the background and then answers: the sleep is killed."""
    script = tmp_path / "leaves_a_sleep.py"
    pid_file = tmp_path / "sleep.pid"
    script.write_text(
        "import subprocess, sys\n"
        "proc = subprocess.Popen(['sleep', '1000'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(proc.pid))\n"
        "rows = open(sys.argv[1]).read().splitlines()[1:]\n"
        "open(sys.argv[2], 'w').write(''.join(r.split(',')[0] + '\\n' for r in rows))\n"
    )
    spec = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{input}} {{output}}"
    res = conform(edge_workload, parse_sessionizer(spec), "ga4", shrink_examples=False)
    assert not res.ok  # one session per user: an answer, and a wrong one
    assert _gone(_pid_from(pid_file)), "the command's background sleep outlived conform"


def test_a_cmd_sessionizer_over_the_time_limit_is_killed_with_its_children(edge_workload, tmp_path) -> None:
    """--time-limit kills the whole process group, not only the `sh -c` wrapper (it was 4 of 4)."""
    pid_file = tmp_path / "sleep.pid"
    spec = f"cmd:sleep 1000 & echo $! > {shlex.quote(str(pid_file))}; wait; : {{input}} {{output}}"
    with pytest.raises(SessionizerError, match=r"did not finish within the time limit \(20 s"):
        parse_sessionizer(spec)(edge_workload, "ga4", time_limit=20)
    assert _gone(_pid_from(pid_file)), "the command's sleep outlived the time limit"


@pytest.mark.parametrize(
    ("name", "shown"),
    [("nan_ids", "returned session id nan for row 4 (1 such rows)"), ("inf_ids", "session id inf for row 1")],
)
def test_nan_and_inf_session_ids_are_refused(hostile, edge_workload, name, shown) -> None:
    """NaN is not equal to itself and infinity names no session: a clear error, not a verdict."""
    with pytest.raises(SessionizerError) as info:
        conform(edge_workload, parse_sessionizer(f"py:{hostile}:{name}"), "ga4")
    assert shown in str(info.value)
    assert "a session id must be a whole number or text, not NaN or infinite" in str(info.value)


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-inf", "Infinity"])
def test_nan_and_inf_written_as_text_are_refused(text) -> None:
    """A command's output line 'nan' (pandas writes NaN so) is refused as well."""
    with pytest.raises(SessionizerError, match=f"returned session id {text} for row 2"):
        canonical_ids(np.array([1, 1, 2]), np.array(["a", text, "b"]), 3, "cmd:x")
    assert canonical_ids(np.array([1, 2]), np.array([0.5, 2.0]), 2, "py:x").tolist() == [0, 1]


def test_print_in_a_py_sessionizer_does_not_break_the_protocol(hostile, edge_workload) -> None:
    """User code printing to stdout runs in the child; its answer still arrives."""
    res = conform(edge_workload, parse_sessionizer(f"py:{hostile}:prints_and_agrees"), "ga4")
    assert res.agreement.users == 150
    assert res.agreement.sessions_cand == 150


def test_one_child_answers_every_call_inside_reuse_children(hostile, edge_workload, tmp_path, monkeypatch):
    """Calls in one scope share one child (the shrinker calls often); outside, each call has its own."""
    pids = tmp_path / "pids"
    monkeypatch.setenv("HOSTILE_PID_FILE", str(pids))
    sz = parse_sessionizer(f"py:{hostile}:records_pid")
    with reuse_children():
        sz(edge_workload, "ga4")
        sz(edge_workload, "ga4")
    inside = pids.read_text().split()
    assert len(inside) == 2
    assert len(set(inside)) == 1
    assert int(inside[0]) != os.getpid()  # the user's function never runs in sessionlab's process
    assert _gone(int(inside[0]))  # and its child ended with the scope
    pids.unlink()
    sz(edge_workload, "ga4")
    sz(edge_workload, "ga4")
    assert len(set(pids.read_text().split())) == 2


def test_conform_help_states_the_default_time_limit(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["conform", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "seconds allowed per run of a py: or cmd: sessionizer" in text
    assert "(default 300)" in text


def test_conform_workload_csv_refuses_times_without_offset_as_sessionize_does(tmp_path, capsys) -> None:
    """One reader for both: a naive local time is refused by conform --workload with sessionize's line."""
    log = tmp_path / "naive.csv"
    log.write_text("user_id,timestamp,campaign\n1,2024-05-01T10:00:00,a\n1,2024-05-01T10:10:00+02:00,\n")
    assert main(["sessionize", str(log), "--out", str(tmp_path / "s.csv")]) == 2
    sessionize_err = capsys.readouterr().err
    argv = ["conform", "--sessionizer", "builtin:numpy", "--workload", str(log), "--out", str(tmp_path / "c")]
    assert main(argv) == 2
    conform_err = capsys.readouterr().err
    assert conform_err == sessionize_err
    assert "line 2: timestamp '2024-05-01T10:00:00' has no UTC offset" in conform_err


def test_conform_workload_csv_with_offsets_reads_the_same_instants(tmp_path) -> None:
    """ISO times with offsets and string user ids: exact epoch ms, file order, campaigns kept."""
    from simulator.testbench.workload import load_workload

    log = tmp_path / "iso.csv"
    log.write_text(
        "user_id,timestamp,campaign\nb,2024-05-01T10:00:00+02:00,spring\na,2024-05-01T08:00:00.5Z,\n"
    )
    wl = load_workload(log)
    assert wl.timestamp_ms.tolist() == [1714550400000, 1714550400500]
    assert wl.user_id.tolist() == [1, 0]
    assert wl.campaign.tolist() == ["spring", ""]


def test_bench_at_its_time_limit_kills_what_a_cmd_started(tmp_path, capsys) -> None:
    """bench's child gets SIGTERM at the limit and kills the command's group: no sleep survives."""
    pid_file = tmp_path / "sleep.pid"
    spec = f"slow=cmd:sleep 1000 & echo $! > {shlex.quote(str(pid_file))}; wait; : {{input}} {{output}}"
    argv = [
        "bench", "--sessionizer", spec, "--sizes", "300", "--repeats", "1", "--time-limit", "5",
        "--out", str(tmp_path / "b"),
    ]  # fmt: skip
    assert main(argv) == 1
    assert "every run of slow failed or timed out" in capsys.readouterr().err
    assert _gone(_pid_from(pid_file)), "the command's sleep outlived bench"


#: Hangs at import only inside bench's measuring child (which has imported simulator.testbench.bench);
#: loads at once where sessionlab checks the spec first (conform's isolated child, the parent).
_HANGS_IN_BENCH = """
import sys, time
if "simulator.testbench.bench" in sys.modules:
    time.sleep(1000)

def f(user_id, ts, campaign):
    return user_id
"""


def test_bench_gives_up_on_a_child_that_never_says_ready(tmp_path, capsys, monkeypatch) -> None:
    """A sessionizer whose loading never ends in bench's child: an error row naming the deadline, the
    child ended, exit 1 (it used to wait for "ready" forever)."""
    from simulator.testbench import bench

    (tmp_path / "stuck_at_import.py").write_text(_HANGS_IN_BENCH)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(bench, "_LOAD_LIMIT_S", 20.0)  # generous for the load of a 300-event workload
    argv = [
        "bench", "--sessionizer", "stuck=py:stuck_at_import:f", "--sizes", "300", "--repeats", "1",
        "--time-limit", "60", "--out", str(tmp_path / "b"),
    ]  # fmt: skip
    t0 = time.monotonic()
    assert main(argv) == 1
    assert time.monotonic() - t0 < 900  # it ended: no waiting on the 1000 s sleep (generous bound)
    assert "every run of stuck failed or timed out" in capsys.readouterr().err
    doc = json.loads((tmp_path / "b" / "bench.json").read_text())
    [row] = doc["results"]
    assert row["status"] == "error"
    assert "did not load the workload and prepare the sessionizer within 20 s" in row["message"]

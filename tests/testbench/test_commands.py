"""The workload, conform and bench subcommands: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import sys
import warnings

import pytest

from simulator.cli.main import main


def test_workload_command_writes_the_files(tmp_path, capsys):
    """sessionlab workload writes events.csv, workload.json and reports them."""
    assert (
        main(
            ["workload", "--events", "1e3", "--users", "50", "--profile", "realistic", "--out", str(tmp_path)]
        )
        == 0
    )
    assert (tmp_path / "events.csv").read_text().startswith("user_id,timestamp_ms,timestamp,campaign\n")
    assert json.loads((tmp_path / "workload.json").read_text())["events"] == 1000
    out = capsys.readouterr().out
    assert "wrote 1,000 events of 50 users (profile realistic, seed 0, time zone America/New_York)" in out


def test_conform_exits_1_and_the_counterexample_reproduces(tmp_path, capsys, wrong_module):
    """A wrong sessionizer: exit 1, a table, a CSV; conform on that CSV fails the same way."""
    spec = f"py:{wrong_module}:utc_midnight"
    out = tmp_path / "out"
    argv = [
        "conform",
        "--sessionizer",
        spec,
        "--events",
        "3000",
        "--users",
        "150",
        "--seed",
        "7",
        "--out",
        str(out),
    ]
    assert main(argv) == 1
    text = capsys.readouterr().out
    assert "minimal counterexample [midnight]: 2 rows" in text
    assert "result: DISAGREES (1 class of difference)" in text
    csv = out / "counterexample-midnight.csv"
    doc = json.loads((out / "conform.json").read_text())
    assert doc["classes"]["midnight"]["users"] == doc["agreement"]["users_disagree"]
    assert (
        main(["conform", "--sessionizer", spec, "--workload", str(csv), "--out", str(tmp_path / "again")])
        == 1
    )
    assert "minimal counterexample [midnight]: 2 rows" in capsys.readouterr().out


def test_conform_exits_0_for_a_conforming_sessionizer(tmp_path, capsys):
    """builtin:numpy implements ga4: exit 0."""
    argv = ["conform", "--sessionizer", "builtin:numpy", "--events", "2000", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert "agrees with the definition on every event" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["conform", "--sessionizer", "nope"], "--sessionizer 'nope': expected [LABEL=]KIND:VALUE"),
        (
            ["conform", "--sessionizer", "builtin:numpy", "--definition", "ga5"],
            "unknown session definition 'ga5'",
        ),
        (
            ["conform", "--sessionizer", "builtin:numpy", "--workload", "x", "--events", "5"],
            "either --workload",
        ),
        (["conform", "--sessionizer", "builtin:numpy", "--workload", "/nonexistent"], "not a workload"),
        (
            ["bench", "--sessionizer", "builtin:numpy", "--sizes", "1e3,ten"],
            "--sizes: expected whole numbers from 1 to 1e9",
        ),
        (["bench", "--sessionizer", "builtin:numpy", "--sessionizer", "builtin:numpy"], "share a label"),
        (["workload", "--events", "5", "--users", "9", "--out", "x"], "need 1 <= users <= events"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    """Bad arguments: exit 2, one line on stderr naming the option."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_bench_measures_in_child_processes(tmp_path, capsys, wrong_module, monkeypatch):
    """A tiny bench: each sessionizer measured, ratio to the baseline, JSON written, wrong counts shown."""
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    argv = [
        "bench", "--sessionizer", "builtin:numpy", "--sessionizer", f"utc=py:{wrong_module}:utc_midnight",
        "--sizes", "500", "--repeats", "1", "--out", str(tmp_path / "b"), "--time-limit", "60",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    doc = json.loads((tmp_path / "b" / "bench.json").read_text())
    rows = {r["label"]: r for r in doc["results"]}
    assert rows["numpy"]["status"] == "ok"
    assert rows["numpy"]["ratio"] == 1.0
    assert rows["numpy"]["sessions"] == rows["numpy"]["sessions_expected"]
    assert rows["utc"]["sessions"] > rows["utc"]["sessions_expected"]  # splits more than ga4
    assert rows["numpy"]["peak_rss_mb"][0] > 1
    assert doc["baseline"] == "numpy"
    assert "events/s" in out


def _one_line(err: str) -> str:
    """The single stderr line (no traceback), without the 'sessionlab: error: ' prefix."""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.removeprefix("sessionlab: error: ").rstrip("\n")


_SMALL = ["--events", "200", "--users", "10"]


@pytest.mark.parametrize(
    "argv",
    [
        ["workload", *_SMALL],
        ["conform", "--sessionizer", "builtin:numpy", *_SMALL],
        ["bench", "--sessionizer", "builtin:numpy", "--sizes", "200", "--repeats", "1"],
    ],
    ids=["workload", "conform", "bench"],
)
def test_out_that_is_a_file_or_under_one_is_one_line(argv, tmp_path, capsys):
    """--out naming an existing file, or a directory under a file: exit 2, one line, nothing written."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main([*argv, "--out", str(blocker)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == f"{blocker}: cannot create the directory: a file of that name is in the way"
    assert main([*argv, "--out", str(blocker / "sub")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == f"{blocker / 'sub'}: cannot create the directory: Not a directory"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_workload_file_that_cannot_be_written_is_one_line(tmp_path, capsys):
    """A directory where workload.json goes: exit 2, one line naming that file."""
    (tmp_path / "workload.json").mkdir()
    assert main(["workload", *_SMALL, "--out", str(tmp_path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == f"{tmp_path / 'workload.json'}: cannot write the file: it is a directory"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["conform", "--sessionizer", "builtin:numpy", "--time-limit", "-1"],
            "--time-limit: expected a number",
        ),
        (
            ["conform", "--sessionizer", "builtin:numpy", "--time-limit", "0"],
            "--time-limit: expected a number",
        ),
        (
            ["conform", "--sessionizer", "builtin:numpy", "--time-limit", "nan"],
            "--time-limit: expected a number",
        ),
        (
            ["conform", "--sessionizer", "builtin:numpy", "--seed", "-1"],
            "--seed: expected a whole number from 0 to",
        ),
        (
            ["workload", "--events", "1e3", "--users", "5", "--seed", "-3"],
            "--seed: expected a whole number from 0 to",
        ),
        (["workload", "--events", "-5", "--users", "5"], "--events: expected a whole number from 1 to"),
        (
            ["bench", "--sessionizer", "builtin:numpy", "--repeats", "0"],
            "--repeats: expected a whole number from 1 to 1,000",
        ),
        (
            ["bench", "--sessionizer", "builtin:numpy", "--time-limit", "-2"],
            "--time-limit: expected a number",
        ),
        (
            ["bench", "--sessionizer", "builtin:numpy", "--seed", "x"],
            "--seed: expected a whole number from 0 to",
        ),
    ],
)
def test_negative_or_zero_numbers_are_refused_by_argparse(argv, message, tmp_path, capsys):
    """Negative, zero or non-finite numeric flags: argparse exits 2 naming the flag; no traceback."""
    with pytest.raises(SystemExit) as info:
        main([*argv, "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"argument {message}" in err
    assert not (tmp_path / "o").exists()


def test_bench_where_every_run_fails_exits_1_without_warnings(tmp_path, capsys, wrong_module, monkeypatch):
    """Every run of a sessionizer errors: its row says why, exit 1, no matplotlib warning, chart written."""
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    argv = [
        "bench", "--sessionizer", f"py:{wrong_module}:wrong_length", "--sizes", "300", "--repeats", "1",
        "--out", str(tmp_path / "b"),
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "returned (299,) session ids for 300 rows" in out
    assert err == "sessionlab: every run of py:wrong_length failed or timed out (see the table)\n"
    doc = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert [r["status"] for r in doc["results"]] == ["error"]
    assert (tmp_path / "b" / "bench.png").read_bytes().startswith(b"\x89PNG")


def test_bench_where_every_run_times_out_exits_1(tmp_path, capsys):
    """A sessionizer that never finishes within --time-limit measured nothing: exit 1, said on stderr."""
    sleeper = tmp_path / "sleeper.py"
    sleeper.write_text("import time\ntime.sleep(30)\n")
    argv = [
        "bench", "--sessionizer", f"slow=cmd:{sys.executable} {sleeper} {{input}} {{output}}",
        "--sizes", "300", "--repeats", "1", "--time-limit", "1", "--out", str(tmp_path / "b"),
    ]  # fmt: skip
    assert main(argv) == 1
    assert "every run of slow failed or timed out" in capsys.readouterr().err
    doc = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert [r["status"] for r in doc["results"]] == ["timeout"]


def test_conform_with_a_sessionizer_that_raises_is_one_line(tmp_path, capsys, monkeypatch):
    """A py: sessionizer that raises: exit 2 (not 3), one line naming the spec and the exception."""
    (tmp_path / "raising.py").write_text("def f(user_id, ts, campaign):\n    raise KeyError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["conform", "--sessionizer", "py:raising:f", *_SMALL, "--out", str(tmp_path / "o")]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line == "--sessionizer 'py:raising:f': raised KeyError: 'boom'"

"""The workload, conform and bench subcommands: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest

from simulator.cli import main


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
        (["bench", "--sessionizer", "builtin:numpy", "--sizes", "1e3,ten"], "--sizes: expected positive"),
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

"""``sessionlab sessionize`` with the rules that read per-event columns: --gap-column, --flag-column,
the event column, rule lists on the command line, and the errors when a column is missing or bad."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulator.cli.main import ExitCode, main

#: u1: Login 10:00 (gap 60m), page 10:10 (5m), Logout 10:30 (20m, new_visit=1), page 11:01 (10m);
#: u2: one page without a gap. Worked by hand:
#:  dynamic_gap: 10:00 covers to 11:00, so 10:10 and 10:30 continue; 11:01 is past 11:00 and past
#:  10:30 + 20m = 10:50 -> a new session.  flag: 10:30 starts one.  session_events(Login, Logout):
#:  the event after the Logout (11:01) starts one.  ga4 (30m): 11:01 is 31 min after 10:30.
ROWS = [
    ("u1", "2024-05-01T10:00:00Z", "Login", "60m", "0"),
    ("u1", "2024-05-01T10:10:00Z", "page", "300000", "0"),
    ("u1", "2024-05-01T10:30:00Z", "Logout", "20m", "1"),
    ("u1", "2024-05-01T11:01:00Z", "page", "10m", ""),
    ("u2", "2024-05-01T10:00:00Z", "page", "", "0"),
]
HEADER = ("user_id", "timestamp", "event_name", "gap", "new_visit")
CAUSES = {
    "dynamic_gap:default=0s": ["new_user", "continues", "continues", "dynamic_gap", "new_user"],
    "flag": ["new_user", "continues", "flag", "continues", "new_user"],
    "session_events:start=Login,end=Logout": [
        "new_user",
        "continues",
        "continues",
        "session_event",
        "new_user",
    ],
}
FLAGS = ["--gap-column", "gap", "--flag-column", "new_visit"]


def _write(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"log.{kind}"
    if kind == "csv":
        with open(path, "w", newline="") as fh:
            csv.writer(fh).writerows([HEADER, *ROWS])
    elif kind == "jsonl":
        lines = []
        for u, t, e, g, f in ROWS:
            rec = {"user_id": u, "timestamp": t, "event_name": e, "new_visit": f == "1"}
            if g:
                rec["gap"] = int(g) if g.isdigit() else g
            lines.append(json.dumps(rec))
        path.write_text("\n".join(lines) + "\n")
    else:
        gaps = [
            None
            if not g
            else 300_000
            if g.isdigit()
            else {"60m": 3_600_000, "20m": 1_200_000, "10m": 600_000}[g]
            for *_, g, _ in ROWS
        ]
        pq.write_table(
            pa.table(
                {
                    "user_id": [r[0] for r in ROWS],
                    "timestamp": [r[1] for r in ROWS],
                    "event_name": [r[2] for r in ROWS],
                    "gap": pa.array(gaps, pa.duration("ms")),
                    "new_visit": pa.array([int(r[4] or 0) for r in ROWS], pa.int8()),
                }
            ),
            path,
        )
    return path


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_each_rule_reads_its_column(tmp_path: Path, kind: str) -> None:
    log = _write(tmp_path, kind)
    out = tmp_path / "out.csv"
    specs = [a for name in CAUSES for a in ("--definition", name)]
    assert main(["sessionize", str(log), *specs, *FLAGS, "--out", str(out)]) == ExitCode.OK
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for name, causes in CAUSES.items():
        assert [r[f"{name}.split_cause"] for r in rows] == causes, name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--definition", "dynamic_gap:default=0s"],
            "--gap-column: definition 'dynamic_gap:default=0s' has rule "
            "'dynamic_gap', which reads a gap per event: name the column with --gap-column",
        ),
        (
            ["--definition", "flag", "--flag-column", "nv"],
            "no column 'nv'; columns: user_id, timestamp, event_name, "
            "gap, new_visit (name yours with --flag-column)",
        ),
        (["--definition", "session_events:start=Login", "--event-column", "ev"], "no column 'ev'"),
        (
            ["--definition", "dynamic_gap", "--gap-column", "gap"],
            "line 6: no gap, and rule 'dynamic_gap' of "
            "definition 'dynamic_gap' has no default (1 event(s) without one",
        ),
        (["--definition", "dynamic_gap:default=0"], "rules[1].default: expected a duration"),
        (["--definition", "flag+nope"], "rules[2].rule: unknown rule 'nope'"),
    ],
)
def test_missing_columns_and_bad_specs_are_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    log = _write(tmp_path, "csv")
    assert main(["sessionize", str(log), *args]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_an_unreadable_gap_or_flag_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "bad.csv"
    log.write_text(
        "user_id,timestamp,gap,nv\nu,2024-05-01T10:00:00Z,5m,1\nu,2024-05-01T10:01:00Z,soon,maybe\n"
    )
    assert (
        main(["sessionize", str(log), "--definition", "dynamic_gap", "--gap-column", "gap"])
        == ExitCode.SCENARIO_ERROR
    )
    assert "bad.csv: line 3: column 'gap': unreadable gap 'soon'" in capsys.readouterr().err
    assert (
        main(["sessionize", str(log), "--definition", "flag", "--flag-column", "nv"])
        == ExitCode.SCENARIO_ERROR
    )
    assert "bad.csv: line 3: column 'nv': unreadable flag 'maybe' (expected 1/0" in capsys.readouterr().err


def test_posthog_boundary_override_per_rule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """posthog's max_duration boundary is addressable again: an event exactly 24 h after the session's
    first stays under posthog's 'same' and splits under max_duration.boundary=new (pings every 20 min)."""
    lines = ["user_id,timestamp"] + [
        f"u,{1_714_557_600_000 + k * 20 * 60_000}"
        for k in range(73)  # 0 .. 24 h in 20-minute steps
    ]
    log = tmp_path / "ph.csv"
    log.write_text("\n".join(lines) + "\n")
    specs = ["--definition", "posthog", "--definition", "posthog:max_duration.boundary=new"]
    assert main(["sessionize", str(log), "--epoch", "ms", *specs, "--json"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)["definitions"]
    assert doc["posthog"]["sessions"] == 1
    assert doc["posthog:max_duration.boundary=new"]["sessions"] == 2
    assert (
        main(["sessionize", str(log), "--epoch", "ms", "--definition", "posthog:boundary=new"])
        == ExitCode.SCENARIO_ERROR
    )
    assert "say which: inactivity.boundary, max_duration.boundary" in capsys.readouterr().err


def test_spark_engine_refuses_column_rules_before_starting_spark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Spark engine does not carry per-event columns yet: one line, exit 2, no Spark session."""
    log = _write(tmp_path, "parquet")
    args = ["sessionize", str(log), "--engine", "spark", "--definition", "flag", "--out", str(tmp_path / "o")]
    assert main(args) == ExitCode.SCENARIO_ERROR
    assert (
        "rule 'flag' reads a flag per event, which the Spark engine does not carry yet"
        in capsys.readouterr().err
    )

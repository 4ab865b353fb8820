"""The ``sessionlab definitions`` and ``sessionlab sessionize`` commands, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli.main import ExitCode, main
from simulator.sessions.presets import PRESETS

LOG = """user_id,timestamp,campaign
u1,2024-05-01T10:00:00+02:00,spring
u1,2024-05-01T10:31:00+02:00,
u2,2024-05-01T23:50:00+02:00,
u2,2024-05-02T00:05:00+02:00,
u1,2024-05-01T10:10:00+02:00,summer
"""


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(LOG)
    return path


def test_definitions_lists_every_preset_with_sources(capsys: pytest.CaptureFixture[str]) -> None:
    """Text listing: each preset's rules and sources, then each rule with where it came from."""
    assert main(["definitions"]) == ExitCode.OK
    out = capsys.readouterr().out
    for name in PRESETS:
        assert f"\n{name}: " in f"\n{out}"
    assert "matomo: inactivity(timeout=30m, boundary=new) + midnight()" in out
    assert "inactivity (sessionlab): timeout: inactivity timeout" in out


def test_definitions_json_has_rules_parameters_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON listing: rule parameters as written in scenarios, override keys, sources."""
    assert main(["definitions", "--json"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["definitions"]["posthog"]["rules"] == [
        {"rule": "inactivity", "timeout": "30m", "boundary": "same"},
        {"rule": "max_duration", "limit": "1d", "boundary": "same"},
    ]
    assert doc["definitions"]["ga4"]["parameters"] == ["boundary", "timeout"]
    assert set(doc["rules"]) >= {
        "inactivity",
        "midnight",
        "campaign_change",
        "max_duration",
        "max_events",
        "fixed_window",
    }


def test_sessionize_json_counts_per_definition(log: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives sessions, users and events per definition, in the property's time zone."""
    argv = ["sessionize", str(log), "--json", "--timezone", "Europe/Berlin"]
    argv += ["--definition", "ga4", "--definition", "universal_analytics", "--definition", "ga4:timeout=45m"]
    assert main(argv) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["definitions"] == {
        "ga4": {"sessions": 2, "users": 2, "events": 5},
        "universal_analytics": {"sessions": 4, "users": 2, "events": 5},
        "ga4:timeout=45m": {"sessions": 2, "users": 2, "events": 5},
    }


def test_sessionize_out_writes_ids_and_causes(log: Path, tmp_path: Path) -> None:
    """--out: one line per input row with the session id and the rule that started its session."""
    out = tmp_path / "out.csv"
    argv = ["sessionize", str(log), "--definition", "universal_analytics", "--timezone", "Europe/Berlin"]
    assert main([*argv, "--out", str(out)]) == ExitCode.OK
    lines = out.read_text().splitlines()
    assert lines[0] == "line,user_id,timestamp,universal_analytics.session_id,universal_analytics.split_cause"
    assert [line.split(",")[-2:] for line in lines[1:]] == [
        ["0", "new_user"],
        ["1", "continues"],
        ["2", "new_user"],
        ["3", "midnight"],
        ["1", "campaign_change"],
    ]


def test_sessionize_bad_rows_exit_2_with_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad rows: exit 2, one line naming the file and the bad lines, no traceback."""
    path = tmp_path / "bad.csv"
    path.write_text("user_id,timestamp\nu,2024-05-01T10:00:00Z\n,2024-05-01T10:00:00Z\nu,later\n")
    assert main(["sessionize", str(path)]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert err.startswith(f"sessionlab: error: {path}: 2 bad row(s): line 3: missing user_id; line 4:")
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_sessionize_skip_bad_reports_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--skip-bad sessionizes the rest, lists the bad lines on stderr and in the JSON."""
    path = tmp_path / "bad.csv"
    path.write_text("user_id,timestamp\nu,2024-05-01T10:00:00Z\nu,later\n")
    assert main(["sessionize", str(path), "--skip-bad", "--json"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "skipped 1 bad row(s)" in captured.err
    doc = json.loads(captured.out)
    assert doc["definitions"]["ga4"] == {"sessions": 1, "users": 1, "events": 1}
    assert doc["bad_rows"][0]["line"] == 3


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--timezone", "Mars/Base"], "--timezone: expected an IANA time zone"),
        (["--definition", "ga5"], "did you mean 'ga4'"),
        (["--definition", "ga4:timeot=45m"], "did you mean 'timeout'"),
    ],
)
def test_sessionize_bad_arguments_exit_2(
    log: Path, extra: list, match: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad time zone or definition: exit 2 and a hint."""
    assert main(["sessionize", str(log), *extra]) == ExitCode.SCENARIO_ERROR
    assert match in capsys.readouterr().err


def test_sessionize_jsonl_epoch_ms(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """JSON Lines with epoch milliseconds and a renamed user column."""
    path = tmp_path / "e.jsonl"
    path.write_text("".join(f'{{"visitor": 1, "timestamp": {t}}}\n' for t in (0, 1_800_000, 3_600_000)))
    argv = ["sessionize", str(path), "--epoch", "ms", "--user-column", "visitor", "--json"]
    assert main([*argv, "--definition", "matomo"]) == ExitCode.SCENARIO_ERROR
    err = _one_line(capsys.readouterr().err)
    assert "'matomo' starts sessions on campaign changes" in err
    assert "--no-campaign" in err
    assert main([*argv, "--definition", "matomo", "--definition", "ga4", "--no-campaign"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["definitions"]["matomo"]["sessions"] == 3  # exactly 1800 s is a new visit
    assert doc["definitions"]["ga4"]["sessions"] == 1


def _one_line(err: str) -> str:
    """The single stderr line (no traceback), without the 'sessionlab: error: ' prefix."""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.removeprefix("sessionlab: error: ").rstrip("\n")


@pytest.mark.parametrize("name", ["x.xlsx", "x.txt"])
def test_sessionize_out_with_another_extension_is_one_line(
    log: Path, tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out x.parquet or x.txt: exit 2, one line naming the file; nothing written (was: CSV)."""
    out = tmp_path / name
    assert main(["sessionize", str(log), "--out", str(out)]) == ExitCode.SCENARIO_ERROR
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"{out}: unsupported output format '{out.suffix}'; ")
    assert not out.exists()


def test_sessionize_out_into_a_missing_directory_is_one_line(
    log: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out under a missing directory: exit 2, one line with the path and the reason."""
    out = tmp_path / "missing" / "a.csv"
    assert main(["sessionize", str(log), "--out", str(out)]) == ExitCode.SCENARIO_ERROR
    assert _one_line(capsys.readouterr().err) == f"{out}: cannot write the file: No such file or directory"


def test_sessionize_huge_epoch_numbers_are_bad_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--epoch s with 1e300 and a 23-digit integer: exit 2, one line listing both lines (no OverflowError)."""
    path = tmp_path / "e.csv"
    path.write_text("user_id,timestamp\na,1e300\nb,12345678901234567890123\nc,1000\n")
    assert main(["sessionize", str(path), "--epoch", "s"]) == ExitCode.SCENARIO_ERROR
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(
        f"{path}: 2 bad row(s): line 2: timestamp '1e300' (seconds since the epoch) is outside the years "
        "1 to 9999; line 3: timestamp '12345678901234567890123' (seconds"
    )


def test_sessionize_parquet_microseconds_to_parquet_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's example end to end: a us-timestamp Parquet log in, a typed Parquet file out."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    src, out = tmp_path / "us.parquet", tmp_path / "sessions.parquet"
    times = pa.array([1714557600123456, 1714557900000000], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"user_id": ["a", "a"], "timestamp": times}), src)
    assert main(["sessionize", str(src), "--out", str(out), "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["definitions"]["ga4"]["sessions"] == 1
    table = pq.read_table(out)
    assert table.column("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.column("ga4.session_id").to_pylist() == [0, 0]
    assert table.column("ga4.split_cause").to_pylist() == ["new_user", "continues"]


def test_sessionize_says_which_epoch_unit_it_detected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text("user_id,timestamp\nu,1714557600000\nu,1714557900000\n")
    assert main(["sessionize", str(path), "--json"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["epoch"] == "ms"
    assert "read as epoch milliseconds (told from their magnitude; pass --epoch" in captured.err
    path.write_text("user_id,timestamp\nu,5\nu,1714557900000\n")
    assert main(["sessionize", str(path)]) == ExitCode.SCENARIO_ERROR
    assert "pass --epoch s|ms|us|ns" in _one_line(capsys.readouterr().err)


def test_sessionize_naive_times_with_input_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "n.csv"
    path.write_text("user_id,timestamp\nu,2024-10-27 02:30:00\nu,2024-10-27 02:40:00\n")
    assert main(["sessionize", str(path)]) == ExitCode.SCENARIO_ERROR
    assert "--input-timezone ZONE" in _one_line(capsys.readouterr().err)
    argv = ["sessionize", str(path), "--input-timezone", "Europe/Berlin"]
    assert main(argv) == ExitCode.SCENARIO_ERROR
    assert "ambiguous in Europe/Berlin (a DST fold)" in _one_line(capsys.readouterr().err)
    assert main([*argv, "--ambiguous", "latest", "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["definitions"]["ga4"]["sessions"] == 1
    assert main(["sessionize", str(path), "--input-timezone", "Mars/Olympus"]) == ExitCode.SCENARIO_ERROR
    assert "Mars/Olympus" in _one_line(capsys.readouterr().err)


def test_sessionize_missing_renamed_column_is_exit_2_with_a_guess(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "e.csv"
    path.write_text("visitor_id,timestamp\nu,2024-05-01T10:00:00Z\n")
    assert main(["sessionize", str(path), "--user-column", "visitor"]) == ExitCode.SCENARIO_ERROR
    err = _one_line(capsys.readouterr().err)
    assert "no column 'visitor'; columns: visitor_id, timestamp (name yours with --user-column)" in err
    assert "did you mean 'visitor_id'?" in err

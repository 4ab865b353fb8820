"""``sessionlab sessionize`` on every input form: platform exports (--format), standard input, compressed
files, directories, delimiters, source columns, kept columns and the accounting, end to end."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulator import read_log, sessionize
from simulator.cli.main import ExitCode, main
from simulator.cli.sessions import _FILE_FORMATS
from simulator.log.formats import FORMATS as EXPORTS
from simulator.log.sources import FORMATS
from tests.log.formats import ga4_fixture, snowplow_fixture
from tests.log.formats.test_json_exports import POSTHOG, _amp, _lines


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main([*argv, "--json"]) == ExitCode.OK
    return json.loads(capsys.readouterr().out)


def test_file_formats_of_the_flag_match_the_reader() -> None:
    """--format's file formats are the reader's (kept apart so that --help does not load pyarrow)."""
    assert tuple(FORMATS) == _FILE_FORMATS
    assert not set(_FILE_FORMATS) & set(EXPORTS)


@pytest.mark.parametrize("writer", [ga4_fixture.write_ndjson, ga4_fixture.write_parquet])
def test_ga4_export_with_no_column_flags(tmp_path: Path, writer, capsys: pytest.CaptureFixture[str]) -> None:
    """The fixture's 9 events: u1 08:00, 08:10, 08:45 (2 sessions), u2 one, u3 one, u4 one = 5."""
    path = writer(tmp_path / f"events_20240501.{'json' if 'ndjson' in writer.__name__ else 'parquet'}")
    doc = _json(["sessionize", str(path), "--format", "ga4"], capsys)
    assert doc["definitions"] == {"ga4": {"sessions": 5, "users": 4, "events": 9}}
    assert doc["accounting"] == {"read": 9, "sessionized": 9, "bad": 0, "excluded": 0}
    assert "stream_id" in doc["ignored_fields"]
    assert main(["sessionize", str(path), "--format", "ga4"]) == ExitCode.OK
    captured = capsys.readouterr()
    assert "rows: 9 read = 9 sessionized + 0 bad + 0 excluded" in captured.out
    assert "sessionlab: ga4 fields ignored: " in captured.err


def test_ga4_export_out_keeps_the_platform_session_id(tmp_path: Path) -> None:
    """--keep-columns on an export writes its canonical columns: platform and rule sessions side by side."""
    path = ga4_fixture.write_ndjson(tmp_path / "events_20240501.json")
    out = tmp_path / "s.parquet"
    argv = ["sessionize", str(path), "--format", "ga4", "--keep-columns", "--out", str(out)]
    assert main(argv) == ExitCode.OK
    got = pq.read_table(out)
    assert got.column("platform_session_id").to_pylist() == ["100"] * 3 + [
        "200",
        "200",
        "201",
        "300",
        "300",
        None,
    ]
    assert got.column("ga4.session_id").to_pylist() == [0, 0, 1, 2, 2, 2, 3, 3, 4]
    assert got.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")


def test_snowplow_and_posthog_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Snowplow: d1 08:00, 08:20, 09:00 (2), d2 (1), d3 (1); PostHog: p1 08:00, 08:29, 09:05 (2), p2 (1)."""
    tsv = snowplow_fixture.write_tsv(tmp_path / "enriched.tsv")
    doc = _json(["sessionize", str(tsv), "--format", "snowplow", "--definition", "snowplow"], capsys)
    assert doc["definitions"] == {"snowplow": {"sessions": 4, "users": 3, "events": 6}}
    ph = _lines(tmp_path / "events.jsonl", POSTHOG)
    doc = _json(["sessionize", str(ph), "--format", "posthog", "--definition", "posthog"], capsys)
    assert doc["definitions"] == {"posthog": {"sessions": 3, "users": 2, "events": 5}}


def test_export_source_columns_for_universal_analytics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """UA compares source, medium and campaign: a GA4 export's canonical columns serve as they are."""
    events = [
        ga4_fixture._event("u", ga4_fixture.T0, "page_view", 1, 1, "/", medium="cpc"),
        ga4_fixture._event("u", ga4_fixture.T0 + ga4_fixture.MIN, "page_view", 1, 1, "/", medium="email"),
        ga4_fixture._event("u", ga4_fixture.T0 + 2 * ga4_fixture.MIN, "page_view", 1, 1, "/"),
    ]
    path = ga4_fixture.write_ndjson(tmp_path / "events_20240501.json", events)
    argv = ["sessionize", str(path), "--format", "ga4", "--definition", "universal_analytics"]
    doc = _json([*argv, "--source-columns", "source,medium,campaign"], capsys)
    assert doc["definitions"]["universal_analytics"]["sessions"] == 2  # cpc -> email splits; direct keeps
    doc = _json(argv, capsys)  # the campaign column alone is empty here
    assert doc["definitions"]["universal_analytics"]["sessions"] == 1


def test_export_from_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sessionize", str(tmp_path), "--format", "ga4"]) == ExitCode.SCENARIO_ERROR
    assert "a ga4 export is read from one file" in capsys.readouterr().err


def test_api_format_reads_an_export(tmp_path: Path) -> None:
    """sessionize(path, "ga4", format="ga4") and read_log(path, fmt="ga4") read the export's columns."""
    path = ga4_fixture.write_ndjson(tmp_path / "events_20240501.json")
    assert sessionize(path, "ga4", format="ga4").tolist() == [0, 0, 1, 2, 2, 2, 3, 3, 4]
    log = read_log(path, fmt="ga4")
    assert log.user.tolist()[:3] == ["u1", "u1", "u1"]
    assert log.unit == "row"
    events = [*ga4_fixture.EVENTS, dict(ga4_fixture.EVENTS[0], user_pseudo_id=None)]
    no_user = ga4_fixture.write_ndjson(tmp_path / "events_20240502.json", events)
    with pytest.raises(ValueError, match=r"1 event\(s\) of the export have no user_id"):
        sessionize(no_user, "ga4", format="ga4")
    with pytest.raises(TypeError, match="format='ga4' reads an export"):
        sessionize(np.array([1]), "ga4", format="ga4")


CSV = (
    "user_id;timestamp;event_name\n"
    "u;2024-05-01T10:00:00Z;view\nu;2024-05-01T10:05:00Z;ping\n;2024-05-01T10:06:00Z;view\n"
)


def test_accounting_with_bad_and_excluded_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rows read = sessionized + bad + excluded: printed, in --json, and in --out."""
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    out = tmp_path / "out.csv"
    argv = ["sessionize", str(path), "--skip-bad", "--exclude-event", "ping", "--out", str(out)]
    assert main(argv) == ExitCode.OK
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1] == "rows: 3 read = 1 sessionized + 1 bad + 1 excluded"
    assert "delimiter ';' (told from the header" in captured.err
    causes = [line.split(",")[-1] for line in out.read_text().splitlines()[1:]]
    assert causes == ["new_user", "excluded", "bad_row"]
    doc = _json(argv, capsys)
    assert doc["accounting"] == {"read": 3, "sessionized": 1, "bad": 1, "excluded": 1}
    assert doc["delimiter"] == ";"


def test_standard_input(tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]) -> None:
    """``-`` reads standard input, CSV by default; --input-format says otherwise."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(gzip.compress(CSV.encode()))))
    doc = _json(["sessionize", "-", "--skip-bad"], capsys)
    assert doc["file"] == "<stdin>"
    assert doc["accounting"]["read"] == 3
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"user_id": [1, 1], "timestamp": [1_714_557_600_000, 1_714_557_600_001]}), sink)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sink.getvalue().to_pybytes())))
    doc = _json(["sessionize", "-", "--input-format", "parquet", "--epoch", "ms"], capsys)
    assert doc["definitions"]["ga4"] == {"sessions": 1, "users": 1, "events": 2}


def test_standard_input_through_a_real_pipe(tmp_path: Path) -> None:
    """The whole process: a pipe in, the table out."""
    done = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "sessionize", "-", "--delimiter", ";", "--skip-bad"],
        input=CSV.encode(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert b"rows: 3 read = 2 sessionized + 1 bad + 0 excluded" in done.stdout
    assert b"delimiter" not in done.stderr  # given, so not reported


def test_directory_glob_and_compressed_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "log"
    for day, user in (("2024-05-01", "a"), ("2024-05-02", "b")):
        (root / f"dt={day}").mkdir(parents=True)
        (root / f"dt={day}" / "part-0.csv.gz").write_bytes(
            gzip.compress(f"user_id,timestamp\n{user},{day}T10:00:00Z\n".encode())
        )
    out = tmp_path / "s.csv.gz"
    doc = _json(["sessionize", str(root), "--keep-columns", "--out", str(out)], capsys)
    assert doc["definitions"]["ga4"]["sessions"] == 2
    assert len(doc["files"]) == 2
    lines = gzip.decompress(out.read_bytes()).decode().splitlines()
    assert lines[0] == "line,file,user_id,timestamp,dt,ga4.session_id,ga4.split_cause"
    assert lines[2].endswith(",b,2024-05-02T10:00:00Z,2024-05-02,1,new_user")
    doc = _json(["sessionize", str(root / "*" / "*.csv.gz")], capsys)
    assert doc["definitions"]["ga4"]["sessions"] == 2


def test_flag_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp,source\nu,2024-05-01T10:00:00Z,x\n")
    with pytest.raises(SystemExit) as info:
        main(["sessionize", str(path), "--delimiter", ";;"])
    assert info.value.code == ExitCode.SCENARIO_ERROR
    assert "--delimiter must be one character" in capsys.readouterr().err
    argv = ["sessionize", str(path), "--source-columns", "source", "--campaign-column", "source"]
    assert main(argv) == ExitCode.SCENARIO_ERROR
    assert "either --source-columns or --campaign-column" in capsys.readouterr().err
    assert main(["sessionize", str(path), "--source-columns", "source,medium"]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert "no column 'medium'; columns: user_id, timestamp, source (name yours with --source-columns)" in err
    assert main(["sessionize", str(path), "--out", str(tmp_path / "o.parquet.gz")]) == ExitCode.SCENARIO_ERROR
    assert "compress their own columns" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--skip-bad", None), ("--memory", "1GiB"), ("--out-of-core", None), ("--delimiter", ";")],
)
def test_spark_engine_refuses_local_only_flags(
    tmp_path: Path, flag: str, value: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Flags the Spark engine does not honour are refused, never ignored (checked before Spark starts)."""
    path = tmp_path / "log.parquet"
    pq.write_table(pa.table({"user_id": ["u"], "timestamp": [0]}), path)
    argv = ["sessionize", str(path), "--engine", "spark", flag, *([value] if value else [])]
    assert main(argv) == ExitCode.SCENARIO_ERROR
    assert f"{flag} is not available with --engine spark" in capsys.readouterr().err


def test_several_files_as_a_shell_expands_a_glob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``sessionize logs/*.csv`` unquoted: the files, in the order given, are one log."""
    (tmp_path / "a.csv").write_text("user_id,timestamp\nu,2024-05-01T10:00:00Z\n")
    (tmp_path / "b.csv").write_text("user_id,timestamp\nu,2024-05-01T10:10:00Z\nv,soon\n")
    files = [str(tmp_path / "a.csv"), str(tmp_path / "b.csv")]
    doc = _json(["sessionize", *files, "--skip-bad"], capsys)
    assert doc["definitions"]["ga4"] == {"sessions": 1, "users": 1, "events": 2}
    assert doc["files"] == files
    assert doc["bad_rows"] == [
        {
            "file": files[1],
            "line": 3,
            "reason": "timestamp 'soon' is not ISO-8601 (like 2024-05-01T10:00:00+02:00)",
        }
    ]
    assert main(["sessionize", files[0], files[0]]) == ExitCode.SCENARIO_ERROR
    assert "is given twice" in capsys.readouterr().err
    assert main(["sessionize", files[0], "-"]) == ExitCode.SCENARIO_ERROR
    assert "standard input cannot be combined with files" in capsys.readouterr().err
    assert main(["sessionize", *files, "--engine", "spark"]) == ExitCode.SCENARIO_ERROR
    assert "one Parquet dataset" in capsys.readouterr().err


def test_amplitude_mixpanel_and_matomo_exports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Amplitude: a1 08:00, 08:01 and dev-anon 08:02 (2 sessions, 2 users); Mixpanel: m1 at 08:00:00 and
    08:01:00.5 (1); Matomo TSV: visitor 5A3F 08:00, 08:40 (a 40-min gap: 2 under the matomo rule) and
    visitor 0001 09:00 with campaign spring (1) = 3."""
    start = 1_714_550_400_000
    amp = _lines(
        tmp_path / "export.json",
        [
            _amp("a1", "2024-05-01 08:00:00.000000", start),
            _amp("a1", "2024-05-01 08:01:00.000000", start),
            _amp(None, "2024-05-01 08:02:00.000000", -1),
        ],
    )
    doc = _json(["sessionize", str(amp), "--format", "amplitude", "--definition", "amplitude"], capsys)
    assert doc["definitions"] == {"amplitude": {"sessions": 2, "users": 2, "events": 3}}
    mp = _lines(
        tmp_path / "mp.jsonl",
        [
            {"event": "Page View", "properties": {"time": 1714550400, "distinct_id": "m1"}},
            {"event": "Page View", "properties": {"time": 1714550460.5, "distinct_id": "m1"}},
        ],
    )
    doc = _json(["sessionize", str(mp), "--format", "mixpanel", "--definition", "mixpanel"], capsys)
    assert doc["definitions"] == {"mixpanel": {"sessions": 1, "users": 1, "events": 2}}
    head = "\t".join(
        ("idlink_va", "idsite", "idvisitor", "idvisit", "server_time", "idaction_url", "visitor_count_visits",
         "campaign_name")
    )  # fmt: skip
    rows = [
        "1\t1\t5A3F0C1B2D4E6F70\t7\t2024-05-01 08:00:00\t11\t1\t\\N",
        "2\t1\t5A3F0C1B2D4E6F70\t7\t2024-05-01 08:40:00\t12\t1\tNULL",
        "3\t1\t0000000000000001\t8\t2024-05-01 09:00:00\t11\t3\tspring",
    ]
    mt = tmp_path / "log_link_visit_action.tsv"
    mt.write_text("\n".join([head, *rows]) + "\n")
    doc = _json(["sessionize", str(mt), "--format", "matomo", "--definition", "matomo"], capsys)
    assert doc["definitions"] == {"matomo": {"sessions": 3, "users": 2, "events": 3}}

"""Reading real event logs (CSV, JSON Lines, Parquet) and writing per-row assignments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.log.logfile import BAD, EXCLUDED, LogColumns, read_log, write_assignments

CSV = """user_id,timestamp,campaign,event_name
u1,2024-05-01T10:00:00+02:00,spring,page_view
u1,2024-05-01T08:31:00Z,,page_view
7,2024-05-01T23:50:00.250+00:00,,heartbeat
"""


def test_csv_columns_times_and_campaigns(tmp_path: Path) -> None:
    """ISO times with offsets become epoch ms; empty campaigns are none; ids stay strings."""
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    log = read_log(path)
    assert log.user.tolist() == ["u1", "u1", "7"]
    assert log.ts.tolist() == [1_714_550_400_000, 1_714_552_260_000, 1_714_607_400_250]
    assert log.campaign.tolist() == [0, -1, -1]
    assert log.campaigns == ("spring",)
    assert log.lines.tolist() == [2, 3, 4]


def test_bad_rows_fail_listing_their_lines(tmp_path: Path) -> None:
    """A missing user and an unreadable or offset-less time are listed by line, then fail."""
    path = tmp_path / "log.csv"
    path.write_text(
        "user_id,timestamp\n,2024-05-01T10:00:00Z\nu,yesterday\nu,2024-05-01T10:00:00\nu,2024-05-01T10:00Z\n"
    )
    with pytest.raises(ScenarioError) as info:
        read_log(path)
    message = str(info.value)
    assert "3 bad row(s)" in message
    assert "line 2: missing user_id" in message
    assert "line 3: timestamp 'yesterday' is not ISO-8601" in message
    assert "line 4: timestamp '2024-05-01T10:00:00' has no UTC offset" in message
    assert "--skip-bad" in message


def test_skip_bad_keeps_the_rest_and_reports(tmp_path: Path) -> None:
    """With skip_bad, good rows are read and every bad row keeps its line and reason."""
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp\nu,2024-05-01T10:00:00Z\nu,nope\n")
    log = read_log(path, skip_bad=True)
    assert log.ts.tolist() == [1_714_557_600_000]
    assert log.status.tolist() == [0, BAD]
    assert [(b.line, b.reason) for b in log.bad] == [
        (3, "timestamp 'nope' is not ISO-8601 (like 2024-05-01T10:00:00+02:00)")
    ]


def test_jsonl_with_epoch_seconds_and_renamed_columns(tmp_path: Path) -> None:
    """JSON Lines with numeric epoch seconds (exact to the ms), integer ids, null campaigns."""
    path = tmp_path / "log.jsonl"
    records = [
        {"uid": 12, "t": 1714557600.123, "campaign": None},
        {"uid": 12, "t": "1714557601", "campaign": "x"},
        {"uid": 3, "t": True},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\nnot json\n")
    log = read_log(path, LogColumns(user="uid", time="t", epoch="s"), skip_bad=True)
    assert log.user.dtype == np.int64
    assert log.ts.tolist() == [1_714_557_600_123, 1_714_557_601_000]
    assert [b.line for b in log.bad] == [3, 5]
    assert "not valid JSON" in log.bad[1].reason


def test_excluded_events_are_kept_out_but_accounted_for(tmp_path: Path) -> None:
    """Excluded event names are not sessionized and are marked, not dropped."""
    path = tmp_path / "log.csv"
    path.write_text(CSV)
    log = read_log(path, exclude_events=["heartbeat"])
    assert log.status.tolist() == [0, 1, EXCLUDED]


def test_missing_column_names_the_flag(tmp_path: Path) -> None:
    """A log without the time column says which columns it has and which flag to use."""
    path = tmp_path / "log.csv"
    path.write_text("user,when\nu,2024-05-01T10:00:00Z\n")
    with pytest.raises(
        ScenarioError, match=r"no column 'user_id'; columns: user, when \(name yours with --user-column\)"
    ):
        read_log(path)


def test_unknown_extension_asks_for_format(tmp_path: Path) -> None:
    """An unknown extension is an error that names --format."""
    path = tmp_path / "log.txt"
    path.write_text("x")
    with pytest.raises(ScenarioError, match="--format"):
        read_log(path)


def test_parquet_timestamp_and_string_columns(tmp_path: Path) -> None:
    """Parquet: timestamp columns are instants; nulls are bad rows numbered by row."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "user_id": ["a", None, "b"],
            "timestamp": pa.array(
                [1_714_557_600_000, 1_714_557_600_000, None], type=pa.timestamp("ms", tz="UTC")
            ),
        }
    )
    path = tmp_path / "log.parquet"
    pq.write_table(table, path)
    log = read_log(path, skip_bad=True)
    assert log.ts.tolist() == [1_714_557_600_000]
    assert [(b.line, b.reason) for b in log.bad] == [(2, "missing user_id"), (3, "missing timestamp")]
    assert log.unit == "row"


def test_assignments_have_one_line_per_input_row(tmp_path: Path) -> None:
    """--out lists every input row, bad ones with an empty id and cause bad_row."""
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp\nu,2024-05-01T10:00:00Z\nu,nope\n")
    log = read_log(path, skip_bad=True)
    out = tmp_path / "out.jsonl"
    write_assignments(out, log, {"ga4": (np.array([0]), ["new_user"])})
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert rows == [
        {
            "line": 2,
            "user_id": "u",
            "timestamp": "2024-05-01T10:00:00Z",
            "ga4.session_id": 0,
            "ga4.split_cause": "new_user",
        },
        {
            "line": 3,
            "user_id": "u",
            "timestamp": "nope",
            "ga4.session_id": None,
            "ga4.split_cause": "bad_row",
        },
    ]


@pytest.mark.parametrize("epoch", ["s", "ms", "us"])
def test_epoch_times_beyond_the_calendar_are_bad_rows(tmp_path: Path, epoch: str) -> None:
    """Huge epoch numbers (1e300, 23 digits, 1e999999999) are bad rows with their lines, not overflows."""
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp\nu,1e300\nu,12345678901234567890123\nu,1e999999999\nu,-1e30\nu,1000\n")
    log = read_log(path, LogColumns(epoch=epoch), skip_bad=True)
    unit = {"s": "seconds", "ms": "milliseconds", "us": "microseconds"}[epoch]
    assert [b.line for b in log.bad] == [2, 3, 4, 5]
    assert log.bad[0].reason == f"timestamp '1e300' ({unit} since the epoch) is outside the years 1 to 9999"
    assert log.ts.tolist() == [{"s": 1_000_000, "ms": 1000, "us": 1}[epoch]]


def test_epoch_times_at_the_ends_of_the_calendar_are_read(tmp_path: Path) -> None:
    """The first and last second a datetime holds (years 1 and 9999) are good rows."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"user_id": 1, "timestamp": -62135596800}\n{"user_id": 1, "timestamp": 253402300799}\n')
    log = read_log(path, LogColumns(epoch="s"))
    assert log.ts.tolist() == [-62_135_596_800_000, 253_402_300_799_000]


@pytest.mark.parametrize("name", ["x.xlsx", "x.txt", "x"])
def test_assignments_only_as_csv_jsonl_or_parquet(tmp_path: Path, name: str) -> None:
    """Any --out extension but .csv/.jsonl/.ndjson is refused, and nothing is written."""
    src = tmp_path / "log.csv"
    src.write_text(CSV)
    log = read_log(src)
    with pytest.raises(ScenarioError) as info:
        write_assignments(tmp_path / name, log, {})
    suffix = Path(name).suffix or "(no extension)"
    assert str(info.value) == (
        f"{tmp_path / name}: unsupported output format {suffix!r}; "
        "the assignments are written as .csv, .jsonl (or .ndjson), .parquet or .arrow/.feather, "
        "the text ones optionally compressed (.csv.gz, .jsonl.zst, .csv.bz2)"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


# --- pyarrow reading (issue 11) ---------------------------------------------------------------


def test_csv_user_ids_stay_exactly_as_written(tmp_path: Path) -> None:
    """007 and 7, 0 and -0, +5 and 5 are six users: CSV columns are read as text, never as numbers."""
    path = tmp_path / "log.csv"
    rows = [f"{u},2024-05-01T10:00:00Z" for u in ("007", "7", "0", "-0", "+5", "5")]
    path.write_text("user_id,timestamp\n" + "\n".join(rows) + "\n")
    log = read_log(path)
    assert log.user.tolist() == ["007", "7", "0", "-0", "+5", "5"]
    assert len(np.unique(log.user)) == 6


def test_parquet_integer_users_stay_integers(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "log.parquet"
    pq.write_table(pa.table({"user_id": pa.array([7, 7, 12], pa.int64()), "timestamp": [1, 2, 3]}), path)
    log = read_log(path, LogColumns(epoch="s"))
    assert log.user.dtype == np.int64
    assert log.user.tolist() == [7, 7, 12]


def test_a_named_column_that_is_missing_gives_columns_and_a_guess(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp,utm_campaign\nu,2024-05-01T10:00:00Z,x\n")
    with pytest.raises(ScenarioError) as info:
        read_log(path, LogColumns(campaign="campaign_name"))
    assert str(info.value) == (
        f"{path}: no column 'campaign_name'; columns: user_id, timestamp, utm_campaign "
        "(name yours with --campaign-column); did you mean 'utm_campaign'?"
    )


def test_duplicate_column_names_are_an_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp,user_id\nu,2024-05-01T10:00:00Z,v\n")
    with pytest.raises(ScenarioError, match="duplicate column name 'user_id'"):
        read_log(path)


def test_rows_with_the_wrong_field_count_and_huge_fields_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    huge = "x" * 131_073
    path.write_text(
        "user_id,timestamp\nu,2024-05-01T10:00:00Z\n\nu,2024-05-01T10:01:00Z,extra\n"
        f"{huge},2024-05-01T10:02:00Z\nu,2024-05-01T10:03:00Z\n"
    )
    with pytest.raises(ScenarioError, match="2 bad row"):
        read_log(path)
    log = read_log(path, skip_bad=True)
    assert [(b.line, b.reason) for b in log.bad] == [
        (4, "3 field(s) where the header has 2"),
        (5, "field 'user_id' is over 131,072 characters"),
    ]
    assert log.lines.tolist() == [2, 4, 5, 6]
    assert log.status.tolist() == [0, BAD, BAD, 1]
    assert log.ts.tolist() == [1_714_557_600_000, 1_714_557_780_000]


def test_iso_forms_bigquery_utc_and_nanoseconds(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "user_id,timestamp\n"
        "u,2024-05-01 18:51:37.037000 UTC\n"
        "u,2024-05-01T18:51:37.123456789+02:00\n"
        "u,2024-05-01 18:51Z\n"
        "u,2024-05-01T18:51:37-0530\n"
    )
    log = read_log(path)
    assert log.ts.tolist() == [1_714_589_497_037, 1_714_582_297_123, 1_714_589_460_000, 1_714_609_297_000]
    assert log.ns.tolist() == [0, 456_789, 0, 0]


def test_parquet_microsecond_timestamps(tmp_path: Path) -> None:
    """The issue's example: a timestamp('us', tz='UTC') column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "us.parquet"
    times = pa.array([1714557600123456, 1714557900000000], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"user_id": ["a", "a"], "timestamp": times}), path)
    log = read_log(path)
    assert log.ts.tolist() == [1_714_557_600_123, 1_714_557_900_000]
    assert log.ns.tolist() == [456_000, 0]


@pytest.mark.parametrize(
    ("values", "unit", "ms"),
    [
        (["1714557600", "1714557900"], "s", 1_714_557_600_000),
        (["1714557600123", "1714557900000"], "ms", 1_714_557_600_123),
        (["1714557600123456", "1714557900000000"], "us", 1_714_557_600_123),
        (["1714557600123456789", "1714557900000000000"], "ns", 1_714_557_600_123),
    ],
)
def test_epoch_unit_is_told_from_the_magnitude(tmp_path: Path, values: list[str], unit: str, ms: int) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp\n" + "".join(f"u,{v}\n" for v in values))
    log = read_log(path)
    assert log.detected_epoch == unit
    assert log.ts.tolist()[0] == ms


def test_epoch_numbers_of_no_clear_unit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp\nu,5\nu,1714557600\n")
    with pytest.raises(ScenarioError, match=r"pass --epoch s\|ms\|us\|ns"):
        read_log(path)


def test_naive_times_need_an_input_timezone(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("user_id,timestamp\nu,2024-05-01 10:00:00\n")
    with pytest.raises(ScenarioError, match="--input-timezone ZONE"):
        read_log(path)
    log = read_log(path, LogColumns(input_tz="Europe/Berlin"))
    assert log.ts.tolist() == [1_714_550_400_000]  # 10:00 CEST = 08:00Z


def test_dst_folds_and_gaps_are_never_shifted_silently(tmp_path: Path) -> None:
    """Berlin: 2024-03-31 02:30 never happens; 2024-10-27 02:30 happens twice."""
    path = tmp_path / "log.csv"
    path.write_text(
        "user_id,timestamp\nu,2024-03-31 02:30:00\nu,2024-10-27 02:30:00\nu,2024-10-27 04:00:00\n"
    )
    with pytest.raises(ScenarioError) as info:
        read_log(path, LogColumns(input_tz="Europe/Berlin"))
    assert "line 2: local time 2024-03-31 02:30:00" in str(info.value)
    assert "does not exist in Europe/Berlin (a DST gap)" in str(info.value)
    assert "line 3: local time 2024-10-27 02:30:00" in str(info.value)
    assert "--ambiguous earliest|latest" in str(info.value)
    early = read_log(path, LogColumns(input_tz="Europe/Berlin", ambiguous="earliest"))
    late = read_log(path, LogColumns(input_tz="Europe/Berlin", ambiguous="latest"))
    # gap: 02:30 read with the offset after (+2, 00:30Z) or before (+1, 01:30Z); fold: +2 or +1
    assert early.ts.tolist() == [1_711_845_000_000, 1_729_989_000_000, 1_729_998_000_000]
    assert late.ts.tolist() == [1_711_848_600_000, 1_729_992_600_000, 1_729_998_000_000]


def test_out_parquet_keeps_types_and_input_order(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = tmp_path / "log.parquet"
    times = pa.array([1714557900000000, 1714557600000000, None], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"user_id": pa.array([5, 5, 6], pa.int64()), "timestamp": times}), src)
    log = read_log(src, skip_bad=True)
    out = tmp_path / "out.parquet"
    write_assignments(out, log, {"ga4": (np.array([0, 0]), ["none", "new_user"])})
    table = pq.read_table(out)
    assert table.schema.field("user_id").type == pa.int64()
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    assert table.column("row").to_pylist() == [1, 2, 3]
    assert table.column("ga4.session_id").to_pylist() == [0, 0, None]
    assert table.column("ga4.split_cause").to_pylist() == ["none", "new_user", "bad_row"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.parquet", "out.parquet"]


def test_deeply_nested_jsonl_value_is_a_bad_row_not_a_crash(tmp_path) -> None:
    """pyarrow's JSON reader crashed the process (SIGSEGV) on 100,000 nested arrays; now a bad row."""
    path = tmp_path / "deep.jsonl"
    good = b'{"user_id": "u1", "timestamp": "2024-05-01T10:00:00Z"}\n'
    deep = (
        b'{"user_id": "u2", "timestamp": "2024-05-01T10:00:00Z", "x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}\n"
    )
    path.write_bytes(good + deep)
    with pytest.raises(ScenarioError, match=r"1 bad row\(s\): line 2: a value nested too deeply"):
        read_log(str(path), LogColumns())
    log = read_log(str(path), LogColumns(), skip_bad=True)
    assert log.user.tolist() == ["u1"]


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(st.sampled_from(["\n", "\r", "\r\n", " ", "\t", "{", "}", "[", "]", "a"]), max_size=40).map(
        "".join
    ),
    bom=st.booleans(),
    block=st.sampled_from([1, 2, 3, 7, 1 << 24]),
)
def test_jsonl_scan_matches_a_text_mode_reading(text: str, bom: bool, block: int, tmp_path_factory) -> None:
    """The byte scan that picks pyarrow's JSON reader agrees with reading the file in text mode:
    the deepest bracket nesting, and a blank line between the first and last record."""
    from simulator.log import logfile

    path = tmp_path_factory.mktemp("scan") / "x.jsonl"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    decoded = path.read_text(encoding="utf-8-sig")
    depth = deepest = 0
    for ch in decoded:
        depth += (ch in "[{") - (ch in "]}")
        deepest = max(deepest, depth)
    old_block, logfile._BLOCK = logfile._BLOCK, block
    try:
        assert logfile._scan_jsonl(str(path)) == (deepest, "\n\n" in decoded.strip())
    finally:
        logfile._BLOCK = old_block


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.sampled_from(["z", "a", " a", "a ", "", "  ", "b", None]), min_size=1, max_size=40),
    dictionary_order=st.permutations(["z", "a", " a", "a ", "", "  ", "b"]),
)
def test_campaigns_from_a_parquet_dictionary_equal_those_from_text(
    tmp_path_factory: pytest.TempPathFactory, values: list, dictionary_order: list
) -> None:
    """A Parquet dictionary column (its dictionary in any order) gives the codes and names the same
    values give as plain text: trimmed, blank = none, numbered in the order they first appear."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    work = tmp_path_factory.mktemp("camp")
    n = len(values)
    ms = pa.array(np.arange(n, dtype=np.int64) * 60_000 + 1_714_550_000_000, pa.timestamp("ms", "UTC"))
    index = {v: i for i, v in enumerate(dictionary_order)}
    codes = pa.array([None if v is None else index[v] for v in values], pa.int32())
    as_dict = pa.DictionaryArray.from_arrays(codes, pa.array(dictionary_order))
    users = pa.array(np.zeros(n, dtype=np.int64))
    pq.write_table(pa.table({"user_id": users, "timestamp": ms, "campaign": as_dict}), work / "d.parquet")
    pcsv.write_csv(
        pa.table({"user_id": users, "timestamp": ms, "campaign": pa.array(values)}), work / "t.csv"
    )
    got, want = read_log(work / "d.parquet"), read_log(work / "t.csv")  # a dictionary; plain text
    assert got.campaigns == want.campaigns
    assert got.campaign.tolist() == want.campaign.tolist()
    trimmed = [None if v is None or not v.strip() else v.strip() for v in values]
    assert [None if c < 0 else got.campaigns[c] for c in got.campaign] == trimmed
    assert list(got.campaigns) == list(dict.fromkeys(v for v in trimmed if v is not None))

"""Where logs come from: compressed files, standard input, Arrow IPC, directories, globs, Hive partitions,
CSV delimiters and dialects, several source columns as the campaign key, kept columns, accounting."""

from __future__ import annotations

import bz2
import gzip
import io
import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyarrow import feather

from simulator.errors import ScenarioError
from simulator.log.logfile import BAD, LogColumns, read_log, write_assignments
from simulator.log.sources import open_batches, parse_delimiter, resolve, sniff_delimiter

CSV = (
    "user_id,timestamp,campaign\n"
    "u1,2024-05-01T10:00:00Z,spring\n"
    "u1,2024-05-01T10:05:00Z,\n"
    "007,2024-05-01T11:00:00.250Z,summer\n"
)
TS = [1_714_557_600_000, 1_714_557_900_000, 1_714_561_200_250]
JSONL = "".join(
    json.dumps(r) + "\n"
    for r in (
        {"user_id": "u1", "timestamp": "2024-05-01T10:00:00Z", "campaign": "spring"},
        {"user_id": "u1", "timestamp": "2024-05-01T10:05:00Z", "campaign": None},
        {"user_id": "007", "timestamp": "2024-05-01T11:00:00.250Z", "campaign": "summer"},
    )
)


def _compress(codec: str, data: bytes) -> bytes:
    if codec == "gz":
        return gzip.compress(data)
    if codec == "bz2":
        return bz2.compress(data)
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


def _same(log, users=("u1", "u1", "007")) -> None:
    assert log.user.tolist() == list(users)
    assert log.ts.tolist() == TS
    assert [log.campaigns[c] if c >= 0 else None for c in log.campaign.tolist()] == ["spring", None, "summer"]


@pytest.mark.parametrize("codec", ["gz", "zst", "bz2"])
@pytest.mark.parametrize(("name", "text"), [("log.csv", CSV), ("log.jsonl", JSONL)])
def test_compressed_csv_and_jsonl_read_like_plain(tmp_path: Path, codec: str, name: str, text: str) -> None:
    """.gz, .zst and .bz2 are decompressed by suffix; the rows are those of the plain file."""
    path = tmp_path / f"{name}.{codec}"
    path.write_bytes(_compress(codec, text.encode()))
    log = read_log(path)
    _same(log)
    assert log.lines.tolist() == ([2, 3, 4] if name.endswith(".csv") else [1, 2, 3])


def test_compressed_csv_bad_rows_keep_their_lines(tmp_path: Path) -> None:
    """Line numbers of bad rows in a gzipped CSV are the lines of the decompressed text."""
    path = tmp_path / "log.csv.gz"
    path.write_bytes(
        gzip.compress(b"user_id,timestamp\nu,2024-05-01T10:00:00Z\nu,soon\n,2024-05-01T10:00:00Z\n")
    )
    with pytest.raises(ScenarioError) as info:
        read_log(path)
    assert "2 bad row(s): line 3: timestamp 'soon' is not ISO-8601" in str(info.value)
    assert "line 4: missing user_id" in str(info.value)


def test_corrupt_compressed_file_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv.gz"
    path.write_bytes(b"\x1f\x8bnot gzip at all")
    with pytest.raises(ScenarioError, match=r"log\.csv\.gz: cannot read file"):
        read_log(path)


def test_stdin_csv_by_default_and_other_formats(tmp_path: Path) -> None:
    """``-`` reads standard input: CSV unless fmt says otherwise; gzip told from the first bytes."""
    _same(read_log("-", stdin=io.BytesIO(CSV.encode())))
    _same(read_log("-", stdin=io.BytesIO(gzip.compress(CSV.encode()))))
    _same(read_log("-", fmt="jsonl", stdin=io.BytesIO(JSONL.encode())))
    table = pcsv.read_csv(
        pa.py_buffer(CSV.encode()), convert_options=pcsv.ConvertOptions(column_types={"user_id": pa.string()})
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    _same(read_log("-", fmt="parquet", stdin=io.BytesIO(sink.getvalue().to_pybytes())))
    stream = pa.BufferOutputStream()
    with pa.ipc.new_stream(stream, table.schema) as w:
        w.write_table(table)
    log = read_log("-", fmt="arrow", stdin=io.BytesIO(stream.getvalue().to_pybytes()))
    _same(log)
    assert log.path == "<stdin>"
    assert log.unit == "row"


def test_stdin_errors_name_stdin() -> None:
    with pytest.raises(ScenarioError, match=r"^<stdin>: 1 bad row\(s\): line 2: missing user_id"):
        read_log("-", stdin=io.BytesIO(b"user_id,timestamp\n,2024-05-01T10:00:00Z\n"))


def _table() -> pa.Table:
    return pa.table(
        {
            "user_id": pa.array(["u1", "u1", "007"]),
            "timestamp": pa.array([t * 1000 for t in TS], pa.timestamp("us", tz="UTC")),
            "campaign": pa.array(["spring", None, "summer"]),
        }
    )


@pytest.mark.parametrize("name", ["log.arrow", "log.feather", "log.ipc", "log.arrows"])
@pytest.mark.parametrize("kind", ["file", "stream", "feather"])
def test_arrow_ipc_file_and_stream_formats(tmp_path: Path, name: str, kind: str) -> None:
    """Arrow IPC in the file format (Feather v2) or the stream format, whatever the extension."""
    path = tmp_path / name
    table = _table()
    if kind == "feather":
        feather.write_feather(table, path)
    else:
        with pa.OSFile(str(path), "wb") as sink:
            make = pa.ipc.new_file if kind == "file" else pa.ipc.new_stream
            with make(sink, table.schema) as w:
                w.write_table(table.slice(0, 2))
                w.write_table(table.slice(2))
    log = read_log(path)
    _same(log)
    assert log.raw.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")


def test_not_arrow_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "x.arrow"
    path.write_bytes(b"nonsense")
    with pytest.raises(ScenarioError, match=r"x\.arrow: cannot read Arrow IPC"):
        read_log(path)


def _hive(tmp_path: Path) -> Path:
    root = tmp_path / "events"
    table = _table().drop_columns(["campaign"])
    for day, rows in (("2024-05-01", [0, 1]), ("2024-05-02", [2])):
        for source, sub in (("google", rows[:1]), ("direct", rows[1:])):
            if sub:
                folder = root / f"dt={day}" / f"source={source}"
                folder.mkdir(parents=True)
                pq.write_table(table.take(sub), folder / "part-0.parquet")
    (root / "_SUCCESS").write_text("")
    (root / ".part-0.parquet.crc").write_text("")
    return root


def test_hive_directory_partitions_become_columns(tmp_path: Path) -> None:
    """Files in sorted path order; ``key=value`` directories are text columns, usable as the campaign."""
    root = _hive(tmp_path)
    files = resolve(root)
    assert [Path(f.name).relative_to(root).as_posix() for f in files] == [
        "dt=2024-05-01/source=direct/part-0.parquet",
        "dt=2024-05-01/source=google/part-0.parquet",
        "dt=2024-05-02/source=google/part-0.parquet",
    ]
    log = read_log(root, LogColumns(campaign="source"), keep_columns=True)
    assert log.user.tolist() == ["u1", "u1", "007"]
    assert log.ts.tolist() == [TS[1], TS[0], TS[2]]
    assert [log.campaigns[c] for c in log.campaign] == ["direct", "google", "google"]
    assert log.raw.column("dt").to_pylist() == ["2024-05-01", "2024-05-01", "2024-05-02"]
    assert [Path(f).parent.name for f in log.files] == ["source=direct", "source=google", "source=google"]
    assert log.file_index.tolist() == [0, 1, 2]


def test_hive_default_partition_is_null_and_values_are_unquoted(tmp_path: Path) -> None:
    root = tmp_path / "d"
    for value in ("__HIVE_DEFAULT_PARTITION__", "paid%2Fsearch"):
        (root / f"channel={value}").mkdir(parents=True)
        (root / f"channel={value}" / "a.csv").write_text("user_id,timestamp\nu,2024-05-01T10:00:00Z\n")
    log = read_log(root, LogColumns(campaign="channel"))
    assert [log.campaigns[c] if c >= 0 else None for c in log.campaign] == [None, "paid/search"]


def test_glob_reads_the_matching_files(tmp_path: Path) -> None:
    for i, line in enumerate(CSV.splitlines()[1:]):
        (tmp_path / f"part-{i}.csv").write_text(f"user_id,timestamp,campaign\n{line}\n")
    (tmp_path / "other.txt").write_text("not a log")
    _same(read_log(str(tmp_path / "part-*.csv")))
    with pytest.raises(ScenarioError, match="no such file or directory"):
        read_log(tmp_path / "nothing.csv")
    with pytest.raises(ScenarioError, match="no event files in pattern"):
        read_log(str(tmp_path / "none-*.csv"))


def test_mixed_schema_names_the_file(tmp_path: Path) -> None:
    """A file whose columns or types differ from the first file's is an error naming both."""
    (tmp_path / "a.parquet").write_bytes(b"")
    pq.write_table(_table(), tmp_path / "a.parquet")
    pq.write_table(_table().set_column(0, "user_id", pa.array([1, 2, 3])), tmp_path / "b.parquet")
    with pytest.raises(ScenarioError) as info:
        read_log(tmp_path)
    assert str(info.value) == (
        f"{tmp_path / 'b.parquet'}: mixed schema: column 'user_id' is int64 here but string in "
        f"{tmp_path / 'a.parquet'}"
    )
    pq.write_table(_table().drop_columns(["campaign"]), tmp_path / "b.parquet")
    with pytest.raises(ScenarioError, match=r"b\.parquet: mixed schema: this file lacks 'campaign', unlike"):
        read_log(tmp_path)


def test_mixed_formats_in_a_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV)
    (tmp_path / "b.jsonl").write_text(JSONL)
    with pytest.raises(ScenarioError, match=r"b\.jsonl: is jsonl but .*a\.csv is csv: a log is one format"):
        read_log(tmp_path)


def test_bad_rows_of_several_files_name_the_file(tmp_path: Path) -> None:
    """Bad rows are listed with their file and line, in file order."""
    (tmp_path / "a.csv").write_text(
        "user_id,timestamp\nu,2024-05-01T10:00:00Z\nu,2024-05-01T10:00:00Z,extra\n"
    )
    (tmp_path / "b.csv").write_text("user_id,timestamp\nu,nope\nu,2024-05-01T10:01:00Z\n")
    with pytest.raises(ScenarioError) as info:
        read_log(tmp_path)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert str(info.value).startswith(
        f"{tmp_path}: 2 bad row(s): {a} line 3: 3 field(s) where the header has 2; "
        f"{b} line 2: timestamp 'nope'"
    )
    log = read_log(tmp_path, skip_bad=True)
    assert log.status.tolist() == [0, BAD, BAD, 1]
    assert log.lines.tolist() == [2, 3, 2, 3]
    assert log.file_index.tolist() == [0, 0, 1, 1]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "07", "7"]), st.integers(0, 10_000), st.sampled_from(["", "x", "y"])
        ),
        min_size=1,
        max_size=30,
    ),
    cuts=st.lists(st.integers(0, 30), max_size=4),
)
def test_a_directory_reads_like_its_files_concatenated(tmp_path_factory, rows, cuts) -> None:
    """Property: however the rows are split into files, the directory reads as the one file does."""
    base = tmp_path_factory.mktemp("split")
    lines = [f"{u},{1_714_557_600 + t},{c}" for u, t, c in rows]
    (base / "whole.csv").write_text("user_id,timestamp,campaign\n" + "".join(f"{x}\n" for x in lines))
    bounds = sorted({0, len(lines), *(min(c, len(lines)) for c in cuts)})
    (base / "parts").mkdir()
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        body = "".join(f"{x}\n" for x in lines[lo:hi])
        (base / "parts" / f"p{i:02d}.csv").write_text("user_id,timestamp,campaign\n" + body)
    whole = read_log(base / "whole.csv", LogColumns(epoch="s"))
    parts = read_log(base / "parts", LogColumns(epoch="s"))
    assert parts.user.tolist() == whole.user.tolist()
    assert parts.ts.tolist() == whole.ts.tolist()
    assert [parts.campaigns[c] if c >= 0 else "" for c in parts.campaign] == [
        whole.campaigns[c] if c >= 0 else "" for c in whole.campaign
    ]


@pytest.mark.parametrize(("delimiter", "shown"), [(";", ";"), ("\t", "\\t"), ("|", "|"), (",", ",")])
def test_delimiter_is_sniffed_or_given(tmp_path: Path, delimiter: str, shown: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(CSV.replace(",", delimiter))
    log = read_log(path)
    _same(log)
    assert log.delimiter == delimiter
    _same(read_log(path, LogColumns(delimiter=parse_delimiter(shown))))


def test_tsv_extension_is_csv_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "log.tsv"
    path.write_text(CSV.replace(",", "\t"))
    _same(read_log(path))


def test_ambiguous_delimiter_is_refused() -> None:
    """A header that splits on two candidates, with data that fits both alike, is refused by name."""
    head = b"a;b,c\n1;2,3\n"
    with pytest.raises(ScenarioError) as info:
        sniff_delimiter(head, "x.csv")
    assert (
        str(info.value) == "x.csv: cannot tell the delimiter: the header splits on ',', ';'; pass --delimiter"
    )
    # data lines break the tie: only ';' splits every line into the header's 2 fields
    assert sniff_delimiter(b"a;b,c\n1;2\n3;4,5,6\n", "x.csv") == ";"
    assert sniff_delimiter(b"user_id\nu\n", "x.csv") == ","


def test_parse_delimiter() -> None:
    assert parse_delimiter("\\t") == "\t"
    assert parse_delimiter("tab") == "\t"
    assert parse_delimiter(";") == ";"
    for bad in ("", ";;", '"', "\n"):
        with pytest.raises(ValueError, match="one character"):
            parse_delimiter(bad)


def test_bom_crlf_and_quoted_fields(tmp_path: Path) -> None:
    """A UTF-8 BOM, CRLF, quoted delimiters and quoted line breaks; later lines keep their numbers."""
    path = tmp_path / "log.csv"
    text = (
        "\ufeffuser_id;timestamp;campaign\r\n"
        '"u;1";2024-05-01T10:00:00Z;"spring; sale"\r\n'
        'u2;2024-05-01T10:05:00Z;"two\r\nlines"\r\n'
        'u3;2024-05-01T10:06:00Z;"say ""hi"""\r\n'
        "u4;later;\r\n"
    )
    path.write_bytes(text.encode())
    log = read_log(path, skip_bad=True)
    assert log.delimiter == ";"
    assert log.user.tolist() == ["u;1", "u2", "u3"]
    assert list(log.campaigns) == ["spring; sale", "two\r\nlines", 'say "hi"']
    assert log.lines.tolist() == [2, 3, 5, 6]  # the quoted line break spans lines 3-4
    assert [(b.line, b.reason.split(" ")[0]) for b in log.bad] == [(6, "timestamp")]


def test_source_columns_make_one_campaign_key(tmp_path: Path) -> None:
    """source/medium/campaign together: a change in any is a new campaign; all empty is none."""
    path = tmp_path / "log.csv"
    path.write_text(
        "user_id,timestamp,source,medium,campaign\n"
        "u,2024-05-01T10:00:00Z,google,cpc,spring\n"
        "u,2024-05-01T10:01:00Z,google,cpc,spring\n"
        "u,2024-05-01T10:02:00Z,google,organic,spring\n"
        "u,2024-05-01T10:03:00Z,,,\n"
        "u,2024-05-01T10:04:00Z,google,,\n"
    )
    log = read_log(path, LogColumns(sources=("source", "medium", "campaign")))
    assert log.campaign.tolist() == [0, 0, 1, -1, 2]
    assert log.campaigns == ("google / cpc / spring", "google / organic / spring", "google /  / ")
    from simulator.sessions import sessionize

    ids = sessionize(log.user, log.ts, "universal_analytics", log.campaign)
    assert ids.tolist() == [0, 0, 1, 1, 2]  # UA: medium changed, direct keeps, a new source splits
    only_campaign = read_log(path)
    assert sessionize(
        only_campaign.user, only_campaign.ts, "universal_analytics", only_campaign.campaign
    ).tolist() == [
        0,
        0,
        0,
        0,
        0,
    ]
    with pytest.raises(ScenarioError, match=r"no column 'term'.*--source-columns"):
        read_log(path, LogColumns(sources=("source", "term")))


def test_keep_columns_parquet_keeps_types_and_order(tmp_path: Path) -> None:
    """Every input column, its type, the input's row order; bad and excluded rows included."""
    path = tmp_path / "in.parquet"
    table = pa.table(
        {
            "user_id": pa.array([5, 3, 5, 9], pa.int64()),
            "timestamp": pa.array([0, 60, 120, None], pa.timestamp("s", tz="UTC")),
            "event_name": ["view", "view", "ping", "view"],
            "price": pa.array([1.5, None, 2.0, 3.0]),
            "day": pa.array([1, 1, 2, 2], pa.int32()),
        }
    )
    pq.write_table(table, path)
    log = read_log(path, skip_bad=True, exclude_events=["ping"], keep_columns=True)
    assert log.accounting() == {"read": 4, "sessionized": 2, "bad": 1, "excluded": 1}
    out = tmp_path / "out.parquet"
    ids = np.array([0, 1])
    write_assignments(out, log, {"ga4": (ids, np.array(["new_user", "new_user"]))})
    got = pq.read_table(out)
    assert got.column_names == [
        "row",
        "user_id",
        "timestamp",
        "event_name",
        "price",
        "day",
        "ga4.session_id",
        "ga4.split_cause",
    ]
    assert got.select(table.column_names).equals(pq.read_table(path))  # (Parquet stores s as ms)
    assert got.column("ga4.split_cause").to_pylist() == ["new_user", "new_user", "excluded", "bad_row"]
    assert got.column("ga4.session_id").to_pylist() == [0, 1, None, None]


def test_keep_columns_refuses_a_clash(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("user_id,timestamp,line\nu,2024-05-01T10:00:00Z,x\n")
    log = read_log(path, keep_columns=True)
    with pytest.raises(ScenarioError, match="column 'line', which the output adds too"):
        write_assignments(tmp_path / "o.csv", log, {"ga4": (np.array([0]), np.array(["new_user"]))})


@pytest.mark.parametrize(
    ("suffix", "opener"), [(".csv.gz", gzip.open), (".jsonl.bz2", bz2.open), (".csv.zst", None)]
)
def test_out_compressed_by_suffix(tmp_path: Path, suffix: str, opener) -> None:
    src = tmp_path / "log.csv"
    src.write_text(CSV)
    log = read_log(src)
    out = tmp_path / f"out{suffix}"
    write_assignments(
        out, log, {"ga4": (np.array([0, 0, 1]), np.array(["new_user", "continues", "new_user"]))}
    )
    if opener is None:
        text = pa.input_stream(str(out), compression="zstd").read().decode()
    else:
        with opener(out, "rt") as fh:
            text = fh.read()
    if suffix.startswith(".csv"):
        assert text.splitlines()[1] == "2,u1,2024-05-01T10:00:00Z,0,new_user"
    else:
        assert json.loads(text.splitlines()[1])["ga4.split_cause"] == "continues"


def test_out_compressed_parquet_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "log.csv"
    src.write_text(CSV)
    with pytest.raises(ScenarioError, match="compress their own columns"):
        write_assignments(tmp_path / "o.parquet.gz", read_log(src), {})


def test_out_arrow_keeps_types(tmp_path: Path) -> None:
    src = tmp_path / "log.parquet"
    pq.write_table(_table(), src)
    out = tmp_path / "o.arrow"
    write_assignments(out, read_log(src), {})
    got = pa.ipc.open_file(str(out)).read_all()
    assert got.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")


def test_open_batches_streams_every_format(tmp_path: Path) -> None:
    """The streaming reader gives the same rows as the whole-table one, with partition columns."""
    root = _hive(tmp_path)
    got = [(Path(src.name).parent.name, b.to_pydict()) for src, b in open_batches(root)]
    assert [g[0] for g in got] == ["source=direct", "source=google", "source=google"]
    assert got[0][1]["dt"] == ["2024-05-01"]
    assert got[0][1]["source"] == ["direct"]
    gz = tmp_path / "x.csv.gz"
    gz.write_bytes(gzip.compress(CSV.replace(",", "|").encode()))
    (batch,) = [b for _, b in open_batches(gz)]
    assert batch.column("user_id").to_pylist() == ["u1", "u1", "007"]
    jl = tmp_path / "x.jsonl.zst"
    jl.write_bytes(_compress("zst", JSONL.encode()))
    rows = sum(b.num_rows for _, b in open_batches(jl, columns=["user_id"]))
    assert rows == 3
    (only,) = [b for _, b in open_batches("-", stdin=io.BytesIO(CSV.encode()))]
    assert only.num_rows == 3

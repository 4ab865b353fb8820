"""The shard spool on streams (simulator.log.streams): compressed CSV and JSON Lines, standard input,
any delimiter, give the in-memory path's file byte for byte, with the same bad rows.

The reference is the in-memory path itself (read_log -> sessionize -> write_assignments, standard
input through ``read_log("-", stdin=...)``); the spool runs with tiny shards, row buckets and read
blocks, so one log goes through many of each.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.json as pjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.log import shards, streams
from simulator.log.logfile import LogColumns, _row_lines, read_log
from simulator.log.shards import sessionize_large
from simulator.log.streams import RecordLines, _blocks, _unified_schema
from tests.log.test_shards import DEFS, LABELS, _in_memory, _iso, _logs, _shard_fn

CODECS = {"": None, ".gz": "gzip", ".zst": "zstd", ".bz2": "bz2"}


def _spool(path, out: Path | None, cols: LogColumns, **kw):
    return sessionize_large(path, cols, _shard_fn, definitions=DEFS, labels=LABELS, out=out, **kw)


def _compress(data: bytes, codec: str | None) -> bytes:
    if codec is None:
        return data
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, codec) as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read blocks of a few hundred bytes, so a small log spans many."""
    monkeypatch.setattr(streams, "CSV_BLOCK", 512)
    monkeypatch.setattr(streams, "JSON_BLOCK", 97)
    monkeypatch.setattr(streams, "JSON_ROWS", 3)


# ---- the record numbering equals the in-memory reader's ------------------------------------------

_BYTES = st.lists(st.sampled_from([b"a", b",", b'"', b"\n", b"\r", b"\r\n", b"xy", b" "]), max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=_BYTES, cuts=st.lists(st.integers(0, 80), max_size=6))
@example(parts=[b"h", b"\n", b"\r", b"\n", b"a"], cuts=[2, 3])
def test_record_lines_fed_in_pieces_equal_row_lines_on_the_whole(tmp_path: Path, parts, cuts) -> None:
    data = b"h,h\n" + b"".join(parts)
    expected = _row_lines(np.frombuffer(data, dtype=np.uint8))
    store = tmp_path / f"l{time.monotonic_ns()}.i64"
    lines = RecordLines(store)
    points = sorted({0, len(data), *[c for c in cuts if c < len(data)]})
    for a, b in itertools.pairwise(points):
        lines.feed(memoryview(data)[a:b])
    assert np.asarray(lines.finish()).tolist() == expected.tolist()


# ---- JSON types unified per block equal read_json's on the whole ---------------------------------

_VALUES = st.sampled_from(
    [
        "1",
        "2.5",
        '"x"',
        "null",
        "true",
        '"2024-05-01"',
        '"2024-05-01 10:00:00"',
        '{"k":1}',
        '{"k":2.5}',
        "[1]",
    ]
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.dictionaries(st.sampled_from("abc"), _VALUES, max_size=3), min_size=1, max_size=12))
def test_unified_schema_is_read_jsons_schema(rows) -> None:
    data = "".join("{" + ",".join(f'"{k}":{v}' for k, v in r.items()) + "}\n" for r in rows).encode()
    try:
        whole = pjson.read_json(pa.BufferReader(data)).schema
    except pa.ArrowInvalid:
        whole = None
    blocks = _unified_schema(lambda: pa.BufferReader(data), 17)  # a block of about a line
    if whole is None:
        assert blocks is None
    else:
        assert blocks is not None
        assert {f.name: f.type for f in blocks} == {f.name: f.type for f in whole}
        assert blocks.names == whole.names


def test_blocks_end_at_line_ends_whatever_their_size() -> None:
    data = b'{"a":1}\n{"a":22}\r\n{"a":3}\r{"a":4}'
    for size in (1, 3, 8, 100):
        pieces = list(_blocks(io.BytesIO(data), size))
        assert b"".join(pieces) == data
        assert all(p.endswith((b"\n", b"\r")) for p in pieces[:-1])


# ---- the spool on streams: the in-memory file, byte for byte -------------------------------------


def _csv_bytes(rows, delimiter: str, crlf: bool, extras) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n" if crlf else "\n")
    w.writerow(["user_id", "timestamp", "campaign"])
    for k, (user, ms, camp, bad) in enumerate(rows):
        row = [user, "not a time" if bad else _iso(ms), camp]
        kind = extras[k % len(extras)] if extras else 0
        if kind == 1:
            row.append("extra")  # a wrong field count: refused by the reader, a bad row at its line
        elif kind == 2:
            row[2] = camp + "\nsecond line"  # a quoted line break
        w.writerow(row)
        if kind == 3:
            buf.write("\r\n" if crlf else "\n")  # a blank line
    return buf.getvalue().encode()


def _jsonl_bytes(rows, style: int, extras) -> bytes:
    lines = []
    for k, (user, ms, camp, bad) in enumerate(rows):
        record = {"user_id": user, "timestamp": "not a time" if bad else (ms if style == 1 else _iso(ms))}
        if camp:
            record["campaign"] = camp
        elif style == 2:
            record["campaign"] = None
        kind = extras[k % len(extras)] if extras else 0
        if kind == 1:
            lines.append("{not json")
        if kind == 2:
            lines.append("")
        if kind == 3:
            # a float among integer epoch milliseconds (seconds among them would be ambiguous, and
            # refused by both paths); in the ISO style, an integer among strings
            record["timestamp"] = ms + 0.5 if style == 1 else ms
        lines.append(json.dumps(record))
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=_logs(),
    kind=st.sampled_from(["csv", "jsonl"]),
    codec=st.sampled_from(list(CODECS)),
    stdin=st.booleans(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    crlf=st.booleans(),
    style=st.integers(0, 2),
    extras=st.lists(st.integers(0, 6), max_size=5),
    shard_rows=st.integers(1, 25),
    out_ext=st.sampled_from([".parquet", ".csv", ".jsonl"]),
)
@example(  # a quoted line break in a compressed CSV on standard input
    rows=[("a", 1_714_550_000_000, "x", False), ("b", 1_714_550_000_000, "", False)],
    kind="csv",
    codec=".gz",
    stdin=True,
    delimiter=",",
    crlf=True,
    style=0,
    extras=[2, 1],
    shard_rows=1,
    out_ext=".csv",
)
@example(  # a float among integer epoch times in JSON Lines (once seconds: refused as ambiguous)
    rows=[
        (0, 1_714_550_000_000, "", False),
        (0, 1_714_550_000_000, "", True),
        (0, 1_714_550_000_000, "", False),
    ],
    kind="jsonl",
    codec="",
    stdin=False,
    delimiter=",",
    crlf=False,
    style=1,
    extras=[0, 3],
    shard_rows=1,
    out_ext=".parquet",
)
def test_streamed_file_equals_the_in_memory_file(  # noqa: PLR0917 - hypothesis's arguments
    tmp_path: Path,
    small_blocks,
    rows,
    kind,
    codec,
    stdin,
    delimiter,
    crlf,
    style,
    extras,
    shard_rows,
    out_ext,
) -> None:
    """Random logs (bad rows and lines, quoted line breaks, blank lines, odd ids, JSON types that
    pyarrow reads or refuses), compressed or not, from a file or standard input: the same bytes."""
    if not rows:
        rows = [("a", 1_714_550_000_000, "", False)]
    work = Path(os.path.join(tmp_path, f"r{time.monotonic_ns()}"))
    work.mkdir()
    data = _csv_bytes(rows, delimiter, crlf, extras) if kind == "csv" else _jsonl_bytes(rows, style, extras)
    raw = _compress(data, CODECS[codec])
    src = work / f"events.{kind}{codec}"
    src.write_bytes(raw)
    cols = LogColumns()
    mem, ooc = work / f"mem{out_ext}", work / f"ooc{out_ext}"
    path, fmt = ("-", kind) if stdin else (str(src), None)
    log = _in_memory(path, mem, cols, skip_bad=True, fmt=fmt, stdin=raw if stdin else None)
    result = _spool(
        path,
        ooc,
        cols,
        fmt=fmt,
        skip_bad=True,
        stdin=io.BytesIO(raw) if stdin else None,
        shard_rows=shard_rows,
        bucket_rows=3,
    )
    assert ooc.read_bytes() == mem.read_bytes()
    assert result.bad == list(log.bad)
    assert result.rows == len(log.status)
    assert result.delimiter == log.delimiter
    assert sorted(p.name for p in work.iterdir()) == sorted([src.name, mem.name, ooc.name])  # no spool left


def test_bad_rows_of_a_compressed_csv_fail_with_the_in_memory_message(tmp_path: Path, small_blocks) -> None:
    lines = ["user_id;timestamp"] + [f"u{i % 7};2024-05-01T10:{i % 60:02d}:00Z" for i in range(40)]
    lines[9] = "u1;yesterday"
    lines[20] = "u1;2024-05-01T10:00:00Z;extra"
    lines[30] = '"u\n2";2024-05-01T10:00:00Z'  # a quoted line break: the lines after it shift by one
    lines[35] = ";2024-05-01T10:00:00Z"
    src = tmp_path / "e.csv.zst"
    src.write_bytes(_compress(("\n".join(lines) + "\n\n").encode(), "zstd"))
    with pytest.raises(ScenarioError) as memory:
        read_log(src, LogColumns())
    with pytest.raises(ScenarioError) as sharded:
        _spool(src, tmp_path / "o.csv", LogColumns(), shard_rows=3, bucket_rows=4)
    assert str(sharded.value) == str(memory.value)
    assert "3 bad row(s): line 10: " in str(memory.value)
    assert "line 21: 3 field(s)" in str(memory.value)
    assert "line 37: missing user_id" in str(memory.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv.zst"]  # no shard directory left


def test_an_oversized_shard_is_split_and_the_file_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_blocks
) -> None:
    """A compressed log whose size is underestimated starts with 64 shards (the least for a compressed
    stream); with 3-row shards each is split again."""
    monkeypatch.setattr(streams, "_size_hint", lambda _src: 0)
    read = []
    whole = shards._read_shard
    monkeypatch.setattr(shards, "_read_shard", lambda file: read.append(file.name) or whole(file))
    rng = np.random.default_rng(3)
    n = 3000
    users = rng.integers(0, 400, n)
    ts = 1_714_550_000_000 + rng.integers(0, 86_400_000, n)
    text = "user_id,timestamp\n" + "".join(f"{u},{t}\n" for u, t in zip(users, ts, strict=True))
    raw = _compress(text.encode(), "gzip")
    cols = LogColumns(epoch="ms")
    _in_memory("-", tmp_path / "m.parquet", cols, skip_bad=True, stdin=raw)
    result = _spool("-", tmp_path / "o.parquet", cols, stdin=io.BytesIO(raw), shard_rows=3, bucket_rows=500)
    assert result.shards == 64
    assert sum(name.count("-") == 2 for name in read) > 64  # shards of ~47 rows split again
    assert (tmp_path / "o.parquet").read_bytes() == (tmp_path / "m.parquet").read_bytes()
    assert result.users == len(np.unique(users))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.parquet", "o.parquet"]

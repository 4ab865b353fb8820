"""Writing event logs: formats, names instead of codes, atomic replacement, chunk-size independence."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from simulator.engine.simulate import iter_chunks
from simulator.log import writer as output
from simulator.log.writer import FIELDS, OutputError, write_chunks
from tests._popkit import scenario


@pytest.fixture(scope="module")
def small():
    return scenario(population={"visitors": 300}, behavior={"pages": 3, "convert": 0.2})


def test_csv_has_every_column_with_names(small, tmp_path):
    """CSV rows carry all columns; enums and campaigns appear as names."""
    out = tmp_path / "events.csv"
    rows = write_chunks(iter_chunks(small), out)
    with out.open() as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == rows
    assert tuple(records[0]) == FIELDS
    kinds = {r["kind"] for r in records}
    assert kinds == {"impression", "click", "pageview", "conversion"}
    clicks = [r for r in records if r["kind"] == "click"]
    assert {r["campaign"] for r in clicks} == {"search"}
    assert {r["network"] for r in clicks} == {"google_ads"}


def test_jsonl_matches_csv_row_for_row(small, tmp_path):
    """JSON Lines holds the same rows as CSV."""
    write_chunks(iter_chunks(small), tmp_path / "e.jsonl")
    write_chunks(iter_chunks(small), tmp_path / "e.csv")
    lines = (tmp_path / "e.jsonl").read_text().splitlines()
    with (tmp_path / "e.csv").open() as handle:
        records = list(csv.DictReader(handle))
    assert len(lines) == len(records)
    first = json.loads(lines[0])
    assert str(first["ts"]) == records[0]["ts"]
    assert first["kind"] == records[0]["kind"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_files_are_byte_identical_whatever_the_chunk_size(suffix, tmp_path, monkeypatch):
    """Same seed, different chunk sizes: the same bytes on disk (Parquet: several row groups)."""
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
        monkeypatch.setattr(output, "ROW_GROUP", 7000)
    sc = scenario(population={"visitors": 9000})
    write_chunks(iter_chunks(sc, chunk_size=1), tmp_path / f"a{suffix}")
    write_chunks(iter_chunks(sc, chunk_size=10**6), tmp_path / f"b{suffix}")
    assert (tmp_path / f"a{suffix}").read_bytes() == (tmp_path / f"b{suffix}").read_bytes()


def test_parquet_round_trips_the_columns(small, tmp_path):
    """Parquet keeps integer columns exact and names as strings."""
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "e.parquet"
    write_chunks(iter_chunks(small), out)
    table = pq.read_table(out)
    log = next(iter_chunks(small))
    assert table.column_names == list(FIELDS)
    assert np.array_equal(table.column("ts").to_numpy(), log.ts)
    assert set(table.column("kind").to_pylist()) == {"impression", "click", "pageview", "conversion"}


def test_a_failed_write_leaves_no_file_behind(small, tmp_path):
    """If simulation fails midway, neither the target nor a temporary file remains."""
    out = tmp_path / "e.csv"

    def broken():
        yield from iter_chunks(small)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_chunks(broken(), out)
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_is_an_error(small, tmp_path):
    """Only .csv, .jsonl and .parquet are written."""
    with pytest.raises(OutputError, match=r"unknown output format '\.txt'"):
        write_chunks(iter_chunks(small), tmp_path / "e.txt")


def test_parquet_encodings_are_chosen_per_column(small, tmp_path):
    """Dictionaries for the name columns only, delta encoding for user/person/ts, statistics only on
    numeric columns (min/max of ts are the log's)."""
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "e.parquet"
    write_chunks(iter_chunks(small), out)
    meta = pq.ParquetFile(out).metadata
    group = meta.row_group(0)
    chunks = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    for name in output.NAMED:
        assert "RLE_DICTIONARY" in chunks[name].encodings, name
        assert chunks[name].statistics is None, name
    for name in ("user", "person", "ts"):
        assert "DELTA_BINARY_PACKED" in chunks[name].encodings, name
    for name in ("visit", "click", "cost"):
        assert "RLE_DICTIONARY" not in chunks[name].encodings, name
    log = next(iter_chunks(small))
    assert (chunks["ts"].statistics.min, chunks["ts"].statistics.max) == (log.ts.min(), log.ts.max())


def test_parquet_writer_error_stops_the_simulation_and_leaves_nothing(small, tmp_path, monkeypatch):
    """A write error in the writer thread (disk full) reaches the caller as one-line ScenarioError;
    no file or temporary file remains and no writer thread keeps running."""
    pytest.importorskip("pyarrow")
    import threading

    from simulator.errors import ScenarioError

    monkeypatch.setattr(output, "ROW_GROUP", 500)
    calls = {"n": 0}
    real = output._ParquetSink._write

    def full(self, table):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        real(self, table)

    monkeypatch.setattr(output._ParquetSink, "_write", full)
    with pytest.raises(ScenarioError, match="cannot write the file: No space left on device"):
        write_chunks(
            iter_chunks(scenario(population={"visitors": 9000}), chunk_size=1), tmp_path / "e.parquet"
        )
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "sessionlab-parquet-writer"]
    assert calls["n"] == 2  # nothing written after the error


def test_ctrl_c_while_parquet_is_written_leaves_nothing(small, tmp_path):
    """KeyboardInterrupt from the simulation side: the writer thread ends, the file is removed."""
    pytest.importorskip("pyarrow")
    import threading

    def interrupted():
        yield from iter_chunks(small)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_chunks(interrupted(), tmp_path / "e.parquet")
    assert list(tmp_path.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name == "sessionlab-parquet-writer"]


def test_empty_parquet_has_the_real_schema(tmp_path):
    """No rows at all: a valid file whose columns have the types a non-empty one has."""
    pq = pytest.importorskip("pyarrow.parquet")
    sc = scenario(population={"visitors": 0})
    write_chunks(iter_chunks(sc), tmp_path / "empty.parquet")
    write_chunks(iter_chunks(scenario(population={"visitors": 50})), tmp_path / "full.parquet")
    empty, full = pq.read_table(tmp_path / "empty.parquet"), pq.read_table(tmp_path / "full.parquet")
    assert empty.num_rows == 0
    assert empty.schema.types == full.schema.types


def test_writing_parquet_does_not_import_pandas(tmp_path):
    """Arrow arrays come from the numpy buffers: pyarrow's pandas check (0.4 s of import) never runs."""
    import subprocess
    import sys

    out = str(tmp_path / "e.parquet")
    code = (
        "import sys; from tests._popkit import scenario; from simulator.engine.simulate import iter_chunks; "
        "from simulator.log.writer import write_chunks; "
        f"write_chunks(iter_chunks(scenario(population={{'visitors': 200}})), {out!r}); "
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert done.stdout.strip() == "False"


def test_parquet_bytes_are_the_same_for_any_workers_and_chunk_size(tmp_path, monkeypatch):
    """The threaded writer cuts row groups from the stream of rows: one process with one big chunk and
    two worker processes with one-block chunks write the same bytes."""
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(output, "ROW_GROUP", 5000)
    sc = scenario(population={"visitors": 20000})
    write_chunks(iter_chunks(sc, chunk_size=10**6), tmp_path / "a.parquet")
    write_chunks(iter_chunks(sc, chunk_size=8192, workers=2), tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()

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

"""A workload CSV larger than the memory budget (``conform --workload big.csv``, ``load_workload``) is
read in blocks by the shard spool's reader: the same arrays and the same errors as in memory."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.log import shards, streams
from simulator.testbench.workload import generate, load_workload, write_workload


@pytest.fixture
def spool_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Small read blocks, and the temporary directory watched."""
    monkeypatch.setattr(streams, "CSV_BLOCK", 4096)
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def _same(a, b) -> None:
    assert a.user_id.dtype == b.user_id.dtype
    assert a.user_id.tolist() == b.user_id.tolist()
    assert a.timestamp_ms.tolist() == b.timestamp_ms.tolist()
    assert a.campaign.tolist() == b.campaign.tolist()
    assert a.meta == b.meta


def test_a_workload_csv_over_the_budget_is_read_in_blocks_alike(
    tmp_path: Path, spool_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_workload(generate(3000, 300, "edge-cases", 7), tmp_path / "wl")
    csv = tmp_path / "wl" / "events.csv"
    calls = []
    whole = shards.read_columns
    monkeypatch.setattr(shards, "read_columns", lambda *a, **k: calls.append(a) or whole(*a, **k))
    memory = load_workload(csv)
    blocks = load_workload(csv, memory=1)  # nothing fits: read in blocks
    assert len(calls) == 1
    _same(blocks, memory)
    assert len(blocks) == 3000
    assert list(spool_tmp.iterdir()) == []  # the line numbers' file is gone


def test_text_ids_and_bad_rows_read_in_blocks_alike(tmp_path: Path, spool_tmp: Path) -> None:
    csv = tmp_path / "w.csv"
    rows = [f"user-{i % 13},{1_714_550_000_000 + 1000 * i},{'spring' if i % 3 else ''}" for i in range(500)]
    csv.write_text("user_id,timestamp_ms,campaign\n" + "\n".join(rows) + "\n")
    _same(load_workload(csv, memory=1), load_workload(csv))
    rows[40] = "user-1,yesterday,x"
    rows[300] = ",1714550000000,"
    rows[410] = "user-2,1714550000000,x,extra"
    csv.write_text("user_id,timestamp_ms,campaign\n" + "\n".join(rows) + "\n")
    with pytest.raises(ScenarioError) as memory:
        load_workload(csv)
    with pytest.raises(ScenarioError) as blocks:
        load_workload(csv, memory=1)
    assert str(blocks.value) == str(memory.value)
    assert "3 bad row(s): line 42: " in str(memory.value)
    assert list(spool_tmp.iterdir()) == []


def test_an_iso_only_workload_is_read_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``timestamp_ms`` the epoch question needs the whole column: read in memory."""
    csv = tmp_path / "w.csv"
    csv.write_text("user_id,timestamp\n1,2024-05-01T10:00:00Z\n2,2024-05-01T10:01:00Z\n")
    monkeypatch.setattr(shards, "read_columns", lambda *a, **k: pytest.fail("read in blocks"))
    wl = load_workload(csv, memory=1)
    assert wl.user_id.tolist() == [1, 2]
    assert np.diff(wl.timestamp_ms).tolist() == [60_000]

"""Writing a workload: the block writers against a plain per-row reference, byte for byte.

``write_workload`` formats ``events.csv`` and writes ``events.parquet`` a block of rows at a time with
Arrow's kernels. The reference here is the obvious program: one f-string per row, the ISO time from
``datetime.isoformat``, and one ``pyarrow.parquet.write_table`` of the whole table. Blocks are made
tiny so that every example spans several.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import SessionlabError
from simulator.log import shards
from simulator.testbench import workload as wlmod
from simulator.testbench.workload import Workload, csv_bytes, generate, iso_local, write_workload

_ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns")
_ZONES += ("Australia/Lord_Howe",)  # a 30-minute DST change
_2000, _2035 = 946_684_800_000, 2_051_222_400_000


def _reference_csv(wl: Workload) -> bytes:
    zone = ZoneInfo(wl.timezone)
    lines = ["user_id,timestamp_ms,timestamp,campaign\n"]
    for u, t, c in zip(wl.user_id.tolist(), wl.timestamp_ms.tolist(), wl.campaign.tolist(), strict=True):
        local = dt.datetime.fromtimestamp(t / 1000, dt.UTC).astimezone(zone)
        local = local.replace(microsecond=t % 1000 * 1000)  # t / 1000 may round; the ms are exact
        lines.append(f"{u},{t},{local.isoformat(timespec='milliseconds')},{c}\n")
    return "".join(lines).encode()


def _reference_parquet(wl: Workload, rows_per_group: int) -> bytes:
    camp = wl.campaign.astype(object)
    table = pa.table(
        {
            "user_id": pa.array(wl.user_id, pa.int64()),
            "timestamp_ms": pa.array(wl.timestamp_ms, pa.int64()),
            "timestamp": pa.array(wl.timestamp_ms, pa.timestamp("ms", tz=wl.timezone)),
            "campaign": pa.array(np.where(camp == "", None, camp), pa.string()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=rows_per_group)
    return sink.getvalue().to_pybytes()


@st.composite
def _workloads(draw: st.DrawFn) -> Workload:
    n = draw(st.integers(0, 40))
    ints = st.integers(-(2**63), 2**63 - 1)
    users = np.array(draw(st.lists(ints, min_size=n, max_size=n)), dtype=np.int64)
    times = np.array(draw(st.lists(st.integers(_2000, _2035), min_size=n, max_size=n)), dtype=np.int64)
    names = st.sampled_from(["", "spring_sale", "brand search", "é-campaign", "x" * 30])
    campaign = np.array(draw(st.lists(names, min_size=n, max_size=n)), dtype=str).reshape(n)
    return Workload(users, times, campaign, draw(st.sampled_from(_ZONES)))


@settings(max_examples=60, deadline=None)
@given(wl=_workloads(), block=st.integers(1, 9))
def test_block_writers_equal_the_per_row_reference(wl, block, tmp_path_factory):
    """CSV bytes equal one f-string per row; Parquet bytes equal one write_table; any block size."""
    out = tmp_path_factory.mktemp("wl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(wlmod, "_BLOCK", block)
        assert csv_bytes(wl) == _reference_csv(wl)
        digests = write_workload(wl, out)
    assert (out / "events.csv").read_bytes() == _reference_csv(wl)
    assert (out / "events.parquet").read_bytes() == _reference_parquet(wl, block)
    for name, digest in digests.items():  # hashed while written: the digest of the file on disk
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert json.loads((out / "workload.json").read_text())["sha256"] == digests


def test_iso_local_equals_isoformat_around_every_change_of_a_year():
    """Each offset change of 2024 in three zones, +-1 ms and +-1 h: the text datetime writes."""
    for name in ("America/New_York", "Australia/Lord_Howe", "Europe/Berlin"):
        zone = ZoneInfo(name)
        start = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp()) // 1800

        def offset(second: int, zone: ZoneInfo = zone) -> dt.timedelta | None:
            return dt.datetime.fromtimestamp(second, zone).utcoffset()

        year = range(start, start + 366 * 48)  # half hours: Lord Howe changes at 02:00 local, by 30 min
        changes = [h * 1_800_000 for h in year if offset(h * 1800) != offset(h * 1800 - 1)]
        assert len(changes) == 2, name
        ts = np.array([h + d for h in changes for d in (-3_600_000, -1, 0, 1, 3_600_000)], dtype=np.int64)
        wl = Workload(np.zeros(len(ts), np.int64), ts, np.full(len(ts), "", dtype=str), name)
        want = [line.split(",")[2] for line in _reference_csv(wl).decode().splitlines()[1:]]
        assert iso_local(ts, name).tolist() == want


def test_a_generated_workload_writes_the_reference_bytes(tmp_path, monkeypatch):
    """A real profile workload over several blocks: the same files as the reference program."""
    monkeypatch.setattr(wlmod, "_BLOCK", 1_000)
    wl = generate(4_321, 300, "edge-cases", seed=11, timezone="Europe/Berlin")
    write_workload(wl, tmp_path)
    assert (tmp_path / "events.csv").read_bytes() == _reference_csv(wl)
    assert (tmp_path / "events.parquet").read_bytes() == _reference_parquet(wl, 1_000)


def test_a_workload_too_large_for_memory_is_refused_before_any_work(monkeypatch):
    """The estimate against the memory available: one line with the size that fits, no MemoryError."""
    monkeypatch.setattr(shards, "available_memory", lambda: 1 << 30)
    with pytest.raises(
        SessionlabError, match=r"--events: generating 10,000,000 events needs about 1\.6 GiB"
    ) as err:
        generate(10_000_000, 1_000)
    fit = int(str(err.value).rsplit("about ", 1)[1].split()[0].replace(",", ""))
    assert fit == ((1 << 30) - 1_000 * wlmod._BYTES_PER_USER) // wlmod._BYTES_PER_EVENT
    assert len(generate(fit // 1_000, 10)) == fit // 1_000  # a size that fits is generated

"""Workloads: determinism, the traps each profile must contain, file formats."""

from __future__ import annotations

import datetime as dt
import filecmp
import json

import numpy as np
import pytest

from simulator.errors import SessionlabError
from simulator.testbench.profiles import PROFILES, TIMEOUTS_MS
from simulator.testbench.workload import generate, iso_local, load_workload, write_workload


def _gaps(wl):
    order = np.lexsort((wl.timestamp_ms, wl.user_id))
    u, t = wl.user_id[order], wl.timestamp_ms[order]
    same = u[1:] == u[:-1]
    return np.diff(t)[same]


def test_same_arguments_write_identical_bytes(tmp_path):
    """Same arguments => byte-identical files (CSV, Parquet, columns, metadata)."""
    for name in ("a", "b"):
        write_workload(generate(2_000, 100, "edge-cases", seed=5), tmp_path / name)
    cmp = filecmp.dircmp(tmp_path / "a", tmp_path / "b")
    assert not cmp.diff_files
    assert {"events.csv", "workload.json"} <= set(cmp.same_files)
    assert not filecmp.dircmp(tmp_path / "a" / "columns", tmp_path / "b" / "columns").diff_files


def test_another_seed_gives_another_workload():
    """The seed matters."""
    a, b = generate(1_000, 50, seed=1), generate(1_000, 50, seed=2)
    assert not np.array_equal(a.timestamp_ms, b.timestamp_ms)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_sizes_are_exact(profile):
    """Every profile makes exactly N events of exactly U users, each with at least one event."""
    wl = generate(5_000, 400, profile, seed=3)
    assert len(wl) == 5_000
    assert len(np.unique(wl.user_id)) == 400


def test_edge_cases_profile_holds_every_trap():
    """edge-cases: exact timeouts and +-1 ms, ties, disorder, midnights, both DST days, campaigns."""
    wl = generate(20_000, 1_000, "edge-cases", seed=0)
    gaps = _gaps(wl)
    for timeout in TIMEOUTS_MS:
        for delta in (-1, 0, 1):
            assert (gaps == timeout + delta).any(), (timeout, delta)
    assert (gaps == 0).mean() > 0.05  # identical timestamps
    per_user_sorted = np.lexsort((np.arange(len(wl)), wl.user_id))  # file order within each user
    assert (np.diff(wl.timestamp_ms[per_user_sorted])[np.diff(wl.user_id[per_user_sorted]) == 0] < 0).any()
    local_days = {s[:10] for s in iso_local(wl.timestamp_ms, wl.timezone).tolist()}
    assert {"2024-03-10", "2024-11-03"} <= local_days  # both US DST changes
    sizes = np.bincount(np.unique(wl.user_id, return_inverse=True)[1])
    assert (sizes == 1).sum() >= 100  # one-event users
    assert (wl.campaign == "").any()
    assert len(set(wl.campaign.tolist())) > 2


def test_edge_cases_visits_cross_local_midnight():
    """Consecutive events of a user less than 30 min apart on two local dates exist."""
    wl = generate(20_000, 1_000, "edge-cases", seed=0)
    order = np.lexsort((wl.timestamp_ms, wl.user_id))
    u, t = wl.user_id[order], wl.timestamp_ms[order]
    day = np.array([s[:10] for s in iso_local(t, wl.timezone).tolist()])
    crossing = (u[1:] == u[:-1]) & (np.diff(t) < 1_800_000) & (day[1:] != day[:-1])
    assert crossing.sum() >= 20


def test_heavy_users_profile_concentrates_events():
    """heavy-users: 0.5% of users hold about 70% of the events."""
    wl = generate(100_000, 2_000, "heavy-users", seed=0)
    sizes = np.sort(np.bincount(np.unique(wl.user_id, return_inverse=True)[1]))[::-1]
    assert 0.65 < sizes[:10].sum() / len(wl) < 0.75
    assert sizes[0] > 5_000


def test_iso_timestamps_carry_the_offset_across_dst():
    """The second before and after the March 2024 US change: -05:00, then -04:00."""
    t = dt.datetime(2024, 3, 10, 7, 0, tzinfo=dt.UTC).timestamp() * 1000
    got = iso_local(np.array([t - 1, t], dtype=np.int64), "America/New_York").tolist()
    assert got == ["2024-03-10T01:59:59.999-05:00", "2024-03-10T03:00:00.000-04:00"]


def test_directory_and_csv_load_the_same_columns(tmp_path):
    """workload.json + columns/*.npy and events.csv hold the same rows."""
    wl = generate(1_000, 60, "realistic", seed=2)
    write_workload(wl, tmp_path)
    fast, csv = load_workload(tmp_path), load_workload(tmp_path / "events.csv")
    for a, b in ((fast, wl), (csv, wl)):
        assert np.array_equal(a.user_id, b.user_id)
        assert np.array_equal(a.timestamp_ms, b.timestamp_ms)
        assert a.campaign.tolist() == b.campaign.tolist()
    meta = json.loads((tmp_path / "workload.json").read_text())
    assert (meta["profile"], meta["seed"], meta["timezone"]) == ("realistic", 2, "America/New_York")


def test_parquet_has_typed_columns(tmp_path):
    """events.parquet: int64 ids and ms, a zoned timestamp, null campaigns for none."""
    pq = pytest.importorskip("pyarrow.parquet")
    wl = generate(500, 40, "edge-cases", seed=1)
    write_workload(wl, tmp_path)
    table = pq.read_table(tmp_path / "events.parquet")
    assert str(table.schema.field("timestamp").type) == "timestamp[ms, tz=America/New_York]"
    assert table.column("timestamp_ms").to_pylist() == wl.timestamp_ms.tolist()
    assert table.column("campaign").null_count == int((wl.campaign == "").sum())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"events": 10, "users": 11}, "need 1 <= users <= events"),
        ({"events": 10, "users": 2, "profile": "edgecases"}, "did you mean 'edge-cases'"),
        (
            {"events": 10, "users": 2, "timezone": "Mars/Olympus"},
            "--timezone: expected an IANA time zone name like 'Europe/Berlin', got 'Mars/Olympus'",
        ),
    ],
)
def test_bad_arguments_are_one_line_errors(kwargs, message):
    """Bad sizes, profiles and time zones raise SessionlabError with the fix in the message."""
    with pytest.raises(SessionlabError, match=message):
        generate(**kwargs)

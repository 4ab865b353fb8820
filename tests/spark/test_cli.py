"""``sessionlab sessionize --engine spark``: the same counts and sessions as ``--engine local``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simulator.cli.main import ExitCode, main
from simulator.sessions import sessionize

DEFS = ["ga4", "universal_analytics", "ga4:timeout=5m"]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 4000
    ts = 1_714_550_000_000 + rng.integers(0, 3 * 86_400_000, n)
    table = pa.table(
        {
            "user_id": [f"u{k}" for k in rng.integers(0, 300, n)],
            "timestamp": pa.array(ts, pa.timestamp("ms", tz="UTC")),
            "campaign": rng.choice(["", "spring", "summer"], n).tolist(),
            "event_name": ["page_view"] * n,
        }
    )
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    return path


def _counts(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(argv) == ExitCode.OK
    return json.loads(capsys.readouterr().out)["definitions"]


def test_spark_engine_matches_the_local_engine(spark, dataset, tmp_path, capsys) -> None:
    args = ["sessionize", str(dataset), "--timezone", "Europe/Berlin", "--json"]
    for d in DEFS:
        args += ["--definition", d]
    local = _counts(args, capsys)
    out = tmp_path / "sessions"
    remote = _counts([*args, "--engine", "spark", "--out", str(out)], capsys)
    assert remote == local
    assert spark.sparkContext._jsc is not None  # the test's session is still running
    got = pq.read_table(out).to_pandas().sort_values(["user_id", "timestamp"], kind="stable")
    src = pq.read_table(dataset)
    ms = src.column("timestamp").cast(pa.int64()).to_numpy()
    users = np.array(src.column("user_id").to_pylist())
    camp = np.array([{"": -1, "spring": 0, "summer": 1}[c] for c in src.column("campaign").to_pylist()])
    for d, col in zip(DEFS, ["ga4", "universal_analytics", "ga4_timeout_5m"], strict=True):
        ids = sessionize(users, ms, _spec(d), camp, timezone="Europe/Berlin")
        order = np.lexsort((ms, users))
        # same partition of rows into sessions: ids change exactly where the local ids change
        want = np.diff(ids[order]) != 0
        have = got[f"{col}_session_id"].to_numpy()
        assert (have[1:] != have[:-1]).tolist() == want.tolist()
        assert len(set(have)) == local[d]["sessions"]


def _spec(text: str):
    from simulator.sessions.config import parse_definition_spec

    return parse_definition_spec(text)


def test_spark_engine_bad_input_is_one_line(spark, tmp_path, capsys) -> None:
    assert (
        main(["sessionize", str(tmp_path / "nope.parquet"), "--engine", "spark"]) == ExitCode.SCENARIO_ERROR
    )
    assert "no such file" in capsys.readouterr().err
    bad = tmp_path / "bad.parquet"
    stamps = pa.array([1, 2], pa.timestamp("ms", tz="UTC"))
    pq.write_table(pa.table({"user_id": ["a", None], "timestamp": stamps}), bad)
    assert main(["sessionize", str(bad), "--engine", "spark"]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == f"sessionlab: error: {bad}: 1 row(s) without a user"


def _both(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], *, counts_only: bool = False
) -> tuple[dict, dict, str]:
    """The JSON of ``--engine local`` and of ``--engine spark`` (with --out), and spark's stderr;
    with ``counts_only`` also spark without --out (the counts computed inside the tasks)."""
    local = main([*argv, "--json"])
    local_doc, local_err = json.loads(capsys.readouterr().out), capsys.readouterr().err
    out = tmp_path / f"spark-{len(list(tmp_path.iterdir()))}"
    assert main([*argv, "--json", "--engine", "spark", "--out", str(out)]) == local == ExitCode.OK
    captured = capsys.readouterr()
    remote = json.loads(captured.out)
    assert remote.pop("engine") == "spark"
    for key in ("definitions", "rows", "epoch", "excluded", "bad_rows", "accounting", "timezone"):
        assert remote[key] == local_doc[key], key
    del local_err
    if counts_only:
        assert main([*argv, "--json", "--engine", "spark"]) == ExitCode.OK
        doc = json.loads(capsys.readouterr().out)
        assert (doc["definitions"], doc["accounting"]) == (local_doc["definitions"], local_doc["accounting"])
    return local_doc, remote, captured.err


def test_every_sessionize_flag_is_honoured_as_locally(spark, tmp_path, capsys) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    fold = dt.datetime(2024, 10, 27, 2, 30)  # twice in Berlin: 00:30 and 01:30 UTC
    rng = np.random.default_rng(11)
    n = 1500
    wall = [fold + dt.timedelta(minutes=int(m)) for m in rng.integers(-600, 600, n)]
    table = pa.table(
        {
            "uid": [f"u{k}" for k in rng.integers(0, 60, n)],
            "when": pa.array(wall, pa.timestamp("us")),  # naive: needs --input-timezone
            "ms": pa.array([int(w.replace(tzinfo=berlin).timestamp() * 1000) for w in wall], pa.int64()),
            "src": rng.choice(["", "google", "bing"], n).tolist(),
            "med": rng.choice(["", "cpc", " cpc "], n).tolist(),
            "campaign": rng.choice(["", "a", "b"], n).tolist(),
            "event_name": rng.choice(["page_view", "debug", None], n).tolist(),
        }
    )
    path = tmp_path / "log.parquet"
    pq.write_table(table, path)
    base = ["sessionize", str(path), "--user-column", "uid", "--timezone", "Europe/Berlin"]
    base += ["--definition", "universal_analytics", "--definition", "ga4:timeout=5m"]
    naive = [*base, "--time-column", "when", "--input-timezone", "Europe/Berlin"]
    for ambiguous in ("earliest", "latest"):
        _both([*naive, "--ambiguous", ambiguous, "--no-campaign"], tmp_path, capsys)
    local, _, _ = _both([*naive, "--ambiguous", "latest", "--source-columns", "src,med"], tmp_path, capsys)
    assert (
        local["definitions"]["universal_analytics"]["sessions"]
        > local["definitions"]["ga4:timeout=5m"]["sessions"] / 2
    )  # campaign changes split: the key is not ignored
    local, _, err = _both(
        [*base, "--time-column", "ms", "--exclude-event", "debug", "--keep-columns"],
        tmp_path,
        capsys,
        counts_only=True,
    )
    assert local["excluded"] > 0
    assert "read as epoch milliseconds" in err  # told from the magnitude, on the whole dataset
    written = pq.read_table(sorted(tmp_path.glob("spark-*"))[-1])
    assert set(written.column_names) >= set(table.column_names)  # --keep-columns
    causes = written.column("universal_analytics_split_cause").to_pylist()
    assert causes.count("excluded") == local["excluded"]
    # what Spark cannot honour is refused, one line each, exit 2
    for extra, flag in (
        (["--ambiguous", "error"], "ambiguous in Europe/Berlin"),
        (["--memory", "1GiB"], "--memory"),
        (["--out-of-core"], "--out-of-core"),
        (["--skip-bad"], "--skip-bad"),
        (["--out", str(tmp_path / "x.csv")], "Parquet dataset directory"),
    ):
        assert main([*naive, *extra, "--engine", "spark"]) == ExitCode.SCENARIO_ERROR, flag
        err = capsys.readouterr().err
        assert flag in err.splitlines()[-1]
        assert "Traceback" not in err
    assert main([*base, "--time-column", "when", "--engine", "spark"]) == ExitCode.SCENARIO_ERROR
    assert "pass --input-timezone" in capsys.readouterr().err

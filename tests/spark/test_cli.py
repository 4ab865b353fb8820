"""``sessionlab sessionize --engine spark``: the same counts and sessions as ``--engine local``."""

from __future__ import annotations

import json
from pathlib import Path

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
    pq.write_table(pa.table({"user_id": ["a", None], "timestamp": pa.array([1, 2], pa.timestamp("ms"))}), bad)
    assert main(["sessionize", str(bad), "--engine", "spark"]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.splitlines()[-1] == f"sessionlab: error: {bad}: 1 row(s) without a user"

"""``simulate --engine spark`` writes the one-process run's rows; ``run --engine spark`` its numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from simulator.cli.main import ExitCode, main

JOURNEY = """
[[journey]]
name = "scripted clicker"
count = 3
steps = [
  { at = 2024-05-06T10:00:00Z, do = "click", campaign = "brand-search", cost = 0.5 },
  { after = "40m", do = "view", page = "product" },
]
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """The Google Ads scenario (3 blocks of visitors) with scripted journeys in front of them."""
    text = Path("scenarios/google_ads_vs_ga4.toml").read_text(encoding="utf-8")
    path = tmp_path / "scenario.toml"
    path.write_text(text + JOURNEY, encoding="utf-8")
    return path


def test_simulate_on_spark_writes_the_rows_of_the_local_run(spark, scenario, tmp_path, capsys) -> None:
    common = [str(scenario), "--seed", "11", "--visitors", "20000"]
    assert main(["simulate", *common, "--out", str(tmp_path / "local.parquet")]) == ExitCode.OK
    out = tmp_path / "events"
    assert main(["simulate", *common, "--engine", "spark", "--out", str(out)]) == ExitCode.OK
    err = capsys.readouterr().err
    files = sorted(out.glob("part-*.parquet"))
    assert len(files) >= 2  # several tasks, so the order of the files matters
    got = pa.concat_tables([pq.read_table(f) for f in files])  # the documented order: by file name
    want = pq.read_table(tmp_path / "local.parquet")
    assert got.num_rows == want.num_rows > 100_000
    assert f"{got.num_rows:,} events" in err
    assert want.column("journey").to_pylist()[:6] == [0] * 6  # journeys first, as locally
    # the same values in the same order; only the dictionary encoding of the names differs
    assert got.schema.remove_metadata() == want.cast(got.schema).schema.remove_metadata()
    assert got.equals(want.cast(got.schema))
    assert ds.dataset(out).to_table().equals(got)  # pyarrow.dataset reads the files in that order
    assert (out / "_SUCCESS").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".events.")]  # no temporary left


def test_run_on_spark_gives_the_local_report(spark, scenario, capsys) -> None:
    common = ["run", str(scenario), "--seed", "5", "--visitors", "20000", "--json"]
    assert main(common) == ExitCode.OK
    local = capsys.readouterr().out
    assert main([*common, "--engine", "spark"]) == ExitCode.OK
    remote = capsys.readouterr().out
    assert remote == local  # byte for byte: counts, ratios, every bridge, comparisons, days
    doc = json.loads(remote)
    assert doc["definitions"]["ga4"]["bridge"]["terms"]  # a non-trivial bridge was compared
    for flag in (["--breakdown", "campaign"], ["--workers", "2"], ["--report", "r"], ["--replications", "3"]):
        assert main([*common, "--engine", "spark", *flag]) == ExitCode.SCENARIO_ERROR
        assert "not available with --engine spark" in capsys.readouterr().err

"""The GA4 reader on schema-true fixtures: nested NDJSON, Parquet, flattened."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from simulator.errors import ScenarioError
from simulator.log.formats import CANONICAL_COLUMNS, read_export
from tests.log.formats.ga4_fixture import EVENTS, write_flat_ndjson, write_ndjson, write_parquet

WRITERS = {"ndjson": write_ndjson, "parquet": write_parquet, "flat": write_flat_ndjson}
SUFFIX = {"ndjson": "events_20240501.json", "parquet": "events_20240501.parquet", "flat": "flat.jsonl"}


@pytest.mark.parametrize("form", sorted(WRITERS))
def test_reads_every_form_to_the_canonical_columns(tmp_path: Path, form: str) -> None:
    export = read_export(WRITERS[form](tmp_path / SUFFIX[form]), "ga4")
    t = export.table
    assert t.schema.names == [name for name, _ in CANONICAL_COLUMNS]
    assert str(t.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    assert t.num_rows == 9
    assert t.column("user_id").to_pylist() == ["u1"] * 3 + ["u2"] * 3 + ["u3"] * 2 + ["u4"]
    assert t.column("platform_session_id").to_pylist() == ["100"] * 3 + [
        "200",
        "200",
        "201",
        "300",
        "300",
        None,
    ]
    assert t.column("platform_session_number").to_pylist()[3:6] == [1, 1, 2]
    assert t.column("timestamp")[0].as_py() == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
    assert t.column("timestamp")[7].as_py() == dt.datetime(2024, 5, 1, 8, 0, 0, 40_000, tzinfo=dt.UTC)
    assert t.column("page")[1].as_py() == "https://shop.example.com/b"
    assert t.column("referrer")[5].as_py() == "https://shop.example.com/c"
    assert t.column("gclid")[0].as_py() == "Cj0KCQ"
    assert t.column("medium")[0].as_py() == "organic"
    if form != "flat":
        assert t.column("consent").to_pylist()[-1] == "denied"
        assert t.column("device")[0].as_py() == "desktop"
        assert "event_params.engagement_time_msec" in export.ignored
        assert {"event_date", "stream_id", "device.operating_system", "privacy_info.ads_storage"} <= set(
            export.ignored
        )
    else:
        assert export.ignored == ()  # every column of this query is mapped


def test_bad_timestamp_names_file_line_and_field(tmp_path: Path) -> None:
    bad = [dict(EVENTS[0]), dict(EVENTS[1], event_timestamp="yesterday")]
    path = write_ndjson(tmp_path / "events_20240501.json", bad)
    with pytest.raises(
        ScenarioError, match=r"events_20240501.json: line 2: event_timestamp: expected an integer"
    ):
        read_export(path, "ga4")


def test_missing_user_field_and_bad_params(tmp_path: Path) -> None:
    rec = {k: v for k, v in EVENTS[0].items() if k != "user_pseudo_id"}
    with pytest.raises(ScenarioError, match="line 1: no field 'user_pseudo_id'"):
        read_export(write_ndjson(tmp_path / "a.json", [rec]), "ga4")
    rec = dict(EVENTS[0], event_params={"key": "x"})
    with pytest.raises(ScenarioError, match="line 1: event_params: expected a repeated record"):
        read_export(write_ndjson(tmp_path / "b.json", [rec]), "ga4")
    (tmp_path / "c.json").write_text(json.dumps(EVENTS[0]) + "\n{not json\n")
    with pytest.raises(ScenarioError, match=r"c\.json: line 2: not JSON"):
        read_export(tmp_path / "c.json", "ga4")


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"unknown export format 'ga5'; known: ga4"):
        read_export(write_ndjson(tmp_path / "a.json"), "ga5")

"""The Snowplow reader in its three forms, and the audit against the snowplow preset, by hand.

Platform sessions s1..s4 = 4; snowplow rule (30 min inactivity, 3 days): d1 splits at the 40-min gap
(2), d2 is one session (10 min), d3 one = 4. Only s4 is the same both ways.
Bridge: 4 + 0 interleaved + 1 inactivity - 1 platform split = 4.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from simulator.errors import ScenarioError
from simulator.log.formats import read_export
from simulator.testbench.audit import audit
from tests.log.formats.snowplow_fixture import write_csv, write_micro, write_parquet, write_tsv

WRITERS = {
    "tsv": (write_tsv, "part-00000.tsv"),
    "csv": (write_csv, "atomic_events.csv"),
    "parquet": (write_parquet, "atomic_events.parquet"),
    "micro": (write_micro, "good.json"),
}


@pytest.mark.parametrize("form", sorted(WRITERS))
def test_every_form_reads_alike_and_audits_by_hand(tmp_path: Path, form: str) -> None:
    write, name = WRITERS[form]
    export = read_export(write(tmp_path / name), "snowplow")
    t = export.table
    assert t.column("user_id").to_pylist() == ["d1", "d1", "d1", "d2", "d2", "d3"]
    assert t.column("platform_session_id").to_pylist() == ["s1", "s1", "s1", "s2", "s3", "s4"]
    assert t.column("platform_session_number").to_pylist() == [1, 1, 1, 1, 2, 1]
    assert t.column("timestamp")[2].as_py() == dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC)
    assert t.column("medium")[5].as_py() == "cpc"
    assert t.column("gclid")[5].as_py() == "Cj0K"
    assert t.column("device")[0].as_py() == "Computer"
    assert {"app_id", "event_id", "br_lang", "page_urlhost"} <= set(export.ignored)
    a = audit(t, "snowplow")
    assert (a.platform_sessions, a.rule_sessions, a.identical_sessions, a.identical_events) == (4, 4, 1, 1)
    assert [(b.name, b.count) for b in a.bridge] == [
        ("platform sessions", 4),
        ("interleaved", 0),
        ("inactivity", 1),
        ("platform_split", -1),
        ("rule sessions", 4),
    ]
    assert a.classes == {"inactivity": 1, "platform_split": 1}
    assert a.checks["gclid_not_cpc"] == 0


def test_short_tsv_line_names_the_width(tmp_path: Path) -> None:
    path = write_tsv(tmp_path / "part.tsv")
    path.write_text(path.read_text() + "shop\tweb\n")
    with pytest.raises(
        ScenarioError, match=r"part\.tsv: line 7: 2 tab-separated fields; the enriched format has 131"
    ):
        read_export(path, "snowplow")


def test_bad_timestamp_names_the_field(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "atomic.csv")
    path.write_text(path.read_text().replace("2024-05-01 08:10:00.000", "soon"))
    with pytest.raises(ScenarioError, match=r"atomic\.csv: line 6: derived_tstamp: expected a timestamp"):
        read_export(path, "snowplow")

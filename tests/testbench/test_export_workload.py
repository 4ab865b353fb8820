"""Platform exports as test-bench inputs: ``workload --from EXPORT --format NAME`` and
``conform --workload EXPORT --format NAME`` read the export with the platform's reader."""

from __future__ import annotations

import json
from pathlib import Path

from simulator.cli.main import main
from simulator.testbench.workload import from_export, load_workload
from tests.log.formats.ga4_fixture import EVENTS, write_ndjson


def test_workload_from_a_ga4_export_holds_its_events_and_users(tmp_path: Path) -> None:
    export = write_ndjson(tmp_path / "events_20240501.json")
    assert main(["workload", "--from", str(export), "--format", "ga4", "--out", str(tmp_path / "wl")]) == 0
    wl = load_workload(tmp_path / "wl")
    direct = from_export(export, "ga4")
    assert len(wl.timestamp_ms) == len(EVENTS) == len(direct.timestamp_ms)
    assert wl.timestamp_ms.tolist() == direct.timestamp_ms.tolist()
    users = {e["user_pseudo_id"] for e in EVENTS}
    assert len(set(wl.user_id.tolist())) == len(users)
    # the first event's time is the export's event_timestamp (microseconds) in milliseconds
    assert int(direct.timestamp_ms[0]) == int(EVENTS[0]["event_timestamp"]) // 1000


def test_conform_on_a_ga4_export_agrees_with_its_own_rule(tmp_path: Path, capsys) -> None:
    export = write_ndjson(tmp_path / "events_20240501.json")
    code = main(
        [
            "conform", "--definition", "ga4", "--sessionizer", "builtin:sessionlab",
            "--workload", str(export), "--format", "ga4", "--out", str(tmp_path / "c"), "--json",
        ]
    )  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["agreement"]["events"] == len(EVENTS)


def test_format_without_an_export_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["workload", "--format", "ga4", "--out", str(tmp_path / "w")]) == 2
    assert "--from EXPORT and --format NAME go together" in capsys.readouterr().err
    out = tmp_path / "c"
    assert main(["conform", "--sessionizer", "builtin:sessionlab", "--format", "ga4", "--out", str(out)]) == 2
    assert "give --workload EXPORT" in capsys.readouterr().err

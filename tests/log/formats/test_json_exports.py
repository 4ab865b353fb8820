"""PostHog, Amplitude and Mixpanel exports written in their documented layouts, read and audited.

PostHog by hand: p1 keeps session ``A`` over 08:00, 08:29, 09:05 (a 36-min gap) and p2 has ``B``
at 08:00 then ``C`` at 08:05. posthog rule (30 min idle, > 24 h): p1 splits once, p2 is one session.
Platform 3 sessions, rule 3: 3 + 1 inactivity - 1 platform split = 3; identical: none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.errors import ScenarioError
from simulator.log.formats import read_export
from simulator.testbench.audit import audit


def _lines(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _ph(user: str, sid: str, hhmm: str, url: str = "https://shop.example.com/") -> dict:
    return {
        "uuid": f"0189-{user}-{hhmm}",
        "event": "$pageview",
        "distinct_id": user,
        "timestamp": f"2024-05-01T{hhmm}:00.000Z",
        "properties": {
            "$session_id": sid,
            "$current_url": url,
            "$referrer": "$direct",
            "$device_type": "Desktop",
            "$lib": "web",
            "utm_source": None,
        },
        "elements_chain": "",
    }


POSTHOG = [_ph("p1", "A", "08:00"), _ph("p1", "A", "08:29"), _ph("p1", "A", "09:05"), _ph("p2", "B", "08:00"),
           _ph("p2", "C", "08:05")]  # fmt: skip


def test_posthog_reads_and_audits_by_hand(tmp_path: Path) -> None:
    export = read_export(_lines(tmp_path / "events.jsonl", POSTHOG), "posthog")
    t = export.table
    assert t.column("platform_session_id").to_pylist() == ["A", "A", "A", "B", "C"]
    assert t.column("device")[0].as_py() == "Desktop"
    assert export.ignored == ("elements_chain", "properties.$lib", "uuid")
    a = audit(t, "posthog")
    assert (a.platform_sessions, a.rule_sessions, a.identical_sessions) == (3, 3, 0)
    assert [(b.name, b.count) for b in a.bridge] == [
        ("platform sessions", 3),
        ("interleaved", 0),
        ("inactivity", 1),
        ("platform_split", -1),
        ("rule sessions", 3),
    ]


def test_posthog_json_array_and_bad_time(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text(json.dumps(POSTHOG))
    assert read_export(path, "posthog").table.num_rows == 5
    bad = [dict(POSTHOG[0], timestamp="noon")]
    with pytest.raises(ScenarioError, match=r"line 1: timestamp: expected a time"):
        read_export(_lines(tmp_path / "bad.jsonl", bad), "posthog")


def _amp(user, t, sid, **extra) -> dict:
    return {
        "user_id": user,
        "device_id": f"dev-{user or 'anon'}",
        "event_time": t,
        "event_type": "[Amplitude] Page Viewed",
        "session_id": sid,
        "event_properties": {"[Amplitude] Page URL": "https://shop.example.com/"},
        "device_type": "Mac",
        "$insert_id": "x",
        "amplitude_id": 123,
    } | extra


def test_amplitude_session_start_ms_and_minus_one(tmp_path: Path) -> None:
    start = 1_714_550_400_000  # 2024-05-01 08:00:00 UTC in ms, the documented session_id
    rows = [
        _amp("a1", "2024-05-01 08:00:00.000000", start),
        _amp("a1", "2024-05-01 08:01:00.000000", start),
        _amp(None, "2024-05-01 08:02:00.000000", -1),  # outside a session; user from device_id
    ]
    export = read_export(_lines(tmp_path / "export.json", rows), "amplitude")
    t = export.table
    assert t.column("platform_session_id").to_pylist() == [str(start), str(start), None]
    assert t.column("user_id").to_pylist() == ["a1", "a1", "dev-anon"]
    assert t.column("timestamp").cast("int64").to_pylist()[1] == (start + 60_000) * 1000
    assert {"$insert_id", "amplitude_id"} <= set(export.ignored)
    a = audit(t, "amplitude")
    assert (a.platform_sessions, a.rule_sessions, a.identical_sessions, a.events_without_session) == (
        1,
        1,
        1,
        1,
    )
    with pytest.raises(ScenarioError, match=r"line 1: session_id: expected epoch ms"):
        read_export(_lines(tmp_path / "bad.json", [_amp("a", "2024-05-01 08:00:00", "s")]), "amplitude")


def test_mixpanel_reads_seconds_and_cannot_be_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        {"event": "Page View", "properties": {"time": 1714550400, "distinct_id": "m1", "$insert_id": "i1",
                                              "$current_url": "https://shop.example.com/", "mp_lib": "web"}},
        {"event": "Page View", "properties": {"time": 1714550460.5, "distinct_id": "m1", "$insert_id": "i2"}},
    ]  # fmt: skip
    path = _lines(tmp_path / "export.jsonl", rows)
    export = read_export(path, "mixpanel")
    assert export.table.column("timestamp").cast("int64").to_pylist() == [
        1714550400_000000,
        1714550460_500000,
    ]
    assert export.ignored == ("properties.$insert_id", "properties.mp_lib")
    assert main(["audit", str(path), "--format", "mixpanel"]) == 2
    assert "no event carries a platform session id" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match=r"line 1: properties: no field 'time'"):
        read_export(
            _lines(tmp_path / "b.jsonl", [{"event": "x", "properties": {"distinct_id": "m"}}]), "mixpanel"
        )


def test_matomo_tsv_audited_against_the_matomo_rule(tmp_path: Path) -> None:
    """Visit 7 runs 08:00 -> 08:40 with a 40-min gap (Matomo's tracker kept it); visit 8 is one action.
    matomo rule (30 min, boundary new, midnight): 7 splits once: 2 platform + 1 inactivity = 3."""
    head = "\t".join(
        ("idlink_va", "idsite", "idvisitor", "idvisit", "server_time", "idaction_url", "visitor_count_visits",
         "campaign_name")
    )  # fmt: skip
    rows = [
        "1\t1\t5A3F0C1B2D4E6F70\t7\t2024-05-01 08:00:00\t11\t1\t\\N",
        "2\t1\t5A3F0C1B2D4E6F70\t7\t2024-05-01 08:40:00\t12\t1\tNULL",
        "3\t1\t0000000000000001\t8\t2024-05-01 09:00:00\t11\t3\tspring",
    ]
    path = tmp_path / "log_link_visit_action.tsv"
    path.write_text("\n".join([head, *rows]) + "\n")
    export = read_export(path, "matomo")
    t = export.table
    assert t.column("user_id").to_pylist() == ["5A3F0C1B2D4E6F70", "5A3F0C1B2D4E6F70", "0000000000000001"]
    assert t.column("platform_session_number").to_pylist() == [1, 1, 3]
    assert t.column("campaign").to_pylist() == [None, None, "spring"]
    assert export.ignored == ("idaction_url", "idlink_va", "idsite")
    a = audit(t, "matomo")
    assert [(b.name, b.count) for b in a.bridge] == [
        ("platform sessions", 2),
        ("interleaved", 0),
        ("inactivity", 1),
        ("platform_split", 0),
        ("rule sessions", 3),
    ]
    path.write_text("idvisit\tserver_time\n7\t2024-05-01 08:00:00\n")
    with pytest.raises(ScenarioError, match=r"line 1: header lacks idvisitor"):
        read_export(path, "matomo")

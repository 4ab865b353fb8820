"""`audit` on the GA4 fixture (tests/log/formats/ga4_fixture.py), every number worked by hand.

Kept events (with user and session id): u1 3, u2 3, u3 2 = 8; u4's one event has no ga_session_id.
Platform sessions: 100, 200, 201, 300 = 4. ga4 rule (30 min inactivity): u1 splits at the 35-min gap
(2), u2 is one session (gaps 5 and 3 min), u3 one = 4. Only 300 is the same set of events both ways.
Bridge: 4 platform + 0 interleaved + 1 inactivity - 1 platform split = 4 rule sessions.

Minimal examples (ddmin over the rows up to the first difference, timestamps kept): u1's rows
08:00, 08:10, 08:45 shrink to 08:10 + 08:45 (one platform id, a 35-minute gap: the rule splits;
08:00 + 08:45 would do too, but ddmin tries that complement later); u2's 08:00, 08:05 (200), 08:08
(201) shrink to 08:05 + 08:08 (a new id 3 minutes later: the rule keeps one session).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.log.formats import read_export
from simulator.testbench.audit import audit, hll_band
from tests.log.formats.ga4_fixture import EVENTS, MIN, T0, _event, write_ndjson, write_parquet

SITE = "https://shop.example.com"


@pytest.fixture
def export(tmp_path: Path):
    return read_export(write_ndjson(tmp_path / "events_20240501.json"), "ga4")


def test_agreement_bridge_and_classes_by_hand(export) -> None:
    a = audit(export.table, "ga4")
    assert (a.events, a.events_without_session, a.events_without_user) == (9, 1, 0)
    assert (a.platform_sessions, a.rule_sessions, a.identical_sessions, a.identical_events) == (4, 4, 1, 2)
    assert (a.users, a.users_differing) == (3, 2)
    assert [(t.name, t.count) for t in a.bridge] == [
        ("platform sessions", 4),
        ("interleaved", 0),
        ("inactivity", 1),
        ("platform_split", -1),
        ("rule sessions", 4),
    ]
    assert a.classes == {"inactivity": 1, "platform_split": 1}
    by_cls = {e.cls: e for e in a.examples}
    assert by_cls["inactivity"].user == "u1"
    assert by_cls["inactivity"].rows == (
        ("2024-05-01T08:10:00.000Z", "page_view", "100", 1),
        ("2024-05-01T08:45:00.000Z", "user_engagement", "100", 2),
    )
    assert by_cls["inactivity"].source_rows == 3
    assert by_cls["platform_split"].rows == (
        ("2024-05-01T08:05:00.000Z", "page_view", "200", 1),
        ("2024-05-01T08:08:00.000Z", "page_view", "201", 1),
    )
    assert by_cls["inactivity"].detail == "the rule starts a session after a gap of 35m"
    assert a.share("identical") == 0.25
    assert a.share("inactivity") == pytest.approx(1 / 3)


def test_sanity_checks_by_hand(export) -> None:
    c = audit(export.table, "ga4").checks
    assert c["events_without_session_id"] == 1
    assert c["gclid_not_cpc"] == 1  # u1: gclid with medium organic
    assert c["self_referral_sessions"] == 1  # session 201 arrives from the shop's own page
    assert c["payment_referral_sessions"] == 0
    assert c["duplicate_page_views"] == 1  # u3: /a twice, 40 ms apart
    assert c["gap_spike"] == {"timeout_ms": 30 * 60_000, "gaps_at_timeout": 0, "mean_per_second_around": 0.0}


def test_interleaved_ids_and_a_gap_spike(tmp_path: Path) -> None:
    """Two tabs: ids 1, 2, 1 in time order -> 2 platform sessions, 3 runs; gaps of exactly 30 min."""
    ev = [
        _event("x", T0, "page_view", 1, 1, f"{SITE}/"),
        _event("x", T0 + MIN, "page_view", 2, 2, f"{SITE}/"),
        _event("x", T0 + 2 * MIN, "page_view", 1, 1, f"{SITE}/"),
        _event("y", T0, "page_view", 7, 1, f"{SITE}/"),
        _event("y", T0 + 30 * MIN, "user_engagement", 7, 1, f"{SITE}/"),
        _event("y", T0 + 60 * MIN, "user_engagement", 7, 1, f"{SITE}/"),
    ]
    a = audit(read_export(write_ndjson(tmp_path / "e.json", ev), "ga4").table, "ga4")
    assert [(t.name, t.count) for t in a.bridge] == [
        ("platform sessions", 3),
        ("interleaved", 1),
        ("platform_split", -2),
        ("rule sessions", 2),
    ]
    assert a.classes == {"platform_split": 1}  # x: the first disagreement is a new id within the timeout
    assert a.checks["gap_spike"]["gaps_at_timeout"] == 2
    assert a.identical_sessions == 1  # y's session 7 is one rule session (gaps of exactly 30 min stay)


def test_hll_band_per_google_precision() -> None:
    band = hll_band(10_000, 12)  # sessions: precision 12, RSE 1.04 / 64 = 1.625%
    assert band["relative_standard_error"] == 0.01625
    assert (band["low"], band["high"]) == (9681, 10319)
    assert hll_band(10_000, 14)["relative_standard_error"] == 0.008125


def test_parquet_and_ndjson_audit_alike(tmp_path: Path, export) -> None:
    pq = read_export(write_parquet(tmp_path / "events_20240501.parquet"), "ga4")
    assert audit(pq.table).to_dict() == audit(export.table).to_dict()


def test_cli_text_json_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_ndjson(tmp_path / "events_20240501.json")
    assert main(["audit", str(path), "--format", "ga4"]) == 0
    out = capsys.readouterr().out
    assert "identical sessions   1 of 4 platform sessions (25.0%), 2 of 8 events (25.0%)" in out
    assert "+inactivity" in out
    assert "-platform_split" in out
    assert "fields ignored: " in out
    assert "event_params.engagement_time_msec" in out
    assert main(["audit", str(path), "--format", "ga4", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["rule_sessions"] == 4
    assert doc["classes"] == {"inactivity": 1, "platform_split": 1}
    assert main(["audit", str(path), "--format", "ga4", "--fail-on", "inactivity:0.5"]) == 0
    capsys.readouterr()
    assert main(["audit", str(path), "--format", "ga4", "--fail-on", "inactivity:30%"]) == 1
    assert "fail: inactivity share 0.3333" in capsys.readouterr().out
    assert main(["audit", str(path), "--format", "ga4", "--fail-on", "identical:0.5"]) == 1


def test_cli_bad_export_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_ndjson(tmp_path / "events_20240501.json", [dict(EVENTS[0], event_timestamp=None)])
    assert main(["audit", str(bad), "--format", "ga4"]) == 2
    err = capsys.readouterr().err
    assert "events_20240501.json: line 1: event_timestamp: is null" in err
    assert "Traceback" not in err

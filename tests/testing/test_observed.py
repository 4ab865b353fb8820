"""Observed report series vs the simulation: alignment, per-day compare, the bundled example, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from simulator.cli.main import ExitCode, main
from simulator.errors import ScenarioError
from simulator.scenario.loader import load_scenario
from simulator.scenario.observed import Report, Row
from simulator.testing.observed import align, compare_reports
from tests.conftest import SCENARIOS

D = dt.date
EXAMPLE = SCENARIOS / "observed_reports"


def test_align_prefers_explicit_totals_and_maps_campaigns():
    rows = (
        Row("analytics", "sessions", D(2024, 5, 6), "Brand", 10.0, 2),
        Row("analytics", "sessions", D(2024, 5, 6), "(organic)", 5.0, 3),
        Row("analytics", "sessions", D(2024, 5, 7), "Brand", 7.0, 4),
        Row("analytics", "sessions", D(2024, 5, 7), None, 30.0, 5),  # the report's own day total
        Row("ads", "clicks", D(2024, 5, 6), "Brand", 12.0, 6),
        Row("analytics", "users", D(2024, 5, 6), "Brand", 9.0, 7),
    )
    out, notices = align(
        [Report("r.csv", "x", rows)], definition="ga4", campaigns=["brand"], mapping={"Brand": "brand"}
    )
    assert out == {
        ("ga4.sessions", D(2024, 5, 6), None): 15.0,
        ("ga4.sessions", D(2024, 5, 7), None): 30.0,
        ("ga4.sessions", None, "brand"): 17.0,
        ("ads.clicks", D(2024, 5, 6), None): 12.0,
        ("ads.clicks", None, "brand"): 12.0,
    }
    assert notices == ["r.csv: campaign '(organic)' is not in the scenario; in days only"]


def test_bundled_example_from_the_cli_finds_the_day_the_setup_cannot_explain(tmp_path, capsys):
    argv = [
        "compare",
        str(EXAMPLE / "scenario.toml"),
        "--replications",
        "12",
        "--json",
        "--report",
        str(tmp_path),
    ]
    assert main(argv) == ExitCode.EXPECTATIONS_FAILED
    doc = json.loads(capsys.readouterr().out)
    by = {(s["key"], s["day"], s["campaign"]): s for s in doc["slices"]}
    bad = by[("ga4.sessions", "2024-05-09", None)]
    assert bad["observed"] == 279.0
    assert "below" in bad["verdict"]
    assert bad["p_value"] < 1e-6
    assert "larger than the setup has it" in bad["cause"]
    # the ad clicks of that day are explained: the gap lies between click and session
    assert by[("ads.clicks", "2024-05-09", None)]["verdict"].startswith("consistent")
    # the views follow the sessions
    assert by[("ga4.views", "2024-05-09", None)]["cause"] == (
        "the sessions: ga4.sessions is out of band the same way on this slice"
    )
    assert by[("ads.clicks", None, "brand-search")]["observed"] == 1141.0
    # every other day's sessions are inside the band
    others = [s for s in doc["slices"] if s["key"] == "ga4.sessions" and s["day"] not in (None, "2024-05-09")]
    assert len(others) == 6
    assert all(s["verdict"].startswith("consistent") for s in others)
    assert any("totals row 'Total: Account' skipped" in n for n in doc["notices"])
    assert (tmp_path / "observed_ga4_sessions.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_cli_observed_option_and_campaign_map(tmp_path, capsys):
    shutil.copy(EXAMPLE / "google_ads_campaigns.csv", tmp_path / "ads.csv")
    scenario = (EXAMPLE / "scenario.toml").read_text().split("[observed]")[0]
    (tmp_path / "s.toml").write_text(scenario)
    code = main(
        [
            "compare",
            str(tmp_path / "s.toml"),
            "--replications",
            "3",
            "--observed",
            str(tmp_path / "ads.csv"),
            "--campaign-map",
            "Brand | Search=brand-search",
            "--campaign-map",
            "Generic | Search=generic-search",
        ]
    )
    out = capsys.readouterr().out
    assert "campaign brand-search" in out
    assert "ads.clicks" in out
    assert code in (ExitCode.OK, ExitCode.EXPECTATIONS_FAILED)


def test_scenario_observed_files_are_checked_at_load(tmp_path):
    base = "[scenario]\nname = 'x'\n[[journey]]\nname = 'a'\n"
    base += "steps = [{ at = 2024-01-01T10:00:00, do = 'click', campaign = 'c' }]\n"
    (tmp_path / "a.toml").write_text(
        base + "[observed]\nfiles = [{ file = 'nope.csv', format = 'google_ads' }]\n"
    )
    with pytest.raises(ScenarioError, match=r"observed.files\[1\].file.*no report file"):
        load_scenario(tmp_path / "a.toml")
    (tmp_path / "b.toml").write_text(base + "[observed]\nfiles = [{ file = 'a.toml', format = 'bing' }]\n")
    with pytest.raises(ScenarioError, match="format"):
        load_scenario(tmp_path / "b.toml")
    (tmp_path / "c.toml").write_text(
        base + "[observed]\nads.clicks = 1\nfiles = [{ file = 'a.toml', format = 'ga4_report' }]\n"
    )
    loaded = load_scenario(tmp_path / "c.toml")
    assert loaded.observed_files == ((str(tmp_path / "a.toml"), "ga4_report"),)
    assert [str(r) for r, _ in loaded.observed] == ["ads.clicks"]


def test_schema_describes_observed_files(capsys):
    assert main(["schema"]) == ExitCode.OK
    schema = json.loads(capsys.readouterr().out)
    observed = schema["properties"]["observed"]
    assert observed["properties"]["files"]["items"]["required"] == ["file", "format"]
    assert observed["properties"]["campaigns"]["additionalProperties"]["type"] == "string"


def test_amazon_rows_align_to_the_amazon_definition_and_range_totals():
    rows = (
        Row("amazon", "sessions", D(2024, 5, 6), None, 10.0, 2),
        Row("amazon", "views", None, None, 40.0, 3),
    )
    out, _ = align([Report("br.csv", "amazon_business", rows)], definition="ga4", amazon="amz", campaigns=[])
    assert out == {("amz.sessions", D(2024, 5, 6), None): 10.0, ("amz.views", None, None): 40.0}
    with pytest.raises(ScenarioError, match="needs an amazon definition"):
        align([Report("br.csv", "amazon_business", rows)], definition="ga4", campaigns=[])


def test_amazon_business_days_are_pacific(tmp_path):
    """A scripted click at 2024-01-02 05:00 UTC is Jan 1 in Pacific time: Amazon counts it on Jan 1."""
    (tmp_path / "s.toml").write_text(
        "[scenario]\nname = 'amz'\ntimezone = 'Europe/Berlin'\n"
        "[sessions]\ndefinitions = ['ga4', 'amazon']\n"
        "[[journey]]\nname = 'a'\n"
        "steps = [{ at = 2024-01-02T06:00:00, do = 'click', campaign = 'c' },\n"
        "         { after = '1m', do = 'leave' }]\n"
    )
    (tmp_path / "br.csv").write_text("Date,Sessions - Total\n1/1/2024,1\n1/2/2024,0\n")
    (tmp_path / "ga4.csv").write_text("# GA4\nDate,Sessions\n20240101,0\n20240102,1\n")
    from simulator.scenario.observed import read_report

    scenario = load_scenario(tmp_path / "s.toml")
    reports = [
        read_report(tmp_path / "br.csv", "amazon_business"),
        read_report(tmp_path / "ga4.csv", "ga4_report"),
    ]
    checks, _ = compare_reports(scenario, reports, replications=2)
    by = {(c.key, c.day): c.check for c in checks}
    assert by[("amazon.sessions", D(2024, 1, 1))].mean == 1.0
    assert by[("amazon.sessions", D(2024, 1, 2))].mean == 0.0
    assert by[("ga4.sessions", D(2024, 1, 1))].mean == 0.0
    assert by[("ga4.sessions", D(2024, 1, 2))].mean == 1.0
    assert all(c.verdict.startswith("consistent") for c in by.values())

"""Workloads from a scenario: the tracked analytics hits of the stochastic engine, written like profiles."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulator.cli.main import main
from simulator.engine.simulate import simulate
from simulator.scenario.loader import load_scenario
from simulator.testbench.simulated import from_scenario
from simulator.testbench.workload import load_workload, write_workload

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "timezone_mismatch.toml"
VISITORS = 300


@pytest.fixture(scope="module")
def scenario_workload():
    """The tracked hits of 300 visitors of timezone_mismatch (Europe/Berlin property)."""
    return from_scenario(SCENARIO, visitors=VISITORS)


def test_rows_are_exactly_the_tracked_hits_of_the_simulation(scenario_workload):
    """Same (user, ts, campaign) multiset as the engine's tracked page views and conversions."""
    log = simulate(load_scenario(SCENARIO), visitors=VISITORS)
    hits = log.hits
    names = np.array(("", *log.campaigns))
    camp = names[log.campaign[hits] + 1]
    want = sorted(zip(log.user[hits].tolist(), log.ts[hits].tolist(), camp.tolist(), strict=True))
    wl = scenario_workload
    got = sorted(zip(wl.user_id.tolist(), wl.timestamp_ms.tolist(), wl.campaign.tolist(), strict=True))
    assert got == want
    assert len(wl) == wl.meta["events"] == len(hits) > 0
    assert wl.meta["users"] == len(np.unique(log.user[hits]))
    assert (wl.campaign != "").any()  # some hits carry the scenario's campaign


def test_rows_arrive_in_time_order_in_the_property_zone(scenario_workload):
    """Arrival order is time order; the zone and the provenance come from the scenario."""
    wl = scenario_workload
    assert (np.diff(wl.timestamp_ms) >= 0).all()
    assert wl.timezone == "Europe/Berlin"
    assert wl.meta["source"] == "scenario"
    assert (wl.meta["scenario"], wl.meta["seed"], wl.meta["visitors"]) == ("timezone_mismatch", 9, VISITORS)


def test_same_scenario_and_seed_give_identical_files_another_seed_does_not(tmp_path):
    """Byte-identical files for the same seed (the digests match); a different seed differs."""
    a = write_workload(from_scenario(SCENARIO, visitors=100, seed=3), tmp_path / "a")
    b = write_workload(from_scenario(SCENARIO, visitors=100, seed=3), tmp_path / "b")
    c = write_workload(from_scenario(SCENARIO, visitors=100, seed=4), tmp_path / "c")
    assert a == b
    assert (tmp_path / "a" / "workload.json").read_bytes() == (tmp_path / "b" / "workload.json").read_bytes()
    assert a["events.csv"] != c["events.csv"]


def test_timezone_override_keeps_the_instants(scenario_workload):
    """--timezone changes the property zone, not the timestamps."""
    other = from_scenario(SCENARIO, visitors=VISITORS, timezone="Asia/Tokyo")
    assert other.timezone == "Asia/Tokyo"
    assert np.array_equal(other.timestamp_ms, scenario_workload.timestamp_ms)


def test_workload_command_with_scenario_records_its_zone_and_conform_uses_it(tmp_path, capsys):
    """workload --scenario writes workload.json with the scenario's zone; conform reads it back."""
    out = tmp_path / "wl"
    argv = ["workload", "--scenario", str(SCENARIO), "--visitors", str(VISITORS), "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "(scenario timezone_mismatch, seed 9, 300 visitors, time zone Europe/Berlin)" in text
    meta = json.loads((out / "workload.json").read_text())
    assert (meta["source"], meta["timezone"], meta["visitors"]) == ("scenario", "Europe/Berlin", VISITORS)
    assert load_workload(out).timezone == "Europe/Berlin"
    argv = ["conform", "--definition", "universal_analytics", "--sessionizer", "builtin:sessionlab"]
    assert main([*argv, "--workload", str(out), "--out", str(tmp_path / "c")]) == 0
    assert "(scenario timezone_mismatch, events" in capsys.readouterr().out


def test_conform_can_simulate_the_scenario_itself(tmp_path, capsys):
    """conform --scenario runs on the scenario's hits without a written workload."""
    argv = ["conform", "--sessionizer", "builtin:numpy", "--scenario", str(SCENARIO), "--visitors", "100"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert "agrees with the definition on every event" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["workload", "--scenario", str(SCENARIO), "--events", "5", "--out", "x"], "either --scenario"),
        (
            ["workload", "--events", "50", "--users", "5", "--visitors", "9", "--out", "x"],
            "only with --scenario",
        ),
        (["workload", "--out", "x"], "give --events N and --users U"),
        (["workload", "--scenario", "missing.toml", "--out", "x"], "missing.toml"),
        (["workload", "--scenario", str(SCENARIO), "--timezone", "Mars/Base", "--out", "x"], "Mars/Base"),
    ],
)
def test_bad_scenario_arguments_are_one_line_and_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    """Mixing --scenario with profile sizes, a missing file or zone: exit 2, one line."""
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1

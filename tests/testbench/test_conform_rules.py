"""Conformance against presets with midnight, campaign and cap rules: the property's time zone reaches
the reference, and sessionizers that get one rule wrong are caught, classified and shrunk."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
import textwrap
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from simulator.cli.main import main
from simulator.testbench.adapters import parse_sessionizer
from simulator.testbench.conform import conform
from simulator.testbench.workload import generate, write_workload

HALF_HOUR, HOUR = 1_800_000, 3_600_000

RULES = '''
import numpy as np
from simulator.sessions import Definition, get_definition, sessionize


def _codes(campaign):
    names, inv = np.unique(campaign, return_inverse=True)
    return inv.astype(np.int32) - (1 if len(names) and names[0] == "" else 0)


def _without(preset, rule):
    rules = get_definition(preset).rules
    return Definition(f"{preset}-without-{rule}", tuple(r for r in rules if r.name != rule), "")


def ua_right(user_id, ts, campaign, timezone):
    """Universal Analytics with the property's zone (the adapter passes timezone=)."""
    return sessionize(user_id, ts, "universal_analytics", _codes(campaign), timezone=timezone)


def ua_utc_midnight(user_id, ts, campaign):
    """Universal Analytics, but midnight in UTC whatever the property's zone."""
    return sessionize(user_id, ts, "universal_analytics", _codes(campaign), timezone="UTC")


def matomo_utc_midnight(user_id, ts, campaign):
    return sessionize(user_id, ts, "matomo", _codes(campaign), timezone="UTC")


def ua_ignores_campaign(user_id, ts, campaign, timezone):
    """Universal Analytics without its campaign-change rule."""
    return sessionize(user_id, ts, _without("universal_analytics", "campaign_change"), timezone=timezone)


def adobe_no_cap(user_id, ts, campaign):
    """Adobe Analytics without the 12-hour visit cap."""
    return sessionize(user_id, ts, _without("adobe_analytics", "max_duration"))
'''

ZONE_SCRIPT = """
import sys
open(sys.argv[3], "w").write(sys.argv[4])
open(sys.argv[2], "w").write("".join("1\\n" for _ in open(sys.argv[1]).readlines()[1:]))
"""


@pytest.fixture
def rules_module(tmp_path, monkeypatch) -> str:
    """Write the one-rule-wrong sessionizers into an importable module; return its name."""
    (tmp_path / "rule_sessionizers.py").write_text(textwrap.dedent(RULES))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "rule_sessionizers"


@pytest.fixture(scope="module")
def long_workload():
    """3,000 edge-case events of only 30 users: some sessions run past 12 hours."""
    return generate(3_000, 30, "edge-cases", seed=7)


def _only(res, cls):
    assert list(res.classes) == [cls]
    assert res.classes[cls]["users"] == res.agreement.users_disagree
    (ce,) = res.counterexamples
    assert (ce.cls, ce.verified) == (cls, True)
    order = np.argsort(ce.timeline.ts, kind="stable")
    return ce, ce.timeline.ts[order], ce.timeline.campaign[order], ce.reference[order], ce.candidate[order]


def test_reference_uses_the_workload_zone_for_midnight(edge_workload, rules_module):
    """UA with the workload's zone agrees; the same sessionizer on UTC rows agrees with UTC midnight."""
    assert conform(edge_workload, parse_sessionizer(f"py:{rules_module}:ua_right"), "universal_analytics").ok
    utc = generate(3_000, 150, "edge-cases", seed=7, timezone="UTC")
    assert conform(utc, parse_sessionizer(f"py:{rules_module}:ua_utc_midnight"), "universal_analytics").ok


@pytest.mark.parametrize(("name", "definition"), [("ua", "universal_analytics"), ("matomo", "matomo")])
def test_midnight_in_utc_instead_of_the_property_zone_shrinks_to_two_rows(
    edge_workload, rules_module, name, definition
):
    """Splitting at UTC midnight (property in New York): class midnight, two rows across a midnight."""
    res = conform(edge_workload, parse_sessionizer(f"py:{rules_module}:{name}_utc_midnight"), definition)
    assert not res.ok
    ce, ts, _, ref, cand = _only(res, "midnight")
    assert len(ts) == 2
    assert 0 < ts[1] - ts[0] < HALF_HOUR
    ny, utc = ZoneInfo("America/New_York"), dt.UTC
    days = {z: [dt.datetime.fromtimestamp(t / 1000, z).date() for t in ts.tolist()] for z in (ny, utc)}
    new_york_midnight = days[ny][0] != days[ny][1]
    assert new_york_midnight != (days[utc][0] != days[utc][1])  # exactly one of the two dates changes
    # the reference splits at New York's midnight only; the candidate at UTC's only
    assert (ref.tolist() == [1, 2]) == new_york_midnight
    assert (cand.tolist() == [1, 2]) != new_york_midnight
    assert "America/New_York" in ce.detail


def test_midnight_run_from_the_command_line_uses_the_workload_zone(tmp_path, capsys, rules_module):
    """conform reads the zone from workload.json: a UTC-midnight UA sessionizer fails (exit 1), 2 rows."""
    write_workload(generate(3_000, 150, "edge-cases", seed=7, timezone="Europe/Paris"), tmp_path / "wl")
    argv = ["conform", "--definition", "universal_analytics", "--workload", str(tmp_path / "wl")]
    assert main([*argv, "--sessionizer", f"py:{rules_module}:ua_right", "--out", str(tmp_path / "a")]) == 0
    capsys.readouterr()
    argv += ["--sessionizer", f"py:{rules_module}:ua_utc_midnight", "--out", str(tmp_path / "b")]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "minimal counterexample [midnight]: 2 rows" in out
    assert "local (Europe/Paris)" in out
    assert "--timezone Europe/Paris" in out


def test_ignoring_campaign_changes_is_a_campaign_difference(edge_workload, rules_module):
    """UA without its campaign rule: class campaign, two close rows with two different campaigns."""
    sz = parse_sessionizer(f"py:{rules_module}:ua_ignores_campaign")
    _, ts, camp, ref, cand = _only(conform(edge_workload, sz, "universal_analytics"), "campaign")
    assert len(ts) == 2
    assert 0 <= ts[1] - ts[0] < HALF_HOUR
    assert camp[1] != ""
    assert camp[0] != camp[1]
    assert (ref.tolist(), cand.tolist()) == ([1, 2], [1, 1])


def test_ignoring_adobes_12_hour_cap_is_a_max_duration_difference(long_workload, rules_module):
    """Adobe without the 12-hour cap: class max_duration, shrunk to the fewest rows 12 hours need."""
    sz = parse_sessionizer(f"py:{rules_module}:adobe_no_cap")
    ce, ts, camp, ref, cand = _only(conform(long_workload, sz, "adobe_analytics"), "max_duration")
    gaps = np.diff(ts)
    assert (gaps < HALF_HOUR).all()  # inactivity never splits: one long session for the candidate
    assert ts[-1] - ts[0] >= 12 * HOUR
    assert ts[-2] - ts[0] < 12 * HOUR  # the last row is the first one past the cap
    assert cand.tolist() == [1] * len(ts)
    assert ref.tolist() == [1] * (len(ts) - 1) + [2]
    assert len(ts) <= 12 * HOUR // (HALF_HOUR - 60_000) + 2  # rows spaced at most a minute under 30
    assert ce.source_rows > len(ts)
    assert (camp == "").all()


def test_command_gets_the_property_zone(edge_workload, tmp_path):
    """cmd: {timezone} is replaced by the workload's zone."""
    script = tmp_path / "zone.py"
    script.write_text(textwrap.dedent(ZONE_SCRIPT))
    seen = tmp_path / "zone.txt"
    python, script_q, seen_q = (shlex.quote(str(p)) for p in (sys.executable, script, seen))
    spec = f"cmd:{python} {script_q} {{input}} {{output}} {seen_q} {{timezone}}"
    res = conform(edge_workload, parse_sessionizer(spec), "ga4", shrink_examples=False)
    assert seen.read_text() == "America/New_York"
    assert not res.ok  # one session per user is wrong, but the run went through

"""The sessionlab command: run, check, exit codes, one-line errors, --help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simulator.cli import ExitCode, main

from .conftest import SCENARIOS

GOOD = """
[scenario]
name = "g"
[[journey]]
name = "a"
steps = [{ at = 2024-01-01T10:00:00, do = "click", campaign = "c", cost = 2.0 }]
[[expect]]
metric = "clicks"
equals = 1
"""


def test_run_prints_tables(capsys):
    """`run` prints the ad platform, analytics and bridge sections."""
    assert main(["run", str(SCENARIOS / "amazon_clicks_vs_sessions.toml")]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "ad platform" in out
    assert "clicks -> sessions (ga4)" in out


def test_run_json_is_parseable_and_seed_is_overridable(capsys):
    """`run --json --seed 7` prints JSON carrying the given seed."""
    main(["run", str(SCENARIOS / "impressions_ctr.toml"), "--json", "--seed", "7"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["seed"] == 7
    assert doc["ads"]["clicks"] == 10


def test_check_passes_on_bundled_scenarios(capsys):
    """`check scenarios/` exits 0 and reports every file."""
    assert main(["check", str(SCENARIOS)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert "expectations hold" in out


def test_check_fails_with_expected_vs_actual(write_scenario, capsys):
    """A wrong expectation exits 1 and prints expected and actual."""
    path = write_scenario(GOOD.replace("equals = 1", "equals = 2"))
    assert main(["check", str(path)]) == ExitCode.EXPECTATIONS_FAILED
    assert "FAIL clicks: expected 2, actual 1" in capsys.readouterr().out


def test_bad_file_exits_2_with_one_line(write_scenario, capsys):
    """A bad scenario prints one line naming file and key path, no traceback."""
    path = write_scenario(GOOD.replace('name = "g"', 'name = "g"\nseeed = 1'))
    assert main(["check", str(path)]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err.strip()
    assert err == (
        f"sessionlab: error: {path}: scenario.seeed: unknown key; allowed keys here: "
        "name, description, seed, start, timezone, ad_timezone; did you mean 'seed'?"
    )


def test_missing_file_exits_2(tmp_path, capsys):
    """A path that does not exist is bad input, not a crash."""
    assert main(["run", str(tmp_path / "missing.toml")]) == ExitCode.SCENARIO_ERROR
    assert "cannot read file" in capsys.readouterr().err


def test_debug_shows_traceback(write_scenario, capsys):
    """--debug adds the traceback to the one-line error."""
    path = write_scenario("[scenario\n")
    assert main(["--debug", "run", str(path)]) == ExitCode.SCENARIO_ERROR
    assert "Traceback" in capsys.readouterr().err


def test_directory_without_expectations_is_an_error(tmp_path, capsys):
    """check DIR with no scenario files that carry [[expect]] says so (exit 2)."""
    assert main(["check", str(tmp_path)]) == ExitCode.SCENARIO_ERROR
    assert "no scenario files with [[expect]]" in capsys.readouterr().err


@pytest.mark.parametrize("command", [[], ["run"], ["check"]])
def test_help_explains_each_command(command, capsys):
    """--help works for the program and each subcommand."""
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    assert "usage: sessionlab" in capsys.readouterr().out


def test_console_entry_point_runs_as_module():
    """`python -m simulator.cli` behaves like the console script."""
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "run", str(SCENARIOS / "impressions_ctr.toml"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ads"]["impressions"] == 1000

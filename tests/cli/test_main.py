"""The sessionlab command: run, check, exit codes, one-line errors, --help."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simulator.cli.main import ExitCode, main
from simulator.scenario.loader import load_scenario
from simulator.testing.expect import expect_blocks
from tests.conftest import SCENARIOS

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
        "name, description, seed, start, timezone, ad_timezone, replications, ambiguous; did you mean 'seed'?"
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
    """`python -m simulator.cli.main` behaves like the console script."""
    proc = subprocess.run(
        [sys.executable, "-m", "simulator.cli", "run", str(SCENARIOS / "impressions_ctr.toml"), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ads"]["impressions"] == 1000


REPO = Path(__file__).resolve().parents[2]
AMAZON = str(REPO / "scenarios" / "amazon_clicks_vs_sessions.toml")


def _failing_copy(tmp_path: Path) -> Path:
    text = Path(AMAZON).read_text(encoding="utf-8").replace("equals = 9\n", "equals = 10\n", 1)
    path = tmp_path / "amazon_wrong.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_writes_junit_xml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One testsuite per file, one testcase per expectation, failures with the report."""
    bad = _failing_copy(tmp_path)
    out = tmp_path / "report.xml"
    code = main(["check", AMAZON, str(bad), "--junit-xml", str(out)])
    assert code == ExitCode.EXPECTATIONS_FAILED
    printed = capsys.readouterr().out
    assert "FAIL clicks: expected 10, actual 9" in printed
    n = 2 * len(load_scenario(AMAZON).expectations)
    assert f"{n - 1} of {n} expectations hold" in printed
    root = ET.fromstring(out.read_bytes())
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", str(n), "1")
    suites = root.findall("testsuite")
    assert [s.get("failures") for s in suites] == ["0", "1"]
    (failed,) = suites[1].iter("failure")
    case = next(c for c in suites[1] if c.find("failure") is not None)
    assert case.get("name") == "clicks"
    assert case.get("line") == str(expect_blocks(bad.read_text(encoding="utf-8"))[10][0])
    assert failed.get("message") == "FAIL clicks: expected 10, actual 9"
    assert failed.text.endswith("| equals = 10")
    assert not list(tmp_path.glob(".report.xml.*"))  # the temporary file was renamed


def test_check_junit_xml_to_a_missing_directory_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unwritable report path exits 2 with one line."""
    target = tmp_path / "no" / "such" / "r.xml"
    code = main(["check", AMAZON, "--junit-xml", str(target)])
    err = capsys.readouterr().err
    assert code == ExitCode.SCENARIO_ERROR
    assert err == f"sessionlab: error: {target}: cannot write the file: No such file or directory\n"


def test_run_replications_json_adds_a_block(capsys: pytest.CaptureFixture[str]) -> None:
    """--replications R --json keeps the single-run keys and adds 'replications'."""
    assert main(["run", AMAZON, "--replications", "3", "--json"]) == ExitCode.OK
    doc = json.loads(capsys.readouterr().out)
    assert doc["definitions"]["ga4"]["sessions"] == 6
    reps = doc["replications"]
    assert (reps["n"], reps["confidence"], len(reps["seeds"])) == (3, 0.95, 3)
    assert reps["metrics"]["ga4.sessions"] == {"n": 3, "mean": 6.0, "std": 0.0, "low": 6.0, "high": 6.0}
    assert reps["metrics"]["ga4.bridge.inactivity"]["mean"] == 1.0


def test_run_replications_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """The same scenario and seed give the same bytes."""
    main(["run", AMAZON, "--replications", "2", "--json", "--seed", "5"])
    first = capsys.readouterr().out
    main(["run", AMAZON, "--replications", "2", "--json", "--seed", "5"])
    assert capsys.readouterr().out == first


def test_run_replications_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The text output is one row per metric with mean, std and interval."""
    assert main(["run", AMAZON, "--replications", "2", "--confidence", "0.9"]) == ExitCode.OK
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("ga4.sessions "))
    assert row.split() == ["ga4.sessions", "6", "0", "6", "6"]
    assert "90% high" in out


@pytest.mark.parametrize("value", ["1", "x", "0"])
def test_run_rejects_fewer_than_two_replications(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An interval needs two runs; argparse reports the value and exits 2."""
    with pytest.raises(SystemExit) as info:
        main(["run", AMAZON, "--replications", value])
    assert info.value.code == 2
    assert f"got {value!r}" in capsys.readouterr().err


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`sessionlab schema` prints the draft 2020-12 schema of scenario files."""
    assert main(["schema"]) == ExitCode.OK
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["scenario"]
    expect = schema["properties"]["expect"]["items"]
    assert {"required": ["compare"]} in expect["oneOf"]
    assert expect["dependentRequired"] == {"rel": ["approx"], "abs": ["approx"]}


def _with_observed(tmp_path: Path, observed: str) -> str:
    path = tmp_path / "observed.toml"
    path.write_text(Path(AMAZON).read_text(encoding="utf-8") + "\n[observed]\n" + observed, encoding="utf-8")
    return str(path)


def test_compare_reports_each_observed_number(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """compare gives percentile, p-value and verdict per number; exit 1 when one is not explained."""
    path = _with_observed(tmp_path, "ads.clicks = 9\nga4.sessions = 7\n")
    assert main(["compare", path, "--replications", "3", "--json"]) == ExitCode.EXPECTATIONS_FAILED
    doc = json.loads(capsys.readouterr().out)
    clicks, sessions = doc["observed"]
    assert (clicks["key"], clicks["p_value"], clicks["percentile"]) == ("ads.clicks", 1.0, 50.0)
    assert (sessions["mean"], sessions["p_value"]) == (6.0, 0.0)
    assert sessions["verdict"].startswith("not explained: the report is above")
    ok = _with_observed(tmp_path, "ads.clicks = 9\n")
    assert main(["compare", ok, "--replications", "2"]) == ExitCode.OK
    assert "consistent" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("observed", "message"),
    [
        ("ga4.clicks = 3\n", "write 'ads.clicks'"),
        ("ads.sessions = 3\n", "write <definition>.sessions"),
        ("ua.sessions = 3\n", "observed.ua.sessions: expected ads.<metric>"),
        ("clicks = 3\n", "observed.clicks: expected a system"),
        ("ga4.sesions = 3\n", "did you mean 'sessions'"),
    ],
)
def test_bad_observed_numbers_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], observed: str, message: str
) -> None:
    """Mistakes in [observed] name the key path and exit 2."""
    assert main(["compare", _with_observed(tmp_path, observed)]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run"], "run: the following arguments are required: file (see 'sessionlab run --help')"),
        (
            ["run", "x.toml", "--seed", "-1"],
            "run: argument --seed: expected a whole number from 0 to",
        ),
        (["simulate", "x.toml", "--out", "e.csv", "--workers", "0"], "simulate: argument --workers"),
        (["bogus"], "argument COMMAND: invalid choice: 'bogus'"),
        (["check", "scenarios", "--seed", "x"], "check: argument --seed: expected a whole number from 0 to"),
    ],
)
def test_usage_errors_are_one_line_exit_2(argv, message, capsys):
    """argparse's usage errors follow the same rule as bad files: one line, exit code 2."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("sessionlab: error: ")
    assert message in err


def test_visitors_on_a_journey_only_scenario_is_an_error(capsys):
    """--visitors needs a [population] to override; silently ignoring it would mislead."""
    assert main(["run", str(SCENARIOS / "impressions_ctr.toml"), "--visitors", "5"]) == 2
    assert "has no [population]" in capsys.readouterr().err


def test_replications_honour_visitors(capsys):
    """--replications runs the same population size as the single run (--visitors applies to both)."""
    path = str(SCENARIOS / "google_ads_vs_ga4.toml")
    main(["run", path, "--visitors", "300", "--replications", "2", "--json"])
    doc = json.loads(capsys.readouterr().out)
    clicks = doc["replications"]["metrics"]["ads.clicks"]["mean"]
    # 300 visitors make ~200 clicks; the scenario's own 4,000 would make ~2,650
    assert abs(clicks - doc["ads"]["clicks"]) < 0.3 * doc["ads"]["clicks"]


def test_byte_order_mark_in_scenario_and_log_is_accepted(tmp_path, capsys):
    """Windows editors and Excel's "CSV UTF-8" start files with a BOM; both inputs still read."""
    scenario = tmp_path / "bom.toml"
    scenario.write_bytes("\ufeff".encode() + GOOD.encode())
    assert main(["check", str(scenario)]) == ExitCode.OK
    capsys.readouterr()
    log = tmp_path / "bom.csv"
    log.write_bytes("\ufeffuser_id,timestamp\n1,2024-05-01T10:00:00+02:00\n".encode())
    assert main(["sessionize", str(log), "--json"]) == ExitCode.OK
    assert json.loads(capsys.readouterr().out)["definitions"]["ga4"]["sessions"] == 1


def test_sessionize_refuses_to_overwrite_its_input(tmp_path, capsys):
    """--out naming the input log would destroy it: one line, exit 2, the log untouched."""
    log = tmp_path / "log.csv"
    log.write_text("user_id,timestamp\n1,2024-05-01T10:00:00+02:00\n")
    before = log.read_bytes()
    assert main(["sessionize", str(log), "--out", str(log)]) == ExitCode.SCENARIO_ERROR
    assert "--out is the input log" in capsys.readouterr().err
    assert log.read_bytes() == before


def test_large_seeds_are_exact_and_sizes_are_capped(capsys):
    """A 20-digit seed is kept digit for digit; a trillion visitors is refused, not attempted."""
    main(["run", str(SCENARIOS / "impressions_ctr.toml"), "--json", "--seed", "12345678901234567891"])
    assert json.loads(capsys.readouterr().out)["seed"] == 12345678901234567891
    with pytest.raises(SystemExit) as exc:
        main(["run", str(SCENARIOS / "google_ads_vs_ga4.toml"), "--visitors", "1e12"])
    assert exc.value.code == ExitCode.SCENARIO_ERROR
    assert "from 0 to 1,000,000,000" in capsys.readouterr().err

"""Misuse of the public API: ValueError / TypeError with a message, as the README promises (issue 17).

Before, ``Result.metric`` raised AttributeError / KeyError, a bad zone ZoneInfoNotFoundError or
IsADirectoryError, and ``compare_observed(replicate(sc, n), sc.observed)`` said "no simulated value"
for every number (its keys are MetricRef records, the replications' keys strings).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

import simulator as sl

#: One scripted visitor: one counted click, one tracked landing and a view -> 1 click, 1 session.
SCRIPTED = textwrap.dedent(
    """
    [scenario]
    name = "api"
    start = 2024-05-01T09:00:00
    timezone = "Europe/Berlin"

    [[journey]]
    name = "j"
    steps = [
      { at = 10:00:00, do = "click", campaign = "c", cost = 0.5 },
      { after = "5m", do = "view", page = "p" },
    ]

    [observed]
    ads.clicks = 1
    ga4.sessions = 3
    """
)


@pytest.fixture(scope="module")
def scenario() -> sl.Scenario:
    return sl.loads_scenario(SCRIPTED, "api.toml")


@pytest.fixture(scope="module")
def result(scenario) -> sl.Result:
    return sl.run(scenario)


def test_compare_observed_takes_the_scenarios_own_observed_numbers(scenario) -> None:
    """Exact values: every replication gives 1 click and 1 session (a scripted visitor)."""
    checks = sl.compare_observed(sl.replicate(scenario, 3), scenario.observed)
    clicks, sessions = checks
    assert (clicks.key, clicks.observed, clicks.n, clicks.mean, clicks.low, clicks.high) == (
        "ads.clicks", 1.0, 3, 1.0, 1.0, 1.0,
    )  # fmt: skip
    assert (clicks.percentile, clicks.p_value) == (50.0, 1.0)
    assert clicks.verdict == "consistent: the simulated setup explains this number"
    assert (sessions.key, sessions.observed, sessions.n, sessions.mean) == ("ga4.sessions", 3.0, 3, 1.0)
    assert (sessions.percentile, sessions.p_value) == (100.0, 0.0)
    assert sessions.verdict.startswith("not explained: the report is above what the setup produces")


def test_compare_observed_refuses_unknown_keys_and_non_numbers(scenario) -> None:
    reps = sl.replicate(scenario, 2)
    with pytest.raises(
        ValueError, match=r"no simulated values for 'ga4\.sesions'.*did you mean 'ga4\.sessions'"
    ):
        sl.compare_observed(reps, [("ga4.sesions", 3.0)])
    with pytest.raises(TypeError, match=r"observed value of 'ga4\.sessions' must be a number, got str '3'"):
        sl.compare_observed(reps, [("ga4.sessions", "3")])
    with pytest.raises(TypeError, match=r"needs Replications \(from replicate\), got dict"):
        sl.compare_observed({}, [])


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("sesions", "ga4"), ValueError, "unknown metric 'sesions'.*did you mean 'sessions'"),
        (("sesions",), ValueError, "unknown metric 'sesions'"),
        (("bridge.nope", "ga4"), ValueError, "unknown metric 'bridge.nope'"),
        (("sessions",), ValueError, "metric 'sessions' needs a definition: one of ga4"),
        (
            ("sessions", "gaa4"),
            ValueError,
            "definition 'gaa4' was not run; this result has ga4; did you mean 'ga4'",
        ),
        ((3, "ga4"), TypeError, "metric name must be a str such as 'sessions', got int"),
        (("sessions", 3), TypeError, "definition must be a str such as 'ga4', got int"),
    ],
)
def test_result_metric_misuse(result, args, error, message) -> None:
    with pytest.raises(error, match=message):
        result.metric(*args)


def test_result_metric_values_are_exact(result) -> None:
    assert result.metric("clicks") == 1
    assert result.metric("sessions", "ga4") == 1
    assert result.metric("converting_sessions", "ga4") == 0  # a count field that is not in the vocabulary
    assert result.metric("bridge.repeat_click", "ga4") == 0


@pytest.mark.parametrize(
    ("zone", "error", "message"),
    [
        ("Mars/Base", ValueError, "expected an IANA time zone name like 'Europe/Berlin', got 'Mars/Base'"),
        ("America", ValueError, "got 'America'"),
        ("A" * 300, ValueError, r"got 'A+\.\.\.A+' \(302 characters\)"),
        (3, TypeError, "got int 3"),
    ],
)
def test_a_bad_zone_is_a_value_or_type_error(result, zone, error, message) -> None:
    """In sessionize (with or without a midnight rule) and run_log."""
    users, ts = np.array([1, 1]), np.array([0, 60_000])
    for definition in ("ga4", "universal_analytics"):
        with pytest.raises(error, match=message):
            sl.sessionize(users, ts, definition, timezone=zone)
    with pytest.raises(error, match=message):
        sl.run_log(result.log, ("universal_analytics",), timezone=zone)
    with pytest.raises(error, match=message):
        sl.run_log(result.log, ("ga4",), ad_timezone=zone)


def test_wrong_types_name_what_was_expected(scenario, result, tmp_path) -> None:
    cases = [
        (lambda: sl.run("scenarios/x.toml"), r"run\(\) needs a Scenario, got str; load it first"),
        (lambda: sl.simulate(Path("x.toml")), r"simulate\(\) needs a Scenario, got PosixPath"),
        (lambda: list(sl.iter_chunks({})), r"simulate\(\) needs a Scenario, got dict"),
        (lambda: sl.simulate(scenario, visitors="10"), "visitors must be an int, got str '10'"),
        (lambda: sl.simulate(scenario, seed=1.5), "seed must be an int, got float 1.5"),
        (lambda: sl.simulate(scenario, workers=True), "workers must be an int, got bool"),
        (lambda: sl.replicate(scenario, "3"), r"n \(replications\) must be an int, got str '3'"),
        (lambda: sl.replicate("x.toml", 3), r"replicate\(\) needs a Scenario"),
        (lambda: sl.evaluate_scenario("x.toml"), r"evaluate_scenario\(\) needs a Scenario, got str"),
        (lambda: sl.evaluate("r", ()), r"evaluate\(\) needs a Result \(from run\), got str"),
        (lambda: sl.evaluate(result, [3]), "expectations must be Expectation records"),
        (lambda: sl.run_log(result.log, "ga4"), "definitions must be a tuple of names or Definitions"),
        (lambda: sl.run_log("log", ("ga4",)), "log must be an EventLog"),
        (lambda: sl.write_report("r", tmp_path / "rep"), r"write_report\(\) needs a Result"),
        (lambda: sl.load_scenario(3), r"load_scenario\(\) needs a file path \(str or Path\), got int"),
        (
            lambda: sl.loads_scenario(Path("x.toml")),
            r"needs the TOML text as a str, got PosixPath; for a file",
        ),
    ]
    for call, message in cases:
        with pytest.raises(TypeError, match=message):
            call()
    assert not (tmp_path / "rep").exists()

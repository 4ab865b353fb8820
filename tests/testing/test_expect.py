"""Expectations: loading every form and target, judging runs and replications, locating blocks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from simulator.analysis.result import run
from simulator.errors import ScenarioError
from simulator.scenario.loader import loads_scenario
from simulator.testing.expect import evaluate_scenario, expect_blocks, has_expectations
from simulator.testing.stats import replication_seeds

# One shopper idles 43 minutes (2 ga4 sessions, 1 salesreach session); a second clicks at 23:50 and
# browses past midnight (one session on both days), then returns by bookmark the next morning.
HEAD = """
[scenario]
name = "demo"
seed = 7
start = 2024-05-01T09:00:00
timezone = "America/Los_Angeles"

[sessions]
definitions = ["ga4", "salesreach"]

[[journey]]
name = "distracted"
steps = [
  { at = 10:00:00, do = "click", campaign = "raincoat", cost = 0.75, page = "raincoat" },
  { after = "2m", do = "view", page = "reviews" },
  { after = "43m", do = "view", page = "raincoat" },
]

[[journey]]
name = "night owl"
steps = [
  { at = 23:50:00, do = "click", campaign = "boots", cost = 0.5, page = "boots" },
  { after = "1m", do = "bookmark" },
  { after = "20m", do = "view", page = "boots-detail" },
  { after = "1m", do = "leave" },
  { at = 2024-05-02T09:00:00, do = "return", via = "bookmark", page = "boots" },
]
"""


def _outcomes(expect: str, **kwargs):
    scenario = loads_scenario(HEAD + expect, "demo.toml")
    return evaluate_scenario(scenario, **kwargs)


def _one(expect: str):
    (outcome,) = _outcomes(expect)
    return outcome


@pytest.mark.parametrize(
    ("expect", "actual", "passed"),
    [
        ('metric = "sessions"\ndefinition = "ga4"\nequals = 4', 4, True),
        ('metric = "sessions"\ndefinition = "salesreach"\nequals = 4', 3, False),
        ('metric = "clicks"\nbetween = [1, 2]', 2, True),
        ('metric = "cost"\napprox = 1.3\nabs = 0.1', 1.25, True),
        ('metric = "cpc"\napprox = 0.5\nrel = 0.2', 0.625, False),
        ('metric = "views"\ndefinition = "ga4"\nat_least = 7', 6, False),
        ('metric = "views"\ndefinition = "ga4"\nat_most = 6', 6, True),
        ('metric = "bridge.inactivity"\ndefinition = "ga4"\nequals = 1', 1, True),
        ('metric = "bridge.bookmark"\ndefinition = "salesreach"\nequals = 1', 1, True),
        # engaged: 2+ views (the first session of each shopper); the idle split and the return are not
        ('metric = "engaged_sessions"\ndefinition = "ga4"\nequals = 2', 2, True),
        ('metric = "bounce_rate"\ndefinition = "ga4"\nequals = 0.5', 0.5, True),
        ('metric = "engagement_rate"\ndefinition = "salesreach"\nbetween = [0.6, 0.7]', 2 / 3, True),
        ('metric = "engaged_sessions"\ndefinition = "ga4"\ncampaign = "raincoat"\nequals = 1', 1, True),
        ('metric = "views_bridge.navigation"\ndefinition = "ga4"\nequals = -2', -2, True),
    ],
)
def test_value_forms_judge_the_run(expect: str, actual: float, passed: bool) -> None:
    """Each form is judged on the hand-worked value of the demo journeys."""
    outcome = _one("[[expect]]\n" + expect)
    assert outcome.actual == pytest.approx(actual)
    assert outcome.passed is passed


def test_comparison_between_definitions() -> None:
    """ga4 splits the 43-minute idle, SalesReach does not: 4 > 3."""
    ok, bad = _outcomes(
        '[[expect]]\ncompare = "ga4.sessions > salesreach.sessions"\n'
        '[[expect]]\ncompare = "salesreach.sessions >= ga4.sessions"\n'
    )
    assert ok.passed
    assert ok.sides == (4, 3)
    assert ok.actual == 1
    assert not bad.passed
    assert "salesreach.sessions = 3, ga4.sessions = 4" in bad.describe()
    assert set(bad.bridges) == {"salesreach", "ga4"}


def test_day_counts_hits_on_the_local_date_and_sessions_on_every_day() -> None:
    """The night owl's session crosses midnight: it counts on May 1 and on May 2 (with the return)."""
    may1, may2, clicks2 = _outcomes(
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4"\nday = 2024-05-01\nequals = 3\n'
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4"\nday = 2024-05-02\nequals = 2\n'
        '[[expect]]\nmetric = "clicks"\nday = 2024-05-02\nequals = 0\n'
    )
    assert (may1.actual, may2.actual, clicks2.actual) == (3, 2, 0)
    assert may1.passed
    assert may2.passed
    assert clicks2.passed


def test_day_uses_the_ad_accounts_time_zone_for_ad_rows() -> None:
    """In UTC the 23:50 Los Angeles click falls on May 2 (and the 10:00 one on May 1)."""
    text = HEAD.replace(
        'timezone = "America/Los_Angeles"', 'timezone = "America/Los_Angeles"\nad_timezone = "UTC"'
    )
    scenario = loads_scenario(text + '[[expect]]\nmetric = "clicks"\nday = 2024-05-02\nequals = 1\n')
    (outcome,) = evaluate_scenario(scenario)
    assert outcome.actual == 1
    assert outcome.passed


def test_campaign_counts_its_ad_rows_and_the_sessions_it_started() -> None:
    """raincoat started one session (the idle split starts another, from no campaign)."""
    sessions, views, cost = _outcomes(
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4"\ncampaign = "raincoat"\nequals = 1\n'
        '[[expect]]\nmetric = "views"\ndefinition = "salesreach"\ncampaign = "raincoat"\nequals = 3\n'
        '[[expect]]\nmetric = "cost"\ncampaign = "boots"\nequals = 0.5\n'
    )
    assert (sessions.actual, views.actual, cost.actual) == (1, 3, 0.5)


def test_device_counts_its_ad_rows_and_the_sessions_started_on_it() -> None:
    """Scripted steps without a device are 'unknown': all 4 ga4 sessions; nothing on mobile."""
    unknown, mobile, cost = _outcomes(
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4"\ndevice = "unknown"\nequals = 4\n'
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4"\ndevice = "mobile"\nequals = 0\n'
        '[[expect]]\nmetric = "cost"\ndevice = "unknown"\nequals = 1.25\n'
    )
    assert (unknown.actual, mobile.actual, cost.actual) == (4, 0, 1.25)
    assert mobile.expectation.name == "ga4.sessions on mobile"


def test_journeys_filter_still_works() -> None:
    """The existing journeys filter narrows the run to the named journeys."""
    outcome = _one(
        '[[expect]]\njourneys = ["distracted"]\nmetric = "sessions"\ndefinition = "ga4"\nequals = 2'
    )
    assert outcome.passed
    assert outcome.expectation.name == "ga4.sessions of distracted"


@pytest.mark.parametrize(
    ("expect", "key_path", "message"),
    [
        ('metric = "clicks"', "expect[1]", "expected exactly one of equals, between, approx"),
        ('metric = "clicks"\nequals = 1\nat_most = 2', "expect[1]", "found 'equals' and 'at_most'"),
        ('metric = "clicks"\nequals = 1\nrel = 0.1', "expect[1].rel", "only applies together with 'approx'"),
        ('metric = "clicks"\napprox = 1', "expect[1].approx", "needs a tolerance"),
        ('metric = "clicks"\nbetween = [3, 1]', "expect[1].between", "lo <= hi"),
        ('metric = "clicks"\nbetween = [1]', "expect[1].between", r"a range \[lo, hi\], got 1 item"),
        ('compare = "ga4.sessions > 3"', "expect[1].compare", "expected '<metric> <op> <metric>'"),
        ('compare = "ga4.sesions > ua.sessions"', "expect[1].compare", "did you mean 'sessions'"),
        (
            'compare = "matomo.sessions > ga4.sessions"',
            "expect[1].compare",
            r"'matomo' is not compared in \[sessions\]",
        ),
        ('compare = "ga4.sessions > ads.clicks"\nmetric = "clicks"', "expect[1]", "remove 'metric'"),
        ("equals = 1", "expect[1]", "missing required key 'metric'"),
        (
            'metric = "bridge.bookmark"\ndefinition = "ga4"\nday = 2024-05-01\nequals = 1',
            "expect[1].day",
            "bridge",
        ),
        (
            'metric = "views_bridge.navigation"\ndefinition = "ga4"\nday = 2024-05-01\nequals = 1',
            "expect[1].day",
            "bridge",
        ),
        (
            'metric = "clicks"\ncampaign = "raincot"\nequals = 1',
            "expect[1].campaign",
            "did you mean 'raincoat'",
        ),
        ('metric = "clicks"\nday = "May 1"\nequals = 1', "expect[1].day", "a date like 2024-05-02"),
        ('metric = "clicks"\ndevice = "phone"\nequals = 1', "expect[1].device", "'desktop', 'mobile'"),
        (
            'metric = "bridge.bookmark"\ndefinition = "ga4"\ndevice = "mobile"\nequals = 1',
            "expect[1].device",
            "bridge",
        ),
        (
            'metric = "clicks"\nequals = 1\nstatistic = "median"',
            "expect[1].statistic",
            '"mean" or a percentile',
        ),
        ('metric = "clicks"\nequals = 1\nconfidence = 95', "expect[1].confidence", "write 0.95"),
        ('metric = "clicks"\nequals = 1\nreplications = 0', "expect[1].replications", ">= 1"),
    ],
)
def test_bad_expectations_are_one_line_errors(expect: str, key_path: str, message: str) -> None:
    """Every malformed expectation names the key path and what is allowed."""
    with pytest.raises(ScenarioError, match=message) as info:
        loads_scenario(HEAD + "[[expect]]\n" + expect, "demo.toml")
    assert info.value.key_path == key_path
    assert "\n" not in str(info.value)


def test_default_names_say_what_is_counted() -> None:
    """Unnamed expectations are named after their target and slice."""
    scenario = loads_scenario(
        HEAD
        + '[[expect]]\nmetric = "clicks"\nequals = 2\n'
        + '[[expect]]\njourneys = ["distracted"]\nmetric = "sessions"\ndefinition = "ga4"\nday = 2024-05-01\n'
        + "equals = 2\n"
        + '[[expect]]\ncompare = "ga4.views >= ga4.sessions"\n'
    )
    names = [e.name for e in scenario.expectations]
    assert names == ["clicks", "ga4.sessions of distracted on 2024-05-01", "ga4.views >= ga4.sessions"]


def _varying_runner(counts: dict[int, int]):
    """A runner whose number of distracted shoppers depends on the seed (a stand-in for randomness)."""

    def runner(scenario, seed):
        n = int(np.random.default_rng(seed).integers(1, 10))
        counts[seed] = n
        return run(
            loads_scenario(HEAD.replace('name = "distracted"', f'name = "distracted"\ncount = {n}')), seed
        )

    return runner


def test_replicated_expectation_is_judged_on_the_t_interval_of_the_mean() -> None:
    """The mean and interval equal scipy's t interval over the spawned replications' values."""
    counts: dict[int, int] = {}
    scenario = loads_scenario(
        HEAD + '[[expect]]\nmetric = "clicks"\nat_least = 6\nreplications = 12\nconfidence = 0.9\n'
    )
    (outcome,) = evaluate_scenario(scenario, runner=_varying_runner(counts))
    seeds = replication_seeds(7, 12)
    clicks = np.array([counts[s] + 1 for s in seeds], dtype=float)  # + the night owl's click
    low, high = sps.t.interval(0.9, 11, loc=clicks.mean(), scale=sps.sem(clicks))
    assert outcome.n == 12
    assert outcome.actual == pytest.approx(clicks.mean())
    assert outcome.interval == pytest.approx((low, high))
    assert outcome.passed == (high >= 6)
    assert "over 12 replications" in outcome.describe()


def test_replicated_comparison_uses_paired_differences() -> None:
    """ga4 - salesreach sessions is the number of distracted shoppers in every replication: > 0."""
    counts: dict[int, int] = {}
    scenario = loads_scenario(
        HEAD
        + '[[expect]]\ncompare = "ga4.sessions > salesreach.sessions"\nreplications = 8\nstatistic = "p50"\n'
    )
    (outcome,) = evaluate_scenario(scenario, runner=_varying_runner(counts))
    diffs = np.array([counts[s] for s in replication_seeds(7, 8)], dtype=float)
    assert outcome.passed
    assert outcome.actual == pytest.approx(np.median(diffs))
    assert outcome.interval[0] <= np.median(diffs) <= outcome.interval[1]


def test_scenario_replications_apply_to_every_expectation() -> None:
    """[scenario] replications is the default; deterministic runs give a zero-width interval."""
    text = HEAD.replace("seed = 7", "seed = 7\nreplications = 3")
    scenario = loads_scenario(text + '[[expect]]\nmetric = "clicks"\nequals = 2\n')
    (outcome,) = evaluate_scenario(scenario)
    assert outcome.n == 3
    assert outcome.interval == (2, 2)
    assert outcome.passed


def test_failure_report_shows_expected_actual_bridge_and_lines() -> None:
    """The report of a failed expectation has everything needed to see why."""
    text = HEAD + '\n[[expect]]\nname = "wrong"\nmetric = "sessions"\ndefinition = "ga4"\nequals = 3\n'
    (outcome,) = evaluate_scenario(loads_scenario(text))
    blocks = expect_blocks(text)
    report = outcome.report(blocks[0], "demo.toml", text)
    lines = report.splitlines()
    assert lines[0] == "FAIL wrong: expected 3, actual 4"
    assert "  expected  ga4.sessions == 3" in lines
    assert any(
        line.split() == ["inactivity", "+1", "a", "visit", "split", "by", "the", "inactivity", "timeout"]
        for line in lines
    )
    assert any(line.split() == ["=", "sessions", "4"] for line in lines)
    assert f"  scenario  demo.toml:{blocks[0][0]}-{blocks[0][1]}" in lines
    assert lines[-1].endswith("| equals = 3")


def test_expect_blocks_find_each_table_and_drop_trailing_comments() -> None:
    """Line ranges run from the [[expect]] header to the last key before the next table."""
    text = (
        "[scenario]\nname = 'x'\n\n[[expect]]\nmetric = 'clicks'\nequals = 1\n\n# section\n"
        "[[ expect ]]  # second\nmetric = 'cost'\n  equals = 2\n[sessions]\n"
    )
    assert expect_blocks(text) == [(4, 6), (9, 11)]
    assert has_expectations(text)
    assert not has_expectations("expect = 1\n# [[expect]]\n")

"""Replications: spawned seeds, mean and quantile intervals, summaries and the replicate runner."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from simulator.analysis.result import run
from simulator.report.testing import render_replications
from simulator.scenario.loader import load_scenario
from simulator.testing.stats import (
    check_observed,
    compare_observed,
    estimate,
    flatten,
    mean_interval,
    quantile_interval,
    replicate,
    replication_seeds,
    summarize,
)


def test_seeds_are_spawned_deterministically_and_prefix_stable() -> None:
    """Replication k has the same seed whatever R is, and it comes from SeedSequence.spawn."""
    seeds = replication_seeds(42, 5)
    assert seeds == replication_seeds(42, 5)
    assert replication_seeds(42, 3) == seeds[:3]
    child = np.random.SeedSequence(42).spawn(5)[4]
    assert seeds[4] == int(child.generate_state(1, dtype=np.uint64)[0]) >> 1
    assert len(set(seeds)) == 5
    assert all(0 <= s < 2**63 for s in seeds)
    assert replication_seeds(43, 3) != seeds[:3]


def test_seeds_need_at_least_one_replication() -> None:
    """Zero replications is a ValueError that shows the value."""
    with pytest.raises(ValueError, match=r"replications\(=0\)"):
        replication_seeds(1, 0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=40),
    st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_mean_interval_matches_scipy_t_interval(values: list[float], confidence: float) -> None:
    """mean ± t·s/√n equals scipy.stats.t.interval with the standard error of the mean."""
    arr = np.array(values)
    low, high = mean_interval(arr, confidence)
    if np.std(arr, ddof=1) == 0:
        assert low == high == pytest.approx(arr.mean())
        return
    ref = sps.t.interval(confidence, len(arr) - 1, loc=arr.mean(), scale=sps.sem(arr))
    assert (low, high) == pytest.approx(ref, rel=1e-9, abs=1e-9)


def test_mean_interval_hand_worked() -> None:
    """values 1..5: mean 3, s = √2.5, t(0.975, 4) = 2.776445: 3 ± 1.963243."""
    low, high = mean_interval(np.arange(1.0, 6.0), 0.95)
    assert low == pytest.approx(3 - 2.776445105 * math.sqrt(2.5) / math.sqrt(5))
    assert high == pytest.approx(3 + 1.963243, abs=1e-6)


def test_mean_interval_needs_two_values() -> None:
    """One value has no interval."""
    with pytest.raises(ValueError, match="at least 2 values, got 1"):
        mean_interval(np.array([1.0]), 0.95)


def test_quantile_interval_brackets_the_estimate_and_widens_with_confidence() -> None:
    """The order-statistic interval holds the sample quantile; 99 % is at least as wide as 80 %."""
    values = np.random.default_rng(3).normal(50, 10, 60)
    for p in (0.25, 0.5, 0.9):
        lo80, hi80 = quantile_interval(values, p, 0.8)
        lo99, hi99 = quantile_interval(values, p, 0.99)
        assert lo99 <= lo80 <= np.quantile(values, p) <= hi80 <= hi99
        assert lo80 in values
        assert hi80 in values


def test_quantile_interval_coverage_is_near_nominal() -> None:
    """Over many samples from a known distribution the 90 % interval for the median covers 0 often."""
    rng = np.random.default_rng(11)
    hits = 0
    for _ in range(400):
        s = rng.standard_normal(40)
        lo, hi = quantile_interval(s, 0.5, 0.9)
        hits += lo <= 0 <= hi
    assert 0.86 <= hits / 400 <= 0.97


def test_estimate_reads_the_statistic_name() -> None:
    """'mean' gives the t interval, 'p95' the 95th percentile with an open top for few values."""
    values = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    assert estimate(values, "mean", 0.95)[0] == 4.0
    est, low, high = estimate(values, "p95", 0.95)
    assert est == pytest.approx(np.quantile(values, 0.95))
    assert math.isinf(high)
    assert low <= est
    assert estimate(np.array([2.0, 2.0, 2.0]), "p50", 0.95) == (2.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="'p120'"):
        estimate(values, "p120", 0.95)


def test_summarize_drops_missing_values() -> None:
    """NaN (a ratio with a zero denominator) is left out and n says how many values were used."""
    s = summarize(np.array([1.0, math.nan, 3.0]), 0.95)
    assert (s.n, s.mean, s.std) == (2, 2.0, pytest.approx(math.sqrt(2)))
    assert summarize(np.array([math.nan]), 0.95).mean is None
    one = summarize(np.array([5.0]), 0.95)
    assert (one.n, one.mean, one.low) == (1, 5.0, None)


def test_replicate_with_an_injected_runner() -> None:
    """A fake runner drawing from each seed's generator gives the statistics of those draws."""
    scenario = SimpleNamespace(name="fake", seed=9)

    def runner(_scenario: object, seed: int) -> dict[str, float | None]:
        rng = np.random.default_rng(seed)
        return {"x": float(rng.normal(100, 5)), "r": None if seed % 2 else 1.0}

    reps = replicate(scenario, 20, runner=runner, observe=lambda d: d)
    expected = np.array([np.random.default_rng(s).normal(100, 5) for s in replication_seeds(9, 20)])
    summary = reps.summary(0.9)["x"]
    assert summary.n == 20
    assert summary.mean == pytest.approx(expected.mean())
    assert summary.std == pytest.approx(expected.std(ddof=1))
    assert (summary.low, summary.high) == pytest.approx(
        sps.t.interval(0.9, 19, loc=expected.mean(), scale=sps.sem(expected))
    )
    assert reps.summary()["r"].n == sum(1 for s in replication_seeds(9, 20) if s % 2 == 0)
    doc = reps.to_dict(0.9)
    assert doc["n"] == 20
    assert doc["seeds"] == list(replication_seeds(9, 20))
    assert set(doc["metrics"]) == {"x", "r"}


def test_scripted_scenarios_replicate_with_zero_spread() -> None:
    """Scripted journeys are exact: every replication is the same, std 0, the interval a point."""
    scenario = load_scenario("scenarios/amazon_clicks_vs_sessions.toml")
    reps = replicate(scenario, 3)
    summary = reps.summary()
    assert summary["ads.clicks"].mean == 9
    assert summary["ads.clicks"].std == 0
    assert (summary["ga4.sessions"].low, summary["ga4.sessions"].high) == (6, 6)
    assert summary["ga4.bridge.repeat_click"].mean == -2
    assert "ga4.bridge.midnight" not in summary  # zero in every replication
    flat = flatten(run(scenario))
    assert flat["salesreach.sessions"] == 5
    assert flat["ads.cpc"] == pytest.approx(6.45 / 9)
    table = render_replications(reps)
    assert "3 replications" in table
    assert table.splitlines()[4].split()[:3] == ["ads.impressions", "0", "0"]


def test_check_observed_percentile_and_two_sided_p_value() -> None:
    """Observation 7 among 1..10: mid-rank percentile 65, p = 2 * min(8, 5) / 11."""
    sim = np.arange(1.0, 11.0)
    check = check_observed(sim, 7.0, "ga4.sessions", 0.95)
    assert check.percentile == pytest.approx(65.0)
    assert check.p_value == pytest.approx(2 * 5 / 11)
    assert check.verdict.startswith("consistent")
    assert check.mean == 5.5


def test_check_observed_far_outside_is_not_explained() -> None:
    """Beyond all simulated values p comes from a normal approximation: z = (obs - mean) / sd."""
    sim = np.random.default_rng(2).normal(100, 5, 99)
    check = check_observed(sim, 1000.0, "ads.clicks")
    z = (1000.0 - sim.mean()) / sim.std(ddof=1)
    assert check.p_value == pytest.approx(2 * scipy.stats.norm.sf(z))
    assert check.percentile == 100.0
    assert check.verdict.startswith("not explained: the report is above")
    assert f"z = +{z:.1f}" in check.verdict
    few = check_observed(sim[:9], 1000.0, "ads.clicks")
    assert few.verdict.startswith("not explained: the report is above")


def test_check_observed_just_outside_few_values_is_inconclusive() -> None:
    """Just beyond the largest of a few values (|z| < 2), or with under 5 values: inconclusive."""
    sim = np.array([90.0, 95.0, 100.0, 105.0, 110.0])
    near = check_observed(sim, 111.0, "k")
    assert near.p_value == pytest.approx(2 * scipy.stats.norm.sf((111.0 - 100.0) / sim.std(ddof=1)))
    assert near.verdict.startswith("inconclusive: outside all 5 simulated values")
    tiny = check_observed(sim[:4], 1000.0, "k")
    assert tiny.p_value == pytest.approx(2 / 5)
    assert tiny.verdict.startswith("inconclusive: outside all 4 simulated values")


def test_check_observed_on_a_deterministic_setup_is_exact() -> None:
    """Zero spread: p is 1 when the report matches exactly, 0 otherwise."""
    sim = np.full(4, 6.0)
    assert check_observed(sim, 6.0, "k").p_value == 1.0
    assert check_observed(sim, 7.0, "k").p_value == 0.0
    assert check_observed(np.array([np.nan]), 1.0, "k").verdict == "no simulated value"


def test_compare_observed_reads_replication_keys() -> None:
    """compare_observed looks each observed key up in the replications."""
    scenario = load_scenario("scenarios/amazon_clicks_vs_sessions.toml")
    reps = replicate(scenario, 2)
    checks = compare_observed(reps, [("ads.clicks", 9.0), ("ga4.sessions", 7.0)])
    assert [c.p_value for c in checks] == [1.0, 0.0]
    assert checks[1].to_dict()["key"] == "ga4.sessions"

"""Distributions: checks that convert scenario values, and sampling."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import ScenarioError
from simulator.scenario.distributions import Dist, DistCheck
from simulator.schema import Ctx


def _check(kind, value, minimum=0.0):
    return DistCheck(kind, minimum=minimum)(value, Ctx("f.toml", ["x"]))


def test_plain_values_are_fixed_distributions():
    """A duration string, a number or a whole number alone means a fixed value."""
    assert _check("duration", "1m30s") == Dist("fixed", (("value", 90_000.0),), "duration")
    assert _check("number", 0.8) == Dist.fixed(0.8)
    assert _check("count", 3) == Dist("fixed", (("value", 3.0),), "count")


def test_tables_convert_durations_and_keep_shapes():
    """Location parameters of duration distributions are parsed; sigma stays a number."""
    dist = _check("duration", {"dist": "lognormal", "median": "40s", "sigma": 1})
    assert dist.params == (("median", 40_000.0), ("sigma", 1.0))
    assert _check("duration", {"dist": "uniform", "low": "1s", "high": "2s"}).params == (
        ("low", 1000.0),
        ("high", 2000.0),
    )


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("duration", 40, "durations are quoted strings"),
        ("duration", {"median": "4s"}, "missing required key 'dist'"),
        ("duration", {"dist": "uniform", "low": "5s", "high": "1s"}, "low <= high"),
        ("number", {"dist": "lognormal", "median": 1, "sigma": 20}, r"in \[0, 10\]"),
        ("count", 2.5, "whole number"),
        ("count", 0, ">= 1"),
        ("number", True, "a number distribution"),
    ],
)
def test_bad_distributions_are_rejected(kind, value, message):
    """Bad distribution values raise a ScenarioError that says what is expected."""
    with pytest.raises(ScenarioError, match=message):
        _check(kind, value, minimum=1 if kind == "count" else 0)


@pytest.mark.parametrize(
    ("dist", "mean"),
    [
        (Dist("lognormal", (("median", 10.0), ("sigma", 0.5)), "number"), 10 * np.exp(0.125)),
        (Dist("exponential", (("mean", 4.0),), "duration"), 4.0),
        (Dist("uniform", (("low", 2.0), ("high", 6.0)), "number"), 4.0),
        (Dist("geometric", (("mean", 3.0),), "count"), 3.0),
        (Dist("poisson", (("mean", 1.5),), "count"), 1.5),
        (Dist("normal", (("mean", 50.0), ("sd", 5.0)), "number"), 50.0),
    ],
)
def test_samples_have_the_documented_mean(dist, mean):
    """The sample mean of 200,000 draws is within 1 % of the distribution's mean."""
    rng = np.random.default_rng(3)
    draws = dist.sample(rng, 200_000)
    assert dist.mean == pytest.approx(mean)
    assert draws.mean() == pytest.approx(mean, rel=0.01)
    assert draws.min() >= 0


def test_lognormal_median_is_the_median():
    """Half of lognormal draws fall below the median parameter."""
    draws = Dist("lognormal", (("median", 40.0), ("sigma", 1.0)), "duration").sample(
        np.random.default_rng(1), 100_000
    )
    assert np.median(draws) == pytest.approx(40.0, rel=0.02)


def test_counts_are_integers_and_geometric_starts_at_one():
    """Count samples are int64; a geometric count is never 0; a uniform count includes both ends."""
    rng = np.random.default_rng(2)
    geo = Dist("geometric", (("mean", 1.2),), "count").sample(rng, 10_000)
    uni = Dist("uniform", (("low", 1.0), ("high", 3.0)), "count").sample(rng, 10_000)
    assert geo.dtype == np.int64
    assert geo.min() == 1
    assert set(np.unique(uni).tolist()) == {1, 2, 3}

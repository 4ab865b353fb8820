"""Expectations from scenario files, evaluated against a Result."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulator.result import Result, run_log
from simulator.scenario import Expectation

__all__ = ["Outcome", "evaluate"]

#: Relative tolerance for ``equals`` on floating-point metrics (sums of costs, ratios).
REL_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class Outcome:
    """One expectation's verdict."""

    expectation: Expectation
    actual: float | int | None
    passed: bool

    def describe(self) -> str:
        exp = self.expectation
        verdict = "PASS" if self.passed else "FAIL"
        shown = "n/a (zero denominator)" if self.actual is None else f"{self.actual:g}"
        return f"{verdict} {exp.name}: expected {exp.equals:g}, actual {shown}"


def _restricted(result: Result, journeys: tuple[int, ...]) -> Result:
    """The result recomputed over the rows of the given scripted journeys only."""
    log = result.log.select(np.isin(result.log.journey, journeys))
    return run_log(log, result.definition_specs(), result.scenario, result.seed, result.timezone)


def evaluate(result: Result, expectations: tuple[Expectation, ...]) -> list[Outcome]:
    """Check each expectation against ``result`` (or against the journeys it names)."""
    views: dict[tuple[int, ...], Result] = {(): result}
    outcomes = []
    for exp in expectations:
        if exp.journeys not in views:
            views[exp.journeys] = _restricted(result, exp.journeys)
        actual = views[exp.journeys].metric(exp.metric, exp.definition)
        passed = actual is not None and math.isclose(actual, exp.equals, rel_tol=REL_TOL, abs_tol=1e-12)
        outcomes.append(Outcome(exp, actual, passed))
    return outcomes

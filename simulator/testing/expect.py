"""Expectations from scenario files, evaluated against a run (or against replications of it).

An expectation reads one metric (or compares two: :mod:`~simulator.scenario.assertions`), optionally counted
over some journeys, one day or one campaign (:mod:`simulator.analysis.segments`). Without replications it is
judged on the run with the scenario's seed: the value must satisfy the form. With
``replications = R > 1`` it is judged on a confidence interval for its statistic (the mean, or a
percentile such as ``p95``) over R runs with spawned seeds (:mod:`simulator.testing.stats`): it fails only
when the whole interval lies outside what the form allows. A comparison over replications is judged
on the paired per-replication difference ``left - right`` (common random numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.analysis.bridges import VOCABULARY
from simulator.analysis.result import Result, run, run_log
from simulator.analysis.segments import segment
from simulator.scenario.assertions import comparison_interval_passes, interval_passes, point_passes
from simulator.scenario.loader import Expectation, Scenario, require_scenario
from simulator.testing.stats import estimate, replication_seeds

__all__ = ["Outcome", "evaluate", "evaluate_scenario", "expect_blocks", "has_expectations"]

_EXPECT_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*expect[ \t]*\]\][ \t]*(#.*)?$", re.MULTILINE)
_ANY_HEADER = re.compile(r"^[ \t]*\[")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One expectation's verdict, with what is needed to explain it.

    ``actual`` is the value (for a comparison: ``left - right``), or the statistic over replications;
    ``interval`` is its confidence interval over ``n`` replications (None for a single run);
    ``sides`` are the comparison's two values (their means over replications); ``bridges`` are the
    clicks -> sessions bridges of the definitions involved (mean terms over replications).
    """

    expectation: Expectation
    actual: float | None
    passed: bool
    interval: tuple[float, float] | None = None
    n: int = 1
    sides: tuple[float | None, float | None] | None = None
    bridges: dict[str, dict[str, float]] = field(default_factory=dict)

    def _expected(self) -> str:
        exp = self.expectation
        if exp.comparison is not None:
            return str(exp.comparison)
        assert exp.form is not None
        return str(exp.form)

    def _actual(self) -> str:
        exp = self.expectation
        if self.actual is None:
            return "n/a (zero denominator)"
        if exp.comparison is not None and self.sides is not None:
            left, right = (f"{v:g}" if v is not None else "n/a" for v in self.sides)
            shown = f"{exp.comparison.left} = {left}, {exp.comparison.right} = {right}"
        else:
            shown = f"{self.actual:g}"
        if self.interval is None:
            return shown
        low, high = self.interval
        stat = exp.statistic
        what = "difference" if exp.comparison is not None else ""
        return (
            f"{shown}; {stat} {what + ' ' if what else ''}{self.actual:g}, "
            f"{exp.confidence:.0%} interval [{low:g}, {high:g}] over {self.n} replications"
        )

    def describe(self) -> str:
        """One line: verdict, name, expected, actual."""
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict} {self.expectation.name}: expected {self._expected()}, actual {self._actual()}"

    def report(self, lines: tuple[int, int] | None = None, path: str = "", text: str = "") -> str:
        """The failure report: expected vs actual, what was counted, the bridges, the scenario lines."""
        exp = self.expectation
        target = "" if exp.comparison is not None else f"{exp.refs[0]} "
        if exp.form is not None and exp.form.kind == "equals":
            target += "== "
        out = [self.describe(), f"  expected  {target}{self._expected()}", f"  actual    {self._actual()}"]
        if self.interval is not None:
            out.append("  rule      fails only when the whole interval lies outside what is expected")
        scope = _scope(exp)
        if scope:
            out.append(f"  counted   {scope}")
        for name, terms in self.bridges.items():
            out += _bridge_lines(name, terms, self.interval is not None)
        if lines is not None and text:
            first, last = lines
            out.append(f"  scenario  {path}:{first}-{last}")
            rows = text.splitlines()[first - 1 : last]
            out += [f"    {first + k:>4} | {row}" for k, row in enumerate(rows)]
        return "\n".join(out)


def _scope(exp: Expectation) -> str:
    parts = []
    if exp.journeys:
        parts.append(f"journeys {', '.join(repr(n) for n in exp.journey_names)}")
    if exp.day is not None:
        parts.append(f"day {exp.day.isoformat()}")
    if exp.campaign is not None:
        parts.append(f"campaign {exp.campaign!r}")
    if exp.device is not None:
        parts.append(f"device {exp.device!r}")
    return "; ".join(parts)


def _fmt(value: float, sign: bool = False) -> str:
    return f"{value:+,.6g}" if sign else f"{value:,.6g}"


def _bridge_lines(name: str, terms: dict[str, float], mean: bool) -> list[str]:
    head = f"  bridge    clicks -> {name} sessions" + (" (mean over replications)" if mean else "")
    width = max([len("ad clicks"), *(len(c) for c in terms if c in VOCABULARY)])
    rows = [head, f"    {'ad clicks':<{width}}  {_fmt(terms['start']):>8}"]
    for cause, delta in terms.items():
        if cause in VOCABULARY and delta:
            rows.append(f"    {cause:<{width}}  {_fmt(delta, sign=True):>8}  {VOCABULARY[cause]}")
    rows.append(f"    {'= sessions':<{width}}  {_fmt(terms['end']):>8}")
    return rows


def has_expectations(text: str) -> bool:
    """Whether TOML text has an ``[[expect]]`` table header."""
    return _EXPECT_HEADER.search(text) is not None


def expect_blocks(text: str) -> list[tuple[int, int]]:
    """1-based ``(first, last)`` line ranges of each ``[[expect]]`` table, in file order.

    A block runs from its header to the line before the next table header, without trailing blank
    and comment lines. ``expect = [...]`` written as an inline array has no blocks.
    """
    rows = text.splitlines()
    blocks = []
    for match in _EXPECT_HEADER.finditer(text):
        first = text.count("\n", 0, match.start())
        last = first
        for k in range(first + 1, len(rows)):
            if _ANY_HEADER.match(rows[k]):
                break
            if rows[k].strip() and not rows[k].lstrip().startswith("#"):
                last = k
        blocks.append((first + 1, last + 1))
    return blocks


class _Views:
    """The run seen by each expectation: restricted to journeys, sliced by day or campaign."""

    def __init__(self, result: Result, scenario: Scenario | None) -> None:
        self.result, self.scenario = result, scenario
        self._restricted: dict[tuple[int, ...], Result] = {(): result}

    def restricted(self, journeys: tuple[int, ...]) -> Result:
        if journeys not in self._restricted:
            r = self.result
            log = r.log.select(np.isin(r.log.journey, journeys))
            self._restricted[journeys] = run_log(
                log,
                r.definition_specs(),
                r.scenario,
                r.seed,
                timezone=r.timezone,
                ad_timezone=r.ad_timezone,
                engagement_timer=r.engagement_timer,
            )
        return self._restricted[journeys]

    def read(self, exp: Expectation) -> tuple[float | None, ...]:
        view: Any = self.restricted(exp.journeys)
        if exp.day is not None or exp.campaign is not None or exp.device is not None:
            if self.scenario is None:
                raise ValueError(f"expectation {exp.name!r} counts a day or campaign: pass the scenario")
            view = segment(
                view,
                timezone=self.scenario.timezone,
                ad_timezone=self.scenario.ad_timezone,
                day=exp.day,
                campaign=exp.campaign,
                device=exp.device,
            )
        return tuple(view.metric(ref.metric, ref.definition) for ref in exp.refs)

    def bridges(self, exp: Expectation) -> dict[str, dict[str, float]]:
        view = self.restricted(exp.journeys)
        out = {}
        for name in exp.definitions:
            bridge = view.definitions[name].bridge
            out[name] = {"start": bridge.start, **{t.cause: t.delta for t in bridge.terms}, "end": bridge.end}
        return out


def _judge_point(exp: Expectation, values: tuple[float | None, ...], bridges: dict) -> Outcome:
    if any(v is None for v in values):
        sides = values if exp.comparison is not None else None
        return Outcome(exp, None, False, sides=sides, bridges=bridges)
    if exp.comparison is not None:
        left, right = values
        return Outcome(exp, left - right, exp.comparison.holds(left, right), sides=values, bridges=bridges)
    assert exp.form is not None
    return Outcome(exp, values[0], point_passes(exp.form, values[0]), bridges=bridges)


def evaluate(
    result: Result, expectations: tuple[Expectation, ...], scenario: Scenario | None = None
) -> list[Outcome]:
    """Check each expectation on one run (replication settings are ignored here).

    Parameters
    ----------
    result
        The run.
    expectations
        What to check.
    scenario
        Needed for expectations that count one day or campaign (for the time zones).
    """
    if not isinstance(result, Result):
        raise TypeError(f"evaluate() needs a Result (from run), got {type(result).__name__}")
    bad = next((e for e in expectations if not isinstance(e, Expectation)), None)
    if bad is not None:
        raise TypeError(f"expectations must be Expectation records (scenario.expectations), got {bad!r:.60}")
    views = _Views(result, scenario)
    return [_judge_point(exp, views.read(exp), views.bridges(exp)) for exp in expectations]


def _mean_bridges(per_run: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name in per_run[0]:
        keys = list(dict.fromkeys(k for run_bridges in per_run for k in run_bridges[name]))
        out[name] = {k: float(np.mean([b[name].get(k, 0) for b in per_run])) for k in keys}
    return out


def _judge_replicated(exp: Expectation, samples: list[tuple[float | None, ...]], bridges: list) -> Outcome:
    bridge = _mean_bridges(bridges) if bridges and bridges[0] else {}
    kept = [s for s in samples if all(v is not None for v in s)]
    if len(kept) < 2:  # noqa: PLR2004 - an interval needs two values
        return Outcome(exp, None, False, n=len(kept), bridges=bridge)
    arr = np.array(kept, dtype=np.float64)
    if exp.comparison is not None:
        est, low, high = estimate(arr[:, 0] - arr[:, 1], exp.statistic, exp.confidence)
        passed = comparison_interval_passes(exp.comparison, low, high)
        sides = (float(arr[:, 0].mean()), float(arr[:, 1].mean()))
        return Outcome(exp, est, passed, (low, high), len(kept), sides, bridge)
    assert exp.form is not None
    est, low, high = estimate(arr[:, 0], exp.statistic, exp.confidence)
    return Outcome(exp, est, interval_passes(exp.form, low, high), (low, high), len(kept), None, bridge)


def _replicated_runs(
    scenario: Scenario, exps: list[Expectation], seed: int, runner: Callable[[Scenario, int], Result]
) -> Iterator[tuple[Expectation, list, list]]:
    n = max(e.replications for e in exps)
    samples: dict[int, list] = {e.index: [] for e in exps}
    bridges: dict[int, list] = {e.index: [] for e in exps}
    for k, rep_seed in enumerate(replication_seeds(seed, n)):
        views = _Views(runner(scenario, rep_seed), scenario)
        for exp in exps:
            if k < exp.replications:  # replication k has the same seed whatever R is
                samples[exp.index].append(views.read(exp))
                bridges[exp.index].append(views.bridges(exp))
    for exp in exps:
        yield exp, samples[exp.index], bridges[exp.index]


def evaluate_scenario(
    scenario: Scenario,
    *,
    seed: int | None = None,
    runner: Callable[[Scenario, int], Result] = run,
) -> list[Outcome]:
    """Check every expectation of ``scenario``, running it once and, if asked, replicating it.

    Parameters
    ----------
    scenario
        The scenario with its expectations.
    seed
        Overrides the scenario's seed (and the root of the replications' seeds).
    runner
        ``runner(scenario, seed) -> Result``; :func:`simulator.analysis.result.run` by default.

    Returns
    -------
    list of Outcome
        In the order of the scenario's ``[[expect]]`` tables.
    """
    require_scenario(scenario, "evaluate_scenario")
    seed = scenario.seed if seed is None else seed
    single = tuple(e for e in scenario.expectations if e.replications == 1)
    multi = [e for e in scenario.expectations if e.replications > 1]
    outcomes: dict[int, Outcome] = {}
    if single:
        for outcome in evaluate(runner(scenario, seed), single, scenario):
            outcomes[outcome.expectation.index] = outcome
    if multi:
        for exp, samples, bridges in _replicated_runs(scenario, multi, seed, runner):
            outcomes[exp.index] = _judge_replicated(exp, samples, bridges)
    return [outcomes[e.index] for e in scenario.expectations]

"""Replications and their statistics: seeds spawned from the scenario seed, means, intervals.

A scenario's R replications run with R seeds spawned from its seed by
``numpy.random.SeedSequence(seed).spawn(R)`` (each child turned into one int), so replication ``k``
has the same seed whatever R is, and the same scenario always gives the same numbers.

Intervals:

* the mean: Student's t interval ``mean ± t((1 + c) / 2, n - 1) · s / √n`` with the sample standard
  deviation ``s`` (ddof 1);
* a quantile: the distribution-free order-statistic interval of :func:`scipy.stats.quantile_test`
  (an end is infinite when R is too small for the confidence asked).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from simulator.analysis.bridges import VOCABULARY
from simulator.analysis.metrics import AD_METRICS, DEFINITION_METRICS
from simulator.analysis.result import run
from simulator.schema import did_you_mean

__all__ = [
    "ObservedCheck",
    "Replications",
    "Summary",
    "check_observed",
    "compare_observed",
    "estimate",
    "flatten",
    "mean_interval",
    "quantile_interval",
    "replicate",
    "replication_seeds",
    "summarize",
]

T = TypeVar("T")
_PERCENTILE_RE = re.compile(r"p(\d+(?:\.\d+)?)")
_MIN_FOR_INTERVAL = 2
_PERCENT = 100


def replication_seeds(seed: int, n: int) -> tuple[int, ...]:
    """The seeds of ``n`` replications: one int (< 2**63) per ``SeedSequence(seed).spawn(n)`` child."""
    if n < 1:
        raise ValueError(f"replications(={n}) must be >= 1")
    children = np.random.SeedSequence(seed).spawn(n)
    return tuple(int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children)


def mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student's t confidence interval for the mean (needs at least two values)."""
    n = len(values)
    if n < _MIN_FOR_INTERVAL:
        raise ValueError(f"a confidence interval needs at least 2 values, got {n}")
    mean = float(np.mean(values))
    sd = float(np.std(values, ddof=1))
    if sd == 0.0:
        return mean, mean
    from scipy import stats as sps  # noqa: PLC0415 - scipy.stats costs ~0.4 s to import; on use

    half = float(sps.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def _quantile_level(statistic: str) -> float:
    match = _PERCENTILE_RE.fullmatch(statistic)
    if not match or not 0 <= float(match.group(1)) <= _PERCENT:
        raise ValueError(f"statistic must be 'mean' or a percentile like 'p95', got {statistic!r}")
    return float(match.group(1)) / _PERCENT


def quantile_interval(values: np.ndarray, p: float, confidence: float) -> tuple[float, float]:
    """Distribution-free confidence interval for the ``p`` quantile (order statistics)."""
    if np.all(values == values[0]):
        return float(values[0]), float(values[0])
    from scipy import stats as sps  # noqa: PLC0415

    ci = sps.quantile_test(values, q=float(np.median(values)), p=p).confidence_interval(confidence)
    low = -math.inf if math.isnan(ci.low) else float(ci.low)
    high = math.inf if math.isnan(ci.high) else float(ci.high)
    return low, high


def estimate(values: np.ndarray, statistic: str, confidence: float) -> tuple[float, float, float]:
    """``(estimate, low, high)`` of ``statistic`` (``"mean"`` or ``"p<percent>"``) over ``values``."""
    if statistic == "mean":
        return (float(np.mean(values)), *mean_interval(values, confidence))
    p = _quantile_level(statistic)
    return (float(np.quantile(values, p)), *quantile_interval(values, p, confidence))


@dataclass(frozen=True, slots=True)
class Summary:
    """Mean, standard deviation (ddof 1) and t interval of one metric over replications.

    ``n`` counts the replications where the metric had a value (a ratio with a zero denominator
    has none); ``std``, ``low`` and ``high`` are None when ``n < 2``.
    """

    n: int
    mean: float | None
    std: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON values, rounded to 9 decimals so summation noise never changes the bytes."""
        values = {"mean": self.mean, "std": self.std, "low": self.low, "high": self.high}
        return {"n": self.n, **{k: None if v is None else round(v, 9) for k, v in values.items()}}


def summarize(values: np.ndarray, confidence: float = 0.95) -> Summary:
    """Summarise one metric's values (NaN = no value in that replication)."""
    kept = values[~np.isnan(values)]
    n = len(kept)
    if n == 0:
        return Summary(0, None, None, None, None)
    mean = float(np.mean(kept))
    if n == 1:
        return Summary(1, mean, None, None, None)
    low, high = mean_interval(kept, confidence)
    return Summary(n, mean, float(np.std(kept, ddof=1)), low, high)


def flatten(result: Any) -> dict[str, float | None]:
    """Every count, ratio and bridge term of a Result, keyed ``ads.clicks``, ``ga4.bridge.bookmark``."""
    out: dict[str, float | None] = {f"ads.{m}": result.metric(m) for m in AD_METRICS}
    for name, block in result.definitions.items():
        for metric in DEFINITION_METRICS:
            out[f"{name}.{metric}"] = result.metric(metric, name)
        for cause in VOCABULARY:
            out[f"{name}.bridge.{cause}"] = block.bridge.term(cause)
    return out


@dataclass(frozen=True, slots=True)
class Replications:
    """The values of every observed key in each replication (NaN where a ratio had no value)."""

    scenario: str
    seeds: tuple[int, ...]
    values: dict[str, np.ndarray]

    def summary(self, confidence: float = 0.95) -> dict[str, Summary]:
        """One :class:`Summary` per key; bridge terms that are zero in every replication are left out."""
        return {
            key: summarize(vals, confidence)
            for key, vals in self.values.items()
            if ".bridge." not in key or np.any(vals != 0)
        }

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """The ``"replications"`` block of the JSON output."""
        return {
            "n": len(self.seeds),
            "confidence": confidence,
            "seeds": list(self.seeds),
            "metrics": {k: s.to_dict() for k, s in self.summary(confidence).items()},
        }


def _collect(rows: Iterable[Mapping[str, float | None]]) -> dict[str, np.ndarray]:
    rows = list(rows)
    keys = list(dict.fromkeys(k for row in rows for k in row))
    return {
        k: np.array([math.nan if row.get(k) is None else row[k] for row in rows], dtype=np.float64)
        for k in keys
    }


def replicate(
    scenario: Any,
    n: int,
    *,
    seed: int | None = None,
    runner: Callable[[Any, int], T] = run,
    observe: Callable[[T], Mapping[str, float | None]] = flatten,
    on_progress: Callable[[int], None] | None = None,
) -> Replications:
    """Run ``scenario`` with ``n`` spawned seeds and record what ``observe`` reads off each run.

    Parameters
    ----------
    scenario
        A :class:`~simulator.scenario.loader.Scenario` (or anything with a name and seed).
    n
        Number of replications.
    seed
        Overrides the scenario's seed as the root of the spawned seeds.
    runner
        ``runner(scenario, seed) -> result``; :func:`simulator.analysis.result.run` by default.
    observe
        ``observe(result) -> {key: value}``; :func:`flatten` by default. Results are not kept.
    on_progress
        Called with 1 after each replication (for a progress bar); nothing by default.

    Examples
    --------
    >>> reps = replicate(scenario, 30)  # doctest: +SKIP
    >>> reps.summary()["ga4.sessions"].mean  # doctest: +SKIP
    """
    if not isinstance(n, int | np.integer) or isinstance(n, bool):
        raise TypeError(f"n (replications) must be an int, got {type(n).__name__} {n!r:.40}")
    if not hasattr(scenario, "seed") or not hasattr(scenario, "name"):
        raise TypeError(f"replicate() needs a Scenario (from load_scenario), got {type(scenario).__name__}")
    seeds = replication_seeds(scenario.seed if seed is None else seed, n)

    def one(s: int) -> Mapping[str, float | None]:
        row = observe(runner(scenario, s))
        if on_progress is not None:
            on_progress(1)
        return row

    return Replications(scenario.name, seeds, _collect(one(s) for s in seeds))


@dataclass(frozen=True, slots=True)
class ObservedCheck:
    """Where one number from a real report falls in the simulated distribution.

    ``percentile`` is the mid-rank percentile of the observation among the simulated values;
    ``p_value`` is two-sided, ``min(1, 2 · min(P(sim <= obs), P(sim >= obs)))`` with the
    ``(k + 1) / (n + 1)`` Monte-Carlo correction, so it is never 0 from finitely many runs — except
    when every replication gives the same value (a deterministic setup): then p is 1 if the
    observation equals it and 0 otherwise. Beyond every simulated value the rank test cannot go
    below ``2 / (n + 1)``; there, with at least five replications, ``p_value`` comes from a normal
    approximation of the simulated values (``2 · P(Z > |z|)``), and the verdict says so.
    """

    key: str
    observed: float
    n: int
    mean: float | None
    low: float | None  # the central ``confidence`` range of the simulated values
    high: float | None
    percentile: float | None
    p_value: float | None
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        out = {
            k: getattr(self, k)
            for k in ("key", "observed", "n", "mean", "low", "high", "percentile", "p_value", "verdict")
        }
        return {k: round(v, 9) if isinstance(v, float) else v for k, v in out.items()}


#: Replications needed before a normal approximation judges an observation beyond every value.
_MIN_FOR_NORMAL = 5


def check_observed(values: np.ndarray, observed: float, key: str, confidence: float = 0.95) -> ObservedCheck:
    """Compare one observed number with its simulated values (NaN = no value in that replication)."""
    sim = values[~np.isnan(values)]
    n = len(sim)
    if n == 0:
        return ObservedCheck(key, observed, 0, None, None, None, None, None, "no simulated value")
    below, equal = int(np.sum(sim < observed)), int(np.sum(sim == observed))
    percentile = 100 * (below + 0.5 * equal) / n
    p_le = (below + equal + 1) / (n + 1)
    p_ge = (n - below + 1) / (n + 1)
    p_value = min(1.0, 2 * min(p_le, p_ge))
    if np.all(sim == sim[0]):  # a deterministic setup: the number is produced exactly or not at all
        p_value = 1.0 if math.isclose(observed, sim[0], rel_tol=1e-9, abs_tol=1e-12) else 0.0
    tail = (1 - confidence) / 2
    low, high = (float(q) for q in np.quantile(sim, [tail, 1 - tail]))
    outside = below == n or below + equal == 0
    note = ""
    if outside and p_value > 0 and n >= _MIN_FOR_NORMAL:
        # The rank test cannot go below 2 / (n + 1): beyond every simulated value, judge by a normal
        # approximation of the simulated distribution (counts over many visitors are close to normal).
        z = (observed - float(sim.mean())) / float(sim.std(ddof=1))
        from scipy import stats as sps  # noqa: PLC0415

        p_value = float(min(1.0, 2 * sps.norm.sf(abs(z))))
        note = f" (z = {z:+.1f}, normal approximation: outside all {n} simulated values)"
    if p_value >= 1 - confidence and outside:
        verdict = f"inconclusive: outside all {n} simulated values; run more replications"
    elif p_value >= 1 - confidence:
        verdict = "consistent: the simulated setup explains this number"
    else:
        side = "below" if p_le < p_ge else "above"
        verdict = (
            f"not explained: the report is {side} what the setup produces (p < {1 - confidence:g}){note}"
        )
    return ObservedCheck(key, observed, n, float(sim.mean()), low, high, percentile, p_value, verdict)


def compare_observed(
    reps: Replications, observed: Iterable[tuple[str, float]], confidence: float = 0.95
) -> list[ObservedCheck]:
    """One :class:`ObservedCheck` per observed number, against the replications' values of its key.

    ``observed`` holds ``(key, value)`` pairs; a key is a string such as ``"ga4.sessions"`` or
    anything whose ``str()`` is one -- the :class:`~simulator.scenario.assertions.MetricRef` keys of a
    scenario's ``observed`` table, so ``compare_observed(replicate(sc, n), sc.observed)`` works.

    Raises
    ------
    TypeError
        If ``reps`` is not :class:`Replications` or a value is not a number.
    ValueError
        If a key is not one the replications recorded (with a "did you mean").
    """
    if not isinstance(reps, Replications):
        raise TypeError(f"compare_observed() needs Replications (from replicate), got {type(reps).__name__}")
    out = []
    for ref, value in observed:
        key = str(ref)
        if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
            raise TypeError(
                f"observed value of {key!r} must be a number, got {type(value).__name__} {value!r:.40}"
            )
        if key not in reps.values:
            hint = did_you_mean(key, tuple(reps.values))
            raise ValueError(
                f"no simulated values for {key!r}: keys look like 'ads.clicks', 'ga4.sessions', "
                "'ga4.bridge.<term>'" + (f"; {hint}" if hint else "")
            )
        out.append(check_observed(reps.values[key], float(value), key, confidence))
    return out

"""``sessionlab calibrate``: estimate unknown scenario parameters from the numbers of real reports.

The scenario's ``[observed]`` numbers (``ads.clicks = 10412``, ``ga4.sessions = 7380``) are matched by
changing the parameters named with ``--fit`` (paths like ``tracking.consent`` or
``behavior.patience.median``; see :mod:`simulator.scenario.params`).

**Fit.** Each candidate runs the scenario with the same R seeds (*common random numbers*: seeds spawned
from the scenario seed as for ``--replications``), so two candidates differ by the parameter, not by the
noise. The loss is the squared relative error of the replication means,
``sum_i ((mean_i - observed_i) / observed_i) ** 2`` (a ratio without a value counts as 100 % off).
One parameter: bounded Brent (``scipy.optimize.minimize_scalar``); several: Nelder-Mead with bounds
(``scipy.optimize.minimize``), in a unit cube per parameter (linear between the schema's bounds, or
logarithmic over ``[start / 10, start * 10]`` when the schema has no upper bound).

**Uncertainty: a parametric bootstrap, linearised.** A real report is one draw of a noisy world, and
the fitted means carry Monte-Carlo error from R runs. Bootstrap draw ``b``:

1. pseudo-observations: the numbers of one *fresh* run at the fitted values (seed ``R + b`` of the
   spawned sequence, never one of the fitting seeds): another report the fitted world could have given;
2. the fitting seeds resampled with replacement: the Monte-Carlo error of the means;
3. the refit, solved on the linearisation of the means around the fitted point
   (a Jacobian by central differences with the same seeds, ``scipy.optimize.lsq_linear`` within bounds).

The interval is the percentile interval of the B refits at ``--confidence``. Linearising keeps B
bootstraps at B + 2k extra runs instead of B full fits; it assumes the means are close to linear
over the interval (true for shares and rates; less so near a bound, where the interval is clipped).

**Plausibility.** Each fitted value, and the share of ad clicks it implies for its mechanism (e.g. the
share leaving before the tag), is compared with the typical ranges documented in docs/domain.md
(:data:`TYPICAL`); where docs/domain.md gives no figure the output says so.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize

from simulator.analysis.result import run
from simulator.errors import ScenarioError
from simulator.scenario.loader import Scenario, load_scenario, scenario_from_dict
from simulator.scenario.params import Param, resolve_params
from simulator.testing.stats import ObservedCheck, check_observed, flatten, replication_seeds

__all__ = ["TYPICAL", "Calibration", "Fitted", "Implied", "Typical", "calibrate"]

_STEP = 0.02  # Jacobian step, in unit-cube coordinates
_XATOL = 1e-3  # optimiser tolerance, in unit-cube coordinates
_PENALTY = 1e6  # loss of a candidate the loader rejects (e.g. campaign shares above 1)
_FLAT = 1e-6  # a parameter whose whole range moves the observed numbers less than this is not identified
_BOOTSTRAP_STREAM = 0xCA11B  # the resampling stream: SeedSequence([seed, this])


@dataclass(frozen=True, slots=True)
class Typical:
    """A documented typical range (None: no documented figure) and what to check when outside it."""

    low: float | None
    high: float | None
    source: str
    advice: str


_NO_RANGE = "no documented range in docs/domain.md"

#: Parameter paths (campaign fields as ``campaign[*].<field>``) and implied shares (``share.<cause>``)
#: -> the documented typical range, from docs/domain.md (section numbers are its own).
TYPICAL: dict[str, Typical] = {
    "tracking.consent": Typical(
        0.40,
        0.75,
        "consent rates of 40-75 % are claimed for EU sites [S] "
        "cookiebeam.com/guides/consent-mode-ga4-reporting (docs/domain.md 3.13)",
        "check the consent banner and the consent mode",
    ),
    "tracking.blockers": Typical(
        None,
        None,
        _NO_RANGE + " (ad blockers stop the hit entirely [S], 3.13)",
        "compare server logs with hits",
    ),
    "tracking.not_reached": Typical(
        None, None, _NO_RANGE + " (a click counts even if the site is not reached [P], 3.5)", "check uptime"
    ),
    "tracking.tag_missing": Typical(
        None, None, _NO_RANGE + " (3.8)", "check that every landing page carries a working tag"
    ),
    "tracking.redirect_drop": Typical(
        None,
        None,
        _NO_RANGE + " (3.9)",
        "check that redirects keep the gclid (support.google.com/analytics/answer/2938246)",
    ),
    "campaign[*].invalid_rate": Typical(
        None,
        None,
        _NO_RANGE + " (Google's legacy '< 0.02 % of clicks' is about clicks detected after the fact [P], 3)",
        "compare with the platform's invalid-click columns",
    ),
    "share.left_before_tag": Typical(
        None,
        None,
        _NO_RANGE + " (short clicks [P], 3.6; '47 % of consumers expect a page to load in two seconds or "
        "less' [P, quoted by Google])",
        "check tag placement: Google recommends the tag just before </head> "
        "(support.google.com/analytics/answer/4589209)",
    ),
}

#: Parameter path -> the bridge term (clicks -> sessions) its mechanism moves, shown as a share of clicks.
_MECHANISMS: dict[str, tuple[str, str]] = {
    "behavior.patience": ("left_before_tag", "of ad clicks leaving before the tag fires"),
    "tracking.page_load": ("left_before_tag", "of ad clicks leaving before the tag fires"),
    "tracking.tag_load": ("left_before_tag", "of ad clicks leaving before the tag fires"),
    "tracking.blockers": ("blocked", "of ad clicks stopped by a blocker"),
    "tracking.consent": ("no_consent", "of ad clicks lost to denied consent (basic consent mode)"),
    "tracking.not_reached": ("not_reached", "of ad clicks never reaching the site"),
    "tracking.tag_missing": ("tag_missing", "of ad clicks landing on a page without the tag"),
    "tracking.redirect_drop": ("campaign_dropped", "of ad clicks whose redirect drops the click id"),
}

_PHRASES = {
    "tracking.consent": "an analytics consent rate of",
    "tracking.blockers": "a blocker share of",
    "behavior.patience.median": "a median visitor patience of",
    "tracking.page_load.median": "a median page-load time of",
    "tracking.tag_load.median": "a median tag-load time of",
}


def _typical_key(path: str) -> str:
    if path.startswith("campaign["):
        return "campaign[*]." + path.split("].", 1)[1]
    return path


def _mechanism(path: str) -> tuple[str, str] | None:
    for prefix, mech in _MECHANISMS.items():
        if path == prefix or path.startswith(prefix + "."):
            return mech
    return None


@dataclass(frozen=True, slots=True)
class Fitted:
    """One fitted parameter: start, point estimate, bootstrap interval, plausibility."""

    param: Param
    value: float
    low: float
    high: float
    identified: bool
    typical: Typical | None

    @property
    def verdict(self) -> str:
        """``within``, ``below`` or ``above`` the typical range, or ``no documented range``."""
        return _verdict(self.value, self.typical)

    def sentence(self) -> str:
        p = self.param
        what = _PHRASES.get(p.path, f"{p.path} =")
        if not self.identified:
            return f"{p.path}: not identified: no observed number moves with it; observe a number it changes"
        text = f"explaining your numbers needs {what} {_range(p.format, self.value, self.low, self.high)}"
        return text + _plausibility(self.typical, p.format)

    def to_dict(self) -> dict[str, Any]:
        p = self.param
        return {
            "path": p.path,
            "kind": p.kind,
            "start": _r(p.start),
            "value": _r(self.value),
            "low": _r(self.low),
            "high": _r(self.high),
            "identified": self.identified,
            "typical": _typical_dict(self.typical),
            "plausibility": self.verdict,
            "sentence": self.sentence(),
        }


@dataclass(frozen=True, slots=True)
class Implied:
    """A mechanism's share of ad clicks at the fitted values (e.g. those leaving before the tag)."""

    cause: str
    meaning: str
    value: float
    low: float
    high: float
    typical: Typical | None

    def sentence(self) -> str:
        pct = _pct
        return (
            f"explaining your numbers needs {_range(pct, self.value, self.low, self.high)} {self.meaning}"
            + _plausibility(self.typical, pct)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "cause": self.cause,
            "meaning": self.meaning,
            "value": _r(self.value),
            "low": _r(self.low),
            "high": _r(self.high),
            "typical": _typical_dict(self.typical),
            "plausibility": _verdict(self.value, self.typical),
            "sentence": self.sentence(),
        }


def _pct(v: float | None) -> str:
    return "-" if v is None or math.isnan(v) else f"{100 * v:.3g} %"


def _range(fmt: Any, value: float, low: float, high: float) -> str:
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def _verdict(value: float, typical: Typical | None) -> str:
    if typical is None or typical.low is None or typical.high is None:
        return "no documented range"
    return "below" if value < typical.low else "above" if value > typical.high else "within"


def _plausibility(typical: Typical | None, fmt: Any) -> str:
    if typical is None:
        return f"; typical: {_NO_RANGE}"
    if typical.low is None or typical.high is None:
        return f"; typical: {typical.source}; {typical.advice}"
    return f"; typical: {fmt(typical.low)} to {fmt(typical.high)} ({typical.source}); {typical.advice}"


def _typical_dict(t: Typical | None) -> dict[str, Any] | None:
    return None if t is None else {"low": t.low, "high": t.high, "source": t.source, "advice": t.advice}


def _r(v: float | None) -> float | None:
    return None if v is None or math.isnan(v) else round(float(v), 9)


@dataclass(frozen=True, slots=True)
class Calibration:
    """What ``sessionlab calibrate`` found."""

    scenario: str
    replications: int
    bootstrap: int
    confidence: float
    method: str
    evaluations: int
    runs: int
    converged: bool
    message: str
    fitted: tuple[Fitted, ...]
    implied: tuple[Implied, ...]
    checks: tuple[ObservedCheck, ...]  # observed vs simulated at the fitted values
    loss: float

    @property
    def explained(self) -> bool:
        return all(c.verdict.startswith("consistent") for c in self.checks)

    @property
    def ok(self) -> bool:
        """Converged, every parameter identified, every observed number explained."""
        return self.converged and self.explained and all(f.identified for f in self.fitted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "replications": self.replications,
            "bootstrap": self.bootstrap,
            "confidence": self.confidence,
            "method": self.method,
            "evaluations": self.evaluations,
            "runs": self.runs,
            "converged": self.converged,
            "message": self.message,
            "loss": _r(self.loss),
            "parameters": [f.to_dict() for f in self.fitted],
            "implied": [i.to_dict() for i in self.implied],
            "observed": [c.to_dict() for c in self.checks],
            "explained": self.explained,
            "ok": self.ok,
        }


class _Model:
    """Runs the scenario at unit-cube points with fixed seeds; caches every (point, seed) run."""

    def __init__(
        self,
        doc: dict[str, Any],
        file: str,
        params: list[Param],
        definition: str,
        slices: Any = None,
        *,
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.doc, self.file, self.params, self.definition = doc, file, params, definition
        self.on_progress = on_progress  # called with 1 after every simulation run
        self.slices = slices  # result -> {slice key: value} for per-day / per-campaign report numbers
        self.keys: list[str] | None = None
        self.cache: dict[tuple[tuple[float, ...], int], np.ndarray] = {}

    def scenario(self, u: np.ndarray) -> Scenario:
        doc = copy.deepcopy(self.doc)
        for param, x in zip(self.params, u, strict=True):
            param.write(doc, param.value(x))
        return scenario_from_dict(doc, self.file)

    def _observe(self, scenario: Scenario, seed: int) -> np.ndarray:
        result = run(scenario, seed=seed)
        if self.on_progress is not None:
            self.on_progress(1)
        flat = flatten(result)
        if self.slices is not None:
            flat.update(self.slices(result))
        clicks = flat.get("ads.clicks") or 0
        for cause, _ in _MECHANISMS.values():
            term = flat.get(f"{self.definition}.bridge.{cause}") or 0
            flat[f"share.{cause}"] = -term / clicks if clicks else None
        if self.keys is None:
            self.keys = list(flat)
        return np.array([math.nan if flat.get(k) is None else flat[k] for k in self.keys], dtype=np.float64)

    def values(self, u: np.ndarray, seeds: tuple[int, ...]) -> np.ndarray:
        """Per-seed values, shape (len(seeds), len(keys)); raises ScenarioError if the loader rejects u."""
        point = tuple(round(float(x), 12) for x in np.clip(u, 0.0, 1.0))
        missing = [s for s in dict.fromkeys(seeds) if (point, s) not in self.cache]
        if missing:
            scenario = self.scenario(np.array(point))
            for s in missing:
                self.cache[point, s] = self._observe(scenario, s)
        return np.stack([self.cache[point, s] for s in seeds])

    def column(self, key: str) -> int:
        assert self.keys is not None
        return self.keys.index(key)


def _loss(means: np.ndarray, observed: np.ndarray) -> float:
    scale = np.where(observed != 0, np.abs(observed), 1.0)
    rel = (means - observed) / scale
    return float(np.sum(np.where(np.isnan(rel), 1.0, rel**2)))


def _fit(objective: Any, start: np.ndarray, max_evals: int) -> tuple[np.ndarray, bool, str, str]:
    if len(start) == 1:
        res = optimize.minimize_scalar(
            lambda x: objective(np.array([x])),
            bounds=(0.0, 1.0),
            method="bounded",
            options={"xatol": _XATOL, "maxiter": max_evals},
        )
        return np.array([res.x]), bool(res.success), str(res.message), "minimize_scalar (bounded Brent)"
    simplex = [start]
    for j in range(len(start)):
        vertex = start.copy()
        vertex[j] += 0.15 if start[j] <= 0.5 else -0.15  # noqa: PLR2004 - step towards the middle
        simplex.append(vertex)
    res = optimize.minimize(
        objective,
        start,
        method="Nelder-Mead",
        bounds=[(0.0, 1.0)] * len(start),
        options={"maxfev": max_evals, "xatol": _XATOL, "fatol": 1e-8, "initial_simplex": np.array(simplex)},
    )
    return np.clip(res.x, 0, 1), bool(res.success), str(res.message), "minimize (Nelder-Mead, bounded)"


def _jacobian(model: _Model, u: np.ndarray, seeds: tuple[int, ...]) -> np.ndarray:
    """d mean / d u at ``u`` by central differences with the fitting seeds; shape (keys, params).

    One-sided at a bound, or where the loader rejects a side (e.g. campaign shares above 1).
    """
    center = np.nanmean(model.values(u, seeds), axis=0)
    cols = []
    for j in range(len(u)):
        ends = []
        for step in (_STEP, -_STEP):
            point = u.copy()
            point[j] = min(max(u[j] + step, 0.0), 1.0)
            try:
                ends.append((point[j], np.nanmean(model.values(point, seeds), axis=0)))
            except ScenarioError:
                ends.append((u[j], center))
        (hi_u, hi_mean), (lo_u, lo_mean) = ends
        cols.append((hi_mean - lo_mean) / (hi_u - lo_u) if hi_u > lo_u else np.zeros_like(center))
    return np.nan_to_num(np.stack(cols, axis=1))


def calibrate(
    file: str | Path,
    fit: list[str],
    *,
    replications: int = 8,
    max_evals: int = 40,
    bootstrap: int = 20,
    confidence: float = 0.95,
    seed: int | None = None,
    reports: Sequence[Any] = (),
    mapping: Mapping[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Calibration:
    """Fit the parameters ``fit`` of the scenario ``file`` to its ``[observed]`` numbers.

    Report files (``[observed] files`` and ``reports``, read by
    :func:`simulator.scenario.observed.read_report`) add their per-day and per-campaign numbers to the
    fit, aligned as :mod:`simulator.testing.observed` aligns them (keys ``ga4.sessions@2024-05-09@``).

    Parameters
    ----------
    file
        A scenario with a ``[population]`` and an ``[observed]`` table.
    fit
        Parameter paths (``tracking.consent``, ``behavior.patience.median``, ``campaign[name].ctr``).
    replications
        Seeds per candidate (the same for every candidate).
    max_evals
        Most candidates the optimiser evaluates.
    bootstrap
        Bootstrap draws for the intervals.
    confidence
        Level of the intervals and of the final observed-vs-simulated check.
    seed
        Overrides the scenario's seed (the root of all spawned seeds).
    on_progress
        Called with 1 after every simulation run (candidates x seeds, the Jacobian's and the bootstrap's
        runs; how many depends on the optimiser), for a progress bar.

    Raises
    ------
    ScenarioError
        Bad file, no ``[observed]`` table, or a path that names no fittable parameter.
    """
    name = str(file)
    scenario = load_scenario(name)
    from simulator.scenario.observed import read_report  # noqa: PLC0415
    from simulator.testing.observed import series_targets  # noqa: PLC0415

    reports = [*(read_report(p, f) for p, f in scenario.observed_files), *reports]
    series, slices = series_targets(
        scenario, reports, dict(scenario.observed_campaigns) | dict(mapping or {})
    )
    if not scenario.observed and not series:
        raise ScenarioError(
            name, "observed", "nothing to calibrate against: add an [observed] table or report files"
        )
    doc = tomllib.loads(Path(name).read_text(encoding="utf-8"))
    params = resolve_params(fit, doc, name)
    model = _Model(
        doc, name, params, scenario.definitions[0], slices if series else None, on_progress=on_progress
    )
    root = scenario.seed if seed is None else seed
    all_seeds = replication_seeds(root, replications + bootstrap)
    seeds, fresh = all_seeds[:replications], all_seeds[replications:]
    model.values(np.array([p.unit(p.start) for p in params]), seeds[:1])  # learn the keys
    obs_keys = [str(ref) for ref, _ in scenario.observed] + list(series)
    for key in obs_keys:
        if key not in (model.keys or []):
            raise ScenarioError(name, f"observed.{key}", "not a number the simulation produces")
    obs_cols = [model.column(k) for k in obs_keys]
    observed = np.array([v for _, v in scenario.observed] + list(series.values()), dtype=np.float64)

    calls = 0

    def objective(u: np.ndarray) -> float:
        nonlocal calls
        calls += 1
        try:
            means = np.nanmean(model.values(u, seeds)[:, obs_cols], axis=0)
        except ScenarioError:
            return _PENALTY
        return _loss(means, observed)

    start = np.array([p.unit(p.start) for p in params])
    u_hat, converged, message, method = _fit(objective, start, max_evals)
    evaluations = calls
    at_hat = model.values(u_hat, seeds)
    jac = _jacobian(model, u_hat, seeds)
    fresh_vals = model.values(u_hat, fresh) if bootstrap else np.empty((0, len(model.keys or [])))
    deltas = _bootstrap(
        at_hat=at_hat, fresh=fresh_vals, jac=jac, obs_cols=obs_cols, u_hat=u_hat, observed=observed, root=root
    )
    fitted = _fitted(
        params=params,
        u_hat=u_hat,
        deltas=deltas,
        design=jac[obs_cols],
        observed=observed,
        confidence=confidence,
    )
    implied = _implied(
        params=params, model=model, at_hat=at_hat, jac=jac, deltas=deltas, confidence=confidence
    )
    pooled = np.concatenate([at_hat, fresh_vals])
    checks = tuple(
        check_observed(pooled[:, col], obs, key, confidence)
        for key, col, obs in zip(obs_keys, obs_cols, observed, strict=True)
    )
    return Calibration(
        scenario=scenario.name,
        replications=replications,
        bootstrap=bootstrap,
        confidence=confidence,
        method=method,
        evaluations=evaluations,
        runs=len(model.cache),
        converged=converged,
        message=message,
        fitted=fitted,
        implied=implied,
        checks=checks,
        loss=_loss(np.nanmean(at_hat[:, obs_cols], axis=0), observed),
    )


def _bootstrap(
    *,
    at_hat: np.ndarray,
    fresh: np.ndarray,
    jac: np.ndarray,
    obs_cols: list[int],
    u_hat: np.ndarray,
    observed: np.ndarray,
    root: int,
) -> np.ndarray:
    """Unit-cube displacements of the B linearised refits, shape (B, k)."""
    rng = np.random.default_rng(np.random.SeedSequence([root, _BOOTSTRAP_STREAM]))
    scale = np.where(observed != 0, np.abs(observed), 1.0)
    design = jac[obs_cols] / scale[:, None]
    r = len(at_hat)
    out = []
    for pseudo in fresh:
        means = np.nanmean(at_hat[rng.integers(0, r, r)][:, obs_cols], axis=0)
        target = np.nan_to_num((pseudo[obs_cols] - means) / scale)
        res = optimize.lsq_linear(design, target, bounds=(-u_hat - 1e-12, 1 - u_hat + 1e-12))
        out.append(res.x)
    return np.array(out).reshape(len(fresh), len(u_hat))


def _interval(samples: np.ndarray, confidence: float, fallback: float) -> tuple[float, float]:
    if len(samples) == 0:
        return fallback, fallback
    tail = (1 - confidence) / 2
    low, high = np.quantile(samples, [tail, 1 - tail])
    return float(low), float(high)


def _fitted(
    *,
    params: list[Param],
    u_hat: np.ndarray,
    deltas: np.ndarray,
    design: np.ndarray,
    observed: np.ndarray,
    confidence: float,
) -> tuple[Fitted, ...]:
    scale = np.where(observed != 0, np.abs(observed), 1.0)
    out = []
    for j, p in enumerate(params):
        draws = np.array([p.value(u_hat[j] + d) for d in deltas[:, j]])
        low, high = _interval(draws, confidence, p.value(u_hat[j]))
        identified = bool(np.linalg.norm(design[:, j] / scale) >= _FLAT)
        typical = TYPICAL.get(_typical_key(p.path))
        out.append(Fitted(p, p.value(u_hat[j]), low, high, identified, typical))
    return tuple(out)


def _implied(
    *,
    params: list[Param],
    model: _Model,
    at_hat: np.ndarray,
    jac: np.ndarray,
    deltas: np.ndarray,
    confidence: float,
) -> tuple[Implied, ...]:
    out: list[Implied] = []
    seen: set[str] = set()
    for p in params:
        mech = _mechanism(p.path)
        if mech is None or mech[0] in seen:
            continue
        cause, meaning = mech
        seen.add(cause)
        col = model.column(f"share.{cause}")
        value = float(np.nanmean(at_hat[:, col]))
        draws = value + deltas @ jac[col]
        low, high = _interval(draws, confidence, value)
        out.append(Implied(cause, meaning, value, max(low, 0.0), high, TYPICAL.get(f"share.{cause}")))
    return tuple(out)

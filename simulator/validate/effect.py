"""The effect of each finding, measured: the scenario simulated as configured and as fixed.

"As configured" is the scenario (the user's, or :data:`DEFAULT_SHOP`) with every simulated finding's
configuration applied; "as fixed" for one finding is the same with only that finding fixed. Both run
on the same replication seeds (common random numbers: the same people, clicks and draws wherever the
change does not touch them), and the per-replication differences give a mean and a t interval
(:func:`simulator.testing.stats.summarize`).

Findings whose mechanism the engine lacks are listed without an effect (``Finding.note`` says why).
Duplicate tags and single-page-app page views are simulated by the engine's tagging mechanisms
(:mod:`simulator.engine.tagging`), like every other simulated finding.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.analysis.result import Result, run
from simulator.errors import ScenarioError
from simulator.scenario.loader import scenario_from_dict
from simulator.scenario.vocabulary import VOCABULARY
from simulator.schema import parse_duration
from simulator.testing.stats import Summary, replication_seeds, summarize
from simulator.validate.findings import Finding

__all__ = [
    "DEFAULT_SHOP",
    "METRICS",
    "Effect",
    "apply",
    "as_configured",
    "default_shop",
    "measure",
    "to_toml",
]

#: The documented default shop used without --scenario: one week, Google Ads search, GA4, every cause
#: of the gap at a typical rate (the figures of scenarios/google_ads_vs_ga4.toml, without expectations).
DEFAULT_SHOP = """
[scenario]
name = "default_shop"
description = "sessionlab validate's default shop: Google Ads search traffic to a GA4-measured shop."
seed = 20240506
start = 2024-05-06
timezone = "Europe/Berlin"
ad_timezone = "Europe/Berlin"

[population]
visitors = 4000
days = 7
timezone = "Europe/Berlin"
unpaid = { organic = 0.6, direct = 0.25, referral = 0.1, email = 0.05 }

[[campaign]]
name = "brand-search"
share = 0.25
ctr = 0.12
cpc = { dist = "lognormal", median = 0.35, sigma = 0.3 }

[[campaign]]
name = "generic-search"
share = 0.40
ctr = 0.035
cpc = { dist = "lognormal", median = 1.10, sigma = 0.4 }

[behavior]
pages = { dist = "geometric", mean = 3.5 }
patience = { dist = "lognormal", median = "25s", sigma = 1.6 }

[tracking]
blockers = 0.12
consent = 0.85
consent_mode = "basic"

[sessions]
definitions = ["ga4", "ga4_source_split"]  # Google's GA4 rule, and the disputed reading (docs/engine.md)
"""

#: What each effect reports: ad clicks, and sessions, views and users of the first definition;
#: ``day_mismatch`` = sum over days of |clicks that day (ad account) - sessions that day (property)|.
#: Effects also carry ``bridge.<term>`` for every clicks -> sessions term that is not zero in either run,
#: and ``views.<term>`` for the views -> sessions terms of :data:`VIEW_TERMS` likewise.
METRICS = ("clicks", "sessions", "views", "users", "day_mismatch", "engaged_sessions")
_DEFAULT_TAG_MEDIAN_MS = 400
#: Views -> sessions terms that effects also carry (as ``views.<term>``): what the tagging mechanisms
#: add to or take from the page views.
VIEW_TERMS = ("route_change", "manual_page_view", "duplicate_tag")


def _numbers(result: Result) -> dict[str, float]:
    block, *others = result.definitions.values()
    mismatch = sum(abs(d.bridge.end - d.bridge.start) for d in block.days)
    terms = {f"bridge.{c}": float(block.bridge.term(c)) for c in VOCABULARY}
    # the further definitions (e.g. ga4_source_split beside ga4): sessions and terms as metric@definition
    for other in others:
        terms[f"sessions@{other.name}"] = float(other.counts.sessions)
        terms.update({f"bridge.{c}@{other.name}": float(other.bridge.term(c)) for c in VOCABULARY})
    terms.update({f"views.{c}": float(block.views_bridge.term(c)) for c in VIEW_TERMS})
    return {
        **terms,
        "clicks": float(result.ads.clicks),
        "sessions": float(block.counts.sessions),
        "views": float(block.counts.views),
        "users": float(block.counts.users),
        "day_mismatch": float(mismatch),
        "engaged_sessions": float(block.counts.engaged_sessions),
    }


def _get(doc: dict[str, Any], dotted: str) -> Any:
    section, key = dotted.split(".", 1)
    return doc.get(section, {}).get(key)


def _set(doc: dict[str, Any], dotted: str, value: Any, base: dict[str, Any], path: str) -> None:
    section, key = dotted.split(".", 1)
    table = doc.setdefault(section, {})
    if isinstance(value, tuple) and value[0] == "first":  # the first definition; the others stay
        rest = list(table.get(key) or ["ga4"])[1:]
        table[key] = [copy.deepcopy(value[1]), *rest]
    elif isinstance(value, tuple) and value[0] == "default":  # the scenario's own value, if it has one
        old = _get(base, dotted)
        table[key] = copy.deepcopy(value[1] if old is None else old)
    elif isinstance(value, tuple) and value[0] == "keep":
        old = _get(base, dotted)
        if old is None:
            table.pop(key, None)
        else:
            table[key] = copy.deepcopy(old)
    elif isinstance(value, tuple) and value[0] == "default":  # the scenario's own value, else this
        old = _get(base, dotted)
        table[key] = copy.deepcopy(value[1] if old is None else old)
    elif isinstance(value, tuple) and value[0] == "+":  # tag_load shifted by a trigger's delay
        old = _get(base, dotted)
        median, sigma = _DEFAULT_TAG_MEDIAN_MS, 0.6
        if isinstance(old, dict) and old.get("dist") == "lognormal" and isinstance(old.get("median"), str):
            median, sigma = parse_duration(old["median"]), float(old.get("sigma", 0.6))
        elif old is not None:
            raise ScenarioError(
                path,
                dotted,
                "the GA4 tag's trigger delay can only shift a lognormal with a median",
                'write e.g. tag_load = { dist = "lognormal", median = "400ms", sigma = 0.6 }',
            )
        table[key] = {"dist": "lognormal", "median": f"{median + value[1]}ms", "sigma": sigma}
    else:
        table[key] = copy.deepcopy(value)


def apply(
    base: dict[str, Any],
    patches: Sequence[dict[str, Any]],
    ref: dict[str, Any] | None = None,
    path: str = "<scenario>",
) -> dict[str, Any]:
    """``base`` (a parsed scenario) with the patches applied in order; ``base`` is not modified.

    ``("keep",)`` restores and ``("+", ms)`` shifts the value of ``ref`` (default ``base``): the user's
    scenario, so "as fixed" means the scenario's own value, not the configured one; ``("default", v)``
    is ``ref``'s value where it has one, else ``v``."""
    ref = base if ref is None else ref
    doc = copy.deepcopy(base)
    if "population" in doc:  # demand keeps its time zone whatever the property's
        doc["population"].setdefault("timezone", base.get("scenario", {}).get("timezone", "UTC"))
    for patch in patches:
        for dotted, value in patch.items():
            _set(doc, dotted, value, ref, path)
    doc.pop("expect", None)  # expectations are about the user's scenario, not these variants
    doc.pop("observed", None)
    return doc


def as_configured(
    base: dict[str, Any], findings: Sequence[Finding], path: str = "<scenario>"
) -> dict[str, Any]:
    """The scenario of the configuration as found (every simulated finding's configuration)."""
    return apply(base, [f.configured for f in findings if f.configured is not None], path=path)


@dataclass(frozen=True, slots=True)
class Effect:
    """Fixed minus configured, per metric, over replications."""

    finding: Finding
    configured: dict[str, Summary]
    delta: dict[str, Summary]
    how: str  # "simulated" or "derived"
    together: tuple[str, ...] = ()  # other rules fixed in the same "as fixed" run

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.finding.rule,
            "how": self.how,
            "fixed_together_with": list(self.together),
            "configured": {k: v.to_dict() for k, v in self.configured.items()},
            "delta": {k: v.to_dict() for k, v in self.delta.items()},
        }


def _together(f: Finding, sim: Sequence[Finding]) -> list[Finding]:
    """The findings fixed with ``f``: those that configure the same scenario keys (two causes of one
    dropped click id are fixed together, or fixing either alone shows no effect)."""
    keys = set(f.configured or {})
    return [g for g in sim if keys & set(g.configured or {})]


def measure(
    base: dict[str, Any],
    findings: Sequence[Finding],
    *,
    replications: int = 10,
    visitors: int | None = None,
    confidence: float = 0.95,
    path: str = "<scenario>",
    progress: Callable[[int, int], None] | None = None,
) -> list[Effect]:
    """Simulate as configured and as fixed per finding on common seeds; one :class:`Effect` per finding
    that has a simulated effect, in the findings' order."""
    configured_doc = as_configured(base, findings, path)
    configured = scenario_from_dict(configured_doc, path)
    sim = [f for f in findings if f.configured is not None]
    fixed = {
        f.rule + str(i): scenario_from_dict(
            apply(configured_doc, [g.fixed or {} for g in _together(f, sim)], base), path
        )
        for i, f in enumerate(findings)
        if f.configured is not None
    }
    seeds = replication_seeds(configured.seed, replications)
    base_rows: list[dict[str, float]] = []
    fixed_rows: dict[str, list[dict[str, float]]] = {k: [] for k in fixed}
    total, done = len(seeds) * (1 + len(sim)), 0
    for seed in seeds:
        base_rows.append(_numbers(run(configured, seed, visitors=visitors)))
        done += 1
        if progress:
            progress(done, total)
        for key, sc in fixed.items():
            fixed_rows[key].append(_numbers(run(sc, seed, visitors=visitors)))
            done += 1
            if progress:
                progress(done, total)

    def col(rows: list[dict[str, float]], m: str) -> np.ndarray:
        return np.array([r[m] for r in rows], dtype=float)

    keys = [m for m in base_rows[0] if m in METRICS or any(r[m] for r in base_rows)]
    conf = {m: summarize(col(base_rows, m), confidence) for m in keys}
    out = []
    for i, f in enumerate(findings):
        key = f.rule + str(i)
        if key in fixed:
            moved = [
                m for m in base_rows[0] if m in METRICS or any(r[m] for r in base_rows + fixed_rows[key])
            ]
            delta = {m: summarize(col(fixed_rows[key], m) - col(base_rows, m), confidence) for m in moved}
            others = tuple(g.rule for g in _together(f, sim) if g is not f)
            out.append(Effect(f, conf, delta, "simulated", others))
    return out


#: The public API name (``simulator.measure_effects``).
measure_effects = measure


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (dt.date, dt.datetime, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def to_toml(doc: dict[str, Any], header: str = "") -> str:
    """A scenario document as TOML: top-level tables, arrays of tables, inline tables inside them.
    Round-trips through :func:`tomllib.loads` (tested)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for name, value in doc.items():
        if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                lines += ["", f"[[{_key(name)}]]"] + [
                    f"{_key(k)} = {_toml_value(x)}" for k, x in item.items()
                ]
        elif isinstance(value, dict):
            lines += ["", f"[{_key(name)}]"] + [f"{_key(k)} = {_toml_value(x)}" for k, x in value.items()]
        else:
            lines.insert(len(header.splitlines()), f"{_key(name)} = {_toml_value(value)}")
    text = "\n".join(lines).lstrip("\n") + "\n"
    tomllib.loads(text)  # never write what we could not read back
    return text


def default_shop() -> dict[str, Any]:
    """:data:`DEFAULT_SHOP`, parsed."""
    return tomllib.loads(DEFAULT_SHOP)

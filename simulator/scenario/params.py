"""Parameters ``sessionlab calibrate`` can fit: dotted paths into a scenario document, checked by the schema.

A path names one number of the stochastic sections::

    tracking.consent                 a plain field of [population], [behavior] or [tracking]
    behavior.patience.median         a parameter of a distribution (its family as the file sets it)
    population.devices.mobile        one weight of a mix table
    campaign[brand-search].ctr       a field of the [[campaign]] with that name (or campaign[2], from 1)

A :class:`Param` writes a value into a copy of the raw TOML dictionary; the scenario is then rebuilt by
the loader (:func:`~simulator.scenario.loader.scenario_from_dict`), so every bound of the schema applies.
The optimiser works in a unit interval per parameter: linear between the schema's bounds when they are
``[0, hi]``, logarithmic over ``[start / 10, start * 10]`` (clipped to the bounds) when the schema has no
upper bound or a lower bound above zero (a CTR, a page count, a duration).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from simulator.errors import ScenarioError
from simulator.scenario.distributions import FAMILIES, Dist, DistCheck
from simulator.scenario.sections import BEHAVIOR, CAMPAIGN, POPULATION, TRACKING, Mix
from simulator.schema import MISSING, Duration, Int, Num, Table, did_you_mean

__all__ = ["Param", "fittable_paths", "resolve_params"]

_SECTIONS: dict[str, Table] = {
    "population": POPULATION,
    "behavior": BEHAVIOR,
    "tracking": TRACKING,
    "campaign": CAMPAIGN,
}
_PATH_RE = re.compile(r"(?P<section>[a-z_]+)(?:\[(?P<item>[^\]]+)\])?\.(?P<rest>[A-Za-z_.]+)")
#: Names people reach for that are not parameters of the model, and what to fit instead.
_NOT_PARAMETERS = {
    "leave_before_tag": "the share of visitors leaving before the tag fires follows from behavior.patience "
    "against tracking.page_load + tracking.tag_load: fit behavior.patience.median (the share is reported)",
    "left_before_tag": "the share of visitors leaving before the tag fires follows from behavior.patience "
    "against tracking.page_load + tracking.tag_load: fit behavior.patience.median (the share is reported)",
}
_TINY, _HALF = 1e-3, 0.5  # a share: bounds [0, h] (or (0, h]) with 0.5 <= h <= 1
_LOG_SPAN = 10.0  # search range of a parameter without an upper bound: [start / 10, start * 10]


def _fmt_ms(ms: float) -> str:
    """A duration for a scenario file: whole milliseconds (the loader rounds to ms anyway)."""
    return f"{max(round(ms), 0)}ms"


@dataclass(frozen=True, slots=True)
class Param:
    """One fittable number: where it lives, its kind, its bounds and its starting value.

    ``kind`` is ``"number"``, ``"int"`` or ``"duration"`` (values in milliseconds).
    """

    path: str
    section: str
    item: int | None  # the campaign's index for campaign[...] paths
    field: str
    sub: str | None  # a distribution's parameter or a mix's key
    base: dict[str, Any] | None  # the raw table a sub-parameter is written into
    kind: str
    lo: float
    hi: float | None
    start: float

    @property
    def is_share(self) -> bool:
        """A fraction or probability (shown in %)."""
        return (
            self.kind == "number" and 0 <= self.lo < _TINY and self.hi is not None and _HALF <= self.hi <= 1
        )

    @property
    def log_scale(self) -> bool:
        """No upper bound, or a lower bound above 0 (a CTR is > 0): searched on a log scale."""
        return self.hi is None or self.lo > 0

    def search_range(self) -> tuple[float, float]:
        """The value at unit 0 and at unit 1."""
        if not self.log_scale:
            return self.lo, self.hi  # type: ignore[return-value]
        high = self.start * _LOG_SPAN
        return max(self.start / _LOG_SPAN, self.lo), high if self.hi is None else min(high, self.hi)

    def value(self, u: float) -> float:
        """The parameter value at ``u`` in [0, 1] (rounded for whole-number parameters)."""
        low, high = self.search_range()
        u = min(max(float(u), 0.0), 1.0)
        value = low * (high / low) ** u if self.log_scale else low + (high - low) * u
        return float(round(value)) if self.kind == "int" else value

    def unit(self, value: float) -> float:
        """Inverse of :meth:`value`."""
        low, high = self.search_range()
        if self.log_scale:
            return math.log(max(value, low) / low) / math.log(high / low)
        return (value - low) / (high - low) if high > low else 0.0

    def raw(self, value: float) -> Any:
        """``value`` as the scenario file writes it."""
        if self.kind == "duration":
            return _fmt_ms(value)
        return round(value) if self.kind == "int" else float(value)

    def write(self, doc: dict[str, Any], value: float) -> None:
        """Write ``value`` into the raw document ``doc`` (a deep copy the caller owns)."""
        campaign = self.section == "campaign"
        table = doc["campaign"][self.item] if campaign else doc.setdefault(self.section, {})
        if self.sub is None:
            table[self.field] = self.raw(value)
        else:
            table[self.field] = {**(self.base or {}), self.sub: self.raw(value)}

    def format(self, value: float | None) -> str:
        """A value for people: 31 %, 2.5s, 0.35."""
        if value is None or math.isnan(value):
            return "-"
        if self.is_share:
            return f"{100 * value:.3g} %"
        if self.kind == "duration":
            return _human_ms(value)
        return f"{value:.0f}" if self.kind == "int" else f"{value:.4g}"


def _human_ms(ms: float) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms >= size:
            return f"{ms / size:.3g}{unit}"
    return f"{ms:.3g}ms"


def _bounds(check: Any) -> tuple[str, float, float | None] | None:
    """(kind, lower, upper) of a numeric check; None for anything else."""
    if isinstance(check, Duration):
        return "duration", 1.0 if check.positive else 0.0, None
    if isinstance(check, Num):
        lo = -math.inf if check.lo is None else check.lo
        if check.lo_open and check.hi is not None:
            lo += 1e-6 * (check.hi - lo)
        elif check.lo_open:
            lo = lo + 1e-9
        return ("int" if isinstance(check, Int) else "number"), lo, check.hi
    return None


def _dist_table(raw: Any, default: Any, kind: str) -> dict[str, Any] | None:
    """The raw distribution table of a field (a plain value is a ``fixed`` one)."""
    if isinstance(raw, dict):
        return dict(raw)
    if raw is not None:
        return {"dist": "fixed", "value": raw}
    if isinstance(default, Dist):
        table: dict[str, Any] = {"dist": default.family}
        for name, value in default.params:
            table[name] = _fmt_ms(value) if kind == "duration" and name != "sigma" else value
        return table
    return None


def _dist_value(raw: Any, kind: str, name: str) -> float:
    if kind == "duration" and name != "sigma":
        return float(Duration()(raw, _NO_CTX))
    return float(raw)


class _NoCtx:
    """A context for re-reading values the loader already accepted."""

    def fail(self, message: str, hint: str = "") -> None:  # pragma: no cover - validated input
        raise ValueError(message)


_NO_CTX: Any = _NoCtx()


def _section_params(section: str, table: dict[str, Any], item: int | None, prefix: str) -> list[Param]:
    """Every fittable number of one section (``table`` is its raw TOML table, possibly empty)."""
    out: list[Param] = []
    for name, spec in _SECTIONS[section].fields.items():
        check, raw = spec.check, table.get(name)
        path = f"{prefix}.{name}"
        if isinstance(check, DistCheck):
            out.extend(
                _dist_params(
                    section=section,
                    item=item,
                    name=name,
                    path=path,
                    check=check,
                    raw=raw,
                    default=spec.default,
                )
            )
        elif isinstance(check, Mix):  # a table of weights
            base = dict(raw if isinstance(raw, dict) else spec.default)
            for key, sub in check.fields.items():
                kind, lo, hi = _bounds(sub.check)  # type: ignore[misc]
                start = float(base.get(key, sub.default))
                out.append(Param(f"{path}.{key}", section, item, name, key, base, kind, lo, hi, start))
        elif (bounds := _bounds(check)) is not None:
            value = raw if raw is not None else spec.default
            if value is None or value is MISSING:  # no value to start from (e.g. an unset budget)
                continue
            kind, lo, hi = bounds
            start = float(Duration()(value, _NO_CTX)) if isinstance(value, str) else float(value)
            out.append(Param(path, section, item, name, None, None, kind, lo, hi, start))
    return out


def _dist_params(
    *, section: str, item: int | None, name: str, path: str, check: DistCheck, raw: Any, default: Any
) -> list[Param]:
    base = _dist_table(raw, default, check.kind)
    if base is None or base.get("dist") not in FAMILIES:
        return []
    out = []
    for param in FAMILIES[base["dist"]][0]:
        if param not in base:
            continue
        if param == "sigma":
            kind, lo, hi = "number", 0.0, 10.0
        else:
            kind = "duration" if check.kind == "duration" else "number"
            lo, hi = max(check.minimum, 1.0 if base["dist"] == "geometric" else 0.0), None
        start = _dist_value(base[param], check.kind, param)
        out.append(Param(f"{path}.{param}", section, item, name, param, base, kind, lo, hi, start))
    return out


def fittable_paths(doc: dict[str, Any]) -> dict[str, Param]:
    """Every parameter of ``doc`` (a raw scenario document) that calibrate can fit, by path."""
    out: dict[str, Param] = {}
    if "population" not in doc:
        return out
    for section in ("population", "behavior", "tracking"):
        for p in _section_params(section, doc.get(section, {}), None, section):
            out[p.path] = p
    for i, campaign in enumerate(doc.get("campaign", [])):
        for p in _section_params("campaign", campaign, i, f"campaign[{campaign.get('name', i + 1)}]"):
            out[p.path] = p
    return out


def _near(path: str, options: dict[str, Param]) -> str:
    """The fittable paths in the same section as ``path`` (all sections' names if none match)."""
    head = path.split(".", 1)[0]
    same = [p for p in options if p.split(".", 1)[0] == head]
    if same:
        return ", ".join(same)
    return "paths under " + ", ".join(sorted({p.split(".", 1)[0] for p in options}))


def _campaign_path(path: str, doc: dict[str, Any]) -> str:
    """``campaign[2].ctr`` -> ``campaign[<name>].ctr`` (paths are keyed by campaign name)."""
    match = _PATH_RE.fullmatch(path)
    if not match or match["section"] != "campaign" or not match["item"] or not match["item"].isdigit():
        return path
    index = int(match["item"]) - 1
    campaigns = doc.get("campaign", [])
    if 0 <= index < len(campaigns):
        return f"campaign[{campaigns[index].get('name')}].{match['rest']}"
    return path


def resolve_params(paths: list[str], doc: dict[str, Any], file: str) -> list[Param]:
    """The :class:`Param` of each path, or a one-line :class:`ScenarioError` (key path ``--fit``).

    Raises
    ------
    ScenarioError
        When the scenario has no population, a path names nothing fittable, or a path repeats.
    """
    options = fittable_paths(doc)
    if not options:
        raise ScenarioError(
            file, "population", "calibrate fits a stochastic population: add a [population] table"
        )
    out: list[Param] = []
    for given in paths:
        path = _campaign_path(given.strip(), doc)
        if path not in options:
            last = path.rsplit(".", 1)[-1]
            hint = _NOT_PARAMETERS.get(last) or did_you_mean(path, list(options))
            raise ScenarioError(
                file,
                f"--fit {given}",
                f"not a fittable parameter of this scenario; fittable here: {_near(path, options)}",
                hint,
            )
        if any(p.path == path for p in out):
            raise ScenarioError(file, f"--fit {given}", "named twice; give each parameter once")
        param = options[path]
        if param.log_scale and param.start <= 0:
            raise ScenarioError(
                file,
                f"--fit {given}",
                f"starts at {param.start:g}: this parameter is searched over [start / 10, start * 10]; "
                "set a positive starting value in the file",
            )
        out.append(param)
    return out

"""Distributions for the visitor-behaviour model: parsing scenario tables and vectorised sampling.

A distribution in a scenario file is a table such as ``{ dist = "lognormal", median = "40s", sigma = 1 }``
or a plain value (``"40s"``, ``0.8``, ``3``), which means a fixed value. Three kinds exist:

- ``duration``: location parameters are duration strings; samples are milliseconds (float64);
- ``number``: plain numbers (costs, order values); samples are float64;
- ``count``: whole numbers (pages per visit, units); samples are int64.

The check :class:`DistCheck` follows the ``simulator.schema`` protocol (``check(value, ctx)`` and
``json_schema()``), so distributions validate with key paths like every other value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np

from simulator.schema import DURATION_HELP, MAX_NUMBER, Ctx, did_you_mean, parse_duration, shorten

__all__ = ["FAMILIES", "Dist", "DistCheck", "Kind"]

Kind = Literal["duration", "number", "count"]

#: Family -> (its parameters, the kinds it applies to). ``sigma`` is always a plain number.
FAMILIES: Final[dict[str, tuple[tuple[str, ...], tuple[Kind, ...]]]] = {
    "fixed": (("value",), ("duration", "number", "count")),
    "uniform": (("low", "high"), ("duration", "number", "count")),
    "exponential": (("mean",), ("duration", "number")),
    "lognormal": (("median", "sigma"), ("duration", "number")),
    "normal": (("mean", "sd"), ("duration", "number")),
    "geometric": (("mean",), ("count",)),
    "poisson": (("mean",), ("count",)),
}
#: Parameters that are plain numbers whatever the kind.
_SHAPE_PARAMS: Final = frozenset({"sigma"})


@dataclass(frozen=True, slots=True)
class Dist:
    """A validated distribution: ``family`` and its parameters (durations already in ms).

    Samples are never negative: ``normal`` is clipped at zero, ``geometric`` counts from 1.
    """

    family: str
    params: tuple[tuple[str, float], ...]
    kind: Kind = "number"

    @classmethod
    def fixed(cls, value: float, kind: Kind = "number") -> Dist:
        """A distribution that always gives ``value``."""
        return cls("fixed", (("value", float(value)),), kind)

    def param(self, name: str) -> float:
        return dict(self.params)[name]

    @property
    def mean(self) -> float:
        """The distribution's mean (after clipping rules are ignored for ``normal``)."""
        p = dict(self.params)
        if self.family == "fixed":
            return p["value"]
        if self.family == "uniform":
            return (p["low"] + p["high"]) / 2
        if self.family == "lognormal":
            return p["median"] * math.exp(p["sigma"] ** 2 / 2)
        return p["mean"]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values: float64 for durations (ms) and numbers, int64 for counts."""
        p = dict(self.params)
        family = self.family
        if family == "fixed":
            out = np.full(n, p["value"])
        elif family == "uniform":
            if self.kind == "count":
                return rng.integers(int(p["low"]), int(p["high"]), n, endpoint=True)
            out = rng.uniform(p["low"], p["high"], n)
        elif family == "exponential":
            out = rng.exponential(p["mean"], n) if p["mean"] > 0 else np.zeros(n)
        elif family == "lognormal":
            out = rng.standard_normal(n)  # median * exp(sigma * z), in place (the same numbers)
            out *= p["sigma"]
            np.exp(out, out=out)
            out *= p["median"]
        elif family == "normal":
            out = np.maximum(rng.normal(p["mean"], p["sd"], n), 0.0)
        elif family == "geometric":
            return rng.geometric(1.0 / p["mean"], n).astype(np.int64)
        else:  # poisson
            return rng.poisson(p["mean"], n).astype(np.int64)
        if self.kind == "count":
            return np.rint(out).astype(np.int64)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"dist": self.family, **dict(self.params)}


def _got(value: Any) -> str:
    shown = shorten(value)
    return (
        shown
        if isinstance(value, str) or shown.startswith("an integer")
        else f"{type(value).__name__} {shown}"
    )


class DistCheck:
    """Schema check for a distribution of a given kind; converts to :class:`Dist`.

    Parameters
    ----------
    kind
        ``"duration"``, ``"number"`` or ``"count"``.
    minimum
        Smallest allowed value of the location parameters (e.g. 1 for pages per visit).
    """

    def __init__(self, kind: Kind, *, minimum: float = 0.0) -> None:
        self.kind = kind
        self.minimum = minimum
        self.families = tuple(f for f, (_, kinds) in FAMILIES.items() if self.kind in kinds)

    def _help(self) -> str:
        example = {
            "duration": '{ dist = "lognormal", median = "40s", sigma = 1 } or "40s"',
            "number": '{ dist = "lognormal", median = 0.8, sigma = 0.3 } or 0.8',
            "count": '{ dist = "geometric", mean = 3 } or 3',
        }[self.kind]
        return f"a {self.kind} distribution like {example}"

    def _scalar(self, value: Any, ctx: Ctx, *, whole: bool = True) -> float:
        if self.kind == "duration":
            if not isinstance(value, str):
                ctx.fail(f"expected {DURATION_HELP}, got {_got(value)}", "durations are quoted strings")
            try:
                number = float(parse_duration(value))
            except ValueError as err:
                ctx.fail(str(err))
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok or (isinstance(value, float) and not math.isfinite(value)):
                ctx.fail(f"expected a number, got {_got(value)}")
            if abs(value) > MAX_NUMBER:
                ctx.fail(f"expected a number of at most {MAX_NUMBER:g} in size, got {_got(value)}")
            if self.kind == "count" and whole and value != int(value):
                ctx.fail(f"expected a whole number, got {shorten(value)}")
            number = float(value)
        if number < self.minimum:
            ctx.fail(f"expected a value >= {self.minimum:g}, got {shorten(value)}")
        return number

    def _param(self, name: str, value: Any, ctx: Ctx) -> float:
        if name in _SHAPE_PARAMS:
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:  # noqa: PLR2004
                ctx.fail(f"expected a number in [0, 10], got {_got(value)}")
            return float(value)
        if name == "sd":
            return DistCheck(self.kind)._scalar(value, ctx)
        return self._scalar(value, ctx, whole=name != "mean")  # a count's mean may be fractional

    def __call__(self, value: Any, ctx: Ctx) -> Dist:
        if not isinstance(value, dict):
            if isinstance(value, list | bool) or value is None:
                ctx.fail(f"expected {self._help()}, got {_got(value)}")
            return Dist("fixed", (("value", self._scalar(value, ctx)),), self.kind)
        if "dist" not in value:
            ctx.fail(f"missing required key 'dist' (one of {', '.join(map(repr, self.families))})")
        family = value["dist"]
        if family not in self.families:
            with ctx.at("dist"):
                shown = ", ".join(map(repr, self.families))
                hint = did_you_mean(family, self.families) if isinstance(family, str) else ""
                ctx.fail(f"expected a {self.kind} distribution (one of {shown}), got {_got(family)}", hint)
        names = FAMILIES[family][0]
        for key in value:
            if key != "dist" and key not in names:
                with ctx.at(key):
                    ctx.fail(f"unknown key; {family!r} takes: dist, {', '.join(names)}")
        params = []
        for name in names:
            if name not in value:
                ctx.fail(f"missing required key {name!r} for dist = {family!r}")
            with ctx.at(name):
                params.append((name, self._param(name, value[name], ctx)))
        dist = Dist(family, tuple(params), self.kind)
        if family == "uniform" and dist.param("low") > dist.param("high"):
            ctx.fail("expected low <= high")
        if family == "geometric" and dist.param("mean") < 1:
            with ctx.at("mean"):
                ctx.fail(f"a geometric count starts at 1, so its mean must be >= 1, got {value['mean']!r}")
        return dist

    def json_schema(self) -> dict[str, Any]:
        scalar = {"type": "string"} if self.kind == "duration" else {"type": "number"}
        table = {
            "type": "object",
            "properties": {"dist": {"type": "string", "enum": list(self.families)}},
            "required": ["dist"],
        }
        return {"anyOf": [scalar, table], "description": self._help()}

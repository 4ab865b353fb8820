"""What an expectation asserts: its form, the metric references it names, and the pass rules.

Pure functions and records with no simulation in them, shared by the scenario loader (which builds
them) and :mod:`simulator.testing.expect` (which evaluates them).

Forms (exactly one per ``[[expect]]`` table)::

    equals   = 96                      value == 96 (floats to a relative 1e-9)
    between  = [90, 100]               90 <= value <= 100
    approx   = 0.8, rel = 0.05         |value - 0.8| <= max(rel * |0.8|, abs)
    at_least = 90                      value >= 90
    at_most  = 100                     value <= 100
    compare  = "ua.sessions > ga4.sessions"   operators: > >= < <= ==

Metric references name a system and a metric: ``ads.clicks`` (the ad platform; bare ``clicks`` works
too), ``ga4.sessions``, ``ga4.bridge.inactivity``. The comparison grammar is tokenised with one
regular expression and never evaluated as code.

Replicated expectations are judged on a confidence interval ``[lo, hi]`` for the statistic (the mean
or a quantile): an expectation fails only when the interval lies entirely outside what the form
allows, i.e. when the replications are evidence against it at the chosen confidence
(:func:`interval_passes`).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "FORMS",
    "OPERATORS",
    "Comparison",
    "Form",
    "MetricRef",
    "comparison_interval_passes",
    "interval_passes",
    "parse_comparison",
    "parse_ref",
    "point_passes",
]

#: The keys that make the form of an expectation; exactly one must be present.
FORMS: Final = ("equals", "between", "approx", "at_least", "at_most", "compare")
#: Relative tolerance of ``equals`` (sums of costs and ratios carry floating-point noise).
REL_TOL: Final = 1e-9
_ABS_TOL: Final = 1e-12

OPERATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    ">": operator.gt,
    "<": operator.lt,
}
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REF_RE = re.compile(rf"{_NAME}(?:\.{_NAME})*")
_COMPARE_RE = re.compile(rf"\s*({_REF_RE.pattern})\s*(>=|<=|==|>|<)\s*({_REF_RE.pattern})\s*")


@dataclass(frozen=True, slots=True)
class MetricRef:
    """A metric of one system: ``definition`` is None for ad-platform metrics."""

    metric: str
    definition: str | None = None

    def __str__(self) -> str:
        return f"{self.definition or 'ads'}.{self.metric}"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``left op right`` between two metric references."""

    left: MetricRef
    op: str
    right: MetricRef

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"

    def holds(self, left: float, right: float) -> bool:
        return OPERATORS[self.op](left, right) or (self.op in ("<=", ">=", "==") and _close(left, right))


@dataclass(frozen=True, slots=True)
class Form:
    """One value form: ``kind`` is a key of :data:`FORMS` other than ``compare``.

    ``lo``/``hi`` are the allowed closed range (``-inf``/``inf`` when open); ``target`` is the value
    of ``equals`` and ``approx``.
    """

    kind: str
    lo: float
    hi: float
    target: float | None = None

    @classmethod
    def equals(cls, value: float) -> Form:
        return cls("equals", value, value, value)

    @classmethod
    def between(cls, lo: float, hi: float) -> Form:
        return cls("between", lo, hi)

    @classmethod
    def approx(cls, value: float, rel: float = 0.0, abs_: float = 0.0) -> Form:
        tol = max(rel * abs(value), abs_)
        return cls("approx", value - tol, value + tol, value)

    @classmethod
    def at_least(cls, value: float) -> Form:
        return cls("at_least", value, math.inf)

    @classmethod
    def at_most(cls, value: float) -> Form:
        return cls("at_most", -math.inf, value)

    def __str__(self) -> str:
        if self.kind == "equals":
            return f"{self.lo:g}"
        if self.kind == "approx":
            return f"approx {self.target:g} (allowed [{self.lo:g}, {self.hi:g}])"
        if self.kind == "at_least":
            return f">= {self.lo:g}"
        if self.kind == "at_most":
            return f"<= {self.hi:g}"
        return f"in [{self.lo:g}, {self.hi:g}]"


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=_ABS_TOL)


def point_passes(form: Form, value: float) -> bool:
    """Whether one observed value satisfies the form (bounds inclusive, to a relative 1e-9)."""
    return (form.lo <= value or _close(form.lo, value)) and (value <= form.hi or _close(value, form.hi))


def interval_passes(form: Form, lo: float, hi: float) -> bool:
    """Whether a confidence interval ``[lo, hi]`` is consistent with the form.

    The rule: the expectation fails only when the interval lies entirely outside the allowed range
    ``[form.lo, form.hi]`` (touching counts as consistent). For ``equals`` that means the value lies in
    the interval; for ``at_least v`` that ``hi >= v``; for ``between [a, b]`` that the interval meets
    ``[a, b]``. With zero spread the interval is a point and the rule is :func:`point_passes`.
    """
    return point_passes(Form("between", -math.inf, form.hi), lo) and point_passes(
        Form("between", form.lo, math.inf), hi
    )


def comparison_interval_passes(comparison: Comparison, lo: float, hi: float) -> bool:
    """Whether an interval for ``left - right`` is consistent with the comparison (same rule)."""
    op = comparison.op
    if op == ">":
        return hi > 0 and not _close(hi, 0.0)
    if op == "<":
        return lo < 0 and not _close(lo, 0.0)
    if op == ">=":
        return hi >= 0 or _close(hi, 0.0)
    if op == "<=":
        return lo <= 0 or _close(lo, 0.0)
    return (lo <= 0 or _close(lo, 0.0)) and (hi >= 0 or _close(hi, 0.0))


def parse_ref(text: str, is_ad_metric: Callable[[str], bool]) -> MetricRef:
    """Split ``"ga4.sessions"`` / ``"ads.clicks"`` / ``"clicks"`` into a :class:`MetricRef`.

    Raises
    ------
    ValueError
        If ``text`` is not a dotted name, or names an ad metric under a definition.
    """
    if not _REF_RE.fullmatch(text):
        raise ValueError(f"expected a metric like 'ga4.sessions' or 'ads.clicks', got {text!r}")
    head, _, rest = text.partition(".")
    if not rest:
        return MetricRef(head)
    if head == "ads":
        return MetricRef(rest)
    if is_ad_metric(rest):
        raise ValueError(f"{rest!r} is an ad-platform metric: write 'ads.{rest}', not {text!r}")
    return MetricRef(rest, head)


def parse_comparison(text: str, is_ad_metric: Callable[[str], bool]) -> Comparison:
    """Parse ``"universal_analytics.sessions > ga4.sessions"`` (never evaluated as code).

    Raises
    ------
    ValueError
        If ``text`` is not ``<metric> <op> <metric>`` with op one of ``> >= < <= ==``.
    """
    match = _COMPARE_RE.fullmatch(text)
    if not match:
        raise ValueError(
            f"expected '<metric> <op> <metric>' like 'universal_analytics.sessions > ga4.sessions' "
            f"(op one of {', '.join(sorted(OPERATORS))}), got {text!r}"
        )
    left, op, right = match.groups()
    return Comparison(parse_ref(left, is_ad_metric), op, parse_ref(right, is_ad_metric))

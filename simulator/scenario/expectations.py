"""Expectations and observed numbers in scenario files: their schema and the records built from them.

``[[expect]]`` tables name a target (a metric, or a comparison between definitions), exactly one form
(``equals``, ``between``, ``approx``, ``at_least``, ``at_most``) and what they count over (journeys, a
day, a campaign, replications). ``[observed]`` holds numbers from real reports. The loader in
:mod:`simulator.scenario.loader` calls :func:`build_expectation` and :func:`build_observed`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from simulator.log.events import Device
from simulator.scenario import vocabulary
from simulator.scenario.assertions import FORMS, Comparison, Form, MetricRef, parse_comparison, parse_ref
from simulator.schema import Choice, Ctx, Date, Field, Int, ListOf, Num, Str, Table, did_you_mean

#: Device names an expectation can count (``device = "mobile"``).
DEVICES = tuple(d.label for d in Device)


class Journey(Protocol):
    """What an expectation needs of a scenario's ``[[journey]]`` (its record lives in the loader)."""

    @property
    def name(self) -> str: ...
    @property
    def index(self) -> int: ...


__all__ = [
    "EXPECT",
    "REPORT_KEYS",
    "Expectation",
    "Observed",
    "build_expectation",
    "build_observed",
    "build_observed_files",
]


class Observed:
    """``[observed]``: numbers from real reports, as dotted keys (``ads.clicks = 10412``,
    ``ga4.sessions = 7380``, ``ga4.bridge.bookmark = 12``), flattened to ``{"ga4.sessions": 7380}``."""

    _NUMBER = Num(what="a number from a report")

    def __call__(self, value: Any, ctx: Ctx) -> dict[str, Any]:
        if not isinstance(value, dict):
            ctx.fail(f"expected a table of numbers like ads.clicks = 10412, got {value!r}")
        out: dict[str, Any] = {}
        self._walk(value, (), out, ctx)
        return out

    def _walk(self, table: dict[str, Any], prefix: tuple[str, ...], out: dict[str, Any], ctx: Ctx) -> None:
        for key, value in table.items():
            if not prefix and key in REPORT_KEYS:
                with ctx.at(key):
                    out[key] = REPORT_KEYS[key](value, ctx)
                continue
            with ctx.at(key):
                if isinstance(value, dict) and len(prefix) < 2:  # noqa: PLR2004 - system.bridge.cause
                    self._walk(value, (*prefix, key), out, ctx)
                    continue
                if not prefix:
                    ctx.fail(f"expected a system with its metrics, like ads.{key} = ... or ga4.{key} = ...")
                out[".".join((*prefix, key))] = float(self._NUMBER(value, ctx))

    def json_schema(self) -> dict[str, Any]:
        number = {"type": "number"}
        return {
            "type": "object",
            "properties": {k: v.json_schema() for k, v in REPORT_KEYS.items()},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [number, {"type": "object", "additionalProperties": number}]
                },
            },
        }


def _report_formats() -> tuple[str, ...]:
    from simulator.scenario.observed import FORMATS  # noqa: PLC0415 - the readers import this layer's errors

    return tuple(FORMATS)


#: ``[observed]`` keys that name report files rather than systems: ``files = [{ file = "ads.csv",
#: format = "google_ads" }]`` and ``campaigns = { "Brand | Search" = "brand-search" }``.
REPORT_KEYS: dict[str, Any] = {
    "files": ListOf(
        Table(
            {
                "file": Field(Str(what="a path relative to the scenario"), "a report export", True),
                "format": Field(Choice(_report_formats, "a report format"), "its layout", True),
            }
        )
    ),
    "campaigns": None,  # set below: a table of names
}


class _NameMap:
    """A table of report campaign name -> scenario campaign name."""

    def __call__(self, value: Any, ctx: Ctx) -> dict[str, str]:
        if not isinstance(value, dict):
            ctx.fail(f'expected a table like {{ "Brand | Search" = "brand-search" }}, got {value!r}')
        for key, name in value.items():
            if not isinstance(name, str) or not name:
                with ctx.at(key):
                    ctx.fail(f"expected the scenario's campaign name, got {name!r}")
        return dict(value)

    def json_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}


REPORT_KEYS["campaigns"] = _NameMap()

_STATISTIC_RE = r"mean|p(?:100|[0-9]{1,2}(?:\.[0-9]+)?)"

EXPECT = Table(
    {
        "name": Field(Str(), "shown in check output and as the test name (default: the metric)"),
        "metric": Field(Choice(vocabulary.metric_names, "a metric"), "what to check"),
        "definition": Field(Str(what="a definition name"), "session definition of the metric"),
        "equals": Field(Num(what="a number"), "form: the exact expected value"),
        "between": Field(
            ListOf(Num(what="a number"), min_len=2, max_len=2, what="a range [lo, hi]"),
            "form: lo <= value <= hi",
        ),
        "approx": Field(Num(what="a number"), "form: the value within rel or abs of this"),
        "rel": Field(Num(0, what="a relative tolerance"), "tolerance of approx, e.g. 0.05 for 5 %"),
        "abs": Field(Num(0, what="an absolute tolerance"), "tolerance of approx, in the metric's unit"),
        "at_least": Field(Num(what="a number"), "form: value >= this"),
        "at_most": Field(Num(what="a number"), "form: value <= this"),
        "compare": Field(
            Str(what="a comparison like 'universal_analytics.sessions > ga4.sessions'"),
            "form: '<metric> <op> <metric>' with op one of > >= < <= ==",
        ),
        "journeys": Field(
            ListOf(Str(what="a journey name"), min_len=1),
            "count only the people of these journeys (default: everyone)",
        ),
        "day": Field(
            Date(),
            "count one day: hits on this date in the property's time zone, ad rows in the ad account's",
        ),
        "campaign": Field(
            Str(what="a campaign name"),
            "count one campaign: its ad rows, and the sessions it started (with their hits)",
        ),
        "device": Field(
            Choice(DEVICES, "a device"),
            "count one device: its ad rows, and the sessions whose first hit was on it (with their hits)",
        ),
        "replications": Field(
            Int(1, what="a number of replications"),
            "judge the statistic over this many seeds (default: [scenario] replications)",
        ),
        "statistic": Field(
            Str(_STATISTIC_RE, what='"mean" or a percentile like "p50", "p95"'),
            "what is judged over replications",
            default="mean",
        ),
        "confidence": Field(
            Num(0, 1, lo_open=True, what="a confidence level", hint="write 0.95 for 95 %"),
            "confidence level of the interval judged over replications",
            default=0.95,
        ),
        "note": Field(Str(), "free text, ignored"),
    },
    doc="An assertion on the result: one form (equals, between, approx, at_least, at_most, compare).",
    exactly_one=FORMS,
    requires={"rel": "approx", "abs": "approx"},
)


@dataclass(frozen=True, slots=True)
class Expectation:
    """One ``[[expect]]`` table: a target (metric or comparison), a form, and what it counts over.

    Exactly one of ``form`` (with ``metric``) and ``comparison`` is set. ``journeys`` (indices),
    ``day`` and ``campaign`` narrow what is counted; ``replications > 1`` judges ``statistic`` over
    that many seeds at ``confidence``.
    """

    index: int
    name: str
    metric: str | None
    definition: str | None
    form: Form | None = None
    comparison: Comparison | None = None
    journeys: tuple[int, ...] = ()  # indices of the journeys counted; empty = everyone
    journey_names: tuple[str, ...] = ()
    day: dt.date | None = None
    campaign: str | None = None
    device: str | None = None
    replications: int = 1
    statistic: str = "mean"
    confidence: float = 0.95

    @property
    def equals(self) -> float | None:
        """The value of an ``equals`` form (None for other forms)."""
        return self.form.target if self.form is not None and self.form.kind == "equals" else None

    @property
    def refs(self) -> tuple[MetricRef, ...]:
        """The metrics this expectation reads."""
        if self.comparison is not None:
            return (self.comparison.left, self.comparison.right)
        assert self.metric is not None
        return (MetricRef(self.metric, self.definition),)

    @property
    def definitions(self) -> tuple[str, ...]:
        """The session definitions involved, in order, without repeats."""
        return tuple(dict.fromkeys(r.definition for r in self.refs if r.definition))


def _journey_indices(names: list[str], journeys: Sequence[Journey], ctx: Ctx) -> tuple[int, ...]:
    known = {j.name: j.index for j in journeys}
    with ctx.at("journeys"):
        for k, name in enumerate(names):
            if name not in known:
                with ctx.at(k):
                    ctx.fail(f"no [[journey]] is named {name!r}", did_you_mean(name, tuple(known)))
    return tuple(sorted({known[n] for n in names}))


def _resolve_definition(
    metric: str, definition: str | None, definitions: tuple[str, ...], ctx: Ctx
) -> str | None:
    """The definition a metric is read under: the one named, or the only one compared."""
    if not vocabulary.needs_definition(metric):
        if definition is not None:
            ctx.fail(f"metric {metric!r} is an ad-platform number; it takes no definition")
        return None
    if definition is None:
        if len(definitions) != 1:
            ctx.fail(
                f"metric {metric!r} depends on the session definition: add "
                f"definition = one of {', '.join(repr(d) for d in definitions)}"
            )
        return definitions[0]
    if definition not in definitions:
        ctx.fail(
            f"{definition!r} is not compared in [sessions] definitions "
            f"({', '.join(repr(d) for d in definitions)})",
            did_you_mean(definition, definitions),
        )
    return definition


def _check_ref(ref: MetricRef, definitions: tuple[str, ...], ctx: Ctx) -> MetricRef:
    if ref.metric not in vocabulary.metric_names():
        hint = did_you_mean(ref.metric, vocabulary.metric_names())
        ctx.fail(f"unknown metric {ref.metric!r} in {str(ref)!r}", hint)
    return MetricRef(ref.metric, _resolve_definition(ref.metric, ref.definition, definitions, ctx))


def _build_form(raw: dict[str, Any], ctx: Ctx) -> Form:
    if "between" in raw:
        lo, hi = raw["between"]
        if lo > hi:
            with ctx.at("between"):
                ctx.fail(f"expected [lo, hi] with lo <= hi, got [{lo!r}, {hi!r}]")
        return Form.between(lo, hi)
    if "approx" in raw:
        if "rel" not in raw and "abs" not in raw:
            with ctx.at("approx"):
                ctx.fail("needs a tolerance: add rel = 0.05 (5 %) or abs = <units>")
        return Form.approx(raw["approx"], raw.get("rel", 0.0), raw.get("abs", 0.0))
    kind = next(k for k in ("equals", "at_least", "at_most") if k in raw)
    return getattr(Form, kind)(raw[kind])


def build_observed_files(
    observed: dict[str, Any], scenario_path: str, campaigns: set[str], ctx: Ctx
) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """``(files, mapping)`` of ``[observed]``: report paths resolved against the scenario's folder
    (each must exist) with their formats, and the report -> scenario campaign names."""
    import pathlib  # noqa: PLC0415

    base = pathlib.Path(scenario_path).parent
    files = []
    with ctx.at("observed"):
        for i, item in enumerate(observed.get("files", [])):
            with ctx.at("files"), ctx.at(i), ctx.at("file"):
                path = base / item["file"]
                if not path.is_file():
                    ctx.fail(f"no report file {str(path)!r} (paths are relative to the scenario file)")
            files.append((str(path), item["format"]))
        mapping = observed.get("campaigns", {})
        for name, target in mapping.items():
            with ctx.at("campaigns"), ctx.at(name):
                if campaigns and target not in campaigns:
                    ctx.fail(
                        f"no campaign is named {target!r} (known: {', '.join(sorted(campaigns))})",
                        did_you_mean(target, tuple(campaigns)),
                    )
    return tuple(files), tuple(mapping.items())


def build_observed(
    observed: dict[str, Any], definitions: tuple[str, ...], ctx: Ctx
) -> tuple[tuple[MetricRef, float], ...]:
    out = []
    with ctx.at("observed"):
        for key, value in observed.items():
            if key in REPORT_KEYS:
                continue
            with ctx.at(key):
                try:
                    ref = parse_ref(key, lambda m: not vocabulary.needs_definition(m))
                except ValueError as err:
                    ctx.fail(str(err))
                system, _, metric = key.partition(".")
                if system == "ads" and vocabulary.needs_definition(metric):
                    ctx.fail(
                        f"{metric!r} is an analytics number: write <definition>.{metric}, e.g. "
                        f"{definitions[0]}.{metric}"
                    )
                if system not in ("ads", *definitions):
                    ctx.fail(
                        f"expected ads.<metric> or <definition>.<metric> with a definition of [sessions] "
                        f"({', '.join(definitions)})",
                        did_you_mean(system, ("ads", *definitions)),
                    )
                out.append((_check_ref(ref, definitions, ctx), value))
    return tuple(out)


def _metrics_of(metric: str | None, comparison: Comparison | None) -> tuple[str | None, ...]:
    return (comparison.left.metric, comparison.right.metric) if comparison else (metric,)


def _default_name(target: str, raw: dict[str, Any]) -> str:
    """``ga4.sessions``, narrowed by what it counts: ``ga4.sessions of distracted on 2024-05-02``."""
    name = target
    if "journeys" in raw:
        name += f" of {', '.join(raw['journeys'])}"
    if "campaign" in raw:
        name += f" in campaign {raw['campaign']}"
    if "device" in raw:
        name += f" on {raw['device']}"
    if "day" in raw:
        name += f" on {raw['day'].isoformat()}"
    return name


def build_expectation(
    i: int,
    raw: dict[str, Any],
    *,
    definitions: tuple[str, ...],
    journeys: Sequence[Journey],
    campaigns: set[str],
    default_replications: int,
    ctx: Ctx,
) -> Expectation:
    metric, definition, form, comparison = raw.get("metric"), raw.get("definition"), None, None
    if "compare" in raw:
        if metric is not None or definition is not None:
            ctx.fail("a 'compare' names its metrics itself; remove 'metric' and 'definition'")
        with ctx.at("compare"):
            try:
                parsed = parse_comparison(raw["compare"], lambda m: not vocabulary.needs_definition(m))
            except ValueError as err:
                ctx.fail(str(err))
            left, right = (_check_ref(r, definitions, ctx) for r in (parsed.left, parsed.right))
            comparison = Comparison(left, parsed.op, right)
        target = str(comparison)
    else:
        if metric is None:
            ctx.fail("missing required key 'metric' (what to check; or use 'compare')")
        if definition is None:
            definition = _resolve_definition(metric, definition, definitions, ctx)
        else:
            with ctx.at("definition"):
                definition = _resolve_definition(metric, definition, definitions, ctx)
        form = _build_form(raw, ctx)
        target = f"{definition}.{metric}" if definition else metric  # names kept from the skeleton
    sliced = [k for k in ("day", "campaign", "device") if k in raw]
    if sliced and any(
        m and m.startswith(("bridge.", "views_bridge.")) for m in _metrics_of(metric, comparison)
    ):
        with ctx.at(sliced[0]):
            ctx.fail(
                "bridge terms are counted over the whole run (a click and its landing can fall on "
                f"different days); remove {sliced[0]!r} or use 'journeys'"
            )
    if "campaign" in raw and campaigns and raw["campaign"] not in campaigns:
        with ctx.at("campaign"):
            ctx.fail(
                f"no campaign is named {raw['campaign']!r} (known: {', '.join(sorted(campaigns))})",
                did_you_mean(raw["campaign"], tuple(campaigns)),
            )
    return Expectation(
        index=i,
        name=raw.get("name") or _default_name(target, raw),
        metric=metric,
        definition=definition,
        form=form,
        comparison=comparison,
        journeys=_journey_indices(raw["journeys"], journeys, ctx) if "journeys" in raw else (),
        journey_names=tuple(raw.get("journeys", ())),
        day=raw.get("day"),
        campaign=raw.get("campaign"),
        device=raw.get("device"),
        replications=raw.get("replications", default_replications),
        statistic=raw["statistic"],
        confidence=raw["confidence"],
    )

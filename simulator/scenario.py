"""Scenario files: the schema (declarative tables), loading, and the frozen records built from them.

The loader is one pipeline: read -> ``tomllib.loads`` -> validate against ``SCHEMA`` (which converts
durations, times and names) -> cross-checks -> frozen dataclasses. Every problem is a
``ScenarioError`` naming the file, the key path and what is allowed. Scenario files never run code.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from simulator import metrics
from simulator._schema import (
    Bool,
    Choice,
    Ctx,
    Date,
    DateTime,
    Duration,
    Field,
    Int,
    ListOf,
    Num,
    Str,
    Table,
    TimeZone,
    did_you_mean,
)
from simulator._sections import (
    BEHAVIOR,
    CAMPAIGN,
    NETWORKS,
    POPULATION,
    TRACKING,
    Behavior,
    Campaign,
    Population,
    Tracking,
    build_population,
)
from simulator.errors import ScenarioError
from simulator.events import Loss
from simulator.forms import FORMS, Comparison, Form, MetricRef, parse_comparison, parse_ref
from simulator.sessions.config import DefinitionEntry
from simulator.sessions.presets import Definition

__all__ = [
    "NETWORKS",
    "SCHEMA",
    "Behavior",
    "Campaign",
    "Expectation",
    "Journey",
    "Population",
    "Scenario",
    "Step",
    "Tracking",
    "json_schema",
    "load_scenario",
    "loads_scenario",
]

#: Step actions and the keys each one accepts (besides ``do``, ``at``, ``after``, ``note``).
ACTIONS: dict[str, tuple[str, ...]] = {
    "impression": ("campaign", "cost", "invalid", "device"),
    "click": (
        "campaign",
        "cost",
        "invalid",
        "tab",
        "lands",
        "load",
        "tag",
        "loss",
        "page",
        "device",
    ),
    "view": ("page", "tag", "loss", "device"),
    "reload": ("tag", "loss", "device"),
    "tab": ("page", "tag", "loss", "device"),
    "leave": (),
    "bookmark": (),
    "return": ("via", "page", "tag", "loss", "device"),
    "convert": ("value", "units", "tag", "loss", "device"),
    "clear_cookies": ("device",),
}
RETURN_VIA = ("bookmark", "direct", "organic", "referral", "email")
#: Loss reasons a scripted step can name (a dropped campaign is a population mechanism: the hit is tracked).
LOSSES = tuple(loss.label for loss in Loss if loss not in (Loss.NONE, Loss.CAMPAIGN_DROPPED))

_AT_HELP = "a date-time like 2024-05-01T10:00:00, or a time of day like 10:30:00"


class At:
    """A step time: a TOML date-time, a time of day (on the journey's start date) or an ISO string."""

    def __call__(self, value: Any, ctx: Ctx) -> dt.datetime | dt.time:
        if isinstance(value, dt.datetime | dt.time):
            return value
        if isinstance(value, str):
            for parse in (dt.datetime.fromisoformat, dt.time.fromisoformat):
                try:
                    return parse(value)
                except ValueError:
                    continue
        ctx.fail(f"expected {_AT_HELP}, got {value!r}")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "description": _AT_HELP}


STEP = Table(
    {
        "do": Field(Choice(tuple(ACTIONS), "an action"), "what happens", required=True),
        "at": Field(At(), "when, absolute (property time zone unless an offset is given)"),
        "after": Field(Duration(), "when, relative to the previous step"),
        "campaign": Field(Str(what="a campaign name"), "ad campaign of an impression or click"),
        "cost": Field(Num(0, what="a cost"), "what the ad platform charges for this click"),
        "invalid": Field(Bool(), "an invalid click or impression: not counted, not charged"),
        "tab": Field(Bool(), "the ad was opened in a new tab"),
        "lands": Field(Bool(), "the click reached the site (default true)"),
        "load": Field(Duration(), "page-load time from click to landing page view (default 0s)"),
        "tag": Field(Bool(), "the analytics tag fired for this hit (default true)"),
        "loss": Field(Choice(LOSSES, "a loss reason"), "why the tag did not fire"),
        "page": Field(Str(what="a page name"), "the page viewed"),
        "via": Field(Choice(RETURN_VIA, "a way back"), "how the visitor returns"),
        "value": Field(Num(0, what="a conversion value"), "revenue of the conversion"),
        "units": Field(Int(0, what="a number of units"), "units ordered in the conversion"),
        "device": Field(Str(what="a device name"), "device (each has its own cookie)"),
        "note": Field(Str(), "free text, ignored"),
    },
    doc="One step of a scripted journey.",
)

JOURNEY = Table(
    {
        "name": Field(Str(what="a journey name"), "shown in errors and reports", required=True),
        "person": Field(Str(), "journeys with the same person are the same human"),
        "count": Field(Int(1, what="a number of visitors"), "identical visitors", default=1),
        "start": Field(DateTime(), "when the journey starts (default: the scenario start)"),
        "tracking": Field(
            Choice(("ok", *LOSSES), "a tracking state"),
            "applies to every hit: ok, blocked, no_consent, ...",
            default="ok",
        ),
        "steps": Field(ListOf(STEP, min_len=1), "the timeline", required=True),
        "note": Field(Str(), "free text, ignored"),
    },
    doc="A scripted visitor with an exact timeline.",
)


class Observed:
    """``[observed]``: numbers from real reports, as dotted keys (``ads.clicks = 10412``,
    ``ga4.sessions = 7380``, ``ga4.bridge.bookmark = 12``), flattened to ``{"ga4.sessions": 7380}``."""

    _NUMBER = Num(what="a number from a report")

    def __call__(self, value: Any, ctx: Ctx) -> dict[str, float]:
        if not isinstance(value, dict):
            ctx.fail(f"expected a table of numbers like ads.clicks = 10412, got {value!r}")
        out: dict[str, float] = {}
        self._walk(value, (), out, ctx)
        return out

    def _walk(self, table: dict[str, Any], prefix: tuple[str, ...], out: dict[str, float], ctx: Ctx) -> None:
        for key, value in table.items():
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
            "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [number, {"type": "object", "additionalProperties": number}]
                },
            },
        }


_STATISTIC_RE = r"mean|p(?:100|[0-9]{1,2}(?:\.[0-9]+)?)"

EXPECT = Table(
    {
        "name": Field(Str(), "shown in check output and as the test name (default: the metric)"),
        "metric": Field(Choice(metrics.metric_names, "a metric"), "what to check"),
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

SCHEMA = Table(
    {
        "scenario": Field(
            Table(
                {
                    "name": Field(Str(), "scenario name", required=True),
                    "description": Field(Str(), "what the scenario shows", default=""),
                    "seed": Field(Int(0, what="a seed"), "random seed", default=0),
                    "start": Field(DateTime(), "when the simulation starts"),
                    "timezone": Field(TimeZone(), "the analytics property's time zone"),
                    "ad_timezone": Field(TimeZone(), "the ad account's time zone"),
                    "replications": Field(
                        Int(1, what="a number of replications"),
                        "default replications of every expectation (stochastic scenarios)",
                        default=1,
                    ),
                }
            ),
            required=True,
        ),
        "journey": Field(ListOf(JOURNEY), "scripted visitors", default=[]),
        "population": Field(POPULATION, "a stochastic population of visitors"),
        "campaign": Field(ListOf(CAMPAIGN), "ad campaigns of the population", default=[]),
        "behavior": Field(BEHAVIOR, "visitor behaviour of the population"),
        "tracking": Field(TRACKING, "tracking of the population"),
        "sessions": Field(
            Table(
                {
                    "definitions": Field(
                        ListOf(DefinitionEntry(), min_len=1),
                        "definitions to compare: preset names, presets with overrides "
                        '({ name = "ga4_45m", preset = "ga4", timeout = "45m" }) or rule lists '
                        '({ name = "mine", rules = [{ rule = "inactivity", timeout = "30m" }] })',
                        default=["ga4"],
                    )
                }
            ),
            default={"definitions": ["ga4"]},
        ),
        "expect": Field(ListOf(EXPECT), "assertions", default=[]),
        "observed": Field(
            Observed(),
            "numbers from real reports (ads.clicks = 10412, ga4.sessions = 7380), for `sessionlab compare`",
            default={},
        ),
    },
    doc="A sessionlab scenario file.",
)


@dataclass(frozen=True, slots=True)
class Step:
    """One resolved step of a journey: ``t_ms`` is when it happens (epoch ms, UTC)."""

    index: int
    do: str
    t_ms: int
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Journey:
    index: int
    name: str
    person: str
    count: int
    start_ms: int
    tracking: str
    steps: tuple[Step, ...]


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


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario. Times are epoch milliseconds (UTC)."""

    path: str
    name: str
    description: str
    seed: int
    start_ms: int
    timezone: str
    ad_timezone: str
    journeys: tuple[Journey, ...]
    definitions: tuple[str, ...]  # names, in [sessions] order
    expectations: tuple[Expectation, ...]
    replications: int = 1
    observed: tuple[tuple[MetricRef, float], ...] = ()  # numbers from real reports
    sessions: tuple[Definition, ...] = ()  # the definitions themselves, aligned with ``definitions``
    population: Population | None = None
    campaigns: tuple[Campaign, ...] = ()
    behavior: Behavior | None = None
    tracking: Tracking | None = None


def _epoch_ms(when: dt.datetime, zone: ZoneInfo) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    return int(when.timestamp() * 1000)


def _step_time(step: dict[str, Any], start: dt.datetime, zone: ZoneInfo, last_ms: int, ctx: Ctx) -> int:
    """When a step happens: its ``at`` (a time of day is on the journey's start date) or ``after``."""
    if "at" in step and "after" in step:
        ctx.fail("give either 'at' or 'after', not both")
    if "at" not in step:
        return last_ms + step.get("after", 0)
    at = step["at"]
    if isinstance(at, dt.time):
        at = dt.datetime.combine(start.date(), at, tzinfo=at.tzinfo)
    at_ms = _epoch_ms(at, zone)
    if at_ms < last_ms:
        with ctx.at("at"):
            ctx.fail(f"goes back in time: {at.isoformat()} is before the previous step")
    return at_ms


def _check_step(step: dict[str, Any], bookmarked: bool, visiting: bool, ctx: Ctx) -> None:
    """Cross-key rules of one step: keys that apply to its action, and what it needs first."""
    action = step["do"]
    extra = set(step) - {"do", "at", "after", "note", *ACTIONS[action]}
    if extra:
        allowed = ", ".join(ACTIONS[action]) or "none"
        with ctx.at(sorted(extra)[0]):
            ctx.fail(f"does not apply to do = {action!r}; keys it takes: {allowed}")
    if action in ("impression", "click") and "campaign" not in step:
        ctx.fail(f"do = {action!r} needs a 'campaign'")
    if action == "return" and "via" not in step:
        ctx.fail(f"do = 'return' needs 'via' (one of {', '.join(RETURN_VIA)})")
    if action == "return" and step["via"] == "bookmark" and not bookmarked:
        with ctx.at("via"):
            ctx.fail("returns via a bookmark, but no earlier step does 'bookmark'")
    if action in ("view", "reload", "tab", "convert", "bookmark") and not visiting:
        ctx.fail(
            f"do = {action!r} needs an open visit: start one with a click or a return "
            "(a 'leave' step ends the visit)"
        )
    if "loss" in step and step.get("tag", True):
        with ctx.at("loss"):
            ctx.fail("a loss reason needs tag = false")


def _build_steps(raw: list[dict], start: dt.datetime, zone: ZoneInfo, ctx: Ctx) -> list[Step]:
    steps, last_ms = [], _epoch_ms(start, zone)
    bookmarked = visiting = False
    for i, step in enumerate(raw):
        with ctx.at(i):
            action = step["do"]
            _check_step(step, bookmarked, visiting, ctx)
            last_ms = _step_time(step, start, zone, last_ms, ctx)
            bookmarked |= action == "bookmark"
            if action == "return" or (action == "click" and step.get("lands", True)):
                visiting = True
            elif action == "leave":
                visiting = False
            params = {k: v for k, v in step.items() if k not in ("do", "at", "after", "note")}
            steps.append(Step(i, action, last_ms, params))
    return steps


def _build(doc: dict[str, Any], path: str) -> Scenario:
    ctx = Ctx(path)
    head = doc["scenario"]
    tz = head.get("timezone", "UTC")
    zone = ZoneInfo(tz)
    start = head.get("start", dt.datetime(2024, 1, 1))
    sessions = _sessions(doc["sessions"]["definitions"], ctx)
    definitions = tuple(d.name for d in sessions)
    journeys = []
    with ctx.at("journey"):
        for i, raw in enumerate(doc["journey"]):
            with ctx.at(i):
                jstart = raw.get("start", start)
                with ctx.at("steps"):
                    steps = _build_steps(raw["steps"], jstart, zone, ctx)
                journeys.append(
                    Journey(
                        i,
                        raw["name"],
                        raw.get("person", raw["name"]),
                        raw["count"],
                        _epoch_ms(jstart, zone),
                        raw["tracking"],
                        tuple(steps),
                    )
                )
    population, campaigns, behavior, tracking = build_population(doc, tz, ctx)
    if not journeys and population is None:
        ctx.fail("nothing to simulate: add a [population] table or at least one [[journey]] table")
    campaign_names = {s.params["campaign"] for j in journeys for s in j.steps if "campaign" in s.params}
    campaign_names |= {c.name for c in campaigns}
    expectations = []
    with ctx.at("expect"):
        for i, raw in enumerate(doc["expect"]):
            with ctx.at(i):
                expectations.append(
                    _build_expectation(
                        i,
                        raw,
                        definitions=definitions,
                        journeys=journeys,
                        campaigns=campaign_names,
                        default_replications=head["replications"],
                        ctx=ctx,
                    )
                )
    return Scenario(
        path=path,
        name=head["name"],
        description=head["description"],
        seed=head["seed"],
        start_ms=_epoch_ms(start, zone),
        timezone=tz,
        ad_timezone=head.get("ad_timezone", tz),
        journeys=tuple(journeys),
        definitions=definitions,
        expectations=tuple(expectations),
        replications=head["replications"],
        observed=_build_observed(doc["observed"], definitions, ctx),
        sessions=sessions,
        population=population,
        campaigns=campaigns,
        behavior=behavior,
        tracking=tracking,
    )


def _sessions(entries: list[Definition | str], ctx: Ctx) -> tuple[Definition, ...]:
    """The [sessions] definitions (already built by the schema); names must be unique."""
    out: list[Definition] = []
    with ctx.at("sessions"), ctx.at("definitions"):
        for i, entry in enumerate(entries):
            definition = entry if isinstance(entry, Definition) else DefinitionEntry()(entry, ctx)
            if any(d.name == definition.name for d in out):
                with ctx.at(i):
                    ctx.fail(f"definition name {definition.name!r} is used twice; names must be unique")
            out.append(definition)
    return tuple(out)


def _journey_indices(names: list[str], journeys: list[Journey], ctx: Ctx) -> tuple[int, ...]:
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
    if not metrics.needs_definition(metric):
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
    if ref.metric not in metrics.metric_names():
        hint = did_you_mean(ref.metric, metrics.metric_names())
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


def _build_observed(
    observed: dict[str, float], definitions: tuple[str, ...], ctx: Ctx
) -> tuple[tuple[MetricRef, float], ...]:
    out = []
    with ctx.at("observed"):
        for key, value in observed.items():
            with ctx.at(key):
                try:
                    ref = parse_ref(key, lambda m: not metrics.needs_definition(m))
                except ValueError as err:
                    ctx.fail(str(err))
                system, _, metric = key.partition(".")
                if system == "ads" and metrics.needs_definition(metric):
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
    if "day" in raw:
        name += f" on {raw['day'].isoformat()}"
    return name


def _build_expectation(
    i: int,
    raw: dict[str, Any],
    *,
    definitions: tuple[str, ...],
    journeys: list[Journey],
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
                parsed = parse_comparison(raw["compare"], lambda m: not metrics.needs_definition(m))
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
    sliced = [k for k in ("day", "campaign") if k in raw]
    if sliced and any(m and m.startswith("bridge.") for m in _metrics_of(metric, comparison)):
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
        replications=raw.get("replications", default_replications),
        statistic=raw["statistic"],
        confidence=raw["confidence"],
    )


def json_schema() -> dict[str, Any]:
    """The JSON Schema of scenario files, generated from :data:`SCHEMA` (the validator's own tables).

    TOML dates and times appear as strings (ISO 8601) in the JSON view of a file.
    """
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sessionlab scenario",
        **SCHEMA.json_schema(),
    }


def loads_scenario(text: str, path: str = "<string>") -> Scenario:
    """Validate scenario TOML text and build a :class:`Scenario`.

    Raises
    ------
    ScenarioError
        With the file, the key path and what is allowed, for any problem in the text.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, "", f"not valid TOML: {err}") from None
    return _build(SCHEMA(doc, Ctx(path)), path)


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and build a scenario file.

    Raises
    ------
    ScenarioError
        When the file cannot be read or does not follow the schema.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(name, "", f"cannot read file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ScenarioError(name, "", "cannot read file: not UTF-8 text") from None
    return loads_scenario(text, name)

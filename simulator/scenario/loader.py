"""Scenario files: the schema (declarative tables), loading, and the frozen records built from them.

The loader is one pipeline: read -> ``tomllib.loads`` -> validate against ``SCHEMA`` (which converts
durations, times and names) -> cross-checks -> frozen dataclasses. Every problem is a
``ScenarioError`` naming the file, the key path and what is allowed. Scenario files never run code.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from simulator.errors import ScenarioError
from simulator.log.events import Loss
from simulator.scenario.assertions import MetricRef
from simulator.scenario.expectations import (
    DEVICES,
    EXPECT,
    Expectation,
    Observed,
    build_expectation,
    build_observed,
    build_observed_files,
)
from simulator.scenario.sections import (
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
from simulator.scenario.settings import SETTINGS
from simulator.scenario.site import SITE, Site, build_site
from simulator.schema import (
    MAX_NESTING,
    MAX_NUMBER,
    Bool,
    Choice,
    Ctx,
    DateTime,
    Duration,
    Field,
    Int,
    ListOf,
    Num,
    Str,
    Table,
    TimeZone,
    nesting_depth,
    shorten,
)
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
    "require_scenario",
    "scenario_from_dict",
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
#: ``[scenario] ambiguous``: what a local time in a DST fold means (the words of the log's ``--ambiguous``).
AMBIGUOUS = ("error", "earliest", "latest")

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
        "cost": Field(Num(0, 1e9, what="a cost"), "what the ad platform charges for this click"),
        "invalid": Field(Bool(), "an invalid click or impression: not counted, not charged"),
        "tab": Field(Bool(), "the ad was opened in a new tab"),
        "lands": Field(Bool(), "the click reached the site (default true)"),
        "load": Field(Duration(), "page-load time from click to landing page view (default 0s)"),
        "tag": Field(Bool(), "the analytics tag fired for this hit (default true)"),
        "loss": Field(Choice(LOSSES, "a loss reason"), "why the tag did not fire"),
        "page": Field(Str(what="a page name"), "the page viewed"),
        "via": Field(Choice(RETURN_VIA, "a way back"), "how the visitor returns"),
        "value": Field(Num(0, 1e9, what="a conversion value"), "revenue of the conversion"),
        "units": Field(Int(0, 1_000_000_000, what="a number of units"), "units ordered in the conversion"),
        "device": Field(Choice(DEVICES, "a device"), "device (each has its own cookie)"),
        "note": Field(Str(), "free text, ignored"),
    },
    doc="One step of a scripted journey.",
)

JOURNEY = Table(
    {
        "name": Field(Str(what="a journey name"), "shown in errors and reports", required=True),
        "person": Field(Str(), "journeys with the same person are the same human"),
        "count": Field(Int(1, 10_000_000, what="a number of visitors"), "identical visitors", default=1),
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
                    "ambiguous": Field(
                        Choice(AMBIGUOUS, "a policy for local times that happen twice"),
                        "a local time (no offset) that happens twice, in the hour the clocks go back: "
                        "refused (error), or its first (earliest) or second (latest) occurrence",
                        default="error",
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
        "site": Field(SITE, "mid-visit changes of source or user (checkout domain, payment provider)"),
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
        "settings": Field(
            SETTINGS,
            "site and property settings for `sessionlab validate` (docs/validate.md); not used by `run`",
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


_NO_SITE = Site()


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
    observed_files: tuple[tuple[str, str], ...] = ()  # (path, format) of report exports
    observed_campaigns: tuple[tuple[str, str], ...] = ()  # report campaign name -> scenario campaign
    sessions: tuple[Definition, ...] = ()  # the definitions themselves, aligned with ``definitions``
    population: Population | None = None
    campaigns: tuple[Campaign, ...] = ()
    behavior: Behavior | None = None
    tracking: Tracking | None = None
    site: Site = _NO_SITE  # [site]: mid-visit changes of source or user (all off by default)


def require_scenario(scenario: Any, caller: str) -> Scenario:
    """``scenario`` itself if it is a :class:`Scenario`; else a ``TypeError`` saying how to get one."""
    if not isinstance(scenario, Scenario):
        hint = "; load it first: load_scenario(path)" if isinstance(scenario, str | os.PathLike) else ""
        raise TypeError(f"{caller}() needs a Scenario, got {type(scenario).__name__}{hint}")
    return scenario


def _epoch_ms(
    when: dt.datetime, zone: ZoneInfo, ctx: Ctx | None = None, key: str = "", ambiguous: str = "error"
) -> int:
    """``when`` in epoch ms; a local time (no offset) is in ``zone`` and must exist there once.

    A local time in a spring-forward gap (02:30 on 2024-03-31 in Europe/Berlin) names no instant:
    it is refused at ``key`` instead of being moved an hour, as Python would do silently. One in a
    fall-back fold (02:30 on 2024-10-27 there) names two: ``ambiguous`` (``[scenario] ambiguous``,
    the log's ``--ambiguous`` words) takes the ``earliest`` or the ``latest``, or refuses it at ``key``
    (``error``, the default) instead of taking the first silently.
    """
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone, fold=int(ambiguous == "latest"))
        if ctx is not None and _in_gap(when):
            with ctx.at(key):
                ctx.fail(_gap_message(when, zone))
        if ctx is not None and ambiguous == "error" and _in_fold(when):
            with ctx.at(key):
                ctx.fail(_fold_message(when, zone))
    return int(when.timestamp() * 1000)


def _in_fold(local: dt.datetime) -> bool:
    """Whether an aware local time that exists happens twice (its two readings differ in offset)."""
    return local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()


def _fold_message(local: dt.datetime, zone: ZoneInfo) -> str:
    """Which two instants the local time names, and how to choose."""
    first, second = (local.replace(fold=f).strftime("%z") for f in (0, 1))
    first, second = (f"{o[:3]}:{o[3:]}" for o in (first, second))
    when = local.replace(tzinfo=None)
    return (
        f"{when.strftime('%H:%M:%S')} on {when.date().isoformat()} happens twice in {zone.key} (the clocks "
        f"go back: daylight saving time ends): give it a UTC offset ({first} the first time, {second} the "
        f'second), or set [scenario] ambiguous = "earliest" or "latest"'
    )


def _in_gap(local: dt.datetime) -> bool:
    """Whether an aware local time does not exist (a round trip through UTC changes it)."""
    back = local.astimezone(dt.UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) != local.replace(tzinfo=None)


def _gap_message(local: dt.datetime, zone: ZoneInfo) -> str:
    """What the gap is: the local clock time the clocks jump from and to."""
    lo = local.replace(fold=1).astimezone(dt.UTC)  # the offset after the change: the earlier instant
    hi = local.replace(fold=0).astimezone(dt.UTC)
    while hi - lo > dt.timedelta(seconds=1):  # the change's instant, to the second
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
            lo = mid
        else:
            hi = mid
    change = hi.replace(microsecond=0)
    before = (change.astimezone(zone).utcoffset() or dt.timedelta()) - (
        (change - dt.timedelta(seconds=1)).astimezone(zone).utcoffset() or dt.timedelta()
    )
    jump_from = (change.astimezone(zone) - before).strftime("%H:%M")
    jump_to = change.astimezone(zone).strftime("%H:%M")
    when = local.replace(tzinfo=None)
    return (
        f"{when.strftime('%H:%M:%S')} on {when.date().isoformat()} does not exist in {zone.key}: the "
        f"clocks jump from {jump_from} to {jump_to} (daylight saving time begins); give a time "
        f"outside the gap, or one with a UTC offset"
    )


def _step_time(
    step: dict[str, Any], start: dt.datetime, zone: ZoneInfo, last_ms: int, ctx: Ctx, *, ambiguous: str
) -> int:
    """When a step happens: its ``at`` (a time of day is on the journey's start date) or ``after``."""
    if "at" in step and "after" in step:
        ctx.fail("give either 'at' or 'after', not both")
    if "at" not in step:
        return last_ms + step.get("after", 0)
    at = step["at"]
    if isinstance(at, dt.time):
        at = dt.datetime.combine(start.date(), at, tzinfo=at.tzinfo)
    at_ms = _epoch_ms(at, zone, ctx, "at", ambiguous)
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


#: Steps later than this are typos; it also keeps every local date (and a load time) within datetime's range.
_LATEST_MS = int(dt.datetime(9000, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)


def _build_steps(raw: list[dict], start: dt.datetime, zone: ZoneInfo, ctx: Ctx, ambiguous: str) -> list[Step]:
    steps, last_ms = [], _epoch_ms(start, zone, ambiguous=ambiguous)  # (checked by the caller)
    bookmarked = visiting = False
    for i, step in enumerate(raw):
        with ctx.at(i):
            action = step["do"]
            _check_step(step, bookmarked, visiting, ctx)
            last_ms = _step_time(step, start, zone, last_ms, ctx, ambiguous=ambiguous)
            if last_ms > _LATEST_MS:
                ctx.fail("happens after the year 9000; check the date or the delays before it")
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
    ambiguous = head.get("ambiguous", "error")
    with ctx.at("scenario"):
        _epoch_ms(start, zone, ctx, "start", ambiguous)
    sessions = _sessions(doc["sessions"]["definitions"], ctx)
    definitions = tuple(d.name for d in sessions)
    journeys = []
    with ctx.at("journey"):
        for i, raw in enumerate(doc["journey"]):
            with ctx.at(i):
                jstart = raw.get("start", start)
                if "start" in raw:
                    _epoch_ms(jstart, zone, ctx, "start", ambiguous)
                with ctx.at("steps"):
                    steps = _build_steps(raw["steps"], jstart, zone, ctx, ambiguous)
                journeys.append(
                    Journey(
                        i,
                        raw["name"],
                        raw.get("person", raw["name"]),
                        raw["count"],
                        _epoch_ms(jstart, zone, ambiguous=ambiguous),
                        raw["tracking"],
                        tuple(steps),
                    )
                )
    population, campaigns, behavior, tracking = build_population(doc, tz, ctx)
    if not journeys and population is None:
        ctx.fail("nothing to simulate: add a [population] table or at least one [[journey]] table")
    campaign_names = {s.params["campaign"] for j in journeys for s in j.steps if "campaign" in s.params}
    campaign_names |= {c.name for c in campaigns}
    site = build_site(doc, {c.name for c in campaigns}, ctx)
    if site.internal_campaign > 0:
        campaign_names.add(site.internal_campaign_name)
    expectations = []
    with ctx.at("expect"):
        for i, raw in enumerate(doc["expect"]):
            with ctx.at(i):
                expectations.append(
                    build_expectation(
                        i,
                        raw,
                        definitions=definitions,
                        journeys=journeys,
                        campaigns=campaign_names,
                        default_replications=head["replications"],
                        ctx=ctx,
                    )
                )
    files, mapping = build_observed_files(doc["observed"], path, campaign_names, ctx)
    return Scenario(
        path=path,
        name=head["name"],
        description=head["description"],
        seed=head["seed"],
        start_ms=_epoch_ms(start, zone, ambiguous=ambiguous),
        timezone=tz,
        ad_timezone=head.get("ad_timezone", tz),
        journeys=tuple(journeys),
        definitions=definitions,
        expectations=tuple(expectations),
        replications=head["replications"],
        observed=build_observed(doc["observed"], definitions, ctx),
        observed_files=files,
        observed_campaigns=mapping,
        sessions=sessions,
        population=population,
        campaigns=campaigns,
        behavior=behavior,
        tracking=tracking,
        site=site,
    )


#: Per-event columns that only real logs carry, and the sessionize flag that names them. (Event names
#: exist in simulated logs: a hit is named by its kind, ``pageview`` or ``conversion``.)
_REAL_LOG_ONLY = {"gap": "--gap-column", "flag": "--flag-column"}


def _simulable(definition: Definition, ctx: Ctx) -> None:
    """A rule that reads a column only real logs carry cannot sessionize a simulated log."""
    for rule in definition.rules:
        need = getattr(rule, "needs", None)
        if need in _REAL_LOG_ONLY:
            ctx.fail(
                f"definition {definition.name!r}: rule {rule.name!r} reads a {need} per event from a real "
                f"log's column (sessionlab sessionize {_REAL_LOG_ONLY[need]}); simulated logs have none"
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
            with ctx.at(i):
                _simulable(definition, ctx)
            out.append(definition)
    return tuple(out)


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
    if not isinstance(text, str):
        what = "; for a file use load_scenario(path)" if isinstance(text, os.PathLike) else ""
        raise TypeError(f"loads_scenario() needs the TOML text as a str, got {type(text).__name__}{what}")
    text = text.removeprefix("\ufeff")  # a byte-order mark, as Windows editors write
    deep = _too_deep_line(text)
    if deep:
        raise ScenarioError(path, f"line {deep}", f"nested more than {MAX_NESTING} levels deep")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(path, "", f"not valid TOML: {shorten(str(err), 200)}") from None
    except ValueError:  # an integer of more than 4,300 digits (Python's int-to-str limit)
        line = next((i for i, ln in enumerate(text.splitlines(), 1) if re.search(r"\d{4000}", ln)), 0)
        where = f"line {line}" if line else ""
        raise ScenarioError(
            path, where, f"an integer of more than 4,300 digits; numbers are at most {MAX_NUMBER:g}"
        ) from None
    except RecursionError:
        raise ScenarioError(path, "", f"nested more than {MAX_NESTING} levels deep") from None
    if nesting_depth(doc) > MAX_NESTING:  # e.g. dotted keys a.b.c... that add no brackets
        raise ScenarioError(path, "", f"tables or arrays nested more than {MAX_NESTING} levels deep")
    return scenario_from_dict(doc, path)


def _too_deep_line(text: str) -> int:
    """The 1-based line where brackets nest past :data:`MAX_NESTING` (0 if they never do).

    A quick scan before ``tomllib`` (which recurses and would raise ``RecursionError``); it skips
    comments and single-line strings, and may miscount brackets inside multi-line strings, which
    only matters with more than 32 of them unbalanced.
    """
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        quote = ""
        for ch in line:
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in "[{":
                depth += 1
                if depth > MAX_NESTING:
                    return number
            elif ch in "]}":
                depth -= 1
    return 0


def scenario_from_dict(doc: dict[str, Any], path: str = "<dict>") -> Scenario:
    """Validate a parsed TOML document (``tomllib`` types) and build a :class:`Scenario`.

    The seam for changing values before validation (``sessionlab calibrate`` overrides parameters
    this way), so every bound of the schema still applies. ``doc`` is not modified.

    Raises
    ------
    ScenarioError
        With ``path``, the key path and what is allowed, for any problem in the document.
    """
    return _build(SCHEMA(doc, Ctx(path)), path)


def load_scenario(path: str | Path) -> Scenario:
    """Read, validate and build a scenario file.

    Raises
    ------
    ScenarioError
        When the file cannot be read or does not follow the schema.
    TypeError
        When ``path`` is not a path.
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"load_scenario() needs a file path (str or Path), got {type(path).__name__}")
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise ScenarioError(name, "", f"cannot read file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ScenarioError(name, "", "cannot read file: not UTF-8 text") from None
    return loads_scenario(text, name)

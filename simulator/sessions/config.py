"""Session definitions from configuration: scenario ``[sessions] definitions`` entries and CLI specs.

An entry is one of::

    "ga4"                                                   # a preset (or registered definition)
    { name = "ga4_45m", preset = "ga4", timeout = "45m" }   # a preset with overrides
    { name = "mine", rules = [{ rule = "inactivity", timeout = "30m", boundary = "new" },
                              { rule = "midnight" }] }      # a rule list

Override keys are the parameters of the preset's rules (``sessionlab definitions`` lists them); a
parameter that several of its rules take is addressed as ``RULE.PARAM`` (``"max_duration.boundary"``,
or TOML's dotted key ``max_duration.boundary = "new"``, which reads as ``max_duration = { boundary =
"new" }``); ``RULE.PARAM`` works for every parameter.
Errors name the key path and offer a "did you mean".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulator.errors import RuleError
from simulator.schema import Ctx, Duration, Table, did_you_mean
from simulator.sessions.presets import Definition
from simulator.sessions.registry import available_definitions, available_rules, get_definition, get_rule
from simulator.sessions.rules import Rule

__all__ = ["DefinitionEntry", "build_definition", "build_rule", "parse_definition_spec"]

_ENTRY_KEYS = ("name", "preset", "rules", "summary", "note")
_EXAMPLE = '{ name = "mine", preset = "ga4", timeout = "45m" } or { name = "mine", rules = [...] }'


def build_rule(raw: Any, ctx: Ctx) -> Rule:
    """One rule from a table ``{ rule = NAME, param = value, ... }``."""
    if not isinstance(raw, dict):
        ctx.fail(f'expected a rule table like {{ rule = "inactivity", timeout = "30m" }}, got {raw!r}')
    if "rule" not in raw:
        ctx.fail(f"missing required key 'rule' (one of {', '.join(available_rules())})")
    name = raw["rule"]
    with ctx.at("rule"):
        if not isinstance(name, str):
            ctx.fail(f"expected a rule name, got {name!r}")
        try:
            cls = get_rule(name)
        except RuleError:
            ctx.fail(
                f"unknown rule {name!r}; available: {', '.join(available_rules())}",
                did_you_mean(name, available_rules()),
            )
    params = {k: v for k, v in raw.items() if k != "rule"}
    return _construct(cls, params, ctx)


def _construct(cls: Any, params: Mapping[str, Any], ctx: Ctx) -> Rule:
    """Validate ``params`` against the rule's schema (built-ins) or its ``params`` (plug-ins)."""
    schema = getattr(cls, "schema", None)
    if isinstance(schema, Table):
        params = schema(dict(params), ctx)
    else:
        allowed = tuple(cls.params)
        for key in params:
            if key not in allowed:
                with ctx.at(key):
                    ctx.fail(
                        f"unknown parameter of rule {cls.name!r}; allowed: {', '.join(allowed) or 'none'}",
                        did_you_mean(key, allowed),
                    )
    try:
        return cls.from_config(params)
    except (ValueError, TypeError) as err:
        ctx.fail(f"rule {cls.name!r}: {err}")


def _preset(raw: dict[str, Any], ctx: Ctx) -> Definition:
    with ctx.at("preset"):
        name = raw["preset"]
        if not isinstance(name, str) or name not in available_definitions():
            ctx.fail(
                f"expected a preset (one of {', '.join(available_definitions())}), got {name!r}",
                did_you_mean(name, available_definitions()) if isinstance(name, str) else "",
            )
        return get_definition(name)


def _flatten(raw: dict[str, Any], rule_names: set[str]) -> dict[str, Any]:
    """Overrides with ``RULE = { PARAM = ... }`` tables (TOML's dotted keys ``max_duration.boundary``
    read as such a table) spelt ``RULE.PARAM``."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _ENTRY_KEYS:
            continue
        if isinstance(value, dict) and key in rule_names:
            out.update({f"{key}.{sub}": v for sub, v in value.items()})
        else:
            out[key] = value
    return out


def _with_overrides(base: Definition, name: str, raw: dict[str, Any], ctx: Ctx) -> Definition:
    overrides = _flatten(raw, {rule.name for rule in base.rules})
    params = base.parameters()
    accepted = {**base.qualified_parameters(), **params}  # RULE.PARAM always works
    allowed = (*_ENTRY_KEYS, *params)
    for key in overrides:
        if key not in accepted:
            ambiguous = [q for q, (_, p) in accepted.items() if p == key and "." in q]
            with ctx.at(key):
                if ambiguous:
                    ctx.fail(
                        f"several rules of preset {base.name!r} take {key!r}; say which: "
                        f"{', '.join(ambiguous)}"
                    )
                ctx.fail(
                    f"not a parameter of preset {base.name!r}; allowed keys here: {', '.join(allowed)}",
                    did_you_mean(key, allowed),
                )
    targets: dict[tuple[int, str], str] = {}
    for key in overrides:
        if accepted[key] in targets:
            with ctx.at(key):
                ctx.fail(f"{key!r} and {targets[accepted[key]]!r} set the same parameter; give one")
        targets[accepted[key]] = key
    rules = list(base.rules)
    for index in sorted({accepted[key][0] for key in overrides}):
        rule = rules[index]
        keys = [k for k in overrides if accepted[k][0] == index]
        mine = {accepted[k][1]: overrides[k] for k in keys}
        if any("." in k for k in keys):  # errors name the key as written: max_duration.boundary
            with ctx.at(rule.name):
                rules[index] = _construct(type(rule), {**rule.config(), **mine}, ctx)
        else:
            rules[index] = _construct(type(rule), {**rule.config(), **mine}, ctx)
    return base.renamed(name, tuple(rules), overrides)


def build_definition(raw: Any, ctx: Ctx) -> Definition:
    """A :class:`Definition` from a preset name, a preset with overrides, or a rule list."""
    if isinstance(raw, str):
        if raw not in available_definitions():
            ctx.fail(
                f"expected a session definition (one of {', '.join(available_definitions())}), got {raw!r}",
                did_you_mean(raw, available_definitions()),
            )
        return get_definition(raw)
    if not isinstance(raw, dict):
        ctx.fail(f"expected a preset name or a table like {_EXAMPLE}, got {raw!r}")
    if not isinstance(raw.get("name"), str) or not raw["name"]:
        ctx.fail(f"missing required key 'name' (a string), as in {_EXAMPLE}")
    name = raw["name"]
    if name in available_definitions():
        with ctx.at("name"):
            ctx.fail(f"{name!r} is the name of a preset; give your definition another name")
    if ("preset" in raw) == ("rules" in raw):
        ctx.fail("give either 'preset' (with overrides) or 'rules' (a list of rule tables)")
    if "preset" in raw:
        return _with_overrides(_preset(raw, ctx), name, raw, ctx)
    extra = sorted(set(raw) - set(_ENTRY_KEYS))
    if extra:
        with ctx.at(extra[0]):
            ctx.fail(
                f"unknown key; allowed keys here: {', '.join(_ENTRY_KEYS)} (rule parameters go "
                "inside the rule tables)",
                did_you_mean(extra[0], _ENTRY_KEYS),
            )
    with ctx.at("rules"):
        items = raw["rules"]
        if not isinstance(items, list) or not items:
            ctx.fail(f"expected a non-empty list of rule tables, got {items!r}")
        rules = []
        for i, item in enumerate(items):
            with ctx.at(i):
                rules.append(build_rule(item, ctx))
    summary = raw.get("summary") or f"Custom definition from a scenario file: {name}."
    return Definition(name, tuple(rules), str(summary), ("defined in the scenario file",))


class DefinitionEntry:
    """Schema check for one ``[sessions] definitions`` item; converts it to a :class:`Definition`."""

    def __call__(self, value: Any, ctx: Ctx) -> Definition:
        return build_definition(value, ctx)

    def json_schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "string", "enum": list(available_definitions())},
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "preset": {"type": "string", "enum": list(available_definitions())},
                        "rules": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["rule"],
                                "properties": {"rule": {"type": "string"}},
                            },
                        },
                    },
                    "description": "a preset with overrides (parameters of its rules) or a rule list",
                },
            ]
        }


def _scalar(text: str) -> Any:
    """A CLI value: an integer when it looks like one, else the string."""
    try:
        return int(text)
    except ValueError:
        return text


def _spec_part(part: str, spec: str, ctx: Ctx) -> tuple[str, dict[str, Any]]:
    """``NAME:key=value,...`` -> (NAME, {key: value})."""
    name, _, rest = part.partition(":")
    raw: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            ctx.fail(f"expected key=value after '{name}:', got {item!r}")
        if key.strip() in raw:
            ctx.fail(f"{key.strip()!r} is given twice in {spec!r}")
        raw[key.strip()] = _scalar(value.strip())
    return name.strip(), raw


def _durations_as_text(rule: str, params: dict[str, Any]) -> dict[str, Any]:
    """A CLI value of a duration parameter stays text (``default=0`` reads as ``"0"``, an error that
    asks for a unit, not "durations are quoted strings")."""
    try:
        fields = getattr(get_rule(rule), "schema", Table({})).fields
    except RuleError:
        return params
    return {
        k: str(v) if k in fields and isinstance(fields[k].check, Duration) and isinstance(v, int) else v
        for k, v in params.items()
    }


def parse_definition_spec(spec: str, source: str = "--definition") -> Definition:
    """A definition from a CLI spec (named as written): a preset ``ga4``, a preset with overrides
    ``ga4:timeout=45m,boundary=new``, or a list of rules joined by ``+``, each with its parameters:
    ``session_events:start=Login,end=Logout+midnight`` (as a scenario's ``rules = [...]``).

    A parameter that several rules of the preset take is addressed as ``RULE.PARAM``:
    ``posthog:max_duration.boundary=new``.
    """
    ctx = Ctx(source)
    parts = spec.split("+")
    first = parts[0].partition(":")[0].strip()
    if len(parts) > 1 or (first not in available_definitions() and first in available_rules()):
        rules = []
        with ctx.at("rules"):
            for i, part in enumerate(parts):
                with ctx.at(i):
                    name, params = _spec_part(part, spec, ctx)
                    rules.append(build_rule({"rule": name, **_durations_as_text(name, params)}, ctx))
        return Definition(spec, tuple(rules), f"Rules from the command line: {spec}.", ("--definition",))
    if ":" not in spec:
        return build_definition(spec, ctx)
    preset, raw = _spec_part(spec, spec, ctx)
    return build_definition({"name": spec, "preset": preset, **raw}, ctx)

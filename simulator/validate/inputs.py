"""The inputs of ``sessionlab validate``: files recognised by their content, settings merged key by key.

Each ``FILE`` is parsed as JSON, else as TOML (the extension only chooses which parse error to show
when it is neither), and then recognised by what it holds: a GTM container export
(``containerVersion``, :mod:`simulator.validate.gtm`), one of the GA4 Admin API or Google Ads API
documents of :mod:`simulator.validate.apis`, or a settings table (:mod:`simulator.validate.settings`).
A scenario's own ``[settings]`` table (``--scenario S``) is one more source.

Settings from several sources are merged key by key: a key given by one source is taken from it; a
list key (``site.domains`` ...) given by several is their union; a scalar key given by several with the
same value is that value, and with different values the inputs are refused (:class:`ScenarioError`
naming both places), so that nothing is silently overridden. Each key remembers where it was read,
and :func:`find_in` rewrites the findings' evidence to those places (``results[0].customer.timeZone``
in the Google Ads response rather than ``google_ads.timezone`` of a settings file that was never given).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError
from simulator.scenario.settings import SETTINGS
from simulator.schema import Ctx, Duration, ListOf, format_duration, shorten
from simulator.validate.apis import KINDS, detect_kind, read_api_document
from simulator.validate.findings import Finding, find
from simulator.validate.gtm import Container, parse_container
from simulator.validate.settings import Settings

__all__ = ["Inputs", "find_findings_in", "find_in", "read_inputs", "read_validate_inputs"]

_EXPECTED = (
    "expected a GTM container export, a GA4 Admin API or Google Ads API JSON, or a settings table (TOML)"
)
#: The settings' ``path`` when no settings file or scenario table was given (only API JSON): evidence of
#: a key that no input gave names this instead of a file.
NOT_GIVEN = "(not given)"


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the files hold: containers, the merged settings (or None), and for each settings key the
    places it was read from; ``kinds`` is ``(file, what it was read as)`` in argument order."""

    containers: tuple[Container, ...]
    settings: Settings | None
    where: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    notices: tuple[tuple[str, str, str], ...] = ()
    kinds: tuple[tuple[str, str], ...] = ()
    #: when the settings' keys are inside a scenario file, the prefix of their pointers ("settings.")
    prefix: str = ""


def _parse(name: str) -> Any:
    """JSON if it is JSON, else TOML (tagged), else a one-line error for the file."""
    try:
        text = Path(name).read_text(encoding="utf-8").removeprefix("\ufeff")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(name, "", f"cannot read: {exc}") from None
    if not text.strip():
        raise ScenarioError(name, "", f"empty file; {_EXPECTED}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        json_err = err
    try:
        return ("toml", tomllib.loads(text))
    except tomllib.TOMLDecodeError as err:
        toml_err = err
    where = f"line {json_err.lineno} column {json_err.colno}"
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        raise ScenarioError(name, where, f"not JSON: {json_err.msg}")
    if suffix == ".toml":
        raise ScenarioError(name, "", f"not valid TOML: {toml_err}")
    raise ScenarioError(
        name, "", f"{_EXPECTED}: not JSON ({where}: {json_err.msg}) and not TOML ({toml_err})"
    )


def _is_list_key(dotted: str) -> bool:
    section, key = dotted.split(".")
    return isinstance(SETTINGS.fields[section].check.fields[key].check, ListOf)


def _shown(dotted: str, value: Any) -> str:
    section, key = dotted.split(".")
    if isinstance(SETTINGS.fields[section].check.fields[key].check, Duration):
        return repr(format_duration(value))
    return shorten(value)


class _Merge:
    def __init__(self) -> None:
        self.values: dict[str, list[tuple[Any, str, str]]] = {}  # dotted -> (value, file, pointer)

    def add(self, dotted: str, value: Any, file: str, pointer: str) -> None:
        self.values.setdefault(dotted, []).append((value, file, pointer))

    def add_table(self, raw: dict[str, dict[str, Any]], file: str, prefix: str = "") -> None:
        for section, table in raw.items():
            for key, value in table.items():
                self.add(f"{section}.{key}", value, file, f"{prefix}{section}.{key}")

    def resolve(self) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[tuple[str, str], ...]]]:
        raw: dict[str, dict[str, Any]] = {}
        where: dict[str, tuple[tuple[str, str], ...]] = {}
        for dotted, given in self.values.items():
            section, key = dotted.split(".")
            if _is_list_key(dotted):
                value: Any = list(dict.fromkeys(x for v, _, _ in given for x in v))
            else:
                value, file0, ptr0 = given[0]
                for other, file, ptr in given[1:]:
                    if other != value:
                        raise ScenarioError(
                            file,
                            ptr,
                            f"[{section}] {key} is {_shown(dotted, other)} here but "
                            f"{_shown(dotted, value)} in {file0}: {ptr0}",
                            "the inputs disagree; correct one of them or leave one out",
                        )
            raw.setdefault(section, {})[key] = value
            where[dotted] = tuple(dict.fromkeys((f, p) for _, f, p in given))
        return raw, where


def read_inputs(
    files: Sequence[str],
    scenario: str | None = None,
    scenario_doc: dict[str, Any] | None = None,
) -> Inputs:
    """Read every file by its content and merge the settings with the scenario's ``[settings]``."""
    containers: list[Container] = []
    notices: list[tuple[str, str, str]] = []
    kinds: list[tuple[str, str]] = []
    merge = _Merge()
    primary, prefix = "", ""
    for name in files:
        if not Path(name).is_file():
            raise ScenarioError(name, "", f"no such file ({_EXPECTED})")
        doc = _parse(name)
        if isinstance(doc, tuple):  # a TOML table
            table = doc[1]
            if "scenario" in table:
                raise ScenarioError(
                    name, "scenario", "a scenario file, not a settings table: give it as --scenario"
                )
            merge.add_table(SETTINGS(table, Ctx(name)), name)
            primary = primary or name
            kinds.append((name, "settings table"))
        elif isinstance(doc, dict) and "containerVersion" in doc:
            container = parse_container(doc, name)
            containers.append(container)
            notices += [(name, p, m) for p, m in container.notices]
            kinds.append((name, "GTM container export"))
        else:
            kind = detect_kind(doc)
            if kind is None:
                raise ScenarioError(name, "(top level)", f"{_EXPECTED}; this JSON is none of them")
            src = read_api_document(doc, name, kind)
            for dotted, given in src.values.items():
                for value, pointer in given:
                    merge.add(dotted, value, name, pointer)
            notices += [(name, p, m) for p, m in src.notices]
            kinds.append((name, KINDS[kind]))
    if scenario_doc is not None and "settings" in scenario_doc and scenario:
        ctx = Ctx(scenario, ["settings"])
        merge.add_table(SETTINGS(scenario_doc["settings"], ctx), scenario, "settings.")
        if not primary:
            primary, prefix = scenario, "settings."
        kinds.append((scenario, "scenario [settings] table"))
    if not merge.values and not primary:
        return Inputs(tuple(containers), None, {}, tuple(notices), tuple(kinds))
    raw, where = merge.resolve()
    settings = Settings(primary or NOT_GIVEN, raw)
    return Inputs(tuple(containers), settings, where, tuple(notices), tuple(kinds), prefix)


def find_in(inputs: Inputs) -> list[Finding]:
    """:func:`simulator.validate.findings.find` on the inputs, each settings pointer replaced by the
    places the key was read from (a key no input gave keeps its name, under the settings' path)."""
    out = []
    s = inputs.settings
    for f in find(inputs.containers, s):
        if s is None:
            out.append(f)
            continue
        evidence: list[tuple[str, str]] = []
        for file, pointer in f.evidence:
            if file == s.path and pointer in inputs.where:
                evidence += inputs.where[pointer]
            elif file == s.path:
                evidence.append((file, inputs.prefix + pointer))
            else:
                evidence.append((file, pointer))
        out.append(dataclasses.replace(f, evidence=tuple(dict.fromkeys(evidence))))
    return out


#: The public API names (``simulator.read_validate_inputs``, ``simulator.find_findings_in``).
read_validate_inputs = read_inputs
find_findings_in = find_in

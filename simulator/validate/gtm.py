"""Reader for a Google Tag Manager container export (Admin > Export Container).

The export is JSON with ``exportFormatVersion`` (2) and a ``containerVersion`` object holding
``container``, ``tag[]``, ``trigger[]``, ``variable[]`` and ``builtInVariable[]``. Tags and triggers
are the Tag Manager API v2 resources:

- Tag: https://developers.google.com/tag-platform/tag-manager/api/reference/rest/v2/accounts.containers.workspaces.tags
  (``tagId``, ``name``, ``type``, ``parameter[]``, ``firingTriggerId[]``, ``blockingTriggerId[]``,
  ``tagFiringOption``, ``paused``, ``consentSettings``)
- Trigger: https://developers.google.com/tag-platform/tag-manager/api/reference/rest/v2/accounts.containers.workspaces.triggers
  (``triggerId``, ``name``, ``type`` and filters)
- Parameter: ``{type, key, value | list | map}`` (same reference).

Trigger types come in the API's spelling (``pageview``, ``domReady``, ``windowLoaded``, ``customEvent``,
``historyChange``, ``init``, ``consentInit``) and the export's (``PAGEVIEW``, ``DOM_READY``,
``WINDOW_LOADED``, ``CUSTOM_EVENT``, ``HISTORY_CHANGE``, ``INIT``, ``CONSENT_INIT``); both are read.
The built-in "All Pages" trigger is not listed in ``trigger[]``: exports reference it by the id
``2147479553``; "Initialization - All Pages" and "Consent Initialization - All Pages" by
``2147479573`` and ``2147479572`` [NC: ids observed in exports, not in the API reference].

Real exports vary: optional keys may be missing; unknown tag types and custom templates
(``cvt_…``) are kept as notices (``Container.notices``) and skipped by the rules, never an error.
Only a file that is not JSON or has no ``containerVersion`` is unreadable (:class:`ScenarioError`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError

__all__ = ["BUILT_IN_TRIGGERS", "KNOWN_TAG_TYPES", "Container", "Tag", "Trigger", "read_container"]

#: Tag types the rules understand, with what they are.
KNOWN_TAG_TYPES: dict[str, str] = {
    "googtag": "Google tag (GA4 configuration since 2023)",
    "gaawc": "GA4 configuration (before the Google tag)",
    "gaawe": "GA4 event",
    "gclidw": "Conversion Linker",
    "awct": "Google Ads conversion tracking",
    "sp": "Google Ads remarketing",
    "ua": "Universal Analytics",
    "html": "Custom HTML",
    "img": "Custom image",
    "flc": "Floodlight counter",
    "fls": "Floodlight sales",
}

#: Built-in triggers referenced by id without a ``trigger[]`` entry, as (name, API type).
BUILT_IN_TRIGGERS: dict[str, tuple[str, str]] = {
    "2147479553": ("All Pages", "pageview"),
    "2147479573": ("Initialization - All Pages", "init"),
    "2147479572": ("Consent Initialization - All Pages", "consentInit"),
}

#: The exportFormatVersion this reader is written for.
EXPORT_FORMAT_VERSION = 2

_CAMEL = re.compile(r"_([a-z])")


def trigger_type(raw: str) -> str:
    """A trigger type in the API's spelling: ``DOM_READY`` -> ``domReady``, ``pageview`` unchanged."""
    if raw.isupper() or "_" in raw:
        return _CAMEL.sub(lambda m: m.group(1).upper(), raw.lower())
    return raw


@dataclass(frozen=True, slots=True)
class Trigger:
    id: str
    name: str
    type: str  # API spelling
    pointer: str  # e.g. containerVersion.trigger[2]; "" for a built-in


@dataclass(frozen=True, slots=True)
class Tag:
    index: int
    id: str
    name: str
    type: str
    params: dict[str, Any]  # key -> value (str) or a list/map as exported
    firing: tuple[str, ...]
    blocking: tuple[str, ...]
    firing_option: str
    paused: bool
    consent: dict[str, Any]

    @property
    def pointer(self) -> str:
        return f"containerVersion.tag[{self.index}]"

    def param(self, key: str, default: str = "") -> str:
        value = self.params.get(key, default)
        return value if isinstance(value, str) else default

    def flag(self, key: str) -> bool:
        return self.param(key).lower() == "true"


@dataclass(frozen=True, slots=True)
class Container:
    path: str
    public_id: str
    tags: tuple[Tag, ...]
    triggers: dict[str, Trigger]
    variables: tuple[str, ...]
    built_in_variables: tuple[str, ...]
    notices: tuple[tuple[str, str], ...] = field(default=())  # (JSON pointer, what was skipped and why)

    def trigger(self, trigger_id: str) -> Trigger | None:
        if trigger_id in self.triggers:
            return self.triggers[trigger_id]
        if trigger_id in BUILT_IN_TRIGGERS:
            name, kind = BUILT_IN_TRIGGERS[trigger_id]
            return Trigger(trigger_id, name, kind, "")
        return None


def _params(raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(raw, list):
        for p in raw:
            if isinstance(p, dict) and isinstance(p.get("key"), str):
                out[p["key"]] = p["value"] if "value" in p else p.get("list", p.get("map"))
    return out


def _ids(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw) if isinstance(raw, list) else ()


def parse_container(doc: Any, path: str) -> Container:
    """A :class:`Container` from a parsed export; notices for everything skipped."""
    if not isinstance(doc, dict) or not isinstance(doc.get("containerVersion"), dict):
        raise ScenarioError(
            path,
            "containerVersion",
            "not a GTM container export: expected a JSON "
            "object with exportFormatVersion and a containerVersion object",
        )
    notices: list[tuple[str, str]] = []
    version = doc.get("exportFormatVersion")
    if version != EXPORT_FORMAT_VERSION:
        notices.append(("exportFormatVersion", f"expected 2, got {version!r}; read as version 2"))
    cv = doc["containerVersion"]
    container = cv.get("container") if isinstance(cv.get("container"), dict) else {}

    def items(key: str) -> list[Any]:
        value = cv.get(key)
        if value is None or isinstance(value, list):
            return value or []
        notices.append((f"containerVersion.{key}", f"skipped: expected a list, got {type(value).__name__}"))
        return []

    triggers: dict[str, Trigger] = {}
    for i, t in enumerate(items("trigger")):
        where = f"containerVersion.trigger[{i}]"
        if not isinstance(t, dict) or "triggerId" not in t or not isinstance(t.get("type"), str):
            notices.append((where, "skipped: a trigger needs triggerId and type"))
            continue
        triggers[str(t["triggerId"])] = Trigger(
            str(t["triggerId"]), str(t.get("name", "")), trigger_type(t["type"]), where
        )
    tags: list[Tag] = []
    for i, t in enumerate(items("tag")):
        where = f"containerVersion.tag[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("type"), str):
            notices.append((where, "skipped: a tag needs a type"))
            continue
        kind = t["type"]
        if kind not in KNOWN_TAG_TYPES:
            what = "custom template" if kind.startswith("cvt_") else "unknown tag type"
            notices.append((f"{where}.type", f"skipped: {what} {kind!r} ({t.get('name', '')!s})"))
            continue
        tags.append(
            Tag(
                i,
                str(t.get("tagId", i)),
                str(t.get("name", "")),
                kind,
                _params(t.get("parameter")),
                _ids(t.get("firingTriggerId")),
                _ids(t.get("blockingTriggerId")),
                str(t.get("tagFiringOption", "oncePerEvent")),
                bool(t.get("paused", False)),
                t.get("consentSettings") if isinstance(t.get("consentSettings"), dict) else {},
            )
        )
    for tag in tags:
        for k, tid in enumerate(tag.firing):
            if tid not in triggers and tid not in BUILT_IN_TRIGGERS:
                notices.append((f"{tag.pointer}.firingTriggerId[{k}]", f"unknown trigger id {tid!r}"))

    def names(key: str) -> tuple[str, ...]:
        return tuple(str(v.get("name", v.get("type", ""))) for v in items(key) if isinstance(v, dict))

    return Container(
        path,
        str(container.get("publicId", "")),
        tuple(tags),
        triggers,
        names("variable"),
        names("builtInVariable"),
        tuple(notices),
    )


def read_container(path: str | Path) -> Container:
    """Read a container export; :class:`ScenarioError` (one line) if it cannot be read."""
    path = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "", f"cannot read: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(path, f"line {exc.lineno} column {exc.colno}", f"not JSON: {exc.msg}") from None
    return parse_container(doc, path)

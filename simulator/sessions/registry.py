"""Lookup of session definitions by name: a private dict behind a read-only view."""

from __future__ import annotations

from types import MappingProxyType

from simulator._schema import did_you_mean
from simulator.errors import RuleError
from simulator.sessions.presets import PRESETS, Definition

__all__ = ["available_definitions", "definitions", "get_definition", "register_definition"]

_definitions: dict[str, Definition] = dict(PRESETS)
#: Read-only view of every registered definition, by name.
definitions = MappingProxyType(_definitions)


def available_definitions() -> tuple[str, ...]:
    """Names of every registered definition, sorted."""
    return tuple(sorted(_definitions))


def get_definition(name: str) -> Definition:
    """The definition called ``name``.

    Raises
    ------
    RuleError
        If no definition has that name (the message lists the available ones).
    """
    try:
        return _definitions[name]
    except KeyError:
        hint = did_you_mean(name, available_definitions())
        raise RuleError(
            f"unknown session definition {name!r}; available: "
            f"{', '.join(available_definitions())}" + (f"; {hint}" if hint else "")
        ) from None


def register_definition(definition: Definition, *, clobber: bool = False) -> None:
    """Add a definition; refuse to replace an existing one unless ``clobber``."""
    if definition.name in _definitions and not clobber:
        raise ValueError(f"a definition named {definition.name!r} is already registered")
    _definitions[definition.name] = definition

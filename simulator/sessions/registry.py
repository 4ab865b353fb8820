"""Lookup of session rules and definitions by name: private dicts behind read-only views.

Built-in rules are lazy import strings (:data:`~simulator.sessions.rules.BUILTIN_RULES`) registered
through the same path as third-party ones. Third-party rules come from the ``sessionlab.rules``
entry-point group, scanned once, on the first lookup of a name that is not registered (never at
import). Every rule class is checked against :class:`~simulator.sessions.rules.RuleContract` when it
is registered; the distribution that supplied it is recorded.
"""

from __future__ import annotations

import importlib
import inspect
from types import MappingProxyType
from typing import Any

from simulator.errors import PluginError, RuleError
from simulator.schema import did_you_mean
from simulator.sessions.presets import PRESETS, Definition
from simulator.sessions.rules import BUILTIN_RULES, SplitCause

__all__ = [
    "ENTRY_POINT_GROUP",
    "available_definitions",
    "available_rules",
    "definitions",
    "get_definition",
    "get_rule",
    "register_rule",
    "rule_distribution",
    "rules",
]

#: The entry-point group third-party packages use to add rules: ``name = "package.module:RuleClass"``.
ENTRY_POINT_GROUP = "sessionlab.rules"

_definitions: dict[str, Definition] = dict(PRESETS)
#: Read-only view of every registered definition, by name.
definitions = MappingProxyType(_definitions)

_rules: dict[str, type] = {}
#: Read-only view of every registered rule class, by name (built-ins appear on first lookup).
rules = MappingProxyType(_rules)
_distributions: dict[str, str] = {}
_state = {"builtins": False, "scanned": False}


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


def _signature_problem(cls: type, method: str, arity: int) -> str:
    func = getattr(cls, method, None)
    if not callable(func):
        return f"has no method {method}(self, cols, timezone)"
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):  # builtins without signatures: trust them
        return ""
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(positional) != arity and not any(p.kind == p.VAR_POSITIONAL for p in params):
        shown = f"{method}{inspect.signature(func)}"
        return f"{shown} must take (self, cols, timezone)"
    return ""


def _contract_problems(name: str, cls: Any) -> list[str]:
    """Why ``cls`` does not meet :class:`RuleContract` (empty when it does)."""
    if not isinstance(cls, type):
        return [f"expected a class, got {type(cls).__name__} {cls!r}"]
    problems = []
    if getattr(cls, "name", None) != name:
        problems.append(f"name = {getattr(cls, 'name', None)!r} must equal the registered name {name!r}")
    cause = getattr(cls, "cause", None)
    if not isinstance(cause, SplitCause) or cause in (SplitCause.CONTINUES, SplitCause.NEW_USER):
        problems.append(f"cause = {cause!r} must be a SplitCause rule cause (third parties: PLUGIN_RULE)")
    stateful = getattr(cls, "stateful", None)
    if not isinstance(stateful, bool):
        problems.append(f"stateful = {stateful!r} must be True or False")
    if not hasattr(getattr(cls, "params", None), "items"):
        problems.append("params must be a mapping of parameter name -> description")
    problems.extend(
        f"has no method {method}()"
        for method in ("from_config", "describe")
        if not callable(getattr(cls, method, None))
    )
    if isinstance(stateful, bool):
        problem = _signature_problem(cls, "next_start" if stateful else "starts", 3)
        if problem:
            problems.append(problem)
    return problems


def register_rule(name: str, cls: type, clobber: bool = False, *, distribution: str = "") -> None:
    """Register a rule class under ``name`` after checking it meets the rule contract.

    Parameters
    ----------
    name
        The name scenario files use (``{ rule = "name", ... }``).
    cls
        A class meeting :class:`~simulator.sessions.rules.RuleContract`.
    clobber
        Replace an existing rule of that name instead of raising.
    distribution
        The package that supplied it (recorded for ``sessionlab definitions``).

    Raises
    ------
    PluginError
        If ``cls`` does not meet the contract, or ``name`` is taken and not ``clobber``.
    """
    plugin = distribution or getattr(cls, "__module__", "?")
    problems = _contract_problems(name, cls)
    if problems:
        raise PluginError(
            plugin, f"rule {name!r} ({cls!r}) does not meet the rule contract: " + "; ".join(problems)
        )
    if name in _rules and not clobber and _rules[name] is not cls:
        raise PluginError(
            plugin,
            f"rule {name!r} is already registered (from {_distributions.get(name, '?')}); "
            "pass clobber=True to replace it",
        )
    _rules[name] = cls
    _distributions[name] = distribution or plugin


def _load_builtins() -> None:
    if _state["builtins"]:
        return
    _state["builtins"] = True
    for name, target in BUILTIN_RULES.items():
        module, _, attr = target.partition(":")
        register_rule(name, getattr(importlib.import_module(module), attr), distribution="sessionlab")


def entry_points(group: str) -> Any:
    """``importlib.metadata.entry_points(group=...)``, imported on first use (30-100 ms of every start-up)."""
    from importlib.metadata import entry_points as found  # noqa: PLC0415

    return found(group=group)


def _scan_entry_points() -> None:
    """Register every rule of the ``sessionlab.rules`` group (once)."""
    if _state["scanned"]:
        return
    _state["scanned"] = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist is not None else ep.value
        where = f"{dist} (entry point {ep.name} = {ep.value})"
        try:
            cls = ep.load()
        except Exception as err:  # a broken plugin must not hide the others' names
            raise PluginError(where, f"cannot load: {type(err).__name__}: {err}") from err
        register_rule(ep.name, cls, distribution=where)


def available_rules(*, plugins: bool = True) -> tuple[str, ...]:
    """Names of every rule, sorted (scans the entry points unless ``plugins=False``)."""
    _load_builtins()
    if plugins:
        _scan_entry_points()
    return tuple(sorted(_rules))


def get_rule(name: str) -> type:
    """The rule class called ``name``; scans third-party entry points on the first unknown name.

    Raises
    ------
    RuleError
        If no rule has that name (the message lists the available ones).
    """
    _load_builtins()
    if name not in _rules:
        _scan_entry_points()
    try:
        return _rules[name]
    except KeyError:
        names = available_rules()
        hint = did_you_mean(name, names)
        raise RuleError(
            f"unknown session rule {name!r}; available: {', '.join(names)}" + (f"; {hint}" if hint else "")
        ) from None


def rule_distribution(name: str) -> str:
    """Which distribution supplied rule ``name`` (``"sessionlab"`` for built-ins)."""
    get_rule(name)
    return _distributions[name]

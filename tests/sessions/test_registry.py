"""The rule registry: built-ins through the same path, third-party rules via entry points, validated."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
import pytest

from simulator import sessionize
from simulator.errors import PluginError, RuleError
from simulator.sessions import registry
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.kernels import Columns
from simulator.sessions.presets import Definition
from simulator.sessions.rules import Inactivity, SplitCause


class EveryHour:
    """A third-party stateless rule: a new session whenever the UTC hour changes."""

    name: ClassVar[str] = "every_hour"
    cause: ClassVar[SplitCause] = SplitCause.PLUGIN_RULE
    stateful: ClassVar[bool] = False
    params: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> EveryHour:
        return cls()

    def describe(self) -> str:
        return "every_hour()"

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        hour = cols.ts // 3_600_000
        out = np.zeros(len(hour), dtype=bool)
        out[1:] = hour[1:] != hour[:-1]
        return out


class NoStarts:
    """Claims to be stateless but has no ``starts`` method."""

    name: ClassVar[str] = "no_starts"
    cause = SplitCause.PLUGIN_RULE
    stateful = False
    params: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> NoStarts:
        return cls()

    def describe(self) -> str:
        return "no_starts()"


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """An isolated registry: no rules loaded, entry points not yet scanned."""
    monkeypatch.setattr(registry, "_rules", {})
    monkeypatch.setattr(registry, "rules", registry.MappingProxyType(registry._rules))
    monkeypatch.setattr(registry, "_distributions", {})
    monkeypatch.setattr(registry, "_state", {"builtins": False, "scanned": False})


def _entry_point(name: str, obj: object, calls: list) -> SimpleNamespace:
    def load() -> object:
        calls.append(name)
        return obj

    return SimpleNamespace(
        name=name, value=f"thirdparty:{name}", dist=SimpleNamespace(name="thirdparty"), load=load
    )


def test_builtins_register_through_the_same_path(fresh_registry: None) -> None:
    """The nine built-in rules are registered from import strings, recorded as sessionlab's."""
    names = registry.available_rules(plugins=False)
    assert names == (
        "campaign_change",
        "dynamic_gap",
        "fixed_window",
        "flag",
        "inactivity",
        "max_duration",
        "max_events",
        "midnight",
        "session_events",
    )
    assert registry.get_rule("inactivity") is Inactivity
    assert registry.rule_distribution("midnight") == "sessionlab"


def test_entry_points_are_scanned_lazily_on_first_unknown_name(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Known names never scan; the first unknown one does, once, and records the distribution."""
    calls: list = []
    monkeypatch.setattr(
        registry, "entry_points", lambda group: [_entry_point("every_hour", EveryHour, calls)]
    )
    registry.get_rule("inactivity")
    assert calls == []
    assert registry.get_rule("every_hour") is EveryHour
    assert "thirdparty" in registry.rule_distribution("every_hour")
    with pytest.raises(RuleError, match=r"unknown session rule 'every_hour2'.*did you mean 'every_hour'"):
        registry.get_rule("every_hour2")
    assert calls == ["every_hour"]


def test_plugin_rule_runs_in_a_definition_and_is_labelled(
    fresh_registry: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registered third-party rule sessionizes and names its cause PLUGIN_RULE."""
    registry.register_rule("every_hour", EveryHour, distribution="thirdparty")
    definition = Definition("hourly", (EveryHour(),), "test")
    ts = np.array([0, 1_000, 3_600_000], dtype=np.int64)
    _, causes = sessionize(np.zeros(3, np.int64), ts, definition, with_causes=True)
    assert causes.tolist() == [SplitCause.NEW_USER, 0, SplitCause.PLUGIN_RULE]


def test_contract_violations_are_reported_at_registration(fresh_registry: None) -> None:
    """A class missing a kernel method, or with a wrong name, is refused with the reasons."""
    with pytest.raises(PluginError, match=r"has no method starts\(self, cols, timezone\)") as info:
        registry.register_rule("no_starts", NoStarts, distribution="thirdparty")
    assert info.value.plugin == "thirdparty"
    with pytest.raises(PluginError, match="must equal the registered name 'other'"):
        registry.register_rule("other", EveryHour)
    with pytest.raises(PluginError, match="expected a class"):
        registry.register_rule("every_hour", EveryHour())  # type: ignore[arg-type]


def test_clashes_need_clobber(fresh_registry: None) -> None:
    """Registering a second class under a taken name raises unless clobber=True."""
    registry.available_rules(plugins=False)

    class Other(EveryHour):
        name: ClassVar[str] = "inactivity"

    with pytest.raises(PluginError, match="already registered"):
        registry.register_rule("inactivity", Other)
    registry.register_rule("inactivity", Other, clobber=True)
    assert registry.rules["inactivity"] is Other


def test_broken_entry_point_names_the_plugin(fresh_registry: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point that fails to import is a PluginError naming the distribution and entry point."""

    def boom() -> None:
        raise ImportError("no module named thirdparty")

    ep = SimpleNamespace(
        name="bad", value="thirdparty:Bad", dist=SimpleNamespace(name="thirdparty"), load=boom
    )
    monkeypatch.setattr(registry, "entry_points", lambda group: [ep])
    with pytest.raises(PluginError, match=r"thirdparty.*entry point bad.*cannot load"):
        registry.get_rule("bad")


def test_registry_views_are_read_only() -> None:
    """The public views cannot be written to."""
    with pytest.raises(TypeError):
        registry.rules["x"] = Inactivity  # type: ignore[index]
    with pytest.raises(TypeError):
        registry.definitions["x"] = parse_definition_spec("ga4")  # type: ignore[index]

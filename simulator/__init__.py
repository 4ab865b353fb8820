"""sessionlab: simulate visitor journeys and explain why clicks, views and sessions disagree.

The public API::

    scenario = load_scenario("scenarios/amazon_clicks_vs_sessions.toml")
    result = run(scenario)                  # simulate + sessionize + count + bridge
    result.metric("sessions", "ga4")
    sessionize(user_ids, timestamps, "ga4")  # your own event log
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it. Imported on first use (PEP 562), so that
#: ``import simulator.engine`` in a worker process, or ``sessionlab --help``, does not pay for scipy.
_EXPORTS: dict[str, str] = {
    "AdCounts": "simulator.metrics",
    "AnalyticsCounts": "simulator.metrics",
    "Bridge": "simulator.explain",
    "Cause": "simulator.events",
    "Definition": "simulator.sessions",
    "Device": "simulator.events",
    "EventLog": "simulator.events",
    "Kind": "simulator.events",
    "Loss": "simulator.events",
    "Outcome": "simulator.expect",
    "PluginError": "simulator.errors",
    "Result": "simulator.result",
    "RuleError": "simulator.errors",
    "Scenario": "simulator.scenario",
    "ScenarioError": "simulator.errors",
    "SessionlabError": "simulator.errors",
    "Source": "simulator.events",
    "available_definitions": "simulator.sessions",
    "available_rules": "simulator.sessions",
    "calibrate": "simulator.calibrate",
    "clicks_to_sessions": "simulator.explain",
    "compare_definitions": "simulator.compare",
    "compare_observed": "simulator.stats",
    "evaluate": "simulator.expect",
    "evaluate_scenario": "simulator.expect",
    "get_definition": "simulator.sessions",
    "iter_chunks": "simulator.engine",
    "json_schema": "simulator.scenario",
    "load_scenario": "simulator.scenario",
    "loads_scenario": "simulator.scenario",
    "register_rule": "simulator.sessions",
    "replicate": "simulator.stats",
    "run": "simulator.result",
    "run_log": "simulator.result",
    "sessionize": "simulator.sessions",
    "simulate": "simulator.engine",
    "split_table": "simulator.explain",
    "write_report": "simulator.report",
}

__all__ = [
    "AdCounts",
    "AnalyticsCounts",
    "Bridge",
    "Cause",
    "Definition",
    "Device",
    "EventLog",
    "Kind",
    "Loss",
    "Outcome",
    "PluginError",
    "Result",
    "RuleError",
    "Scenario",
    "ScenarioError",
    "SessionlabError",
    "Source",
    "__version__",
    "available_definitions",
    "available_rules",
    "calibrate",
    "clicks_to_sessions",
    "compare_definitions",
    "compare_observed",
    "evaluate",
    "evaluate_scenario",
    "get_definition",
    "iter_chunks",
    "json_schema",
    "load_scenario",
    "loads_scenario",
    "register_rule",
    "replicate",
    "run",
    "run_log",
    "sessionize",
    "simulate",
    "split_table",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # static type checkers and IDEs see the real imports
    from simulator.calibrate import calibrate
    from simulator.compare import compare_definitions
    from simulator.engine import iter_chunks, simulate
    from simulator.errors import PluginError, RuleError, ScenarioError, SessionlabError
    from simulator.events import Cause, Device, EventLog, Kind, Loss, Source
    from simulator.expect import Outcome, evaluate, evaluate_scenario
    from simulator.explain import Bridge, clicks_to_sessions, split_table
    from simulator.metrics import AdCounts, AnalyticsCounts
    from simulator.report import write_report
    from simulator.result import Result, run, run_log
    from simulator.scenario import Scenario, json_schema, load_scenario, loads_scenario
    from simulator.sessions import (
        Definition,
        available_definitions,
        available_rules,
        get_definition,
        register_rule,
        sessionize,
    )
    from simulator.stats import compare_observed, replicate

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
#: ``import simulator.engine.simulate`` in a worker process, or ``sessionlab --help``, does not pay for scipy.
_EXPORTS: dict[str, str] = {
    "AdCounts": "simulator.analysis.metrics",
    "AnalyticsCounts": "simulator.analysis.metrics",
    "Bridge": "simulator.analysis.bridges",
    "Cause": "simulator.log.events",
    "Definition": "simulator.sessions",
    "Device": "simulator.log.events",
    "EventLog": "simulator.log.events",
    "Kind": "simulator.log.events",
    "Loss": "simulator.log.events",
    "Outcome": "simulator.testing.expect",
    "PluginError": "simulator.errors",
    "Result": "simulator.analysis.result",
    "RuleError": "simulator.errors",
    "Scenario": "simulator.scenario.loader",
    "ScenarioError": "simulator.errors",
    "SessionlabError": "simulator.errors",
    "Source": "simulator.log.events",
    "available_definitions": "simulator.sessions",
    "available_rules": "simulator.sessions",
    "calibrate": "simulator.testing.calibrate",
    "clicks_to_sessions": "simulator.analysis.bridges",
    "compare_definitions": "simulator.analysis.comparisons",
    "compare_observed": "simulator.testing.stats",
    "evaluate": "simulator.testing.expect",
    "evaluate_scenario": "simulator.testing.expect",
    "find_findings": "simulator.validate.findings",
    "find_findings_in": "simulator.validate.inputs",
    "get_definition": "simulator.sessions",
    "iter_chunks": "simulator.engine.simulate",
    "json_schema": "simulator.scenario.loader",
    "load_scenario": "simulator.scenario.loader",
    "load_settings": "simulator.validate.settings",
    "loads_scenario": "simulator.scenario.loader",
    "measure_effects": "simulator.validate.effect",
    "read_export": "simulator.log.formats",
    "read_log": "simulator.log.logfile",
    "read_container": "simulator.validate.gtm",
    "read_validate_inputs": "simulator.validate.inputs",
    "register_rule": "simulator.sessions",
    "replicate": "simulator.testing.stats",
    "run": "simulator.analysis.result",
    "run_log": "simulator.analysis.result",
    "sessionize": "simulator.sessions",
    "simulate": "simulator.engine.simulate",
    "split_table": "simulator.analysis.bridges",
    "write_report": "simulator.report.directory",
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
    "find_findings",
    "find_findings_in",
    "get_definition",
    "iter_chunks",
    "json_schema",
    "load_scenario",
    "load_settings",
    "loads_scenario",
    "measure_effects",
    "read_container",
    "read_export",
    "read_log",
    "read_validate_inputs",
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
    from simulator.analysis.bridges import Bridge, clicks_to_sessions, split_table
    from simulator.analysis.comparisons import compare_definitions
    from simulator.analysis.metrics import AdCounts, AnalyticsCounts
    from simulator.analysis.result import Result, run, run_log
    from simulator.engine.simulate import iter_chunks, simulate
    from simulator.errors import PluginError, RuleError, ScenarioError, SessionlabError
    from simulator.log.events import Cause, Device, EventLog, Kind, Loss, Source
    from simulator.report.directory import write_report
    from simulator.scenario.loader import Scenario, json_schema, load_scenario, loads_scenario
    from simulator.sessions import (
        Definition,
        available_definitions,
        available_rules,
        get_definition,
        register_rule,
        sessionize,
    )
    from simulator.testing.calibrate import calibrate
    from simulator.testing.expect import Outcome, evaluate, evaluate_scenario
    from simulator.testing.stats import compare_observed, replicate

"""sessionlab: simulate visitor journeys and explain why clicks, views and sessions disagree.

The public API::

    scenario = load_scenario("scenarios/amazon_clicks_vs_sessions.toml")
    result = run(scenario)                  # simulate + sessionize + count + bridge
    result.metric("sessions", "ga4")
    sessionize(user_ids, timestamps, "ga4")  # your own event log
"""

from __future__ import annotations

__version__ = "0.1.0"

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

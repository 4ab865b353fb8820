"""sessionlab: simulate visitor journeys and explain why clicks, views and sessions disagree.

The public API::

    scenario = load_scenario("scenarios/amazon_clicks_vs_sessions.toml")
    result = run(scenario)                  # simulate + sessionize + count + bridge
    result.metric("sessions", "ga4")
    sessionize(user_ids, timestamps, "ga4")  # your own event log
"""

from __future__ import annotations

__version__ = "0.1.0"

from simulator.engine import simulate
from simulator.errors import PluginError, RuleError, ScenarioError, SessionlabError
from simulator.events import Cause, EventLog, Kind, Loss, Source
from simulator.expect import Outcome, evaluate
from simulator.explain import Bridge, clicks_to_sessions
from simulator.metrics import AdCounts, AnalyticsCounts
from simulator.result import Result, run, run_log
from simulator.scenario import Scenario, load_scenario, loads_scenario
from simulator.sessions import Definition, available_definitions, get_definition, sessionize

__all__ = [
    "AdCounts",
    "AnalyticsCounts",
    "Bridge",
    "Cause",
    "Definition",
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
    "clicks_to_sessions",
    "evaluate",
    "get_definition",
    "load_scenario",
    "loads_scenario",
    "run",
    "run_log",
    "sessionize",
    "simulate",
]

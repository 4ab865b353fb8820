"""The column rules in scenario files: session_events reads a simulated hit's kind as its event name;
dynamic_gap and flag need columns only real logs carry, so a scenario naming them is refused."""

from __future__ import annotations

import pytest

from simulator import loads_scenario, run
from simulator.errors import ScenarioError

SCENARIO = """
[scenario]
name = "after the purchase"
start = 2024-04-08T00:00:00
timezone = "UTC"

[sessions]
definitions = ["ga4", {{ name = "mine", rules = [{rules}] }}]

[[journey]]
name = "buys, then browses on"
count = 3
steps = [
  {{ at = 10:00:00, do = "click", campaign = "spring", page = "shoes" }},
  {{ after = "1m", do = "view", page = "checkout" }},
  {{ after = "1m", do = "convert", value = 10.0 }},
  {{ after = "1m", do = "view", page = "more" }},
  {{ after = "1m", do = "view", page = "more" }},
]
"""


def test_session_events_on_simulated_hits_end_a_session_after_the_conversion() -> None:
    """Each visitor: click landing, checkout, conversion, two more views, minutes apart. ga4 keeps one
    session each (3); ending a session after the conversion event gives two each (6), the second
    started by session_event."""
    rules = '{ rule = "session_events", end = "conversion" }, { rule = "inactivity", timeout = "30m" }'
    result = run(loads_scenario(SCENARIO.format(rules=rules)))
    assert result.definitions["ga4"].counts.sessions == 3
    assert result.definitions["mine"].counts.sessions == 6
    bridge = result.definitions["mine"].bridge
    assert bridge.term("session_event") == 3
    assert bridge.start + sum(t.delta for t in bridge.terms) == bridge.end == 6


@pytest.mark.parametrize(("rule", "flag"), [("dynamic_gap", "--gap-column"), ("flag", "--flag-column")])
def test_rules_reading_real_log_columns_are_refused_in_scenarios(rule: str, flag: str) -> None:
    with pytest.raises(
        ScenarioError,
        match=rf"sessions\.definitions\[2\]: definition 'mine': rule '{rule}' "
        rf"reads a .* per event from a real log's column \(sessionlab sessionize {flag}\)",
    ):
        loads_scenario(SCENARIO.format(rules=f'{{ rule = "{rule}" }}'))

"""``[sessions] definitions``: preset names, presets with overrides, rule lists, and their errors."""

from __future__ import annotations

import pytest

from simulator import loads_scenario, run
from simulator.errors import ScenarioError
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.rules import CampaignChange, Inactivity, Midnight

HEAD = """
[scenario]
name = "t"
start = 2024-05-01T23:00:00
timezone = "Europe/Berlin"

[[journey]]
name = "night owl"
steps = [
  { at = 23:40:00, do = "return", via = "direct" },
  { after = "40m", do = "view", page = "b", note = "00:20, 40 min later" },
]
"""


def _scenario(sessions: str, expect: str = "") -> str:
    return f"{HEAD}\n[sessions]\n{sessions}\n{expect}"


def test_inline_definitions_run_and_expectations_name_them() -> None:
    """A preset with overrides and a rule list run side by side, addressed by their names."""
    text = _scenario(
        'definitions = ["ga4", { name = "ga4_45m", preset = "ga4", timeout = "45m" },\n'
        '  { name = "day", rules = [{ rule = "midnight" }] }]',
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4_45m"\nequals = 1\n',
    )
    scenario = loads_scenario(text)
    assert scenario.definitions == ("ga4", "ga4_45m", "day")
    assert scenario.sessions[1].rules == (Inactivity(45 * 60_000, "same"),)
    assert scenario.sessions[1].preset == "ga4"
    result = run(scenario)
    assert result.metric("sessions", "ga4") == 2  # 40 min > 30 min
    assert result.metric("sessions", "ga4_45m") == 1
    assert result.metric("sessions", "day") == 2  # midnight in Berlin, the property's zone
    assert result.metric("bridge.midnight", "day") == 1


@pytest.mark.parametrize(
    ("sessions", "key_path", "match"),
    [
        ('definitions = ["ga5"]', "sessions.definitions[1]", "did you mean 'ga4'"),
        (
            'definitions = [{ name = "x", preset = "ga4", timeot = "45m" }]',
            "sessions.definitions[1].timeot",
            "did you mean 'timeout'",
        ),
        (
            'definitions = [{ name = "x", preset = "ga4", timeout = "soon" }]',
            "sessions.definitions[1].timeout",
            "a duration",
        ),
        (
            'definitions = [{ name = "x", preset = "gaa4" }]',
            "sessions.definitions[1].preset",
            "did you mean 'ga4'",
        ),
        (
            'definitions = [{ name = "x", rules = [{ rule = "inactivty", timeout = "1m" }] }]',
            "sessions.definitions[1].rules[1].rule",
            "did you mean 'inactivity'",
        ),
        (
            'definitions = [{ name = "x", rules = [{ rule = "inactivity", timeout = "1m", boundry = "" }] }]',
            "sessions.definitions[1].rules[1].boundry",
            "did you mean 'boundary'",
        ),
        (
            'definitions = [{ name = "x", rules = [{ rule = "max_events" }] }]',
            "sessions.definitions[1].rules[1]",
            "missing required key 'n'",
        ),
        ('definitions = [{ name = "x" }]', "sessions.definitions[1]", "either 'preset'"),
        ('definitions = [{ name = "ga4", preset = "ga4" }]', "sessions.definitions[1].name", "preset"),
        (
            'definitions = [{ name = "x", preset = "ga4" }, { name = "x", preset = "matomo" }]',
            "sessions.definitions[2]",
            "used twice",
        ),
        (
            'definitions = [{ name = "x", rules = [{ rule = "midnight", timezone = "Europe/Berln" }] }]',
            "sessions.definitions[1].rules[1].timezone",
            "Europe/Berlin",
        ),
    ],
)
def test_bad_definitions_name_the_key_path(sessions: str, key_path: str, match: str) -> None:
    """Every mistake is a ScenarioError at its key path, with a hint where one is close."""
    with pytest.raises(ScenarioError, match=match) as info:
        loads_scenario(_scenario(sessions))
    assert info.value.key_path == key_path


def test_expectation_naming_an_unknown_definition_is_an_error() -> None:
    """Expectations refer to definitions by name; a typo is caught with a hint."""
    text = _scenario(
        'definitions = [{ name = "ga4_45m", preset = "ga4", timeout = "45m" }]',
        '[[expect]]\nmetric = "sessions"\ndefinition = "ga4_46m"\nequals = 1\n',
    )
    with pytest.raises(ScenarioError, match="did you mean 'ga4_45m'") as info:
        loads_scenario(text)
    assert info.value.key_path == "expect[1].definition"


def test_overriding_one_rule_of_a_preset_keeps_the_others() -> None:
    """universal_analytics with a Tokyo midnight keeps its inactivity and campaign rules."""
    d = parse_definition_spec("universal_analytics:timezone=Asia/Tokyo,from_none=split")
    assert d.rules == (Inactivity(1_800_000), Midnight("Asia/Tokyo"), CampaignChange("split", "split"))
    assert d.overrides == {"timezone": "Asia/Tokyo", "from_none": "split"}


def test_cli_spec_errors_name_the_flag() -> None:
    """A bad --definition spec names the flag and the key."""
    with pytest.raises(ScenarioError, match="--definition: timeout: expected a duration"):
        parse_definition_spec("ga4:timeout=0m")

"""The published JSON Schema agrees with the validator on bundled and invalid scenario files."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import pytest

from simulator.errors import ScenarioError
from simulator.scenario.loader import json_schema, loads_scenario

jsonschema = pytest.importorskip("jsonschema")

REPO = Path(__file__).resolve().parents[2]
# scenarios/validate/ holds settings tables for `sessionlab validate`, not scenarios
BUNDLED = sorted(p for p in (REPO / "scenarios").rglob("*.toml") if "validate" not in p.parts)


def _as_json(value: Any) -> Any:
    """TOML dates and times become ISO strings, as an editor's JSON view of the file shows them."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value


def _validator() -> Any:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_scenarios_validate(path: Path) -> None:
    """Every bundled scenario file is valid under the published schema."""
    doc = _as_json(tomllib.loads(path.read_text(encoding="utf-8")))
    errors = [e.message for e in _validator().iter_errors(doc)]
    assert errors == []


HEAD = """
[scenario]
name = "x"
[[journey]]
name = "j"
steps = [{ at = 2024-05-01T10:00:00, do = "click", campaign = "c" }]
"""


@pytest.mark.parametrize(
    "tail",
    [
        '[[expect]]\nmetric = "clicks"\n',
        '[[expect]]\nmetric = "clicks"\nequals = 1\nat_least = 1\n',
        '[[expect]]\nmetric = "clicks"\nequals = 1\nrel = 0.1\n',
        '[[expect]]\nmetric = "clicks"\nbetween = [1, 2, 3]\n',
        '[[expect]]\nmetric = "clickz"\nequals = 1\n',
        '[[expect]]\nmetric = "clicks"\nequals = 1\nstatistic = "median"\n',
        '[[expect]]\nmetric = "clicks"\nequals = 1\nconfidence = 1.5\n',
        '[[expect]]\nmetric = "clicks"\nequals = 1\ncolour = "red"\n',
        '[sessions]\ndefinitions = ["nope"]\n',
        "[scenario.extra]\n",
        "[observed]\nads = 3\n",
        '[observed]\nads.clicks = "many"\n',
    ],
)
def test_invalid_documents_are_rejected_by_both(tail: str) -> None:
    """The validator and the JSON Schema reject the same mistakes."""
    text = HEAD + tail
    with pytest.raises(ScenarioError):
        loads_scenario(text)
    doc = _as_json(tomllib.loads(text))
    assert list(_validator().iter_errors(doc)), f"schema accepted: {tail!r}"


def test_valid_forms_are_accepted_by_both() -> None:
    """Each form and slice the validator accepts, the schema accepts too."""
    text = HEAD + (
        '[[expect]]\nmetric = "clicks"\napprox = 1\nrel = 0.1\nday = 2024-05-01\n'
        '[[expect]]\ncompare = "ads.clicks >= ga4.sessions"\nreplications = 3\nstatistic = "p95"\n'
        '[[expect]]\nmetric = "cost"\nbetween = [0, 1]\ncampaign = "c"\n'
        "[observed]\nads.clicks = 10412\nga4.sessions = 7380\nga4.bridge.bookmark = 12\n"
    )
    loads_scenario(text)
    assert list(_validator().iter_errors(_as_json(tomllib.loads(text)))) == []

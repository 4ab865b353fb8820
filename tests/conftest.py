"""Shared fixtures: the repository root, scenario text helpers, and running scenarios."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from simulator import loads_scenario, run
from simulator.analysis.result import Result

# pytester runs the sessionlab pytest plugin end to end (tests/test_pytest_plugin.py).
pytest_plugins = ["pytester"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz",
        type=int,
        default=None,
        metavar="N",
        help="examples per fuzz test in tests/fuzz (default: $SESSIONLAB_FUZZ, else a bounded CI set)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--fuzz"):
        os.environ["SESSIONLAB_FUZZ"] = str(config.getoption("--fuzz"))


ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def write_scenario(tmp_path: Path):
    """Write TOML text to ``tmp_path/name`` and return the path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def scenario_text(
    journeys: str,
    definitions: tuple[str, ...] = ("ga4",),
    timezone: str = "UTC",
    ad_timezone: str | None = None,
    start: str = "2024-05-01T08:00:00",
) -> str:
    """A scenario file around ``journeys`` (one or more ``[[journey]]`` tables)."""
    ad = f'ad_timezone = "{ad_timezone}"\n' if ad_timezone else ""
    defs = ", ".join(f'"{d}"' for d in definitions)
    return (
        f'[scenario]\nname = "t"\nstart = {start}\ntimezone = "{timezone}"\n{ad}'
        f"[sessions]\ndefinitions = [{defs}]\n{journeys}"
    )


@pytest.fixture
def simulate_text():
    """Run a scenario built by :func:`scenario_text` and return the Result."""

    def _run(journeys: str, **kwargs) -> Result:
        return run(loads_scenario(scenario_text(journeys, **kwargs)))

    return _run

"""Shared helpers: build a scenario from journey TOML snippets and run it."""

from __future__ import annotations

import pytest

from simulator import loads_scenario, run
from simulator.result import Result


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

"""The public surface: one sorted __all__, documented in the README."""

from __future__ import annotations

import simulator

from .conftest import ROOT


def test_all_is_sorted_and_importable():
    """__all__ is sorted and every name exists."""
    assert list(simulator.__all__) == sorted(simulator.__all__)
    for name in simulator.__all__:
        assert hasattr(simulator, name), name


def test_readme_documents_every_public_name():
    """Each public name appears in the README's Python API section."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    api = readme.split("## Python API", 1)[1].split("\n## ", 1)[0]
    missing = [n for n in simulator.__all__ if n != "__version__" and f"`{n}" not in api]
    assert missing == []


def test_readme_scenario_example_is_a_valid_scenario():
    """The annotated example in the README's Scenario format section loads and runs."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Scenario format", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    scenario = simulator.loads_scenario(block, "README.md")
    assert scenario.definitions == ("ga4", "universal_analytics", "ga4_45m", "mine")
    result = simulator.run(scenario, visitors=200)
    assert result.metric("sessions", "mine") >= 1

"""Shared fixtures: the repository root and a helper to write scenario text to a file."""

from __future__ import annotations

from pathlib import Path

import pytest

# pytester runs the sessionlab pytest plugin end to end (tests/test_pytest_plugin.py).
pytest_plugins = ["pytester"]

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

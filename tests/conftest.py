"""Shared fixtures; ``pytester`` runs the pytest plugin end to end."""

from __future__ import annotations

pytest_plugins = ["pytester"]

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

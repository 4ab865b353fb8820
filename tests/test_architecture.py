"""The layers of docs/design.md hold: import-linter's contracts in pyproject.toml, and no cycles."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simulator"
LAYERS = (
    "cli",
    "report",
    "validate",
    "testing",
    "spark",
    "testbench",
    "analysis",
    "engine",
    "scenario",
    "sessions",
    "log",
)


def test_import_linter_contracts_are_kept() -> None:
    """`lint-imports` (the contracts in pyproject.toml) exits 0; its output says which import broke one."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 3 kept, 0 broken." in proc.stdout


def _imports(path: Path) -> set[str]:
    """Every ``simulator...`` module a file imports, at any depth (lazy and TYPE_CHECKING imports too)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("simulator"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("simulator"))
    return out


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycle_between_modules() -> None:
    """An independent check of the acyclic contract: a depth-first search over the module graph."""
    modules = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: {d for d in _imports(p) if d in modules and d != m} for m, p in modules.items()}
    # "from simulator.x import y" names the package x too; a package's __init__ importing its own
    # submodules (simulator.sessions) is not a cycle of the submodule back to it.
    for m, deps in graph.items():
        graph[m] = {d for d in deps if not (m.startswith(d + ".") and d != "simulator")}
    graph["simulator"] = set()  # the lazy public API imports on attribute access only
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack[stack.index(d) :], d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_is_a_package_with_a_docstring(layer: str) -> None:
    init = PACKAGE / layer / "__init__.py"
    assert init.exists(), f"simulator/{layer}/ is not a package"
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert doc, f"simulator/{layer}/__init__.py has no docstring"
    assert len(doc) > 80, f"simulator/{layer}/__init__.py does not say what the package owns"


def test_the_flat_package_holds_only_the_api_errors_and_schema() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "errors.py", "schema.py"]

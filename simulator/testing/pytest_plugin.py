"""pytest plugin: scenario files with ``[[expect]]`` tables run as tests, one item per expectation.

Registered through the ``pytest11`` entry point ``sessionlab``; importing it does nothing but define
the hooks and classes (sessionlab itself is imported only when a scenario file is collected).

Collected, among the files pytest visits (its arguments, else ``testpaths``): a ``.toml`` file with an
``[[expect]]`` table that

- is a sessionlab scenario by its content: it has a top-level ``scenario`` table (so ``pytest .``
  finds ``checkout.toml`` wherever it is; turn this off with the ini option ``sessionlab_detect =
  false``), or
- lies under a path of the ini option ``sessionlab_scenarios`` (directories or files, relative to
  the ini file), or
- matches the ini option ``sessionlab_file_regex`` (searched in the rootdir-relative path; by default
  every ``.toml`` under a directory named ``scenarios`` and any ``*.scenario.toml``), or
- is named on the command line.

A broken file fails collection with the one-line error; a failed expectation prints expected vs
actual, the bridge of the definitions involved and the scenario lines of the expectation, without a
traceback. Disable with ``-p no:sessionlab``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from simulator.scenario.loader import Expectation, Scenario
    from simulator.testing.expect import Outcome

#: Default of the ``sessionlab_file_regex`` ini option (searched in the rootdir-relative POSIX path).
DEFAULT_FILE_REGEX = r"(^|/)scenarios/.*\.toml$|\.scenario\.toml$"


#: A top-level ``[scenario]`` table (a header, or ``scenario.name = ...`` / ``scenario = {...}``):
#: what makes a TOML file a sessionlab scenario by its content.
_SCENARIO_HEADER = re.compile(
    r"^[ \t]*(\[[ \t]*scenario[ \t]*\][ \t]*(#.*)?$|scenario[ \t]*[.=])", re.MULTILINE
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ini options that select scenario files."""
    parser.addini(
        "sessionlab_file_regex",
        help="regular expression (searched in the rootdir-relative path) selecting sessionlab "
        f"scenario files to collect; default {DEFAULT_FILE_REGEX!r}",
        default=DEFAULT_FILE_REGEX,
    )
    parser.addini(
        "sessionlab_scenarios",
        type="paths",
        help="directories or files (relative to the ini file) whose .toml files with [[expect]] are "
        "collected as sessionlab scenarios, wherever they are",
        default=[],
    )
    parser.addini(
        "sessionlab_detect",
        type="bool",
        help="collect any .toml file with a [scenario] table and [[expect]] tables (default true)",
        default=True,
    )


def _shown_path(path: Path, config: pytest.Config) -> str:
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return path.as_posix()


def _named_on_command_line(path: Path, config: pytest.Config) -> bool:
    base = config.invocation_params.dir
    return any((base / arg.split("::", 1)[0]).resolve() == path.resolve() for arg in config.args)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    """Collect a TOML file with ``[[expect]]`` that matches the pattern or was named explicitly."""
    if file_path.suffix != ".toml":
        return None
    config = parent.config
    pattern = config.getini("sessionlab_file_regex")
    shown = _shown_path(file_path, config)
    chosen = (
        re.search(pattern, shown)
        or _under(file_path, config.getini("sessionlab_scenarios"))
        or _named_on_command_line(file_path, config)
    )
    if not chosen and not config.getini("sessionlab_detect"):
        return None
    from simulator.testing.expect import has_expectations

    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        # a chosen file that cannot be read fails in collect(); an unreadable other TOML is not ours
        return ScenarioFile.from_parent(parent, path=file_path) if chosen else None
    if not has_expectations(text) or not (chosen or _SCENARIO_HEADER.search(text)):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


def _under(path: Path, roots: list[Path]) -> bool:
    """Whether ``path`` is one of ``roots`` or inside one of them."""
    resolved = path.resolve()
    return any(resolved == (r := root.resolve()) or r in resolved.parents for root in roots)


class ExpectationFailedError(Exception):
    """An expectation did not hold; carries its :class:`~simulator.testing.expect.Outcome`."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.describe())
        self.outcome = outcome


def _unique(names: list[str]) -> list[str]:
    """Test names must be unique in a file: repeats get `` (2)``, `` (3)`` ..."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


class ScenarioFile(pytest.File):
    """A scenario file: one :class:`ExpectationItem` per ``[[expect]]`` table.

    The scenario runs (and replicates) once, when its first item runs; every item reads its verdict.
    """

    scenario: Scenario
    text: str

    def collect(self) -> Iterator[ExpectationItem]:
        from simulator.errors import ScenarioError
        from simulator.scenario.loader import load_scenario
        from simulator.testing.expect import expect_blocks

        shown = _shown_path(self.path, self.config)
        try:
            self.scenario = load_scenario(self.path)
        except ScenarioError as err:
            shown_err = ScenarioError(shown, err.key_path, err.message, err.hint)
            raise self.CollectError(str(shown_err)) from None
        self.text = self.path.read_text(encoding="utf-8")
        self._outcomes: list[Outcome] | None = None
        blocks = expect_blocks(self.text)
        names = _unique([e.name for e in self.scenario.expectations])
        for exp, name in zip(self.scenario.expectations, names, strict=True):
            lines = blocks[exp.index] if exp.index < len(blocks) else None
            yield ExpectationItem.from_parent(self, name=name, expectation=exp, lines=lines)

    def outcomes(self) -> list[Outcome]:
        """Every expectation's outcome, computed on first use."""
        if self._outcomes is None:
            from simulator.testing.expect import evaluate_scenario

            self._outcomes = evaluate_scenario(self.scenario)
        return self._outcomes


class ExpectationItem(pytest.Item):
    """One ``[[expect]]`` table of a scenario file."""

    def __init__(self, *, expectation: Expectation, lines: tuple[int, int] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.expectation = expectation
        self.lines = lines

    def runtest(self) -> None:
        """Fail with :class:`ExpectationFailedError` when the expectation does not hold."""
        assert isinstance(self.parent, ScenarioFile)
        outcome = self.parent.outcomes()[self.expectation.index]
        if not outcome.passed:
            raise ExpectationFailedError(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A domain report for failed expectations and sessionlab errors; pytest's own otherwise."""
        from simulator.errors import SessionlabError

        if isinstance(excinfo.value, ExpectationFailedError):
            assert isinstance(self.parent, ScenarioFile)
            shown = _shown_path(self.path, self.config)
            return excinfo.value.outcome.report(self.lines, shown, self.parent.text)
        if isinstance(excinfo.value, SessionlabError):
            return f"sessionlab error: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the expectation is: the file, its ``[[expect]]`` line (0-based) and a label."""
        line = self.lines[0] - 1 if self.lines else 0
        assert isinstance(self.parent, ScenarioFile)
        return self.path, line, f"scenario {self.parent.scenario.name}: {self.name}"

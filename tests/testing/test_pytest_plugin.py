"""The pytest plugin end to end with pytester: collection, passing and failing items, bad files."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest

from simulator.scenario.loader import load_scenario
from simulator.testing.expect import has_expectations

REPO = Path(__file__).resolve().parents[2]

SCENARIO = """\
[scenario]
name = "demo"

[sessions]
definitions = ["ga4"]

[[journey]]
name = "distracted"
steps = [
  { at = 2024-05-01T10:00:00, do = "click", campaign = "raincoat", cost = 0.75 },
  { after = "43m", do = "view", page = "raincoat" },
]

[[expect]]
metric = "clicks"
equals = 1

[[expect]]
name = "one session per visit"
metric = "sessions"
definition = "ga4"
equals = {sessions}
"""


def _scenario(sessions: int) -> str:
    return SCENARIO.replace("{sessions}", str(sessions))


def _plugin_args() -> list[str]:
    """Load the plugin explicitly unless its pytest11 entry point is installed (then it loads itself)."""
    installed = any(
        ep.value == "simulator.testing.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    # hypothesis's plugin re-imports (and assertion-rewrites) all of hypothesis in every inner run.
    quiet = ["-p", "no:hypothesispytest", "-p", "no:cacheprovider"]
    return quiet if installed else [*quiet, "-p", "simulator.testing.pytest_plugin"]


def _write(pytester: pytest.Pytester, relpath: str, text: str) -> Path:
    path = pytester.path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_entry_point_is_declared() -> None:
    """pyproject.toml registers the plugin under pytest11 as 'sessionlab'."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["entry-points"]["pytest11"] == {"sessionlab": "simulator.testing.pytest_plugin"}


def test_passing_expectations_are_items_named_after_them(pytester: pytest.Pytester) -> None:
    """Each [[expect]] becomes one item, named after the expectation."""
    _write(pytester, "scenarios/demo.toml", _scenario(2))
    result = pytester.runpytest("-v", *_plugin_args())
    result.stdout.fnmatch_lines(
        ["*scenarios/demo.toml::clicks PASSED*", "*scenarios/demo.toml::one session per visit PASSED*"]
    )
    result.assert_outcomes(passed=2)


def test_failure_prints_expected_actual_bridge_and_lines(pytester: pytest.Pytester) -> None:
    """A wrong expectation fails with the domain report and no Python traceback."""
    _write(pytester, "scenarios/demo.toml", _scenario(1))
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*scenario demo: one session per visit*",
            "FAIL one session per visit: expected 1, actual 2",
            "  expected  ga4.sessions == 1",
            "  actual    2",
            "  bridge    clicks -> ga4 sessions",
            "    ad clicks * 1",
            "    inactivity * +1  a visit split by the inactivity timeout",
            "    = sessions * 2",
            "  scenario  scenarios/demo.toml:18-22",
            "      18 | [[expect]]",
            '      19 | name = "one session per visit"',
            "      22 | equals = 1",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "def runtest" not in result.stdout.str()


def test_broken_file_fails_collection_with_one_line(pytester: pytest.Pytester) -> None:
    """A scenario error is a collection error: the one-line message, not a traceback."""
    _write(
        pytester,
        "scenarios/bad.toml",
        _scenario(2).replace("equals = 1\n", "at_most = 1\nequals = 1\n", 1),
    )
    result = pytester.runpytest(*_plugin_args())
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting scenarios/bad.toml*",
            "scenarios/bad.toml: expect[1]: expected exactly one of equals, between, approx, at_least, "
            "at_most, compare; found 'equals' and 'at_most'",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_default_pattern_and_command_line(pytester: pytest.Pytester) -> None:
    """scenarios/**, *.scenario.toml, scenarios by content and named files are collected; other TOML not."""
    _write(pytester, "scenarios/nested/a.toml", _scenario(2))
    _write(pytester, "checks/b.scenario.toml", _scenario(2))
    _write(pytester, "elsewhere/c.toml", _scenario(2))
    not_ours = '[tool]\nname = "x"\n\n[[expect]]\nmetric = "clicks"\n'  # [[expect]], no [scenario]
    _write(pytester, "elsewhere/d.toml", not_ours)
    _write(pytester, "scenarios/no_expect.toml", SCENARIO.split("[[expect]]", maxsplit=1)[0])
    result = pytester.runpytest("--collect-only", "-q", *_plugin_args())
    out = result.stdout.str()
    assert "scenarios/nested/a.toml::clicks" in out
    assert "checks/b.scenario.toml::clicks" in out
    assert "elsewhere/c.toml::clicks" in out
    assert "elsewhere/d.toml" not in out
    assert "no_expect" not in out
    named = pytester.runpytest("-q", "elsewhere/c.toml", *_plugin_args())
    named.assert_outcomes(passed=2)


def test_pytest_dot_finds_a_scenario_outside_a_scenarios_folder(pytester: pytest.Pytester) -> None:
    """`pytest .` with checkout.toml at the top: its expectations run (it said "no tests ran")."""
    _write(pytester, "checkout.toml", _scenario(2))
    _write(
        pytester, "qa/inline.toml", _scenario(2).replace('[scenario]\nname = "demo"', 'scenario.name = "x"')
    )
    result = pytester.runpytest(".", "-q", *_plugin_args())
    result.assert_outcomes(passed=4)
    assert "checkout.toml" in pytester.runpytest(".", "--collect-only", "-q", *_plugin_args()).stdout.str()


def test_sessionlab_scenarios_and_detect_options(pytester: pytest.Pytester) -> None:
    """With detection off only the pattern and the listed paths count; a listed path needs no marker."""
    pytester.makeini("[pytest]\nsessionlab_detect = false\nsessionlab_scenarios = qa extra/one.toml\n")
    _write(pytester, "qa/deep/x.toml", _scenario(2))
    _write(pytester, "extra/one.toml", _scenario(2))
    _write(pytester, "extra/two.toml", _scenario(2))
    _write(pytester, "scenarios/y.toml", _scenario(2))
    out = pytester.runpytest("--collect-only", "-q", *_plugin_args()).stdout.str()
    assert "qa/deep/x.toml::clicks" in out
    assert "extra/one.toml::clicks" in out
    assert "scenarios/y.toml::clicks" in out  # the default pattern still applies
    assert "extra/two.toml" not in out  # detection is off


def test_ini_option_sets_the_pattern(pytester: pytest.Pytester) -> None:
    """sessionlab_file_regex replaces the default pattern (detection by content off, to see it)."""
    pytester.makeini("[pytest]\nsessionlab_file_regex = ^qa/.*\\.toml$\nsessionlab_detect = false\n")
    _write(pytester, "qa/x.toml", _scenario(2))
    _write(pytester, "scenarios/y.toml", _scenario(2))
    result = pytester.runpytest("--collect-only", "-q", *_plugin_args())
    out = result.stdout.str()
    assert "qa/x.toml::clicks" in out
    assert "scenarios/y.toml" not in out


def test_duplicate_names_are_made_unique_and_reportinfo_points_at_the_block(
    pytester: pytest.Pytester,
) -> None:
    """Two unnamed expectations on the same metric get distinct names; locations are 0-based lines."""
    text = _scenario(2) + '\n[[expect]]\nmetric = "clicks"\nat_least = 1\n'
    _write(pytester, "scenarios/demo.toml", text)
    items, _ = pytester.inline_genitems(*_plugin_args())
    assert [i.name for i in items] == ["clicks", "one session per visit", "clicks (2)"]
    assert items[0].location == ("scenarios/demo.toml", 13, "scenario demo: clicks")
    assert items[2].location[1] == 23


def test_bundled_scenarios_run_as_tests(pytester: pytest.Pytester) -> None:
    """`pytest scenarios/` collects and passes every expectation of every bundled scenario."""
    files = [
        p for p in sorted((REPO / "scenarios").rglob("*.toml")) if has_expectations(p.read_text("utf-8"))
    ]
    expected = sum(len(load_scenario(p).expectations) for p in files)
    result = pytester.runpytest(str(REPO / "scenarios"), "-q", *_plugin_args())
    result.assert_outcomes(passed=expected)

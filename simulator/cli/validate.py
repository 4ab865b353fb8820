"""``sessionlab validate``: read GTM container exports and a settings table, report the findings and
measure each effect with the bridge (registered by :mod:`simulator.cli.main`)."""

from __future__ import annotations

import argparse
import sys
import tomllib
from pathlib import Path
from typing import Any

from simulator.cli import terminal
from simulator.cli.argtypes import whole
from simulator.errors import ScenarioError
from simulator.log.atomic import write_atomic
from simulator.report.validate import render_validate_json, render_validate_text, validate_junit
from simulator.schema import MAX_SIZE
from simulator.validate.effect import as_configured, default_shop, measure, to_toml
from simulator.validate.findings import SEVERITIES, find
from simulator.validate.gtm import Container, read_container
from simulator.validate.settings import Settings, load_settings

__all__ = ["add_validate"]

_COUNT = whole(1, "10000", MAX_SIZE)
_REPS = whole(0, "10", 10_000)


def _inputs(files: list[str]) -> tuple[list[Container], Settings | None]:
    containers: list[Container] = []
    settings: Settings | None = None
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise ScenarioError(name, "", "no such file (expected a GTM export .json or a settings .toml)")
        if path.suffix.lower() == ".json":
            containers.append(read_container(path))
        elif path.suffix.lower() == ".toml":
            if settings is not None:
                raise ScenarioError(name, "", f"a second settings file; {settings.path} was given already")
            settings = load_settings(path)
        else:
            raise ScenarioError(
                name, "", "expected a GTM container export (.json) or a settings table (.toml)"
            )
    return containers, settings


def _base(scenario: str | None) -> tuple[dict[str, Any], str]:
    if not scenario:
        return default_shop(), "the default shop (docs/validate.md)"
    try:
        return tomllib.loads(Path(scenario).read_text(encoding="utf-8")), scenario
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(scenario, "", f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(scenario, "", f"not valid TOML: {exc}") from None


def _cmd_validate(args: argparse.Namespace) -> int:
    containers, settings = _inputs(args.files)
    findings = find(containers, settings)
    notices = [(c.path, p, m) for c in containers for p, m in c.notices]
    base, scenario_name = _base(args.scenario)
    if args.emit_scenario:
        header = f"The configuration as found by sessionlab validate in {', '.join(args.files)}."
        write_atomic(
            Path(args.emit_scenario),
            to_toml(as_configured(base, findings, args.scenario or "<default shop>"), header).encode(),
        )
        print(f"wrote {args.emit_scenario}", file=sys.stderr)
    effects = []
    if args.replications:
        with terminal.progress("validate: simulating", None, "run") as on_progress:
            done = 0

            def advance(now: int, total: int) -> None:  # measure() says (runs done, runs in all)
                nonlocal done
                on_progress.set_total(total)
                on_progress(now - done)
                done = now

            effects = measure(
                base,
                findings,
                replications=args.replications,
                visitors=args.visitors,
                path=args.scenario or "<default shop>",
                progress=advance,
            )
    render = render_validate_json if args.json else render_validate_text
    sys.stdout.write(render(findings, effects, notices, scenario_name, args.replications))
    if args.junit_xml:
        write_atomic(Path(args.junit_xml), validate_junit(findings, args.fail_on))
    failed = any(SEVERITIES.index(f.severity) >= SEVERITIES.index(args.fail_on) for f in findings)
    return 1 if failed else 0


def add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="find what in a GTM container and settings makes clicks, sessions and views disagree",
        description="Read GTM container exports (.json, Admin > Export Container) and a site/property "
        "settings table (.toml, docs/validate.md), list the findings, and measure each effect: the "
        "scenario simulated as configured and as fixed on common seeds. Exit 1 if a finding is at or "
        "above --fail-on, 2 for unreadable input.",
    )
    p.add_argument(
        "files", nargs="+", metavar="FILE", help="container exports (.json) and one settings file (.toml)"
    )
    p.add_argument(
        "--scenario", metavar="S", help="the scenario to simulate (default: the documented default shop)"
    )
    p.add_argument("--visitors", type=_COUNT, metavar="N", help="override [population] visitors")
    p.add_argument(
        "--replications",
        type=_REPS,
        default=10,
        metavar="R",
        help="replications per variant (default 10; 0 = findings only)",
    )
    p.add_argument("--json", action="store_true", help="print JSON (stable shape)")
    p.add_argument("--junit-xml", metavar="F", help="write the findings as JUnit XML")
    p.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default="error",
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above this severity (info, warning, error; default error)",
    )
    p.add_argument(
        "--emit-scenario", metavar="OUT", help="write the scenario TOML of the configuration as found"
    )
    p.set_defaults(func=_cmd_validate)

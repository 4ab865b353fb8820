"""``sessionlab validate``: read GTM container exports, GA4 Admin API / Google Ads API JSON and settings
tables (files recognised by content: :mod:`simulator.validate.inputs`), report the findings, measure
each effect with the bridge, and write them into a report directory with ``--report`` (registered by
:mod:`simulator.cli.main`)."""

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
from simulator.report.validate import (
    render_validate_json,
    render_validate_text,
    validate_document,
    validate_junit,
)
from simulator.schema import MAX_SIZE
from simulator.validate.effect import as_configured, default_shop, measure, to_toml
from simulator.validate.findings import SEVERITIES
from simulator.validate.inputs import find_in, read_inputs

__all__ = ["add_validate"]

_COUNT = whole(1, "10000", MAX_SIZE)
_REPS = whole(0, "10", 10_000)


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
    base, scenario_name = _base(args.scenario)
    if not args.files and not (args.scenario and "settings" in base):
        raise ScenarioError(
            args.scenario or "sessionlab validate",
            "",
            "nothing to validate: give FILEs (GTM exports, API JSON, settings tables) or a --scenario "
            "with a [settings] table",
        )
    inputs = read_inputs(args.files, args.scenario, base if args.scenario else None)
    findings = find_in(inputs)
    notices = list(inputs.notices)
    path = args.scenario or "<default shop>"
    if args.emit_scenario:
        header = f"The configuration as found by sessionlab validate in {', '.join(args.files)}."
        write_atomic(
            Path(args.emit_scenario),
            to_toml(as_configured(base, findings, path), header).encode(),
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
                path=path,
                progress=advance,
            )
    shown = (findings, effects, notices, scenario_name, args.replications)
    if args.json:
        sys.stdout.write(render_validate_json(*shown, inputs=inputs.kinds))
    else:
        sys.stdout.write(render_validate_text(*shown))
    if args.junit_xml:
        write_atomic(Path(args.junit_xml), validate_junit(findings, args.fail_on))
    if args.report:
        _write_report(args, base, path, findings, validate_document(*shown, inputs=inputs.kinds))
    failed = any(SEVERITIES.index(f.severity) >= SEVERITIES.index(args.fail_on) for f in findings)
    return 1 if failed else 0


def _write_report(
    args: argparse.Namespace, base: dict[str, Any], path: str, findings: list[Any], document: dict[str, Any]
) -> None:
    """``--report DIR``: the scenario as configured, run once at its seed, written as the report
    directory every command writes, with the findings and effects as its validate section."""
    from simulator.analysis.result import run  # noqa: PLC0415 - only with --report
    from simulator.report.directory import write_report  # noqa: PLC0415
    from simulator.scenario.loader import scenario_from_dict  # noqa: PLC0415

    configured = scenario_from_dict(as_configured(base, findings, path), path)
    result = run(configured, visitors=args.visitors)
    description = (
        f"{configured.description} As configured by {', '.join(args.files)} (sessionlab validate): "
        "the run below is the configuration as found; the findings and the effect of each fix follow."
    ).strip()
    written = write_report(result, args.report, description, validate=document)
    print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)


def add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="find what in a GTM container and settings makes clicks, sessions and views disagree",
        description="Read GTM container exports (Admin > Export Container), GA4 Admin API and Google Ads "
        "API JSON as the APIs return them, and site/property settings tables (TOML, or [settings] in "
        "the scenario; docs/validate.md), list the findings, and measure each effect: the "
        "scenario simulated as configured and as fixed on common seeds. Exit 1 if a finding is at or "
        "above --fail-on, 2 for unreadable input.",
    )
    p.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        help="GTM container exports, GA4 Admin API / Google Ads API JSON, settings tables (TOML); "
        "recognised by their content (docs/validate.md)",
    )
    p.add_argument(
        "--scenario",
        metavar="S",
        help="the scenario to simulate (default: the documented default shop); its [settings] table, "
        "if any, is read as one more settings source",
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
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write the report directory (report.html, report.md, result.json, sessions.csv, charts) "
        "of the scenario as configured, with the findings and effects as a section",
    )
    p.set_defaults(func=_cmd_validate)

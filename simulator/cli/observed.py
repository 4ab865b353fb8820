"""``compare --observed FILE[:FORMAT]``: report exports judged day by day and campaign by campaign."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from simulator.cli.terminal import progress
from simulator.errors import ScenarioError

__all__ = ["add_arguments", "reports_of", "run_reports"]


def add_arguments(p: argparse.ArgumentParser, *, chart: bool = True) -> None:
    """The options ``compare`` (and, without the chart, ``calibrate``) gain for report files."""
    p.add_argument(
        "--observed",
        action="append",
        default=[],
        metavar="FILE[:FORMAT]",
        help="a report export to compare per day and campaign (formats: google_ads, ga4_report, "
        "microsoft_ads, meta_ads; "
        "default from the name: ads -> google_ads, ga4 -> ga4_report); repeatable",
    )
    p.add_argument(
        "--campaign-map",
        action="append",
        default=[],
        metavar="REPORT=SCENARIO",
        help="a report campaign name and the scenario campaign it is (repeatable)",
    )
    if chart:
        p.add_argument("--report", metavar="DIR", help="write the observed-vs-band chart per day into DIR")


def reports_of(args: argparse.Namespace) -> tuple[list, dict[str, str]]:
    """The ``--observed`` reports (read) and the ``--campaign-map`` table."""
    from simulator.scenario.observed import read_report  # noqa: PLC0415

    return [read_report(*_spec(spec)) for spec in args.observed], _mapping(args)


def _mapping(args: argparse.Namespace) -> dict[str, str]:
    mapping = {}
    for item in args.campaign_map:
        left, sep, right = item.partition("=")
        if not sep or not left.strip() or not right.strip():
            raise ScenarioError(item, "--campaign-map", "expected REPORT NAME=SCENARIO NAME")
        mapping[left.strip()] = right.strip()
    return mapping


def _spec(text: str) -> tuple[str, str]:
    from simulator.scenario.observed import FORMATS  # noqa: PLC0415

    path, sep, fmt = text.rpartition(":")
    if sep and fmt in FORMATS:
        return path, fmt
    name = Path(text).name.lower()
    guess = "ga4_report" if "ga4" in name else "google_ads" if "ads" in name else None
    if guess is None:
        raise ScenarioError(
            text, "--observed", f"name the format: FILE:FORMAT with FORMAT one of {', '.join(FORMATS)}"
        )
    return text, guess


def run_reports(args: argparse.Namespace, scenario: object, n: int) -> bool:
    """Compare the ``--observed`` files; print; return whether every slice is consistent."""
    from simulator.report.observed import observed_json, render_slices, write_band_chart  # noqa: PLC0415
    from simulator.scenario.observed import read_report  # noqa: PLC0415
    from simulator.testing.observed import compare_reports  # noqa: PLC0415

    mapping = dict(getattr(scenario, "observed_campaigns", ())) | _mapping(args)
    files = [*getattr(scenario, "observed_files", ()), *(_spec(spec) for spec in args.observed)]
    reports = [read_report(path, fmt) for path, fmt in files]
    with progress("compare: replications", n, "run") as on_progress:
        checks, notices = compare_reports(
            scenario,
            reports,
            replications=n,
            seed=args.seed,
            confidence=args.confidence,
            mapping=mapping,
            on_progress=on_progress,
        )
    if args.json:
        doc = {"scenario": scenario.name, "replications": n, "confidence": args.confidence}  # type: ignore[attr-defined]
        sys.stdout.write(json.dumps({**doc, **observed_json(checks, notices)}, indent=2) + "\n")
    else:
        sys.stdout.write(render_slices(checks, notices, scenario.name, n, args.confidence))  # type: ignore[attr-defined]
    if args.report:
        for path in write_band_chart(checks, Path(args.report)):
            print(f"wrote {path}", file=sys.stderr)
    return all(c.check.verdict.startswith("consistent") for c in checks)

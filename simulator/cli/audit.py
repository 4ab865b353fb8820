"""``sessionlab audit``: the platform's own sessions in an export against its documented rule."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.errors import ScenarioError
from simulator.log.formats import FORMATS, read_export
from simulator.report.audit import render_audit_json, render_audit_text, write_audit_section
from simulator.sessions.config import parse_definition_spec
from simulator.testbench.audit import audit

__all__ = ["add_audit"]

#: The platform preset each format is audited against by default.
_DEFAULT_DEFINITION = {
    "ga4": "ga4",
    "snowplow": "snowplow",
    "amplitude": "amplitude",
    "posthog": "posthog",
    "mixpanel": "mixpanel",
    "matomo": "matomo",
}


def _fail_on(text: str) -> tuple[str, float]:
    cls, sep, share = text.rpartition(":")
    try:
        value = float(share.rstrip("%")) / (100 if share.endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not sep or not cls or not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected CLASS:SHARE, e.g. other:0.05 or inactivity:5%")
    return cls, value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of examples, 0 or more")
    return value


def _cmd_audit(args: argparse.Namespace) -> int:
    export = read_export(args.export, args.format)
    definition = args.definition or _DEFAULT_DEFINITION[args.format]
    if export.table.column("platform_session_id").null_count == export.table.num_rows:
        raise ScenarioError(
            str(args.export),
            "",
            f"no event carries a platform session id: a {args.format} export cannot be audited",
        )
    result = audit(
        export.table, parse_definition_spec(definition), timezone=args.timezone, examples=args.examples
    )
    render = render_audit_json if args.json else render_audit_text
    if args.report:
        written = write_audit_section(result, args.report, ignored=export.ignored)
        print(f"sessionlab: audit written to {', '.join(map(str, written))}", file=sys.stderr)
    print(render(result, ignored=export.ignored), end="")
    failed = False
    for cls, limit in args.fail_on:
        share = result.share(cls)
        if (cls == "identical" and share < limit) or (cls != "identical" and share > limit):
            failed = True
        if failed and not args.json:
            print(f"fail: {cls} share {share:.4f} against {limit:.4f}")
    return 1 if failed else 0


def add_audit(sub: argparse._SubParsersAction) -> None:
    """Add ``sessionlab audit``."""
    p = sub.add_parser(
        "audit",
        help="hold a platform export's own session ids against the platform's documented rule",
        description="Read an export as the platform writes it, rebuild its sessions from the session ids "
        "it carries and compare them with the definition's rule on the same events: identical sessions, "
        "an exact bridge cause by cause, classes with a minimal example, export sanity checks and the "
        "band the GA4 interface's estimates fall in. Exit 0; 1 when a --fail-on limit is passed; 2 on bad "
        "input.",
    )
    p.add_argument("export", type=Path, help="the export file")
    p.add_argument("--format", required=True, choices=sorted(FORMATS), help="the export's platform")
    p.add_argument(
        "--definition",
        help="the session definition: a preset, PRESET:key=value,... or RULE:k=v+RULE... (default: the "
        "platform's preset)",
    )
    p.add_argument(
        "--examples",
        type=_count,
        default=1,
        metavar="N",
        help="minimal examples per class, each shrunk from a user's own events (default 1; 0: none)",
    )
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write the audit (audit.md, audit.json) into this report directory (new, empty, or a "
        "sessionlab report)",
    )
    p.add_argument("--timezone", default="UTC", help="the property's IANA time zone (midnight rules)")
    p.add_argument("--json", action="store_true", help="print the audit as JSON")
    p.add_argument(
        "--fail-on",
        type=_fail_on,
        action="append",
        default=[],
        metavar="CLASS:SHARE",
        help="exit 1 when a class's share of users exceeds SHARE (identical: when the share of identical "
        "sessions falls below it); repeatable",
    )
    p.set_defaults(func=_cmd_audit)

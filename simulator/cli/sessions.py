"""The ``definitions`` and ``sessionize`` commands: session definitions and real event logs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from simulator.errors import ScenarioError
from simulator.report.tables import format_table
from simulator.schema import check_timezone
from simulator.sessions import sessionize
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.registry import available_rules, definitions, get_rule, rule_distribution
from simulator.sessions.rules import SplitCause

__all__ = ["add_definitions", "add_sessionize"]


def _definitions_doc() -> dict[str, object]:
    """Presets and rules as data (the JSON of ``sessionlab definitions --json``)."""
    presets = {
        name: {
            "rules": [{"rule": r.name, **r.config()} for r in d.rules],
            "describe": d.describe(),
            "parameters": sorted(d.parameters()),
            "summary": d.summary,
            "sources": list(d.sources),
            "choices": list(d.choices),
        }
        for name, d in sorted(definitions.items())
    }
    rules = {
        name: {"parameters": dict(get_rule(name).params), "from": rule_distribution(name)}
        for name in available_rules()
    }
    return {"definitions": presets, "rules": rules}


def _cmd_definitions(args: argparse.Namespace) -> int:
    doc = _definitions_doc()
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    out = []
    for name, d in doc["definitions"].items():  # type: ignore[union-attr]
        out += [f"{name}: {d['describe']}", f"  {d['summary']}"]
        out.append(f"  parameters (override in a scenario): {', '.join(d['parameters'])}")
        out += [f"  source: {src}" for src in d["sources"]]
        out += [f"  choice: {c}" for c in d["choices"]]
        out.append("")
    out.append("rules (use in [sessions] definitions as { name = ..., rules = [{ rule = NAME, ... }] }):")
    for name, r in doc["rules"].items():  # type: ignore[union-attr]
        params = ", ".join(f"{k}: {v}" for k, v in r["parameters"].items()) or "no parameters"
        out.append(f"  {name} ({r['from']}): {params}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0


def add_definitions(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "definitions",
        help="list session definitions (presets), their rules, parameters and sources",
        description="List every preset session definition with its rules, the parameters a "
        "scenario may override, the sources it follows and the choices made where the platform "
        "does not document its behaviour; then every rule, with the package that supplied it.",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_definitions)


def _timezone(name: str) -> str:
    try:
        check_timezone(name)
    except ValueError as err:
        raise ScenarioError("--timezone", "", str(err)) from None
    return name


def _cmd_sessionize(args: argparse.Namespace) -> int:
    # pyarrow (~0.15 s to import) is loaded only when a log is read, not for every sessionlab command
    from simulator.log.logfile import (  # noqa: PLC0415
        EXCLUDED,
        SHOW_BAD,
        LogColumns,
        output_format,
        read_log,
        write_assignments,
    )

    specs = [parse_definition_spec(spec) for spec in args.definition or ["ga4"]]
    tz = _timezone(args.timezone)
    if args.out:
        output_format(args.out)  # an unsupported --out fails before any work
        if Path(args.out).resolve() == Path(args.file).resolve():
            raise ScenarioError(args.out, "", "--out is the input log; write the assignments elsewhere")
    input_tz = _timezone(args.input_timezone) if args.input_timezone else None
    cols = LogColumns(
        args.user_column,
        args.time_column,
        args.campaign_column,
        args.event_column,
        args.epoch,
        input_tz=input_tz,
        ambiguous=args.ambiguous,
        no_campaign=args.no_campaign,
    )
    log = read_log(
        args.file, cols, fmt=args.format, skip_bad=args.skip_bad, exclude_events=args.exclude_event
    )
    if not log.has_campaign and not args.no_campaign:
        for definition in specs:
            if any(rule.name == "campaign_change" for rule in definition.rules):
                raise ScenarioError(
                    log.path,
                    "",
                    f"definition {definition.name!r} starts sessions on campaign changes, but there is "
                    f"no column {cols.campaign!r} (name it with --campaign-column, or pass --no-campaign "
                    "to sessionize without campaigns)",
                )
    if log.detected_epoch:
        unit = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
        print(
            f"sessionlab: timestamps of {log.path} read as epoch {unit[log.detected_epoch]} "
            "(told from their magnitude; pass --epoch to say so)",
            file=sys.stderr,
        )
    import pyarrow as pa  # noqa: PLC0415 - loaded with the log reader

    labels = pa.array([c.label for c in SplitCause], pa.string())
    blocks, assignments = {}, {}
    for definition in specs:
        ids, causes = sessionize(log.user, log.ts, definition, log.campaign, timezone=tz, with_causes=True)
        sessions = int(ids.max()) + 1 if len(ids) else 0
        users = int(np.count_nonzero(causes == SplitCause.NEW_USER))  # each user's first row, no sort
        blocks[definition.name] = {"sessions": sessions, "users": users, "events": len(ids)}
        assignments[definition.name] = (ids, pa.DictionaryArray.from_arrays(pa.array(causes), labels))
    if args.out:
        write_assignments(args.out, log, assignments)
    if log.bad:
        shown = "; ".join(b.describe(log.unit) for b in log.bad[:SHOW_BAD])
        more = f"; and {len(log.bad) - SHOW_BAD} more" if len(log.bad) > SHOW_BAD else ""
        print(f"sessionlab: skipped {len(log.bad)} bad row(s) of {log.path}: {shown}{more}", file=sys.stderr)
    if args.json:
        doc = {
            "definitions": blocks,
            "file": log.path,
            "rows": len(log.status),
            "timezone": tz,
            "epoch": cols.epoch or log.detected_epoch,
            "excluded": int(np.count_nonzero(log.status == EXCLUDED)),
            "bad_rows": [{log.unit: b.line, "reason": b.reason} for b in log.bad],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    rows = [[name, f"{b['sessions']:,}", f"{b['users']:,}", f"{b['events']:,}"] for name, b in blocks.items()]
    sys.stdout.write(format_table(["definition", "sessions", "users", "events"], rows) + "\n")
    return 0


def add_sessionize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessionize",
        help="sessionize a real event log (CSV, JSON Lines, Parquet) under one or more definitions",
        description="Read an event log and count sessions, users and events under each session "
        "definition. Columns: user_id, timestamp (ISO-8601 with a UTC offset, or epoch numbers with "
        "--epoch), optional campaign (empty = none) and event_name; rows in any order. A bad row "
        "(missing user, unreadable time) is an error listing the first bad lines, unless --skip-bad.",
    )
    p.add_argument("file", help="event log: .csv, .jsonl/.ndjson or .parquet (see --format)")
    p.add_argument(
        "--definition",
        action="append",
        metavar="NAME",
        help="a preset (see 'sessionlab definitions'), or PRESET:key=value,... for overrides, e.g. "
        "ga4:timeout=45m; repeat to compare several (default: ga4)",
    )
    p.add_argument("--timezone", default="UTC", help="the analytics property's time zone, for midnight rules")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="write each row's session id and split cause, in input order (.csv, .jsonl or .parquet)",
    )
    p.add_argument(
        "--format", choices=("csv", "jsonl", "parquet"), help="file format (default: by extension)"
    )
    p.add_argument("--user-column", default="user_id", metavar="NAME", help="column of user ids")
    p.add_argument("--time-column", default="timestamp", metavar="NAME", help="column of timestamps")
    p.add_argument("--campaign-column", default="campaign", metavar="NAME", help="column of campaigns")
    p.add_argument("--event-column", default="event_name", metavar="NAME", help="column of event names")
    p.add_argument(
        "--epoch",
        choices=("s", "ms", "us", "ns"),
        help="timestamps are numbers of seconds, milliseconds, microseconds or nanoseconds since the "
        "epoch (default: told from the numbers' magnitude, and said on stderr; refused when unclear)",
    )
    p.add_argument(
        "--input-timezone",
        metavar="ZONE",
        help="the IANA zone of naive local timestamps (without an offset); without it they are bad rows",
    )
    p.add_argument(
        "--ambiguous",
        choices=("earliest", "latest", "error"),
        default="error",
        help="a naive time in a DST fold (twice) or gap (never): take the earliest or latest reading, "
        "or make it a bad row (default)",
    )
    p.add_argument(
        "--no-campaign",
        action="store_true",
        help="sessionize without campaigns (campaign-change rules never split), e.g. a log without them",
    )
    p.add_argument(
        "--exclude-event",
        action="append",
        default=[],
        metavar="NAME",
        help="leave events of this name out of sessions (written to --out as 'excluded'); repeatable",
    )
    p.add_argument(
        "--skip-bad", action="store_true", help="sessionize the good rows and report the bad ones on stderr"
    )
    p.set_defaults(func=_cmd_sessionize)

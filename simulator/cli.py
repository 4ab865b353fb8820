"""The ``sessionlab`` command: a thin layer over the Python API.

Exit codes are :class:`ExitCode`; one handler at the top turns a :class:`SessionlabError` into one line
on stderr (exit 2), Ctrl-C into exit 130, and shows a traceback only for unexpected errors or with
``--debug``.
"""

from __future__ import annotations

import argparse
import enum
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from simulator import __version__
from simulator.errors import ScenarioError, SessionlabError
from simulator.expect import evaluate
from simulator.logfile import EXCLUDED, SHOW_BAD, LogColumns, read_log, write_assignments
from simulator.report import format_table, render_json, render_text
from simulator.result import run
from simulator.scenario import load_scenario
from simulator.sessions import sessionize
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.registry import available_rules, definitions, get_rule, rule_distribution
from simulator.sessions.rules import SplitCause

__all__ = ["ExitCode", "main"]


class ExitCode(enum.IntEnum):
    OK = 0  #: everything ran; every expectation held
    EXPECTATIONS_FAILED = 1  #: at least one expectation did not hold
    SCENARIO_ERROR = 2  #: bad input: a scenario file, an argument, a data file
    INTERNAL_ERROR = 3  #: a bug in sessionlab (please report it with --debug output)
    INTERRUPTED = 130  #: stopped with Ctrl-C


def _cmd_run(args: argparse.Namespace) -> ExitCode:
    scenario = load_scenario(args.file)
    result = run(scenario, seed=args.seed)
    sys.stdout.write(render_json(result) if args.json else render_text(result))
    return ExitCode.OK


def _scenario_files(targets: Sequence[str]) -> Iterator[Path]:
    for target in targets:
        path = Path(target)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.toml") if b"[[expect]]" in p.read_bytes())
            if not found:
                raise ScenarioError(target, "", "no scenario files with [[expect]] in this directory")
            yield from found
        elif path.exists():
            yield path
        else:
            raise ScenarioError(target, "", "no such file or directory")


def _cmd_check(args: argparse.Namespace) -> ExitCode:
    failed = total = 0
    for path in _scenario_files(args.targets):
        scenario = load_scenario(path)
        if not scenario.expectations:
            print(f"{path}: no [[expect]] tables; nothing to check")
            continue
        outcomes = evaluate(run(scenario, seed=args.seed), scenario.expectations)
        bad = [o for o in outcomes if not o.passed]
        total, failed = total + len(outcomes), failed + len(bad)
        status = "ok" if not bad else f"{len(bad)} failed"
        print(f"{path}: {len(outcomes)} expectations, {status}")
        for outcome in outcomes if args.verbose else bad:
            print(f"  {outcome.describe()}")
    print(f"{total - failed} of {total} expectations hold")
    return ExitCode.EXPECTATIONS_FAILED if failed else ExitCode.OK


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="simulate a scenario and print its report",
        description="Simulate a scenario; print ad-platform and analytics numbers per session "
        "definition, and the bridge from clicks to sessions.",
    )
    p.add_argument("file", help="scenario file (TOML)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=_cmd_run)


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="evaluate the [[expect]] tables of scenario files",
        description="Run each scenario and evaluate its [[expect]] tables. Directories are "
        "searched for *.toml files that contain [[expect]]. Exit 0 when all hold, 1 when any "
        "fails, 2 on a bad file.",
    )
    p.add_argument("targets", nargs="+", metavar="FILE|DIR", help="scenario files or directories")
    p.add_argument("--seed", type=int, help="override every scenario's seed")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing expectations too")
    p.set_defaults(func=_cmd_check)


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


def _cmd_definitions(args: argparse.Namespace) -> ExitCode:
    doc = _definitions_doc()
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return ExitCode.OK
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
    return ExitCode.OK


def _add_definitions(sub: argparse._SubParsersAction) -> None:
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
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(
            "--timezone", "", f"expected an IANA time zone like 'Europe/Berlin', got {name!r}"
        ) from None
    return name


def _cmd_sessionize(args: argparse.Namespace) -> ExitCode:
    specs = [parse_definition_spec(spec) for spec in args.definition or ["ga4"]]
    tz = _timezone(args.timezone)
    cols = LogColumns(args.user_column, args.time_column, args.campaign_column, args.event_column, args.epoch)
    log = read_log(
        args.file, cols, fmt=args.format, skip_bad=args.skip_bad, exclude_events=args.exclude_event
    )
    users = len(np.unique(log.user))
    labels = np.array([c.label for c in SplitCause])
    blocks, assignments = {}, {}
    for definition in specs:
        ids, causes = sessionize(log.user, log.ts, definition, log.campaign, timezone=tz, with_causes=True)
        sessions = int(ids.max()) + 1 if len(ids) else 0
        blocks[definition.name] = {"sessions": sessions, "users": users, "events": len(ids)}
        assignments[definition.name] = (ids, labels[causes].tolist())
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
            "excluded": int(np.count_nonzero(log.status == EXCLUDED)),
            "bad_rows": [{log.unit: b.line, "reason": b.reason} for b in log.bad],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return ExitCode.OK
    rows = [[name, f"{b['sessions']:,}", f"{b['users']:,}", f"{b['events']:,}"] for name, b in blocks.items()]
    sys.stdout.write(format_table(["definition", "sessions", "users", "events"], rows) + "\n")
    return ExitCode.OK


def _add_sessionize(sub: argparse._SubParsersAction) -> None:
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
        "--out", metavar="FILE", help="write each row's session id and split cause (.csv or .jsonl)"
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
        choices=("s", "ms", "us"),
        help="timestamps are numbers of seconds, milliseconds or microseconds since the epoch",
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


#: Each adds one subcommand (its parser and its ``func``); order is the order of ``--help``.
_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_run,
    _add_check,
    _add_definitions,
    _add_sessionize,
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sessionlab",
        description=(
            "Simulate visitor journeys from a scenario file and explain why ad clicks, page "
            "views and analytics sessions disagree."
        ),
        epilog="Exit codes: 0 ok, 1 an expectation failed, 2 bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"sessionlab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for every error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMANDS:
        add(sub)
    return parser


def _handle(func: Callable[[], ExitCode], debug: bool) -> int:
    try:
        return func()
    except SessionlabError as err:
        if debug:
            traceback.print_exc()
        print(f"sessionlab: error: {err}", file=sys.stderr)
        return ExitCode.SCENARIO_ERROR
    except KeyboardInterrupt:
        print("sessionlab: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except Exception:
        traceback.print_exc()
        print(
            "sessionlab: internal error (a bug); please report it with the output above",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sessionlab`` console script."""
    args = _parser().parse_args(argv)
    return _handle(lambda: args.func(args), args.debug)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

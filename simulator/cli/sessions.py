"""The ``definitions`` and ``sessionize`` commands: session definitions and real event logs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simulator.cli.terminal import progress
from simulator.errors import ScenarioError
from simulator.log.formats import FORMATS as EXPORT_FORMATS
from simulator.report.tables import format_table
from simulator.schema import check_timezone
from simulator.sessions import sessionize
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.registry import available_rules, definitions, get_rule, rule_distribution
from simulator.sessions.rules import SplitCause

__all__ = ["add_definitions", "add_sessionize"]

#: ``--format`` values: the file formats (simulator.log.sources.FORMATS, without loading pyarrow) ...
_FILE_FORMATS = ("csv", "jsonl", "parquet", "arrow")
#: ... and the platform exports (simulator.log.formats.FORMATS).
_EXPORT_FORMATS = tuple(EXPORT_FORMATS)


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


def _delimiter(text: str) -> str:
    from simulator.log.sources import parse_delimiter  # noqa: PLC0415 - pyarrow loads on use

    try:
        return parse_delimiter(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(","))
    if not all(names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"expected distinct column names separated by commas, got {text!r}")
    return names


class _Files(argparse.Action):
    """One input as a string (what ``--engine spark`` and messages expect), several as a list."""

    def __call__(
        self, parser: object, namespace: argparse.Namespace, values: object, option: object = None
    ) -> None:
        items = list(values)  # type: ignore[call-overload]
        setattr(namespace, self.dest, items[0] if len(items) == 1 else items)


def _accounting_line(a: dict[str, int]) -> str:
    return (
        f"rows: {a['read']:,} read = {a['sessionized']:,} sessionized + {a['bad']:,} bad + "
        f"{a['excluded']:,} excluded"
    )


_RULE_FLAGS = {"gap": "--gap-column", "flag": "--flag-column", "event": "--event-column"}


def _rule_columns(specs: list, args: argparse.Namespace) -> dict[str, object]:
    """The per-event columns the definitions' rules read; a rule without its column is an error."""
    needs = {getattr(rule, "needs", None): (d, rule) for d in specs for rule in d.rules}
    for need, flag in _RULE_FLAGS.items():
        if need in needs and need != "event" and not getattr(args, f"{need}_column", None):
            definition, rule = needs[need]
            raise ScenarioError(
                flag,
                "",
                f"definition {definition.name!r} has rule {rule.name!r}, which reads a {need} per event: "
                f"name the column with {flag}",
            )
    return {
        "gap": args.gap_column if "gap" in needs else None,
        "flag": args.flag_column if "flag" in needs else None,
        "keep_event": "event" in needs,
    }


def _check_gaps(log: object, specs: list) -> None:
    """Events without a gap need a rule default: an error naming the first such line otherwise."""
    if log.gap is None:
        return
    missing = np.flatnonzero(log.gap < 0)
    for definition in specs:
        for rule in definition.rules:
            if rule.name == "dynamic_gap" and rule.default is None and len(missing):
                row = np.flatnonzero(log.status == missing[0])[0]
                line = log.lines[row]
                path = log.files[int(log.file_index[row])] if log.files else log.path
                raise ScenarioError(
                    path,
                    "",
                    f"{log.unit} {line}: no gap, and rule 'dynamic_gap' of definition {definition.name!r} "
                    f"has no default ({len(missing):,} event(s) without one; give the rule a default, "
                    f'e.g. {{ rule = "dynamic_gap", default = "30m" }})',
                )


def log_columns(args: argparse.Namespace, specs: list[Any]) -> Any:
    """The :class:`~simulator.log.logfile.LogColumns` that ``sessionize``'s flags name."""
    from simulator.log.logfile import LogColumns  # noqa: PLC0415 - pyarrow loads on use

    if args.source_columns and args.campaign_column != "campaign":
        raise ScenarioError(
            "--source-columns", "", "give either --source-columns or --campaign-column, not both"
        )
    return LogColumns(
        args.user_column,
        args.time_column,
        args.campaign_column,
        args.event_column,
        args.epoch,
        input_tz=_timezone(args.input_timezone) if args.input_timezone else None,
        ambiguous=args.ambiguous,
        no_campaign=args.no_campaign,
        delimiter=args.delimiter,
        sources=args.source_columns or (),
        **_rule_columns(specs, args),
    )


def epoch_notice(path: str, detected: str | None) -> None:
    """Say on stderr which epoch unit was told from the numbers' magnitude (when one was)."""
    if detected:
        unit = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
        print(
            f"sessionlab: timestamps of {path} read as epoch {unit[detected]} "
            "(told from their magnitude; pass --epoch to say so)",
            file=sys.stderr,
        )


def print_counts(
    args: argparse.Namespace, doc: dict[str, Any], bad: Sequence[Any], unit: str, shown_bad: int
) -> int:
    """The bad rows skipped (stderr), then ``doc`` as JSON (``--json``) or the table of counts and
    the accounting line. ``doc`` holds ``definitions``, ``file`` and ``accounting`` at least."""
    if bad:
        listed = "; ".join(b.describe(unit) for b in bad[:shown_bad])
        more = f"; and {len(bad) - shown_bad} more" if len(bad) > shown_bad else ""
        print(f"sessionlab: skipped {len(bad)} bad row(s) of {doc['file']}: {listed}{more}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    blocks = doc["definitions"]
    rows = [[name, f"{b['sessions']:,}", f"{b['users']:,}", f"{b['events']:,}"] for name, b in blocks.items()]
    sys.stdout.write(format_table(["definition", "sessions", "users", "events"], rows) + "\n")
    sys.stdout.write(_accounting_line(doc["accounting"]) + "\n")
    return 0


def _cmd_sessionize(args: argparse.Namespace) -> int:
    # pyarrow (~0.15 s to import) is loaded only when a log is read, not for every sessionlab command
    from simulator.log.logfile import SHOW_BAD, output_format  # noqa: PLC0415

    specs = [parse_definition_spec(spec) for spec in args.definition or ["ga4"]]
    tz = _timezone(args.timezone)
    if args.out:
        output_format(args.out)  # an unsupported --out fails before any work
        inputs = args.file if isinstance(args.file, list) else [args.file]
        if any(f != "-" and Path(args.out).resolve() == Path(f).resolve() for f in inputs):
            raise ScenarioError(args.out, "", "--out is the input log; write the assignments elsewhere")
    cols = log_columns(args, specs)
    steps = 1 + len(specs) + bool(args.out)  # read, one per definition, write
    with progress("sessionize: read, sessionize, write", steps, "step") as on_progress:
        log, blocks = _sessionize_log(args, cols, specs, tz, on_progress)
    accounting = log.accounting()
    doc = {
        "definitions": blocks,
        "file": log.path,
        "rows": accounting["read"],
        "timezone": tz,
        "epoch": cols.epoch or log.detected_epoch,
        "excluded": accounting["excluded"],
        "bad_rows": [
            {**({"file": b.file} if b.file else {}), log.unit: b.line, "reason": b.reason} for b in log.bad
        ],
        "accounting": accounting,
    }
    if log.delimiter is not None:
        doc["delimiter"] = log.delimiter
    if log.files:
        doc["files"] = list(log.files)
    if log.ignored:
        doc["ignored_fields"] = list(log.ignored)
    code = print_counts(args, doc, log.bad, log.unit, SHOW_BAD)
    # --out is written, renamed into place and closed; no pool is left: the console script may skip
    # the interpreter's teardown (freeing a 10 M-row log's arrays and unloading pyarrow: 0.2-0.5 s)
    args.exit_at_once = True
    return code


def add_sessionize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sessionize",
        help="sessionize a real event log (CSV, JSON Lines, Parquet, Arrow; a platform export) under "
        "one or more definitions",
        description="Read an event log and count sessions, users and events under each session "
        "definition. Columns: user_id, timestamp (ISO-8601 with a UTC offset, or epoch numbers with "
        "--epoch), optional campaign (empty = none) and event_name; rows in any order. A bad row "
        "(missing user, unreadable time) is an error listing the first bad lines, unless --skip-bad. "
        "Every row is accounted for: rows read = sessionized + bad + excluded. With --format ga4 "
        "(snowplow, posthog, ...) a platform's export is read as the platform writes it, no column flags.",
    )
    p.add_argument(
        "file",
        nargs="+",
        action=_Files,
        help="event log: .csv/.tsv, .jsonl/.ndjson, .parquet or .arrow/.feather (text ones optionally .gz, "
        ".zst or .bz2); - for standard input; a directory (Hive key=value partitions become columns), a "
        "quoted glob, or several files (read in the order given, as one log)",
    )
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
        help="write each row's session id and split cause, in input order (.csv, .jsonl, .parquet or "
        ".arrow; .csv.gz, .jsonl.zst, ... compressed)",
    )
    p.add_argument(
        "--keep-columns",
        action="store_true",
        help="--out carries every input column too (types kept in Parquet and Arrow), to join back",
    )
    p.add_argument(
        "--format",
        choices=(*_FILE_FORMATS, *_EXPORT_FORMATS),
        help="file format (default: by extension; csv for standard input), or a platform export read "
        f"by its reader into user_id, timestamp, campaign, source, medium, ...: {', '.join(_EXPORT_FORMATS)}",
    )
    p.add_argument(
        "--input-format", dest="format", choices=_FILE_FORMATS, help="the same as --format for file formats"
    )
    p.add_argument(
        "--delimiter",
        type=_delimiter,
        metavar="CHAR",
        help="CSV field delimiter: one character, \\t for tab (default: told from the header among "
        ", \\t ; |, "
        "said on stderr when not a comma; refused when unclear)",
    )
    p.add_argument("--user-column", default="user_id", metavar="NAME", help="column of user ids")
    p.add_argument("--time-column", default="timestamp", metavar="NAME", help="column of timestamps")
    p.add_argument("--campaign-column", default="campaign", metavar="NAME", help="column of campaigns")
    p.add_argument(
        "--source-columns",
        type=_names,
        metavar="A,B,...",
        help="the campaign key is these columns together, e.g. source,medium,campaign[,gclid]: a campaign "
        "change is a change in any of them (empty = none; a row with all empty has no campaign)",
    )
    p.add_argument(
        "--event-column",
        default="event_name",
        metavar="NAME",
        help="column of event names (read by --exclude-event and session_events rules)",
    )
    p.add_argument(
        "--gap-column",
        metavar="NAME",
        help="column of per-event gaps for dynamic_gap rules: integer milliseconds or durations like "
        "'30m' (required by such a rule)",
    )
    p.add_argument(
        "--flag-column",
        metavar="NAME",
        help="column of new-session flags for flag rules, e.g. Matomo's new_visit: 1/0, true/false "
        "(required by such a rule)",
    )
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


def check_campaign(path: str, has_campaign: bool, no_campaign: bool, specs: list[Any], column: str) -> None:
    """A definition that starts sessions on campaign changes needs the campaign column (or
    ``--no-campaign`` to say that sessionizing without campaigns is intended)."""
    if has_campaign or no_campaign:
        return
    for definition in specs:
        if any(rule.name == "campaign_change" for rule in definition.rules):
            raise ScenarioError(
                path,
                "",
                f"definition {definition.name!r} starts sessions on campaign changes, but there is "
                f"no column {column!r} (name it with --campaign-column or --source-columns, or "
                "pass --no-campaign to sessionize without campaigns)",
            )


def _sessionize_log(
    args: argparse.Namespace, cols: Any, specs: list[Any], tz: str, on_progress: Callable[[int], None]
) -> tuple[Any, dict[str, dict[str, int]]]:
    """Read the log, sessionize it under each definition, write ``--out``; one step of progress each."""
    import pyarrow as pa  # noqa: PLC0415

    from simulator.log.logfile import read_log, write_assignments  # noqa: PLC0415 - pyarrow

    log = read_log(
        args.file,
        cols,
        fmt=args.format,
        skip_bad=args.skip_bad,
        exclude_events=args.exclude_event,
        keep_columns=args.keep_columns,
    )
    check_campaign(log.path, log.has_campaign, args.no_campaign, specs, cols.campaign)
    epoch_notice(log.path, log.detected_epoch)
    _check_gaps(log, specs)
    if log.delimiter not in (None, ",") and not args.delimiter:
        print(
            f"sessionlab: {log.path}: delimiter {log.delimiter!r} (told from the header; pass --delimiter "
            "to say so)",
            file=sys.stderr,
        )
    if log.ignored:
        print(f"sessionlab: {args.format} fields ignored: {', '.join(log.ignored)}", file=sys.stderr)
    on_progress(1)
    labels = pa.array([c.label for c in SplitCause], pa.string())
    blocks, assignments = {}, {}
    for definition in specs:
        ids, causes = sessionize(
            log.user if log.user_codes is None else log.user_codes,  # the same ranks, computed once
            log.ts,
            definition,
            log.campaign,
            timezone=tz,
            with_causes=True,
            event=log.event,
            gap=None if log.gap is None else pa.array(log.gap, mask=log.gap < 0),  # -1: none
            flag=log.flag,
        )
        sessions = int(ids.max()) + 1 if len(ids) else 0
        users = int(np.count_nonzero(causes == SplitCause.NEW_USER))  # each user's first row, no sort
        blocks[definition.name] = {"sessions": sessions, "users": users, "events": len(ids)}
        assignments[definition.name] = (ids, pa.DictionaryArray.from_arrays(pa.array(causes), labels))
        on_progress(1)
    if args.out:
        write_assignments(args.out, log, assignments)
        on_progress(1)
    return log, blocks

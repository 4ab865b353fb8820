"""``sessionize --memory SIZE``: logs larger than memory through the shard spool (docs/scale.md).

Registered after ``sessionize`` (and its ``--engine``) in :mod:`simulator.cli.main`: it adds the
options and wraps the command. A log whose in-memory estimate fits ``--memory`` takes the in-memory
path; a larger one (or ``--out-of-core``) goes through :func:`simulator.log.shards.sessionize_large`,
whose output file is the same, byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError

__all__ = ["add_memory"]


def _size(text: str) -> int:
    from simulator.log.shards import parse_size  # noqa: PLC0415 - pyarrow only when a log is read

    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_memory(sub: argparse._SubParsersAction) -> None:
    """Add ``--memory`` and ``--out-of-core`` to ``sessionize``."""
    p = sub.choices["sessionize"]
    inner = p.get_default("func")
    g = p.add_argument_group("logs larger than memory")
    g.add_argument(
        "--memory",
        type=_size,
        metavar="SIZE",
        help="the memory the run may take, e.g. 512MiB, 2GiB, 1.5GB (default: half the memory "
        "available); a CSV or Parquet log that would need more is sessionized through shards on disk, "
        "with the same result",
    )
    g.add_argument(
        "--out-of-core",
        action="store_true",
        help="always go through shards on disk (temporary files beside --out, else in TMPDIR)",
    )

    def dispatch(args: argparse.Namespace) -> int:
        if getattr(args, "engine", "local") != "local":
            return inner(args)
        unsupported = _spool_unsupported(args)
        if unsupported and args.out_of_core:
            raise ScenarioError(
                "--out-of-core",
                "",
                f"the shard spool reads plain CSV (comma) and Parquet files and directories of Parquet "
                f"files; it does not take {unsupported} (drop --out-of-core to read it in memory)",
            )
        if unsupported:
            return inner(args)
        from simulator.log import shards  # noqa: PLC0415 - pyarrow only when a log is read

        memory = args.memory or shards.default_memory()
        if not args.out_of_core and shards.estimate_bytes(args.file, args.format) <= memory:
            return inner(args)
        return _out_of_core(args, memory)

    p.set_defaults(func=dispatch)


def _spool_unsupported(args: argparse.Namespace) -> str | None:
    """What of this ``sessionize`` run the shard spool does not read (it then runs in memory)."""
    if isinstance(args.file, list) or args.file == "-":
        return "several files or standard input"
    path = Path(args.file)
    if path.is_dir():
        parquet = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
        if any(p.suffix.lower() not in (".parquet", ".pq") for p in parquet) or any(
            "=" in part for p in parquet for part in p.relative_to(path).parts[:-1]
        ):
            return "a directory of other files than Parquet, or with Hive partitions"
    elif path.suffix.lower() not in (".csv", ".parquet", ".pq"):
        return f"{path.suffix or 'extensionless'} files"
    elif path.suffix.lower() == ".csv" and args.delimiter is None and path.is_file():
        from simulator.log.sources import sniff_delimiter  # noqa: PLC0415 - pyarrow only when read

        with path.open("rb") as fh:
            head = fh.read(1 << 16)
        try:
            sniffed = sniff_delimiter(head, str(path))
        except ScenarioError:
            return "a CSV whose delimiter is unclear"
        if sniffed != ",":
            return f"a CSV delimited by {sniffed!r}"
    if args.format not in (None, "csv", "parquet"):
        return f"--format {args.format}"
    for flag, value in (
        ("--keep-columns", args.keep_columns),
        ("--source-columns", args.source_columns),
        ("--delimiter", args.delimiter not in (None, ",")),
        ("--gap-column", getattr(args, "gap_column", None)),
        ("--flag-column", getattr(args, "flag_column", None)),
    ):
        if value:
            return flag
    from simulator.sessions.config import parse_definition_spec  # noqa: PLC0415

    for spec in args.definition or ["ga4"]:
        rules = parse_definition_spec(spec).rules
        needing = [r.name for r in rules if getattr(r, "needs", None)]
        if needing:
            return f"rules that read a column per event ({', '.join(needing)})"
    return None


def _out_of_core(args: argparse.Namespace, memory: int) -> int:
    import numpy as np  # noqa: PLC0415

    from simulator.cli.sessions import (  # noqa: PLC0415
        _timezone,
        check_campaign,
        epoch_notice,
        log_columns,
        print_counts,
    )
    from simulator.log.logfile import SHOW_BAD  # noqa: PLC0415
    from simulator.log.shards import sessionize_large, shard_rows_for  # noqa: PLC0415
    from simulator.sessions import sessionize  # noqa: PLC0415
    from simulator.sessions.config import parse_definition_spec  # noqa: PLC0415
    from simulator.sessions.rules import SplitCause  # noqa: PLC0415

    specs = [parse_definition_spec(spec) for spec in args.definition or ["ga4"]]
    tz = _timezone(args.timezone)
    if args.out and Path(args.out).resolve() == Path(args.file).resolve():
        raise ScenarioError(args.out, "", "--out is the input log; write the assignments elsewhere")
    cols = log_columns(args, specs)  # its delimiter, sources and rule columns are the defaults here

    def campaign_check(has_campaign: bool) -> None:
        check_campaign(args.file, has_campaign, args.no_campaign, specs, cols.campaign)

    def shard(ev: Any, codes: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
        out = []
        for definition in specs:
            ids, causes = sessionize(codes, ev.ts, definition, ev.campaign, timezone=tz, with_causes=True)
            out.append((definition.name, ids, causes))
        return out

    live = sys.stderr.isatty()

    def progress(message: str) -> None:
        if live:
            sys.stderr.write(f"\rsessionlab: {message}\x1b[K")
            sys.stderr.flush()

    try:
        result = sessionize_large(
            args.file,
            cols,
            shard,
            definitions=[d.name for d in specs],
            labels=[c.label for c in SplitCause],
            out=args.out,
            fmt=args.format,
            skip_bad=args.skip_bad,
            exclude_events=args.exclude_event,
            shard_rows=shard_rows_for(memory),
            campaign_check=campaign_check,
            progress=progress,
        )
    finally:
        if live:
            sys.stderr.write("\n")
    epoch_notice(result.path, result.detected_epoch)
    bad = len(result.bad)
    doc = {
        "definitions": {
            name: {"sessions": n, "users": result.users, "events": result.events}
            for name, n in result.sessions.items()
        },
        "file": result.path,
        "rows": result.rows,
        "timezone": tz,
        "epoch": cols.epoch or result.detected_epoch,
        "excluded": result.excluded,
        "bad_rows": [{result.unit: b.line, "reason": b.reason} for b in result.bad],
        "accounting": {
            "read": result.rows,
            "sessionized": result.rows - bad - result.excluded,
            "bad": bad,
            "excluded": result.excluded,
        },
        "shards": result.shards,
    }
    return print_counts(args, doc, result.bad, result.unit, SHOW_BAD)

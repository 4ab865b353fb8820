"""``sessionize --memory SIZE``: logs larger than memory through the shard spool (docs/scale.md).

Registered after ``sessionize`` (and its ``--engine``) in :mod:`simulator.cli.main`: it adds the
options and wraps the command. A log whose in-memory estimate fits ``--memory`` takes the in-memory
path; a larger one (or ``--out-of-core``) goes through :func:`simulator.log.shards.sessionize_large`,
whose output file is the same, byte for byte.
"""

from __future__ import annotations

import argparse
import io
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
        "available); a CSV, JSON Lines or Parquet log (compressed, or standard input, too) that would "
        "need more is sessionized through shards on disk, with the same result",
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
                f"the shard spool reads one CSV or JSON Lines file (plain or compressed) or standard "
                f"input, or Parquet files and directories of them; it does not take {unsupported} "
                "(drop --out-of-core to read it in memory)",
            )
        if unsupported:
            return inner(args)
        from simulator.log import shards  # noqa: PLC0415 - pyarrow only when a log is read

        memory = args.memory or shards.default_memory()
        if args.file == "-":
            return _stdin(args, memory, inner)
        if not args.out_of_core and shards.fits_in_memory(args.file, args.format, memory):
            return inner(args)
        return _out_of_core(args, memory)

    p.set_defaults(func=dispatch)


def _stdin(args: argparse.Namespace, memory: int, inner: Any) -> int:
    """Standard input: peeked up to what fits in memory; read there when it ends within it, else
    streamed through the spool (the peeked bytes first)."""
    from simulator.log.shards import in_memory_bytes  # noqa: PLC0415
    from simulator.log.sources import PrefixedReader, open_stream  # noqa: PLC0415

    raw = sys.stdin.buffer
    if args.out_of_core:
        return _out_of_core(args, memory, stdin=raw)
    peek = PrefixedReader(b"", raw, record=True)
    limit = in_memory_bytes(memory)
    seen = 0
    try:
        with open_stream(None, peek) as stream:
            while seen <= limit and (chunk := stream.read(min(16 << 20, limit + 1 - seen))):
                seen += len(chunk)
    except (OSError, ValueError):  # not decompressible: the in-memory reader says so
        seen = 0
    if seen <= limit:
        return _with_stdin(peek.served + raw.read(), inner, args)
    return _out_of_core(args, memory, stdin=PrefixedReader(peek.served, raw))


def _with_stdin(data: bytes, inner: Any, args: argparse.Namespace) -> int:
    """Run ``inner`` with standard input holding ``data`` (bytes already read from it)."""
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(data))
    try:
        return inner(args)
    finally:
        sys.stdin = saved


def _input_unsupported(args: argparse.Namespace) -> str | None:
    """What of the input the shard spool does not read."""
    from simulator.log.sources import COMPRESSIONS, kind_of  # noqa: PLC0415 - pyarrow only when read

    if isinstance(args.file, list):
        return "several files"
    path = Path(args.file)
    if args.file == "-":
        if args.format not in (None, "csv", "jsonl"):
            return f"--format {args.format} on standard input"
    elif path.is_dir():
        parquet = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
        if any(p.suffix.lower() not in (".parquet", ".pq") for p in parquet) or any(
            "=" in part for p in parquet for part in p.relative_to(path).parts[:-1]
        ):
            return "a directory of other files than Parquet, or with Hive partitions"
        if args.format not in (None, "parquet"):
            return f"--format {args.format}"
    else:
        kind = args.format or kind_of(str(path))
        if kind not in ("csv", "jsonl", "parquet"):
            return f"{path.suffix or 'extensionless'} files" if args.format is None else f"--format {kind}"
        if kind == "parquet" and path.suffix.lower() in COMPRESSIONS:
            return "a compressed Parquet file"
    return None


def _spool_unsupported(args: argparse.Namespace) -> str | None:
    """What of this ``sessionize`` run the shard spool does not read (it then runs in memory)."""
    unsupported = _input_unsupported(args)
    if unsupported:
        return unsupported
    for flag, value in (
        ("--keep-columns", args.keep_columns),
        ("--source-columns", args.source_columns),
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


def _out_of_core(args: argparse.Namespace, memory: int, stdin: Any = None) -> int:
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
    if args.out and args.file != "-" and Path(args.out).resolve() == Path(args.file).resolve():
        raise ScenarioError(args.out, "", "--out is the input log; write the assignments elsewhere")
    cols = log_columns(args, specs)  # its delimiter, sources and rule columns are the defaults here

    def campaign_check(has_campaign: bool) -> None:
        where = "<stdin>" if args.file == "-" else args.file
        check_campaign(where, has_campaign, args.no_campaign, specs, cols.campaign)

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
            stdin=stdin,
        )
    finally:
        if live:
            sys.stderr.write("\n")
    epoch_notice(result.path, result.detected_epoch)
    if result.delimiter not in (None, ",") and not args.delimiter:
        print(
            f"sessionlab: {result.path}: delimiter {result.delimiter!r} (told from the header; pass "
            "--delimiter to say so)",
            file=sys.stderr,
        )
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
    if result.delimiter is not None:
        doc["delimiter"] = result.delimiter
    return print_counts(args, doc, result.bad, result.unit, SHOW_BAD)

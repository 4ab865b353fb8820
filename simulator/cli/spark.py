"""``sessionlab sessionize --engine spark``: the same command on a Spark cluster (or ``local[*]``).

:func:`add_engine` adds ``--engine local|spark``, ``--master`` and ``--spark-conf k=v`` to the
``sessionize`` parser that :mod:`simulator.cli.sessions` built, and routes ``--engine spark`` here;
the local path is untouched. pyspark is imported only when ``--engine spark`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError
from simulator.sessions.config import parse_definition_spec

__all__ = ["add_engine", "run_run", "run_sessionize", "run_simulate"]

_EXTRA = 'pip install "sessionlab[spark]"'


def _default_chunk() -> int:
    from simulator.engine.simulate import DEFAULT_CHUNK  # noqa: PLC0415 - sessionize loads no engine

    return DEFAULT_CHUNK


def _load(path: str) -> Any:
    from simulator.scenario.loader import load_scenario  # noqa: PLC0415

    return load_scenario(path)


def _conf(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. spark.executor.memory=4g; got {text!r}")
    return key.strip(), value.strip()


def _options(p: argparse.ArgumentParser, what: str) -> None:
    g = p.add_argument_group("engine (docs/scale.md)")
    g.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help=f"local: this process (default); spark: {what} (needs the spark extra)",
    )
    g.add_argument("--master", metavar="URL", help="Spark master for --engine spark (default local[*])")
    g.add_argument(
        "--spark-conf",
        type=_conf,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting for --engine spark, e.g. spark.sql.shuffle.partitions=400; repeatable",
    )


_WHAT = {
    "sessionize": "a Parquet dataset (file or directory) in, a Parquet dataset directory to --out, each "
    "user partition through the same kernels",
    "simulate": "blocks of visitors as Spark tasks, written as a Parquet dataset directory --out DIR with "
    "the rows of the one-process run",
    "run": "blocks of visitors simulated and counted as Spark tasks, only the totals reach the driver "
    "(counts and bridges; not --report, --breakdown, --replications)",
}


def add_engine(sub: argparse._SubParsersAction) -> None:
    """Add the engine options to those of ``sessionize``, ``simulate`` and ``run`` that are registered
    and do not have them yet (registered after each; only the named command is registered)."""
    for command, spark_func in (
        ("sessionize", run_sessionize),
        ("simulate", run_simulate),
        ("run", run_run),
    ):
        p = sub.choices.get(command)
        if p is None or "--engine" in p._option_string_actions:
            continue
        _options(p, _WHAT[command])
        p.set_defaults(func=_dispatch(p.get_default("func"), spark_func))


def _dispatch(local: Any, spark_func: Any) -> Any:
    def dispatch(args: argparse.Namespace) -> int:
        if args.engine == "spark":
            return spark_func(args)
        if args.master or args.spark_conf:
            raise ScenarioError("--master", "", "--master and --spark-conf need --engine spark")
        return local(args)

    return dispatch


class _Progress:
    """Stage progress from Spark's status tracker on stderr, when stderr is a terminal."""

    def __init__(self, spark: Any, quiet: bool = False) -> None:
        self._tracker = spark.sparkContext.statusTracker()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._on = sys.stderr.isatty() and not quiet

    def __enter__(self) -> _Progress:
        if self._on:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._on:
            self._thread.join()
            sys.stderr.write("\r\033[K")

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            stages = [self._tracker.getStageInfo(s) for s in self._tracker.getActiveStageIds()]
            parts = [
                f"stage {s.stageId}: {s.numCompletedTasks}/{s.numTasks} tasks"
                for s in stages
                if s is not None
            ]
            if parts:
                sys.stderr.write("\r\033[Ksessionlab (spark): " + "; ".join(parts))
                sys.stderr.flush()


def _spark_error(path: str, err: Exception) -> ScenarioError:
    text = str(err)
    for line in text.splitlines():  # a worker's ValueError: the last line names the problem
        if "sessionlab:" in line:
            text = line.split("sessionlab:", 1)[1].strip()
            break
    else:
        text = text.splitlines()[0] if text else type(err).__name__
    return ScenarioError(path, "", text)


def _check_args(args: argparse.Namespace) -> None:
    """Every ``sessionize`` option is honoured as ``--engine local`` honours it, or refused here."""
    refused = (
        ("--skip-bad", args.skip_bad, "a bad row fails the job with its reason; filter the rows first"),
        ("--delimiter", args.delimiter, "--engine spark reads Parquet"),
        (
            "--memory",
            getattr(args, "memory", None),
            "give Spark its memory with --spark-conf spark.driver.memory=... / spark.executor.memory=...",
        ),
        ("--out-of-core", getattr(args, "out_of_core", False), "Spark spills to disk by itself"),
    )
    for flag, used, instead in refused:
        if used:
            raise ScenarioError(flag, "", f"{flag} is not available with --engine spark: {instead}")
    if isinstance(args.file, list):
        raise ScenarioError(
            args.file[0], "", "--engine spark reads one Parquet dataset (a file, a directory or a glob)"
        )
    if args.file == "-":
        raise ScenarioError("-", "", "--engine spark reads a Parquet dataset, not standard input")
    if args.format not in (None, "parquet"):
        raise ScenarioError(args.file, "", "--engine spark reads Parquet datasets (a file or a directory)")
    if args.out:
        if Path(args.out).suffix.lower() not in ("", ".parquet", ".pq"):
            raise ScenarioError(
                args.out, "", "--engine spark writes a Parquet dataset directory (no .csv, .jsonl or .arrow)"
            )
        if Path(args.out).exists():
            raise ScenarioError(args.out, "", "--out exists; --engine spark writes a new dataset directory")
    if glob.has_magic(args.file) and not glob.glob(args.file):
        raise ScenarioError(args.file, "", "no file matches this glob")
    if not glob.has_magic(args.file) and not Path(args.file).exists():
        raise ScenarioError(args.file, "", "no such file or directory")
    if args.source_columns and args.campaign_column != "campaign":
        raise ScenarioError(
            "--source-columns", "", "give either --source-columns or --campaign-column, not both"
        )


def _columns(args: argparse.Namespace, names: list[str]) -> None:
    """The columns the flags name exist (the optional ones only when renamed), as the local reader checks."""
    checks = [(args.user_column, "--user-column", True), (args.time_column, "--time-column", True)]
    if args.source_columns:
        checks += [(c, "--source-columns", True) for c in args.source_columns]
    else:
        checks += [(args.campaign_column, "--campaign-column", args.campaign_column != "campaign")]
    checks += [(args.event_column, "--event-column", bool(args.exclude_event))]
    for column, flag, required in checks:
        if required and column not in names:
            raise ScenarioError(
                args.file, "", f"no column {column!r}; columns: {', '.join(names)} (name yours with {flag})"
            )


def _epoch(df: Any, args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(epoch unit, unit told from the numbers' magnitude): decided on the whole dataset, as locally."""
    import numpy as np  # noqa: PLC0415
    from pyspark.sql import functions as F  # noqa: N812, PLC0415
    from pyspark.sql import types as T  # noqa: N812, PLC0415

    from simulator.log.timeparse import detect_epoch  # noqa: PLC0415
    from simulator.spark.sessionize import NUMBER_TEXT  # noqa: PLC0415

    if args.epoch:
        return args.epoch, None
    kind = df.schema[args.time_column].dataType
    col = F.col(f"`{args.time_column}`")
    if isinstance(kind, T.StringType):
        text = F.trim(col)
        given = text.isNotNull() & (text != "")
        row = df.agg(
            F.sum(F.when(given, 1).otherwise(0)).alias("n"),
            F.sum(F.when(given & ~text.rlike(NUMBER_TEXT), 1).otherwise(0)).alias("other"),
        ).collect()[0]
        if not row["n"] or row["other"]:
            return None, None  # ISO-8601 text (or nothing to read): no epoch
        col = text.cast("double")
    elif not isinstance(kind, T.NumericType):
        return None, None
    row = df.agg(F.min(F.abs(col.cast("double"))).alias("lo"), F.max(F.abs(col.cast("double"))).alias("hi"))
    lo, hi = row.collect()[0]
    if lo is None:
        return None, None
    unit = detect_epoch(np.array([lo, hi], dtype=np.float64))
    if unit is None:
        raise ScenarioError(
            args.file,
            "",
            f"timestamps are numbers from {lo:.0f} to {hi:.0f}, which do not tell seconds, "
            "milliseconds, microseconds or nanoseconds apart; pass --epoch s|ms|us|ns",
        )
    return unit, unit


@contextlib.contextmanager
def _spark(args: argparse.Namespace) -> Iterator[Any]:
    """A SparkSession for the command (stopped afterwards unless an embedding program owns it)."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - the optional extra, on use

        from simulator.spark.context import local_session  # noqa: PLC0415
    except ImportError:
        raise ScenarioError("--engine spark", "", f"needs pyspark: {_EXTRA}") from None
    ours = SparkSession.getActiveSession() is None  # an embedding program's session is left running
    spark = local_session(args.master, dict(args.spark_conf))
    try:
        with _Progress(spark, quiet=getattr(args, "quiet", False)):
            yield spark
    finally:
        if ours:
            spark.stop()


def _spark_errors() -> tuple[type[BaseException], ...]:
    from pyspark.errors import PySparkException  # noqa: PLC0415

    try:
        from py4j.protocol import Py4JJavaError  # noqa: PLC0415
    except ImportError:  # pragma: no cover - py4j comes with pyspark
        return (PySparkException,)
    return (PySparkException, Py4JJavaError)


def run_sessionize(args: argparse.Namespace) -> int:
    """``sessionize --engine spark``: read a Parquet dataset, sessionize on Spark, count (and write)."""
    from simulator.cli.sessions import _timezone, check_campaign, epoch_notice, print_counts  # noqa: PLC0415

    _check_args(args)
    specs = [parse_definition_spec(spec) for spec in args.definition or ["ga4"]]
    for definition in specs:
        column = next((r for r in definition.rules if getattr(r, "needs", None)), None)
        if column is not None:
            raise ScenarioError(
                "--engine spark",
                "",
                f"definition {definition.name!r}: rule {column.name!r} reads a {column.needs} per event, "
                "which the Spark engine does not carry yet; use --engine local",
            )
    tz = _timezone(args.timezone)
    input_tz = _timezone(args.input_timezone) if args.input_timezone else None
    with _spark(args) as spark:
        from pyspark.sql import types as T  # noqa: N812, PLC0415

        from simulator.spark import count_sessions, counts, sessionize  # noqa: PLC0415

        errors = _spark_errors()
        try:
            df = spark.read.parquet(args.file)
        except errors as err:
            raise _spark_error(args.file, err) from None
        _columns(args, df.columns)
        campaign: Any = list(args.source_columns) if args.source_columns else args.campaign_column
        has_campaign = bool(args.source_columns) or args.campaign_column in df.columns
        check_campaign(args.file, has_campaign, args.no_campaign, specs, args.campaign_column)
        if args.no_campaign or not has_campaign:
            campaign = None
        kind = df.schema[args.time_column].dataType
        if isinstance(kind, T.TimestampNTZType | T.DateType) and input_tz is None:
            raise ScenarioError(
                args.file,
                "",
                f"column {args.time_column!r} holds naive {kind.simpleString()} values (no time zone); "
                "pass --input-timezone ZONE",
            )
        try:
            epoch, detected = _epoch(df, args)
            options = {
                "user": args.user_column,
                "time": args.time_column,
                "campaign": campaign,
                "timezone": tz,
                "epoch": epoch,
                "input_timezone": input_tz,
                "ambiguous": args.ambiguous,
                "event": args.event_column,
                "exclude_events": args.exclude_event,
            }
            rows = df.count()
            if args.out:
                keep = None if args.keep_columns else [args.user_column, args.time_column]
                sessionize(df, specs, keep=keep, **options).write.parquet(args.out)
                blocks = counts(spark.read.parquet(args.out), specs)  # what was written, not recomputed
            else:
                blocks = count_sessions(df, specs, **options)
        except errors as err:
            raise _spark_error(args.file, err) from None
    epoch_notice(args.file, detected)
    events = next(iter(blocks.values()))["events"]
    accounting = {"read": rows, "sessionized": events, "bad": 0, "excluded": rows - events}
    doc = {
        "definitions": blocks,
        "file": args.file,
        "rows": rows,
        "timezone": tz,
        "epoch": epoch,
        "excluded": rows - events,
        "bad_rows": [],
        "accounting": accounting,
        "engine": "spark",
    }
    return print_counts(args, doc, [], "row", 0)


def _local_only(args: argparse.Namespace, *flags: str) -> None:
    """Refuse options that have no meaning (yet) with ``--engine spark``: an error, never a no-op."""
    given = {
        "--workers": args.workers != 1,
        "--chunk-size": args.chunk_size != _default_chunk(),
        "--report": bool(getattr(args, "report", None)),
        "--breakdown": bool(getattr(args, "breakdown", None)),
        "--replications": bool(getattr(args, "replications", None)),
    }
    for flag in flags:
        if given[flag]:
            why = {
                "--workers": "Spark's executors simulate the blocks",
                "--chunk-size": "each Spark task simulates whole blocks of 8,192 visitors",
                "--report": "it writes per-hit rows (sessions.csv), which stay on the cluster",
                "--breakdown": "breakdowns need the event log's rows on the driver",
                "--replications": "run one seed per command (or loop over --seed)",
            }[flag]
            raise ScenarioError(flag, "", f"{flag} is not available with --engine spark: {why}")


def run_simulate(args: argparse.Namespace) -> int:
    """``simulate --engine spark``: blocks of visitors as Spark tasks, a Parquet dataset directory out."""
    _local_only(args, "--workers", "--chunk-size")
    suffix = Path(args.out).suffix.lower()
    if suffix in (".csv", ".jsonl"):
        raise ScenarioError(
            args.out, "", "--engine spark writes a Parquet dataset directory, not CSV or JSONL"
        )
    if Path(args.out).exists():
        raise ScenarioError(args.out, "", "--out exists; --engine spark writes a new dataset directory")
    scenario = _load(args.file)
    with _spark(args) as spark:
        from simulator.spark.simulate import simulate  # noqa: PLC0415

        try:
            stats = simulate(spark, scenario, args.out, seed=args.seed, visitors=args.visitors)
        except _spark_errors() as err:
            raise _spark_error(args.out, err) from None
    print(f"{args.out}: {stats.rows:,} events ({stats.partitions} Spark tasks)", file=sys.stderr)
    return 0


def run_run(args: argparse.Namespace) -> int:
    """``run --engine spark``: simulate and count on the cluster; the same report as ``--engine local``."""
    _local_only(args, "--workers", "--chunk-size", "--report", "--breakdown", "--replications")
    if args.confidence is not None:
        raise ScenarioError("--confidence", "", "--confidence needs --replications (not on --engine spark)")
    scenario = _load(args.file)
    with _spark(args) as spark:
        from simulator.spark.run import run  # noqa: PLC0415

        try:
            result = run(spark, scenario, args.seed, visitors=args.visitors)
        except _spark_errors() as err:
            raise _spark_error(args.file, err) from None
    from simulator.cli.terminal import stdout_width  # noqa: PLC0415
    from simulator.report.text import render_json, render_text  # noqa: PLC0415

    if args.json:
        sys.stdout.write(render_json(result))
    else:
        charset = "unicode" if (sys.stdout.encoding or "").lower().replace("-", "") == "utf8" else "ascii"
        sys.stdout.write(
            render_text(result, charset, width=stdout_width(), show_all=getattr(args, "all", False))
        )
    return 0

"""``sessionlab sessionize --engine spark``: the same command on a Spark cluster (or ``local[*]``).

:func:`add_engine` adds ``--engine local|spark``, ``--master`` and ``--spark-conf k=v`` to the
``sessionize`` parser that :mod:`simulator.cli.sessions` built, and routes ``--engine spark`` here;
the local path is untouched. pyspark is imported only when ``--engine spark`` runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError
from simulator.report.tables import format_table
from simulator.schema import check_timezone
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

    def __init__(self, spark: Any) -> None:
        self._tracker = spark.sparkContext.statusTracker()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._on = sys.stderr.isatty()

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
    local_only = (
        ("--exclude-event", args.exclude_event, "filter first"),
        ("--skip-bad", args.skip_bad, "filter first"),
        ("--keep-columns", args.keep_columns, "join on the input's row order yourself"),
        ("--source-columns", args.source_columns, "build one campaign column first"),
        ("--delimiter", args.delimiter, "it reads Parquet"),
    )
    for flag, used, instead in local_only:
        if used:
            raise ScenarioError(flag, "", f"{flag} is not available with --engine spark (yet); {instead}")
    if isinstance(args.file, list):
        raise ScenarioError(
            args.file[0], "", "--engine spark reads one Parquet dataset (a file or a directory)"
        )
    if args.format not in (None, "parquet"):
        raise ScenarioError(args.file, "", "--engine spark reads Parquet datasets (a file or a directory)")
    if args.out and Path(args.out).exists():
        raise ScenarioError(args.out, "", "--out exists; --engine spark writes a new dataset directory")
    if not Path(args.file).exists():
        raise ScenarioError(args.file, "", "no such file or directory")


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
        with _Progress(spark):
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
    """``sessionize --engine spark``: read a Parquet dataset, sessionize on Spark, write and count."""
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
    try:
        check_timezone(args.timezone)
    except ValueError as err:
        raise ScenarioError("--timezone", "", str(err)) from None
    with _spark(args) as spark:
        from simulator.spark import counts, sessionize  # noqa: PLC0415

        errors = _spark_errors()
        try:
            df = spark.read.parquet(args.file)
        except errors as err:
            raise _spark_error(args.file, err) from None
        campaign = args.campaign_column if args.campaign_column in df.columns else None
        out = sessionize(
            df,
            specs,
            user=args.user_column,
            time=args.time_column,
            campaign=campaign,
            timezone=args.timezone,
            epoch=args.epoch,
        )
        try:
            if args.out:
                out.write.parquet(args.out)
                out = spark.read.parquet(args.out)  # count what was written, without recomputing
            blocks = counts(out, specs, user=args.user_column)
        except errors as err:
            raise _spark_error(args.file, err) from None
    if args.json:
        doc = {"definitions": blocks, "file": args.file, "timezone": args.timezone, "engine": "spark"}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return 0
    rows = [[name, f"{b['sessions']:,}", f"{b['users']:,}", f"{b['events']:,}"] for name, b in blocks.items()]
    sys.stdout.write(format_table(["definition", "sessions", "users", "events"], rows) + "\n")
    return 0


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

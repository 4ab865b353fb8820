"""The ``sessionlab`` command: a thin layer over the Python API.

Exit codes are :class:`ExitCode`; one handler at the top turns a :class:`SessionlabError` into one line
on stderr (exit 2), Ctrl-C into exit 130, and shows a traceback only for unexpected errors or with
``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from simulator import __version__
from simulator.cli.argtypes import confidence, whole
from simulator.cli.interrupt import sticky
from simulator.cli.observed import add_arguments as add_observed_arguments
from simulator.cli.terminal import configure, progress, stdout_width
from simulator.errors import ScenarioError, SessionlabError
from simulator.schema import MAX_SIZE

if TYPE_CHECKING:
    from simulator.analysis.breakdown import Breakdown
    from simulator.analysis.result import Result
    from simulator.log.events import EventLog
    from simulator.scenario.loader import Scenario
    from simulator.testing.junit import SuiteResult
    from simulator.testing.stats import Replications

# Each command imports what it needs when it runs (``sessionize`` does not load the simulator,
# scipy or pandas): the start-up of every ``sessionlab`` command is part of its run time.
# ruff: noqa: PLC0415

__all__ = ["ExitCode", "main"]

_SEED = whole(0, "42", 2**64 - 1)
_COUNT = whole(0, "10000", MAX_SIZE)
_POSITIVE = whole(1, "4", MAX_SIZE)
_REPLICATIONS = whole(2, "30", 100_000)  # an interval needs two runs


class ExitCode(enum.IntEnum):
    OK = 0  #: everything ran; every expectation held
    EXPECTATIONS_FAILED = 1  #: at least one expectation did not hold
    SCENARIO_ERROR = 2  #: bad input: a scenario file, an argument, a data file
    INTERNAL_ERROR = 3  #: a bug in sessionlab (please report it with --debug output)
    INTERRUPTED = 130  #: stopped with Ctrl-C


def _cmd_run(args: argparse.Namespace) -> ExitCode:
    from simulator.analysis.result import run
    from simulator.report.testing import render_replications
    from simulator.report.text import render_json, render_text
    from simulator.scenario.loader import load_scenario
    from simulator.testing.breakdowns import replicate_breakdowns
    from simulator.testing.stats import replicate

    if args.confidence is not None and not args.replications:
        raise SessionlabError(
            "run: --confidence sets the intervals of --replications; give --replications R too"
        )
    args.confidence = args.confidence or 0.95
    scenario = load_scenario(args.file)
    population = args.visitors if args.visitors is not None else getattr(scenario.population, "visitors", 0)

    def run_once(sc: Scenario, seed: int | None, on_progress: Callable[[int], None] | None = None) -> Result:
        return run(
            sc,
            seed,
            visitors=args.visitors,
            chunk_size=args.chunk_size,
            workers=args.workers,
            on_progress=on_progress,
        )

    if not args.replications or args.json or args.report:
        # the single run is the report (no --replications), or is printed (JSON) or written (report) beside
        with progress("run: simulating", population, "visitor") as on_progress:
            result = run_once(scenario, args.seed, on_progress)
    if not args.replications:
        tables = _report(args, scenario, result)
        charset = "unicode" if (sys.stdout.encoding or "").lower().replace("-", "") == "utf8" else "ascii"
        text = render_text(result, charset, tables, width=stdout_width(), show_all=args.all)
        sys.stdout.write(render_json(result, tables) if args.json else text)
        return ExitCode.OK
    with progress("run: replications", args.replications, "run") as on_progress:
        if args.breakdown:  # every replication's breakdowns: means with intervals, like every other number
            reps, per_segment = replicate_breakdowns(
                scenario,
                args.replications,
                args.breakdown,
                seed=args.seed,
                runner=run_once,
                on_progress=on_progress,
            )
        else:
            reps = replicate(
                scenario, args.replications, seed=args.seed, runner=run_once, on_progress=on_progress
            )
            per_segment = None
    if args.json or args.report:
        tables = _report(args, scenario, result, reps)
    if args.json:
        doc = json.loads(render_json(result, tables))
        doc["replications"] = reps.to_dict(args.confidence)
        if per_segment is not None:
            doc["replications"]["breakdowns"] = per_segment.to_dict(args.confidence)
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(
            render_replications(
                reps, args.confidence, width=stdout_width(), show_all=args.all, breakdowns=per_segment
            )
        )
    return ExitCode.OK


def _report(
    args: argparse.Namespace, scenario: Scenario, result: Result, reps: Replications | None = None
) -> dict[str, dict[str, Breakdown]] | None:
    """The breakdown tables asked for, after writing ``--report DIR`` if asked (both use them)."""
    from simulator.analysis.breakdown import breakdowns
    from simulator.report.directory import write_report
    from simulator.testing.expect import evaluate
    from simulator.testing.stats import compare_observed

    tables = breakdowns(result, args.breakdown) if args.breakdown else None
    if args.report:
        observed = [(str(ref), value) for ref, value in scenario.observed]
        extra = {
            "expectations": evaluate(result, scenario.expectations, scenario),
            "replications": reps,
            "confidence": args.confidence,
            "observed": compare_observed(reps, observed, args.confidence) if reps else observed,
        }
        written = write_report(result, args.report, scenario.description, tables, **extra)
        print(f"wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    return tables


def _scenario_files(targets: Sequence[str]) -> Iterator[Path]:
    from simulator.testing.expect import has_expectations

    for target in targets:
        path = Path(target)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*.toml") if has_expectations(p.read_text("utf-8", errors="replace"))
            )
            if not found:
                raise ScenarioError(target, "", "no scenario files with [[expect]] in this directory")
            yield from found
        elif path.exists():
            yield path
        else:
            raise ScenarioError(target, "", "no such file or directory")


def _check_file(path: Path, seed: int | None, verbose: bool) -> SuiteResult:
    from simulator.scenario.loader import load_scenario
    from simulator.testing.expect import evaluate_scenario, expect_blocks
    from simulator.testing.junit import SuiteResult

    scenario = load_scenario(path)
    text = path.read_text(encoding="utf-8")
    if not scenario.expectations:
        print(f"{path}: no [[expect]] tables; nothing to check")
        return SuiteResult(str(path), scenario.name, ())
    outcomes = evaluate_scenario(scenario, seed=seed)
    blocks = expect_blocks(text)
    bad = [o for o in outcomes if not o.passed]
    print(f"{path}: {len(outcomes)} expectations, {'ok' if not bad else f'{len(bad)} failed'}")
    for k, outcome in enumerate(outcomes):
        if not outcome.passed:
            lines = blocks[k] if k < len(blocks) else None
            print("  " + outcome.report(lines, str(path), text).replace("\n", "\n  "))
        elif verbose:
            print(f"  {outcome.describe()}")
    return SuiteResult(str(path), scenario.name, outcomes, blocks, text)


def _cmd_check(args: argparse.Namespace) -> ExitCode:
    from simulator.testing.junit import junit_xml, write_atomically

    suites = [_check_file(path, args.seed, args.verbose) for path in _scenario_files(args.targets)]
    total = sum(len(s.outcomes) for s in suites)
    failed = sum(not o.passed for s in suites for o in s.outcomes)
    print(f"{total - failed} of {total} expectations hold")
    if args.junit_xml:
        write_atomically(args.junit_xml, junit_xml(suites))
    return ExitCode.EXPECTATIONS_FAILED if failed else ExitCode.OK


def _cmd_compare(args: argparse.Namespace) -> ExitCode:
    from simulator.cli.observed import run_reports
    from simulator.report.testing import render_observed
    from simulator.scenario.loader import load_scenario
    from simulator.testing.stats import compare_observed, replicate

    scenario = load_scenario(args.file)
    n = args.replications or max(scenario.replications, 2)
    if args.observed or scenario.observed_files:  # report files, per day and campaign
        return ExitCode.OK if run_reports(args, scenario, n) else ExitCode.EXPECTATIONS_FAILED
    if not scenario.observed:
        raise ScenarioError(
            args.file, "observed", "nothing to compare: add an [observed] table or --observed"
        )
    with progress("compare: replications", n, "run") as on_progress:
        reps = replicate(scenario, n, seed=args.seed, on_progress=on_progress)
    observed = [(str(ref), value) for ref, value in scenario.observed]
    checks = compare_observed(reps, observed, args.confidence)
    if args.json:
        doc = {"scenario": scenario.name, "replications": n, "confidence": args.confidence}
        doc["observed"] = [c.to_dict() for c in checks]
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
    else:
        sys.stdout.write(render_observed(checks, reps, args.confidence))
    return (
        ExitCode.OK
        if all(c.verdict.startswith("consistent") for c in checks)
        else ExitCode.EXPECTATIONS_FAILED
    )


def _cmd_calibrate(args: argparse.Namespace) -> ExitCode:
    from simulator.cli.observed import reports_of
    from simulator.report.testing import render_calibration

    paths = [p for given in args.fit for p in given.split(",") if p.strip()]
    if not paths:
        raise ScenarioError(args.file, "--fit", "expected parameter paths like tracking.consent")
    from simulator.testing.calibrate import calibrate

    reports, mapping = reports_of(args)
    with progress("calibrate: simulation runs", None, "run") as on_progress:
        cal = calibrate(
            args.file,
            paths,
            replications=args.replications,
            max_evals=args.max_evals,
            bootstrap=args.bootstrap,
            confidence=args.confidence,
            seed=args.seed,
            reports=reports,
            mapping=mapping,
            on_progress=on_progress,
        )
    sys.stdout.write(json.dumps(cal.to_dict(), indent=2) + "\n" if args.json else render_calibration(cal))
    return ExitCode.OK if cal.ok else ExitCode.EXPECTATIONS_FAILED


def _cmd_schema(args: argparse.Namespace) -> ExitCode:
    from simulator.scenario.loader import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return ExitCode.OK


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="simulate a scenario and print its report",
        description="Simulate a scenario; print ad-platform and analytics numbers per session "
        "definition, and the bridge from clicks to sessions.",
    )
    p.add_argument("file", help="scenario file (TOML)")
    p.add_argument("--seed", type=_SEED, metavar="N", help="override the scenario's seed")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.add_argument(
        "--replications",
        type=_REPLICATIONS,
        metavar="R",
        help="run R seeds spawned from the scenario seed; report mean, std and a t interval per metric",
    )
    p.add_argument(
        "--confidence", type=confidence, help="confidence level of the --replications intervals (0.95)"
    )
    p.add_argument(
        "--report",
        metavar="DIR",
        help="also write report.html, report.md, result.json, sessions.csv and PNG charts (with the 'plots' "
        "extra) to DIR",
    )
    p.add_argument(
        "--breakdown",
        type=_dimensions,
        metavar="DIMS",
        help="also show cost per session by campaign,device,hour,network,channel (comma-separated, or all); "
        "with --replications, each segment's mean over the replications with a t interval",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="show the rows, columns and sections whose every number is zero (hidden by default; the "
        "last line says how many)",
    )
    _population_options(p)
    p.set_defaults(func=_cmd_run)


def _dimensions(text: str) -> tuple[str, ...]:
    from simulator.analysis.breakdown import parse_dimensions

    try:
        return parse_dimensions(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _population_options(p: argparse.ArgumentParser) -> None:
    from simulator.engine.simulate import DEFAULT_CHUNK

    p.add_argument("--visitors", type=_COUNT, metavar="N", help="override [population] visitors")
    p.add_argument(
        "--chunk-size",
        type=_POSITIVE,
        default=DEFAULT_CHUNK,
        metavar="N",
        help=f"visitors simulated at a time (default {DEFAULT_CHUNK:,}); changes memory, never results",
    )
    p.add_argument(
        "--workers",
        type=_POSITIVE,
        default=1,
        metavar="N",
        help="simulate blocks of visitors in N processes (default 1); changes speed, never results",
    )


def _cmd_simulate(args: argparse.Namespace) -> ExitCode:
    from simulator.engine.simulate import iter_chunks
    from simulator.log.writer import write_chunks
    from simulator.scenario.loader import load_scenario

    scenario = load_scenario(args.file)
    total = args.visitors if args.visitors is not None else getattr(scenario.population, "visitors", 0)
    rows = 0

    def chunks(on_progress: Callable[[int], None]) -> Iterator[EventLog]:
        nonlocal rows
        for log in iter_chunks(
            scenario, args.seed, visitors=args.visitors, chunk_size=args.chunk_size, workers=args.workers
        ):
            rows += len(log)
            on_progress(int(log.meta.get("visitors", 0)))
            yield log

    with progress("simulate", total, "visitor") as on_progress:
        write_chunks(chunks(on_progress), args.out)
    print(f"{args.out}: {rows:,} events", file=sys.stderr)
    # the file is complete, renamed into place and closed, no worker pool was started: nothing is left
    # for the interpreter's teardown to do but unload numpy and pyarrow (0.2-0.8 s); main() skips it
    args.exit_at_once = args.workers == 1
    return ExitCode.OK


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a scenario and write its event log to a file",
        description="Simulate a scenario chunk by chunk and stream the event log to FILE.csv, "
        "FILE.jsonl or FILE.parquet. Memory stays flat as the "
        "population grows; the file appears only when complete.",
    )
    p.add_argument("file", help="scenario file (TOML)")
    p.add_argument("--out", required=True, metavar="FILE", help="output file: .csv, .jsonl or .parquet")
    p.add_argument("--seed", type=_SEED, metavar="N", help="override the scenario's seed")
    _population_options(p)
    p.set_defaults(func=_cmd_simulate)


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check",
        help="evaluate the [[expect]] tables of scenario files",
        description="Run each scenario and evaluate its [[expect]] tables. Directories are "
        "searched for *.toml files that contain [[expect]]. Exit 0 when all hold, 1 when any "
        "fails, 2 on a bad file.",
    )
    p.add_argument("targets", nargs="+", metavar="FILE|DIR", help="scenario files or directories")
    p.add_argument("--seed", type=_SEED, metavar="N", help="override every scenario's seed")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing expectations too")
    p.add_argument("--junit-xml", metavar="FILE", help="also write the results as JUnit XML (for CI)")
    p.set_defaults(func=_cmd_check)


def _add_compare(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare the [observed] numbers of real reports with the simulated distribution",
        description="Replicate the scenario and report, for each number in [observed], the simulated "
        "mean and central range, the observation's percentile, a two-sided p-value and a verdict. Exit 0 "
        "when every number is consistent, 1 otherwise.",
    )
    p.add_argument("file", help="scenario file (TOML) with an [observed] table")
    p.add_argument(
        "--replications",
        type=_REPLICATIONS,
        metavar="R",
        help="number of seeds (default: [scenario] replications, at least 2)",
    )
    p.add_argument("--seed", type=_SEED, metavar="N", help="override the scenario's seed")
    p.add_argument("--confidence", type=confidence, default=0.95, help="1 - significance level (0.95)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_observed_arguments(p)
    p.set_defaults(func=_cmd_compare)


def _add_calibrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "calibrate",
        help="fit unknown scenario parameters to the [observed] numbers of real reports",
        description="Estimate the parameters named with --fit so that the simulation matches [observed] "
        "(scipy.optimize, the same seeds for every candidate), with bootstrap intervals and a comparison "
        "with documented typical ranges. Exit 0 when the fit converged and explains every observed "
        "number, 1 otherwise, 2 on bad input.",
    )
    p.add_argument("file", help="scenario file (TOML) with [population] and [observed] tables")
    p.add_argument(
        "--fit",
        action="append",
        required=True,
        metavar="PATHS",
        help="comma-separated parameter paths: tracking.consent, behavior.patience.median, "
        "campaign[NAME].ctr, ... (repeatable)",
    )
    p.add_argument(
        "--replications", type=_REPLICATIONS, default=8, metavar="R", help="seeds per candidate (8)"
    )
    p.add_argument("--max-evals", type=_POSITIVE, default=40, metavar="N", help="most candidates tried (40)")
    p.add_argument(
        "--bootstrap", type=_REPLICATIONS, default=20, metavar="B", help="bootstrap draws, at least 2 (20)"
    )
    p.add_argument("--confidence", type=confidence, default=0.95, help="level of the intervals (0.95)")
    p.add_argument("--seed", type=_SEED, metavar="N", help="override the scenario's seed")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_observed_arguments(p, chart=False)
    p.set_defaults(func=_cmd_calibrate)


def _add_schema(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schema",
        help="print the JSON Schema of scenario files",
        description="Print a JSON Schema (draft 2020-12) for scenario files, generated from the same "
        "tables as the validator, for editors that complete and check TOML through JSON Schema.",
    )
    p.set_defaults(func=_cmd_schema)


#: (command, "module:function"): each function adds one subcommand (its parser and its ``func``),
#: or options of one (``sessionize``'s engine and memory); order is the order of ``--help``. Only
#: the named command's modules are imported (``sessionlab --help`` imports them all).
_COMMANDS: tuple[tuple[str, str], ...] = (
    ("run", "simulator.cli.main:_add_run"),
    ("run", "simulator.cli.spark:add_engine"),  # --engine spark
    ("check", "simulator.cli.main:_add_check"),
    ("definitions", "simulator.cli.sessions:add_definitions"),
    ("sessionize", "simulator.cli.sessions:add_sessionize"),
    ("sessionize", "simulator.cli.spark:add_engine"),  # --engine spark
    ("sessionize", "simulator.cli.memory:add_memory"),  # --memory, --out-of-core
    ("schema", "simulator.cli.main:_add_schema"),
    ("compare", "simulator.cli.main:_add_compare"),
    ("workload", "simulator.cli.testbench:add_workload"),
    ("conform", "simulator.cli.testbench:add_conform"),
    ("audit", "simulator.cli.audit:add_audit"),
    ("bench", "simulator.cli.testbench:add_bench"),
    ("simulate", "simulator.cli.main:_add_simulate"),
    ("simulate", "simulator.cli.spark:add_engine"),  # --engine spark
    ("calibrate", "simulator.cli.main:_add_calibrate"),
    ("validate", "simulator.cli.validate:add_validate"),
)


_QUIET = "no progress bar on stderr (there is one only when stderr is a terminal)"
_EXIT_CODES = (
    "Exit codes: 0 ok; 1 a check failed (as described above; a command that checks nothing never exits "
    "1); 2 bad input (one line on stderr); 3 internal error (a bug: please report it with --debug "
    "output); 130 interrupted."
)


class _HelpFormatter(argparse.HelpFormatter):
    """Every option with a default says it: appended as ``(default: X)`` unless its help already does."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if not action.option_strings or default in (None, False, True, argparse.SUPPRESS, []) or not text:
            return action.help
        shown = f"{default:,}" if isinstance(default, int) else str(default)
        if "default" in text or f"({shown})" in text or f"({default})" in text:
            return text
        return f"{text} (default: %(default)s)"


def _registrar(target: str) -> Callable[[argparse._SubParsersAction], None]:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit code 2) like every other bad input."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("sessionlab").strip()
        where = f"{command}: " if command else ""
        helper = f"sessionlab {command} --help" if command else "sessionlab --help"
        self.exit(ExitCode.SCENARIO_ERROR, f"sessionlab: error: {where}{message} (see '{helper}')\n")


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sessionlab",
        description=(
            "Simulate visitor journeys from a scenario file and explain why ad clicks, page "
            "views and analytics sessions disagree."
        ),
        epilog=_EXIT_CODES,
    )
    parser.add_argument("--version", action="version", version=f"sessionlab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for every error")
    parser.add_argument("-q", "--quiet", action="store_true", help=_QUIET)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    named = words[0] if words and any(words[0] == c for c, _ in _COMMANDS) else None
    for command, target in _COMMANDS:
        if named in (None, command):
            _registrar(target)(sub)
    for command in sub.choices.values():  # every command takes --quiet too, and states its exit codes
        flags = [f for f in ("-q", "--quiet") if f not in command._option_string_actions]
        if "--quiet" in flags:
            command.add_argument(*flags, action="store_true", default=argparse.SUPPRESS, help=_QUIET)
        command.epilog = f"{command.epilog} {_EXIT_CODES}" if command.epilog else _EXIT_CODES
        command.formatter_class = _HelpFormatter
    return parser


def _handle(func: Callable[[], ExitCode], debug: bool) -> int:
    try:
        return func()
    except SessionlabError as err:
        if debug:
            traceback.print_exc()
        message = "; ".join(part.strip() for part in str(err).splitlines() if part.strip())  # one line
        print(f"sessionlab: error: {message}", file=sys.stderr)
        return ExitCode.SCENARIO_ERROR
    except KeyboardInterrupt:
        print("sessionlab: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except MemoryError:
        print("sessionlab: error: not enough memory for this size; use smaller numbers", file=sys.stderr)
        return ExitCode.SCENARIO_ERROR
    except Exception:
        traceback.print_exc()
        print(
            "sessionlab: internal error (a bug); please report it with the output above",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


def _without_pandas() -> None:
    """Keep pyarrow from importing pandas (0.4-2 s) in a ``sessionize`` process that never needs it.

    pyarrow imports pandas on its first ``pa.array`` call, to check for pandas objects; when that
    import fails it never tries again. Only for the console script (``argv`` None): in a Python
    process (tests, notebooks) pyarrow keeps its pandas integration.
    """
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    class _NoPandas:
        @staticmethod
        def find_spec(name: str, *_: object) -> None:
            if name == "pandas":
                raise ImportError("pandas is not needed by sessionize")

    sys.meta_path.insert(0, _NoPandas)  # type: ignore[arg-type]
    try:
        pa.array([0])  # pyarrow's pandas shim tries once, now, and remembers
    finally:
        sys.meta_path.remove(_NoPandas)  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sessionlab`` console script."""
    words = [a for a in sys.argv[1:] if not a.startswith("-")]
    if argv is None and words[:1] == ["sessionize"] and not any(a.startswith("--engine") for a in sys.argv):
        _without_pandas()  # (Spark's Arrow exchange goes through pandas)
    args = _parser(argv).parse_args(argv)
    configure(quiet=args.quiet)
    with sticky():  # one Ctrl-C stops the command even if library code swallows its KeyboardInterrupt
        code = _handle(lambda: args.func(args), args.debug)
    if argv is None and code == ExitCode.OK and getattr(args, "exit_at_once", False):
        _exit_at_once(code)
    return code


def _exit_at_once(code: int) -> NoReturn:
    """End the console script now: flush what was printed, skip the interpreter's teardown.

    Only for a command that succeeded and said it leaves nothing behind (``args.exit_at_once``: the
    local ``simulate``, whose output file is closed and in place); never inside a Python process that
    called :func:`main` with ``argv`` (tests, notebooks), nor for Spark (its gateway has exit handlers).
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more can be said there
            stream.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The ``sessionlab`` command: a thin layer over the Python API.

Exit codes are :class:`ExitCode`; one handler at the top turns a :class:`SessionlabError` into one line
on stderr (exit 2), Ctrl-C into exit 130, and shows a traceback only for unexpected errors or with
``--debug``.
"""

from __future__ import annotations

import argparse
import enum
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from simulator import __version__
from simulator.engine import DEFAULT_CHUNK, iter_chunks
from simulator.errors import ScenarioError, SessionlabError
from simulator.events import EventLog
from simulator.expect import evaluate
from simulator.report import render_json, render_text
from simulator.result import run
from simulator.scenario import load_scenario

__all__ = ["ExitCode", "main"]


class ExitCode(enum.IntEnum):
    OK = 0  #: everything ran; every expectation held
    EXPECTATIONS_FAILED = 1  #: at least one expectation did not hold
    SCENARIO_ERROR = 2  #: bad input: a scenario file, an argument, a data file
    INTERNAL_ERROR = 3  #: a bug in sessionlab (please report it with --debug output)
    INTERRUPTED = 130  #: stopped with Ctrl-C


def _cmd_run(args: argparse.Namespace) -> ExitCode:
    scenario = load_scenario(args.file)
    result = run(scenario, seed=args.seed, visitors=args.visitors, chunk_size=args.chunk_size)
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
    _population_options(p)
    p.set_defaults(func=_cmd_run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _count(text: str) -> int:
    value = int(text.replace("_", "").replace(",", ""))
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def _population_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--visitors", type=_count, metavar="N", help="override [population] visitors")
    p.add_argument(
        "--chunk-size",
        type=_positive,
        default=DEFAULT_CHUNK,
        metavar="N",
        help=f"visitors simulated at a time (default {DEFAULT_CHUNK:,}); changes memory, never results",
    )


class _Progress:
    """A one-line progress report on stderr, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.live = sys.stderr.isatty() and total > 0

    def add(self, visitors: int, rows: int) -> None:
        self.done += visitors
        if self.live:
            pct = 100 * self.done / self.total
            sys.stderr.write(
                f"\rsimulating: {pct:5.1f} %  {self.done:,}/{self.total:,} visitors  {rows:,} events"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


def _cmd_simulate(args: argparse.Namespace) -> ExitCode:
    from simulator.output import write_chunks  # noqa: PLC0415 - only this command writes files

    scenario = load_scenario(args.file)
    total = args.visitors if args.visitors is not None else getattr(scenario.population, "visitors", 0)
    progress = _Progress(total)
    rows = 0

    def chunks() -> Iterator[EventLog]:
        nonlocal rows
        for log in iter_chunks(scenario, args.seed, visitors=args.visitors, chunk_size=args.chunk_size):
            rows += len(log)
            progress.add(int(log.meta.get("visitors", 0)), rows)
            yield log

    try:
        write_chunks(chunks(), args.out)
    finally:
        progress.close()
    print(f"{args.out}: {rows:,} events", file=sys.stderr)
    return ExitCode.OK


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a scenario and write its event log to a file",
        description="Simulate a scenario chunk by chunk and stream the event log to FILE.csv, "
        "FILE.jsonl or FILE.parquet (Parquet needs the 'parquet' extra). Memory stays flat as the "
        "population grows; the file appears only when complete.",
    )
    p.add_argument("file", help="scenario file (TOML)")
    p.add_argument("--out", required=True, metavar="FILE", help="output file: .csv, .jsonl or .parquet")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
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
    p.add_argument("--seed", type=int, help="override every scenario's seed")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing expectations too")
    p.set_defaults(func=_cmd_check)


#: Each adds one subcommand (its parser and its ``func``); order is the order of ``--help``.
_COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_run,
    _add_check,
    _add_simulate,
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

"""The ``workload``, ``conform`` and ``bench`` subcommands (registered by :mod:`simulator.cli.main`).

Each ``add_*`` function adds one subparser and its ``func``; each ``func`` returns an exit code
(0 ok, 1 the sessionizer disagrees) and raises :class:`~simulator.errors.SessionlabError` on bad input,
which the CLI prints as one line (exit 2).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from simulator.cli.argtypes import seconds, whole
from simulator.cli.terminal import progress
from simulator.errors import SessionlabError
from simulator.log.atomic import ensure_dir, write_atomic
from simulator.schema import MAX_SIZE
from simulator.sessions import get_definition
from simulator.testbench.adapters import DEFAULT_TIME_LIMIT_S, parse_sessionizer
from simulator.testbench.bench import Measurement, bench, machine, parse_sizes, plot, render_table
from simulator.testbench.conform import conform, render_text, write_outputs
from simulator.testbench.isolate import reuse_children
from simulator.testbench.profiles import PROFILES
from simulator.testbench.simulated import from_scenario
from simulator.testbench.workload import (
    DEFAULT_TIMEZONE,
    Workload,
    from_export,
    generate,
    load_workload,
    write_workload,
)

__all__ = ["add_bench", "add_conform", "add_workload"]

_SPEC_HELP = (
    "the sessionizer under test: py:pkg.module:function, cmd:'COMMAND {input} {output}', "
    "sql:FILE.sql or builtin:NAME (sessionlab, numpy, pandas, polars, duckdb); prefix LABEL= to name it"
)

_COUNT = whole(1, "10000", MAX_SIZE)  # events, users, visitors
_REPEATS = whole(1, "3", 1000)
_SEED = whole(0, "42", 2**64 - 1)


def _add_workload_args(p: argparse.ArgumentParser, *, profile: str) -> None:
    p.add_argument("--events", type=_COUNT, metavar="N", help="number of events (rows)")
    p.add_argument("--users", type=_COUNT, metavar="U", help="number of distinct users")
    p.add_argument(
        "--profile", default=profile, metavar="NAME", help=f"{', '.join(PROFILES)} (default {profile})"
    )
    p.add_argument(
        "--scenario", type=Path, metavar="FILE", help="use the tracked hits of this simulated scenario"
    )
    p.add_argument(
        "--visitors", type=_COUNT, metavar="N", help="with --scenario: override [population] visitors"
    )
    p.add_argument("--seed", type=_SEED, help="workload seed (default 0; with --scenario, the scenario's)")
    p.add_argument(
        "--timezone",
        metavar="TZ",
        help=f"the property's time zone (default {DEFAULT_TIMEZONE}; with --scenario, the scenario's)",
    )


def _workload_from_args(args: argparse.Namespace, *, events: int | None, users: int | None) -> Workload:
    """A scenario's hits (``--scenario``) or a profile workload of ``events`` rows and ``users`` users."""
    if args.scenario is not None:
        if args.events is not None or args.users is not None:
            raise SessionlabError("--scenario: give either --scenario or --events/--users, not both")
        return from_scenario(args.scenario, seed=args.seed, visitors=args.visitors, timezone=args.timezone)
    if args.visitors is not None:
        raise SessionlabError("--visitors: only with --scenario (a profile workload takes --events/--users)")
    if events is None or users is None:
        raise SessionlabError("workload: give --events N and --users U (with --profile), or --scenario FILE")
    seed = 0 if args.seed is None else args.seed
    return generate(events, users, args.profile, seed, timezone=args.timezone or DEFAULT_TIMEZONE)


def _describe(wl: Workload) -> str:
    """``profile edge-cases, seed 1`` or ``scenario google_ads_vs_ga4, seed 42, 4,000 visitors``."""
    m = wl.meta
    if m.get("source") == "scenario":
        return f"scenario {m['scenario']}, seed {m['seed']}, {m['visitors']:,} visitors"
    if m.get("source") == "export":
        return f"{m['format']} export {m['file']}"
    return f"profile {m['profile']}, seed {m['seed']}"


_EXPORT_FORMATS = ("ga4", "snowplow", "posthog", "amplitude", "mixpanel", "matomo")
_FORMAT_HELP = "the file is this platform's export, read by its reader (docs/sessions.md)"


def _cmd_workload(args: argparse.Namespace) -> int:
    ensure_dir(args.out)  # a bad --out fails before any work
    if (args.source is None) != (args.format is None):
        raise SessionlabError("workload: --from EXPORT and --format NAME go together")
    if args.source is not None:
        if args.events is not None or args.users is not None or args.scenario is not None:
            raise SessionlabError("--from: give either --from or --events/--users or --scenario")
        wl = from_export(args.source, args.format, args.timezone)
    else:
        wl = _workload_from_args(args, events=args.events, users=args.users)
    digests = write_workload(wl, args.out)
    print(
        f"wrote {wl.meta['events']:,} events of {wl.meta['users']:,} users "
        f"({_describe(wl)}, time zone {wl.timezone}) to {args.out}"
    )
    for name in ("events.csv", "events.parquet"):
        print(f"  {name}  sha256 {digests[name][:16]}")
    return 0


def add_workload(sub: argparse._SubParsersAction) -> None:
    """Add ``sessionlab workload``."""
    p = sub.add_parser(
        "workload",
        help="write a seeded event log built to exercise sessionizers",
        description="Write a seeded event log (events.csv, events.parquet with pyarrow, workload.json) "
        "full of the cases sessionizers get wrong (--events, --users, --profile), or the tracked "
        "analytics hits of a simulated scenario (--scenario). Profiles: "
        + "; ".join(f"{name}: {prof.summary}" for name, prof in PROFILES.items()),
    )
    _add_workload_args(p, profile="edge-cases")
    p.add_argument(
        "--from", dest="source", type=Path, metavar="EXPORT", help="a platform export (with --format)"
    )
    p.add_argument("--format", choices=_EXPORT_FORMATS, help=_FORMAT_HELP)
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory to write into")
    p.set_defaults(func=_cmd_workload)


def _cmd_conform(args: argparse.Namespace) -> int:
    with reuse_children():  # one child process answers every call of a py: sessionizer
        return _conform(args)


def _conform(args: argparse.Namespace) -> int:
    get_definition(args.definition)  # an unknown name fails before any work
    sz = parse_sessionizer(args.sessionizer)
    ensure_dir(args.out)
    if args.workload is not None:
        if args.events is not None or args.users is not None or args.scenario is not None:
            raise SessionlabError("--workload: give either --workload or --events/--users or --scenario")
        if args.format is not None:
            wl = from_export(args.workload, args.format, args.timezone)
        else:
            wl = load_workload(args.workload, args.timezone)  # its recorded time zone unless --timezone
    elif args.format is not None:
        raise SessionlabError("--format: it says what the --workload file is; give --workload EXPORT")
    else:
        events = args.events or 10_000
        wl = _workload_from_args(args, events=events, users=args.users or max(1, events // 20))
    with progress("conform: steps", None, "step") as on_progress:
        res = conform(wl, sz, args.definition, time_limit=args.time_limit, on_progress=on_progress)
    written = write_outputs(res, args.out, wl.timezone)
    if args.json:
        sys.stdout.write((args.out / "conform.json").read_text())
    else:
        sys.stdout.write(render_text(res, wl.timezone, written))
        if written:
            first = next(iter(written.values()))
            print(
                f"reproduce: sessionlab conform --definition {args.definition} --sessionizer "
                f"{shlex.quote(args.sessionizer)} --workload {shlex.quote(str(first))} "
                f"--timezone {wl.timezone}"
            )
    return 0 if res.ok else 1


def add_conform(sub: argparse._SubParsersAction) -> None:
    """Add ``sessionlab conform``."""
    p = sub.add_parser(
        "conform",
        help="check a sessionizer against a session definition; shrink each difference",
        description="Compare the sessions a sessionizer makes with a definition's (the reference is "
        "sessionlab's own sessionize), classify every difference and shrink each class to a minimal "
        "counterexample, printed and written as CSV. Exit 0 when they agree on every event, 1 when "
        "they do not, 2 on bad input.",
    )
    p.add_argument("--definition", default="ga4", help="the session definition to conform to (default ga4)")
    p.add_argument("--sessionizer", required=True, metavar="SPEC", help=_SPEC_HELP)
    p.add_argument(
        "--workload",
        type=Path,
        metavar="DIR|CSV|EXPORT",
        help="a workload directory or CSV (e.g. a counterexample), or a platform export with --format",
    )
    p.add_argument("--format", choices=_EXPORT_FORMATS, help=_FORMAT_HELP + " (with --workload)")
    _add_workload_args(p, profile="edge-cases")
    p.add_argument(
        "--time-limit",
        type=seconds,
        default=DEFAULT_TIME_LIMIT_S,
        metavar="S",
        help=f"seconds allowed per run of a py: or cmd: sessionizer, which is then ended with every "
        f"process it started (default {DEFAULT_TIME_LIMIT_S:g})",
    )
    out_help = "where conform.json and the counterexample CSVs go (default ./sessionlab-conform)"
    p.add_argument("--out", type=Path, default=Path("sessionlab-conform"), metavar="DIR", help=out_help)
    p.add_argument("--json", action="store_true", help="print conform.json instead of the report")
    p.set_defaults(func=_cmd_conform)


def _cmd_bench(args: argparse.Namespace) -> int:
    get_definition(args.definition)
    specs = [parse_sessionizer(s) for s in args.sessionizer]
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise SessionlabError(
            f"--sessionizer: two sessionizers share a label ({', '.join(labels)}); name them LABEL=..."
        )
    baseline = args.baseline or labels[0]
    if baseline not in labels:
        specs.append(parse_sessionizer(baseline if ":" in baseline else f"builtin:{baseline}"))
        baseline = specs[-1].label
    out = ensure_dir(args.out)
    sizes = parse_sizes(args.sizes)
    with progress("bench: runs", len(sizes) * args.repeats * len(specs), "run") as on_progress:
        results = bench(
            specs, sizes, out=out, definition=args.definition, repeats=args.repeats,
            baseline=baseline, time_limit=args.time_limit, profile=args.profile, seed=args.seed,
            timezone=args.timezone or DEFAULT_TIMEZONE,
            progress=(lambda line: print(line, file=sys.stderr)) if args.verbose else None,
            on_progress=on_progress,
        )  # fmt: skip
    table = render_table(results, baseline)
    sys.stdout.write(table)
    doc = {
        "definition": args.definition, "profile": args.profile, "seed": args.seed, "repeats": args.repeats,
        "time_limit_s": args.time_limit, "baseline": baseline, "machine": machine(),
        "results": [m.to_dict() for m in results],
    }  # fmt: skip
    write_atomic(out / "bench.json", json.dumps(doc, indent=2) + "\n")
    write_atomic(out / "bench.txt", table)
    why_not = plot(
        results, out / "bench.png", f"sessionizers, definition {args.definition}, profile {args.profile}"
    )
    print(why_not or f"wrote {out / 'bench.json'} and {out / 'bench.png'}")
    failed = _all_failed(results)
    if failed:
        print(
            f"sessionlab: every run of {', '.join(failed)} failed or timed out (see the table)",
            file=sys.stderr,
        )
    return 1 if failed else 0


def _all_failed(results: list[Measurement]) -> list[str]:
    """Labels of the sessionizers that measured nothing: every run errored or timed out."""
    failed = []
    for label in dict.fromkeys(m.label for m in results):
        statuses = {m.status for m in results if m.label == label}
        if statuses and "ok" not in statuses:
            failed.append(label)
    return failed


def add_bench(sub: argparse._SubParsersAction) -> None:
    """Add ``sessionlab bench``."""
    p = sub.add_parser(
        "bench",
        help="benchmark sessionizers on workloads of growing size",
        description="Run each sessionizer on the same workloads (one per size, size/20 users), each run "
        "in a fresh child process: median and spread of wall time, events/s, peak memory, ratio to a "
        "baseline. Prints a table; writes bench.json and bench.png (log-log throughput) into --out. "
        "Exit 0, or 1 when every run of a sessionizer failed, 2 on bad input.",
    )
    p.add_argument(
        "--sessionizer", required=True, action="append", metavar="SPEC", help=_SPEC_HELP + "; repeatable"
    )
    p.add_argument("--sizes", default="1e4,1e5,1e6", help="workload sizes in events (default 1e4,1e5,1e6)")
    p.add_argument("--repeats", type=_REPEATS, default=3, help="runs per sessionizer and size (default 3)")
    p.add_argument(
        "--baseline", metavar="NAME", help="label (or builtin name) to compare with (default: the first)"
    )
    p.add_argument(
        "--time-limit", type=seconds, default=60.0, metavar="S", help="seconds per run (default 60)"
    )
    p.add_argument("--definition", default="ga4", help="definition the sessionizers implement (default ga4)")
    p.add_argument(
        "--profile", default="realistic", help=f"workload profile: {', '.join(PROFILES)} (default realistic)"
    )
    p.add_argument("--seed", type=_SEED, default=0, help="workload seed (default 0)")
    p.add_argument("--timezone", metavar="TZ", help=f"the property's time zone (default {DEFAULT_TIMEZONE})")
    p.add_argument(
        "--out", type=Path, default=Path("sessionlab-bench"), metavar="DIR", help="output directory"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print each run as it finishes (stderr)")
    p.set_defaults(func=_cmd_bench)

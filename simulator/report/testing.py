"""Terminal tables for the testing layer: replications, observed vs simulated, and calibration."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simulator.report.tables import fit_lines, format_table, is_zero

if TYPE_CHECKING:  # importing calibrate would load scipy.optimize for every `sessionlab run`
    from simulator.testing.breakdowns import BreakdownReplications
    from simulator.testing.calibrate import Calibration
    from simulator.testing.stats import ObservedCheck, Replications

__all__ = ["render_breakdown_replications", "render_calibration", "render_observed", "render_replications"]


def render_replications(
    reps: Replications,
    confidence: float = 0.95,
    *,
    width: int | None = None,
    show_all: bool = True,
    breakdowns: BreakdownReplications | None = None,
) -> str:
    """A terminal table: mean, standard deviation and confidence interval of every metric.

    Without ``show_all``, metrics whose every number prints as zero or as no value are left out and a
    last line says how many; ``width`` fits the lines to a terminal (see
    :func:`simulator.report.text.render_text`). ``breakdowns`` adds the tables of
    :func:`render_breakdown_replications` after the metrics.
    """
    summary = reps.summary(confidence)
    rows = []
    for key, s in summary.items():
        n = "" if s.n == len(reps.seeds) else f"{s.n}"
        rows.append([key, _num(s.mean), _num(s.std), _num(s.low), _num(s.high), n])
    header = ["metric", "mean", "std", f"{confidence:.0%} low", f"{confidence:.0%} high", "n (if fewer)"]
    head = (
        f"scenario {reps.scenario!r}  {len(reps.seeds)} replications "
        f"(seeds spawned from the scenario seed)  t intervals at {confidence:.0%}"
    )
    hidden = 0
    if not show_all:
        kept = [r for r in rows if not all(is_zero(c) for c in r[1:5])]
        rows, hidden = kept, len(rows) - len(kept)
    note = (
        f"\n\nhidden: {hidden} all-zero row{'s' if hidden != 1 else ''} (--all shows them)" if hidden else ""
    )
    tables = (
        f"\n\n{render_breakdown_replications(breakdowns, confidence, width=width)}".rstrip()
        if breakdowns
        else ""
    )
    return fit_lines(f"{head}\n\n{format_table(header, rows, width=width)}{tables}{note}", width) + "\n"


def render_breakdown_replications(
    tables: BreakdownReplications, confidence: float = 0.95, *, width: int | None = None
) -> str:
    """Breakdown tables over replications: each segment's mean numbers, cost per session with its interval.

    A segment absent from a replication counts as zero cost, clicks, sessions and conversions there
    (:mod:`simulator.testing.breakdowns`); ``n`` is the replications in which cost per session had a value.
    """
    level = f"{confidence:.0%}"
    n_reps = len(tables.reps.seeds)
    out = []
    for (definition, dimension), segments in tables.layout.items():
        rows = []
        for segment in segments:
            s = tables.summary(definition, dimension, segment, confidence)
            cps = s["cost_per_session"]
            rate = s["conversion_rate"]
            rows.append(
                [
                    segment,
                    _money(s["cost"].mean),
                    _num(s["clicks"].mean),
                    _num(s["sessions"].mean),
                    _money(cps.mean),
                    _money(cps.low),
                    _money(cps.high),
                    "" if cps.n in {0, n_reps} else f"{cps.n}",
                    _num(s["conversions"].mean),
                    "-" if rate.mean is None else f"{100 * rate.mean:.2f} %",
                ]
            )
        header = [
            dimension,
            "ad cost",
            "clicks",
            "sessions",
            "cost/session",
            f"{level} low",
            f"{level} high",
            "n (if fewer)",
            "conversions",
            "conv. rate",
        ]
        out += [
            f"cost per session by {dimension} ({definition}): means of {n_reps} replications, "
            f"t interval at {level}",
            format_table(header, rows, width=width),
            "",
        ]
    return fit_lines("\n".join(out), width)


def _money(v: float | None) -> str:
    return "n/a" if v is None or math.isnan(v) else f"{v:,.2f}"


def render_observed(checks: list[ObservedCheck], reps: Replications, confidence: float = 0.95) -> str:
    """A terminal table of observed vs simulated numbers, with percentile, p-value and verdict."""
    rows = [
        [
            c.key,
            _num(c.observed),
            _num(c.mean),
            f"[{_num(c.low)}, {_num(c.high)}]",
            "-" if c.percentile is None else f"{c.percentile:.1f}",
            "-" if c.p_value is None else f"{c.p_value:.3g}",
            c.verdict,
        ]
        for c in checks
    ]
    header = ["metric", "observed", "simulated mean", f"central {confidence:.0%}", "pct", "p", "verdict"]
    head = f"scenario {reps.scenario!r}  {len(reps.seeds)} replications  observed vs simulated"
    return f"{head}\n\n{format_table(header, rows, 'lrrrrrl')}\n"


def _num(v: float | None) -> str:
    if v is None or math.isnan(v):
        return "-"
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"  # noqa: PLR2004


def render_calibration(cal: Calibration) -> str:
    """The terminal report: fitted parameters, what they mean, and the fit quality."""
    c = f"{cal.confidence:.0%}"
    head = (
        f"scenario {cal.scenario!r}: fitted {len(cal.fitted)} parameter(s) to {len(cal.checks)} observed "
        f"number(s)\n{cal.method}, {cal.evaluations} candidates x {cal.replications} common seeds, "
        f"{cal.runs} runs; {'converged' if cal.converged else 'NOT converged: ' + cal.message}\n"
        f"intervals: linearised parametric bootstrap, {cal.bootstrap} draws, {c}"
    )
    rows = [
        [
            f.param.path,
            f.param.format(f.param.start),
            f.param.format(f.value),
            f"[{f.param.format(f.low)}, {f.param.format(f.high)}]",
            f.verdict if f.identified else "NOT IDENTIFIED",
        ]
        for f in cal.fitted
    ]
    params = format_table(["parameter", "start", "fitted", f"{c} interval", "typical range"], rows, "lrrrl")
    quality = format_table(
        ["metric", "observed", "simulated mean", f"central {c}", "p", "verdict"],
        [
            [k.key, _num(k.observed), _num(k.mean), f"[{_num(k.low)}, {_num(k.high)}]", _pval(k), k.verdict]
            for k in cal.checks
        ],
        "lrrrrl",
    )
    n = cal.replications + cal.bootstrap
    lines = [f"- {s}" for s in [*(f.sentence() for f in cal.fitted), *(i.sentence() for i in cal.implied)]]
    verdict = "every observed number is explained at the fitted values" if cal.ok else _why_not(cal)
    return (
        f"{head}\n\n{params}\n\nWhat it means\n" + "\n".join(lines) + f"\n\nFit quality at the fitted values "
        f"({n} runs)\n{quality}\n\n{verdict}\n"
    )


def _pval(k: ObservedCheck) -> str:
    return "-" if k.p_value is None else f"{k.p_value:.3g}"


def _why_not(cal: Calibration) -> str:
    if not cal.converged:
        return f"the fit did not converge ({cal.message}); raise --max-evals"
    if not all(f.identified for f in cal.fitted):
        return "a parameter is not identified by the observed numbers: fit fewer or observe more numbers"
    return (
        "not every observed number is explained at the fitted values: "
        "the fitted parameters alone cannot explain the report"
    )

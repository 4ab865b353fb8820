"""The report directory: ``result.json``, ``sessions.csv``, ``report.md`` and charts, each written atomically.

``write_report`` writes ``report.md`` (see :mod:`simulator.report.markdown`), ``result.json``
(:func:`simulator.report.text.render_json`), ``sessions.csv`` (each hit's session and the rule that
started it, per definition) and, with matplotlib, PNG charts (:mod:`simulator.report.plots`). Every
file is written atomically (temp file + rename).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from simulator.analysis.breakdown import Breakdown
from simulator.analysis.bridges import split_table
from simulator.analysis.result import Result
from simulator.log.atomic import atomic_open, ensure_dir
from simulator.log.events import Cause, Kind
from simulator.report.text import render_json

__all__ = ["sessions_csv", "write_atomic", "write_report"]


def write_atomic(path: Path, write: Callable[[IO[Any]], object], binary: bool = False) -> None:
    """Write ``path`` with ``write(handle)`` through :func:`simulator.log.atomic.atomic_open`.

    Raises
    ------
    ScenarioError
        When the file cannot be written (one line: the path and the reason).
    """
    with atomic_open(path, binary=binary) as fh:
        write(fh)


def _write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda fh: fh.write(text))


def sessions_csv(result: Result) -> str:
    """One row per tracked hit with, per definition, its session id and the rule that started it."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    names = list(result.definitions)
    out.writerow(
        ["row", "user", "ts_ms", "kind", "cause"]
        + [f"{c}.{n}" for n in names for c in ("session", "split_cause")]
    )
    tables = [split_table(result.log, result.hits, result.definitions[n].split) for n in names]
    kind, cause = result.log.kind[result.hits], result.log.cause[result.hits]
    for i, row in enumerate(result.hits.tolist()):
        cells = [
            row,
            int(result.log.user[row]),
            int(result.log.ts[row]),
            Kind(int(kind[i])).name.lower(),
            Cause(int(cause[i])).label,
        ]
        for t in tables:
            cells += [int(t["session"][i]), t["split_cause"][i]]
        out.writerow(cells)
    return buf.getvalue()


def write_report(
    result: Result,
    directory: str | Path,
    description: str = "",
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
) -> list[Path]:
    """Write ``report.md``, ``result.json``, ``sessions.csv`` and (with matplotlib) PNG charts.

    Parameters
    ----------
    result
        What :func:`simulator.run` returned.
    directory
        Created if missing; files in it with the same names are replaced.
    description
        The scenario's description, shown under the title of ``report.md``.
    breakdowns
        Optional tables of :func:`simulator.analysis.breakdown.breakdowns`, added to ``report.md`` and
        ``result.json``.

    Returns
    -------
    list of Path
        The files written, in the order written.
    """
    from simulator.report import markdown, plots  # noqa: PLC0415 - keeps `sessionlab run` lean

    root = ensure_dir(directory)
    written = []
    for name, text in (
        ("result.json", render_json(result, breakdowns)),
        ("sessions.csv", sessions_csv(result)),
    ):
        _write_text(root / name, text)
        written.append(root / name)
    charts, missing = plots.write_charts(result, root, write_atomic)
    written += list(charts.values())
    _write_text(
        root / "report.md", markdown.render_markdown(result, description, charts, missing, breakdowns)
    )
    written.append(root / "report.md")
    return written

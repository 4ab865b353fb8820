"""The report directory: ``result.json``, ``sessions.csv``, ``report.md`` and charts, each written atomically.

``write_report`` writes ``report.md`` (see :mod:`simulator.report.markdown`), ``result.json``
(:func:`simulator.report.text.render_json`), ``sessions.csv`` (each hit's session and the rule that
started it, per definition) and, with matplotlib, PNG charts (:mod:`simulator.report.plots`).

The directory is written whole, atomically: every file goes into a fresh hidden directory beside the
target (``.<name>.sessionlab-<pid>.<random>.tmp``), which is renamed into place only when all of it
was written. A report therefore never mixes two runs, and a kill or a full disk leaves the previous
report (or nothing) behind; a staging directory left by ``kill -9`` is removed by the next write.
An existing target is replaced only if it is empty or a report (it holds :data:`MARKER`); any other
directory is refused, so ``--report .`` never deletes your files.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from simulator.analysis.breakdown import Breakdown
from simulator.analysis.bridges import split_table
from simulator.analysis.result import Result
from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_open, ensure_dir, remove_stale, temp_prefix
from simulator.log.events import Cause, Kind
from simulator.report.text import render_json

__all__ = ["MARKER", "sessions_csv", "write_atomic", "write_report"]

#: The file that marks a directory as a sessionlab report (so a later run may replace it whole).
MARKER = ".sessionlab-report"


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
        Written whole and renamed into place (see the module docstring); an existing report
        directory is replaced, a directory with other files is refused (``ScenarioError``).
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
    if not isinstance(result, Result):
        raise TypeError(f"write_report() needs a Result (from run), got {type(result).__name__}")
    from simulator.report import markdown, plots  # noqa: PLC0415 - keeps `sessionlab run` lean

    target = Path(directory)
    _check_replaceable(target)
    parent = ensure_dir(target).parent  # made (empty) first, for its parents and a clear error
    remove_stale(parent, target.name)
    try:
        stage = Path(tempfile.mkdtemp(dir=parent, prefix=temp_prefix(target.name), suffix=".tmp"))
    except OSError as err:
        raise ScenarioError(
            str(directory), "", f"cannot create the directory: {err.strerror or err}"
        ) from None
    try:
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp creates 0700
        names = _write_files(result, stage, description, breakdowns, markdown, plots)
        _write_text(stage / MARKER, "written by sessionlab run --report; replaced whole by the next run\n")
        _swap_into_place(stage, target)
    except ScenarioError as err:  # name the file as the user knows it, not the staging directory
        shutil.rmtree(stage, ignore_errors=True)
        if not err.path.startswith(str(stage)):
            raise
        where = str(target) + err.path[len(str(stage)) :]
        raise ScenarioError(where, err.key_path, err.message, err.hint) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return [target / name for name in names]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_replaceable(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise ScenarioError(str(target), "", "cannot create the directory: a file of that name is in the way")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise ScenarioError(
            str(target),
            "",
            "the directory has files that are not a sessionlab report; give a new or empty directory "
            "(a report directory is replaced whole)",
        )


def _swap_into_place(stage: Path, target: Path) -> None:
    """Rename ``stage`` to ``target``; an old report is moved aside first and removed after."""
    old = None
    try:
        if target.exists():
            old = stage.with_name(stage.name.removesuffix(".tmp") + ".old.tmp")
            os.rename(target, old)
        os.rename(stage, target)
    except OSError as err:
        if old is not None and not target.exists():
            os.rename(old, target)  # put the previous report back
        raise ScenarioError(str(target), "", f"cannot write the directory: {err.strerror or err}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_files(  # noqa: PLR0917
    result: Result,
    root: Path,
    description: str,
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None,
    markdown: Any,
    plots: Any,
) -> list[str]:
    written = []
    for name, text in (
        ("result.json", render_json(result, breakdowns)),
        ("sessions.csv", sessions_csv(result)),
    ):
        _write_text(root / name, text)
        written.append(name)
    charts, missing = plots.write_charts(result, root, write_atomic)
    written += [Path(p).name for p in charts.values()]
    _write_text(
        root / "report.md", markdown.render_markdown(result, description, charts, missing, breakdowns)
    )
    written.append("report.md")
    return written

"""The report directory: ``result.json``, ``sessions.csv``, ``report.md``, ``report.html`` and charts.

``write_report`` writes ``report.md`` (see :mod:`simulator.report.markdown`), ``report.html`` (one
self-contained page: :mod:`simulator.report.html`), ``result.json`` (:func:`result_document`: the JSON of
:func:`simulator.report.text.render_json`, plus the expectations, replications, observed numbers and
validate findings when given), ``sessions.csv`` (each hit's session and the rule that started it, per
definition) and, with matplotlib, PNG charts (:mod:`simulator.report.plots`; the same charts are inlined
in ``report.html`` as SVG). ``report.html`` is rendered from the same document as ``result.json``.

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
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from simulator.analysis.breakdown import Breakdown
from simulator.analysis.bridges import split_table
from simulator.analysis.result import Result
from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_open, ensure_dir, remove_stale, temp_prefix
from simulator.log.events import Cause, Kind
from simulator.report.text import render_json

if TYPE_CHECKING:  # the testing layer's records; importing it here would load scipy for every run
    from simulator.testing.expect import Outcome
    from simulator.testing.stats import ObservedCheck, Replications

__all__ = ["MARKER", "result_document", "sessions_csv", "write_atomic", "write_report"]

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


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


def _outcome(o: Outcome) -> dict[str, Any]:
    exp = o.expectation
    return {
        "name": exp.name,
        "passed": o.passed,
        "expected": str(exp.comparison if exp.comparison is not None else exp.form),
        "actual": o.actual,
        "interval": None if o.interval is None else list(o.interval),
        "n": o.n,
        "replications": exp.replications,
    }


def result_document(
    result: Result,
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
    *,
    expectations: Sequence[Outcome] | None = None,
    replications: Replications | None = None,
    confidence: float = 0.95,
    observed: Sequence[ObservedCheck | tuple[str, float]] | None = None,
    validate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The document of ``result.json`` (and of ``report.html``).

    Without the keyword arguments it is exactly :func:`~simulator.report.text.render_json`'s. With them,
    keys are added after it: ``expectations`` (one ``{"name", "passed", "expected", "actual", "interval",
    "n", "replications"}`` per outcome of :func:`simulator.testing.expect.evaluate`), ``replications``
    (:meth:`~simulator.testing.stats.Replications.to_dict` at ``confidence``), ``observed``
    (:meth:`~simulator.testing.stats.ObservedCheck.to_dict` per check; ``{"key", "observed"}`` for plain
    ``(key, value)`` pairs, when there were no replications to compare with) and ``validate`` (the
    ``validate --json`` document, :func:`simulator.report.validate.validate_document`).
    """
    doc = json.loads(render_json(result, breakdowns))
    if expectations:
        doc["expectations"] = [_outcome(o) for o in expectations]
    if replications is not None:
        doc["replications"] = replications.to_dict(confidence)
    if observed:
        doc["observed"] = [
            {"key": o[0], "observed": o[1]} if isinstance(o, tuple) else o.to_dict() for o in observed
        ]
    if validate:
        doc["validate"] = dict(validate)
    return _round(doc)


def write_report(
    result: Result,
    directory: str | Path,
    description: str = "",
    breakdowns: Mapping[str, Mapping[str, Breakdown]] | None = None,
    **extra: Any,
) -> list[Path]:
    """Write ``report.md``, ``report.html``, ``result.json``, ``sessions.csv`` and (with matplotlib) charts.

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
        Optional tables of :func:`simulator.analysis.breakdown.breakdowns`, added to ``report.md``,
        ``report.html`` and ``result.json``.
    extra
        ``expectations``, ``replications``, ``confidence``, ``observed``, ``validate``: passed to
        :func:`result_document`, so they appear in ``result.json`` and ``report.html``.

    Returns
    -------
    list of Path
        The files written, in the order written.
    """
    if not isinstance(result, Result):
        raise TypeError(f"write_report() needs a Result (from run), got {type(result).__name__}")
    from simulator.report import html, markdown, plots  # noqa: PLC0415 - keeps `sessionlab run` lean

    doc = result_document(result, breakdowns, **extra)  # a bad keyword fails before anything is written

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
        names = _write_files(result, stage, description, breakdowns, doc, (markdown, html, plots))
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
    doc: dict[str, Any],
    renderers: tuple[Any, Any, Any],
) -> list[str]:
    markdown, html, plots = renderers
    written = []
    for name, text in (
        ("result.json", json.dumps(doc, indent=2) + "\n"),
        ("sessions.csv", sessions_csv(result)),
    ):
        _write_text(root / name, text)
        written.append(name)
    svgs: dict[str, str] = {}
    charts, missing = plots.write_charts(result, root, write_atomic, svgs)
    written += [Path(p).name for p in charts.values()]
    _write_text(
        root / "report.md",
        markdown.render_markdown(
            result, description, charts, missing, breakdowns, validate=doc.get("validate")
        ),
    )
    _write_text(root / "report.html", html.render_html(doc, description, svgs, missing))
    written += ["report.md", "report.html"]
    return written

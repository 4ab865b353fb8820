"""Sessionizers under test, named on the command line as ``[LABEL=]KIND:VALUE``.

==========================  ==================================================================
``py:pkg.mod:func``         a Python callable ``func(user_id, timestamp_ms, campaign)`` taking numpy
                            columns (int64, int64 epoch ms, str with "" for none) in file order and
                            returning one session id per row (any dtype); a function with a
                            ``timezone`` parameter also gets the property's zone (``timezone=...``)
``cmd:TEMPLATE``            a shell command; ``{input}`` is replaced by a CSV file of the workload,
                            ``{input_parquet}`` by a Parquet file, ``{output}`` by the file to write:
                            one session id per line (optional ``session_id`` header), or CSV rows with
                            a header holding ``user_id``, ``timestamp_ms`` (or ``timestamp``) and
                            ``session_id``; ``{timezone}`` is the property's IANA zone
``sql:FILE.sql``            a query run by embedded DuckDB over the table ``events(row_id, user_id,
                            timestamp_ms, ts, campaign)`` (``ts`` a UTC TIMESTAMP, ``campaign`` NULL for
                            none) returning ``session_id`` and ``row_id`` (or ``user_id`` and
                            ``timestamp_ms``)
``builtin:NAME``            sessionlab, numpy, pandas, polars, duckdb (see :mod:`.baselines`)
``spark-sql:FILE.sql``      a Spark SQL query over the temporary view ``events`` (the columns of
                            ``sql:``), as a platform team's job would be written; needs the spark extra
``spark:pkg.mod:func``      ``func(df)`` of that ``events`` Spark DataFrame, returning a DataFrame with
                            ``row_id`` and ``session_id``
==========================  ==================================================================

Session ids are compared per user, so ids numbered per user (1, 2, 3 for every user) are fine.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import SessionlabError
from simulator.schema import did_you_mean
from simulator.sessions import sessionize
from simulator.testbench import baselines, isolate
from simulator.testbench.workload import Workload, write_csv, write_parquet

__all__ = [
    "DEFAULT_TIME_LIMIT_S",
    "KINDS",
    "Sessionizer",
    "SessionizerError",
    "in_process",
    "parse_sessionizer",
]

#: Seconds a ``py:`` or ``cmd:`` sessionizer may take per run in ``conform`` unless told otherwise.
DEFAULT_TIME_LIMIT_S = 300.0
_ISOLATE = True  # py: functions run in a child process; False inside an already isolated process


def in_process() -> None:
    """Run ``py:`` functions in this process from now on (for a process that is itself the isolation)."""
    global _ISOLATE  # noqa: PLW0603
    _ISOLATE = False


KINDS = ("py", "cmd", "sql", "builtin", "spark-sql", "spark")
#: Kinds whose calls may carry many candidate timelines at once (see :attr:`Sessionizer.batching`).
BATCHING = frozenset(("sql", "builtin", "spark-sql", "spark"))
BUILTIN_NAMES = (*baselines.BUILTINS, "duckdb")
_PLACEHOLDERS = {"input", "input_parquet", "output", "timezone"}
_SYNTAX = (
    "expected [LABEL=]KIND:VALUE with KIND one of py, cmd, sql, builtin, spark-sql, spark "
    "(e.g. builtin:duckdb)"
)


class SessionizerError(SessionlabError):
    """A sessionizer spec is malformed, or the sessionizer failed or broke its contract."""

    def __init__(self, spec: str, message: str) -> None:
        self.spec = spec
        self.message = message
        super().__init__(f"--sessionizer {spec!r}: {message}")


def canonical_ids(user_id: np.ndarray, raw: Any, n: int, spec: str) -> np.ndarray:
    """Dense int64 ids from whatever a sessionizer returned; ids are made unique per (user, id)."""
    try:
        ids = np.asarray(raw)
    except Exception as err:
        raise SessionizerError(spec, f"returned something that is not an array ({err})") from None
    if ids.ndim != 1:
        what = f"a {type(raw).__name__}" if ids.ndim == 0 else f"an array of shape {ids.shape}"
        raise SessionizerError(spec, f"returned {what}; expected a 1-d array or list of {n} session ids")
    if len(ids) != n:
        raise SessionizerError(spec, f"returned {ids.shape} session ids for {n} rows; expected one per row")
    _refuse_non_finite(ids, spec)
    if ids.dtype.kind not in "iub":
        # numeric order for floats (DuckDB's SUM is a HUGEINT -> float), text order for the rest
        ids = np.unique(ids if ids.dtype.kind == "f" else ids.astype(str), return_inverse=True)[1]
    users, ids = np.asarray(user_id, dtype=np.int64), ids.astype(np.int64).reshape(-1)
    order = np.lexsort((ids, users))
    u, i = users[order], ids[order]
    new = np.ones(n, dtype=np.bool_)
    if n:
        new[1:] = (u[1:] != u[:-1]) | (i[1:] != i[:-1])
    out = np.empty(n, dtype=np.int64)
    out[order] = np.cumsum(new) - 1
    return out


#: Text a non-finite float becomes when written out (pandas, DuckDB, printf): not a session id.
_NON_FINITE_TEXT = frozenset(sign + word for sign in ("", "-", "+") for word in ("nan", "inf", "infinity"))


def _refuse_non_finite(ids: np.ndarray, spec: str) -> None:
    """NaN and infinite session ids name no session (NaN is not even equal to itself): refuse them."""
    if ids.dtype.kind in "fc":
        bad = np.flatnonzero(~np.isfinite(ids))
    elif ids.dtype.kind in "US":
        low = np.char.lower(np.char.strip(ids.astype(str)))
        bad = np.flatnonzero(np.isin(low, list(_NON_FINITE_TEXT)))
    elif ids.dtype.kind == "O":
        bad = np.flatnonzero([isinstance(v, float) and not np.isfinite(v) for v in ids.tolist()])
    else:
        return
    if len(bad):
        k = int(bad[0])
        raise SessionizerError(
            spec,
            f"returned session id {str(ids[k]).strip()} for row {k + 1} ({len(bad):,} such rows); "
            "a session id must be a whole number or text, not NaN or infinite",
        )


@dataclass
class Prepared:
    """A sessionizer bound to a workload: ``run()`` is the part a benchmark times."""

    spec: str
    user_id: np.ndarray
    n: int
    _run: Callable[[], Any]
    _finish: Callable[[Any], Any]
    _raw: Any = None

    def run(self) -> None:
        self._raw = self._run()

    def ids(self) -> np.ndarray:
        """Canonical session ids aligned with the workload's rows (after :meth:`run`)."""
        return canonical_ids(self.user_id, self._finish(self._raw), self.n, self.spec)


@dataclass(frozen=True)
class Sessionizer:
    """A parsed ``--sessionizer`` spec."""

    spec: str
    kind: str
    value: str
    label: str

    @property
    def batching(self) -> bool:
        """Whether one call may carry many candidate timelines (each its own user) and lookahead.

        True for ``spark:`` and ``spark-sql:`` (a call is a Spark job: its cost is the job, not the
        rows), ``sql:`` and ``builtin:`` (in-process, cheap per row). ``py:`` and ``cmd:`` run foreign
        code whose cost per row is unknown, so the shrinker sends them one step per call.
        """
        return self.kind in BATCHING

    def prepare(
        self, wl: Workload, definition: str, workdir: Path, time_limit: float | None = None
    ) -> Prepared:
        """Load ``wl`` the way this sessionizer reads it (not timed); return the timed part."""
        prepare = {
            "py": _prepare_py,
            "cmd": _prepare_cmd,
            "sql": _prepare_sql,
            "builtin": _prepare_builtin,
            "spark-sql": _prepare_spark,
            "spark": _prepare_spark,
        }
        run, finish = prepare[self.kind](self, wl, definition, workdir, time_limit)
        return Prepared(self.spec, wl.user_id, len(wl), run, finish)

    def __call__(self, wl: Workload, definition: str, time_limit: float | None = None) -> np.ndarray:
        """Canonical session ids for ``wl`` (prepare, run and convert in a temporary directory)."""
        with tempfile.TemporaryDirectory(prefix="sessionlab-") as tmp:
            prepared = self.prepare(wl, definition, Path(tmp), time_limit)
            prepared.run()
            return prepared.ids()


def parse_sessionizer(spec: str) -> Sessionizer:
    """Parse and check a ``--sessionizer`` value (imports py targets, reads SQL files)."""
    label, body = "", spec
    m = re.match(r"([A-Za-z_][\w.-]*)=([\w-]+):", spec)
    if m and m.group(2) in KINDS:
        label, body = m.group(1), spec[len(m.group(1)) + 1 :]
    kind, sep, value = body.partition(":")
    if not sep or kind not in KINDS:
        hint = did_you_mean(kind, KINDS) if sep else ""
        raise SessionizerError(spec, _SYNTAX + (f"; {hint}" if hint else ""))
    if not value.strip():
        raise SessionizerError(spec, f"nothing after {kind}:; {_SYNTAX}")
    check = {
        "py": _check_py,
        "cmd": _check_cmd,
        "sql": _check_sql,
        "builtin": _check_builtin,
        "spark-sql": _check_sql,
        "spark": _check_spark,
    }[kind]
    check(spec, value)
    return Sessionizer(spec, kind, value, label or _default_label(kind, value))


def _default_label(kind: str, value: str) -> str:
    if kind == "builtin":
        return value
    if kind in ("sql", "spark-sql"):
        return f"{kind}:{Path(value).name}"
    if kind in ("py", "spark"):
        return f"{kind}:{value.rsplit(':', 1)[-1]}"
    return "cmd:" + (value if len(value) <= 24 else value[:21] + "...")  # noqa: PLR2004


# ---- py ---------------------------------------------------------------------------------------


def load_callable(spec: str, value: str) -> Callable[..., Any]:
    module, sep, func = value.rpartition(":")
    if not sep or not module or not func.isidentifier():
        raise SessionizerError(spec, f"expected py:package.module:function, got py:{value}")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # as `python -m` would, so local modules are found
    try:
        mod = importlib.import_module(module)
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # SystemExit at import too: report it, don't exit with its code
        raise SessionizerError(spec, f"cannot import {module!r} ({type(err).__name__}: {err})") from None
    target = getattr(mod, func, None)
    if not callable(target):
        raise SessionizerError(spec, f"module {module!r} has no callable {func!r}")
    return target


_CALL = "(user_id, timestamp_ms, campaign)"


def _check_py(spec: str, value: str) -> None:
    """Import the target and check that it can be called with the three columns (in a child process)."""
    if _ISOLATE:
        try:
            with isolate.child(spec, value, None):  # imports and checks there; kept by reuse_children
                return
        except isolate.ChildError as err:
            raise SessionizerError(spec, str(err)) from None
    check_callable(spec, value, load_callable(spec, value))


def check_callable(spec: str, value: str, func: Callable[..., Any]) -> None:
    """Refuse a function that cannot be called as ``func(user_id, timestamp_ms, campaign)``."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins have no signature: find out when called
        return
    try:
        sig.bind(None, None, None, **({"timezone": "UTC"} if takes_timezone(func) else {}))
    except TypeError as err:
        name = value.rsplit(":", 1)[-1]
        raise SessionizerError(
            spec, f"{name}{sig} cannot be called as {name}{_CALL} ({err}); see 'py:' in --help"
        ) from None


def _guarded(spec: str, what: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with any exception of the user's code turned into a one-line :class:`SessionizerError`.

    ``what`` says which step failed (``raised``, ``wrote unreadable output``); sessionlab's own errors
    and Ctrl-C pass through.
    """

    def call(*args: Any) -> Any:
        try:
            return func(*args)
        except (SessionlabError, KeyboardInterrupt):
            raise
        except BaseException as err:  # SystemExit too: user code must not end sessionlab silently
            detail = str(err).strip().splitlines()
            raise SessionizerError(
                spec, f"{what} {type(err).__name__}" + (f": {detail[0]}" if detail else "")
            ) from err

    return call


def takes_timezone(func: Callable[..., Any]) -> bool:
    """Whether ``func`` accepts a ``timezone`` keyword (named, or through ``**kwargs``)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):  # some builtins have no signature
        return False
    return any(p.name == "timezone" or p.kind is p.VAR_KEYWORD for p in params)


def _prepare_py(sz: Sessionizer, wl: Workload, definition: str, workdir: Path, limit: float | None):
    cols = (wl.user_id.copy(), wl.timestamp_ms.copy(), wl.campaign.copy())
    if _ISOLATE:  # in a child process, with the deadline (see simulator.testbench.isolate)

        def run() -> np.ndarray:
            try:
                with isolate.child(sz.spec, sz.value, limit) as proc:
                    kwargs = {"timezone": wl.timezone} if proc.takes_timezone else {}
                    return proc.call(cols, kwargs, limit)
            except isolate.ChildError as err:
                raise SessionizerError(sz.spec, str(err)) from None

        return run, (lambda raw: raw)
    func = load_callable(sz.spec, sz.value)
    check_callable(sz.spec, sz.value, func)
    kwargs = {"timezone": wl.timezone} if takes_timezone(func) else {}
    return _guarded(sz.spec, "raised", lambda: func(*cols, **kwargs)), (lambda raw: raw)


# ---- builtin ----------------------------------------------------------------------------------


def _check_builtin(spec: str, value: str) -> None:
    if value not in BUILTIN_NAMES:
        hint = did_you_mean(value, BUILTIN_NAMES)
        raise SessionizerError(
            spec,
            f"unknown builtin {value!r}; available: {', '.join(BUILTIN_NAMES)}"
            + (f"; {hint}" if hint else ""),
        )


def _prepare_builtin(sz: Sessionizer, wl: Workload, definition: str, workdir: Path, limit: float | None):
    """Bind the definition; import the library and encode campaigns now, so ``run`` is the work alone."""
    if sz.value == "duckdb":
        return _sql_runner(sz.spec, baselines.duckdb_query(definition), wl, user=False)
    if sz.value in {"pandas", "polars"}:
        baselines.need(sz.value)
    users, ts = wl.user_id.copy(), wl.timestamp_ms.copy()
    if sz.value == "sessionlab":
        codes = wl.campaign_codes()
        tz = wl.timezone
        return (lambda: sessionize(users, ts, definition, codes, timezone=tz)), (lambda raw: raw)
    func = baselines.bind(sz.value, definition)
    camp = wl.campaign.copy()
    return (lambda: func(users, ts, camp)), (lambda raw: raw)


# ---- cmd --------------------------------------------------------------------------------------


def _check_cmd(spec: str, value: str) -> None:
    names = set(re.findall(r"{(\w*)}", value))
    unknown = names - _PLACEHOLDERS
    if unknown:
        raise SessionizerError(
            spec,
            f"unknown placeholder {{{sorted(unknown)[0]}}}; allowed: "
            "{input}, {input_parquet}, {output}, {timezone}",
        )
    if "output" not in names or not names & {"input", "input_parquet"}:
        raise SessionizerError(spec, "a command needs {output} and {input} (CSV) or {input_parquet}")


def _input_file(wl: Workload, workdir: Path, name: str) -> Path:
    """The workload's own file when it is a whole written workload; else one written to ``workdir``."""
    if wl.path is not None and (wl.path / name).is_file():
        return wl.path / name
    target = workdir / name
    (write_csv if name.endswith(".csv") else write_parquet)(wl, target)
    return target


def _prepare_cmd(sz: Sessionizer, wl: Workload, definition: str, workdir: Path, limit: float | None):
    subs: dict[str, Any] = {"output": workdir / "sessions.out", "timezone": wl.timezone}
    if "{input}" in sz.value:
        subs["input"] = _input_file(wl, workdir, "events.csv")
    if "{input_parquet}" in sz.value:
        subs["input_parquet"] = _input_file(wl, workdir, "events.parquet")
    command = re.sub(r"{(\w+)}", lambda m: shlex.quote(str(subs[m.group(1)])), sz.value)

    def run() -> int:
        return _run_command(sz.spec, command, limit)

    read = _guarded(sz.spec, "wrote unreadable output:", lambda: _read_output(sz.spec, subs["output"], wl))
    return run, (lambda raw: read())


def _run_command(spec: str, command: str, limit: float | None) -> int:
    """Run ``command`` in its own session; on return, timeout or Ctrl-C end its whole process group.

    Its output goes to files, not pipes, so a background process it leaves behind cannot make us wait
    for an end of file; whatever it left running is killed when it exits.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(command, shell=True, stdout=out, stderr=err, start_new_session=True)
        except OSError as exc:
            raise SessionizerError(spec, f"cannot run the command: {exc.strerror or exc}") from None
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            raise SessionizerError(
                spec, f"the command did not finish within the time limit ({limit:g} s, --time-limit)"
            ) from None
        finally:
            kill_group(proc)
        if code != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            raise SessionizerError(
                spec, f"command exited with status {code}: {(lines or ['(no stderr)'])[-1]}"
            )
    return code


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the process group ``proc`` leads (its own session), then reap ``proc``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=60)


def _read_output(spec: str, path: Path, wl: Workload) -> np.ndarray:
    if not path.is_file():
        raise SessionizerError(spec, f"the command wrote no output file ({path.name})")
    lines = path.read_text().splitlines()
    header = [h.strip() for h in lines[0].split(",")] if lines else []
    if "session_id" in header and len(header) > 1:
        rows = [line.split(",") for line in lines[1:] if line]
        short = next((k for k, r in enumerate(rows) if len(r) != len(header)), None)
        if short is not None:
            raise SessionizerError(
                spec, f"output row {short + 1} has {len(rows[short])} fields; the header has {len(header)}"
            )
        cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
        ts_name = "timestamp_ms" if "timestamp_ms" in cols else "timestamp"
        if "user_id" not in cols or ts_name not in cols:
            raise SessionizerError(
                spec, f"output header {lines[0]!r} needs user_id, timestamp_ms or timestamp, session_id"
            )
        return _match_rows(spec, wl, cols["user_id"], cols[ts_name], cols["session_id"])
    if header == ["session_id"]:
        lines = lines[1:]
    return np.array(lines)


def _parse_ts(values: list[Any]) -> np.ndarray:
    import datetime as dt  # noqa: PLC0415

    text = [str(v) for v in values]
    if all(t.lstrip("-").isdigit() for t in text):
        return np.array(text, dtype=np.int64)
    return np.array([round(dt.datetime.fromisoformat(t).timestamp() * 1000) for t in text], dtype=np.int64)


def _match_rows(spec: str, wl: Workload, users: list[Any], times: list[Any], sids: list[Any]) -> np.ndarray:
    """Align ``user_id,timestamp,session_id`` rows with the workload: k-th equal key -> k-th row."""
    if len(sids) != len(wl):
        raise SessionizerError(
            spec, f"returned {len(sids)} rows for {len(wl)} events; expected one per event"
        )
    try:
        out_key = np.stack((np.array([int(u) for u in users], dtype=np.int64), _parse_ts(times)), axis=1)
    except ValueError as err:
        raise SessionizerError(spec, f"unreadable user_id or timestamp in the output ({err})") from None
    in_key = np.stack((wl.user_id, wl.timestamp_ms), axis=1)
    out_order, in_order = np.lexsort(out_key.T[::-1]), np.lexsort(in_key.T[::-1])
    if not np.array_equal(out_key[out_order], in_key[in_order]):
        raise SessionizerError(spec, "the (user_id, timestamp) rows returned are not the rows of the input")
    result = np.empty(len(wl), dtype=object)
    result[in_order] = np.asarray(sids, dtype=object)[out_order]
    return result.astype(str)


# ---- sql --------------------------------------------------------------------------------------


def _duckdb():
    try:
        import duckdb  # noqa: PLC0415
    except ImportError:
        raise SessionlabError(
            "sql: and builtin:duckdb need duckdb; install it with: pip install 'sessionlab[bench]'"
        ) from None
    return duckdb


def _check_sql(spec: str, value: str) -> None:
    path = Path(value)
    if not path.is_file():
        raise SessionizerError(spec, f"no such SQL file {value!r}")
    if not path.read_text().strip():
        raise SessionizerError(spec, f"SQL file {value!r} is empty")


def _prepare_sql(sz: Sessionizer, wl: Workload, definition: str, workdir: Path, limit: float | None):
    return _sql_runner(sz.spec, Path(sz.value).read_text(), wl)


def _sql_runner(spec: str, query: str, wl: Workload, *, user: bool = True):
    """Load ``wl`` into DuckDB; the query's failures (and, for a user's query, odd results) are one line."""
    duckdb = _duckdb()
    con = duckdb.connect()
    con.execute("SET threads = 1")
    camp = wl.campaign.astype(object)
    src = {
        "row_id": np.arange(len(wl), dtype=np.int64),
        "user_id": wl.user_id,
        "timestamp_ms": wl.timestamp_ms,
        "campaign": np.where(camp == "", None, camp),
    }
    con.register("_src", src)
    con.execute(
        "CREATE TABLE events AS SELECT row_id, user_id, timestamp_ms, epoch_ms(timestamp_ms) AS ts, "
        "campaign::VARCHAR AS campaign FROM _src ORDER BY row_id"
    )
    con.unregister("_src")

    def run() -> dict[str, np.ndarray]:
        try:
            return con.execute(query).fetchnumpy()
        except duckdb.Error as err:
            first = str(err).strip().splitlines()[0]
            raise SessionizerError(spec, f"DuckDB: {first}") from None

    def finish(res: dict[str, np.ndarray]) -> np.ndarray:
        if "session_id" not in res:
            raise SessionizerError(
                spec, f"the query must return a session_id column; it returned {', '.join(res)}"
            )
        sid = np.asarray(res["session_id"])
        if "row_id" in res:
            rows = np.asarray(res["row_id"], dtype=np.int64)
            if len(rows) != len(wl) or not np.array_equal(np.sort(rows), np.arange(len(wl))):
                raise SessionizerError(
                    spec, f"the query returned {len(rows)} rows; expected each row_id once"
                )
            out = np.empty(len(wl), dtype=sid.dtype)
            out[rows] = sid
            return out
        if "user_id" in res and "timestamp_ms" in res:
            return _match_rows(spec, wl, list(res["user_id"]), list(res["timestamp_ms"]), list(sid))
        raise SessionizerError(
            spec, "the query must return row_id (or user_id and timestamp_ms) with session_id"
        )

    return run, (_guarded(spec, "returned unreadable columns:", finish) if user else finish)


# ---- spark-sql, spark ---------------------------------------------------------------------------


def _check_spark(spec: str, value: str) -> None:
    load_callable(spec, value)


def _spark_session():
    try:
        from simulator.spark.context import local_session  # noqa: PLC0415 - the optional extra, on use
    except ImportError:
        raise SessionlabError(
            'spark-sql: and spark: need pyspark; install it with: pip install "sessionlab[spark]"'
        ) from None
    return local_session()


def _prepare_spark(sz: Sessionizer, wl: Workload, definition: str, workdir: Path, limit: float | None):
    """The workload as the Spark view ``events`` (not timed); the query or function is the timed part."""
    import pyarrow as pa  # noqa: PLC0415 - comes with the spark extra

    spark = _spark_session()
    camp = wl.campaign.astype(object)
    table = pa.table(
        {
            "row_id": np.arange(len(wl), dtype=np.int64),
            "user_id": pa.array(wl.user_id),
            "timestamp_ms": wl.timestamp_ms,
            "ts": pa.array(wl.timestamp_ms, pa.timestamp("ms", tz="UTC")),
            "campaign": pa.array(np.where(camp == "", None, camp).tolist(), pa.string()),
        }
    )
    df = spark.createDataFrame(table.to_pandas())
    df.createOrReplaceTempView("events")
    if sz.kind == "spark-sql":
        query = Path(sz.value).read_text()
        make = lambda: spark.sql(query)  # noqa: E731
    else:
        func = load_callable(sz.spec, sz.value)
        make = lambda: func(df)  # noqa: E731

    def run() -> dict[str, np.ndarray]:
        try:
            out = make()
            columns = list(out.columns)
            pdf = (
                out.select("row_id", "session_id").toPandas()
                if {"row_id", "session_id"} <= set(columns)
                else None
            )
        except Exception as err:  # a Spark analysis or job error: its first line
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise SessionizerError(sz.spec, f"Spark: {first}") from None
        if pdf is None:
            raise SessionizerError(
                sz.spec, f"must return row_id and session_id columns; got {', '.join(columns)}"
            )
        return {"row_id": pdf["row_id"].to_numpy(), "session_id": pdf["session_id"].to_numpy()}

    def finish(res: dict[str, np.ndarray]) -> np.ndarray:
        rows = np.asarray(res["row_id"], dtype=np.int64)
        if len(rows) != len(wl) or not np.array_equal(np.sort(rows), np.arange(len(wl))):
            raise SessionizerError(sz.spec, f"returned {len(rows)} rows; expected each row_id once")
        sid = np.asarray(res["session_id"])
        out = np.empty(len(wl), dtype=sid.dtype)
        out[rows] = sid
        return out

    return run, finish

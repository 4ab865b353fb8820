"""Real event logs: read CSV, JSON Lines and Parquet into columns; write per-row session assignments.

Column conventions (each can be renamed with a flag): ``user_id`` (string or integer), ``timestamp``
(ISO-8601 with a UTC offset such as ``2024-05-01T10:00:00+02:00`` or ``...Z``; or epoch seconds,
milliseconds or microseconds with ``epoch="s"|"ms"|"us"``), optional ``campaign`` (empty or null =
none) and optional ``event_name``. Rows may come in any order.

Nothing is dropped silently. A row without a user or with an unreadable time is *bad*: by default
reading fails with one error that lists the first bad lines (exit 2); with ``skip_bad`` the other rows
are sessionized and the bad ones are reported (stderr, JSON) and written to ``--out`` with an empty
session id and split cause ``bad_row``. Rows whose event is excluded by name are written with cause
``excluded``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_open

__all__ = [
    "BAD",
    "EXCLUDED",
    "FORMATS",
    "OUT_FORMATS",
    "SHOW_BAD",
    "BadRow",
    "EventFile",
    "LogColumns",
    "output_format",
    "read_log",
    "write_assignments",
]

#: File formats by name, and the extensions that select them.
FORMATS = {"csv": (".csv",), "jsonl": (".jsonl", ".ndjson", ".json"), "parquet": (".parquet", ".pq")}
_EPOCH_MS = {"s": Decimal(1000), "ms": Decimal(1), "us": Decimal("0.001"), "ns": Decimal("0.000001")}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MS = dt.timedelta(milliseconds=1)
#: Epoch milliseconds of the first and just after the last instant a ``datetime`` holds (years 1-9999).
_MIN_MS = Decimal((dt.datetime.min.replace(tzinfo=dt.UTC) - _EPOCH) // _MS)
_MAX_MS = Decimal((dt.datetime.max.replace(tzinfo=dt.UTC) - _EPOCH) // _MS + 1)
_MAX_DIGITS = 20  #: a number with more digits before the point is out of range in any unit
#: How many bad lines an error message lists.
SHOW_BAD = 5
#: ``EventFile.status`` of a row that could not be read, and of a row whose event was excluded.
BAD, EXCLUDED = -1, -2


@dataclass(frozen=True, slots=True)
class LogColumns:
    """Which columns hold what, and how timestamps are written."""

    user: str = "user_id"
    time: str = "timestamp"
    campaign: str = "campaign"
    event: str = "event_name"
    epoch: str | None = None  # None: ISO-8601 strings; "s", "ms" or "us": numbers since the epoch


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be read: where (line number, or row number for Parquet) and why."""

    line: int
    reason: str

    def describe(self, unit: str = "line") -> str:
        return f"{unit} {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class EventFile:
    """The readable rows of a log, as columns, with where every input row went.

    ``user``/``ts``/``campaign`` hold the good, not excluded rows. ``status`` has one entry per input
    row: the index of its good row, ``-1`` for a bad row, ``-2`` for an excluded event.
    """

    path: str
    user: np.ndarray  # the ids as read (strings or integers), good rows
    ts: np.ndarray  # int64 epoch ms, good rows
    campaign: np.ndarray | None  # int32 codes into ``campaigns``, -1 = none
    campaigns: tuple[str, ...]
    lines: np.ndarray  # line (or row) number of every input row
    status: np.ndarray
    bad: tuple[BadRow, ...] = ()
    unit: str = "line"
    raw_user: list[str] = field(default_factory=list)  # every input row's user id, as text
    raw_time: list[str] = field(default_factory=list)  # every input row's time, as text


def _fail(path: str, message: str) -> ScenarioError:
    return ScenarioError(path, "", message)


def detect_format(path: str, fmt: str | None) -> str:
    """The format named by ``fmt``, or the one the file's extension implies."""
    if fmt:
        return fmt
    suffix = Path(path).suffix.lower()
    for name, extensions in FORMATS.items():
        if suffix in extensions:
            return name
    raise _fail(
        path, f"cannot tell the format from {suffix or 'no extension'!r}; pass --format csv|jsonl|parquet"
    )


def _parse_time(value: Any, epoch: str | None) -> int:
    """Epoch ms of one time value (floored, exact); ``ValueError`` with the reason when unreadable."""
    if value is None or value == "":
        raise ValueError("missing timestamp")
    if epoch is not None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValueError(f"timestamp {value!r} is not a number of {epoch} since the epoch")
        try:
            number = Decimal(value.strip() if isinstance(value, str) else str(value))
        except InvalidOperation:
            raise ValueError(f"timestamp {value!r} is not a number of {epoch} since the epoch") from None
        if not number.is_finite():
            raise ValueError(f"timestamp {value!r} is not a finite number")
        # 1e999999999 would overflow the multiplication (and floor to a huge int): its exponent says no
        ms = number * _EPOCH_MS[epoch] if number.adjusted() < _MAX_DIGITS else _MAX_MS
        if not _MIN_MS <= ms < _MAX_MS:
            unit = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}[epoch]
            raise ValueError(f"timestamp {value!r} ({unit} since the epoch) is outside the years 1 to 9999")
        return math.floor(ms)
    if not isinstance(value, str):
        raise ValueError(f"timestamp {value!r} is a number; pass --epoch s|ms|us|ns for epoch times")  # noqa: TRY004 - a bad row, reported with its line
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not ISO-8601 (like 2024-05-01T10:00:00+02:00)") from None
    if when.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset (add one, like Z or +02:00)")
    return (when - _EPOCH) // _MS


def _user_text(value: Any) -> str:
    if value is None or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return "" if value is None else str(value)
    if isinstance(value, float):
        return str(int(value))
    return str(value).strip()


#: The longest CSV field read as a value (the csv module's default limit); a longer one is a bad row.
CSV_FIELD_LIMIT = 131_072


@contextlib.contextmanager
def _field_limit() -> Iterator[None]:
    """Let the csv module read fields of any length (a long field is reported as a bad row instead)."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _records_csv(path: str, cols: LogColumns) -> Iterator[tuple[int, dict[str, Any]]]:
    with (
        _field_limit(),
        open(path, newline="", encoding="utf-8-sig") as fh,  # -sig: Excel's "CSV UTF-8" has a BOM
    ):
        reader = csv.DictReader(fh)
        if reader.fieldnames is None:
            raise _fail(path, "empty file: expected a header line with column names")
        _check_columns(path, reader.fieldnames, cols)
        for row in reader:
            longest = max((len(v) for v in row.values() if isinstance(v, str)), default=0)
            if longest > CSV_FIELD_LIMIT:
                yield (
                    reader.line_num,
                    {"__error__": f"a field of {longest} characters (at most {CSV_FIELD_LIMIT})"},
                )
            else:
                yield reader.line_num, row


def _records_jsonl(path: str, cols: LogColumns) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8-sig") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as err:
                yield number, {"__error__": f"not valid JSON: {err.msg}"}
                continue
            yield number, record if isinstance(record, dict) else {"__error__": "not a JSON object"}


def _check_columns(path: str, names: Sequence[str], cols: LogColumns) -> None:
    missing = [c for c in (cols.user, cols.time) if c not in names]
    if missing:
        flag = "--user-column" if missing[0] == cols.user else "--time-column"
        raise _fail(
            path,
            f"no column {missing[0]!r}; columns: {', '.join(names)} (name yours with {flag})",
        )


@dataclass
class _Builder:
    """Accumulates rows as they are read."""

    cols: LogColumns
    exclude: frozenset[str]
    users: list[str] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    campaign: list[int] = field(default_factory=list)
    campaigns: dict[str, int] = field(default_factory=dict)
    lines: list[int] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    raw_user: list[str] = field(default_factory=list)
    raw_time: list[str] = field(default_factory=list)

    def add(self, line: int, record: dict[str, Any], epoch: str | None = None) -> None:
        """Add one input row; ``epoch`` overrides the convention (Parquet timestamp columns)."""
        cols = self.cols
        user, when = record.get(cols.user), record.get(cols.time)
        self.lines.append(line)
        self.raw_user.append(_user_text(user))
        self.raw_time.append("" if when is None else str(when))
        problem = record.get("__error__") or ("" if self.raw_user[-1] else f"missing {cols.user}")
        if not problem:
            try:
                ms = _parse_time(when, epoch or cols.epoch)
            except ValueError as err:
                problem = str(err)
        if problem:
            self.bad.append(BadRow(line, problem))
            self.status.append(BAD)
            return
        if self.exclude and str(record.get(cols.event) or "") in self.exclude:
            self.status.append(EXCLUDED)
            return
        self.status.append(len(self.ts))
        self.users.append(self.raw_user[-1])
        self.ts.append(ms)
        name = record.get(cols.campaign)
        name = "" if name is None else str(name).strip()
        self.campaign.append(self.campaigns.setdefault(name, len(self.campaigns)) if name else -1)


def _read_parquet(path: str, cols: LogColumns, builder: _Builder) -> None:
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415 - optional extra, imported only when needed
    except ImportError:
        raise _fail(path, "reading Parquet needs pyarrow: pip install 'sessionlab[parquet]'") from None
    try:
        # the schema first: pyarrow refuses a table with a repeated column name in a multi-line error
        names = pq.read_schema(path).names
    except (OSError, ValueError) as err:
        raise _fail(path, f"cannot read Parquet: {str(err).splitlines()[0]}") from None
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(
            path,
            f"duplicate column name(s) {', '.join(map(repr, duplicates))}; each column needs its own name",
        )
    _check_columns(path, names, cols)
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as err:
        raise _fail(path, f"cannot read Parquet: {str(err).splitlines()[0]}") from None
    wanted = [c for c in (cols.user, cols.time, cols.campaign, cols.event) if c in table.column_names]
    data = table.select(wanted)
    epoch = None
    if str(data.column(cols.time).type).startswith("timestamp"):
        # A timestamp column is an instant (naive ones are taken as UTC): read its integers in its own
        # unit (s, ms, us or ns), floored to ms like any other epoch time (no lossy cast, no error).
        import pyarrow as pa  # noqa: PLC0415 - optional extra

        epoch = data.column(cols.time).type.unit
        time = data.column(cols.time).cast(pa.int64())
        data = data.set_column(wanted.index(cols.time), cols.time, time)
    columns = {name: data.column(name).to_pylist() for name in wanted}
    for i in range(data.num_rows):
        builder.add(i + 1, {name: columns[name][i] for name in wanted}, epoch)


def read_log(
    path: str | Path,
    columns: LogColumns | None = None,
    *,
    fmt: str | None = None,
    skip_bad: bool = False,
    exclude_events: Iterable[str] = (),
) -> EventFile:
    """Read an event log file into columns.

    Parameters
    ----------
    path
        A CSV, JSON Lines or Parquet file.
    columns
        Column names and timestamp convention (default: ``user_id``, ``timestamp`` ISO-8601, ...).
    fmt
        ``"csv"``, ``"jsonl"`` or ``"parquet"``; default from the extension.
    skip_bad
        Keep going past bad rows (they are listed in :attr:`EventFile.bad`) instead of failing.
    exclude_events
        Event names (``event_name`` column) left out of sessions.

    Raises
    ------
    ScenarioError
        When the file cannot be read, lacks a column, or has bad rows and ``skip_bad`` is false
        (the message lists the first :data:`SHOW_BAD` bad lines and their count).
    """
    name = str(path)
    cols = columns or LogColumns()
    kind = detect_format(name, fmt)
    if kind not in FORMATS:
        raise _fail(name, f"unknown format {kind!r}; use one of {', '.join(FORMATS)}")
    builder = _Builder(cols, frozenset(exclude_events))
    unit = "row" if kind == "parquet" else "line"
    try:
        if kind == "parquet":
            _read_parquet(name, cols, builder)
        else:
            for line, record in (_records_csv if kind == "csv" else _records_jsonl)(name, cols):
                builder.add(line, record)
    except OSError as err:
        raise _fail(name, f"cannot read file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise _fail(name, "cannot read file: not UTF-8 text") from None
    except csv.Error as err:
        raise _fail(name, f"not valid CSV: {err}") from None
    if builder.bad and not skip_bad:
        raise _fail(name, _bad_message(builder.bad, unit))
    return EventFile(
        path=name,
        user=_user_array(builder.users),
        ts=np.asarray(builder.ts, dtype=np.int64),
        campaign=np.asarray(builder.campaign, dtype=np.int32) if builder.campaigns else None,
        campaigns=tuple(builder.campaigns),
        lines=np.asarray(builder.lines, dtype=np.int64),
        status=np.asarray(builder.status, dtype=np.int64),
        bad=tuple(builder.bad),
        unit=unit,
        raw_user=builder.raw_user,
        raw_time=builder.raw_time,
    )


def _user_array(users: list[str]) -> np.ndarray:
    """User ids as int64 when every one is an integer (faster to sort), else as strings."""
    try:
        return np.asarray([int(u) for u in users], dtype=np.int64)
    except (ValueError, OverflowError):
        return np.asarray(users, dtype=str)


def _bad_message(bad: Sequence[BadRow], unit: str) -> str:
    shown = "; ".join(b.describe(unit) for b in bad[:SHOW_BAD])
    more = f"; and {len(bad) - SHOW_BAD} more" if len(bad) > SHOW_BAD else ""
    return (
        f"{len(bad)} bad row(s): {shown}{more} (fix them, or pass --skip-bad to sessionize the "
        "other rows and list these)"
    )


#: Extensions ``--out`` of ``sessionize`` accepts, and the format each selects.
OUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def output_format(path: str | Path) -> str:
    """``"csv"`` or ``"jsonl"`` from ``path``'s extension; a :class:`ScenarioError` for any other."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUT_FORMATS:
        raise _fail(
            str(path),
            f"unsupported output format {suffix or '(no extension)'!r}; "
            "the assignments are written as .csv or .jsonl (or .ndjson)",
        )
    return OUT_FORMATS[suffix]


def write_assignments(
    path: str | Path,
    log: EventFile,
    assignments: dict[str, tuple[np.ndarray, list[str]]],
) -> None:
    """Write one line per input row: its line, user, time, and per definition session id and cause.

    ``assignments`` maps a definition name to (session id per good row, cause label per good row).
    The file is CSV (``.csv``) or JSON Lines (``.jsonl``/``.ndjson``), written atomically.

    Raises
    ------
    ScenarioError
        For another extension (checked first: call :func:`output_format` to fail before any work),
        or when the file cannot be written.
    """
    kind = output_format(path)
    header = [log.unit, "user_id", "timestamp"]
    for name in assignments:
        header += [f"{name}.session_id", f"{name}.split_cause"]
    rows = []
    for i, status in enumerate(log.status.tolist()):
        row: list[Any] = [int(log.lines[i]), log.raw_user[i], log.raw_time[i]]
        for ids, labels in assignments.values():
            if status >= 0:
                row += [int(ids[status]), labels[status]]
            else:
                row += ["", "bad_row" if status == BAD else "excluded"]
        rows.append(row)
    with atomic_open(path) as fh:
        if kind == "jsonl":
            for row in rows:
                record = dict(zip(header, row, strict=True))
                fh.write(json.dumps({k: (None if v == "" else v) for k, v in record.items()}) + "\n")
        else:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows)

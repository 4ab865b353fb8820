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

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_open, atomic_path
from simulator.log.timeparse import parse_times
from simulator.schema import did_you_mean

__all__ = [
    "BAD",
    "EXCLUDED",
    "FORMATS",
    "OUT_FORMATS",
    "SHOW_BAD",
    "BadRow",
    "EventFile",
    "LogColumns",
    "events_from_table",
    "output_format",
    "read_log",
    "write_assignments",
]

#: File formats by name, and the extensions that select them.
FORMATS = {"csv": (".csv",), "jsonl": (".jsonl", ".ndjson", ".json"), "parquet": (".parquet", ".pq")}
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
    epoch: str | None = None  # None: ISO-8601 strings (or detected on numbers); "s", "ms", "us", "ns"
    input_tz: str | None = None  # the zone of naive local times (none: they are bad rows)
    ambiguous: str = "error"  # DST folds and gaps of naive times: "earliest", "latest" or "error"
    no_campaign: bool = False  # ignore the campaign column


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
    raw: pa.Table | None = None  # every input row's user and time column, as read (types kept)
    ns: np.ndarray | None = None  # nanoseconds within the millisecond of ``ts``
    detected_epoch: str | None = None  # the epoch unit told from the numbers' magnitude, if it was
    has_campaign: bool = False  # the file has the campaign column


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


_LF, _CR = 10, 13
MAX_FIELD = 131_072  #: characters a field may hold; a longer one is a bad row


def _did_you_mean(name: str, names: Sequence[str]) -> str:
    hint = did_you_mean(name, names, cutoff=0.5, substrings=True)
    return f"; {hint}" if hint else ""


def _check_columns(path: str, names: Sequence[str], cols: LogColumns) -> None:
    """Duplicate names, and every column a flag names (the optional ones only when renamed), exist."""
    seen = [n for i, n in enumerate(names) if n in names[:i]]
    if seen:
        raise _fail(path, f"duplicate column name {seen[0]!r}; columns: {', '.join(names)}")
    checks = [(cols.user, "--user-column", True), (cols.time, "--time-column", True)]
    checks += [(cols.campaign, "--campaign-column", cols.campaign != "campaign")]
    checks += [(cols.event, "--event-column", cols.event != "event_name")]
    for column, flag, required in checks:
        if required and column not in names:
            raise _fail(
                path,
                f"no column {column!r}; columns: {', '.join(names)} (name yours with {flag})"
                f"{_did_you_mean(column, names)}",
            )


def _csv_header(path: str) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        first = fh.readline()
    if not first.strip():
        raise _fail(path, "empty file: expected a header line with column names")
    return next(csv.reader([first]))


def _data_lines(path: str) -> np.ndarray:
    """1-based line numbers of the non-empty lines after the header (pyarrow skips empty ones)."""
    data = np.fromfile(path, dtype=np.uint8)
    ends = np.flatnonzero(data == _LF)
    if not data.size or data[-1] != _LF:
        ends = np.append(ends, data.size)
    starts = np.concatenate(([0], ends[:-1] + 1))
    length = ends - starts
    crlf = (length == 1) & (data[np.minimum(starts, max(data.size - 1, 0))] == _CR)
    empty = (length == 0) | crlf
    numbers = np.arange(1, len(ends) + 1, dtype=np.int64)
    return numbers[~empty][1:]


def _read_csv(path: str, cols: LogColumns) -> tuple[pa.Table, np.ndarray, list[BadRow]]:
    import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

    names = _csv_header(path)
    _check_columns(path, names, cols)
    invalid: list[BadRow] = []

    def handler(row: Any) -> str:
        invalid.append(
            BadRow(
                row.number + 1, f"{row.actual_columns} field(s) where the header has {row.expected_columns}"
            )
        )
        return "skip"

    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(use_threads=False, encoding="utf8"),
            parse_options=pcsv.ParseOptions(invalid_row_handler=handler),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                include_columns=[c for c in (cols.user, cols.time, cols.campaign, cols.event) if c in names],
            ),
        )
    except pa.ArrowInvalid as err:
        raise _fail(path, f"not valid CSV: {err}") from None
    lines = _data_lines(path)
    if invalid:
        lines = lines[~np.isin(lines, [b.line for b in invalid])]
    if len(lines) != table.num_rows:  # quoted line breaks: number rows by their order instead
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    if table.num_rows and table.column(0).num_chunks > 1:
        table = table.combine_chunks()
    return table, lines, invalid


#: Nesting deeper than this (counted naively over brackets, strings included) skips pyarrow's JSON
#: reader, which recurses and can crash the process on deeply nested values (seen: 100,000 levels).
_JSON_DEPTH = 64
_BLOCK = 1 << 24
#: Per byte value: +1 for an opening bracket, -1 for a closing one (a lookup, not np.isin: 10x faster).
_STEP = np.zeros(256, dtype=np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


_SOLID = np.ones(256, dtype=bool)
_SOLID[list(b" \t\n\r\x0b\x0c")] = False
_NL = ord("\n")
_BOM = b"\xef\xbb\xbf"


def _scan_jsonl(path: str) -> tuple[int, bool]:
    """One pass over the bytes, in blocks of 16 MiB: the deepest ``[``/``{`` nesting (brackets in
    strings count too) and whether a blank line stands between the first and the last record (then
    pyarrow's row numbers are not line numbers). Line ends are read as text mode reads them
    (``\r\n`` and ``\r`` are ``\n``)."""
    depth = top = pos = 0
    first = last = first_blank = -1  # first/last non-space byte; first "\n\n" at or after ``first``
    prev = -1
    with open(path, "rb") as fh:
        head = fh.read(len(_BOM))
        carry = b"" if head == _BOM else head
        while (chunk := fh.read(_BLOCK)) or carry:
            block = carry + chunk
            # a last "\r" waits for the next block, whose "\n" would make it one line end with it
            carry = b"\r" if chunk and block.endswith(b"\r") else b""
            block = block[: len(block) - len(carry)].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            b = np.frombuffer(block, dtype=np.uint8)
            step = _STEP[b]
            run = np.cumsum(step[step != 0], dtype=np.int64) + depth  # depth moves at brackets only
            top = max(top, int(run.max(initial=depth)))
            depth = int(run[-1]) if len(run) else depth
            solid = _SOLID[b]
            if solid.any():
                first = pos + int(solid.argmax()) if first < 0 else first
                last = pos + len(solid) - 1 - int(solid[::-1].argmax())
            if first >= 0 and first_blank < 0:
                nl = b == _NL
                pairs = np.flatnonzero(nl[1:] & nl[:-1]) + pos
                if prev == _NL and nl.size and nl[0]:
                    pairs = np.concatenate(([pos - 1], pairs))
                pairs = pairs[pairs >= first]
                first_blank = int(pairs[0]) if pairs.size else -1
            prev = int(b[-1]) if b.size else prev
            pos += len(block)
    return top, first_blank >= 0 and first_blank + 1 <= last


def _read_jsonl(path: str, cols: LogColumns) -> tuple[pa.Table, np.ndarray, list[BadRow]]:  # noqa: PLR0912, PLR0915
    """JSON Lines through pyarrow; a file pyarrow refuses (bad lines, mixed types) is read line by line."""
    import pyarrow.json as pjson  # noqa: PLC0415 - loaded on use

    wanted = (cols.user, cols.time, cols.campaign, cols.event)
    try:
        deepest, blank_lines = _scan_jsonl(path)
        if deepest > _JSON_DEPTH:
            raise pa.ArrowInvalid("nested too deeply for pyarrow's reader")  # noqa: TRY301 - take the line reader
        table = pjson.read_json(path)
        if not blank_lines:
            names = table.column_names
            for c in (cols.user, cols.time):
                if c not in names:
                    _check_columns(path, names, cols)
            present = [c for c in wanted if c in names]
            table = table.select(present)
            if all(not pa.types.is_nested(table.column(c).type) for c in present):
                return table, np.arange(1, table.num_rows + 1, dtype=np.int64), []
    except pa.ArrowInvalid:
        pass
    records: dict[str, list[Any]] = {c: [] for c in wanted}
    lines: list[int] = []
    bad: list[BadRow] = []
    seen_columns: set[str] = set()
    with open(path, encoding="utf-8-sig") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as err:
                bad.append(BadRow(number, f"not valid JSON: {err.msg}"))
                continue
            except RecursionError:
                bad.append(BadRow(number, "a value nested too deeply"))
                continue
            except ValueError as err:  # an integer of more than 4,300 digits
                bad.append(BadRow(number, f"not readable: {str(err).splitlines()[0][:120]}"))
                continue
            if not isinstance(record, dict):
                bad.append(BadRow(number, "not a JSON object"))
                continue
            seen_columns.update(record)
            lines.append(number)
            for c in wanted:
                value = record.get(c)
                records[c].append(
                    value if c in (cols.time, cols.user) else None if value is None else str(value)
                )
    times = records[cols.time]
    if all(isinstance(v, int | type(None)) and not isinstance(v, bool) for v in times):
        tcol = pa.array(times, pa.int64())
    elif all(isinstance(v, int | float | type(None)) and not isinstance(v, bool) for v in times):
        tcol = pa.array(times, pa.float64())
    else:
        tcol = pa.array([None if v is None else str(v) for v in times], pa.string())
    arrays = {c: pa.array(records[c], pa.string()) for c in wanted if c not in (cols.time, cols.user)}
    users = records[cols.user]
    if all(isinstance(v, int | type(None)) and not isinstance(v, bool) for v in users):
        arrays[cols.user] = pa.array(users, pa.int64())
    else:
        arrays[cols.user] = pa.array([None if v is None else _user_text(v) for v in users], pa.string())
    arrays[cols.time] = tcol
    present = [c for c in wanted if c in (cols.user, cols.time) or c in seen_columns]
    return pa.table({c: arrays[c] for c in present}), np.asarray(lines, dtype=np.int64), bad


def _user_text(value: Any) -> str:
    if value is None or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return "" if value is None else str(value)
    if isinstance(value, float):
        return str(int(value))
    return str(value)


def _read_parquet(path: str, cols: LogColumns) -> tuple[pa.Table, np.ndarray, list[BadRow]]:
    import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

    try:
        # ParquetFile, not read_table: read_table imports pyarrow.dataset (~0.4 s) for one file
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        _check_columns(path, names, cols)
        wanted = [c for c in (cols.user, cols.time, cols.campaign, cols.event) if c in names]
        table = parquet.read(columns=wanted)
    except (OSError, pa.ArrowInvalid) as err:
        raise _fail(path, f"cannot read Parquet: {err}") from None
    return table, np.arange(1, table.num_rows + 1, dtype=np.int64), []


def read_log(
    path: str | Path,
    columns: LogColumns | None = None,
    *,
    fmt: str | None = None,
    skip_bad: bool = False,
    exclude_events: Iterable[str] = (),
) -> EventFile:
    """Read an event log file into columns, as whole Arrow arrays.

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
    unit = "row" if kind == "parquet" else "line"
    reader = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}[kind]
    try:
        table, lines, early_bad = reader(name, cols)
    except OSError as err:
        raise _fail(name, f"cannot read file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise _fail(name, "cannot read file: not UTF-8 text") from None
    except pa.ArrowInvalid as err:
        raise _fail(name, f"cannot read file: {err}") from None
    return events_from_table(
        name, table, lines, early_bad, cols, unit=unit, skip_bad=skip_bad, exclude_events=exclude_events
    )


def events_from_table(  # noqa: PLR0912, PLR0915 - one pass over the columns, kept together
    name: str,
    table: pa.Table,
    lines: np.ndarray,
    early_bad: list[BadRow],
    cols: LogColumns,
    *,
    unit: str = "line",
    skip_bad: bool = False,
    exclude_events: Iterable[str] = (),
    parse: Any = parse_times,
) -> EventFile:
    """The checks and parsing of :func:`read_log` on a table already read (``lines``: each row's line
    or row number; ``early_bad``: rows the reader refused). ``parse`` parses the time column (the
    out-of-core path in :mod:`simulator.log.shards` passes one that knows the whole log's epoch)."""
    n = table.num_rows
    reasons: dict[int, str] = {}
    user_col = table.column(cols.user)
    if pa.types.is_floating(user_col.type):
        user_col = pa.chunked_array([pa.array([_user_text(v) for v in user_col.to_pylist()], pa.string())])
    is_text = pa.types.is_string(user_col.type) or pa.types.is_large_string(user_col.type)
    if not (is_text or pa.types.is_integer(user_col.type)):
        user_col = user_col.cast(pa.string())
        is_text = True
    no_user = user_col.is_null()
    if is_text:
        no_user = pc.or_(no_user, pc.equal(user_col, "")).fill_null(True)
    for i in np.flatnonzero(no_user.to_numpy(zero_copy_only=False)).tolist():
        reasons[i] = f"missing {cols.user}"
    for c in table.column_names:
        column = table.column(c)
        if pa.types.is_string(column.type):
            long = pc.greater(pc.utf8_length(column), MAX_FIELD).fill_null(False)
            for i in np.flatnonzero(long.to_numpy(zero_copy_only=False)).tolist():
                reasons.setdefault(i, f"field {c!r} is over {MAX_FIELD:,} characters")
    try:
        times, detected = parse(table.column(cols.time), cols.epoch, cols.input_tz, cols.ambiguous)
    except ValueError as err:
        raise _fail(name, str(err)) from None
    for i, why in times.bad.items():
        reasons.setdefault(i, why)
    status = np.zeros(n, dtype=np.int64)
    bad_index = np.array(sorted(reasons), dtype=np.int64)
    good = np.ones(n, dtype=bool)
    good[bad_index] = False
    status[~good] = BAD
    exclude = list(exclude_events)
    if exclude and cols.event in table.column_names:
        ev = pc.is_in(table.column(cols.event).cast(pa.string()), pa.array(exclude, pa.string()))
        excluded = np.asarray(ev.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool) & good
        status[excluded] = EXCLUDED
        good &= ~excluded
    keep = np.flatnonzero(good)
    status[keep] = np.arange(len(keep))
    bad = [BadRow(int(lines[i]), reasons[i]) for i in bad_index.tolist()] + early_bad
    bad.sort(key=lambda b: b.line)
    if bad and not skip_bad:
        raise _fail(name, _bad_message(bad, unit))
    take = pa.array(keep)
    users = user_col if len(keep) == n else user_col.take(take)
    user = (
        users.to_numpy(zero_copy_only=False).astype(np.int64)
        if pa.types.is_integer(users.type)
        else np.asarray(users.to_numpy(zero_copy_only=False), dtype=str)
    )
    campaign, campaigns = None, ()
    if cols.campaign in table.column_names and not cols.no_campaign:
        camp = pc.utf8_trim_whitespace(table.column(cols.campaign).cast(pa.string()).take(take))
        camp = pc.if_else(pc.equal(camp, ""), None, camp)
        encoded = (
            camp.combine_chunks().dictionary_encode()
            if len(camp)
            else pa.array([], pa.string()).dictionary_encode()
        )
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
        campaign, campaigns = codes, tuple(encoded.dictionary.to_pylist())
    # Input rows that were refused by the CSV reader (wrong field count) are added as bad rows
    all_lines = lines
    if early_bad:
        all_lines = np.concatenate([lines, [b.line for b in early_bad]])
        order = np.argsort(all_lines, kind="stable")
        status = np.concatenate([status, np.full(len(early_bad), BAD)])[order]
        all_lines = all_lines[order]
        raw = table.select([cols.user, cols.time])
        fill = pa.table({c: pa.nulls(len(early_bad), raw.schema.field(c).type) for c in raw.column_names})
        raw = pa.concat_tables([raw, fill]).take(pa.array(order))
    else:
        raw = table.select([cols.user, cols.time])
    return EventFile(
        path=name,
        user=user,
        ts=times.ms if len(keep) == n else times.ms[keep],
        campaign=campaign,
        campaigns=campaigns,
        lines=np.asarray(all_lines, dtype=np.int64),
        status=status,
        bad=tuple(bad),
        unit=unit,
        raw=raw,
        ns=times.ns if len(keep) == n else times.ns[keep],
        detected_epoch=detected,
        has_campaign=cols.campaign in table.column_names,
    )


def _bad_message(bad: Sequence[BadRow], unit: str) -> str:
    shown = "; ".join(b.describe(unit) for b in bad[:SHOW_BAD])
    more = f"; and {len(bad) - SHOW_BAD} more" if len(bad) > SHOW_BAD else ""
    return (
        f"{len(bad)} bad row(s): {shown}{more} (fix them, or pass --skip-bad to sessionize the "
        "other rows and list these)"
    )


#: Extensions ``--out`` of ``sessionize`` accepts, and the format each selects.
OUT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: str | Path) -> str:
    """``"csv"``, ``"jsonl"`` or ``"parquet"`` from ``path``'s extension; else a :class:`ScenarioError`."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUT_FORMATS:
        raise _fail(
            str(path),
            f"unsupported output format {suffix or '(no extension)'!r}; "
            "the assignments are written as .csv, .jsonl (or .ndjson) or .parquet",
        )
    return OUT_FORMATS[suffix]


def assignments_table(log: EventFile, assignments: dict[str, tuple[np.ndarray, Sequence[str]]]) -> pa.Table:
    """One row per input row, in input order: line (or row), user, time as read, then per definition
    ``NAME.session_id`` (null for bad and excluded rows) and ``NAME.split_cause``."""
    status = log.status
    good = status >= 0
    index = np.where(good, status, 0)
    raw = log.raw if log.raw is not None else pa.table({"user_id": [], "timestamp": []})
    columns: dict[str, Any] = {
        log.unit: pa.array(log.lines, pa.int64()),
        "user_id": raw.column(0),
        "timestamp": raw.column(1),
    }
    other = np.where(status == BAD, "bad_row", "excluded")
    for name, (given_ids, given_labels) in assignments.items():
        ids = np.asarray(given_ids, dtype=np.int64)
        labels = given_labels if isinstance(given_labels, pa.Array) else np.asarray(given_labels)
        full = ids[index] if len(ids) else np.zeros(len(status), dtype=np.int64)
        columns[f"{name}.session_id"] = pa.array(full, pa.int64(), mask=~good)
        if isinstance(given_labels, pa.DictionaryArray):  # cause codes and their names: no str per row
            names = [*given_labels.dictionary.to_pylist(), "bad_row", "excluded"]
            codes = given_labels.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            code = codes[index] if len(codes) else np.zeros(len(status), dtype=np.int32)
            code = np.where(good, code, np.where(status == BAD, len(names) - 2, len(names) - 1))
            whole = pa.DictionaryArray.from_arrays(pa.array(code.astype(np.int32)), pa.array(names))
            columns[f"{name}.split_cause"] = whole.cast(pa.string())
            continue
        cause = labels[index] if len(labels) else np.full(len(status), "")
        columns[f"{name}.split_cause"] = pa.array(np.where(good, cause, other), pa.string())
    return pa.table(columns)


def write_assignments(
    path: str | Path,
    log: EventFile,
    assignments: dict[str, tuple[np.ndarray, Sequence[str]]],
) -> None:
    """Write one line per input row: its line, user, time, and per definition session id and cause.

    ``assignments`` maps a definition name to (session id per good row, cause label per good row;
    or a pyarrow ``DictionaryArray`` of cause codes over the labels, which is faster).
    The file is CSV (``.csv``), JSON Lines (``.jsonl``/``.ndjson``) or Parquet (``.parquet``; the
    user and time columns keep their types), written atomically through pyarrow.

    Raises
    ------
    ScenarioError
        For another extension (checked first: call :func:`output_format` to fail before any work),
        or when the file cannot be written.
    """
    kind = output_format(path)
    table = assignments_table(log, assignments)
    if kind == "parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
        return
    if kind == "csv":
        import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

        header = io.StringIO()
        csv.writer(header).writerow(table.column_names)  # pyarrow would quote every name
        with atomic_path(path) as tmp:
            # plain fields unquoted, like the csv module; a field with a comma, quote or line
            # break makes pyarrow refuse, and then every string is quoted
            for style in ("none", "needed"):
                try:
                    with open(tmp, "wb") as fh:
                        fh.write(header.getvalue().encode())
                        pcsv.write_csv(
                            table, fh, pcsv.WriteOptions(include_header=False, quoting_style=style)
                        )
                    break
                except pa.ArrowInvalid:
                    continue
        return
    plain = pa.table(
        {
            n: c if pa.types.is_integer(c.type) or pa.types.is_string(c.type) else c.cast(pa.string())
            for n, c in zip(table.column_names, table.columns, strict=True)
        }
    )
    with atomic_open(path) as fh:
        for batch in plain.to_batches(65_536):
            fh.write("".join(json.dumps(r) + "\n" for r in batch.to_pylist()))

"""Real event logs: read CSV, JSON Lines, Parquet and Arrow IPC into columns; write per-row assignments.

Column conventions (each can be renamed with a flag): ``user_id`` (string or integer), ``timestamp``
(ISO-8601 with a UTC offset such as ``2024-05-01T10:00:00+02:00`` or ``...Z``; or epoch seconds,
milliseconds or microseconds with ``epoch="s"|"ms"|"us"``), optional ``campaign`` (empty or null =
none; or a key of several ``sources`` columns) and optional ``event_name``. Rows may come in any order.
Where the rows come from (compressed files, standard input, directories, globs, Hive partitions, the
CSV delimiter) is :mod:`simulator.log.sources`; platform exports are :mod:`simulator.log.formats`.

Nothing is dropped silently. A row without a user or with an unreadable time is *bad*: by default
reading fails with one error that lists the first bad lines (exit 2); with ``skip_bad`` the other rows
are sessionized and the bad ones are reported (stderr, JSON) and written to ``--out`` with an empty
session id and split cause ``bad_row``. Rows whose event is excluded by name are written with cause
``excluded``. Every input row is accounted for: rows read = sessionized + bad + excluded
(:meth:`EventFile.accounting`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_path
from simulator.log.ranks import dense_ranks
from simulator.log.sources import (
    FORMATS,
    STDIN,
    SourceFile,
    kind_of,
    open_ipc,
    resolve,
    sniff_delimiter,
    with_partitions,
)
from simulator.log.timeparse import parse_times
from simulator.schema import did_you_mean

__all__ = [
    "BAD",
    "EXCLUDED",
    "FORMATS",
    "OUT_FORMATS",
    "SHOW_BAD",
    "SOURCE_SEPARATOR",
    "BadRow",
    "EventFile",
    "LogColumns",
    "cause_names",
    "events_from_table",
    "output_compression",
    "output_format",
    "parquet_options",
    "read_log",
    "read_table",
    "write_assignments",
]

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
    delimiter: str | None = None  # CSV: None = sniffed from the header (see sources.sniff_delimiter)
    sources: tuple[str, ...] = ()  # columns whose values together are the campaign key (replaces campaign)
    gap: str | None = None  # column of per-event gaps (dynamic_gap rules); must exist when named
    flag: str | None = None  # column of new-session flags (flag rules); must exist when named
    keep_event: bool = False  # keep the event names (session_events rules); the column must exist


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be read: where (line number, or row number for Parquet) and why."""

    line: int
    reason: str
    file: str = ""  # the file, when the log is several files

    def describe(self, unit: str = "line") -> str:
        where = f"{self.file} " if self.file else ""
        return f"{where}{unit} {self.line}: {self.reason}"


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
    raw: pa.Table | None = None  # every input row's user and time column as read (all columns if kept)
    ns: np.ndarray | None = None  # nanoseconds within the millisecond of ``ts``
    user_codes: np.ndarray | None = None  # text ids: int64 ranks of ``user`` (equal ids, equal codes)
    detected_epoch: str | None = None  # the epoch unit told from the numbers' magnitude, if it was
    has_campaign: bool = False  # the file has the campaign column (or the source columns)
    files: tuple[str, ...] = ()  # the files, when the log is several (a directory or a glob)
    file_index: np.ndarray | None = None  # index into ``files`` of every input row
    kept: bool = False  # ``raw`` holds every input column (keep_columns)
    user_column: str = "user_id"
    time_column: str = "timestamp"
    delimiter: str | None = None  # the CSV delimiter used (given or sniffed)
    ignored: tuple[str, ...] = ()  # a platform export's fields its reader did not use
    event: np.ndarray | None = None  # event names of the good rows (with ``keep_event``), "" = none
    gap: np.ndarray | None = None  # int64 ms per good row (with a gap column), -1 = empty
    flag: np.ndarray | None = None  # bool per good row (with a flag column)

    def accounting(self) -> dict[str, int]:
        """``read`` (input rows) = ``sessionized`` + ``bad`` + ``excluded``."""
        return {
            "read": len(self.status),
            "sessionized": int(np.count_nonzero(self.status >= 0)),
            "bad": int(np.count_nonzero(self.status == BAD)),
            "excluded": int(np.count_nonzero(self.status == EXCLUDED)),
        }


def _fail(path: str, message: str) -> ScenarioError:
    return ScenarioError(path, "", message)


def detect_format(path: str, fmt: str | None) -> str:
    """The format named by ``fmt``, or the one the file's extension implies (``.gz`` etc. looked through)."""
    if fmt:
        return fmt
    kind = kind_of(path)
    if kind is None:
        suffix = Path(path).suffix.lower()
        raise _fail(
            path,
            f"cannot tell the format from {suffix or 'no extension'!r}; pass --format {'|'.join(FORMATS)}",
        )
    return kind


_LF, _CR, _QUOTE = 10, 13, 34
MAX_FIELD = 131_072  #: characters a field may hold; a longer one is a bad row


def _did_you_mean(name: str, names: Sequence[str]) -> str:
    hint = did_you_mean(name, names, cutoff=0.5, substrings=True)
    return f"; {hint}" if hint else ""


def _wanted(cols: LogColumns) -> list[str]:
    """The columns sessionizing reads (the campaign key's columns included)."""
    campaign = list(cols.sources) if cols.sources else [cols.campaign]
    extra = [c for c in (cols.gap, cols.flag) if c]
    return list(dict.fromkeys([cols.user, cols.time, *campaign, cols.event, *extra]))


def _check_columns(path: str, names: Sequence[str], cols: LogColumns) -> None:
    """Duplicate names, and every column a flag names (the optional ones only when renamed), exist."""
    seen = [n for i, n in enumerate(names) if n in names[:i]]
    if seen:
        raise _fail(path, f"duplicate column name {seen[0]!r}; columns: {', '.join(names)}")
    checks = [(cols.user, "--user-column", True), (cols.time, "--time-column", True)]
    if cols.sources:
        checks += [(c, "--source-columns", True) for c in cols.sources]
    else:
        checks += [(cols.campaign, "--campaign-column", cols.campaign != "campaign")]
    checks += [(cols.event, "--event-column", cols.event != "event_name" or cols.keep_event)]
    checks += [(c, flag, True) for c, flag in ((cols.gap, "--gap-column"), (cols.flag, "--flag-column")) if c]
    for column, flag, required in checks:
        if required and column not in names:
            raise _fail(
                path,
                f"no column {column!r}; columns: {', '.join(names)} (name yours with {flag})"
                f"{_did_you_mean(column, names)}",
            )


class _Part(NamedTuple):
    """One file as read: the table, the line (or row) of each row, early bad rows, the file's columns."""

    table: pa.Table
    lines: np.ndarray
    bad: list[BadRow]
    names: list[str]
    delimiter: str | None = None


def _row_lines(data: np.ndarray) -> np.ndarray:
    """1-based physical line on which each non-empty CSV record after the header starts.

    A line break ends a record unless an odd number of ``"`` precedes it (it is inside a quoted field;
    RFC 4180's doubled quotes keep the parity). pyarrow skips empty records, so they are left out.
    """
    nl = np.flatnonzero(data == _LF)
    quotes = np.flatnonzero(data == _QUOTE)
    ends = nl if not quotes.size else nl[np.searchsorted(quotes, nl) % 2 == 0]
    if not data.size or data[-1] != _LF:
        ends = np.append(ends, data.size)
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    length = ends - starts
    crlf = (length == 1) & (data[np.minimum(starts, max(data.size - 1, 0))] == _CR)
    empty = (length == 0) | crlf
    numbers = 1 + np.searchsorted(nl, starts)
    return numbers[~empty][1:].astype(np.int64)


def _plain_lines(data: np.ndarray, records: int, block: int = 1 << 24) -> np.ndarray | None:
    """:func:`_row_lines` of a file with no quote, no carriage return and no blank line (most
    exports): record ``k`` is on line ``k + 2``. Checked in blocks (no per-byte array of the whole
    file); ``None`` when the file is not that plain, or its line count is not ``records`` + 1."""
    breaks = 0
    last = -1
    for a in range(0, data.size, block):
        d = data[a : a + block]
        if np.count_nonzero(d == _QUOTE) or np.count_nonzero(d == _CR):
            return None
        nl = d == _LF
        if (nl[1:] & nl[:-1]).any() or (last == _LF and nl.size and nl[0]) or (a == 0 and nl.size and nl[0]):
            return None
        breaks += int(np.count_nonzero(nl))
        last = int(d[-1]) if d.size else last
    if data.size and last != _LF:
        breaks += 1  # the last line has no line break
    if breaks != records + 1:
        return None
    return np.arange(2, records + 2, dtype=np.int64)


def csv_options(
    delimiter: str, names: Sequence[str], include: Sequence[str], handler: Any
) -> tuple[Any, Any]:
    """pyarrow's parse and convert options for every CSV log (in memory and on the spool): quoted line
    breaks, every column as text (ids stay as written), nothing read as null, rows of the wrong field
    count passed to ``handler``."""
    import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

    parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler)
    convert = pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        include_columns=list(include),
    )
    return parse, convert


def _read_csv(src: SourceFile, cols: LogColumns, select: list[str] | None) -> _Part:
    import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

    buf = src.read()
    data = np.frombuffer(buf, dtype=np.uint8)
    head = data[: 1 << 16].tobytes()
    first = head.removeprefix(_BOM).decode("utf-8", errors="replace").splitlines()[:1]
    if not first or not first[0].strip():
        raise _fail(src.name, "empty file: expected a header line with column names")
    delimiter = cols.delimiter or sniff_delimiter(head, src.name)
    names = next(csv.reader(first, delimiter=delimiter))
    wanted = [c for c in (names if select is None else select) if c in names]
    _check_columns(src.name, [*names, *(k for k, _ in src.partitions)], cols)  # before the work
    invalid: list[BadRow] = []

    def handler(row: Any) -> str:
        # row.number counts records from 1 (the header), blank lines left out: mapped to lines below
        invalid.append(
            BadRow(row.number, f"{row.actual_columns} field(s) where the header has {row.expected_columns}")
        )
        return "skip"

    def read(threads: bool) -> pa.Table:
        parse, convert = csv_options(delimiter, names, wanted, handler)
        return pcsv.read_csv(
            pa.BufferReader(buf),
            read_options=pcsv.ReadOptions(use_threads=threads, encoding="utf8"),
            parse_options=parse,
            convert_options=convert,
        )

    try:
        # on all cores; a row with the wrong field count has no number then, so such a file is
        # read again on one thread, where pyarrow numbers the records
        table = read(threads=True)
        if invalid:
            invalid.clear()
            table = read(threads=False)
    except pa.ArrowInvalid as err:
        raise _fail(src.name, f"not valid CSV: {err}") from None
    lines = _plain_lines(data, table.num_rows + len(invalid))
    if lines is None:
        lines = _row_lines(data)
    if invalid:
        records = np.array([b.line - 2 for b in invalid], dtype=np.int64)  # index into ``lines``
        if records.min() >= 0 and records.max() < len(lines):
            invalid = [replace(b, line=int(lines[r])) for b, r in zip(invalid, records.tolist(), strict=True)]
            lines = np.delete(lines, records)
        else:  # the record count does not match the bytes (a stray quote): rows by order below
            lines = np.zeros(0, dtype=np.int64)
    if len(lines) != table.num_rows:  # a stray quote: number rows by their order instead
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    if table.num_rows and table.num_columns and table.column(0).num_chunks > 1:
        table = table.combine_chunks()
    return _Part(table, lines, invalid, names, delimiter)


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


def _scan_jsonl(source: str | IO[bytes]) -> tuple[int, bool]:
    """One pass over the bytes, in blocks of 16 MiB: the deepest ``[``/``{`` nesting (brackets in
    strings count too) and whether a blank line stands between the first and the last record (then
    pyarrow's row numbers are not line numbers). Line ends are read as text mode reads them
    (``\r\n`` and ``\r`` are ``\n``). ``source`` is a path or a binary file object."""
    depth = top = pos = 0
    first = last = first_blank = -1  # first/last non-space byte; first "\n\n" at or after ``first``
    prev = -1
    with open(source, "rb") if isinstance(source, str) else source as fh:
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


def json_records(binary: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """``(line, record)`` per JSON object, ``(line, BadRow)`` per line that is not one, blank lines
    skipped: the line-by-line JSON Lines reader of the in-memory path and of the spool (text mode:
    ``\r\n`` and ``\r`` end lines too)."""
    with io.TextIOWrapper(binary, encoding="utf-8-sig") as fh:
        for number, text in enumerate(fh, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as err:
                yield number, BadRow(number, f"not valid JSON: {err.msg}")
                continue
            except RecursionError:
                yield number, BadRow(number, "a value nested too deeply")
                continue
            except ValueError as err:  # an integer of more than 4,300 digits
                yield number, BadRow(number, f"not readable: {str(err).splitlines()[0][:120]}")
                continue
            if not isinstance(record, dict):
                yield number, BadRow(number, "not a JSON object")
                continue
            yield number, record


def is_int(v: Any) -> bool:
    """A JSON value an int64 column holds (null included; not a boolean)."""
    return isinstance(v, int | type(None)) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A JSON value a float64 column holds (null included; not a boolean)."""
    return isinstance(v, int | float | type(None)) and not isinstance(v, bool)


def _read_jsonl(src: SourceFile, cols: LogColumns, select: list[str] | None) -> _Part:  # noqa: PLR0912
    """JSON Lines through pyarrow; a file pyarrow refuses (bad lines, mixed types) is read line by line."""
    import pyarrow.json as pjson  # noqa: PLC0415 - loaded on use

    needed = _wanted(cols)
    buf = None if src.plain else src.read()
    try:
        deepest, blank_lines = _scan_jsonl(src.path if buf is None else pa.BufferReader(buf))  # type: ignore[arg-type]
        if deepest > _JSON_DEPTH:
            raise pa.ArrowInvalid("nested too deeply for pyarrow's reader")  # noqa: TRY301 - take the line reader
        table = pjson.read_json(src.path if buf is None else pa.BufferReader(buf))
        if not blank_lines:
            names = table.column_names
            present = [c for c in (names if select is None else select) if c in names]
            table = table.select(present)
            if all(not pa.types.is_nested(table.column(c).type) for c in needed if c in present):
                return _Part(table, np.arange(1, table.num_rows + 1, dtype=np.int64), [], names)
    except pa.ArrowInvalid:
        pass
    records: dict[str, list[Any]] = {c: [] for c in needed}
    lines: list[int] = []
    bad: list[BadRow] = []
    seen_columns: dict[str, None] = {}
    binary = src.binary() if buf is None else io.BytesIO(buf.to_pybytes())
    for number, record in json_records(binary):
        if isinstance(record, BadRow):
            bad.append(record)
            continue
        if select is None:
            for key in record:
                if key not in seen_columns:
                    records.setdefault(key, [None] * len(lines))
        seen_columns.update(dict.fromkeys(record))
        lines.append(number)
        for c, values in records.items():
            value = record.get(c)
            values.append(value if c in (cols.time, cols.user) else _text(value))
    times = records[cols.time]
    if all(map(is_int, times)):
        tcol = pa.array(times, pa.int64())
    elif all(map(is_number, times)):
        tcol = pa.array(times, pa.float64())
    else:
        tcol = pa.array([None if v is None else str(v) for v in times], pa.string())
    arrays = {c: pa.array(v, pa.string()) for c, v in records.items() if c not in (cols.time, cols.user)}
    users = records[cols.user]
    if all(map(is_int, users)):
        arrays[cols.user] = pa.array(users, pa.int64())
    else:
        arrays[cols.user] = pa.array([None if v is None else _user_text(v) for v in users], pa.string())
    arrays[cols.time] = tcol
    names = list(seen_columns)
    order = names if select is None else [c for c in select if c in seen_columns]
    present = [c for c in order if c in arrays]
    return _Part(pa.table({c: arrays[c] for c in present}), np.asarray(lines, dtype=np.int64), bad, names)


def _text(value: Any) -> str | None:
    """A JSON value as text: strings as they are, objects and arrays as JSON."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _user_text(value: Any) -> str:
    if value is None or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return "" if value is None else str(value)
    if isinstance(value, float):
        return str(int(value))
    return str(value)


def _read_parquet(src: SourceFile, cols: LogColumns, select: list[str] | None) -> _Part:
    import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

    try:
        # ParquetFile, not read_table: read_table imports pyarrow.dataset (~0.4 s) for one file
        # the campaign as Parquet stores it, a dictionary: read and checked per distinct value
        # (not with --keep-columns, whose output keeps the column's own type)
        where = src.random_access()  # read once (standard input, a compressed file)
        names = pq.read_schema(where).names
        wanted = (
            [cols.campaign] if not cols.sources and cols.campaign in names and select is not None else None
        )
        # a file mapped, not read into buffers: fewer fresh pages (10 M rows: 0.4 s less system time)
        parquet = pq.ParquetFile(where, read_dictionary=wanted, memory_map=isinstance(where, str))
        _check_columns(src.name, [*names, *(k for k, _ in src.partitions)], cols)  # before the work
        table = parquet.read(columns=[c for c in (names if select is None else select) if c in names])
    except (OSError, pa.ArrowInvalid) as err:
        raise _fail(src.name, f"cannot read Parquet: {err}") from None
    return _Part(table, np.arange(1, table.num_rows + 1, dtype=np.int64), [], names)


def _read_arrow(src: SourceFile, cols: LogColumns, select: list[str] | None) -> _Part:
    """Arrow IPC: the file format (Feather v2) or the stream format, told from the bytes."""
    try:
        batches = list(open_ipc(src))
        if not batches:
            try:
                schema = pa.ipc.open_file(src.random_access()).schema
            except pa.ArrowInvalid:
                schema = pa.ipc.open_stream(src.open()).schema
            table = schema.empty_table()
        else:
            table = pa.Table.from_batches(batches)
    except (OSError, pa.ArrowInvalid) as err:
        raise _fail(src.name, f"cannot read Arrow IPC (file or stream format): {err}") from None
    names = table.column_names
    table = table.select([c for c in (names if select is None else select) if c in names])
    if table.num_columns and table.column(0).num_chunks > 1:
        table = table.combine_chunks()
    return _Part(table, np.arange(1, table.num_rows + 1, dtype=np.int64), [], names)


_READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet, "arrow": _read_arrow}


def _read_part(src: SourceFile, cols: LogColumns, select: list[str] | None) -> _Part:
    try:
        part = _READERS[src.kind](src, cols, select)
    except OSError as err:
        raise _fail(src.name, f"cannot read file: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise _fail(src.name, "cannot read file: not UTF-8 text") from None
    except pa.ArrowInvalid as err:
        raise _fail(src.name, f"cannot read file: {err}") from None
    names = [*part.names, *(k for k, _ in src.partitions)]
    _check_columns(src.name, names, cols)
    table = with_partitions(src, part.table)
    if select is not None:
        table = table.select([c for c in select if c in table.column_names])
    return part._replace(table=table, names=names)


def _combine(files: Sequence[SourceFile], parts: Sequence[_Part]) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The files' tables as one (the first file's column order), with each row's file index.

    Every file must have the same columns of the same types (a column of nulls takes the others' type);
    otherwise the error names the file and the column.
    """
    ref_src, ref = files[0], parts[0].table.schema
    tables = [parts[0].table]
    for src, part in zip(files[1:], parts[1:], strict=True):
        schema = part.table.schema
        missing = [n for n in ref.names if n not in schema.names]
        extra = [n for n in schema.names if n not in ref.names]
        if missing or extra:
            what = f"lacks {missing[0]!r}" if missing else f"has {extra[0]!r}"
            raise _fail(
                src.name,
                f"mixed schema: this file {what}, unlike {ref_src.name} "
                f"(columns there: {', '.join(ref.names)})",
            )
        fixed = []
        for f in ref:
            column = part.table.column(f.name)
            if column.type != f.type:
                if pa.types.is_null(column.type):
                    column = column.cast(f.type)
                else:
                    raise _fail(
                        src.name,
                        f"mixed schema: column {f.name!r} is {column.type} here but {f.type} "
                        f"in {ref_src.name}",
                    )
            fixed.append(column)
        tables.append(pa.Table.from_arrays(fixed, names=ref.names))
    for j, f in enumerate(ref):  # a column of nulls in the first file takes a later file's type
        if pa.types.is_null(f.type):
            types = [t.schema.field(j).type for t in tables if not pa.types.is_null(t.schema.field(j).type)]
            if types:
                tables = [t.set_column(j, f.name, t.column(j).cast(types[0])) for t in tables]
    table = pa.concat_tables(tables).combine_chunks() if len(tables) > 1 else tables[0]
    lines = np.concatenate([p.lines for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    if len(parts) == 1:  # one file: no file index (the caller passes none on)
        return table, lines, np.zeros(0, dtype=np.int64)
    index = np.repeat(np.arange(len(parts), dtype=np.int64), [p.table.num_rows for p in parts])
    return table, lines, index


def read_log(
    path: str | Path | Sequence[str | Path],
    columns: LogColumns | None = None,
    *,
    fmt: str | None = None,
    skip_bad: bool = False,
    exclude_events: Iterable[str] = (),
    keep_columns: bool = False,
    stdin: IO[bytes] | None = None,
) -> EventFile:
    """Read an event log into columns, as whole Arrow arrays.

    Parameters
    ----------
    path
        A CSV (any delimiter), JSON Lines, Parquet or Arrow IPC/Feather file, optionally compressed
        (``.gz``, ``.zst``, ``.bz2``); ``-`` for standard input; a directory (Hive partitions become
        columns) or a glob of such files; or a list of files and directories (read in the order given).
    columns
        Column names and timestamp convention (default: ``user_id``, ``timestamp`` ISO-8601, ...).
    fmt
        ``"csv"``, ``"jsonl"``, ``"parquet"`` or ``"arrow"`` (default: from the extension; CSV for
        standard input); or a platform export (``"ga4"``, ``"snowplow"``, ... see
        :data:`simulator.log.formats.FORMATS`), read by :func:`~simulator.log.formats.read_export`
        into its canonical columns (``user_id``, ``timestamp``, ``event_name``, ``source``, ...).
    skip_bad
        Keep going past bad rows (they are listed in :attr:`EventFile.bad`) instead of failing.
    exclude_events
        Event names (``event_name`` column) left out of sessions.
    keep_columns
        Keep every input column (``EventFile.raw``) for :func:`write_assignments`.
    stdin
        The binary stream ``-`` reads (default: ``sys.stdin.buffer``).

    Raises
    ------
    ScenarioError
        When the file cannot be read, lacks a column, or has bad rows and ``skip_bad`` is false
        (the message lists the first :data:`SHOW_BAD` bad lines and their count).
    """
    many = isinstance(path, list | tuple) and len(path) > 1
    if isinstance(path, list | tuple) and len(path) == 1:
        path = path[0]
    name = f"{path[0]} (and {len(path) - 1} more)" if many else str(path)  # type: ignore[index]
    cols = columns or LogColumns()
    if fmt is not None and fmt not in FORMATS:
        from simulator.log.formats import FORMATS as EXPORTS  # noqa: PLC0415
        from simulator.log.formats import read_export  # noqa: PLC0415

        if fmt not in EXPORTS:
            known = ", ".join([*FORMATS, *EXPORTS])
            raise _fail(name, f"unknown format {fmt!r}; use one of {known}")
        if many or name == "-" or not Path(name).is_file():
            raise _fail(name, f"a {fmt} export is read from one file (not a directory or standard input)")
        export = read_export(name, fmt)
        return read_table(
            export.table,
            cols,
            name=name,
            skip_bad=skip_bad,
            exclude_events=exclude_events,
            keep_columns=keep_columns,
            ignored=export.ignored,
        )
    files = resolve(path if many else name, fmt, stdin=stdin)  # type: ignore[arg-type]
    name = STDIN if name == "-" else name
    select = None if keep_columns else _wanted(cols)
    parts = [_read_part(src, cols, select) for src in files]
    table, lines, index = _combine(files, parts)
    pa.default_memory_pool().release_unused()  # the readers' buffers, back to the system
    early = [(i, b) for i, p in enumerate(parts) for b in p.bad]
    several = len(files) > 1
    return _assemble(
        name,
        table,
        lines,
        early,
        "row" if files[0].kind in ("parquet", "arrow") else "line",
        cols,
        skip_bad=skip_bad,
        exclude_events=exclude_events,
        keep_columns=keep_columns,
        files=tuple(f.name for f in files) if several else (),
        file_index=index if several else None,
        delimiter=parts[0].delimiter,
    )


def read_table(
    table: pa.Table,
    columns: LogColumns | None = None,
    *,
    name: str = "<table>",
    skip_bad: bool = False,
    exclude_events: Iterable[str] = (),
    keep_columns: bool = False,
    ignored: tuple[str, ...] = (),
) -> EventFile:
    """:func:`read_log` on a table already in memory (rows numbered from 1, as ``row``)."""
    cols = columns or LogColumns()
    _check_columns(name, table.column_names, cols)
    if not keep_columns:
        table = table.select([c for c in _wanted(cols) if c in table.column_names])
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    log = _assemble(
        name,
        table,
        lines,
        [],
        "row",
        cols,
        skip_bad=skip_bad,
        exclude_events=exclude_events,
        keep_columns=keep_columns,
    )
    return replace(log, ignored=ignored) if ignored else log


def _campaign_key(table: pa.Table, cols: LogColumns, take: pa.Array | None) -> Any:
    """The campaign of each kept row: one column, or the ``sources`` columns joined (null = all empty).

    One column comes back dictionary-encoded, its values trimmed on the dictionary (a value per
    distinct campaign, not per row), codes in the order each campaign first appears."""
    names = list(cols.sources) or [cols.campaign]
    if len(names) == 1:
        return _one_campaign(table.column(names[0]), take)
    parts = []
    for c in names:
        column = table.column(c).cast(pa.string())
        value = pc.utf8_trim_whitespace(column if take is None else column.take(take))
        parts.append(pc.if_else(pc.equal(value, ""), None, value))
    present = parts[0].is_valid()
    for part in parts[1:]:
        present = pc.or_(present, part.is_valid())
    joined = pc.binary_join_element_wise(
        *parts, SOURCE_SEPARATOR, null_handling="replace", null_replacement=""
    )
    return pc.if_else(present, joined, None)


def _one_campaign(column: pa.ChunkedArray, take: pa.Array | None) -> pa.DictionaryArray:
    if not pa.types.is_dictionary(column.type):
        column = column.cast(pa.string())
    if take is not None:
        column = column.take(take)
    column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    given_order = pa.types.is_dictionary(column.type)  # a Parquet dictionary: not in row order
    encoded = column if given_order else column.dictionary_encode()
    values = pc.utf8_trim_whitespace(encoded.dictionary.cast(pa.string()))
    values = pc.if_else(pc.equal(values, ""), None, values)
    norm = values.dictionary_encode()  # " a" and "a" one campaign; "" none
    to_norm = norm.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    raw = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    codes = np.where(raw >= 0, to_norm[raw], -1) if len(to_norm) else np.full(len(raw), -1, np.int32)
    dictionary = norm.dictionary
    if given_order:  # codes renumbered in the order the campaigns first appear in the rows
        first = _first_rows(codes, len(dictionary))
        seen = first < len(codes)
        order = np.argsort(np.where(seen, first, len(codes)), kind="stable")[: int(seen.sum())]
        if not np.array_equal(order, np.arange(len(dictionary))):
            rank = np.full(len(dictionary), -1, dtype=np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1).astype(np.int32)
            dictionary = dictionary.take(pa.array(order))
    return pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary)


def _first_rows(codes: np.ndarray, k: int, block: int = 1 << 16) -> np.ndarray:
    """The first row of each code 0..k-1 (``len(codes)`` for a code that never appears), scanning
    blocks only until every code has been seen (campaigns: a few blocks of a 10 M-row log)."""
    n = len(codes)
    first = np.full(k, n, dtype=np.int64)
    missing = k
    for a in range(0, n, block):
        if not missing:
            break
        values, where = np.unique(codes[a : a + block], return_index=True)
        keep = values >= 0
        values, where = values[keep], where[keep] + a
        new = first[values] == n
        first[values[new]] = where[new]
        missing -= int(new.sum())
    return first


#: What joins the ``--source-columns`` values of a row into one campaign key.
SOURCE_SEPARATOR = "\x1f"


def _assemble(  # noqa: PLR0912, PLR0915, PLR0917 - one pass over the columns, kept together
    name: str,
    table: pa.Table,
    lines: np.ndarray,
    early: Sequence[tuple[int, BadRow]],
    unit: str,
    cols: LogColumns,
    *,
    skip_bad: bool,
    exclude_events: Iterable[str],
    keep_columns: bool,
    files: tuple[str, ...] = (),
    file_index: np.ndarray | None = None,
    delimiter: str | None = None,
    parse: Any = parse_times,
) -> EventFile:
    n = table.num_rows
    reasons: dict[int, str] = {}
    user_col = table.column(cols.user)
    if pa.types.is_floating(user_col.type):
        user_col = pa.chunked_array([pa.array([_user_text(v) for v in user_col.to_pylist()], pa.string())])
    if pa.types.is_dictionary(user_col.type):
        user_col = user_col.cast(user_col.type.value_type)
    is_text = pa.types.is_string(user_col.type) or pa.types.is_large_string(user_col.type)
    if not (is_text or pa.types.is_integer(user_col.type)):
        user_col = user_col.cast(pa.string())
        is_text = True
    if is_text or user_col.null_count:
        no_user = user_col.is_null()
        if is_text:
            no_user = pc.or_(no_user, pc.equal(user_col, "")).fill_null(True)
        for i in np.flatnonzero(no_user.to_numpy(zero_copy_only=False)).tolist():
            reasons[i] = f"missing {cols.user}"
    for c in table.column_names:
        column = table.column(c)
        if pa.types.is_dictionary(column.type):  # check the distinct values; rows only if one is long
            longest = max(
                (
                    (pc.max(pc.utf8_length(k.dictionary.cast(pa.string()))).as_py() or 0)
                    for k in column.chunks
                ),
                default=0,
            )
            if longest > MAX_FIELD:
                column = column.cast(column.type.value_type)
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
    if len(bad_index) or exclude:
        keep = np.flatnonzero(good)
        status[keep] = np.arange(len(keep))
    else:  # every row kept: its status is its index
        status = np.arange(n, dtype=np.int64)
        keep = status

    def where(i: int) -> str:
        return files[i] if files else ""

    row_file = file_index if file_index is not None else np.zeros(n, dtype=np.int64)
    bad = [BadRow(int(lines[i]), reasons[i], where(int(row_file[i]))) for i in bad_index.tolist()]
    bad += [replace(b, file=where(f)) for f, b in early]
    rank = {f: i for i, f in enumerate(files)}
    bad.sort(key=lambda b: (rank.get(b.file, 0), b.line))
    if bad and not skip_bad:
        raise _fail(name, _bad_message(bad, unit))
    take = None if len(keep) == n else pa.array(keep)
    users = user_col if take is None else user_col.take(take)
    codes = None
    if pa.types.is_integer(users.type):
        user = users.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    else:
        user, codes = _text_users(users)
    campaign, campaigns = None, ()
    has_campaign = bool(cols.sources) or cols.campaign in table.column_names
    if has_campaign and not cols.no_campaign:
        camp = _campaign_key(table, cols, take)
        if not pa.types.is_dictionary(camp.type):
            camp = (
                camp.combine_chunks().dictionary_encode()
                if len(camp)
                else pa.array([], pa.string()).dictionary_encode()
            )
        if isinstance(camp, pa.ChunkedArray):
            camp = camp.combine_chunks()
        campaign = camp.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
        campaigns = tuple(c.replace(SOURCE_SEPARATOR, " / ") for c in camp.dictionary.to_pylist())
    raw = table if keep_columns else _output_columns(table, cols, user, times, take is None)
    all_lines = lines
    if early:  # rows the CSV reader refused (wrong field count) are added as bad rows, in place
        early_lines = np.array([b.line for _, b in early], dtype=np.int64)
        early_files = np.array([f for f, _ in early], dtype=np.int64)
        all_lines = np.concatenate([lines, early_lines])
        all_files = np.concatenate([row_file, early_files])
        order = np.lexsort((all_lines, all_files))
        status = np.concatenate([status, np.full(len(early), BAD)])[order]
        all_lines = all_lines[order]
        fill = pa.table({c: pa.nulls(len(early), raw.schema.field(c).type) for c in raw.column_names})
        raw = pa.concat_tables([raw, fill]).take(pa.array(order))
        row_file = all_files[order]
    where_rows = (unit, lines[keep], files, row_file[keep] if files else None)
    extra = _rule_columns(name, table, take, where_rows, cols)
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
        user_codes=codes,
        detected_epoch=detected,
        has_campaign=has_campaign,
        files=files,
        file_index=row_file if files else None,
        kept=keep_columns,
        user_column=cols.user,
        time_column=cols.time,
        delimiter=delimiter,
        **extra,
    )


def _text_users(users: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Text ids as NumPy strings, and their ranks (``np.unique(user, return_inverse=True)[1]``, what
    :func:`simulator.sessions.ordering.user_codes` gives), through a hash table: only the distinct ids
    are converted and sorted, not every row (10 M rows of 1 M ids)."""
    arr = users.combine_chunks() if users.num_chunks != 1 else users.chunk(0)
    encoded = arr.dictionary_encode()
    distinct = np.asarray(encoded.dictionary.to_numpy(zero_copy_only=False), dtype=str)
    index = encoded.indices.to_numpy(zero_copy_only=False)
    rank = dense_ranks(distinct)[0]  # of the NumPy strings: their equality and order, as before
    return distinct[index], rank[index]


def _output_columns(table: pa.Table, cols: LogColumns, user: np.ndarray, times: Any, whole: bool) -> pa.Table:
    """The user and time columns as read, for the output: where every row is good and the NumPy
    arrays hold exactly the column (int64 ids; timestamps in ms without nulls), Arrow views of those
    arrays, so the file's chunks are freed rather than held twice (10 M rows: 160 MB)."""
    out = table.select([cols.user, cols.time])
    if not whole:
        return out
    columns = list(out.columns)
    if columns[0].type == pa.int64() and not columns[0].null_count:
        columns[0] = pa.chunked_array([pa.array(user, pa.int64())])
    kind = columns[1].type
    if pa.types.is_timestamp(kind) and kind.unit == "ms" and kind.tz and not columns[1].null_count:
        columns[1] = pa.chunked_array(
            [pa.Array.from_buffers(kind, len(times.ms), [None, pa.py_buffer(times.ms)])]
        )
    return pa.table(columns, names=out.column_names)


def _rule_columns(
    path: str, table: pa.Table, take: pa.Array | None, where: tuple[Any, ...], cols: LogColumns
) -> dict[str, np.ndarray]:
    """The per-event columns rules read (event names, gaps, flags) for the good rows; a value that
    cannot be read is an error naming its line."""
    from simulator.log.columns import ColumnValueError, event_names, flags, gaps_ms  # noqa: PLC0415

    out: dict[str, np.ndarray] = {}
    wanted = (("event", cols.event if cols.keep_event else None, event_names), ("gap", cols.gap, gaps_ms))
    for key, column, convert in (*wanted, ("flag", cols.flag, flags)):
        if not column:
            continue
        values = table.column(column) if take is None else table.column(column).take(take)
        try:
            out[key] = convert(values)
        except ColumnValueError as err:
            unit, lines, files, row_file = where
            if files:  # a log of several files: the file at fault, as bad rows name it
                path = files[int(row_file[err.row])]
            raise _fail(path, f"{unit} {lines[err.row]}: column {column!r}: {err.reason}") from None
    return out


def events_from_table(
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
    return _assemble(
        name,
        table,
        lines,
        [(0, b) for b in early_bad],
        unit,
        cols,
        skip_bad=skip_bad,
        exclude_events=exclude_events,
        keep_columns=False,
        parse=parse,
    )


def _csv_header(path: str) -> list[str]:
    """The header of a plain comma-separated file (the out-of-core path reads only those)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        first = fh.readline()
    if not first.strip():
        raise _fail(path, "empty file: expected a header line with column names")
    return next(csv.reader([first]))


def _bad_message(bad: Sequence[BadRow], unit: str) -> str:
    shown = "; ".join(b.describe(unit) for b in bad[:SHOW_BAD])
    more = f"; and {len(bad) - SHOW_BAD} more" if len(bad) > SHOW_BAD else ""
    return (
        f"{len(bad)} bad row(s): {shown}{more} (fix them, or pass --skip-bad to sessionize the "
        "other rows and list these)"
    )


#: Extensions ``--out`` of ``sessionize`` accepts, and the format each selects.
OUT_FORMATS = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
}
#: Compression suffixes ``--out`` accepts (CSV and JSON Lines) and pyarrow's codec for each.
OUT_COMPRESSIONS = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2"}


def output_compression(path: str | Path) -> str | None:
    """The codec a ``--out`` name asks for (``sessions.csv.gz`` -> ``gzip``), or None."""
    return OUT_COMPRESSIONS.get(Path(path).suffix.lower())


def output_format(path: str | Path) -> str:
    """``"csv"``, ``"jsonl"``, ``"parquet"`` or ``"arrow"`` from ``path``'s extension (a compression
    extension looked through, for CSV and JSON Lines); else a :class:`ScenarioError`."""
    target = Path(path)
    codec = output_compression(target)
    suffix = (target.with_suffix("") if codec else target).suffix.lower()
    if suffix not in OUT_FORMATS:
        raise _fail(
            str(path),
            f"unsupported output format {target.suffix.lower() or '(no extension)'!r}; "
            "the assignments are written as .csv, .jsonl (or .ndjson), .parquet or .arrow/.feather, "
            "the text ones optionally compressed (.csv.gz, .jsonl.zst, .csv.bz2)",
        )
    kind = OUT_FORMATS[suffix]
    if codec and kind in ("parquet", "arrow"):
        raise _fail(
            str(path),
            f"{suffix} files compress their own columns (Parquet: zstd); drop the {target.suffix} suffix",
        )
    return kind


def cause_names(labels: Sequence[str]) -> list[str]:
    """The ``split_cause`` dictionary of every output: the definitions' cause labels, then the two
    labels of rows not sessionized (codes ``len - 2`` and ``len - 1``; the spool writes them as -2 and
    -1)."""
    return [*labels, "excluded", "bad_row"]


def parquet_options(schema: pa.Schema) -> dict[str, Any]:
    """How every Parquet output is written (the in-memory and the out-of-core path alike, so their
    files are the same bytes): integer and timestamp columns DELTA_BINARY_PACKED (row numbers, times
    and session ids are runs of small steps; dictionary-encoding 10 M distinct ids, pyarrow's default,
    was most of the write time), other columns dictionary-encoded as by default; snappy.

    10 M assignment rows: 6.0 s / 154 MB with the defaults, 2.3 s / 81 MB so
    (benchmarks/bench_sessionize_files.py; docs/scale.md)."""
    delta = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type)]
    return {
        "use_dictionary": [f.name for f in schema if f.name not in delta],
        "column_encoding": dict.fromkeys(delta, "DELTA_BINARY_PACKED"),
    }


def assignments_table(log: EventFile, assignments: dict[str, tuple[np.ndarray, Sequence[str]]]) -> pa.Table:
    """One row per input row, in input order: line (or row), the file (when several), user and time as
    read (every input column, when kept), then per definition ``NAME.session_id`` (null for bad and
    excluded rows) and ``NAME.split_cause``."""
    status = log.status
    good = status >= 0
    all_good = bool(good.all())
    index = status if all_good else np.where(good, status, 0)
    raw = log.raw if log.raw is not None else pa.table({log.user_column: [], log.time_column: []})
    columns: dict[str, Any] = {log.unit: pa.array(log.lines, pa.int64())}
    if log.files and log.file_index is not None:
        columns["file"] = pa.DictionaryArray.from_arrays(
            pa.array(log.file_index.astype(np.int32)), pa.array(log.files, pa.string())
        )
    if log.kept:
        for name in raw.column_names:
            if name in columns:
                raise _fail(
                    log.path,
                    f"--keep-columns: the input has a column {name!r}, which the output adds too; rename it",
                )
            columns[name] = raw.column(name)
    else:
        columns["user_id"] = raw.column(log.user_column)
        columns["timestamp"] = raw.column(log.time_column)
    for name, (given_ids, given_labels) in assignments.items():
        ids = np.asarray(given_ids, dtype=np.int64)
        labels = given_labels if isinstance(given_labels, pa.Array) else np.asarray(given_labels)
        if all_good and len(ids) == len(status):  # every row sessionized: no gather
            full = ids
        else:
            full = ids[index] if len(ids) else np.zeros(len(status), dtype=np.int64)
        for column in (f"{name}.session_id", f"{name}.split_cause"):
            if column in columns:
                raise _fail(log.path, f"--keep-columns: the input already has a column {column!r}")
        columns[f"{name}.session_id"] = pa.array(full, pa.int64(), mask=None if all_good else ~good)
        if isinstance(given_labels, pa.DictionaryArray):  # cause codes and their names: no str per row
            names = cause_names(given_labels.dictionary.to_pylist())
            codes = given_labels.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            if len(codes) != len(status) or not all_good:
                codes = codes[index] if len(codes) else np.zeros(len(status), dtype=np.int32)
                codes = np.where(good, codes, np.where(status == BAD, len(names) - 1, len(names) - 2))
            columns[f"{name}.split_cause"] = pa.DictionaryArray.from_arrays(
                pa.array(codes, pa.int32()), pa.array(names, pa.string())
            )
            continue
        cause = labels[index] if len(labels) else np.full(len(status), "")
        other = np.where(status == BAD, "bad_row", "excluded")
        columns[f"{name}.split_cause"] = pa.array(
            np.where(good, cause, other), pa.string()
        ).dictionary_encode()
    return pa.table(columns)


def _flat(table: pa.Table, path: str | Path) -> pa.Table:
    """Dictionary columns decoded (text formats); nested ones refused, naming the formats that keep them."""
    out = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)  # noqa: PLW2901
        if pa.types.is_nested(column.type):
            raise _fail(
                str(path),
                f"column {name!r} is nested ({column.type}); CSV cannot hold it: write .parquet, .arrow "
                "or .jsonl",
            )
        out[name] = column
    return pa.table(out)


def write_assignments(
    path: str | Path,
    log: EventFile,
    assignments: dict[str, tuple[np.ndarray, Sequence[str]]],
) -> None:
    """Write one line per input row: its line, user, time, and per definition session id and cause.

    ``assignments`` maps a definition name to (session id per good row, cause label per good row).
    The file is CSV (``.csv``), JSON Lines (``.jsonl``/``.ndjson``), both optionally compressed
    (``.gz``, ``.zst``, ``.bz2``), Parquet (``.parquet``) or Arrow IPC (``.arrow``/``.feather``; these
    two keep the input's types), written atomically through pyarrow.

    Raises
    ------
    ScenarioError
        For another extension (checked first: call :func:`output_format` to fail before any work),
        or when the file cannot be written.
    """
    kind = output_format(path)
    codec = output_compression(path)
    table = assignments_table(log, assignments)
    if kind == "parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, **parquet_options(table.schema))
        return
    if kind == "arrow":
        with (
            atomic_path(path) as tmp,
            pa.OSFile(str(tmp), "wb") as sink,
            pa.ipc.new_file(sink, table.schema) as w,
        ):
            w.write_table(table)
        return
    if kind == "csv":
        import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

        table = _flat(table, path)
        header = io.StringIO()
        csv.writer(header).writerow(table.column_names)  # pyarrow would quote every name
        with atomic_path(path) as tmp:
            # plain fields unquoted, like the csv module; a field with a comma, quote or line
            # break makes pyarrow refuse, and then every string is quoted
            for style in ("none", "needed"):
                try:
                    with pa.output_stream(str(tmp), compression=codec) as fh:
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
            n: c
            if pa.types.is_integer(c.type) or pa.types.is_string(c.type) or pa.types.is_nested(c.type)
            else c.cast(c.type.value_type)
            if pa.types.is_dictionary(c.type)
            else c.cast(pa.string())
            for n, c in zip(table.column_names, table.columns, strict=True)
        }
    )
    with atomic_path(path) as tmp, pa.output_stream(str(tmp), compression=codec) as fh:
        for batch in plain.to_batches(65_536):
            text = "".join(json.dumps(r, default=str) + "\n" for r in batch.to_pylist())
            fh.write(text.encode())

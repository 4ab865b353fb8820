"""Text logs read as streams for the shard spool (:mod:`simulator.log.shards`): CSV and JSON Lines,
plain, compressed (``.gz``/``.zst``/``.bz2``) or from standard input, never held whole.

Each reader gives what the in-memory reader (:mod:`simulator.log.logfile`) gives for the same bytes,
batch by batch: the same columns and types, the same bad rows at the same line numbers.

- **CSV** is read once, in order: the first 64 KiB are peeked to read the header and sniff the
  delimiter (:func:`~simulator.log.sources.sniff_delimiter`, as in memory), then pyarrow's streaming
  reader (``pyarrow.csv.open_csv``) reads the decompressing stream in 64 MiB blocks. On the way, every
  byte passes :class:`RecordLines`, which numbers the records as the in-memory reader does (a line
  break inside a quoted field does not end a record; blank lines are not records) into a file-backed
  array of 8 bytes a row. Standard input is never seeked, so ``cat big.csv | sessionlab sessionize -``
  works in bounded memory.
- **JSON Lines** needs the whole file's types before the first batch (pyarrow's ``read_json`` infers
  them over the whole file: ``int64`` widened to ``double``, a timestamp to ``string``, ``null`` to
  anything), so it is read twice: a first pass infers every block's types and unifies them by the same
  promotions, a second reads each block with the unified schema. A file the in-memory reader reads
  line by line (bad lines, types pyarrow refuses to unify, blank lines between records, deep nesting)
  is read line by line here too, also in two passes (types, then rows). Standard input is copied to
  the spool directory first (a stream cannot be read twice).
"""

from __future__ import annotations

import csv
import io
import itertools
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from simulator.errors import ScenarioError
from simulator.log.logfile import (
    _BOM,
    _JSON_DEPTH,
    BadRow,
    LogColumns,
    _check_columns,
    _scan_jsonl,
    _text,
    _user_text,
    _wanted,
    csv_options,
    is_int,
    is_number,
    json_records,
)
from simulator.log.sources import STDIN, PrefixedReader, SourceFile, sniff_delimiter, stdin_codec

__all__ = ["CSV_BLOCK", "JSON_BLOCK", "RecordLines", "StreamSource", "csv_source", "jsonl_source"]

#: Bytes pyarrow's streaming CSV reader takes at a time.
CSV_BLOCK = 64 << 20
#: Bytes of whole lines read as one JSON Lines block.
JSON_BLOCK = 32 << 20
#: Records of a line-by-line JSON Lines read converted at a time.
JSON_ROWS = 1 << 16
_HEAD = 1 << 16
_LF, _CR, _QUOTE = 10, 13, 34


def _fail(path: str, message: str) -> ScenarioError:
    return ScenarioError(path, "", message)


@dataclass
class StreamSource:
    """Batches of the wanted columns, and what the spool needs to number and report their rows.

    ``lines()`` (called once the batches are read) gives each row's line number, or None when rows
    are numbered 1, 2, ... ``early_bad`` are rows the reader refused: for CSV numbered by record
    (``early_records``: mapped to lines by the spool), otherwise by line."""

    batches: Iterator[pa.RecordBatch]
    unit: str
    raw: pa.Schema  # the user and time columns' types
    names: list[str]
    lines: Callable[[], np.ndarray | None] = lambda: None
    early_bad: list[BadRow] = field(default_factory=list)
    early_records: bool = False
    delimiter: str | None = None
    rows_hint: Callable[[int], int] = lambda _first: 0


class RecordLines:
    """The line on which each record of a CSV starts, fed the bytes in order, block by block.

    The same numbers as the in-memory reader's ``_row_lines`` on the whole bytes: a ``\\n`` ends a
    record unless an odd number of ``"`` precedes it; empty records (blank lines, a lone ``\\r``) are
    left out, and so is the first record (the header). Written to ``store`` as int64 as they come."""

    def __init__(self, store: Path) -> None:
        self._path = store
        self._out: IO[bytes] | None = open(store, "wb")  # noqa: SIM115 - closed by finish()
        self._pos = 0  # offset of the next block
        self._lf = 0  # line feeds before it
        self._odd = 0  # quote parity before it
        self._start, self._line, self._first = 0, 1, -1  # the pending record: offset, line, first byte
        self._last = -1
        self._header = True
        self._count = 0

    def feed(self, block: bytes | memoryview) -> None:
        """The next bytes of the file."""
        c = np.frombuffer(block, dtype=np.uint8)
        if not c.size:
            return
        pos = self._pos
        if self._start == pos:
            self._first = int(c[0])
        nl = np.flatnonzero(c == _LF)
        quotes = np.flatnonzero(c == _QUOTE)
        ends = nl[(self._odd + np.searchsorted(quotes, nl)) % 2 == 0] if quotes.size or self._odd else nl
        if ends.size:
            starts = np.concatenate(([self._start], pos + ends[:-1] + 1))
            length = pos + ends - starts
            first = np.empty(len(starts), dtype=np.int64)
            first[0] = self._first
            if len(starts) > 1:
                first[1:] = c[starts[1:] - pos]
            empty = (length == 0) | ((length == 1) & (first == _CR))
            lines = np.empty(len(starts), dtype=np.int64)
            lines[0] = self._line
            lines[1:] = 1 + self._lf + np.searchsorted(nl, starts[1:] - pos)
            self._emit(lines[~empty])
            self._start = pos + int(ends[-1]) + 1
            self._line = 1 + self._lf + int(np.searchsorted(nl, ends[-1])) + 1
            self._first = int(c[self._start - pos]) if self._start - pos < c.size else -1
        self._lf += nl.size
        self._odd = (self._odd + quotes.size) % 2
        self._pos = pos + c.size
        self._last = int(c[-1])

    def _emit(self, lines: np.ndarray) -> None:
        if self._header and lines.size:
            lines, self._header = lines[1:], False
        if lines.size and self._out is not None:
            self._out.write(lines.astype(np.int64).tobytes())
            self._count += lines.size

    def finish(self) -> np.ndarray:
        """Every record's line (the last record may lack its line break), as a file-backed array."""
        if self._out is None:
            raise RuntimeError("finish() twice")
        if self._last != _LF:  # the bytes end inside the last record
            length = self._pos - self._start
            if not (length == 0 or (length == 1 and self._first == _CR)):
                self._emit(np.array([self._line], dtype=np.int64))
        self._out.close()
        self._out = None
        if not self._count:
            return np.zeros(0, dtype=np.int64)
        return np.memmap(self._path, dtype=np.int64, mode="r", shape=(self._count,))


def _read_head(stream: pa.NativeFile) -> bytes:
    head = b""
    while len(head) < _HEAD:
        more = stream.read(_HEAD - len(head))
        if not more:
            break
        head += more
    return head


def _size_hint(src: SourceFile) -> int:
    """The decompressed bytes a file probably holds (compressed: 5x its size)."""
    size = Path(src.path).stat().st_size if src.path else 0
    return size if src.compression is None else 5 * size


def stdin_copy(tmp: Path, kind: str, stdin: IO[bytes] | None = None) -> SourceFile:
    """Standard input copied as it comes (compressed stays compressed) into the spool directory, as
    a file read like any other. pyarrow's readers then read native files only: a Python stream
    read from pyarrow's I/O thread could be caught mid-call by Ctrl-C at interpreter exit."""
    raw = stdin or sys.stdin.buffer
    head, codec = stdin_codec(raw)
    copy = tmp / "stdin.raw"
    try:
        with open(copy, "wb") as fh:
            fh.write(head)
            shutil.copyfileobj(raw, fh, 16 << 20)
    except OSError as err:
        raise _fail(STDIN, f"cannot read standard input: {err.strerror or err}") from None
    return SourceFile(STDIN, kind, codec, path=str(copy))


def _open(src: SourceFile) -> Any:
    return open(src.path, "rb") if src.plain and src.path else src.open()


def csv_source(
    src: SourceFile | None,
    cols: LogColumns,
    tmp: Path,
    *,
    stdin: IO[bytes] | None = None,
    block_size: int | None = None,
) -> StreamSource:
    """A CSV file (``src``) or standard input (``src`` None) as a :class:`StreamSource`."""
    import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

    block_size = block_size or CSV_BLOCK
    src = src or stdin_copy(tmp, "csv", stdin)
    name = src.name
    try:
        with _open(src) as stream:
            head = _read_head(stream)
    except (OSError, pa.ArrowInvalid) as err:
        raise _fail(name, f"cannot read file: {err}") from None
    first = head.removeprefix(_BOM).decode("utf-8", errors="replace").splitlines()[:1]
    if not first or not first[0].strip():
        raise _fail(name, "empty file: expected a header line with column names")
    delimiter = cols.delimiter or sniff_delimiter(head, name)
    names = next(csv.reader(first, delimiter=delimiter))
    _check_columns(name, names, cols)
    source = StreamSource(
        iter(()),
        "line",
        pa.schema([("__user", pa.string()), ("__time", pa.string())]),
        names,
        early_records=True,
        delimiter=delimiter,
    )

    def handler(row: Any) -> str:
        source.early_bad.append(  # row.number counts records from 1 (the header): lines come later
            BadRow(row.number, f"{row.actual_columns} field(s) where the header has {row.expected_columns}")
        )
        return "skip"

    try:
        wanted = [c for c in (cols.user, cols.time, cols.campaign, cols.event) if c in names]
        parse, convert = csv_options(delimiter, names, wanted, handler)
        reader = pcsv.open_csv(
            src.path if src.plain else src.open(),
            read_options=pcsv.ReadOptions(use_threads=False, encoding="utf8", block_size=block_size),
            parse_options=parse,
            convert_options=convert,
        )
    except pa.ArrowInvalid as err:
        raise _fail(name, f"not valid CSV: {err}") from None
    except OSError as err:
        raise _fail(name, f"cannot read file: {err}") from None

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except pa.ArrowInvalid as err:
            raise _fail(name, f"not valid CSV: {err}") from None
        except OSError as err:  # a damaged compressed stream
            raise _fail(name, f"cannot read file: {err}") from None

    def lines() -> np.ndarray:
        """A second pass over the bytes (decompressed again), in blocks."""
        records = RecordLines(tmp / "lines.i64")
        with _open(src) as stream:
            while block := stream.read(block_size):
                records.feed(block)
        return records.finish()

    total = _size_hint(src)
    source.batches = batches()
    source.lines = lines
    source.rows_hint = lambda first_rows: (
        first_rows * total // block_size if total > block_size else first_rows
    )
    return source


# ---- JSON Lines ----------------------------------------------------------------------------------


def _blocks(stream: Any, size: int) -> Iterator[bytes]:
    """Whole lines, about ``size`` bytes at a time (a block ends after a ``\\n`` or ``\\r``)."""
    carry = b""
    while chunk := stream.read(size):
        block = carry + chunk
        cut = max(block.rfind(b"\n"), block.rfind(b"\r")) + 1
        if cut == 0:  # no line end yet: read on
            carry = block
            continue
        carry = block[cut:]
        yield block[:cut]
    if carry:
        yield carry


def _promote(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """The type pyarrow's JSON reader gives a column that is ``a`` in one block and ``b`` in another
    (its promotions: null to anything, int64 to double, timestamp to string), or None (it refuses)."""
    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    pair = {str(a), str(b)}
    if pair == {"int64", "double"}:
        return pa.float64()
    if (pa.types.is_timestamp(a) and pa.types.is_string(b)) or (
        pa.types.is_string(a) and pa.types.is_timestamp(b)
    ):
        return pa.string()
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        fields = {f.name: f.type for f in a}
        for f in b:
            if f.name in fields:
                merged = _promote(fields[f.name], f.type)
                if merged is None:
                    return None
                fields[f.name] = merged
            else:
                fields[f.name] = f.type
        return pa.struct(list(fields.items()))
    if pa.types.is_list(a) and pa.types.is_list(b):
        item = _promote(a.value_type, b.value_type)
        return None if item is None else pa.list_(item)
    return None


def _unified_schema(open_bytes: Callable[[], Any], block: int) -> pa.Schema | None:
    """The schema ``read_json`` gives the whole file, from its blocks; None where it would fail."""
    import pyarrow.json as pjson  # noqa: PLC0415 - loaded on use

    fields: dict[str, pa.DataType] = {}
    with open_bytes() as stream:
        for data in _blocks(stream, block):
            try:
                part = pjson.read_json(pa.BufferReader(data))
            except pa.ArrowInvalid:
                return None
            for f in part.schema:
                merged = _promote(fields[f.name], f.type) if f.name in fields else f.type
                if merged is None:
                    return None
                fields[f.name] = merged
    return pa.schema(list(fields.items()))  # no column at all: the column check says so


def jsonl_source(
    src: SourceFile | None,
    cols: LogColumns,
    tmp: Path,
    *,
    stdin: IO[bytes] | None = None,
    block_size: int | None = None,
    rows: int | None = None,
) -> StreamSource:
    """A JSON Lines file (``src``) or standard input (``src`` None) as a :class:`StreamSource`."""
    block_size, rows = block_size or JSON_BLOCK, rows or JSON_ROWS
    src = src or stdin_copy(tmp, "jsonl", stdin)  # read twice: a copy in the spool directory
    name = src.name
    needed = _wanted(cols)

    def open_bytes() -> Any:
        return _open(src)

    deepest, blank_lines = _scan_jsonl(open_bytes())
    schema = None if deepest > _JSON_DEPTH or blank_lines else _unified_schema(open_bytes, block_size)
    if schema is not None and not any(
        pa.types.is_nested(schema.field(c).type) for c in needed if c in schema.names
    ):
        return _jsonl_blocks(name, open_bytes, schema, cols, block_size)
    return _jsonl_lines(name, open_bytes, cols, tmp, rows)


def _jsonl_blocks(
    name: str, open_bytes: Callable[[], Any], schema: pa.Schema, cols: LogColumns, block_size: int
) -> StreamSource:
    """JSON Lines that pyarrow reads: each block with the whole file's types."""
    import pyarrow.json as pjson  # noqa: PLC0415 - loaded on use

    names = schema.names
    _check_columns(name, names, cols)
    present = [c for c in _wanted(cols) if c in names]
    explicit = pa.schema([schema.field(c) for c in present])
    options = pjson.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="ignore")

    def fast() -> Iterator[pa.RecordBatch]:
        with open_bytes() as stream:
            for data in _blocks(stream, block_size):
                table = pjson.read_json(pa.BufferReader(data), parse_options=options).select(present)
                yield from table.combine_chunks().to_batches()

    raw = pa.schema([("__user", explicit.field(cols.user).type), ("__time", explicit.field(cols.time).type)])
    return StreamSource(fast(), "line", raw, names)


def _jsonl_lines(
    name: str, open_bytes: Callable[[], Any], cols: LogColumns, tmp: Path, rows: int
) -> StreamSource:
    """JSON Lines read line by line, as the in-memory reader does: first the columns seen and the
    types, then the rows."""
    needed = _wanted(cols)
    seen: dict[str, None] = {}
    time_int = time_number = user_int = True
    with open_bytes() as stream:
        for _, record in json_records(io.BufferedReader(PrefixedReader(b"", stream))):
            if isinstance(record, BadRow):
                continue
            seen.update(dict.fromkeys(record))
            t, u = record.get(cols.time), record.get(cols.user)
            time_int = time_int and is_int(t)
            time_number = time_number and is_number(t)
            user_int = user_int and is_int(u)
    names = list(seen)
    _check_columns(name, names, cols)
    present = [c for c in needed if c in seen]
    time_type = pa.int64() if time_int else pa.float64() if time_number else pa.string()
    user_type = pa.int64() if user_int else pa.string()
    store = tmp / "lines.i64"
    source = StreamSource(iter(()), "line", pa.schema([("__user", user_type), ("__time", time_type)]), names)
    counted = [0]

    def convert(chunk: list[dict[str, Any]]) -> pa.RecordBatch:
        arrays = []
        for c in present:
            values = [r.get(c) for r in chunk]
            if c == cols.time:
                if time_type == pa.string():
                    values = [None if v is None else str(v) for v in values]
                arrays.append(pa.array(values, time_type))
            elif c == cols.user:
                if user_type == pa.string():
                    values = [None if v is None else _user_text(v) for v in values]
                arrays.append(pa.array(values, user_type))
            else:
                arrays.append(pa.array([_text(v) for v in values], pa.string()))
        return pa.RecordBatch.from_arrays(arrays, names=present)

    def slow() -> Iterator[pa.RecordBatch]:
        source.early_bad.clear()
        with open_bytes() as stream, open(store, "wb") as out:
            items = json_records(io.BufferedReader(PrefixedReader(b"", stream)))
            while piece := list(itertools.islice(items, rows)):
                good = [(n, r) for n, r in piece if not isinstance(r, BadRow)]
                source.early_bad.extend(r for _, r in piece if isinstance(r, BadRow))
                if good:
                    out.write(np.array([n for n, _ in good], dtype=np.int64).tobytes())
                    counted[0] += len(good)
                    yield convert([r for _, r in good])

    def lines() -> np.ndarray:
        if not counted[0]:
            return np.zeros(0, dtype=np.int64)
        return np.memmap(store, dtype=np.int64, mode="r", shape=(counted[0],))

    source.batches = slow()
    source.lines = lines
    return source

"""Logs larger than memory: a shard spool on disk, each user's rows whole in one shard.

``sessionlab sessionize --memory 2GiB`` reads a log that does not fit (a large Parquet file, a
directory of them, a large CSV or JSON Lines file, compressed or not, or standard input; the text
formats through :mod:`simulator.log.streams`) in record batches and never holds it whole:

1. **partition** - every batch's rows go to one of ``S`` temporary shard files (Arrow IPC) by a
   stable hash of the user id *as read* (:func:`user_hash`: the same on every run and machine), with
   the input row number carried along. A user never spans shards.
2. **sessionize** - each shard is read whole and checked and parsed exactly as an in-memory log
   (:func:`~simulator.log.logfile.events_from_table`), then sessionized by the caller's function (the
   existing kernels). Session ids are numbered per shard in (user, time) order; the shard's users and
   their session counts are kept (one row per user), and its rows are spread by input row number
   into ``B`` row-range bucket files.
3. **merge** - the users of all shards are sorted once, which gives each user's global first
   session id; each bucket is then read in input order, its ids made global, and written to the
   output, which streams (Parquet row groups, CSV or JSON Lines blocks).

The result is byte for byte the file the in-memory path writes, whatever ``S`` and ``B`` (tested):
the same row order, ids, causes, types, Parquet row groups and CSV quoting. Epoch units told from the
numbers' magnitude are told from the whole log (the minimum and maximum of every batch), not per
shard. Memory: a batch, one shard, one bucket and the table of distinct users (16 bytes a user plus
its id). Temporary files live in one directory (beside the output, else under ``TMPDIR``) that is
removed on success, on error and on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_open, atomic_path
from simulator.log.logfile import (
    BAD,
    EXCLUDED,
    BadRow,
    EventFile,
    LogColumns,
    _bad_message,
    _check_columns,
    cause_names,
    detect_format,
    events_from_table,
    output_format,
    parquet_options,
)
from simulator.log.ranks import dense_ranks
from simulator.log.sources import COMPRESSIONS, STDIN, SourceFile, decompressed_size_over, resolve
from simulator.log.streams import StreamSource, csv_source, jsonl_source
from simulator.log.timeparse import _NUMBER, _AmbiguousEpochError, detect_epoch, parse_times

__all__ = [
    "BYTES_PER_ROW",
    "MIN_MEMORY",
    "ShardResult",
    "default_memory",
    "estimate_bytes",
    "fits_in_memory",
    "in_memory_bytes",
    "parse_size",
    "read_columns",
    "sessionize_large",
    "shard_rows_for",
    "user_hash",
]

#: The in-memory path's peak, per input row (measured: about 330 B a row at 1 M rows, Parquet in).
BYTES_PER_ROW = 400
#: What the interpreter and its libraries take before any row is read.
BASE_BYTES = 192 << 20
#: The smallest ``--memory`` accepted.
MIN_MEMORY = 256 << 20
#: Rows read at a time.
BATCH_ROWS = 1 << 20
#: A CSV file's in-memory peak, per byte of the file (measured: 14x at 1 M rows).
CSV_FACTOR = 16

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9}
_UNITS |= {"t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """Bytes from ``512MiB``, ``2GiB``, ``1.5GB``, ``4g`` or a plain number of bytes.

    Raises
    ------
    ValueError
        For anything else, or a size below :data:`MIN_MEMORY`, with a message naming the forms.
    """
    m = _SIZE.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS:
        raise ValueError(f"{text!r} is not a size; write it like 512MiB, 2GiB or 1.5GB")
    size = int(float(m.group(1)) * _UNITS[unit])
    if size < MIN_MEMORY:
        raise ValueError(f"{text!r} is below the {MIN_MEMORY >> 20} MiB sessionlab needs to run")
    return size


def available_memory() -> int:
    """The memory available now (``MemAvailable``, else the free pages), in bytes; 0 when unknown."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(ValueError, OSError, AttributeError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return 0


def default_memory() -> int:
    """Half the memory available now (``MemAvailable``), at least :data:`MIN_MEMORY`."""
    available = available_memory()
    return max(MIN_MEMORY, available // 2) if available else 2 << 30


def _is_dataset(path: str) -> bool:
    return Path(path).is_dir()


def _parquet_files(path: str) -> list[str]:
    if not _is_dataset(path):
        return [path]
    found = sorted(str(p) for p in Path(path).rglob("*") if p.is_file() and not p.name.startswith((".", "_")))
    if not found:
        raise ScenarioError(path, "", "no files in this directory")
    return found


def estimate_bytes(path: str, fmt: str | None = None) -> int:
    """What the in-memory path would take for ``path``: rows times :data:`BYTES_PER_ROW` (Parquet,
    from the files' metadata) or the file size times :data:`CSV_FACTOR` (text)."""
    kind = "parquet" if _is_dataset(path) else detect_format(path, fmt)
    if kind == "parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

        rows = 0
        for f in _parquet_files(path):
            try:
                rows += pq.ParquetFile(f).metadata.num_rows
            except (OSError, pa.ArrowInvalid):
                return 0  # the reader says what is wrong with it
        return BASE_BYTES + rows * BYTES_PER_ROW
    try:
        return BASE_BYTES + Path(path).stat().st_size * CSV_FACTOR
    except OSError:
        return 0


def in_memory_bytes(memory: int) -> int:
    """The most bytes of text (decompressed CSV or JSON Lines) the in-memory path reads in ``memory``."""
    return max(0, (memory - BASE_BYTES) // CSV_FACTOR)


def fits_in_memory(path: str, fmt: str | None, memory: int) -> bool:
    """Whether the in-memory path reads ``path`` within ``memory``: :func:`estimate_bytes` for a plain
    file or a Parquet directory; a compressed file is decompressed up to what would fit (no further)."""
    if not _is_dataset(path) and Path(path).suffix.lower() in COMPRESSIONS:
        try:
            src = resolve(path, fmt)[0]
        except ScenarioError:
            return True  # the reader says what is wrong with it
        try:
            return not decompressed_size_over(src, in_memory_bytes(memory))
        except (OSError, pa.ArrowInvalid):
            return True
    return estimate_bytes(path, fmt) <= memory


def shard_rows_for(memory: int) -> int:
    """Rows a shard may hold within ``memory``, with room for hash skew (a quarter)."""
    return max(4096, int((memory - BASE_BYTES) / BYTES_PER_ROW / 1.25))


# ---- the stable user hash ------------------------------------------------------------------------

_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_P, _GOLDEN = np.uint64(0x100000001B3), np.uint64(0x9E3779B97F4A7C15)
_POW = np.ones(1, dtype=np.uint64)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's step (wrapping uint64 arithmetic)."""
    x = x.astype(np.uint64, copy=True)
    x += _GOLDEN
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _powers(n: int) -> np.ndarray:
    global _POW  # noqa: PLW0603 - a growing cache of P**k mod 2**64
    if len(_POW) < n:
        _POW = np.concatenate(([np.uint64(1)], np.cumprod(np.full(n - 1, _P, dtype=np.uint64))))
    return _POW[:n]


def _text_hash(arr: pa.Array) -> np.ndarray:
    """A polynomial hash of each string's UTF-8 bytes, over whole arrays (no per-row Python)."""
    arr = arr.cast(pa.large_string())
    n = len(arr)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset : arr.offset + n + 1]
    data = arr.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    start, end = int(offsets[0]), int(offsets[-1])
    lengths = np.diff(offsets)
    b = raw[start:end].astype(np.uint64) + np.uint64(1)
    pos = np.arange(end - start, dtype=np.int64) - np.repeat(offsets[:-1] - start, lengths)
    b *= _powers(int(lengths.max(initial=0)) + 1)[pos]
    cs = np.concatenate(([np.uint64(0)], np.cumsum(b, dtype=np.uint64)))
    h = cs[offsets[1:] - start] - cs[offsets[:-1] - start]
    return _mix(h ^ (lengths.astype(np.uint64) * _M2))


def user_hash(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A uint64 per row from the user id as read, equal for ids the reader takes as one user.

    Integers hash their value; text its UTF-8 bytes (trailing NULs left out, as the reader's NumPy
    strings leave them out); floats their value (``-0.0`` as ``0.0``); other types their text.
    Deterministic across runs, processes and machines (no seeded ``hash()``). Nulls hash to 0.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_integer(kind):
        values = column.fill_null(0).cast(pa.int64()).to_numpy(zero_copy_only=False)
        return _mix(values.view(np.uint64))
    if pa.types.is_floating(kind):
        values = column.fill_null(0).cast(pa.float64()).to_numpy(zero_copy_only=False) + 0.0
        values = np.where(np.isnan(values), np.nan, values)
        return _mix(values.view(np.uint64))
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = column.cast(pa.string())
    text = pc.utf8_rtrim(column.fill_null(""), characters="\x00")
    encoded = text.dictionary_encode()  # hash each distinct id once
    return _text_hash(encoded.dictionary)[encoded.indices.to_numpy(zero_copy_only=False)]


# ---- reading in batches --------------------------------------------------------------------------


def _parquet_source(path: str, cols: LogColumns) -> StreamSource:
    import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

    files = _parquet_files(path)
    try:
        opened = [pq.ParquetFile(f) for f in files]
    except (OSError, pa.ArrowInvalid) as err:
        raise ScenarioError(path, "", f"cannot read Parquet: {err}") from None
    names = opened[0].schema_arrow.names
    _check_columns(path, names, cols)
    wanted = [c for c in (cols.user, cols.time, cols.campaign, cols.event) if c in names]
    for f, parquet in zip(files, opened, strict=True):
        missing = [c for c in wanted if c not in parquet.schema_arrow.names]
        if missing:
            raise ScenarioError(f, "", f"no column {missing[0]!r}, which {files[0]} has")

    def batches() -> Iterator[pa.RecordBatch]:
        for parquet in opened:
            try:
                yield from parquet.iter_batches(batch_size=BATCH_ROWS, columns=wanted, use_threads=False)
            except (OSError, pa.ArrowInvalid) as err:
                raise ScenarioError(path, "", f"cannot read Parquet: {err}") from None

    schema = opened[0].schema_arrow
    raw = pa.schema([("__user", schema.field(cols.user).type), ("__time", schema.field(cols.time).type)])
    rows = sum(p.metadata.num_rows for p in opened)
    return StreamSource(batches(), "row", raw, names, rows_hint=lambda _first: rows)


# ---- the whole log's epoch -----------------------------------------------------------------------


class _EpochScan:
    """What ``parse_times`` would decide about epoch numbers on the whole column, batch by batch."""

    def __init__(self) -> None:
        self.lo = self.hi = self.alo = self.ahi = None
        self.text_numeric = True  # every non-blank text value is a number
        self.kind: str = ""

    def add(self, column: pa.Array) -> None:
        kind = column.type
        if pa.types.is_integer(kind) or pa.types.is_floating(kind):
            self.kind = "number"
            values = column.drop_null().to_numpy(zero_copy_only=False).astype(np.float64)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            self.kind = "text"
            text = column.cast(pa.string())
            blank = pc.equal(pc.utf8_trim_whitespace(text), "").fill_null(True)
            present = pc.filter(text, pc.invert(blank))
            if not self.text_numeric or not len(present):
                return
            if not pc.all(pc.match_substring_regex(present, _NUMBER)).as_py():
                self.text_numeric = False
                return
            values = pc.cast(present, pa.float64()).to_numpy()
        else:
            return
        if values.size:
            lo, hi = float(values.min()), float(values.max())
            alo, ahi = float(np.abs(values).min()), float(np.abs(values).max())
            self.lo = lo if self.lo is None else min(self.lo, lo)
            self.hi = hi if self.hi is None else max(self.hi, hi)
            self.alo = alo if self.alo is None else min(self.alo, alo)
            self.ahi = ahi if self.ahi is None else max(self.ahi, ahi)

    def decide(self, epoch: str | None) -> tuple[str | None, str | None, bool]:
        """(epoch to parse every shard with, the unit detected, whether text must not be detected)."""
        if epoch is not None or self.kind not in ("number", "text") or self.lo is None:
            return epoch, None, self.kind == "text" and not self.text_numeric
        if self.kind == "text" and not self.text_numeric:
            return None, None, True
        detected = detect_epoch(np.array([self.alo, self.ahi]))
        if detected is None:
            raise _AmbiguousEpochError(np.array([self.lo, self.hi]))
        return detected, detected, False


def _parser(epoch: str | None, detected: str | None, block_text: bool) -> Callable[..., Any]:
    """``parse_times`` with the whole log's decision about epoch numbers."""

    def parse(column: Any, _epoch: Any, input_tz: str | None, ambiguous: str) -> tuple[Any, str | None]:
        if block_text and epoch is None:  # a shard of numbers only must not detect a unit either
            column = pa.concat_arrays([pa.array(column.combine_chunks(), pa.string()), pa.array(["x"])])
            times, _ = parse_times(column, None, input_tz, ambiguous)
            n = len(column) - 1
            times.bad.pop(n, None)
            times.ms, times.ns = times.ms[:n], times.ns[:n]
            return times, None
        times, _ = parse_times(column, epoch, input_tz, ambiguous)
        return times, detected

    return parse


# ---- the pipeline --------------------------------------------------------------------------------

#: ``(name, ids per good row, int8 cause codes per good row)`` for each definition, from a shard.
Sessionizer = Callable[[EventFile, np.ndarray], list[tuple[str, np.ndarray, np.ndarray]]]


@dataclass
class ShardResult:
    """What the out-of-core path did: the figures ``sessionize`` prints."""

    path: str
    rows: int
    sessions: dict[str, int]
    users: int
    events: int
    excluded: int
    bad: list[BadRow]
    unit: str
    detected_epoch: str | None
    has_campaign: bool
    shards: int
    delimiter: str | None = None  # the CSV delimiter used (given or sniffed)


def _temp_dir(out: str | None) -> Path:
    """A fresh directory beside ``out`` when it is writable, else under ``TMPDIR``."""
    if out:
        parent = Path(out).resolve().parent
        with contextlib.suppress(OSError):
            return Path(tempfile.mkdtemp(prefix=f".sessionlab-shards-{os.getpid()}-", dir=parent))
    return Path(tempfile.mkdtemp(prefix=f"sessionlab-shards-{os.getpid()}-"))


def sessionize_large(
    path: str | Path,
    columns: LogColumns,
    sessionizer: Sessionizer,
    *,
    definitions: Sequence[str],
    labels: Sequence[str],
    out: str | Path | None = None,
    fmt: str | None = None,
    skip_bad: bool = False,
    exclude_events: Iterable[str] = (),
    shard_rows: int = 4 << 20,
    bucket_rows: int = 1 << 20,
    campaign_check: Callable[[bool], None] | None = None,
    progress: Callable[[str], None] | None = None,
    stdin: IO[bytes] | None = None,
) -> ShardResult:
    """Sessionize a log through shards on disk; write ``out`` as the in-memory path would.

    ``sessionizer(events, codes)`` sessionizes one shard (``codes``: dense user codes in sorted
    order) and returns, per definition, the session ids (from 0, in (user, time) order) and int8
    split-cause codes of the good rows; ``labels`` names the cause codes. ``shard_rows`` and
    ``bucket_rows`` set the number of shards and of row buckets (the output does not depend on them).
    ``campaign_check(has_campaign)`` is called once the columns are known, before any work.
    ``path`` is a CSV or JSON Lines file (plain or compressed), a Parquet file or directory, or ``-``
    for standard input (``stdin``, default ``sys.stdin.buffer``; CSV unless ``fmt``), read once.

    Raises
    ------
    ScenarioError
        As :func:`~simulator.log.logfile.read_log` does (bad rows without ``skip_bad``, missing
        columns, unreadable files), and when ``out`` cannot be written.
    """
    name = str(path)
    cols = columns
    src: SourceFile | None = None
    if name == "-":
        kind, name = fmt or "csv", STDIN
    elif _is_dataset(name):
        kind = "parquet"
    else:
        kind = detect_format(name, fmt)
        if kind in ("csv", "jsonl"):
            src = resolve(name, fmt)[0]  # one file, compressed or not
    if kind not in ("parquet", "csv", "jsonl"):
        raise ScenarioError(
            name, "", f"logs larger than memory are read from CSV, JSON Lines or Parquet, not {kind}"
        )
    if kind == "parquet" and (src is not None or name == STDIN or Path(name).suffix.lower() in COMPRESSIONS):
        raise ScenarioError(name, "", "a Parquet log larger than memory is read from a file, not a stream")
    out_kind = output_format(out) if out else None
    say = progress or (lambda _msg: None)
    tmp = _temp_dir(str(out) if out else None)
    try:
        job = _Job(
            name, kind, cols, sessionizer, list(definitions), labels, out, out_kind, tmp,
            skip_bad, list(exclude_events), shard_rows, bucket_rows, campaign_check, say, src, stdin,
        )  # fmt: skip
        return _run(job)
    except OSError as err:
        raise ScenarioError(name, "", f"cannot spool shards to {tmp}: {err.strerror or err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class _Job:
    name: str
    kind: str
    cols: LogColumns
    sessionizer: Sessionizer
    definitions: list[str]
    labels: Sequence[str]
    out: str | Path | None
    out_kind: str | None
    tmp: Path
    skip_bad: bool
    exclude: list[str]
    shard_rows: int
    bucket_rows: int
    campaign_check: Callable[[bool], None] | None
    say: Callable[[str], None]
    src: SourceFile | None = None
    stdin: IO[bytes] | None = None


@dataclass(frozen=True)
class _Plan:
    """What the merge pass needs."""

    tmp: Path
    n_buckets: int
    bucket_rows: int
    total: int
    unit: str
    data_lines: np.ndarray | None
    early_bad: list[BadRow]
    definitions: list[str]
    offsets: dict[str, np.ndarray]
    labels: Sequence[str]
    raw_schema: pa.Schema


def _run(job: _Job) -> ShardResult:  # noqa: PLR0912, PLR0915 - the three passes, kept together
    name, kind, cols, sessionizer, definitions = (
        job.name,
        job.kind,
        job.cols,
        job.sessionizer,
        job.definitions,
    )
    tmp, shard_rows, bucket_rows, say = job.tmp, job.shard_rows, job.bucket_rows, job.say
    campaign_check = job.campaign_check
    source = _open_source(job)
    first = next(source.batches, None)
    names = first.schema.names if first is not None else source.names
    has_campaign = cols.campaign in names
    if campaign_check is not None:
        campaign_check(has_campaign)
    # rows from the first block's density; a stream of unknown size gets 64 shards (re-split when
    # one turns out too large, below)
    rows_hint = source.rows_hint(0 if first is None else first.num_rows)
    if kind != "parquet" and (job.src is None or job.src.compression):
        rows_hint = max(rows_hint, 64 * shard_rows)
    n_shards = max(1, math.ceil(rows_hint / shard_rows))
    # 1. partition by user hash
    writers: list[Any] = [None] * n_shards
    counts = np.zeros(n_shards, dtype=np.int64)
    schema = None
    scan = _EpochScan()
    total = 0
    batches = iter(()) if first is None else _chain(first, source.batches)
    for batch in batches:
        n = batch.num_rows
        if not n:
            continue
        if schema is None:
            schema = batch.schema.append(pa.field("__row", pa.int64()))
        table = pa.Table.from_batches([batch])
        if table.schema != batch.schema or batch.schema != schema.remove(len(schema) - 1):
            try:
                table = table.cast(schema.remove(len(schema) - 1))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as err:
                raise ScenarioError(name, "", f"the files' columns differ in type: {err}") from None
        if cols.epoch is None:
            scan.add(table.column(cols.time).combine_chunks())
        shard = (user_hash(table.column(cols.user)) % np.uint64(n_shards)).astype(np.int64)
        rows = pa.array(np.arange(total, total + n, dtype=np.int64))
        table = table.append_column("__row", rows)
        order = np.argsort(shard, kind="stable")
        cuts = np.searchsorted(shard[order], np.arange(n_shards + 1))
        table = table.take(pa.array(order))
        for s in range(n_shards):
            a, b = int(cuts[s]), int(cuts[s + 1])
            if a == b:
                continue
            if writers[s] is None:
                writers[s] = pa.ipc.new_stream(str(tmp / f"shard-{s:05d}.arrow"), schema)
            writers[s].write_table(table.slice(a, b - a))
            counts[s] += b - a
        total += n
        say(f"partitioned {total:,} rows into {n_shards} shards")
    for w in writers:
        if w is not None:
            w.close()
    data_lines = _row_lines(source, total)
    try:
        epoch, detected, block_text = scan.decide(cols.epoch)
    except ValueError as err:
        raise ScenarioError(name, "", str(err)) from None
    parse = _parser(epoch, detected, block_text)
    # 2. sessionize each shard; spread its rows into row buckets
    # at most ~512 buckets open at once (file descriptors), none larger than a shard
    bucket_rows = max(1, min(max(bucket_rows, math.ceil(total / 512)), max(bucket_rows, shard_rows)))
    n_buckets = max(1, math.ceil(total / bucket_rows))
    buckets: list[Any] = [None] * n_buckets
    bad_rows: list[tuple[int, str]] = []
    user_values: list[pa.Array] = []
    user_counts: dict[str, list[np.ndarray]] = {}
    excluded = events = 0
    base = 0
    for s, whole in _shard_tables(tmp, counts, shard_rows, cols.user):
        row_no = whole.column("__row").to_numpy()
        table = whole.drop_columns(["__row"])
        del whole
        try:
            ev = events_from_table(
                name,
                table,
                row_no,
                [],
                cols,
                unit=source.unit,
                skip_bad=True,
                exclude_events=job.exclude,
                parse=parse,
            )
        except ValueError as err:  # the time parser on a value it refuses outright
            raise ScenarioError(name, "", str(err)) from None
        del table
        bad_rows += [(b.line, b.reason) for b in ev.bad]
        codes, uniques = dense_ranks(ev.user)  # empty too: the same Arrow type in every shard
        results = sessionizer(ev, codes)
        status = ev.status
        good = status >= 0
        index = np.where(good, status, 0)
        excluded += int(np.count_nonzero(status == EXCLUDED))
        events += int(np.count_nonzero(good))
        raw = ev.raw
        assert raw is not None
        raw = raw.rename_columns(["__user", "__time"])
        uid = np.where(good, base + (codes[index] if len(codes) else 0), -1)
        piece: dict[str, Any] = {"__row": pa.array(row_no), "__user": raw.column(0), "__time": raw.column(1)}
        piece["__uid"] = pa.array(uid)
        for dname, ids, causes in results:
            counts = np.bincount(codes, weights=(causes != 0), minlength=len(uniques)).astype(np.int64)
            user_counts.setdefault(dname, []).append(counts)
            first_id = np.cumsum(counts) - counts
            local = ids - first_id[codes] if len(ids) else ids  # the session's number within its user
            piece[f"{dname}.id"] = pa.array(np.where(good, local[index] if len(local) else 0, 0))
            cause = np.where(status == BAD, -1, -2).astype(np.int8)
            cause[good] = causes[index[good]]
            piece[f"{dname}.cause"] = pa.array(cause)
        user_values.append(uniques)
        base += len(uniques)
        part = pa.table(piece)
        bucket = row_no // bucket_rows
        order = np.argsort(bucket, kind="stable")
        cuts = np.searchsorted(bucket[order], np.arange(n_buckets + 1))
        part = part.take(pa.array(order))
        for k in range(n_buckets):
            a, b = int(cuts[k]), int(cuts[k + 1])
            if a == b:
                continue
            if buckets[k] is None:
                buckets[k] = pa.ipc.new_stream(str(tmp / f"bucket-{k:05d}.arrow"), part.schema)
            buckets[k].write_table(part.slice(a, b - a))
        say(f"sessionized shard {s + 1} of {n_shards}")
    for w in buckets:
        if w is not None:
            w.close()
    # bad rows: line numbers, then the in-memory path's contract
    unit = source.unit
    bad = [
        BadRow(int(data_lines[r]) if data_lines is not None else r + 1, why) for r, why in bad_rows
    ] + source.early_bad
    bad.sort(key=lambda b: b.line)
    if bad and not job.skip_bad:
        raise ScenarioError(name, "", _bad_message(bad, unit))
    # 3. global session offsets: users sorted once
    offsets: dict[str, np.ndarray] = {}
    sessions: dict[str, int] = {}
    all_users = pa.concat_arrays(user_values) if user_values else pa.array([], pa.int64())
    order = pc.sort_indices(all_users).to_numpy() if len(all_users) else np.zeros(0, np.int64)
    for dname in definitions:
        counts = np.concatenate(user_counts[dname]) if user_counts else np.zeros(0, np.int64)
        sorted_counts = counts[order]
        start = np.empty(len(counts), dtype=np.int64)
        start[order] = np.cumsum(sorted_counts) - sorted_counts
        offsets[dname] = start
        sessions[dname] = int(counts.sum())
    del all_users, order
    if job.out is not None:
        assert job.out_kind is not None
        raw_types = source.raw
        plan = _Plan(
            tmp, n_buckets, bucket_rows, total, unit, data_lines, source.early_bad, definitions,
            offsets, job.labels, raw_types,
        )  # fmt: skip
        _write(Path(job.out), job.out_kind, plan)
    return ShardResult(
        path=name,
        rows=total + len(source.early_bad),
        sessions=sessions,
        users=base,
        events=events,
        excluded=excluded,
        bad=bad,
        unit=unit,
        detected_epoch=detected,
        has_campaign=has_campaign,
        shards=n_shards,
        delimiter=source.delimiter,
    )


def _row_lines(source: StreamSource, total: int) -> np.ndarray | None:
    """Each row's line (None: rows are numbered 1, 2, ...), once the batches are read; a CSV's
    refused rows get their lines too (they are numbered by record until then)."""
    data_lines = source.lines()
    if source.early_records and data_lines is not None:
        if source.early_bad:  # record k (the header is 1) is the (k-1)-th non-empty line after the header
            records = np.array([b.line - 2 for b in source.early_bad], dtype=np.int64)
            if records.min() >= 0 and records.max() < len(data_lines):
                source.early_bad[:] = [
                    replace(b, line=int(data_lines[r]))
                    for b, r in zip(source.early_bad, records, strict=True)
                ]
                data_lines = np.delete(data_lines, records)
            else:  # the record count does not match the bytes (a stray quote): rows by order below
                data_lines = np.zeros(0, dtype=np.int64)
        if len(data_lines) != total:  # a stray quote: rows numbered by their order, as in memory
            data_lines = np.arange(2, total + 2, dtype=np.int64)
    return data_lines


def read_columns(
    path: str | Path, cols: LogColumns, *, progress: Callable[[str], None] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A CSV or JSON Lines file's users (as read), epoch-ms times and campaign names (``""`` = none),
    read in blocks: what :func:`~simulator.log.logfile.read_log` gives, without its whole-file peak.

    ``cols.epoch`` must be given (a unit told from the magnitude needs the whole column first).
    Bad rows fail with the in-memory reader's message; temporary files (line numbers) are removed.
    """
    if cols.epoch is None:
        raise ValueError("read_columns needs cols.epoch")
    name = str(path)
    src = resolve(name)[0]
    if src.kind not in ("csv", "jsonl"):
        raise ScenarioError(name, "", f"read in blocks from CSV or JSON Lines, not {src.kind}")
    say = progress or (lambda _msg: None)
    tmp = _temp_dir(None)
    try:
        source = csv_source(src, cols, tmp) if src.kind == "csv" else jsonl_source(src, cols, tmp)
        users: list[pa.Array] = []
        times: list[np.ndarray] = []
        campaigns: list[np.ndarray] = []
        bad_rows: list[tuple[int, str]] = []
        total = 0
        for batch in source.batches:
            table = pa.Table.from_batches([batch])
            n = table.num_rows
            row_no = np.arange(total, total + n, dtype=np.int64)
            ev = events_from_table(name, table, row_no, [], cols, unit=source.unit, skip_bad=True)
            bad_rows += [(b.line, b.reason) for b in ev.bad]
            users.append(ev.user)
            times.append(ev.ts.astype(np.int64))
            names = np.array([*ev.campaigns, ""], dtype=str)  # code -1 (none) -> the last, ""
            campaigns.append(names[ev.campaign] if ev.campaign is not None else np.full(len(ev.ts), "", str))
            total += n
            say(f"read {total:,} rows")
        data_lines = _row_lines(source, total)
        bad = [
            BadRow(int(data_lines[r]) if data_lines is not None else r + 1, why) for r, why in bad_rows
        ] + source.early_bad
        bad.sort(key=lambda b: b.line)
        if bad:
            raise ScenarioError(name, "", _bad_message(bad, source.unit))
    except OSError as err:
        raise ScenarioError(name, "", f"cannot spool to {tmp}: {err.strerror or err}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    user = np.concatenate(users) if users else np.zeros(0, str)
    ts = np.concatenate(times) if times else np.zeros(0, np.int64)
    campaign = np.concatenate(campaigns) if campaigns else np.zeros(0, str)
    return user, ts, campaign


def _open_source(job: _Job) -> StreamSource:
    if job.kind == "parquet":
        return _parquet_source(job.name, job.cols)
    reader = csv_source if job.kind == "csv" else jsonl_source
    return reader(job.src, job.cols, job.tmp, stdin=job.stdin)


def _read_shard(file: Path) -> pa.Table:
    with pa.memory_map(str(file)) as mm:
        table = pa.ipc.open_stream(mm).read_all()
    file.unlink()
    return table


def _shard_tables(tmp: Path, counts: np.ndarray, limit: int, user: str) -> Iterator[tuple[int, pa.Table]]:
    """Each shard's rows, read whole; a shard of more than ``limit`` rows and the quarter left for
    hash skew (a compressed log's size underestimated) is first split by more bits of the same hash,
    so a user still stays whole."""
    n_shards = len(counts)
    for s in range(n_shards):
        file = tmp / f"shard-{s:05d}.arrow"
        if not file.exists():
            continue
        if counts[s] <= limit * 5 // 4:
            yield s, _read_shard(file)
            continue
        k = math.ceil(counts[s] / limit)
        subs: list[Any] = [None] * k
        with pa.memory_map(str(file)) as mm:
            reader = pa.ipc.open_stream(mm)
            for batch in reader:
                part = (user_hash(batch.column(user)) // np.uint64(n_shards) % np.uint64(k)).astype(np.int64)
                for j in np.unique(part).tolist():
                    if subs[j] is None:
                        subs[j] = pa.ipc.new_stream(str(tmp / f"shard-{s:05d}-{j:05d}.arrow"), reader.schema)
                    subs[j].write_batch(batch.filter(pa.array(part == j)))
        file.unlink()
        for w in subs:
            if w is not None:
                w.close()
        for j in range(k):
            sub = tmp / f"shard-{s:05d}-{j:05d}.arrow"
            if sub.exists():
                yield s, _read_shard(sub)


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _output_batches(plan: _Plan) -> Iterator[pa.Table]:
    """The assignments table of :func:`~simulator.log.logfile.assignments_table`, bucket by bucket."""
    tmp, bucket_rows, total, unit, data_lines = (
        plan.tmp,
        plan.bucket_rows,
        plan.total,
        plan.unit,
        plan.data_lines,
    )
    definitions, offsets, raw_schema = plan.definitions, plan.offsets, plan.raw_schema
    names = cause_names(plan.labels)  # causes -2 and -1 count from the end
    pending = sorted(plan.early_bad, key=lambda b: b.line)
    taken = 0
    yielded = False
    for k in range(plan.n_buckets):
        file = tmp / f"bucket-{k:05d}.arrow"
        lo, hi = k * bucket_rows, min(total, (k + 1) * bucket_rows)
        if file.exists():
            with pa.memory_map(str(file)) as mm:
                part = pa.ipc.open_stream(mm).read_all()
            where = np.empty(hi - lo, dtype=np.int64)
            where[part.column("__row").to_numpy() - lo] = np.arange(part.num_rows, dtype=np.int64)
            part = part.take(pa.array(where))
        else:
            part = None
        rows = np.arange(lo, hi, dtype=np.int64)
        lines = data_lines[lo:hi].astype(np.int64) if data_lines is not None else rows + 1
        columns: dict[str, Any] = {unit: pa.array(lines, pa.int64())}
        if part is not None:
            columns["user_id"] = part.column("__user")
            columns["timestamp"] = part.column("__time")
            uid = part.column("__uid").to_numpy()
            good = uid >= 0
            for d in definitions:
                local = part.column(f"{d}.id").to_numpy()
                ids = np.where(good, local, 0)
                ids[good] += offsets[d][uid[good]]
                columns[f"{d}.session_id"] = pa.array(ids, pa.int64(), mask=~good)
                code = part.column(f"{d}.cause").to_numpy().astype(np.int32) % len(names)  # -1, -2: the end
                columns[f"{d}.split_cause"] = pa.DictionaryArray.from_arrays(
                    pa.array(code), pa.array(names, pa.string())
                )
        table = pa.table(columns)
        # rows the CSV reader refused, at their line, with nothing read
        last = k == plan.n_buckets - 1
        limit = int(lines[-1]) if len(lines) and not last else None
        upto = taken
        while upto < len(pending) and (limit is None or pending[upto].line < limit):
            upto += 1
        if upto > taken:
            table = _with_refused(table, pending[taken:upto], unit, raw_schema, definitions, names)
            taken = upto
        if table.num_rows or (last and not yielded):
            yielded = True
            yield _typed(table, raw_schema, definitions, names)


def _typed(table: pa.Table, raw_schema: pa.Schema, definitions: list[str], names: list[str]) -> pa.Table:
    """Every column, also in a bucket of refused rows only, or of an empty log."""
    if "user_id" in table.column_names:
        return table
    first = table.column_names[0]
    return _with_refused(table.slice(0, 0).select([0]), [], first, raw_schema, definitions, names)


def _with_refused(  # noqa: PLR0917 - the bucket's pieces
    table: pa.Table,
    refused: list[BadRow],
    unit: str,
    raw_schema: pa.Schema,
    definitions: list[str],
    names: list[str],
) -> pa.Table:
    n = len(refused)
    fill: dict[str, Any] = {unit: pa.array([b.line for b in refused], pa.int64())}
    fill["user_id"] = pa.nulls(n, raw_schema.field(0).type)
    fill["timestamp"] = pa.nulls(n, raw_schema.field(1).type)
    for d in definitions:
        fill[f"{d}.session_id"] = pa.nulls(n, pa.int64())
        fill[f"{d}.split_cause"] = pa.DictionaryArray.from_arrays(
            pa.array(np.full(n, len(names) - 1, dtype=np.int32)), pa.array(names, pa.string())
        )
    extra = pa.table(fill)
    if table.num_rows == 0 or "user_id" not in table.column_names:
        return extra
    both = pa.concat_tables([table, extra.cast(table.schema)])
    order = np.argsort(both.column(unit).to_numpy(), kind="stable")
    return both.take(pa.array(order))


def _write(out: Path, out_kind: str, plan: _Plan) -> None:
    if out_kind == "parquet":
        _write_parquet(out, _output_batches(plan))
    elif out_kind == "csv":
        _write_csv(out, lambda: _output_batches(plan))
    else:
        _write_jsonl(out, _output_batches(plan))


#: Rows per Parquet row group: ``pyarrow.parquet.write_table``'s default, so the files are the same.
ROW_GROUP = 1024 * 1024


def _write_parquet(out: Path, tables: Iterator[pa.Table]) -> None:
    import pyarrow.parquet as pq  # noqa: PLC0415 - loaded on use

    with atomic_path(out) as tmp:
        writer = None
        held: list[pa.Table] = []
        size = 0
        try:
            for table in tables:
                held.append(table)
                size += table.num_rows
                while size >= ROW_GROUP:
                    whole = pa.concat_tables(held)
                    group, rest = whole.slice(0, ROW_GROUP), whole.slice(ROW_GROUP)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, group.schema, **parquet_options(group.schema))
                    writer.write_table(group, row_group_size=ROW_GROUP)
                    held, size = [rest], rest.num_rows
            whole = pa.concat_tables(held) if held else None
            if writer is None:  # one row group or none: exactly what write_table writes
                if whole is None:
                    raise ScenarioError(str(out), "", "nothing to write")
                pq.write_table(whole, tmp, **parquet_options(whole.schema))
            elif whole is not None and whole.num_rows:
                writer.write_table(whole, row_group_size=ROW_GROUP)
        finally:
            if writer is not None:
                writer.close()


def _write_csv(out: Path, tables: Callable[[], Iterator[pa.Table]]) -> None:
    import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

    with atomic_path(out) as tmp:
        for style in ("none", "needed"):  # as write_assignments: quote only when a field needs it
            try:
                with open(tmp, "wb") as fh:
                    header_done = False
                    for table in tables():
                        if not header_done:
                            header = io.StringIO()
                            csv.writer(header).writerow(table.column_names)
                            fh.write(header.getvalue().encode())
                            header_done = True
                        pcsv.write_csv(
                            table, fh, pcsv.WriteOptions(include_header=False, quoting_style=style)
                        )
                break
            except pa.ArrowInvalid:
                continue


def _write_jsonl(out: Path, tables: Iterator[pa.Table]) -> None:
    with atomic_open(out) as fh:
        for table in tables:
            plain = pa.table(
                {
                    n: c if pa.types.is_integer(c.type) or pa.types.is_string(c.type) else c.cast(pa.string())
                    for n, c in zip(table.column_names, table.columns, strict=True)
                }
            )
            for batch in plain.to_batches(65_536):
                fh.write("".join(json.dumps(r) + "\n" for r in batch.to_pylist()))


_ = sys  # the CLI prints progress; this module only reports it through ``progress``

"""Writing event logs to disk, chunk by chunk: CSV, JSON Lines or Parquet, atomically.

Files carry every :data:`~simulator.log.events.COLUMNS` column; enum codes and campaign/page indices are
written as their names (``kind = "pageview"``, ``campaign = "brand-search"``, empty for none) so the
files read well anywhere, and a ``network`` column names each row's ad network. A writer writes to a
temporary file next to the target and renames it into place only when every chunk is written, so a
crash or Ctrl-C never leaves a half-written file under the target name. Parquet is written with
``pyarrow``, a core dependency, imported only when a Parquet file is written.
"""

from __future__ import annotations

import contextlib
import csv
import json
import queue
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np

from simulator.errors import SessionlabError
from simulator.log.atomic import atomic_path
from simulator.log.events import COLUMNS, Cause, Device, EventLog, Kind, Loss, Source

__all__ = ["FIELDS", "FORMATS", "OutputError", "arrow_table", "write_chunks"]

#: File suffix -> format name.
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".parquet": "parquet"}
_LABELS = {"kind": Kind, "cause": Cause, "source": Source, "loss": Loss, "device": Device}
#: Output columns in order: the EventLog columns, then the campaign's network.
FIELDS = (*COLUMNS, "network")


class OutputError(SessionlabError):
    """An output file cannot be written in the format asked for (unknown format, missing optional package)."""


def _labels(enum: type) -> np.ndarray:
    """Code -> name; codes no member has get a unique placeholder (a Parquet dictionary must not
    repeat a value, or its encoding depends on how the rows were chunked)."""
    top = max(int(m) for m in enum)
    out = np.array([f"unused_{i}" for i in range(top + 1)], dtype=object)
    for member in enum:
        out[int(member)] = member.name.lower()
    return out


def _named(log: EventLog) -> dict[str, np.ndarray]:
    """The chunk's columns with codes replaced by names (object arrays of str)."""
    cols: dict[str, np.ndarray] = dict(log.columns)
    for name, enum in _LABELS.items():
        cols[name] = _labels(enum)[cols[name]]
    campaigns = np.array([*log.campaigns, ""], dtype=object)
    networks = np.array([*log.meta.get("networks", ("",) * len(log.campaigns)), ""], dtype=object)
    cols["network"] = networks[cols["campaign"]]
    cols["campaign"] = campaigns[cols["campaign"]]
    cols["page"] = np.array([*log.pages, ""], dtype=object)[cols["page"]]
    return cols


def _write_csv(handle: IO[str], chunks: Iterable[EventLog]) -> int:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(FIELDS)
    rows = 0
    for log in chunks:
        cols = _named(log)
        writer.writerows(zip(*(cols[f].tolist() for f in FIELDS), strict=True))
        rows += len(log)
    return rows


def _write_jsonl(handle: IO[str], chunks: Iterable[EventLog]) -> int:
    rows = 0
    for log in chunks:
        cols = _named(log)
        values = [cols[f].tolist() for f in FIELDS]
        handle.writelines(
            json.dumps(dict(zip(FIELDS, row, strict=True)), separators=(",", ":")) + "\n"
            for row in zip(*values, strict=True)
        )
        rows += len(log)
    return rows


def _pyarrow() -> Any:
    try:
        import pyarrow as pa  # noqa: PLC0415 - imported only when Parquet is written
        import pyarrow.parquet as pq  # noqa: PLC0415
    except ImportError:
        raise OutputError(
            "writing Parquet needs pyarrow, a dependency of sessionlab that is missing: pip install pyarrow "
            "(or write .csv / .jsonl)"
        ) from None
    return pa, pq


#: Rows per Parquet row group: fixed, so the file's bytes do not depend on the chunk size.
ROW_GROUP = 262_144
#: Chunks waiting for the writer thread (each is one chunk of the simulation: memory stays bounded).
QUEUE_CHUNKS = 2
#: Columns written as Arrow dictionaries of names (Parquet dictionary encoding); no statistics for them.
NAMED = (*_LABELS, "campaign", "page", "network")
#: Numeric columns written delta-encoded: sorted or nearly sorted ids and times (smaller, and cheaper
#: to encode than a dictionary that overflows).
DELTA = ("user", "person", "ts")


def _buffer(pa: Any, array: np.ndarray) -> Any:
    return pa.py_buffer(np.ascontiguousarray(array))


def _plain(pa: Any, values: np.ndarray) -> Any:
    """A numeric or boolean numpy column as an Arrow array, built from its buffers.

    ``pa.array(numpy)`` would import pandas (0.4 s) to check the input's type; the buffers say it all.
    """
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, _buffer(pa, bits)])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, _buffer(pa, values)])


def _strings(pa: Any, names: list[str]) -> Any:
    encoded = [n.encode("utf-8") for n in names]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    data = pa.py_buffer(b"".join(encoded))
    return pa.Array.from_buffers(pa.string(), len(names), [None, _buffer(pa, offsets), data])


class _Arrow:
    """Turns column dicts into Arrow tables with fixed dictionaries (the same for every row group)."""

    def __init__(self, pa: Any, log: EventLog) -> None:
        self.pa = pa
        networks = list(log.meta.get("networks", ("",) * len(log.campaigns)))
        names = {f: [str(x) for x in _labels(enum)] for f, enum in _LABELS.items()}
        names.update(campaign=list(log.campaigns), network=networks, page=list(log.pages))
        # Each dictionary holds each name once ("" for none, unused codes and campaigns without a
        # network): a dictionary with repeated values (one network per campaign) made Parquet give up
        # dictionary encoding and write the strings plain (2.5 MB per row group to compress, for
        # `network`). ``index[f][code]`` is a code's entry; code -1 (none) reads the last item: "".
        self.names, self.index = {}, {}
        for f, n in names.items():
            unique = list(dict.fromkeys([*n, ""]))
            self.names[f] = _strings(pa, unique)
            self.index[f] = np.array([unique.index(x) for x in [*n, ""]], dtype=np.int32)

    def table(self, cols: dict[str, np.ndarray]) -> Any:
        pa, arrays = self.pa, []
        for f in FIELDS:
            if f in self.names:
                index = self.index[f][cols["campaign" if f == "network" else f]]
                arrays.append(pa.DictionaryArray.from_arrays(_plain(pa, index), self.names[f]))
            else:
                arrays.append(_plain(pa, cols[f]))
        return pa.Table.from_arrays(arrays, names=list(FIELDS))


class _ParquetSink:
    """Cuts incoming chunks into row groups of exactly :data:`ROW_GROUP` rows and writes them."""

    def __init__(self, pa: Any, pq: Any, path: str) -> None:
        self.pa, self.pq, self.path = pa, pq, path
        self.arrow: _Arrow | None = None
        self.writer: Any = None
        self.pending: list[dict[str, np.ndarray]] = []
        self.rows = 0

    def add(self, log: EventLog) -> None:
        if self.arrow is None:
            self.arrow = _Arrow(self.pa, log)
        if len(log):
            self.pending.append(log.columns)
            self.rows += len(log)
        while self.rows >= ROW_GROUP:
            self._flush(ROW_GROUP)

    def _flush(self, n: int) -> None:
        """Write the first ``n`` pending rows as one row group (copying only the pieces it takes)."""
        taken, need = [], n
        while need:
            cols = self.pending[0]
            size = len(cols["ts"])
            if size <= need:
                taken.append(self.pending.pop(0))
                need -= size
            else:  # the rest of this chunk stays pending, as views (no copy)
                taken.append({k: v[:need] for k, v in cols.items()})
                self.pending[0] = {k: v[need:] for k, v in cols.items()}
                need = 0
        self.rows -= n
        # one contiguous array per column: the file's pages do not depend on where the chunks were cut
        group = taken[0] if len(taken) == 1 else {k: np.concatenate([c[k] for c in taken]) for k in taken[0]}
        self._write(self.arrow.table(group))

    def _write(self, table: Any) -> None:
        if self.writer is None:
            self.writer = self.pq.ParquetWriter(
                self.path,
                table.schema,
                compression="zstd",
                use_dictionary=list(NAMED),
                write_statistics=[f for f in FIELDS if f not in NAMED],
                column_encoding=dict.fromkeys(DELTA, "DELTA_BINARY_PACKED"),
            )
        self.writer.write_table(table, row_group_size=ROW_GROUP)

    def finish(self) -> None:
        if self.rows:
            self._flush(self.rows)
        if self.writer is None:  # no rows at all: still a valid, empty file with the real schema
            if self.arrow is None:
                empty = self.pa.table({f: self.pa.array([], type=self.pa.string()) for f in FIELDS})
            else:
                zeros = {name: np.zeros(0, dtype=dtype) for name, dtype in COLUMNS.items()}
                empty = self.arrow.table(zeros)
            self._write(empty)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


_END = object()


def arrow_table(log: EventLog) -> Any:
    """The rows of ``log`` exactly as :func:`write_chunks` writes them to Parquet (a ``pyarrow.Table``)."""
    pa, _ = _pyarrow()
    return _Arrow(pa, log).table(log.columns)


def _write_parquet(path: str, chunks: Iterable[EventLog]) -> int:
    """Simulate (this thread) and encode + write (a writer thread) at the same time.

    pyarrow releases the GIL while it encodes and compresses, so the writer thread runs on another
    core while this one simulates the next chunk. At most :data:`QUEUE_CHUNKS` chunks wait, so memory
    stays flat. An error or Ctrl-C on either side stops both; the file is closed before it is removed.
    """
    pa, pq = _pyarrow()
    sink = _ParquetSink(pa, pq, path)
    todo: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    failed: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        try:
            while (item := todo.get()) is not _END and not stop.is_set():
                sink.add(item)
            if not stop.is_set():
                sink.finish()
        except BaseException as err:  # handed to the simulating thread, which raises it
            failed.append(err)
            stop.set()
        finally:
            sink.close()

    thread = threading.Thread(target=work, name="sessionlab-parquet-writer", daemon=True)
    thread.start()
    rows = 0
    try:
        for log in chunks:
            rows += len(log)
            if not _put(todo, log, stop):
                break
        _put(todo, _END, stop)
    except BaseException:
        stop.set()
        _wake(todo)
        raise
    finally:
        thread.join()
    if failed:
        raise failed[0]
    return rows


def _put(todo: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Queue ``item`` for the writer, waiting for room; False if the writer stopped meanwhile."""
    while not stop.is_set():
        with contextlib.suppress(queue.Full):
            todo.put(item, timeout=0.05)
            return True
    _wake(todo)
    return False


def _wake(todo: queue.Queue) -> None:
    """After a stop: drop what waits and hand the writer the end mark, so it never blocks in ``get``."""
    while True:
        with contextlib.suppress(queue.Full):
            todo.put_nowait(_END)
            return
        with contextlib.suppress(queue.Empty):
            todo.get_nowait()


def write_chunks(chunks: Iterable[EventLog], out: str | Path) -> int:
    """Write the chunks to ``out`` (format from its suffix), atomically; return the number of rows.

    Raises
    ------
    OutputError
        For an unknown suffix or a missing optional package.
    ScenarioError
        When the file cannot be written (missing directory, permission denied, ...).
    """
    target = Path(out)
    fmt = FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise OutputError(f"{out}: unknown output format {target.suffix!r}; use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        _pyarrow()  # fail before simulating anything
    with atomic_path(target) as tmp:
        if fmt == "parquet":
            rows = _write_parquet(str(tmp), chunks)
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                rows = (_write_csv if fmt == "csv" else _write_jsonl)(handle, chunks)
    return rows

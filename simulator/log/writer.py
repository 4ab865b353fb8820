"""Writing event logs to disk, chunk by chunk: CSV, JSON Lines or Parquet, atomically.

Files carry every :data:`~simulator.log.events.COLUMNS` column; enum codes and campaign/page indices are
written as their names (``kind = "pageview"``, ``campaign = "brand-search"``, empty for none) so the
files read well anywhere, and a ``network`` column names each row's ad network. A writer writes to a
temporary file next to the target and renames it into place only when every chunk is written, so a
crash or Ctrl-C never leaves a half-written file under the target name. Parquet is written with
``pyarrow``, a core dependency, imported only when a Parquet file is written.
"""

from __future__ import annotations

import csv
import json
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
    top = max(int(m) for m in enum)
    out = np.array([""] * (top + 1), dtype=object)
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


def _arrow_table(pa: Any, log: EventLog) -> Any:
    """The chunk as an Arrow table: names as dictionary arrays over fixed dictionaries (no Python objects)."""
    cols = log.columns

    def named(codes: np.ndarray, names: list[str]) -> Any:
        index = np.where(codes < 0, len(names), codes).astype(np.int32)  # -1 (none) -> ""
        return pa.DictionaryArray.from_arrays(pa.array(index), pa.array([*names, ""], type=pa.string()))

    networks = list(log.meta.get("networks", ("",) * len(log.campaigns)))
    arrays = {}
    for f in FIELDS:
        if f in _LABELS:
            arrays[f] = named(cols[f].astype(np.int32), [str(x) for x in _labels(_LABELS[f])])
        elif f == "campaign":
            arrays[f] = named(cols[f], list(log.campaigns))
        elif f == "network":
            arrays[f] = named(cols["campaign"], networks)
        elif f == "page":
            arrays[f] = named(cols[f], list(log.pages))
        else:
            arrays[f] = pa.array(cols[f])
    return pa.table(arrays)


def arrow_table(log: EventLog) -> Any:
    """The rows of ``log`` exactly as :func:`write_chunks` writes them to Parquet (a ``pyarrow.Table``)."""
    pa, _ = _pyarrow()
    return _arrow_table(pa, log)


def _write_parquet(path: str, chunks: Iterable[EventLog]) -> int:
    pa, pq = _pyarrow()
    writer, rows, pending = None, 0, []

    def flush(tables: list, final: bool) -> list:
        nonlocal writer
        table = pa.concat_tables(tables).combine_chunks() if tables else None
        while table is not None and (table.num_rows >= ROW_GROUP or (final and table.num_rows)):
            group, table = table.slice(0, ROW_GROUP), table.slice(ROW_GROUP)
            if writer is None:
                writer = pq.ParquetWriter(path, group.schema, compression="zstd")
            writer.write_table(group, row_group_size=ROW_GROUP)
        return [table] if table is not None and table.num_rows else []

    try:
        for log in chunks:
            pending.append(_arrow_table(pa, log))
            rows += len(log)
            if sum(t.num_rows for t in pending) >= ROW_GROUP:
                pending = flush(pending, final=False)
        flush(pending, final=True)
        if writer is None:  # no rows at all: still a valid, empty file
            pq.write_table(pa.table({f: pa.array([], type=pa.string()) for f in FIELDS}), path)
    finally:
        if writer is not None:
            writer.close()
    return rows


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

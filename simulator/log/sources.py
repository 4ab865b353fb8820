"""Where an event log comes from: a file (plain or compressed), standard input, a directory or a glob.

:func:`resolve` turns what the user typed into :class:`SourceFile` records (format, compression, Hive
partition values); :func:`open_batches` streams any of them as Arrow record batches, the building block
of readers that do not hold a whole log in memory; :func:`sniff_delimiter` tells a CSV's delimiter from
its first lines. Whole-table reading with line numbers and bad rows lives in
:mod:`simulator.log.logfile`, on top of these.

- Formats by extension: CSV (``.csv``, ``.tsv``), JSON Lines (``.jsonl``, ``.ndjson``, ``.json``),
  Parquet (``.parquet``, ``.pq``), Arrow IPC / Feather (``.arrow``, ``.feather``, ``.ipc``, ``.arrows``;
  file or stream format, told from the bytes).
- Compression by a last extension ``.gz``, ``.zst``/``.zstd`` or ``.bz2`` (decompressed by pyarrow's
  ``CompressedInputStream``); standard input is recognised by its first bytes instead.
- A directory is read recursively, in sorted path order, skipping hidden files and names that start
  with ``_`` (``_SUCCESS``, ``_metadata``) as Spark, Hive and pyarrow.dataset do; ``key=value``
  directories (Hive partitioning, https://arrow.apache.org/docs/python/dataset.html#partitioning) add
  a text column ``key`` per file (``__HIVE_DEFAULT_PARTITION__`` = null).
"""

from __future__ import annotations

import csv
import glob
import io
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import pyarrow as pa

from simulator.errors import ScenarioError

__all__ = [
    "COMPRESSIONS",
    "DELIMITERS",
    "FORMATS",
    "STDIN",
    "PrefixedReader",
    "SourceFile",
    "decompressed_size_over",
    "open_batches",
    "open_stream",
    "parse_delimiter",
    "resolve",
    "sniff_delimiter",
    "stdin_codec",
]

#: File formats by name, and the extensions that select them.
FORMATS: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".tsv"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
    "parquet": (".parquet", ".pq"),
    "arrow": (".arrow", ".feather", ".ipc", ".arrows"),
}
#: Compression extensions and pyarrow's codec names.
COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2"}
#: First bytes of each compressed stream (for standard input, which has no name).
_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
#: Delimiters a CSV's header is tried with when ``--delimiter`` is not given.
DELIMITERS = (",", "\t", ";", "|")
#: The name standard input goes by in messages.
STDIN = "<stdin>"
_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


def _fail(path: str, message: str) -> ScenarioError:
    return ScenarioError(path, "", message)


@dataclass(frozen=True)
class SourceFile:
    """One input file: its name in messages, format, compression and Hive partition values."""

    name: str
    kind: str
    compression: str | None = None
    path: str | None = None  # None: the bytes are in ``data`` (standard input)
    data: bytes | None = field(default=None, repr=False)
    partitions: tuple[tuple[str, str | None], ...] = ()

    @property
    def plain(self) -> bool:
        """An uncompressed file on disk (readers may then use its path directly)."""
        return self.path is not None and self.compression is None

    def open(self) -> pa.NativeFile:
        """The decompressed bytes as a stream."""
        if self.path is None:
            return pa.BufferReader(self.data or b"")
        return pa.input_stream(self.path, compression=self.compression)

    def read(self) -> pa.Buffer:
        """The decompressed bytes, whole."""
        if self.path is None:
            return pa.py_buffer(self.data or b"")
        if self.compression is None:
            with open(self.path, "rb") as fh:
                return pa.py_buffer(fh.read())
        with self.open() as stream:
            return stream.read_buffer()

    def random_access(self) -> str | pa.BufferReader:
        """What Parquet and Arrow IPC file readers need: the path, or the bytes in memory."""
        return self.path if self.plain and self.path else pa.BufferReader(self.read())

    def binary(self) -> IO[bytes]:
        """A Python binary file object over the decompressed bytes."""
        if self.plain and self.path:
            return open(self.path, "rb")
        return io.BytesIO(self.read().to_pybytes())


def _split_suffixes(name: str) -> tuple[str, str | None]:
    """(format extension, codec) of a file name: ``a.csv.gz`` -> (``.csv``, ``gzip``)."""
    p = Path(name)
    codec = COMPRESSIONS.get(p.suffix.lower())
    if codec:
        p = p.with_suffix("")
    return p.suffix.lower(), codec


def kind_of(name: str) -> str | None:
    """The format a file name's extension implies (compression extensions looked through), or None."""
    suffix, _ = _split_suffixes(name)
    for kind, extensions in FORMATS.items():
        if suffix in extensions:
            return kind
    return None


def _check_kind(name: str, fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise _fail(name, f"unknown input format {fmt!r}; use one of {', '.join(FORMATS)}")


def _one(path: str, fmt: str | None, root: Path | None) -> SourceFile:
    kind = fmt or kind_of(path)
    if kind is None:
        suffix, _ = _split_suffixes(path)
        raise _fail(
            path,
            f"cannot tell the format from {suffix or 'no extension'!r}; pass --format {'|'.join(FORMATS)}",
        )
    _, codec = _split_suffixes(path)
    if codec and not pa.Codec.is_available(codec):
        raise _fail(path, f"this pyarrow cannot decompress {codec}")
    parts: list[tuple[str, str | None]] = []
    if root is not None:
        for segment in Path(path).relative_to(root).parts[:-1]:
            key, eq, value = segment.partition("=")
            if eq and key:
                text = unquote(value)
                parts.append((unquote(key), None if text == _HIVE_NULL else text))
    return SourceFile(path, kind, codec, path=path, partitions=tuple(parts))


def _visible(path: Path, root: Path) -> bool:
    return not any(p.startswith((".", "_")) for p in path.relative_to(root).parts)


def _glob_root(pattern: str) -> Path:
    parts = Path(pattern).parts
    fixed = list(parts[: next(i for i, p in enumerate(parts) if glob.has_magic(p))])
    return Path(*fixed) if fixed else Path()


def _consistent(files: list[SourceFile]) -> list[SourceFile]:
    """One format and one partitioning across the files, and no file twice."""
    first = files[0]
    seen: set[str] = set()
    for f in files:
        key = str(Path(f.name).resolve()) if f.path else f.name
        if key in seen:
            raise _fail(f.name, "is given twice: its rows would count twice")
        seen.add(key)
        if f.kind != first.kind:
            raise _fail(f.name, f"is {f.kind} but {first.name} is {first.kind}: a log is one format")
        if [k for k, _ in f.partitions] != [k for k, _ in first.partitions]:
            raise _fail(
                f.name,
                f"partitioned by {[k for k, _ in f.partitions] or 'nothing'}, but {first.name} by "
                f"{[k for k, _ in first.partitions] or 'nothing'}",
            )
    return files


def _resolve_many(paths: Sequence[str | Path], fmt: str | None) -> list[SourceFile]:
    """Several paths (as a shell expands ``logs/*.csv``): files in the order given, directories expanded.
    Partitions of the plain files are read below their common directory."""
    names = [str(p) for p in paths]
    if "-" in names:
        raise _fail("-", "standard input cannot be combined with files")
    plain = [n for n in names if Path(n).is_file()]
    root = Path(os.path.commonpath([str(Path(n).resolve().parent) for n in plain])) if plain else None
    files: list[SourceFile] = []
    for n in names:
        if n in plain:
            _check_kind(n, fmt)
            files.append(_one(n, fmt, None))
            if root is not None:
                rel = _one(str(Path(n).resolve()), fmt, root)
                files[-1] = SourceFile(n, rel.kind, rel.compression, path=n, partitions=rel.partitions)
        else:
            files += resolve(n, fmt)
    return _consistent(files)


def resolve(
    path: str | Path | Sequence[str | Path], fmt: str | None = None, *, stdin: IO[bytes] | None = None
) -> list[SourceFile]:
    """The files ``path`` names: ``-`` (standard input, CSV unless ``fmt``), a file, a directory, a glob,
    or a list of these (their files in the order given).

    Raises
    ------
    ScenarioError
        When nothing is found, a format cannot be told, or a directory mixes formats or partitionings.
    """
    if isinstance(path, list | tuple):
        if not path:
            raise _fail("sessionize", "no input given")
        return resolve(path[0], fmt, stdin=stdin) if len(path) == 1 else _resolve_many(path, fmt)
    name = str(path)
    _check_kind(name, fmt)
    if name == "-":
        data = (stdin or sys.stdin.buffer).read()
        codec = next((c for magic, c in _MAGIC.items() if data.startswith(magic)), None)
        if codec:
            try:
                data = pa.input_stream(pa.BufferReader(data), compression=codec).read()
            except (OSError, pa.ArrowInvalid) as err:
                raise _fail(STDIN, f"cannot decompress {codec}: {err}") from None
        return [SourceFile(STDIN, fmt or "csv", None, data=data)]
    target = Path(name)
    if target.is_file():
        return [_one(name, fmt, None)]
    if target.is_dir():
        root, found = target, sorted(p for p in target.rglob("*") if p.is_file() and _visible(p, target))
        what = f"directory {name}"
    elif glob.has_magic(name):
        root = _glob_root(name)
        found = sorted(Path(p) for p in glob.glob(name, recursive=True) if Path(p).is_file())
        what = f"pattern {name}"
    else:
        raise _fail(name, "no such file or directory")
    if fmt is None:
        found = [p for p in found if kind_of(str(p))]
    if not found:
        extensions = ", ".join(e for exts in FORMATS.values() for e in exts)
        raise _fail(name, f"no event files in {what} (looked for {extensions}, optionally .gz/.zst/.bz2)")
    return _consistent([_one(str(p), fmt, root) for p in found])


def parse_delimiter(text: str) -> str:
    r"""``--delimiter`` as typed: one character, or ``\t`` / ``tab``; else a :class:`ValueError`."""
    named = {"\\t": "\t", "tab": "\t", "\\x09": "\t"}
    value = named.get(text.lower(), text)
    if len(value) != 1 or value in '\r\n"':
        raise ValueError(
            f"--delimiter must be one character (like , ; | or \\t), not a quote or line break; got {text!r}"
        )
    return value


def _lines(head: bytes) -> list[str]:
    text = head.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[:-1] if len(lines) > 1 and not text.endswith(("\n", "\r")) else lines  # last may be cut


def sniff_delimiter(head: bytes, name: str) -> str:
    """The delimiter of a CSV from its first bytes: the one candidate of :data:`DELIMITERS` that splits the
    header into several fields; when several do, the one that splits the first 20 lines alike.

    A header of one field is read with ``,``. Refused (naming ``--delimiter``) when still ambiguous.
    """
    lines = _lines(head)
    if not lines:
        return ","
    splits = [d for d in DELIMITERS if len(next(csv.reader([lines[0]], delimiter=d))) > 1]
    if len(splits) <= 1:
        return splits[0] if splits else ","
    sample = lines[:21]
    steady = [
        d
        for d in splits
        if len({len(r) for r in csv.reader(io.StringIO("\n".join(sample)), delimiter=d)}) == 1
    ]
    if len(steady) == 1:
        return steady[0]
    shown = ", ".join(repr(d) for d in (steady or splits))
    raise _fail(name, f"cannot tell the delimiter: the header splits on {shown}; pass --delimiter")


def _partition_columns(src: SourceFile, n: int) -> dict[str, pa.Array]:
    return {key: pa.repeat(pa.scalar(value, pa.string()), n) for key, value in src.partitions}


def with_partitions(src: SourceFile, table: pa.Table) -> pa.Table:
    """``table`` with the file's Hive partition values appended as text columns."""
    for key, column in _partition_columns(src, table.num_rows).items():
        if key in table.column_names:
            raise _fail(src.name, f"column {key!r} is also a partition directory ({key}=...)")
        table = table.append_column(key, column)
    return table


def _csv_batches(
    src: SourceFile, delimiter: str | None, columns: Sequence[str] | None
) -> Iterator[pa.RecordBatch]:
    import pyarrow.csv as pcsv  # noqa: PLC0415 - loaded on use

    with src.open() as stream:
        head = stream.read(1 << 16)
    d = delimiter or sniff_delimiter(head, src.name)
    header = next(csv.reader([_lines(head)[0] if _lines(head) else ""], delimiter=d), [])
    reader = pcsv.open_csv(
        src.open(),
        read_options=pcsv.ReadOptions(use_threads=False, encoding="utf8"),
        parse_options=pcsv.ParseOptions(delimiter=d, newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            include_columns=list(columns) if columns else None,
        ),
    )
    yield from reader


def _file_batches(
    src: SourceFile, delimiter: str | None, columns: Sequence[str] | None
) -> Iterator[pa.RecordBatch]:
    cols = list(columns) if columns else None
    if src.kind == "csv":
        yield from _csv_batches(src, delimiter, cols)
    elif src.kind == "jsonl":
        import pyarrow.json as pjson  # noqa: PLC0415

        for batch in pjson.open_json(src.open()):
            yield batch.select(cols) if cols else batch
    elif src.kind == "parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415

        yield from pq.ParquetFile(src.random_access()).iter_batches(columns=cols)
    else:
        for batch in open_ipc(src):
            yield batch.select(cols) if cols else batch


def open_ipc(src: SourceFile) -> Any:
    """An Arrow IPC source as an iterable of record batches: the file format (Feather v2), else the stream."""
    try:
        reader = pa.ipc.open_file(src.random_access())
        return (reader.get_batch(i) for i in range(reader.num_record_batches))
    except pa.ArrowInvalid:
        return iter(pa.ipc.open_stream(src.open()))


def open_batches(
    path: str | Path,
    *,
    fmt: str | None = None,
    delimiter: str | None = None,
    columns: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[tuple[SourceFile, pa.RecordBatch]]:
    """Every record batch of every file ``path`` names, with its file, in order, streaming.

    CSV columns are text (user ids stay as written; empty is ``""``, as in :func:`read_log`);
    ``columns`` selects file columns (partition columns are always appended). A CSV row with the wrong
    number of fields is an error here (the whole-table reader makes it a bad row). Batches of one file
    share a schema; files may differ (the caller checks). pyarrow's errors become
    :class:`ScenarioError` naming the file.
    """
    for src in resolve(path, fmt, stdin=stdin):
        try:
            for batch in _file_batches(src, delimiter, columns):
                extra = _partition_columns(src, batch.num_rows)
                names = [*batch.schema.names, *extra]
                yield src, pa.RecordBatch.from_arrays([*batch.columns, *extra.values()], names=names)
        except (OSError, pa.ArrowInvalid, KeyError) as err:
            raise _fail(src.name, f"cannot read {src.kind}: {err}") from None


# ---- streams that are read once (the out-of-core path: nothing held whole) -----------------------


class PrefixedReader(io.RawIOBase):
    """A binary stream that serves ``head`` (bytes already read from ``rest``) and then ``rest``.

    With ``record=True`` it keeps a copy of every byte it served (:attr:`served`), so a caller that
    peeked into standard input can hand the same bytes on. pyarrow reads it through ``PythonFile``.
    """

    def __init__(self, head: bytes, rest: IO[bytes] | None, *, record: bool = False) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest
        self._record = bytearray() if record else None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head.nbytes:
            n = min(len(view), self._head.nbytes)
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        elif self._rest is not None:
            data = self._rest.read(len(view))
            n = len(data or b"")
            view[:n] = data or b""
        else:
            n = 0
        if self._record is not None:
            self._record += view[:n]
        return n

    @property
    def served(self) -> bytes:
        """Every byte served so far (with ``record=True``)."""
        return bytes(self._record or b"")


def stdin_codec(raw: IO[bytes]) -> tuple[bytes, str | None]:
    """The first bytes of ``raw`` (read to tell a compressed stream) and its codec, or None."""
    head = b""
    longest = max(len(m) for m in _MAGIC)
    while len(head) < longest:  # a pipe may deliver fewer bytes than asked
        more = raw.read(longest - len(head))
        if not more:
            break
        head += more
    return head, next((c for magic, c in _MAGIC.items() if head.startswith(magic)), None)


def open_stream(src: SourceFile | None, stdin: IO[bytes] | None = None) -> pa.NativeFile:
    """The decompressed bytes of a file, or of standard input (``src`` None: ``stdin``, by default
    ``sys.stdin.buffer``, told compressed by its first bytes), as a stream read once, in order.

    Unlike :func:`resolve` for ``-``, standard input is not read whole."""
    if src is not None:
        return src.open()
    raw = stdin or sys.stdin.buffer
    head, codec = stdin_codec(raw)
    stream = pa.PythonFile(PrefixedReader(head, raw), mode="r")
    return pa.CompressedInputStream(stream, codec) if codec else stream


def decompressed_size_over(src: SourceFile, limit: int) -> bool:
    """Whether ``src`` holds more than ``limit`` bytes once decompressed (read up to ``limit + 1``)."""
    if src.compression is None and src.path is not None:
        return os.path.getsize(src.path) > limit
    seen = 0
    with src.open() as stream:
        while seen <= limit:
            chunk = stream.read(min(16 << 20, limit + 1 - seen))
            if not chunk:
                return False
            seen += len(chunk)
    return True

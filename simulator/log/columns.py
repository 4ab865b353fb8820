"""Per-event columns that some session rules read: gaps, new-session flags and event names.

One place turns what a caller or a log file holds into the arrays the kernels take
(:class:`simulator.sessions.kernels.Columns`): a gap per event in integer milliseconds (``-1`` where
the event has none), a boolean flag per event, event names as strings. Values that cannot be read
raise :class:`ColumnValueError` naming the row and the value; nothing is guessed or dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.schema import MAX_DURATION_MS, parse_duration, shorten

__all__ = ["FLAG_FALSE", "FLAG_TRUE", "ColumnValueError", "event_names", "flags", "gaps_ms"]

#: Text values of a flag (case-insensitive, surrounding blanks ignored); an empty value is not set.
FLAG_TRUE = ("1", "true", "yes")
FLAG_FALSE = ("0", "false", "no", "")


class ColumnValueError(ValueError):
    """A value of a per-event column that cannot be read: ``row`` (0-based) and the value."""

    def __init__(self, column: str, row: int, value: object, allowed: str, what: str = "unreadable") -> None:
        self.column, self.row, self.value = column, row, value
        self.reason = f"{what} {column} {shorten(value)} (expected {allowed})"
        super().__init__(f"{what} {column} at row {row}: {shorten(value)} (expected {allowed})")


_GAP_ALLOWED = "milliseconds as an integer, a duration like '30m', or empty for none"
_FLAG_ALLOWED = "1/0, true/false, yes/no, or empty"


def _arrow(values: Any) -> Any:
    import pyarrow as pa  # noqa: PLC0415 - loaded on use

    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks else pa.array([], values.type)
    if isinstance(values, pa.Array):
        return values
    if hasattr(values, "__arrow_c_stream__"):
        return _arrow(pa.chunked_array(values))
    if hasattr(values, "__arrow_c_array__") or type(values).__name__ == "Series":
        return pa.array(values)
    arr = np.asarray(values)
    if arr.dtype == object:
        return pa.array(arr.tolist(), from_pandas=True)
    return pa.array(arr)


def gaps_ms(values: Any) -> np.ndarray:
    """int64 milliseconds per event (``-1`` where null or empty) from integers (ms), duration strings
    (``"30m"``, ``"1h30m"``), or Arrow/NumPy durations. Negative or unreadable values raise."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    arr = _arrow(values)
    if pa.types.is_duration(arr.type):
        per_ms = {"s": None, "ms": 1, "us": 1000, "ns": 1_000_000}[arr.type.unit]
        raw = arr.cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False)
        out = np.where(raw < 0, raw, raw * 1000 if per_ms is None else raw // per_ms)
        nulls = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    elif pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
        nulls = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        out = arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    elif (
        pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_dictionary(arr.type)
    ):
        text = pc.utf8_trim_whitespace(arr.cast(pa.string()))
        text = pc.if_else(pc.equal(text, ""), None, text)
        nulls = np.asarray(text.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        encoded = text.dictionary_encode()
        table = np.empty(len(encoded.dictionary), dtype=np.int64)
        for k, word in enumerate(encoded.dictionary.to_pylist()):
            try:
                table[k] = int(word) if word.lstrip("-").isdigit() else parse_duration(word)
            except ValueError:
                row = int(
                    np.flatnonzero(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False) == k)[0]
                )
                raise ColumnValueError("gap", row, word, _GAP_ALLOWED) from None
        codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
        out = table[codes] if len(table) else np.zeros(len(codes), dtype=np.int64)
    else:
        row = 0
        raise ColumnValueError("gap", row, arr[0].as_py() if len(arr) else None, _GAP_ALLOWED)
    out = np.asarray(out, dtype=np.int64).copy()
    bad = np.flatnonzero(~nulls & ((out < 0) | (out > MAX_DURATION_MS)))
    if len(bad):
        row = int(bad[0])
        what = "negative" if out[row] < 0 else "too long a"
        allowed = "milliseconds, zero or more, at most ten years"
        raise ColumnValueError("gap", row, int(out[row]), allowed, what)
    out[nulls] = -1
    return out


def flags(values: Any) -> np.ndarray:
    """bool per event from booleans, integers (0/1) or text (:data:`FLAG_TRUE`, :data:`FLAG_FALSE`)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    arr = _arrow(values)
    if pa.types.is_boolean(arr.type):
        return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_integer(arr.type) or pa.types.is_null(arr.type):
        ints = arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero((ints != 0) & (ints != 1))
        if len(bad):
            raise ColumnValueError("flag", int(bad[0]), int(ints[bad[0]]), _FLAG_ALLOWED)
        return ints == 1
    if not (
        pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_dictionary(arr.type)
    ):
        raise ColumnValueError("flag", 0, arr[0].as_py() if len(arr) else None, _FLAG_ALLOWED)
    text = pc.utf8_lower(pc.utf8_trim_whitespace(arr.cast(pa.string()))).fill_null("")
    true = np.asarray(pc.is_in(text, pa.array(FLAG_TRUE)).to_numpy(zero_copy_only=False), dtype=bool)
    false = np.asarray(pc.is_in(text, pa.array(FLAG_FALSE)).to_numpy(zero_copy_only=False), dtype=bool)
    bad = np.flatnonzero(~true & ~false)
    if len(bad):
        raise ColumnValueError("flag", int(bad[0]), arr[int(bad[0])].as_py(), _FLAG_ALLOWED)
    return true


def event_names(values: Any) -> np.ndarray:
    """Event names as an object array of str (``""`` where null), compared by the session-event rule."""
    import pyarrow as pa  # noqa: PLC0415

    arr = _arrow(values)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    return np.asarray(arr.fill_null("").to_numpy(zero_copy_only=False), dtype=object)

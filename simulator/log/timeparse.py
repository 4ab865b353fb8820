"""Timestamps of real logs as whole arrays: ISO-8601 strings, epoch numbers, Arrow timestamp columns.

Every form becomes int64 epoch milliseconds (floored) plus the nanoseconds within that millisecond, so
fractions down to the nanosecond are kept exactly and years 1 to 9999 fit. Forms read as arrays:

* ISO-8601 ``YYYY-MM-DD[T| ]hh:mm[:ss[.f{1,9}]]`` then ``Z``, `` UTC`` (BigQuery CSV) or ``±hh[:mm]``;
* a naive time (no offset) only with ``input_tz``, DST gaps and folds resolved by ``ambiguous``
  (``"earliest"``, ``"latest"`` or ``"error"``: a bad row) -- never a silent shift;
* epoch numbers (``s``, ``ms``, ``us``, ``ns``), integer or decimal; Arrow timestamps of any unit.

Values no vector pattern matches go through the exact per-value reader (``_scalar``), which either
reads them (``1e3``, ``2024-05-01T10:00:00+02:00:30``) or gives the reason they are bad.
"""

# ruff: noqa: PLR2004 - calendar arithmetic (days in months, hours in a day) is clearest as literals
from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.log.localtime import utc_offset_ms

__all__ = ["EPOCH_UNITS", "Times", "detect_epoch", "parse_times"]

#: Epoch units and nanoseconds per unit.
EPOCH_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MIN_MS = (dt.datetime.min.replace(tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(milliseconds=1)
_MAX_MS = (dt.datetime.max.replace(tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(milliseconds=1) + 1
_ISO = (
    r"^\s*(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[T ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"\s*(?P<z>Z|UTC|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?\s*$"
)
_NUMBER = r"^\s*(?P<sign>[+-]?)(?P<i>\d{1,19})(?:\.(?P<f>\d*))?\s*$"
#: Plausible magnitudes (years 1973 to 2096) of epoch numbers in each unit, for detection.
_RANGES = {u: (10**8 * 10**9 // n, 4 * 10**9 * 10**9 // n) for u, n in EPOCH_UNITS.items()}


class Times:
    """Parsed times: ``ms`` (int64, floored), ``ns`` (0..999_999 within the ms), ``bad`` reasons by index."""

    def __init__(self, n: int) -> None:
        self.ms = np.zeros(n, dtype=np.int64)
        self.ns = np.zeros(n, dtype=np.int64)
        self.bad: dict[int, str] = {}

    def set_ns(self, index: np.ndarray, total_ns: np.ndarray) -> None:
        self.ms[index] = np.floor_divide(total_ns, 10**6)
        self.ns[index] = np.mod(total_ns, 10**6)


def _ints(struct: pa.StructArray, name: str, default: int = 0) -> np.ndarray:
    col = struct.field(name)
    col = pc.if_else(pc.equal(col, ""), str(default), col)
    return np.asarray(pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of proleptic Gregorian dates (H. Hinnant's algorithm), vectorised."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _month_days(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    table = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return table[np.clip(m, 0, 12)] + ((m == 2) & leap)


def _scalar(value: Any, epoch: str | None) -> tuple[int, int]:
    """(ms, ns within the ms) of one value, exactly; ``ValueError`` with the reason when unreadable."""
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
        total = number * EPOCH_UNITS[epoch] if number.adjusted() < 22 else Decimal(_MAX_MS) * 10**6
        if not _MIN_MS * 10**6 <= total < _MAX_MS * 10**6:
            raise ValueError(
                f"timestamp {value!r} ({_NAMES[epoch]} since the epoch) is outside the years 1 to 9999"
            )
        ns = math.floor(total)
        return ns // 10**6, ns % 10**6
    if not isinstance(value, str):
        raise ValueError(f"timestamp {value!r} is a number; pass --epoch s|ms|us|ns for epoch times")  # noqa: TRY004 - a bad row
    text = value.strip()
    if text.endswith(" UTC"):
        text = text[:-4] + "+00:00"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"timestamp {value!r} is not ISO-8601 (like 2024-05-01T10:00:00+02:00)") from None
    if when.tzinfo is None:
        raise ValueError(f"timestamp {value!r} has no UTC offset (add one, like Z or +02:00)")
    us = (when - _EPOCH) // dt.timedelta(microseconds=1)
    return us // 1000, (us % 1000) * 1000


def detect_epoch(values: np.ndarray) -> str | None:
    """The one epoch unit in which every value is a plausible time (1973-2096), or ``None``."""
    if values.size == 0:
        return None
    lo, hi = np.abs(values).min(), np.abs(values).max()
    fits = [u for u, (a, b) in _RANGES.items() if a <= lo and hi < b]
    return fits[0] if len(fits) == 1 else None


def _numbers(out: Times, values: np.ndarray, index: np.ndarray, epoch: str) -> None:
    """Integer epoch numbers (int64), range-checked without overflow."""
    per = EPOCH_UNITS[epoch]
    lo, hi = _MIN_MS * 10**6 // per, _MAX_MS * 10**6 // per
    whole = len(index) == len(out.ms)  # every row present: write the arrays, not through an index
    if whole and len(values) and int(values.min()) >= lo and int(values.max()) < hi:
        if per == 10**6:
            out.ms = values
        elif per > 10**6:
            out.ms = values * (per // 10**6)
        else:
            out.ms = np.floor_divide(values, 10**6 // per)
            out.ns = np.mod(values, 10**6 // per) * per
        return
    ok = (values >= lo) & (values < hi)
    for i in index[~ok].tolist():
        v = int(values[np.searchsorted(index, i)])
        out.bad[i] = f"timestamp '{v}' ({_NAMES[epoch]} since the epoch) is outside the years 1 to 9999"
    good, v = index[ok], values[ok]
    if per >= 10**6:
        out.ms[good] = v * (per // 10**6)
    else:
        out.ms[good] = np.floor_divide(v, 10**6 // per)
        out.ns[good] = np.mod(v, 10**6 // per) * per


def _localize(out: Times, index: np.ndarray, wall_ns: np.ndarray, tz: str, ambiguous: str) -> None:
    """Naive wall times (ns since the epoch, as if UTC) in ``tz`` to instants."""
    naive = pa.array(wall_ns, pa.timestamp("ns"))
    early = pc.assume_timezone(naive, tz, ambiguous="earliest", nonexistent="latest")
    late = pc.assume_timezone(naive, tz, ambiguous="latest", nonexistent="latest")
    e = early.cast(pa.int64()).to_numpy()
    la = late.cast(pa.int64()).to_numpy()
    zone = ZoneInfo(tz)

    def offset_ns(t: int) -> int:
        when = dt.datetime.fromtimestamp(t // 10**9, dt.UTC).astimezone(zone)
        return int(when.utcoffset().total_seconds()) * 10**9  # type: ignore[union-attr]

    result = np.where(ambiguous == "latest", la, e) if ambiguous != "error" else e.copy()
    for k in np.flatnonzero(e != la).tolist():  # a fold: two instants show this wall time
        if ambiguous == "error":
            out.bad[int(index[k])] = (
                f"local time {_wall(wall_ns[k])} is ambiguous in {tz} (a DST fold); "
                "pass --ambiguous earliest|latest"
            )
    # a gap: pyarrow's 'latest' is the transition itself; the wall time does not exist there
    # transitions fall on whole seconds, so the offset at the floored millisecond is the offset
    back = la + utc_offset_ms(np.floor_divide(la, 10**6), tz) * 10**6
    for k in np.flatnonzero(back != wall_ns).tolist():
        if ambiguous == "error":
            out.bad[int(index[k])] = (
                f"local time {_wall(wall_ns[k])} does not exist in {tz} (a DST gap); "
                "pass --ambiguous earliest|latest"
            )
            continue
        after, before = offset_ns(int(la[k])), offset_ns(int(la[k]) - 1)
        result[k] = wall_ns[k] - (after if ambiguous == "earliest" else before)
    keep = ~np.isin(index, np.fromiter(out.bad, dtype=np.int64, count=len(out.bad)))
    out.set_ns(index[keep], result[keep])


def _wall(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns")).replace("T", " ")


def parse_times(  # noqa: PLR0912, PLR0915 - one pass per column type, kept together
    column: pa.Array | pa.ChunkedArray,
    epoch: str | None = None,
    input_tz: str | None = None,
    ambiguous: str = "error",
) -> tuple[Times, str | None]:
    """Parse a time column; returns the times and the epoch unit detected (``None`` if not detected).

    Missing values and unreadable ones are in ``Times.bad`` (index -> reason).
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    n = len(column)
    out = Times(n)
    if column.null_count:
        missing = np.asarray(column.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        for i in np.flatnonzero(missing).tolist():
            out.bad[i] = "missing timestamp"
        present = np.flatnonzero(~missing)
    else:
        missing = np.zeros(n, dtype=bool)
        present = np.arange(n, dtype=np.int64)
    kind = column.type
    detected = None
    if pa.types.is_timestamp(kind):
        if kind.tz is None and input_tz is None:
            for i in present.tolist():
                out.bad[i] = "naive timestamp (no time zone); pass --input-timezone ZONE"
            return out, None
        raw = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
        if len(present) != n:
            raw = raw[present]
        if kind.tz is None:
            wall = raw * EPOCH_UNITS[kind.unit]
            _localize(out, present, wall, input_tz, ambiguous)  # type: ignore[arg-type]
        else:
            _numbers(out, raw.astype(np.int64, copy=False), present, kind.unit)
        return out, None
    if pa.types.is_date(kind):
        days = column.cast(pa.int32()).to_numpy(zero_copy_only=False)[present].astype(np.int64)
        if input_tz is None:
            for i in present.tolist():
                out.bad[i] = "a date without a time; pass --input-timezone ZONE to take midnight there"
            return out, None
        _localize(out, present, days * 86_400 * 10**9, input_tz, ambiguous)
        return out, None
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        values = column.to_numpy(zero_copy_only=False)
        if len(present) != n:
            values = values[present]
        if values.size == 0:  # no time to read (every row bad or missing): nothing to detect
            return out, None
        if epoch is None:
            detected = epoch = detect_epoch(values.astype(np.float64))
            if epoch is None:
                raise _AmbiguousEpochError(values)
        if pa.types.is_integer(kind):
            _numbers(out, values.astype(np.int64, copy=False), present, epoch)
        else:
            for i, v in zip(present.tolist(), values.tolist(), strict=True):
                try:
                    out.ms[i], out.ns[i] = _scalar(v, epoch)
                except ValueError as err:
                    out.bad[i] = str(err)
        return out, detected
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        for i in present.tolist():
            out.bad[i] = f"timestamp of type {kind} is neither text, a number nor a timestamp"
        return out, None
    text = column.cast(pa.string())
    if epoch is None and not text.null_count and len(text):
        # Arrow's own ISO-8601 reader (offset or Z required, nanoseconds, years 1677-2262) reads the
        # common export in one cast; any value it refuses sends the column down the full path below
        try:
            instants = pc.cast(text, pa.timestamp("ns", "UTC"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            total = instants.cast(pa.int64()).to_numpy(zero_copy_only=False)
            out.ms, out.ns = np.floor_divide(total, 10**6), np.mod(total, 10**6)
            return out, None
    blank = np.asarray(
        pc.equal(pc.utf8_trim_whitespace(text), "").fill_null(True).to_numpy(zero_copy_only=False)
    )
    for i in np.flatnonzero(blank & ~missing).tolist():
        out.bad[i] = "missing timestamp"
    present = np.flatnonzero(~blank)
    if epoch is None:
        numeric = pc.match_substring_regex(text, _NUMBER).fill_null(False).to_numpy(zero_copy_only=False)
        if present.size and bool(np.all(numeric[present])):
            values = pc.cast(pc.take(text, pa.array(present)), pa.float64()).to_numpy()
            detected = epoch = detect_epoch(values)
            if epoch is None:
                raise _AmbiguousEpochError(values)
    rest: np.ndarray
    if epoch is not None:
        parts = pc.extract_regex(text, _NUMBER)
        hit = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool) & ~blank
        rows = np.flatnonzero(hit)
        sub = pc.take(parts, pa.array(rows))
        whole = _ints(sub, "i")
        frac = sub.field("f")
        per = EPOCH_UNITS[epoch]
        digits = 9 - len(str(per)) + 1  # fraction digits that stay above a nanosecond
        lo, hi = _MIN_MS * 10**6 // per, _MAX_MS * 10**6 // per
        sign = np.where(np.asarray(pc.equal(sub.field("sign"), "-").to_numpy(zero_copy_only=False)), -1, 1)
        fits = (whole < hi) & (whole <= -lo)
        exact = fits & np.asarray(pc.less_equal(pc.utf8_length(frac), digits).to_numpy(zero_copy_only=False))
        padded = pc.utf8_rpad(frac, max(digits, 1), "0")
        fr = (
            np.asarray(pc.cast(pc.if_else(pc.equal(padded, ""), "0", padded), pa.int64()).to_numpy())
            if digits
            else 0
        )
        whole = np.where(fits, whole, 0)  # the rest go to the exact reader, which says why
        frac_ns = fr * (per // 10**digits if digits else 1)
        # ns since the epoch overflows int64 outside 1677-2262: keep ms and ns apart
        if per >= 10**6:
            ms, ns = whole * (per // 10**6), np.zeros_like(whole)
        else:
            ms, ns = whole // (10**6 // per), (whole % (10**6 // per)) * per
        ms, ns = ms + (ns + frac_ns) // 10**6, (ns + frac_ns) % 10**6
        neg = sign < 0
        ms = np.where(neg, -ms - (ns > 0), ms)
        ns = np.where(neg, (10**6 - ns) % 10**6, ns)
        ok = exact & (ms >= _MIN_MS) & (ms < _MAX_MS)
        out.ms[rows[ok]], out.ns[rows[ok]] = ms[ok], ns[ok]
        done = np.zeros(n, dtype=bool)
        done[rows[ok]] = True
        rest = np.flatnonzero(~done & ~blank)
    else:
        parts = pc.extract_regex(text, _ISO)
        hit = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False), dtype=bool) & ~blank
        rows = np.flatnonzero(hit)
        sub = pc.take(parts, pa.array(rows))
        y, mo, d = _ints(sub, "y"), _ints(sub, "mo"), _ints(sub, "d")
        h, mi, s = _ints(sub, "h"), _ints(sub, "mi"), _ints(sub, "s")
        frac = _ints(pa.StructArray.from_arrays([pc.utf8_rpad(sub.field("f"), 9, "0")], ["f"]), "f")
        zone = np.asarray(pc.equal(sub.field("z"), "").to_numpy(zero_copy_only=False))
        sign = np.where(np.asarray(pc.equal(sub.field("sign"), "-").to_numpy(zero_copy_only=False)), -1, 1)
        off = sign * (_ints(sub, "oh") * 3600 + _ints(sub, "om") * 60)
        valid = (
            (y >= 1)
            & (mo >= 1)
            & (mo <= 12)
            & (d >= 1)
            & (d <= _month_days(y, mo))
            & (h <= 23)
            & (mi <= 59)
            & (s <= 59)
            & (np.abs(off) < 86_400)
        )
        secs = _days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
        # ns since the epoch overflows int64 outside 1677-2262: keep ms and ns apart
        ms = (secs - np.where(zone, 0, off)) * 1000 + frac // 10**6
        ns = frac % 10**6
        inrange = valid & (ms >= _MIN_MS) & (ms < _MAX_MS)
        aware = inrange & ~zone
        out.ms[rows[aware]], out.ns[rows[aware]] = ms[aware], ns[aware]
        done = np.zeros(n, dtype=bool)
        done[rows[aware]] = True
        naive = inrange & zone
        if input_tz is not None and naive.any():
            done[rows[naive]] = True
            _localize(out, rows[naive], ms[naive] * 10**6 + ns[naive], input_tz, ambiguous)
        elif naive.any():
            for k in np.flatnonzero(naive).tolist():
                i = int(rows[k])
                done[i] = True
                out.bad[i] = (
                    f"timestamp {text[i].as_py()!r} has no UTC offset (add one, like Z or +02:00, "
                    "or pass --input-timezone ZONE)"
                )
        rest = np.flatnonzero(~done & ~blank)
    for i in rest.tolist():
        if i in out.bad:
            continue
        try:
            out.ms[i], out.ns[i] = _scalar(text[i].as_py(), epoch)
        except ValueError as err:
            out.bad[i] = str(err)
    return out, detected


class _AmbiguousEpochError(ValueError):
    """Epoch numbers whose unit cannot be told from their magnitude."""

    def __init__(self, values: np.ndarray) -> None:
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        super().__init__(
            f"timestamps are numbers from {lo:.0f} to {hi:.0f}, which do not tell seconds, "
            "milliseconds, microseconds or nanoseconds apart; pass --epoch s|ms|us|ns"
        )

"""Local calendar time for UTC timestamps: each system's own day, hour and weekday, DST-correct.

The ad platform reports days in the ad account's time zone, analytics in the property's, Amazon's
Business Reports in Pacific Time (docs/domain.md §5.2). Timestamps stay UTC epoch milliseconds everywhere;
these helpers bucket them into one system's local calendar. They are vectorised: the UTC offset is
looked up once per UTC hour touched (offsets change on hour boundaries in every zone but a handful of
historical ones, which the per-timestamp fallback covers exactly).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

__all__ = ["local_day", "local_hour", "local_wall_ms", "local_weekday", "utc_of_local", "utc_offset_ms"]

_HOUR = 3_600_000
_DAY = 86_400_000


def _offset(ms: int, zone: ZoneInfo) -> int:
    """UTC offset in ms of ``zone`` at epoch-ms ``ms``."""
    when = dt.datetime.fromtimestamp(ms / 1000, dt.UTC).astimezone(zone)
    return int(when.utcoffset().total_seconds() * 1000)  # type: ignore[union-attr]


def utc_offset_ms(ts_ms: np.ndarray, tz: str) -> np.ndarray:
    """The UTC offset (int64 ms, local minus UTC) of ``tz`` at each timestamp.

    Parameters
    ----------
    ts_ms
        Epoch milliseconds (UTC), any shape.
    tz
        An IANA time zone name.
    """
    ts = np.asarray(ts_ms, dtype=np.int64)
    if ts.size == 0:
        return np.zeros(ts.shape, dtype=np.int64)
    zone = ZoneInfo(tz)
    hours = ts // _HOUR
    lo, hi = int(hours.min()), int(hours.max())
    if hi - lo + 1 <= max(ts.size, 1024):
        grid = np.arange(lo, hi + 1, dtype=np.int64)
        index = hours - lo
    else:
        grid, index = np.unique(hours, return_inverse=True)
    start = np.array([_offset(int(h) * _HOUR, zone) for h in grid], dtype=np.int64)
    end = np.array([_offset(int(h) * _HOUR + _HOUR - 1, zone) for h in grid], dtype=np.int64)
    out = start[index]
    changing = np.flatnonzero((start != end)[index])  # timestamps in an hour with a transition
    if changing.size:
        flat = ts.reshape(-1)
        out.reshape(-1)[changing] = [_offset(int(flat[i]), zone) for i in changing]
    return out


def local_wall_ms(ts_ms: np.ndarray, tz: str) -> np.ndarray:
    """Local wall-clock time as if it were UTC: epoch ms plus the offset."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    return ts + utc_offset_ms(ts, tz)


def local_day(ts_ms: np.ndarray, tz: str) -> np.ndarray:
    """The local calendar date of each timestamp in ``tz``, as ``datetime64[D]``.

    Examples
    --------
    >>> import numpy as np
    >>> ts = np.array([1714600800000])  # 2024-05-01T22:00:00Z
    >>> local_day(ts, "Europe/Berlin").astype(str).tolist(), local_day(ts, "UTC").astype(str).tolist()
    (['2024-05-02'], ['2024-05-01'])
    """
    return (local_wall_ms(ts_ms, tz) // _DAY).astype("datetime64[D]")


def local_hour(ts_ms: np.ndarray, tz: str) -> np.ndarray:
    """The local hour of day (0-23, int8) of each timestamp in ``tz``."""
    return ((local_wall_ms(ts_ms, tz) % _DAY) // _HOUR).astype(np.int8)


def local_weekday(ts_ms: np.ndarray, tz: str) -> np.ndarray:
    """The local weekday (0 = Monday ... 6 = Sunday, int8) of each timestamp in ``tz``."""
    days = local_wall_ms(ts_ms, tz) // _DAY
    return ((days + 3) % 7).astype(np.int8)  # 1970-01-01 was a Thursday


def utc_of_local(date: dt.date, hour: int, tz: str) -> int:
    """Epoch ms of local ``hour``:00 on ``date`` in ``tz`` (a skipped hour maps forward, as zoneinfo does)."""
    local = dt.datetime.combine(date, dt.time(hour), tzinfo=ZoneInfo(tz))
    return int(local.timestamp() * 1000)

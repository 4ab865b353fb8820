"""Session definitions and sessionizing: rules, kernels, presets and the public ``sessionize``."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import numpy as np

from simulator.schema import check_timezone
from simulator.sessions.kernels import Columns, session_ids, split_causes
from simulator.sessions.ordering import is_sorted, sort_by_user_time, user_codes
from simulator.sessions.presets import Definition
from simulator.sessions.registry import (
    available_definitions,
    available_rules,
    get_definition,
    get_rule,
    register_rule,
)
from simulator.sessions.rules import SplitCause

__all__ = [
    "Columns",
    "Definition",
    "SplitCause",
    "available_definitions",
    "available_rules",
    "get_definition",
    "get_rule",
    "register_rule",
    "sessionize",
    "sessionize_sorted",
]


def _resolve(definition: str | Definition) -> Definition:
    return definition if isinstance(definition, Definition) else get_definition(definition)


def sessionize_sorted(cols: Columns, definition: str | Definition, timezone: str = "UTC") -> np.ndarray:
    """Split causes (int8 :class:`SplitCause` codes) for columns already sorted by (user, ts).

    ``timezone`` is the analytics property's zone, used by midnight rules that do not name one.
    """
    return split_causes(cols, _resolve(definition).rules, timezone)


def _first_null(arr: Any) -> int:
    return int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])


def _is_table(value: object) -> bool:
    """A pyarrow Table or RecordBatch, or a DataFrame (pandas, Polars, ...) that exports Arrow."""
    return (hasattr(value, "__arrow_c_stream__") and hasattr(value, "columns")) or (
        type(value).__name__ == "DataFrame" and hasattr(value, "to_numpy")
    )


def _arrow(value: object) -> object | None:
    """``value`` as a pyarrow Array when it is Arrow-like (pyarrow, pandas/Polars Series), else None."""
    import pyarrow as pa  # noqa: PLC0415 - loaded only for Arrow-like input

    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks() if value.num_chunks else pa.array([], value.type)
    if isinstance(value, pa.Array):
        return value
    if hasattr(value, "__arrow_c_stream__") or hasattr(value, "__arrow_c_array__"):
        return _arrow(pa.chunked_array(value) if hasattr(value, "__arrow_c_stream__") else pa.array(value))
    if type(value).__name__ == "Series":  # pandas: tz-aware, categorical and string dtypes via Arrow
        return pa.array(value)
    if isinstance(value, list | tuple) and value and all(isinstance(v, dt.datetime) for v in value):
        return pa.array(value)
    return None


def _table_columns(
    table: object, user: str, time: str, campaign: str | None, named: dict[str, str | None]
) -> tuple[object, object, object, dict[str, object]]:
    import pyarrow as pa  # noqa: PLC0415 - loaded only for table input

    data = table if isinstance(table, pa.Table) else pa.table(table)
    required = [user, time] + [c for k, c in named.items() if c and k != "event"]
    missing = [c for c in required if c not in data.column_names]
    if missing:
        raise ValueError(f"no column {missing[0]!r} in the table; columns: {', '.join(data.column_names)}")
    camp = data.column(campaign) if campaign and campaign in data.column_names else None
    extra = {k: data.column(c) for k, c in named.items() if c and c in data.column_names}
    return data.column(user), data.column(time), camp, extra


_HOW = {"gap": "a gap per event", "event": "an event name per event", "flag": "a new-session flag per event"}


def _extra_columns(rules: tuple[Any, ...], given: dict[str, object], n: int) -> dict[str, np.ndarray]:
    """The per-event columns the rules need, converted; a rule whose column is missing is an error."""
    from simulator.log.columns import event_names, flags, gaps_ms  # noqa: PLC0415 - pyarrow on use

    convert = {"gap": gaps_ms, "event": event_names, "flag": flags}
    out = {}
    for rule in rules:
        need = getattr(rule, "needs", None)
        if need is None or need in out:
            continue
        if given.get(need) is None:
            raise ValueError(
                f"rule {rule.name!r} needs {_HOW[need]}: pass {need}= (or {need}_column= with a table)"
            )
        values = convert[need](given[need])
        if values.shape != (n,):
            raise ValueError(f"user_id, timestamp and {need} must be 1-d and of equal length")
        out[need] = values
    return out


def _users(user_id: object) -> np.ndarray:
    arr = _arrow(user_id)
    if arr is None:
        return np.asarray(user_id)
    if arr.null_count:
        raise ValueError(f"user_id has a null at row {_first_null(arr)}")
    out = arr.to_numpy(zero_copy_only=False)
    return out.astype(str) if out.dtype == object else out


def _campaign_codes(campaign: object) -> np.ndarray | None:
    if campaign is None:
        return None
    arr = _arrow(campaign)
    if arr is None:
        camp = np.asarray(campaign)
        if camp.dtype.kind in "iu":
            return camp.astype(np.int32, copy=False)
        if camp.dtype.kind not in "UO":
            raise TypeError(f"campaign must be integer codes or strings, got dtype {camp.dtype}")
        import pyarrow as pa  # noqa: PLC0415

        arr = pa.array(camp.tolist(), pa.string())
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    if pa.types.is_integer(arr.type):
        return arr.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_string_view(arr.type) or pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        raise TypeError(f"campaign must be integer codes or strings, got {arr.type}")
    arr = pc.if_else(pc.equal(arr, ""), None, arr)
    encoded = arr.dictionary_encode()
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)


def _as_epoch_ms(timestamp: object) -> np.ndarray:
    arr = _arrow(timestamp)
    if arr is not None:
        import pyarrow as pa  # noqa: PLC0415

        if arr.null_count:
            raise ValueError(f"timestamp has a null at row {_first_null(arr)}")
        if pa.types.is_timestamp(arr.type):
            raw = arr.cast(pa.int64()).to_numpy(zero_copy_only=False)
            per_ms = {"s": None, "ms": 1, "us": 1000, "ns": 1_000_000}[arr.type.unit]
            return raw * 1000 if per_ms is None else np.floor_divide(raw, per_ms)
        if pa.types.is_integer(arr.type):
            return arr.to_numpy(zero_copy_only=False).astype(np.int64)
        raise TypeError(f"timestamp must be int64 epoch milliseconds or timestamps, got {arr.type}")
    ts = np.asarray(timestamp)
    if ts.size == 0 and ts.dtype == np.float64:  # an empty list
        return np.zeros(ts.shape, dtype=np.int64)
    if np.issubdtype(ts.dtype, np.datetime64):
        if np.isnat(ts).any():
            raise ValueError(f"timestamp has NaT at row {int(np.flatnonzero(np.isnat(ts))[0])}")
        return ts.astype("datetime64[ms]").astype(np.int64)
    if not np.issubdtype(ts.dtype, np.integer):
        raise TypeError(f"timestamp must be int64 epoch milliseconds or datetime64, got dtype {ts.dtype}")
    return ts.astype(np.int64, copy=False)


def _export_table(source: object, format: str) -> object:
    """The canonical table of a platform export, from its path; events without a user refused."""
    import pyarrow as pa  # noqa: PLC0415 - loaded only for exports

    from simulator.log.formats import read_export  # noqa: PLC0415

    if isinstance(source, str | os.PathLike):
        source = read_export(source, format).table
    if not isinstance(source, pa.Table):
        raise TypeError(f"format={format!r} reads an export: pass its path, got {type(source).__name__}")
    missing = source.column("user_id").null_count
    if missing:
        raise ValueError(
            f"{missing} event(s) of the export have no user_id (consent mode, cookieless pings); drop them "
            "first, or read it with simulator.log.logfile.read_log(path, fmt=..., skip_bad=True)"
        )
    return source


def sessionize(
    user_id: Any,
    timestamp: Any = None,
    definition: str | Definition = "ga4",
    campaign: Any = None,
    *,
    timezone: str = "UTC",
    with_causes: bool = False,
    user_column: str = "user_id",
    time_column: str = "timestamp",
    campaign_column: str | None = "campaign",
    format: str | None = None,
    event: Any = None,
    gap: Any = None,
    flag: Any = None,
    event_column: str | None = "event_name",
    gap_column: str | None = None,
    flag_column: str | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Assign a session id to every row.

    Parameters
    ----------
    user_id
        One id per row (integers or strings; NumPy, a list, pyarrow, or a pandas/Polars Series). Or a
        whole table -- a pyarrow Table or a pandas/Polars DataFrame (anything with
        ``__arrow_c_stream__``) -- with ``user_column``, ``time_column`` and, if present,
        ``campaign_column``; then ``timestamp`` may be the definition: ``sessionize(df, "ga4")``.
    timestamp
        int64 milliseconds since the epoch (UTC), ``datetime64`` (taken as UTC), or Arrow/pandas
        timestamps of any unit, tz-aware ones included. Rows may come in any order.
    definition
        A preset name (see :func:`available_definitions`) or a :class:`Definition`.
    campaign
        Optional campaign per row (for campaign-change rules): integer codes (negative means none) or
        strings (empty or null means none).
    timezone
        The analytics property's IANA time zone, used by midnight rules.
    format
        A platform export (``"ga4"``, ``"snowplow"``, ``"posthog"``, ``"amplitude"``, ``"mixpanel"``,
        ``"matomo"``): ``user_id`` is then the export's path (or the table
        :func:`simulator.log.formats.read_export` made of it), read into its canonical columns
        (``user_id``, ``timestamp``, ``campaign``, ...): ``sessionize("events_20240501.json", "ga4",
        format="ga4")``.
    with_causes
        Also return each row's split cause (non-zero on a session's first row).
    event, gap, flag
        Per-event columns for the rules that read them (``session_events``, ``dynamic_gap``,
        ``flag``): event names; the gap each event keeps the session open (integer ms, durations like
        ``"30m"``, Arrow/NumPy durations; null = none); a new-session flag (booleans, 0/1, ``"1"``,
        ``"true"``...). A rule whose column is not given is an error; unused columns are not read.
    event_column, gap_column, flag_column
        With a table: the columns holding them (a named gap or flag column must exist).

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        int64 session ids aligned with the input rows, numbered from 0 in (user, time) order (rows
        tied in user and time keep their input order); with ``with_causes``, also the int8
        :class:`SplitCause` per row.

    Raises
    ------
    ValueError
        If the columns are not 1-d and of equal length, a timestamp is NaT or null, a user is null,
        or a table lacks a column.
    TypeError
        If timestamps are neither integers nor timestamps, or ``definition`` is not a name or a
        :class:`Definition`.

    Examples
    --------
    >>> import numpy as np
    >>> sessionize(np.array([1, 1, 1]), np.array([0, 60_000, 3_600_000])).tolist()
    [0, 0, 1]
    """
    if format is not None:
        user_id = _export_table(user_id, format)
    if _is_table(user_id):
        if isinstance(timestamp, str | Definition):
            definition, timestamp = timestamp, None
        if timestamp is not None:
            raise TypeError("pass either a table or the columns, not a table and a timestamp column")
        named = {"event": event_column, "gap": gap_column, "flag": flag_column}
        user_id, timestamp, table_campaign, table_extra = _table_columns(
            user_id, user_column, time_column, campaign_column, named
        )
        campaign = table_campaign if campaign is None else campaign
        event = table_extra.get("event") if event is None else event
        gap = table_extra.get("gap") if gap is None else gap
        flag = table_extra.get("flag") if flag is None else flag
    elif timestamp is None:
        raise TypeError("sessionize needs user_id and timestamp columns, or a table")
    if not isinstance(definition, str | Definition):
        raise TypeError(f"definition must be a preset name or a Definition, got {type(definition).__name__}")
    check_timezone(timezone)  # a bad zone is a ValueError (TypeError if not a str), rule or no rule
    rules = _resolve(definition).rules
    ts = _as_epoch_ms(timestamp)
    users = _users(user_id)
    camp = _campaign_codes(campaign)
    shapes = {users.shape, ts.shape} | ({camp.shape} if camp is not None else set())
    if len(shapes) != 1 or ts.ndim != 1:
        raise ValueError(f"user_id, timestamp and campaign must be 1-d and of equal length, got {shapes}")
    extra = _extra_columns(rules, {"event": event, "gap": gap, "flag": flag}, len(ts))
    if ts.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return (empty, np.zeros(0, dtype=np.int8)) if with_causes else empty
    users = user_codes(users)
    if len(ts) > 2 * BUCKET_ROWS:
        ids, causes = _in_user_buckets(users, ts, camp, extra, rules=rules, timezone=timezone)
    else:
        ids, causes = _sessionize_codes(users, ts, camp, extra, rules=rules, timezone=timezone)
    return (ids, causes) if with_causes else ids


#: Rows per bucket of users in :func:`_in_user_buckets` (about 8 MB per int64 column, small enough that
#: the allocator reuses the buckets' temporaries instead of mapping and zeroing fresh pages each time).
BUCKET_ROWS = 1 << 20


def _sessionize_codes(
    users: np.ndarray,
    ts: np.ndarray,
    camp: np.ndarray | None,
    extra: dict[str, np.ndarray],
    *,
    rules: Any,
    timezone: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Session ids (from 0, in (user, time) order) and split causes of rows with user codes."""
    if is_sorted(users, ts):
        causes = split_causes(Columns(users, ts, camp, **extra), rules, timezone)
        return session_ids(causes), causes
    order, sorted_user, sorted_ts = sort_by_user_time(users, ts)
    extra = {k: v[order] for k, v in extra.items()}
    cols = Columns(sorted_user, sorted_ts, None if camp is None else camp[order], **extra)
    del sorted_user, sorted_ts
    sorted_causes = split_causes(cols, rules, timezone)
    del cols
    ids = session_ids(sorted_causes, order)
    causes = np.empty(len(ts), dtype=np.int8)
    causes[order] = sorted_causes
    return ids, causes


def _in_user_buckets(
    users: np.ndarray,
    ts: np.ndarray,
    camp: np.ndarray | None,
    extra: dict[str, np.ndarray],
    *,
    rules: Any,
    timezone: str,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_sessionize_codes` on ranges of user codes, one after the other, on two threads.

    A user never spans buckets, and the ranges are in code order, so a bucket's ids shifted by the
    sessions of the buckets before it are exactly the one-pass ids. Each bucket's rows keep their
    input order (a stable radix sort of the bucket number), so ties keep theirs. 10 M rows: the sort
    works on 1 M-row keys and the temporaries are reused, not mapped afresh (docs/baselines.md)."""
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - large inputs only

    n = len(ts)
    k = min(-(-n // BUCKET_ROWS), 2**16 - 1)  # bucket numbers are 16-bit
    top = int(users.max()) + 1
    bucket = (users // -(-top // k)).astype(np.uint16)
    grouped = np.argsort(bucket, kind="stable")  # a radix sort: 16-bit keys
    bounds = np.searchsorted(bucket[grouped], np.arange(k + 1, dtype=np.int64))
    del bucket

    def one(b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = grouped[bounds[b] : bounds[b + 1]]
        part = {name: values[rows] for name, values in extra.items()}
        ids, causes = _sessionize_codes(
            users[rows], ts[rows], None if camp is None else camp[rows], part, rules=rules, timezone=timezone
        )
        return rows, ids, causes

    ids = np.empty(n, dtype=np.int64)
    causes = np.empty(n, dtype=np.int8)
    offset = 0
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        for rows, part_ids, part_causes in pool.map(one, range(k)):  # in bucket order
            if len(rows):
                ids[rows] = part_ids + offset
                causes[rows] = part_causes
                offset += int(part_ids.max()) + 1
    return ids, causes

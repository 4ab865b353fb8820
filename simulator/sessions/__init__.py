"""Session definitions and sessionizing: rules, kernels, presets and the public ``sessionize``."""

from __future__ import annotations

import numpy as np

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


def _as_epoch_ms(timestamp: np.ndarray) -> np.ndarray:
    ts = np.asarray(timestamp)
    if ts.size == 0 and ts.dtype == np.float64:  # np.asarray([]): an empty list has no dtype of its own
        return np.empty(ts.shape, dtype=np.int64)
    if np.issubdtype(ts.dtype, np.datetime64):
        if np.isnat(ts).any():
            raise ValueError(f"timestamp has NaT at row {int(np.flatnonzero(np.isnat(ts))[0])}")
        return ts.astype("datetime64[ms]").astype(np.int64)
    if not np.issubdtype(ts.dtype, np.integer):
        raise TypeError(f"timestamp must be int64 epoch milliseconds or datetime64, got dtype {ts.dtype}")
    return ts.astype(np.int64, copy=False)


def sessionize(
    user_id: np.ndarray,
    timestamp: np.ndarray,
    definition: str | Definition = "ga4",
    campaign: np.ndarray | None = None,
    *,
    timezone: str = "UTC",
    with_causes: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Assign a session id to every row.

    Parameters
    ----------
    user_id
        One id per row (integers or strings).
    timestamp
        int64 milliseconds since the epoch (UTC), or ``datetime64``. Rows may come in any order.
    definition
        A preset name (see :func:`available_definitions`) or a :class:`Definition`.
    campaign
        Optional campaign codes per row (for campaign-change rules); negative means none.
    timezone
        The analytics property's IANA time zone, used by midnight rules.
    with_causes
        Also return each row's split cause (non-zero on a session's first row).

    Returns
    -------
    numpy.ndarray or tuple of numpy.ndarray
        int64 session ids aligned with the input rows, numbered from 0 in (user, time) order (rows
        tied in user and time keep their input order); with ``with_causes``, also the int8
        :class:`SplitCause` per row. Empty inputs (``sessionize([], [], "ga4")``) give empty arrays.

    Raises
    ------
    ValueError
        If the columns are not 1-d and of equal length, or a timestamp is NaT.
    TypeError
        If timestamps are neither integers nor ``datetime64``.

    Examples
    --------
    >>> import numpy as np
    >>> sessionize(np.array([1, 1, 1]), np.array([0, 60_000, 3_600_000])).tolist()
    [0, 0, 1]
    """
    rules = _resolve(definition).rules
    ts = _as_epoch_ms(timestamp)
    users = np.asarray(user_id)
    if users.size == 0 and users.dtype == np.float64:  # sessionize([], [], ...): no rows, no sessions
        users = np.empty(users.shape, dtype=np.int64)
    camp = None if campaign is None else np.asarray(campaign)
    if camp is not None and camp.size == 0 and camp.dtype == np.float64:
        camp = np.empty(camp.shape, dtype=np.int32)
    shapes = {users.shape, ts.shape} | ({camp.shape} if camp is not None else set())
    if len(shapes) != 1 or ts.ndim != 1:
        raise ValueError(f"user_id, timestamp and campaign must be 1-d and of equal length, got {shapes}")
    users = user_codes(users)
    if camp is not None:
        camp = camp.astype(np.int32, copy=False)
    if is_sorted(users, ts):
        causes = split_causes(Columns(users, ts, camp), rules, timezone)
        ids = session_ids(causes)
        return (ids, causes) if with_causes else ids
    order, sorted_user, sorted_ts = sort_by_user_time(users, ts)
    del users
    cols = Columns(sorted_user, sorted_ts, None if camp is None else camp[order])
    del sorted_user, sorted_ts
    sorted_causes = split_causes(cols, rules, timezone)
    del cols
    ids = session_ids(sorted_causes, order)
    if not with_causes:
        return ids
    causes = np.empty(len(ts), dtype=np.int8)
    causes[order] = sorted_causes
    return ids, causes

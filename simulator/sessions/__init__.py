"""Session definitions and sessionizing: rules, kernels, presets and the public ``sessionize``."""

from __future__ import annotations

import numpy as np

from simulator.sessions.kernels import Columns, split_causes
from simulator.sessions.presets import Definition
from simulator.sessions.registry import available_definitions, get_definition
from simulator.sessions.rules import SplitCause

__all__ = [
    "Definition",
    "SplitCause",
    "available_definitions",
    "get_definition",
    "sessionize",
    "sessionize_sorted",
]


def _resolve(definition: str | Definition) -> Definition:
    return definition if isinstance(definition, Definition) else get_definition(definition)


def sessionize_sorted(cols: Columns, definition: str | Definition) -> np.ndarray:
    """Split causes (int8 :class:`SplitCause` codes) for columns already sorted by (user, ts)."""
    return split_causes(cols, _resolve(definition).rules)


def _as_epoch_ms(timestamp: np.ndarray) -> np.ndarray:
    ts = np.asarray(timestamp)
    if np.issubdtype(ts.dtype, np.datetime64):
        return ts.astype("datetime64[ms]").astype(np.int64)
    if not np.issubdtype(ts.dtype, np.integer):
        raise TypeError(f"timestamp must be int64 epoch milliseconds or datetime64, got dtype {ts.dtype}")
    return ts.astype(np.int64, copy=False)


def _user_codes(user_id: np.ndarray) -> np.ndarray:
    users = np.asarray(user_id)
    if np.issubdtype(users.dtype, np.integer):
        return users.astype(np.int64, copy=False)
    return np.unique(users, return_inverse=True)[1].astype(np.int64)


def sessionize(
    user_id: np.ndarray,
    timestamp: np.ndarray,
    definition: str | Definition = "ga4",
    campaign: np.ndarray | None = None,
) -> np.ndarray:
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

    Returns
    -------
    numpy.ndarray
        int64 session ids aligned with the input rows, numbered from 0 in (user, time) order.

    Examples
    --------
    >>> import numpy as np
    >>> sessionize(np.array([1, 1, 1]), np.array([0, 60_000, 3_600_000])).tolist()
    [0, 0, 1]
    """
    users, ts = _user_codes(user_id), _as_epoch_ms(timestamp)
    if users.shape != ts.shape or users.ndim != 1:
        raise ValueError(
            f"user_id and timestamp must be 1-d and of equal length, got {users.shape} and {ts.shape}"
        )
    order = np.lexsort((ts, users))
    camp = None if campaign is None else np.asarray(campaign, dtype=np.int32)[order]
    causes = sessionize_sorted(Columns(users[order], ts[order], camp), definition)
    ids = np.empty(len(ts), dtype=np.int64)
    ids[order] = np.cumsum(causes != 0) - 1
    return ids

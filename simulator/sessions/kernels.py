"""Pure numpy kernels: sorted columns in, per-row split causes out. No I/O, no validation.

Every kernel takes columns sorted by (user, ts) and returns an int8 array of
:class:`~simulator.sessions.rules.SplitCause` codes: non-zero where a session starts. Session ids are
``np.cumsum(starts != 0) - 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from simulator.sessions.rules import Inactivity, Rule, SplitCause

__all__ = ["Columns", "split_causes"]


class Columns(NamedTuple):
    """Columns sorted by (user, ts): int64 user codes, int64 epoch ms, int32 campaign codes."""

    user: np.ndarray
    ts: np.ndarray
    campaign: np.ndarray | None = None


def _new_user(cols: Columns) -> np.ndarray:
    """True on each user's first row."""
    out = np.empty(len(cols.user), dtype=np.bool_)
    if len(out):
        out[0] = True
        np.not_equal(cols.user[1:], cols.user[:-1], out=out[1:])
    return out


def _inactivity(cols: Columns, rule: Inactivity) -> np.ndarray:
    """True where the gap to the previous row exceeds the timeout (row 0 and user changes aside)."""
    out = np.zeros(len(cols.ts), dtype=np.bool_)
    if len(out) > 1:
        gap = np.diff(cols.ts)
        if rule.boundary == "same":
            np.greater(gap, rule.timeout_ms, out=out[1:])
        else:
            np.greater_equal(gap, rule.timeout_ms, out=out[1:])
    return out


#: Stateless rule name -> kernel returning a start mask (user changes are handled by the caller).
_MASKS: dict[str, Callable[[Columns, Rule], np.ndarray]] = {"inactivity": _inactivity}


def split_causes(cols: Columns, rules: Sequence[Rule]) -> np.ndarray:
    """Evaluate ``rules`` over sorted ``cols``; the first rule (in order) that fires names the cause."""
    causes = np.zeros(len(cols.ts), dtype=np.int8)
    # Later rules first, so earlier rules overwrite: the cause shown is the first rule that fires.
    for rule in reversed(rules):
        mask = _MASKS[rule.name](cols, rule)
        causes[mask] = rule.cause
    causes[_new_user(cols)] = SplitCause.NEW_USER
    return causes

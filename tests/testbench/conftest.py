"""Shared fixtures: a small edge-case workload and a module of deliberately wrong sessionizers."""

from __future__ import annotations

import textwrap

import pytest

from simulator.testbench.workload import Workload, generate

WRONG = '''
import numpy as np

HALF_HOUR = 1_800_000


def _ids(user_id, ts, cut):
    """Session ids from a per-row 'starts a session' rule evaluated in (user, ts) order."""
    order = np.lexsort((ts, user_id))
    u, t = user_id[order], ts[order]
    start = np.ones(len(t), dtype=bool)
    start[1:] = (u[1:] != u[:-1]) | cut(t, order)
    ids = np.empty(len(t), dtype=np.int64)
    ids[order] = np.cumsum(start)
    return ids


def right(user_id, ts, campaign):
    return _ids(user_id, ts, lambda t, o: np.diff(t) > HALF_HOUR)


def utc_midnight(user_id, ts, campaign):
    """GA4's 30 minutes, plus a split at midnight UTC (the wrong time zone, and GA4 has none)."""
    return _ids(user_id, ts, lambda t, o: (np.diff(t) > HALF_HOUR) | (np.diff(t // 86_400_000) != 0))


def campaign_split(user_id, ts, campaign):
    """Splits when a non-empty campaign differs from the previous row's (GA4 does not)."""
    def cut(t, o):
        c = campaign[o]
        return (np.diff(t) > HALF_HOUR) | ((c[1:] != c[:-1]) & (c[1:] != ""))
    return _ids(user_id, ts, cut)


def unsorted(user_id, ts, campaign):
    """Groups by user but trusts the file to be in time order."""
    order = np.argsort(user_id, kind="stable")
    u, t = user_id[order], ts[order]
    start = np.ones(len(t), dtype=bool)
    start[1:] = (u[1:] != u[:-1]) | (np.diff(t) > HALF_HOUR)
    ids = np.empty(len(t), dtype=np.int64)
    ids[order] = np.cumsum(start)
    return ids


def per_user_numbers(user_id, ts, campaign):
    """Right, but numbers sessions 1, 2, ... within each user, as SQL's SUM() OVER does."""
    order = np.lexsort((ts, user_id))
    u, t = user_id[order], ts[order]
    new_user = np.ones(len(t), dtype=bool)
    new_user[1:] = u[1:] != u[:-1]
    start = new_user.copy()
    start[1:] |= np.diff(t) > HALF_HOUR
    total = np.cumsum(start)
    first = np.maximum.accumulate(np.where(new_user, np.arange(len(t)), 0))
    ids = np.empty(len(t), dtype=np.int64)
    ids[order] = total - total[first] + 1
    return ids


def wrong_length(user_id, ts, campaign):
    return np.zeros(len(ts) - 1)
'''


@pytest.fixture(scope="session")
def edge_workload() -> Workload:
    """3,000 edge-case events of 150 users (seed 7)."""
    return generate(3_000, 150, "edge-cases", seed=7)


@pytest.fixture
def wrong_module(tmp_path, monkeypatch) -> str:
    """Write the wrong sessionizers into an importable module; return its name."""
    (tmp_path / "wrong_sessionizers.py").write_text(textwrap.dedent(WRONG))
    monkeypatch.syspath_prepend(str(tmp_path))
    return "wrong_sessionizers"

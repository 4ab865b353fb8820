"""EventLog: the column contract, sorting, and selection."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.log.events import COLUMNS, EventLog


def rows(n: int, **over):
    base = {name: [0] * n for name in COLUMNS}
    base.update(over)
    return base


def test_from_rows_sorts_by_user_then_time_keeping_emission_order_on_ties():
    """Rows are sorted by (user, ts); equal keys keep the order they were emitted in."""
    log = EventLog.from_rows(rows(4, user=[2, 1, 1, 1], ts=[5, 9, 3, 3], page=[0, 1, 2, 3]))
    assert log.user.tolist() == [1, 1, 1, 2]
    assert log.ts.tolist() == [3, 3, 9, 5]
    assert log.page.tolist() == [2, 3, 1, 0]


def test_columns_have_the_contract_dtypes():
    """Every column gets its declared dtype."""
    log = EventLog.from_rows(rows(2))
    for name, dtype in COLUMNS.items():
        assert log.columns[name].dtype == np.dtype(dtype), name


def test_missing_or_ragged_columns_are_refused():
    """An EventLog needs every column, all of one length."""
    cols = {name: np.zeros(2) for name in COLUMNS}
    with pytest.raises(ValueError, match="missing columns"):
        EventLog({k: v for k, v in cols.items() if k != "ts"})
    cols["ts"] = np.zeros(3)
    with pytest.raises(ValueError, match="differ in length"):
        EventLog(cols)


def test_select_keeps_order_and_string_tables():
    """select() keeps the rows where the mask is true, in order, with the same name tables."""
    log = EventLog.from_rows(rows(3, ts=[1, 2, 3]), campaigns=("a",), pages=("p",))
    sub = log.select(np.array([True, False, True]))
    assert sub.ts.tolist() == [1, 3]
    assert (sub.campaigns, sub.pages) == (("a",), ("p",))
    assert log.campaign_name(-1) == "(none)"
    assert log.campaign_name(0) == "a"

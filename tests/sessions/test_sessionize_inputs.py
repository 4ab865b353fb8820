"""``sessionize`` on Arrow tables, pandas and Polars DataFrames, strings and tz-aware timestamps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from simulator.sessions import sessionize

# a: 10:00, 10:20 (same GA4 session), 11:30 (timeout); b: 10:05 with campaign y then 10:06 with x
USERS = ["a", "a", "a", "b", "b"]
MINUTES = [0, 20, 90, 5, 6]
CAMPAIGNS = ["x", "", "x", "y", "x"]
EXPECTED_GA4 = [0, 0, 1, 2, 2]
EXPECTED_UA = [0, 0, 1, 2, 3]  # UA: a new campaign starts a session


def _table(unit: str = "us") -> pa.Table:
    base = 1_714_557_600  # 2024-05-01T10:00:00Z
    per = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[unit]
    times = pa.array([(base + m * 60) * per for m in MINUTES], pa.timestamp(unit, tz="UTC"))
    return pa.table({"user_id": USERS, "timestamp": times, "campaign": CAMPAIGNS})


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_arrow_table_of_any_timestamp_unit(unit: str) -> None:
    assert sessionize(_table(unit), "ga4").tolist() == EXPECTED_GA4
    assert sessionize(_table(unit), "universal_analytics").tolist() == EXPECTED_UA


def test_pandas_and_polars_frames_and_series() -> None:
    frame = _table().to_pandas()
    assert str(frame["timestamp"].dtype).startswith("datetime64")
    assert sessionize(frame, "universal_analytics").tolist() == EXPECTED_UA
    assert sessionize(pl.from_arrow(_table()), "universal_analytics").tolist() == EXPECTED_UA
    series = sessionize(frame["user_id"], frame["timestamp"], "universal_analytics", frame["campaign"])
    assert series.tolist() == EXPECTED_UA
    berlin = frame["timestamp"].dt.tz_convert("Europe/Berlin")  # same instants, another zone
    assert sessionize(frame["user_id"], berlin, "ga4").tolist() == EXPECTED_GA4


def test_string_campaigns_and_datetime64_and_aware_datetimes() -> None:
    base = np.datetime64("2024-05-01T10:00:00", "ms")
    ts = base + np.array(MINUTES) * np.timedelta64(60_000, "ms")
    assert sessionize(np.array(USERS), ts, "universal_analytics", np.array(CAMPAIGNS)).tolist() == EXPECTED_UA
    plus2 = dt.timezone(dt.timedelta(hours=2))
    aware = [dt.datetime(2024, 5, 1, 12, m % 60, tzinfo=plus2) + dt.timedelta(hours=m // 60) for m in MINUTES]
    assert sessionize(USERS, aware, "universal_analytics", CAMPAIGNS).tolist() == EXPECTED_UA


def test_empty_input_is_an_empty_result() -> None:
    assert sessionize([], [], "ga4").tolist() == []
    ids, causes = sessionize([], [], "ga4", with_causes=True)
    assert ids.dtype == np.int64
    assert causes.dtype == np.int8
    assert len(causes) == 0


def test_misuse_is_a_value_or_type_error() -> None:
    with pytest.raises(ValueError, match="no column 'user_id'"):
        sessionize(pa.table({"uid": ["a"], "timestamp": [1]}), "ga4")
    with pytest.raises(ValueError, match="equal length"):
        sessionize(["a", "b"], [1], "ga4")
    with pytest.raises(TypeError, match="timestamp must be"):
        sessionize(["a"], ["2024-05-01"], "ga4")
    with pytest.raises(TypeError, match="definition must be"):
        sessionize(["a"], [1], 30)
    with pytest.raises(TypeError, match="needs user_id and timestamp"):
        sessionize(["a"])
    with pytest.raises(ValueError, match="timestamp has a null at row 1"):
        sessionize(pd.Series(["a", "a"]), pa.array([1, None], pa.timestamp("ms", tz="UTC")))

"""The test bench's spark-sql: and spark: sessionizers agree with sessionlab's own ga4 on edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.testbench.adapters import SessionizerError, canonical_ids, parse_sessionizer

GA4_SQL = """
WITH flagged AS (
  SELECT *, CASE WHEN timestamp_ms - LAG(timestamp_ms) OVER w > 1800000
                   OR LAG(timestamp_ms) OVER w IS NULL THEN 1 ELSE 0 END AS new
  FROM events WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id)
)
SELECT row_id, SUM(new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id FROM flagged
"""


def test_spark_sql_and_spark_function_match_builtin(spark, edge_workload, tmp_path, monkeypatch):
    query = tmp_path / "ga4.sql"
    query.write_text(GA4_SQL)
    want = parse_sessionizer("builtin:sessionlab")(edge_workload, "ga4")
    assert np.array_equal(parse_sessionizer(f"spark-sql:{query}")(edge_workload, "ga4"), want)
    module = tmp_path / "spark_job.py"
    module.write_text(
        "from simulator.spark import sessionize\n"
        "def ga4(df):\n"
        "    out = sessionize(df, 'ga4', time='timestamp_ms', epoch='ms')\n"
        "    return out.withColumnRenamed('ga4_session_id', 'session_id')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert np.array_equal(parse_sessionizer("spark:spark_job:ga4")(edge_workload, "ga4"), want)
    assert len(set(canonical_ids(edge_workload.user_id, want, len(want), "x").tolist())) > 1


def test_spark_sql_errors_are_one_line(spark, edge_workload, tmp_path):
    query = tmp_path / "bad.sql"
    query.write_text("SELECT row_id FROM events")
    with pytest.raises(SessionizerError, match="must return row_id and session_id"):
        parse_sessionizer(f"spark-sql:{query}")(edge_workload, "ga4")

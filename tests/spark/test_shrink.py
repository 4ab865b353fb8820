"""Shrinking against a Spark SQL sessionizer: the same counterexample as step by step, in few Spark jobs."""

from __future__ import annotations

import numpy as np

from simulator.testbench.adapters import parse_sessionizer
from simulator.testbench.conform import conform

GE_SQL = """
SELECT row_id, SUM(is_new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id
FROM (
  SELECT row_id, user_id, timestamp_ms,
         CASE WHEN timestamp_ms - LAG(timestamp_ms) OVER w >= 1800000   -- wrong: >= instead of >
                OR LAG(timestamp_ms) OVER w IS NULL THEN 1 ELSE 0 END AS is_new
  FROM events WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id)
)
"""

GE_PY = """
import numpy as np

def ge(user_id, ts, campaign):
    order = np.lexsort((ts, user_id))
    u, t = user_id[order], ts[order]
    start = np.ones(len(t), dtype=bool)
    start[1:] = (u[1:] != u[:-1]) | (np.diff(t) >= 1_800_000)  # wrong: >= instead of >
    ids = np.empty(len(t), dtype=np.int64)
    ids[order] = np.cumsum(start)
    return ids
"""


def test_shrink_on_spark_sql_takes_few_jobs(spark, edge_workload, tmp_path, monkeypatch) -> None:
    (tmp_path / "ge_py.py").write_text(GE_PY)
    monkeypatch.syspath_prepend(str(tmp_path))
    # the same bug step by step (py: is not batched): the counterexample and its number of calls
    before = conform(edge_workload, parse_sessionizer("py:ge_py:ge"), "ga4")
    (want,) = before.counterexamples
    query = tmp_path / "ge.sql"
    query.write_text(GE_SQL)
    sc = spark.sparkContext
    sc.setJobGroup("sessionlab-shrink-test", "conform against spark-sql")
    try:
        res = conform(edge_workload, parse_sessionizer(f"spark-sql:{query}"), "ga4")
        jobs = len(sc.statusTracker().getJobIdsForGroup("sessionlab-shrink-test"))
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    (got,) = res.counterexamples
    assert list(res.classes) == ["boundary"] == list(before.classes)
    assert got.verified
    assert want.verified
    assert np.array_equal(got.timeline.ts, want.timeline.ts)  # the same minimal counterexample
    assert got.reference.tolist() == want.reference.tolist()
    assert got.candidate.tolist() == want.candidate.tolist()
    assert np.diff(np.sort(got.timeline.ts)).tolist() == [1_800_000]
    # step by step it took 5 calls (2 per step of an unsorted batch); batched: the sorted copies
    # ride along and the next steps are evaluated ahead, so 2 calls: one search round, one check
    assert want.calls >= 5
    assert got.calls <= 2
    assert jobs <= 2 + 4 * got.calls  # conform's own 2 runs and at most 4 Spark jobs per call

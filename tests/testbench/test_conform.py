"""Conformance end to end: deliberately wrong sessionizers of every adapter kind are caught,
classified and shrunk to the expected minimal counterexample."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
import textwrap

import numpy as np
import pytest

from simulator.testbench.adapters import parse_sessionizer
from simulator.testbench.conform import conform, render_text
from simulator.testbench.workload import load_workload

HALF_HOUR = 1_800_000

GE_SCRIPT = """
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
order = sorted(range(len(rows)), key=lambda i: (int(rows[i]["user_id"]), int(rows[i]["timestamp_ms"])))
ids, sid, prev = [0] * len(rows), 0, None
for i in order:
    u, t = int(rows[i]["user_id"]), int(rows[i]["timestamp_ms"])
    if prev is None or u != prev[0] or t - prev[1] >= 1_800_000:  # wrong: >= instead of >
        sid += 1
    ids[i], prev = sid, (u, t)
open(sys.argv[2], "w").write("".join(f"{s}\\n" for s in ids))
"""

GE_SQL = """
SELECT row_id,
       SUM(is_new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id
FROM (
  SELECT row_id, user_id, timestamp_ms,
         CASE WHEN timestamp_ms - LAG(timestamp_ms) OVER w >= 1800000   -- wrong: >=
                OR LAG(timestamp_ms) OVER w IS NULL THEN 1 ELSE 0 END AS is_new
  FROM events WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id)
)
"""


def _only(res, cls):
    assert list(res.classes) == [cls]
    (ce,) = res.counterexamples
    assert ce.cls == cls
    assert ce.verified
    return ce


def _exact_boundary(ce):
    """Two rows exactly 30 minutes apart; the reference keeps one session, the candidate has two."""
    ts = np.sort(ce.timeline.ts)
    assert len(ts) == 2
    assert ts[1] - ts[0] == HALF_HOUR
    assert sorted(ce.reference.tolist()) == [1, 1]
    assert sorted(ce.candidate.tolist()) == [1, 2]
    assert (ce.timeline.campaign == "").all()


def test_python_utc_midnight_is_a_midnight_difference_of_two_rows(edge_workload, wrong_module):
    """py: splitting at UTC midnight shrinks to two rows < 30 min apart on either side of it."""
    res = conform(edge_workload, parse_sessionizer(f"py:{wrong_module}:utc_midnight"), "ga4")
    assert not res.ok
    ce = _only(res, "midnight")
    ts = np.sort(ce.timeline.ts)
    assert len(ts) == 2
    assert 0 < ts[1] - ts[0] < HALF_HOUR
    assert ts[0] // 86_400_000 != ts[1] // 86_400_000  # the UTC date changes
    assert "UTC" in ce.detail
    assert ce.candidate.tolist() != ce.reference.tolist()


def test_command_with_opposite_boundary_is_a_boundary_difference(edge_workload, tmp_path):
    """cmd: a script using gap >= 30 min shrinks to 2 rows exactly 30 min apart."""
    script = tmp_path / "ge.py"
    script.write_text(textwrap.dedent(GE_SCRIPT))
    spec = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{input}} {{output}}"
    res = conform(edge_workload, parse_sessionizer(spec), "ga4")
    _exact_boundary(_only(res, "boundary"))
    # every disagreeing user has a gap of exactly 30 min, and only those differ
    assert res.agreement.users_disagree == res.classes["boundary"]["users"]


def test_duckdb_query_with_opposite_boundary_is_a_boundary_difference(edge_workload, tmp_path):
    """sql: a DuckDB query using >= shrinks to 2 rows exactly 30 min apart."""
    pytest.importorskip("duckdb")
    query = tmp_path / "ge.sql"
    query.write_text(GE_SQL)
    res = conform(edge_workload, parse_sessionizer(f"sql:{query}"), "ga4")
    _exact_boundary(_only(res, "boundary"))


def test_unsorted_sessionizer_is_an_ordering_difference_of_two_rows(edge_workload, wrong_module):
    """Trusting file order shrinks to 2 rows over 30 min apart that arrive in reverse order."""
    res = conform(edge_workload, parse_sessionizer(f"py:{wrong_module}:unsorted"), "ga4")
    ce = _only(res, "ordering")
    later, earlier = ce.timeline.ts.tolist()
    assert later - earlier > HALF_HOUR  # the reference splits them; the candidate sees a negative gap
    assert ce.reference.tolist() == [2, 1]
    assert ce.candidate.tolist() == [1, 1]


def test_campaign_splitting_sessionizer_is_a_campaign_difference(edge_workload, wrong_module):
    """Splitting on a campaign change (GA4 does not) shrinks to two close rows, the second with a campaign."""
    res = conform(edge_workload, parse_sessionizer(f"py:{wrong_module}:campaign_split"), "ga4")
    ce = _only(res, "campaign")
    order = np.argsort(ce.timeline.ts, kind="stable")
    ts, camp = ce.timeline.ts[order], ce.timeline.campaign[order]
    assert len(ts) == 2
    assert 0 < ts[1] - ts[0] < HALF_HOUR
    assert camp[0] == ""
    assert camp[1] != ""


@pytest.mark.parametrize("name", ["right", "per_user_numbers"])
def test_correct_sessionizers_agree_on_every_event(edge_workload, wrong_module, name):
    """Right answers agree fully, whether ids are global or numbered per user."""
    res = conform(edge_workload, parse_sessionizer(f"py:{wrong_module}:{name}"), "ga4")
    assert res.ok
    a = res.agreement
    assert (a.events_agree, a.sessions_agree, a.sessions_cand) == (a.events, a.sessions_ref, a.sessions_ref)
    assert "agrees with the definition on every event" in render_text(res, edge_workload.timezone)


def test_agreement_counts_events_and_sessions(edge_workload, wrong_module):
    """Agreement: events in identical sessions and reference sessions matched exactly."""
    res = conform(edge_workload, parse_sessionizer(f"py:{wrong_module}:utc_midnight"), "ga4")
    a = res.agreement
    assert a.events == len(edge_workload)
    assert 0 < a.events_agree < a.events
    assert a.sessions_cand > a.sessions_ref  # splitting more can only add sessions
    assert a.sessions_agree < a.sessions_ref


def test_counterexample_csv_reproduces_the_difference(edge_workload, wrong_module, tmp_path):
    """The written CSV is a workload on which the same class shows again."""
    from simulator.testbench.conform import write_outputs

    sz = parse_sessionizer(f"py:{wrong_module}:utc_midnight")
    res = conform(edge_workload, sz, "ga4")
    written = write_outputs(res, tmp_path, edge_workload.timezone)
    again = conform(load_workload(written["midnight"], edge_workload.timezone), sz, "ga4")
    assert list(again.classes) == ["midnight"]
    assert len(again.counterexamples[0].timeline) == 2
    text = written["midnight"].read_text().splitlines()
    assert text[0] == "user_id,timestamp_ms,timestamp,campaign,reference_session,candidate_session"
    first = text[1].split(",")
    local = dt.datetime.fromisoformat(first[2])
    assert int(local.timestamp() * 1000) == int(first[1])

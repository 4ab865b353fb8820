"""Adapters: spec parsing and its one-line errors, output formats, built-in baselines."""

from __future__ import annotations

import shlex
import sys

import numpy as np
import pytest

from simulator.errors import SessionlabError
from simulator.sessions import sessionize
from simulator.testbench.adapters import SessionizerError, canonical_ids, parse_sessionizer
from simulator.testbench.classify import agreeing_rows


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("foo", "expected \\[LABEL=\\]KIND:VALUE"),
        ("bulitin:duckdb", "did you mean 'builtin'"),
        ("py:", "nothing after py:"),
        ("py:justamodule", "expected py:package.module:function"),
        ("py:no_such_module_xyz:f", "cannot import 'no_such_module_xyz' \\(ModuleNotFoundError"),
        ("py:json:no_such_function", "module 'json' has no callable 'no_such_function'"),
        ("cmd:sort {input}", "needs {output} and {input}"),
        ("cmd:x {inptu} {output}", "unknown placeholder {inptu}"),
        ("sql:missing.sql", "no such SQL file 'missing.sql'"),
        ("builtin:duckbd", "did you mean 'duckdb'"),
    ],
)
def test_bad_specs_are_one_line_errors(spec, message):
    """Every malformed --sessionizer names the spec and what is allowed."""
    with pytest.raises(SessionizerError, match=message) as info:
        parse_sessionizer(spec)
    assert str(info.value).startswith(f"--sessionizer {spec!r}: ")
    assert "\n" not in str(info.value)


def test_labels_prefix_and_defaults():
    """LABEL=KIND:VALUE names a sessionizer; without it the label is derived from the spec."""
    assert parse_sessionizer("fast=builtin:numpy").label == "fast"
    assert parse_sessionizer("builtin:numpy").label == "numpy"
    assert parse_sessionizer("cmd:tool --opt=x {input} {output}").kind == "cmd"


def test_canonical_ids_compare_partitions_not_numbers():
    """Per-user numbering, strings and floats give the same partition as global ints."""
    users = np.array([1, 1, 2, 2, 2])
    a = canonical_ids(users, [0, 0, 1, 1, 2], 5, "x")
    for raw in ([1, 1, 1, 1, 2], ["s", "s", "s", "s", "t"], [7.0, 7.0, 1.0, 1.0, 3.0]):
        assert agreeing_rows(a, canonical_ids(users, raw, 5, "x")).all()


def test_wrong_number_of_ids_is_an_error(edge_workload, wrong_module):
    """A sessionizer returning too few ids is reported, not compared."""
    with pytest.raises(SessionizerError, match="returned \\(2999,\\) session ids for 3000 rows"):
        parse_sessionizer(f"py:{wrong_module}:wrong_length")(edge_workload, "ga4")


ROWS_SCRIPT = """
import csv, sys
sys.path.insert(0, {root!r})
import numpy as np
from simulator import sessionize
rows = list(csv.DictReader(open(sys.argv[1])))
users = np.array([int(r["user_id"]) for r in rows])
ids = sessionize(users, np.array([int(r["timestamp_ms"]) for r in rows]))
lines = [f"{{r['user_id']}},{{r['timestamp']}},s{{i}}" for r, i in zip(rows, ids)]
with open(sys.argv[2], "w") as fh:  # rows in reverse order, ISO timestamps, string ids
    fh.write("user_id,timestamp,session_id\\n" + "".join(line + "\\n" for line in reversed(lines)))
"""


def test_command_rows_output_is_matched_back_by_user_and_time(edge_workload, tmp_path):
    """cmd output as shuffled user_id,timestamp(ISO),session_id rows is aligned with the input."""
    import simulator

    root = str(__import__("pathlib").Path(simulator.__file__).parent.parent)
    script = tmp_path / "rows.py"
    script.write_text(ROWS_SCRIPT.format(root=root))
    spec = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{input}} {{output}}"
    ids = parse_sessionizer(spec)(edge_workload, "ga4")
    ref = sessionize(edge_workload.user_id, edge_workload.timestamp_ms)
    assert agreeing_rows(ref, ids).all()


def test_command_failure_is_reported_with_its_stderr(edge_workload):
    """A failing command: its exit status and last stderr line."""
    spec = f"cmd:{shlex.quote(sys.executable)} -c 'import sys; sys.exit(\"boom\")' {{input}} {{output}}"
    with pytest.raises(SessionizerError, match="exited with status 1: boom"):
        parse_sessionizer(spec)(edge_workload, "ga4")


def test_parquet_input_placeholder(edge_workload, tmp_path):
    """{input_parquet} hands the command a Parquet file with the workload's rows."""
    pytest.importorskip("pyarrow")
    script = tmp_path / "pq.py"
    script.write_text(
        "import sys, pyarrow.parquet as pq\n"
        "t = pq.read_table(sys.argv[1])\n"
        "ids = t.column('user_id').to_pylist()\n"
        "open(sys.argv[2], 'w').write('session_id\\n' + ''.join(f'{u}\\n' for u in ids))\n"
    )
    spec = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(script))} {{input_parquet}} {{output}}"
    ids = parse_sessionizer(spec)(edge_workload, "ga4")  # one session per user: wrong, but aligned
    assert agreeing_rows(canonical_ids(edge_workload.user_id, edge_workload.user_id, 3000, "u"), ids).all()


def test_sql_may_return_user_and_time_instead_of_row_id(edge_workload, tmp_path):
    """sql: (user_id, timestamp_ms, session_id) rows are matched back like command output."""
    pytest.importorskip("duckdb")
    query = tmp_path / "q.sql"
    query.write_text("SELECT user_id, timestamp_ms, user_id AS session_id FROM events ORDER BY random()")
    ids = parse_sessionizer(f"sql:{query}")(edge_workload, "ga4")
    assert len(np.unique(ids)) == len(np.unique(edge_workload.user_id))


def test_sql_errors_are_one_line(edge_workload, tmp_path):
    """A DuckDB error is reported as the first line of DuckDB's message."""
    pytest.importorskip("duckdb")
    query = tmp_path / "bad.sql"
    query.write_text("SELECT nope FROM events")
    with pytest.raises(SessionizerError, match="DuckDB: Binder Error"):
        parse_sessionizer(f"sql:{query}")(edge_workload, "ga4")


@pytest.mark.parametrize("name", ["sessionlab", "numpy", "pandas", "polars", "duckdb"])
def test_builtin_baselines_agree_with_sessionize(edge_workload, name):
    """Every built-in baseline partitions the edge-case workload exactly like ga4."""
    pytest.importorskip({"pandas": "pandas", "polars": "polars", "duckdb": "duckdb"}.get(name, "numpy"))
    ids = parse_sessionizer(f"builtin:{name}")(edge_workload, "ga4")
    ref = sessionize(edge_workload.user_id, edge_workload.timestamp_ms, "ga4")
    assert agreeing_rows(ref, ids).all()


def test_baselines_refuse_definitions_they_do_not_implement(monkeypatch):
    """A definition with more than one inactivity rule is refused by the simple baselines."""
    from simulator.sessions import Definition
    from simulator.sessions.rules import Inactivity
    from simulator.testbench import baselines

    two = Definition("two", (Inactivity(60_000), Inactivity(120_000)), "test")
    monkeypatch.setattr(baselines, "get_definition", lambda name: two)
    with pytest.raises(SessionlabError, match="implement one inactivity rule; definition 'two' has rules"):
        baselines.inactivity_of("two")


RAISING = """
import numpy as np

def raises(user_id, ts, campaign):
    raise ValueError("bad input\\nsecond line")

def one_arg(user_id):
    return user_id

def keyword_zone(user_id, ts, campaign, *, timezone):
    return np.zeros(len(ts))

def generator(user_id, ts, campaign):
    return (u for u in user_id)
"""


@pytest.fixture
def raising_module(tmp_path, monkeypatch) -> str:
    """A module of sessionizers that break their contract."""
    (tmp_path / "raising_sessionizers.py").write_text(RAISING)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "raising_sessionizers"


def test_a_py_sessionizer_that_raises_is_named_with_its_exception(edge_workload, raising_module):
    """The user's exception becomes one line: spec, 'raised', type and the first line of its message."""
    spec = f"py:{raising_module}:raises"
    with pytest.raises(SessionizerError) as info:
        parse_sessionizer(spec)(edge_workload, "ga4")
    assert str(info.value) == f"--sessionizer {spec!r}: raised ValueError: bad input"


def test_a_py_sessionizer_with_the_wrong_signature_fails_when_parsed(raising_module):
    """A function that cannot take (user_id, timestamp_ms, campaign) is refused before any work."""
    spec = f"py:{raising_module}:one_arg"
    with pytest.raises(SessionizerError) as info:
        parse_sessionizer(spec)
    assert str(info.value) == (
        f"--sessionizer {spec!r}: one_arg(user_id) cannot be called as one_arg(user_id, timestamp_ms, "
        "campaign) (too many positional arguments); see 'py:' in --help"
    )
    parse_sessionizer(f"py:{raising_module}:keyword_zone")  # a required keyword timezone is fine


def test_a_py_sessionizer_returning_no_array_is_one_line(edge_workload, raising_module):
    """A generator instead of ids: named, with what was expected."""
    with pytest.raises(SessionizerError, match="returned a generator; expected a 1-d array or list of 3000"):
        parse_sessionizer(f"py:{raising_module}:generator")(edge_workload, "ga4")


def test_command_over_the_time_limit_is_one_line(edge_workload):
    """A command that outlives --time-limit: a SessionizerError, not subprocess.TimeoutExpired."""
    spec = f"cmd:{shlex.quote(sys.executable)} -c 'import time; time.sleep(5)' {{input}} {{output}}"
    with pytest.raises(
        SessionizerError, match=r"did not finish within the time limit \(0.3 s, --time-limit\)"
    ):
        parse_sessionizer(spec)(edge_workload, "ga4", time_limit=0.3)


@pytest.mark.parametrize(
    ("script", "message"),
    [
        (
            "open(sys.argv[1], 'wb').write(bytes(range(128, 256)))",
            "wrote unreadable output: UnicodeDecodeError",
        ),
        (
            "open(sys.argv[1], 'w').write('user_id,timestamp_ms,session_id\\n1,2\\n')",
            "output row 1 has 2 fields; the header has 3",
        ),
    ],
)
def test_unreadable_command_output_is_one_line(edge_workload, tmp_path, script, message):
    """Output that is not UTF-8, or ragged CSV: one line naming the spec."""
    path = tmp_path / "out.py"
    path.write_text(f"import sys\n{script}\n")
    spec = f"cmd:{shlex.quote(sys.executable)} {shlex.quote(str(path))} {{output}} {{input}}"
    with pytest.raises(SessionizerError, match=message) as info:
        parse_sessionizer(spec)(edge_workload, "ga4")
    assert str(info.value).startswith(f"--sessionizer {spec!r}: ")
    assert "\n" not in str(info.value)


def test_sql_with_unreadable_columns_is_one_line(edge_workload, tmp_path):
    """A query whose row_id is not a number: one line, not a ValueError."""
    pytest.importorskip("duckdb")
    query = tmp_path / "q.sql"
    query.write_text("SELECT 'x' AS row_id, user_id AS session_id FROM events")
    with pytest.raises(SessionizerError) as info:
        parse_sessionizer(f"sql:{query}")(edge_workload, "ga4")
    assert str(info.value) == (
        f"--sessionizer 'sql:{query}': returned unreadable columns: ValueError: "
        "invalid literal for int() with base 10: 'x'"
    )


def test_sessionizer_calling_sys_exit_is_a_one_line_error(edge_workload, tmp_path, monkeypatch):
    """User code that calls sys.exit must not end sessionlab silently with its own exit code."""
    (tmp_path / "exiting.py").write_text("import sys\ndef f(user_id, ts, campaign):\n    sys.exit(5)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(SessionizerError) as info:
        parse_sessionizer("py:exiting:f")(edge_workload, "ga4")
    assert str(info.value) == "--sessionizer 'py:exiting:f': raised SystemExit: 5"

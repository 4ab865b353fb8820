"""The rules that read per-event columns (dynamic gap, session events, flag) against the reference.

Hand-worked examples, then random logs with random gaps, event names and flags, mixed with every
other rule, in every kernel path (vectorised rounds, pointer doubling, tiny blocks).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.schema import Ctx
from simulator.sessions import sessionize
from simulator.sessions.config import build_definition, build_rule
from simulator.sessions.kernels import Columns, split_causes
from simulator.sessions.rules import DynamicGap, Flag, Inactivity, SessionEvents, SplitCause
from tests.sessions.reference import reference_causes
from tests.sessions.test_kernels import BASES, ZONES, rounds, rules  # noqa: F401 - the fixture

MIN = 60_000
C, N, G, E, F, I = (  # noqa: E741
    SplitCause.CONTINUES,
    SplitCause.NEW_USER,
    SplitCause.DYNAMIC_GAP,
    SplitCause.SESSION_EVENT,
    SplitCause.FLAG,
    SplitCause.INACTIVITY,
)


def _cols(minutes, gaps=None, events=None, flags=None, users=None) -> Columns:
    n = len(minutes)
    return Columns(
        np.asarray(users if users is not None else [0] * n, np.int64),
        np.asarray(minutes, np.int64) * MIN,
        None,
        None if events is None else np.asarray(events, dtype=object),
        None if gaps is None else np.asarray([-1 if g is None else g * MIN for g in gaps], np.int64),
        None if flags is None else np.asarray(flags, bool),
    )


# -- hand-worked examples ---------------------------------------------------------------------


def test_dynamic_gap_covers_with_the_latest_end_of_any_earlier_event() -> None:
    """A at 0 (gap 60) covers to 60; B at 10 (gap 5) to 15; C at 30 is inside A's cover, so it
    continues although B's own gap ran out at 15 (Spark merges the windows [ts, ts + gap)); D at 61
    is past 60 and 30 + 20 = 50: a new session; E at 70 is inside D's 61 + 10 = 71."""
    cols = _cols([0, 10, 30, 61, 70], gaps=[60, 5, 20, 10, 1])
    assert split_causes(cols, [DynamicGap()]).tolist() == [N, C, C, G, C]


def test_dynamic_gap_boundary_at_exactly_the_cover() -> None:
    """An event exactly at ts + gap stays under 'same' (Spark, Flink) and splits under 'new'."""
    cols = _cols([0, 30], gaps=[30, 30])
    assert split_causes(cols, [DynamicGap()]).tolist() == [N, C]
    assert split_causes(cols, [DynamicGap(boundary="new")]).tolist() == [N, G]


def test_dynamic_gap_default_fills_missing_gaps_and_without_one_is_an_error() -> None:
    """An event without a gap takes the rule's default; with no default it is an error, not a zero."""
    cols = _cols([0, 20, 60], gaps=[None, 50, None])
    assert split_causes(cols, [DynamicGap(default=10 * MIN)]).tolist() == [N, G, C]
    with pytest.raises(ValueError, match="event 0 has no gap value"):
        split_causes(cols, [DynamicGap()])


def test_dynamic_gap_cover_is_per_user() -> None:
    """User 0's long gap does not cover user 1's events."""
    cols = _cols([0, 1, 40], gaps=[600, 5, 5], users=[0, 1, 1])
    assert split_causes(cols, [DynamicGap()]).tolist() == [N, N, G]


def test_session_events_start_at_login_and_end_after_logout() -> None:
    """Login starts a session, the event after Logout starts the next: page, Login, page, Logout,
    page, page, Login -> sessions [page] [Login page Logout] [page page] [Login]."""
    events = ["page", "Login", "page", "Logout", "page", "page", "Login"]
    cols = _cols(range(7), events=events)
    assert split_causes(cols, [SessionEvents("Login", "Logout")]).tolist() == [N, E, C, C, E, C, E]
    assert split_causes(cols, [SessionEvents(start="Login")]).tolist() == [N, E, C, C, C, C, E]
    assert split_causes(cols, [SessionEvents(end="Logout")]).tolist() == [N, C, C, C, E, C, C]


def test_session_events_with_a_timeout_name_the_first_rule_that_fires() -> None:
    """Mixpanel's event-based sessions with a timeout: session_events + inactivity(30m); a Login
    after 40 minutes is named by the rule listed first."""
    cols = _cols([0, 5, 45, 50], events=["Login", "page", "Login", "page"])
    both = [SessionEvents("Login", "Logout"), Inactivity(30 * MIN)]
    assert split_causes(cols, both).tolist() == [N, C, E, C]
    assert split_causes(cols, both[::-1]).tolist() == [N, C, I, C]


def test_flag_forces_a_new_session_within_the_timeout() -> None:
    """Matomo new_visit=1: the flagged event starts a visit even one minute after the last."""
    cols = _cols([0, 1, 2, 3], flags=[True, False, True, False])
    assert split_causes(cols, [Inactivity(30 * MIN), Flag()]).tolist() == [N, C, F, C]


def test_a_rule_without_its_column_is_an_error_naming_it() -> None:
    cols = _cols([0, 1])
    for rule, field in ((DynamicGap(), "gap"), (SessionEvents("a"), "event"), (Flag(), "flag")):
        with pytest.raises(ValueError, match=f"the {field} column"):
            split_causes(cols, [rule])


# -- the public sessionize --------------------------------------------------------------------


def test_sessionize_takes_the_columns_in_any_order_and_from_a_table() -> None:
    """Rows out of order are sorted with their gaps, names and flags; a table names its columns."""
    import pyarrow as pa

    user = ["u", "u", "u", "v"]
    ts = np.array([61, 0, 30, 0]) * MIN
    gap = ["10m", "60m", "5m", None]
    ids, causes = sessionize(user, ts, _def(DynamicGap(default=0)), gap=gap, with_causes=True)
    assert ids.tolist() == [1, 0, 0, 2]
    assert causes.tolist() == [G, N, C, N]
    table = pa.table({"user_id": user, "timestamp": ts, "event_name": ["a", "Login", "b", "c"]})
    assert sessionize(table, _def(SessionEvents("Login"))).tolist() == [0, 0, 0, 1]
    flags = pa.table({"user_id": user, "timestamp": ts, "nv": ["0", "", "1", "true"]})
    assert sessionize(flags, _def(Flag()), flag_column="nv").tolist() == [1, 0, 1, 2]


def test_sessionize_refuses_a_missing_or_bad_column() -> None:
    with pytest.raises(ValueError, match="needs a gap per event: pass gap="):
        sessionize([1, 1], [0, 1], _def(DynamicGap()))
    with pytest.raises(ValueError, match="negative gap at row 1: -5 "):
        sessionize([1, 1], [0, 1], _def(DynamicGap()), gap=[5, -5])
    with pytest.raises(ValueError, match="unreadable gap at row 0: 'soon'"):
        sessionize([1, 1], [0, 1], _def(DynamicGap()), gap=["soon", "5m"])
    with pytest.raises(ValueError, match="unreadable flag at row 1: 'maybe'"):
        sessionize([1, 1], [0, 1], _def(Flag()), flag=["1", "maybe"])
    with pytest.raises(ValueError, match="equal length"):
        sessionize([1, 1], [0, 1], _def(Flag()), flag=[True])


def _def(rule):
    from simulator.sessions.presets import Definition

    return Definition("t", (rule,), "test", ())


# -- configuration ----------------------------------------------------------------------------


def test_rules_from_scenario_tables() -> None:
    ctx = Ctx("s.toml")
    assert build_rule({"rule": "dynamic_gap", "default": "30m"}, ctx) == DynamicGap(default=30 * MIN)
    assert build_rule({"rule": "session_events", "start": "Login"}, ctx) == SessionEvents("Login")
    assert build_rule({"rule": "flag"}, ctx) == Flag()
    d = build_definition(
        {
            "name": "mp",
            "rules": [{"rule": "session_events", "start": "Login", "end": "Logout"}, {"rule": "midnight"}],
        },
        ctx,
    )
    assert d.describe() == "session_events(start=Login, end=Logout) + midnight()"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"rule": "session_events"}, r"s.toml: rules\[1\]: rule 'session_events': give 'start'"),
        ({"rule": "session_events", "start": ""}, r"rules\[1\]\.start: expected an event name"),
        ({"rule": "session_events", "begin": "x"}, r"rules\[1\]\.begin: unknown key"),
        ({"rule": "dynamic_gap", "default": 30}, r"rules\[1\]\.default: expected a duration"),
        ({"rule": "dynamic_gap", "boundary": "old"}, r"rules\[1\]\.boundary: expected a boundary"),
        ({"rule": "flag", "column": "nv"}, r"rules\[1\]\.column: unknown key"),
    ],
)
def test_bad_rule_tables_name_the_key(raw, message) -> None:
    with pytest.raises(ScenarioError, match=message):
        build_definition({"name": "x", "rules": [raw]}, Ctx("s.toml"))


# -- against the reference --------------------------------------------------------------------

NAMES = ("page", "Login", "Logout", "buy")
events = st.tuples(
    st.one_of(st.sampled_from((0, 1, 30 * MIN, 30 * MIN + 1)), st.integers(0, 3 * 3_600_000)),
    st.sampled_from(NAMES),
    st.one_of(st.none(), st.sampled_from((0, 1, 10 * MIN, 30 * MIN)), st.integers(0, 2 * 3_600_000)),
    st.booleans(),
)
logs = st.lists(
    st.tuples(st.sampled_from(BASES), st.lists(events, min_size=1, max_size=14)), min_size=1, max_size=5
)
column_rules = st.one_of(
    st.builds(DynamicGap, st.sampled_from((0, 30 * MIN)), st.sampled_from(("same", "new"))),
    st.builds(SessionEvents, st.sampled_from((None, "Login", "buy")), st.sampled_from(("Logout", "buy"))),
    st.just(Flag()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    log=logs,
    definition=st.lists(st.one_of(column_rules, rules), min_size=1, max_size=4),
    tz=st.sampled_from(ZONES),
)
def test_column_rules_mixed_with_every_rule_match_reference(log, definition, tz, rounds) -> None:  # noqa: F811
    user, ts, ev, gap, flag = [], [], [], [], []
    for u, (base, items) in enumerate(log):
        t = base
        for dt_, name, g, f in items:
            t += dt_
            user.append(u)
            ts.append(t)
            ev.append(name)
            gap.append(g)
            flag.append(f)
    cols = Columns(
        np.array(user, np.int64),
        np.array(ts, np.int64),
        np.array([(u + k) % 3 - 1 for k, u in enumerate(user)], np.int32),
        np.array(ev, dtype=object),
        np.array([-1 if g is None else g for g in gap], np.int64),
        np.array(flag, bool),
    )
    got = split_causes(cols, definition, tz)
    want = reference_causes(user, ts, cols.campaign.tolist(), definition, tz, event=ev, gap=gap, flag=flag)
    assert got.tolist() == want


@settings(max_examples=80, deadline=None)
@given(log=logs, timeout=st.sampled_from((1, 10 * MIN, 30 * MIN)), boundary=st.sampled_from(("same", "new")))
def test_one_gap_for_every_event_is_inactivity(log, timeout, boundary) -> None:
    """dynamic_gap with the same gap on every event gives inactivity's sessions, cause aside."""
    user, ts = [], []
    for u, (base, items) in enumerate(log):
        t = base
        for dt_, *_ in items:
            t += dt_
            user.append(u)
            ts.append(t)
    n = len(ts)
    cols = Columns(np.array(user, np.int64), np.array(ts, np.int64), gap=np.full(n, timeout, np.int64))
    dyn = split_causes(cols, [DynamicGap(boundary=boundary)]) != 0
    ina = split_causes(cols, [Inactivity(timeout, boundary)]) != 0
    assert dyn.tolist() == ina.tolist()


# -- per-rule overrides of a preset -----------------------------------------------------------


def test_a_parameter_of_two_rules_is_addressed_by_rule_name() -> None:
    """posthog has two 'boundary' parameters (inactivity's and max_duration's): each is addressed as
    RULE.PARAM, from the CLI and from TOML (a dotted key reads as a nested table)."""
    import tomllib

    from simulator.sessions.config import parse_definition_spec

    cli = parse_definition_spec("posthog:max_duration.boundary=new")
    assert cli.describe() == "inactivity(timeout=30m, boundary=same) + max_duration(limit=1d)"
    toml = tomllib.loads('d = { name = "ph", preset = "posthog", max_duration.boundary = "new" }')["d"]
    assert build_definition(toml, Ctx("s.toml")).rules == cli.rules
    assert (
        parse_definition_spec("ga4:inactivity.timeout=45m").rules
        == parse_definition_spec("ga4:timeout=45m").rules
    )
    assert {"inactivity.boundary", "max_duration.boundary", "limit", "timeout"} == set(cli.parameters())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "posthog:boundary=new",
            "several rules of preset 'posthog' take 'boundary'; say which: "
            "inactivity.boundary, max_duration.boundary",
        ),
        ("ga4:timeout=40m,inactivity.timeout=45m", "'inactivity.timeout' and 'timeout' set the same"),
        ("ga4:timeout=40m,timeout=45m", "'timeout' is given twice"),
        ("posthog:max_duration.boundary=old", "max_duration.boundary: expected a boundary"),
    ],
)
def test_ambiguous_or_repeated_overrides_are_errors(spec, message) -> None:
    from simulator.sessions.config import parse_definition_spec

    with pytest.raises(ScenarioError, match=message.replace(".", r"\.").replace("(", r"\(")):
        parse_definition_spec(spec)

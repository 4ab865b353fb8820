"""The public ``sessionize``: any row order, datetime64, strings, campaigns, time zones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import sessionize, sessions
from simulator.sessions.config import parse_definition_spec
from simulator.sessions.presets import PRESETS
from simulator.sessions.rules import SplitCause
from tests.sessions.reference import reference_causes, reference_ids

MIN = 60_000


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 4),
            st.sampled_from([0, 1, 30 * MIN - 1, 30 * MIN, 30 * MIN + 1, 50 * MIN, 20 * 3_600_000]),
            st.integers(-1, 2),
        ),
        min_size=1,
        max_size=60,
    ),
    name=st.sampled_from(sorted(PRESETS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_shuffled_input_matches_reference_on_sorted_rows(rows: list, name: str, seed: int) -> None:
    """Ids are numbered in (user, time) order, ties in input order, whatever the row order."""
    rng = np.random.default_rng(seed)
    user = np.array([r[0] for r in rows], dtype=np.int64)
    ts = np.cumsum([r[1] for r in rows], dtype=np.int64)[rng.permutation(len(rows))] + 1_700_000_000_000
    camp = np.array([r[2] for r in rows], dtype=np.int32)
    ids, causes = sessionize(user, ts, name, camp, timezone="Europe/Berlin", with_causes=True)
    order = np.lexsort((ts, user))
    want = reference_causes(
        user[order].tolist(), ts[order].tolist(), camp[order].tolist(), PRESETS[name].rules, "Europe/Berlin"
    )
    assert causes[order].tolist() == want
    assert ids[order].tolist() == reference_ids(want)


def test_datetime64_and_string_users() -> None:
    """datetime64 timestamps and string user ids work; a 31-minute gap splits under ga4."""
    ts = np.array(["2024-01-01T10:00", "2024-01-01T10:31", "2024-01-01T10:05"], dtype="datetime64[m]")
    assert sessionize(np.array(["b", "b", "a"]), ts).tolist() == [1, 2, 0]


def test_timezone_drives_midnight_rules() -> None:
    """23:50 and 00:05 in Berlin split under mixpanel with the Berlin zone, not with UTC."""
    ts = np.array([1_717_278_600_000, 1_717_279_500_000])  # 2024-06-01 21:50 and 22:05 UTC
    assert sessionize(np.zeros(2), ts.astype(np.int64), "mixpanel").tolist() == [0, 0]
    berlin = sessionize(np.zeros(2, np.int64), ts, "mixpanel", timezone="Europe/Berlin", with_causes=True)
    assert berlin[0].tolist() == [0, 1]
    assert berlin[1].tolist() == [SplitCause.NEW_USER, SplitCause.MIDNIGHT]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((np.zeros(2), np.zeros(3, np.int64)), ValueError),
        ((np.zeros(2), np.zeros(2)), TypeError),
        ((np.zeros(1), np.array(["NaT"], dtype="datetime64[ms]")), ValueError),
    ],
)
def test_misuse_raises_builtin_errors(args: tuple, error: type) -> None:
    """Mismatched lengths, float timestamps and NaT are ValueError/TypeError."""
    with pytest.raises(error):
        sessionize(*args)


@pytest.mark.parametrize("bucket_rows", [1, 3, 16])
@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 40),
            st.sampled_from([0, 1, 30 * MIN, 30 * MIN + 1, 20 * 3_600_000]),
            st.integers(-1, 2),
        ),
        min_size=1,
        max_size=120,
    ),
    name=st.sampled_from(sorted(PRESETS)),
    seed=st.integers(0, 2**32 - 1),
)
def test_large_inputs_in_user_buckets_equal_one_pass(
    bucket_rows: int, rows: list, name: str, seed: int
) -> None:
    """Above 2 x BUCKET_ROWS rows, users are sessionized in code ranges on two threads: the ids and
    causes equal the one-pass result (ties, campaigns, midnight rules, empty buckets included)."""
    rng = np.random.default_rng(seed)
    user = np.array([r[0] for r in rows], dtype=np.int64) * 7  # gaps in the codes: empty buckets
    ts = np.cumsum([r[1] for r in rows], dtype=np.int64)[rng.permutation(len(rows))] + 1_700_000_000_000
    camp = np.array([r[2] for r in rows], dtype=np.int32)
    one = sessionize(user, ts, name, camp, timezone="Europe/Berlin", with_causes=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sessions, "BUCKET_ROWS", bucket_rows)
        many = sessionize(user, ts, name, camp, timezone="Europe/Berlin", with_causes=True)
    assert many[0].tolist() == one[0].tolist()
    assert many[1].tolist() == one[1].tolist()


def test_rule_columns_follow_their_rows_into_the_buckets() -> None:
    """Event names, gaps and flags are cut into the user buckets with the rows they belong to."""
    rng = np.random.default_rng(5)
    n = 400
    user = rng.integers(0, 30, n)
    ts = rng.integers(0, 6 * 3_600_000, n) + 1_700_000_000_000
    event = rng.choice(["page_view", "login", "logout"], n)
    gap = rng.choice([60_000, 30 * MIN, 90 * MIN], n)
    flag = rng.random(n) < 0.05
    spec = parse_definition_spec("dynamic_gap+session_events:start=login,end=logout+flag")
    kw = {"event": event, "gap": gap, "flag": flag, "with_causes": True}
    one = sessionize(user, ts, spec, **kw)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sessions, "BUCKET_ROWS", 7)
        many = sessionize(user, ts, spec, **kw)
    assert many[0].tolist() == one[0].tolist()
    assert many[1].tolist() == one[1].tolist()
    assert len(set(one[1].tolist())) > 2  # several causes fired: the columns were read

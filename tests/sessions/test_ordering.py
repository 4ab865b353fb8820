"""The packed-key stable argsort equals np.lexsort, in every path (one key, two passes, fallback)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sessions import ordering
from simulator.sessions.ordering import is_sorted, order_by_user_time, sort_by_user_time, user_codes


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2**30), st.integers(0, 2**40)), min_size=1, max_size=300),
    user_span=st.sampled_from([3, 2**10, 2**30]),
    ts_span=st.sampled_from([5, 2**20, 2**40]),
)
def test_order_equals_lexsort(rows: list, user_span: int, ts_span: int) -> None:
    """Ties in (user, ts) keep input order, as np.lexsort's do, whatever the key widths."""
    user = np.array([u % user_span for u, _ in rows], dtype=np.int64)
    ts = np.array([t % ts_span for _, t in rows], dtype=np.int64) - 10**12
    assert order_by_user_time(user, ts).tolist() == np.lexsort((ts, user)).tolist()


def test_coarse_keys_are_resorted_within_buckets() -> None:
    """With 2^30 users and a 2^40 ms range, the first key drops time bits; the second pass fixes order."""
    rng = np.random.default_rng(7)
    user = rng.integers(0, 2**30, 5000) % 7 * 2**29
    ts = rng.integers(0, 2**40, 5000) % 50_000  # many rows per coarse bucket
    assert order_by_user_time(user, ts).tolist() == np.lexsort((ts, user)).tolist()


def test_falls_back_to_lexsort_when_keys_cannot_fit() -> None:
    """Huge user and time ranges still give the lexsort order."""
    user = np.array([2**61, 0, 2**61, 5], dtype=np.int64)
    ts = np.array([-(2**61), 2**61, -(2**61), 0], dtype=np.int64)
    assert order_by_user_time(user, ts).tolist() == np.lexsort((ts, user)).tolist()


@pytest.mark.parametrize("bits", [63, 40, 28, 22, 18])
@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2**12), st.integers(0, 2**40)), min_size=1, max_size=300),
    ts_span=st.sampled_from([3, 2**9, 2**40]),
)
def test_every_key_width_gives_the_lexsort_order(bits: int, rows: list, ts_span: int) -> None:
    """With a narrower word, small logs take every path a 10 M-row log takes in 63 bits: one key; a
    coarse first key and a packed second pass; a second pass too wide to pack (lexsort of the bucket
    rows only); the whole fallback. Each gives np.lexsort's order and reads the columns back exactly."""
    user = np.array([u for u, _ in rows], dtype=np.int64)
    ts = np.array([t % ts_span for _, t in rows], dtype=np.int64)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ordering, "_BITS", bits)
        got = sort_by_user_time(user, ts)
    order = np.lexsort((ts, user))
    assert got.order.tolist() == order.tolist()
    assert got.ts.tolist() == ts[order].tolist()
    assert got.user.tolist() == user[order].tolist()


@pytest.mark.parametrize(
    ("ids", "codes"),
    [
        (np.array([5, -3, 5, 7]), [8, 0, 8, 10]),
        (np.array(["b", "a", "b"]), [1, 0, 1]),
        (np.array([2**64 - 1, 2**64 - 3], dtype=np.uint64), [2, 0]),
        (np.array(["x", 3], dtype=object), [1, 0]),
    ],
)
def test_user_codes_keep_order_and_equality(ids: np.ndarray, codes: list) -> None:
    """Integer ids are shifted, other ids get dense codes; equal ids share a code."""
    assert user_codes(ids).tolist() == codes


def test_is_sorted_checks_user_then_time() -> None:
    """Sorted by user then time is sorted; a time going back within a user is not."""
    assert is_sorted(np.array([0, 0, 1]), np.array([5, 6, 1]))
    assert not is_sorted(np.array([0, 0, 1]), np.array([6, 5, 1]))
    assert not is_sorted(np.array([1, 0]), np.array([0, 1]))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(st.tuples(st.integers(0, 2**30), st.integers(0, 2**40)), min_size=1, max_size=200),
    ts_span=st.sampled_from([5, 2**40]),
)
def test_sorted_columns_are_read_back_exactly(rows: list, ts_span: int) -> None:
    """The sorted user codes and times equal the gathered ones, in both key layouts."""
    user = np.array([u for u, _ in rows], dtype=np.int64)
    ts = np.array([t % ts_span for _, t in rows], dtype=np.int64)
    got = sort_by_user_time(user, ts)
    order = np.lexsort((ts, user))
    assert got.order.tolist() == order.tolist()
    assert got.ts.tolist() == ts[order].tolist()
    assert np.array_equal(got.user[1:] != got.user[:-1], user[order][1:] != user[order][:-1])

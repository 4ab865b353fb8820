"""Every timestamp form parses to the same instant as a per-row ``datetime`` reference."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.log.timeparse import parse_times

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
moments = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59)
nanos = st.integers(0, 999)


def reference_ns(wall: dt.datetime, minutes: int, extra_ns: int) -> int:
    """Instant in ns since the epoch, by datetime arithmetic on one value."""
    aware = wall.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes)))
    return (aware - EPOCH) // dt.timedelta(microseconds=1) * 1000 + extra_ns


def forms(wall: dt.datetime, minutes: int, extra_ns: int) -> list[str]:
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    frac = f"{wall.microsecond:06d}{extra_ns:03d}"
    base = f"{wall.year:04d}-" + wall.strftime("%m-%d") + "T" + wall.strftime("%H:%M:%S") + "." + frac
    out = [
        f"{base}{sign}{hh:02d}:{mm:02d}",
        f"{base}{sign}{hh:02d}{mm:02d}",
        base.replace("T", " ") + f"{sign}{hh:02d}:{mm:02d}",
    ]
    if minutes == 0:
        out += [base + "Z", base.replace("T", " ") + " UTC"]
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(moments, offsets | st.just(0), nanos), min_size=1, max_size=20))
def test_iso_forms_match_datetime(values: list[tuple[dt.datetime, int, int]]) -> None:
    texts, expected = [], []
    for wall, minutes, extra in values:
        for text in forms(wall, minutes, extra):
            texts.append(text)
            expected.append(reference_ns(wall, minutes, extra))
    times, _ = parse_times(pa.array(texts))
    assert times.bad == {}
    got = [int(ms) * 1_000_000 + int(ns) for ms, ns in zip(times.ms, times.ns, strict=True)]
    assert got == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=20), st.sampled_from(["s", "ms", "us", "ns"])
)
def test_epoch_numbers_match_integer_arithmetic(values: list[int], unit: str) -> None:
    per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    low, high = -62_135_596_800_000 * 10**6, 253_402_300_800_000 * 10**6
    for column in (pa.array(values, pa.int64()), pa.array([str(v) for v in values])):
        times, _ = parse_times(column, unit)
        for i, v in enumerate(values):
            if low <= v * per < high:
                assert i not in times.bad
                assert int(times.ms[i]) * 10**6 + int(times.ns[i]) == v * per
            else:
                assert "outside the years 1 to 9999" in times.bad[i]

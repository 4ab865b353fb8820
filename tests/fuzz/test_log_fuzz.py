"""Fuzz: mutated event logs (CSV, JSON Lines, Parquet) through ``sessionlab sessionize``, black-box.

Asserts only what holds for any reader: exit 0, 1 or 2, and an error as one line naming the file,
never a traceback or exit 3 (so these tests stay valid when the reader is rewritten). The inputs:
ragged rows, garbage bytes, files cut short, nulls, wrong types, extreme timestamps, deeply nested
JSON values, 5,001-digit numbers. See tests/fuzz/_fuzz.py for the example counts.
"""

from __future__ import annotations

import io
import json
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz._fuzz import assert_clean_exit, fuzz_settings, run_cli

HEADER = ["user_id", "timestamp", "campaign", "event_name"]
GOOD = [
    ["u1", "2024-05-01T10:00:00+00:00", "brand", "page_view"],
    ["u1", "2024-05-01T10:05:00+00:00", "", "page_view"],
    ["u2", "2024-05-01T23:59:59.999+02:00", "generic", "purchase"],
    ["u3", "2024-05-02T00:00:00Z", "", "page_view"],
]
ODD_VALUES = [
    "", None, "nan", "inf", "-1", "0", "1e400", "9" * 5001, "1" * 20, "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00", "+10000-01-01T00:00:00+00:00", "2024-03-31T02:30:00", "2024-02-30T00:00:00Z",
    "1714557600", "1714557600000", "-62135596800000", "\u00e9\u4e2d\U0001f600", "a\x00b", "x" * 1000,
    "\ufeff",
]  # fmt: skip
JSON_VALUES = [
    None, True, 1.5, -1, 10**30, float("nan"), [], {}, [1, [2, [3]]], {"a": {"b": 1}},
    1714557600000, 1.7145576e12, 2**63, -(2**63) - 1,
]  # fmt: skip
#: JSON text that no Python value dumps to: huge literals, deep nesting, the non-standard constants
RAW_JSON = ["1e400", "NaN", "-Infinity", "1" + "0" * 400 + ".5", "[" * 30 + "]" * 30, "-0"]  # fmt: skip
#: Inputs that ended in a traceback in the per-row reader (issue 17); the pyarrow reader ends them cleanly.
READER_BUGS = {
    "jsonl_5001_digit_number": (
        "jsonl",
        b'{"user_id": ' + b"9" * 5001 + b', "timestamp": "2024-05-01T10:00:00Z"}\n',
    ),
    "jsonl_deeply_nested_value": (
        "jsonl",
        b'{"user_id": "u1", "timestamp": "2024-05-01T10:00:00Z", "x": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}\n",
    ),
}


@st.composite
def rows(draw: st.DrawFn) -> list[list[object]]:
    out = [list(r) for r in GOOD]
    for _ in range(draw(st.integers(0, 4))):
        row = list(draw(st.sampled_from(GOOD)))
        col = draw(st.integers(0, 3))
        row[col] = draw(st.one_of(st.sampled_from(ODD_VALUES), st.text(max_size=20)))
        how = draw(st.sampled_from(["set", "short", "long"]))
        if how == "short":
            row = row[: draw(st.integers(0, 3))]
        elif how == "long":
            row = [*row, "extra"]
        out.insert(draw(st.integers(0, len(out))), row)
    return out


def _csv(data: list[list[object]]) -> bytes:
    lines = [",".join(HEADER)]
    for row in data:
        cells = ["" if v is None else str(v) for v in row]
        lines.append(",".join(f'"{c}"' if ("," in c or '"' in c or "\n" in c) else c for c in cells))
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")


def _jsonl(data: list[list[object]], draw: st.DrawFn) -> bytes:
    lines = []
    for row in data:
        record: dict[str, object] = dict(zip(HEADER, row, strict=False))
        if draw(st.booleans()):
            record[draw(st.sampled_from(HEADER))] = draw(st.sampled_from(JSON_VALUES))
        line = json.dumps(record, ensure_ascii=False)
        if draw(st.integers(0, 3)) == 0:
            key = draw(st.sampled_from(HEADER))
            line = line[:-1] + f', "{key}_raw": 0}}' if key not in record else line
            line = re.sub(
                rf'("{key}(?:_raw)?": )("[^"]*"|[^,}}]+)',
                lambda m: m.group(1) + draw(st.sampled_from(RAW_JSON)),
                line,
                count=1,
            )
        lines.append(line)
    return ("\n".join(lines) + "\n").encode("utf-8", errors="surrogatepass")


def _parquet(data: list[list[object]], draw: st.DrawFn) -> bytes:
    cols = {name: [None if len(r) <= i else r[i] for r in data] for i, name in enumerate(HEADER)}
    arrays = {k: pa.array([None if v is None else str(v) for v in vs], pa.string()) for k, vs in cols.items()}
    how = draw(st.sampled_from(["strings", "timestamp_ms", "timestamp_s", "ints", "nulltype"]))
    if how.startswith("timestamp"):
        unit = how.split("_")[1]
        values = [draw(st.integers(-(2**40), 2**40)) for _ in data]
        arrays["timestamp"] = pa.array(values, pa.timestamp(unit, tz=draw(st.sampled_from([None, "UTC"]))))
    elif how == "ints":
        arrays[draw(st.sampled_from(HEADER))] = pa.array(
            [draw(st.integers(-(2**63), 2**63 - 1)) for _ in data]
        )
    elif how == "nulltype":
        arrays[draw(st.sampled_from(HEADER))] = pa.nulls(len(data))
    sink = io.BytesIO()
    pq.write_table(pa.table(arrays), sink)
    return sink.getvalue()


@st.composite
def logs(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(["csv", "jsonl", "parquet"]))
    data = draw(rows())
    raw = {
        "csv": lambda: _csv(data),
        "jsonl": lambda: _jsonl(data, draw),
        "parquet": lambda: _parquet(data, draw),
    }[fmt]()
    how = draw(st.sampled_from(["none", "none", "cut", "garbage", "bom", "latin1"]))
    if how == "cut":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif how == "garbage":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    elif how == "bom" and fmt != "parquet":
        raw = b"\xef\xbb\xbf" + raw
    elif how == "latin1" and fmt != "parquet":
        raw = raw.replace(b"page_view", "p\u00e4ge".encode("latin-1"))
    return fmt, raw


@fuzz_settings()
@given(case=logs(), skip_bad=st.booleans())
def test_mutated_logs_end_in_a_clean_exit(
    case: tuple[str, bytes], skip_bad: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    fmt, raw = case
    path = tmp_path_factory.mktemp("logfuzz") / f"events.{fmt}"
    path.write_bytes(raw)
    code, _, err = run_cli(["sessionize", str(path), *(["--skip-bad"] if skip_bad else [])])
    assert_clean_exit(code, err, str(path), f"{fmt} log ({len(raw)} bytes): {raw[:600]!r}")


@pytest.mark.parametrize("name", sorted(READER_BUGS))
def test_known_reader_bugs_end_in_a_clean_exit(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    fmt, raw = READER_BUGS[name]
    path = tmp_path_factory.mktemp("logbug") / f"events.{fmt}"
    path.write_bytes(raw)
    code, _, err = run_cli(["sessionize", str(path)])
    assert_clean_exit(code, err, str(path), name)


def test_the_unmutated_logs_sessionize(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The baseline of the mutations: the clean log reads in every format (4 rows, 3 users)."""
    for fmt, raw in (
        ("csv", _csv(GOOD)),
        ("jsonl", "".join(json.dumps(dict(zip(HEADER, r, strict=True))) + "\n" for r in GOOD).encode()),
        ("parquet", None),
    ):
        path = tmp_path_factory.mktemp("logbase") / f"events.{fmt}"
        if raw is None:
            pq.write_table(pa.table({k: [r[i] for r in GOOD] for i, k in enumerate(HEADER)}), path)
        else:
            path.write_bytes(raw)
        code, out, err = run_cli(["sessionize", str(path), "--json"])
        assert (code, err) == (0, ""), err
        assert json.loads(out)["definitions"]["ga4"]["users"] == 3

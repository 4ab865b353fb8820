"""Fuzz: mutated bundled scenario files through ``sessionlab run``, in-process.

Every mutation (a value swapped for another type, a huge or tiny number, a 4,401-digit integer, deep
nesting, unicode, odd zone names and dates, a line dropped, an unknown key, the campaigns removed, the
file cut short) must end in exit 0, 1 or 2, with an error as one line naming the file: never a
traceback or exit 3. See tests/fuzz/_fuzz.py for the example counts (``--fuzz N`` for a longer run).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import SCENARIOS
from tests.fuzz._fuzz import assert_clean_exit, fuzz_settings, run_cli

FILES = sorted(SCENARIOS.glob("*.toml"))
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in FILES}

NUMBERS = [
    "0", "-1", "1", "0.5", "-0.0", "3.5", "1e-300", "5e-324", "1e308", "1e15", "1000000000000001",
    "10000001", "2147483648", "9223372036854775808", "1" + "0" * 400, "9" * 4401, "nan", "inf", "-inf",
]  # fmt: skip
STRINGS = [
    '""', '"x"', '"America"', '"' + "a" * 300 + '"', '"Europe/Berlin"', '"Mars/Olympus"', '"../../etc"',
    '"30m"', '"0s"', '"1e400d"', '"99999999999w"', '"3661d"', '"\u00e9\u4e2d\U0001f600"', '"phone"',
    '"ga4"', '"py:os:_exit"', '"cmd:true"',
]  # fmt: skip
DATES = [
    "0001-01-01", "9999-12-31", "8999-12-31T23:00:00", "2024-03-31T02:30:00", "1899-12-31T23:59:59",
    "1970-01-01T00:00:00Z", "1900-01-01T00:00:00-23:59", "2024-13-01", "08:00:00",
]  # fmt: skip
STRUCTURES = [
    "[]", "[1, 2]", "{}", "true", "[" * 40 + "]" * 40, "[" * 3000 + "]" * 3000,
    "{ a = " * 50 + "1" + " }" * 50, '{ dist = "lognormal", median = 1e15, sigma = 10 }',
    '{ dist = "lognormal", median = "3660d", sigma = 10 }',
    '{ dist = "geometric", mean = 1e15 }', '{ dist = "normal", mean = 1, sd = 1e15 }', '{ dist = "nope" }',
    '{ desktop = 1e400 }', '{ hours = [0, 25] }', '{ hours = [24, 6] }',
]  # fmt: skip

_VALUE = re.compile(r"(\b[A-Za-z_][\w-]*\s*=\s*)([^,}\]\n#]+?)(\s*(?:[,}\]#]|$))", re.MULTILINE)


@st.composite
def literal(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["number", "string", "date", "structure", "text", "int"]))
    if kind == "text":
        return json.dumps(draw(st.text(max_size=40)), ensure_ascii=False)
    if kind == "int":
        return str(draw(st.integers(min_value=-(10**20), max_value=10**20)))
    pool = {"number": NUMBERS, "string": STRINGS, "date": DATES, "structure": STRUCTURES}[kind]
    return draw(st.sampled_from(pool))


def _replace_value(text: str, draw: st.DrawFn) -> str:
    spots = list(_VALUE.finditer(text))
    m = draw(st.sampled_from(spots))
    return text[: m.start(2)] + draw(literal()) + text[m.end(2) :]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    for _ in range(draw(st.integers(1, 3))):
        how = draw(
            st.sampled_from(["value", "value", "value", "drop", "unknown", "no_campaign", "cut", "junk"])
        )
        lines = text.splitlines(keepends=True)
        if how == "value" and _VALUE.search(text):
            text = _replace_value(text, draw)
        elif how == "drop" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[:i] + lines[i + 1 :])
        elif how == "unknown":
            heads = [i for i, ln in enumerate(lines) if ln.startswith("[")] or [0]
            i = draw(st.sampled_from(heads))
            key = draw(st.sampled_from(["colour", "visitor", "startt", "x" * 300, '"\u00e9t\u00e9"']))
            lines.insert(i + 1, f"{key} = {draw(literal())}\n")
            text = "".join(lines)
        elif how == "no_campaign":
            text = re.sub(r"\[\[campaign\]\][^\[]*", "", text)
        elif how == "cut":
            text = text[: draw(st.integers(0, len(text)))]
        else:
            i = draw(st.integers(0, len(text)))
            text = text[:i] + draw(st.text(min_size=1, max_size=5)) + text[i:]
    return name, text


def _run_args(path: Path, text: str) -> list[str]:
    """``run FILE``, with a small population where there is one (the run stays fast)."""
    return ["run", str(path), *(["--visitors", "20"] if "[population]" in text else [])]


@fuzz_settings()
@given(case=mutated())
def test_mutated_scenarios_end_in_a_clean_exit(
    case: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    name, text = case
    path = tmp_path_factory.mktemp("fuzz") / f"mutated_{name}"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_cli(_run_args(path, text))
    assert_clean_exit(code, err, str(path), f"{name} mutated:\n{text[:2000]}")


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_each_bundled_scenario_runs_unmutated(path: Path) -> None:
    """The baseline of the mutations: each bundled file runs cleanly as it is."""
    code, out, err = run_cli(_run_args(path, path.read_text(encoding="utf-8")))
    assert (code, err.count("Traceback")) == (0, 0), err
    assert out.strip()

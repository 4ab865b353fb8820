"""Plain-text tables: zero rows and columns, and fitting a terminal's width without losing a word."""

from __future__ import annotations

from collections import Counter

from hypothesis import example, given, settings
from hypothesis import strategies as st

from simulator.report.tables import drop_zero, fit_lines, format_table, is_zero


def test_zero_cells_are_the_printed_zeros_and_no_values():
    for cell in ("0", "+0", "-0", "0.00", "0.00 %", "-", "n/a", " 0 "):
        assert is_zero(cell), cell
    for cell in ("1", "+1", "0.01", "0.01 %", "-1", "10", "1,000", "0.5", "a", "", "e"):
        assert not is_zero(cell), cell


def test_drop_zero_keeps_labels_and_counts_what_went():
    header = ["x", "a", "b", "c"]
    rows = [["one", "0", "1", "-"], ["two", "0", "0.00", "0 %"], ["zero", "0", "+2", "n/a"]]
    head, kept, n_rows, n_cols = drop_zero(header, rows)
    assert (n_rows, n_cols) == (1, 2)  # row 'two'; columns a and c
    assert head == ["x", "b"]
    assert kept == [["one", "1"], ["zero", "+2"]]
    assert drop_zero(header, rows, columns=False)[1] == [rows[0], rows[2]]


def test_the_why_column_wraps_onto_continuation_lines():
    rows = [["repeat_click", "-2", "clicked the same ad again during the visit"]]
    text = format_table(["", "count", "why"], rows, "lrl", width=40, wrap=2)
    assert text.splitlines() == [
        "              count  why",
        "------------  -----  -------------------",  # 40 - 12 - 5 - 2 * 2 = 19 for the why column
        "repeat_click     -2  clicked the same ad",
        "                     again during the",
        "                     visit",
    ]
    assert format_table(["", "count", "why"], rows, "lrl") == format_table(
        ["", "count", "why"], rows, "lrl", width=200
    )


def test_wide_headers_wrap_onto_lines_that_sit_on_the_rule():
    text = format_table(
        ["day", "joined a session", "split off a visit"], [["2024-05-01", "-4", "+1"]], width=30
    )
    assert text.splitlines() == [
        "             joined  split",  # columns of 10, 7 (the longest word) and 5
        "                  a  off a",
        "day         session  visit",
        "----------  -------  -----",
        "2024-05-01       -4     +1",
    ]


_words = st.text(alphabet="abcdefghij,.%+-0123456789", min_size=1, max_size=14)
_cell = st.lists(_words, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(_cell, min_size=4, max_size=4), min_size=1, max_size=6),
    header=st.lists(_cell, min_size=4, max_size=4),
    width=st.integers(20, 120),
)
@example(rows=[["0", "0", "0", "0"]], header=["0", "0", "0", "0 000000--01"], width=20)  # no break at "-"
def test_every_line_fits_and_no_word_is_lost(rows, header, width):
    """Against a plain reference: the words of every cell, in the fitted output; no line over the width."""
    text = fit_lines(format_table(header, rows, "lrrl", width=width, wrap=3), width)
    assert all(len(line) <= width for line in text.splitlines())
    words = "".join(text.split())
    cells = [*header, *(c for r in rows for c in r)]
    for word in (w for cell in cells for w in cell.split()):
        assert word in words  # whole, or cut at a line end and continued on the next line
    ignore = str.maketrans("", "", "- \n")  # the rule under the header is dashes
    assert Counter(text.translate(ignore)) == Counter("".join(cells).translate(ignore))

"""The CLI's number types: what they accept and the one message they give otherwise."""

from __future__ import annotations

import argparse

import pytest

from simulator.cli.argtypes import confidence, seconds, whole


@pytest.mark.parametrize(
    ("text", "value"), [("10000", 10000), ("10_000", 10000), ("10,000", 10000), ("1e4", 10000)]
)
def test_whole_accepts_common_spellings(text, value):
    """Thousands separators and scientific notation are fine for counts."""
    assert whole(1, "3")(text) == value


@pytest.mark.parametrize("text", ["0", "-5", "1.5", "x", "nan", "inf", ""])
def test_whole_refuses_below_minimum_fractions_and_words(text):
    """Anything but a whole number >= the minimum is refused with the expected form and an example."""
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected a whole number >= 1 like 3, got"):
        whole(1, "3")(text)


def test_seconds_and_confidence_ranges():
    """Seconds are finite and > 0; a confidence level lies strictly between 0 and 1."""
    assert seconds("0.5") == 0.5
    assert confidence("0.95") == 0.95
    for bad in ("0", "-1", "inf", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="seconds > 0"):
            seconds(bad)
    for bad in ("0", "1", "1.5", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match=r"in \(0, 1\)"):
            confidence(bad)

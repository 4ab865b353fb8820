"""argparse types for the CLI's numbers: each refuses bad input with the expected form and an example."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["confidence", "seconds", "whole"]


def whole(minimum: int, example: str) -> Callable[[str], int]:
    """A type for whole numbers ``>= minimum``; ``10000``, ``10_000``, ``10,000`` and ``1e4`` all work."""

    def parse(text: str) -> int:
        try:
            value = float(text.replace("_", "").replace(",", ""))
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value == int(value) and value >= minimum):
            raise argparse.ArgumentTypeError(
                f"expected a whole number >= {minimum} like {example}, got {text!r}"
            )
        return int(value)

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def seconds(text: str) -> float:
    """A time limit in seconds: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0 like 30 or 0.5, got {text!r}")
    return value


def confidence(text: str) -> float:
    """A confidence level strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1) like 0.95, got {text!r}")
    return value

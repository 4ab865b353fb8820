"""argparse types for the CLI's numbers: each refuses bad input with the expected form and an example."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["confidence", "seconds", "whole"]

_DAY = 86_400.0


def whole(minimum: int, example: str, maximum: int = 2**63 - 1) -> Callable[[str], int]:
    """A type for whole numbers in ``[minimum, maximum]``; ``10000``, ``10_000``, ``10,000``, ``1e4`` work.

    Plain digits are read exactly (a 20-digit seed stays itself); ``1e4`` forms go through ``float``.
    """

    def parse(text: str) -> int:
        clean = text.replace("_", "").replace(",", "")
        try:
            value: float = int(clean)
        except ValueError:
            try:
                value = float(clean)
            except ValueError:
                value = math.nan
        if not (math.isfinite(value) and value == int(value) and minimum <= value <= maximum):
            bound = f">= {minimum}" if maximum == 2**63 - 1 else f"from {minimum} to {maximum:,}"
            raise argparse.ArgumentTypeError(f"expected a whole number {bound} like {example}, got {text!r}")
        return int(value)

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def seconds(text: str) -> float:
    """A time limit in seconds: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0 < value <= _DAY):
        raise argparse.ArgumentTypeError(
            f"expected a number of seconds > 0 and at most a day like 30 or 0.5, got {text!r}"
        )
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

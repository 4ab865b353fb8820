"""Header matching shared by the report readers, and the parsing of numbers as reports print them.

A header matches a canonical column when, after folding case, turning en/em dashes into hyphens and
collapsing spaces and punctuation, it equals one of the column's known names (English and the
localised names of the platforms' German, French and Spanish UIs listed with each reader).
Every column that matches nothing is named in a notice; a cell that should hold a number and does
not parse raises :class:`~simulator.errors.ScenarioError` naming the file, line and column.

Numbers are read as downloads print them: thousands separators (``1,234`` or ``1.234,5`` when the
column's values use a decimal comma), currency symbols or codes (``€1,234.50``, ``USD 12.00``),
percent signs, and ``--`` (Google Ads) or an empty cell for "no value" (None).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from simulator.errors import ScenarioError

__all__ = ["match_headers", "normalise", "parse_number"]

_FOLD = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-", "\xa0": " "})
_NONE = {"", "--", "-", "\u2014", "n/a"}
_CURRENCY = re.compile(r"^(?:[A-Z]{3}\s*)?([^\d\-+.,]*)(.*?)([^\d.,%]*)$")


def normalise(header: str) -> str:
    """``"Sessions \u2013 Total "`` -> ``"sessions - total"``: case, dashes and spacing folded."""
    text = header.translate(_FOLD).strip().lower()
    text = re.sub(r"\s*-\s*", " - ", text)
    return re.sub(r"\s+", " ", text)


def match_headers(
    headers: Sequence[str], known: Mapping[str, Iterable[str]], path: str, line: int
) -> tuple[dict[str, int], list[str]]:
    """Map canonical names to column indices; return ``(columns, notices)``.

    ``known`` maps a canonical name to its accepted header names. A header that matches nothing is
    named in a notice (nothing is dropped silently); a canonical name matched twice is an error.
    """
    lookup = {normalise(name): canon for canon, names in known.items() for name in (canon, *names)}
    columns: dict[str, int] = {}
    notices = []
    for i, head in enumerate(headers):
        canon = lookup.get(normalise(head))
        if canon is None:
            if head.strip():
                notices.append(f"{path}:{line}: column {head.strip()!r} is not used")
            continue
        if canon in columns:
            raise ScenarioError(
                path, f"line {line}", f"columns {headers[columns[canon]]!r} and {head!r} both mean {canon!r}"
            )
        columns[canon] = i
    return columns, notices


def parse_number(cell: str, path: str, line: int, column: str) -> float | None:
    """A report's number as a float (None for ``--`` or an empty cell); an error names the place."""
    text = cell.translate(_FOLD).strip().replace(" ", "").replace("\u202f", "")
    if text.lower() in _NONE:
        return None
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    body = re.sub(r"^[A-Za-z]{3}(?=[\d\-.])", "", text)  # ISO currency code: USD12.00
    body = re.sub(r"[A-Za-z]{3}$", "", body)
    body = body.strip("$€£¥₹%").rstrip("%")
    body = re.sub(r"^[^\d\-+.]+", "", body) if not re.match(r"^[\d\-+.]", body) else body
    if "," in body and "." in body:
        body = (
            body.replace(",", "")
            if body.rfind(".") > body.rfind(",")
            else body.replace(".", "").replace(",", ".")
        )
    elif "," in body:
        # 1,234 / 12,345,678: thousands; 12,5: a decimal comma
        body = body.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", body) else body.replace(",", ".")
    try:
        value = float(body)
    except ValueError:
        raise ScenarioError(
            path,
            f"line {line}, column {column!r}",
            f"expected a number (like 1,234 or €12.50 or --), got {cell!r}",
        ) from None
    if not math.isfinite(value):
        raise ScenarioError(
            path, f"line {line}, column {column!r}", f"expected a finite number, got {cell!r}"
        )
    return -value if negative else value

"""Shared plumbing of the JSON readers: records per line, checked values, the canonical table."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from simulator.errors import ScenarioError
from simulator.log.formats import CANONICAL_COLUMNS, canonical_schema

NAMES = tuple(name for name, _ in CANONICAL_COLUMNS)


#: Campaign properties the JSON exports name alike (UTM parameters, Google's click id).
UTM_PROPS = {"utm_source": "source", "utm_medium": "medium", "utm_campaign": "campaign", "gclid": "gclid"}


def properties(
    rec: Mapping[str, Any], key: str, path: Path, where: str, *, optional: bool = True
) -> Mapping[str, Any]:
    """An event's properties object (``optional``: absent or null is empty); anything else is refused."""
    props = (rec.get(key) or {}) if optional else rec[key]
    if not isinstance(props, dict):
        raise ScenarioError(str(path), f"{where}: {key}", "expected an object")
    return props


def json_lines(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(``line N``, object) per non-blank line; a JSON array file is read as one record per item."""
    with path.open(encoding="utf-8") as fh:
        first = fh.read(1)
        fh.seek(0)
        if first == "[":
            try:
                doc = json.load(fh)
            except json.JSONDecodeError as exc:
                raise ScenarioError(str(path), "", f"not JSON ({exc.msg} at line {exc.lineno})") from None
            for i, rec in enumerate(doc, 1):
                if not isinstance(rec, dict):
                    raise ScenarioError(str(path), f"[{i}]", "expected an object (an event)")
                yield f"[{i}]", rec
            return
        for i, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ScenarioError(str(path), f"line {i}", f"not JSON ({exc.msg})") from None
            if not isinstance(rec, dict):
                raise ScenarioError(str(path), f"line {i}", "expected one JSON object per line (an event)")
            yield f"line {i}", rec


def require(rec: Mapping[str, Any], fields: tuple[str, ...], path: Path, where: str, schema: str) -> None:
    for field in fields:
        if field not in rec:
            raise ScenarioError(str(path), where, f"no field {field!r} ({schema})")


def as_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def iso_us(value: Any, path: Path, where: str, field: str) -> int:
    """An ISO-8601 or ``YYYY-MM-DD HH:MM:SS[.ffffff]`` time (naive = UTC) in epoch microseconds."""
    try:
        stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(
            str(path), f"{where}: {field}", f"expected a time like 2024-05-01T08:00:00Z, got {value!r}"
        ) from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    delta = stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def number(value: Any, path: Path, where: str, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(str(path), f"{where}: {field}", f"expected a number, got {value!r}")
    return value


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """The canonical table from one dict per event."""
    return columns_table({f.name: [r.get(f.name) for r in rows] for f in canonical_schema()})


def columns_table(cols: Mapping[str, list[Any]]) -> pa.Table:
    """The canonical table from one list per canonical column (timestamps as epoch microseconds)."""
    schema = canonical_schema()
    arrays = [
        pa.array(cols[f.name], type=pa.int64()).cast(f.type)
        if f.name == "timestamp"
        else pa.array(cols[f.name], f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)

"""GA4 BigQuery export: ``events_YYYYMMDD`` / ``events_intraday_YYYYMMDD`` tables, as BigQuery writes them.

Schema: "[GA4] BigQuery Export schema", https://support.google.com/analytics/answer/7029846 (also
https://developers.google.com/analytics/bigquery/event-schema). One row per event:

- ``user_pseudo_id`` (STRING) -> ``user_id``; ``event_timestamp`` (INTEGER, microseconds, UTC) ->
  ``timestamp``; ``event_name`` (STRING).
- ``event_params`` (REPEATED RECORD): ``key`` and ``value.{string,int,float,double}_value``; this
  reader takes ``ga_session_id`` -> ``platform_session_id``, ``ga_session_number`` ->
  ``platform_session_number``, ``page_location`` -> ``page``, ``page_referrer`` -> ``referrer``, and
  ``source`` / ``medium`` / ``campaign`` / ``gclid`` when ``collected_traffic_source`` lacks them.
- ``collected_traffic_source`` (RECORD): ``manual_source``, ``manual_medium``,
  ``manual_campaign_name``, ``gclid``.
- ``privacy_info.analytics_storage`` -> ``consent``; ``device.category`` -> ``device``.

Files: newline-delimited JSON as ``bq extract --destination_format NEWLINE_DELIMITED_JSON`` writes it
(INTEGER columns are JSON *strings* there, e.g. ``"event_timestamp":"1714550400000000"``; numbers are
accepted too) and Parquet (``--destination_format PARQUET``, nested as the table). The *flattened*
form that a query yields (``SELECT ... (SELECT value.int_value FROM UNNEST(event_params) WHERE key =
'ga_session_id') AS ga_session_id``) is read too: one column per parameter, named like the key.

Everything else (``event_date``, ``stream_id``, ``traffic_source`` — the user's *first* source, not
the session's —, ``session_engaged``, ``engagement_time_msec``, ``items`` ...) is listed as ignored.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from simulator.errors import ScenarioError
from simulator.log.formats import CANONICAL_COLUMNS
from simulator.log.formats._common import columns_table, json_lines

__all__ = ["read"]

_USED_TOP = {
    "user_pseudo_id",
    "event_timestamp",
    "event_name",
    "event_params",
    "collected_traffic_source",
    "privacy_info",
    "device",
}
_PARAMS = {
    "ga_session_id": "platform_session_id",
    "ga_session_number": "platform_session_number",
    "page_location": "page",
    "page_referrer": "referrer",
    "source": "source",
    "medium": "medium",
    "campaign": "campaign",
    "gclid": "gclid",
}
_CTS = {
    "manual_source": "source",
    "manual_medium": "medium",
    "manual_campaign_name": "campaign",
    "gclid": "gclid",
}
_VALUE_KINDS = ("string_value", "int_value", "float_value", "double_value")


def _records(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(where, record) per event: ``line N`` for NDJSON, ``row N`` for Parquet (from 1)."""
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise ScenarioError(str(path), "", f"not a readable Parquet file ({exc})") from None
        for i, rec in enumerate(table.to_pylist(), 1):
            yield f"row {i}", rec
        return
    yield from json_lines(path)


def _int(value: Any, path: Path, where: str, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ScenarioError(
        str(path), f"{where}: {field}", f"expected an integer (BigQuery INTEGER), got {value!r}"
    )


def _param_value(entry: Any, path: Path, where: str) -> tuple[str, Any]:
    if (
        not isinstance(entry, Mapping)
        or "key" not in entry
        or not isinstance(entry.get("value"), Mapping | None)
    ):
        raise ScenarioError(
            str(path),
            f"{where}: event_params",
            "each entry must be {key, value: {string_value, int_value, ...}}",
        )
    value = entry.get("value") or {}
    for kind in _VALUE_KINDS:
        if value.get(kind) is not None:
            return str(entry["key"]), value[kind]
    return str(entry["key"]), None


def _head(rec: Mapping[str, Any], path: Path, where: str) -> dict[str, Any]:
    """The row's user, time and event name, checked."""
    for field in ("user_pseudo_id", "event_timestamp", "event_name"):
        if field not in rec:
            raise ScenarioError(str(path), where, f"no field {field!r} (GA4 BigQuery export schema)")
    ts = _int(rec["event_timestamp"], path, where, "event_timestamp")
    if ts is None:
        raise ScenarioError(str(path), f"{where}: event_timestamp", "is null; every event has a time")
    if rec["user_pseudo_id"] is not None and not isinstance(rec["user_pseudo_id"], str):
        raise ScenarioError(str(path), f"{where}: user_pseudo_id", "expected a string (BigQuery STRING)")
    row: dict[str, Any] = dict.fromkeys(_CANONICAL_NAMES)
    row.update(timestamp=ts, user_id=rec["user_pseudo_id"], event_name=rec["event_name"])
    return row


def _params(rec: Mapping[str, Any], path: Path, where: str, row: dict[str, Any], ignored: set[str]) -> None:
    """Session id and number, page, referrer and traffic parameters, nested or flattened."""
    nested = "event_params" in rec
    if nested:
        params = rec["event_params"] or []
        if not isinstance(params, list):
            raise ScenarioError(str(path), f"{where}: event_params", "expected a repeated record (a list)")
        kv = dict(_param_value(e, path, where) for e in params)
        ignored.update(k for k in rec if k not in _USED_TOP)
    else:  # flattened: one column per parameter
        kv = {k: v for k, v in rec.items() if k not in _USED_TOP}
    for key, value in kv.items():
        target = _PARAMS.get(key)
        if target is None:
            ignored.add(f"event_params.{key}" if nested else key)
        elif target == "platform_session_number":
            row[target] = _int(value, path, where, key)
        elif target == "platform_session_id":
            row[target] = None if value is None else str(_int(value, path, where, key))
        else:
            row[target] = None if value is None else str(value)


def _records_of(rec: Mapping[str, Any], row: dict[str, Any], ignored: set[str]) -> None:
    """collected_traffic_source, privacy_info and device."""
    for key, value in (rec.get("collected_traffic_source") or {}).items():
        if key not in _CTS:
            ignored.add(f"collected_traffic_source.{key}")
        elif value is not None:
            row[_CTS[key]] = str(value)
    for record, used, target in (
        ("privacy_info", "analytics_storage", "consent"),
        ("device", "category", "device"),
    ):
        values = rec.get(record) or {}
        row[target] = values.get(used)
        ignored.update(f"{record}.{k}" for k in values if k != used)


def read(path: Path) -> tuple[pa.Table, tuple[str, ...]]:
    """Read a GA4 export file; the canonical table and the fields (and parameters) not used."""
    cols: dict[str, list[Any]] = {name: [] for name in _CANONICAL_NAMES}
    ignored: set[str] = set()
    for where, rec in _records(path):
        row = _head(rec, path, where)
        _params(rec, path, where, row, ignored)
        _records_of(rec, row, ignored)
        for name in _CANONICAL_NAMES:
            cols[name].append(row[name])
    return columns_table(cols), tuple(sorted(ignored))


_CANONICAL_NAMES = tuple(name for name, _ in CANONICAL_COLUMNS)

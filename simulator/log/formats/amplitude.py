"""Amplitude Export API events (one JSON object per line, as in the export's unzipped files).

Schema: https://amplitude.com/docs/apis/analytics/export (fields ``user_id``, ``device_id``,
``event_time`` "YYYY-MM-DD HH:MM:SS.ffffff" UTC, ``event_type``, ``session_id`` = the session's
start in epoch ms, -1 for events outside a session; ``event_properties``, ``device_type``) and
https://amplitude.com/docs/data/sources/instrument-track-sessions. Mapped: ``user_id`` (else
``device_id``) -> ``user_id``; ``event_time``; ``event_type`` -> ``event_name``; ``session_id``
-> ``platform_session_id`` (null when -1); ``event_properties``: ``[Amplitude] Page URL`` ->
``page``, ``[Amplitude] Page Referrer`` / ``referrer`` -> ``referrer``, ``utm_source`` /
``utm_medium`` / ``utm_campaign``, ``gclid``; ``device_type`` -> ``device``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from simulator.errors import ScenarioError
from simulator.log.formats._common import NAMES, UTM_PROPS, as_str, iso_us, json_lines, require, table

_SCHEMA = "Amplitude Export API schema"
_USED = {"user_id", "device_id", "event_time", "event_type", "session_id", "event_properties", "device_type"}
_PROPS = {
    "[Amplitude] Page URL": "page",
    "[Amplitude] Page Referrer": "referrer",
    "referrer": "referrer",
    **UTM_PROPS,
}


def read(path: Path) -> tuple[pa.Table, tuple[str, ...]]:
    rows, ignored = [], set()
    for where, rec in json_lines(path):
        require(rec, ("event_time", "event_type", "session_id"), path, where, _SCHEMA)
        sid = rec["session_id"]
        if sid is not None and (isinstance(sid, bool) or not isinstance(sid, int)):
            raise ScenarioError(
                str(path), f"{where}: session_id", f"expected epoch ms (an integer), got {sid!r}"
            )
        props = rec.get("event_properties") or {}
        row = dict.fromkeys(NAMES)
        row.update(
            user_id=as_str(rec.get("user_id")) or as_str(rec.get("device_id")),
            timestamp=iso_us(rec["event_time"], path, where, "event_time"),
            event_name=as_str(rec["event_type"]),
            platform_session_id=None if sid in (None, -1) else str(sid),
            device=as_str(rec.get("device_type")),
        )
        for key, target in _PROPS.items():
            row[target] = row[target] or as_str(props.get(key))
        ignored.update(k for k, v in rec.items() if k not in _USED and v not in (None, ""))
        ignored.update(f"event_properties.{k}" for k in props if k not in _PROPS)
        rows.append(row)
    return table(rows), tuple(sorted(ignored))

"""Mixpanel Raw Event Export API (``/api/2.0/export``): one JSON object per line.

Schema: https://developer.mixpanel.com/reference/raw-event-export (``{"event": NAME, "properties":
{"time": epoch seconds, "distinct_id", "$insert_id", ...}}``). Mixpanel computes sessions at query
time (https://docs.mixpanel.com/docs/features/sessions) and exports no session id, so
``platform_session_id`` is null and ``audit`` has nothing to hold against the rule. Mapped:
``properties.distinct_id`` -> ``user_id``; ``properties.time`` (seconds; fractional accepted) ->
``timestamp``; ``event``; ``$current_url`` -> ``page``, ``$referrer``, ``utm_source`` /
``utm_medium`` / ``utm_campaign``, ``gclid``, ``$device`` -> ``device``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from simulator.log.formats._common import (
    NAMES,
    UTM_PROPS,
    as_str,
    json_lines,
    number,
    properties,
    require,
    table,
)

_SCHEMA = "Mixpanel export API schema"
_PROPS = {
    "$current_url": "page",
    "$referrer": "referrer",
    **UTM_PROPS,
    "$device": "device",
}


def read(path: Path) -> tuple[pa.Table, tuple[str, ...]]:
    rows, ignored = [], set()
    for where, rec in json_lines(path):
        require(rec, ("event", "properties"), path, where, _SCHEMA)
        props = properties(rec, "properties", path, where, optional=False)
        require(props, ("time", "distinct_id"), path, f"{where}: properties", _SCHEMA)
        seconds = number(props["time"], path, where, "properties.time")
        row = dict.fromkeys(NAMES)
        row.update(
            user_id=as_str(props["distinct_id"]),
            timestamp=round(seconds * 1_000_000),
            event_name=as_str(rec["event"]),
        )
        for key, target in _PROPS.items():
            row[target] = as_str(props.get(key))
        ignored.update(k for k in rec if k not in {"event", "properties"})
        ignored.update(
            f"properties.{k}" for k in props if k not in _PROPS and k not in {"time", "distinct_id"}
        )
        rows.append(row)
    return table(rows), tuple(sorted(ignored))

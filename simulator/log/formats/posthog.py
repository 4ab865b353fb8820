"""PostHog events as exported (the events table / batch export as JSON Lines, or a JSON array).

Schema: https://posthog.com/docs/data/events (an event: ``uuid``, ``event``, ``distinct_id``,
``timestamp`` ISO-8601, ``properties``) and https://posthog.com/docs/data/sessions (``$session_id``
in ``properties``, set by posthog-js ``sessionid.ts``). Mapped: ``distinct_id`` -> ``user_id``;
``timestamp``; ``event``; ``properties``: ``$session_id`` -> ``platform_session_id``,
``$current_url`` -> ``page``, ``$referrer`` -> ``referrer``, ``utm_source`` / ``utm_medium`` /
``utm_campaign``, ``gclid``, ``$device_type`` -> ``device``. Other fields and properties are
listed as ignored.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from simulator.log.formats._common import (
    NAMES,
    UTM_PROPS,
    as_str,
    iso_us,
    json_lines,
    properties,
    require,
    table,
)

_SCHEMA = "PostHog event schema"
_PROPS = {
    "$session_id": "platform_session_id",
    "$current_url": "page",
    "$referrer": "referrer",
    **UTM_PROPS,
    "$device_type": "device",
}


def read(path: Path) -> tuple[pa.Table, tuple[str, ...]]:
    rows, ignored = [], set()
    for where, rec in json_lines(path):
        require(rec, ("distinct_id", "timestamp", "event"), path, where, _SCHEMA)
        props = properties(rec, "properties", path, where)
        row = dict.fromkeys(NAMES)
        row.update(
            user_id=as_str(rec["distinct_id"]),
            timestamp=iso_us(rec["timestamp"], path, where, "timestamp"),
            event_name=as_str(rec["event"]),
        )
        for key, target in _PROPS.items():
            row[target] = as_str(props.get(key))
        ignored.update(k for k in rec if k not in {"distinct_id", "timestamp", "event", "properties"})
        ignored.update(f"properties.{k}" for k in props if k not in _PROPS)
        rows.append(row)
    return table(rows), tuple(sorted(ignored))

"""Matomo raw data: ``log_link_visit_action`` rows (one per action), optionally joined with ``log_visit``.

Schema: https://developer.matomo.org/guides/database-schema (``log_link_visit_action``: ``idvisitor``
BINARY(8), ``idvisit``, ``server_time`` DATETIME in UTC, ``idaction_url``, ``pageview_position`` ...;
``log_visit``: ``idvisit``, ``visitor_count_visits``, ``referer_url``, ``referer_name``,
``referer_type``, ``campaign_name``, ``config_device_type``, ``visit_last_action_time``). Files: a CSV
with a header line, comma- or tab-separated (``mysql -B`` writes tabs; ``\\N`` or ``NULL`` is null),
``idvisitor`` as hex (``HEX(idvisitor)``, as Matomo shows it). Mapped: ``idvisitor`` -> ``user_id``,
``server_time`` -> ``timestamp``, ``idvisit`` -> ``platform_session_id``, ``visitor_count_visits`` ->
``platform_session_number``, ``campaign_name``, ``referer_url`` -> ``referrer``, ``url`` (a joined
``log_action.name``) -> ``page``. Other columns are listed as ignored.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from simulator.errors import ScenarioError
from simulator.log.formats._common import NAMES, iso_us, table

_NULL = {"", "\\N", "NULL"}
_USED = {
    "idvisitor": "user_id",
    "idvisit": "platform_session_id",
    "campaign_name": "campaign",
    "referer_url": "referrer",
    "url": "page",
}


def read(path: Path) -> tuple[pa.Table, tuple[str, ...]]:
    rows, ignored = [], set()
    with path.open(encoding="utf-8", newline="") as fh:
        head = fh.readline()
        fh.seek(0)
        reader = csv.DictReader(fh, delimiter="\t" if "\t" in head else ",")
        missing = {"idvisitor", "idvisit", "server_time"} - set(reader.fieldnames or ())
        if missing:
            raise ScenarioError(
                str(path),
                "line 1",
                f"header lacks {', '.join(sorted(missing))} (Matomo log_link_visit_action)",
            )
        for i, rec in enumerate(reader, 2):
            where = f"line {i}"
            value = {k: (None if v in _NULL else v) for k, v in rec.items()}
            if value["server_time"] is None:
                raise ScenarioError(str(path), f"{where}: server_time", "is empty; every action has one")
            row = dict.fromkeys(NAMES)
            row["timestamp"] = iso_us(value["server_time"], path, where, "server_time")
            for key, target in _USED.items():
                row[target] = value.get(key)
            count = value.get("visitor_count_visits")
            if count is not None:
                try:
                    row["platform_session_number"] = int(count)
                except ValueError:
                    raise ScenarioError(
                        str(path), f"{where}: visitor_count_visits", f"expected an integer, got {count!r}"
                    ) from None
            ignored.update(k for k, v in value.items() if v is not None and k not in _USED and k not in
                           {"server_time", "visitor_count_visits"})  # fmt: skip
            rows.append(row)
    return table(rows), tuple(sorted(ignored))

"""Snowplow events in the three documented forms (docs.snowplow.io enriched-tsv-format; canonical event).

- ``d1`` session ``s1`` (domain_sessionidx 1): 08:00, 08:20, 09:00 — a 40-min gap inside one id;
- ``d2`` session ``s2`` (idx 1) 08:00, then ``s3`` (idx 2) 08:10 — a new id 10 minutes later;
- ``d3`` session ``s4`` (idx 1) one page view at 08:05 with mkt_* from a Google Ads click.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from simulator.log.formats.snowplow import ENRICHED_COLUMNS

SITE = "https://shop.example.com"


def _event(user: str, sid: str, idx: int, hhmm: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(ENRICHED_COLUMNS, "")
    stamp = f"2024-05-01 {hhmm}:00.000"
    row.update(
        app_id="shop",
        platform="web",
        etl_tstamp=stamp,
        collector_tstamp=stamp,
        dvce_created_tstamp=stamp,
        event="page_view",
        event_id=f"e-{user}-{hhmm}",
        v_collector="ssc-2.9.0-kinesis",
        v_etl="snowplow-enrich-kinesis-3.9.0",
        domain_userid=user,
        domain_sessionidx=str(idx),
        page_url=f"{SITE}/",
        page_urlhost="shop.example.com",
        br_lang="en-GB",
        dvce_type="Computer",
        domain_sessionid=sid,
        derived_tstamp=stamp,
        event_vendor="com.snowplowanalytics.snowplow",
        event_name="page_view",
        event_format="jsonschema",
        event_version="1-0-0",
    )
    row.update(extra)
    return row


EVENTS = [
    _event("d1", "s1", 1, "08:00"),
    _event("d1", "s1", 1, "08:20"),
    _event("d1", "s1", 1, "09:00"),
    _event("d2", "s2", 1, "08:00"),
    _event("d2", "s3", 2, "08:10"),
    _event(
        "d3",
        "s4",
        1,
        "08:05",
        mkt_medium="cpc",
        mkt_source="google",
        mkt_campaign="spring",
        mkt_clickid="Cj0K",
        mkt_network="Google",
    ),
]


def write_tsv(path: Path) -> Path:
    path.write_text(
        "".join("\t".join(e[c] for c in ENRICHED_COLUMNS) + "\n" for e in EVENTS), encoding="utf-8"
    )
    return path


def write_csv(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=ENRICHED_COLUMNS)
        w.writeheader()
        w.writerows(EVENTS)
    return path


def write_parquet(path: Path) -> Path:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    def stamp(s: str):
        return dt.datetime.fromisoformat(s).replace(tzinfo=dt.UTC) if s else None

    rows = []
    for e in EVENTS:
        r = {k: (v or None) for k, v in e.items()}
        for k in ("etl_tstamp", "collector_tstamp", "dvce_created_tstamp", "derived_tstamp"):
            r[k] = stamp(e[k])
        r["domain_sessionidx"] = int(e["domain_sessionidx"])
        rows.append(r)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_micro(path: Path) -> Path:
    """GET /micro/good: a JSON array; timestamps ISO-8601 with Z; empty fields null."""
    items = []
    for e in EVENTS:
        event = {k: (v or None) for k, v in e.items()}
        for k in ("etl_tstamp", "collector_tstamp", "dvce_created_tstamp", "derived_tstamp"):
            event[k] = e[k].replace(" ", "T") + "Z"
        event["domain_sessionidx"] = int(e["domain_sessionidx"])
        items.append(
            {
                "rawEvent": {"context": {"collector": "ssc-2.9.0-kinesis"}, "parameters": {"e": "pv"}},
                "eventType": "page_view",
                "schema": "iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0",
                "contexts": [],
                "event": event,
            }
        )
    path.write_text(json.dumps(items), encoding="utf-8")
    return path

"""A GA4 BigQuery export written as BigQuery writes it (schema: support.google.com/analytics/answer/7029846).

Four users on 2024-05-01 (times from 08:00:00 UTC; epoch µs 1714550400000000):

- ``u1``  session 100: page_view 08:00 (gclid, medium organic), 08:10, 08:45 (35 min gap, same id);
- ``u2``  session 200: 08:00, 08:05; session 201: 08:08 (a new id 3 min later; referrer: own site);
- ``u3``  session 300: page_view /a 08:00:00.000 and page_view /a 08:00:00.040 (a tag fired twice);
- ``u4``  one event without ga_session_id (analytics_storage denied).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

T0 = 1_714_550_400_000_000  # 2024-05-01T08:00:00Z in microseconds
MIN = 60_000_000


def _param(key: str, value: Any) -> dict[str, Any]:
    kinds = {"string_value": None, "int_value": None, "float_value": None, "double_value": None}
    if isinstance(value, int):
        kinds["int_value"] = str(value)  # BigQuery's JSON export writes INTEGER as a string
    else:
        kinds["string_value"] = value
    return {"key": key, "value": kinds}


def _event(  # noqa: PLR0917 - one fixture row, positional like the table
    user, t_us, name, sid, num, page, referrer="", gclid=None, medium=None, consent="granted"
):
    params = [("page_location", page), ("engagement_time_msec", 100)]
    if sid is not None:
        params += [("ga_session_id", sid), ("ga_session_number", num)]
    if referrer:
        params.append(("page_referrer", referrer))
    return {
        "event_date": "20240501",
        "event_timestamp": str(t_us),
        "event_name": name,
        "event_params": [_param(k, v) for k, v in params],
        "event_previous_timestamp": None,
        "event_bundle_sequence_id": "1",
        "user_pseudo_id": user,
        "privacy_info": {"analytics_storage": consent, "ads_storage": consent, "uses_transient_token": "No"},
        "device": {"category": "desktop", "operating_system": "Windows"},
        "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"},
        "collected_traffic_source": {
            "manual_campaign_id": None,
            "manual_campaign_name": None,
            "manual_source": "google" if medium else None,
            "manual_medium": medium,
            "gclid": gclid,
            "dclid": None,
            "srsltid": None,
        },
        "stream_id": "1234567890",
        "platform": "WEB",
    }


SITE = "https://shop.example.com"

EVENTS = [
    _event("u1", T0, "page_view", 100, 1, f"{SITE}/", gclid="Cj0KCQ", medium="organic"),
    _event("u1", T0 + 10 * MIN, "page_view", 100, 1, f"{SITE}/b"),
    _event("u1", T0 + 45 * MIN, "user_engagement", 100, 1, f"{SITE}/b"),
    _event("u2", T0, "page_view", 200, 1, f"{SITE}/"),
    _event("u2", T0 + 5 * MIN, "page_view", 200, 1, f"{SITE}/c"),
    _event("u2", T0 + 8 * MIN, "page_view", 201, 2, f"{SITE}/d", referrer=f"{SITE}/c"),
    _event("u3", T0, "page_view", 300, 1, f"{SITE}/a"),
    _event("u3", T0 + 40_000, "page_view", 300, 1, f"{SITE}/a"),
    _event("u4", T0 + 2 * MIN, "page_view", None, None, f"{SITE}/", consent="denied"),
]


def write_ndjson(path: Path, events: list[dict[str, Any]] = EVENTS) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def write_parquet(path: Path) -> Path:
    """Parquet nested as the table (event_params a list of structs), INTEGER columns as int64."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    value = pa.struct(
        [
            ("string_value", pa.string()),
            ("int_value", pa.int64()),
            ("float_value", pa.float64()),
            ("double_value", pa.float64()),
        ]
    )
    rows = []
    for e in EVENTS:
        r = dict(e)
        r["event_timestamp"] = int(e["event_timestamp"])
        r["event_params"] = [
            {
                "key": p["key"],
                "value": {
                    **p["value"],
                    "int_value": None if p["value"]["int_value"] is None else int(p["value"]["int_value"]),
                },
            }
            for p in e["event_params"]
        ]
        rows.append(r)
    schema = pa.schema(
        [
            ("event_date", pa.string()),
            ("event_timestamp", pa.int64()),
            ("event_name", pa.string()),
            ("event_params", pa.list_(pa.struct([("key", pa.string()), ("value", value)]))),
            ("user_pseudo_id", pa.string()),
            (
                "privacy_info",
                pa.struct(
                    [
                        ("analytics_storage", pa.string()),
                        ("ads_storage", pa.string()),
                        ("uses_transient_token", pa.string()),
                    ]
                ),
            ),
            ("device", pa.struct([("category", pa.string()), ("operating_system", pa.string())])),
            (
                "collected_traffic_source",
                pa.struct(
                    [
                        (k, pa.string())
                        for k in (
                            "manual_campaign_id",
                            "manual_campaign_name",
                            "manual_source",
                            "manual_medium",
                            "gclid",
                            "dclid",
                            "srsltid",
                        )
                    ]
                ),
            ),
            ("stream_id", pa.string()),
        ]
    )
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def write_flat_ndjson(path: Path) -> Path:
    """The flattened form a query yields: one column per parameter."""
    out = []
    for e in EVENTS:
        params = {
            p["key"]: next((v for v in p["value"].values() if v is not None), None) for p in e["event_params"]
        }
        out.append(
            {
                "user_pseudo_id": e["user_pseudo_id"],
                "event_timestamp": int(e["event_timestamp"]),
                "event_name": e["event_name"],
                "ga_session_id": params.get("ga_session_id"),
                "ga_session_number": params.get("ga_session_number"),
                "page_location": params.get("page_location"),
                "page_referrer": params.get("page_referrer"),
                "medium": e["collected_traffic_source"]["manual_medium"],
                "gclid": e["collected_traffic_source"]["gclid"],
            }
        )
    return write_ndjson(path, out)

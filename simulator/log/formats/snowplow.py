"""Snowplow enriched events: the enriched TSV, ``atomic.events`` with a header, Snowplow Micro's JSON.

Schemas:

- Enriched TSV (no header; 131 positional columns, index 0 ``app_id`` ... 130 ``true_tstamp``):
  "Enriched stream TSV file format", https://docs.snowplow.io/docs/pipeline/enriched-tsv-format/
  (github.com/snowplow/documentation docs/pipeline/enriched-tsv-format/index.md).
- ``atomic.events`` as a warehouse exports it (CSV with a header line, or Parquet): the same field
  names, https://docs.snowplow.io/docs/fundamentals/canonical-event/.
- Snowplow Micro ``GET /micro/good``: a JSON array of ``{"event": {canonical fields}, "eventType",
  "schema", "contexts", "rawEvent"}``, https://docs.snowplow.io/docs/data-product-studio/data-quality/snowplow-micro/.

Mapped: ``domain_userid`` -> ``user_id``; ``derived_tstamp`` (else ``collector_tstamp``; naive UTC
``YYYY-MM-DD HH:MM:SS.fff`` in TSV/CSV, ISO-8601 in Micro) -> ``timestamp``; ``event_name`` (else
``event``); ``mkt_source`` / ``mkt_medium`` / ``mkt_campaign``; ``mkt_clickid`` as ``gclid`` when
``mkt_network`` is Google; ``page_url``, ``page_referrer``; ``domain_sessionid`` ->
``platform_session_id``; ``domain_sessionidx`` -> ``platform_session_number``; ``dvce_type`` ->
``device``. Every other non-empty column is listed as ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from simulator.errors import ScenarioError
from simulator.log.formats import CANONICAL_COLUMNS
from simulator.log.formats._common import columns_table

__all__ = ["ENRICHED_COLUMNS", "read"]

#: The enriched TSV's columns in order (the documentation's header line).
_HEADER = (
    "app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id name_tracker "
    "v_tracker v_collector v_etl user_id user_ipaddress user_fingerprint domain_userid domain_sessionidx "
    "network_userid geo_country geo_region geo_city geo_zipcode geo_latitude geo_longitude "
    "geo_region_name ip_isp ip_organization ip_domain ip_netspeed page_url page_title page_referrer "
    "page_urlscheme page_urlhost page_urlport page_urlpath page_urlquery page_urlfragment refr_urlscheme "
    "refr_urlhost refr_urlport refr_urlpath refr_urlquery refr_urlfragment refr_medium refr_source "
    "refr_term mkt_medium mkt_source mkt_term mkt_content mkt_campaign contexts se_category se_action "
    "se_label se_property se_value unstruct_event tr_orderid tr_affiliation tr_total tr_tax tr_shipping "
    "tr_city tr_state tr_country ti_orderid ti_sku ti_name ti_category ti_price ti_quantity "
    "pp_xoffset_min pp_xoffset_max pp_yoffset_min pp_yoffset_max useragent br_name br_family br_version "
    "br_type br_renderengine br_lang br_features_pdf br_features_flash br_features_java "
    "br_features_director br_features_quicktime br_features_realplayer br_features_windowsmedia "
    "br_features_gears br_features_silverlight br_cookies br_colordepth br_viewwidth br_viewheight "
    "os_name os_family os_manufacturer os_timezone dvce_type dvce_ismobile dvce_screenwidth "
    "dvce_screenheight doc_charset doc_width doc_height tr_currency tr_total_base tr_tax_base "
    "tr_shipping_base ti_currency ti_price_base base_currency geo_timezone mkt_clickid mkt_network "
    "etl_tags dvce_sent_tstamp refr_domain_userid refr_device_tstamp derived_contexts domain_sessionid "
    "derived_tstamp event_vendor event_name event_format event_version event_fingerprint true_tstamp"
)
ENRICHED_COLUMNS: tuple[str, ...] = tuple(_HEADER.split(" "))
#: The documented width of an enriched TSV line.
WIDTH = 131

_USED = {
    "domain_userid": "user_id",
    "event_name": "event_name",
    "mkt_source": "source",
    "mkt_medium": "medium",
    "mkt_campaign": "campaign",
    "page_url": "page",
    "page_referrer": "referrer",
    "domain_sessionid": "platform_session_id",
    "dvce_type": "device",
}
_TIME = ("derived_tstamp", "collector_tstamp", "event", "domain_sessionidx", "mkt_clickid", "mkt_network")


def _records(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq  # noqa: PLC0415

        try:
            rows = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as exc:
            raise ScenarioError(str(path), "", f"not a readable Parquet file ({exc})") from None
        yield from ((f"row {i}", r) for i, r in enumerate(rows, 1))
    elif suffix == ".json":  # Snowplow Micro /micro/good
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ScenarioError(str(path), "", f"not JSON ({exc.msg} at line {exc.lineno})") from None
        if not isinstance(doc, list):
            raise ScenarioError(str(path), "", "expected the JSON array that GET /micro/good returns")
        for i, item in enumerate(doc, 1):
            if not isinstance(item, dict) or not isinstance(item.get("event"), dict):
                raise ScenarioError(str(path), f"[{i}]", "expected an object with an 'event' object")
            yield f"[{i}].event", item["event"]
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            if suffix == ".csv":  # atomic.events exported with a header line
                reader = csv.DictReader(fh)
                missing = {"domain_userid", "collector_tstamp"} - set(reader.fieldnames or ())
                if missing:
                    raise ScenarioError(str(path), "line 1", f"header lacks {', '.join(sorted(missing))}")
                yield from ((f"line {i}", r) for i, r in enumerate(reader, 2))
                return
            for i, line in enumerate(fh, 1):  # enriched TSV: positional, no header
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) != WIDTH:
                    raise ScenarioError(
                        str(path),
                        f"line {i}",
                        f"{len(fields)} tab-separated fields; the enriched format has {WIDTH}",
                    )
                yield f"line {i}", dict(zip(ENRICHED_COLUMNS, fields, strict=True))


def _time(value: Any, path: Path, where: str, field: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    else:
        try:
            stamp = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(
                str(path),
                f"{where}: {field}",
                f"expected a timestamp like 2024-05-01 08:00:00.000, got {value!r}",
            ) from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)  # Snowplow timestamps are naive UTC
    return round(stamp.timestamp() * 1_000_000)


def read(path: Path) -> tuple[pa.Table, tuple[str, ...]]:
    """Read a Snowplow file; the canonical table and the non-empty columns not used."""
    names = [name for name, _ in CANONICAL_COLUMNS]
    cols: dict[str, list[Any]] = {name: [] for name in names}
    ignored: set[str] = set()
    for where, rec in _records(path):
        row: dict[str, Any] = dict.fromkeys(names)
        ts = _time(rec.get("derived_tstamp"), path, where, "derived_tstamp")
        if ts is None:
            ts = _time(rec.get("collector_tstamp"), path, where, "collector_tstamp")
        if ts is None:
            raise ScenarioError(str(path), f"{where}: collector_tstamp", "is empty; every event has one")
        row["timestamp"] = ts
        for key, target in _USED.items():
            value = rec.get(key)
            row[target] = None if value in (None, "") else str(value)
        row["event_name"] = row["event_name"] or (rec.get("event") or None)
        idx = rec.get("domain_sessionidx")
        if idx not in (None, ""):
            try:
                row["platform_session_number"] = int(idx)
            except (TypeError, ValueError):
                raise ScenarioError(
                    str(path), f"{where}: domain_sessionidx", f"expected an integer, got {idx!r}"
                ) from None
        if str(rec.get("mkt_network") or "").lower() == "google":
            row["gclid"] = rec.get("mkt_clickid") or None
        ignored.update(k for k, v in rec.items() if v not in (None, "") and k not in _USED and k not in _TIME)
        for name in names:
            cols[name].append(row[name])
    return columns_table(cols), tuple(sorted(ignored))

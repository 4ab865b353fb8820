"""Readers for analytics platforms' exports as the platforms write them.

:func:`read_export` maps one export file to a :class:`pyarrow.Table` with the *canonical columns*
below (absent information is null) and says which of the file's fields it did not use.

====================== ======================== ==================================================
column                 type                     meaning
====================== ======================== ==================================================
user_id                string                   the platform's user / device id (null: none sent)
timestamp              timestamp[us, tz=UTC]    when the event happened
event_name             string                   the platform's event name (``page_view`` ...)
source                 string                   traffic source (utm_source / manual source)
medium                 string                   traffic medium (utm_medium / manual medium)
campaign               string                   campaign name (null: none)
gclid                  string                   Google Ads click id, when the export carries one
page                   string                   the page URL (or path)
referrer               string                   the page's referrer URL
platform_session_id    string                   the session id the platform assigned (null: none)
platform_session_number int64                   the user's session count, when exported
consent                string                   consent state (GA4: ``privacy_info.analytics_storage``)
device                 string                   device category (desktop, mobile, tablet)
====================== ======================== ==================================================

Rows keep the file's order. Bad data raises :class:`~simulator.errors.ScenarioError` naming the
file, the line or row, and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from simulator.errors import ScenarioError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CANONICAL_COLUMNS", "FORMATS", "Export", "canonical_schema", "read_export"]

#: The canonical columns every reader returns, with their Arrow types (pyarrow loads on use).
CANONICAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("user_id", "string"),
    ("timestamp", "timestamp[us, tz=UTC]"),
    ("event_name", "string"),
    ("source", "string"),
    ("medium", "string"),
    ("campaign", "string"),
    ("gclid", "string"),
    ("page", "string"),
    ("referrer", "string"),
    ("platform_session_id", "string"),
    ("platform_session_number", "int64"),
    ("consent", "string"),
    ("device", "string"),
)


def canonical_schema() -> pa.Schema:
    """:data:`CANONICAL_COLUMNS` as a :class:`pyarrow.Schema`."""
    import pyarrow as pa  # noqa: PLC0415 - `sessionlab --help` does not load pyarrow

    types = {
        "string": pa.string(),
        "int64": pa.int64(),
        "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([(name, types[kind]) for name, kind in CANONICAL_COLUMNS])


#: Format name -> one-line description (``sessionize --format``, ``audit --format``).
FORMATS: dict[str, str] = {
    "ga4": "GA4 BigQuery export (events_YYYYMMDD / events_intraday_): nested or flattened, NDJSON or Parquet",
    "snowplow": "Snowplow enriched events: the 131-column TSV, atomic.events (.csv / .parquet), "
    "Snowplow Micro /micro/good (.json)",
    "amplitude": "Amplitude Export API events (JSON lines; session_id = session start in epoch ms)",
    "posthog": "PostHog events (JSON lines or a JSON array; $session_id in properties)",
    "matomo": "Matomo log_link_visit_action rows (CSV/TSV with a header; idvisit = the visit)",
    "mixpanel": "Mixpanel Raw Event Export API (JSON lines; no session id: readable, not auditable)",
}


class Export(NamedTuple):
    """What a reader returns: the canonical table, the fields it ignored, the format's name."""

    table: pa.Table
    ignored: tuple[str, ...]
    format: str


def read_export(path: str | Path, format: str) -> Export:
    """Read ``path`` as an export of platform ``format`` (a key of :data:`FORMATS`)."""
    path = Path(path)
    if format not in FORMATS:
        raise ScenarioError(str(path), "", f"unknown export format {format!r}; known: {', '.join(FORMATS)}")
    if not path.is_file():
        raise ScenarioError(str(path), "", "no such file")
    import importlib  # noqa: PLC0415

    reader = importlib.import_module(f"simulator.log.formats.{format}")  # one module per platform, on use
    table, ignored = reader.read(path)
    return Export(table, ignored, format)

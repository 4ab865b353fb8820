"""Readers for the GA4 Admin API and Google Ads API JSON, as the APIs return them.

Each reader maps what it reads onto the keys of the settings table (:mod:`simulator.validate.settings`),
so that the same findings fire whether a setting was typed into ``settings.toml`` or fetched from the
API; every mapped value remembers its JSON pointer (dotted, indices from 0 as in JSON, like the GTM
reader's ``containerVersion.tag[3]``) and the findings cite it as evidence.

GA4 Admin API (REST, JSON with camelCase keys; https://developers.google.com/analytics/devguides/config/admin/v1/rest):

- ``Property`` (``properties.get``, v1beta ``properties`` resource: ``name`` ``properties/{id}``,
  ``propertyType``, ``createTime``, ``updateTime``, ``parent``, ``displayName``, ``industryCategory``,
  ``timeZone``, ``currencyCode``, ``serviceLevel``, ``deleteTime``, ``expireTime``, ``account``):
  ``timeZone`` -> ``[ga4] timezone``. A ``properties.list`` response (``{"properties": [...],
  "nextPageToken"}``) is read when it holds one property.
- ``DataStream`` (``properties.dataStreams.get``, v1beta ``properties.dataStreams``: ``name``
  ``properties/{id}/dataStreams/{id}``, ``type`` (``WEB_DATA_STREAM``, ``ANDROID_APP_DATA_STREAM``,
  ``IOS_APP_DATA_STREAM``), ``displayName``, ``createTime``, ``updateTime`` and one of ``webStreamData``
  {``measurementId``, ``firebaseAppId``, ``defaultUri``}, ``androidAppStreamData``,
  ``iosAppStreamData``): ``webStreamData.measurementId`` -> ``[ga4] measurement_id`` (early v1alpha
  responses gave it without the ``G-`` prefix; it is added, with a notice), the host of
  ``webStreamData.defaultUri`` -> ``[site] domains``. App streams are notices. A
  ``properties.dataStreams.list`` response (``{"dataStreams": [...], "nextPageToken"}``) is read when it
  holds one web stream; with several, which one is validated is ambiguous and none is mapped (a notice).
- ``EnhancedMeasurementSettings`` (``properties.dataStreams.getEnhancedMeasurementSettings``, v1alpha
  ``EnhancedMeasurementSettings``: ``name`` ``.../enhancedMeasurementSettings``, ``streamEnabled``,
  ``scrollsEnabled``, ``outboundClicksEnabled``, ``siteSearchEnabled``, ``videoEngagementEnabled``,
  ``fileDownloadsEnabled``, ``pageChangesEnabled``, ``formInteractionsEnabled``,
  ``searchQueryParameter``, ``uriQueryParameter``): ``streamEnabled and pageChangesEnabled`` ->
  ``[ga4] history_page_views``. These are plain proto3 booleans, which the JSON mapping leaves out when
  false (https://protobuf.dev/programming-guides/json/); an absent one is read as false, with a notice.

Google Ads API (REST, https://developers.google.com/google-ads/api/rest/overview; JSON with camelCase
keys):

- ``Customer`` (https://developers.google.com/google-ads/api/reference/rpc/latest/Customer:
  ``resourceName`` ``customers/{id}``, ``id`` (int64, a JSON string), ``descriptiveName``,
  ``currencyCode``, ``timeZone``, ``trackingUrlTemplate``, ``finalUrlSuffix``, ``autoTaggingEnabled``,
  ``hasPartnersBadge``, ``manager``, ``testAccount``, ``status``, ...): ``autoTaggingEnabled`` ->
  ``[google_ads] auto_tagging``, ``trackingUrlTemplate`` -> ``tracking_template``, ``finalUrlSuffix`` ->
  ``final_url_suffix``, ``timeZone`` -> ``timezone``. Read bare, or as ``GoogleAdsService.Search``
  returns it (``customers/{id}/googleAds:search``: ``{"results": [{"customer": {...}}], "fieldMask":
  "customer.id,customer.timeZone,...", "nextPageToken", "totalResultsCount", "requestId", ...}``;
  SearchGoogleAdsResponse, .../reference/rpc/latest/SearchGoogleAdsResponse), or as ``searchStream``
  returns it (a JSON array of such batches). These fields are proto3 ``optional`` (explicit presence:
  ``customer.proto`` declares them so since v5), so ``"autoTaggingEnabled": false`` is written out; an
  absent field is not known, a notice, never read as false. An empty ``trackingUrlTemplate`` or
  ``finalUrlSuffix`` means none is set.

Unknown keys and missing optional keys are notices (``(pointer, message)``), never errors; a value of
the wrong type or outside what the settings table allows is an error naming the file and the pointer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from simulator.errors import ScenarioError
from simulator.scenario.settings import SETTINGS
from simulator.schema import Ctx, shorten

__all__ = ["KINDS", "ApiSource", "detect_kind", "read_api_document"]

#: What each detected kind is, as shown in notices and docs.
KINDS: dict[str, str] = {
    "ga4-property": "GA4 Admin API Property (properties.get)",
    "ga4-properties": "GA4 Admin API properties.list response",
    "ga4-data-stream": "GA4 Admin API DataStream (properties.dataStreams.get)",
    "ga4-data-streams": "GA4 Admin API properties.dataStreams.list response",
    "ga4-enhanced-measurement": "GA4 Admin API EnhancedMeasurementSettings",
    "google-ads-customer": "Google Ads API Customer",
    "google-ads-search": "Google Ads API googleAds:search response",
    "google-ads-search-stream": "Google Ads API googleAds:searchStream response",
}

_PROPERTY = re.compile(r"properties/\d+")
_STREAM = re.compile(r"properties/\d+/dataStreams/\d+")
_EM = re.compile(r"properties/\d+/dataStreams/\d+/enhancedMeasurementSettings")
_CUSTOMER = re.compile(r"customers/\d+")

_PROPERTY_KEYS = frozenset(
    (
        "name",
        "propertyType",
        "createTime",
        "updateTime",
        "parent",
        "displayName",
        "industryCategory",
        "timeZone",
        "currencyCode",
        "serviceLevel",
        "deleteTime",
        "expireTime",
        "account",
    )
)
_STREAM_KEYS = frozenset(
    (
        "name",
        "type",
        "displayName",
        "createTime",
        "updateTime",
        "webStreamData",
        "androidAppStreamData",
        "iosAppStreamData",
    )
)
_WEB_KEYS = frozenset(("measurementId", "firebaseAppId", "defaultUri"))
_EM_BOOLS = (
    "streamEnabled",
    "scrollsEnabled",
    "outboundClicksEnabled",
    "siteSearchEnabled",
    "videoEngagementEnabled",
    "fileDownloadsEnabled",
    "pageChangesEnabled",
    "formInteractionsEnabled",
)
_EM_KEYS = frozenset(("name", *_EM_BOOLS, "searchQueryParameter", "uriQueryParameter"))
_CUSTOMER_KEYS = frozenset(
    (
        "resourceName",
        "id",
        "descriptiveName",
        "currencyCode",
        "timeZone",
        "trackingUrlTemplate",
        "finalUrlSuffix",
        "autoTaggingEnabled",
        "hasPartnersBadge",
        "manager",
        "testAccount",
        "callReportingSetting",
        "conversionTrackingSetting",
        "remarketingSetting",
        "payPerConversionEligibilityFailureReasons",
        "optimizationScore",
        "optimizationScoreWeight",
        "status",
        "customerAgreementSetting",
        "localServicesSettings",
        "videoBrandSafetySuitability",
        "containsEuPoliticalAdvertising",
        "locationAssetAutoMigrationDone",
        "imageAssetAutoMigrationDone",
        "locationAssetAutoMigrationDoneDateTime",
        "imageAssetAutoMigrationDoneDateTime",
        "videoCustomer",
    )
)
_SEARCH_KEYS = frozenset(
    (
        "results",
        "nextPageToken",
        "totalResultsCount",
        "fieldMask",
        "summaryRow",
        "queryResourceConsumption",
        "requestId",
        "metricAttributes",
    )
)
#: Customer JSON key -> settings key (``section.key``).
_CUSTOMER_MAP = {
    "autoTaggingEnabled": "google_ads.auto_tagging",
    "trackingUrlTemplate": "google_ads.tracking_template",
    "finalUrlSuffix": "google_ads.final_url_suffix",
    "timeZone": "google_ads.timezone",
}


@dataclass(frozen=True, slots=True)
class ApiSource:
    """What one API JSON file says, as settings keys: ``values`` maps ``section.key`` to a list of
    ``(value, pointer)`` (a list key such as ``site.domains`` may be given by several entries)."""

    path: str
    kind: str
    values: dict[str, list[tuple[Any, str]]] = field(default_factory=dict)
    notices: list[tuple[str, str]] = field(default_factory=list)

    def put(self, dotted: str, raw: Any, pointer: str) -> None:
        """Validate ``raw`` with the settings table's own check for ``dotted``; keep it with its pointer."""
        section, key = dotted.split(".")
        spec = SETTINGS.fields[section].check.fields[key]
        check = spec.check
        items = getattr(check, "item", None)
        try:
            value = [items(raw, Ctx(self.path))] if items is not None else check(raw, Ctx(self.path))
        except ScenarioError as err:
            raise ScenarioError(self.path, pointer, err.message, err.hint) from None
        self.values.setdefault(dotted, []).append((value, pointer))

    def notice(self, pointer: str, message: str) -> None:
        self.notices.append((pointer, message))


def _name(doc: dict[str, Any]) -> str:
    name = doc.get("name")
    return name if isinstance(name, str) else ""


def detect_kind(doc: Any) -> str | None:
    """The kind of an API document (a key of :data:`KINDS`), from its content; ``None`` if it is none."""
    if isinstance(doc, list):
        batches = [b for b in doc if isinstance(b, dict)]
        if batches and len(batches) == len(doc) and all(set(b) <= _SEARCH_KEYS for b in batches):
            return "google-ads-search-stream"
        return None
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("dataStreams"), list):
        return "ga4-data-streams"
    if isinstance(doc.get("properties"), list):
        return "ga4-properties"
    if isinstance(doc.get("results"), list) or (doc and set(doc) <= _SEARCH_KEYS and "fieldMask" in doc):
        return "google-ads-search"
    name = _name(doc)
    if _EM.fullmatch(name) or (not name and "streamEnabled" in doc):
        return "ga4-enhanced-measurement"
    if _STREAM.fullmatch(name) or (not name and ("webStreamData" in doc or _is_stream_type(doc))):
        return "ga4-data-stream"
    if _PROPERTY.fullmatch(name) or (not name and "timeZone" in doc and "displayName" in doc):
        return "ga4-property"
    resource = doc.get("resourceName")
    if (isinstance(resource, str) and _CUSTOMER.fullmatch(resource)) or (
        "resourceName" not in doc and ("autoTaggingEnabled" in doc or "trackingUrlTemplate" in doc)
    ):
        return "google-ads-customer"
    return None


def _is_stream_type(doc: dict[str, Any]) -> bool:
    kind = doc.get("type")
    return isinstance(kind, str) and kind.endswith("_DATA_STREAM")


def _unknown(src: ApiSource, obj: dict[str, Any], known: frozenset[str], where: str, what: str) -> None:
    for key in obj:
        if key not in known:
            src.notice(_join(where, key), f"skipped: not a {what} field this reader knows")


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _object(src: ApiSource, value: Any, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ScenarioError(
            src.path, where or "(top level)", f"expected a {what} JSON object, got {shorten(value)}"
        )
    return value


def _read_property(src: ApiSource, doc: Any, where: str = "") -> None:
    doc = _object(src, doc, where, "Property")
    _unknown(src, doc, _PROPERTY_KEYS, where, "Property")
    if "timeZone" in doc:
        src.put("ga4.timezone", doc["timeZone"], _join(where, "timeZone"))
    else:
        src.notice(
            _join(where, "timeZone"),
            "absent: the property's time zone is not known (TIMEZONE-MISMATCH not checked)",
        )


def _read_stream(src: ApiSource, doc: Any, where: str = "") -> None:
    doc = _object(src, doc, where, "DataStream")
    _unknown(src, doc, _STREAM_KEYS, where, "DataStream")
    kind = doc.get("type", "")
    web = doc.get("webStreamData")
    if kind != "WEB_DATA_STREAM" and web is None:
        src.notice(_join(where, "type"), f"skipped: {shorten(kind or 'no type')} is not a web stream")
        return
    at = _join(where, "webStreamData")
    web = _object(src, web, at, "webStreamData")
    _unknown(src, web, _WEB_KEYS, at, "webStreamData")
    if "measurementId" in web:
        mid = web["measurementId"]
        if isinstance(mid, str) and re.fullmatch(r"[A-Z0-9]+", mid):  # early versions left out "G-"
            src.notice(_join(at, "measurementId"), f"read {mid!r} as 'G-{mid}' (early API versions omit G-)")
            mid = f"G-{mid}"
        src.put("ga4.measurement_id", mid, _join(at, "measurementId"))
    else:
        src.notice(_join(at, "measurementId"), "absent: the stream's measurement id is not known")
    uri = web.get("defaultUri")
    if not uri:
        src.notice(_join(at, "defaultUri"), "absent or empty: the site's domain is not known")
        return
    if not isinstance(uri, str):
        raise ScenarioError(src.path, _join(at, "defaultUri"), f"expected a URL string, got {shorten(uri)}")
    host = urlsplit(uri if "//" in uri else "//" + uri).hostname or ""
    src.put("site.domains", host, _join(at, "defaultUri"))


def _read_enhanced(src: ApiSource, doc: Any, where: str = "") -> None:
    doc = _object(src, doc, where, "EnhancedMeasurementSettings")
    _unknown(src, doc, _EM_KEYS, where, "EnhancedMeasurementSettings")
    flags = {}
    for key in ("streamEnabled", "pageChangesEnabled"):
        if key in doc:
            if not isinstance(doc[key], bool):
                raise ScenarioError(
                    src.path, _join(where, key), f"expected true or false, got {shorten(doc[key])}"
                )
            flags[key] = doc[key]
        else:
            flags[key] = False
            src.notice(_join(where, key), "absent: read as false (the API's JSON leaves out false booleans)")
    key = "streamEnabled" if not flags["streamEnabled"] else "pageChangesEnabled"
    src.put(
        "ga4.history_page_views", flags["streamEnabled"] and flags["pageChangesEnabled"], _join(where, key)
    )


def _selected(field_mask: Any) -> set[str] | None:
    """The customer fields a search asked for (``customer.timeZone`` -> ``timeZone``); None if unknown."""
    if not isinstance(field_mask, str):
        return None
    return {p.split(".", 1)[1] for p in field_mask.split(",") if p.strip().startswith("customer.")}


def _read_customer(src: ApiSource, doc: Any, where: str = "", selected: set[str] | None = None) -> None:
    doc = _object(src, doc, where, "Customer")
    _unknown(src, doc, _CUSTOMER_KEYS, where, "Customer")
    for key, dotted in _CUSTOMER_MAP.items():
        at = _join(where, key)
        if key in doc:
            value = doc[key]
            if key in ("trackingUrlTemplate", "finalUrlSuffix") and value == "":
                continue  # empty: none set
            src.put(dotted, value, at)
        elif selected is not None and key in selected:
            src.notice(at, f"selected but absent: [{dotted.replace('.', '] ', 1)} not known")
        else:
            src.notice(at, f"not given: [{dotted.replace('.', '] ', 1)} not known")


def _read_search(src: ApiSource, doc: Any, where: str = "") -> int:
    doc = _object(src, doc, where, "SearchGoogleAdsResponse")
    _unknown(src, doc, _SEARCH_KEYS, where, "SearchGoogleAdsResponse")
    selected = _selected(doc.get("fieldMask"))
    rows = doc.get("results", [])
    if not isinstance(rows, list):
        raise ScenarioError(
            src.path, _join(where, "results"), f"expected a list of rows, got {shorten(rows)}"
        )
    customers = 0
    for i, item in enumerate(rows):
        at = _join(_join(where, "results"), i)
        row = _object(src, item, at, "GoogleAdsRow")
        for key in row:
            if key != "customer":
                src.notice(_join(at, key), "skipped: only the customer resource is read")
        if "customer" in row:
            _read_customer(src, row["customer"], _join(at, "customer"), selected)
            customers += 1
    if doc.get("nextPageToken"):
        src.notice(_join(where, "nextPageToken"), "more pages exist; only this page was read")
    return customers


def _read_list(  # noqa: PLR0917 - one call per list kind
    src: ApiSource,
    doc: dict[str, Any],
    key: str,
    is_wanted: Callable[[Any], bool],
    read: Callable[..., None],
    what: str,
) -> None:
    items = doc[key]
    for extra in doc:
        if extra not in (key, "nextPageToken"):
            src.notice(extra, f"skipped: not a field of the {what} list response")
    wanted = [i for i, item in enumerate(items) if is_wanted(item)]
    for i in range(len(items)):
        if i not in wanted:
            src.notice(f"{key}[{i}]", f"skipped: not a web {what}" if what == "data stream" else "skipped")
    if len(wanted) == 1:
        read(src, items[wanted[0]], f"{key}[{wanted[0]}]")
    elif wanted:
        src.notice(key, f"skipped: {len(wanted)} {what}s; give the one to validate (its get response)")
    else:
        src.notice(key, f"no {what} to read")
    if doc.get("nextPageToken"):
        src.notice("nextPageToken", "more pages exist; only this page was read")


def read_api_document(doc: Any, path: str, kind: str | None = None) -> ApiSource:
    """Map a parsed API JSON document onto settings keys; :class:`ScenarioError` (file + pointer) for a
    value the settings table does not allow, or a document of no known shape."""
    kind = kind or detect_kind(doc)
    if kind is None:
        raise ScenarioError(path, "(top level)", "not a JSON this reader knows: " + "; ".join(KINDS.values()))
    src = ApiSource(path, kind)
    if kind == "ga4-property":
        _read_property(src, doc)
    elif kind == "ga4-data-stream":
        _read_stream(src, doc)
    elif kind == "ga4-enhanced-measurement":
        _read_enhanced(src, doc)
    elif kind == "google-ads-customer":
        _read_customer(src, doc)
    elif kind == "ga4-properties":
        _read_list(src, doc, "properties", lambda p: isinstance(p, dict), _read_property, "property")
    elif kind == "ga4-data-streams":
        _read_list(
            src,
            doc,
            "dataStreams",
            lambda s: isinstance(s, dict) and (s.get("type") == "WEB_DATA_STREAM" or "webStreamData" in s),
            _read_stream,
            "data stream",
        )
    elif kind == "google-ads-search":
        if not _read_search(src, doc):
            src.notice("results", "no customer row: select customer.* FROM customer")
    else:  # searchStream: a list of batches
        found = sum(_read_search(src, batch, f"[{i}]".lstrip(".")) for i, batch in enumerate(doc))
        if not found:
            src.notice("[0].results", "no customer row: select customer.* FROM customer")
    return src

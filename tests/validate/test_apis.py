"""GA4 Admin API and Google Ads API JSON: readers on documented-shape files, detection by content,
settings merged key by key (with a scenario's [settings]), findings fired from them, bad input."""

from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli.main import main
from simulator.errors import ScenarioError
from simulator.scenario.loader import load_scenario, loads_scenario
from simulator.validate.apis import detect_kind, read_api_document
from simulator.validate.inputs import NOT_GIVEN, find_in, read_inputs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "validate"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
API_FILES = [
    str(EXAMPLE / n)
    for n in (
        "gtm-container.json",
        "ga4-property.json",
        "ga4-data-streams.json",
        "ga4-enhanced-measurement.json",
        "google-ads-customer.json",
    )
]
SHOP = str(EXAMPLE / "shop.toml")


def _read(path: Path):
    return read_api_document(json.loads(path.read_text()), str(path))


def test_property_get_response():
    src = _read(EXAMPLE / "ga4-property.json")
    assert src.kind == "ga4-property"
    assert src.values == {"ga4.timezone": [("Europe/Berlin", "timeZone")]}
    assert src.notices == []  # every key is one of the resource's documented fields


def test_data_streams_list_reads_the_one_web_stream_and_skips_the_app_stream():
    src = _read(EXAMPLE / "ga4-data-streams.json")
    assert src.kind == "ga4-data-streams"
    assert src.values == {
        "ga4.measurement_id": [("G-SHOP123", "dataStreams[0].webStreamData.measurementId")],
        "site.domains": [(["shop.example"], "dataStreams[0].webStreamData.defaultUri")],
    }
    assert src.notices == [("dataStreams[1]", "skipped: not a web data stream")]


def test_data_stream_get_response():
    src = _read(FIXTURES / "data-stream.json")
    assert src.kind == "ga4-data-stream"
    assert src.values == {
        "ga4.measurement_id": [("G-OUTDOOR1", "webStreamData.measurementId")],
        "site.domains": [(["www.example-outdoor.com"], "webStreamData.defaultUri")],
    }
    assert src.notices == []


def test_a_measurement_id_without_its_prefix_as_early_versions_gave_it():
    doc = json.loads((FIXTURES / "data-stream.json").read_text())
    doc["webStreamData"]["measurementId"] = "OUTDOOR1"
    src = read_api_document(doc, "s.json")
    assert src.values["ga4.measurement_id"] == [("G-OUTDOOR1", "webStreamData.measurementId")]
    assert src.notices == [
        ("webStreamData.measurementId", "read 'OUTDOOR1' as 'G-OUTDOOR1' (early API versions omit G-)")
    ]


def test_two_web_streams_are_ambiguous_and_map_nothing():
    src = _read(FIXTURES / "data-streams-two-web.json")
    assert src.values == {}
    assert src.notices == [
        ("dataStreams", "skipped: 2 data streams; give the one to validate (its get response)"),
        ("nextPageToken", "more pages exist; only this page was read"),
    ]


def test_enhanced_measurement_on_and_absent_false():
    on = _read(EXAMPLE / "ga4-enhanced-measurement.json")
    assert on.kind == "ga4-enhanced-measurement"
    assert on.values == {"ga4.history_page_views": [(True, "pageChangesEnabled")]}
    assert on.notices == []
    off = _read(FIXTURES / "enhanced-measurement-page-changes-off.json")
    assert off.values == {"ga4.history_page_views": [(False, "pageChangesEnabled")]}
    assert off.notices == [
        ("pageChangesEnabled", "absent: read as false (the API's JSON leaves out false booleans)")
    ]
    stream_off = read_api_document(
        {"name": "properties/1/dataStreams/2/enhancedMeasurementSettings", "pageChangesEnabled": True}, "em"
    )
    assert stream_off.values == {"ga4.history_page_views": [(False, "streamEnabled")]}


def test_google_ads_search_response():
    src = _read(EXAMPLE / "google-ads-customer.json")
    assert src.kind == "google-ads-search"
    at = "results[0].customer."
    assert src.values == {
        "google_ads.auto_tagging": [(False, at + "autoTaggingEnabled")],
        "google_ads.tracking_template": [
            ("https://track.example-redirect.net/c?id=42", at + "trackingUrlTemplate")
        ],
        "google_ads.final_url_suffix": [("utm_source=google&utm_medium=cpc", at + "finalUrlSuffix")],
        "google_ads.timezone": [("America/New_York", at + "timeZone")],
    }
    assert src.notices == []


def test_search_stream_batches_and_a_selected_field_left_out():
    src = _read(FIXTURES / "search-stream.json")
    assert src.kind == "google-ads-search-stream"
    assert src.values["google_ads.timezone"] == [("America/Los_Angeles", "[0].results[0].customer.timeZone")]
    assert src.values["google_ads.auto_tagging"] == [(True, "[0].results[0].customer.autoTaggingEnabled")]
    assert "google_ads.final_url_suffix" not in src.values
    assert src.notices == [
        (
            "[0].results[0].customer.finalUrlSuffix",
            "selected but absent: [google_ads] final_url_suffix not known",
        )
    ]


def test_bare_customer_and_properties_list():
    customer = _read(FIXTURES / "customer.json")
    assert customer.kind == "google-ads-customer"
    assert customer.values == {
        "google_ads.auto_tagging": [(True, "autoTaggingEnabled")],
        "google_ads.tracking_template": [
            ("https://clk.example-tracker.com/r?u={lpurl}&c={campaignid}", "trackingUrlTemplate")
        ],
        "google_ads.timezone": [("Europe/Berlin", "timeZone")],
    }  # an empty finalUrlSuffix is none set
    assert customer.notices == []
    listed = _read(FIXTURES / "properties-list.json")
    assert listed.kind == "ga4-properties"
    assert listed.values == {"ga4.timezone": [("America/Los_Angeles", "properties[0].timeZone")]}


def test_unknown_and_missing_keys_are_notices():
    doc = {"name": "properties/7", "displayName": "x", "futureField": 1}
    src = read_api_document(doc, "p.json")
    assert src.values == {}
    assert src.notices == [
        ("futureField", "skipped: not a Property field this reader knows"),
        ("timeZone", "absent: the property's time zone is not known (TIMEZONE-MISMATCH not checked)"),
    ]


def test_detected_by_content_not_by_extension(tmp_path):
    prop = tmp_path / "property.toml"  # JSON under a misleading name
    shutil.copy(EXAMPLE / "ga4-property.json", prop)
    settings_as_json = tmp_path / "settings.json"  # TOML under a misleading name
    settings_as_json.write_text('[google_ads]\ntimezone = "Europe/Berlin"\n')
    inputs = read_inputs([str(prop), str(settings_as_json)])
    assert inputs.kinds == (
        (str(prop), "GA4 Admin API Property (properties.get)"),
        (str(settings_as_json), "settings table"),
    )
    assert inputs.settings is not None
    assert inputs.settings.raw == {
        "google_ads": {"timezone": "Europe/Berlin"},
        "ga4": {"timezone": "Europe/Berlin"},
    }
    assert find_in(inputs) == []  # same zone: no mismatch


def test_findings_fire_from_api_json_with_pointers_into_the_responses():
    inputs = read_inputs(API_FILES)
    found = {f.rule: f for f in find_in(inputs)}
    assert set(found) == {
        "GA4-DUPLICATE-TAG",
        "GA4-TAG-TRIGGER",
        "GA4-EVENT-BEFORE-CONFIG",
        "SPA-DOUBLE-PAGEVIEW",
        "ADS-AUTOTAG-OFF",
        "ADS-TEMPLATE-DROPS-GCLID",
        "TIMEZONE-MISMATCH",
    }
    ads, em, prop = API_FILES[4], API_FILES[3], API_FILES[1]
    assert found["TIMEZONE-MISMATCH"].evidence == (
        (prop, "timeZone"),
        (ads, "results[0].customer.timeZone"),
    )
    assert found["ADS-AUTOTAG-OFF"].evidence == ((ads, "results[0].customer.autoTaggingEnabled"),)
    assert found["ADS-TEMPLATE-DROPS-GCLID"].evidence == ((ads, "results[0].customer.trackingUrlTemplate"),)
    assert found["SPA-DOUBLE-PAGEVIEW"].evidence == (
        (API_FILES[0], "containerVersion.tag[3]"),
        (em, "pageChangesEnabled"),
    )
    assert found["TIMEZONE-MISMATCH"].configured == {
        "scenario.timezone": "Europe/Berlin",
        "scenario.ad_timezone": "America/New_York",
    }
    assert inputs.settings is not None
    assert inputs.settings.path == NOT_GIVEN


def test_api_json_plus_scenario_settings_find_what_the_settings_file_finds():
    """The bundled example twice: gtm + settings.toml, and gtm + the API JSON + shop.toml's [settings].
    The same findings with the same messages; only the evidence names other places."""
    by_file = find_in(read_inputs([API_FILES[0], str(EXAMPLE / "settings.toml")]))
    scenario = load_scenario(SHOP)
    doc = tomllib.loads(Path(SHOP).read_text())
    by_api = find_in(read_inputs(API_FILES, SHOP, doc))
    assert [(f.rule, f.message) for f in by_api] == [(f.rule, f.message) for f in by_file]
    linker = next(f for f in by_api if f.rule == "LINKER-NO-CROSS-DOMAIN")
    assert linker.evidence == (
        (API_FILES[0], "containerVersion.tag[4].parameter"),
        (API_FILES[2], "dataStreams[0].webStreamData.defaultUri"),  # site.domains, read from the stream
        (SHOP, "settings.ga4.cross_domain"),
    )
    timeout = next(f for f in by_api if f.rule == "GA4-SESSION-TIMEOUT")
    assert timeout.evidence == ((SHOP, "settings.ga4.session_timeout"),)
    assert scenario.name == "shop_example"  # the example is a scenario `run` accepts


def test_scenario_settings_alone(capsys):
    assert main(["validate", "--scenario", SHOP, "--replications", "0"]) == 0  # warnings, no error
    out = capsys.readouterr().out
    assert main(["validate", "--scenario", SHOP, "--replications", "0", "--fail-on", "warning"]) == 1
    assert "at " + SHOP + ": settings.consent.analytics_storage" in out
    assert "GA4-SESSION-TIMEOUT" in out
    assert main(["validate", "--replications", "0"]) == 2
    assert "nothing to validate" in capsys.readouterr().err


def test_settings_typo_in_a_scenario_is_caught_by_run_and_validate(tmp_path, capsys):
    text = Path(SHOP).read_text().replace("[settings.consent]\n", "[settings.consent]\ngrant_rat = 0.5\n")
    bad = tmp_path / "shop.toml"
    bad.write_text(text)
    with pytest.raises(
        ScenarioError, match=r"settings\.consent\.grant_rat: unknown key.*did you mean 'grant_rate'"
    ):
        loads_scenario(text, str(bad))
    assert main(["validate", "--scenario", str(bad), "--replications", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "settings.consent.grant_rat" in err
    assert "did you mean 'grant_rate'" in err
    assert main(["run", str(bad)]) == 2


def test_sources_that_disagree_are_refused_naming_both(tmp_path, capsys):
    other = tmp_path / "settings.toml"
    other.write_text('[ga4]\ntimezone = "UTC"\n')
    assert main(["validate", API_FILES[1], str(other), "--replications", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(
        f"sessionlab: error: {other}: ga4.timezone: [ga4] timezone is 'UTC' here "
        f"but 'Europe/Berlin' in {API_FILES[1]}: timeZone"
    )
    # the same value twice, and list keys from two sources, are fine (lists are joined)
    same = tmp_path / "same.toml"
    same.write_text('[ga4]\ntimezone = "Europe/Berlin"\n[site]\ndomains = ["blog.example"]\n')
    inputs = read_inputs([API_FILES[1], API_FILES[2], str(same)])
    assert inputs.settings is not None
    assert inputs.settings.raw["site"]["domains"] == ["shop.example", "blog.example"]
    assert inputs.where["ga4.timezone"] == ((API_FILES[1], "timeZone"), (str(same), "ga4.timezone"))


def test_scenario_settings_disagreeing_with_a_file_are_refused(tmp_path, capsys):
    conflicting = tmp_path / "s.toml"
    conflicting.write_text('[ga4]\nsession_timeout = "30m"\n')
    assert main(["validate", str(conflicting), "--scenario", SHOP, "--replications", "0"]) == 2
    err = capsys.readouterr().err
    assert (
        f"{SHOP}: settings.ga4.session_timeout: [ga4] session_timeout is '45m' here "
        f"but '30m' in {conflicting}" in err
    )


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("p.json", '{"name": "properties/1", "timeZone": "Europe/Berln"}', "timeZone: "),
        (
            "c.json",
            '{"results": [{"customer": {"resourceName": "customers/1", "autoTaggingEnabled": "false"}}]}',
            "results[0].customer.autoTaggingEnabled: expected true or false",
        ),
        (
            "s.json",
            '{"name": "properties/1/dataStreams/2", "type": "WEB_DATA_STREAM", "webStreamData": 3}',
            "webStreamData: expected a webStreamData JSON object",
        ),
        ("x.json", '{"hello": "world"}', "(top level): expected a GTM container export"),
        (
            "e.json",
            '{"name": "properties/1/dataStreams/2/enhancedMeasurementSettings", "streamEnabled": 1}',
            "streamEnabled: expected true or false",
        ),
        (
            "m.json",
            '{"dataStreams": [{"type": "WEB_DATA_STREAM", "webStreamData": {"measurementId": "UA-1"}}]}',
            "dataStreams[0].webStreamData.measurementId: expected a GA4 measurement id",
        ),
        (
            "scenario.toml",
            (EXAMPLE / "shop.toml").read_text(),
            "scenario: a scenario file, not a settings table: give it as --scenario",
        ),
        ("empty.json", "  \n", "empty file"),
    ],
)
def test_bad_input_is_exit_2_one_line_naming_the_file_and_pointer(tmp_path, capsys, name, text, where):
    bad = tmp_path / name
    bad.write_text(text)
    assert main(["validate", str(bad), "--replications", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert "Traceback" not in err
    assert err.startswith(f"sessionlab: error: {bad}: ")
    assert where in err


def test_a_misspelt_time_zone_in_api_json_gets_a_did_you_mean(tmp_path, capsys):
    bad = tmp_path / "p.json"
    bad.write_text('{"name": "properties/1", "timeZone": "Europe/Berln"}')
    assert main(["validate", str(bad), "--replications", "0"]) == 2
    assert "did you mean 'Europe/Berlin'" in capsys.readouterr().err


_KEYS = st.sampled_from(
    [
        "name",
        "timeZone",
        "type",
        "webStreamData",
        "dataStreams",
        "results",
        "customer",
        "fieldMask",
        "streamEnabled",
        "pageChangesEnabled",
        "autoTaggingEnabled",
        "trackingUrlTemplate",
        "properties",
        "measurementId",
        "defaultUri",
        "displayName",
        "resourceName",
        "x",
    ]
)
_JSON = st.deferred(
    lambda: (
        st.none()
        | st.booleans()
        | st.integers()
        | st.text(max_size=8)
        | st.lists(_JSON, max_size=3)
        | st.dictionaries(_KEYS, _JSON, max_size=5)
    )
)
_NAMES = st.sampled_from(
    [
        "properties/1",
        "properties/1/dataStreams/2",
        "properties/1/dataStreams/2/enhancedMeasurementSettings",
        "x",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_JSON, name=_NAMES)
def test_any_json_is_read_or_refused_in_one_line(doc, name):
    """Whatever the JSON, the reader maps it or raises a one-line ScenarioError naming the file; never
    another exception."""
    if isinstance(doc, dict) and "name" in doc:
        doc["name"] = name
    try:
        src = read_api_document(doc, "f.json")
    except ScenarioError as err:
        refused = err
    else:
        refused = None
    if refused is not None:
        assert refused.path == "f.json"
        assert "\n" not in str(refused)
        return
    assert src.kind == detect_kind(doc)
    for given_ in src.values.values():
        assert all(isinstance(p, str) for _, p in given_)

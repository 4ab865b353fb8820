"""The GTM container reader and the settings table, on files built to the documented formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.validate.findings import find
from simulator.validate.gtm import parse_container, read_container, trigger_type
from simulator.validate.settings import json_schema, load_settings, settings_from_dict

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "scenarios" / "validate"


def test_trigger_type_reads_both_spellings():
    assert trigger_type("DOM_READY") == "domReady"
    assert trigger_type("WINDOW_LOADED") == "windowLoaded"
    assert trigger_type("CONSENT_INIT") == "consentInit"
    assert trigger_type("PAGEVIEW") == "pageview"
    assert trigger_type("historyChange") == "historyChange"
    assert trigger_type("pageview") == "pageview"


def test_bundled_container_is_read_with_notices_for_what_is_skipped():
    c = read_container(EXAMPLE / "gtm-container.json")
    assert c.public_id == "GTM-SLAB001"
    assert [t.type for t in c.tags] == ["googtag", "gaawc", "gaawe", "gaawe", "gclidw", "awct", "ua"]
    assert [t.index for t in c.tags] == [0, 1, 2, 3, 4, 5, 7]  # tag[6] (custom template) skipped
    assert c.notices == (
        (
            "containerVersion.tag[6].type",
            "skipped: custom template 'cvt_90000001_15' (Cookie banner (community template))",
        ),
    )
    assert c.tags[0].param("tagId") == "G-SHOP123"
    assert c.tags[-1].paused is True
    assert c.trigger("5").type == "domReady"
    assert c.trigger("2147479553").name == "All Pages"
    assert c.trigger("nope") is None
    assert c.variables == ("DL - transaction_id",)
    assert c.built_in_variables == ("Page URL", "Event")


def test_missing_optional_keys_and_unknown_types_never_raise():
    c = parse_container(
        {
            "containerVersion": {
                "tag": [{"type": "zz_new"}, {"name": "no type"}, {"type": "html", "firingTriggerId": ["77"]}],
                "trigger": [{"name": "no id", "type": "click"}],
            }
        },
        "x.json",
    )
    assert [t.type for t in c.tags] == ["html"]
    assert [p for p, _ in c.notices] == [
        "exportFormatVersion",
        "containerVersion.trigger[0]",
        "containerVersion.tag[0].type",
        "containerVersion.tag[1]",
        "containerVersion.tag[2].firingTriggerId[0]",
    ]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("{not json", "line 1 column 2"),
        ("[1, 2]", "containerVersion"),
        ('{"exportFormatVersion": 2}', "containerVersion"),
    ],
)
def test_unreadable_exports_are_one_line_errors(tmp_path, text, where):
    path = tmp_path / "c.json"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        read_container(path)
    assert str(path) in str(err.value)
    assert where in str(err.value)
    assert "\n" not in str(err.value)


def test_settings_validate_with_key_paths_and_defaults_stay_absent():
    s = load_settings(EXAMPLE / "settings.toml")
    assert s.get("ga4", "session_timeout") == 45 * 60_000
    assert s.domains == ("shop.example", "checkout.example")
    assert settings_from_dict({}).raw == {}
    with pytest.raises(ScenarioError, match=r"ga4\.sesion_timeout.*did you mean 'session_timeout'"):
        settings_from_dict({"ga4": {"sesion_timeout": "45m"}}, "s.toml")
    with pytest.raises(ScenarioError, match=r"consent\.mode.*one of 'basic', 'advanced'"):
        settings_from_dict({"consent": {"mode": "full"}}, "s.toml")
    with pytest.raises(ScenarioError, match=r"site\.domains\[1\].*a domain"):
        settings_from_dict({"site": {"domains": ["not a domain"]}}, "s.toml")


def test_settings_json_schema_accepts_the_bundled_files_and_rejects_unknown_keys():
    jsonschema = pytest.importorskip("jsonschema")
    import tomllib

    schema = json_schema()
    for name in ("settings.toml", "spa-settings.toml"):
        jsonschema.validate(tomllib.loads((EXAMPLE / name).read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"ga4": {"sesion_timeout": "45m"}}, schema)
    assert json.dumps(schema)  # serialisable


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)
_KEYS = st.sampled_from(["type", "tagId", "triggerId", "name", "parameter", "firingTriggerId", "paused"])
tag_like = st.dictionaries(_KEYS, json_values | st.sampled_from(["googtag", "gaawe", "gclidw", "DOM_READY"]))


@settings(max_examples=200, deadline=None)
@given(
    tags=st.lists(tag_like | json_values, max_size=4) | json_values,
    triggers=st.lists(tag_like | json_values, max_size=3),
    version=json_values,
)
def test_any_container_shaped_json_reads_or_fails_as_one_line_error(tags, triggers, version):
    """Whatever a real export holds, the reader and the rules return findings or notices, never a crash."""
    doc = {
        "exportFormatVersion": version,
        "containerVersion": {"tag": tags, "trigger": triggers, "variable": version, "container": version},
    }
    try:
        c = parse_container(doc, "c.json")
    except ScenarioError:
        return
    if not isinstance(tags, list):
        assert c.tags == ()
        return
    kept = {t.index for t in c.tags}
    skipped = {
        int(p.split("[")[1].split("]")[0]) for p, _ in c.notices if p.startswith("containerVersion.tag[")
    }
    assert kept | skipped == set(range(len(tags)))  # every tag kept or reported, none lost
    find([c], settings_from_dict({"site": {"domains": ["a.example", "b.example"]}}))

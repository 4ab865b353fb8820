"""Every static finding on the bundled example, and the rules' boundaries on hand-built inputs."""

from __future__ import annotations

from pathlib import Path

from simulator.validate.findings import RULES, find
from simulator.validate.gtm import parse_container, read_container
from simulator.validate.settings import load_settings, settings_from_dict

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "validate"
GTM = str(EXAMPLE / "gtm-container.json")
SET = str(EXAMPLE / "settings.toml")


def _bundled():
    main = find([read_container(GTM)], load_settings(SET))
    spa = find([], load_settings(EXAMPLE / "spa-settings.toml"))
    return main + spa


def test_the_bundled_example_shows_every_rule_once_with_its_evidence():
    found = _bundled()
    assert sorted(f.rule for f in found) == sorted(RULES)
    by = {f.rule: f for f in found}
    assert by["GA4-DUPLICATE-TAG"].evidence == (
        (GTM, "containerVersion.tag[0]"),
        (GTM, "containerVersion.tag[1]"),
    )
    assert by["GA4-TAG-TRIGGER"].evidence == ((GTM, "containerVersion.tag[0].firingTriggerId"),)
    assert by["GA4-TAG-TRIGGER"].configured == {"tracking.tag_load": ("+", 800)}
    assert by["GA4-EVENT-BEFORE-CONFIG"].evidence == ((GTM, "containerVersion.tag[2].firingTriggerId"),)
    assert by["SPA-DOUBLE-PAGEVIEW"].evidence[0] == (GTM, "containerVersion.tag[3]")
    assert "checkout.example" in by["LINKER-NO-CROSS-DOMAIN"].message
    assert by["REFERRAL-PAYMENT-PROVIDER"].message == "stripe.com not listed as unwanted referrals"
    assert by["CONSENT-BASIC-DENIED"].configured == {
        "tracking.consent_mode": "basic",
        "tracking.consent": 0.6,
    }
    assert by["CONSENT-BASIC-DENIED"].fixed == {"tracking.consent_mode": "advanced", "tracking.consent": 0.6}
    assert by["GA4-SESSION-TIMEOUT"].configured == {
        "sessions.definitions": ("first", {"name": "ga4_configured", "preset": "ga4", "timeout": "45m"})
    }
    assert by["TIMEZONE-MISMATCH"].fixed == {
        "scenario.timezone": "America/New_York",
        "scenario.ad_timezone": "America/New_York",
    }
    for f in found:  # every finding carries its documented rule, source, terms and fix
        d = f.to_dict()
        assert d["severity"] in ("info", "warning", "error")
        assert d["source"]
        assert d["documented_rule"]
        assert d["terms"]
        assert d["fix"]
        assert d["evidence"]


def _container(tags, triggers=()):
    return parse_container(
        {"exportFormatVersion": 2, "containerVersion": {"tag": tags, "trigger": list(triggers)}}, "c.json"
    )


def _ga4(mid, trigger="2147479553", kind="googtag", paused=False):
    key = "tagId" if kind == "googtag" else "measurementId"
    return {
        "type": kind,
        "name": mid,
        "parameter": [{"type": "TEMPLATE", "key": key, "value": mid}],
        "firingTriggerId": [trigger],
        "paused": paused,
    }


def test_one_tag_per_id_on_initialization_is_clean():
    c = _container([_ga4("G-A", "2147479573"), _ga4("G-B")])
    assert find([c], None) == []


def test_a_paused_duplicate_is_not_a_duplicate_and_window_loaded_is_late():
    c = _container([_ga4("G-A"), _ga4("G-A", kind="gaawc", paused=True)])
    assert find([c], None) == []
    c = _container([_ga4("G-A", "1")], [{"triggerId": "1", "type": "WINDOW_LOADED"}])
    [f] = find([c], None)
    assert f.rule == "GA4-TAG-TRIGGER"
    assert f.configured == {"tracking.tag_load": ("+", 2500)}


def test_linker_with_cross_domain_or_every_domain_listed_is_clean():
    s = settings_from_dict({"site": {"domains": ["a.example", "b.example"]}})
    linker = {
        "type": "gclidw",
        "parameter": [{"type": "BOOLEAN", "key": "enableCrossDomain", "value": "true"}],
    }
    assert find([_container([linker])], s) == []
    s2 = settings_from_dict(
        {"site": {"domains": ["a.example", "b.example"]}, "ga4": {"cross_domain": ["a.example", "b.example"]}}
    )
    assert find([_container([])], s2) == []
    assert [f.rule for f in find([_container([])], s)] == ["LINKER-NO-CROSS-DOMAIN"]


def test_settings_rules_stay_silent_on_defaults_and_template_with_lpurl():
    s = settings_from_dict(
        {
            "ga4": {"session_timeout": "30m", "timezone": "UTC", "unwanted_referrals": ["paypal.com"]},
            "google_ads": {
                "auto_tagging": True,
                "timezone": "UTC",
                "tracking_template": "https://t.example/?u={lpurl}",
            },
            "consent": {"analytics_storage": "denied", "mode": "advanced"},
            "site": {"payment_providers": ["paypal.com"]},
        }
    )
    assert find([], s) == []

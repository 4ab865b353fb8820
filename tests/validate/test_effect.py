"""Effects as configured vs as fixed: exact identities that common random numbers make hold per run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from simulator.errors import ScenarioError
from simulator.scenario.loader import scenario_from_dict
from simulator.validate.effect import apply, as_configured, default_shop, measure, to_toml
from simulator.validate.findings import find
from simulator.validate.gtm import parse_container
from simulator.validate.settings import settings_from_dict

REPO = Path(__file__).resolve().parents[2]


def _effects(settings, tags=(), reps=3, base=None):
    c = parse_container({"containerVersion": {"tag": list(tags)}}, "c.json")
    fs = find([c], settings_from_dict(settings))
    return fs, measure(base or default_shop(), fs, replications=reps, visitors=600)


def test_autotagging_off_relabels_every_paid_session_and_changes_no_total():
    _fs, [e] = _effects({"google_ads": {"auto_tagging": False}})
    for m in ("clicks", "sessions", "views", "users"):
        assert (e.delta[m].mean, e.delta[m].std) == (0.0, 0.0)
    # as configured every tracked ad landing lost its click id; as fixed none did
    assert e.configured["bridge.campaign_dropped"].mean < 0
    assert e.delta["bridge.campaign_dropped"].mean == -e.configured["bridge.campaign_dropped"].mean
    assert e.delta["bridge.redirect"].mean == -e.configured["bridge.redirect"].mean


def test_session_timeout_moves_sessions_only_and_a_longer_timeout_never_adds_sessions():
    _fs, [e] = _effects({"ga4": {"session_timeout": "2h"}})
    for m in ("clicks", "views", "users"):
        assert (e.delta[m].mean, e.delta[m].std) == (0.0, 0.0)
    assert e.delta["sessions"].low > 0  # fixed (30m) has more sessions in every replication
    assert e.delta["sessions"].mean == e.delta["bridge.inactivity"].mean + sum(
        e.delta[k].mean for k in e.delta if k.startswith("bridge.") and k != "bridge.inactivity"
    )


def test_time_zone_fix_changes_days_not_totals():
    _fs, [e] = _effects(
        {"ga4": {"timezone": "Europe/Berlin"}, "google_ads": {"timezone": "America/Los_Angeles"}}
    )
    for m in ("clicks", "sessions", "views", "users"):
        assert e.delta[m].mean == 0.0
    assert e.configured["day_mismatch"].mean > 0


def test_consent_fix_removes_the_no_consent_term():
    _fs, [e] = _effects({"consent": {"analytics_storage": "denied", "mode": "basic", "grant_rate": 0.5}})
    assert e.configured["bridge.no_consent"].mean < 0
    assert e.delta["bridge.no_consent"].mean == -e.configured["bridge.no_consent"].mean


def test_duplicate_tag_is_simulated_views_cut_to_one_copy_sessions_unchanged():
    tag = {
        "type": "googtag",
        "firingTriggerId": ["2147479553"],
        "parameter": [{"type": "TEMPLATE", "key": "tagId", "value": "G-X"}],
    }
    fs, [e] = _effects({}, [tag, dict(tag), dict(tag)])
    assert fs[0].configured == {"tracking.duplicate_tags": 2}
    assert e.how == "simulated"
    assert e.configured["views"].mean == -1.5 * e.delta["views"].mean  # 3 copies -> 1, every replication
    assert e.delta["views"].std == pytest.approx(e.configured["views"].std * 2 / 3)
    for m in ("clicks", "sessions", "users"):
        assert (e.delta[m].mean, e.delta[m].std) == (0.0, 0.0)
    assert e.delta["views.duplicate_tag"].mean == -e.configured["views.duplicate_tag"].mean
    assert e.delta["engaged_sessions"].mean <= 0  # copies make every session look engaged


def _spa_findings(settings, tags=()):
    c = parse_container({"containerVersion": {"tag": list(tags)}}, "c.json")
    return find([c], settings_from_dict(settings))


def test_spa_double_page_view_fix_removes_exactly_the_manual_page_views():
    manual = {
        "type": "gaawe",
        "firingTriggerId": ["9"],
        "parameter": [{"type": "TEMPLATE", "key": "eventName", "value": "page_view"}],
    }
    trigger = {"triggerId": "9", "type": "HISTORY_CHANGE"}
    c = parse_container({"containerVersion": {"tag": [manual], "trigger": [trigger]}}, "c.json")
    fs = find([c], settings_from_dict({"site": {"single_page_app": True}}))
    [f] = [f for f in fs if f.rule == "SPA-DOUBLE-PAGEVIEW"]
    assert f.configured["tracking.manual_page_view"] is True
    [e] = measure(default_shop(), [f], replications=3, visitors=600)
    # fixed minus configured views = minus the manual page views of the configured run (a negative term)
    assert e.delta["views"].mean == e.configured["views.manual_page_view"].mean < 0
    assert e.delta["views"].std == e.configured["views.manual_page_view"].std
    for m in ("clicks", "sessions", "users"):
        assert (e.delta[m].mean, e.delta[m].std) == (0.0, 0.0)


def test_spa_without_history_page_views_fix_adds_views_back():
    fs = _spa_findings({"site": {"single_page_app": True}, "ga4": {"history_page_views": False}})
    [f] = [f for f in fs if f.rule == "SPA-NO-HISTORY-PAGEVIEW"]
    assert f.configured["behavior.route_changes"] == ("default", 1.0)
    [e] = measure(default_shop(), [f], replications=3, visitors=600)
    assert e.delta["views"].low > 0
    assert "views.route_change" not in e.configured or e.configured["views.route_change"].mean == 0
    assert e.delta["views.route_change"].mean < 0  # as fixed, route changes are page views again
    assert e.delta["clicks"].mean == 0.0


def test_spa_route_share_keeps_the_users_own_value():
    base = default_shop()
    base["behavior"]["route_changes"] = 0.3
    fs = _spa_findings({"site": {"single_page_app": True}, "ga4": {"history_page_views": False}})
    doc = as_configured(base, fs)
    assert doc["behavior"]["route_changes"] == 0.3
    assert doc["tracking"]["history_page_views"] is False
    assert as_configured(default_shop(), fs)["behavior"]["route_changes"] == 1.0


def test_late_trigger_loses_landings_before_the_tag():
    tag = {
        "type": "googtag",
        "firingTriggerId": ["1"],
        "parameter": [{"type": "TEMPLATE", "key": "tagId", "value": "G-X"}],
    }
    fs = find(
        [
            parse_container(
                {
                    "containerVersion": {
                        "tag": [tag],
                        "trigger": [{"triggerId": "1", "type": "WINDOW_LOADED"}],
                    }
                },
                "c",
            )
        ],
        None,
    )
    [e] = measure(default_shop(), fs, replications=4, visitors=1500)
    assert e.delta["bridge.left_before_tag"].low > 0  # fixing the trigger loses fewer landings


def test_fixed_restores_the_users_own_value_and_emit_round_trips():
    base = tomllib.loads((REPO / "scenarios" / "google_ads_vs_ga4.toml").read_text())
    fs = find([], settings_from_dict({"google_ads": {"auto_tagging": False}}))
    configured = as_configured(base, fs)
    assert configured["tracking"]["redirect_drop"] == 1.0
    assert "expect" not in configured
    fixed = apply(configured, [fs[0].fixed], base)
    assert fixed["tracking"]["redirect_drop"] == base["tracking"]["redirect_drop"] == 0.01
    text = to_toml(configured, "header")
    assert tomllib.loads(text) == configured
    scenario_from_dict(tomllib.loads(text))  # a valid scenario


def test_same_inputs_same_numbers():
    a = _effects({"ga4": {"session_timeout": "1h"}}, reps=2)[1][0].to_dict()
    b = _effects({"ga4": {"session_timeout": "1h"}}, reps=2)[1][0].to_dict()
    assert a == b


def test_unshiftable_tag_load_is_reported():
    base = default_shop()
    base["tracking"]["tag_load"] = {"dist": "fixed", "value": "1s"}
    with pytest.raises(ScenarioError, match=r"tracking\.tag_load.*lognormal"):
        apply(base, [{"tracking.tag_load": ("+", 5)}])


def test_linker_fix_removes_the_checkout_domains_sessions_and_nothing_else():
    domains = {"domains": ["shop.example"], "checkout_domains": ["checkout.example"]}
    _fs, effects = _effects({"site": {**domains, "checkout_share": 0.3}})
    [e] = [e for e in effects if e.finding.rule == "LINKER-NO-CROSS-DOMAIN"]
    assert e.how == "simulated"
    assert e.configured["bridge.cross_domain"].mean > 0  # unlinked: each hop is a new user's session
    assert e.delta["bridge.cross_domain"].mean == -e.configured["bridge.cross_domain"].mean
    # ga4 does not split the shop's visit on the referral back: the only moved term is cross_domain
    assert e.delta["sessions"].mean == e.delta["bridge.cross_domain"].mean
    for m in ("clicks", "views"):
        assert (e.delta[m].mean, e.delta[m].std) == (0.0, 0.0)
    assert e.delta["users"].mean < 0


def test_payment_fix_moves_sessions_only_under_the_disputed_ga4_reading():
    _fs, [e] = _effects({"site": {"payment_providers": ["paypal.com"], "payment_share": 0.3}})
    assert e.finding.rule == "REFERRAL-PAYMENT-PROVIDER"
    for m in ("clicks", "sessions", "views", "users"):  # Google's rule: a referral does not split
        assert (e.delta[m].mean, e.delta[m].std) == (0.0, 0.0)
    split = e.configured["bridge.payment_referral@ga4_source_split"].mean
    assert split > 0
    assert e.delta["bridge.payment_referral@ga4_source_split"].mean == -split
    assert e.delta["sessions@ga4_source_split"].high < 0  # fewer sessions in every replication's mean


def test_internal_campaign_fix_and_the_scenarios_own_rate():
    settings = {"site": {"internal_campaign_links": True}}
    base = default_shop()
    base["site"] = {"internal_campaign": 0.4}  # the scenario's own rate wins over the default 0.05
    fs, [e] = _effects(settings, base=base)
    assert fs[0].configured == {"site.internal_campaign": ("default", 0.05)}
    assert as_configured(base, fs)["site"]["internal_campaign"] == 0.4
    assert (e.delta["sessions"].mean, e.delta["sessions"].std) == (0.0, 0.0)
    moved = e.configured["bridge.internal_campaign@ga4_source_split"].mean
    assert moved > 0
    assert e.delta["bridge.internal_campaign@ga4_source_split"].mean == -moved

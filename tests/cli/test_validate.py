"""``sessionlab validate`` end to end: exit codes, JSON shape, JUnit, --emit-scenario, bad input."""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from simulator.cli.main import main
from simulator.scenario.loader import load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "validate"
FILES = [str(EXAMPLE / "gtm-container.json"), str(EXAMPLE / "settings.toml")]


def test_findings_only_exit_codes_follow_fail_on(capsys):
    assert main(["validate", *FILES, "--replications", "0"]) == 1  # errors present
    out = capsys.readouterr().out
    assert "ERROR    GA4-DUPLICATE-TAG" in out
    assert "containerVersion.tag[0]" in out
    assert "NOTICE" in out
    assert "cvt_90000001_15" in out
    spa = str(EXAMPLE / "spa-settings.toml")
    assert main(["validate", spa, "--replications", "0"]) == 0  # a warning, below --fail-on error
    assert main(["validate", spa, "--replications", "0", "--fail-on", "warning"]) == 1


def test_json_shape_and_effects(capsys, tmp_path):
    junit = tmp_path / "v.xml"
    code = main(
        ["validate", *FILES, "--replications", "2", "--visitors", "500", "--json", "--junit-xml", str(junit)]
    )
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1
    assert doc["replications"] == 2
    assert doc["findings"][0]["severity"] == "error"
    rules = [e["rule"] for e in doc["effects"]]
    assert rules == [
        "GA4-DUPLICATE-TAG",
        "GA4-TAG-TRIGGER",
        "LINKER-NO-CROSS-DOMAIN",
        "SPA-DOUBLE-PAGEVIEW",
        "CONSENT-BASIC-DENIED",
        "ADS-AUTOTAG-OFF",
        "ADS-TEMPLATE-DROPS-GCLID",
        "REFERRAL-PAYMENT-PROVIDER",
        "UTM-INTERNAL-LINKS",
        "GA4-SESSION-TIMEOUT",
        "TIMEZONE-MISMATCH",
    ]
    effects = {e["rule"]: e for e in doc["effects"]}
    assert effects["ADS-AUTOTAG-OFF"]["fixed_together_with"] == ["ADS-TEMPLATE-DROPS-GCLID"]
    # the disputed GA4 reading is measured beside Google's rule (the default shop compares both)
    payment = effects["REFERRAL-PAYMENT-PROVIDER"]["delta"]
    assert "bridge.payment_referral@ga4_source_split" in payment
    assert payment["sessions"]["mean"] == 0.0  # ga4: no split on a referral
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "5"  # five error findings
    assert suite.get("tests") == "13"  # one case per rule


def test_emit_scenario_writes_a_loadable_scenario(tmp_path, capsys):
    out = tmp_path / "found.toml"
    main(["validate", *FILES, "--replications", "0", "--emit-scenario", str(out)])
    sc = load_scenario(out)
    assert sc.timezone == "Europe/Berlin"
    assert sc.ad_timezone == "America/New_York"
    doc = tomllib.loads(out.read_text())
    assert doc["tracking"]["redirect_drop"] == 1.0
    assert doc["tracking"]["consent"] == 0.6


def test_unreadable_input_is_exit_2_one_line(tmp_path, capsys):
    bad = tmp_path / "c.json"
    bad.write_text("{oops")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "not JSON" in err
    assert "Traceback" not in err
    assert main(["validate", str(tmp_path / "missing.toml")]) == 2
    other = tmp_path / "x.csv"
    other.write_text("a")
    assert main(["validate", str(other)]) == 2
    assert "expected a GTM container export" in capsys.readouterr().err


def test_a_scenario_whose_tag_load_cannot_be_shifted_names_its_file(tmp_path, capsys):
    sc = tmp_path / "s.toml"
    text = (Path(__file__).resolve().parents[2] / "scenarios" / "google_ads_vs_ga4.toml").read_text()
    sc.write_text(
        text.replace('tag_load = { dist = "lognormal", median = "450ms", sigma = 0.6 }', 'tag_load = "450ms"')
    )
    gtm = tmp_path / "c.json"
    gtm.write_text(
        '{"exportFormatVersion": 2, "containerVersion": {'
        '"tag": [{"type": "googtag", "firingTriggerId": ["1"]}],'
        ' "trigger": [{"triggerId": "1", "type": "WINDOW_LOADED"}]}}'
    )
    assert main(["validate", str(gtm), "--scenario", str(sc), "--replications", "2"]) == 2
    err = capsys.readouterr().err
    assert f"{sc}: tracking.tag_load: " in err
    assert "Traceback" not in err

"""``sessionlab validate --report DIR``: the findings and effects in the report directory every command
writes (result.json, report.md, report.html), from the same document as ``validate --json``."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.report.directory import MARKER
from simulator.report.validate import validate_markdown
from simulator.validate.effect import METRICS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "validate"
FILES = [
    str(EXAMPLE / "gtm-container.json"),
    str(EXAMPLE / "ga4-property.json"),
    str(EXAMPLE / "ga4-data-streams.json"),
    str(EXAMPLE / "ga4-enhanced-measurement.json"),
    str(EXAMPLE / "google-ads-customer.json"),
]
ARGS = [*FILES, "--scenario", str(EXAMPLE / "shop.toml"), "--replications", "2", "--visitors", "400"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("validate") / "rep"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["validate", *ARGS, "--json", "--report", str(out)])
    assert code == 1
    return out, json.loads(buf.getvalue())


def _half(summary: dict) -> str:
    return f"{summary['mean']:+,.0f} (±{(summary['high'] - summary['low']) / 2:,.0f})"


def test_the_report_directory_holds_the_validate_document(written):
    out, printed = written
    assert sorted(p.name for p in out.iterdir() if not p.name.endswith(".png")) == [
        MARKER,
        "report.html",
        "report.md",
        "result.json",
        "sessions.csv",
    ]
    doc = json.loads((out / "result.json").read_text())
    assert doc["validate"]["findings"] == printed["findings"]
    assert doc["validate"]["notices"] == printed["notices"]
    assert [e["rule"] for e in doc["validate"]["effects"]] == [e["rule"] for e in printed["effects"]]
    assert doc["validate"]["replications"] == 2
    assert printed["inputs"] == [
        {"file": FILES[0], "read_as": "GTM container export"},
        {"file": FILES[1], "read_as": "GA4 Admin API Property (properties.get)"},
        {"file": FILES[2], "read_as": "GA4 Admin API properties.dataStreams.list response"},
        {"file": FILES[3], "read_as": "GA4 Admin API EnhancedMeasurementSettings"},
        {"file": FILES[4], "read_as": "Google Ads API googleAds:search response"},
        {"file": str(EXAMPLE / "shop.toml"), "read_as": "scenario [settings] table"},
    ]
    assert doc["validate"]["inputs"] == printed["inputs"]
    # the report's run is the scenario as configured: the property's and the account's time zones
    assert doc["timezones"] == {"property": "Europe/Berlin", "ad_account": "America/New_York"}


def test_report_md_lists_every_finding_with_evidence_and_the_effects(written):
    out, printed = written
    md = (out / "report.md").read_text()
    section = md[md.index("## Tracking configuration findings") : md.index("## Files")]
    assert section.count("\n### ") == len(printed["findings"]) + 1  # and the effects table's heading
    for f in printed["findings"]:
        assert f"### {f['severity'].upper()} `{f['rule']}`: {f['title']}" in section
        for e in f["evidence"]:
            assert f"- at `{e['file']}`: `{e['pointer']}`" in section
        assert f"- **fix:** {f['fix']}" in section
    assert "`results[0].customer.timeZone`" in section
    assert "`dataStreams[1]`: skipped: not a web data stream" in section
    doc = json.loads((out / "result.json").read_text())
    for e in doc["validate"]["effects"]:
        row = next(line for line in section.splitlines() if line.startswith(f"| `{e['rule']}` |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1 : 1 + len(METRICS)] == [_half(e["delta"][m]) for m in METRICS]
        assert cells[-1].startswith(e["how"])


def test_markdown_section_by_hand():
    """A two-finding document, rendered by hand: pipes escaped, notes shown, an effect's row."""
    summary = {"n": 2, "mean": 412.0, "std": 10.0, "low": 377.0, "high": 447.0}
    zero = {"n": 2, "mean": 0.0, "std": 0.0, "low": 0.0, "high": 0.0}
    doc = {
        "scenario": "s.toml",
        "replications": 2,
        "findings": [
            {
                "rule": "R-1",
                "severity": "error",
                "title": "a | b",
                "message": "m",
                "evidence": [{"file": "f.json", "pointer": "results[0].customer.timeZone"}],
                "documented_rule": "d",
                "source": "src",
                "terms": ["referral", "views"],
                "fix": "x",
                "simulated": False,
                "note": "not simulated: no mechanism",
            }
        ],
        "notices": [{"file": "f.json", "pointer": "p", "message": "skipped"}],
        "effects": [
            {
                "rule": "R-1",
                "how": "simulated",
                "fixed_together_with": ["R-2"],
                "configured": {},
                "delta": {"clicks": zero, "sessions": summary, "views": zero, "users": zero},
            }
        ],
    }
    lines = validate_markdown(doc)
    assert lines[:2] == ["## Tracking configuration findings", ""]
    assert "### ERROR `R-1`: a \\| b" in lines
    assert "- at `f.json`: `results[0].customer.timeZone`" in lines
    assert "- moves: referral, views" in lines
    assert "- effect: not simulated: no mechanism" in lines
    assert "- notice: `f.json`: `p`: skipped" in lines
    row = "| `R-1` | +0 (±0) | +412 (±35) | +0 (±0) | +0 (±0) | n/a | n/a | simulated, fixed with R-2 |"
    assert row in lines

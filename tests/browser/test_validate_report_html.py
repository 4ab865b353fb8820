"""``validate --report``'s report.html in a real browser: the findings section is there and visible,
each finding's evidence and each effect's numbers are those of result.json, offline, no errors, and
no page-wide horizontal scroll on a phone."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.report.html import FORMATS, resolve
from tests.browser.screenshot import open_offline

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "validate"


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("validate-browser") / "rep"
    files = [
        str(EXAMPLE / n)
        for n in (
            "gtm-container.json",
            "ga4-property.json",
            "ga4-enhanced-measurement.json",
            "google-ads-customer.json",
        )
    ]
    args = [*files, "--scenario", str(EXAMPLE / "shop.toml"), "--replications", "2", "--visitors", "300"]
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["validate", *args, "--report", str(out)]) == 1
    return out


@pytest.mark.parametrize("width", [1280, 390])
def test_the_findings_section_is_shown_offline_without_errors(browser, report, width):
    doc = json.loads((report / "result.json").read_text())["validate"]
    visit = open_offline(browser, report / "report.html", width, 844)
    try:
        page = visit.page
        assert visit.blocked == []
        assert visit.errors == []
        assert visit.console == []
        section = page.locator("#validate")
        assert section.is_visible()
        assert page.text_content("#validate-h") == "Tracking configuration findings"
        headings = page.eval_on_selector_all("#validate h3", "els => els.map(e => e.textContent)")
        assert len(headings) == len(doc["findings"])
        for heading, f in zip(headings, doc["findings"], strict=True):
            assert heading.startswith(f"{f['severity']} {f['rule']}: {f['title']}")
        evidence = page.eval_on_selector_all(
            "#validate li", "els => els.map(e => e.textContent).filter(t => t.startsWith('at '))"
        )
        assert evidence == [f"at {e['file']}: {e['pointer']}" for f in doc["findings"] for e in f["evidence"]]
        assert any(t.endswith(": results[0].customer.timeZone") for t in evidence)
        if width == 390:
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            box = page.evaluate(
                "(() => { const t = document.querySelector('#validate .scroll');"
                " return [t.scrollWidth, t.clientWidth]; })()"
            )
            assert box[1] <= 390
    finally:
        visit.close()


def test_effect_numbers_in_the_dom_are_those_of_result_json(browser, report):
    doc = json.loads((report / "result.json").read_text())
    visit = open_offline(browser, report / "report.html", 1280)
    try:
        marked = visit.page.evaluate(
            "[...document.querySelectorAll('#validate [data-key]')]"
            ".map(e => [e.dataset.key, e.dataset.value, e.dataset.format, e.textContent])"
        )
        rows = visit.page.eval_on_selector_all(
            "#validate table tbody tr", "rows => rows.map(r => [...r.children].map(c => c.textContent))"
        )
    finally:
        visit.close()
    effects = doc["validate"]["effects"]
    assert len(rows) == sum(len(e["delta"]) for e in effects)
    assert [(r[0], r[1]) for r in rows] == [(e["rule"], m) for e in effects for m in e["delta"]]
    keys = {k for k, *_ in marked}
    for i, e in enumerate(effects):
        for m in e["delta"]:
            assert f"/validate/effects/{i}/delta/{m}/mean" in keys
    assert len(marked) > 3 * len(rows)
    for key, value, fmt, text in marked:
        expected = resolve(doc, key)
        assert json.loads(value) == expected, key
        assert text == ("n/a" if expected is None else FORMATS[fmt](expected)), key

"""report.html in a real browser: offline, no console errors, non-blank at 1280 and 390 px, no page-wide
horizontal scroll on a phone, and the DOM holds the numbers of result.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from simulator import load_scenario, run
from simulator.analysis.breakdown import breakdowns
from simulator.report.directory import write_report
from simulator.report.html import FORMATS, resolve
from tests.browser.screenshot import make_picture, open_offline
from tests.conftest import SCENARIOS


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """why_numbers_differ (two definitions, two time zones) with breakdowns: the widest tables."""
    scenario = load_scenario(SCENARIOS / "why_numbers_differ.toml")
    result = run(scenario)
    out = tmp_path_factory.mktemp("browser") / "rep"
    write_report(result, out, scenario.description, breakdowns(result, ("campaign", "hour")))
    return out


def _distinct_colours(png: Path) -> tuple[int, float]:
    """Number of distinct RGB colours and the share of the commonest one."""
    import matplotlib.image

    rgb = (matplotlib.image.imread(png)[..., :3] * 255).round().astype(np.uint32).reshape(-1, 3)
    counts = np.bincount((rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2], minlength=1 << 24)
    return int(np.count_nonzero(counts)), float(counts.max() / counts.sum())


@pytest.mark.parametrize("width", [1280, 390])
def test_loads_offline_without_errors_and_is_not_blank(browser, report, tmp_path, width):
    visit = open_offline(browser, report / "report.html", width)
    try:
        assert visit.blocked == []  # nothing tried to leave the page
        assert visit.errors == []
        assert visit.console == []
        png = tmp_path / f"report-{width}.png"
        visit.page.screenshot(path=str(png), full_page=True)
    finally:
        visit.close()
    colours, commonest = _distinct_colours(png)
    assert colours > 100  # text, charts, table bands: not one flat colour
    assert commonest < 0.95


def test_no_horizontal_page_scroll_on_a_phone(browser, report):
    """At 390 px the page is as wide as the screen; wide tables and charts scroll in their own box."""
    visit = open_offline(browser, report / "report.html", 390, 844)
    try:
        page = visit.page
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.evaluate("document.body.scrollWidth <= window.innerWidth")
        boxes = page.evaluate(
            "[...document.querySelectorAll('.scroll')].map(e => [e.scrollWidth, e.clientWidth])"
        )
        assert boxes
        assert all(client <= 390 for _, client in boxes)
        assert any(width > client for width, client in boxes)  # something wide scrolls inside its box
    finally:
        visit.close()


def test_dom_holds_the_numbers_of_result_json(browser, report):
    doc = json.loads((report / "result.json").read_text())
    visit = open_offline(browser, report / "report.html", 1280)
    try:
        page = visit.page
        marked = page.evaluate(
            "[...document.querySelectorAll('[data-key]')].map(e => [e.dataset.key, e.dataset.value, "
            "e.dataset.format, e.textContent])"
        )
        headline = page.text_content("#story .headline")
    finally:
        visit.close()
    assert len(marked) > 200
    for key, value, fmt, text in marked:
        expected = resolve(doc, key)
        assert json.loads(value) == expected, key
        assert text == ("n/a" if expected is None else FORMATS[fmt](expected)), key
    bridge = doc["definitions"]["ga4"]["bridge"]
    gap = bridge["start"] - bridge["end"]
    assert f"counted {bridge['start']:,} clicks" in headline
    assert f"counted {bridge['end']:,} sessions" in headline
    assert f"{abs(gap):,} {'fewer' if gap > 0 else 'more'}" in headline


def test_network_requests_are_caught(browser, tmp_path):
    """The guard works: a page that asks for a remote image gets it aborted and recorded."""
    page = tmp_path / "remote.html"
    page.write_text('<!DOCTYPE html><p>x</p><img src="https://example.invalid/pixel.png">')
    visit = open_offline(browser, page, 800)
    try:
        assert visit.blocked == ["https://example.invalid/pixel.png"]
    finally:
        visit.close()


def test_prints_to_pdf(browser, report, tmp_path):
    """Printable: print media gives a multi-page PDF (charts and tables kept, no scroll boxes)."""
    visit = open_offline(browser, report / "report.html", 1280)
    try:
        visit.page.emulate_media(media="print")
        assert (
            visit.page.evaluate("getComputedStyle(document.querySelector('.scroll')).overflowX") == "visible"
        )
        pdf = visit.page.pdf(format="A4")
    finally:
        visit.close()
    assert pdf.startswith(b"%PDF")
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") > 2


def test_screenshot_command_writes_the_readme_picture(browser, tmp_path):
    """The README's picture is made by this code (python -m tests.browser.screenshot docs/img/report.png)."""
    out = tmp_path / "shot.png"
    data = make_picture(browser, out, str(SCENARIOS / "why_numbers_differ.toml"), 1000, 1450)
    assert out.read_bytes() == data
    assert data.startswith(b"\x89PNG")
    import matplotlib.image

    assert matplotlib.image.imread(out).shape[:2] == (1450, 1000)
    colours, commonest = _distinct_colours(out)
    assert colours > 100
    assert commonest < 0.95

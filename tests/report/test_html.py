"""report.html: every number is result.json's, user text is escaped, nothing points off the page."""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser

import pytest

from simulator import load_scenario, run
from simulator.analysis.breakdown import breakdowns
from simulator.cli.main import main
from simulator.report.directory import result_document, write_report
from simulator.report.html import FORMATS, pointer, render_html, resolve
from tests.conftest import ROOT, SCENARIOS

#: Scenario name and description that try to inject markup (a test writes them into a scenario file).
EVIL_NAME = '<script>alert("name")</script>'
EVIL_DESCRIPTION = '"><img src=x onerror=alert(1)> & <b>bold</b>'


class Page(HTMLParser):
    """Every element with its attributes, the marked numbers, and the text outside marked elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.marked: list[dict[str, str]] = []  # attrs + "text"
        self.loose: list[str] = []  # text outside marked numbers, user text, code, svg, style
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, skip its text, is a marked number)
        self._current: dict[str, str] | None = None
        self.feed(text)
        self.close()

    _VOID = frozenset({"meta", "br", "img", "input", "link", "hr", "source", "wbr"})

    def _skipping(self) -> bool:
        return any(skip for _, skip, _ in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag in self._VOID:
            return
        is_number = "data-key" in a or "data-derived" in a
        skip = is_number or tag in ("svg", "style", "code", "title") or "user" in a.get("class", "").split()
        if is_number:
            self._current = {**a, "text": ""}
            self.marked.append(self._current)
        self._stack.append((tag, skip, is_number))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._VOID:
            return
        while self._stack:
            top, _, is_number = self._stack.pop()
            if is_number:
                self._current = None
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current["text"] += data
        elif not self._skipping():
            self.loose.append(data)


#: A number standing alone: not part of an identifier such as "ga4" or "chart1".
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*(?:\.\d+)?(?![\w])")


def _parse_shown(text: str, fmt: str, value: object) -> None:
    """The shown text is ``value`` in format ``fmt`` (the page shows what result.json holds)."""
    if value is None:
        assert not _NUMBER.search(text), text  # n/a, a dash: never a made-up number
        return
    assert text == FORMATS[fmt](value), (text, fmt, value)


def _check_every_number(page: Page, doc: dict) -> int:
    for m in page.marked:
        if "data-key" in m:
            value = resolve(doc, m["data-key"])
            assert json.loads(m["data-value"]) == value, m
            _parse_shown(m["text"], m["data-format"], value)
        else:  # derived: a sum or difference of numbers that are in result.json
            expr = m["data-derived"]
            total, sign = 0, 1
            for token in expr.split():
                if token in "+-":
                    sign = 1 if token == "+" else -1
                else:
                    total += sign * (0 if token == "0" else resolve(doc, token))
            shown = abs(total) if m["data-format"] == "abs" else total
            assert json.loads(m["data-value"]) == shown, m
            _parse_shown(m["text"], m["data-format"], shown)
    loose = [n for chunk in page.loose for n in _NUMBER.findall(chunk)]
    assert loose == [], f"numbers in the page that are not marked with their place in result.json: {loose}"
    return len(page.marked)


@pytest.fixture(scope="module")
def why(tmp_path_factory):
    """why_numbers_differ: two definitions, a comparison, two time zones, days; with breakdowns."""
    scenario = load_scenario(SCENARIOS / "why_numbers_differ.toml")
    result = run(scenario)
    tables = breakdowns(result, ("campaign", "device"))
    out = tmp_path_factory.mktemp("why") / "rep"
    write_report(result, out, scenario.description, tables)
    return out, result, tables


def test_every_number_in_the_page_is_result_json(why):
    out, _, _ = why
    doc = json.loads((out / "result.json").read_text())
    html = (out / "report.html").read_text()
    page = Page(html)
    count = _check_every_number(page, doc)
    assert count > 200  # bridges, comparison, days, breakdowns: many numbers, all checked
    keys = {m.get("data-key") for m in page.marked}
    assert {"/ads/clicks", "/definitions/ga4/sessions", "/comparisons/0/bridge/end"} <= keys
    assert "/breakdowns/ga4/campaign/total/cost_per_session" in keys
    assert any(k and k.startswith("/definitions/salesreach/days/") for k in keys)


def test_result_json_is_render_json_without_extras(why):
    """Without expectations and replications, result.json is byte for byte `run --json`'s."""
    from simulator.report.text import render_json

    out, result, tables = why
    assert (out / "result.json").read_text() == render_json(result, tables)


def test_sections_in_story_first_order(why):
    """Story first, then bridges, views, definitions (numbers side by side), days, campaigns, breakdowns."""
    page = Page((why[0] / "report.html").read_text())
    ids = [a["id"] for t, a in page.tags if t == "section"]
    assert ids == [
        "story",
        "bridges",
        "views",
        "definitions",
        "days",
        "campaigns",
        "breakdowns",
        "glossary",
    ]
    figures = [a.get("aria-label", "") for t, a in page.tags if t == "figure"]
    assert len(figures) == 3  # a waterfall per definition and the definitions chart


def test_story_names_the_three_biggest_causes_with_advice(why):
    from simulator.report.story import ADVICE

    out, result, _ = why
    html = (out / "report.html").read_text()
    story = html[html.index('<section id="story"') : html.index('<section id="bridges"')]
    biggest = result.definitions["ga4"].bridge.biggest(3)
    assert len(re.findall(r"<li>", story)) == 3
    for t in biggest:
        i = [x.cause for x in result.definitions["ga4"].bridge.terms].index(t.cause)
        assert f'data-key="{pointer("definitions", "ga4", "bridge", "terms", i, "delta")}"' in story
        assert ADVICE[t.cause].split(";")[0].replace("'", "&#39;") in story
    assert "visits were split in two by ga4&#39;s inactivity timeout" in story  # report.md's wording


def test_no_url_points_off_the_page(why):
    """Self-contained: every src/href is a fragment (or data:); no <link>, <script src>, <img>, @import."""
    html = (why[0] / "report.html").read_text()
    page = Page(html)
    refs = [(t, k, v) for t, a in page.tags for k, v in a.items() if k in ("src", "href", "xlink:href")]
    assert refs  # the SVG markers and the in-page link
    assert all(v.startswith(("#", "data:")) for _, _, v in refs), refs
    assert not [t for t, _ in page.tags if t in ("link", "script", "img", "iframe", "object")]
    assert "@import" not in html
    assert "url(http" not in html
    urls = set(re.findall(r"https?://[^\"'\s)<]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}  # SVG namespaces


def test_same_seed_same_bytes(why, tmp_path):
    """Another write of the same run (another directory) gives a byte-identical report.html."""
    out, _, tables = why
    scenario = load_scenario(SCENARIOS / "why_numbers_differ.toml")
    again = run(scenario)
    write_report(again, tmp_path / "other", scenario.description, tables)
    assert (tmp_path / "other" / "report.html").read_bytes() == (out / "report.html").read_bytes()


def test_page_has_responsive_and_print_css(why):
    html = (why[0] / "report.html").read_text()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media print" in html
    assert ".scroll { overflow-x: auto;" in html
    page = Page(html)
    tables = [i for i, (t, _) in enumerate(page.tags) if t == "table"]
    assert tables
    for i in tables:  # each table sits directly in its own scrolling container
        assert page.tags[i - 1] == ("div", {"class": "scroll"})


@pytest.fixture(scope="module")
def evil(tmp_path_factory):
    """The seed article's shoppers, with markup in the name and description, an [observed] table, and
    `run --replications 3 --report`: expectations, replications and observed vs simulated."""
    text = (SCENARIOS / "amazon_clicks_vs_sessions.toml").read_text(encoding="utf-8")
    text = text.replace('name = "amazon_clicks_vs_sessions"', f"name = {json.dumps(EVIL_NAME)}", 1)
    text = re.sub(
        r'^description = ".*"$', f"description = {json.dumps(EVIL_DESCRIPTION)}", text, count=1, flags=re.M
    )
    text += "\n[observed]\nads.clicks = 9\nga4.sessions = 7\n"
    d = tmp_path_factory.mktemp("evil")
    (d / "evil.toml").write_text(text, encoding="utf-8")
    code = main(["run", str(d / "evil.toml"), "--replications", "3", "--report", str(d / "rep")])
    assert code == 0
    return d / "rep"


def test_user_text_is_escaped(evil):
    html = (evil / "report.html").read_text()
    page = Page(html)
    assert not [t for t, _ in page.tags if t in ("script", "img", "b")]
    assert not [a for _, a in page.tags if any(k.startswith("on") for k in a)]
    assert "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    title = html[html.index("<title>") : html.index("</title>")]
    assert "&lt;script&gt;" in title


def test_expectations_replications_and_observed_are_shown_and_in_result_json(evil):
    doc = json.loads((evil / "result.json").read_text())
    assert doc["scenario"] == EVIL_NAME
    assert doc["replications"]["n"] == 3
    assert [o["key"] for o in doc["observed"]] == ["ads.clicks", "ga4.sessions"]
    assert doc["observed"][0]["verdict"].startswith("consistent")  # 9 clicks, every replication
    assert doc["observed"][1]["verdict"].startswith("not explained")  # 7 sessions, the runs give 6
    assert len(doc["expectations"]) > 5
    assert all(isinstance(e["passed"], bool) for e in doc["expectations"])
    html = (evil / "report.html").read_text()
    page = Page(html)
    _check_every_number(page, doc)
    ids = [a["id"] for t, a in page.tags if t == "section"]
    assert ids.index("expectations") < ids.index("replications") < ids.index("observed")
    verdicts = re.findall(r'<span class="badge (pass|fail)">(PASS|FAIL)</span>', html)
    assert [v == "PASS" for _, v in verdicts] == [e["passed"] for e in doc["expectations"]]


def test_validate_findings_render_from_the_document(why):
    """A validate document (findings and effects) given to result_document is shown, numbers marked."""
    from simulator.report.validate import validate_document
    from simulator.validate.findings import find
    from simulator.validate.gtm import read_container
    from simulator.validate.settings import load_settings

    base = ROOT / "scenarios" / "validate"
    containers = [read_container(base / "gtm-container.json")]
    findings = find(containers, load_settings(base / "settings.toml"))
    assert findings
    vdoc = validate_document(findings, [], [], "<default shop>", 0)
    _, result, _ = why
    doc = result_document(result, validate=vdoc)
    html = render_html(doc)
    page = Page(html)
    _check_every_number(page, doc)
    assert 'id="validate"' in html
    for f in findings:
        assert f"<code>{f.rule}</code>" in html


def test_without_matplotlib_the_page_says_how_to_get_charts(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(load_scenario(SCENARIOS / "amazon_clicks_vs_sessions.toml"))
    write_report(result, tmp_path / "rep")
    html = (tmp_path / "rep" / "report.html").read_text()
    assert "<svg" not in html
    assert "Charts were not drawn:" in html
    assert "pip install &#34;sessionlab[plots]&#34;" in html


def test_every_data_file_of_the_package_is_declared_package_data():
    """A non-editable install has the template: every non-Python file under simulator/ matches a glob of
    [tool.setuptools.package-data], so a wheel (`pip wheel .`) holds it."""
    import fnmatch
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    package = ROOT / "simulator"
    data = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    ]
    assert "report/templates/report.html.j2" in data
    missing = [d for d in data if not any(fnmatch.fnmatch(d, g) for g in globs["simulator"])]
    assert missing == []


def test_pointer_round_trips_odd_names():
    doc = {"definitions": {"a/b~c": {"n": [1, 2]}}}
    assert pointer("definitions", "a/b~c") == "/definitions/a~1b~0c"
    assert resolve(doc, pointer("definitions", "a/b~c", "n", 1)) == 2


def test_observed_without_replications_lists_the_numbers_and_says_how_to_judge_them(tmp_path):
    """`run --report` on a scenario with [observed] but no --replications: the numbers, no verdict."""
    text = (SCENARIOS / "amazon_clicks_vs_sessions.toml").read_text(encoding="utf-8")
    (tmp_path / "s.toml").write_text(text + "\n[observed]\nga4.sessions = 7\n", encoding="utf-8")
    assert main(["run", str(tmp_path / "s.toml"), "--report", str(tmp_path / "rep")]) == 0
    doc = json.loads((tmp_path / "rep" / "result.json").read_text())
    assert doc["observed"] == [{"key": "ga4.sessions", "observed": 7}]
    assert "replications" not in doc
    html = (tmp_path / "rep" / "report.html").read_text()
    _check_every_number(Page(html), doc)
    assert "run again with <code>--replications R</code>" in html

"""Reports: the terminal waterfall, the JSON keys, report.md, charts and the no-matplotlib path."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest

from simulator import load_scenario, run
from simulator.analysis.bridges import Bridge, Term
from simulator.cli.main import main
from simulator.errors import ScenarioError
from simulator.report.directory import write_atomic, write_report
from simulator.report.markdown import INSTALL_PLOTS, render_markdown, story
from simulator.report.text import render_json, render_text, waterfall_rows

SCENARIOS = Path(__file__).parent.parent.parent / "scenarios"
BUNDLED = SCENARIOS / "amazon_clicks_vs_sessions.toml"


@pytest.fixture(scope="module")
def amazon_file(tmp_path_factory):
    """The seed article's five shoppers under ga4 and salesreach only (the file also has amazon)."""
    text = BUNDLED.read_text(encoding="utf-8")
    text = text.replace('["ga4", "salesreach", "amazon"]', '["ga4", "salesreach"]')
    text = text.split('\n[[expect]]\nname = "Amazon', 1)[0]
    path = tmp_path_factory.mktemp("amazon") / "amazon_clicks_vs_sessions.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def amazon(amazon_file):
    """The five shoppers' result."""
    return run(load_scenario(amazon_file))


def test_waterfall_rows_draw_each_term_at_the_running_total():
    """Start bar full width; a -2 drawn from 8 down to 6; the end bar as long as its value."""
    bridge = Bridge(8, (Term("repeat_click", -2), Term("bookmark", 1)), 7)
    rows = waterfall_rows(bridge, "clicks", "= sessions", {"bookmark": "came back"}, width=8, charset="ascii")
    assert rows[0] == ["clicks", "8", "########", ""]
    assert rows[1] == ["repeat_click", "-2", "      --", ""]
    assert rows[2] == ["bookmark", "+1", "      +", "came back"]
    assert rows[3] == ["= sessions", "7", "#######", ""]


def test_text_report_shows_every_bridge(amazon):
    """The terminal report has the clicks, views and comparison waterfalls and the ratio causes."""
    text = render_text(amazon, charset="ascii")
    for title in ("clicks -> sessions (ga4)", "views -> sessions (salesreach)", "ga4 -> salesreach"):
        assert title in text
    assert "left_before_tag     -1" in text
    assert "sessions per click 0.67; biggest causes: repeat_click -2, new_tab_click -2" in text
    assert "merged_inactivity" in text
    assert "█" not in text


def test_json_keeps_old_keys_and_adds_the_new_bridges(amazon):
    """definitions.NAME.bridge runs from ads.clicks to sessions; new bridges sit under new keys."""
    doc = json.loads(render_json(amazon))
    assert {"schema_version", "scenario", "seed", "events", "ads", "truth", "definitions"} <= set(doc)
    for name, block in doc["definitions"].items():
        assert block["bridge"]["start"] == doc["ads"]["clicks"]
        assert block["bridge"]["end"] == block["sessions"]
        assert block["views_bridge"]["start"] == block["views"]
        assert block["views_bridge"]["end"] == block["sessions"]
        assert sum(d["start"] for d in block["days"]) == doc["ads"]["clicks"], name
        assert sum(d["end"] for d in block["days"]) == block["sessions"], name
    assert doc["comparisons"] == [
        {
            "from": "ga4",
            "to": "salesreach",
            "bridge": {"start": 6, "terms": [{"cause": "merged_inactivity", "delta": -1}], "end": 5},
        }
    ]
    assert doc["impressions_bridge"]["end"] == doc["ads"]["clicks"]
    assert doc["timezones"] == {"property": "America/Los_Angeles", "ad_account": "America/Los_Angeles"}


def test_json_is_byte_identical_across_runs():
    """Same scenario and seed: the same bytes, new keys included."""
    assert render_json(run(load_scenario(BUNDLED))) == render_json(run(load_scenario(BUNDLED)))


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_scenario_reports_an_exact_bridge(path):
    """Each shipped scenario: start = ad clicks, end = sessions, terms add up, for every definition."""
    result = run(load_scenario(path))
    for block in result.definitions.values():
        b = block.bridge
        assert (b.start, b.end) == (result.ads.clicks, block.counts.sessions)
        assert b.start + sum(t.delta for t in b.terms) == b.end


def test_realistic_scenario_has_six_or_more_causes():
    """why_numbers_differ shows at least six non-zero clicks -> sessions causes under ga4."""
    result = run(load_scenario(SCENARIOS / "why_numbers_differ.toml"))
    assert len(result.definitions["ga4"].bridge.terms) >= 6


def test_story_names_the_biggest_causes_in_plain_words(amazon):
    """The 'In short' paragraph gives both totals and the causes with their counts, in words."""
    text = story(amazon)
    assert "counted **9 clicks**" in text
    assert "counted **6 sessions**, 3 fewer" in text
    assert "2 were repeat clicks on the same ad" in text
    assert "1 click came from a visitor who left before the analytics tag fired" in text
    assert "1 session came from a visitor returning through a bookmark" in text
    assert "1 visit was split in two by ga4's inactivity timeout" in text
    assert "salesreach's rules, the same traffic gives 5 sessions, 1 fewer than ga4" in text


def test_story_mentions_the_timezone_shift():
    """With different ad account and property zones, the story counts the clicks that change day."""
    result = run(load_scenario(SCENARIOS / "why_numbers_differ.toml"))
    text = story(result)
    assert "America/New_York" in text
    assert "6 clicks fall on a different calendar day" in text


def test_report_md_has_every_section_and_table(amazon):
    """report.md: title, story, numbers, bridge tables with meanings, ratios, comparison, glossary."""
    md = render_markdown(amazon, "Why clicks and sessions differ.")
    for heading in (
        "# Why the numbers differ: amazon_clicks_vs_sessions",
        "## In short",
        "## The numbers side by side",
        "## From ad clicks to sessions",
        "## The ratios people quote, and what drives them",
        "## Why the definitions disagree",
        "## From page views to sessions (pages per session)",
        "## Glossary of the causes in this report",
    ):
        assert heading in md
    assert "| `left_before_tag` | -1 | clicked, but left before the analytics tag fired |" in md
    assert "| **= sessions (ga4)** | **6** |  |" in md
    assert (
        "| clicks per session (ga4) | 1.50 | `repeat_click` -2, `new_tab_click` -2, `left_before_tag` -1 |"
        in md
    )
    assert "| `inactivity` | +1 | +0 | a visit split by the inactivity timeout |" in md


def test_write_report_draws_charts(tmp_path, amazon):
    """With matplotlib: report.md links a waterfall per definition and the definitions chart."""
    pytest.importorskip("matplotlib")
    written = write_report(amazon, tmp_path / "out", "desc")
    names = sorted(p.name for p in written)
    assert names == [
        "definitions.png",
        "report.html",
        "report.md",
        "result.json",
        "sessions.csv",
        "waterfall_ga4.png",
        "waterfall_salesreach.png",
    ]
    for png in ("definitions.png", "waterfall_ga4.png"):
        assert (tmp_path / "out" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (tmp_path / "out" / "report.md").read_text()
    assert "![clicks to sessions under ga4](waterfall_ga4.png)" in md
    assert "![sessions under each definition](definitions.png)" in md
    assert INSTALL_PLOTS not in md
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_write_report_without_matplotlib_says_how_to_install(tmp_path, amazon, monkeypatch):
    """No matplotlib: no PNG, but report.md (with the install command) and result.json are written."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` raise ImportError
    written = write_report(amazon, tmp_path, "desc")
    assert sorted(p.name for p in written) == ["report.html", "report.md", "result.json", "sessions.csv"]
    md = (tmp_path / "report.md").read_text()
    assert 'run `pip install "sessionlab[plots]"` and run again' in md
    assert "matplotlib is not installed" in md
    assert json.loads((tmp_path / "result.json").read_text())["ads"]["clicks"] == 9


def test_sessions_csv_has_each_hits_session_and_split_cause(tmp_path, amazon, monkeypatch):
    """sessions.csv: one row per tracked hit, session id and split cause per definition."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    write_report(amazon, tmp_path)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "sessions.csv").read_text())))
    assert len(rows) == len(amazon.hits)
    causes = [r["split_cause.ga4"] for r in rows]
    # the distracted shopper's third page and the bookmark return the next day: split by inactivity
    assert causes.count("inactivity") == 2
    assert len({r["session.ga4"] for r in rows}) == 6
    assert len({r["session.salesreach"] for r in rows}) == 5


def test_write_atomic_leaves_nothing_behind_on_failure(tmp_path):
    """A writer that fails leaves the old file untouched and no temp file; the error names the file."""
    target = tmp_path / "report.md"
    target.write_text("old")

    def boom(fh):
        fh.write("partial")
        raise OSError("disk full")

    with pytest.raises(ScenarioError, match=f"^{re.escape(str(target))}: cannot write the file: disk full$"):
        write_atomic(target, boom)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_cli_run_report_writes_the_directory(tmp_path, capsys, monkeypatch):
    """`sessionlab run FILE --report DIR` prints the report and writes the files."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code = main(["run", str(BUNDLED), "--report", str(tmp_path / "rep")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "clicks -> sessions (ga4)" in out
    assert "report.md" in err
    assert (tmp_path / "rep" / "report.md").exists()


def test_story_when_every_click_is_one_session():
    """No bridge terms: the story says every click became exactly one session."""
    text = story(run(load_scenario(SCENARIOS / "impressions_ctr.toml")))
    assert "counted **10 clicks**" in text
    assert "the same number" in text
    assert "every click became exactly one session" in text


def test_cli_report_into_an_unwritable_place_is_one_line_exit_2(tmp_path, capsys):
    """--report DIR where DIR is a file: one error line naming it, exit code 2."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code = main(["run", str(BUNDLED), "--report", str(blocker / "rep")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert err == f"sessionlab: error: {blocker / 'rep'}: cannot create the directory: Not a directory\n"

"""The audit's minimal examples: shrunk from the user's own events, class by class, worked by hand;
the caps on shrinking; and the audit's section of a report directory (``--report DIR``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.log.formats import read_export
from simulator.report.directory import MARKER
from simulator.testbench import audit as audit_mod
from simulator.testbench.audit import audit
from tests.log.formats.ga4_fixture import MIN, T0, _event, write_ndjson

SITE = "https://shop.example.com"
MIDNIGHT = 1_714_608_000_000_000  # 2024-05-02T00:00:00Z in microseconds


def _two_tabs() -> list[dict]:
    """Platform ids 1 at 08:00, 08:05, ..., 08:20; 2 at 09:00; 1 again at 09:01 (another tab).

    Under ga4 (30 min): 09:00 starts a session both ways (a 40-minute gap, a new id); 09:01 returns
    to id 1 while the rule continues -> the earliest difference is 'interleaved' at row 6.
    """
    times = [0, 5, 10, 15, 20, 60, 61]
    ids = [1, 1, 1, 1, 1, 2, 1]
    return [
        _event("t", T0 + m * MIN, "page_view", sid, 1, f"{SITE}/{k}")
        for k, (m, sid) in enumerate(zip(times, ids, strict=True))
    ]


def _past_midnight() -> list[dict]:
    """One platform id from 23:00 to 00:05 (events 23:00, 23:20, 23:40, 00:05). Under
    universal_analytics (30 min, midnight, campaign) the earliest difference is at 00:05: 'midnight'."""
    return [_event("m", MIDNIGHT + m * MIN, "page_view", 9, 1, f"{SITE}/") for m in (-60, -40, -20, 5)]


def _audit(tmp_path: Path, events: list[dict], definition: str = "ga4"):
    return audit(
        read_export(write_ndjson(tmp_path / "events_20240501.json", events), "ga4").table, definition
    )


def test_interleaved_example_needs_three_rows(tmp_path: Path) -> None:
    """ddmin over the 7 rows: the first half-split keeps 08:20, 09:00, 09:01 (still interleaved); no
    2-row subset is: 09:00 + 09:01 is a platform split (id 2 then a new-to-it id 1), 08:20 + 09:01
    is inactivity (one id, 41 minutes), 08:20 + 09:00 agree. The rule keeps 09:00 and 09:01 together."""
    a = _audit(tmp_path, _two_tabs())
    assert a.classes == {"interleaved": 1}
    (e,) = a.examples
    assert e.rows == (
        ("2024-05-01T08:20:00.000Z", "page_view", "1", 1),
        ("2024-05-01T09:00:00.000Z", "page_view", "2", 2),
        ("2024-05-01T09:01:00.000Z", "page_view", "1", 2),
    )
    assert e.source_rows == 7


def test_midnight_example_is_the_pair_across_midnight(tmp_path: Path) -> None:
    """23:40 + 00:05 (25 minutes, across midnight) is the only pair whose first difference is
    'midnight': 23:20 + 00:05 is 45 minutes apart, which UA's inactivity rule (listed first) names."""
    a = _audit(tmp_path, _past_midnight(), "universal_analytics")
    assert a.classes == {"midnight": 1}
    (e,) = a.examples
    assert [r[0] for r in e.rows] == ["2024-05-01T23:40:00.000Z", "2024-05-02T00:05:00.000Z"]
    assert [r[3] for r in e.rows] == [1, 2]
    assert e.detail.startswith("the rule starts a session where the date changes in UTC (gap 25m")


def test_one_example_per_class_from_several_users(tmp_path: Path) -> None:
    """Both users' classes get their example; --examples 0 keeps the counts and drops the examples."""
    events = [*_two_tabs(), *(_event("g", T0 + m * MIN, "page_view", 5, 1, f"{SITE}/") for m in (0, 10, 50))]
    path = write_ndjson(tmp_path / "events_20240501.json", events)
    table = read_export(path, "ga4").table
    a = audit(table, "ga4")
    assert a.classes == {"inactivity": 1, "interleaved": 1}
    assert {e.cls: len(e.rows) for e in a.examples} == {"inactivity": 2, "interleaved": 3}
    assert audit(table, "ga4", examples=0).examples == ()


def test_shrinking_is_capped_in_calls_and_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No calls left: the rows up to the difference, unshrunk. A row cap of 3 keeps the last three
    rows (still interleaved) and shrinks them; a cap of 2 would lose the class (09:00 + 09:01 is a
    platform split), so the example stays whole."""
    monkeypatch.setattr(audit_mod, "SHRINK_CALLS", 0)
    assert len(_audit(tmp_path, _two_tabs()).examples[0].rows) == 7
    monkeypatch.setattr(audit_mod, "SHRINK_CALLS", 200)
    monkeypatch.setattr(audit_mod, "SHRINK_ROWS", 3)
    assert [r[0][11:16] for r in _audit(tmp_path, _two_tabs()).examples[0].rows] == [
        "08:20",
        "09:00",
        "09:01",
    ]
    monkeypatch.setattr(audit_mod, "SHRINK_ROWS", 2)
    assert len(_audit(tmp_path, _two_tabs()).examples[0].rows) == 7


def test_report_section_new_into_a_report_and_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report writes audit.md and audit.json (the --json document); an existing report keeps its
    files; a directory of other files is refused with one line, exit 2."""
    path = write_ndjson(tmp_path / "events_20240501.json", _two_tabs())
    rep = tmp_path / "rep"
    assert main(["audit", str(path), "--format", "ga4", "--json", "--report", str(rep)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads((rep / "audit.json").read_text()) == printed
    assert printed["examples"][0]["source_rows"] == 7
    md = (rep / "audit.md").read_text()
    assert "## Platform sessions against ga4" in md
    assert "| interleaved | +1 |" in md
    assert "| 2024-05-01T09:01:00.000Z | page_view | 1 | 2 |" in md
    assert (rep / MARKER).exists()

    run = tmp_path / "run"
    run.mkdir()
    (run / MARKER).write_text("written by sessionlab run --report\n")
    (run / "report.md").write_text("# a run\n")
    assert main(["audit", str(path), "--format", "ga4", "--report", str(run)]) == 0
    assert (run / "report.md").read_text() == "# a run\n"
    assert sorted(p.name for p in run.iterdir()) == sorted([MARKER, "report.md", "audit.md", "audit.json"])

    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(["audit", str(path), "--format", "ga4", "--report", str(other)]) == 2
    err = capsys.readouterr().err
    assert "the directory has files that are not a sessionlab report" in err
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


def test_text_shows_the_examples_and_examples_must_be_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_ndjson(tmp_path / "events_20240501.json", _two_tabs())
    assert main(["audit", str(path), "--format", "ga4"]) == 0
    out = capsys.readouterr().out
    assert "minimal examples (the user's own events, shrunk while the class holds)" in out
    assert "(3 of the 7 events up to the first difference)" in out
    with pytest.raises(SystemExit):
        main(["audit", str(path), "--format", "ga4", "--examples", "-1"])
    assert "expected a whole number of examples" in capsys.readouterr().err


ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "ga4" / "events_20240501.json"


def test_the_committed_ga4_example_is_the_fixture(tmp_path: Path) -> None:
    """docs/examples/ga4/events_20240501.json is what the test fixture writes (so the README's run
    is the one the hand-worked tests check)."""
    assert EXAMPLE.read_bytes() == write_ndjson(tmp_path / "e.json").read_bytes()


@pytest.mark.parametrize(
    ("doc", "args", "code"),
    [
        ("README.md", ["--fail-on", "inactivity:10%"], 1),
        ("docs/sessions.md", [], 0),
    ],
)
def test_the_documented_audit_runs_are_the_real_output(
    doc: str, args: list[str], code: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command and output shown in the README and docs/sessions.md are what the command prints."""
    monkeypatch.chdir(ROOT)
    command = " ".join(["sessionlab audit docs/examples/ga4/events_20240501.json --format ga4", *args])
    text = (ROOT / doc).read_text()
    start = text.index(f"```\n$ {command}\n") + len(f"```\n$ {command}\n")
    shown = text[start : text.index("```", start)]
    assert main(command.split()[1:]) == code
    assert capsys.readouterr().out == shown

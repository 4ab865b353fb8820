"""Terminal manners: zero rows hidden unless --all, the width of a terminal, progress on stderr, --help."""

from __future__ import annotations

import argparse
import ast
import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import numpy as np
import pytest

from simulator import load_scenario, run
from simulator.analysis.breakdown import breakdowns
from simulator.cli.main import _parser, main
from simulator.report.text import render_text
from simulator.testing.breakdowns import replicate_breakdowns
from simulator.testing.stats import replicate, replication_seeds
from tests.conftest import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
QUICK = str(SCENARIOS / "amazon_clicks_vs_sessions.toml")
POPULATION = str(SCENARIOS / "google_ads_vs_ga4.toml")
DEADLINE = 600  # seconds: a child on a busy 2-core machine; never a measure of speed


def test_run_hides_all_zero_rows_and_columns_unless_all(capsys):
    """The quick start has no impressions and no conversions: those rows and columns go, --all keeps them."""
    assert main(["run", QUICK]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "impressions" not in out
    assert "invalid clicks" not in out
    assert not any(
        re.match(r"(conversions|units|conversion value|conversion rate)\b", line) for line in lines
    )
    analytics = lines[lines.index("analytics            ga4  salesreach  amazon") + 2 :][:7]
    assert [line.split("  ")[0] for line in analytics] == [
        "views",
        "sessions",
        "users",
        "views per session",
        "sessions per click",
        "clicks per session",
        "cost per session",
    ]
    # 7 analytics rows (conversions, units, value, 4 rates); 3 ad columns (impressions, invalid clicks,
    # CTR: '-' without impressions) and 4 day columns (tz shift, other, 2 groups that are +0 everywhere)
    assert lines[-1] == "hidden: 7 all-zero rows, 7 all-zero columns (--all shows them)"
    assert main(["run", QUICK, "--all"]) == 0
    everything = capsys.readouterr().out
    assert "impressions" in everything
    assert re.search(r"^conversions +0 +0 +0$", everything, re.MULTILINE)
    assert "hidden:" not in everything
    assert "--all" not in everything
    assert len(everything.splitlines()) > len(lines)


def test_every_number_shown_is_the_same_with_and_without_all(capsys):
    """Hiding leaves the rows it keeps unchanged: each kept waterfall line is in the --all output."""
    result = run(load_scenario(QUICK))
    short, full = render_text(result), render_text(result, show_all=True)
    waterfall = [line for line in short.splitlines() if re.match(r"\w+ +[+-]\d", line)]
    assert len(waterfall) > 10
    assert set(waterfall) <= set(full.splitlines())


@pytest.mark.parametrize("width", [20, 33, 40, 57, 80, 100, 131])
def test_no_line_is_wider_than_the_terminal(width):
    """With a width, every line fits; the 'why' texts wrap onto continuation lines, words intact."""
    text = render_text(run(load_scenario(QUICK)), width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    flat = " ".join(text.split())
    if width >= 80:  # the why column keeps whole words together when it has room for them
        assert "clicked, but left before the analytics tag fired" in flat
        assert "sessions ga4 starts at an inactivity gap that amazon keeps inside another session" in flat


def test_a_tty_is_fitted_and_a_pipe_is_not(capsys, monkeypatch):
    """stdout a terminal of 64 columns (COLUMNS): fitted; not a terminal: the content's own layout."""
    monkeypatch.setenv("COLUMNS", "64")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["run", QUICK]) == 0
    tty = capsys.readouterr().out
    assert max(len(line) for line in tty.splitlines()) <= 64
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    assert main(["run", QUICK]) == 0
    piped = capsys.readouterr().out
    assert max(len(line) for line in piped.splitlines()) > 64
    assert piped == render_text(run(load_scenario(QUICK)))


def _cli(*args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulator.cli", *args],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=DEADLINE,
        check=False,
        **kw,
    )


def test_piped_output_is_byte_identical_whatever_the_terminal_width():
    """COLUMNS changes nothing when stdout is a pipe."""
    narrow, wide = _cli("run", QUICK, env={"COLUMNS": "40"}), _cli("run", QUICK, env={"COLUMNS": "250"})
    assert narrow.returncode == wide.returncode == 0
    assert narrow.stdout == wide.stdout
    assert narrow.stderr == wide.stderr == b""


def _on_pty(*args: str) -> tuple[int, bytes, bytes]:
    """Run the CLI with stderr on a pseudo-terminal and stdout on a pipe; (exit code, stdout, tty bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator.cli", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(slave)
    seen = bytearray()

    def drain() -> None:  # read the terminal until the child closes it (EIO), so it never blocks
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            seen.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=60)
        os.close(master)
    return proc.returncode, out, bytes(seen)


def test_a_progress_bar_on_a_terminal_and_json_stdout_stays_json():
    """stderr a terminal: a tqdm bar for the simulation; stdout (--json) still parses as JSON."""
    code, out, tty = _on_pty("run", POPULATION, "--visitors", "3000", "--json")
    assert code == 0
    assert b"run: simulating" in tty
    assert re.search(rb"\d+%\|", tty)  # tqdm's percentage and bar
    doc = json.loads(out)
    assert doc["scenario"] == "google_ads_vs_ga4"
    assert b"simulating" not in out


def test_replications_show_a_bar_and_quiet_shows_none(tmp_path):
    """A bar per replication on a terminal; --quiet (global or per command) leaves the terminal empty."""
    code, _, tty = _on_pty("run", QUICK, "--replications", "3")
    assert code == 0
    assert b"run: replications" in tty
    code, out, tty = _on_pty("--quiet", "run", QUICK, "--replications", "3")
    assert code == 0
    assert tty == b""
    assert b"3 replications" in out
    out = tmp_path / "e.csv"
    code, _, tty = _on_pty("simulate", POPULATION, "--visitors", "3000", "--out", str(out), "-q")
    assert code == 0
    assert tty.decode().splitlines() == [f"{out}: {sum(1 for _ in out.open()) - 1:,} events"]


def test_piped_stderr_carries_no_bar(tmp_path):
    """stderr a pipe: no bar, no carriage return; only the command's own line."""
    out = tmp_path / "e.csv"
    res = _cli("simulate", POPULATION, "--visitors", "3000", "--out", str(out))
    assert res.returncode == 0
    assert b"\r" not in res.stderr
    assert b"%|" not in res.stderr
    assert res.stderr.decode().splitlines() == [f"{out}: {sum(1 for _ in out.open()) - 1:,} events"]


def test_the_core_never_imports_tqdm_or_the_cli():
    """Progress reaches the lower layers only as a callback."""
    offenders = []
    for path in (ROOT / "simulator").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "simulator").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] == "tqdm"]
    assert offenders == []


def test_callbacks_count_the_work():
    """simulate: visitors per chunk add up to the population; replicate: one per replication."""
    scenario = load_scenario(POPULATION)
    seen: list[int] = []
    run(scenario, visitors=20_000, chunk_size=8192, on_progress=seen.append)
    assert sum(seen) == 20_000
    assert len(seen) == 3  # 8,192 + 8,192 + 3,616
    ticks: list[int] = []
    replicate(load_scenario(QUICK), 4, on_progress=ticks.append)
    assert ticks == [1, 1, 1, 1]


def test_breakdowns_over_replications_are_the_means_of_each_replication():
    """Each segment's mean is the mean over the replications' own tables (absent = 0), seed by seed."""
    scenario = load_scenario(POPULATION)

    def runner(sc, seed):
        return run(sc, seed, visitors=1500)

    n = 3
    reps, tables = replicate_breakdowns(scenario, n, ("campaign",), runner=runner)
    plain = replicate(scenario, n, runner=runner)
    assert reps.seeds == plain.seeds == replication_seeds(scenario.seed, n)
    assert reps.values.keys() == plain.values.keys()
    per_seed = [breakdowns(runner(scenario, s), ("campaign",)) for s in reps.seeds]
    segments = tables.layout["ga4", "campaign"]
    assert segments[-1] == "total"
    for segment in segments:
        s = tables.summary("ga4", "campaign", segment)
        sessions = []
        for t in per_seed:
            table = t["ga4"]["campaign"]
            row = (
                table.total
                if segment == "total"
                else next((r for r in table.rows if r.segment == segment), None)
            )
            sessions.append(row.sessions if row else 0)
        assert s["sessions"].mean == pytest.approx(np.mean(sessions))
    total = tables.summary("ga4", "campaign", "total")["sessions"].mean
    assert total == pytest.approx(np.nanmean(plain.values["ga4.sessions"]))


def test_run_replications_keeps_the_breakdown_tables(capsys):
    """Issue 17: `run --replications R --breakdown campaign` printed no breakdown at all."""
    args = ["run", POPULATION, "--visitors", "1500", "--replications", "3", "--breakdown", "campaign"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cost per session by campaign (ga4): means of 3 replications, t interval at 95%" in out
    lines = out.splitlines()
    title = lines.index("cost per session by campaign (ga4): means of 3 replications, t interval at 95%")
    total = next(line for line in lines[title:] if line.startswith("total"))
    assert main([*args, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    block = doc["replications"]["breakdowns"]["ga4"]["campaign"]
    assert total.split()[3] == f"{block['total']['sessions']['mean']:,.4g}"  # ad cost, clicks, sessions
    assert block["total"]["sessions"]["mean"] == pytest.approx(
        doc["replications"]["metrics"]["ga4.sessions"]["mean"]
    )
    assert [r["segment"] for r in block["rows"]][:2] == ["brand-search", "generic-search"]


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_help_states_exit_codes_and_defaults(name, capsys, monkeypatch):
    """Each subcommand's --help names exit codes 0, 1, 2 and 3 and every option's default (if it has one)."""
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as stop:
        main([name, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for code in ("0 ok", "1 a check failed", "2 bad input", "3 internal error"):
        assert code in text
    command = _commands()[name]
    for action in command._actions:
        default = action.default
        if not action.option_strings or default in (None, False, True, argparse.SUPPRESS, []):
            continue
        formatter = command._get_formatter()  # the option's entry exactly as --help renders it
        formatter.add_argument(action)
        own = " ".join(formatter.format_help().split())
        assert own in " ".join(text.split())
        shown = f"{default:,}" if isinstance(default, int) else str(default)
        assert "default" in own or f"({shown})" in own or f"({default})" in own, (name, action.option_strings)

"""`sessionlab simulate` and the population options of `sessionlab run`."""

from __future__ import annotations

from pathlib import Path

from simulator.cli.main import main
from tests._popkit import QUIET, to_toml

ROOT = Path(__file__).resolve().parents[2]


def _file(tmp_path: Path) -> Path:
    path = tmp_path / "pop.toml"
    path.write_text(to_toml(QUIET))
    return path


def test_simulate_writes_the_file_and_reports_rows(tmp_path, capsys):
    """simulate --out writes the log and says how many events it wrote."""
    out = tmp_path / "e.csv"
    assert main(["simulate", str(_file(tmp_path)), "--out", str(out), "--visitors", "50"]) == 0
    lines = out.read_text().splitlines()
    assert f"{out}: {len(lines) - 1:,} events" in capsys.readouterr().err


def test_run_json_is_the_same_bytes_every_time_and_for_any_chunk_size(capsys):
    """run --json prints identical bytes for the same inputs, whatever --chunk-size."""
    path = str(ROOT / "scenarios" / "google_ads_vs_ga4.toml")
    outputs = []
    for chunk in ("1", "1000", "100000", "1000"):
        assert main(["run", path, "--json", "--visitors", "9000", "--chunk-size", chunk]) == 0
        outputs.append(capsys.readouterr().out)
    assert len(set(outputs)) == 1
    assert '"events"' in outputs[0]


def test_bad_output_suffix_exits_2_with_one_line(tmp_path, capsys):
    """An unknown output format is a one-line error and exit code 2."""
    assert main(["simulate", str(_file(tmp_path)), "--out", str(tmp_path / "e.xlsx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "unknown output format '.xlsx'" in err

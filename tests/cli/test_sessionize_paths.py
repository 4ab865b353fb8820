"""Where the in-memory reader and the shard spool meet: what the spool cannot read is refused with
``--out-of-core`` (one line, exit 2), and errors of a several-file log name the file at fault."""

from __future__ import annotations

from pathlib import Path

from simulator.cli.main import main


def _rows(n: int = 4) -> list[str]:
    return [f"u{i % 2};2024-05-01T10:{i:02d}:00Z" for i in range(n)]


def test_a_semicolon_csv_is_read_alike_in_memory_and_by_the_spool(tmp_path: Path, capsys) -> None:
    log = tmp_path / "semi.csv"
    log.write_text("\n".join(["user_id;timestamp", *_rows()]) + "\n")
    mem, ooc = tmp_path / "m.csv", tmp_path / "o.csv"
    assert main(["sessionize", str(log), "--no-campaign", "--out", str(mem)]) == 0
    first = capsys.readouterr()
    assert "ga4                2      2       4" in first.out
    assert main(["sessionize", str(log), "--no-campaign", "--out", str(ooc), "--out-of-core"]) == 0
    second = capsys.readouterr()
    assert second.out == first.out
    assert second.err == first.err
    assert "delimiter ';' (told from the header" in second.err
    assert ooc.read_bytes() == mem.read_bytes()


def test_several_files_are_refused_by_the_spool(tmp_path: Path, capsys) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for f in (a, b):
        f.write_text("\n".join(["user_id;timestamp", *_rows()]) + "\n")
    assert main(["sessionize", str(a), str(b), "--no-campaign", "--out-of-core"]) == 2
    err = capsys.readouterr().err
    assert "it does not take several files (drop --out-of-core" in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_rule_that_reads_a_column_is_refused_by_the_spool(tmp_path: Path, capsys) -> None:
    log = tmp_path / "e.csv"
    log.write_text("user_id,timestamp,nv\nu1,2024-05-01T10:00:00Z,0\nu1,2024-05-01T10:05:00Z,1\n")
    assert main(["sessionize", str(log), "--definition", "flag", "--flag-column", "nv"]) == 0
    assert "flag               2      1       2" in capsys.readouterr().out
    assert main(["sessionize", str(log), "--definition", "flag", "--flag-column", "nv", "--out-of-core"]) == 2
    err = capsys.readouterr().err
    assert "it does not take --flag-column" in err
    assert "Traceback" not in err
    assert main(["sessionize", str(log), "--definition", "flag", "--out-of-core"]) == 2  # was exit 3
    err = capsys.readouterr().err
    assert "rules that read a column per event (flag)" in err
    assert "Traceback" not in err


def test_a_bad_gap_in_the_second_file_names_that_file_and_its_line(tmp_path: Path, capsys) -> None:
    good, bad = tmp_path / "1.csv", tmp_path / "2.csv"
    good.write_text("user_id,timestamp,gap\nu1,2024-05-01T10:00:00Z,30m\nu1,2024-05-01T10:05:00Z,30m\n")
    bad.write_text("user_id,timestamp,gap\nu2,2024-05-01T10:00:00Z,30m\nu2,2024-05-01T10:05:00Z,zzz\n")
    argv = ["--definition", "dynamic_gap:default=30m", "--gap-column", "gap", "--no-campaign"]
    assert main(["sessionize", str(good), str(bad), *argv]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 3: column 'gap'" in err
    assert f"{good}" not in err.split(": line 3")[0].replace(str(bad), "")

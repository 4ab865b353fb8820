"""The one atomic writer: exact bytes, nothing left behind, every OSError one line naming the file."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.errors import ScenarioError
from simulator.log.atomic import atomic_path, ensure_dir, write_atomic

ROOT = Path(__file__).resolve().parents[2]
AMAZON = str(ROOT / "scenarios" / "amazon_clicks_vs_sessions.toml")


def _one_error_line(err: str) -> str:
    """The single stderr line, after checking there is exactly one and no traceback."""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.removeprefix("sessionlab: error: ").rstrip("\n")


def test_write_atomic_writes_bytes_and_text_unchanged(tmp_path: Path) -> None:
    """Bytes as given; text as UTF-8 with no newline translation; the umask's usual permissions."""
    write_atomic(tmp_path / "b.bin", b"\x00\xff\r\n")
    write_atomic(tmp_path / "t.csv", "a,é\r\nb\n")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff\r\n"
    assert (tmp_path / "t.csv").read_bytes() == "a,é\r\nb\n".encode()
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "t.csv").stat().st_mode) == 0o666 & ~mask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "t.csv"]


def test_missing_directory_is_a_scenario_error_naming_the_file(tmp_path: Path) -> None:
    """No such directory: ScenarioError(path, '', 'cannot write the file: <strerror>')."""
    target = tmp_path / "no" / "x.json"
    with pytest.raises(ScenarioError) as info:
        write_atomic(target, "{}")
    assert (info.value.path, info.value.key_path) == (str(target), "")
    assert info.value.message == "cannot write the file: No such file or directory"


def test_a_directory_in_the_way_is_refused_before_any_work(tmp_path: Path) -> None:
    """The target is a directory: refused before the block runs."""
    ran = []

    def write() -> None:
        with atomic_path(tmp_path):
            ran.append(1)

    with pytest.raises(ScenarioError, match=r"cannot write the file: it is a directory$"):
        write()
    assert ran == []


@pytest.mark.parametrize(
    ("code", "reason"), [(errno.EACCES, "Permission denied"), (errno.EROFS, "Read-only file system")]
)
def test_permission_and_read_only_errors_leave_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, reason: str
) -> None:
    """A rename refused by the system: one-line error with its reason, old file kept, temp removed."""
    target = tmp_path / "r.txt"
    target.write_text("old")

    def refuse(src: str, dst: str) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr("simulator.log.atomic.os.replace", refuse)
    with pytest.raises(ScenarioError) as info:
        write_atomic(target, "new")
    monkeypatch.undo()
    assert str(info.value) == f"{target}: cannot write the file: {reason}"
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_ctrl_c_removes_the_temp_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    """KeyboardInterrupt in the block passes through; the target is untouched, the temp gone."""
    target = tmp_path / "out.csv"
    target.write_text("old")

    def interrupted() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_ensure_dir_creates_parents_and_refuses_files(tmp_path: Path) -> None:
    """Nested directories are made; a file at the path or above it is a one-line error."""
    assert ensure_dir(tmp_path / "a" / "b").is_dir()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ScenarioError) as info:
        ensure_dir(blocker)
    assert str(info.value) == f"{blocker}: cannot create the directory: a file of that name is in the way"
    with pytest.raises(ScenarioError) as info:
        ensure_dir(blocker / "sub")
    assert str(info.value) == f"{blocker / 'sub'}: cannot create the directory: Not a directory"


def test_simulate_into_a_missing_directory_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """simulate --out under a missing directory: exit 2, one line naming the file and why."""
    target = tmp_path / "missing" / "e.csv"
    assert main(["simulate", AMAZON, "--out", str(target)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == f"{target}: cannot write the file: No such file or directory"


def test_simulate_onto_a_directory_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """simulate --out naming an existing directory (x.csv/): exit 2, one line."""
    target = tmp_path / "x.csv"
    target.mkdir()
    assert main(["simulate", AMAZON, "--out", str(target)]) == 2
    assert _one_error_line(capsys.readouterr().err) == f"{target}: cannot write the file: it is a directory"


def test_report_permission_denied_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """run --report where files cannot be created: exit 2, one line naming the first file."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("simulator.log.atomic.tempfile.mkstemp", refuse)
    code = main(["run", AMAZON, "--report", str(tmp_path / "rep")])
    monkeypatch.undo()
    line = _one_error_line(capsys.readouterr().err)
    assert code == 2
    assert line == f"{tmp_path / 'rep' / 'result.json'}: cannot write the file: Permission denied"


def test_stale_temp_file_of_a_killed_process_is_removed_by_the_next_write(tmp_path: Path) -> None:
    """kill -9 leaves ``.<name>.sessionlab-<pid>.*.tmp``; the next write of the target removes it."""
    import subprocess
    import sys

    from simulator.log.atomic import temp_prefix

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    pid = int(dead.stdout)  # that process has exited
    stale = tmp_path / f"{temp_prefix('out.csv', pid)}abc123.tmp"
    stale.write_text("half")
    other = tmp_path / f"{temp_prefix('other.csv', pid)}abc123.tmp"  # another target's: not ours to touch
    other.write_text("half")
    live = tmp_path / f"{temp_prefix('out.csv', os.getppid())}abc123.tmp"  # a live process's
    live.write_text("writing")
    write_atomic(tmp_path / "out.csv", "a,b\n")
    assert (tmp_path / "out.csv").read_text() == "a,b\n"
    assert not stale.exists()
    assert other.exists()
    assert live.exists()

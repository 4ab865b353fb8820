"""Writing output files atomically, and creating output directories, with one-line errors.

Every file sessionlab writes goes through :func:`atomic_path` (or :func:`atomic_open` /
:func:`write_atomic` built on it): the data goes to a temporary file in the target's directory,
which is renamed over the target only when everything was written. On any exception, Ctrl-C
included, the temporary file is removed and the target is left as it was. An :class:`OSError`
(missing directory, a directory in the way, permission denied, read-only file system, disk full)
becomes ``ScenarioError(path, "", "cannot write the file: <reason>")``, printed by the CLI as one
line (exit 2). Temporary names are ``.<name>.sessionlab-<pid>.<random>.tmp``: one left by a process
that was killed (``kill -9``) is removed by the next write of the same target (:func:`remove_stale`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from simulator.errors import ScenarioError

__all__ = ["atomic_open", "atomic_path", "ensure_dir", "remove_stale", "temp_prefix", "write_atomic"]


def _reason(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _write_error(path: str | Path, err: OSError) -> ScenarioError:
    return ScenarioError(str(path), "", f"cannot write the file: {_reason(err)}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_prefix(name: str, pid: int | None = None) -> str:
    """The start of our temporary names beside ``name``: hidden, with the writing process's id."""
    return f".{name}.sessionlab-{os.getpid() if pid is None else pid}."


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's live process
        return True
    return True


def remove_stale(directory: Path, name: str) -> list[Path]:
    """Remove temporary files and directories of ours beside ``name`` whose process is gone.

    A process killed with ``kill -9`` (or a power cut) cannot remove its temporary file; the next
    write of the same target does, so none stays forever. Returns what was removed.
    """
    import shutil  # noqa: PLC0415

    removed = []
    head = f".{name}.sessionlab-"
    try:
        entries = list(directory.iterdir()) if str(directory) else list(Path().iterdir())
    except OSError:
        return removed
    for entry in entries:
        rest = entry.name[len(head) :] if entry.name.startswith(head) else ""
        pid = rest.split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` when the block succeeds.

    The temporary file exists (empty) when yielded, so a writer that needs a file name (Parquet)
    can write to it. It gets the usual permissions (``0666`` minus the umask).

    Raises
    ------
    ScenarioError
        When the file cannot be created, written or renamed (an :class:`OSError`, from the block
        too: a write that fails is the file's error).
    """
    target = Path(path)
    if target.is_dir():  # os.replace would say "Is a directory" only after all the work
        raise ScenarioError(str(path), "", "cannot write the file: it is a directory")
    directory = target.parent if str(target.parent) else Path()
    remove_stale(directory, target.name)
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=temp_prefix(target.name), suffix=".tmp")
    except OSError as err:
        raise _write_error(path, err) from None
    tmp = Path(name)
    try:
        os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600
        yield tmp
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise _write_error(path, err) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(path: str | Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """Yield a handle (UTF-8 text without newline translation, or binary) on an :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        if binary:
            with open(tmp, "wb") as fh:
                yield fh
        else:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                yield fh


def write_atomic(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` (bytes, or text written as UTF-8 as is) to ``path`` atomically."""
    with atomic_open(path, binary=isinstance(data, bytes)) as fh:
        fh.write(data)


def ensure_dir(path: str | Path) -> Path:
    """Create directory ``path`` (and its parents) if missing; a one-line error when it cannot be.

    Raises
    ------
    ScenarioError
        When ``path`` is a file, or a parent is missing and cannot be made, or is not writable.
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise ScenarioError(str(path), "", "cannot create the directory: a file of that name is in the way")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ScenarioError(str(path), "", f"cannot create the directory: {_reason(err)}") from None
    return target

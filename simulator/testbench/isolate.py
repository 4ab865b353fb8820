"""``py:`` sessionizers run in a child process, with a deadline, so user code cannot end or hang sessionlab.

The child (:mod:`.pychild`, its own session and process group) imports the user's
module, checks that the function can be called as ``func(user_id, timestamp_ms, campaign)``, and then
answers calls: the parent sends the three columns, the child calls the function and sends back the
canonical session ids (:func:`~simulator.testbench.adapters.canonical_ids`) or what went wrong. Messages
are length-prefixed pickles on two pipes (the child's standard input, and a copy of its standard output;
its own standard output is pointed at its standard error, so ``print`` in user code cannot break the
protocol); standard error goes to a temporary file whose last line names a crash.

A call that outlives its deadline gets the whole process group killed (SIGKILL), grandchildren included;
a child that ends during a call (``os._exit``, a crash, a signal) is a :class:`SessionizerError`, never a
silent exit of sessionlab. One child can answer many calls (:func:`reuse_children`: conformance and
shrinking call a sessionizer dozens of times, and starting an interpreter with numpy costs a good part
of a second on a busy machine).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from simulator.errors import SessionlabError

__all__ = ["ChildError", "PyChild", "child", "reuse_children"]

_HEADER = struct.Struct("<Q")
_CHILD_CODE = "from simulator.testbench.pychild import main; main()"
#: To start the interpreter and import the module (not part of a run's time limit: a busy machine can
#: take seconds to start Python with numpy; a larger time limit raises it).
_START_LIMIT_S = 300.0
_REUSED: dict[tuple[str, tuple[str, ...]], PyChild] | None = None  # inside reuse_children()


class ChildError(SessionlabError):
    """The child said the function is unusable, raised, or the child ended: ``str()`` says which."""


class ChildGoneError(Exception):
    """The child process ended (or stopped answering in time); ``message`` says how."""


def send(fh: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    fh.write(_HEADER.pack(len(data)) + data)
    fh.flush()


def recv_blocking(fh: BinaryIO) -> Any:
    head = fh.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None  # end of input: the parent has gone
    (size,) = _HEADER.unpack(head)
    return pickle.loads(fh.read(size))  # our own parent's message


# ---- the parent --------------------------------------------------------------------------------


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


class PyChild:
    """One child process serving calls to one ``py:`` function."""

    def __init__(self, spec: str, value: str, time_limit: float | None) -> None:
        self.spec = spec
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        paths = [p or os.getcwd() for p in sys.path if p == "" or Path(p).exists()]
        if str(Path.cwd()) not in paths:
            paths.append(str(Path.cwd()))  # as `python -m` would, so local modules are found
        env = os.environ | {
            "PYTHONPATH": os.pathsep.join([_package_root(), *filter(None, [os.environ.get("PYTHONPATH")])])
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._err,
            env=env,
            start_new_session=True,  # its own group: killed whole, and a terminal's Ctrl-C skips it
        )
        self._buf = b""
        try:
            send(self.proc.stdin, {"sys_path": paths, "spec": spec, "value": value})  # type: ignore[arg-type]
            reply = self._recv(max(time_limit or 0.0, _START_LIMIT_S), "start")
        except (ChildGoneError, BrokenPipeError) as gone:
            message = str(gone) if isinstance(gone, ChildGoneError) else self._death("start")
            self.close()
            raise _error(spec, message) from None
        except BaseException:
            self.close()
            raise
        if reply[0] == "error":
            self.close()
            raise _error(spec, reply[1])
        self.takes_timezone: bool = reply[1]

    def _recv(self, limit: float, what: str) -> Any:
        """The next message within ``limit`` seconds; :class:`ChildGoneError` if the child ends or is late."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + limit
        need = _HEADER.size
        while True:
            if len(self._buf) >= need:
                if need == _HEADER.size:
                    need += _HEADER.unpack(self._buf[: _HEADER.size])[0]
                    continue
                data, self._buf = self._buf[_HEADER.size : need], self._buf[need:]
                return pickle.loads(data)  # our own child's message
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], None if left == float("inf") else left)[0]:
                self.kill()
                if what == "start":
                    raise ChildGoneError(f"did not import and start within {limit:g} s")
                raise ChildGoneError(f"did not finish within the time limit ({limit:g} s, --time-limit)")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise ChildGoneError(self._death(what))
            self._buf += chunk

    def _death(self, what: str) -> str:
        """How the child ended (status or signal) and the last line it wrote to standard error."""
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # closed its output but lives on: end it
            self.kill()
            code = self.proc.returncode
        self.kill()  # its grandchildren too
        how = f"exit status {code}"
        if code is not None and code < 0:
            with contextlib.suppress(ValueError):
                how = f"killed by {signal.Signals(-code).name}"
        self._err.seek(0)
        lines = [ln for ln in self._err.read().decode(errors="replace").splitlines() if ln.strip()]
        tail = f"; its last words: {lines[-1].strip()[:200]}" if lines else ""
        stage = "while it started" if what == "start" else "during the call"
        return f"the sessionizer's process ended {stage} ({how}) without returning session ids{tail}"

    def call(self, cols: tuple[np.ndarray, ...], kwargs: dict[str, Any], limit: float | None) -> np.ndarray:
        """Canonical session ids from the function, or a :class:`SessionizerError`."""
        try:
            send(self.proc.stdin, (cols, kwargs))  # type: ignore[arg-type]
            status, payload = self._recv(limit if limit is not None else float("inf"), "call")
        except BrokenPipeError:
            raise _error(self.spec, self._death("call")) from None
        except ChildGoneError as gone:
            raise _error(self.spec, str(gone)) from None
        except BaseException:  # Ctrl-C while it works: end it before passing the interrupt on
            self.kill()
            raise
        if status == "ok":
            return payload
        raise _error(self.spec, f"raised {payload}" if status == "raised" else payload)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the child's whole process group (its own session), then reap it."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=60)

    def close(self) -> None:
        """End the child (and anything it started) and release its pipes."""
        self.kill()
        for fh in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if fh is not None:
                    fh.close()
        self._err.close()


def _error(spec: str, message: str) -> ChildError:
    """What went wrong with ``spec``'s child; :mod:`.adapters` names the spec in its own error."""
    return ChildError(message)


@contextlib.contextmanager
def child(spec: str, value: str, time_limit: float | None) -> Iterator[PyChild]:
    """A child for ``spec``: the one kept by :func:`reuse_children` if inside it, else a new one."""
    key = (spec, tuple(sys.path))
    if _REUSED is not None:
        kept = _REUSED.get(key)
        if kept is None or not kept.alive:
            kept = _REUSED[key] = PyChild(spec, value, time_limit)
        yield kept
        return
    fresh = PyChild(spec, value, time_limit)
    try:
        yield fresh
    finally:
        fresh.close()


@contextlib.contextmanager
def reuse_children() -> Iterator[None]:
    """Inside: one child per ``py:`` sessionizer serves every call; all end on leaving."""
    global _REUSED  # noqa: PLW0603 - one scope at a time, in the thread that runs conform
    if _REUSED is not None:  # nested: the outer scope owns them
        yield
        return
    _REUSED = {}
    try:
        yield
    finally:
        kept, _REUSED = _REUSED, None
        for c in kept.values():
            c.close()

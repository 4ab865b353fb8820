"""One Ctrl-C always stops a ``sessionlab`` command, even when the KeyboardInterrupt it raises is swallowed.

Python raises ``KeyboardInterrupt`` wherever the main thread happens to be when the SIGINT handler runs,
and some library code there catches everything. Cython's memoryview set-up code (compiled into every
Cython module with typed memoryviews: ``numpy.random``'s among them) runs, at import,
``try: collections.abc.Sequence.register(...) except: pass``. ``numpy.random`` is imported on first use,
which in ``simulate --workers N`` is the plan's demand pass right after the pool has started; a Ctrl-C
landing there vanished, and the command ran on to the end (the rare "hang" of the Ctrl-C test: 3 of 45
SIGINTs sent 0-0.5 s after the workers appeared, under two busy loops; issue 17).

:func:`sticky` installs a SIGINT handler that remembers the Ctrl-C as well as raising it, and
:func:`check` raises it again at the next safe point if it was swallowed: every progress step
(:class:`simulator.cli.terminal.Progress`), so every chunk of ``simulate`` and every run of ``run
--replications``. A process that inherited SIGINT ignored (a background job) keeps ignoring it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["check", "sticky"]

_seen = False  # a Ctrl-C arrived during the current command (set by the handler, never cleared in it)


def _handler(signum: int, frame: FrameType | None) -> None:
    global _seen  # noqa: PLW0603 - one flag per process, read by check()
    _seen = True
    raise KeyboardInterrupt


def check() -> None:
    """Raise ``KeyboardInterrupt`` if a Ctrl-C arrived during this command (even one that was swallowed)."""
    if _seen:
        raise KeyboardInterrupt


@contextlib.contextmanager
def sticky() -> Iterator[None]:
    """While the block runs, a Ctrl-C raises ``KeyboardInterrupt`` and is remembered for :func:`check`.

    Only where Python's own handler is in place (in the main thread); otherwise nothing changes.
    """
    global _seen  # noqa: PLW0603
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    _seen = False
    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _seen = False  # handled by now (exit 130); nothing carries over to the next command

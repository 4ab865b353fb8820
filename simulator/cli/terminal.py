"""Terminal manners of the ``sessionlab`` command: progress bars on stderr and the width of stdout.

* **Progress** (:func:`progress`): a `tqdm <https://tqdm.github.io>`_ bar on **stderr**, only when stderr
  is a terminal and ``--quiet`` was not given; otherwise nothing at all is written (no bar, no carriage
  returns), so piped or redirected stderr, CI logs and ``--json`` on stdout stay clean. stdout never
  carries a bar. The lower layers know nothing of this: they take an optional
  ``on_progress(n: int) -> None`` callback (``None`` by default), and :func:`progress` hands one in.
* **Width** (:func:`stdout_width`): the terminal's columns (:func:`shutil.get_terminal_size`, which reads
  ``COLUMNS`` first) when stdout is a terminal, ``None`` when it is not: piped output is laid out by its
  content only and is byte-identical whatever the terminal (see :func:`simulator.report.text.render_text`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

from simulator.cli.interrupt import check

__all__ = ["Progress", "configure", "live", "progress", "stdout_width"]

#: The narrowest width the terminal report is fitted to (a narrower terminal gets lines of this length).
MIN_WIDTH = 20

_quiet = False


def configure(*, quiet: bool) -> None:
    """Set ``--quiet`` for this invocation (``main`` calls it once, before the command runs)."""
    global _quiet  # noqa: PLW0603 - one setting per process, set by main() from the command line
    _quiet = quiet


def live() -> bool:
    """Whether progress is shown: stderr is a terminal and ``--quiet`` was not given."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not _quiet and callable(isatty) and bool(isatty())


class Progress:
    """The callback :func:`progress` yields: ``on_progress(n)`` advances the bar by ``n``."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar

    def __call__(self, n: int) -> None:
        check()  # a Ctrl-C that library code swallowed still stops the command (simulator.cli.interrupt)
        if self._bar is not None:
            self._bar.update(n)

    def set_total(self, total: int) -> None:
        """Say how much there is in all once it is known (a bar without a total counts only)."""
        if self._bar is not None and self._bar.total != total:
            self._bar.total = total
            self._bar.refresh()


@contextlib.contextmanager
def progress(desc: str, total: int | None = None, unit: str = "it") -> Iterator[Progress]:
    """A callback ``on_progress(n)`` that advances a bar by ``n`` (of ``total``, when known).

    The bar is drawn on stderr only when :func:`live`; otherwise the callback does nothing. The bar is
    removed when the block ends (``leave=False``), so what the command prints afterwards stands alone.
    Counts of visitors are shown as 1.2M; counts of runs and steps as they are.
    """
    if not live():
        yield Progress()
        return
    from tqdm import tqdm  # noqa: PLC0415 - only when a bar is drawn

    try:  # a terminal that reports no size (0 columns) would get an empty bar: draw 80 columns there
        sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except (OSError, ValueError, AttributeError):
        sized = False
    bar = tqdm(
        total=total or None,
        desc=desc,
        unit=unit,
        unit_scale=unit == "visitor",
        file=sys.stderr,
        leave=False,
        mininterval=0.2,
        **({"dynamic_ncols": True} if sized else {"ncols": 80}),
    )
    try:
        yield Progress(bar)
    finally:
        bar.close()


def stdout_width() -> int | None:
    """The terminal's columns when stdout is a terminal (at least :data:`MIN_WIDTH`), else ``None``."""
    isatty = getattr(sys.stdout, "isatty", None)
    if not (callable(isatty) and isatty()):
        return None
    return max(shutil.get_terminal_size().columns, MIN_WIDTH)

"""One Ctrl-C to a ``sessionize`` that is writing shards, and what must be left: shared by the spool's
Ctrl-C tests (a file log, a piped compressed log)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from simulator.cli.main import ExitCode

ROOT = Path(__file__).resolve().parents[1]


def _as_a_terminal_job() -> None:
    """The default SIGINT action (a background shell's children inherit SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ctrl_c_once_shards_exist(args: list[str], out: Path, stdin: IO[bytes] | None = None) -> None:
    """Run ``sessionlab ARGS``, send one SIGINT as soon as a shard file exists beside ``out``, and
    check the end: exit 130, "interrupted" without a traceback, and ``out``'s directory empty."""
    cmd = [sys.executable, "-m", "simulator.cli", *args]
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=stdin,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_a_terminal_job,  # noqa: PLW1509 - no threads here
    )
    try:
        deadline = time.monotonic() + 300  # generous: a loaded 2-core machine
        seen = False
        while time.monotonic() < deadline and proc.poll() is None:
            spools = [p for p in out.parent.iterdir() if p.name.startswith(".sessionlab-shards-")]
            if spools and any(spools[0].glob("shard-*.arrow")):
                seen = True
                break
            time.sleep(0.05)
        assert seen, "no shard appeared within the deadline"
        assert proc.poll() is None, f"sessionize ended before the Ctrl-C: {proc.communicate()[1]}"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert "interrupted" in err
    assert "Traceback" not in err
    assert list(out.parent.iterdir()) == []

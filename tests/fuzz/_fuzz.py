"""The fuzz harness's shared parts: its settings (bounded in CI, longer on request) and the checks.

``python -m pytest tests/fuzz`` runs a bounded, fixed set of examples per test (well under a minute);
``python -m pytest tests/fuzz --fuzz 2000`` (or ``SESSIONLAB_FUZZ=2000``) runs 2,000 random examples
per test, for a local hunt. Hypothesis keeps failing examples in ``.hypothesis/`` and replays them first.
"""

from __future__ import annotations

import contextlib
import io
import os

from hypothesis import HealthCheck, settings

from simulator.cli.main import main

DEFAULT_EXAMPLES = 30


def fuzz_settings() -> settings:
    n = int(os.environ.get("SESSIONLAB_FUZZ") or DEFAULT_EXAMPLES)
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=n <= DEFAULT_EXAMPLES,  # CI runs the same examples every time; a long hunt explores
        database=None if n <= DEFAULT_EXAMPLES else settings.default.database,
    )


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run ``sessionlab argv`` in-process; its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def assert_clean_exit(code: int, err: str, name: str, what: str) -> None:
    """Exit 0, 1 or 2; on an error, one line on stderr that names the file (no traceback)."""
    assert code in (0, 1, 2), f"{what}: exit {code}\n{err[-3000:]}"
    assert "Traceback" not in err, f"{what}:\n{err[-3000:]}"
    if code == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("sessionlab: error")]
        assert len(lines) == 1, f"{what}: expected one error line, got:\n{err[-3000:]}"
        assert name in lines[0], f"the error line does not name {name}: {lines[0][:500]}\n{what}"
        assert len(lines[0]) < 2000, f"error line of {len(lines[0])} characters: {lines[0][:500]}\n{what}"

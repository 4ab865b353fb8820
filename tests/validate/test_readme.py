"""The ``validate`` run shown in the README is the command's real output (like the audit example's
test in tests/testbench/test_audit_examples.py). After a change to the findings or the engine moves the
numbers, rewrite the block from the real output with ``python -m tests.validate.test_readme``."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import pytest

from simulator.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
COMMAND = (
    "sessionlab validate scenarios/validate/gtm-container.json scenarios/validate/ga4-property.json "
    "scenarios/validate/ga4-enhanced-measurement.json scenarios/validate/google-ads-customer.json "
    "--replications 3 --visitors 1000"
)


def _shown(text: str) -> tuple[int, int]:
    start = text.index(f"```\n$ {COMMAND}\n") + len(f"```\n$ {COMMAND}\n")
    return start, text.index("```", start)


def test_the_readme_validate_run_is_the_real_output(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    text = (ROOT / "README.md").read_text()
    start, end = _shown(text)
    assert main(COMMAND.split()[1:]) == 1  # errors were found, as the README says
    assert capsys.readouterr().out == text[start:end]


if __name__ == "__main__":  # rewrite the README block from the real output
    os.chdir(ROOT)
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = _shown(text)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        main(COMMAND.split()[1:])
    readme.write_text(text[:start] + buf.getvalue() + text[end:])
    print(f"rewrote the validate block of {readme}", file=sys.stderr)

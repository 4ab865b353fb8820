"""JUnit XML for CI systems: one test suite per scenario file, one test case per expectation.

Written with :mod:`xml.etree.ElementTree` and atomically (:func:`write_atomically`, which is
:func:`simulator.log.atomic.write_atomic`: a temporary file in the same directory, then a rename), so a CI
system never reads a half-written report.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.log.atomic import write_atomic as write_atomically
from simulator.testing.expect import Outcome

__all__ = ["SuiteResult", "junit_xml", "write_atomically"]


@dataclass(frozen=True, slots=True)
class SuiteResult:
    """The outcomes of one scenario file, with its text and the line ranges of its expectations."""

    path: str
    name: str
    outcomes: Sequence[Outcome]
    blocks: Sequence[tuple[int, int]] = ()
    text: str = ""


def _case(suite: SuiteResult, k: int, outcome: Outcome) -> ET.Element:
    lines = suite.blocks[k] if k < len(suite.blocks) else None
    case = ET.Element(
        "testcase",
        classname=suite.name,
        name=outcome.expectation.name,
        file=suite.path,
        time="0",
    )
    if lines is not None:
        case.set("line", str(lines[0]))
    if not outcome.passed:
        failure = ET.SubElement(case, "failure", message=outcome.describe(), type="ExpectationFailed")
        failure.text = outcome.report(lines, suite.path, suite.text)
    return case


def junit_xml(suites: Sequence[SuiteResult]) -> bytes:
    """The JUnit XML document (UTF-8 bytes) for the given scenario files."""
    root = ET.Element("testsuites", name="sessionlab")
    total = failed = 0
    for suite in suites:
        bad = sum(not o.passed for o in suite.outcomes)
        node = ET.SubElement(
            root,
            "testsuite",
            name=suite.name,
            file=suite.path,
            tests=str(len(suite.outcomes)),
            failures=str(bad),
            errors="0",
            skipped="0",
            time="0",
        )
        node.extend(_case(suite, k, o) for k, o in enumerate(suite.outcomes))
        total, failed = total + len(suite.outcomes), failed + bad
    root.set("tests", str(total))
    root.set("failures", str(failed))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"

"""Renderers for ``sessionlab validate``: the terminal table, the JSON document, JUnit XML and the
section of ``report.md`` (``report.html``'s is in ``templates/report.html.j2``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

from simulator.validate.effect import METRICS, Effect
from simulator.validate.findings import RULES, SEVERITIES, Finding

__all__ = [
    "VALIDATE_SCHEMA_VERSION",
    "render_validate_json",
    "render_validate_text",
    "validate_document",
    "validate_junit",
    "validate_markdown",
]

#: Version of the ``validate --json`` shape; bumped only when a key changes meaning.
VALIDATE_SCHEMA_VERSION = 1


def _order(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: -SEVERITIES.index(f.severity))


def _pm(effect: Effect, metric: str) -> str:
    s = effect.delta.get(metric)
    if s is None or s.mean is None:
        return ""
    half = "" if s.high is None or s.low is None else f" (±{(s.high - s.low) / 2:,.0f})"
    return f"{s.mean:+,.0f}{half}"


def render_validate_text(
    findings: Sequence[Finding],
    effects: Sequence[Effect],
    notices: Sequence[tuple[str, str, str]],
    scenario: str,
    replications: int,
) -> str:
    """Findings (severity first) with evidence, rule, source and fix; then the effects table."""
    lines = []
    for f in _order(findings):
        lines.append(f"{f.severity.upper():<8} {f.rule}: {f.title} -- {f.message}")
        for file, pointer in f.evidence:
            lines.append(f"         at {file}: {pointer}")
        lines.append(f"         rule: {f.documented} [{f.source}]")
        lines.append(f"         moves: {', '.join(f.terms)}; fix: {f.fix}")
        if f.note and f.note != "derived":
            lines.append(f"         effect: {f.note}")
    for file, pointer, what in notices:
        lines.append(f"NOTICE   {file}: {pointer}: {what}")
    if not findings:
        lines.append("no findings")
    if effects:
        e0 = next((e for e in effects if e.how == "simulated"), effects[0])
        base = {m: e0.configured[m].mean for m in METRICS if m in e0.configured}
        lines += [
            "",
            f"Effect of each fix on {scenario}, as fixed minus as configured, mean (±95 % half-width) "
            f"over {replications} replications with common seeds:",
            "  as configured: " + ", ".join(f"{m} {v:,.0f}" for m, v in base.items() if v is not None),
        ]
        head = f"  {'rule':<26}" + "".join(f"{m:>18}" for m in METRICS) + "  its bridge term"
        lines.append(head)
        for e in effects:
            row = f"  {e.finding.rule:<26}" + "".join(f"{_pm(e, m):>18}" for m in METRICS)
            term = next(
                (f"{b}.{t}" for t in e.finding.terms for b in ("bridge", "views") if f"{b}.{t}" in e.delta),
                None,
            )
            if term is None:  # moved only under a further definition (e.g. ga4_source_split)
                term = next(
                    (k for t in e.finding.terms for k in e.delta if k.startswith(f"bridge.{t}@")), None
                )
            extra = f"  {term.split('.', 1)[1]} {_pm(e, term)}" if term else ""
            extra += " (derived)" if e.how == "derived" else ""
            if e.together:
                extra += f" (fixed with {', '.join(e.together)})"
            lines.append(row + extra)
    return "\n".join(lines) + "\n"


def validate_document(
    findings: Sequence[Finding],
    effects: Sequence[Effect],
    notices: Sequence[tuple[str, str, str]],
    scenario: str,
    replications: int,
    *,
    inputs: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    doc = {
        "schema_version": VALIDATE_SCHEMA_VERSION,
        "scenario": scenario,
        "replications": replications,
        "findings": [f.to_dict() for f in _order(findings)],
        "notices": [{"file": a, "pointer": b, "message": c} for a, b, c in notices],
        "effects": [e.to_dict() for e in effects],
    }
    if inputs:  # (file, what it was read as), in argument order: added in schema_version 1
        doc["inputs"] = [{"file": f, "read_as": k} for f, k in inputs]
    return doc


def render_validate_json(*args: Any, **kwargs: Any) -> str:
    """The stable JSON shape (``schema_version`` 1); same inputs and seeds give the same bytes."""
    return json.dumps(validate_document(*args, **kwargs), indent=2) + "\n"


def validate_junit(findings: Sequence[Finding], fail_on: str) -> bytes:
    """One test case per rule checked; findings at or above ``fail_on`` are failures."""
    suite = ET.Element("testsuite", name="sessionlab validate")
    failures = 0
    for rule in RULES:
        case = ET.SubElement(suite, "testcase", classname="validate", name=rule)
        for f in (f for f in findings if f.rule == rule):
            where = "; ".join(f"{a}: {b}" for a, b in f.evidence)
            if SEVERITIES.index(f.severity) >= SEVERITIES.index(fail_on):
                failures += 1
                el = ET.SubElement(case, "failure", message=f"{f.severity}: {f.message}")
            else:
                el = ET.SubElement(case, "system-out")
            el.text = f"{where}\nfix: {f.fix}\nsource: {f.source}"
    suite.set("tests", str(len(RULES)))
    suite.set("failures", str(failures))
    return ET.tostring(ET.ElementTree(suite).getroot(), encoding="utf-8", xml_declaration=True)


def _md(text: Any) -> str:
    """A table cell or line of Markdown: pipes escaped, one line."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_pm(summary: dict[str, Any] | None) -> str:
    if not summary or summary.get("mean") is None:
        return "n/a"
    low, high = summary.get("low"), summary.get("high")
    half = "" if low is None or high is None else f" (±{(high - low) / 2:,.0f})"
    return f"{summary['mean']:+,.0f}{half}"


def validate_markdown(document: dict[str, Any]) -> list[str]:
    """The ``report.md`` section of a :func:`validate_document`: each finding with its evidence, rule,
    source and fix, then the effect of each fix (mean, ±95 % half-width) as a table."""
    out = ["## Tracking configuration findings", ""]
    out += [
        f"*{len(document['findings'])} finding(s) on {_md(document['scenario'])}; each effect is as fixed "
        f"minus as configured over {document['replications']} replications with common seeds "
        "(rules and sources: docs/validate.md).*",
        "",
    ]
    for f in document["findings"]:
        out.append(f"### {f['severity'].upper()} `{f['rule']}`: {_md(f['title'])}")
        out += ["", _md(f["message"]), ""]
        out += [f"- at `{_md(e['file'])}`: `{_md(e['pointer'])}`" for e in f["evidence"]]
        out.append(f"- rule: {_md(f['documented_rule'])} [{_md(f['source'])}]")
        out.append(f"- moves: {', '.join(f['terms'])}")
        out.append(f"- **fix:** {_md(f['fix'])}")
        if f["note"] and f["note"] != "derived":
            out.append(f"- effect: {_md(f['note'])}")
        out.append("")
    if not document["findings"]:
        out += ["No findings.", ""]
    for n in document["notices"]:
        out.append(f"- notice: `{_md(n['file'])}`: `{_md(n['pointer'])}`: {_md(n['message'])}")
    if document["notices"]:
        out.append("")
    if document["effects"]:
        out += [
            "### Effect of each fix",
            "",
            "| rule | " + " | ".join(METRICS) + " | how |",
            "|---|" + "---:|" * len(METRICS) + "---|",
        ]
        for e in document["effects"]:
            how = e["how"] + (
                f", fixed with {', '.join(e['fixed_together_with'])}" if e["fixed_together_with"] else ""
            )
            cells = [_md_pm(e["delta"].get(m)) for m in METRICS]
            out.append(f"| `{e['rule']}` | " + " | ".join(cells) + f" | {how} |")
        out.append("")
    return out

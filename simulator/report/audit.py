"""Text, JSON and Markdown renderings of :class:`simulator.testbench.audit.Audit`, and the audit's
section of a report directory (:func:`write_audit_section`)."""

from __future__ import annotations

import json
from pathlib import Path

from simulator.errors import ScenarioError
from simulator.log.atomic import ensure_dir
from simulator.report.directory import MARKER, write_atomic
from simulator.testbench.audit import Audit

__all__ = [
    "AUDIT_FILES",
    "render_audit_json",
    "render_audit_markdown",
    "render_audit_text",
    "write_audit_section",
]

#: The files the audit's section adds to a report directory.
AUDIT_FILES = ("audit.md", "audit.json")


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def render_audit_text(a: Audit, *, ignored: tuple[str, ...] = ()) -> str:
    """The audit as a terminal report: agreement, bridge, classes with examples, checks, UI band."""
    lines = [
        f"platform sessions vs {a.definition}: {a.events:,} events, {a.users:,} users",
        f"  identical sessions   {a.identical_sessions:,} of {a.platform_sessions:,} platform sessions "
        f"({_pct(a.identical_sessions, a.platform_sessions)}), "
        f"{a.identical_events:,} of {a.sessioned_events:,} events "
        f"({_pct(a.identical_events, a.sessioned_events)})",
        f"  sessions both ways   platform {a.platform_sessions:,}   rule {a.rule_sessions:,}",
        f"  users differing      {a.users_differing:,} of {a.users:,}",
        "",
        "bridge (platform sessions -> rule sessions)",
    ]
    width = max(len(t.name) for t in a.bridge)
    for i, t in enumerate(a.bridge):
        sign = "" if i in (0, len(a.bridge) - 1) else ("+" if t.count >= 0 else "-")
        lines.append(f"  {sign:1}{t.name:<{width}} {abs(t.count):>9,}  {t.meaning}")
    if a.classes:
        lines += ["", "differing users by class (earliest difference; share of users)"]
        for cls, n in a.classes.items():
            lines.append(f"  {cls:<{max(map(len, a.classes))}} {n:>7,}  {_pct(n, a.users)}")
        if a.examples:
            lines += ["", "minimal examples (the user's own events, shrunk while the class holds)"]
        for e in a.examples:
            lines.append(
                f"  [{e.cls}] user {e.user}: {e.detail} ({len(e.rows)} of the {e.source_rows:,} events "
                "up to the first difference)"
            )
            lines += [
                f"    {t}  {ev:<16} platform {sid:<14} rule session {rid}" for t, ev, sid, rid in e.rows
            ]
    c = a.checks
    lines += [
        "",
        "export checks",
        f"  events without a session id   {c['events_without_session_id']:,}  "
        f"({_pct(c['events_without_session_id'], a.events)}; consent mode, cookieless pings: left out)",
        f"  events without a user         {c['events_without_user']:,}",
        f"  gclid but medium not cpc      {c['gclid_not_cpc']:,}  (auto-tagging lost or overridden)",
        f"  self-referral sessions        {c['self_referral_sessions']:,}  (own domain as referrer)",
        f"  payment-provider referrals    {c['payment_referral_sessions']:,}  (add to unwanted referrals)",
        f"  duplicate page views (<1 s)   {c['duplicate_page_views']:,}  (a tag fired twice)",
    ]
    if c.get("gap_spike"):
        s = c["gap_spike"]
        lines.append(
            f"  gaps at exactly the timeout   {s['gaps_at_timeout']:,} in that second vs "
            f"{s['mean_per_second_around']} per second within 60 s (a spike: pings on a timer)"
        )
    if a.hll:
        lines += ["", "what the GA4 interface shows (HyperLogLog++, ~95% band)"]
        for metric, h in a.hll.items():
            lines.append(
                f"  {metric:<9} exact {h['exact']:,} -> {h['low']:,} .. {h['high']:,} "
                f"(precision {h['precision']}, RSE {100 * h['relative_standard_error']:.2f}%)"
            )
    if ignored:
        lines += ["", f"fields ignored: {', '.join(ignored)}"]
    return "\n".join(lines) + "\n"


def render_audit_json(a: Audit, *, ignored: tuple[str, ...] = ()) -> str:
    """The audit as JSON (sorted keys, stable)."""
    doc = a.to_dict() | {"ignored_fields": list(ignored)}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _md_row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def render_audit_markdown(a: Audit, *, ignored: tuple[str, ...] = ()) -> str:
    """The audit as a Markdown section (``audit.md`` of a report directory)."""
    out = [
        f"## Platform sessions against {a.definition}",
        "",
        f"{a.events:,} events, {a.users:,} users. Identical sessions: {a.identical_sessions:,} of "
        f"{a.platform_sessions:,} platform sessions ({_pct(a.identical_sessions, a.platform_sessions)}), "
        f"{a.identical_events:,} of {a.sessioned_events:,} events "
        f"({_pct(a.identical_events, a.sessioned_events)}). "
        f"Sessions: platform {a.platform_sessions:,}, rule {a.rule_sessions:,}; users differing: "
        f"{a.users_differing:,}.",
        "",
        "### Bridge: platform sessions to rule sessions",
        "",
        _md_row(["term", "count", "meaning"]),
        _md_row(["---", "---:", "---"]),
        *(
            _md_row([t.name, f"{t.count:+,}" if 0 < i < len(a.bridge) - 1 else f"{t.count:,}", t.meaning])
            for i, t in enumerate(a.bridge)
        ),
    ]
    if a.classes:
        out += ["", "### Differing users by class", "", _md_row(["class", "users", "share of users"])]
        out += [_md_row(["---", "---:", "---:"])]
        out += [_md_row([cls, f"{n:,}", _pct(n, a.users)]) for cls, n in a.classes.items()]
        if a.examples:
            out += ["", "### Minimal examples", "", "The user's own events, shrunk while the class holds."]
        for e in a.examples:
            out += [
                "",
                f"**{e.cls}**, user `{e.user}`: {e.detail} ({len(e.rows)} of the {e.source_rows:,} events "
                "up to the first difference).",
                "",
                _md_row(["time (UTC)", "event", "platform session", "rule session"]),
                _md_row(["---", "---", "---", "---:"]),
                *(_md_row([t, ev, sid, rid]) for t, ev, sid, rid in e.rows),
            ]
    c = a.checks
    out += [
        "",
        "### Export checks",
        "",
        _md_row(["check", "count"]),
        _md_row(["---", "---:"]),
        *(_md_row([k.replace("_", " "), f"{v:,}"]) for k, v in c.items() if isinstance(v, int)),
    ]
    if a.hll:
        out += ["", "### What the GA4 interface shows (HyperLogLog++, ~95% band)", ""]
        out += [
            _md_row(["metric", "exact", "low", "high", "precision"]),
            _md_row(["---", "---:", "---:", "---:", "---:"]),
        ]
        out += [
            _md_row([m, f"{h['exact']:,}", f"{h['low']:,}", f"{h['high']:,}", h["precision"]])
            for m, h in a.hll.items()
        ]
    if ignored:
        out += ["", f"Fields ignored: {', '.join(ignored)}."]
    return "\n".join(out) + "\n"


def write_audit_section(a: Audit, directory: str | Path, *, ignored: tuple[str, ...] = ()) -> list[Path]:
    """Add the audit to a report directory: ``audit.md`` and ``audit.json``, each written atomically.

    A new or empty directory becomes a report directory; an existing report (``sessionlab run
    --report``) gains the section, its other files untouched (a previous audit's files are replaced);
    a directory holding anything else is refused, as :func:`simulator.report.directory.write_report`
    refuses it.
    """
    target = Path(directory)
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise ScenarioError(
            str(target),
            "",
            "the directory has files that are not a sessionlab report; give a new or empty directory "
            "or a report directory",
        )
    ensure_dir(target)
    texts = {
        "audit.md": render_audit_markdown(a, ignored=ignored),
        "audit.json": render_audit_json(a, ignored=ignored),
    }
    written = []
    for name in AUDIT_FILES:
        write_atomic(target / name, lambda fh, text=texts[name]: fh.write(text))
        written.append(target / name)
    if not (target / MARKER).exists():
        write_atomic(
            target / MARKER, lambda fh: fh.write("written by sessionlab; replaced whole by the next run\n")
        )
    return written

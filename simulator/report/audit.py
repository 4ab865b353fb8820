"""Text and JSON renderings of :class:`simulator.testbench.audit.Audit`."""

from __future__ import annotations

import json

from simulator.testbench.audit import Audit

__all__ = ["render_audit_json", "render_audit_text"]


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
            lines.append(f"  {cls:<13} {n:>7,}  {_pct(n, a.users)}")
        for e in a.examples:
            lines.append(f"  example [{e.cls}] user {e.user}: {e.detail}")
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

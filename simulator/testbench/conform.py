"""Conformance: does a sessionizer partition a workload into the same sessions as a definition?

The reference is :func:`simulator.sessionize` with the chosen definition. The run reports agreement
(events and sessions), classifies each disagreeing user (:mod:`.classify`), and shrinks the smallest
user of each class to a minimal counterexample (:mod:`.shrink`), printed as a table and written as a
CSV that is itself a workload: ``sessionlab conform --workload counterexample-boundary.csv ...``
reproduces it.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.log.atomic import ensure_dir, write_atomic
from simulator.schema import format_duration
from simulator.testbench.adapters import DEFAULT_TIME_LIMIT_S, Sessionizer
from simulator.testbench.baselines import sessionlab_ids
from simulator.testbench.classify import CLASSES, Agreement, Finding, agreement, classify, rule_params
from simulator.testbench.isolate import reuse_children
from simulator.testbench.shrink import Counterexample, Oracle, Timeline, shrink_all
from simulator.testbench.workload import Workload, iso_local

__all__ = ["ConformResult", "conform", "render_text", "write_outputs"]

#: At most this many disagreeing users are classified (the smallest first); the rest are counted.
MAX_CLASSIFIED = 5_000


@dataclass(frozen=True)
class ConformResult:
    """Agreement, users per class and one minimal counterexample per class."""

    definition: str
    sessionizer: str
    workload: dict[str, Any]
    agreement: Agreement
    classes: dict[str, dict[str, int]]  #: class -> {"users": n, "events": rows of those users}
    classified: int  #: disagreeing users classified (<= MAX_CLASSIFIED)
    counterexamples: list[Counterexample]

    @property
    def ok(self) -> bool:
        return self.agreement.users_disagree == 0


def _user_groups(user: np.ndarray, bad: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the disagreeing users grouped by user (row order kept), with group bounds."""
    rows = np.flatnonzero(np.isin(user, bad))
    rows = rows[np.argsort(user[rows], kind="stable")]
    users, starts = np.unique(user[rows], return_index=True)
    return rows, users, np.append(starts, len(rows))


def conform(
    wl: Workload,
    sessionizer: Sessionizer,
    definition: str,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT_S,
    shrink_examples: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> ConformResult:
    """Compare ``sessionizer`` with ``definition`` on ``wl``; classify and shrink the differences.

    ``on_progress`` is called with 1 after each step (the reference, the sessionizer's run, its run on
    the differing users, each user classified, each class shrunk; how many depends on the differences).
    ``time_limit`` is in seconds per run of a ``py:`` or ``cmd:`` sessionizer (``None``: no limit); a
    ``py:`` function runs in one child process for the whole call (:mod:`.isolate`).
    """
    with reuse_children():
        return _conform(wl, sessionizer, definition, time_limit, shrink_examples, on_progress=on_progress)


def _conform(
    wl: Workload,
    sessionizer: Sessionizer,
    definition: str,
    time_limit: float | None,
    shrink_examples: bool,
    *,
    on_progress: Callable[[int], None] | None,
) -> ConformResult:
    step = on_progress or (lambda n: None)
    params = rule_params(definition)
    ref = sessionlab_ids(
        wl.user_id, wl.timestamp_ms, wl.campaign, definition=definition, timezone=wl.timezone
    )
    step(1)
    cand = sessionizer(wl, definition, time_limit)
    step(1)
    agr, bad = agreement(wl.user_id, ref, cand)
    examples: list[Counterexample] = []
    if not len(bad):
        return ConformResult(definition, sessionizer.spec, wl.meta, agr, {}, 0, examples)
    rows, users, bounds = _user_groups(wl.user_id, bad)
    sizes = np.diff(bounds)
    picked = np.sort(np.argsort(sizes, kind="stable")[:MAX_CLASSIFIED])
    sub_rows = np.concatenate([rows[bounds[i] : bounds[i + 1]] for i in picked])
    sub = wl.take(sub_rows)
    order = np.lexsort((sub.timestamp_ms, sub.user_id))
    cand_sorted = np.empty(len(sub), dtype=np.int64)
    cand_sorted[order] = sessionizer(sub.take(order), definition, time_limit)
    step(1)
    findings: list[tuple[int, Finding]] = []
    pos = 0
    for i in picked:
        n = int(sizes[i])
        s = slice(pos, pos + n)
        pos += n
        r = rows[bounds[i] : bounds[i + 1]]
        found = classify(
            wl.timestamp_ms[r], wl.campaign[r], ref[r], cand[r],
            params=params, timezone=wl.timezone, cand_sorted=cand_sorted[s],
        )  # fmt: skip
        if found is None:  # agrees alone: the difference needs other users' rows
            found = Finding("other", "differs only together with other users' rows (crosses users)", 0)
        findings.append((int(i), found))
        step(1)
    classes, first = _tally(findings, sizes)
    if shrink_examples:
        oracle = Oracle(sessionizer, definition, params, wl.timezone, time_limit)
        todo = []
        for cls in CLASSES:
            if cls in first:
                i, found = first[cls]
                r = rows[bounds[i] : bounds[i + 1]]
                todo.append((Timeline(wl.timestamp_ms[r], wl.campaign[r]), found, int(users[i])))
        examples = shrink_all(todo, oracle)
        step(len(todo))
    ordered = {c: classes[c] for c in CLASSES if c in classes}
    return ConformResult(definition, sessionizer.spec, wl.meta, agr, ordered, len(picked), examples)


def _tally(
    findings: list[tuple[int, Finding]], sizes: np.ndarray
) -> tuple[dict[str, dict[str, int]], dict[str, tuple[int, Finding]]]:
    """Users and events per class, and the user to shrink per class (the smallest unambiguous one).

    An ambiguous user joins the class, among its candidates, that most unambiguous users show.
    """
    clear: dict[str, int] = {}
    for _, f in findings:
        if not f.alternatives:
            clear[f.cls] = clear.get(f.cls, 0) + 1
    classes: dict[str, dict[str, int]] = {}
    first: dict[str, tuple[int, Finding]] = {}
    for i, f in findings:  # in size order, so the first seen is the smallest
        options = (f.cls, *f.alternatives)
        cls = max(options, key=lambda c: (clear.get(c, 0), -options.index(c)))
        entry = classes.setdefault(cls, {"users": 0, "events": 0})
        entry["users"] += 1
        entry["events"] += int(sizes[i])
        if cls == f.cls and (cls not in first or (first[cls][1].alternatives and not f.alternatives)):
            first[cls] = (i, f)
    return classes, first


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f}%" if b else "n/a"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*header).rstrip(), *(fmt.format(*r).rstrip() for r in rows)]


def timeline_table(ce: Counterexample, timezone: str) -> list[str]:
    """The counterexample as a table in time order; ``*`` marks rows whose sessions differ."""
    tl = ce.timeline
    order = np.argsort(tl.ts, kind="stable")
    utc, local = iso_local(tl.ts, "UTC"), iso_local(tl.ts, timezone)
    rows = []
    for k, i in enumerate(order):
        gap = "" if k == 0 else format_duration(int(tl.ts[i] - tl.ts[order[k - 1]]))
        r, c = int(ce.reference[i]), int(ce.candidate[i])
        mark = "*" if (ce.reference == r).tolist() != (ce.candidate == c).tolist() else ""
        rows.append(
            [
                str(i + 1),
                str(tl.ts[i]),
                str(utc[i])[:-6] + "Z",
                str(local[i]),
                gap,
                tl.campaign[i] or "-",
                str(r),
                str(c),
                mark,
            ]
        )
    header = [
        "row",
        "timestamp_ms",
        "utc",
        f"local ({timezone})",
        "gap",
        "campaign",
        "reference",
        "candidate",
        "",
    ]
    return _table(header, rows)


def render_text(res: ConformResult, timezone: str, written: dict[str, Path] | None = None) -> str:
    """The human-readable report."""
    a, meta = res.agreement, res.workload
    keys = ("scenario", "profile", "events", "users", "seed")
    what = ", ".join(f"{k} {meta[k]}" for k in keys if k in meta)
    lines = [
        f"conform: {res.sessionizer} against definition {res.definition!r}" + (f" ({what})" if what else ""),
        f"events in identical sessions: {a.events_agree:,} of {a.events:,} "
        f"({_pct(a.events_agree, a.events)})",
        f"sessions: reference {a.sessions_ref:,}, candidate {a.sessions_cand:,}, "
        f"identical {a.sessions_agree:,} "
        f"({_pct(a.sessions_agree, a.sessions_ref)} of the reference's)",
        f"users with a different partition: {a.users_disagree:,} of {a.users:,}",
    ]
    if res.ok:
        return "\n".join([*lines, "result: the sessionizer agrees with the definition on every event", ""])
    if res.classified < a.users_disagree:
        lines.append(f"(classified the {res.classified:,} smallest of them)")
    rows = [[c, f"{v['users']:,}", f"{v['events']:,}", CLASSES[c]] for c, v in res.classes.items()]
    lines += ["", *_table(["class", "users", "events", "meaning"], rows)]
    for ce in res.counterexamples:
        status = "" if ce.verified else "  (NOT reproduced on its own: depends on other users' rows)"
        lines += [
            "",
            f"minimal counterexample [{ce.cls}]: {len(ce.timeline)} rows (shrunk from user {ce.user_id}'s "
            f"{ce.source_rows} rows in {ce.calls} candidate runs){status}",
            f"  {ce.detail}",
            *("  " + line for line in timeline_table(ce, timezone)),
        ]
        if written and ce.cls in written:
            lines.append(f"  written to {written[ce.cls]}")
    return "\n".join(
        [
            *lines,
            "",
            f"result: DISAGREES ({len(res.classes)} "
            f"class{'es' if len(res.classes) != 1 else ''} of difference)",
            "",
        ]
    )


def _counterexample_csv(ce: Counterexample, timezone: str) -> str:
    tl = ce.timeline
    iso = iso_local(tl.ts, timezone)
    head = "user_id,timestamp_ms,timestamp,campaign,reference_session,candidate_session\n"
    body = "".join(
        f"{ce.user_id},{tl.ts[i]},{iso[i]},{tl.campaign[i]},{ce.reference[i]},{ce.candidate[i]}\n"
        for i in range(len(tl))
    )
    return head + body


def write_outputs(res: ConformResult, out: Path, timezone: str, argv_hint: str = "") -> dict[str, Path]:
    """Write ``conform.json`` and one ``counterexample-<class>.csv`` per class into ``out``."""
    ensure_dir(out)
    written = {}
    for ce in res.counterexamples:
        path = out / f"counterexample-{ce.cls}.csv"
        write_atomic(path, _counterexample_csv(ce, timezone))
        written[ce.cls] = path
    doc = {
        "definition": res.definition,
        "sessionizer": res.sessionizer,
        "workload": res.workload,
        "agreement": res.agreement.to_dict(),
        "classes": res.classes,
        "classified_users": res.classified,
        "counterexamples": [
            {
                "class": ce.cls,
                "detail": ce.detail,
                "rows": len(ce.timeline),
                "source_user": ce.user_id,
                "source_rows": ce.source_rows,
                "verified": ce.verified,
                "csv": str(written[ce.cls]),
                "reproduce": f"sessionlab conform --definition {res.definition} --sessionizer "
                f"{shlex.quote(res.sessionizer)} --workload {shlex.quote(str(written[ce.cls]))} "
                f"--timezone {timezone}" + argv_hint,
            }
            for ce in res.counterexamples
        ],
        "ok": res.ok,
    }
    write_atomic(out / "conform.json", json.dumps(doc, indent=2) + "\n")
    return written

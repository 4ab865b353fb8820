"""The platform's own sessions held against its documented rule, on the same events.

:func:`audit` takes an export's canonical table (:func:`simulator.log.formats.read_export`), builds
the platform's sessions from ``(user_id, platform_session_id)`` and the rule's sessions with
:func:`simulator.sessions.sessionize`, and returns an :class:`Audit`:

- agreement (:func:`simulator.testbench.classify.agreement`): identical sessions and events;
- an exact bridge, cause by cause: ``platform sessions + extra runs of interleaved ids + rule splits
  inside a platform session (by the rule's split cause) - platform splits the rule does not make =
  rule sessions``. It holds by construction: in each user's time order, a *run* is a stretch of one
  platform id; rule sessions are contiguous, so ``rule sessions = runs + rule-only starts -
  platform-only starts``;
- one classified difference per differing user (:func:`simulator.testbench.classify.classify`),
  and for each class a minimal example from the user's own events: the rows up to the first
  difference, cut by the test bench's delta debugging (:func:`simulator.testbench.shrink.ddmin`) to a
  1-minimal subset that still shows the same class (timestamps are kept: the platform's ids belong
  to real events, so only rows are dropped). One shrink per example kept, capped in rows
  (:data:`SHRINK_ROWS`) and in sessionize calls (:data:`SHRINK_CALLS`);
- sanity checks that explain numbers (events without a session id or user, gclid without medium
  cpc, self-referrals, duplicate page views, a spike of gaps at exactly the timeout);
- the band in which the GA4 interface's HyperLogLog++ estimates fall (Google: precision 12 for
  sessions, 14 for users; https://developers.google.com/analytics/blog/2022/hll).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from simulator.sessions import Definition, get_definition, sessionize
from simulator.sessions.causes import SplitCause
from simulator.testbench.classify import agreement, classify, rule_params
from simulator.testbench.shrink import ddmin

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["HLL_PRECISION", "SHRINK_CALLS", "SHRINK_ROWS", "Audit", "BridgeTerm", "Example", "audit"]

#: A minimal example is searched among at most this many of the user's rows (those just before the
#: first difference); a longer history is cut to them first, and kept whole if the cut loses the class.
SHRINK_ROWS = 400
#: Batched sessionize calls one example's shrinking may spend (ddmin stops with what holds so far).
SHRINK_CALLS = 200

#: GA4's HLL++ precision per metric (developers.google.com/analytics/blog/2022/hll).
HLL_PRECISION = {"sessions": 12, "users": 14}

#: Plain meanings of the bridge terms (GA4 wording; other platforms read alike).
MEANINGS: dict[str, str] = {
    "interleaved": "two platform session ids interleaved in time for one user: several tabs or devices",
    "inactivity": "a platform session continues past the inactivity gap: engagement pings from an open tab, "
    "late hits",
    "midnight": "a platform session id spans midnight",
    "campaign_change": "a platform session id spans a campaign change",
    "max_duration": "a platform session is longer than the rule's maximum",
    "max_events": "a platform session has more events than the rule allows",
    "fixed_window": "a platform session runs past the rule's window",
    "plugin_rule": "a plug-in rule splits a platform session",
    "dynamic_gap": "a platform session continues past the end of its events' own gaps",
    "session_event": "a platform session spans a session-start event or continues after a session-end event",
    "flag": "a platform session continues over an event flagged to start a new one",
    "platform_split": "the platform starts a new session where the rule does not (within the timeout): a "
    "cookie reset or a consent change",
}

_PAYMENT_HOSTS = ("paypal.com", "stripe.com", "klarna.com", "adyen.com", "mollie.com", "checkout.com")
#: Page views of one page by one user closer than this (ms) count as a tag fired twice.
DUPLICATE_MS = 1000
#: Seconds each side of the timeout that the gap-spike check compares with.
_AROUND_S = 60


@dataclass(frozen=True, slots=True)
class BridgeTerm:
    """One cause: its name, signed count, plain meaning."""

    name: str
    count: int
    meaning: str


@dataclass(frozen=True, slots=True)
class Example:
    """A minimal example of a class: the user and that user's events up to the first difference."""

    cls: str
    detail: str
    user: str
    rows: tuple[tuple[str, str, str, int], ...]  #: (timestamp ISO, event, platform id, rule session)
    source_rows: int = 0  #: the user's events up to and including the first difference
    calls: int = 0  #: sessionize calls the shrinking spent


@dataclass(frozen=True)
class Audit:
    """What :func:`audit` finds; ``to_dict`` is the JSON form."""

    definition: str
    events: int
    events_without_session: int
    events_without_user: int
    platform_sessions: int
    rule_sessions: int
    identical_sessions: int
    identical_events: int
    users: int
    users_differing: int
    bridge: tuple[BridgeTerm, ...]
    classes: dict[str, int]
    examples: tuple[Example, ...]
    checks: dict[str, Any]
    hll: dict[str, Any] = field(default_factory=dict)

    @property
    def sessioned_events(self) -> int:
        return self.events - self.events_without_session

    def share(self, cls: str) -> float:
        """Share of differing users in ``cls`` among all users audited (``identical``: of sessions)."""
        if cls == "identical":
            return self.identical_sessions / self.platform_sessions if self.platform_sessions else 1.0
        return self.classes.get(cls, 0) / self.users if self.users else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "definition": self.definition,
            "events": self.events,
            "events_without_session": self.events_without_session,
            "events_without_user": self.events_without_user,
            "platform_sessions": self.platform_sessions,
            "rule_sessions": self.rule_sessions,
            "identical_sessions": self.identical_sessions,
            "identical_events": self.identical_events,
            "users": self.users,
            "users_differing": self.users_differing,
            "bridge": [{"term": t.name, "count": t.count, "meaning": t.meaning} for t in self.bridge],
            "classes": self.classes,
            "examples": [
                {
                    "class": e.cls,
                    "detail": e.detail,
                    "user": e.user,
                    "rows": [list(r) for r in e.rows],
                    "source_rows": e.source_rows,
                }
                for e in self.examples
            ],
            "checks": self.checks,
            "hll": self.hll,
        }


def _codes(values: list[Any]) -> np.ndarray:
    """Dense int codes by first appearance; None -> -1."""
    seen: dict[Any, int] = {}
    return np.array([-1 if v is None else seen.setdefault(v, len(seen)) for v in values], dtype=np.int64)


def _host(url: str | None) -> str:
    if not url:
        return ""
    host = urlsplit(url).hostname or ""
    return host.removeprefix("www.")


def hll_band(exact: int, precision: int, z: float = 1.96) -> dict[str, Any]:
    """The ~95% band of an HLL++ estimate of ``exact`` distinct items: relative standard error
    1.04 / sqrt(2**precision) (Heule et al. 2013; dense mode — smaller counts, kept in sparse mode,
    come out nearer exact)."""
    rse = 1.04 / math.sqrt(2**precision)
    return {
        "exact": exact,
        "precision": precision,
        "relative_standard_error": round(rse, 6),
        "low": math.floor(exact * (1 - z * rse)),
        "high": math.ceil(exact * (1 + z * rse)),
    }


class _Shrinker:
    """Minimal examples from the user's own rows: ddmin over row subsets, each batch one sessionize."""

    def __init__(
        self, ts: np.ndarray, campaign: np.ndarray, plat: np.ndarray, defn: Definition, tz: str
    ) -> None:
        self.ts, self.campaign, self.plat, self.defn, self.tz = ts, campaign, plat, defn, tz
        self.calls = 0

    def run(self, subsets: list[np.ndarray]) -> list[tuple[str | None, np.ndarray, np.ndarray]]:
        """(class, rule ids, causes) per subset of rows (each in time order), in one sessionize call."""
        self.calls += 1
        sizes = [len(s) for s in subsets]
        rows = np.concatenate(subsets)
        users = np.repeat(np.arange(len(subsets), dtype=np.int64), sizes)
        ids, causes = sessionize(
            users, self.ts[rows], self.defn, self.campaign[rows], timezone=self.tz, with_causes=True
        )
        out, at = [], 0
        for s in subsets:
            part, why = ids[at : at + len(s)], causes[at : at + len(s)]
            out.append((_class_of(self.plat[s], why), part, why))
            at += len(s)
        return out

    def shrink(self, rows: np.ndarray, cls: str) -> np.ndarray:
        """A 1-minimal subset of ``rows`` (time order) whose earliest difference is still ``cls``."""
        if len(rows) > SHRINK_ROWS:
            window = rows[-SHRINK_ROWS:]
            if self.run([window])[0][0] != cls:
                return rows
            rows = window
        start = self.calls

        def holds(subsets: list[list[int]]) -> list[bool]:
            if self.calls - start >= SHRINK_CALLS:
                return [False] * len(subsets)
            return [c == cls for c, _, _ in self.run([rows[np.asarray(s, dtype=np.int64)] for s in subsets])]

        return rows[np.asarray(ddmin(list(range(len(rows))), holds), dtype=np.int64)]


def _class_of(plat: np.ndarray, causes: np.ndarray) -> str | None:
    """The audit class of one user's rows (time order), None when both sides agree."""
    p_start = np.ones(len(plat), bool)
    p_start[1:] = plat[1:] != plat[:-1]
    if not len(plat) or np.array_equal(p_start, causes != 0):
        return None
    return _first_term(plat, causes)[0]


def audit(
    table: pa.Table,
    definition: str | Definition = "ga4",
    *,
    timezone: str = "UTC",
    examples: int = 1,
) -> Audit:
    """Audit the platform's sessions in ``table`` (canonical columns) against ``definition``.

    ``examples`` is how many minimal examples each class keeps (each one shrinking run).
    """
    defn = definition if isinstance(definition, Definition) else get_definition(definition)
    user_all = table.column("user_id").to_pylist()
    sid_all = table.column("platform_session_id").to_pylist()
    ts_all = table.column("timestamp").cast("int64").to_numpy() // 1000  # µs -> ms
    keep = np.array([u is not None and s is not None for u, s in zip(user_all, sid_all, strict=True)], bool)
    idx = np.flatnonzero(keep)
    names = [user_all[i] for i in idx]
    user = _codes(names)
    ts = ts_all[idx]
    camp_all = table.column("campaign").to_pylist()
    camp_names = [camp_all[i] for i in idx]
    campaign = _codes(camp_names).astype(np.int32)
    plat = _codes([(user_all[i], sid_all[i]) for i in idx])
    rule, causes = sessionize(user, ts, defn, campaign, timezone=timezone, with_causes=True)
    agr, bad_users = agreement(user, plat, rule)

    terms = _bridge(user, ts, plat, rule, causes, defn=defn)
    n_plat, n_rule = terms[0].count, terms[-1].count
    params = rule_params(defn)
    classes: dict[str, int] = {}
    found: list[Example] = []
    camp_str = np.array([x or "" for x in camp_names], dtype=object)
    shrinker = _Shrinker(ts, campaign, plat, defn, timezone)
    event_all = table.column("event_name")
    for b in bad_users:
        rows = np.flatnonzero(user == b)
        rows = rows[np.argsort(ts[rows], kind="stable")]
        finding = classify(ts[rows], camp_str[rows], plat[rows], rule[rows], params=params, timezone=timezone)
        if finding is None:
            continue
        cls, at = _first_term(plat[rows], causes[rows])
        finding = dataclasses.replace(finding, cls=cls, row=at)
        classes[cls] = classes.get(cls, 0) + 1
        if sum(e.cls == finding.cls for e in found) < examples:
            upto = rows[: finding.row + 1]
            before = shrinker.calls
            small = shrinker.shrink(upto, cls)
            _, small_rule, _ = shrinker.run([small])[0]
            again = classify(
                ts[small], camp_str[small], plat[small], small_rule, params=params, timezone=timezone
            )
            detail = (again or finding).detail
            numbers = _session_numbers(small_rule)
            found.append(
                Example(
                    finding.cls,
                    detail.replace("the candidate", "the rule").replace("the reference", "the platform"),
                    str(names[int(rows[0])]),
                    tuple(
                        (
                            np.datetime64(int(ts[i]), "ms").astype(str) + "Z",
                            str(event_all[int(idx[i])].as_py()),
                            str(sid_all[int(idx[i])]),
                            int(k),
                        )
                        for i, k in zip(small, numbers, strict=True)
                    ),
                    source_rows=len(upto),
                    calls=shrinker.calls - before,
                )
            )
    return Audit(
        definition=defn.name,
        events=table.num_rows,
        events_without_session=sum(s is None for s in sid_all),
        events_without_user=sum(x is None for x in user_all),
        platform_sessions=n_plat,
        rule_sessions=n_rule,
        identical_sessions=agr.sessions_agree,
        identical_events=agr.events_agree,
        users=agr.users,
        users_differing=agr.users_disagree,
        bridge=tuple(terms),
        classes=dict(sorted(classes.items())),
        examples=tuple(found),
        checks=_checks(table, ts_all, defn),
        hll={
            "sessions": hll_band(n_plat, HLL_PRECISION["sessions"]),
            "users": hll_band(len(set(names)), HLL_PRECISION["users"]),
        },
    )


def _session_numbers(ids: np.ndarray) -> np.ndarray:
    """Rule sessions of one example numbered 1, 2, ... in time order."""
    _, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse.reshape(-1)] + 1


def _bridge(
    user: np.ndarray, ts: np.ndarray, plat: np.ndarray, rule: np.ndarray, causes: np.ndarray, *, defn: Any
) -> list[BridgeTerm]:
    """Platform sessions -> rule sessions, term by term (an identity: checked)."""
    # The bridge, in (user, time) order; ties keep file order as sessionize does.
    order = np.lexsort((ts, user))
    u, p, c = user[order], plat[order], causes[order]
    first = np.ones(len(u), bool)
    first[1:] = u[1:] != u[:-1]
    plat_start = first.copy()
    plat_start[1:] |= p[1:] != p[:-1]
    rule_start = c != 0
    runs = int(plat_start.sum())
    n_plat = len(np.unique(plat))
    terms = [BridgeTerm("platform sessions", n_plat, "sessions the platform assigned (distinct user, id)")]
    terms.append(BridgeTerm("interleaved", runs - n_plat, MEANINGS["interleaved"]))
    rule_only = rule_start & ~plat_start
    for cause in SplitCause:
        if cause in (SplitCause.CONTINUES, SplitCause.NEW_USER):
            continue
        n = int((rule_only & (c == int(cause))).sum())
        if n:
            terms.append(
                BridgeTerm(cause.name.lower(), n, MEANINGS.get(cause.name.lower(), cause.name.lower()))
            )
    plat_only = int((plat_start & ~rule_start).sum())
    terms.append(BridgeTerm("platform_split", -plat_only, MEANINGS["platform_split"]))
    n_rule = len(np.unique(rule))
    assert sum(t.count for t in terms) == n_rule, "the bridge is an identity"
    terms.append(BridgeTerm("rule sessions", n_rule, f"sessions under {defn.name}: {defn.describe()}"))

    return terms


def _first_term(plat: np.ndarray, causes: np.ndarray) -> tuple[str, int]:
    """One user's rows in time order: the bridge term at the earliest start the two sides disagree on.

    A start only the rule makes is named by the rule's split cause; a start only the platform makes
    is ``interleaved`` when the platform returns to an id it used before, else ``platform_split``.
    """
    p_start = np.ones(len(plat), bool)
    p_start[1:] = plat[1:] != plat[:-1]
    r_start = causes != 0
    d = int(np.flatnonzero(p_start != r_start)[0])
    if r_start[d]:
        return SplitCause(int(causes[d])).name.lower(), d
    return ("interleaved" if plat[d] in plat[:d] else "platform_split"), d


def _checks(table: pa.Table, ts: np.ndarray, defn: Any) -> dict[str, Any]:
    """Export sanity checks (counts of events or sessions), each with its plain meaning."""
    cols = {
        name: table.column(name).to_pylist() for name in ("user_id", "event_name", "medium", "gclid", "page")
    }
    cols["referrer"] = table.column("referrer").to_pylist()
    cols["sid"] = table.column("platform_session_id").to_pylist()
    n = table.num_rows
    gclid_not_cpc = sum(1 for g, m in zip(cols["gclid"], cols["medium"], strict=True) if g and m != "cpc")
    # self-referral: the first event of a platform session has a referrer on the site's own host
    # (the host of that event's page) or on a payment provider
    seen: set[tuple[Any, Any]] = set()
    self_ref = payment = 0
    for i in np.argsort(ts, kind="stable"):
        key = (cols["user_id"][i], cols["sid"][i])
        if key[1] is None or key in seen:
            continue
        seen.add(key)
        ref = _host(cols["referrer"][i])
        if ref and ref == _host(cols["page"][i]):
            self_ref += 1
        elif ref and any(ref == h or ref.endswith("." + h) for h in _PAYMENT_HOSTS):
            payment += 1
    # duplicate page views: one user, one page, page_view events less than DUPLICATE_MS apart
    pv = [i for i in range(n) if cols["event_name"][i] == "page_view" and cols["user_id"][i] is not None]
    pv.sort(key=lambda i: (cols["user_id"][i], cols["page"][i] or "", ts[i]))
    dup = sum(
        1
        for a, b in itertools.pairwise(pv)
        if cols["user_id"][a] == cols["user_id"][b]
        and cols["page"][a] == cols["page"][b]
        and 0 <= ts[b] - ts[a] < DUPLICATE_MS
    )
    # gaps at exactly the timeout (to the second) against the mean of the 60 one-second bins each side
    timeouts = [r.timeout for r in defn.rules if getattr(r, "name", "") == "inactivity"]
    spike = None
    if timeouts:
        t0 = timeouts[0]
        users = list(cols["user_id"])
        order = sorted((i for i in range(n) if users[i] is not None), key=lambda i: (users[i], ts[i]))
        gaps = np.array(
            [ts[b] - ts[a] for a, b in itertools.pairwise(order) if users[a] == users[b]], np.int64
        )
        bins = np.floor_divide(gaps - t0, 1000) if len(gaps) else gaps
        at = int((bins == 0).sum())
        around = int(((np.abs(bins) <= _AROUND_S) & (bins != 0)).sum())
        spike = {
            "timeout_ms": t0,
            "gaps_at_timeout": at,
            "mean_per_second_around": round(around / (2 * _AROUND_S), 3),
        }
    return {
        "events_without_session_id": sum(s is None for s in cols["sid"]),
        "events_without_user": sum(u is None for u in cols["user_id"]),
        "gclid_not_cpc": gclid_not_cpc,
        "self_referral_sessions": self_ref,
        "payment_referral_sessions": payment,
        "duplicate_page_views": dup,
        "gap_spike": spike,
    }

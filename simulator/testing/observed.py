"""Observed report series vs the simulation, day by day and campaign by campaign.

Each report row (:mod:`simulator.scenario.observed`) is aligned to one slice of every replication:

* **day** in the reporting system's own time zone — ad reports on the ad account's days
  (``[scenario] ad_timezone``), analytics reports on the property's (``timezone``), Amazon Business
  Reports on Pacific Time (for the scenario's ``amazon`` definition) — counted as
  :func:`simulator.analysis.segments.segment` cuts them;
* **campaign** by name, after the mapping table (report name -> scenario campaign name); a row
  without a campaign counts every campaign. A report campaign that is not in the scenario (after the
  mapping) is named in a notice and not compared.

A day's value is the report's own row without a campaign if it has one, else the sum of its
campaign rows (all campaigns of the report, including unpaid ones like ``(organic)``); a campaign's
value over the range is the sum of its days. Each slice is judged by
:func:`simulator.testing.stats.check_observed`. For a slice outside the band, ``cause`` names the
likeliest explanation: for an ad number, the ad traffic itself (bids, budget, CTR); for an analytics
number, the ad clicks when they are out of band the same way on that day, otherwise the bridge term
whose change explains the gap most cheaply (the smallest relative change of the term's simulated
share of that slice — a term that is zero in the setup cannot explain anything).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.analysis.bridges import VOCABULARY
from simulator.analysis.segments import segment
from simulator.errors import ScenarioError
from simulator.scenario.observed import Report
from simulator.scenario.observed.amazon import PACIFIC
from simulator.testing.stats import ObservedCheck, Replications, check_observed, flatten, replicate

__all__ = ["SliceCheck", "align", "compare_reports", "series_targets"]


@dataclass(frozen=True, slots=True)
class SliceCheck:
    """One day or campaign of a report judged against the simulation."""

    key: str  # ads.clicks, ga4.sessions
    day: dt.date | None
    campaign: str | None
    check: ObservedCheck
    cause: str | None  # for a slice outside the band: the likeliest cause

    @property
    def outside(self) -> bool:
        return self.check.verdict.startswith("not explained")

    def to_dict(self) -> dict[str, Any]:
        out = {"key": self.key, "day": self.day.isoformat() if self.day else None, "campaign": self.campaign}
        return {**out, **{k: v for k, v in self.check.to_dict().items() if k != "key"}, "cause": self.cause}


Target = tuple[str, dt.date | None, str | None]  # (key, day, campaign)


def align(
    reports: Iterable[Report],
    *,
    definition: str,
    amazon: str | None = None,
    campaigns: Iterable[str],
    mapping: Mapping[str, str] | None = None,
) -> tuple[dict[Target, float], list[str]]:
    """Report rows -> ``{(key, day, campaign): value}`` per day and per campaign, and notices."""
    mapping = dict(mapping or {})
    known = set(campaigns)
    out: dict[Target, float] = {}
    notices: list[str] = []
    for report in reports:
        per_day: dict[tuple[str, dt.date], float] = {}
        explicit: dict[tuple[str, dt.date], float] = {}
        per_campaign: dict[tuple[str, str], float] = {}
        explicit_campaign: dict[tuple[str, str], float] = {}
        for row in report.rows:
            if row.system == "amazon" and amazon is None:
                raise ScenarioError(
                    report.path, "", "an Amazon Business Report needs an amazon definition in [sessions]"
                )
            system = {"ads": "ads", "amazon": amazon}.get(row.system, definition)
            key = f"{system}.{row.metric}"
            if row.day is None and row.campaign is None:  # range totals (by Child Item)
                out[(key, None, None)] = round(out.get((key, None, None), 0.0) + row.value, 9)
                continue
            if row.day is not None and not (row.metric == "users" and row.campaign is not None):
                bucket = explicit if row.campaign is None else per_day
                bucket[(key, row.day)] = bucket.get((key, row.day), 0.0) + row.value
            if row.campaign is not None:
                name = mapping.get(row.campaign, row.campaign)
                if name not in known:
                    msg = f"{report.path}: campaign {row.campaign!r} is not in the scenario; in days only"
                    if msg not in notices:
                        notices.append(msg)
                    continue
                bucket_c = explicit_campaign if row.day is None else per_campaign
                if row.metric == "users" and row.day is not None:
                    continue  # users do not add up over days
                bucket_c[(key, name)] = bucket_c.get((key, name), 0.0) + row.value
        for (key, day), value in {**per_day, **explicit}.items():
            out[(key, day, None)] = round(value, 9)
        for (key, name), value in {**per_campaign, **explicit_campaign}.items():
            out[(key, None, name)] = round(value, 9)
    return out, notices


def _observe(scenario: Any, targets: list[Target], amazon: str | None) -> Any:
    def zone(key: str) -> str:
        return PACIFIC if amazon is not None and key.startswith(f"{amazon}.") else scenario.timezone

    slices = sorted({(d, c, zone(k)) for k, d, c in targets}, key=lambda s: (str(s[0]), str(s[1]), s[2]))

    def observe(result: Any) -> dict[str, float | None]:
        values: dict[str, float | None] = {}
        for day, campaign, tz in slices:
            seg = segment(result, timezone=tz, ad_timezone=scenario.ad_timezone, day=day, campaign=campaign)
            for key, d, c in targets:
                if (d, c, zone(key)) == (day, campaign, tz):
                    system, _, metric = key.partition(".")
                    v = seg.metric(metric, None if system == "ads" else system)
                    values[_name(key, d, c)] = None if v is None else float(v)
        values.update({k: v for k, v in flatten(result).items() if ".bridge." in k or k.count(".") == 1})
        return values

    return observe


def _name(key: str, day: dt.date | None, campaign: str | None) -> str:
    return f"{key}@{day.isoformat() if day else ''}@{campaign or ''}"


def _cause(t: Target, check: ObservedCheck, reps: Replications, checks: dict[Target, ObservedCheck]) -> str:
    key, day, campaign = t
    system, _, metric = key.partition(".")
    direction = "more" if check.observed > (check.mean or 0) else "fewer"
    if system == "ads":
        return (
            f"the ad traffic itself: the platform counted {direction} {metric} "
            "(bids, budget, CTR, invalid-click filtering)"
        )
    clicks = checks.get(("ads.clicks", day, campaign))
    if (
        clicks is not None
        and clicks.verdict.startswith("not explained")
        and (clicks.observed > (clicks.mean or 0)) == (check.observed > (check.mean or 0))
    ):
        return (
            f"the ad clicks: the ad report is out of band the same way on this {'day' if day else 'campaign'}"
        )
    if metric != "sessions":
        sessions = checks.get((f"{system}.sessions", day, campaign))
        if (
            sessions is not None
            and sessions.verdict.startswith("not explained")
            and (sessions.observed > (sessions.mean or 0)) == (check.observed > (check.mean or 0))
        ):
            return f"the sessions: {system}.sessions is out of band the same way on this slice"
        return f"{metric} per session: the setup's visits produce {direction} {metric} than the report"
    gap = check.observed - (check.mean or 0.0)
    total = reps.values.get(key)
    share = 1.0
    if total is not None and check.mean and float(np.nanmean(total)):
        share = check.mean / float(np.nanmean(total))
    best: tuple[float, str] | None = None
    for cause in VOCABULARY:
        vals = reps.values.get(f"{system}.bridge.{cause}")
        if vals is None:
            continue
        term = float(np.nanmean(vals)) * share
        if term == 0 or (term + gap) * term < 0:
            continue  # a term only grows or shrinks towards zero: it cannot change sign
        change = abs(gap / term)  # relative change of the term that closes the gap
        if best is None or change < best[0]:
            way = "larger" if abs(term + gap) > abs(term) else "smaller"
            best = (
                change,
                f"{cause!r} ({VOCABULARY[cause]}) {change:.0%} {way} than the setup has it "
                f"(its share here {term:+.1f} "
                f"{system} sessions, needed {term + gap:+.1f})",
            )
    return best[1] if best else "no bridge term of the setup can explain it: check the report or the setup"


def series_targets(
    scenario: Any, reports: Iterable[Report], mapping: Mapping[str, str] | None = None
) -> tuple[dict[str, float], Any]:
    """For calibrate: ``({slice key: observed value}, observe(result) -> {slice key: value})``."""
    definition = scenario.definitions[0]
    amazon = next((d.name for d in scenario.sessions if d.name == "amazon"), None)
    names = [c.name for c in getattr(scenario, "campaigns", ())]
    observed, _ = align(reports, definition=definition, amazon=amazon, campaigns=names, mapping=mapping)
    targets = sorted(observed, key=lambda t: (t[0], str(t[1]), str(t[2])))
    observe = _observe(scenario, targets, amazon)
    keys = [_name(*t) for t in targets]

    def slices(result: Any) -> dict[str, float | None]:
        values = observe(result)
        return {k: values.get(k) for k in keys}

    return {_name(*t): observed[t] for t in targets}, slices


def compare_reports(
    scenario: Any,
    reports: Iterable[Report],
    *,
    replications: int,
    seed: int | None = None,
    confidence: float = 0.95,
    mapping: Mapping[str, str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[list[SliceCheck], list[str]]:
    """Judge every day and campaign of ``reports`` against ``replications`` runs of ``scenario``.

    ``on_progress`` is called with 1 after each replication (for a progress bar).
    """
    reports = list(reports)
    definition = scenario.definitions[0]
    amazon = next(
        (d.name for d in scenario.sessions if "amazon" in (d.name, getattr(d, "preset", None))), None
    )
    names = [c.name for c in getattr(scenario, "campaigns", ())]
    observed, notices = align(reports, definition=definition, amazon=amazon, campaigns=names, mapping=mapping)
    for report in reports:
        notices = [*report.notices, *notices]
    targets = sorted(observed, key=lambda t: (t[0], str(t[1]), str(t[2])))
    observe = _observe(scenario, targets, amazon)
    reps = replicate(scenario, replications, seed=seed, observe=observe, on_progress=on_progress)
    checks = {
        t: check_observed(reps.values.get(_name(*t), np.array([])), observed[t], _name(*t), confidence)
        for t in targets
    }
    out = []
    for t in targets:
        c = checks[t]
        cause = _cause(t, c, reps, checks) if c.verdict.startswith("not explained") else None
        out.append(SliceCheck(t[0], t[1], t[2], c, cause))
    return out, notices

"""Property test: on random scripted scenarios, every bridge of every definition is an exact identity
and each term equals a count taken from the event log by a plain per-row loop written here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import available_definitions, loads_scenario, run_log, simulate
from simulator.analysis.bridges import split_table
from simulator.analysis.comparisons import compare_definitions
from simulator.log.events import ARRIVALS, Cause, Kind, Loss
from simulator.scenario.loader import LOSSES as SCRIPTED_LOSSES
from simulator.sessions import Definition, SplitCause
from simulator.sessions.rules import Inactivity

ZONES = ("UTC", "America/New_York", "Europe/Berlin", "Asia/Kathmandu", "Australia/Lord_Howe")
#: Near midnight and DST changes, so landings cross midnight and days last 23 or 25 hours.
STARTS = ("2024-03-09T23:59:58", "2024-11-02T23:59:50", "2024-05-01T23:59:59", "2024-10-26T23:40:00")
#: Short gaps (same session) twice as likely as the boundaries and long pauses.
GAPS = ("0s", "1s", "10s", "1m", "5m") * 3 + (
    "29m59s",
    "30m",
    "30m1s",
    "45m",
    "2h",
    "2h1s",
    "3h",
    "23h",
    "1d",
)
#: Actions by state, repeated for weight: mostly clicks and pages, some returns, rare cookie clearing.
IDLE = ("click",) * 5 + ("return",) * 2 + ("impression", "clear_cookies")
VISITING = (
    ("click",) * 4 + ("view",) * 4 + ("reload", "tab", "convert", "leave", "leave", "bookmark", "return")
)
LOSSES = SCRIPTED_LOSSES  # the loss reasons a scripted step can name
CAMPAIGNS = ("a", "a", "a", "b", "c")
#: Ad-hoc definitions besides the registered ones.
AD_HOC = (
    Definition("adhoc_10m", (Inactivity(10 * 60_000, "same"),), "10-minute inactivity"),
    Definition("adhoc_1h_new", (Inactivity(3_600_000, "new"),), "1 hour, exact gap splits"),
)
JOINED = {
    Cause.REPEAT_CLICK: "repeat_click",
    Cause.NEW_TAB_CLICK: "new_tab_click",
    Cause.SECOND_AD: "second_ad",
    Cause.AD_CLICK: "click_in_open_session",
}


def _untracked(draw) -> str:
    if draw(st.integers(0, 5)) == 0:
        return f', tag = false, loss = "{draw(st.sampled_from(LOSSES))}"'
    return ""


def _click(draw, visiting: bool) -> tuple[str, bool]:
    """A click's keys and whether a visit is open after it."""
    text = ""
    if visiting and draw(st.booleans()):
        text += ", tab = true"
    if draw(st.integers(0, 7)) == 0:
        text += ", lands = false"
    else:
        text += _untracked(draw)
        visiting = True
    return text + f', load = "{draw(st.sampled_from(["0s", "2s", "30s"]))}"', visiting


def _step(draw, visiting: bool, bookmarked: bool) -> tuple[str, bool, bool]:
    """One random valid step (TOML inline table) and the visit/bookmark state after it."""
    do = draw(st.sampled_from(VISITING if visiting else IDLE))
    text = f'do = "{do}"'
    if do in ("click", "impression"):
        text += f', campaign = "{draw(st.sampled_from(CAMPAIGNS))}"'
        text += ", invalid = true" if draw(st.integers(0, 6)) == 0 else ""
    if do == "click":
        more, visiting = _click(draw, visiting)
        text += more
    elif do in ("view", "reload", "tab", "convert"):
        text += _untracked(draw)
    elif do == "return":
        vias = ["direct", "organic", "referral", "email"] + ["bookmark"] * bookmarked
        text += f', via = "{draw(st.sampled_from(vias))}"' + _untracked(draw)
        visiting = True
    visiting = visiting and do != "leave"
    bookmarked = bookmarked or do == "bookmark"
    if do in ("click", "return", "view") and draw(st.integers(0, 5)) == 0:
        text += ', device = "tablet"'
    return f'  {{ after = "{draw(st.sampled_from(GAPS))}", {text} }},', visiting, bookmarked


@st.composite
def journey(draw, index: int) -> str:
    """One random [[journey]] table: a valid timeline of clicks, views, returns, losses..."""
    steps, visiting, bookmarked = [], False, False
    if draw(st.booleans()):  # a click just before midnight whose page loads after it
        load = draw(st.sampled_from(["2s", "30s"]))
        steps.append(f'  {{ after = "0s", do = "click", campaign = "a", load = "{load}" }},')
        visiting = True
    for _ in range(draw(st.integers(1, 12))):
        step, visiting, bookmarked = _step(draw, visiting, bookmarked)
        steps.append(step)
    tracking = draw(st.sampled_from(["ok"] * 6 + ["blocked", "no_consent"]))
    start = draw(st.sampled_from(STARTS))
    return (
        f'[[journey]]\nname = "j{index}"\ncount = {draw(st.integers(1, 2))}\ntracking = "{tracking}"\n'
        f"start = {start}\nsteps = [\n" + "\n".join(steps) + "\n]\n"
    )


@st.composite
def scenario(draw) -> tuple[str, str, str]:
    tz, ad_tz = draw(st.sampled_from(ZONES)), draw(st.sampled_from(ZONES))
    journeys = "".join(draw(journey(i)) for i in range(draw(st.integers(1, 4))))
    defs = ", ".join(f'"{d}"' for d in available_definitions())
    text = (
        f'[scenario]\nname = "random"\ntimezone = "{tz}"\nad_timezone = "{ad_tz}"\n'
        f"[sessions]\ndefinitions = [{defs}]\n{journeys}"
    )
    return text, tz, ad_tz


# --- the independent, per-row computation ------------------------------------------------------


def _date(ts_ms: int, zone: str) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ms / 1000, ZoneInfo(zone)).date()


def _split_name(code: int) -> str:
    return "new_user_mid_visit" if code == SplitCause.NEW_USER else SplitCause(code).label


def expected_click_items(log, hits, split, tz: str) -> list[tuple[str, int, dt.date]]:
    """(cause, delta, property day) for every counted click not opening a session, every session
    not opened by a counted click, and each opening click whose landing falls on another day."""
    items = []
    click_row = {}
    for i in range(len(log)):
        if log.kind[i] == Kind.CLICK and log.counted[i]:
            click_row[int(log.click[i])] = i
            if log.loss[i] != Loss.NONE:
                items.append((Loss(int(log.loss[i])).label, -1, _date(int(log.ts[i]), tz)))
    for pos, i in enumerate(hits.tolist()):
        starts = split[pos] != SplitCause.CONTINUES
        cid = int(log.click[i])
        landing = log.kind[i] == Kind.PAGEVIEW and cid >= 0
        day = _date(int(log.ts[i]), tz)
        if landing and cid in click_row and log.loss[click_row[cid]] == Loss.NONE:
            click_day = _date(int(log.ts[click_row[cid]]), tz)
            if not starts:
                items.append((JOINED[Cause(int(log.cause[i]))], -1, click_day))
            elif click_day != day:
                items += [("landed_next_day", -1, click_day), ("landed_next_day", 1, day)]
        elif starts:
            if landing:
                items.append(("invalid_click", 1, day))
            elif Cause(int(log.cause[i])) in ARRIVALS:
                items.append((Cause(int(log.cause[i])).label, 1, day))
            else:
                items.append((_split_name(int(split[pos])), 1, day))
    return items


def _nonzero(counter: Counter) -> dict[str, int]:
    return {k: v for k, v in counter.items() if v}


def check_clicks_bridge(log, hits, block, tz):
    bridge = block.bridge
    assert bridge.start + sum(t.delta for t in bridge.terms) == bridge.end
    assert bridge.start == sum(1 for i in range(len(log)) if log.kind[i] == Kind.CLICK and log.counted[i])
    assert bridge.end == block.counts.sessions == sum(1 for s in block.split if s)
    expected = Counter()
    for cause, delta, _ in expected_click_items(log, hits, block.split, tz):
        expected[cause] += delta
    assert {t.cause: t.delta for t in bridge.terms} == _nonzero(expected)


def check_views_bridge(log, hits, block):
    bridge = block.views_bridge
    assert bridge.start + sum(t.delta for t in bridge.terms) == bridge.end
    assert bridge.start == block.counts.views
    expected = Counter()
    for pos, i in enumerate(hits.tolist()):
        starts, view = block.split[pos] != 0, log.kind[i] == Kind.PAGEVIEW
        if view and not starts:
            cause = Cause(int(log.cause[i]))
            expected[JOINED.get(cause, cause.label)] -= 1
        elif starts and not view:
            expected[f"{Kind(int(log.kind[i])).name.lower()}_first"] += 1
    assert {t.cause: t.delta for t in bridge.terms} == _nonzero(expected)


def check_days(log, hits, block, tz, ad_tz):
    expected: dict[dt.date, Counter] = {}
    starts, ends = Counter(), Counter()
    for i in range(len(log)):
        if log.kind[i] == Kind.CLICK and log.counted[i]:
            ad_day, prop_day = _date(int(log.ts[i]), ad_tz), _date(int(log.ts[i]), tz)
            starts[ad_day] += 1
            expected.setdefault(ad_day, Counter())["timezone_shift"] -= 1
            expected.setdefault(prop_day, Counter())["timezone_shift"] += 1
    for pos, i in enumerate(hits.tolist()):
        if block.split[pos]:
            ends[_date(int(log.ts[i]), tz)] += 1
    for cause, delta, day in expected_click_items(log, hits, block.split, tz):
        expected.setdefault(day, Counter())[cause] += delta
    days = {d.day: d.bridge for d in block.days}
    assert set(days) >= set(starts) | set(ends)
    for day, bridge in days.items():
        assert bridge.start + sum(t.delta for t in bridge.terms) == bridge.end
        assert (bridge.start, bridge.end) == (starts[day], ends[day])
        assert {t.cause: t.delta for t in bridge.terms} == _nonzero(expected.get(day, Counter()))


def check_comparison(split_a, split_b):
    bridge = compare_definitions(split_a, split_b).bridge
    expected = Counter()
    for a, b in zip(split_a.tolist(), split_b.tolist(), strict=True):
        if b and not a:
            expected[f"split_{SplitCause(b).label}"] += 1
        elif a and not b:
            expected[f"merged_{SplitCause(a).label}"] -= 1
    assert bridge.start == int(np.count_nonzero(split_a))
    assert bridge.end == int(np.count_nonzero(split_b))
    assert bridge.start + sum(t.delta for t in bridge.terms) == bridge.end
    assert {t.cause: t.delta for t in bridge.terms} == _nonzero(expected)


def check_impressions(log, ad):
    imp, raw, valid = Counter(), Counter(), Counter()
    for i in range(len(log)):
        c = int(log.campaign[i])
        if log.kind[i] == Kind.IMPRESSION and log.counted[i]:
            imp[c] += 1
        if log.kind[i] == Kind.CLICK:
            raw[c] += 1
            valid[c] += bool(log.counted[i])
    campaigns = set(imp) | set(raw)
    expected = Counter()
    for c in campaigns:
        expected["no_click"] -= max(imp[c] - raw[c], 0)
        expected["click_without_impression"] += max(raw[c] - imp[c], 0)
        expected["invalid_click"] -= raw[c] - valid[c]
    bridge = ad.bridge
    assert (bridge.start, bridge.end) == (sum(imp.values()), sum(valid.values()))
    assert bridge.start + sum(t.delta for t in bridge.terms) == bridge.end
    assert {t.cause: t.delta for t in bridge.terms} == _nonzero(expected)
    rows = {r.campaign: (r.impressions, r.clicks, r.invalid_clicks) for r in ad.campaigns}
    assert rows == {log.campaign_name(c): (imp[c], valid[c], raw[c] - valid[c]) for c in campaigns}


def check_split_table(log, hits, block):
    table = split_table(log, hits, block.split)
    current = ""
    for pos in range(len(hits)):
        if block.split[pos]:
            current = SplitCause(int(block.split[pos])).label
        assert table["split_cause"][pos] == current
    assert table["session"].tolist() == (np.cumsum(block.split != 0) - 1).tolist()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_every_bridge_is_exact_and_each_term_is_a_count_from_the_log(drawn):
    """For every registered definition and two ad-hoc ones: all bridges add up, term by term."""
    text, tz, ad_tz = drawn
    log = simulate(loads_scenario(text))
    result = run_log(log, (*available_definitions(), *AD_HOC), timezone=tz, ad_timezone=ad_tz)
    hits = result.hits
    for block in result.definitions.values():
        check_clicks_bridge(log, hits, block, tz)
        check_views_bridge(log, hits, block)
        check_days(log, hits, block, tz, ad_tz)
        check_split_table(log, hits, block)
    splits = [b.split for b in result.definitions.values()]
    for a in splits:
        for b in splits:
            check_comparison(a, b)
    check_impressions(log, result.ad_bridge)

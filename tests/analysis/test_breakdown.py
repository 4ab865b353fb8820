"""Cost per session by campaign, device, hour, network and channel: attribution and totals."""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.analysis.breakdown import DIMENSIONS, breakdown, breakdowns, parse_dimensions
from simulator.analysis.result import Result, run
from simulator.analysis.segments import segment
from simulator.cli.main import main
from simulator.log.events import Kind, Source
from simulator.report.directory import write_report
from simulator.report.text import render_json, render_text
from simulator.scenario.loader import load_scenario
from tests._popkit import scenario as quiet

ECOMMERCE = "scenarios/ecommerce_cost_per_session.toml"


@pytest.fixture(scope="module")
def ecommerce() -> Result:
    return run(load_scenario(ECOMMERCE))


def _assert_adds_up(result: Result) -> None:
    for name, dims in breakdowns(result, DIMENSIONS).items():
        counts = result.definitions[name].counts
        for dim, table in dims.items():
            rows = table.rows
            assert sum(r.sessions for r in rows) == table.total.sessions == counts.sessions, dim
            assert sum(r.clicks for r in rows) == table.total.clicks == result.ads.clicks, dim
            assert sum(r.conversions for r in rows) == table.total.conversions == counts.conversions, dim
            assert sum(r.converting_sessions for r in rows) == counts.converting_sessions, dim
            assert math.isclose(sum(r.cost for r in rows), result.ads.cost, rel_tol=1e-12, abs_tol=1e-9), dim
            assert len({r.segment for r in rows}) == len(rows), dim


@pytest.mark.parametrize(
    "path", ["scenarios/why_numbers_differ.toml", "scenarios/amazon_clicks_vs_sessions.toml", ECOMMERCE]
)
def test_segments_add_up_to_the_totals_on_bundled_scenarios(path: str) -> None:
    """Sessions, clicks, conversions and cost of every dimension's rows sum to the run's totals."""
    _assert_adds_up(run(load_scenario(path)))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries(
        {
            "idle": st.sampled_from([0.0, 0.3]),
            "returns": st.sampled_from([0.0, 0.5]),
            "blockers": st.sampled_from([0.0, 0.4]),
            "consent_mode": st.sampled_from(["basic", "advanced"]),
            "convert": st.sampled_from([0.0, 0.3]),
            "second": st.booleans(),
            "seed": st.integers(0, 10_000),
        }
    )
)
def test_segments_add_up_for_random_populations(m: dict) -> None:
    """Property: for random mechanisms and seeds, every breakdown adds up to the totals."""
    idle, returns, blockers, convert, second = (
        m[k] for k in ("idle", "returns", "blockers", "convert", "second")
    )
    seed, consent_mode = m["seed"], m["consent_mode"]
    campaigns = [{"name": "search", "share": 0.5, "ctr": 0.5, "cpc": 1.0, "invalid_rate": 0.1}]
    if second:
        campaigns.append({"name": "social", "network": "meta", "share": 0.3, "ctr": 0.01, "cpm": 6.0})
    sc = quiet(
        scenario={"seed": seed, "timezone": "America/New_York"},
        population={
            "visitors": 150,
            "devices": {"desktop": 1, "mobile": 1},
            "unpaid": {"organic": 1, "direct": 1},
        },
        campaign=campaigns,
        behavior={
            "idle": idle,
            "returns": returns,
            "convert": convert,
            "repeat_click": 0.2,
            "second_ad": 0.2,
        },
        tracking={"blockers": blockers, "consent": 0.6, "consent_mode": consent_mode},
    )
    _assert_adds_up(run(sc))


def test_campaign_and_device_rows_equal_the_segments_of_expectations(ecommerce: Result) -> None:
    """Each campaign and device row equals segment(), an independent count through analytics_counts."""
    tz = {"timezone": ecommerce.timezone, "ad_timezone": ecommerce.ad_timezone}
    for dim in ("campaign", "device"):
        for row in breakdown(ecommerce, dim).rows:
            if row.segment == "(none)":
                continue
            seg = segment(ecommerce, **{dim: row.segment}, **tz)
            assert (seg.metric("clicks"), seg.metric("sessions", "ga4")) == (row.clicks, row.sessions)
            assert seg.metric("conversions", "ga4") == row.conversions
            assert seg.metric("cost") == row.cost  # the same float: the same rows summed the same way
            assert seg.metric("cost_per_session", "ga4") == row.cost_per_session


def test_hour_and_channel_follow_the_first_hit_and_the_ad_row(ecommerce: Result) -> None:
    """Per-row zoneinfo loop: sessions by local hour and source of their first hit, cost by ad row."""
    log, hits, split = ecommerce.log, ecommerce.hits, ecommerce.definitions["ga4"].split
    zone = ZoneInfo(ecommerce.timezone)

    @functools.cache
    def minute_hour(minute: int) -> str:
        return f"{dt.datetime.fromtimestamp(minute * 60, zone).hour:02d}"

    def hour(ts: int) -> str:
        return minute_hour(ts // 60_000)

    sessions: dict[str, int] = {}
    channels: dict[str, int] = {}
    for row in hits[split != 0].tolist():
        sessions[hour(int(log.ts[row]))] = sessions.get(hour(int(log.ts[row])), 0) + 1
        src = Source(int(log.source[row]))
        label = "(none)" if src == Source.NONE else src.name.lower()
        channels[label] = channels.get(label, 0) + 1
    cost: dict[str, float] = {}
    for row in np.flatnonzero(log.counted & np.isin(log.kind, (Kind.IMPRESSION, Kind.CLICK))).tolist():
        cost[hour(int(log.ts[row]))] = cost.get(hour(int(log.ts[row])), 0.0) + float(log.cost[row])
    by_hour = breakdown(ecommerce, "hour")
    assert [r.segment for r in by_hour.rows] == [f"{h:02d}" for h in range(24)]
    for r in by_hour.rows:
        assert r.sessions == sessions.get(r.segment, 0)
        assert r.cost == pytest.approx(cost.get(r.segment, 0.0), rel=1e-9, abs=1e-9)
    by_channel = breakdown(ecommerce, "channel")
    assert {r.segment: r.sessions for r in by_channel.rows} == channels
    assert by_channel.rows[-1].segment == "(none)"
    paid = by_channel.row("paid")
    assert (paid.clicks, paid.cost) == (ecommerce.ads.clicks, pytest.approx(ecommerce.ads.cost))
    assert by_channel.row("organic").cost_per_session is None  # nothing bought: n/a, not 0
    assert by_channel.row("organic").cost == 0.0


def test_network_rows_group_campaigns_by_network(ecommerce: Result) -> None:
    """Networks come from [[campaign]] network; campaigns without one are (none)."""
    by_network = {r.segment: r for r in breakdown(ecommerce, "network").rows}
    by_campaign = {r.segment: r for r in breakdown(ecommerce, "campaign").rows}
    assert list(by_network) == ["google_ads", "microsoft_ads", "meta", "tiktok_ads", "(none)"]
    assert by_network["meta"].sessions == by_campaign["meta-prospecting"].sessions
    assert by_network["(none)"].cost_per_session is None


def test_parse_dimensions_names_the_allowed_ones() -> None:
    """'all' expands; an unknown name is an error listing the allowed names."""
    assert parse_dimensions("all") == DIMENSIONS
    assert parse_dimensions("device, hour") == ("device", "hour")
    with pytest.raises(ValueError, match="unknown dimension 'country'; allowed: campaign, device"):
        parse_dimensions("campaign,country")


def test_json_has_breakdowns_only_when_asked(ecommerce: Result, tmp_path) -> None:
    """Without breakdowns the JSON bytes are unchanged; with them, a last key 'breakdowns'."""
    plain = render_json(ecommerce)
    assert "breakdowns" not in json.loads(plain)
    doc = json.loads(render_json(ecommerce, breakdowns(ecommerce, ("campaign", "channel"))))
    assert list(doc)[-1] == "breakdowns"
    table = doc["breakdowns"]["ga4"]["campaign"]
    assert table["total"]["sessions"] == ecommerce.metric("sessions", "ga4")
    assert {r["segment"] for r in table["rows"]} >= {"meta-prospecting", "(none)"}
    assert set(table["rows"][0]) == {
        "segment",
        "cost",
        "clicks",
        "sessions",
        "cost_per_session",
        "conversions",
        "conversion_rate",
        "engaged_sessions",
        "engagement_rate",
    }
    text = render_text(ecommerce, "ascii", breakdowns(ecommerce, ("device",)))
    assert "cost per session by device (ga4)" in text
    assert render_text(ecommerce, "ascii").count("cost per session by") == 0
    write_report(ecommerce, tmp_path, "", breakdowns(ecommerce, ("network",)))
    md = (tmp_path / "report.md").read_text()
    assert "## Cost per session by segment" in md
    assert "### By network (ga4)" in md
    assert "| **total** |" in md


def test_cli_breakdown_option(capsys) -> None:
    """run --breakdown prints a table per dimension; an unknown dimension exits 2 with one line."""
    path = "scenarios/why_numbers_differ.toml"
    assert main(["run", path, "--breakdown", "campaign,channel"]) == 0
    out = capsys.readouterr().out
    assert "cost per session by campaign" in out
    assert "cost per session by channel" in out
    with pytest.raises(SystemExit) as stop:
        main(["run", path, "--breakdown", "country"])
    assert stop.value.code == 2
    assert "unknown dimension 'country'" in capsys.readouterr().err


@pytest.mark.parametrize("dimension", ["campaign", "device", "hour", "channel"])
def test_engaged_sessions_of_the_segments_add_up_to_the_run(ecommerce: Result, dimension: str) -> None:
    table = breakdown(ecommerce, dimension)
    engaged = ecommerce.metric("engaged_sessions", "ga4")
    assert 0 < engaged < ecommerce.metric("sessions", "ga4")
    assert sum(r.engaged_sessions for r in table.rows) == table.total.engaged_sessions == engaged
    assert table.total.engagement_rate == ecommerce.metric("engagement_rate", "ga4")

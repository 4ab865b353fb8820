"""Expectation forms, the comparison grammar and the pass rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.analysis.metrics import AD_METRICS
from simulator.scenario.assertions import (
    Comparison,
    Form,
    MetricRef,
    comparison_interval_passes,
    interval_passes,
    parse_comparison,
    parse_ref,
    point_passes,
)


def _is_ad(metric: str) -> bool:
    return metric in AD_METRICS


def test_point_forms_include_their_bounds() -> None:
    """between, at_least and at_most are inclusive; equals tolerates float noise only."""
    assert point_passes(Form.between(1, 2), 1)
    assert point_passes(Form.between(1, 2), 2)
    assert not point_passes(Form.between(1, 2), 2.01)
    assert point_passes(Form.at_least(5), 5)
    assert not point_passes(Form.at_least(5), 4.999)
    assert point_passes(Form.at_most(5), 5)
    assert not point_passes(Form.at_most(5), 5.001)
    assert point_passes(Form.equals(0.8), 8000 / 10000)
    assert point_passes(Form.equals(0.3), 0.1 + 0.2)
    assert not point_passes(Form.equals(0.3), 0.3001)


def test_approx_takes_the_larger_of_rel_and_abs() -> None:
    """approx 100 with rel 5 % and abs 2 allows [95, 105]; with abs 10 it allows [90, 110]."""
    assert (Form.approx(100, rel=0.05, abs_=2).lo, Form.approx(100, rel=0.05, abs_=2).hi) == (95, 105)
    assert (Form.approx(100, rel=0.05, abs_=10).lo, Form.approx(100, rel=0.05, abs_=10).hi) == (90, 110)
    assert point_passes(Form.approx(-100, rel=0.1), -91)


def test_interval_fails_only_when_entirely_outside() -> None:
    """The interval rule: consistent unless the whole interval lies outside the allowed range."""
    assert interval_passes(Form.equals(10), 9, 11)
    assert not interval_passes(Form.equals(10), 10.5, 11)
    assert interval_passes(Form.at_least(10), 5, 10)
    assert not interval_passes(Form.at_least(10), 5, 9.9)
    assert interval_passes(Form.at_most(10), 10, 20)
    assert not interval_passes(Form.at_most(10), 10.1, 20)
    assert interval_passes(Form.between(0, 1), 0.9, 3)
    assert not interval_passes(Form.between(0, 1), -3, -0.1)


@given(
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
)
def test_a_point_interval_judges_like_a_single_value(lo: float, width: float, x: float) -> None:
    """With zero spread (deterministic runs) the interval rule is the single-value rule."""
    form = Form.between(lo, lo + abs(width))
    assert interval_passes(form, x, x) == point_passes(form, x)


def test_comparison_interval_rule_on_differences() -> None:
    """A comparison over replications is judged on the interval of left - right."""
    gt = Comparison(MetricRef("sessions", "a"), ">", MetricRef("sessions", "b"))
    assert comparison_interval_passes(gt, -1, 2)
    assert not comparison_interval_passes(gt, -3, 0)
    eq = Comparison(MetricRef("sessions", "a"), "==", MetricRef("sessions", "b"))
    assert comparison_interval_passes(eq, -1, 1)
    assert not comparison_interval_passes(eq, 0.5, 1)
    le = Comparison(MetricRef("sessions", "a"), "<=", MetricRef("sessions", "b"))
    assert comparison_interval_passes(le, 0, 4)
    assert not comparison_interval_passes(le, 0.1, 4)


def test_parse_comparison_reads_metrics_and_operators() -> None:
    """'universal_analytics.sessions > ga4.sessions' parses into two references and an operator."""
    cmp = parse_comparison("universal_analytics.sessions > ga4.sessions", _is_ad)
    assert cmp == Comparison(MetricRef("sessions", "universal_analytics"), ">", MetricRef("sessions", "ga4"))
    assert parse_comparison("ads.clicks>=ga4.sessions", _is_ad).op == ">="
    assert parse_comparison("clicks == ga4.bridge.bookmark", _is_ad).right == MetricRef(
        "bridge.bookmark", "ga4"
    )
    assert cmp.holds(7, 6)
    assert not cmp.holds(6, 6)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true') > ga4.sessions",
        "ga4.sessions > 3",
        "ga4.sessions => ua.sessions",
        "ga4.sessions > ua.sessions or 1",
        "ga4.sessions",
        "",
    ],
)
def test_parse_comparison_rejects_anything_else(text: str) -> None:
    """Anything but '<metric> <op> <metric>' is an error naming the allowed operators, never code."""
    with pytest.raises(ValueError, match="expected '<metric> <op> <metric>'"):
        parse_comparison(text, _is_ad)


def test_parse_ref_wants_ads_prefix_for_ad_metrics() -> None:
    """'ga4.clicks' is a mistake: clicks are the ad platform's ('ads.clicks')."""
    assert parse_ref("ads.cpc", _is_ad) == MetricRef("cpc")
    with pytest.raises(ValueError, match=r"write 'ads\.clicks'"):
        parse_ref("ga4.clicks", _is_ad)


def test_form_text_names_the_bounds() -> None:
    """Forms render as readable expectations."""
    assert str(Form.equals(3)) == "3"
    assert str(Form.between(1, 2)) == "in [1, 2]"
    assert str(Form.at_least(4)) == ">= 4"
    assert str(Form.at_most(4)) == "<= 4"
    assert str(Form.approx(10, rel=0.1)) == "approx 10 (allowed [9, 11])"
    assert math.isinf(Form.at_least(4).hi)

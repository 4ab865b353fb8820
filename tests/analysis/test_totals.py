"""Totals merged block by block give the whole run's report (what ``run --engine spark`` relies on)."""

from __future__ import annotations

import random

import pytest

from simulator.analysis.breakdown import breakdowns
from simulator.analysis.result import run
from simulator.analysis.totals import Totals, block_totals, definitions_of, journey_totals, totals_of
from simulator.engine.simulate import setup
from simulator.report.text import render_json, render_text
from simulator.scenario.loader import load_scenario


@pytest.mark.parametrize("name", ["google_ads_vs_ga4", "timezone_mismatch", "amazon_sponsored_products"])
def test_blocks_merged_in_any_order_give_the_local_report(name: str) -> None:
    sc = load_scenario(f"scenarios/{name}.toml")
    want = run(sc, 3, visitors=30_000)
    s = setup(sc, 3, 30_000)
    defs = definitions_of(sc)
    parts = [journey_totals(s, sc, defs), *(block_totals(s, b, defs) for b in range(s.plan.n_blocks))]
    assert len(parts) >= 4
    random.Random(1).shuffle(parts)  # Spark's treeReduce merges in no fixed order
    left, right = parts[: len(parts) // 2], parts[len(parts) // 2 :]
    merged = Totals()
    for part in left:
        merged = merged.merge(part)
    tail = Totals()
    for part in right:
        tail = part.merge(tail)
    got = merged.merge(tail).result(
        sc.name, 3, defs, s.names, timezone=sc.timezone, ad_timezone=sc.ad_timezone
    )
    assert render_json(got) == render_json(want)
    assert render_text(got) == render_text(want)
    assert got.n_events == want.n_events == len(want.log)
    assert not got.has_rows
    with pytest.raises(ValueError, match="rows"):
        breakdowns(got, ["campaign"])
    with pytest.raises(ValueError, match="rows"):
        totals_of(got)

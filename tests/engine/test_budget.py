"""Runs whose rows cannot fit in memory are refused up front, with the numbers; streams never are."""

from __future__ import annotations

import time

import pytest

from simulator.cli.main import main
from simulator.engine import budget
from simulator.engine.budget import check_memory
from simulator.engine.simulate import iter_chunks, simulate
from simulator.errors import ScenarioError
from simulator.scenario.loader import load_scenario, scenario_from_dict
from tests.conftest import SCENARIOS

GIB = 2**30


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 16 GiB available, whatever this one has."""
    monkeypatch.setattr(budget, "available_memory", lambda: 16 * GIB)


def _scripted(count: int) -> dict:
    return {
        "scenario": {"name": "many", "start": "2024-05-01T09:00:00", "timezone": "UTC"},
        "sessions": {"definitions": ["ga4"]},
        "journey": [
            {
                "name": "j",
                "count": count,
                "steps": [
                    {"do": "click", "campaign": "c"},  # a click and its landing view
                    {"after": "1m", "do": "view"},
                ],
            }
        ],
    }


def test_run_of_1e8_visitors_is_refused_before_simulating(small_machine, capsys):
    """`run --visitors 1e8` ends at once (not after 400 s) with exit 2 and one line naming the estimate."""
    started = time.monotonic()
    code = main(["run", str(SCENARIOS / "google_ads_vs_ga4.toml"), "--visitors", "100000000"])
    err = capsys.readouterr().err
    assert code == 2
    assert time.monotonic() - started < 120  # generous: the estimate is one pilot block
    assert len(err.strip().splitlines()) == 1
    assert "too large for this machine's memory: 100,000,000 visitors make at least about" in err
    assert "GiB needed, 16.0 GiB available" in err
    assert "sessionlab simulate FILE --visitors N --out events.parquet" in err


def test_a_stream_of_any_population_is_not_refused(small_machine):
    """simulate --out streams a population: nothing to refuse even at the schema's 10^9 visitors."""
    sc = load_scenario(SCENARIOS / "google_ads_vs_ga4.toml")
    check_memory(sc, sc.seed, 10**9, streaming=True)  # returns: no estimate, no error


def test_scripted_rows_are_counted_exactly(monkeypatch):
    """10^7 copies x 3 rows (click, landing, view) = 3 x 10^7 events, at 300 bytes each = 8.4 GiB."""
    monkeypatch.setattr(budget, "available_memory", lambda: 8 * GIB)
    sc = scenario_from_dict(_scripted(10_000_000))
    with pytest.raises(ScenarioError) as err:
        next(iter_chunks(sc))
    message = str(err.value)
    assert "10,000,000 scripted visitors make 30,000,000 events" in message
    assert f"about {30_000_000 * 300 / GIB:,.1f} GiB needed, 8.0 GiB available" in message
    assert "use smaller journey counts" in message
    monkeypatch.setattr(budget, "available_memory", lambda: 9 * GIB)
    check_memory(sc, 0, None, streaming=True)  # 8.4 GiB fits in 9


def test_the_pilot_estimate_is_a_close_lower_bound():
    """Events per visitor from one pilot block (budgets serving nothing) vs the real run: within 10 %
    below it, so a run that would fit is not refused on its account."""
    sc = load_scenario(SCENARIOS / "google_ads_vs_ga4.toml")
    actual = len(simulate(sc, visitors=100_000))
    estimate = budget._population_events(sc, sc.seed, 100_000)
    assert 0.9 * actual <= estimate <= actual


def test_small_runs_make_no_estimate(monkeypatch):
    """Below 10^5 visitors nothing is estimated (not even the available memory is read)."""

    def boom():
        raise AssertionError("estimated a small run")

    monkeypatch.setattr(budget, "available_memory", boom)
    sc = load_scenario(SCENARIOS / "google_ads_vs_ga4.toml")
    check_memory(sc, sc.seed, 99_999, streaming=False)
    check_memory(scenario_from_dict(_scripted(99_999)), 0, None, streaming=True)

"""Refusing, before any work, a simulation whose rows cannot fit in this machine's memory.

Two things are held in memory whole: the log of an in-memory run (:func:`simulator.simulate`,
``sessionlab run``, ``check``, ``compare`` ...: sessionizing needs every row at once), and the rows of
scripted journeys (one chunk, also when streaming). ``sessionlab simulate --out`` streams a population
chunk by chunk, so its memory is flat and a population of any size is fine there.

The estimate: events per visitor from a pilot block of the population (8,192 visitors, a few tens of
milliseconds, with budgeted campaigns serving nothing: about a lower bound, so a run that would fit
is not refused), events of each scripted journey from one copy of it, times the bytes each event takes
at the peak (measured with ``/usr/bin/time -v`` on ``google_ads_vs_ga4.toml``, 10^4 to 2 x 10^5 visitors:
about 170 bytes per event for ``run``, 280 for the rows of scripted journeys while they are built).
It is compared with the memory the kernel says is available (``MemAvailable``).
"""

from __future__ import annotations

import dataclasses
import os

from simulator.errors import ScenarioError
from simulator.scenario.loader import Scenario

__all__ = ["JOURNEY_BYTES_PER_EVENT", "RUN_BYTES_PER_EVENT", "available_memory", "check_memory"]

#: Peak bytes per event of an in-memory run (log, its sorted copy, session ids and causes).
RUN_BYTES_PER_EVENT = 180
#: Peak bytes per event of scripted journeys' rows while they are built and sorted.
JOURNEY_BYTES_PER_EVENT = 300
#: Below this many scripted copies or population visitors, no estimate is made (it could never matter).
_SMALL = 100_000


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _journey_events(scenario: Scenario) -> int:
    """Rows the scripted journeys emit: one copy of each simulated alone, times its count."""
    from simulator.engine.journeys import simulate_journeys  # noqa: PLC0415 - only for large counts

    total = 0
    for journey in scenario.journeys:
        one = dataclasses.replace(
            scenario, journeys=(dataclasses.replace(journey, count=1),), population=None
        )
        total += len(simulate_journeys(one, 0)) * journey.count
    return total


def _population_events(scenario: Scenario, seed: int, visitors: int) -> float:
    """Events the population will make (about a lower bound): a pilot block's rate times the visitors."""
    from simulator.engine.population import BLOCK, pilot_plan  # noqa: PLC0415
    from simulator.engine.visits import Ids, simulate_block  # noqa: PLC0415

    pilot = pilot_plan(scenario, seed, min(visitors, BLOCK))
    cols, _ = simulate_block(pilot, 0, Ids())
    return len(cols["ts"]) / pilot.visitors * visitors


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_memory(scenario: Scenario, seed: int, visitors: int | None, *, streaming: bool) -> None:
    """Raise :class:`ScenarioError` if the rows held at once would not fit in the available memory.

    ``streaming`` is true for ``iter_chunks`` (only scripted journeys are held whole), false for an
    in-memory simulation (the whole log is).
    """
    copies = sum(j.count for j in scenario.journeys)
    people = (
        0 if scenario.population is None else scenario.population.visitors if visitors is None else visitors
    )
    if copies < _SMALL and (streaming or people < _SMALL):
        return
    available = available_memory()
    if available is None:
        return
    journey_events = _journey_events(scenario) if copies >= _SMALL else 0
    population_events = 0.0 if streaming or people < _SMALL else _population_events(scenario, seed, people)
    need = journey_events * JOURNEY_BYTES_PER_EVENT + population_events * RUN_BYTES_PER_EVENT
    if need <= available:
        return
    parts = []
    if journey_events:
        parts.append(f"{copies:,} scripted visitors make {journey_events:,} events")
    if population_events:
        parts.append(
            f"{people:,} visitors make at least about {int(float(f'{population_events:.3g}')):,} events "
            f"({population_events / people:.1f} per visitor in a pilot block)"
        )
    fix = (
        "stream the population to a file instead (memory stays flat): "
        "sessionlab simulate FILE --visitors N --out events.parquet, then sessionize the file"
        if population_events
        else "use smaller journey counts"
    )
    raise ScenarioError(
        scenario.path,
        "",
        f"too large for this machine's memory: {' and '.join(parts)}, all held at once "
        f"(about {_gib(need)} needed, {_gib(available)} available); {fix}",
    )

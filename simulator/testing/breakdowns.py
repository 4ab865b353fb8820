"""Breakdown tables over replications: each segment's numbers as a mean with a t interval.

``sessionlab run --replications R --breakdown DIMS`` shows, like every other number of a replicated run,
the mean over the R replications and a t interval, not the numbers of one seed. A segment that has no row
in a replication (nothing bought, no session started there) counts as zero cost, clicks, sessions and
conversions in it, so the means of a table still add up to the mean of the totals; its ratios (cost per
session, conversion rate) have no value in that replication and their interval is over the replications
that have one (``n`` says how many).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.analysis.breakdown import breakdowns
from simulator.analysis.result import Result, run
from simulator.testing.stats import Replications, Summary, flatten, replicate

__all__ = ["FIELDS", "BreakdownReplications", "replicate_breakdowns"]

#: The numbers of a segment, as :meth:`simulator.analysis.breakdown.Row.to_dict` names them.
FIELDS = (
    "cost",
    "clicks",
    "sessions",
    "cost_per_session",
    "conversions",
    "conversion_rate",
    "engaged_sessions",
    "engagement_rate",
)
_COUNTS = frozenset(
    {"cost", "clicks", "sessions", "conversions", "engaged_sessions"}
)  # zero where a segment has no row
TOTAL = "total"


def _key(definition: str, dimension: str, segment: str, field: str) -> str:
    return f"breakdown.{definition}.{dimension}.{segment}.{field}"


@dataclass(frozen=True, slots=True)
class BreakdownReplications:
    """Per replication, every segment's numbers; ``layout`` lists the segments of each table in order."""

    reps: Replications
    #: ``{(definition, dimension): (segment, ..., "total")}``, segments in the order first seen.
    layout: Mapping[tuple[str, str], tuple[str, ...]]

    def summary(
        self, definition: str, dimension: str, segment: str, confidence: float = 0.95
    ) -> dict[str, Summary]:
        """Mean, std and t interval of each of :data:`FIELDS` for one segment (``"total"`` for the total)."""
        summary = self.reps.summary(confidence)
        return {f: summary[_key(definition, dimension, segment, f)] for f in FIELDS}

    def to_dict(self, confidence: float = 0.95) -> dict[str, Any]:
        """``{definition: {dimension: {"rows": [{"segment": s, field: summary}], "total": {...}}}}``."""
        out: dict[str, Any] = {}
        for (definition, dimension), segments in self.layout.items():
            rows = [
                {
                    "segment": s,
                    **{f: v.to_dict() for f, v in self.summary(definition, dimension, s, confidence).items()},
                }
                for s in segments
            ]
            out.setdefault(definition, {})[dimension] = {"rows": rows[:-1], "total": rows[-1]}
        return out


def replicate_breakdowns(
    scenario: Any,
    n: int,
    dimensions: Sequence[str],
    *,
    seed: int | None = None,
    runner: Callable[[Any, int], Result] = run,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[Replications, BreakdownReplications]:
    """Replicate ``scenario`` ``n`` times (as :func:`simulator.testing.stats.replicate`, same seeds).

    Returns the replications of every metric (exactly what ``replicate`` gives) and those of the
    breakdown tables by ``dimensions`` (:func:`simulator.analysis.breakdown.breakdowns`).
    """
    layout: dict[tuple[str, str], dict[str, None]] = {}

    def observe(result: Result) -> dict[str, float | None]:
        values: dict[str, float | None] = dict(flatten(result))
        for definition, dims in breakdowns(result, dimensions).items():
            for dimension, table in dims.items():
                segments = layout.setdefault((definition, dimension), {})
                for row in table.rows:
                    segments.setdefault(row.segment, None)
                for row in (*table.rows, table.total):
                    cells = row.to_dict()
                    values.update({_key(definition, dimension, row.segment, f): cells[f] for f in FIELDS})
        return values

    both = replicate(scenario, n, seed=seed, runner=runner, observe=observe, on_progress=on_progress)
    main = {k: v for k, v in both.values.items() if not k.startswith("breakdown.")}
    split: dict[str, np.ndarray] = {}
    order = {key: [*segments, TOTAL] for key, segments in layout.items()}
    for (definition, dimension), segments in order.items():
        for segment in segments:
            for f in FIELDS:
                key = _key(definition, dimension, segment, f)
                values = both.values.get(key, np.full(len(both.seeds), np.nan))
                split[key] = np.nan_to_num(values, nan=0.0) if f in _COUNTS else values
    tables = BreakdownReplications(
        Replications(both.scenario, both.seeds, split), {k: tuple(v) for k, v in order.items()}
    )
    return Replications(both.scenario, both.seeds, main), tables

"""Sessionizing on Spark with the same kernels as the local path (optional extra ``sessionlab[spark]``).

Rows are repartitioned by user, so a user never spans partitions and every rule (midnight in a zone,
campaign change, max duration, max events, fixed window) is exact; each partition is handed to the
numpy kernels of :mod:`simulator.sessions.kernels` as one Arrow table (``mapInArrow``). Nothing here
collects rows to the driver. See docs/scale.md.

Importing this package needs pyspark; without it the import fails with one line naming the extra.
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError('simulator.spark needs pyspark: pip install "sessionlab[spark]"') from None

from simulator.spark.sessionize import (
    CAUSE_SUFFIX,
    EXCLUDED,
    SESSION_SUFFIX,
    column_names,
    count_sessions,
    counts,
    parse_session_id,
    sessionize,
)

__all__ = [
    "CAUSE_SUFFIX",
    "EXCLUDED",
    "SESSION_SUFFIX",
    "column_names",
    "count_sessions",
    "counts",
    "parse_session_id",
    "sessionize",
]

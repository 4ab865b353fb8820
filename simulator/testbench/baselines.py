"""Built-in sessionizers to compare against: sessionlab's own, pandas, Polars, numpy and a DuckDB query.

Apart from ``sessionlab`` (which runs any definition), the baselines implement one inactivity rule --
the definition's timeout and boundary convention -- the way people usually write it in each tool:
sort by (user, time), compare each gap with the timeout, cumulative-sum the session starts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from simulator.errors import SessionlabError
from simulator.sessions import get_definition, sessionize

__all__ = ["BUILTINS", "bind", "duckdb_query", "inactivity_of", "need"]


def inactivity_of(definition: str) -> tuple[int, str]:
    """(timeout_ms, boundary) of a definition made of exactly one inactivity rule; else an error."""
    rules = get_definition(definition).rules
    names = [getattr(r, "name", type(r).__name__) for r in rules]
    if names != ["inactivity"]:
        raise SessionlabError(
            f"the built-in baselines implement one inactivity rule; definition {definition!r} has rules "
            f"{', '.join(names)} (use builtin:sessionlab, or a definition such as 'ga4')"
        )
    rule = rules[0]
    return int(rule.timeout_ms), str(getattr(rule, "boundary", "same"))


def _campaign_codes(campaign: np.ndarray) -> np.ndarray:
    names, inv = np.unique(campaign, return_inverse=True)
    return inv.astype(np.int32) - (1 if len(names) and names[0] == "" else 0)


def sessionlab_ids(
    user_id: np.ndarray,
    timestamp_ms: np.ndarray,
    campaign: np.ndarray,
    *,
    definition: str,
    timezone: str = "UTC",
) -> np.ndarray:
    """sessionlab's own ``sessionize`` (the reference), with campaign names turned into codes.

    ``timezone`` is the property's zone, used by midnight rules that do not name their own.
    """
    return sessionize(user_id, timestamp_ms, definition, _campaign_codes(campaign), timezone=timezone)


def numpy_ids(
    user_id: np.ndarray, timestamp_ms: np.ndarray, campaign: np.ndarray, *, definition: str
) -> np.ndarray:
    """numpy: lexsort by (user, ts), diff, compare, cumsum, scatter back."""
    timeout, boundary = inactivity_of(definition)
    order = np.lexsort((timestamp_ms, user_id))
    u, t = user_id[order], timestamp_ms[order]
    gap = np.diff(t)
    cut = gap > timeout if boundary == "same" else gap >= timeout
    start = np.concatenate(([True], cut | (u[1:] != u[:-1])))
    ids = np.empty(len(t), dtype=np.int64)
    ids[order] = np.cumsum(start) - 1
    return ids


def pandas_ids(
    user_id: np.ndarray, timestamp_ms: np.ndarray, campaign: np.ndarray, *, definition: str
) -> np.ndarray:
    """pandas: sort_values, groupby().diff(), compare, cumsum; aligned back by index."""
    pd = need("pandas")
    timeout, boundary = inactivity_of(definition)
    df = pd.DataFrame({"user": user_id, "ts": timestamp_ms}).sort_values(["user", "ts"], kind="stable")
    gap = df.groupby("user", sort=False)["ts"].diff()
    cut = (gap > timeout) if boundary == "same" else (gap >= timeout)
    start = cut | gap.isna()
    return start.cumsum().sort_index().to_numpy(dtype=np.int64)


def polars_ids(
    user_id: np.ndarray, timestamp_ms: np.ndarray, campaign: np.ndarray, *, definition: str
) -> np.ndarray:
    """Polars (eager): sort, shift, compare, cum_sum; sorted back by row index."""
    pl = need("polars")
    timeout, boundary = inactivity_of(definition)
    gap = pl.col("ts") - pl.col("ts").shift(1)
    cut = (gap > timeout) if boundary == "same" else (gap >= timeout)
    out = (
        pl.DataFrame({"user": user_id, "ts": timestamp_ms})
        .with_row_index("row")
        .sort(["user", "ts", "row"])
        .with_columns(
            ((pl.col("user") != pl.col("user").shift(1)).fill_null(True) | cut.fill_null(True)).alias("s")
        )
        .with_columns(pl.col("s").cum_sum().alias("sid"))
        .sort("row")
    )
    return out["sid"].to_numpy().astype(np.int64)


def duckdb_query(definition: str) -> str:
    """The DuckDB SQL baseline for ``definition`` (one inactivity rule), over ``events``.

    Ties are ordered by ``row_id`` so both windows see the same order (docs/baselines.md: pitfalls).
    """
    timeout, boundary = inactivity_of(definition)
    op = ">" if boundary == "same" else ">="
    return (
        "-- Inactivity sessions: a new session when the gap to the user's previous event is "
        f"{op} {timeout} ms.\n"
        "WITH marked AS (\n"
        "  SELECT row_id, user_id, timestamp_ms,\n"
        "         CASE WHEN LAG(timestamp_ms) OVER w IS NULL\n"
        f"                OR timestamp_ms - LAG(timestamp_ms) OVER w {op} {timeout}\n"
        "              THEN 1 ELSE 0 END AS is_new\n"
        "  FROM events\n"
        "  WINDOW w AS (PARTITION BY user_id ORDER BY timestamp_ms, row_id)\n"
        ")\n"
        "SELECT row_id,\n"
        "       SUM(is_new) OVER (PARTITION BY user_id ORDER BY timestamp_ms, row_id) AS session_id\n"
        "FROM marked\n"
    )


def need(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise SessionlabError(
            f"builtin:{module} needs {module}; install it with: pip install 'sessionlab[bench]'"
        ) from None


#: Built-in Python baselines: name -> function(user_id, timestamp_ms, campaign, *, definition).
#: Only ``sessionlab`` takes ``timezone`` (the others implement one inactivity rule).
#: ``duckdb`` is a SQL baseline (see :func:`duckdb_query`), handled by the SQL adapter.
BUILTINS: dict[str, Callable[..., np.ndarray]] = {
    "sessionlab": sessionlab_ids,
    "numpy": numpy_ids,
    "pandas": pandas_ids,
    "polars": polars_ids,
}


def bind(name: str, definition: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The built-in ``name`` with its definition bound (a plain three-column callable)."""
    return functools.partial(BUILTINS[name], definition=definition)

"""``sessionize`` and ``counts`` on a Spark DataFrame, through the local kernels via Arrow.

How it works: the driver selects the user, the time (as int64 epoch milliseconds), the campaign and a
tie-break row number (``monotonically_increasing_id`` of the input, so rows tied in user and time keep
their input order, as in :func:`simulator.sessions.sessionize`), repartitions by user and runs
``mapInArrow``: each task concatenates its partition into one Arrow table, sorts it by (user, time, row)
and calls :func:`simulator.sessions.kernels.split_causes` once per definition. The partition's rows
come back in that order with two columns per definition.

Session ids are strings derived from the user and the session's first event only, so they are unique
across the DataFrame and do not depend on the number of partitions or on which task ran a user::

    <user>@<epoch ms of the session's first event>          e.g.  "u17@1714557600000"
    <user>@<epoch ms>+<n>                                    the n-th (n >= 1) session of that user
                                                             starting in the same millisecond

(:func:`parse_session_id` reads one back; the part after the last ``@`` is unambiguous whatever the
user id contains.) The split cause is the label of :class:`~simulator.sessions.causes.SplitCause`
(``new_user``, ``inactivity``, ``midnight`` … and ``continues`` on rows inside a session).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F  # noqa: N812 - the conventional name
from pyspark.sql import types as T  # noqa: N812

from simulator.errors import ScenarioError
from simulator.sessions import Definition, get_definition
from simulator.sessions.causes import SplitCause
from simulator.sessions.kernels import Columns, split_causes

__all__ = ["CAUSE_SUFFIX", "SESSION_SUFFIX", "column_names", "counts", "parse_session_id", "sessionize"]

SESSION_SUFFIX = "_session_id"
CAUSE_SUFFIX = "_split_cause"
_USER, _TS, _CAMPAIGN, _ROW = "__sl_user", "__sl_ts", "__sl_campaign", "__sl_row"
_MICROS = {"s": 1_000_000, "ms": 1000, "us": 1}
_LABELS = pa.array([c.label for c in SplitCause])
_ID = re.compile(r"^(.*)@(-?\d+)(?:\+(\d+))?$", re.DOTALL)


def _resolve(definitions: Sequence[str | Definition] | str | Definition) -> list[Definition]:
    if isinstance(definitions, str | Definition):
        definitions = [definitions]
    out = [d if isinstance(d, Definition) else get_definition(d) for d in definitions]
    names = [d.name for d in out]
    if len(set(names)) != len(names):
        raise ScenarioError("definitions", "", f"each definition needs its own name, got {names}")
    return out


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_") or "definition"


def column_names(definition: str | Definition) -> tuple[str, str]:
    """The (session id, split cause) column names :func:`sessionize` adds for ``definition``.

    ``ga4`` gives ``ga4_session_id`` and ``ga4_split_cause``; characters other than letters and digits
    in the name (``ga4:timeout=45m``) become ``_``.
    """
    name = _safe(definition.name if isinstance(definition, Definition) else definition)
    return name + SESSION_SUFFIX, name + CAUSE_SUFFIX


def parse_session_id(session_id: str) -> tuple[str, int, int]:
    """(user, epoch ms of the session's first event, ordinal among that user's sessions starting then)."""
    m = _ID.match(session_id)
    if not m:
        raise ValueError(f"not a sessionlab session id: {session_id!r}")
    return m.group(1), int(m.group(2)), int(m.group(3) or 0)


def _floor_ms(micros_sql: str) -> Column:
    """Epoch milliseconds from an integer SQL expression of microseconds, rounded down (as locally)."""
    return F.expr(f"(({micros_sql}) - pmod({micros_sql}, 1000)) div 1000").cast("long")


def _time_ms(df: DataFrame, time: str, epoch: str | None) -> Column:
    kind = df.schema[time].dataType
    ref = f"`{time}`"
    if isinstance(kind, T.TimestampType):
        return _floor_ms(f"unix_micros({ref})")
    if isinstance(kind, T.TimestampNTZType):  # a wall-clock time without zone: taken as UTC
        return _floor_ms(f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', {ref})")
    if isinstance(kind, T.StringType):  # ISO-8601; only strings with a UTC offset are instants
        offset = "(Z|[+-][0-9][0-9]:?[0-9][0-9])$"
        return _floor_ms(f"CASE WHEN {ref} RLIKE '{offset}' THEN unix_micros(to_timestamp({ref})) END")
    if isinstance(kind, T.NumericType):
        if epoch is None:
            raise ScenarioError(
                time, "", f"numeric timestamps ({kind.simpleString()}) need epoch='s'|'ms'|'us' (--epoch)"
            )
        if isinstance(kind, T.IntegralType):
            return _floor_ms(f"CAST({ref} AS BIGINT) * {_MICROS[epoch]}")
        return F.floor(F.col(ref).cast("double") * (_MICROS[epoch] / 1000)).cast("long")
    raise ScenarioError(
        time,
        "",
        f"column type {kind.simpleString()} is not a time: use a timestamp, an ISO-8601 "
        "string with a UTC offset, or epoch numbers with epoch='s'|'ms'|'us'",
    )


def _codes(arr: pa.ChunkedArray) -> np.ndarray:
    """int32 codes of equal values (-1 for null), in first-appearance order."""
    enc = pc.dictionary_encode(arr).combine_chunks()
    return enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)


def _kernel_fn(defs: list[Definition], timezone: str, has_campaign: bool, out_schema: pa.Schema) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        chunks = [b for b in batches if b.num_rows]
        if not chunks:
            return
        table = pa.Table.from_batches(chunks)
        for name in (_USER, _TS):
            nulls = table.column(name).null_count
            if nulls:
                raise ValueError(
                    f"sessionlab: {nulls} row(s) without a {'user' if name == _USER else 'time'}"
                )
        user = _codes(table.column(_USER))
        ts = table.column(_TS).to_numpy().astype(np.int64, copy=False)
        row = table.column(_ROW).to_numpy()
        order = np.lexsort((row, ts, user))
        table = table.take(pa.array(order))
        user, ts = user[order], ts[order]
        camp = None
        if has_campaign:
            camp = _codes(table.column(_CAMPAIGN))
        cols = Columns(user, ts, camp)
        users_sorted = table.column(_USER)
        for definition in defs:
            causes = split_causes(cols, definition.rules, timezone)
            starts = np.flatnonzero(causes)
            # the ordinal among the user's sessions starting in the same millisecond
            same = np.zeros(len(starts), dtype=bool)
            same[1:] = (user[starts[1:]] == user[starts[:-1]]) & (ts[starts[1:]] == ts[starts[:-1]])
            run_start = np.maximum.accumulate(np.where(~same, np.arange(len(starts)), 0))
            nth = np.arange(len(starts)) - run_start
            first = pa.array(starts)
            base = pc.binary_join_element_wise(
                pc.take(users_sorted, first), pc.cast(pa.array(ts[starts]), pa.string()), "@"
            )
            suffix = pc.if_else(
                pa.array(nth > 0),
                pc.binary_join_element_wise("+", pc.cast(pa.array(nth), pa.string()), ""),
                "",
            )
            ids = pc.binary_join_element_wise(base, suffix, "")
            session_of_row = np.cumsum(causes != 0) - 1
            sid, cause = column_names(definition)
            table = table.append_column(sid, pc.take(ids, pa.array(session_of_row)))
            table = table.append_column(cause, pc.take(_LABELS, pa.array(causes.astype(np.int32))))
        table = table.drop_columns([c for c in (_USER, _TS, _CAMPAIGN, _ROW) if c in table.column_names])
        yield from table.cast(out_schema).to_batches(max_chunksize=1 << 16)

    return run


def sessionize(
    df: DataFrame,
    definitions: Sequence[str | Definition] | str | Definition = "ga4",
    *,
    user: str = "user_id",
    time: str = "timestamp",
    campaign: str | None = None,
    timezone: str = "UTC",
    epoch: str | None = None,
    partitions: int | None = None,
) -> DataFrame:
    """The rows of ``df`` with a session id and a split cause column per definition (lazy).

    Parameters
    ----------
    df
        One row per event; other columns are passed through unchanged.
    definitions
        Preset names or :class:`~simulator.sessions.Definition` objects (one or several).
    user, time, campaign
        Column names. ``time`` is a timestamp (naive ``TIMESTAMP_NTZ`` taken as UTC), an ISO-8601
        string with a UTC offset, or epoch numbers with ``epoch``. ``campaign`` (any type; null or
        empty = none) is needed by campaign-change rules.
    timezone
        The analytics property's IANA zone, for midnight rules that do not name one.
    epoch
        ``"s"``, ``"ms"`` or ``"us"`` when ``time`` holds numbers since the epoch.
    partitions
        Number of user partitions (default: ``spark.sql.shuffle.partitions``). Results never depend on it.

    Returns
    -------
    pyspark.sql.DataFrame
        ``df``'s columns plus, per definition, :func:`column_names` (session id string, split cause
        label). Rows come out grouped by user in (user, time) order within each partition.

    Raises
    ------
    ScenarioError
        For a missing column, a time column that is not a time, or two definitions with one name.
    """
    defs = _resolve(definitions)
    for role, name in (("user", user), ("time", time), ("campaign", campaign)):
        if name is not None and name not in df.columns:
            raise ScenarioError(name, "", f"no {role} column {name!r}; columns are {', '.join(df.columns)}")
    if epoch is not None and epoch not in ("s", "ms", "us"):
        raise ScenarioError("epoch", "", f"expected 's', 'ms' or 'us', got {epoch!r}")
    added = [c for d in defs for c in column_names(d)]
    clash = sorted(set(added) & set(df.columns))
    if clash:
        raise ScenarioError(", ".join(clash), "", "the input already has these output columns; rename them")
    extra = [
        F.col(f"`{user}`").cast("string").alias(_USER),
        _time_ms(df, time, epoch).alias(_TS),
        F.monotonically_increasing_id().alias(_ROW),
    ]
    if campaign is not None:
        camp = F.trim(F.col(f"`{campaign}`").cast("string"))
        extra.append(F.when(camp == "", F.lit(None)).otherwise(camp).alias(_CAMPAIGN))
    prepared = df.select("*", *extra)
    by_user = prepared.repartition(partitions, _USER) if partitions else prepared.repartition(_USER)
    out_fields = [*df.schema.fields]
    for d in defs:
        sid, cause = column_names(d)
        out_fields += [T.StructField(sid, T.StringType(), False), T.StructField(cause, T.StringType(), False)]
    out_struct = T.StructType(out_fields)
    arrow_schema = _arrow_schema(df, out_struct)
    return by_user.mapInArrow(_kernel_fn(defs, timezone, campaign is not None, arrow_schema), out_struct)


def _arrow_schema(df: DataFrame, struct: T.StructType) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema  # noqa: PLC0415 - pyspark internals, on use

    tz = df.sparkSession.conf.get("spark.sql.session.timeZone") or "UTC"
    try:
        return to_arrow_schema(struct, timezone=tz, prefers_large_types=False)
    except TypeError:  # older pyspark: no timezone/large-type parameters
        return to_arrow_schema(struct)


def counts(
    df: DataFrame,
    definitions: Sequence[str | Definition] | str | Definition = "ga4",
    *,
    user: str = "user_id",
) -> dict[str, dict[str, int]]:
    """Sessions, users and events per definition of a :func:`sessionize` result, in one Spark job.

    Nothing but the totals reaches the driver: sessions are the rows whose split cause is not
    ``continues`` (each session has exactly one first row), users a distinct count.
    """
    defs = _resolve(definitions)
    aggs = [F.count(F.lit(1)).alias("events"), F.countDistinct(F.col(f"`{user}`")).alias("users")]
    for i, d in enumerate(defs):
        cause = column_names(d)[1]
        aggs.append(F.sum(F.when(F.col(cause) != "continues", 1).otherwise(0)).alias(f"s{i}"))
    row = df.agg(*aggs).collect()[0]
    events, users = int(row["events"]), int(row["users"])
    return {
        d.name: {"sessions": int(row[f"s{i}"] or 0), "users": users, "events": events}
        for i, d in enumerate(defs)
    }

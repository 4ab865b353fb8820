"""``sessionize`` and ``counts`` on a Spark DataFrame, through the local kernels via Arrow.

How it works: the driver adds three helper columns to the columns the result keeps -- a 64-bit hash
of the user (``xxhash64`` of its text), a tie-break row number (``monotonically_increasing_id`` of
the input, so rows tied in user and time keep their input order, as in
:func:`simulator.sessions.sessionize`) and, with ``exclude_events``, a flag per excluded event --
repartitions by the hash and runs ``mapInArrow``. Each task concatenates its partition into one
Arrow table, reads the time column with the local reader's own :func:`~simulator.log.timeparse.parse_times`
(every time form, ``input_timezone`` and ``ambiguous`` exactly as ``sessionlab sessionize`` reads
them), sorts by (user hash, time, row), checks that equal hashes are equal users (a collision, never
seen in practice, falls back to exact codes of the user text), and calls
:func:`simulator.sessions.kernels.split_causes` once per definition. The kernel returns, per
definition, the split cause as a small integer and the session's first time and ordinal; the
session id string and the cause label are built by Spark from those (so a job that only counts
sessions, like :func:`counts`, never builds the strings).

Session ids are strings derived from the user and the session's first event only, so they are unique
across the DataFrame and do not depend on the number of partitions or on which task ran a user::

    <user>@<epoch ms of the session's first event>          e.g.  "u17@1714557600000"
    <user>@<epoch ms>+<n>                                    the n-th (n >= 1) session of that user
                                                             starting in the same millisecond

(:func:`parse_session_id` reads one back; the part after the last ``@`` is unambiguous whatever the
user id contains.) The split cause is the label of :class:`~simulator.sessions.causes.SplitCause`
(``new_user``, ``inactivity``, ``midnight`` ... and ``continues`` on rows inside a session), or
``excluded`` (with a null session id) on rows of ``exclude_events``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 - the conventional name
from pyspark.sql import types as T  # noqa: N812

from simulator.errors import ScenarioError
from simulator.log.timeparse import parse_times
from simulator.sessions import Definition, get_definition
from simulator.sessions.causes import SplitCause
from simulator.sessions.kernels import Columns, split_causes

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

SESSION_SUFFIX = "_session_id"
CAUSE_SUFFIX = "_split_cause"
#: The split cause of a row whose event is excluded by name (its session id is null).
EXCLUDED = "excluded"
_USER, _HASH, _CAMPAIGN, _ROW, _EXCL = "__sl_user", "__sl_hash", "__sl_campaign", "__sl_row", "__sl_excl"
_LABELS = [c.label for c in SplitCause] + [EXCLUDED]
_EXCLUDED_CODE = len(SplitCause)
_ID = re.compile(r"^(.*)@(-?\d+)(?:\+(\d+))?$", re.DOTALL)
#: Text times the local reader would take as epoch numbers (decided on the driver, never per task).
NUMBER_TEXT = r"^\s*[+-]?[0-9]{1,19}(\.[0-9]*)?\s*$"
#: What joins the values of several campaign columns into one key (as the local reader does).
SOURCE_SEPARATOR = "\x1f"


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


_TIME_TYPES = (T.TimestampType, T.TimestampNTZType, T.DateType, T.StringType, T.NumericType)


def _check_time(df: DataFrame, time: str, epoch: str | None, input_timezone: str | None) -> None:
    kind = df.schema[time].dataType
    if not isinstance(kind, _TIME_TYPES) or isinstance(kind, T.DecimalType):
        raise ScenarioError(
            time,
            "",
            f"column type {kind.simpleString()} is not a time: use a timestamp, an ISO-8601 "
            "string, or epoch numbers with epoch='s'|'ms'|'us'|'ns'",
        )
    if isinstance(kind, T.NumericType) and epoch is None:
        raise ScenarioError(
            time, "", f"numeric timestamps ({kind.simpleString()}) need epoch='s'|'ms'|'us'|'ns' (--epoch)"
        )
    if isinstance(kind, T.DateType) and input_timezone is None:
        raise ScenarioError(
            time,
            "",
            "a date without a time needs input_timezone (--input-timezone ZONE) to take midnight there",
        )


def _codes(arr: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """int32 codes of equal values (-1 for null), in first-appearance order."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    return enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)


def _fail(message: str) -> ValueError:
    """An error a task raises; the CLI shows the text after ``sessionlab:`` as its one line."""
    return ValueError(f"sessionlab: {message}")


def _times(column: pa.ChunkedArray, epoch: str | None, input_tz: str | None, ambiguous: str) -> np.ndarray:
    """Epoch ms of every row, read as the local reader reads them; any bad time fails the task."""
    if pa.types.is_timestamp(column.type) and column.type.tz is None and input_tz is None:
        input_tz = "UTC"  # a TIMESTAMP_NTZ without input_timezone: taken as UTC (see sessionize)
    try:
        times, detected = parse_times(column, epoch, input_tz, ambiguous)
    except ValueError as err:
        raise _fail(str(err)) from None
    if detected is not None:
        raise _fail(f"the times are epoch numbers as text; pass epoch='{detected}' (--epoch {detected})")
    if times.bad:
        first = min(times.bad)
        raise _fail(f"{len(times.bad)} row(s) without a readable time, e.g. {times.bad[first]}")
    return times.ms


def _sorted_users(
    table: pa.Table, user: str, order_keys: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(sort order, dense user codes in that order): by user hash, then time, then row number.

    Equal hashes must be equal users; were two users ever to share a 64-bit hash, the order falls
    back to exact codes of the user text (same result, slower).
    """
    ts, row = order_keys
    h = table.column(_HASH).to_numpy()
    order = np.lexsort((row, ts, h))
    hs = h[order]
    same = hs[1:] == hs[:-1]
    users = table.column(user)
    if same.any():
        taken = pc.take(users, pa.array(order[1:][same]))
        prev = pc.take(users, pa.array(order[:-1][same]))
        if not pc.all(pc.equal(taken, prev)).as_py():  # a hash collision: exact codes instead
            codes = _codes(users)
            order = np.lexsort((row, ts, codes))
            cs = codes[order]
            same = cs[1:] == cs[:-1]
    user_codes = np.empty(len(order), dtype=np.int64)
    if len(order):
        user_codes[0] = 0
        np.cumsum(~same, out=user_codes[1:])
    return order, user_codes


def _kernel_fn(
    defs: list[Definition],
    *,
    keep: list[str],
    user: str,
    time: str,
    timezone: str,
    epoch: str | None,
    input_tz: str | None,
    ambiguous: str,
    has_campaign: bool,
    has_exclude: bool,
    out_schema: pa.Schema,
    totals: bool = False,
) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:  # noqa: PLR0912 - one pass
        chunks = [b for b in batches if b.num_rows]
        if not chunks:
            return
        table = pa.Table.from_batches(chunks)
        users = table.column(user)
        missing = users.null_count + (
            pc.sum(pc.equal(users, "")).as_py() or 0 if pa.types.is_string(users.type) else 0
        )
        if missing:
            raise _fail(f"{missing} row(s) without a user")
        ts = _times(table.column(time), epoch, input_tz, ambiguous)
        row = table.column(_ROW).to_numpy()
        order, ucodes = _sorted_users(table, user, (ts, row))
        ts = ts[order]
        camp = _codes(pc.take(table.column(_CAMPAIGN), pa.array(order))) if has_campaign else None
        kept_rows = None
        if has_exclude:
            excl = table.column(_EXCL).to_numpy(zero_copy_only=False)[order].astype(bool)
            if excl.any():
                kept_rows = np.flatnonzero(~excl)
        n = len(order)
        out = None if totals else table.select(keep).take(pa.array(order))
        sums = {"events": n if kept_rows is None else len(kept_rows), "users": int(ucodes[-1]) + 1}
        cols = Columns(ucodes, ts, camp)
        if kept_rows is not None:
            cols = Columns(*(None if c is None else c[kept_rows] for c in cols))
        for i, definition in enumerate(defs):
            causes = split_causes(cols, definition.rules, timezone)
            starts = np.flatnonzero(causes)
            if totals:
                sums[f"s{i}"] = len(starts)
                continue
            # the ordinal among the user's sessions starting in the same millisecond
            same = np.zeros(len(starts), dtype=bool)
            su, st = cols.user[starts], cols.ts[starts]
            same[1:] = (su[1:] == su[:-1]) & (st[1:] == st[:-1])
            run_start = np.maximum.accumulate(np.where(~same, np.arange(len(starts)), 0))
            nth = (np.arange(len(starts)) - run_start).astype(np.int32)
            session = np.cumsum(causes != 0) - 1
            start, ordinal, code = st[session], nth[session], causes.astype(np.int8)
            if kept_rows is None:
                arrays = [pa.array(start), pa.array(ordinal), pa.array(code)]
            else:
                mask = np.ones(n, dtype=bool)
                mask[kept_rows] = False
                full = [np.zeros(n, np.int64), np.zeros(n, np.int32), np.full(n, _EXCLUDED_CODE, np.int8)]
                for whole, part in zip(full, (start, ordinal, code), strict=True):
                    whole[kept_rows] = part
                arrays = [pa.array(full[0], mask=mask), pa.array(full[1], mask=mask), pa.array(full[2])]
            for name, array in zip(_kernel_columns(i), arrays, strict=True):
                out = out.append_column(name, array)  # type: ignore[union-attr]
        if totals:
            if kept_rows is not None:  # users with every event excluded are not users
                sums["users"] = len(np.unique(cols.user))
            yield pa.RecordBatch.from_pydict({k: [v] for k, v in sums.items()}, schema=out_schema)
            return
        yield from out.cast(out_schema).to_batches()  # type: ignore[union-attr]

    return run


def _kernel_columns(i: int) -> tuple[str, str, str]:
    return f"__sl_start{i}", f"__sl_nth{i}", f"__sl_code{i}"


def _campaign_key(df: DataFrame, campaign: str | Sequence[str]) -> Any:
    """The campaign of each row as the local reader keys it: trimmed text, empty = none; several
    columns joined (a row with all of them empty has none)."""
    names = [campaign] if isinstance(campaign, str) else list(campaign)
    parts = []
    for name in names:
        value = F.trim(F.col(f"`{name}`").cast("string"))
        parts.append(F.when(value == "", F.lit(None)).otherwise(value))
    if len(parts) == 1:
        return parts[0]
    present = F.greatest(*(p.isNotNull() for p in parts))
    joined = F.concat_ws(SOURCE_SEPARATOR, *(F.coalesce(p, F.lit("")) for p in parts))
    return F.when(present, joined)


def sessionize(
    df: DataFrame,
    definitions: Sequence[str | Definition] | str | Definition = "ga4",
    *,
    user: str = "user_id",
    time: str = "timestamp",
    campaign: str | Sequence[str] | None = None,
    timezone: str = "UTC",
    epoch: str | None = None,
    input_timezone: str | None = None,
    ambiguous: str = "error",
    event: str = "event_name",
    exclude_events: Iterable[str] = (),
    keep: Sequence[str] | None = None,
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
        Column names. ``time`` is read as ``sessionlab sessionize`` reads it: a timestamp, an
        ISO-8601 string, epoch numbers with ``epoch``; a naive ``TIMESTAMP_NTZ`` is taken in
        ``input_timezone`` (UTC when not given). ``campaign`` (any type; null or empty = none) is
        needed by campaign-change rules; a list of columns is one key (a change in any of them).
    timezone
        The analytics property's IANA zone, for midnight rules that do not name one.
    epoch
        ``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` when ``time`` holds numbers since the epoch.
    input_timezone, ambiguous
        The zone of naive times (``TIMESTAMP_NTZ``, dates, ISO strings without an offset), and what a
        naive time in a DST fold or gap becomes: ``"earliest"``, ``"latest"`` or ``"error"``.
    event, exclude_events
        Rows whose ``event`` is one of ``exclude_events`` are left out of sessions (split cause
        ``excluded``, session id null), as ``--exclude-event`` does locally.
    keep
        The input columns the result carries (default: all of them). Fewer columns, less to shuffle.
    partitions
        Number of user partitions (default: ``spark.sql.shuffle.partitions``). Results never depend on it.

    Returns
    -------
    pyspark.sql.DataFrame
        The ``keep`` columns plus, per definition, :func:`column_names` (session id string, split
        cause label). Rows come out grouped by user in (user, time) order within each partition.
        A row without a user or a readable time fails the job with one line naming the problem.

    Raises
    ------
    ScenarioError
        For a missing column, a time column that is not a time, or two definitions with one name.
    """
    plan = _plan(
        df,
        definitions,
        user=user,
        time=time,
        campaign=campaign,
        timezone=timezone,
        epoch=epoch,
        input_timezone=input_timezone,
        ambiguous=ambiguous,
        event=event,
        exclude_events=exclude_events,
        keep=keep,
        partitions=partitions,
    )
    fields = {f.name: f for f in df.schema.fields}
    carried = list(dict.fromkeys([*plan.keep, user]))  # the ids are built from the user
    kernel_fields = [fields[c] for c in carried]
    for i in range(len(plan.defs)):
        start, nth, code = _kernel_columns(i)
        kernel_fields += [
            T.StructField(start, T.LongType(), True),
            T.StructField(nth, T.IntegerType(), True),
            T.StructField(code, T.ByteType(), False),
        ]
    kernel_struct = T.StructType(kernel_fields)
    fn = _kernel_fn(
        plan.defs, **{**plan.kernel, "keep": carried}, out_schema=_arrow_schema(df, kernel_struct)
    )
    raw = plan.by_user.mapInArrow(fn, kernel_struct)
    labels = F.array(*(F.lit(label) for label in _LABELS))
    user_text = F.col(f"`{user}`").cast("string")
    outputs = []
    for i, d in enumerate(plan.defs):
        start, nth, code = (F.col(c) for c in _kernel_columns(i))
        sid, cause = column_names(d)
        ordinal = F.when(nth > 0, F.concat(F.lit("+"), nth.cast("string"))).otherwise(F.lit(""))
        outputs.append(F.concat(user_text, F.lit("@"), start.cast("string"), ordinal).alias(sid))
        outputs.append(F.element_at(labels, code.cast("int") + 1).alias(cause))
    return raw.select(*(F.col(f"`{c}`") for c in plan.keep), *outputs)


class _Plan(NamedTuple):
    defs: list[Definition]
    keep: list[str]
    prepared: DataFrame  # the kept columns and the helpers, before the shuffle
    by_user: DataFrame  # repartitioned by the user hash
    kernel: dict[str, Any]


def _plan(  # the checks and the repartitioned input both entry points share
    df: DataFrame,
    definitions: Sequence[str | Definition] | str | Definition,
    *,
    user: str,
    time: str,
    campaign: str | Sequence[str] | None,
    timezone: str,
    epoch: str | None,
    input_timezone: str | None,
    ambiguous: str,
    event: str,
    exclude_events: Iterable[str],
    keep: Sequence[str] | None,
    partitions: int | None,
) -> _Plan:
    defs = _resolve(definitions)
    camp_cols = [] if campaign is None else [campaign] if isinstance(campaign, str) else list(campaign)
    exclude = sorted(set(exclude_events))
    roles = [("user", user), ("time", time), *(("campaign", c) for c in camp_cols)]
    if exclude:
        roles.append(("event", event))
    for role, name in roles:
        if name not in df.columns:
            raise ScenarioError(name, "", f"no {role} column {name!r}; columns are {', '.join(df.columns)}")
    if epoch is not None and epoch not in ("s", "ms", "us", "ns"):
        raise ScenarioError("epoch", "", f"expected 's', 'ms', 'us' or 'ns', got {epoch!r}")
    if ambiguous not in ("earliest", "latest", "error"):
        raise ScenarioError("ambiguous", "", f"expected 'earliest', 'latest' or 'error', got {ambiguous!r}")
    _check_time(df, time, epoch, input_timezone)
    keep = list(df.columns) if keep is None else list(dict.fromkeys(keep))
    unknown = [c for c in keep if c not in df.columns]
    if unknown:
        raise ScenarioError(
            ", ".join(unknown), "", f"no such column to keep; columns are {', '.join(df.columns)}"
        )
    added = [c for d in defs for c in column_names(d)]
    clash = sorted(set(added) & set(keep))
    if clash:
        raise ScenarioError(", ".join(clash), "", "the input already has these output columns; rename them")
    text_user = isinstance(df.schema[user].dataType, T.StringType)
    user_text = F.col(f"`{user}`").cast("string")
    helpers = [F.xxhash64(user_text).alias(_HASH), F.monotonically_increasing_id().alias(_ROW)]
    if not text_user:
        helpers.append(user_text.alias(_USER))
    if camp_cols:
        helpers.append(_campaign_key(df, campaign).alias(_CAMPAIGN))  # type: ignore[arg-type]
    if exclude:
        helpers.append(
            F.coalesce(F.col(f"`{event}`").cast("string").isin(exclude), F.lit(False)).alias(_EXCL)
        )
    carried = list(dict.fromkeys([*keep, user, time]))
    prepared = df.select(*(F.col(f"`{c}`") for c in carried), *helpers)
    by_user = prepared.repartition(partitions, _HASH) if partitions else prepared.repartition(_HASH)
    kernel = {
        "keep": keep,
        "user": user if text_user else _USER,
        "time": time,
        "timezone": timezone,
        "epoch": epoch,
        "input_tz": input_timezone,
        "ambiguous": ambiguous,
        "has_campaign": bool(camp_cols),
        "has_exclude": bool(exclude),
    }
    return _Plan(defs, keep, prepared, by_user, kernel)


def count_sessions(
    df: DataFrame,
    definitions: Sequence[str | Definition] | str | Definition = "ga4",
    *,
    user: str = "user_id",
    time: str = "timestamp",
    campaign: str | Sequence[str] | None = None,
    timezone: str = "UTC",
    epoch: str | None = None,
    input_timezone: str | None = None,
    ambiguous: str = "error",
    event: str = "event_name",
    exclude_events: Iterable[str] = (),
    partitions: int | None = None,
) -> dict[str, dict[str, int]]:
    """Sessions, users and events per definition of ``df``, counted inside the tasks (one job).

    The same as ``counts(sessionize(df, ...))`` (the parameters are :func:`sessionize`'s), but each
    task returns only its partition's totals (one row), so no session id, cause or input column
    travels back from Python to Spark; Spark adds the tasks' rows. Use it when only the counts are
    wanted (``sessionlab sessionize --engine spark`` without ``--out``).
    """
    plan = _plan(
        df,
        definitions,
        user=user,
        time=time,
        campaign=campaign,
        timezone=timezone,
        epoch=epoch,
        input_timezone=input_timezone,
        ambiguous=ambiguous,
        event=event,
        exclude_events=exclude_events,
        keep=[],
        partitions=partitions,
    )
    names = ["events", "users", *(f"s{i}" for i in range(len(plan.defs)))]
    struct = T.StructType([T.StructField(n, T.LongType(), False) for n in names])
    schema = pa.schema([(n, pa.int64()) for n in names])
    fn = _kernel_fn(plan.defs, **plan.kernel, out_schema=schema, totals=True)
    row = plan.by_user.mapInArrow(fn, struct).agg(*(F.sum(n).alias(n) for n in names)).collect()[0]
    events, users = int(row["events"] or 0), int(row["users"] or 0)
    return {
        d.name: {"sessions": int(row[f"s{i}"] or 0), "users": users, "events": events}
        for i, d in enumerate(plan.defs)
    }


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
    user: str | None = None,
) -> dict[str, dict[str, int]]:
    """Sessions, users and events per definition of a :func:`sessionize` result, in one Spark job.

    Nothing but the totals reaches the driver, and nothing is deduplicated: sessions are the rows
    whose split cause is neither ``continues`` nor ``excluded`` (each session has exactly one first
    row), users the rows whose cause is ``new_user`` (each user's first row; the same in every
    definition), events the rows not ``excluded``. (``user`` is not needed; it is accepted for
    callers of earlier versions.)
    """
    defs = _resolve(definitions)
    first = F.col(column_names(defs[0])[1])
    aggs = [
        F.sum(F.when(first != EXCLUDED, 1).otherwise(0)).alias("events"),
        F.sum(F.when(first == SplitCause.NEW_USER.label, 1).otherwise(0)).alias("users"),
    ]
    for i, d in enumerate(defs):
        cause = F.col(column_names(d)[1])
        aggs.append(F.sum(F.when(~cause.isin("continues", EXCLUDED), 1).otherwise(0)).alias(f"s{i}"))
    row = df.agg(*aggs).collect()[0]
    events, users = int(row["events"] or 0), int(row["users"] or 0)
    return {
        d.name: {"sessions": int(row[f"s{i}"] or 0), "users": users, "events": events}
        for i, d in enumerate(defs)
    }

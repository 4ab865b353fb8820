"""Seeded event logs built to exercise sessionizers, and reading and writing them.

A workload directory holds::

    events.csv       user_id,timestamp_ms,timestamp,campaign  (rows in file = arrival order)
    events.parquet   the same columns (timestamp as timestamp[ms, tz])
    workload.json    how it was made (profile, seed, sizes, time zone) and the files' SHA-256
    columns/*.npy    the columns as numpy arrays (fast loading for ``bench``)

``timestamp_ms`` is int64 milliseconds since the epoch (UTC); ``timestamp`` is the same instant as
ISO-8601 in the property's time zone with its offset (``2024-03-10T01:59:59.999-05:00``); an empty
``campaign`` is a direct visit or internal navigation. Same arguments => byte-identical files.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from simulator.errors import SessionlabError
from simulator.log.atomic import atomic_open, ensure_dir, write_atomic
from simulator.log.localtime import utc_offset_ms
from simulator.log.logfile import LogColumns, read_log
from simulator.schema import check_timezone
from simulator.testbench.profiles import GAP_COMPONENTS, TIMEOUTS_MS, Profile, get_profile

__all__ = [
    "DEFAULT_TIMEZONE",
    "Workload",
    "generate",
    "iso_local",
    "load_workload",
    "write_csv",
    "write_parquet",
    "write_workload",
]

DEFAULT_TIMEZONE = "America/New_York"
_MIN, _H, _DAY = 60_000, 3_600_000, 86_400_000
_CAMPAIGN_NAMES = (
    "spring_sale", "brand_search", "retargeting", "newsletter", "summer_video", "black_friday",
    "shopping_feed", "partner_blog", "display_pmax", "social_story", "affiliate", "winter_deals",
)  # fmt: skip


@dataclass(frozen=True)
class Workload:
    """An event log: columns aligned by row, in file (arrival) order."""

    user_id: np.ndarray  #: int64
    timestamp_ms: np.ndarray  #: int64 epoch milliseconds (UTC)
    campaign: np.ndarray  #: str per row; "" means none (direct, internal navigation)
    timezone: str = DEFAULT_TIMEZONE  #: the analytics property's time zone
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None  #: where it was read from, if anywhere

    def __len__(self) -> int:
        return len(self.timestamp_ms)

    def take(self, rows: np.ndarray) -> Workload:
        """The workload restricted to ``rows`` (indices, in the order given)."""
        rows = np.asarray(rows, dtype=np.int64)
        return Workload(
            self.user_id[rows], self.timestamp_ms[rows], self.campaign[rows], self.timezone, {}, None
        )

    def campaign_codes(self) -> np.ndarray:
        """int32 code per row (index into the sorted campaign names); -1 where empty."""
        names, inv = np.unique(self.campaign, return_inverse=True)
        codes = inv.astype(np.int32)
        if len(names) and names[0] == "":
            codes -= 1
        return codes


def _tz(name: str) -> ZoneInfo:
    try:
        return check_timezone(name)
    except ValueError as err:
        raise SessionlabError(f"--timezone: {err}") from None


def _user_sizes(rng: np.random.Generator, events: int, users: int, p: Profile) -> tuple[np.ndarray, ...]:
    """Events per user (each >= 1, summing to ``events``) and a steady flag per user."""
    n_single = min(round(p.single_share * users), users - 1) if events > users else users
    rest = users - n_single
    n_heavy = min(max(round(p.heavy_share * users), 1 if rest >= 2 else 0), rest - 1) if rest else 0  # noqa: PLR2004
    roles = rng.permutation(users)
    heavy, normal = roles[n_single : n_single + n_heavy], roles[n_single + n_heavy :]
    sizes = np.ones(users, dtype=np.int64)
    extra = events - users
    to_heavy = round(extra * p.heavy_events) if len(heavy) and len(normal) else (extra if len(heavy) else 0)
    if len(heavy):
        sizes[heavy] += rng.multinomial(to_heavy, np.full(len(heavy), 1 / len(heavy)))
    if len(normal):
        w = rng.lognormal(0.0, p.size_sigma, len(normal))
        sizes[normal] += rng.multinomial(extra - to_heavy, w / w.sum())
    steady = np.zeros(users, dtype=np.bool_)
    steady[roles[n_single:]] = rng.random(rest) < p.steady_share
    return sizes, steady


def _gaps(rng: np.random.Generator, p: Profile, steady_row: np.ndarray) -> np.ndarray:
    """Milliseconds since the user's previous event, drawn from the profile's gap mixture."""
    n = len(steady_row)
    weights = np.array([p.gaps.get(c, 0.0) for c in GAP_COMPONENTS])
    comp = rng.choice(len(GAP_COMPONENTS), size=n, p=weights / weights.sum())
    gaps = np.zeros(n, dtype=np.int64)
    timeouts = np.array(TIMEOUTS_MS, dtype=np.int64)
    for k, name in enumerate(GAP_COMPONENTS):
        idx = np.flatnonzero(comp == k)
        m = len(idx)
        if name == "burst":
            gaps[idx] = np.maximum(rng.lognormal(np.log(20_000), 1.2, m), 1).astype(np.int64)
        elif name == "idle":
            gaps[idx] = rng.integers(_MIN, 25 * _MIN, m)
        elif name == "near":
            gaps[idx] = rng.choice(timeouts, m) + rng.integers(-2 * _MIN, 2 * _MIN + 1, m)
        elif name == "exact":
            gaps[idx] = rng.choice(timeouts, m) + rng.choice(np.array([-1, 0, 0, 1]), m)
        elif name == "away":
            gaps[idx] = np.clip(rng.lognormal(np.log(6 * _H), 1.5, m), 31 * _MIN, 60 * _DAY).astype(np.int64)
        # "tie" stays 0
    steady_idx = np.flatnonzero(steady_row)
    gaps[steady_idx] = rng.integers(_MIN, 20 * _MIN, len(steady_idx))
    return gaps


def _local_midnights(tz: ZoneInfo, year: int) -> np.ndarray:
    """UTC epoch ms of each local midnight of ``year`` in ``tz``."""
    day, out = dt.date(year, 1, 1), []
    while day.year == year:
        out.append(int(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000))
        day += dt.timedelta(days=1)
    return np.array(out, dtype=np.int64)


def _offset_changes(tz: ZoneInfo, year: int) -> np.ndarray:
    """UTC epoch ms (to the hour) at which ``tz`` changes its UTC offset during ``year``."""
    start = int(dt.datetime(year, 1, 1, tzinfo=dt.UTC).timestamp()) // 3600
    end = int(dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC).timestamp()) // 3600
    prev, out = None, []
    for hour in range(start, end):
        off = dt.datetime.fromtimestamp(hour * 3600, tz).utcoffset()
        if prev is not None and off != prev:
            out.append(hour * _H)
        prev = off
    return np.array(out, dtype=np.int64)


def _starts(rng: np.random.Generator, users: int, p: Profile, tz: ZoneInfo, year: int) -> np.ndarray:
    """Each user's first timestamp: uniform in the year, at a local midnight, or at a DST change."""
    midnights, changes = _local_midnights(tz, year), _offset_changes(tz, year)
    kinds = ("uniform", "midnight", "dst") if len(changes) else ("uniform", "midnight")
    weights = np.array([p.starts.get(k, 0.0) for k in kinds])
    kind = rng.choice(len(kinds), size=users, p=weights / weights.sum())
    out = np.empty(users, dtype=np.int64)
    for k, name in enumerate(kinds):
        idx = np.flatnonzero(kind == k)
        m = len(idx)
        if name == "uniform":
            out[idx] = rng.integers(midnights[0], midnights[-1] + _DAY, m)
        elif name == "midnight":
            out[idx] = rng.choice(midnights, m) + rng.integers(-45 * _MIN, 15 * _MIN, m)
        else:
            out[idx] = rng.choice(changes, m) + rng.integers(-3 * _H, _H, m)
    return out


#: Peak memory of :func:`generate` and :func:`write_workload` together: about 160 bytes an event
#: (measured: 1.58 GB for 10,000,000 events of 1,000,000 users, profile ``realistic``).
_BYTES_PER_EVENT, _BYTES_PER_USER = 170, 64


def _check_memory(events: int, users: int) -> None:
    """Refuse, before any work, a workload that cannot be generated in the memory available now."""
    from simulator.log.shards import available_memory  # noqa: PLC0415 - pyarrow only when needed

    need, available = events * _BYTES_PER_EVENT + users * _BYTES_PER_USER, available_memory()
    if available and need > available:
        gib = 1 << 30
        raise SessionlabError(
            f"--events: generating {events:,} events needs about {need / gib:,.1f} GiB of memory "
            f"({_BYTES_PER_EVENT} bytes an event) and {available / gib:,.1f} GiB is available; "
            f"at most about {(available - users * _BYTES_PER_USER) // _BYTES_PER_EVENT:,} events fit now"
        )


def generate(
    events: int,
    users: int,
    profile: str = "edge-cases",
    seed: int = 0,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    year: int = 2024,
) -> Workload:
    """Generate a seeded workload.

    Parameters
    ----------
    events, users
        Number of rows and of distinct users (``1 <= users <= events``).
    profile
        A name from :data:`~simulator.testbench.profiles.PROFILES`.
    seed
        Seed of the :class:`numpy.random.SeedSequence`; same arguments give the same workload.
    timezone
        The analytics property's time zone (midnights, DST changes, ISO offsets).
    year
        The calendar year the events start in.

    Returns
    -------
    Workload
        Rows in arrival order (mostly time order, a profile-given share late).
    """
    if events < 1 or not 1 <= users <= events:
        raise SessionlabError(f"--events/--users: need 1 <= users <= events, got {events=} {users=}")
    prof, tz = get_profile(profile), _tz(timezone)
    _check_memory(events, users)
    r_size, r_start, r_gap, r_camp, r_order, r_ids = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)
    )
    sizes, steady = _user_sizes(r_size, events, users, prof)
    user_of_row = np.repeat(np.arange(users), sizes)
    firsts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    gaps = _gaps(r_gap, prof, steady[user_of_row])
    gaps[firsts] = 0
    elapsed = np.cumsum(gaps)
    ts = elapsed - elapsed[firsts][user_of_row] + _starts(r_start, users, prof, tz, year)[user_of_row]
    landing = gaps > TIMEOUTS_MS[0]
    landing[firsts] = True
    codes = r_camp.integers(0, prof.n_campaigns, events)
    draw = r_camp.random(events)
    camp = np.where(draw < np.where(landing, prof.p_landing_campaign, prof.p_mid_campaign), codes, -1)
    late = r_order.random(events) < prof.disorder
    delay = np.where(late, r_order.integers(1, prof.max_delay_ms + 1, events), 0)
    order = np.argsort(ts + delay, kind="stable")
    names = np.array(("", *_CAMPAIGN_NAMES[: prof.n_campaigns]))
    ids = r_ids.permutation(users).astype(np.int64) + 1
    meta = {"profile": profile, "seed": seed, "events": events, "users": users, "year": year}
    return Workload(ids[user_of_row][order], ts[order], names[camp[order] + 1], timezone, meta)


def _iso_arrow(ts_ms: np.ndarray, timezone: str) -> Any:
    """:func:`iso_local` as an Arrow string array, built by Arrow's kernels (no per-row Python)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    ts = np.asarray(ts_ms, dtype=np.int64)
    off = utc_offset_ms(ts, _tz(timezone).key)
    uniq, index = np.unique(off // 1000, return_inverse=True)
    names = [f"{'-' if s < 0 else '+'}{abs(s) // 3600:02d}:{abs(s) % 3600 // 60:02d}" for s in uniq.tolist()]
    suffix = pc.take(pa.array(names, pa.string()), pa.array(index.astype(np.int32)))
    # Arrow writes a millisecond timestamp as "YYYY-MM-DD HH:MM:SS.fff"; ISO-8601 wants the "T"
    text = pc.utf8_replace_slice(pa.array(ts + off, pa.timestamp("ms")).cast(pa.string()), 10, 11, "T")
    return pc.binary_join_element_wise(text, suffix, "")


def iso_local(ts_ms: np.ndarray, timezone: str) -> np.ndarray:
    """ISO-8601 strings with millisecond precision and the UTC offset of ``timezone`` at each instant."""
    return np.asarray(_iso_arrow(ts_ms, timezone).to_numpy(zero_copy_only=False), dtype=str)


#: Rows per block written: the CSV is formatted and the Parquet row groups are written a block at a
#: time (pyarrow's default row-group size, so the file is the one ``write_table`` would write).
_BLOCK = 1 << 20
_CSV_HEADER = b"user_id,timestamp_ms,timestamp,campaign\n"


def _block_table(wl: Workload, lo: int, hi: int) -> Any:
    """Rows ``lo:hi`` of ``wl`` as the Arrow table of ``events.parquet`` (an empty campaign is null)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    ts = wl.timestamp_ms[lo:hi]
    camp = pa.array(wl.campaign[lo:hi], pa.string())
    return pa.table(
        {
            "user_id": pa.array(wl.user_id[lo:hi], pa.int64()),
            "timestamp_ms": pa.array(ts, pa.int64()),
            "timestamp": pa.array(ts, pa.timestamp("ms", tz=wl.timezone)),
            "campaign": pc.if_else(pc.equal(camp, ""), pa.scalar(None, pa.string()), camp),
        }
    )


def _csv_blocks(wl: Workload) -> Iterator[bytes | memoryview]:
    """``events.csv`` a block of rows at a time: the header, then ``user_id,timestamp_ms,timestamp,campaign``
    lines (no quoting: campaign names are written as they are, as they always were)."""
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    yield _CSV_HEADER
    for lo in range(0, len(wl), _BLOCK):
        hi = min(lo + _BLOCK, len(wl))
        ts = wl.timestamp_ms[lo:hi]
        fields = (
            pa.array(wl.user_id[lo:hi], pa.int64()).cast(pa.string()),
            pa.array(ts, pa.int64()).cast(pa.string()),
            _iso_arrow(ts, wl.timezone),
            pa.array(wl.campaign[lo:hi], pa.string()),
        )
        lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, ","), "\n", "")
        offsets, data = lines.buffers()[1:3]  # the lines, end to end, are the values' bytes
        bounds = np.frombuffer(offsets, dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
        yield memoryview(data)[int(bounds[0]) : int(bounds[-1])]


def csv_bytes(wl: Workload) -> bytes:
    """The workload as CSV text (header ``user_id,timestamp_ms,timestamp,campaign``)."""
    return b"".join(_csv_blocks(wl))


class _Hashed:
    """A binary file that hashes what is written through it (SHA-256), so no file is read back."""

    def __init__(self, fh: Any) -> None:
        self._fh, self.digest, self.closed = fh, hashlib.sha256(), False

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self._fh.write(data)

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:  # the atomic writer closes the real file
        self.closed = True


@contextmanager
def _hashed_open(path: Path) -> Iterator[_Hashed]:
    with atomic_open(path, binary=True) as fh:
        yield _Hashed(fh)


def write_csv(wl: Workload, path: Path) -> str:
    """Write ``events.csv`` atomically, a block at a time; return its SHA-256."""
    with _hashed_open(path) as out:
        for block in _csv_blocks(wl):
            out.write(block)
    return out.digest.hexdigest()


def write_parquet(wl: Workload, path: Path) -> str:
    """Write ``events.parquet`` atomically, a row group at a time; return its SHA-256."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    with _hashed_open(path) as out:
        writer = None
        try:
            for lo in range(0, max(len(wl), 1), _BLOCK):
                table = _block_table(wl, lo, min(lo + _BLOCK, len(wl)))
                if writer is None:
                    writer = pq.ParquetWriter(out, table.schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    return out.digest.hexdigest()


def _write_npy(array: np.ndarray, path: Path) -> str:
    with _hashed_open(path) as out:
        np.save(out, array, allow_pickle=False)
    return out.digest.hexdigest()


def write_workload(wl: Workload, out: str | Path) -> dict[str, str]:
    """Write ``wl`` into directory ``out`` (created); return file name -> SHA-256 of what was written.

    Every file is written atomically and streamed a block of rows at a time (no whole-file copy in
    memory); a directory or file that cannot be written is a one-line
    :class:`~simulator.errors.ScenarioError`.
    """
    out = ensure_dir(out)
    ensure_dir(out / "columns")
    digests = {"events.csv": write_csv(wl, out / "events.csv")}
    digests["events.parquet"] = write_parquet(wl, out / "events.parquet")
    columns = {"user_id": wl.user_id, "timestamp_ms": wl.timestamp_ms, "campaign": wl.campaign.astype(str)}
    for name, array in columns.items():
        digests[f"columns/{name}.npy"] = _write_npy(array, out / "columns" / f"{name}.npy")
    meta = {"format": "sessionlab-workload", "version": 1, **wl.meta, "timezone": wl.timezone}
    meta |= {"columns": ["user_id", "timestamp_ms", "timestamp", "campaign"], "sha256": digests}
    write_atomic(out / "workload.json", (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    return digests


def _read_csv(path: Path, timezone: str, memory: int | None = None) -> Workload:
    """A workload CSV through :func:`simulator.log.logfile.read_log`, the reader ``sessionize`` uses.

    ``timestamp_ms`` (epoch milliseconds) is used when present, else ``timestamp`` (ISO-8601 with a UTC
    offset: a local time without one is refused as ``sessionize`` refuses it). Rows keep file order.
    A file with ``timestamp_ms`` that the in-memory reader would not read within ``memory`` is read in
    blocks by the shard spool's reader (:func:`simulator.log.shards.read_columns`): the same arrays
    and errors, without the whole-file peak (the workload's own arrays stay in memory).
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
    except OSError as err:
        raise SessionlabError(f"{path}: cannot read ({err.strerror})") from None
    except UnicodeDecodeError:
        raise SessionlabError(f"{path}: cannot read file: not UTF-8 text") from None
    fields = [h.strip() for h in header]
    if "user_id" not in fields or not {"timestamp_ms", "timestamp"} & set(fields):
        raise SessionlabError(
            f"{path}: expected columns user_id, timestamp_ms (or timestamp) and optional "
            f"campaign; found {', '.join(fields) or 'no header'}"
        )
    cols = LogColumns(time="timestamp_ms", epoch="ms") if "timestamp_ms" in fields else LogColumns()
    if cols.epoch is not None and not _fits(path, memory):  # read in blocks, as the shard spool reads
        from simulator.log.shards import read_columns  # noqa: PLC0415 - pyarrow only when read

        user, ts, campaign = read_columns(path, cols)
        return Workload(_user_numbers(user), ts, campaign, timezone, {"events": len(ts)}, path)
    user_id, ts, campaign = _columns(read_log(path, cols, fmt="csv"))
    return Workload(user_id, ts, campaign, timezone, {"events": len(ts)}, path)


def _fits(path: Path, memory: int | None) -> bool:
    """Whether the in-memory reader reads ``path`` within ``memory`` (default: half the memory
    available, as ``sessionize --memory``)."""
    from simulator.log import shards  # noqa: PLC0415 - pyarrow only when read

    return shards.fits_in_memory(str(path), "csv", memory or shards.default_memory())


def _columns(log: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A log's users (as int64 numbers), epoch-ms times and campaign names ("" = none)."""
    if log.campaign is None:
        campaign = np.full(len(log.ts), "", dtype=str)
    else:
        names = np.array([*log.campaigns, ""], dtype=str)  # code -1 (none) -> the last, ""
        campaign = names[log.campaign]
    return _user_numbers(log.user), log.ts.astype(np.int64), campaign


def _user_numbers(user: np.ndarray) -> np.ndarray:
    """int64 user ids: the numbers themselves when every id is an integer, else dense codes of the text."""
    if user.dtype.kind in "iu":
        return user.astype(np.int64)
    if all(u.lstrip("-").isdigit() for u in user.tolist()):
        try:
            return user.astype(np.int64)
        except (OverflowError, ValueError):  # beyond int64: codes of the text, as for names
            pass
    return np.unique(user, return_inverse=True)[1].astype(np.int64)


def from_export(path: str | Path, fmt: str, timezone: str | None = None) -> Workload:
    """A platform export (``ga4``, ``snowplow``, ``posthog``, ``amplitude``, ``mixpanel``, ``matomo``) as a
    workload: its users, times and campaigns, read by the platform's reader
    (:func:`simulator.log.formats.read_export`, through :func:`~simulator.log.logfile.read_log`), rows in
    file order. An event without a user or a readable time is an error naming its row."""
    path = Path(path)
    user_id, ts, campaign = _columns(read_log(path, LogColumns(), fmt=fmt))
    meta = {
        "source": "export",
        "format": fmt,
        "file": str(path),
        "events": len(ts),
        "users": len(np.unique(user_id)),
    }
    return Workload(user_id, ts, campaign, timezone or DEFAULT_TIMEZONE, meta, path)


def load_workload(path: str | Path, timezone: str | None = None, *, memory: int | None = None) -> Workload:
    """Read a workload directory (written by :func:`write_workload`) or a CSV file.

    ``timezone`` overrides the directory's recorded time zone; for a bare CSV it defaults to
    :data:`DEFAULT_TIMEZONE`. ``memory``: the budget above which a CSV is read in blocks (default:
    half the memory available).
    """
    path = Path(path)
    if path.is_file():
        return _read_csv(path, timezone or DEFAULT_TIMEZONE, memory)
    meta_path = path / "workload.json"
    if not meta_path.is_file():
        raise SessionlabError(
            f"{path}: not a workload (expected a directory with workload.json, or a CSV file)"
        )
    meta = json.loads(meta_path.read_text())
    tz = timezone or meta.get("timezone", DEFAULT_TIMEZONE)
    cols = path / "columns"
    if not (cols / "timestamp_ms.npy").is_file():
        wl = _read_csv(path / "events.csv", tz, memory)
        return Workload(wl.user_id, wl.timestamp_ms, wl.campaign, tz, meta, path)
    load = {name: np.load(cols / f"{name}.npy") for name in ("user_id", "timestamp_ms", "campaign")}
    return Workload(load["user_id"], load["timestamp_ms"], load["campaign"], tz, meta, path)

"""``sessionize`` on streams: standard input and compressed files go to the shard spool when they
exceed ``--memory`` and stay in memory when they fit; either way the file and the counts are the
in-memory path's. Ctrl-C on a piped, compressed log removes the spool."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from simulator.cli.main import ExitCode, main
from simulator.log.shards import BASE_BYTES, CSV_FACTOR
from tests.spool_interrupt import ctrl_c_once_shards_exist

ROOT = Path(__file__).resolve().parents[2]


def _csv(n: int, seed: int = 2) -> bytes:
    rng = np.random.default_rng(seed)
    users = rng.integers(0, max(1, n // 4), n)
    ts = 1_714_550_000_000 + rng.integers(0, 3 * 86_400_000, n)
    camp = np.array(["", "spring", "summer"])[rng.integers(0, 3, n)]
    body = "".join(f"u{u},{t},{c}\n" for u, t, c in zip(users, ts, camp, strict=True))
    return ("user_id,timestamp,campaign\n" + body).encode()


def _jsonl(n: int) -> bytes:
    rng = np.random.default_rng(4)
    rows = zip(
        rng.integers(0, max(1, n // 4), n), 1_714_550_000_000 + rng.integers(0, 86_400_000, n), strict=True
    )
    return "".join(json.dumps({"user_id": int(u), "timestamp": int(t)}) + "\n" for u, t in rows).encode()


def _gzip(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "gzip") as stream:
        stream.write(data)
    return sink.getvalue().to_pybytes()


def _run(argv: list[str], capsys, monkeypatch, stdin: bytes | None = None) -> tuple[dict, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    assert main(["sessionize", *argv, "--json"]) == ExitCode.OK
    out = capsys.readouterr()
    return json.loads(out.out), out.err


#: 256 MiB lets the in-memory path read this much text: (256 MiB - 192 MiB) / 16 = 4 MiB.
LIMIT = ((256 << 20) - BASE_BYTES) // CSV_FACTOR


@pytest.mark.parametrize(("kind", "fmt"), [("csv", []), ("jsonl", ["--format", "jsonl"])])
def test_standard_input_over_the_budget_is_spooled_under_it_read_in_memory(
    tmp_path: Path, capsys, monkeypatch, kind: str, fmt: list[str]
) -> None:
    big = _csv(200_000) if kind == "csv" else _jsonl(120_000)
    assert len(big) > LIMIT  # over the 4 MiB that fit
    small = big[: big.index(b"\n", 1 << 16) + 1]
    for data, spooled in ((_gzip(big), True), (big, True), (small, False)):
        mem, ooc = tmp_path / "m.parquet", tmp_path / "o.parquet"
        src = tmp_path / (f"e.{kind}.gz" if data[:2] == b"\x1f\x8b" else f"e.{kind}")
        src.write_bytes(data)
        a, err_a = _run([str(src), "--out", str(mem), "--no-campaign"], capsys, monkeypatch)
        assert "shards" not in a  # a file of 4 MiB or less fits: read in memory without --memory
        b, err_b = _run(["-", *fmt, "--out", str(ooc), "--memory", "256MiB", "--no-campaign"], capsys,
                        monkeypatch, stdin=data)  # fmt: skip
        assert ("shards" in b) == spooled
        b.pop("shards", None)
        a["file"] = "<stdin>"
        assert b == a
        assert err_b == err_a.replace(str(src), "<stdin>")
        assert ooc.read_bytes() == mem.read_bytes()
        src.unlink()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["m.parquet", "o.parquet"]


def test_a_compressed_file_over_the_budget_is_spooled(tmp_path: Path, capsys, monkeypatch) -> None:
    data = _csv(200_000)
    src = tmp_path / "e.csv.gz"
    src.write_bytes(_gzip(data))
    assert src.stat().st_size * CSV_FACTOR < (256 << 20) - BASE_BYTES < len(data) * CSV_FACTOR
    mem, ooc = tmp_path / "m.csv", tmp_path / "o.csv"
    a, _ = _run([str(src), "--out", str(mem)], capsys, monkeypatch)
    b, _ = _run([str(src), "--out", str(ooc), "--memory", "256MiB"], capsys, monkeypatch)
    assert b.pop("shards") >= 1  # decompressed, it is over what fits
    assert b == a
    assert ooc.read_bytes() == mem.read_bytes()


def test_ctrl_c_on_a_piped_compressed_log_removes_the_shards(tmp_path: Path) -> None:
    """SIGINT while a gzip CSV streams in from a pipe: exit 130, no shard directory, no output."""
    src = tmp_path / "e.csv.gz"
    src.write_bytes(_gzip(_csv(3_000_000)))
    out = tmp_path / "out" / "s.parquet"
    out.parent.mkdir()
    with src.open("rb") as stdin:
        ctrl_c_once_shards_exist(
            ["sessionize", "-", "--out", str(out), "--out-of-core", "--memory", "256MiB"], out, stdin
        )

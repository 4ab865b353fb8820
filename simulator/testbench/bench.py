"""Benchmark sessionizers on the same workloads: wall time, events/s, peak memory, ratio to a baseline.

Every run happens in a fresh child process (``subprocess`` + ``sys.executable``): the child loads the
workload and prepares the sessionizer (not timed), says ``ready``, runs it once (timed with
``perf_counter``) and reports. Peak memory is the child's resident high-water mark during the run
(``VmHWM`` after resetting it through ``/proc/self/clear_refs``; on other systems ``ru_maxrss`` of the
whole child), or, for ``cmd:`` sessionizers, the command's own peak (``RUSAGE_CHILDREN``). A run that
exceeds the time limit is killed and recorded as ``timeout``; larger sizes of that sessionizer are
then skipped. Runs are interleaved (each repeat runs every sessionizer) so drift hits all alike.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from simulator.errors import SessionlabError
from simulator.log.atomic import write_atomic
from simulator.schema import MAX_SIZE
from simulator.testbench.adapters import Sessionizer
from simulator.testbench.baselines import sessionlab_ids
from simulator.testbench.workload import generate, load_workload, write_workload

__all__ = ["Measurement", "bench", "parse_sizes", "plot", "render_table"]

_GRACE_S = 30.0  #: after SIGTERM at the time limit, before SIGKILL
_LOAD_LIMIT_S = 600.0  #: time allowed to load a workload and prepare a sessionizer in the child


def parse_sizes(text: str) -> list[int]:
    """``"1e4,1e5,1e6"`` -> ``[10000, 100000, 1000000]``; a :class:`SessionlabError` otherwise."""
    sizes = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            value = -1.0
        if not (1 <= value <= MAX_SIZE) or value != int(value):
            raise SessionlabError(
                f"--sizes: expected whole numbers from 1 to 1e9 like 1e4,1e5,1e6; got {part.strip()!r}"
            )
        sizes.append(int(value))
    return sorted(set(sizes))


@dataclass
class Measurement:
    """All repeats of one sessionizer on one size."""

    sessionizer: str
    label: str
    size: int
    status: str = "ok"  #: ok, timeout, error, skipped
    message: str = ""
    wall_s: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    sessions: int | None = None
    sessions_expected: int | None = None
    ratio: float | None = None  #: median wall time / the baseline's, same size

    @property
    def median_s(self) -> float | None:
        return float(np.median(self.wall_s)) if self.wall_s else None

    @property
    def spread(self) -> float | None:
        """(max - min) / median of the wall times."""
        m = self.median_s
        return (max(self.wall_s) - min(self.wall_s)) / m if m else None

    @property
    def events_per_s(self) -> float | None:
        m = self.median_s
        return self.size / m if m else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "median_s": self.median_s,
            "spread": self.spread,
            "events_per_s": self.events_per_s,
        }


def _status_kb(key: str) -> int | None:
    try:
        match = re.search(rf"{key}:\s+(\d+)", Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _child_main() -> None:
    """Child process entry: run :func:`_child_run`; a sessionlab error becomes one line on stderr.

    The child is the isolation: ``py:`` functions run in it directly. SIGTERM (the parent's time
    limit) becomes SystemExit, so a ``cmd:`` sessionizer's process group is killed on the way out.
    """
    from simulator.testbench.adapters import in_process  # noqa: PLC0415

    in_process()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        _child_run()
    except SessionlabError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)


def _child_run() -> None:
    """Load, prepare, report ready, run once, report the measurement as JSON."""
    job = json.loads(sys.stdin.readline())
    sys.path[:0] = job["sys_path"]
    from simulator.testbench.adapters import parse_sessionizer  # noqa: PLC0415

    wl = load_workload(job["workload"])
    sz = parse_sessionizer(job["spec"])
    with tempfile.TemporaryDirectory(prefix="sessionlab-bench-") as tmp:
        prepared = sz.prepare(wl, job["definition"], Path(tmp), job["time_limit"])
        reset = _reset_peak()
        print("ready", flush=True)
        t0 = time.perf_counter()
        prepared.run()
        wall = time.perf_counter() - t0
        hwm = _status_kb("VmHWM") if reset else None
        own = hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if sz.kind == "cmd" else own
        ids = prepared.ids()
    print(json.dumps({"wall_s": wall, "peak_rss_mb": peak_kb / 1024, "sessions": len(np.unique(ids))}))


def _run_child(job: dict[str, Any], time_limit: float) -> dict[str, Any]:
    """One run in a fresh interpreter; {"status": ..., ...}."""
    code = "from simulator.testbench.bench import _child_main; _child_main()"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(job["sys_path"])}
    with subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(job) + "\n").encode())
        proc.stdin.close()
        proc.stdin = None  # (communicate() below would flush it)
        ready, out, err = _await_ready(proc, _LOAD_LIMIT_S)
        if ready is None:  # not ready in time: the child ends what it started, then exits
            _stop(proc)
            return {
                "status": "error",
                "message": "did not load the workload and prepare the sessionizer within "
                f"{_LOAD_LIMIT_S:g} s (the child process was ended; a module that hangs at import, or a "
                "cmd: that never returns?)",
            }
        if not ready:  # it has closed its output: it is ending (or is ended now)
            try:
                _, more_err = proc.communicate(timeout=_GRACE_S)
            except subprocess.TimeoutExpired:
                _stop(proc)
                more_err = b""
            return {"status": "error", "message": _last_line((err + more_err).decode(errors="replace"))}
        try:
            more_out, more_err = proc.communicate(timeout=time_limit)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return {"status": "timeout", "message": f"over the {time_limit:g} s time limit"}
        out, err = (out + more_out).decode(errors="replace"), (err + more_err).decode(errors="replace")
        if proc.returncode != 0:
            return {"status": "error", "message": _last_line(err)}
        return {"status": "ok", **json.loads(out.strip().splitlines()[-1])}


def _await_ready(proc: subprocess.Popen, limit: float) -> tuple[bool | None, bytes, bytes]:
    """Wait (at most ``limit`` s) for the child's ``ready`` line; both pipes drained meanwhile.

    True once it said ready, False if it closed its output without saying it (it failed), None if the
    deadline passed first. Also what it wrote after the line, and its standard error so far. Lines
    before ``ready`` (a sessionizer that prints while it loads) are skipped.
    """
    assert proc.stdout is not None
    assert proc.stderr is not None
    out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
    out, err = bytearray(), bytearray()
    deadline = time.monotonic() + limit
    while True:
        lines = out.split(b"\n")
        for k, line in enumerate(lines[:-1]):
            if line.strip() == b"ready":
                return True, b"\n".join(lines[k + 1 :]), bytes(err)
        left = deadline - time.monotonic()
        readable = select.select([out_fd, err_fd], [], [], left)[0] if left > 0 else []
        if not readable:
            return None, b"", bytes(err)
        for fd in readable:
            chunk = os.read(fd, 1 << 16)
            if fd == err_fd:
                err += chunk
            elif chunk:
                out += chunk
            else:  # its output closed without ready: it failed (or will end now)
                return False, b"", bytes(err)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (the child kills a cmd:'s process group on the way out), SIGKILL after the grace period."""
    proc.terminate()
    try:
        proc.communicate(timeout=_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "the child process failed without a message"


def _workload_dir(out: Path, size: int, profile: str, seed: int, timezone: str) -> Path:
    """Generate (or reuse, when already there with the same arguments) the workload of one size."""
    users = max(1, size // 20)
    path = out / "workloads" / f"{profile}-{size}-s{seed}"
    meta_path = path / "workload.json"
    want = {"profile": profile, "events": size, "users": users, "seed": seed, "timezone": timezone}
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        if all(meta.get(k) == v for k, v in want.items()):
            return path
    write_workload(generate(size, users, profile, seed, timezone=timezone), path)
    return path


def bench(
    sessionizers: list[Sessionizer],
    sizes: list[int],
    *,
    out: Path,
    definition: str = "ga4",
    repeats: int = 3,
    baseline: str | None = None,
    time_limit: float = 60.0,
    profile: str = "realistic",
    seed: int = 0,
    timezone: str = "America/New_York",
    progress: Any = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Measurement]:
    """Measure each sessionizer on one workload per size (``size // 20`` users); see the module doc.

    ``progress`` gets a line per finished run (``--verbose``); ``on_progress`` gets 1 per run slot
    (``len(sizes) * repeats * len(sessionizers)`` in all, skipped runs included), for a progress bar.
    """
    tick = on_progress or (lambda n: None)
    sys_path = [p or os.getcwd() for p in sys.path if p == "" or Path(p).exists()]
    results: list[Measurement] = []
    dead: set[str] = set()
    for size in sizes:
        path = _workload_dir(out, size, profile, seed, timezone)
        wl = load_workload(path)
        ref = sessionlab_ids(
            wl.user_id, wl.timestamp_ms, wl.campaign, definition=definition, timezone=wl.timezone
        )
        expected = len(np.unique(ref))
        row = {
            sz.spec: Measurement(sz.spec, sz.label, size, sessions_expected=expected) for sz in sessionizers
        }
        for sz in sessionizers:
            if sz.spec in dead:
                row[sz.spec].status, row[sz.spec].message = "skipped", "timed out at a smaller size"
        for _ in range(repeats):
            for sz in sessionizers:
                m = row[sz.spec]
                if m.status != "ok":
                    tick(1)
                    continue
                job = {"workload": str(path), "spec": sz.spec, "definition": definition,
                       "time_limit": time_limit, "sys_path": sys_path}  # fmt: skip
                res = _run_child(job, time_limit)
                tick(1)
                if progress:
                    progress(f"{size:>12,} {sz.label:<20} {res['status']:<8} {res.get('wall_s', 0):.4f} s")
                if res["status"] != "ok":
                    m.status, m.message = res["status"], res["message"]
                    if res["status"] == "timeout":
                        dead.add(sz.spec)
                    continue
                m.wall_s.append(res["wall_s"])
                m.peak_rss_mb.append(res["peak_rss_mb"])
                m.sessions = res["sessions"]
        base = next((m for m in row.values() if baseline in (m.label, m.sessionizer)), None)
        for m in row.values():
            if base and base.median_s and m.median_s:
                m.ratio = m.median_s / base.median_s
        results += row.values()
    return results


def _fmt_rate(x: float | None) -> str:
    if x is None:
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.2f} {unit}"
    return f"{x:.0f}"


def render_table(results: list[Measurement], baseline: str | None) -> str:
    """A fixed-width table: one line per (size, sessionizer)."""
    header = [
        "events",
        "sessionizer",
        "median s",
        "spread",
        "events/s",
        "peak MB",
        f"x {baseline or '-'}",
        "sessions",
    ]
    rows = []
    for m in results:
        if m.status != "ok":
            rows.append([f"{m.size:,}", m.label, m.status, "", "", "", "", m.message])
            continue
        same = "ok" if m.sessions == m.sessions_expected else f"{m.sessions:,} != {m.sessions_expected:,}"
        rows.append([
            f"{m.size:,}", m.label, f"{m.median_s:.4f}", f"{100 * (m.spread or 0):.0f}%",
            _fmt_rate(m.events_per_s), f"{max(m.peak_rss_mb):.0f}",
            f"{m.ratio:.2f}" if m.ratio is not None else "-", same,
        ])  # fmt: skip
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(line.format(*r).rstrip() for r in [header, *rows]) + "\n"


def plot(results: list[Measurement], path: Path, title: str) -> str | None:
    """Write a log-log PNG of events/s against size; return why not when matplotlib is missing."""
    try:
        import matplotlib as mpl  # noqa: PLC0415

        mpl.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return "no chart: matplotlib is not installed (pip install 'sessionlab[plots]')"
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    plotted = False
    for label in dict.fromkeys(m.label for m in results):
        pts = [(m.size, m.events_per_s) for m in results if m.label == label and m.events_per_s]
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=label)
            plotted = True
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="events in the workload",
        ylabel="events per second (median)",
        title=title,
    )
    ax.grid(True, which="both", alpha=0.3)
    if plotted:  # a legend without lines warns ("No artists with labels")
        ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    write_atomic(path, buf.getvalue())
    return None


def machine() -> dict[str, Any]:
    """Where the benchmark ran."""
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}

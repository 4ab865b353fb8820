"""Per-day and per-campaign tables (terminal, JSON) and the chart of observed vs simulated band per day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.report.tables import format_table

if TYPE_CHECKING:
    from simulator.testing.observed import SliceCheck

__all__ = ["observed_json", "render_slices", "write_band_chart"]


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:,.1f}" if abs(v) < 1e15 else f"{v:g}"  # noqa: PLR2004


def render_slices(
    checks: list[SliceCheck], notices: list[str], scenario: str, n: int, confidence: float = 0.95
) -> str:
    """A terminal table: one row per day or campaign, with the likeliest cause under each miss."""
    rows = []
    for s in checks:
        c = s.check
        where = s.day.isoformat() if s.day else f"campaign {s.campaign}"
        verdict = "ok" if c.verdict.startswith("consistent") else "OUTSIDE" if s.outside else "inconclusive"
        rows.append(
            [
                s.key,
                where,
                _num(c.observed),
                _num(c.mean),
                f"[{_num(c.low)}, {_num(c.high)}]",
                "" if c.percentile is None else f"{c.percentile:.0f}",
                verdict,
            ]
        )
    out = [
        f"scenario {scenario!r}  {n} replications  observed reports vs simulated, per day and campaign",
        "",
        format_table(
            [
                "metric",
                "day / campaign",
                "observed",
                "simulated mean",
                f"central {confidence:.0%}",
                "pct",
                "verdict",
            ],
            rows,
        ),
    ]
    misses = [s for s in checks if s.outside]
    if misses:
        out.append("")
        out.append("outside the band, likeliest cause:")
        out.extend(
            f"  {s.key} {s.day.isoformat() if s.day else 'campaign ' + str(s.campaign)}: {s.cause}"
            for s in misses
        )
    else:
        out.append("\nevery day and campaign is inside the band the setup explains")
    if notices:
        out.append("")
        out.extend(f"notice: {n_}" for n_ in notices)
    return "\n".join(out) + "\n"


def observed_json(checks: list[SliceCheck], notices: list[str]) -> dict[str, Any]:
    """The ``"slices"`` and ``"notices"`` blocks of ``compare --json``."""
    return {"slices": [s.to_dict() for s in checks], "notices": list(notices)}


def write_band_chart(checks: list[SliceCheck], directory: Path) -> list[Path]:
    """One PNG per daily key: observed points over the simulated central band. Returns the paths."""
    from simulator.report.plots import _figure, _png  # noqa: PLC0415 - matplotlib on use

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    keys = sorted({s.key for s in checks if s.day is not None})
    for key in keys:
        days = [s for s in checks if s.key == key and s.day is not None and s.check.mean is not None]
        fig = _figure(7, 3.5)
        ax = fig.add_subplot(1, 1, 1)
        x = list(range(len(days)))
        ax.fill_between(
            x, [s.check.low for s in days], [s.check.high for s in days], alpha=0.3, label="simulated band"
        )
        ax.plot(x, [s.check.mean for s in days], label="simulated mean")
        ax.scatter(
            x,
            [s.check.observed for s in days],
            color=["red" if s.outside else "black" for s in days],
            zorder=3,
            label="observed",
        )
        ax.set_xticks(x, [s.day.strftime("%m-%d") for s in days if s.day])
        ax.set_title(f"{key}: observed vs simulated band per day")
        ax.legend(loc="best", fontsize="small")
        path = directory / f"observed_{key.replace('.', '_')}.png"
        path.write_bytes(_png(fig))
        written.append(path)
    (directory / "observed.json").write_text(json.dumps(observed_json(checks, []), indent=2) + "\n")
    return written

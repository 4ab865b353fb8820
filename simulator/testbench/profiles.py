"""Named workload profiles: the mix of gaps, users, start times, campaigns and row disorder.

A profile is data. :func:`simulator.testbench.workload.generate` turns a profile, a size and a seed into
an event log. Every component is there to hit a place where sessionizers disagree:

* **gap components** (per event, the time since the user's previous event):
  ``burst`` (lognormal, median 20 s: clicks inside a visit), ``idle`` (uniform 1-25 min: reading),
  ``near`` (a common timeout -- 30 min, 2 h, 24 h -- plus or minus up to 2 min), ``exact`` (a common
  timeout exactly, or 1 ms less or more), ``tie`` (0 ms: an identical timestamp), ``away`` (lognormal,
  median 6 h: the user comes back later);
* **users**: a share with exactly one event, a share of *heavy* users who take a share of all events,
  a share of *steady* users whose gaps are all 1-20 min (very long sessions that cross midnight and any
  max-duration cap), the rest lognormal-sized;
* **start times**: uniform over the year, at a local midnight (from 45 min before to 15 min after) or at a
  daylight-saving change of the property's time zone (both changes of the year);
* **campaigns**: a session's landing event (the user's first, or after more than 30 min) carries a
  campaign with probability ``p_landing_campaign`` (else it is a direct return: empty campaign); an
  event inside a visit carries one with probability ``p_mid_campaign`` (a second ad click, maybe to
  the same campaign);
* **disorder**: a share of rows is written late (delayed by up to ``max_delay_ms`` in file order), so
  rows of a user arrive out of time order.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from simulator.errors import SessionlabError
from simulator.schema import did_you_mean

__all__ = ["GAP_COMPONENTS", "PROFILES", "TIMEOUTS_MS", "Profile", "get_profile"]

_S, _MIN, _H = 1_000, 60_000, 3_600_000
#: The timeouts workloads aim at: GA4/UA/Matomo's 30 min, SalesReach's 2 h, a day.
TIMEOUTS_MS: tuple[int, ...] = (30 * _MIN, 2 * _H, 24 * _H)
GAP_COMPONENTS: tuple[str, ...] = ("burst", "idle", "near", "exact", "tie", "away")


@dataclass(frozen=True, slots=True)
class Profile:
    """A workload recipe; weights are relative and need not sum to 1."""

    name: str
    summary: str
    gaps: dict[str, float]  #: weight per gap component (keys from GAP_COMPONENTS)
    starts: dict[str, float]  #: weight per start kind: "uniform", "midnight", "dst"
    single_share: float  #: share of users with exactly one event
    heavy_share: float  #: share of users who are heavy
    heavy_events: float  #: share of all events that go to heavy users
    steady_share: float  #: share of (non-single) users whose gaps are all 1-20 min
    size_sigma: float  #: lognormal sigma of the other users' sizes
    p_landing_campaign: float
    p_mid_campaign: float
    n_campaigns: int
    disorder: float  #: share of rows written late
    max_delay_ms: int


PROFILES = MappingProxyType(
    {
        p.name: p
        for p in (
            Profile(
                "edge-cases",
                "Every trap at once, densely: gaps of exactly 30 min / 2 h / 24 h and +-1 ms, identical "
                "timestamps, visits across local midnight and both DST changes, campaign changes and "
                "direct returns, long steady sessions, one-event users, 5% of rows out of order.",
                gaps={"burst": 3, "idle": 2, "near": 1.5, "exact": 1.5, "tie": 1, "away": 1},
                starts={"uniform": 1, "midnight": 2, "dst": 2},
                single_share=0.15,
                heavy_share=0.01,
                heavy_events=0.10,
                steady_share=0.05,
                size_sigma=1.0,
                p_landing_campaign=0.6,
                p_mid_campaign=0.15,
                n_campaigns=4,
                disorder=0.05,
                max_delay_ms=3 * _H,
            ),
            Profile(
                "realistic",
                "Traffic shaped like a web property: short clicks and reading gaps, returns hours later, "
                "few events near a timeout and very few exactly on one, 1% identical timestamps "
                "(double-fired tags), 40% one-event users, 0.5% of rows late.",
                gaps={"burst": 60, "idle": 20, "near": 2, "exact": 0.2, "tie": 1, "away": 17},
                starts={"uniform": 8, "midnight": 1, "dst": 0.2},
                single_share=0.40,
                heavy_share=0.001,
                heavy_events=0.05,
                steady_share=0.01,
                size_sigma=1.2,
                p_landing_campaign=0.5,
                p_mid_campaign=0.03,
                n_campaigns=12,
                disorder=0.005,
                max_delay_ms=10 * _MIN,
            ),
            Profile(
                "heavy-users",
                "A few users hold most events (0.5% of users take 70% of rows: at 10^7 events and 10^4 "
                "users, 50 users with 1.4 x 10^5 events each): bots, kiosks and long steady sessions; "
                "tests per-user cost and sessions that run for days.",
                gaps={"burst": 50, "idle": 25, "near": 2, "exact": 0.5, "tie": 2, "away": 20},
                starts={"uniform": 4, "midnight": 1, "dst": 1},
                single_share=0.20,
                heavy_share=0.005,
                heavy_events=0.70,
                steady_share=0.10,
                size_sigma=1.0,
                p_landing_campaign=0.4,
                p_mid_campaign=0.05,
                n_campaigns=8,
                disorder=0.01,
                max_delay_ms=30 * _MIN,
            ),
        )
    }
)


def get_profile(name: str) -> Profile:
    """The profile called ``name``; a :class:`SessionlabError` listing the profiles otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        hint = did_you_mean(name, tuple(PROFILES))
        raise SessionlabError(
            f"--profile: unknown workload profile {name!r}; available: {', '.join(PROFILES)}"
            + (f"; {hint}" if hint else "")
        ) from None

"""Named session definitions as data: name -> rules, with the source each one follows."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.sessions.rules import Inactivity, Rule

__all__ = ["PRESETS", "Definition"]

_MIN = 60_000
_HOUR = 60 * _MIN


@dataclass(frozen=True, slots=True)
class Definition:
    """A session definition: a name, the rules that start sessions, and where they come from."""

    name: str
    rules: tuple[Rule, ...]
    summary: str
    source: str = ""


PRESETS: dict[str, Definition] = {
    d.name: d
    for d in (
        Definition(
            "ga4",
            (Inactivity(30 * _MIN, boundary="same"),),
            "Google Analytics 4: a session ends after 30 minutes of inactivity; no midnight or "
            "campaign split. A gap of exactly 30 minutes stays in the session (Google says 'after "
            "30 minutes of inactivity'; equality is undocumented).",
            "https://support.google.com/analytics/answer/9191807",
        ),
        Definition(
            "salesreach",
            (Inactivity(2 * _HOUR, boundary="same"),),
            "SalesReach: a rolling two-hour window after the user's last action.",
            "https://help.salesreach.io/what-is-the-difference-between-session-and",
        ),
    )
}

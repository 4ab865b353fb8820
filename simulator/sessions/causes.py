"""Split causes: which rule started a session (int8 codes stored per row)."""

from __future__ import annotations

import enum

__all__ = ["MEANINGS", "SplitCause"]


class SplitCause(enum.IntEnum):
    """Which rule started a session; 0 on rows that continue a session."""

    CONTINUES = 0
    NEW_USER = 1  #: the user's first event
    INACTIVITY = 2
    MIDNIGHT = 3
    CAMPAIGN_CHANGE = 4
    MAX_DURATION = 5
    MAX_EVENTS = 6
    FIXED_WINDOW = 7
    PLUGIN_RULE = 8  #: any third-party rule (entry-point group ``sessionlab.rules``)
    DYNAMIC_GAP = 9  #: no earlier event of the user covers this one (per-event gaps, from a column)
    SESSION_EVENT = 10  #: a named session-start event, or the event after a named session-end event
    FLAG = 11  #: the event carries a new-session flag (Matomo's ``new_visit=1``)

    @property
    def meaning(self) -> str:
        """What the cause means, in plain words."""
        return MEANINGS[self]

    @property
    def label(self) -> str:
        return self.name.lower()


#: Plain-language meaning of every cause (listings, docs, the audit).
MEANINGS: dict[SplitCause, str] = {
    SplitCause.CONTINUES: "the event continues the session",
    SplitCause.NEW_USER: "the user's first event",
    SplitCause.INACTIVITY: "the gap to the user's previous event exceeds the inactivity timeout",
    SplitCause.MIDNIGHT: "the local calendar date changed since the user's previous event",
    SplitCause.CAMPAIGN_CHANGE: "the event brings a campaign other than the session's",
    SplitCause.MAX_DURATION: "the session reached its maximum length",
    SplitCause.MAX_EVENTS: "the session reached its maximum number of events",
    SplitCause.FIXED_WINDOW: "the session's fixed window ended",
    SplitCause.PLUGIN_RULE: "a third-party rule started a session",
    SplitCause.DYNAMIC_GAP: "no earlier event of the user covers this one: each event keeps the session "
    "open for its own gap (a per-event timeout from a column, as Spark's and Flink's dynamic gaps)",
    SplitCause.SESSION_EVENT: "a named session-start event (e.g. a login), or the first event after a "
    "named session-end event (e.g. a logout), as in Mixpanel's event-based sessions",
    SplitCause.FLAG: "the event carries a new-session flag (Matomo's new_visit=1 tracking parameter)",
}

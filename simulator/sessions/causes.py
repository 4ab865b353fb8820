"""Split causes: which rule started a session (int8 codes stored per row)."""

from __future__ import annotations

import enum

__all__ = ["SplitCause"]


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

    @property
    def label(self) -> str:
        return self.name.lower()

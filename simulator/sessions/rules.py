"""Session rules: small records that say when a new session starts, and the causes they name.

A *stateless* rule decides from an event and the previous event of the same user (inactivity gap,
midnight, campaign change) and is evaluated as a vectorised mask. A *stateful* rule needs the session
so far (max duration, max events, fixed window) and is evaluated in one ordered pass. Rules are data;
the kernels that evaluate them live in :mod:`simulator.sessions.kernels`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar, Literal

__all__ = ["Boundary", "Inactivity", "Rule", "SplitCause"]

#: What an event exactly ``timeout`` after the previous one does: ``"same"`` keeps it in the session
#: (Spark, Flink, Kafka Streams), ``"new"`` starts a new one (Beam, Matomo).
Boundary = Literal["same", "new"]


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

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Inactivity:
    """A new session starts when the gap to the user's previous event exceeds ``timeout_ms``.

    Parameters
    ----------
    timeout_ms
        The inactivity timeout in milliseconds (> 0).
    boundary
        What a gap of exactly ``timeout_ms`` does: ``"same"`` (stay) or ``"new"`` (split).
    """

    timeout_ms: int
    boundary: Boundary = "same"

    name: ClassVar[str] = "inactivity"
    cause: ClassVar[SplitCause] = SplitCause.INACTIVITY
    stateful: ClassVar[bool] = False

    def __post_init__(self) -> None:
        if self.timeout_ms <= 0:
            raise ValueError(f"timeout_ms(={self.timeout_ms!r}) must be > 0")
        if self.boundary not in ("same", "new"):
            raise ValueError(f"boundary(={self.boundary!r}) must be 'same' or 'new'")


Rule = Inactivity

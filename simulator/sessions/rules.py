"""Session rules: small records that say when a new session starts, and the causes they name.

A *stateless* rule decides from an event and the previous event of the same user (inactivity gap,
midnight) and is evaluated as a vectorised mask (:meth:`starts`). A *stateful* rule needs the session
so far (max duration, max events, fixed window, campaign change) and offers, for any session start, the
first row at which it would start the next session (:meth:`next_start`); the kernels combine every
stateful rule of a definition in one ordered pass (:func:`simulator.sessions.kernels.split_causes`).

Rules are data: frozen records built from scenario parameters by :meth:`from_config`. The numpy work
lives in :mod:`simulator.sessions.kernels`. Third-party rules follow the same contract
(:class:`RuleContract`) and arrive through the ``sessionlab.rules`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

from simulator.schema import Choice, Duration, Field, Int, Str, Table, TimeZone, format_duration
from simulator.sessions import kernels
from simulator.sessions.causes import SplitCause

if TYPE_CHECKING:
    from simulator.sessions.kernels import Columns

__all__ = [
    "BUILTIN_RULES",
    "Boundary",
    "CampaignChange",
    "DynamicGap",
    "FixedWindow",
    "Flag",
    "Inactivity",
    "MaxDuration",
    "MaxEvents",
    "Midnight",
    "NextStart",
    "Rule",
    "RuleContract",
    "SessionEvents",
    "SplitCause",
]

#: What an event exactly ``timeout`` after the previous one does: ``"same"`` keeps it in the session
#: (Spark, Flink, Kafka Streams), ``"new"`` starts a new one (Beam, Matomo).
Boundary = Literal["same", "new"]

NextStart = kernels.NextStart


@runtime_checkable
class RuleContract(Protocol):
    """What every rule provides; third-party rules are checked against it when registered.

    A stateless rule (``stateful = False``) implements ``starts(cols, timezone) -> bool array``
    (True where a session starts; the user's first row is handled by the kernel). A stateful rule
    implements ``next_start(cols, timezone) -> NextStart``. ``cause`` is a :class:`SplitCause`
    (third-party rules use ``SplitCause.PLUGIN_RULE``). ``from_config`` builds the rule from the
    parameters of a scenario's rule table (raising ``ValueError`` on bad ones); ``params`` documents
    them (name -> description); ``describe()`` renders the rule for listings.
    """

    name: ClassVar[str]
    cause: ClassVar[SplitCause]
    stateful: ClassVar[bool]
    params: ClassVar[Mapping[str, str]]

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> RuleContract: ...

    def describe(self) -> str: ...


class _Builtin:
    """Shared plumbing: a schema for the scenario parameters, construction and description."""

    __slots__ = ()
    schema: ClassVar[Table]
    params: ClassVar[Mapping[str, str]]

    def __init_subclass__(cls) -> None:
        cls.params = {key: f.doc for key, f in cls.schema.fields.items()}

    @classmethod
    def from_config(cls, params: Mapping[str, Any]) -> Any:
        """Build from already validated parameters (keys of ``schema``)."""
        return cls(**params)

    def config(self) -> dict[str, Any]:
        """The parameters as a scenario file writes them (durations as strings)."""
        out = {}
        for key in self.schema.fields:
            value = getattr(self, key)
            if value is None:
                continue
            is_duration = isinstance(self.schema.fields[key].check, Duration)
            out[key] = format_duration(value) if is_duration else value
        return out

    def describe(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.config().items())
        return f"{self.name}({args})"  # type: ignore[attr-defined]


def _positive(value: int, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name}(={value!r}) must be a positive integer")


@dataclass(frozen=True, slots=True)
class Inactivity(_Builtin):
    """A new session starts when the gap to the user's previous event exceeds ``timeout`` ms.

    Parameters
    ----------
    timeout
        The inactivity timeout in milliseconds (> 0).
    boundary
        What a gap of exactly ``timeout`` does: ``"same"`` (stay, the default) or ``"new"`` (split).
    """

    timeout: int
    boundary: Boundary = "same"

    name: ClassVar[str] = "inactivity"
    cause: ClassVar[SplitCause] = SplitCause.INACTIVITY
    stateful: ClassVar[bool] = False
    schema: ClassVar[Table] = Table(
        {
            "timeout": Field(Duration(positive=True), "inactivity timeout", required=True),
            "boundary": Field(
                Choice(("same", "new"), "a boundary"),
                "a gap of exactly the timeout: 'same' keeps the event, 'new' splits",
                default="same",
            ),
        }
    )

    def __post_init__(self) -> None:
        _positive(self.timeout, "timeout")
        if self.boundary not in ("same", "new"):
            raise ValueError(f"boundary(={self.boundary!r}) must be 'same' or 'new'")

    @property
    def timeout_ms(self) -> int:
        """Alias of ``timeout`` (milliseconds)."""
        return self.timeout

    @property
    def gap_start(self) -> int:
        """The smallest gap to the user's previous event (ms) at which this rule starts a session."""
        return self.timeout + (self.boundary == "same")

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        return kernels.inactivity_starts(cols, self.timeout, self.boundary)


@dataclass(frozen=True, slots=True)
class Midnight(_Builtin):
    """A new session starts when the local calendar date changes between two events of a user.

    Parameters
    ----------
    timezone
        IANA zone of the calendar; ``None`` (the default) uses the analytics property's zone
        (the scenario's ``[scenario] timezone`` or ``--timezone``). DST-correct via ``zoneinfo``.
    """

    timezone: str | None = None

    name: ClassVar[str] = "midnight"
    cause: ClassVar[SplitCause] = SplitCause.MIDNIGHT
    stateful: ClassVar[bool] = False
    schema: ClassVar[Table] = Table(
        {"timezone": Field(TimeZone(), "calendar time zone (default: the property's)")}
    )

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        return kernels.midnight_starts(cols, self.timezone or timezone)


def _elapsed_boundary(default: str) -> Field:
    return Field(
        Choice(("same", "new"), "a boundary"),
        "an event exactly the limit after the session's first: 'same' keeps it, 'new' splits",
        default=default,
    )


def _check_boundary(boundary: str) -> None:
    if boundary not in ("same", "new"):
        raise ValueError(f"boundary(={boundary!r}) must be 'same' or 'new'")


@dataclass(frozen=True, slots=True)
class MaxDuration(_Builtin):
    """A session ends ``limit`` ms after its first event.

    ``boundary`` says what an event exactly ``limit`` after the session's first does: ``"new"`` (the
    default) starts a new session at or after the limit (GA4's, UA's reading); ``"same"`` keeps it,
    so only an event *more than* ``limit`` after the first starts one (posthog-js ``sessionid.ts``:
    ``sessionPastMaximumLength = timestamp - startTimestamp > SESSION_LENGTH_LIMIT``).
    """

    limit: int
    boundary: Boundary = "new"

    name: ClassVar[str] = "max_duration"
    cause: ClassVar[SplitCause] = SplitCause.MAX_DURATION
    stateful: ClassVar[bool] = True
    schema: ClassVar[Table] = Table(
        {
            "limit": Field(Duration(positive=True), "longest session, from its first event", required=True),
            "boundary": _elapsed_boundary("new"),
        }
    )

    def __post_init__(self) -> None:
        _positive(self.limit, "limit")
        _check_boundary(self.boundary)

    def config(self) -> dict[str, Any]:
        out = _Builtin.config(self)
        if self.boundary == "new":  # the default reads as before
            del out["boundary"]
        return out

    @property
    def reach(self) -> int:
        """The smallest time (ms) after the session's first event at which an event starts a new one."""
        return self.limit + (self.boundary == "same")

    @property
    def gap_start(self) -> int:
        """A gap to the user's previous event of at least this (ms) starts a session, whatever the
        session so far: the kernel takes those rows as stateless starts (shorter segments)."""
        return self.reach

    def next_start(self, cols: Columns, timezone: str) -> NextStart:
        return kernels.elapsed_next_start(cols, self.reach)


@dataclass(frozen=True, slots=True)
class FixedWindow(_Builtin):
    """Everything within ``length`` ms of a session's first event is one session (Amazon-style).

    The window is ``[first, first + length)`` with ``boundary="new"`` (the default): the first event
    at or after ``first + length`` opens the next window; ``boundary="same"`` closes the window at
    ``first + length`` inclusive. Unlike :class:`MaxDuration`, a definition made of this rule alone
    has no inactivity timeout. (Same arithmetic; a different cause in the bridge.)
    """

    length: int
    boundary: Boundary = "new"

    name: ClassVar[str] = "fixed_window"
    cause: ClassVar[SplitCause] = SplitCause.FIXED_WINDOW
    stateful: ClassVar[bool] = True
    schema: ClassVar[Table] = Table(
        {
            "length": Field(Duration(positive=True), "window length, from its first event", required=True),
            "boundary": _elapsed_boundary("new"),
        }
    )

    def __post_init__(self) -> None:
        _positive(self.length, "length")
        _check_boundary(self.boundary)

    def config(self) -> dict[str, Any]:
        out = _Builtin.config(self)
        if self.boundary == "new":
            del out["boundary"]
        return out

    @property
    def reach(self) -> int:
        """The smallest time (ms) after the window's first event at which an event opens the next."""
        return self.length + (self.boundary == "same")

    @property
    def gap_start(self) -> int:
        """A gap to the user's previous event of at least this (ms) starts a session, whatever the
        session so far: the kernel takes those rows as stateless starts (shorter segments)."""
        return self.reach

    def next_start(self, cols: Columns, timezone: str) -> NextStart:
        return kernels.elapsed_next_start(cols, self.reach)


@dataclass(frozen=True, slots=True)
class MaxEvents(_Builtin):
    """A session ends after ``n`` events; the ``n + 1``-th starts a new one."""

    n: int

    name: ClassVar[str] = "max_events"
    cause: ClassVar[SplitCause] = SplitCause.MAX_EVENTS
    stateful: ClassVar[bool] = True
    schema: ClassVar[Table] = Table(
        {"n": Field(Int(1, what="a number of events"), "events per session at most", required=True)}
    )

    def __post_init__(self) -> None:
        _positive(self.n, "n")

    def next_start(self, cols: Columns, timezone: str) -> NextStart:
        return kernels.count_next_start(cols, self.n)


@dataclass(frozen=True, slots=True)
class CampaignChange(_Builtin):
    """A new session starts when an event brings a campaign different from the session's.

    An event without a campaign (code < 0: direct, internal navigation, reload) never starts one.
    The session's campaign is the first non-empty campaign seen in it. ``from_none`` says what the
    first campaign in a session that began without one does: ``"adopt"`` (the default) makes it the
    session's campaign; ``"split"`` starts a new session (Matomo counts absent -> present as a change).
    ``referrals`` says whether a hit brought by a link on another site (``Columns.referral``, e.g. the
    return from a payment provider) is a source like a campaign: ``"ignore"`` (the default) or
    ``"split"`` (Universal Analytics: every new source or referral starts a session).
    """

    from_none: Literal["adopt", "split"] = "adopt"
    referrals: Literal["ignore", "split"] = "ignore"

    name: ClassVar[str] = "campaign_change"
    cause: ClassVar[SplitCause] = SplitCause.CAMPAIGN_CHANGE
    stateful: ClassVar[bool] = True
    schema: ClassVar[Table] = Table(
        {
            "from_none": Field(
                Choice(("adopt", "split"), "a choice"),
                "a campaign arriving in a session begun without one: 'adopt' it or 'split'",
                default="adopt",
            ),
            "referrals": Field(
                Choice(("ignore", "split"), "a choice"),
                "a hit brought by a link on another site: 'ignore' it or 'split' as on a new campaign",
                default="ignore",
            ),
        }
    )

    def __post_init__(self) -> None:
        if self.from_none not in ("adopt", "split"):
            raise ValueError(f"from_none(={self.from_none!r}) must be 'adopt' or 'split'")
        if self.referrals not in ("ignore", "split"):
            raise ValueError(f"referrals(={self.referrals!r}) must be 'ignore' or 'split'")

    def config(self) -> dict[str, Any]:
        out = {"from_none": self.from_none}
        if self.referrals != "ignore":  # listed only when set, so existing listings read as before
            out["referrals"] = self.referrals
        return out

    def next_start(self, cols: Columns, timezone: str) -> NextStart:
        if self.referrals == "split" and cols.referral is not None and cols.campaign is not None:
            # a referring site is a source like a campaign: codes past every campaign code
            shift = np.int64(max(int(cols.campaign.max(initial=-1)), 0) + 1)
            camp = np.where(cols.referral >= 0, shift + cols.referral, cols.campaign)
            cols = cols._replace(campaign=camp)
        return kernels.campaign_next_start(cols, self.from_none)


@dataclass(frozen=True, slots=True)
class DynamicGap(_Builtin):
    """A per-event timeout taken from a column: each event keeps its user's session open for its own gap.

    Event ``k`` covers ``[ts[k], ts[k] + gap[k]]``; an event starts a session when no earlier event of
    the user covers it, i.e. when its time is past the latest ``ts + gap`` of the user's earlier events.
    This is Spark's ``session_window`` with a column as the gap ("the timestamp of latest input of
    the session + gap duration", https://spark.apache.org/docs/latest/api/python/reference/pyspark.sql/api/
    pyspark.sql.functions.session_window.html) and Flink's ``EventTimeSessionWindows.withDynamicGap``
    (windows ``[ts, ts + gap)`` merged when they overlap or touch, https://nightlies.apache.org/flink/
    flink-docs-stable/docs/dev/datastream/operators/windows/#session-windows). With one gap for every
    event it is :class:`Inactivity` with that timeout.

    The gap values come from the log (``sessionize(..., gap=...)``, ``--gap-column``): integer
    milliseconds, durations (``"30m"``) or Arrow/NumPy durations. ``default`` is the gap of an event
    without one (none: such an event is an error, never a silent zero). ``boundary`` says what an event
    exactly at the end of the cover does (``"same"``: stays, as Spark and Flink). A cut made by another
    rule (midnight) does not reset the cover, as :class:`Inactivity` looks at the previous event
    whatever session it is in.
    """

    default: int | None = None
    boundary: Boundary = "same"

    name: ClassVar[str] = "dynamic_gap"
    cause: ClassVar[SplitCause] = SplitCause.DYNAMIC_GAP
    stateful: ClassVar[bool] = False
    whole: ClassVar[bool] = True  #: needs the whole log, not a block with one row of look-behind
    needs: ClassVar[str] = "gap"
    schema: ClassVar[Table] = Table(
        {
            "default": Field(Duration(), "gap of an event whose gap column is empty (default: an error)"),
            "boundary": Field(
                Choice(("same", "new"), "a boundary"),
                "an event exactly at the end of the earlier events' gaps: 'same' keeps it, 'new' splits",
                default="same",
            ),
        }
    )

    def __post_init__(self) -> None:
        if self.default is not None and (
            not isinstance(self.default, int) or isinstance(self.default, bool) or self.default < 0
        ):
            raise ValueError(f"default(={self.default!r}) must be a duration of zero or more")
        _check_boundary(self.boundary)

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        return kernels.dynamic_gap_starts(cols, self.default, self.boundary)


_EVENT_NAME = Str(r".+", "an event name")


@dataclass(frozen=True, slots=True)
class SessionEvents(_Builtin):
    """Event-defined sessions: a session starts at a named event and ends after another.

    Mixpanel's event-based sessions (https://docs.mixpanel.com/docs/features/sessions): "the session
    starts when the user performs the starting event and ends when the user performs the ending
    event". An event named ``start`` starts a session; the event after one named ``end`` starts the
    next (give either or both). Mixpanel's other limits are rules of their own: add ``midnight``
    (Mixpanel resets sessions at midnight in the project's zone) and ``inactivity`` for a timeout.
    sessionlab puts every event in a session, so the events after an end event and before the next
    start event form a session of their own; Mixpanel leaves them outside any session.
    """

    start: str | None = None
    end: str | None = None

    name: ClassVar[str] = "session_events"
    cause: ClassVar[SplitCause] = SplitCause.SESSION_EVENT
    stateful: ClassVar[bool] = False
    needs: ClassVar[str] = "event"
    schema: ClassVar[Table] = Table(
        {
            "start": Field(_EVENT_NAME, "name of the event that starts a session (e.g. 'Login')"),
            "end": Field(_EVENT_NAME, "name of the event that ends a session (e.g. 'Logout')"),
        }
    )

    def __post_init__(self) -> None:
        for key in ("start", "end"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{key}(={value!r}) must be a non-empty event name")
        if self.start is None and self.end is None:
            raise ValueError(
                "give 'start' (the event that starts a session), 'end' (the one that ends it) or both"
            )

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        return kernels.session_event_starts(cols, self.start, self.end)


@dataclass(frozen=True, slots=True)
class Flag(_Builtin):
    """A forced new session on a flag column: an event with the flag set starts a session.

    Matomo's Tracking HTTP API parameter ``new_visit`` ("If set to 1, will force a new visit to be
    created for this action", https://developer.matomo.org/api-reference/tracking-api). The flags come
    from the log (``sessionize(..., flag=...)``, ``--flag-column``): booleans, 0/1, or the strings
    ``1``/``0``/``true``/``false``/``yes``/``no`` (an empty value is not set).
    """

    name: ClassVar[str] = "flag"
    cause: ClassVar[SplitCause] = SplitCause.FLAG
    stateful: ClassVar[bool] = False
    needs: ClassVar[str] = "flag"
    schema: ClassVar[Table] = Table({})

    def starts(self, cols: Columns, timezone: str) -> np.ndarray:
        return kernels.flag_starts(cols)


#: Any rule object: a built-in record or a registered third-party rule.
Rule = (
    Inactivity
    | Midnight
    | MaxDuration
    | FixedWindow
    | MaxEvents
    | CampaignChange
    | DynamicGap
    | SessionEvents
    | Flag
    | RuleContract
)

#: Built-in rules as lazy import strings (name -> "module:Class"), registered like third-party ones.
BUILTIN_RULES: Mapping[str, str] = {
    "inactivity": "simulator.sessions.rules:Inactivity",
    "midnight": "simulator.sessions.rules:Midnight",
    "campaign_change": "simulator.sessions.rules:CampaignChange",
    "max_duration": "simulator.sessions.rules:MaxDuration",
    "max_events": "simulator.sessions.rules:MaxEvents",
    "fixed_window": "simulator.sessions.rules:FixedWindow",
    "dynamic_gap": "simulator.sessions.rules:DynamicGap",
    "session_events": "simulator.sessions.rules:SessionEvents",
    "flag": "simulator.sessions.rules:Flag",
}

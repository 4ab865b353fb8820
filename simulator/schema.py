"""A small declarative schema for TOML documents: checks that convert, key paths, one-line errors.

Each check is a callable ``check(value, ctx) -> converted`` that calls ``ctx.fail(...)`` on bad input,
and knows its JSON Schema (``check.json_schema()``), so the validator and the published schema come
from one source. ``Ctx`` tracks the key path as validation descends (as cfgv does)::

    with ctx.at("journey"), ctx.at(2):
        ...
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from simulator.errors import ScenarioError

__all__ = [
    "MAX_DURATION_MS",
    "MAX_NAME",
    "MAX_NESTING",
    "MAX_NUMBER",
    "MAX_SHOWN",
    "MAX_SIZE",
    "MAX_YEAR",
    "MIN_YEAR",
    "MISSING",
    "Bool",
    "Choice",
    "Ctx",
    "Date",
    "DateTime",
    "Duration",
    "Field",
    "Int",
    "ListOf",
    "Num",
    "OneOf",
    "Str",
    "Table",
    "TimeZone",
    "check_timezone",
    "format_duration",
    "nesting_depth",
    "parse_duration",
    "shorten",
]

MISSING: Any = object()

_UNIT_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
#: Durations beyond ten years are typos (and would overflow dates and int64 milliseconds downstream).
MAX_DURATION_MS = 3660 * 86_400_000
#: Sizes (events, users, visitors) beyond this are typos: a billion events already needs tens of GB.
MAX_SIZE = 10**9
#: Numbers beyond this magnitude are typos, and would overflow floats (10**400) downstream.
MAX_NUMBER = 10**15
#: Tables and arrays nested deeper than this are refused (no scenario needs more than four levels).
MAX_NESTING = 32
#: Longer names (time zones, campaigns, journeys) are refused: the longest IANA zone name has 32 characters.
MAX_NAME = 200
#: The first and the last year a scenario may start in; every duration is at most ten years, so a run ends
#: before 9000 + 10 and every local date stays within Python's datetime range.
MIN_YEAR, MAX_YEAR = 1900, 8999
#: Values shown in error messages are cut to this many characters.
MAX_SHOWN = 80
DURATION_HELP = 'a duration like "30m", "2h" or "1h30m" (units: ms, s, m, h, d, w)'


def parse_duration(text: str) -> int:
    """Parse a duration string such as ``"1h30m"`` into integer milliseconds.

    Raises
    ------
    ValueError
        If ``text`` is not a sequence of ``<number><unit>`` parts.
    """
    compact = text.replace(" ", "")
    pos, total = 0, 0.0
    for match in _DURATION_RE.finditer(compact):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_MS[match.group(2)]
        pos = match.end()
    if pos != len(compact) or not compact:
        raise ValueError(f"expected {DURATION_HELP}, got {text!r}")
    if total > MAX_DURATION_MS:
        raise ValueError(f"expected a duration of at most 3660d (ten years), got {text!r}")
    return round(total)


def format_duration(ms: int) -> str:
    """Render milliseconds with the largest exact units, e.g. ``5_400_000 -> "1h30m"``."""
    if ms == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNIT_MS[unit]
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    return "".join(parts)


@dataclass
class Ctx:
    """Where validation is: the file and the key path, for error messages."""

    path: str
    keys: list[str | int] = field(default_factory=list)

    @contextmanager
    def at(self, key: str | int) -> Iterator[None]:
        """Descend into ``key`` (a table key, or a 0-based index shown 1-based)."""
        self.keys.append(key)
        try:
            yield
        finally:
            self.keys.pop()

    def key_path(self) -> str:
        out = ""
        for key in self.keys:
            if isinstance(key, int):
                out += f"[{key + 1}]"
            else:
                out += f".{key}" if out else key
        return out

    def fail(self, message: str, hint: str = "") -> NoReturn:
        raise ScenarioError(self.path, self.key_path(), message, hint)


def shorten(value: Any, limit: int = MAX_SHOWN) -> str:
    """``repr(value)`` cut to about ``limit`` characters, saying how long it was: for error messages.

    The one helper every error line uses to show a bad value, so a 4 MB value stays one readable line.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
        return f"an integer of about {value.bit_length() * 30103 // 100000 + 1} digits"  # log10(2)
    if isinstance(value, dict | list) and len(value) > limit // 4:
        return f"a {type(value).__name__} of {len(value)} items"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        return f"a deeply nested {type(value).__name__}"
    if len(text) <= limit:
        return text
    return f"{text[: limit - 20]}...{text[-10:]} ({len(text)} characters)"


def _got(value: Any) -> str:
    if isinstance(value, str) or (isinstance(value, int) and abs(value) > MAX_NUMBER):
        return shorten(value)
    return f"{type(value).__name__} {shorten(value)}"


def nesting_depth(value: Any) -> int:
    """How deep lists and dicts nest in ``value`` (a scalar is 0), without recursion."""
    depth, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            depth = max(depth, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return depth


def did_you_mean(word: str, options: Sequence[str], *, cutoff: float = 0.6, substrings: bool = False) -> str:
    """A "did you mean 'x'?" hint, or an empty string when nothing is close.

    ``substrings`` also offers an option that contains the word or is contained in it (ignoring
    case) when no option is close enough: ``user`` -> ``user_pseudo_id`` for column names.
    """
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    if not close and substrings:
        close = [o for o in options if word.lower() in o.lower() or o.lower() in word.lower()]
    return f"did you mean {close[0]!r}?" if close else ""


class Str:
    def __init__(self, pattern: str | None = None, what: str = "a string") -> None:
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what

    def __call__(self, value: Any, ctx: Ctx) -> str:
        if not isinstance(value, str) or (self.pattern and not self.pattern.fullmatch(value)):
            ctx.fail(f"expected {self.what}, got {_got(value)}")
        return value

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = f"^(?:{self.pattern.pattern})$"
        return out


class Bool:
    def __call__(self, value: Any, ctx: Ctx) -> bool:
        if not isinstance(value, bool):
            ctx.fail(f"expected true or false, got {_got(value)}")
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Num:
    """A finite number within [lo, hi] (either bound optional); ``lo_open`` excludes lo."""

    def __init__(
        self,
        lo: float | None = None,
        hi: float | None = None,
        *,
        lo_open: bool = False,
        what: str = "a number",
        hint: str = "",
    ) -> None:
        self.lo, self.hi, self.lo_open, self.what, self.hint = lo, hi, lo_open, what, hint

    def _range(self) -> str:
        lo = "" if self.lo is None else f"{'>' if self.lo_open else '>='} {self.lo:g}"
        hi = "" if self.hi is None else f"<= {self.hi:g}"
        return " and ".join(p for p in (lo, hi) if p)

    def __call__(self, value: Any, ctx: Ctx) -> float:
        ok_type = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok_type or (isinstance(value, float) and not math.isfinite(value)):
            ctx.fail(f"expected {self.what}, got {_got(value)}")
        hi = MAX_NUMBER if self.hi is None else self.hi
        lo = -MAX_NUMBER if self.lo is None else self.lo
        if abs(value) > MAX_NUMBER and not lo <= value <= hi:  # before anything converts it to a float
            size = self._range() or f"of at most {MAX_NUMBER:g} in size"
            ctx.fail(f"expected {self.what} {size}, got {_got(value)}", self.hint)
        too_low = self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo)
        if too_low or (self.hi is not None and value > self.hi):
            ctx.fail(f"expected {self.what} {self._range()}, got {shorten(value)}", self.hint)
        return value

    def json_schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "number"}
        if self.lo is not None:
            out["exclusiveMinimum" if self.lo_open else "minimum"] = self.lo
        if self.hi is not None:
            out["maximum"] = self.hi
        return out


class Int(Num):
    def __call__(self, value: Any, ctx: Ctx) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            ctx.fail(f"expected {self.what}, got {_got(value)}")
        return int(super().__call__(value, ctx))

    def json_schema(self) -> dict[str, Any]:
        return {**super().json_schema(), "type": "integer"}


class Choice:
    def __init__(self, options: tuple[str, ...] | Callable[[], tuple[str, ...]], what: str) -> None:
        self._options = options
        self.what = what

    @property
    def options(self) -> tuple[str, ...]:
        return self._options() if callable(self._options) else self._options

    def __call__(self, value: Any, ctx: Ctx) -> str:
        options = self.options
        if not isinstance(value, str) or value not in options:
            shown = ", ".join(repr(o) for o in options)
            hint = did_you_mean(value, options) if isinstance(value, str) else ""
            ctx.fail(f"expected {self.what} (one of {shown}), got {_got(value)}", hint)
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.options)}


class Duration:
    """A duration string, converted to integer milliseconds."""

    def __init__(self, *, positive: bool = False) -> None:
        self.positive = positive

    def __call__(self, value: Any, ctx: Ctx) -> int:
        if not isinstance(value, str):
            ctx.fail(f"expected {DURATION_HELP}, got {_got(value)}", "durations are quoted strings")
        try:
            ms = parse_duration(value)
        except ValueError as err:
            ctx.fail(str(err))
        if self.positive and ms <= 0:
            ctx.fail(f"expected a duration greater than zero, got {value!r}")
        return ms

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d|w)\s*)+$"}


_TZ_HELP = "expected an IANA time zone name like 'Europe/Berlin'"


def check_timezone(name: str) -> ZoneInfo:
    """The zone called ``name``; ``ValueError`` with the expected form and a "did you mean" if none.

    The one place time-zone names are validated: scenario files, ``--timezone`` flags, workloads.
    """
    if not isinstance(name, str):
        raise TypeError(f"{_TZ_HELP}, got {_got(name)}")
    if len(name) <= MAX_NAME and "\0" not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):  # "America" is a directory
            pass
    hint = did_you_mean(name, sorted(available_timezones())) if len(name) <= MAX_NAME else ""
    raise ValueError(f"{_TZ_HELP}, got {shorten(name)}" + (f"; {hint}" if hint else ""))


class TimeZone:
    def __call__(self, value: Any, ctx: Ctx) -> str:
        if not isinstance(value, str):
            ctx.fail(f"{_TZ_HELP}, got {_got(value)}")
        try:
            check_timezone(value)
        except ValueError as err:
            ctx.fail(str(err))
        return value

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string"}


def _in_years(value: Any, ctx: Ctx) -> Any:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        ctx.fail(f"expected a date in the years {MIN_YEAR} to {MAX_YEAR}, got {value.isoformat()}")
    return value


class DateTime:
    """A TOML date-time (local or with offset), a TOML date, or an ISO-8601 string."""

    def __call__(self, value: Any, ctx: Ctx) -> dt.datetime:
        return _in_years(self._convert(value, ctx), ctx)

    def _convert(self, value: Any, ctx: Ctx) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value)
            except ValueError:
                pass
        ctx.fail(f"expected a date-time like 2024-05-01T09:00:00, got {_got(value)}")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


class Date:
    """A TOML date (``2024-05-02``) or an ISO date string."""

    def __call__(self, value: Any, ctx: Ctx) -> dt.date:
        return _in_years(self._convert(value, ctx), ctx)

    def _convert(self, value: Any, ctx: Ctx) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        ctx.fail(f"expected a date like 2024-05-02, got {_got(value)}")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class ListOf:
    def __init__(self, item: Check, *, min_len: int = 0, max_len: int | None = None, what: str = "") -> None:
        self.item, self.min_len, self.max_len, self.what = item, min_len, max_len, what

    def __call__(self, value: Any, ctx: Ctx) -> list[Any]:
        if not isinstance(value, list):
            ctx.fail(f"expected {self.what or 'a list'}, got {_got(value)}")
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            if self.what:
                ctx.fail(f"expected {self.what}, got {len(value)} item(s)")
            ctx.fail(f"expected at least {self.min_len} item(s), got {len(value)}")
        out = []
        for i, item in enumerate(value):
            with ctx.at(i):
                out.append(self.item(item, ctx))
        return out

    def json_schema(self) -> dict[str, Any]:
        out = {"type": "array", "items": self.item.json_schema(), "minItems": self.min_len}
        if self.max_len is not None:
            out["maxItems"] = self.max_len
        return out


class OneOf:
    """The first check whose ``accepts(value)`` is true; for values with several shapes."""

    def __init__(self, *branches: tuple[Callable[[Any], bool], Check], what: str) -> None:
        self.branches, self.what = branches, what

    def __call__(self, value: Any, ctx: Ctx) -> Any:
        for accepts, check in self.branches:
            if accepts(value):
                return check(value, ctx)
        ctx.fail(f"expected {self.what}, got {_got(value)}")

    def json_schema(self) -> dict[str, Any]:
        return {"anyOf": [check.json_schema() for _, check in self.branches]}


@dataclass(frozen=True)
class Field:
    """One key of a table: its check, whether it is required, its default and its documentation."""

    check: Check
    doc: str = ""
    required: bool = False
    default: Any = MISSING


class Table:
    """A TOML table with a fixed set of keys; unknown keys are errors that list the allowed ones."""

    def __init__(
        self,
        fields: Mapping[str, Field],
        doc: str = "",
        *,
        exactly_one: tuple[str, ...] = (),
        requires: Mapping[str, str] | None = None,
    ) -> None:
        self.fields = dict(fields)
        self.doc = doc
        #: keys of which exactly one must be present (e.g. the forms of an expectation)
        self.exactly_one = exactly_one
        #: key -> the key it only makes sense with (e.g. ``rel`` -> ``approx``)
        self.requires = dict(requires or {})

    def _check_combinations(self, value: dict[str, Any], ctx: Ctx) -> None:
        if self.exactly_one:
            present = [k for k in self.exactly_one if k in value]
            if len(present) != 1:
                found = " and ".join(repr(k) for k in present) if present else "none"
                ctx.fail(f"expected exactly one of {', '.join(self.exactly_one)}; found {found}")
        for key, needed in self.requires.items():
            if key in value and needed not in value:
                with ctx.at(key):
                    ctx.fail(f"only applies together with {needed!r}")

    def __call__(self, value: Any, ctx: Ctx) -> dict[str, Any]:
        if not isinstance(value, dict):
            ctx.fail(f"expected a table, got {_got(value)}")
        allowed = tuple(self.fields)
        for key in value:
            if key not in self.fields:
                with ctx.at(key):
                    ctx.fail(
                        f"unknown key; allowed keys here: {', '.join(allowed) or 'none'}",
                        did_you_mean(key, allowed),
                    )
        self._check_combinations(value, ctx)
        out: dict[str, Any] = {}
        for key, spec in self.fields.items():
            if key in value:
                with ctx.at(key):
                    out[key] = spec.check(value[key], ctx)
            elif spec.required:
                ctx.fail(f"missing required key {key!r}" + (f" ({spec.doc})" if spec.doc else ""))
            elif spec.default is not MISSING:
                out[key] = spec.default
        return out

    def json_schema(self) -> dict[str, Any]:
        props = {}
        for key, spec in self.fields.items():
            prop = dict(spec.check.json_schema())
            if spec.doc:
                prop["description"] = spec.doc
            props[key] = prop
        out: dict[str, Any] = {
            "type": "object",
            "properties": props,
            "additionalProperties": False,
        }
        required = [k for k, s in self.fields.items() if s.required]
        if required:
            out["required"] = required
        if self.doc:
            out["description"] = self.doc
        if self.exactly_one:
            out["oneOf"] = [{"required": [k]} for k in self.exactly_one]
        if self.requires:
            out["dependentRequired"] = {k: [v] for k, v in self.requires.items()}
        return out


Check = Str | Bool | Num | Int | Choice | Duration | TimeZone | Date | DateTime | ListOf | OneOf | Table

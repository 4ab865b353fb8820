"""simulator.spark.sessionize against simulator.sessionize: the same sessions, row by row, for every rule."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.errors import ScenarioError
from simulator.sessions import Definition, sessionize
from simulator.sessions.causes import SplitCause
from simulator.sessions.rules import CampaignChange, FixedWindow, Inactivity, MaxDuration, MaxEvents, Midnight
from simulator.spark import column_names, count_sessions, counts, parse_session_id
from simulator.spark import sessionize as spark_sessionize

MIN = 60_000
HOUR = 60 * MIN
LABELS = [c.label for c in SplitCause]

#: every rule kind, in definitions that make each one fire on the logs below
DEFINITIONS = [
    Definition("paris_midnight", (Inactivity(30 * MIN), Midnight("Europe/Paris")), "test"),
    Definition("campaigns", (Inactivity(30 * MIN), CampaignChange("split")), "test"),
    Definition("max_duration", (Inactivity(30 * MIN), MaxDuration(2 * HOUR)), "test"),
    Definition("max_events", (MaxEvents(3), Inactivity(30 * MIN)), "test"),
    Definition("fixed_window", (FixedWindow(HOUR), Inactivity(20 * MIN)), "test"),
    "ga4",
    "universal_analytics",
]


def _groups(keys: list) -> list[int]:
    """Relabel ids by first appearance, so two assignments compare as partitions of the rows."""
    seen: dict = {}
    return [seen.setdefault(k, len(seen)) for k in keys]


def _check(spark, users, ts, campaigns, definitions, *, partitions: int, timezone: str = "UTC") -> None:
    rows = [(i, u, t, c) for i, (u, t, c) in enumerate(zip(users, ts, campaigns, strict=True))]
    df = spark.createDataFrame(rows, "i long, user_id string, ts long, campaign string")
    out = spark_sessionize(
        df, definitions, time="ts", epoch="ms", campaign="campaign", timezone=timezone, partitions=partitions
    )
    got = sorted(out.collect(), key=lambda r: r["i"])
    assert [r["i"] for r in got] == list(range(len(rows)))
    camp_codes = np.array([-1 if not c else hash(c) % 1000 for c in campaigns], dtype=np.int32)
    for d in definitions:
        ids, causes = sessionize(
            np.array(users), np.array(ts, dtype=np.int64), d, camp_codes, timezone=timezone, with_causes=True
        )
        sid, cause = column_names(d)
        assert [r[cause] for r in got] == [LABELS[c] for c in causes], d
        assert _groups([r[sid] for r in got]) == _groups(ids.tolist()), d
        # each id names its user and the time of its session's first row
        for r in got:
            if r[cause] != "continues":
                user, start, _ = parse_session_id(r[sid])
                assert (user, start) == (r["user_id"], r["ts"])
    n = counts(out, definitions)
    assert (
        count_sessions(
            df,
            definitions,
            time="ts",
            epoch="ms",
            campaign="campaign",
            timezone=timezone,
            partitions=partitions,
        )
        == n
    )  # the same totals counted inside the tasks
    for d in definitions:
        name = d if isinstance(d, str) else d.name
        ids = sessionize(np.array(users), np.array(ts, dtype=np.int64), d, camp_codes, timezone=timezone)
        assert n[name] == {"sessions": len(set(ids.tolist())), "users": len(set(users)), "events": len(rows)}


def test_every_rule_kind_on_a_hand_made_log(spark):
    paris = ZoneInfo("Europe/Paris")
    t0 = int(dt.datetime(2024, 3, 30, 23, 40, tzinfo=paris).timestamp() * 1000)  # DST night
    users = ["a"] * 8 + ["b@1"] * 5 + ["c"] * 4
    ts = [t0 + k * 10 * MIN for k in range(8)]  # crosses Paris midnight, 80 min long
    ts += [t0, t0, t0, t0 + 5 * MIN, t0 + 3 * HOUR]  # ties: max_events cuts inside a millisecond
    ts += [t0 + k * 25 * MIN for k in range(4)]  # 75 min straight: max_duration, fixed_window
    campaigns = ["x", "x", "", "y", "y", "x", None, "x", "a", "b", "a", "", "", "z", "z", "z", "w"]
    _check(spark, users, ts, campaigns, DEFINITIONS, partitions=3, timezone="America/New_York")


def test_midnight_uses_the_property_zone(spark):
    # 23:50 and 00:10 New York time: one session in UTC, two in New York
    t = int(dt.datetime(2024, 5, 1, 23, 50, tzinfo=ZoneInfo("America/New_York")).timestamp() * 1000)
    df = spark.createDataFrame([("u", t), ("u", t + 20 * MIN)], "user_id string, ts long")
    for zone, want in (("UTC", ["new_user", "continues"]), ("America/New_York", ["new_user", "midnight"])):
        out = spark_sessionize(df, "universal_analytics", time="ts", epoch="ms", timezone=zone)
        assert [r["universal_analytics_split_cause"] for r in out.orderBy("ts").collect()] == want


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    events=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 30 * HOUR), st.sampled_from(["", "p", "q", None])),
        min_size=1,
        max_size=120,
    ),
    partitions=st.integers(1, 5),
)
def test_parity_with_the_local_path_on_random_logs(spark, events, partitions):
    users = [f"u{u}" for u, _, _ in events]
    ts = [1_714_500_000_000 + t // 1000 * 1000 for _, t, _ in events]  # whole seconds: many ties
    _check(spark, users, ts, [c for _, _, c in events], DEFINITIONS, partitions=partitions)


def test_ids_do_not_depend_on_the_number_of_partitions(spark):
    rng = np.random.default_rng(7)
    rows = [
        (f"u{u}", int(t))
        for u, t in zip(rng.integers(0, 200, 3000), rng.integers(0, 10 * HOUR, 3000), strict=True)
    ]
    df = spark.createDataFrame(rows, "user_id string, ts long")
    runs = [
        sorted(
            (r["user_id"], r["ts"], r["ga4_session_id"])
            for r in spark_sessionize(df, "ga4", time="ts", epoch="ms", partitions=p).collect()
        )
        for p in (1, 7)
    ]
    assert runs[0] == runs[1]
    assert (
        len({sid for _, _, sid in runs[0]})
        == counts(spark_sessionize(df, "ga4", time="ts", epoch="ms"))["ga4"]["sessions"]
    )


def test_timestamps_and_iso_strings_give_epoch_milliseconds(spark):
    df = spark.sql(
        "SELECT 'u' AS user_id, TIMESTAMP'2024-05-01 10:00:00.123999' AS t, "
        "TIMESTAMP_NTZ'2024-05-01 10:00:00.123' AS n, '2024-05-01T12:00:00.123+02:00' AS s"
    )
    for col in ("t", "n", "s"):
        (row,) = spark_sessionize(df, "ga4", time=col).collect()
        assert parse_session_id(row["ga4_session_id"]) == ("u", 1_714_557_600_123, 0)


def test_bad_input_is_one_clear_error(spark):
    df = spark.createDataFrame([("u", 1)], "user_id string, ts long")
    with pytest.raises(ScenarioError, match="need epoch"):
        spark_sessionize(df, "ga4", time="ts")
    with pytest.raises(ScenarioError, match="no campaign column 'utm'"):
        spark_sessionize(df, "ga4", time="ts", epoch="ms", campaign="utm")

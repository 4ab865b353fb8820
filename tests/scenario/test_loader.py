"""Scenario files: loading, resolved times, and one clear error per kind of bad input."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from simulator import ScenarioError, load_scenario, loads_scenario
from simulator.schema import format_duration, parse_duration

HEAD = """
[scenario]
name = "t"
start = 2024-05-01T09:00:00
timezone = "Europe/Berlin"
"""
JOURNEY = """
[[journey]]
name = "j"
steps = [
  { at = 10:00:00, do = "click", campaign = "c", cost = 0.5 },
  { after = "5m", do = "view", page = "p" },
]
"""


def load(text: str):
    return loads_scenario(textwrap.dedent(text), "s.toml")


def error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(text)
    return info.value


def test_minimal_scenario_resolves_local_times_to_utc():
    """A time of day is on the start date in the property's time zone (CEST = UTC+2)."""
    scenario = load(HEAD + JOURNEY)
    first, second = scenario.journeys[0].steps
    expected = int(dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC).timestamp() * 1000)
    assert first.t_ms == expected
    assert second.t_ms == expected + 5 * 60_000
    assert scenario.definitions == ("ga4",)
    assert scenario.timezone == "Europe/Berlin"


def test_offset_datetime_is_not_shifted_by_the_property_zone():
    """An explicit offset wins over the scenario time zone."""
    text = (
        HEAD
        + """
[[journey]]
name = "j"
steps = [{ at = 2024-05-01T10:00:00Z, do = "return", via = "direct" }]
"""
    )
    step = load(text).journeys[0].steps[0]
    assert step.t_ms == int(dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30m", 1_800_000),
        ("2h", 7_200_000),
        ("1h30m", 5_400_000),
        ("500ms", 500),
        ("1d", 86_400_000),
        ("1.5s", 1_500),
        ("1w", 604_800_000),
        ("1h 30m", 5_400_000),
    ],
)
def test_parse_duration(text, ms):
    """Durations with units convert to integer milliseconds."""
    assert parse_duration(text) == ms


@pytest.mark.parametrize("bad", ["", "30", "30 minutes", "m30", "1h-5m", "5x"])
def test_parse_duration_rejects(bad):
    """Anything but number-unit pairs is refused with the allowed form in the message."""
    with pytest.raises(ValueError, match="duration like"):
        parse_duration(bad)


def test_format_duration_round_trips():
    """format_duration writes what parse_duration reads."""
    for ms in (0, 500, 1_800_000, 5_400_000, 90_061_001):
        assert parse_duration(format_duration(ms)) == ms


def test_journey_count_and_person():
    """count makes identical visitors; person defaults to the journey name."""
    text = HEAD + JOURNEY.replace('name = "j"', 'name = "j"\ncount = 3')
    journey = load(text).journeys[0]
    assert (journey.count, journey.person) == (3, "j")


# --- bad input: each kind gives one line with the key path -----------------------------------

BAD = [
    pytest.param(HEAD + JOURNEY + "\n[oops]\nx = 1\n", "oops", "unknown key", id="unknown-section"),
    pytest.param(
        HEAD.replace('name = "t"', 'name = "t"\nsede = 1') + JOURNEY,
        "scenario.sede",
        "did you mean 'seed'",
        id="unknown-key-did-you-mean",
    ),
    pytest.param(
        HEAD.replace('name = "t"', 'name = "t"\nseed = "one"') + JOURNEY,
        "scenario.seed",
        "expected a seed, got 'one'",
        id="wrong-type",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('after = "5m"', 'after = "5 minutes"'),
        "journey[1].steps[2].after",
        "duration like",
        id="bad-duration",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('after = "5m"', "after = 5"),
        "journey[1].steps[2].after",
        "durations are quoted strings",
        id="duration-not-string",
    ),
    pytest.param(
        HEAD + JOURNEY + '\n[sessions]\ndefinitions = ["gaa4"]\n',
        "sessions.definitions[1]",
        "did you mean 'ga4'",
        id="unknown-definition",
    ),
    pytest.param(
        HEAD.replace("Europe/Berlin", "Europe/Berln") + JOURNEY,
        "scenario.timezone",
        "IANA time zone",
        id="bad-timezone",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('do = "view"', 'do = "veiw"'),
        "journey[1].steps[2].do",
        "did you mean 'view'",
        id="unknown-action",
    ),
    pytest.param(
        HEAD + JOURNEY.replace("cost = 0.5", "cost = -1"),
        "journey[1].steps[1].cost",
        ">= 0",
        id="negative-cost",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('page = "p"', 'page = "p", via = "direct"'),
        "journey[1].steps[2].via",
        "does not apply to do = 'view'",
        id="key-not-for-action",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('after = "5m"', "at = 09:00:00"),
        "journey[1].steps[2].at",
        "goes back in time",
        id="time-goes-backwards",
    ),
    pytest.param(
        HEAD
        + """
[[journey]]
name = "j"
steps = [{ at = 10:00:00, do = "return", via = "bookmark" }]
""",
        "journey[1].steps[1].via",
        "no earlier step does 'bookmark'",
        id="return-without-bookmark",
    ),
    pytest.param(
        HEAD
        + """
[[journey]]
name = "j"
steps = [{ at = 10:00:00, do = "view" }]
""",
        "journey[1].steps[1]",
        "needs an open visit",
        id="view-without-visit",
    ),
    pytest.param(HEAD, "", "nothing to simulate", id="no-journeys"),
    pytest.param(
        HEAD + JOURNEY + '\n[sessions]\ndefinitions = ["ga4", "salesreach"]\n'
        '[[expect]]\nmetric = "sessions"\nequals = 1\n',
        "expect[1]",
        "depends on the session definition",
        id="ambiguous-definition",
    ),
    pytest.param(
        HEAD + JOURNEY + '[[expect]]\nmetric = "clicks"\ndefinition = "ga4"\nequals = 1\n',
        "expect[1].definition",
        "takes no definition",
        id="definition-on-ad-metric",
    ),
    pytest.param(
        HEAD + JOURNEY + '[[expect]]\nmetric = "sesions"\nequals = 1\n',
        "expect[1].metric",
        "did you mean 'sessions'",
        id="unknown-metric",
    ),
    pytest.param(
        HEAD + JOURNEY + '[[expect]]\nmetric = "clicks"\nequals = 1\njourneys = ["k"]\n',
        "expect[1].journeys[1]",
        "no [[journey]] is named 'k'",
        id="unknown-journey",
    ),
    pytest.param(
        HEAD + JOURNEY.replace("cost = 0.5", 'cost = 0.5, tag = true, loss = "blocked"'),
        "journey[1].steps[1].loss",
        "needs tag = false",
        id="loss-with-tag",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('do = "click", campaign = "c",', 'do = "click",'),
        "journey[1].steps[1]",
        "needs a 'campaign'",
        id="click-without-campaign",
    ),
    pytest.param("[scenario\nname=1", "", "not valid TOML", id="not-toml"),
    pytest.param(
        HEAD + JOURNEY.replace("at = 10:00:00", "at = 9999-12-31T23:00:00Z"),
        "journey[1].steps[1]",
        "after the year 9000",
        id="far-future",
    ),
    pytest.param(
        HEAD + JOURNEY.replace('after = "5m"', 'after = "20000d"'),
        "journey[1].steps[2].after",
        "at most 3660d",
        id="duration-too-long",
    ),
    pytest.param(
        HEAD.replace('name = "t"\n', "") + JOURNEY,
        "scenario",
        "missing required key 'name'",
        id="missing-required",
    ),
]


@pytest.mark.parametrize(("text", "key_path", "message"), BAD)
def test_bad_scenarios_give_one_line_with_key_path(text, key_path, message):
    """Each kind of bad input names the file, the key path and what is allowed, on one line."""
    err = error(text)
    assert err.key_path == key_path
    assert err.path == "s.toml"
    assert message in str(err)
    assert "\n" not in str(err)
    assert str(err).startswith(f"s.toml: {key_path}: " if key_path else "s.toml: ")


def test_missing_file_is_a_scenario_error(tmp_path):
    """A file that does not exist is reported, not raised as OSError."""
    with pytest.raises(ScenarioError, match="cannot read file"):
        load_scenario(tmp_path / "nope.toml")


def test_scenario_files_never_execute_code(write_scenario):
    """A string that looks like code stays a string: a name, never evaluated."""
    path = write_scenario(HEAD.replace('"t"', "\"__import__('os').system('false')\"") + JOURNEY)
    assert load_scenario(path).name == "__import__('os').system('false')"


def test_scenario_from_dict_validates_a_parsed_document_like_the_text():
    """A parsed TOML dict builds the same Scenario as the text, is not modified, and is validated."""
    import copy
    import tomllib

    from simulator.scenario.loader import scenario_from_dict

    text = "[scenario]\nname = 'd'\n[population]\nvisitors = 10\n[tracking]\nconsent = 0.5\n"
    doc = tomllib.loads(text)
    before = copy.deepcopy(doc)
    assert scenario_from_dict(doc, "d.toml") == loads_scenario(text, "d.toml")
    assert doc == before
    doc["tracking"]["consent"] = 2
    with pytest.raises(ScenarioError, match=r"^d\.toml: tracking\.consent: expected a fraction"):
        scenario_from_dict(doc, "d.toml")


_GAP_HEAD = HEAD.replace("2024-05-01T09:00:00", "2024-03-31T00:00:00")


@pytest.mark.parametrize(
    ("text", "where", "clock"),
    [
        pytest.param(
            _GAP_HEAD + JOURNEY.replace("at = 10:00:00", "at = 02:30:00"),
            "journey[1].steps[1].at",
            "02:30:00 on 2024-03-31",
            id="step-at",
        ),
        pytest.param(
            _GAP_HEAD + JOURNEY.replace('name = "j"', 'name = "j"\nstart = 2024-03-31T02:00:00'),
            "journey[1].start",
            "02:00:00 on 2024-03-31",
            id="journey-start",
        ),
        pytest.param(
            HEAD.replace("2024-05-01T09:00:00", "2024-03-31T02:59:59") + JOURNEY,
            "scenario.start",
            "02:59:59 on 2024-03-31",
            id="scenario-start",
        ),
    ],
)
def test_a_local_time_in_the_spring_forward_gap_is_refused_where_it_is(text, where, clock):
    """02:00-03:00 on 2024-03-31 does not exist in Berlin: one line naming the place and the gap.

    Before, 02:30 was moved to 03:30 silently and the next step was refused as 'goes back in time'.
    """
    err = error(text)
    assert str(err) == (
        f"s.toml: {where}: {clock} does not exist in Europe/Berlin: the clocks jump from 02:00 to "
        "03:00 (daylight saving time begins); give a time outside the gap, or one with a UTC offset"
    )


def test_times_beside_the_gap_and_with_offsets_are_exact():
    """01:59:59 and 03:00 exist (UTC+1, UTC+2); a time in the gap with an offset names an instant."""
    sc = load(_GAP_HEAD + JOURNEY.replace("at = 10:00:00", "at = 01:59:59"))
    assert sc.journeys[0].steps[0].t_ms == int(
        dt.datetime(2024, 3, 31, 0, 59, 59, tzinfo=dt.UTC).timestamp() * 1000
    )
    sc = load(_GAP_HEAD + JOURNEY.replace("at = 10:00:00", "at = 03:00:00"))
    assert sc.journeys[0].steps[0].t_ms == int(
        dt.datetime(2024, 3, 31, 1, 0, tzinfo=dt.UTC).timestamp() * 1000
    )
    sc = load(_GAP_HEAD + JOURNEY.replace("at = 10:00:00", "at = 2024-03-31T02:30:00+01:00"))
    assert sc.journeys[0].steps[0].t_ms == int(
        dt.datetime(2024, 3, 31, 1, 30, tzinfo=dt.UTC).timestamp() * 1000
    )


def test_the_gap_is_named_in_a_zone_with_a_half_hour_change():
    """Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 on 2024-10-06."""
    head = _GAP_HEAD.replace("2024-03-31T00:00:00", "2024-10-06T00:00:00").replace(
        "Europe/Berlin", "Australia/Lord_Howe"
    )
    err = error(head + JOURNEY.replace("at = 10:00:00", "at = 02:10:00"))
    assert "does not exist in Australia/Lord_Howe: the clocks jump from 02:00 to 02:30" in str(err)


_FOLD_HEAD = HEAD.replace("2024-05-01T09:00:00", "2024-10-27T00:00:00")
#: 02:30 on 2024-10-27 happens twice in Berlin: at 00:30 UTC (CEST, +02:00) and 01:30 UTC (CET, +01:00).
_FIRST = int(dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.UTC).timestamp() * 1000)
_SECOND = _FIRST + 3_600_000


@pytest.mark.parametrize(
    ("text", "where", "clock"),
    [
        pytest.param(
            _FOLD_HEAD + JOURNEY.replace("at = 10:00:00", "at = 02:30:00"),
            "journey[1].steps[1].at",
            "02:30:00 on 2024-10-27",
            id="step-at",
        ),
        pytest.param(
            _FOLD_HEAD + JOURNEY.replace('name = "j"', 'name = "j"\nstart = 2024-10-27T02:00:00'),
            "journey[1].start",
            "02:00:00 on 2024-10-27",
            id="journey-start",
        ),
        pytest.param(
            HEAD.replace("2024-05-01T09:00:00", "2024-10-27T02:59:59") + JOURNEY,
            "scenario.start",
            "02:59:59 on 2024-10-27",
            id="scenario-start",
        ),
    ],
)
def test_a_local_time_in_the_fall_back_fold_is_refused_by_default(text, where, clock):
    """02:00-03:00 on 2024-10-27 happens twice in Berlin: one line naming the place, the two offsets
    and the policy key (before, the first occurrence was taken silently)."""
    assert str(error(text)) == (
        f"s.toml: {where}: {clock} happens twice in Europe/Berlin (the clocks go back: daylight saving "
        "time ends): give it a UTC offset (+02:00 the first time, +01:00 the second), or set [scenario] "
        'ambiguous = "earliest" or "latest"'
    )


@pytest.mark.parametrize(("policy", "expected"), [("earliest", _FIRST), ("latest", _SECOND)])
def test_the_fold_policy_picks_the_first_or_the_second_occurrence(policy, expected):
    """[scenario] ambiguous = earliest | latest: the step, a journey start and the scenario start."""
    head = _FOLD_HEAD.replace("2024-10-27T00:00:00", "2024-10-27T02:30:00") + f'ambiguous = "{policy}"\n'
    sc = load(head + JOURNEY.replace("at = 10:00:00", "at = 02:30:00"))
    assert sc.start_ms == expected
    assert sc.journeys[0].start_ms == expected
    assert sc.journeys[0].steps[0].t_ms == expected
    assert sc.journeys[0].steps[1].t_ms == expected + 5 * 60_000


def test_fold_times_with_an_offset_or_outside_the_fold_need_no_policy():
    """An offset names one instant; 01:59:59 and 03:00 happen once: loaded with the default policy."""
    sc = load(_FOLD_HEAD + JOURNEY.replace("at = 10:00:00", "at = 2024-10-27T02:30:00+01:00"))
    assert sc.journeys[0].steps[0].t_ms == _SECOND
    sc = load(_FOLD_HEAD + JOURNEY.replace("at = 10:00:00", "at = 03:00:00"))
    assert sc.journeys[0].steps[0].t_ms == _SECOND + 30 * 60_000
    sc = load(_FOLD_HEAD + JOURNEY.replace("at = 10:00:00", "at = 01:59:59"))
    assert sc.journeys[0].steps[0].t_ms == _FIRST - 30 * 60_000 - 1000


def test_the_fold_policy_is_one_of_the_logs_words():
    err = error(_FOLD_HEAD + 'ambiguous = "first"\n' + JOURNEY)
    assert str(err) == (
        "s.toml: scenario.ambiguous: expected a policy for local times that happen twice (one of 'error', "
        "'earliest', 'latest'), got 'first'"
    )

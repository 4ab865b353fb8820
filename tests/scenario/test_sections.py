"""Schema of the stochastic sections: defaults, and one-line errors naming the key path."""

from __future__ import annotations

import copy

import pytest

from simulator import ScenarioError, loads_scenario
from simulator.scenario.distributions import Dist
from simulator.scenario.loader import SCHEMA
from tests._popkit import QUIET, to_toml


def _load(**changes):
    doc = copy.deepcopy(QUIET)
    for section, change in changes.items():
        if change is None:
            doc.pop(section, None)
        elif isinstance(change, list):
            doc[section] = change
        else:
            doc.setdefault(section, {}).update(change)
    return loads_scenario(to_toml(doc), "s.toml")


def test_defaults_fill_every_section():
    """A bare [population] gets documented defaults for behaviour and tracking."""
    sc = loads_scenario('[scenario]\nname = "x"\n[population]\n', "s.toml")
    assert sc.population.visitors == 1000
    assert sc.population.days == 7
    assert sc.population.devices == (0.40, 0.55, 0.05)
    assert sc.behavior.pages == Dist("geometric", (("mean", 3.0),), "count")
    assert sc.behavior.think == Dist("lognormal", (("median", 40_000.0), ("sigma", 1.0)), "duration")
    assert sc.tracking.consent == 1.0
    assert sc.tracking.consent_mode == "basic"
    assert sc.campaigns == ()
    assert sc.population.timezone == "UTC"


def test_campaign_defaults_and_landing_page():
    """A campaign gets cpc 1.0, the google_ads network, standard pacing and lp-<name>."""
    sc = _load(campaign=[{"name": "brand", "share": 0.4}])
    (c,) = sc.campaigns
    assert (c.network, c.pacing, c.landing_page, c.cpm, c.daily_budget) == (
        "google_ads",
        "standard",
        "lp-brand",
        None,
        None,
    )
    assert c.cpc == Dist.fixed(1.0)
    assert c.hours == (0, 24)
    assert c.weekdays == (1, 2, 3, 4, 5, 6, 7)


def test_a_partial_mix_weighs_missing_names_zero():
    """unpaid = { direct = 1 } means only direct, not direct plus the defaults of the others."""
    sc = _load(population={"unpaid": {"direct": 1}})
    assert sc.population.unpaid == (0.0, 1.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("changes", "key_path", "message"),
    [
        (
            {"campaign": [{"name": "a", "share": 0.5, "ctr": 5}]},
            "campaign[1].ctr",
            r"click-through rate >= 0.0001 and <= 1",
        ),
        (
            {"campaign": [{"name": "a", "share": 0.7}, {"name": "b", "share": 0.6}]},
            "campaign[2].share",
            "add up to 1.3",
        ),
        (
            {"campaign": [{"name": "a", "share": 0.1}, {"name": "a", "share": 0.1}]},
            "campaign[2].name",
            "already the name",
        ),
        ({"campaign": [{"name": "a", "share": 0.1, "cpc": 1, "cpm": 2}]}, "campaign[1].cpm", "either 'cpc'"),
        (
            {"campaign": [{"name": "a", "share": 0.1, "network": "gogle_ads"}]},
            "campaign[1].network",
            "did you mean 'google_ads'",
        ),
        (
            {"campaign": [{"name": "a", "share": 0.1, "schedule": {"hours": [22, 6]}}]},
            "campaign[1].schedule.hours",
            "first < end",
        ),
        (
            {"campaign": [{"name": "a", "share": 0.1, "pacing": "fast"}]},
            "campaign[1].pacing",
            "one of 'standard'",
        ),
        (
            {"behavior": {"think": {"dist": "lognormal", "median": 40, "sigma": 1}}},
            "behavior.think.median",
            "a duration",
        ),
        (
            {"behavior": {"think": {"dist": "lognormal", "median": "40s"}}},
            "behavior.think",
            "missing required key 'sigma'",
        ),
        (
            {"behavior": {"pages": {"dist": "lognormal", "median": 3, "sigma": 1}}},
            "behavior.pages.dist",
            "count distribution",
        ),
        (
            {"behavior": {"pages": {"dist": "geometric", "mean": 0.5}}},
            "behavior.pages.mean",
            "expected a value >= 1, got 0.5",
        ),
        (
            {"behavior": {"pages": {"dist": "geometric", "mean": 3, "max": 9}}},
            "behavior.pages.max",
            "unknown key",
        ),
        ({"behavior": {"think": {"dist": "gamma", "mean": "3s"}}}, "behavior.think.dist", "one of 'fixed'"),
        ({"behavior": {"pagez": 3}}, "behavior.pagez", "did you mean 'pages'"),
        ({"behavior": {"returns": 0.99}}, "behavior.returns", "<= 0.95"),
        ({"population": {"hours": [1] * 23}}, "population.hours", "24 weights"),
        ({"population": {"weekdays": [0] * 7}}, "population.weekdays", "positive weight"),
        ({"population": {"unpaid": {"organic": 0}}}, "population.unpaid", "at least one positive"),
        ({"population": {"timezone": "Europe/Berln"}}, "population.timezone", "IANA"),
        ({"tracking": {"consent_mode": "full"}}, "tracking.consent_mode", "one of 'basic', 'advanced'"),
        ({"tracking": {"blockers": 1.5}}, "tracking.blockers", "write 0.05 for 5%"),
        ({"tracking": {"page_load": 3}}, "tracking.page_load", "durations are quoted strings"),
        ({"population": None}, "campaign", r"add a \[population\] table"),
        ({"tracking": {"duplicate_tags": 10}}, "tracking.duplicate_tags", "<= 9"),
        ({"tracking": {"duplicate_tags": 1.5}}, "tracking.duplicate_tags", "a number of extra tags"),
        ({"tracking": {"history_page_views": "on"}}, "tracking.history_page_views", "true or false"),
        ({"tracking": {"engagement_timer": "5s"}}, "tracking.engagement_timer", "from 10s to 60s"),
        ({"tracking": {"engagement_timer": "2m"}}, "tracking.engagement_timer", "from 10s to 60s"),
        ({"behavior": {"route_changes": 1.2}}, "behavior.route_changes", "write 0.05 for 5%"),
        ({"population": {"bots": -0.1}}, "population.bots", "a fraction"),
        ({"population": {"known_bot": 0.5}}, "population.known_bot", "did you mean 'known_bots'"),
    ],
)
def test_bad_sections_give_one_line_errors_with_key_paths(changes, key_path, message):
    """Every bad value names its key path and says what is allowed, on one line."""
    with pytest.raises(ScenarioError, match=message) as info:
        _load(**changes)
    assert info.value.key_path == key_path
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"s.toml: {key_path}: ")


def test_nothing_to_simulate_mentions_both_ways():
    """A scenario with neither journeys nor a population says how to add one."""
    with pytest.raises(ScenarioError, match=r"add a \[population\] table or at least one \[\[journey\]\]"):
        loads_scenario('[scenario]\nname = "x"\n', "s.toml")


def test_json_schema_documents_the_new_sections():
    """The published JSON Schema has the new sections with descriptions and distribution shapes."""
    schema = SCHEMA.json_schema()["properties"]
    assert {"population", "campaign", "behavior", "tracking"} <= set(schema)
    think = schema["behavior"]["properties"]["think"]
    assert think["description"] == "time between page views"
    assert {"type": "string"} in think["anyOf"]
    assert "lognormal" in think["anyOf"][1]["properties"]["dist"]["enum"]


def test_tagging_keys_default_to_off():
    """Duplicate tags, route changes, manual page views, leaving hits and bots are off by default."""
    sc = loads_scenario('[scenario]\nname = "x"\n[population]\n', "s.toml")
    tr = sc.tracking
    assert (tr.duplicate_tags, tr.history_page_views, tr.manual_page_view, tr.user_engagement) == (
        0,
        True,
        False,
        False,
    )
    assert tr.engagement_timer == 10_000
    assert sc.behavior.route_changes == 0.0
    assert (sc.population.bots, sc.population.known_bots) == (0.0, 0.5)
    schema = SCHEMA.json_schema()["properties"]
    assert schema["tracking"]["properties"]["duplicate_tags"]["maximum"] == 9
    assert "known-bot" in schema["population"]["properties"]["known_bots"]["description"]

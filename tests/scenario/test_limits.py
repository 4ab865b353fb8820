"""Issue 17: hostile values in scenario files end in one line naming the file and the place (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli.main import main
from tests.conftest import SCENARIOS

GOOGLE = (SCENARIOS / "google_ads_vs_ga4.toml").read_text(encoding="utf-8")


def _run(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    code = main(["run", str(path), "--visitors", "30"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip()


CASES = {
    "10^400 cpc": (
        ("median = 0.35", "median = 1" + "0" * 400),
        "campaign[1].cpc.median: expected a number of at most 1e+15 in size, "
        "got an integer of about 401 digits",
    ),
    "10^400 visitors": (
        ("visitors = 4000 ", "visitors = 1" + "0" * 400 + " "),
        "population.visitors: expected a number of people >= 0 and <= 1e+09, "
        "got an integer of about 401 digits",
    ),
    "4,401-digit integer": (
        ("median = 0.35", "median = " + "1" * 4401),
        "line 42: an integer of more than 4,300 digits; numbers are at most 1e+15",
    ),
    "nesting 3,000 levels": (
        ('definitions = ["ga4"]', "definitions = " + "[" * 3000 + "]" * 3000),
        "line 88: nested more than 32 levels deep",
    ),
    "300-character zone": (
        ('timezone = "Europe/Berlin"    #', 'timezone = "' + "a" * 300 + '" #'),
        "scenario.timezone: expected an IANA time zone name like 'Europe/Berlin', got 'aaaa",
    ),
    "zone directory": (
        ('timezone = "Europe/Berlin"    #', 'timezone = "America" #'),
        "scenario.timezone: expected an IANA time zone name like 'Europe/Berlin', "
        "got 'America'; did you mean",
    ),
    "year 1": (
        ("start = 2024-05-06", "start = 0001-01-01"),
        "scenario.start: expected a date in the years 1900 to 8999, got 0001-01-01T00:00:00",
    ),
    "year 9999": (
        ("start = 2024-05-06", "start = 9999-12-30"),
        "scenario.start: expected a date in the years 1900 to 8999, got 9999-12-30T00:00:00",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_value_is_one_line_exit_2(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (old, new), expected = CASES[name]
    assert old in GOOGLE
    code, err = _run(tmp_path, GOOGLE.replace(old, new, 1), capsys)
    assert code == 2
    assert err.count("\n") == 0
    assert err.startswith(f"sessionlab: error: {tmp_path / 's.toml'}: {expected}"), err
    assert len(err) < 300


def test_population_without_campaign_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Only unpaid visitors: no ad clicks, sessions all the same (was IndexError, exit 3)."""
    text = (
        GOOGLE[: GOOGLE.index("[[campaign]]")]
        + GOOGLE[GOOGLE.index("[behavior]") : GOOGLE.index("[[expect]]")]
    )
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["run", str(path), "--visitors", "300", "--json"]) == 0
    import json

    doc = json.loads(capsys.readouterr().out)
    assert (doc["ads"]["clicks"], doc["ads"]["cost"]) == (0, 0.0)
    assert doc["definitions"]["ga4"]["sessions"] > 0


def test_unknown_device_in_a_journey_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """device = "phone" made a separate user shown as "unknown"; now one line listing the devices."""
    from tests.conftest import scenario_text

    step = '{ at = 10:00:00, do = "return", via = "direct", device = "mobil" }'
    journey = f'[[journey]]\nname = "a"\nsteps = [{step}]\n'
    path = tmp_path / "s.toml"
    path.write_text(scenario_text(journey), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"sessionlab: error: {path}: journey[1].steps[1].device: expected a device (one of 'unknown', "
        "'desktop', 'mobile', 'tablet'), got 'mobil'; did you mean 'mobile'?"
    )

"""Calibration: parameter paths, overrides through the loader, recovering known parameters, JSON, exits."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path

import pytest

from simulator.analysis.result import run
from simulator.cli.main import ExitCode, main
from simulator.errors import ScenarioError
from simulator.report.testing import render_calibration
from simulator.scenario.loader import loads_scenario, scenario_from_dict
from simulator.scenario.params import fittable_paths, resolve_params
from simulator.testing.calibrate import TYPICAL, calibrate
from simulator.testing.stats import flatten, replication_seeds

BASE = """
[scenario]
name = "calibration"
seed = 7
start = 2024-05-06

[population]
visitors = {visitors}
days = 3

[[campaign]]
name = "search"
share = 0.6
ctr = {ctr}

[behavior]
returns = 0.2
patience = {{ dist = "lognormal", median = "{patience}", sigma = 1.2 }}

[tracking]
blockers = 0.1
consent = {consent}
"""

#: Seed of the run whose numbers play the real report; none of the fitting or bootstrap seeds.
REPORT_SEED = 999


def _report(truth: str, keys: tuple[str, ...]) -> str:
    """The [observed] table of one run of ``truth`` (the 'real report')."""
    flat = flatten(run(loads_scenario(truth), seed=REPORT_SEED))
    return "\n[observed]\n" + "\n".join(f"{k} = {flat[k]!r}" for k in keys) + "\n"


def _text(*, visitors: int = 2000, ctr: float = 0.05, patience: str = "8s", consent: float = 0.7) -> str:
    return BASE.format(visitors=visitors, ctr=ctr, patience=patience, consent=consent)


def test_recovers_a_known_patience_within_the_interval(write_scenario) -> None:
    """Numbers simulated with patience 8s, from 40s: 8s is in the interval, the estimate within 20 %."""
    assert REPORT_SEED not in replication_seeds(7, 28)
    observed = _report(_text(patience="8s"), ("ads.clicks", "ga4.sessions"))
    path = write_scenario(_text(patience="40s") + observed)
    cal = calibrate(path, ["behavior.patience.median"])
    (fit,) = cal.fitted
    assert cal.converged
    assert fit.low <= 8000 <= fit.high
    assert fit.value == pytest.approx(8000, rel=0.2)
    assert fit.low < fit.value < fit.high
    assert cal.ok
    assert [c.key for c in cal.checks] == ["ads.clicks", "ga4.sessions"]
    (implied,) = cal.implied
    assert implied.cause == "left_before_tag"
    assert 0 < implied.low <= implied.value <= implied.high < 1


def test_recovers_two_parameters_with_nelder_mead(write_scenario) -> None:
    """Consent (moves sessions) and CTR (moves impressions) fitted together from wrong starts."""
    truth = _text(visitors=1000, ctr=0.04, consent=0.6)
    observed = _report(truth, ("ads.impressions", "ga4.sessions"))
    path = write_scenario(_text(visitors=1000, ctr=0.1, consent=0.9) + observed)
    cal = calibrate(
        path, ["tracking.consent", "campaign[search].ctr"], replications=4, max_evals=80, bootstrap=20
    )
    consent, ctr = cal.fitted
    assert cal.method.startswith("minimize (Nelder-Mead")
    assert cal.converged
    assert consent.low <= 0.6 <= consent.high
    assert ctr.low <= 0.04 <= ctr.high
    assert consent.value == pytest.approx(0.6, abs=0.08)
    assert ctr.value == pytest.approx(0.04, rel=0.1)
    assert consent.verdict == "within"  # 40-75 % is the documented range
    assert "typical: 40 % to 75 %" in consent.sentence()


def test_a_parameter_no_observed_number_depends_on_is_not_identified(write_scenario) -> None:
    """Fitting order values against ad clicks alone: reported as not identified, not ok."""
    path = write_scenario(_text(visitors=300) + "\n[observed]\nads.clicks = 180\n")
    cal = calibrate(path, ["behavior.value.median"], replications=2, max_evals=6, bootstrap=3)
    assert not cal.fitted[0].identified
    assert not cal.ok
    assert "not identified" in cal.fitted[0].sentence()
    assert "not identified" in render_calibration(cal)


def test_paths_cover_fields_distribution_parameters_mixes_and_campaigns() -> None:
    """The fittable paths follow the schema and the distribution families the file uses."""
    doc = tomllib.loads(_text())
    paths = fittable_paths(doc)
    assert {"tracking.consent", "behavior.patience.median", "behavior.patience.sigma"} <= set(paths)
    assert {"population.devices.mobile", "campaign[search].ctr", "behavior.pages.mean"} <= set(paths)
    assert "tracking.consent_mode" not in paths  # a choice, not a number
    assert "campaign[search].daily_budget" not in paths  # unset: nothing to start from
    patience = paths["behavior.patience.median"]
    assert (patience.kind, patience.start) == ("duration", 8000.0)
    assert paths["tracking.consent"].is_share
    assert paths["campaign[search].ctr"].is_share


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("tracking.consnet", "did you mean 'tracking.consent'?"),
        ("tracking.leave_before_tag", "fit behavior.patience.median"),
        ("behavior.patience.medain", "did you mean 'behavior.patience.median'?"),
        ("campaign[serch].ctr", "did you mean 'campaign[search].ctr'?"),
        ("nothing.here", "fittable here: paths under behavior, campaign[search], population, tracking"),
        ("tracking.capacity", "starts at 0"),
    ],
)
def test_bad_paths_are_one_line_errors_listing_nearby_parameters(given: str, expected: str) -> None:
    """A path that names nothing fittable: file, --fit, the parameters near it and a hint, one line."""
    with pytest.raises(ScenarioError) as err:
        resolve_params([given], tomllib.loads(_text()), "s.toml")
    message = str(err.value)
    assert message.startswith(f"s.toml: --fit {given}: ")
    assert expected in message
    assert "\n" not in message


def test_a_bad_path_lists_the_fittable_parameters_of_its_section() -> None:
    """The error for a [tracking] path lists [tracking]'s fittable numbers."""
    with pytest.raises(
        ScenarioError, match=r"fittable here: tracking\.page_load\.median, .*tracking\.consent"
    ):
        resolve_params(["tracking.consnet"], tomllib.loads(_text()), "s.toml")


def test_paths_resolve_campaign_indexes_and_refuse_repeats() -> None:
    """campaign[1] is the first campaign by name; a parameter named twice is an error."""
    doc = tomllib.loads(_text())
    (param,) = resolve_params(["campaign[1].ctr"], doc, "s.toml")
    assert param.path == "campaign[search].ctr"
    with pytest.raises(ScenarioError, match="named twice"):
        resolve_params(["tracking.consent", "tracking.consent"], doc, "s.toml")


def test_scripted_scenarios_have_nothing_to_fit() -> None:
    """Without a [population] there is nothing to fit: the error names the missing table."""
    doc = {"scenario": {"name": "s"}, "journey": []}
    with pytest.raises(ScenarioError, match=r"s\.toml: population: calibrate fits a stochastic population"):
        resolve_params(["tracking.consent"], doc, "s.toml")


def test_overrides_go_through_the_loader_and_its_bounds() -> None:
    """A written value is validated like the file: 0.3 is accepted, 1.5 breaks the fraction bound."""
    doc = tomllib.loads(_text())
    consent, patience = resolve_params(["tracking.consent", "behavior.patience.median"], doc, "s.toml")
    changed = copy.deepcopy(doc)
    consent.write(changed, 0.3)
    patience.write(changed, 2500.4)
    scenario = scenario_from_dict(changed, "s.toml")
    assert scenario.tracking.consent == 0.3
    assert scenario.behavior.patience.param("median") == 2500
    assert scenario.behavior.patience.param("sigma") == 1.2
    assert doc == tomllib.loads(_text())  # the original document is untouched
    consent.write(changed, 1.5)
    with pytest.raises(
        ScenarioError, match=r"tracking\.consent: expected a fraction >= 0 and <= 1, got 1\.5"
    ):
        scenario_from_dict(changed, "s.toml")


def test_unit_coordinates_round_trip() -> None:
    """value(unit(v)) == v on linear (bounded) and logarithmic (unbounded) scales."""
    paths = fittable_paths(tomllib.loads(_text()))
    consent, patience = paths["tracking.consent"], paths["behavior.patience.median"]
    assert not consent.log_scale
    assert paths["campaign[search].ctr"].search_range() == pytest.approx((0.005, 0.5))
    assert patience.log_scale
    assert patience.search_range() == pytest.approx((800.0, 80000.0))
    for param, value in ((consent, 0.37), (patience, 12345.0)):
        assert param.value(param.unit(value)) == pytest.approx(value)
    assert patience.value(0.5) == pytest.approx(8000.0)


def test_typical_ranges_come_with_sources() -> None:
    """Every documented range has bounds in order and a source; the others say there is no range."""
    for key, typical in TYPICAL.items():
        assert typical.source, key
        assert typical.advice, key
        if typical.low is None:
            assert "no documented range" in typical.source
        else:
            assert typical.low < typical.high
    assert (TYPICAL["tracking.consent"].low, TYPICAL["tracking.consent"].high) == (0.40, 0.75)


def test_cli_json_shape_and_exit_code_when_not_converged(write_scenario, capsys) -> None:
    """--json: stable keys; a fit cut short by --max-evals exits 1 and says so."""
    path = write_scenario(_text(visitors=300) + "\n[observed]\nga4.sessions = 170\n")
    argv = ["calibrate", str(path), "--fit", "behavior.patience.median", "--json"]
    code = main([*argv, "--replications", "2", "--bootstrap", "3", "--max-evals", "3"])
    doc = json.loads(capsys.readouterr().out)
    assert code == ExitCode.EXPECTATIONS_FAILED
    assert doc["converged"] is False
    assert doc["ok"] is False
    assert set(doc) >= {
        "scenario",
        "replications",
        "bootstrap",
        "confidence",
        "method",
        "evaluations",
        "runs",
        "converged",
        "message",
        "loss",
        "parameters",
        "implied",
        "observed",
        "explained",
        "ok",
    }
    (param,) = doc["parameters"]
    assert set(param) == {
        "path",
        "kind",
        "start",
        "value",
        "low",
        "high",
        "identified",
        "typical",
        "plausibility",
        "sentence",
    }
    assert param["path"] == "behavior.patience.median"
    assert param["start"] == 8000.0
    assert doc["observed"][0]["key"] == "ga4.sessions"
    assert doc["implied"][0]["cause"] == "left_before_tag"
    assert doc["evaluations"] == 3


def test_cli_output_is_deterministic(write_scenario, capsys) -> None:
    """Same file, same seed: the same bytes."""
    path = write_scenario(_text(visitors=300) + "\n[observed]\nga4.sessions = 170\n")
    argv = ["calibrate", str(path), "--fit", "tracking.consent", "--replications", "2"]
    argv += ["--bootstrap", "4", "--max-evals", "4"]
    main(argv)
    first = capsys.readouterr().out
    main(argv)
    assert capsys.readouterr().out == first
    assert "Fit quality at the fitted values" in first


def test_cli_bad_input_exits_2_with_one_line(write_scenario, capsys, tmp_path: Path) -> None:
    """A bad path, or a file without [observed], is exit 2 and one line on stderr."""
    path = write_scenario(_text(visitors=300) + "\n[observed]\nga4.sessions = 170\n")
    assert main(["calibrate", str(path), "--fit", "tracking.consnet"]) == ExitCode.SCENARIO_ERROR
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "did you mean 'tracking.consent'?" in err
    bare = tmp_path / "bare.toml"
    bare.write_text(_text(visitors=300), encoding="utf-8")
    assert main(["calibrate", str(bare), "--fit", "tracking.consent"]) == ExitCode.SCENARIO_ERROR
    assert "observed: nothing to calibrate against: add an [observed] table" in capsys.readouterr().err


def test_candidates_the_loader_rejects_are_avoided(write_scenario) -> None:
    """Shares may not add up to more than 1: a truth next to that limit is found without an error."""
    social = '\n[[campaign]]\nname = "social"\nshare = 0.3\nctr = 0.02\n'
    truth = _text(visitors=800).replace("share = 0.6", "share = 0.7") + social
    observed = _report(truth, ("ads.clicks",))
    path = write_scenario(_text(visitors=800).replace("share = 0.6", "share = 0.2") + social + observed)
    cal = calibrate(path, ["campaign[search].share"], replications=3, max_evals=30, bootstrap=5)
    (fit,) = cal.fitted
    assert cal.converged
    assert fit.identified
    assert fit.value == pytest.approx(0.7, abs=0.05)
    assert fit.value <= 0.7 + 1e-9


def test_fits_to_a_per_day_report_series(write_scenario) -> None:
    """A GA4 export per day of a run with consent 0.4 (no typed totals); fitted from 0.8."""
    import datetime as dt

    from simulator.analysis.segments import segment

    truth = loads_scenario(_text(consent=0.4))
    result = run(truth, seed=REPORT_SEED)
    lines = ["# GA4 export (written by this test)", "# Start date: 20240506", "Date,Sessions"]
    for i in range(3):
        day = dt.date(2024, 5, 6) + dt.timedelta(days=i)
        seg = segment(result, timezone="UTC", ad_timezone="UTC", day=day)
        lines.append(f'{day:%Y%m%d},"{seg.metric("sessions", "ga4"):,}"')
    path = write_scenario(
        _text(consent=0.8) + '\n[observed]\nfiles = [{ file = "ga4.csv", format = "ga4_report" }]\n'
    )
    Path(path).with_name("ga4.csv").write_text("\n".join(lines) + "\n")
    cal = calibrate(path, ["tracking.consent"], replications=4, max_evals=20, bootstrap=5)
    (fit,) = cal.fitted
    assert [c.key for c in cal.checks] == [f"ga4.sessions@2024-05-0{d}@" for d in (6, 7, 8)]
    assert fit.value == pytest.approx(0.4, rel=0.25)


def test_on_progress_ticks_once_per_simulation_run(write_scenario) -> None:
    """The progress callback sees every simulation run the fit makes: as many as ``runs`` reports."""
    path = write_scenario(_text(visitors=300) + "\n[observed]\nads.clicks = 180\n")
    ticks: list[int] = []
    cal = calibrate(
        path, ["behavior.value.median"], replications=2, max_evals=6, bootstrap=3, on_progress=ticks.append
    )
    assert set(ticks) == {1}
    assert len(ticks) == cal.runs

"""Settings: one validator for every front end, JSON round trips, portfolio checks, the RNG policy."""

import json

import numpy as np
import pytest

import workbench as wb
from workbench.errors import InputError
from workbench.rng import PURPOSES, seed_sequence, stream
from workbench.settings import FIELDS, Settings

RECORDED_TIES = [49, 426, 524]  # stream(7, "ties").integers(0, 1000, 3), recorded when the policy was made


def messages(values, base=None):
    with pytest.raises(InputError) as err:
        Settings.from_mapping(values, base)
    return [p.message for p in err.value.problems]


def test_defaults_are_the_documented_ones():
    s = Settings()
    assert (s.seed, s.samples, s.scenarios, s.objective, s.alpha, s.lam) == (2026, 20_000, 1_000, "mean", 0.1, 1.0)
    assert s.budget is None and s.top_k is None and s.value_unit == "value points"


@pytest.mark.parametrize("values, expected", [
    ({"budget": "800%"}, "budget: expected an amount such as 40 or 1.5k, not a percentage ('800%')"),
    ({"budget": "40%"}, "budget: expected an amount such as 40 or 1.5k, not a percentage ('40%')"),
    ({"budget": "-3"}, "budget: must be > 0, got -3"),
    ({"budget": "inf"}, "budget: expected a number such as 40 or 1.5k, got 'inf'"),
    ({"seed": "-1"}, "seed: must be at least 0, got -1"),
    ({"seed": -1}, "seed: must be at least 0, got -1"),
    ({"samples": "2.5"}, "samples: expected a whole number, got '2.5'"),
    ({"objective": "cvarr"}, "objective: expected one of mean, cvar, blend, got 'cvarr'; did you mean 'cvar'?"),
    ({"budjet": 40}, "unknown setting 'budjet'; did you mean 'budget'?"),
    ({"capacities": "Payments"}, "capacities: expected NAME=VALUE pairs such as Payments=12,Growth=8, got 'Payments'"),
    ({"capacities": {"Payments": "12%"}}, "capacities: expected an amount such as 40 or 1.5k, not a percentage ('12%')"),
    ({"alpha": "0"}, "alpha: must be in (0, 1], e.g. 0.1 for the worst 10% of scenarios; got 0"),
])
def test_bad_values_get_one_message_whatever_the_front_end(values, expected):
    assert messages(values) == [expected]


def test_every_problem_is_reported_at_once():
    found = messages({"budget": "40%", "seed": "-1", "samples": "7", "method": "quasi"})
    assert len(found) == 4


def test_amounts_take_k_and_m_and_fractions_take_percent():
    s = Settings.from_mapping({"budget": "1.5k", "capacities": ["Payments=12", "Growth=0.5M"], "alpha": "10%",
                               "effort_quantile": "80%"})
    assert s.budget == 1500 and s.capacity == {"Payments": 12.0, "Growth": 500_000.0}
    assert s.alpha == pytest.approx(0.1) and s.effort_quantile == pytest.approx(0.8)


def test_json_round_trip_and_unknown_key(tmp_path):
    s = Settings.from_mapping({"budget": 40, "capacities": {"Payments": 12}, "theme_shares": {"Growth": [0.2, 0.6]},
                               "objective": "blend", "plan": "a,b", "value_unit": "$ ARR"})
    s = s.with_edit("sso-saml", "reach", "500..900").with_override("scim", "out")
    path = tmp_path / "s.json"
    path.write_text(s.to_json())
    assert Settings.from_json(path) == s
    assert hash(Settings.from_json(path)) == hash(s)
    path.write_text(json.dumps({"budget": 40, "sead": 3}))
    with pytest.raises(InputError, match="unknown setting 'sead'; did you mean 'seed'"):
        Settings.from_json(path)
    path.write_text("{budget: 40}")
    with pytest.raises(InputError, match="not valid JSON"):
        Settings.from_json(path)


def test_team_names_match_in_any_case_and_are_spelled_as_in_the_file():
    p = wb.demo_portfolio()
    s = Settings.from_mapping({"budget": 40, "capacities": ["payments=12", "GROWTH=8"]}).for_portfolio(p)
    assert s.capacity == {"Growth": 8.0, "Payments": 12.0}
    with pytest.raises(InputError, match="no initiative belongs to team 'Paymnts'; did you mean 'Payments'"):
        Settings.from_mapping({"capacities": {"Paymnts": 3}}).for_portfolio(p)


def test_top_k_defaults_to_at_most_the_number_of_initiatives():
    p = wb.demo_portfolio()
    small = p.with_initiatives(list(p)[:4])
    assert Settings().for_portfolio(small).top_k == 4
    assert Settings().for_portfolio(p).top_k == 5
    with pytest.raises(InputError, match="top_k: 6 is more than the 4 initiatives"):
        Settings(top_k=6).for_portfolio(small)


def test_every_field_has_a_parser_and_defaults_pass_their_checks():
    assert set(FIELDS) == set(Settings().to_dict())
    assert Settings().problems() == []


def test_streams_are_named_by_seed_purpose_and_keys():
    a = stream(7, "evaluation", "x").random(5)
    assert np.array_equal(a, stream(7, "evaluation", "x").random(5))
    assert not np.array_equal(a, stream(7, "selection", "x").random(5))
    assert not np.array_equal(a, stream(7, "evaluation", "y").random(5))
    assert not np.array_equal(a, stream(8, "evaluation", "x").random(5))
    # stable across processes and versions of Python (a fixed code, not hash()): the first draws of
    # one stream, recorded once, must never change
    assert seed_sequence(7, "evaluation", "x").spawn_key == (315604720, 3842489009)
    assert stream(7, "ties").integers(0, 1000, 3).tolist() == RECORDED_TIES
    with pytest.raises(ValueError, match="unknown random stream purpose"):
        stream(7, "whatever")
    assert len(set(PURPOSES)) == len(PURPOSES)


def test_no_generator_is_made_outside_the_rng_module():
    import pathlib
    import re

    root = pathlib.Path(wb.__file__).parent
    offenders = [f"{path.relative_to(root)}:{k}" for path in root.rglob("*.py") if path.name != "rng.py"
                 for k, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"SeedSequence\(|default_rng\(|PCG64\(|RandomState\(", line)]
    assert offenders == []


def test_option_names_point_to_their_setting():
    assert messages({"lambda": 2}) == ["unknown setting 'lambda'; did you mean 'lam'?"]
    assert messages({"capacity": {"Growth": 3}}) == ["unknown setting 'capacity'; did you mean 'capacities'?"]


def test_split_is_checked_and_spelled_as_in_the_file():
    p = wb.demo_portfolio()
    assert Settings(split="enterprise").for_portfolio(p).split == "theme:Enterprise"
    with pytest.raises(InputError, match="'growth' is both a theme and a team; write theme:growth or team:growth"):
        Settings(split="growth").for_portfolio(p)
    assert Settings(split="TEAM:payments").for_portfolio(p).split == "team:Payments"
    with pytest.raises(InputError, match="split: no initiative belongs to a theme or team 'Mobil'"):
        Settings(split="Mobil").for_portfolio(p)


def test_a_huge_budget_range_is_refused_before_anything_is_allocated():
    assert messages({"budget_range": "1:1e9:1"}) == [
        "budget_range: budget range '1:1e9:1' has 1,000,000,000 points; use a larger STEP (at most 1,000 points)"]


def _calibration_file(path, shift=1.5):
    path.write_text(json.dumps({
        "workbench_calibration": 1, "method": "by hand", "learned_from": {"quarters": ["2026Q1"], "records": 20},
        "ranges": [{"factor": "effort", "team": None, "n": 20, "shift": shift, "shift_se": 0.1, "widen": 1.0,
                    "widen_se": 0.1, "point_half_width": None}], "delivery": []}), encoding="utf-8")
    return path


def test_calibration_is_a_file_kept_as_its_absolute_path(tmp_path, monkeypatch):
    _calibration_file(tmp_path / "cal.json")
    monkeypatch.chdir(tmp_path)
    s = Settings.from_mapping({"calibration": "cal.json"})
    assert s.calibration == str(tmp_path / "cal.json")
    assert Settings.from_mapping(s.to_dict()) == s  # JSON round trip
    assert Settings.from_mapping({"calibration": ""}).calibration is None  # a blank report parameter: none
    assert Settings.from_mapping({"calibration": None}).calibration is None
    assert messages({"calibration": "missing.json"}) == ["calibration: 'missing.json' does not exist"]
    assert messages({"calibration": str(tmp_path)})[0].endswith("is a directory, not a file")


def test_a_bad_calibration_file_is_a_settings_problem_naming_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    found = messages({"calibration": str(bad), "seed": "-1"})  # every problem at once
    assert len(found) == 2 and found[0].startswith("calibration: ") and "bad.json" in found[0]
    _calibration_file(bad, shift=-1)
    assert "bad.json" in messages({"calibration": str(bad)})[0]


def test_the_calibration_applies_to_every_analysis_through_apply_settings(tmp_path):
    from workbench.pipeline import apply_settings

    path = _calibration_file(tmp_path / "cal.json", shift=2.0)
    p = wb.demo_portfolio()
    s = Settings.from_mapping({"calibration": str(path), "edits": [[p.ids[0], "effort", "2..8"]]})
    applied = apply_settings(p, s)
    # the edit is corrected too (median 4 -> 8), every other effort's median doubled
    assert applied.initiatives[0].effort.median() == pytest.approx(8, rel=0.01)
    for before, after in zip(p.initiatives[1:], applied.initiatives[1:]):
        assert after.effort.median() == pytest.approx(2 * before.effort.median(), rel=0.01)  # 3 digits written
        assert after.reach == before.reach

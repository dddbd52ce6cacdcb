"""`workbench calibrate learn|apply` and `--calibration FILE` as a user runs them.

Numbers are checked against what generated them: the bundled history's ground truth
(`workbench.calibration.synthetic`: Growth's effort actual / median ~ lnN(ln 1.3, σ) on ranges
stated with σ/2, Platform calibrated) and, for `--calibration`, a calibration file written by hand
(effort of team T: medians ×1.5, ranges twice as wide on the log scale), whose corrected ranges
and scores have closed forms.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest
from scipy import stats

import workbench as wb
from workbench.cli import main
from workbench.io import load_portfolio
from workbench.settings import Settings

Z90 = stats.norm.ppf(0.95)  # 1.6449: a 90% range's half-width in standard deviations
SHIFT, WIDEN = 1.5, 2.0
FAST = ["--samples", "4000", "--seed", "11"]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def portfolio_csv(tmp_path):
    """a (team T, effort 2..8: median 4, a log half-width ln 2) and b (team U, no correction)."""
    path = tmp_path / "p.csv"
    path.write_text("id,name,reach,impact,confidence,effort,team\n"
                    "a,Alpha,100,1,100%,2..8,T\n"
                    "b,Beta,60,1,100%,5,U\n", encoding="utf-8")
    return path


@pytest.fixture
def hand_calibration(tmp_path):
    """Effort of team T: ×1.5 and twice as wide; nothing else (no delivery mapping)."""
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps({
        "workbench_calibration": 1, "method": "written by hand for a test",
        "learned_from": {"quarters": ["2026Q1", "2026Q2"], "records": 40, "files": [], "actuals": ""},
        "ranges": [{"factor": "effort", "team": "T", "n": 40, "shift": SHIFT, "shift_se": 0.05,
                    "widen": WIDEN, "widen_se": 0.1, "point_half_width": 0.5}],
        "delivery": []}), encoding="utf-8")
    return path


def bundled_records() -> int:
    """The bundled history's records, counted from its files: one per row of actuals.csv (each joins the
    estimate of a funded initiative; unfunded candidates have no actual and are no record)."""
    import csv

    from workbench.io.history import bundled_actuals_path

    with bundled_actuals_path().open(encoding="utf-8-sig", newline="") as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.fixture(scope="module")
def demo_result():
    return wb.calibrate()


# --- learn ---------------------------------------------------------------------------------------


def test_learn_demo_table_says_how_good_the_ranges_were_and_the_correction(capsys, tmp_path):
    out_file = tmp_path / "cal.json"
    code, out, err = run(capsys, "calibrate", "learn", "--demo", "-o", str(out_file))
    assert code == 0, err
    for words in ("in 50% range", "in 80% range", "in 90% range", "actual ÷ median", "Growth", "Platform",
                  "PIT test", "fell outside the 90% range", "Brier score", "Schedule:", "Correction learned",
                  "Method:", "conformal"):
        assert words in out, words
    assert str(out_file) in err and out_file.exists()
    data = json.loads(out_file.read_text(encoding="utf-8"))
    assert data["workbench_calibration"] == 1 and data["learned_from"]["records"] == bundled_records()
    assert len(data["learned_from"]["quarters"]) == 8


def test_learn_json_matches_the_bundled_history_ground_truth(capsys):
    code, out, err = run(capsys, "calibrate", "learn", "--demo", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["n"] == bundled_records() and len(data["quarters"]) == 8
    for factor in ("effort", "reach", "impact"):
        assert set(data[factor]["hit_rate"]) == {"50", "80", "90"}
    growth, platform = data["by_team"]["Growth"]["effort"], data["by_team"]["Platform"]["effort"]
    # Growth: ln(actual / median) ~ N(ln 1.3, 2s) on ranges of log-sd s: P(|ln1.3/s + 2Z| <= 1.645)
    b_over_s = math.log(1.3) / 0.25
    truth = stats.norm.cdf((Z90 - b_over_s) / 2) - stats.norm.cdf((-Z90 - b_over_s) / 2)
    hit = growth["hit_rate"]["90"]
    assert abs(hit["value"] - truth) <= 4 * hit["se"] + 1e-9, (hit, truth)
    assert abs(growth["median_ratio"]["value"] - 1.3) <= 4 * growth["median_ratio"]["se"]
    # Platform is calibrated: its 90% ranges hold the actual 90% of the time, within error
    hit = platform["hit_rate"]["90"]
    assert abs(hit["value"] - 0.9) <= 4 * max(hit["se"], math.sqrt(0.09 / 20))
    # Growth states 80-90% and delivers about 55%: the learned mapping says so
    growth_map = [m for m in data["calibration"]["delivery"] if m["team"] in ("Growth", None)]
    assert growth_map
    stated, observed = np.array(growth_map[0]["stated"]), np.array(growth_map[0]["observed"])
    at_85 = float(np.interp(0.85, stated, observed))
    assert at_85 < 0.8  # stated chances above what happened


def test_learned_growth_effort_shift_is_the_generating_one(demo_result):
    corr = demo_result.calibration.correction("effort", "Growth")
    assert corr is not None and corr.team == "Growth"
    assert abs(corr.shift - 1.3) <= 4 * corr.shift_se + 0.05, corr
    assert corr.widen > 1  # overconfident: ranges widened


def test_learn_from_files_equals_the_bundled_and_bad_actuals_exit_2_with_lines(capsys, tmp_path):
    from workbench.io.history import bundled_actuals_path, bundled_history_specs

    specs = bundled_history_specs()
    code, out, err = run(capsys, "calibrate", "learn", *specs, "--actuals", str(bundled_actuals_path()),
                         "--format", "json")
    assert code == 0, err
    assert json.loads(out)["n"] == bundled_records()
    bad = tmp_path / "actuals.csv"
    bad.write_text("id,quarter,actual_effort,delivered\nnot-an-initiative,2025Q1,3,yes\n"
                   "x2,2025Q1,-1,maybe\n", encoding="utf-8")
    code, out, err = run(capsys, "calibrate", "learn", *specs, "--actuals", str(bad))
    assert code == 2 and out == ""
    assert "Traceback" not in err
    assert f"{bad}:3: column 3" in err and f"{bad}:3: column 4" in err  # located, every bad cell at once
    bad.write_text("id,quarter,actual_effort\nnot-an-initiative,2025Q1,3\n", encoding="utf-8")
    code, out, err = run(capsys, "calibrate", "learn", *specs, "--actuals", str(bad))
    assert code == 2 and out == "" and f"{bad}:2" in err and "not-an-initiative" in err


def test_learn_usage_errors_exit_2(capsys):
    code, _, err = run(capsys, "calibrate", "learn")
    assert code == 2 and "--demo" in err
    code, _, err = run(capsys, "calibrate", "learn", "--demo", "x.csv")
    assert code == 2 and "not both" in err


# --- apply ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".yaml"])
def test_apply_writes_the_corrected_ranges_and_leaves_the_input(capsys, tmp_path, portfolio_csv, hand_calibration,
                                                                suffix):
    before = digest(portfolio_csv)
    out_file = tmp_path / f"corrected{suffix}"
    code, out, err = run(capsys, "calibrate", "apply", str(portfolio_csv), "--calibration", str(hand_calibration),
                         "-o", str(out_file))
    assert code == 0, err
    assert digest(portfolio_csv) == before
    assert "effort of team T ×1.50 and 2.0× as wide" in out and "1 of 2 initiatives" in out
    corrected = load_portfolio(out_file)
    a, b = corrected.initiatives
    # median 4 -> 6; log half-width ln 2 -> 2 ln 2: the 90% range 6/4 .. 6*4
    assert a.effort.ppf(0.05) == pytest.approx(1.5, rel=0.01)
    assert a.effort.ppf(0.95) == pytest.approx(24, rel=0.01)
    assert a.effort.median() == pytest.approx(6, rel=0.01)
    assert b.effort.text == "5" and b.reach.text == "60"
    assert [i.id for i in corrected] == ["a", "b"] and a.name == "Alpha"


def test_apply_refuses_to_overwrite_its_input(capsys, portfolio_csv, hand_calibration):
    before = digest(portfolio_csv)
    code, _, err = run(capsys, "calibrate", "apply", str(portfolio_csv), "--calibration", str(hand_calibration),
                       "-o", str(portfolio_csv))
    assert code == 2 and "another file" in err
    assert digest(portfolio_csv) == before


def test_a_bad_calibration_file_exits_2_saying_where(capsys, tmp_path, portfolio_csv):
    bad = tmp_path / "bad.json"
    bad.write_text('{"workbench_calibration": 1, "ranges": [{"factor": "effort", "shift": -2}]}', encoding="utf-8")
    for args in (["score", str(portfolio_csv), "--calibration", str(bad)],
                 ["calibrate", "apply", str(portfolio_csv), "--calibration", str(bad), "-o", str(tmp_path / "c.csv")]):
        code, out, err = run(capsys, *args)
        assert code == 2 and out == "" and "Traceback" not in err
        assert "bad.json" in err
    code, _, err = run(capsys, "score", str(portfolio_csv), "--calibration", str(tmp_path / "missing.json"))
    assert code == 2 and "calibration:" in err and "does not exist" in err


# --- --calibration on the analyses ---------------------------------------------------------------


def test_score_with_calibration_matches_the_closed_form_and_says_so(capsys, portfolio_csv, hand_calibration):
    code, out, err = run(capsys, "score", str(portfolio_csv), *FAST, "--format", "json",
                         "--calibration", str(hand_calibration))
    assert code == 0, err
    data = json.loads(out)
    a = next(r for r in data["initiatives"] if r["id"] == "a")
    # score = 100 / effort, effort lognormal with median 6 and log-sd 2 ln2 / 1.645
    sigma = 2 * math.log(2) / Z90
    mean = 100 / 6 * math.exp(sigma ** 2 / 2)
    se = mean * math.sqrt(math.exp(sigma ** 2) - 1) / math.sqrt(4000)
    assert abs(a["mean"] - mean) <= 4 * se, (a["mean"], mean)
    assert data["calibration"]["file"] == str(hand_calibration)
    assert [(r["factor"], r["team"]) for r in data["calibration"]["applied"]] == [("effort", "T")]
    assert data["settings"]["calibration"] == str(hand_calibration)
    code, out, err = run(capsys, "score", str(portfolio_csv), *FAST, "--calibration", str(hand_calibration))
    assert code == 0 and out.startswith("Calibrated ranges (learned from 2 quarters, 40 past initiatives): "
                                        "effort of team T ×1.50 and 2.0× as wide.")
    code, out, _ = run(capsys, "score", str(portfolio_csv), *FAST)
    assert "Calibrated" not in out


def test_optimize_with_calibration_changes_the_plan(capsys, portfolio_csv, hand_calibration):
    # budget 5 at the median effort: a (median 4, value 100) beats b (5, value 60); calibrated, a's median is 6
    common = ["optimize", str(portfolio_csv), *FAST, "--budget", "5", "--gap-replications", "0", "--format", "json"]
    code, out, err = run(capsys, *common)
    assert code == 0, err
    assert json.loads(out)["selected"] == ["a"]
    code, out, err = run(capsys, *common, "--calibration", str(hand_calibration))
    assert code == 0, err
    data = json.loads(out)
    assert data["selected"] == ["b"] and data["calibration"]["applied"][0]["team"] == "T"
    code, out, _ = run(capsys, *common[:-2], "--calibration", str(hand_calibration))
    assert "Calibrated ranges" in out


def test_roadmap_and_sensitivity_with_calibration_say_so(capsys, portfolio_csv, hand_calibration):
    args = [str(portfolio_csv), "--samples", "1000", "--scenarios", "100", "--seed", "3", "--quarters",
            "2027Q1:2027Q4", "--capacity", "T=4", "--capacity", "U=5"]
    code, plain, err = run(capsys, "roadmap", *args, "--format", "json")
    assert code == 0, err
    code, out, err = run(capsys, "roadmap", *args, "--format", "json", "--calibration", str(hand_calibration))
    assert code == 0, err
    calibrated = json.loads(out)
    assert calibrated["calibration"]["applied"][0]["factor"] == "effort"
    p_plain = {r["id"]: r["p_on_time"] for r in json.loads(plain)["initiatives"]}
    p_cal = {r["id"]: r["p_on_time"] for r in calibrated["initiatives"]}
    assert p_cal.get("a", 0) != p_plain.get("a", 0)  # a's effort is larger and wider: its timing changes
    code, out, _ = run(capsys, "roadmap", *args, "--calibration", str(hand_calibration))
    assert code == 0 and out.startswith("Calibrated ranges")
    code, out, err = run(capsys, "sensitivity", str(portfolio_csv), *FAST, "--budget", "9", "--scenarios", "100",
                         "--calibration", str(hand_calibration))
    assert code == 0, err
    assert out.startswith("Calibrated ranges")


def test_cli_and_wb_run_give_the_same_numbers(capsys, portfolio_csv, hand_calibration):
    code, out, err = run(capsys, "score", str(portfolio_csv), *FAST, "--format", "json",
                         "--calibration", str(hand_calibration))
    assert code == 0, err
    cli = {r["id"]: (r["mean"], r["p10"], r["p90"]) for r in json.loads(out)["initiatives"]}
    outcome = wb.run(load_portfolio(portfolio_csv), Settings(samples=4000, seed=11, calibration=str(hand_calibration)),
                     plan=False)
    lib = {r["id"]: (r["mean"], r["p10"], r["p90"]) for r in outcome.result.to_dict(2)["initiatives"]}
    assert cli == lib
    assert outcome.portfolio.initiatives[0].effort.median() == pytest.approx(6, rel=0.01)


def test_live_engine_redraws_when_the_calibration_is_toggled(portfolio_csv, hand_calibration):
    engine = wb.LiveEngine(load_portfolio(portfolio_csv))
    base = Settings(samples=2000, seed=5)
    plain = engine.run(base, plan=False).result.to_dict(2)["initiatives"]
    calibrated = engine.run(base.change(calibration=str(hand_calibration)), plan=False).result.to_dict(2)
    again = engine.run(base, plan=False).result.to_dict(2)["initiatives"]
    a = {r["id"]: r["mean"] for r in calibrated["initiatives"]}["a"]
    assert a < {r["id"]: r["mean"] for r in plain}["a"]  # medians ×1.5: lower score
    assert plain == again  # back to the typed ranges: the cached numbers, unchanged

"""Calibration measures and corrections against closed forms and known generating processes.

Histories are built here from the dataclasses, with actuals drawn from a process whose calibration
is known exactly (numpy generators with fixed seeds: these tests never flake).
"""

import json
import math
import os

import numpy as np
import pytest
from scipy import special, stats

from workbench.calibration.calibration_file import load_calibration, save_calibration
from workbench.calibration.correction import (
    MIN_HISTORY,
    Calibration,
    DeliveryMapping,
    RangeCorrection,
    applied,
    apply_calibration,
    correct_confidence,
    correct_estimate,
    isotonic,
    learn,
)
from workbench.calibration.history import Actual, History, Record
from workbench.calibration.measures import (
    LEVELS,
    delivery_calibration,
    factor_calibration,
    measure,
    pit,
    schedule_calibration,
)
from workbench.errors import InputError
from workbench.model.distributions import Z95
from workbench.model.estimates import lognormal_interval, parse_estimate, point
from workbench.model.portfolio import Initiative, Portfolio

BIAS = math.log(1.3)  # actual effort runs 30% above the estimated median
SIGMA = 0.4  # true sd of log(actual / median); stated ranges imply SIGMA / 2


def _initiative(i, effort, team="Growth", confidence=0.8, **roadmap):
    return Initiative(f"i{i}", f"initiative {i}", reach=point(1000), impact=point(1), confidence=point(confidence),
                      effort=effort, team=team, **roadmap)


def _process(rng, n, stated_sd=SIGMA / 2, true_sd=SIGMA, bias=BIAS):
    """n stated medians, their lognormal 90% ranges implying `stated_sd`, and actuals with log-ratios
    N(bias, true_sd)."""
    m = np.exp(rng.normal(1.5, 0.8, n))
    stated_sd = np.broadcast_to(stated_sd, (n,))
    efforts = [lognormal_interval(mi * math.exp(-Z95 * si), mi * math.exp(Z95 * si)) for mi, si in zip(m, stated_sd)]
    actual = m * np.exp(rng.normal(bias, true_sd, n))
    return m, efforts, actual


def _history(efforts, actual, team="Growth", delivered=True):
    records = tuple(Record("2025Q1", _initiative(i, e, team), Actual(f"i{i}", "2025Q1", actual_effort=float(a),
                                                                     delivered=delivered))
                    for i, (e, a) in enumerate(zip(efforts, actual)))
    return History(records, ("past.csv",), "actuals.csv")


def _closed_form_hit(level, sigma=SIGMA, stated=SIGMA / 2, bias=BIAS):
    """P(|Z·sigma + bias| <= z_level · stated): the chance the stated central interval holds the actual."""
    c = special.ndtri(0.5 + level / 2) * stated
    return stats.norm.cdf((c - bias) / sigma) - stats.norm.cdf((-c - bias) / sigma)


# --- how good were we ------------------------------------------------------------------------------


def test_overconfident_estimators_hit_rates_match_the_closed_form():
    _, efforts, actual = _process(np.random.default_rng(16), 2000)
    cal = measure(_history(efforts, actual)).factors["effort"]
    assert cal.n == 2000 and cal.n_point == 0
    for level in LEVELS:
        expected = _closed_form_hit(level)
        se = math.sqrt(expected * (1 - expected) / 2000)
        assert abs(cal.hit_rate[level].value - expected) < 4 * se, (level, cal.hit_rate[level], expected)
        assert cal.hit_rate[level].se == pytest.approx(se, rel=0.1)
    assert abs(cal.median_ratio.value - 1.3) < 4 * cal.median_ratio.se
    assert cal.median_ratio.se == pytest.approx(1.3 * 1.2533 * SIGMA / math.sqrt(2000), rel=0.1)
    assert cal.spread == pytest.approx(SIGMA, abs=4 * SIGMA / math.sqrt(2 * 2000))
    assert cal.pit_p_value < 1e-6  # far from uniform: the PIT piles up at the ends and above 0.5
    d = cal.to_dict()
    assert set(d["hit_rate"]) == {"50", "80", "90"} and sum(d["pit_histogram"]) == 2000


def test_point_estimates_enter_the_log_ratios_only():
    estimates = [point(2.0), lognormal_interval(1, 4), point(5.0)]
    actual = np.array([3.0, 2.0, np.nan])
    u = pit(estimates, actual)
    assert np.isnan(u[0]) and np.isnan(u[2]) and u[1] == pytest.approx(0.5)
    cal = factor_calibration("effort", estimates, actual)
    assert (cal.n, cal.n_point, cal.pit.size) == (2, 1, 1)
    assert cal.median_ratio.value == pytest.approx(math.exp((math.log(1.5) + 0) / 2))
    assert cal.pit_p_value is None  # fewer than 5 PIT values
    assert factor_calibration("effort", estimates, np.full(3, np.nan)) is None


def test_undelivered_effort_is_not_measured():
    _, efforts, actual = _process(np.random.default_rng(2), 30)
    records = tuple(Record("2025Q1", _initiative(i, e), Actual(f"i{i}", "2025Q1", actual_effort=float(a),
                                                               delivered=None if i % 3 == 0 else i % 3 == 1))
                    for i, (e, a) in enumerate(zip(efforts, actual)))
    assert measure(History(records)).factors["effort"].n == 20  # delivered (10) or unknown (10)


# --- correcting -------------------------------------------------------------------------------------


def _held_out_hits(corr: RangeCorrection, rng, n=1000):
    """Whether each of n new initiatives of the same process falls in its corrected 90% range."""
    m, _, actual = _process(rng, n)
    half = Z95 * corr.widen * (SIGMA / 2)
    return np.abs(np.log(actual / m) - math.log(corr.shift)) <= half


def test_corrected_ranges_cover_held_out_actuals_90_percent():
    _, efforts, actual = _process(np.random.default_rng(2026), 200)
    calibration = learn(_history(efforts, actual))
    corr = calibration.correction("effort", "Growth")
    assert corr.team == "Growth" and corr.n == 200
    # Held out: 1,000 new initiatives, corrected through the portfolio path (grammar text and all).
    _, new_efforts, new_actual = _process(np.random.default_rng(7), 1000)
    portfolio = Portfolio(tuple(_initiative(i, e) for i, e in enumerate(new_efforts)))
    corrected = apply_calibration(portfolio, calibration)
    u = pit(corrected.estimates("effort"), new_actual)
    hit = np.mean(np.abs(u - 0.5) <= 0.45)
    assert abs(hit - 0.90) <= 0.02, hit
    assert stats.kstest(u, "uniform").pvalue > 0.01
    before = np.mean(np.abs(pit(portfolio.estimates("effort"), new_actual) - 0.5) <= 0.45)
    assert abs(before - _closed_form_hit(0.9)) < 4 * math.sqrt(0.25 / 1000)  # uncorrected: about 56%


def test_conformal_guarantee_holds_on_average_over_many_histories():
    """Split conformal: E[coverage] >= 90% (less O(1/n) for fitting the shift on the same records)."""
    coverage = []
    for seed in range(100):
        _, efforts, actual = _process(np.random.default_rng(1000 + seed), 200)
        corr = learn(_history(efforts, actual), seed=seed).correction("effort", "Growth")
        coverage.append(np.mean(_held_out_hits(corr, np.random.default_rng(5000 + seed))))
    coverage = np.array(coverage)
    assert coverage.mean() >= 0.895, (coverage.mean(), coverage.std())


def test_perfectly_calibrated_history_leaves_ranges_unchanged():
    rng = np.random.default_rng(11)
    n = 400
    stated_sd = rng.uniform(0.15, 0.6, n)  # ranges of different widths, each exactly right
    _, efforts, actual = _process(rng, n, stated_sd=stated_sd, true_sd=stated_sd, bias=0.0)
    corr = learn(_history(efforts, actual)).correction("effort", None)
    assert corr.team is None
    assert abs(corr.shift - 1) < 4 * corr.shift_se, corr
    assert abs(corr.widen - 1) < 4 * corr.widen_se, corr
    assert 0 < corr.shift_se < 0.05 and 0 < corr.widen_se < 0.15


def test_too_little_history_gives_no_correction_and_teams_fall_back_to_the_pooled_one():
    rng = np.random.default_rng(5)
    _, e1, a1 = _process(rng, 30)
    _, e2, a2 = _process(rng, MIN_HISTORY - 1)
    small = _history(e2, a2, team="Platform")
    records = _history(e1, a1).records + tuple(Record(r.quarter, Initiative(**{**r.initiative.__dict__, "id": f"p{k}"}),
                                                      r.actual) for k, r in enumerate(small.records))
    cal = learn(History(records))
    assert cal.correction("effort", "Platform") is cal.correction("effort", None)
    assert {(c.team, c.n) for c in cal.ranges if c.factor == "effort"} == {(None, 30 + MIN_HISTORY - 1), ("Growth", 30)}
    assert learn(small).correction("effort", "Platform") is None


def test_correction_formulas_and_round_trip_of_the_written_text():
    corr = RangeCorrection("effort", None, 50, shift=1.3, shift_se=0.05, widen=2.0, widen_se=0.1, point_half_width=0.5)
    est = correct_estimate(lognormal_interval(2, 8), "effort", corr)
    # median 4 × 1.3, log half-width 2 × ln(8/2)/2: the range 5.2/4..5.2×4 = 1.3..20.8
    lo, hi = (float(x) for x in est.text.split(".."))
    assert (lo, hi) == (1.3, 20.8)
    assert est.family == "lognormal" and est.median() == pytest.approx(5.2, rel=1e-3)
    assert parse_estimate(est.text, "effort") == est
    p = correct_estimate(point(10), "effort", corr)
    assert p.text == f"{13 * math.exp(-0.5):.3g}..{13 * math.exp(0.5):.3g}" and parse_estimate(p.text, "effort") == p
    for text in ("pert(1, 2, 6)", "100..100.1", "0.001..0.002", "2.5M..4M"):
        est = correct_estimate(parse_estimate(text, "reach"), "reach", corr)
        assert parse_estimate(est.text, "reach") == est
    narrow = RangeCorrection("reach", None, 50, 1.0, 0.0, 0.01, 0.0, None)
    est = correct_estimate(parse_estimate("100..100.1", "reach"), "reach", narrow)  # needs more than 3 digits
    lo, hi = (float(x) for x in est.text.split(".."))
    assert lo < hi and parse_estimate(est.text, "reach") == est


# --- delivery probabilities ----------------------------------------------------------------------------


def _delivery_history(rng, groups):
    """Records with point confidences: groups of (stated, true delivery rate, n)."""
    records, i = [], 0
    for stated, rate, n in groups:
        for d in rng.random(n) < rate:
            records.append(Record("2025Q1", _initiative(i, point(2), confidence=stated),
                                  Actual(f"i{i}", "2025Q1", delivered=bool(d))))
            i += 1
    return History(tuple(records))


def test_stated_80_percent_delivering_half_the_time_is_mapped_to_half():
    history = _delivery_history(np.random.default_rng(80), [(0.3, 0.2, 200), (0.8, 0.5, 400), (0.95, 0.7, 200)])
    mapping = learn(history).mapping("Growth")
    se = math.sqrt(0.25 / 400)
    assert abs(float(mapping(0.8)) - 0.5) < 4 * se
    assert np.all(np.diff(mapping.observed) >= 0) and np.all(np.diff(mapping.stated) > 0)
    portfolio = Portfolio((_initiative(0, point(2), confidence=0.8),))
    mapped = apply_calibration(portfolio, learn(history))["i0"].confidence
    assert mapped.is_point and abs(mapped.median() - 0.5) < 4 * se + 0.005  # 3 significant digits
    assert apply_calibration(portfolio, learn(history), "multiplier")["i0"].confidence == portfolio["i0"].confidence
    report = measure(history).delivery
    assert abs(report.observed.value - (200 * 0.2 + 400 * 0.5 + 200 * 0.7) / 800) < 4 * report.observed.se


def test_a_small_team_s_delivery_map_is_pulled_toward_every_team_s():
    # Pooled: 400 records at 60% delivering exactly half; team Mobile's 20 of them all missed.
    records = []
    for i in range(400):
        team = "Mobile" if i < 20 else "Growth"
        records.append(Record("2025Q1", _initiative(i, point(2), team=team, confidence=0.6),
                              Actual(f"i{i}", "2025Q1", delivered=bool(i >= 20 and i % 2 == 0))))
    calibration = learn(History(tuple(records)))
    pooled = 190 / 400  # delivered among all 400
    # y' = (0 + λ·pooled) / (1 + λ), λ = PRIOR_RECORDS / 20 = 0.5: about 16%, not 0%
    assert float(calibration.mapping("Mobile")(0.6)) == pytest.approx(0.5 * pooled / 1.5, abs=1e-12)
    assert float(calibration.mapping(None)(0.6)) == pytest.approx(pooled, abs=1e-12)


def test_isotonic_regression_on_a_hand_case_and_monotone_on_noise():
    mx, my, w = isotonic(np.array([1, 2, 3, 4, 5, 6.0]), np.array([1, 0, 1, 0, 0, 1.0]))
    np.testing.assert_allclose(mx, [3, 6])
    np.testing.assert_allclose(my, [0.4, 1])
    np.testing.assert_allclose(w, [5, 1])
    mx, my, _ = isotonic(np.array([0.5, 0.5, 0.9, 0.2]), np.array([1, 0, 0, 0.0]))  # ties share one value
    np.testing.assert_allclose(mx, [0.2, (0.5 + 0.5 + 0.9) / 3])
    np.testing.assert_allclose(my, [0, 1 / 3])
    rng = np.random.default_rng(3)
    x = rng.random(500)
    y = (rng.random(500) < x).astype(float)
    mx, my, w = isotonic(x, y)
    assert np.all(np.diff(my) > 0) and np.all(np.diff(mx) > 0) and w.sum() == 500
    assert np.dot(my, w) == pytest.approx(y.sum())  # PAV keeps the total
    m = DeliveryMapping(None, 500, tuple(mx), tuple(my))
    grid = m(np.linspace(-0.5, 1.5, 401))
    assert np.all(np.diff(grid) >= 0) and grid.min() >= 0.01 and grid.max() <= 1


def test_brier_score_and_reliability_table_on_a_hand_case():
    stated = np.array([0.82, 0.88, 0.85, 0.3, 0.35, np.nan])
    delivered = np.array([1, 0, 0, 0, 1, 1.0])
    cal = delivery_calibration(stated, delivered)
    sq = np.array([0.18**2, 0.88**2, 0.85**2, 0.3**2, 0.65**2])
    assert cal.n == 5 and cal.brier.value == pytest.approx(sq.mean())
    assert cal.brier.se == pytest.approx(sq.std(ddof=1) / math.sqrt(5))
    assert [(r["n"], round(r["stated"], 6), round(r["observed"], 6)) for r in cal.reliability] == [
        (2, 0.325, 0.5), (3, 0.85, round(1 / 3, 6))]
    assert cal.reliability[1]["observed_se"] == pytest.approx(math.sqrt(1 / 3 * 2 / 3 / 3))
    d = cal.to_dict()
    assert d["brier"] == pytest.approx(sq.mean()) and len(d["reliability"]) == 2
    assert delivery_calibration(np.array([0.5]), np.array([np.nan])) is None


# --- schedule -------------------------------------------------------------------------------------------------


def test_planned_delivery_quarter_rule_on_a_hand_case():
    def rec(i, quarter, actual, effort=3.0, **roadmap):
        return Record(quarter, _initiative(i, point(effort), **roadmap), Actual(f"i{i}", quarter, **actual))

    history = History((
        # 3 person-months at 2 per quarter from 2025Q1: planned delivery 2025Q2; shipped then: held
        rec(0, "2025Q1", {"delivered": True, "delivered_quarter": "2025Q2"}, planned_quarter="2025Q1",
            max_per_quarter=2.0, deadline="2025Q2"),
        # no pace: one quarter, 2025Q1; shipped 2025Q3: two quarters late
        rec(1, "2025Q1", {"delivered": True, "delivered_quarter": "2025Q3"}, planned_quarter="2025Q1"),
        # no planned quarter: the quarter of the estimate; shipped then: held
        rec(2, "2025Q2", {"delivered": True, "delivered_quarter": "2025Q2"}),
        rec(3, "2025Q2", {"delivered": False}, deadline="2025Q4"),  # not delivered: not held, deadline missed
        rec(4, "2025Q2", {"actual_effort": 2.0}),  # outcome unknown: not counted
        rec(5, "2025Q2", {"delivered": True}),  # shipped, quarter not recorded: not counted
    ))
    cal = schedule_calibration(history)
    assert cal.n == 4 and cal.held.value == 0.5 and cal.held.se == pytest.approx(math.sqrt(0.25 / 4))
    assert cal.late_quarters_median == 2.0
    assert cal.deadline_n == 2 and cal.deadline_met.value == 0.5
    assert cal.basis == "planned_quarter, else the quarter of the estimate"
    assert cal.to_dict()["held"] == {"value": 0.5, "se": 0.25}
    assert schedule_calibration(History(())) is None


# --- the file ---------------------------------------------------------------------------------------------------


def test_calibration_file_round_trip_and_cache(tmp_path):
    _, efforts, actual = _process(np.random.default_rng(9), 60)
    cal = learn(_history(efforts, actual))
    path = save_calibration(cal, tmp_path / "calibration.json")
    loaded = load_calibration(path)
    assert loaded.ranges == cal.ranges and loaded.to_dict() == json.loads(path.read_text())
    assert load_calibration(path) is loaded  # cached
    data = json.loads(path.read_text())
    growth = next(i for i, r in enumerate(data["ranges"]) if r["factor"] == "effort" and r["team"] == "Growth")
    data["ranges"][growth]["shift"] = 2.5
    path.write_text(json.dumps(data, indent=3))  # rewritten: size (and mtime) change
    os.utime(path, ns=(1, 1))
    again = load_calibration(path)
    assert again is not loaded and again.correction("effort", "Growth").shift == 2.5
    applied_rows = applied(again, Portfolio((_initiative(0, lognormal_interval(1, 2)),)))
    assert [(a.factor, a.team, a.shift, a.initiatives, a.pooled) for a in applied_rows] == [
        ("effort", "Growth", 2.5, 1, False), ("confidence", "Growth", pytest.approx(math.nan, nan_ok=True), 1, False)]


def test_a_bad_calibration_file_is_refused_with_every_problem_located(tmp_path):
    bad = {"workbench_calibration": 2, "method": 3,
           "ranges": [{"factor": "efort", "team": None, "n": 0, "shift": -1, "widen": "x"}, "nope"],
           "delivery": [{"team": "A", "n": 30, "stated": [0.5, 0.4], "observed": [0.2, 0.3]},
                        {"team": "B", "n": 30, "stated": [0.5], "observed": [1.5]}]}
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InputError) as err:
        load_calibration(path)
    where = [(p.file, p.column) for p in err.value.problems]
    assert where == [(str(path), c) for c in ("workbench_calibration", "method", "ranges[0].factor", "ranges[0].n",
                                              "ranges[0].shift", "ranges[0].widen", "ranges[1]", "delivery[0].stated",
                                              "delivery[1].stated")]
    assert "expected 1" in err.value.problems[0].message
    path.write_text("{not json")
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert err.value.problems[0].line == 1 and "not valid JSON" in err.value.problems[0].message
    with pytest.raises(InputError, match="cannot read"):
        load_calibration(tmp_path / "missing.json")
    with pytest.raises(InputError):
        Calibration.from_dict([1, 2])


def test_a_hand_edited_file_beyond_any_learned_correction_is_refused_before_the_engine(tmp_path):
    good = {"factor": "effort", "team": None, "n": 20, "shift": 1.2, "widen": 1.5, "point_half_width": 0.5}
    bad = {"workbench_calibration": 1, "method": "", "learned_from": {},
           "ranges": [{**good, "shift": 1e200}, {**good, "team": "B", "widen": 500},
                      {**good, "team": "C", "point_half_width": 800}],
           "delivery": [{"team": None, "n": 30, "stated": [0.5, 0.8], "observed": [0.6, 0.3]}]}
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert [p.column for p in err.value.problems] == ["ranges[0].shift", "ranges[1].widen",
                                                      "ranges[2].point_half_width", "delivery[0].observed"]
    path.write_text('{"workbench_calibration": ' + "9" * 5000 + "}")  # beyond Python's int-from-text limit
    with pytest.raises(InputError) as err:
        load_calibration(path)
    assert err.value.problems[0].file == str(path)


def test_delivery_map_beyond_the_stated_chances_seen_scales_by_the_nearest_ratio():
    mapping = DeliveryMapping(None, 40, (0.6, 0.9), (0.3, 0.6))
    # Inside: linear through the knots; below 60%: ×0.3/0.6; above 90%: ×0.6/0.9 (a constant would lift 30% to 30%).
    np.testing.assert_allclose(mapping([0.75, 0.3, 0.95]), [0.45, 0.15, 0.95 * 0.6 / 0.9])
    flat = DeliveryMapping(None, 40, (0.6, 0.9), (0.55, 0.55))
    one = correct_confidence(parse_estimate("70%..80%", "confidence"), flat)
    assert one.is_point and one.text == "55%"  # a flat map gives one chance, not 54.99..55.01%
    high = correct_confidence(parse_estimate("60%..95%", "confidence"), DeliveryMapping(None, 40, (0.5, 0.9), (0.5, 1.0)))
    lo, hi = high.ppf([0.05, 0.95])
    assert lo == pytest.approx(0.625, abs=0.005) and hi == pytest.approx(0.995, abs=1e-3)  # 90% range kept


def test_a_team_of_single_numbers_gets_every_team_s_widening_for_its_ranges():
    rng = np.random.default_rng(7)
    records = []
    for i in range(60):  # team A: 60 ranges; team B: 12 single numbers and 2 ranges
        team = "A" if i < 46 else "B"
        effort = lognormal_interval(2, 8) if team == "A" or i >= 58 else point(4)
        actual = float(effort.median() * np.exp(rng.normal(0, 0.8)))
        records.append(Record("2025Q1", _initiative(i, effort, team=team), Actual(f"i{i}", "2025Q1", actual_effort=actual,
                                                                                  delivered=True)))
    calibration = learn(History(tuple(records)))
    pooled, own = calibration.correction("effort", None), calibration.correction("effort", "B")
    assert own.team == "B" and own.widen == pooled.widen and own.shift != pooled.shift

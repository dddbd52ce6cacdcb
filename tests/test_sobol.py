"""Sobol' indices against closed forms: Ishigami, lognormal products, additive groups, small portfolios."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench import Correlation
from workbench.model.estimates import EstimateError, parse_estimate
from workbench.sensitivity.sobol_indices import portfolio_sobol, sobol

from conftest import initiative, portfolio

Z95 = 1.6448536269514722
PI = "3.141592653589793"
SEED = 20240611
# Every comparison with a known answer must fall inside the reported 99% interval, and the
# interval must be narrow enough for that to mean something.
LEVEL = 0.99


def within_intervals(table: pd.DataFrame, s1, st, widest: float) -> None:
    """The exact S1 and ST lie inside the reported intervals, and these are at most `widest` wide."""
    for col, exact in (("S1", s1), ("ST", st)):
        got, half = table[col].to_numpy(), table[f"{col}_conf"].to_numpy()
        assert np.all(half > 0) and np.all(half <= widest), (col, half)
        assert np.all(np.abs(got - np.asarray(exact)) <= half), (col, got, exact, half)


def lognormal_sigma(lo: float, hi: float) -> tuple[float, float]:
    """mu and sigma of the lognormal with lo and hi on its 5th and 95th percentiles."""
    return (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / (2 * Z95)


def lognormal_var(lo: float, hi: float) -> float:
    mu, s = lognormal_sigma(lo, hi)
    return (np.exp(s**2) - 1) * np.exp(2 * mu + s**2)


def product_indices(sigmas) -> tuple[np.ndarray, np.ndarray]:
    """Y = prod exp(sigma_i Z_i): S1_i = (e^{s_i^2} - 1)/(e^S - 1), ST_i = 1 - (e^{S - s_i^2} - 1)/(e^S - 1)."""
    s2 = np.asarray(sigmas, float) ** 2
    total = s2.sum()
    return np.expm1(s2) / np.expm1(total), 1 - np.expm1(total - s2) / np.expm1(total)


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x["x1"]) + a * np.sin(x["x2"]) ** 2 + b * x["x3"] ** 4 * np.sin(x["x1"])


ISHIGAMI_INPUTS = {name: f"uniform(-{PI}, {PI})" for name in ("x1", "x2", "x3")}


# --- generic models -----------------------------------------------------------------------------


def test_ishigami_matches_the_analytic_indices():
    table = sobol(ishigami, ISHIGAMI_INPUTS, n=4096, seed=SEED, confidence=LEVEL)
    assert list(table.index) == ["x1", "x2", "x3"] and table.index.name == "input"
    assert list(table.columns) == ["S1", "S1_conf", "ST", "ST_conf"]
    within_intervals(table, [0.3139, 0.4424, 0.0], [0.5576, 0.4424, 0.2437], widest=0.08)
    assert table.attrs["n"] == 4096 and table.attrs["evaluations"] == 4096 * 5
    # Var Y = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 for a = 7, b = 0.1.
    exact_var = 49 / 8 + 0.1 * np.pi**4 / 5 + 0.01 * np.pi**8 / 18 + 0.5
    assert table.attrs["variance"] == pytest.approx(exact_var, rel=0.02)


def test_product_of_lognormals_matches_closed_form():
    sigmas = (0.2, 0.4, 0.6)
    inputs = {f"z{i}": stats.lognorm(s) for i, s in enumerate(sigmas)}  # frozen scipy distributions
    table = sobol(lambda x: x["z0"] * x["z1"] * x["z2"], inputs, n=8192, seed=SEED, confidence=LEVEL)
    s1, st = product_indices(sigmas)
    within_intervals(table, s1, st, widest=0.15)


def test_a_group_of_an_additive_model_has_the_sum_of_its_first_order_indices():
    # Y = X1 + 2 X2 + 3 X3 with independent standard normals: S1_i = ST_i = c_i^2 / 14.
    inputs = {"x1": "normal(0, 1)", "x2": "normal(0, 1)", "x3": "normal(0, 1)"}
    model = lambda x: x["x1"] + 2 * x["x2"] + 3 * x["x3"]  # noqa: E731
    single = sobol(model, inputs, n=4096, seed=SEED, confidence=LEVEL)
    within_intervals(single, np.array([1, 4, 9]) / 14, np.array([1, 4, 9]) / 14, widest=0.06)
    grouped = sobol(model, inputs, n=4096, seed=SEED, confidence=LEVEL, groups={"x1": "g12", "x2": "g12", "x3": "g3"})
    assert list(grouped.index) == ["g12", "g3"] and grouped.index.name == "group"
    within_intervals(grouped, [5 / 14, 9 / 14], [5 / 14, 9 / 14], widest=0.06)
    assert grouped.attrs["evaluations"] == 4096 * 4  # A, B and one AB per group


def test_a_single_group_of_all_inputs_explains_everything():
    table = sobol(ishigami, ISHIGAMI_INPUTS, n=1024, seed=SEED, groups=dict.fromkeys(ISHIGAMI_INPUTS, "all"))
    assert table.loc["all", "S1"] == pytest.approx(1, abs=0.05)
    assert table.loc["all", "ST"] == pytest.approx(1, abs=0.05)


def test_an_input_the_model_ignores_has_zero_indices():
    table = sobol(lambda x: x["a"] ** 2, {"a": "0.5..2", "unused": "uniform(0, 1)"}, n=256, seed=SEED)
    assert table.loc["unused", ["S1", "ST", "S1_conf", "ST_conf"]].tolist() == [0, 0, 0, 0]


def test_determinism_by_seed():
    first = sobol(ishigami, ISHIGAMI_INPUTS, n=512, seed=7)
    pd.testing.assert_frame_equal(first, sobol(ishigami, ISHIGAMI_INPUTS, n=512, seed=7))
    assert not first.equals(sobol(ishigami, ISHIGAMI_INPUTS, n=512, seed=8))
    drawn = sobol(ishigami, ISHIGAMI_INPUTS, n=512)
    assert isinstance(drawn.attrs["seed"], int)
    pd.testing.assert_frame_equal(drawn, sobol(ishigami, ISHIGAMI_INPUTS, n=512, seed=drawn.attrs["seed"]))


def test_the_model_cannot_edit_its_inputs_in_place():
    def model(x):
        x["a"] *= 2
        return x["a"]

    with pytest.raises(ValueError, match="read-only"):
        sobol(model, {"a": "1..2"}, n=64, seed=1)


# --- errors at the boundary ---------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    (dict(inputs={}), "non-empty mapping"),
    (dict(inputs=["x1"]), "non-empty mapping"),
    (dict(inputs={"x1": 3}), r"input 'x1': expected an estimate string"),
    (dict(inputs={"x1": "uniform(1)"}), r"input 'x1': uniform\(a, b\) takes 2 numbers"),
    (dict(inputs={"x1": "200-800"}), r"input 'x1': .*write 200\.\.800"),
    (dict(inputs={"": "1..2"}), "non-empty strings"),
    (dict(n=32), "at least 64"),
    (dict(n=1000), "power of two.*512 or 1024"),
    (dict(n=64.0), "integer power of two"),
    (dict(confidence=95), "strictly between 0 and 1"),
    (dict(seed=-1), "a seed must be a whole number >= 0"),
    (dict(groups={"x9": "g"}), "unknown inputs: 'x9'"),
    (dict(groups={"x1": "g"}), "missing 'x2', 'x3'"),
])
def test_bad_arguments_are_named(kwargs, message):
    args = dict(model=ishigami, inputs=ISHIGAMI_INPUTS, n=64, seed=1) | kwargs
    with pytest.raises(ValueError, match=message):
        sobol(**args)


@pytest.mark.parametrize("model, message", [
    (lambda x: x["x1"][:10], r"one value per sample, shape \(64,\); got shape \(10,\)"),
    (lambda x: np.stack([x["x1"], x["x2"]], 1), r"got shape \(64, 2\)"),
    (lambda x: 1.0, r"got shape \(\)"),
    (lambda x: np.where(x["x1"] > 0, x["x1"], np.nan), r"non-finite values \(nan or inf\), e\.g\. nan at x1=-"),
    (lambda x: np.full(64, "a"), "real numbers"),
    (lambda x: np.zeros(64), "does not vary"),
])
def test_bad_model_outputs_are_named(model, message):
    with pytest.raises(ValueError, match=message):
        sobol(model, ISHIGAMI_INPUTS, n=64, seed=1)


def test_parse_estimate_without_a_factor_has_no_domain_and_no_words():
    assert parse_estimate(f"uniform(-{PI}, {PI})", None).ppf(0.0) == pytest.approx(-np.pi)
    z = parse_estimate("normal(0, 1)", None)  # not truncated: no domain
    assert z.ppf(0.025) == pytest.approx(-1.959964, abs=1e-6)
    assert parse_estimate("-5", None).median() == -5
    assert parse_estimate(-2.5, None).median() == -2.5
    assert parse_estimate("200..800", None).family == "lognormal"
    with pytest.raises(EstimateError, match="'high' is not a number"):
        parse_estimate("high", None)
    with pytest.raises(EstimateError, match="too large"):
        parse_estimate("normal(0, 1e300)", None)
    with pytest.raises(ValueError, match="unknown factor"):
        parse_estimate("1", "value")


# --- portfolios ---------------------------------------------------------------------------------


def test_plan_of_two_lognormal_reaches_splits_the_variance():
    # Plan value = R_a + R_b (impact 1, confidence 100%, effort 1): S1 = ST = each reach's variance share.
    # c is not selected: its inputs cannot move the plan and are left out.
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100..900"),
                  initiative("c", reach="50..500", impact="pert(1, 2, 4)", confidence="50%", effort="2..6"))
    va, vb = lognormal_var(200, 800), lognormal_var(100, 900)
    share = np.array([va, vb]) / (va + vb)
    table = portfolio_sobol(p, ["a", "b"], n=4096, seed=SEED, confidence_mode="multiplier", group_by=None,
                            confidence=LEVEL)
    assert list(table.index) == ["a.reach", "b.reach"] and table.index.name == "input"
    within_intervals(table, share, share, widest=0.2)
    by_initiative = portfolio_sobol(p, ["b", "a"], n=4096, seed=SEED, confidence_mode="multiplier", confidence=LEVEL)
    assert list(by_initiative.index) == ["a", "b"] and by_initiative.index.name == "group"
    within_intervals(by_initiative, share, share, widest=0.2)
    by_factor = portfolio_sobol(p, ["a", "b"], n=4096, seed=SEED, confidence_mode="multiplier", group_by="factor",
                                confidence=LEVEL)
    assert list(by_factor.index) == ["reach"]
    within_intervals(by_factor, [1.0], [1.0], widest=0.2)
    assert by_factor.attrs["selected"] == ["a", "b"] and by_factor.attrs["output"] == "plan"


def test_plan_in_success_mode_counts_the_bernoulli_draw():
    # value = 100 * Bernoulli(0.5) + R_b: Var of the first term is 100^2 * 0.25.
    p = portfolio(initiative("a", reach="100", confidence="50%"), initiative("b", reach="50..150"))
    v_success, v_reach = 2500.0, lognormal_var(50, 150)
    share = np.array([v_reach, v_success]) / (v_reach + v_success)
    table = portfolio_sobol(p, n=4096, seed=SEED, group_by=None, confidence=LEVEL)
    assert list(table.index) == ["b.reach", "a.success"]
    within_intervals(table, share, share, widest=0.1)
    by_factor = portfolio_sobol(p, n=4096, seed=SEED, group_by="factor", confidence=LEVEL)
    assert list(by_factor.index) == ["reach", "confidence"]  # success draws count with confidence
    within_intervals(by_factor, share, share, widest=0.1)


def test_plan_in_multiplier_mode_with_an_uncertain_confidence():
    # value = 50 * C_a + R_b with C_a uniform(0.2, 0.8): Var = 2500 * 0.36 / 12.
    p = portfolio(initiative("a", reach="50", confidence="uniform(20%, 80%)"), initiative("b", reach="5..15"))
    v_conf, v_reach = 2500 * 0.36 / 12, lognormal_var(5, 15)
    share = np.array([v_reach, v_conf]) / (v_reach + v_conf)
    table = portfolio_sobol(p, n=4096, seed=SEED, confidence_mode="multiplier", group_by="factor", confidence=LEVEL)
    assert list(table.index) == ["reach", "confidence"]
    within_intervals(table, share, share, widest=0.1)


def test_scores_of_reach_over_effort_match_the_lognormal_product():
    # score = R / E = a product of two independent lognormals; y's score depends on y only.
    p = portfolio(initiative("x", reach="200..800", effort="2..6"),
                  initiative("y", reach="2..8", impact="2", effort="1..3"),
                  initiative("fixed", reach="300"))
    sigmas = [lognormal_sigma(200, 800)[1], lognormal_sigma(2, 6)[1]]
    table = portfolio_sobol(p, n=4096, seed=SEED, group_by=None, output="scores", confidence=LEVEL)
    assert table.index.names == ["output", "input"]
    assert table.index.tolist() == [("x", "x.reach"), ("x", "x.effort"), ("y", "y.reach"), ("y", "y.effort")]
    s1, st = product_indices(sigmas)
    within_intervals(table.loc["x"], s1, st, widest=0.15)
    s1, st = product_indices([lognormal_sigma(2, 8)[1], lognormal_sigma(1, 3)[1]])
    within_intervals(table.loc["y"], s1, st, widest=0.1)
    by_initiative = portfolio_sobol(p, n=4096, seed=SEED, output="scores", confidence=LEVEL)
    assert by_initiative.index.tolist() == [("x", "x"), ("y", "y")]
    within_intervals(by_initiative, [1, 1], [1, 1], widest=0.2)  # all of a score's inputs: S1 = ST = 1


def test_portfolio_sobol_is_deterministic_by_seed():
    p = portfolio(initiative("a", reach="200..800", confidence="80%"), initiative("b", impact="pert(1, 2, 4)"))
    first = portfolio_sobol(p, n=256, seed=3, group_by=None)
    pd.testing.assert_frame_equal(first, portfolio_sobol(p, n=256, seed=3, group_by=None))
    assert not first.equals(portfolio_sobol(p, n=256, seed=4, group_by=None))


def test_portfolio_errors_are_named():
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100", effort="1..3"))
    with pytest.raises(ValueError, match="unknown initiatives: 'zz'"):
        portfolio_sobol(p, ["a", "zz"], n=64)
    with pytest.raises(ValueError, match="selected is empty"):
        portfolio_sobol(p, [], n=64)
    with pytest.raises(ValueError, match="list of initiative ids"):
        portfolio_sobol(p, "a", n=64)
    with pytest.raises(ValueError, match="unknown group_by 'team'"):
        portfolio_sobol(p, group_by="team", n=64)
    with pytest.raises(ValueError, match="unknown output 'rank'"):
        portfolio_sobol(p, output="rank", n=64)
    with pytest.raises(ValueError, match="unknown confidence mode 'odds'"):
        portfolio_sobol(p, confidence_mode="odds", n=64)
    with pytest.raises(ValueError, match="power of two"):
        portfolio_sobol(p, n=100)
    # b's only uncertain estimate is its effort, which does not enter the plan's value.
    with pytest.raises(ValueError, match="no uncertain input can move the selected initiatives' value"):
        portfolio_sobol(p, ["b"], n=64)
    correlated = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100..300"),
                           correlations=[Correlation(("a", "reach"), ("b", "reach"), 0.5)])
    with pytest.raises(ValueError, match=r"independent inputs.*a\.reach ~ b\.reach.*group_by='initiative'"):
        portfolio_sobol(correlated, n=64, group_by=None)
    assert list(portfolio_sobol(correlated, n=64, seed=1).index) == ["a+b"]
    independent = portfolio_sobol(dataclasses.replace(correlated, correlations=()), n=64, seed=1)
    assert list(independent.index) == ["a", "b"]


def test_correlated_initiatives_form_one_group_with_the_closed_form_share():
    # Plan value R_a + R_b + R_c (multiplier mode, impact 1, confidence 100%); a and b correlated.
    rho_s = 0.5
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100..300"),
                  initiative("c", reach="150..600"),
                  correlations=[Correlation(("a", "reach"), ("b", "reach"), rho_s)])
    out = portfolio_sobol(p, n=8192, seed=3, confidence_mode="multiplier", confidence=0.99)
    z = 1.6448536269514722

    def lognormal(lo, hi):
        return (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / (2 * z)

    (ma, sa), (mb, sb), (mc, sc) = lognormal(200, 800), lognormal(100, 300), lognormal(150, 600)

    def var(m, s):
        return np.exp(2 * m + s**2) * (np.exp(s**2) - 1)

    r = 2 * np.sin(np.pi * rho_s / 6)  # the copula's normal-scale correlation
    cov = np.exp(ma + mb + (sa**2 + sb**2) / 2) * (np.exp(r * sa * sb) - 1)
    v_ab = var(ma, sa) + var(mb, sb) + 2 * cov
    exact = v_ab / (v_ab + var(mc, sc))
    assert list(out.index) == ["a+b", "c"]
    for col in ("S1", "ST"):
        assert abs(out.loc["a+b", col] - exact) <= out.loc["a+b", f"{col}_conf"]
        assert abs(out.loc["c", col] - (1 - exact)) <= out.loc["c", f"{col}_conf"]


def test_the_copula_drives_each_variable_by_its_own_correlated_set_only():
    # Sobol groups assume that the normals named after a set's variables drive that set alone.
    from workbench.model.correlation import copula_factor

    m = np.eye(5)
    m[0, 1] = m[1, 0] = 0.3
    m[3, 4] = m[4, 3] = 0.8  # eigenvalues 0.2, 0.7, 1, 1.3, 1.8 interleave the two sets
    m[2, 2] = 1.0
    lf = copula_factor(m)
    np.testing.assert_allclose(lf @ lf.T, m, atol=1e-12)
    outside = np.ones_like(m, dtype=bool)
    for block in ([0, 1], [2], [3, 4]):
        outside[np.ix_(block, block)] = False
    np.testing.assert_allclose(lf[outside], 0, atol=1e-12)
    singular = np.ones((2, 2))  # perfectly correlated: still a factor, still within the set
    np.testing.assert_allclose(copula_factor(singular) @ copula_factor(singular).T, singular, atol=1e-12)


@pytest.mark.parametrize("rho_ab, rho_de", [(0.6, 0.6), (0.3, 0.8)])
def test_a_plan_with_unselected_correlated_partners_gets_the_closed_form_shares(rho_ab, rho_de):
    # Two correlated pairs (with equal correlations their eigenvalues coincide; with unequal ones
    # the pairs' eigenvalues interleave) and a plan that funds a, c and d only: its value is
    # R_a + R_c + R_d. The set {a, b} explains Var R_a, and {d, e} explains Var R_d.
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100..300"),
                  initiative("c", reach="150..600"), initiative("d", reach="300..900"),
                  initiative("e", reach="50..500"),
                  correlations=[Correlation(("a", "reach"), ("b", "reach"), rho_ab),
                                Correlation(("d", "reach"), ("e", "reach"), rho_de)])
    out = portfolio_sobol(p, selected=["a", "c", "d"], n=8192, seed=5, confidence_mode="multiplier",
                          confidence=LEVEL)
    var = {k: lognormal_var(lo, hi) for k, (lo, hi) in {"a+b": (200, 800), "c": (150, 600),
                                                         "d+e": (300, 900)}.items()}
    total = sum(var.values())
    exact = [var[g] / total for g in out.index]
    assert sorted(out.index) == ["a+b", "c", "d+e"]
    within_intervals(out, exact, exact, widest=0.1)


def test_spread_mode_uses_the_mapping_it_is_given():
    # Point estimates at 50% confidence: spread mode widens reach and impact of both by the
    # mapping's factor for 0.5; a mapping of 1 (no widening) for a leaves only b uncertain.
    p = portfolio(initiative("a", reach="100", impact="2", confidence="50%"),
                  initiative("b", reach="300", impact="1", confidence="80%"))
    both = portfolio_sobol(p, n=1024, seed=1, confidence_mode="spread")
    assert set(both.index) == {"a", "b"}
    only_b = portfolio_sobol(p, n=1024, seed=1, confidence_mode="spread", spread={1.0: 1.0, 0.8: 2.0, 0.5: 1.0})
    assert list(only_b.index) == ["b"]
    assert abs(only_b.loc["b", "S1"] - 1) <= only_b.loc["b", "S1_conf"]  # the one input left explains it all

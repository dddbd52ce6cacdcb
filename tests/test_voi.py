"""Value of information (EVPI, EVPPI) against closed forms, brute-force enumeration and the demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from workbench import Correlation, InputError, demo_portfolio, optimize
from workbench.engine.scenarios import sample_scenarios
from workbench.planning.constraints import Infeasible
from workbench.planning.optimization import scenarios_and_problem
from workbench.sensitivity.value_of_information import evpi, evpi_of, evppi, evppi_of, value_partners

from conftest import initiative, portfolio
from test_optimize import brute_force, random_instance

M1, S1, M2, S2 = 100.0, 20.0, 95.0, 15.0


def normal_gain(delta: float, sigma: float) -> float:
    """E[max(D, 0)] − max(δ, 0) for D ~ normal(δ, σ): the value of learning the sign of D."""
    if sigma == 0:
        return 0.0
    z = delta / sigma
    return delta * stats.norm.cdf(z) + sigma * stats.norm.pdf(z) - max(delta, 0.0)


def two_options(rho: float = 0.0, extra=()):
    """Two mutually exclusive options with normal values, a budget that allows either."""
    a = initiative("a", reach=f"normal({M1}, {S1})", excludes=("b",))
    b = initiative("b", reach=f"normal({M2}, {S2})")
    corr = [Correlation(("a", "reach"), ("b", "reach"), rho)] if rho else []
    return portfolio(a, b, *extra, correlations=corr)


def test_evpi_of_two_exclusive_options_matches_the_closed_form():
    sc, problem = scenarios_and_problem(two_options(), 2.0, scenarios=20000, seed=3)
    ev = sample_scenarios(two_options(), 20000, 3, purpose="evaluation")
    res = evpi_of(problem, sc, max_scenarios=20000, evaluate_on=ev)
    truth = normal_gain(M1 - M2, np.hypot(S1, S2))
    assert res.method == "enumeration" and res.scenarios == 20000 and res.solves == 0
    assert abs(res.value - truth) < 4 * res.se
    assert res.expected_value_perfect == pytest.approx(res.expected_value_now + res.value)
    # a is the better bet, chosen on sc and valued on the independent draws
    assert res.expected_value_now == pytest.approx(ev.value[:, 0].mean()) and res.evaluated_on == "evaluation"
    half = evpi_of(problem, sc, max_scenarios=20000)  # without evaluate_on: chosen on half, valued on the other
    assert half.scenarios == 10000 and half.evaluated_on == "held-out half"
    assert abs(half.value - truth) < 4 * half.se


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_evppi_of_each_option_matches_its_closed_form(rho):
    sc, problem = scenarios_and_problem(two_options(rho), 2.0, scenarios=20000, seed=4)
    table = evppi_of(problem, sc, evaluate_on=sample_scenarios(two_options(rho), 20000, 4, purpose="evaluation"))
    table = table.set_index("id")
    r = 2 * np.sin(np.pi * rho / 6)  # the Gaussian copula's Pearson correlation: values are bivariate normal
    # Learning v_a: choose a iff v_a > E[v_b | v_a], a normal with mean δ and sd |σa − r σb|.
    truth = {"a": normal_gain(M1 - M2, abs(S1 - r * S2)), "b": normal_gain(M2 - M1, abs(S2 - r * S1))}
    evpi_value = normal_gain(M1 - M2, np.sqrt(S1**2 + S2**2 - 2 * r * S1 * S2))
    for id_, want in truth.items():
        got = table.loc[id_]
        # binning (rho > 0) adds a small bias of its own, beyond the Monte Carlo error
        assert abs(got["value"] - want) < 4 * got["se"] + (0.05 * want if rho else 0.0), (id_, got, want)
        assert got["value"] <= evpi_value
    assert table.loc["a", "correlated_with"] == ("b" if rho else "")


def test_evppi_of_a_point_estimate_or_a_forced_initiative_is_zero():
    extra = (initiative("fixed", reach="50"), initiative("must", reach="20..80", moscow="must"),
             initiative("wont", reach="20..80", moscow="won't"))
    sc, problem = scenarios_and_problem(two_options(extra=extra), 4.0, scenarios=500, seed=5)
    table = evppi_of(problem, sc).set_index("id")
    for id_ in ("fixed", "must", "wont"):
        assert table.loc[id_, "value"] == 0 and table.loc[id_, "se"] == pytest.approx(0, abs=1e-9)
        assert table.loc[id_, "p_change"] == 0
    assert (table["value"] >= 0).all()


def brute_evpi_evppi(p, kw, sc, ev):
    """EVPI and per-initiative EVPPI from every subset (independent values): the prior plan and the
    informed rules chosen on sc's means, valued on the independent draws ev."""
    _, ok, x = brute_force(p, np.zeros(len(p)), sc.effort_quantile(0.5), **kw)
    plans = x[ok].astype(float)
    mu, v = sc.value.mean(axis=0), ev.value
    x_star = plans[(plans @ mu).argmax()]
    now = v @ x_star
    evpi_value = ((v @ plans.T).max(axis=1) - now).mean()
    evppi_values = []
    for i in range(len(p)):
        rest = np.where(np.arange(len(p)) == i, 0.0, mu)
        cond = v[:, [i]] * plans[:, i] + plans @ rest  # valued scenarios x plans: E[V(x) | v_i] by sc's means
        informed = plans[cond.argmax(axis=1)]
        evppi_values.append(((informed * v).sum(axis=1) - now).mean())
    return evpi_value, np.array(evppi_values)


@pytest.mark.parametrize("seed", range(8))
def test_evpi_and_evppi_equal_brute_force_on_small_random_portfolios(seed):
    rng = np.random.default_rng(500 + seed)
    p, kw = random_instance(rng, int(rng.integers(4, 9)), uncertain=True)
    sc = sample_scenarios(p, 60, seed=seed)
    _, ok, _ = brute_force(p, np.zeros(len(p)), sc.effort_quantile(0.5), **kw)
    if not ok.any():
        with pytest.raises(Infeasible):
            evpi_of(*scenarios_and_problem(p, scenarios=sc, **kw)[::-1])
        return
    _, problem = scenarios_and_problem(p, scenarios=sc, **kw)
    ev = sample_scenarios(p, 60, seed=seed, purpose="evaluation")
    want_evpi, want_evppi = brute_evpi_evppi(p, kw, sc, ev)
    scale = np.abs(sc.value).mean(axis=0).max()
    for enumerate_up_to in (16, 0):  # enumeration, then one MILP per scenario
        res = evpi_of(problem, sc, max_scenarios=60, enumerate_up_to=enumerate_up_to, evaluate_on=ev)
        assert res.value == pytest.approx(want_evpi, rel=1e-6, abs=1e-6 * scale)
        table = evppi_of(problem, sc, enumerate_up_to=enumerate_up_to, evaluate_on=ev).set_index("id").loc[p.ids]
        np.testing.assert_allclose(table["value"], want_evppi, rtol=1e-6, atol=1e-6 * scale)
    assert res.method == "milp" and res.exact and res.solves == 60 + 1


def test_binned_evppi_of_correlated_initiatives_equals_brute_force_per_bin():
    rng = np.random.default_rng(77)
    p, kw = random_instance(rng, 7, uncertain=True)
    ids = p.ids
    p = portfolio(*p, correlations=[Correlation((ids[0], "reach"), (ids[1], "reach"), 0.7),
                                   Correlation((ids[1], "impact"), (ids[2], "effort"), 0.4)])  # effort: no value link
    assert value_partners(p)[:3] == [{1}, {0}, set()]
    sc, problem = scenarios_and_problem(p, scenarios=200, seed=8, **kw)
    ev = sample_scenarios(p, 300, seed=8, purpose="evaluation")
    _, ok, x = brute_force(p, np.zeros(len(p)), sc.effort_quantile(0.5), **kw)
    plans = x[ok].astype(float)
    v, mu = sc.value, sc.value.mean(axis=0)
    x_star = plans[(plans @ mu).argmax()]
    for enumerate_up_to in (16, 0):
        table = evppi_of(problem, sc, bins=8, enumerate_up_to=enumerate_up_to, evaluate_on=ev).set_index("id")
        for i in (0, 1):
            # 8 bins of v_i at sc's octiles; a plan per bin on sc's conditional means, valued on ev
            edges = np.quantile(v[:, i], np.arange(1, 8) / 8)
            labels, ev_labels = np.digitize(v[:, i], edges), np.digitize(ev.value[:, i], edges)
            cond = np.tile(mu, (8, 1))
            for j in (0, 1):
                cond[:, j] = [v[labels == b, j].mean() for b in range(8)]
            informed = plans[(cond @ plans.T).argmax(axis=1)]
            want = ((informed[ev_labels] - x_star) * ev.value).sum(axis=1).mean()
            assert table.loc[ids[i], "value"] == pytest.approx(want, rel=1e-6, abs=1e-6 * mu.max())
        assert table.loc[ids[0], "correlated_with"] == ids[1]


def test_demo_portfolio_with_correlations_gives_finite_ranked_values():
    sc, problem = scenarios_and_problem(demo_portfolio(), 40, scenarios=300, seed=11)
    table = evppi_of(problem, sc)
    assert isinstance(table, pd.DataFrame) and list(table.columns[:3]) == ["id", "value", "se"]
    assert sorted(table["id"]) == sorted(problem.ids)
    assert np.isfinite(table[["value", "se"]].to_numpy()).all()
    # valued out of sample, a rule chosen on noisy means may lose a little: never beyond its error
    assert (table["value"] >= -4 * table["se"]).all() and (table["se"] >= 0).all()
    assert table["value"].is_monotonic_decreasing
    assert "free-trial-14" in table.set_index("id").loc["ai-assistant", "correlated_with"].split(";")
    res = evpi_of(problem, sc, max_scenarios=30)
    assert res.method == "milp" and res.scenarios == 30 and res.evaluated_on == "held-out half" and np.isfinite(res.value) and res.value >= 0
    assert table["value"].max() <= res.value + 4 * res.se


def test_entry_points_and_a_plan_give_the_same_answer():
    p = two_options(extra=(initiative("c", reach="10..60", effort="pert(0.5, 1, 2)"),))
    sc = sample_scenarios(p, 400, seed=2)  # what the entry points draw to choose on
    ev = sample_scenarios(p, 500, seed=2, purpose="evaluation")
    plan = optimize(p, 2.0, scenarios=sc, evaluate_on=ev)
    res = evpi_of(plan.problem, sc, evaluate_on=ev)
    assert res.expected_value_now == pytest.approx(plan.expected_value)  # x* valued on the evaluation draws
    assert res.scenarios == 500  # the default max_scenarios (500) keeps them all
    again = evpi(p, 2.0, scenarios=400, seed=2)  # draws its 500 evaluation scenarios on the same stream
    assert (again.value, again.se, again.evaluated_on) == (res.value, res.se, "evaluation")
    pd.testing.assert_frame_equal(evppi(p, 2.0, scenarios=400, seed=2),
                                  evppi_of(plan.problem, sc, evaluate_on=sample_scenarios(p, 400, 2, purpose="evaluation")))
    sub = evpi(p, 2.0, scenarios=400, seed=2, max_scenarios=50)
    assert sub.scenarios == 50 and sub.evaluated_on == "evaluation"


def test_bad_settings_are_reported():
    sc, problem = scenarios_and_problem(two_options(), 2.0, scenarios=100, seed=1)
    with pytest.raises(InputError, match="max_scenarios"):
        evpi_of(problem, sc, max_scenarios=1)
    with pytest.raises(InputError, match="bins"):
        evppi_of(problem, sc, bins=1)
    with pytest.raises(InputError, match="time limit"):
        evpi_of(problem, sc, time_limit=0)
    with pytest.raises(InputError, match="enumerate_up_to"):
        evppi_of(problem, sc, enumerate_up_to=40)
    other, _ = scenarios_and_problem(two_options(extra=(initiative("c"),)), 2.0, scenarios=100, seed=1)
    with pytest.raises(InputError, match="different portfolios"):
        evpi_of(problem, other)
    with pytest.raises(TypeError, match="PlanningProblem"):
        evpi_of(sc, problem)
    with pytest.raises(Infeasible):
        evpi(two_options(extra=(initiative("big", effort="5", moscow="must"),)), 2.0, scenarios=50, seed=1)

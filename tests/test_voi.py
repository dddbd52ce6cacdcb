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
from workbench.sensitivity.value_of_information import _bins, evpi, evpi_of, evppi, evppi_of, value_partners

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
    res = evpi_of(problem, sc, max_scenarios=20000)
    truth = normal_gain(M1 - M2, np.hypot(S1, S2))
    assert res.method == "enumeration" and res.scenarios == 20000 and res.solves == 0
    assert abs(res.value - truth) < 4 * res.se
    assert res.expected_value_perfect == pytest.approx(res.expected_value_now + res.value)
    assert res.expected_value_now == pytest.approx(sc.value[:, 0].mean())  # a is the better bet


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_evppi_of_each_option_matches_its_closed_form(rho):
    sc, problem = scenarios_and_problem(two_options(rho), 2.0, scenarios=20000, seed=4)
    table = evppi_of(problem, sc).set_index("id")
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


def brute_evpi_evppi(p, kw, sc):
    """EVPI and per-initiative EVPPI from every subset, using exact conditional means (independent values)."""
    _, ok, x = brute_force(p, np.zeros(len(p)), sc.effort_quantile(0.5), **kw)
    plans = x[ok].astype(float)
    v = sc.value
    mu = v.mean(axis=0)
    now = (plans @ mu).max()
    evpi_value = (v @ plans.T).max(axis=1).mean() - now
    evppi_values = []
    for i in range(len(p)):
        rest = np.where(np.arange(len(p)) == i, 0.0, mu)
        cond = v[:, [i]] * plans[:, i] + plans @ rest  # scenarios x plans: E[V(x) | v_i]
        evppi_values.append(cond.max(axis=1).mean() - now)
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
    want_evpi, want_evppi = brute_evpi_evppi(p, kw, sc)
    scale = np.abs(sc.value).mean(axis=0).max()
    for enumerate_up_to in (16, 0):  # enumeration, then one MILP per scenario
        res = evpi_of(problem, sc, max_scenarios=60, enumerate_up_to=enumerate_up_to)
        assert res.value == pytest.approx(want_evpi, rel=1e-6, abs=1e-6 * scale)
        table = evppi_of(problem, sc, enumerate_up_to=enumerate_up_to).set_index("id").loc[p.ids]
        np.testing.assert_allclose(table["value"], want_evppi, rtol=1e-6, atol=1e-6 * scale)
        assert (table["value"] <= res.value + 1e-6 * scale).all()
    assert res.method == "milp" and res.exact and res.solves == 60 + 1


def test_binned_evppi_of_correlated_initiatives_equals_brute_force_per_bin():
    rng = np.random.default_rng(77)
    p, kw = random_instance(rng, 7, uncertain=True)
    ids = p.ids
    p = portfolio(*p, correlations=[Correlation((ids[0], "reach"), (ids[1], "reach"), 0.7),
                                   Correlation((ids[1], "impact"), (ids[2], "effort"), 0.4)])  # effort: no value link
    assert value_partners(p)[:3] == [{1}, {0}, set()]
    sc, problem = scenarios_and_problem(p, scenarios=200, seed=8, **kw)
    _, ok, x = brute_force(p, np.zeros(len(p)), sc.effort_quantile(0.5), **kw)
    plans = x[ok].astype(float)
    v, mu = sc.value, sc.value.mean(axis=0)
    now = (plans @ mu).max()
    for enumerate_up_to in (16, 0):
        table = evppi_of(problem, sc, bins=8, enumerate_up_to=enumerate_up_to).set_index("id")
        for i in (0, 1):
            labels = _bins(v[:, i], 8)
            cond = np.tile(mu, (labels.max() + 1, 1))
            for j in (0, 1):
                cond[:, j] = [v[labels == b, j].mean() for b in range(labels.max() + 1)]
            want = (cond @ plans.T).max(axis=1)[labels].mean() - now
            assert table.loc[ids[i], "value"] == pytest.approx(want, rel=1e-6, abs=1e-6 * mu.max())
        assert table.loc[ids[0], "correlated_with"] == ids[1]


def test_demo_portfolio_with_correlations_gives_finite_ranked_values():
    sc, problem = scenarios_and_problem(demo_portfolio(), 40, scenarios=300, seed=11)
    table = evppi_of(problem, sc)
    assert isinstance(table, pd.DataFrame) and list(table.columns[:3]) == ["id", "value", "se"]
    assert sorted(table["id"]) == sorted(problem.ids)
    assert np.isfinite(table[["value", "se"]].to_numpy()).all()
    assert (table["value"] >= 0).all() and (table["se"] >= 0).all()
    assert table["value"].is_monotonic_decreasing
    assert "free-trial-14" in table.set_index("id").loc["ai-assistant", "correlated_with"].split(";")
    res = evpi_of(problem, sc, max_scenarios=30)
    assert res.method == "milp" and res.scenarios == 30 and np.isfinite(res.value) and res.value >= 0
    assert table["value"].max() <= res.value + 4 * res.se


def test_entry_points_and_a_plan_give_the_same_answer():
    p = two_options(extra=(initiative("c", reach="10..60", effort="pert(0.5, 1, 2)"),))
    plan = optimize(p, 2.0, scenarios=400, seed=2)
    res = evpi_of(plan.problem, plan.scenarios)
    assert res.expected_value_now == pytest.approx(plan.expected_value)
    assert res.scenarios == 400  # the default max_scenarios (500) keeps them all
    again = evpi(p, 2.0, scenarios=400, seed=2)
    assert (again.value, again.se) == (res.value, res.se)
    pd.testing.assert_frame_equal(evppi(p, 2.0, scenarios=400, seed=2), evppi_of(plan.problem, plan.scenarios))
    sub = evpi(p, 2.0, scenarios=400, seed=2, max_scenarios=50)
    assert sub.scenarios == 50 and sub.expected_value_now == res.expected_value_now


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

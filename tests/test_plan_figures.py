"""Plan figures you can quote: each one's 95% interval covers the truth at its nominal rate.

References are closed forms (normal and exponential quantiles and CVaR, a lognormal's mean) or
large plain-numpy simulations, never numbers the package produced. Coverage is measured over
many seeds, all fixed, so the tests never flake.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

import workbench
from workbench import Settings
from workbench.engine.scenarios import sample_scenarios
from workbench.pipeline import analyses
from workbench.planning.optimization import optimize
from workbench.planning.plans import cvar, cvar_standard_error, objective_terms, quantile_standard_error

from conftest import initiative, portfolio

Z = stats.norm.ppf(0.975)
# reach 200..800 puts 200 and 800 on the lognormal's 5th and 95th percentiles
MU, SIGMA = (math.log(200) + math.log(800)) / 2, (math.log(800) - math.log(200)) / (2 * stats.norm.ppf(0.95))
MEAN_REACH = math.exp(MU + SIGMA**2 / 2)


def identical(confidence: str, n: int = 10):
    """n interchangeable initiatives: value = reach (200..800) x impact 1 x success (confidence)."""
    return portfolio(*[initiative(f"i{k}", reach="200..800", impact="1", confidence=confidence, effort="1")
                       for k in range(n)])


def reference_values(confidence: float, rows: int, cols: int, seed: int) -> np.ndarray:
    """Independent plain-numpy draws of the initiatives' values (rows x cols)."""
    rng = np.random.default_rng(seed)
    return rng.lognormal(MU, SIGMA, (rows, cols)) * (rng.random((rows, cols)) < confidence)


def covered(estimate, se, truth) -> np.ndarray:
    return np.abs(np.asarray(estimate) - truth) <= Z * np.asarray(se)


# --- the standard errors themselves ----------------------------------------------------------------


def test_cvar_intervals_cover_the_closed_form_cvar_of_a_normal_and_an_exponential():
    alpha, draws = 0.1, 1000
    rng = np.random.default_rng(11)
    normal_truth = -stats.norm.pdf(stats.norm.ppf(alpha)) / alpha
    q = -math.log(1 - alpha)  # Exp(1): E[X | X <= q_alpha] = (1 - (1 - alpha)(1 + q)) / alpha
    exp_truth = (1 - (1 - alpha) * (1 + q)) / alpha
    heavy_truth = -(1 + math.log(1 / alpha))  # -Exp(1): the mean of its worst tail, a heavy one
    for sample, truth in ((lambda: rng.standard_normal(draws), normal_truth),
                          (lambda: rng.exponential(size=draws), exp_truth),
                          (lambda: -rng.exponential(size=draws), heavy_truth)):
        got = np.array([(cvar(v, alpha), cvar_standard_error(v, alpha)) for v in (sample() for _ in range(400))])
        # asymptotic: 93.7% measured on the exponential over 3,000 seeds, 94.7% on the normal
        assert 0.91 <= covered(got[:, 0], got[:, 1], truth).mean() <= 0.98, truth


def test_quantile_intervals_cover_closed_form_quantiles_even_on_an_atom():
    rng = np.random.default_rng(12)
    for dist, sample in ((stats.norm, lambda n: rng.standard_normal(n)), (stats.expon, lambda n: rng.exponential(size=n))):
        draws = [sample(500) for _ in range(400)]
        for q in (0.1, 0.5, 0.9):
            est = [np.quantile(v, q) for v in draws]
            se = [quantile_standard_error(v, q) for v in draws]
            assert 0.92 <= covered(est, se, dist.ppf(q)).mean() <= 0.98, (dist.name, q)
    # 70% zeros (failed initiatives): p10 sits on the atom, exactly and with no error; p90 is a
    # lognormal quantile: the (0.9 - 0.7) / 0.3 quantile of the successes
    draws = [np.where(rng.random(500) < 0.7, 0.0, rng.lognormal(0, 1, 500)) for _ in range(400)]
    assert all(np.quantile(v, 0.1) == 0 and quantile_standard_error(v, 0.1) == 0 for v in draws)
    truth = math.exp(stats.norm.ppf((0.9 - 0.7) / 0.3))
    est, se = [np.quantile(v, 0.9) for v in draws], [quantile_standard_error(v, 0.9) for v in draws]
    assert 0.92 <= covered(est, se, truth).mean() <= 0.99


def test_objective_terms_average_to_the_objective():
    v = np.random.default_rng(13).lognormal(0, 1, 1000)
    worst = np.sort(v)[:100].mean()  # alpha 0.1 of 1000: the mean of the 100 worst, by definition
    assert objective_terms(v, "mean", 0.1, None).mean() == pytest.approx(v.mean())
    assert objective_terms(v, "cvar", 0.1, None).mean() == pytest.approx(worst)
    assert objective_terms(v, "blend", 0.1, 0.5).mean() == pytest.approx(v.mean() + 0.5 * worst)
    odd = v[:995]  # alpha * S = 99.5: the 99 worst and half of the 100th
    assert objective_terms(odd, "cvar", 0.1, None).mean() == pytest.approx(
        (np.sort(odd)[:99].sum() + 0.5 * np.sort(odd)[99]) / 99.5)


# --- plans from the pipeline -----------------------------------------------------------------------


def test_plan_value_interval_covers_the_true_value_on_identical_initiatives():
    # Any 5 of 10 interchangeable initiatives are worth 5 x E[reach] x 0.8 in expectation.
    truth = 5 * MEAN_REACH * 1 * 0.8
    pf, hits = identical("80%"), []
    for seed in range(60):
        plan = workbench.run(pf, Settings(budget=5, samples=200, scenarios=200, seed=seed)).plan
        assert plan.funded.sum() == 5
        hits.append(covered(plan.expected_value, plan.expected_value_se, truth))
    assert np.mean(hits) >= 0.93
    m = plan.metrics()
    assert m["evaluated_on"] == {"scenarios": "evaluation", "count": 200}
    json.dumps(m, allow_nan=False)  # plain values only


def test_reported_cvar_has_no_bias_beyond_its_error():
    # Ten interchangeable risky initiatives (confidence 50%), objective CVaR 10%. The plan is
    # chosen on 100 selection scenarios (the symmetric CVaR MILP is slow at 1,000) and its CVaR
    # reported on 1,000 evaluation draws. Truth: the CVaR of a sum of 5 iid values, from 2M
    # independent plain-numpy draws.
    total = reference_values(0.5, 2_000_000, 5, seed=99).sum(axis=1)
    truth = np.partition(total, 200_000)[:200_000].mean()
    pf = identical("50%")
    reported, se, in_sample = [], [], []
    for seed in range(60):
        out = workbench.run(pf, Settings(budget=5, samples=1000, scenarios=100, seed=seed, objective="cvar"))
        plan = out.plan
        assert plan.funded.sum() == 5 and plan.metrics()["evaluated_on"]["count"] == 1000
        reported.append(plan.cvar)
        se.append(plan.cvar_se)
        in_sample.append(cvar(out.selection.value @ plan.funded, 0.1))
    error = np.array(reported) - truth
    assert abs(error.mean()) <= 3 * error.std(ddof=1) / np.sqrt(error.size)
    assert 0.75 <= error.std(ddof=1) / np.mean(se) <= 1.33  # the standard error is the spread it claims
    assert covered(reported, se, truth).mean() >= 0.9
    # the same figure on the scenarios that chose the plan is flattered: the test can see a bias
    flattered = np.array(in_sample) - truth
    assert flattered.mean() > 3 * flattered.std(ddof=1) / np.sqrt(flattered.size)


def test_evpi_and_evppi_intervals_cover_their_true_values():
    # 10 interchangeable initiatives, budget for 5: every plan of 5 has the same expectation, so
    # EVPI = E[sum of the 5 largest of 10 values] - 5 E[v], and learning one initiative's value
    # is worth EVPPI = E[(v - E[v])+] (swap it for an unfunded one when it falls short).
    v = reference_values(0.8, 1_000_000, 10, seed=98)
    mean = MEAN_REACH * 0.8
    evpi_truth = -np.partition(-v, 4, axis=1)[:, :5].sum(axis=1).mean() - 5 * mean
    evppi_truth = np.maximum(v[:, 0] - mean, 0).mean()
    pf, evpi_hits, evppi_hits = identical("80%"), [], []
    for seed in range(100):
        outcome = workbench.run(pf, Settings(budget=5, samples=500, scenarios=500, seed=seed))
        report = analyses(outcome, voi=True)
        assert report.evpi["evaluated_on"] == {"scenarios": "evaluation", "count": 500}
        evpi_hits.append(covered(report.evpi["value"], report.evpi["se"], evpi_truth))
        evppi_hits.extend(covered(report.evppi["value"], report.evppi["se"], evppi_truth))
    assert np.mean(evpi_hits) >= 0.93
    assert np.mean(evppi_hits) >= 0.9  # the ten initiatives of a seed share its scenarios: fewer independent checks
    json.dumps(report.to_dict(), allow_nan=False)


def test_metrics_carry_an_error_for_every_figure():
    p = portfolio(initiative("a", reach="100..400", effort="1..3", team="T"),
                  initiative("b", reach="200..300", confidence="50%", effort="2", team="T"),
                  initiative("c", reach="50..90", effort="1..2"))
    ev = sample_scenarios(p, 4000, seed=3, purpose="evaluation")
    plan = optimize(p, 4, scenarios=300, seed=3, capacities={"T": 3}, evaluate_on=ev)
    m = plan.metrics()
    value, effort, n = ev.value @ plan.funded, ev.effort @ plan.funded, 4000
    assert m["expected_value_se"] == pytest.approx(value.std(ddof=1) / math.sqrt(n))
    assert m["effort_mean_se"] == pytest.approx(effort.std(ddof=1) / math.sqrt(n))
    p_over = (effort > 4).mean()
    assert m["p_overrun_se"] == pytest.approx(math.sqrt(p_over * (1 - p_over) / n))
    assert set(m["team_overrun_se"]) == {"T"}
    assert {"cvar_se", "p10_se", "p50_se", "p90_se"} <= m.keys()
    assert m["evaluated_on"] == {"scenarios": "evaluation", "count": 4000}
    json.dumps(m, allow_nan=False)
    costed = portfolio(initiative("a", reach="500", cost=50.0), initiative("b", reach="100..400", cost=20.0))
    m = optimize(costed, budget=40, scenarios=50, seed=3, budget_column="cost").metrics()
    assert m["p_overrun"] is None and m["p_overrun_se"] is None  # no effort budget to overrun
    assert m["evaluated_on"] == {"scenarios": "evaluation", "count": 20_000}  # independent of the choice
    json.dumps(m, allow_nan=False)


def test_a_plan_values_its_own_objective_with_an_error():
    p = portfolio(initiative("a", reach="100..400"), initiative("b", reach="200..300", confidence="50%"),
                  initiative("c", reach="50..90"))
    ev = sample_scenarios(p, 2000, seed=4, purpose="evaluation")
    for objective, lam in (("mean", None), ("cvar", None), ("blend", 0.5)):
        plan = optimize(p, 2, objective, lam=lam or 1.0, scenarios=200, seed=4, evaluate_on=ev)
        v = np.sort(ev.value @ plan.funded)
        psi = v[199] + np.minimum(v - v[199], 0) / 0.1  # CVaR 10% of 2000: around the 200th smallest
        terms = {"mean": v, "cvar": psi, "blend": v + 0.5 * psi}[objective]
        assert plan.objective_value == pytest.approx(terms.mean())
        assert plan.objective_se == pytest.approx(terms.std(ddof=1) / math.sqrt(2000))


def test_the_notebook_front_doors_value_plans_out_of_sample_with_the_pipelines_numbers():
    """`workbench.optimize` and `workbench.frontier` choose on the selection scenarios and value on
    the pipeline's evaluation draws: the same plan and figures as `workbench.run`; analyses of
    such a plan re-choose on its selection scenarios and value on its evaluation draws."""
    import workbench as wb
    from workbench import Settings

    p = wb.demo_portfolio()
    kw = dict(budget=40, capacities={"Payments": 12, "Growth": 8}, scenarios=200, seed=5)
    plan = wb.optimize(p, samples=3000, **kw)
    o = wb.run(p, Settings(samples=3000, **kw))
    assert plan.selected == o.plan.selected
    assert plan.expected_value == pytest.approx(o.plan.expected_value, rel=1e-12)
    assert plan.cvar == pytest.approx(o.plan.cvar, rel=1e-12)
    assert (plan.scenarios.purpose, plan.scenarios.count, plan.selection.purpose) == ("evaluation", 3000, "selection")
    assert plan.greedy.scenarios is plan.scenarios
    report = wb.sensitivity.analyze(plan, budgets=[40])
    assert report.plan.scenarios is plan.selection and report.valued.scenarios is plan.scenarios
    assert report.budget_sweep["expected_value"].iloc[0] == pytest.approx(plan.expected_value, rel=1e-12)
    front = wb.frontier(p, 40, capacities=kw["capacities"], scenarios=200, seed=5, samples=3000)
    assert all(f.scenarios.purpose == "evaluation" and f.selection.purpose == "selection" for f in front.plans)
    in_sample = wb.optimize(p, samples=None, **kw)
    assert in_sample.scenarios.purpose == "selection" and in_sample.selection is None

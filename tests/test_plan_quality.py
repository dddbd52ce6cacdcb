"""How good is the plan: the value of the stochastic solution against closed forms, the point-estimate
plan and the optimality gap against brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import workbench as wb
from workbench import pipeline
from workbench.engine.scenarios import effort_quantiles, sample_scenarios
from workbench.model.distributions import Z95
from workbench.planning.constraints import Constraints, PlanningProblem
from workbench.planning.plan_quality import (
    attach_vss,
    optimality_gap,
    point_estimate_selection,
    point_values,
    replication_scenarios,
)
from workbench.planning.plans import Plan

from conftest import initiative, portfolio


def lognormal_mean(lo: float, hi: float) -> float:
    """E[X] of the lognormal with lo and hi on its 5th and 95th percentiles (the `lo..hi` grammar)."""
    mu, sigma = (math.log(lo) + math.log(hi)) / 2, (math.log(hi) - math.log(lo)) / (2 * Z95)
    return math.exp(mu + sigma**2 / 2)


def problem_of(p, budget: float, mode: str = "success", **constraints) -> PlanningProblem:
    c = Constraints(float(budget), **constraints)
    return PlanningProblem(p, c, effort_quantiles(p, c.effort_quantile, mode))


def best_by_brute_force(problem: PlanningProblem, values: np.ndarray) -> float:
    """The largest sum of `values` over every plan that breaks no rule."""
    n = len(problem)
    return max(values @ np.array(x, bool) for x in itertools.product((0, 1), repeat=n)
               if not problem.violations(np.array(x, bool)))


# --- the value of the stochastic solution ---------------------------------------------------------


@pytest.mark.parametrize("mode, confidence", [("success", "100%"), ("success", "80%"), ("multiplier", "80%")])
def test_vss_of_a_risky_bet_against_a_certain_one_is_its_mean_minus_1000(mode, confidence):
    # Budget for one: the medians say "certain" (1000 > c * sqrt(100 * 5000) = c * 707), the
    # distributions say "risky" (c * E[risky] > 1000), so VSS = c * E[risky] - 1000.
    p = portfolio(initiative("certain", reach="1000"),
                  initiative("risky", reach="100..5000", confidence=confidence))
    c = float(confidence.rstrip("%")) / 100
    expected = c * lognormal_mean(100, 5000) - 1000
    plan = wb.run(p, budget=1, seed=5, confidence_mode=mode, samples=40_000).plan
    assert plan.selected == ["risky"]
    assert plan.point.selected == ["certain"] and plan.point.label == "point estimates"
    assert plan.point.scenarios is plan.scenarios  # valued on the evaluation draws, like the plan
    assert 0 < plan.vss.se < 0.1 * expected
    assert abs(plan.vss.value - expected) < 4 * plan.vss.se


def test_vss_is_zero_when_the_point_estimates_choose_the_same_plan():
    p = portfolio(initiative("big", reach="2000..3000"), initiative("small", reach="100..200"))
    plan = wb.run(p, budget=1, seed=2, samples=2000, scenarios=200).plan
    assert plan.selected == plan.point.selected == ["big"]
    assert plan.vss.value == 0 and plan.vss.se == 0


def test_vss_under_cvar_is_the_paired_difference_of_the_cvars():
    # Under CVaR the certain initiative wins (its CVaR is 1000, the risky one's far less) and the point
    # plan is the same; forcing the point plan onto the risky one gives VSS = 1000 - CVaR(risky).
    p = portfolio(initiative("certain", reach="1000"), initiative("risky", reach="100..5000"))
    problem = problem_of(p, 1)
    sc = sample_scenarios(p, 20_000, seed=4, purpose="evaluation")
    plan = Plan(np.array([True, False]), sc, problem, "optimal", "cvar", 0.1)
    attach_vss(plan, np.array([False, True]))
    sigma = math.log(5000 / 100) / (2 * Z95)
    mu = math.log(100 * 5000) / 2
    # CVaR_0.1 of a lognormal: E[X | X <= q_0.1] = E[X] Phi(z_0.1 - sigma) / 0.1
    from scipy.stats import norm

    cvar_risky = math.exp(mu + sigma**2 / 2) * norm.cdf(norm.ppf(0.1) - sigma) / 0.1
    assert abs(plan.vss.value - (1000 - cvar_risky)) < 4 * plan.vss.se
    assert plan.point.objective == "cvar"


def test_point_values_are_the_products_of_the_medians():
    p = portfolio(initiative("a", reach="100..400", impact="2", confidence="50%"),
                  initiative("b", reach="300", impact="pert(1, 2, 6)", confidence="80%"))
    problem = problem_of(p, 10)
    pert_median = wb.parse_estimate("pert(1, 2, 6)", "impact").median()
    assert point_values(problem, "success") == pytest.approx([200 * 2 * 0.5, 300 * pert_median * 0.8])
    assert point_values(problem, "multiplier") == pytest.approx([200 * 2 * 0.5, 300 * pert_median * 0.8])
    assert point_values(problem, "spread") == pytest.approx([200 * 2, 300 * pert_median])


@pytest.mark.parametrize("seed", range(6))
def test_point_estimate_plan_is_the_brute_force_best_under_every_rule(seed):
    rng = np.random.default_rng(300 + seed)
    n = 8
    inis = []
    for k in range(n):
        lo = float(rng.integers(50, 500))
        inis.append(initiative(
            f"i{k}", reach=f"{lo:g}..{lo * rng.uniform(1.5, 8):.0f}", impact=str(rng.choice([0.5, 1, 2, 3])),
            confidence=f"{rng.choice([50, 80, 100])}%", effort=f"{rng.integers(1, 4)}..{rng.integers(4, 8)}",
            team="A" if k % 2 else "B", theme="Growth" if k < 4 else "Core",
            moscow="must" if k == 0 else "won't" if k == 7 else None,
            depends_on=("i1",) if k == 5 else (), excludes=("i3",) if k == 2 else ()))
    p = portfolio(*inis)
    problem = problem_of(p, 16, capacities={"A": 9}, theme_shares={"Growth": (0.2, 0.7)}, max_count=5)
    values = point_values(problem)
    chosen = point_estimate_selection(problem)
    assert not problem.violations(chosen)
    assert values @ chosen == pytest.approx(best_by_brute_force(problem, values), rel=1e-6)


# --- the optimality gap ---------------------------------------------------------------------------

NEAR_TIES = [("a", "200..900", "1"), ("b", "300..700", "1"), ("c", "100..1500", "1"), ("d", "400..600", "1"),
             ("e", "50..2500", "1"), ("f", "250..800", "1")]  # (id, reach, effort)


def test_gap_bounds_against_the_brute_force_optimum():
    p = portfolio(*[initiative(i, reach=r, effort=e, confidence="80%") for i, r, e in NEAR_TIES])
    true_values = np.array([0.8 * lognormal_mean(*map(float, r.split(".."))) for _, r, _ in NEAR_TIES])
    problem = problem_of(p, 3)
    optimum = best_by_brute_force(problem, true_values)
    uppers, upper_ses, lowers, lower_ses, gaps, gap_ses, true_gaps = ([] for _ in range(7))
    for seed in range(12):
        outcome = wb.run(p, budget=3, seed=seed, samples=4000, scenarios=60)
        gap = pipeline.optimality_gap(outcome, replications=8)
        assert gap.value >= 0 and gap.replications == 8  # each replication's optimum beats the plan there
        uppers.append(gap.upper), upper_ses.append(gap.upper_se)
        lowers.append(gap.lower), lower_ses.append(gap.lower_se)
        gaps.append(gap.value), gap_ses.append(gap.se)
        true_gaps.append(optimum - true_values @ outcome.plan.funded)
    n = len(uppers)

    def se_of_mean(ses):
        return float(np.sqrt(np.sum(np.square(ses)))) / n

    # The upper bound is biased upward; the lower bound is unbiased for the plan's true value; the
    # gap estimate is conservative (at least the true gap on average).
    assert np.mean(uppers) + 4 * se_of_mean(upper_ses) >= optimum
    plan_values = np.array(optimum) - np.array(true_gaps)
    assert abs(np.mean(lowers) - plan_values.mean()) < 4 * se_of_mean(lower_ses)
    assert np.mean(gaps) + 4 * se_of_mean(gap_ses) >= np.mean(true_gaps)
    assert np.mean(uppers) - 4 * se_of_mean(upper_ses) <= optimum + 0.1 * optimum  # an upper bound, not a wild one


def test_gap_shrinks_with_more_scenarios():
    # Ten identical risky initiatives, budget for five: every plan of five is optimal, so the gap
    # measured is the optimizer's curse of the upper bound, which fades as the scenarios grow.
    p = portfolio(*[initiative(f"i{k}", reach="100..5000", confidence="50%") for k in range(10)])
    gaps = {s: pipeline.optimality_gap(wb.run(p, budget=5, seed=3, samples=5000, scenarios=s), 10)
            for s in (50, 2000)}
    small, large = gaps[50], gaps[2000]
    assert small.value - large.value > 3 * np.hypot(small.se, large.se)  # shrinks, beyond the errors
    true_value = 5 * 0.5 * lognormal_mean(100, 5000)
    assert small.upper - 4 * small.upper_se > true_value  # the curse is real at 50 scenarios


def test_gap_of_a_poor_plan_is_its_distance_to_the_optimum():
    # A plan that funds the worse of two certain initiatives: every replication finds the better one.
    p = portfolio(initiative("good", reach="1000"), initiative("poor", reach="400"))
    problem = problem_of(p, 1)
    sc = sample_scenarios(p, 100, seed=1, purpose="evaluation")
    plan = Plan(np.array([False, True]), sc, problem, "optimal", "mean")
    gap = optimality_gap(plan, lambda m: replication_scenarios(p, 50, 1, m), replications=3)
    assert (gap.value, gap.se, gap.upper, gap.lower) == pytest.approx((600, 0, 1000, 400))
    assert gap.to_dict() == {"value": gap.value, "se": gap.se, "upper": gap.upper, "upper_se": gap.upper_se,
                             "lower": gap.lower, "lower_se": gap.lower_se, "replications": 3}


def test_replications_are_independent_streams_of_the_same_law():
    p = portfolio(initiative("a", reach="100..5000"), initiative("b", reach="10..20", confidence="50%"))
    first, second = (replication_scenarios(p, 20_000, 9, m) for m in (0, 1))
    assert not np.array_equal(first.value, second.value)
    assert np.array_equal(first.value, replication_scenarios(p, 20_000, 9, 0).value)
    selection = sample_scenarios(p, 20_000, seed=9, purpose="selection")
    assert not np.isin(first.value[:, 0], selection.value[:, 0]).any()
    se = np.hypot(first.value.std(axis=0), selection.value.std(axis=0)) / np.sqrt(20_000)
    assert np.all(np.abs(first.value.mean(axis=0) - selection.value.mean(axis=0)) < 4 * se)
    assert abs(first.value[:, 0].mean() - lognormal_mean(100, 5000)) < 4 * first.value[:, 0].std() / np.sqrt(20_000)


def test_the_cached_point_plan_follows_the_spread_mapping():
    # In spread mode the planning efforts move with the spread mapping: a live engine must not reuse
    # the point plan of another mapping (a review found one over the budget and a wrong VSS).
    from workbench.pipeline import LiveEngine
    from workbench.settings import Settings

    engine = LiveEngine(wb.demo_portfolio())
    base = dict(budget=40, samples=2000, scenarios=200, confidence_mode="spread", effort_quantile=0.9)
    for spread in ({0.8: 1.5, 0.5: 3.0}, {0.8: 4.0, 0.5: 8.0}):
        outcome = engine.run(Settings(**base, spread=tuple(sorted(spread.items()))))
        fresh = point_estimate_selection(outcome.problem, "spread")
        assert np.array_equal(outcome.plan.point.funded, fresh)
        assert outcome.plan.point.violations() == []


def test_the_vss_sentence_says_a_loss_to_the_medians_plan_in_plain_words():
    from types import SimpleNamespace

    from workbench.planning.plans import Estimate
    from workbench.views.format import vss_sentence

    def plan(vss: float, se: float):
        point = SimpleNamespace(funded=np.array([True, False]), selected=["a"])
        return SimpleNamespace(vss=Estimate(vss, se), point=point, funded=np.array([False, True]),
                               objective="mean", alpha=0.1, lam=None, objective_value=60_000.0)

    gain = vss_sentence(plan(400.0, 50.0), "value points", 1000)
    assert gain == ("Planning with the ranges instead of single numbers is worth 400 ± 98.0 value points "
                    "(against the plan chosen on the medians: a).")
    loss = vss_sentence(plan(-50.0, 18.0), "value points", 1000)
    assert loss == ("The plan chosen on the medians (single numbers: a) does slightly better on the evaluation "
                    "draws, by 50 ± 35.3 value points, 0.1% of the plan's value: the 1,000 selection scenarios "
                    "cannot separate plans this close; raise scenarios to settle it.")
    within = vss_sentence(plan(-20.0, 18.0), "value points", 1000)  # within the error: no verdict
    assert within.startswith("Planning with the ranges instead of single numbers is worth -20 ± 35.3")

"""Exact portfolio optimization under uncertainty: which set to fund, by sample-average MILP.

Decision variables x_i ∈ {0, 1}. Value is linear in x per scenario, so with S scenarios drawn
by the engine the expected value is mean_s(v_s · x). Objectives: "mean", "cvar" (the mean of
the worst alpha of scenarios), or "blend" (mean + lambda·CVaR). HiGHS (scipy.optimize.milp)
solves them exactly, or to a reported gap when the time limit is hit; CVaR by cutting planes
or Rockafellar-Uryasev (`cvar_cuts`), one HiGHS call at a time (`milp`).

The planning core works on a prepared `PlanningProblem` (portfolio + `Constraints`) and a
scenario set: `solve` (one plan), `explain_infeasible` and `optimize_problem` (a `Plan` with its
baselines); the frontier lives in `frontier.py`. `optimize` is the notebook front door: it takes
keywords, draws the scenarios and builds the problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from ..engine.scenarios import Scenarios, sample_scenarios
from ..errors import InputError, Problem
from ..model.portfolio import Portfolio
from .constraints import Constraints, Infeasible, PlanningProblem
from .cvar_cuts import CutPool, cut_pool, solve_cuts, solve_ru
from .milp import Solution, allowed_time, master
from .plans import Plan, add_baselines

OBJECTIVES = ("mean", "cvar", "blend")
EVALUATION_SAMPLES = 20_000  # the front doors' evaluation draws, as `Settings.samples`
WARM_POOL = 20  # cuts (for one alpha) from which "auto" solves CVaR by cutting planes
CUTS_MAX_INITIATIVES = 100  # ... on at most this many initiatives (fast at 31, slow at 300, measured)


def solve(problem: PlanningProblem, scenarios: Scenarios, objective: str = "mean", *, alpha: float = 0.1,
          lam: float = 1.0, time_limit: float = 60.0, min_mean: float | None = None, tiebreak_mean: float = 0.0,
          theme_shares: bool = True, extra_rows: tuple = (), max_cvar: float | None = None,
          formulation: str = "auto", pool: CutPool | None = None) -> Solution:
    """The plan that maximizes `objective` on `scenarios` under every constraint of `problem`.

    min_mean: a lower bound on the plan's expected value (the frontier's epsilon-constraint).
    tiebreak_mean: weight of the mean in the "cvar" objective, to prefer the better of equals.
    theme_shares: False drops the theme-share rows (to explain an infeasibility).
    extra_rows: further rows (coefficients over initiatives, lower, upper), e.g. a budget split.
    max_cvar: an upper bound on the plan's CVaR known to hold at the optimum (a frontier step's
        incumbent information); it only tightens the cutting-plane master.
    formulation: "cuts" (cutting planes, `_solve_cuts`), "ru" (Rockafellar-Uryasev) or "auto":
        cutting planes once the pool holds WARM_POOL cuts (e.g. from a frontier on the same
        scenarios) on up to CUTS_MAX_INITIATIVES initiatives, else Rockafellar-Uryasev, whose time
        measured more predictable (benchmarks/bench_planning.py: from a cold pool cutting planes
        ranged from 5x faster to 3.6x slower; at 300 initiatives even a warm pool did not help).
    pool: the cuts to start from and add to (default: `cut_pool(scenarios)`).
    """
    _check_objective(objective, alpha, lam)
    n, v = len(problem), scenarios.value
    if v.shape[1] != n:
        raise ValueError(f"the scenarios hold {v.shape[1]} initiatives, the problem {n}")
    if (problem.must & problem.wont).any():  # forced both in and out: HiGHS would reject the bounds
        return Solution(None, "infeasible", None, time_limit)
    scale = max(float(np.abs(v).mean(axis=0).max()), 1e-12)  # keep coefficients near 1 for HiGHS
    vs = v / scale
    mean_v = vs.mean(axis=0)
    w_mean = {"mean": 1.0, "cvar": tiebreak_mean, "blend": 1.0}[objective]
    w_cvar = {"mean": 0.0, "cvar": 1.0, "blend": lam}[objective]
    rows, lo, hi = _rows(problem, theme_shares, extra_rows)
    if min_mean is not None:
        rows, lo, hi = rows + [mean_v], lo + [min_mean / scale], hi + [np.inf]
    base = (np.array(rows), np.array(lo, float), np.array(hi, float))
    time_limit = allowed_time(time_limit)
    if w_cvar == 0:
        return master(base, problem, -w_mean * mean_v, None, time_limit)
    if formulation not in ("auto", "cuts", "ru"):
        raise ValueError(f"unknown formulation {formulation!r}; expected auto, cuts or ru")
    pool = cut_pool(scenarios) if pool is None else pool
    # The same problem on the same scenarios has the same optimum, whichever formulation found it
    # (max_cvar only tightens a master); "auto" reuses it, an explicit formulation solves again.
    key = _problem_key(base, problem, w_mean, w_cvar, alpha)
    if formulation == "auto":
        if (known := pool.optimum(key)) is not None:
            return replace(known, solves=0)
        formulation = "cuts" if pool.count(alpha) >= WARM_POOL and n <= CUTS_MAX_INITIATIVES else "ru"
    if formulation == "ru":
        sol = solve_ru(base, problem, vs, mean_v, w_mean, w_cvar, alpha, time_limit)
        if sol.funded is not None:  # its optimum's cut is the one later solves most need
            pool.add(v, sol.funded, alpha)
    else:
        if not pool.has(alpha):  # any one cut bounds t: seed with the mean-optimal plan's
            seed = master(base, problem, -mean_v, None, time_limit)
            if seed.funded is None:
                return seed
            pool.add(v, seed.funded, alpha)
        upper = None if max_cvar is None else max_cvar / scale
        sol = solve_cuts(base, problem, v, scale, w_mean, w_cvar, alpha, pool, upper, time_limit)
    pool.keep_optimum(key, sol)
    return sol


def _problem_key(base: tuple, problem: PlanningProblem, w_mean: float, w_cvar: float, alpha: float) -> bytes:
    """What a risk problem's optimum depends on besides the scenarios: its rows (every constraint,
    a frontier step's minimum mean included), must/won't, the objective's weights and alpha."""
    digest = hashlib.blake2b(digest_size=20)
    for part in (*base, problem.must, problem.wont, np.array([w_mean, w_cvar, alpha])):
        digest.update(np.ascontiguousarray(part, dtype=float).tobytes())
        digest.update(b"|")  # part boundaries, so that shifted bytes cannot collide
    return digest.digest()


def _rows(problem: PlanningProblem, theme_shares: bool, extra_rows: tuple) -> tuple[list, list, list]:
    """The constraint rows over the initiatives (coefficients, lower, upper) of every rule."""
    n = len(problem)
    rows, lo, hi = [], [], []

    def add(coeffs: np.ndarray, lower: float, upper: float) -> None:
        rows.append(np.broadcast_to(np.asarray(coeffs, float), (n,)))
        lo.append(lower)
        hi.append(upper)

    cons = problem.constraints
    add(problem.cost, -np.inf, cons.budget)
    for team, cap in cons.capacities.items():
        add(problem.effort_q * (problem.team == team), -np.inf, cap)
    for a, b in problem.requires:
        row = np.zeros(n)
        row[a], row[b] = 1, -1
        add(row, -np.inf, 0)
    for a, b in problem.excludes:
        row = np.zeros(n)
        row[a] = row[b] = 1
        add(row, -np.inf, 1)
    if theme_shares:
        for theme, (t_lo, t_hi) in cons.theme_shares.items():
            in_theme = (problem.theme == theme).astype(float)
            add((in_theme - t_lo) * problem.cost, 0, np.inf)
            add((in_theme - t_hi) * problem.cost, -np.inf, 0)
    if cons.max_count is not None:
        add(np.ones(n), -np.inf, cons.max_count)
    for coeffs, lower, upper in extra_rows:
        add(coeffs, lower, upper)
    return rows, lo, hi


def explain_infeasible(problem: PlanningProblem, scenarios: Scenarios, time_limit: float) -> Infeasible:
    """Why no plan satisfies every constraint, for a problem the solver found infeasible.

    The checks made when the problem is built name most causes (a cycle, must-haves over the
    budget, ...); what is left is a combination, except theme shares, tested by dropping them.
    """
    shares = problem.constraints.theme_shares
    if shares:
        relaxed = solve(problem, scenarios, "mean", time_limit=time_limit, theme_shares=False)
        if relaxed.funded is not None:
            text = ", ".join(f"{t} {lo:.0%}–{hi:.0%}" for t, (lo, hi) in shares.items())
            return Infeasible(Problem(f"no plan meets the theme shares ({text}) together with the budget, "
                                      "capacities, dependencies and must-haves; widen the shares"))
    return Infeasible(Problem("no plan satisfies every constraint at once (budget, capacities, dependencies, "
                              "exclusions, must-haves, maximum count)"))


def prepare(portfolio: Portfolio, constraints: Constraints, scenarios: Scenarios) -> PlanningProblem:
    """The planning problem of `portfolio` under `constraints`, efforts at the planning quantile
    of `scenarios`; raises InputError for bad settings and Infeasible naming a clear cause."""
    if not isinstance(constraints, Constraints):
        raise TypeError(f"constraints must be a Constraints, got {type(constraints).__name__}")
    if scenarios.value.shape[1] != len(portfolio):
        raise ValueError("the scenarios belong to a different portfolio")
    q = constraints.effort_quantile
    # An out-of-range quantile is reported by PlanningProblem together with the other settings.
    effort = scenarios.effort_quantile(q) if 0 < q < 1 else np.zeros(len(portfolio))
    return PlanningProblem(portfolio, constraints, effort)


def scenarios_and_problem(portfolio: Portfolio, budget: float, *, scenarios: int | Scenarios = 2000,
                          seed: int | None = None, method: str = "mc", confidence_mode: str = "success",
                          capacities: dict | None = None, theme_shares: dict | None = None,
                          max_count: int | None = None, effort_quantile: float = 0.5,
                          budget_column: str = "effort", spread: dict | None = None
                          ) -> tuple[Scenarios, PlanningProblem]:
    """Scenarios (drawn unless given) and the planning problem, from the notebook keywords."""
    constraints = Constraints(float(budget), dict(capacities or {}), dict(theme_shares or {}), max_count,
                              float(effort_quantile), budget_column)
    if isinstance(scenarios, Scenarios):
        sc = scenarios
    else:
        sc = sample_scenarios(portfolio, scenarios, seed, method, confidence_mode, spread)
    return sc, prepare(portfolio, constraints, sc)


def evaluation_draws(selection: Scenarios, asked: int | Scenarios, samples: int | None,
                     evaluate_on: Scenarios | None) -> Scenarios | None:
    """The scenarios a notebook front door values its plans on: `evaluate_on` if given, else
    `samples` draws of the evaluation stream of the selection's seed (the pipeline's), unless the
    caller passed its own scenarios or samples=None (then None: valued in sample)."""
    if evaluate_on is not None or samples is None or isinstance(asked, Scenarios):
        return evaluate_on
    return sample_scenarios(selection.portfolio, samples, selection.seed, "mc", selection.confidence_mode,
                            selection.spread, purpose="evaluation")


def _check_objective(objective: str, alpha: float, lam: float) -> None:
    problems = []
    if objective not in OBJECTIVES:
        problems.append(f"unknown objective {objective!r}; expected one of {', '.join(OBJECTIVES)}")
    if not 0 < alpha <= 1:
        problems.append(f"alpha must be in (0, 1], e.g. 0.1 for the worst 10% of scenarios; got {alpha:g}")
    if not lam >= 0:
        problems.append(f"lambda must be >= 0, got {lam:g}")
    if problems:
        raise InputError([Problem(p) for p in problems])


def _check_evaluate_on(problem: PlanningProblem, evaluate_on: Scenarios | None) -> None:
    if evaluate_on is not None and list(evaluate_on.portfolio.ids) != list(problem.ids):
        raise ValueError("evaluate_on holds scenarios of a different portfolio")


def optimize_problem(problem: PlanningProblem, scenarios: Scenarios, objective: str = "mean", alpha: float = 0.1,
                     lam: float = 1.0, time_limit: float = 60.0, *, current: np.ndarray | None = None,
                     evaluate_on: Scenarios | None = None) -> Plan:
    """The best plan of a prepared problem, solved on `scenarios`, with its baselines.

    current: boolean mask of the user's current plan (compared when it funds anything).
    evaluate_on: scenarios on which the plans are evaluated (default: `scenarios`).
    Raises Infeasible naming the cause, or SolverError when the solver stopped without a plan.
    """
    _check_evaluate_on(problem, evaluate_on)
    sol = solve(problem, scenarios, objective, alpha=alpha, lam=lam, time_limit=time_limit)
    if not sol.has_plan():
        raise explain_infeasible(problem, scenarios, time_limit)
    best = Plan(sol.funded, scenarios if evaluate_on is None else evaluate_on, problem, "optimal", objective,
                alpha, lam if objective == "blend" else None, sol.status, sol.gap,
                selection=None if evaluate_on is None else scenarios)
    return add_baselines(best, current)


def optimize(portfolio: Portfolio, budget: float, objective: str = "mean", *, alpha: float = 0.1,
             lam: float = 1.0, scenarios: int | Scenarios = 2000, seed: int | None = None, method: str = "mc",
             confidence_mode: str = "success", capacities: dict | None = None, theme_shares: dict | None = None,
             max_count: int | None = None, effort_quantile: float = 0.5, budget_column: str = "effort",
             plan: list[str] | None = None, time_limit: float = 60.0, spread: dict | None = None,
             samples: int | None = EVALUATION_SAMPLES, evaluate_on: Scenarios | None = None) -> Plan:
    """The best set of initiatives to fund, with greedy-by-RICE and the current plan for comparison.

    The plan is chosen on `scenarios` and valued on independent draws, so its figures carry no
    in-sample optimism: `samples` draws of the pipeline's evaluation stream (the same numbers
    as `workbench.run` with the same seed, samples and scenarios), or `evaluate_on` when given.
    samples=None, or scenarios passed as a `Scenarios`, values the plan on the scenarios that
    chose it (in sample), unless `evaluate_on` is given.
    plan: ids of the user's current plan (default: the `planned` column, if any is set).
    Returns a `Plan` whose `.greedy` and `.current` are evaluated on the same scenarios and
    whose `.comparisons` hold the expected gain and P(optimal plan is worth more) against each.
    """
    _check_objective(objective, alpha, lam)  # before drawing any scenario
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, method=method,
                                        confidence_mode=confidence_mode, capacities=capacities,
                                        theme_shares=theme_shares, max_count=max_count,
                                        effort_quantile=effort_quantile, budget_column=budget_column, spread=spread)
    current_ids = plan if plan is not None else [i.id for i in portfolio if i.planned]
    unknown = [i for i in current_ids if i not in problem.ids]
    if unknown:
        raise InputError(Problem(f"the plan names unknown initiative ids: {', '.join(unknown)}"))
    evaluate_on = evaluation_draws(sc, scenarios, samples, evaluate_on)
    return optimize_problem(problem, sc, objective, alpha, lam, time_limit,
                            current=np.isin(problem.ids, current_ids), evaluate_on=evaluate_on)

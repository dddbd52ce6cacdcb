"""Exact portfolio optimization under uncertainty: which set to fund, by sample-average MILP.

Decision variables x_i ∈ {0, 1}. Value is linear in x per scenario, so with S scenarios drawn
by the engine the expected value is mean_s(v_s · x), and CVaR_alpha of the value follows
Rockafellar & Uryasev (2000) with one free variable eta and one z_s >= 0 per scenario:

    CVaR = max  eta - 1/(alpha S) Σ_s z_s   s.t.  z_s >= eta - v_s · x

Objectives: "mean", "cvar", or "blend" (mean + lambda·CVaR). HiGHS (scipy.optimize.milp)
solves it exactly, or to a reported gap when the time limit is hit.

The planning core works on a prepared `PlanningProblem` (portfolio + `Constraints`) and a
scenario set: `solve` (one MILP), `explain_infeasible`, `optimize_problem` (a `Plan` with its
baselines) and `frontier_of`. `optimize` and `frontier` are the notebook front doors: they take
keywords, draw the scenarios and build the problem.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from ..engine.scenarios import Scenarios, sample_scenarios
from ..errors import InputError, Problem
from ..model.portfolio import Portfolio
from .constraints import Constraints, Infeasible, PlanningProblem
from .plans import Plan, add_baselines

OBJECTIVES = ("mean", "cvar", "blend")


MIP_REL_GAP = 1e-6


class SolverError(RuntimeError):
    """The solver stopped (time limit, numerical trouble) before finding any feasible plan."""


# How long a solve may take at most, whatever its caller asks, in the current context (a worker's
# solves: modest while wanted, short once cancelled or exiting; pool threads get it through the copied
# context). milp cannot be interrupted, so a cap is all that bounds the wait for a thread inside a solve.
_CONTEXT_CAP: contextvars.ContextVar[Callable[[], float | None] | None] = contextvars.ContextVar(
    "workbench_solve_cap", default=None)


@contextlib.contextmanager
def solve_time_cap(cap: Callable[[], float | None]):
    """Within the block (this thread, or a context copied from it), each solve may take at most
    `cap()` seconds, asked as the solve starts (None: no cap)."""
    token = _CONTEXT_CAP.set(cap)
    try:
        yield
    finally:
        _CONTEXT_CAP.reset(token)


def _allowed_time(time_limit: float) -> float:
    """The seconds a solve asked to take at most `time_limit` may take under the context's cap."""
    context_cap = _CONTEXT_CAP.get()
    if context_cap is not None and (seconds := context_cap()) is not None:
        return min(float(time_limit), seconds)
    return float(time_limit)


def _milp_options(time_limit: float) -> dict:
    """The options of every HiGHS solve: quiet, to the package's gap, within `time_limit` seconds.

    disp=False (log_to_console) silences HiGHS but for a rare printf; no solve touches the
    process's file descriptors (that would swallow what other threads print): the CLI, which owns
    its process, moves descriptor 1 to stderr while it works."""
    return {"mip_rel_gap": MIP_REL_GAP, "disp": False, "time_limit": time_limit}


@dataclass(frozen=True, eq=False)
class Solution:
    """What one MILP solve returned.

    funded: the best plan found (boolean mask over initiatives), None when there is none.
    status: "optimal", "time limit" (a plan, if any, with its relative `gap`), "infeasible",
        "unbounded" or "error". time_limit: the seconds the solver was allowed.
    """

    funded: np.ndarray | None
    status: str
    gap: float | None
    time_limit: float

    def has_plan(self) -> bool:
        """True with a plan, False when the constraints admit none; raises SolverError when the
        solver stopped without one, since a time limit must never read as "infeasible"."""
        if self.funded is not None:
            return True
        if self.status == "infeasible":
            return False
        raise SolverError(f"the solver stopped without finding any plan (status: {self.status}); "
                          f"allow more time than {self.time_limit:g} s (--time-limit) or use fewer scenarios")


def solve(problem: PlanningProblem, scenarios: Scenarios, objective: str = "mean", *, alpha: float = 0.1,
          lam: float = 1.0, time_limit: float = 60.0, min_mean: float | None = None, tiebreak_mean: float = 0.0,
          theme_shares: bool = True, extra_rows: tuple = ()) -> Solution:
    """The plan that maximizes `objective` on `scenarios` under every constraint of `problem`.

    min_mean: a lower bound on the plan's expected value (the frontier's epsilon-constraint).
    tiebreak_mean: weight of the mean in the "cvar" objective, to prefer the better of equals.
    theme_shares: False drops the theme-share rows (to explain an infeasibility).
    extra_rows: further rows (coefficients over initiatives, lower, upper), e.g. a budget split.
    """
    _check_objective(objective, alpha, lam)
    n, v = len(problem), scenarios.value
    if v.shape[1] != n:
        raise ValueError(f"the scenarios hold {v.shape[1]} initiatives, the problem {n}")
    if (problem.must & problem.wont).any():  # forced both in and out: HiGHS would reject the bounds
        return Solution(None, "infeasible", None, time_limit)
    s = v.shape[0]
    scale = max(float(np.abs(v).mean(axis=0).max()), 1e-12)  # keep coefficients near 1 for HiGHS
    vs = v / scale
    mean_v = vs.mean(axis=0)
    w_mean = {"mean": 1.0, "cvar": tiebreak_mean, "blend": 1.0}[objective]
    w_cvar = {"mean": 0.0, "cvar": 1.0, "blend": lam}[objective]
    use_cvar = w_cvar != 0
    n_vars = n + (1 + s if use_cvar else 0)

    cost = np.zeros(n_vars)  # milp minimizes: the negated objective
    cost[:n] = -w_mean * mean_v
    if use_cvar:
        cost[n] = -w_cvar
        cost[n + 1:] = w_cvar / (alpha * s)

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
    if min_mean is not None:
        add(mean_v, min_mean / scale, np.inf)
    for coeffs, lower, upper in extra_rows:
        add(coeffs, lower, upper)

    blocks = [sparse.hstack([sparse.csr_matrix(np.array(rows)), sparse.csr_matrix((len(rows), n_vars - n))])]
    b_lo, b_hi = list(lo), list(hi)
    if use_cvar:  # z_s - eta + v_s·x >= 0
        blocks.append(sparse.hstack([sparse.csr_matrix(vs), sparse.csr_matrix(-np.ones((s, 1))), sparse.identity(s)]))
        b_lo += [0.0] * s
        b_hi += [np.inf] * s
    a_matrix = sparse.vstack(blocks).tocsr()

    lb = np.zeros(n_vars)
    ub = np.ones(n_vars)
    lb[:n] = problem.must
    ub[:n] = ~problem.wont
    if use_cvar:
        lb[n], ub[n] = -np.inf, np.inf
        ub[n + 1:] = np.inf
    integrality = np.zeros(n_vars)
    integrality[:n] = 1

    time_limit = _allowed_time(time_limit)
    res = milp(cost, integrality=integrality, bounds=Bounds(lb, ub), constraints=LinearConstraint(a_matrix, b_lo, b_hi),
               options=_milp_options(time_limit))
    funded = None if res.x is None else res.x[:n] > 0.5
    status = {0: "optimal", 1: "time limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    gap = getattr(res, "mip_gap", None)
    return Solution(funded, status, None if gap is None or not np.isfinite(gap) else float(gap), time_limit)


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
                alpha, lam if objective == "blend" else None, sol.status, sol.gap)
    return add_baselines(best, current)


def optimize(portfolio: Portfolio, budget: float, objective: str = "mean", *, alpha: float = 0.1,
             lam: float = 1.0, scenarios: int | Scenarios = 2000, seed: int | None = None, method: str = "mc",
             confidence_mode: str = "success", capacities: dict | None = None, theme_shares: dict | None = None,
             max_count: int | None = None, effort_quantile: float = 0.5, budget_column: str = "effort",
             plan: list[str] | None = None, time_limit: float = 60.0, spread: dict | None = None,
             evaluate_on: Scenarios | None = None) -> Plan:
    """The best set of initiatives to fund, with greedy-by-RICE and the current plan for comparison.

    plan: ids of the user's current plan (default: the `planned` column, if any is set).
    evaluate_on: scenarios of the same portfolio on which to evaluate the plans (default: the
        ones optimized on). Optimizing a CVaR on a subsample and evaluating on all samples keeps
        the solve fast and the reported figures free of the optimizer's in-sample optimism.
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
    return optimize_problem(problem, sc, objective, alpha, lam, time_limit,
                            current=np.isin(problem.ids, current_ids), evaluate_on=evaluate_on)


@dataclass
class Frontier:
    """Non-dominated plans on expected value vs CVaR, from most risk-averse to most value-seeking."""

    plans: list[Plan]

    def to_frame(self) -> pd.DataFrame:
        """One row per plan: expected value, CVaR, budget used, count and the funded ids."""
        return pd.DataFrame([{"expected_value": p.expected_value, "cvar": p.cvar,
                              "budget_used": p.cost, "count": int(p.funded.sum()),
                              "selected": ";".join(p.selected)} for p in self.plans])

    def to_records(self) -> list[dict]:
        """Expected value, CVaR and funded ids of each plan, for JSON."""
        return [{"expected_value": p.expected_value, "cvar": p.cvar, "selected": p.selected} for p in self.plans]


def frontier(portfolio: Portfolio, budget: float, *, points: int = 12, alpha: float = 0.1,
             scenarios: int | Scenarios = 2000, seed: int | None = None, method: str = "mc",
             confidence_mode: str = "success", capacities: dict | None = None,
             theme_shares: dict | None = None, max_count: int | None = None, effort_quantile: float = 0.5,
             budget_column: str = "effort", time_limit: float = 60.0, spread: dict | None = None,
             evaluate_on: Scenarios | None = None) -> Frontier:
    """The efficient frontier of expected value against CVaR (epsilon-constraint method).

    Solves max CVaR subject to E[value] >= t for `points` targets t between the expected value
    of the most risk-averse plan and the maximum; dominated and repeated plans are dropped.
    Keywords as in `optimize`.
    """
    _check_objective("cvar", alpha, 0.0)  # before drawing any scenario
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, method=method,
                                        confidence_mode=confidence_mode, capacities=capacities,
                                        theme_shares=theme_shares, max_count=max_count,
                                        effort_quantile=effort_quantile, budget_column=budget_column, spread=spread)
    return frontier_of(problem, sc, points=points, alpha=alpha, time_limit=time_limit, evaluate_on=evaluate_on)


def frontier_of(problem: PlanningProblem, scenarios: Scenarios, *, points: int = 12, alpha: float = 0.1,
                time_limit: float = 60.0, max_solves: int | None = None,
                progress: Callable[[int, int], None] | None = None,
                evaluate_on: Scenarios | None = None) -> Frontier:
    """The frontier for an already prepared problem and scenario set.

    A grid of value targets spreads the first plans; then each gap between neighbouring plans
    is probed just above the left plan's value, which returns either the right neighbour (the
    gap holds no other non-dominated plan) or a new plan in between. With enough solves this
    finds the complete frontier; `max_solves` (default 3 x points) bounds the work.
    evaluate_on: as in `optimize`, scenarios on which the found plans are finally evaluated.
    """
    _check_objective("cvar", alpha, 0.0)
    _check_evaluate_on(problem, evaluate_on)
    sc = scenarios
    max_solves = 3 * points if max_solves is None else max_solves
    top = solve(problem, sc, "mean", alpha=alpha, time_limit=time_limit)
    if not top.has_plan():
        raise explain_infeasible(problem, sc, time_limit)
    scale = max(float(np.abs(sc.value).mean(axis=0).max()), 1e-12)

    def best_cvar_above(t: float | None) -> Plan | None:
        # A tiny weight on the mean makes each CVaR-optimal plan also the best in mean among equals.
        sol = solve(problem, sc, "cvar", alpha=alpha, time_limit=time_limit, min_mean=t, tiebreak_mean=1e-4)
        if progress is not None:
            progress(min(len(found) + 1, max_solves), max_solves)
        if not sol.has_plan():  # no plan reaches the mean t
            return None
        return Plan(sol.funded, sc, problem, "frontier", "cvar", alpha, status=sol.status, gap=sol.gap)

    def key(plan: Plan) -> bytes:
        return plan.funded.tobytes()

    best_mean = Plan(top.funded, sc, problem, "frontier", "mean", alpha)
    found = {key(best_mean): best_mean}
    safe = best_cvar_above(None)
    if safe is None:
        raise SolverError(f"the solver found no CVaR-optimal plan within {time_limit:g} s; allow more time")
    found[key(safe)] = safe
    solves = 2
    e_lo, e_hi = safe.expected_value, best_mean.expected_value
    for t in np.linspace(e_lo, e_hi, max(points, 2))[1:-1]:
        if solves >= max_solves:
            break
        plan = best_cvar_above(t)
        solves += 1
        if plan is not None:
            found.setdefault(key(plan), plan)
    closed: set[tuple[bytes, bytes]] = set()
    while solves < max_solves:
        plans = non_dominated(list(found.values()))
        gaps = [(a, b) for a, b in zip(plans, plans[1:]) if (key(a), key(b)) not in closed]
        if not gaps or len(plans) >= points and not any(b.expected_value - a.expected_value > (e_hi - e_lo) / points
                                                         for a, b in gaps):
            break
        a, b = max(gaps, key=lambda g: g[1].expected_value - g[0].expected_value)
        # The step must clear the solver's feasibility tolerance (~1e-7 of the scaled values).
        plan = best_cvar_above(a.expected_value + max(1e-5 * (e_hi - e_lo), 1e-5 * scale))
        solves += 1
        if plan is None or key(plan) in found:
            closed.add((key(a), key(b)))
        else:
            found[key(plan)] = plan
    if evaluate_on is not None:
        found = {k: Plan(p.funded, evaluate_on, problem, p.label, p.objective, alpha, status=p.status, gap=p.gap)
                 for k, p in found.items()}
    return Frontier(non_dominated(list(found.values())))


def non_dominated(plans: list[Plan]) -> list[Plan]:
    """Plans that no other plan beats on both expected value and CVaR, by increasing value."""
    kept = [p for p in plans
            if not any(q.expected_value >= p.expected_value and q.cvar >= p.cvar
                       and (q.expected_value > p.expected_value or q.cvar > p.cvar) for q in plans)]
    return sorted(kept, key=lambda p: p.expected_value)

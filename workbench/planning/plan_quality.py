"""How good is a plan: the value of the stochastic solution and the optimality gap.

- **Value of the stochastic solution** (Birge 1982): the recommended plan against the plan a
  spreadsheet would choose from single numbers (each estimate at its median), both valued on the
  same scenarios, paired. `point_estimate_selection` finds that plan, `attach_vss` sets
  `plan.point` and `plan.vss`.
- **Optimality gap** (Mak, Morton & Wood 1999): M independent sample-average problems of the size
  the plan was chosen on; the mean of their optimal in-sample objectives is an upper bound of the
  true optimum in expectation (for maximization), the plan's objective on independent scenarios
  an unbiased estimate of a lower bound. `optimality_gap` returns both and the gap, estimated on
  each replication's scenarios paired (the plan's objective there against the optimum's). The
  replications are independent tasks (`workbench.tasks.run_tasks`): on an executor each draws its
  scenarios where it runs (`ReplicationDraws`), from its own stream, so the numbers are the same.

Objectives are compared through `objective_terms` (per-scenario terms whose mean is the
objective), so the errors of CVaR and blend figures are those of their influence terms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..engine.scenarios import Scenarios
from ..engine.simulation import PortfolioModel, effective_estimates
from ..model.portfolio import Portfolio
from ..rng import stream
from ..tasks import run_tasks
from .constraints import PlanningProblem
from .optimization import explain_infeasible, solve
from .plans import Estimate, Plan, mean_standard_error, objective_terms


def point_values(problem: PlanningProblem, confidence_mode: str = "success") -> np.ndarray:
    """Each initiative's value from single numbers: reach x impact (x confidence, except in
    `spread` mode, where confidence only widens the ranges) at the medians of their estimates.

    In `success` mode confidence is a probability of delivering; a point-estimate user
    multiplies by it, as classic RICE does. `spread` keeps every median, so the mapping is moot.
    """
    est = effective_estimates(problem.portfolio, confidence_mode)
    factors = ("reach", "impact") if confidence_mode == "spread" else ("reach", "impact", "confidence")
    return np.prod([[e.median() for e in est[f]] for f in factors], axis=0)


def point_estimate_selection(problem: PlanningProblem, confidence_mode: str = "success", *,
                             time_limit: float = 60.0) -> np.ndarray:
    """The plan that maximizes the sum of point values (`point_values`) under every constraint of
    `problem` (budget at its planning quantile, capacities, dependencies, must/won't, theme shares,
    maximum count): the best a spreadsheet of single numbers can do. A boolean mask.

    Raises Infeasible naming the cause when no plan exists, SolverError on solver limits."""
    values = point_values(problem, confidence_mode)[None, :]
    one = Scenarios(problem.portfolio, values, problem.effort_q[None, :], 0, "mc", confidence_mode,
                    purpose="point estimates")
    sol = solve(problem, one, "mean", time_limit=time_limit)
    if not sol.has_plan():
        raise explain_infeasible(problem, one, time_limit)
    return sol.funded


def paired_difference(a: Plan, b: Plan) -> Estimate:
    """a's objective minus b's (a's objective, alpha and lambda), on their common scenarios, with
    the paired standard error."""
    if a.scenarios is not b.scenarios and a.scenarios.value is not b.scenarios.value:
        raise ValueError("paired differences need both plans on the same scenarios")
    diff = (objective_terms(a.value, a.objective, a.alpha, a.lam)
            - objective_terms(b.value, a.objective, a.alpha, a.lam))
    return Estimate(float(diff.mean()), mean_standard_error(diff))


def attach_vss(plan: Plan, point_selection: np.ndarray | None = None, *, time_limit: float = 60.0) -> Plan:
    """Set `plan.point` (the point-estimate plan on the plan's scenarios) and `plan.vss` (the
    plan's objective minus the point plan's, paired, with its standard error); returns `plan`.

    point_selection: the point-estimate plan's mask if already known (a cache), else solved."""
    if point_selection is None:
        point_selection = point_estimate_selection(plan.problem, plan.scenarios.confidence_mode,
                                                   time_limit=time_limit)
    plan.point = Plan(point_selection, plan.scenarios, plan.problem, "point estimates", plan.objective,
                      plan.alpha, plan.lam)
    plan.vss = paired_difference(plan, plan.point)
    return plan


def replication_scenarios(portfolio: Portfolio, rows: int, seed: int, replication: int,
                          confidence_mode: str = "success", spread: dict | None = None) -> Scenarios:
    """The scenarios of one optimality-gap replication: `rows` joint draws of the whole portfolio
    on the stream (seed, "replication", m), independent of the selection and
    evaluation draws and of every other replication (they are further selection sets)."""
    model = PortfolioModel(portfolio, confidence_mode, spread)
    value, effort = model.value_and_effort(rows, stream(seed, "replication", replication), None)
    return Scenarios(portfolio, np.ascontiguousarray(value.T), np.ascontiguousarray(effort.T), seed, "mc",
                     confidence_mode, spread, f"replication {replication}")


@dataclass(frozen=True)
class ReplicationDraws:
    """`replication_scenarios` of one portfolio and draw settings as a function of m: the
    `selection_draws` of `optimality_gap` that an executor can send to other processes."""

    portfolio: Portfolio
    rows: int
    seed: int
    confidence_mode: str = "success"
    spread: dict | None = None

    def __call__(self, replication: int) -> Scenarios:
        return replication_scenarios(self.portfolio, self.rows, self.seed, replication, self.confidence_mode,
                                     self.spread)


@dataclass(frozen=True)
class OptimalityGap:
    """Mak-Morton-Wood bounds of the true optimum's objective and the plan's gap to it.

    upper: mean over `replications` of the optimal in-sample objective of independent SAA problems
    (biased upward in expectation, so an upper bound); lower: the plan's objective on its own
    (evaluation) scenarios. value: the gap, estimated paired (common random numbers, MMW's
    "multiple replications procedure"): the mean over replications of the optimum's objective minus
    the plan's on the same scenarios; never negative (each optimum is at least the plan's), biased
    upward like the upper bound, so a conservative estimate, and much more precise than
    upper - lower. `*_se`: standard errors."""

    value: float
    se: float
    upper: float
    upper_se: float
    lower: float
    lower_se: float
    replications: int

    def to_dict(self) -> dict:
        """The figures as plain values, for JSON."""
        return {"value": self.value, "se": self.se, "upper": self.upper, "upper_se": self.upper_se,
                "lower": self.lower, "lower_se": self.lower_se, "replications": self.replications}


def optimality_gap(plan: Plan, selection_draws: Callable[[int], Scenarios], replications: int = 10, *,
                   time_limit: float = 60.0, progress: Callable[[int, int], None] | None = None,
                   executor=None) -> OptimalityGap:
    """The optimality gap of `plan` (valued on its own scenarios, which must be independent of the
    ones it was chosen on) under its objective, from `replications` SAA problems on
    `selection_draws(m)`, m = 0 .. replications - 1 (each on its own random stream).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.
    With an executor each replication draws its own scenarios there, so `selection_draws` must
    pickle: a `ReplicationDraws`, not a closure."""
    if replications < 2:
        raise ValueError(f"the optimality gap needs at least 2 replications, got {replications}")
    objective, alpha, lam = plan.objective or "mean", plan.alpha, plan.lam
    pairs = run_tasks(_replication, range(replications), executor=executor, progress=progress,
                      shared=(plan.problem, plan.funded, selection_draws, objective, alpha, lam, time_limit))
    optimum, own = (np.array(x) for x in zip(*pairs))
    # Paired on each replication's scenarios, the optimum's and the plan's objectives share most of
    # their noise: the gap's error is far smaller than that of the difference of the two bounds.
    gaps = optimum - own
    terms = objective_terms(plan.value, objective, alpha, lam)
    return OptimalityGap(float(gaps.mean()), _se(gaps), float(optimum.mean()), _se(optimum), float(terms.mean()),
                         _se(terms), replications)


def _replication(problem: PlanningProblem, funded: np.ndarray, selection_draws: Callable[[int], Scenarios],
                 objective: str, alpha: float, lam: float | None, time_limit: float, m: int) -> tuple[float, float]:
    """One replication (a task): (the optimum's objective, the plan's) on the scenarios selection_draws(m)."""
    sc = selection_draws(m)
    sol = solve(problem, sc, objective, alpha=alpha, lam=1.0 if lam is None else lam, time_limit=time_limit)
    if not sol.has_plan():
        raise explain_infeasible(problem, sc, time_limit)

    def value(x: np.ndarray) -> float:
        return float(objective_terms(sc.value @ x, objective, alpha, lam).mean())

    own = value(funded)
    # The plan is feasible, so the replication's optimum is at least its value there (this also
    # keeps an incumbent stopped by the time limit, or within the solver's gap, from undercutting it).
    return max(value(sol.funded), own), own


def _se(x: np.ndarray) -> float:
    """Standard error of the mean of independent terms."""
    return float(x.std(ddof=1) / np.sqrt(x.size))

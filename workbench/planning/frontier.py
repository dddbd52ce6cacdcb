"""The efficient frontier of expected value against CVaR: every non-dominated plan.

`frontier_of` scans the non-dominated set exactly (epsilon-constraint, lexicographic): it starts
from the plan of highest CVaR (the best in mean among those), then repeatedly solves
max CVaR subject to E[value] >= (the previous plan's mean + delta), the best in mean among the
CVaR-optimal plans, until the mean-optimal plan is reached. Each step returns the next
non-dominated point, so on the selection scenarios the result is the complete non-dominated set
of (mean, CVaR) after |ND| CVaR solves and one mean solve. The steps share one cut pool (the
cutting-plane CVaR of `optimization`) and each is bounded by the previous step's CVaR.

With an executor (`workbench.tasks.run_tasks`) the scan is split, as it only ever moves up in
mean: after the mean solve and the first (max-CVaR) step, the mean range [m_lo, m_max] between
their plans is cut into SEGMENTS equal segments (a constant, never the number of workers, so the
result does not depend on them), each scanned as its own task with its own cut pool (seeded with
the two plans' cuts): from max CVaR s.t. E[value] >= lo_k, step by step, until a plan reaches
hi_k (the next segment's first plan, left to it). Every non-dominated point of the segment is
found as in the chain, so the union is the same non-dominated set, after about one more solve a
segment (the one that reaches the next segment).

`Frontier.beats(plan)` names the frontier plans that beat a plan on both axes as evaluated, so
views can say when the selection scenarios and the evaluation disagree about a recommendation.
`frontier` is the notebook front door (keywords in, scenarios drawn).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.scenarios import Scenarios
from ..model.portfolio import Portfolio
from ..tasks import run_tasks
from .constraints import PlanningProblem
from .cvar_cuts import CutPool, cut_pool
from .milp import MIP_REL_GAP, SolverError
from .optimization import (
    EVALUATION_SAMPLES,
    _check_evaluate_on,
    _check_objective,
    evaluation_draws,
    explain_infeasible,
    scenarios_and_problem,
    solve,
)
from .plans import Plan

# Weight of the mean in each step's objective (values scaled to ~1 per initiative), so that among
# plans of equal CVaR the solver returns the best in mean. Small enough that it moves a step's CVaR
# by at most 1e-4 x the mean range of the scaled values; a tie it fails to break costs one more
# step (the next step finds the better plan) and the final filter drops the dominated one.
TIEBREAK = 1e-4
# The step in mean between consecutive points, in units of the largest initiative's mean value:
# 100 x HiGHS's feasibility tolerance (1e-7) on the scaled mean row.
DELTA = 1e-5
# The segments of the mean range scanned as separate tasks with an executor: fixed, so that the
# split of the work, hence every figure, is the same on any number of workers; enough to keep a
# few workers busy, few enough that the solve a segment spends reaching the next one stays small.
SEGMENTS = 8


@dataclass(eq=False)
class Frontier:
    """Non-dominated plans on expected value vs CVaR, from most risk-averse to most value-seeking.

    recommended: the plan recommended beside the frontier (kept among `plans` even when beaten).
    solves: the optimizer calls made; complete: False when a cap on solves stopped the scan or a
    step hit the time limit.
    """

    plans: list[Plan]
    recommended: Plan | None = None
    solves: int = 0
    complete: bool = True

    def beats(self, plan: Plan) -> list[Plan]:
        """The frontier plans that beat `plan` on both expected value and CVaR, as evaluated."""
        return [p for p in self.plans if not np.array_equal(p.funded, plan.funded)
                and p.expected_value > plan.expected_value and p.cvar > plan.cvar]

    @property
    def recommended_beaten_by(self) -> list[Plan]:
        """`beats(recommended)`: empty when there is no recommended plan or nothing beats it."""
        return [] if self.recommended is None else self.beats(self.recommended)

    def to_frame(self) -> pd.DataFrame:
        """One row per plan: expected value and CVaR with their standard errors, budget used,
        count and the funded ids."""
        return pd.DataFrame([{"expected_value": p.expected_value, "expected_value_se": p.expected_value_se,
                              "cvar": p.cvar, "cvar_se": p.cvar_se, "budget_used": p.cost,
                              "count": int(p.funded.sum()), "selected": ";".join(p.selected)} for p in self.plans])

    def to_records(self) -> list[dict]:
        """Expected value, CVaR (with standard errors) and funded ids of each plan, for JSON."""
        return [{"expected_value": p.expected_value, "expected_value_se": p.expected_value_se, "cvar": p.cvar,
                 "cvar_se": p.cvar_se, "selected": p.selected} for p in self.plans]


def frontier(portfolio: Portfolio, budget: float, *, max_solves: int | None = None, alpha: float = 0.1,
             scenarios: int | Scenarios = 2000, seed: int | None = None, method: str = "mc",
             confidence_mode: str = "success", capacities: dict | None = None,
             theme_shares: dict | None = None, max_count: int | None = None, effort_quantile: float = 0.5,
             budget_column: str = "effort", time_limit: float = 60.0, spread: dict | None = None,
             samples: int | None = EVALUATION_SAMPLES, evaluate_on: Scenarios | None = None,
             executor=None) -> Frontier:
    """The complete efficient frontier of expected value against CVaR (see `frontier_of`).
    Keywords as in `optimize` (plans chosen on `scenarios`, valued on `samples` independent
    evaluation draws or `evaluate_on`); max_solves caps the solves (default: none, complete).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here."""
    _check_objective("cvar", alpha, 0.0)  # before drawing any scenario
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, method=method,
                                        confidence_mode=confidence_mode, capacities=capacities,
                                        theme_shares=theme_shares, max_count=max_count,
                                        effort_quantile=effort_quantile, budget_column=budget_column, spread=spread)
    return frontier_of(problem, sc, max_solves=max_solves, alpha=alpha, time_limit=time_limit,
                       evaluate_on=evaluation_draws(sc, scenarios, samples, evaluate_on), executor=executor)


def frontier_of(problem: PlanningProblem, scenarios: Scenarios, *, alpha: float = 0.1, time_limit: float = 60.0,
                max_solves: int | None = None, progress: Callable[[int, int], None] | None = None,
                evaluate_on: Scenarios | None = None, pool: CutPool | None = None, executor=None) -> Frontier:
    """Every non-dominated plan of a prepared problem on `scenarios` (the module's scan).

    max_solves: a safety cap on the solves (None: complete; the result says whether it is). A
        capped scan runs here as one chain whatever the executor, so that it finds the same plans.
    progress(done, total): after each solve (with an executor: each segment); total is an
        estimate until the scan ends.
    evaluate_on: scenarios on which the plans found are valued (then the plans dominated as
        valued there are dropped); pool: the cuts to share (default: the scenarios' own).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.
    Raises Infeasible naming the cause, or SolverError when a solve stopped without a plan.
    """
    _check_objective("cvar", alpha, 0.0)
    _check_evaluate_on(problem, evaluate_on)
    sc = scenarios
    pool = cut_pool(sc) if pool is None else pool
    top = solve(problem, sc, "mean", alpha=alpha, time_limit=time_limit)
    if not top.has_plan():
        raise explain_infeasible(problem, sc, time_limit)
    pool.add(sc.value, top.funded, alpha)  # the first master is bounded, and this cut is often binding
    best_mean = Plan(top.funded, sc, problem, "frontier", "mean", alpha)
    m_max = best_mean.expected_value

    def tick(found: list[Plan], steps: int) -> None:  # the total, estimated from the share of the range covered
        solves, first = steps + 1, found[0].expected_value
        covered = (found[-1].expected_value - first) / max(m_max - first, 1e-300)
        progress(solves, max_solves or (solves + 1 if covered <= 0 else max(solves + 1, round(solves / covered))))

    cap = None if max_solves is None else max_solves - 1
    if executor is None or max_solves is not None:
        found, steps, complete = _chain(problem, sc, pool, alpha, time_limit, m_max, cap=cap,
                                        progress=None if progress is None else tick)
    else:
        found, steps, complete = _segmented(problem, sc, pool, alpha, time_limit, best_mean, executor, progress)
    solves = 1 + steps
    if not found and complete:
        raise SolverError(f"the solver found no CVaR-optimal plan within {time_limit:g} s; allow more time")
    plans = non_dominated(found + [best_mean])
    if evaluate_on is not None:
        plans = non_dominated([Plan(p.funded, evaluate_on, problem, p.label, p.objective, alpha, status=p.status,
                                    gap=p.gap, selection=sc) for p in plans])
    if progress is not None:
        progress(solves, solves)
    return Frontier(plans, solves=solves, complete=complete)


def _chain(problem: PlanningProblem, sc: Scenarios, pool: CutPool, alpha: float, time_limit: float, m_max: float,
           *, target: float | None = None, bound: float | None = None, end: float = np.inf, cap: int | None = None,
           progress: Callable[[list[Plan], int], None] | None = None) -> tuple[list[Plan], int, bool]:
    """The epsilon-constraint steps from `target` (None: the plain max-CVaR problem) up to the
    mean-optimal value `m_max`, or to the first plan whose mean reaches `end` (left out: it starts
    the next segment). Returns (the plans found, the solves, complete); cap: at most that many solves."""
    scale = max(float(np.abs(sc.value).mean(axis=0).max()), 1e-12)  # as `solve` scales
    found, solves, complete = [], 0, True
    while True:
        if cap is not None and solves >= cap:
            complete = False
            break
        # The first step is the plain max-CVaR problem, as the CVaR objective solves it, so that
        # switching the objective to CVaR after a frontier reuses its optimum (`CutPool.optimum`);
        # a tie in CVaR it leaves unbroken costs one more step, as above.
        sol = solve(problem, sc, "cvar", alpha=alpha, time_limit=time_limit, min_mean=target,
                    tiebreak_mean=0.0 if target is None else TIEBREAK, max_cvar=bound, formulation="cuts",
                    pool=pool)
        solves += 1
        if not sol.has_plan():  # no plan reaches the target mean: the scan is over
            break
        plan = Plan(sol.funded, sc, problem, "frontier", "cvar", alpha, status=sol.status, gap=sol.gap)
        optimal = sol.status == "optimal"  # a step stopped by the time limit may skip a point
        complete &= optimal
        if plan.expected_value >= end:  # the next segment's first plan: left to it
            break
        found.append(plan)
        if progress is not None:
            progress(found, solves)
        if plan.expected_value >= m_max:
            break
        # No later plan has a higher CVaR than this one (it was feasible in this step): a bound
        # that tightens the next master, loosened by the solver's relative gap.
        target = plan.expected_value + DELTA * scale
        bound = plan.cvar + 10 * MIP_REL_GAP * (abs(plan.cvar) + scale) if optimal else None
    return found, solves, complete


def _segmented(problem: PlanningProblem, sc: Scenarios, pool: CutPool, alpha: float, time_limit: float,
               best_mean: Plan, executor, progress) -> tuple[list[Plan], int, bool]:
    """The module's segmented scan: the first step here, then one task per segment of the mean
    range. Returns (the plans found, the solves after the mean solve, complete) as `_chain`."""
    m_max = best_mean.expected_value
    found, steps, complete = _chain(problem, sc, pool, alpha, time_limit, m_max, cap=1)
    if not found or found[0].expected_value >= m_max:
        return found, steps, complete  # the scan is over, as in the chain
    first = found[0]
    complete = first.status == "optimal"  # only the one-step cap stopped the chain
    scale = max(float(np.abs(sc.value).mean(axis=0).max()), 1e-12)
    # The most any plan's CVaR can be (the first step's), loosened by the solver's gap, bounds every segment.
    bound = first.cvar + 10 * MIP_REL_GAP * (abs(first.cvar) + scale) if first.status == "optimal" else None
    edges = np.linspace(first.expected_value, m_max, SEGMENTS + 1)
    edges[0] = first.expected_value + DELTA * scale  # the first step's plan is found already
    ends = [*edges[1:-1], np.inf]
    segments = [(float(lo), float(end), bound) for lo, end in zip(edges[:-1], ends)]
    seeds = np.array([best_mean.funded, first.funded])
    tick = None if progress is None else (lambda done, total: progress(1 + steps + done, 1 + steps + total))
    results = run_tasks(_segment, segments, shared=(problem, sc, seeds, alpha, time_limit, m_max),
                        executor=executor, progress=tick)
    for plans, solves, whole in results:
        found += [Plan(funded, sc, problem, "frontier", "cvar", alpha, status=status, gap=gap)
                  for funded, status, gap in plans]
        steps += solves
        complete &= whole
    return found, steps, complete


def _segment(problem: PlanningProblem, sc: Scenarios, seeds: np.ndarray, alpha: float, time_limit: float,
             m_max: float, segment: tuple) -> tuple[list[tuple], int, bool]:
    """One segment's scan (a task): ([(funded, status, gap) of each plan found], solves, complete).
    Its own cut pool, seeded with the cuts of `seeds` only, so that it is the same wherever it runs."""
    target, end, bound = segment
    pool = CutPool()
    for funded in seeds:
        pool.add(sc.value, funded, alpha)
    found, solves, complete = _chain(problem, sc, pool, alpha, time_limit, m_max, target=target, bound=bound,
                                     end=end)
    return [(p.funded, p.status, p.gap) for p in found], solves, complete


def non_dominated(plans: list[Plan]) -> list[Plan]:
    """Plans that no other plan beats on both expected value and CVaR (at least as good on both,
    better on one), by increasing value; one plan per funded set."""
    unique = list({p.funded.tobytes(): p for p in plans}.values())
    kept = [p for p in unique
            if not any(q.expected_value >= p.expected_value and q.cvar >= p.cvar
                       and (q.expected_value > p.expected_value or q.cvar > p.cvar) for q in unique)]
    return sorted(kept, key=lambda p: (p.expected_value, -p.cvar))

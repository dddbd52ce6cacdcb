"""Budget sensitivity: the optimal plan across a range of budgets, and across splits of one budget.

Every budget is optimized on the same scenario matrix (common random numbers), so differences
between points are due to the budget, not to sampling noise. Each row's figures are estimated on
the scenarios its plan is valued on (`evaluate_on`, else those solved on; the row says which in
`evaluated_on` and `evaluated_count`), each with its standard error in a `*_se` column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from .. import limits
from ..engine.scenarios import Scenarios
from ..errors import InputError, Problem, lookalike_problem, quote
from ..planning.constraints import Infeasible, PlanningProblem
from ..planning.optimization import solve
from ..planning.plans import Plan, mean_standard_error
from ..tasks import run_tasks

DEFAULT_SHARES = np.linspace(0, 1, 11)  # a group's share of the budget: 0%, 10%, ..., 100%


def budget_range(text: str) -> np.ndarray:
    """Parse `A:B:STEP` (e.g. `20:120:5`) into budgets A, A+STEP, ..., B; a clear error otherwise."""
    shown = quote(text)
    lookalike = lookalike_problem(text) if isinstance(text, str) else None
    if lookalike:  # float() reads '١٠' and '５' as 10 and 5
        raise InputError(Problem(f"budget range: {lookalike}"))
    try:
        lo, hi, step = (float(p) for p in text.split(":"))
    except (ValueError, AttributeError):
        raise InputError(Problem(f"budget range must be A:B:STEP such as 20:120:5, got {shown}")) from None
    if not step > 0:
        raise InputError(Problem(f"budget range {shown}: STEP must be > 0"))
    if not lo < hi:
        raise InputError(Problem(f"budget range {shown} is empty or reversed: A must be below B"))
    if not lo > 0:
        raise InputError(Problem(f"budget range {shown}: every budget must be > 0"))
    points = (hi - lo) / step + 1  # counted before anything is allocated
    if not points <= limits.MAX_SWEEP_POINTS:
        raise InputError(Problem(f"budget range {shown} has {points:,.0f} points; use a larger STEP "
                                 f"(at most {limits.MAX_SWEEP_POINTS:,} points)"))
    return np.arange(lo, hi + step * 1e-9, step)


def _record(plan: Plan | None, on: Scenarios, status: str = "infeasible", **extra) -> dict:
    """One sweep row, its figures estimated on `on` with their standard errors; without a plan,
    `status` says why (infeasible, or the solver's time limit)."""
    where = {"evaluated_on": on.purpose, "evaluated_count": on.count}
    if plan is None:
        return {**extra, "status": status, **dict.fromkeys(_FIGURES, np.nan), **where, "selected": []}
    p10, _, p90 = plan.quantiles()
    p10_se, _, p90_se = plan.quantiles_se()
    return {**extra, "status": plan.status, "expected_value": plan.expected_value,
            "expected_value_se": plan.expected_value_se, "p10": p10, "p10_se": p10_se, "p90": p90,
            "p90_se": p90_se, "cvar": plan.cvar, "cvar_se": plan.cvar_se, **where, "selected": plan.selected}


_FIGURES = ("expected_value", "expected_value_se", "p10", "p10_se", "p90", "p90_se", "cvar", "cvar_se")


def _marginal(values: list[np.ndarray | None], budgets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Value of one more unit of budget between consecutive rows, and its paired standard error
    (both plans valued on the same scenarios: the error of the mean of their difference)."""
    marginal, se = np.full(budgets.size, np.nan), np.full(budgets.size, np.nan)
    for k in range(1, budgets.size):
        a, b = values[k - 1], values[k]
        if a is not None and b is not None:
            step = budgets[k] - budgets[k - 1]
            diff = (b - a) / step
            marginal[k], se[k] = diff.mean(), mean_standard_error(diff)
    return marginal, se


def budget_sweep(problem: PlanningProblem, scenarios: Scenarios, budgets, *, objective: str = "mean",
                 alpha: float = 0.1, lam: float = 1.0, time_limit: float = 60.0,
                 progress: Callable[[int, int], None] | None = None,
                 evaluate_on: Scenarios | None = None, executor=None) -> pd.DataFrame:
    """The optimal plan at each budget: expected value with its p10-p90 band, the marginal value
    of one more unit of budget (paired between neighbouring budgets), and the plan, each figure
    with its standard error. Budgets the must-haves do not fit are `infeasible`.
    evaluate_on: scenarios on which to evaluate each budget's plan (default: those solved on).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.

    `entry_budgets(sweep)` then gives, for every initiative, the smallest budget funding it.
    """
    budgets = np.asarray(budgets, float)
    if budgets.size == 0:
        raise InputError(Problem("the budget range is empty"))
    on = scenarios if evaluate_on is None else evaluate_on
    settings = dict(objective=objective, alpha=alpha, lam=lam, time_limit=time_limit)
    solved = run_tasks(_solve_at_budget, [float(b) for b in budgets], shared=(problem, scenarios, settings),
                       executor=executor, progress=progress)
    rows, values = [], []
    for b, (funded, status, gap) in zip(budgets, solved):
        plan = None
        if funded is not None:  # the plan's own problem (its budget), as the task solved it
            at = PlanningProblem(problem.portfolio, replace(problem.constraints, budget=float(b)), problem.effort_q)
            plan = Plan(funded, on, at, "sweep", objective, alpha, status=status, gap=gap)
        rows.append(_record(plan, on, status, budget=float(b)))
        values.append(None if plan is None else plan.value)
    frame = pd.DataFrame(rows)
    marginal, marginal_se = _marginal(values, budgets)
    at = frame.columns.get_loc("expected_value_se") + 1
    frame.insert(at, "marginal_value", marginal)
    frame.insert(at + 1, "marginal_value_se", marginal_se)
    return frame


def _solve_at_budget(problem: PlanningProblem, scenarios: Scenarios, settings: dict, budget: float) -> tuple:
    """One sweep task: (funded or None, status, gap) of the best plan at `budget`."""
    try:
        # Built anew, not copied: the must-haves' checks depend on the budget.
        p = PlanningProblem(problem.portfolio, replace(problem.constraints, budget=budget), problem.effort_q)
        sol = solve(p, scenarios, **settings)
    except Infeasible:
        return None, "infeasible", None
    return sol.funded, sol.status, sol.gap


def entry_budgets(sweep: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """For every initiative, the smallest budget of the sweep whose optimal plan funds it (NaN: never).

    Plans are not nested: an initiative can enter, leave and re-enter as the budget grows;
    `funded_share` says at how many of the budgets from its entry on it is funded.
    """
    out = []
    for id_ in ids:
        funded = np.array([id_ in sel for sel in sweep["selected"]])
        first = int(np.argmax(funded)) if funded.any() else None
        out.append({"id": id_, "entry_budget": float(sweep["budget"].iloc[first]) if first is not None else np.nan,
                    "funded_share": float(funded[first:].mean()) if first is not None else 0.0})
    return pd.DataFrame(out).set_index("id")


def split_groups(problem: PlanningProblem, name: str) -> tuple[str, np.ndarray]:
    """Which initiatives `name` designates: `theme:X`, `team:X`, or a plain name that is one of them."""
    kind, _, value = name.partition(":")
    themes, teams = set(problem.theme) - {""}, set(problem.team) - {""}
    if value and kind in ("theme", "team"):
        pool = themes if kind == "theme" else teams
        if value not in pool:
            raise InputError(Problem(f"unknown {kind} {quote(value)} for --split ({kind}s: {', '.join(sorted(pool))})"))
        return f"{kind} {value}", (problem.theme if kind == "theme" else problem.team) == value
    if name in themes and name in teams:
        raise InputError(Problem(f"{quote(name)} is both a theme and a team; write theme:{name} or team:{name}"))
    if name in themes:
        return f"theme {name}", problem.theme == name
    if name in teams:
        return f"team {name}", problem.team == name
    listed = f"themes: {', '.join(sorted(themes)) or 'none'}; teams: {', '.join(sorted(teams)) or 'none'}"
    raise InputError(Problem(f"unknown theme or team {quote(name)} for --split ({listed})"))


def split_sweep(problem: PlanningProblem, scenarios: Scenarios, group: str, shares=None, *,
                objective: str = "mean", alpha: float = 0.1, lam: float = 1.0, time_limit: float = 60.0,
                progress: Callable[[int, int], None] | None = None,
                evaluate_on: Scenarios | None = None, executor=None) -> pd.DataFrame:
    """Give `group` (a theme or team) a share s of the budget and the rest 1 - s, optimizing both
    parts, for s from 0 to 100% in steps: where does the split stop paying?

    evaluate_on: scenarios on which each share's plan (and the group's part of its value) is
    evaluated (default: those solved on).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.
    """
    label, members = split_groups(problem, group)
    shares = DEFAULT_SHARES if shares is None else np.asarray(shares, float)
    on = scenarios if evaluate_on is None else evaluate_on
    settings = dict(objective=objective, alpha=alpha, lam=lam, time_limit=time_limit)
    solved = run_tasks(_solve_at_share, [float(s) for s in shares], shared=(problem, scenarios, members, settings),
                       executor=executor, progress=progress)
    rows = []
    for s, (funded, status, gap) in zip(shares, solved):
        plan = None if funded is None else Plan(funded, on, problem, "split", objective, alpha, status=status, gap=gap)
        rec = _record(plan, on, status, share=float(s))
        rec["group"] = label
        part = on.value[:, plan.funded & members].sum(axis=1) if plan else None
        rec["group_value"] = np.nan if part is None else float(part.mean())
        rec["group_value_se"] = np.nan if part is None else mean_standard_error(part)
        rows.append(rec)
    return pd.DataFrame(rows)


def _solve_at_share(problem: PlanningProblem, scenarios: Scenarios, members: np.ndarray, settings: dict,
                    share: float) -> tuple:
    """One split task: (funded or None, status, gap) of the best plan giving the group `share`
    of the budget and the others the rest."""
    cost, budget = problem.cost, problem.constraints.budget
    inside, outside = (cost * members, -np.inf, share * budget), (cost * ~members, -np.inf, (1 - share) * budget)
    sol = solve(problem, scenarios, **settings, extra_rows=(inside, outside))
    return sol.funded, sol.status, sol.gap

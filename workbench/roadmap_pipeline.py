"""The roadmap's part of the one pipeline: settings in, the roadmap shown and its comparisons out.

    result = workbench.roadmap(portfolio, settings)         # a fresh engine
    result = engine.roadmap(settings)                       # LiveEngine: cached draws and solves

Like the one-quarter plan, the optimal roadmap is *chosen* on the selection draws (`scenarios`)
and every figure about any roadmap is estimated on the evaluation draws (`samples`): its value
as planned, its delivery simulated against the drawn efforts (`planning.delivery`), and the
paired comparisons with greedy-by-RICE and the user's own roadmap (the `planned_quarter` column,
or `plan_column`). Capacities are person-months a quarter per team (`capacities`, with
`capacity_table` for the quarters that differ); a budget in person-months is the total a quarter
over every team.
"""

from __future__ import annotations

import numpy as np

from .engine.scenarios import effort_quantiles
from .errors import InputError, Problem
from .model.quarters import parse_quarter, quarter_range
from .pipeline import LiveEngine, apply_settings
from .planning.delivery import simulate_delivery
from .planning.roadmap import greedy_roadmap, resolution_gap, solve_roadmap, violations
from .planning.roadmap_problem import RoadmapProblem, planned_starts, roadmap_problem
from .planning.roadmap_result import Roadmap, RoadmapResult
from .settings import Settings


def roadmap_result(engine: LiveEngine, settings: Settings, *, start: int | None = None) -> RoadmapResult:
    """The roadmap of `settings` over the engine's portfolio (see the module docstring).

    Raises InputError for settings that do not fit (a team without capacity, a bad quarter) and
    Infeasible (an InputError) naming why no roadmap fits; SolverError when the solver gave up."""
    s = settings.for_portfolio(engine.portfolio, plan=True)  # the draw limits, before any draw
    applied = apply_settings(engine.portfolio, s)
    problem, notes = build_problem(applied, s, start)
    column = s.plan_column or "planned_quarter"
    yours, cell_problems = planned_starts(problem, column)
    if s.plan_column and column not in applied.to_frame().columns:
        cell_problems.insert(0, Problem(f"plan_column: the portfolio has no column {column!r}"))
    if cell_problems and (s.plan_column or s.roadmap == "yours"):
        raise InputError(cell_problems)
    if s.roadmap == "yours" and not (yours >= 0).any():
        raise InputError(Problem(f"roadmap: 'yours' needs your start quarters in a {column} column "
                                 "(or name the column with --plan-column)"))
    selection = engine.scenarios(s, "selection")
    evaluation = engine.scenarios(s, "evaluation")
    key = ("roadmap", _problem_key(problem), s.seed, s.scenarios, s.confidence_mode, s.spread, s.objective,
           s.alpha if s.objective != "mean" else None, s.lam if s.objective == "blend" else None, s.time_limit,
           tuple((ini.id, *(str(ini.estimate(f)) for f in ("reach", "impact", "confidence", "effort")))
                 for ini in applied))
    greedy = greedy_roadmap(problem)
    gap = resolution_gap(problem, selection.value, greedy, s.objective, alpha=s.alpha, lam=s.lam)
    optimal = engine.remember(key, lambda: solve_roadmap(problem, selection.value, s.objective, alpha=s.alpha,
                                                         lam=s.lam, time_limit=s.time_limit, gap=gap))
    starts = {"optimal": optimal, "greedy": (greedy, "greedy", None)}
    if (yours >= 0).any():
        starts["yours"] = (yours, "given", None)
    roadmaps = {}
    for name, (begin, status, gap) in starts.items():
        delivery = simulate_delivery(problem, begin, evaluation.effort, evaluation.value)
        broken = violations(problem, begin) if name == "yours" else []
        roadmaps[name] = Roadmap(name, begin, delivery, status, gap, broken, s.alpha)
    shown = roadmaps.pop(s.roadmap)
    if cell_problems and not s.plan_column:
        notes.append("your roadmap's column has cells that are not quarters of the horizon, left out: "
                     + "; ".join(p.message for p in cell_problems[:5]))
    return RoadmapResult(s, problem, shown, roadmaps, selection.count, notes)


def build_problem(applied, s: Settings, start: int | None = None) -> tuple[RoadmapProblem, list[str]]:
    """The roadmap problem of checked settings over a portfolio with its edits applied, and the
    notes to tell the user once."""
    notes = []
    try:
        quarters = quarter_range(s.quarters, start)
    except ValueError as exc:  # checked by Settings already; a bad `start` from a caller
        raise InputError(Problem(f"quarters: {exc}")) from None
    total = None
    if s.budget is not None:
        if s.budget_column == "effort":
            total = float(s.budget)
        else:
            notes.append(f"the budget is in the {s.budget_column} column, not person-months, so the roadmap "
                         "does not apply it; only the team capacities bound each quarter")
    effort = effort_quantiles(applied, s.effort_quantile, s.confidence_mode, s.spread_mapping)
    table = {(team, parse_quarter(q)): c for team, q, c in s.capacity_table}
    problem = roadmap_problem(applied, quarters, effort, capacities=s.capacity, table=table, total=total,
                              tail=s.tail_quarters, discount=s.discount,
                              pins={i: parse_quarter(q) for i, q in s.starts},
                              earliest={i: parse_quarter(q) for i, q in s.earliest_starts})
    return problem, notes


def _problem_key(p: RoadmapProblem) -> tuple:
    """What the optimal roadmap depends on besides the draws: every array of the problem."""
    arrays = (p.capacity, p.effort, p.rate, p.duration, p.earliest, p.latest, p.must, p.wont, p.pinned, p.team_of)
    return (p.quarters, p.tail, p.discount, p.total, p.requires, p.excludes,
            *(np.ascontiguousarray(a).tobytes() for a in arrays))

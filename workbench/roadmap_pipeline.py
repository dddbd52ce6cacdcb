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

`roadmaps` computes the roadmaps of several named settings variants (the capacities or horizons a
leader compares), one task each (`workbench.tasks.run_tasks`): in this process on one engine,
sharing its draws; on an executor each task on a fresh engine, which draws the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from .engine.scenarios import effort_quantiles
from .errors import InputError, Problem, did_you_mean
from .io.read import normalize_column
from .model.portfolio import OPTIONAL, QUARTER_COLUMNS, REQUIRED, Portfolio
from .model.quarters import next_quarter, parse_quarter, quarter_range
from .pipeline import LiveEngine, apply_settings
from .planning.delivery import simulate_delivery
from .planning.roadmap import greedy_roadmap, resolution_gap, solve_roadmap, violations
from .planning.roadmap_problem import RoadmapProblem, planned_starts, roadmap_problem
from .planning.roadmap_result import Roadmap, RoadmapResult
from .settings import Settings
from .tasks import run_tasks


def roadmap_result(engine: LiveEngine, settings: Settings, *, start: int | None = None) -> RoadmapResult:
    """The roadmap of `settings` over the engine's portfolio (see the module docstring).

    Raises InputError for settings that do not fit (a team without capacity, a bad quarter) and
    Infeasible (an InputError) naming why no roadmap fits; SolverError when the solver gave up."""
    s = settings.for_portfolio(engine.portfolio, plan=True)  # the draw limits, before any draw
    applied = apply_settings(engine.portfolio, s)
    problem, notes = build_problem(applied, s, start)
    yours, cell_problems = your_roadmap(problem, s)
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
        roadmaps[name] = Roadmap(name, begin, delivery, status, gap, violations(problem, begin), s.alpha)
    shown = roadmaps.pop(s.roadmap)
    if cell_problems and not s.plan_column:
        notes.append("your roadmap's column has cells that are not quarters of the horizon, left out: "
                     + "; ".join(p.message for p in cell_problems[:5]))
    return RoadmapResult(s, problem, shown, roadmaps, selection.count, notes)


def roadmaps(portfolio: Portfolio, variants: Mapping[str, Settings], *, start: int | None = None,
             executor=None) -> dict[str, RoadmapResult]:
    """The roadmap of each named settings variant (see `roadmap_result`), by name, in their order.
    start: as `workbench.roadmap` (default the quarter after today, the same for every variant).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.

    Raises InputError naming every problem of every variant (each prefixed by its name) before
    anything is drawn; the first variant whose roadmap fails raises as `roadmap_result` does."""
    problems = []
    for name, settings in variants.items():
        try:
            settings.for_portfolio(portfolio, plan=True)
        except InputError as exc:
            problems += [replace(p, message=f"{name}: {p.message}") for p in exc.problems]
    if problems:
        raise InputError(problems)
    # Today's quarter is read once, here: workers on other machines may disagree about the date.
    start = next_quarter() if start is None else start
    if executor is None:
        results = run_tasks(_engine_roadmap, variants.values(), shared=(LiveEngine(portfolio), start))
    else:
        results = run_tasks(_fresh_roadmap, variants.values(), shared=(portfolio, start), executor=executor)
    return dict(zip(variants, results))


def _engine_roadmap(engine: LiveEngine, start: int, settings: Settings) -> RoadmapResult:
    """One variant on a shared engine (in process: its cached draws serve every variant)."""
    return engine.roadmap(settings, start=start)


def _fresh_roadmap(portfolio: Portfolio, start: int, settings: Settings) -> RoadmapResult:
    """One variant on an engine of its own (a task: the draws are the same by the RNG policy)."""
    return LiveEngine(portfolio).roadmap(settings, start=start)


def your_roadmap(problem: RoadmapProblem, s: Settings) -> tuple[np.ndarray, list[Problem]]:
    """Your roadmap's start quarters (-1 where none) from `plan_column` (default planned_quarter) and
    the problems of its cells. Raises InputError when the column was asked for (`plan_column`, or
    the roadmap shown is yours) and cannot give a roadmap."""
    asked = s.plan_column is not None or s.roadmap == "yours"
    column = normalize_column(s.plan_column) if s.plan_column else "planned_quarter"
    extra = {key for ini in problem.portfolio for key in ini.extra}
    if column not in QUARTER_COLUMNS and column not in extra:
        other = column in REQUIRED or column in OPTIONAL
        why = (f"the {column} column holds no quarters" if other else
               f"the portfolio has no column {column!r}{did_you_mean(column, sorted(extra))}")
        raise InputError(Problem(f"plan_column: {why}; name the column of your roadmap's start quarters"))
    yours, cell_problems = planned_starts(problem, column)
    if asked and cell_problems:
        raise InputError(cell_problems)
    if asked and not (yours >= 0).any():
        raise InputError(Problem(f"{'roadmap: yours' if s.roadmap == 'yours' else 'plan_column'}: no start quarter "
                                 f"in the {column} column (name your roadmap's column with --plan-column)"))
    return yours, cell_problems


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

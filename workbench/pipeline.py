"""The one pipeline every front end calls: a portfolio and its `Settings` in, the decision out.

    outcome = workbench.run(portfolio, settings)          # the ranking and the recommended plan
    engine = LiveEngine(portfolio); engine.run(settings)  # the same, reusing draws and plans

The CLI, both report templates and the dashboard call these functions, and nothing else wires
the engine and the optimizer together, so the same portfolio and settings give the same
numbers, digit for digit, wherever they are shown.

How the numbers are made (the RNG policy is `workbench.rng`):
- **evaluation draws**: `samples` scenarios of every initiative's value and effort, block by
  block (an initiative, or the initiatives correlations tie together), each block on the stream
  (seed, "evaluation", its ids). The ranking and every figure about a plan are computed on them.
- **selection draws**: `scenarios` more, on (seed, "selection", ids). Plans (the recommended
  one, the frontier, the sweeps) are *chosen* on them and *valued* on the evaluation draws, so
  the figures shown are not flattered by the choice (the optimizer's curse).
- **how good the plan is**: every plan carries `vss`, its objective against the plan chosen on
  point estimates (medians), both valued on the evaluation draws (`plan_quality.attach_vss`).
  `optimality_gap` re-solves the plan's problem on further selection sets, one stream per
  replication (seed, "replication", m), and bounds how far the plan is from the best.
- With `method` lhs or sobol, with `precision`, or when the score matrix would not fit in memory
  (`KEEP_SCORES_LIMIT`, at most `limits.MAX_HELD_VALUES` per factor), the ranking comes from the
  streaming engine (`simulate`) on the (seed, "simulate") streams; `precision` samples at most
  `limits.MAX_DRAWS` values. Settings beyond the limits are refused by `Settings.for_portfolio`.

`LiveEngine` caches draws per block and plans per constraint set: editing an initiative redraws
its block only, a budget or risk change re-solves the plan only. A calibration
(`settings.calibration`, `workbench calibrate`) corrects the ranges in `apply_settings`, so every
front end analyses the same corrected portfolio, and the blocks it changes are drawn again.
"""

from __future__ import annotations

import contextvars
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import limits
from .engine.results import SimulationResult
from .engine.scenarios import Scenarios, blocks, draw_block, effort_quantiles
from .engine.simulation import KEEP_SCORES_LIMIT, PortfolioModel, kept_ranks, simulate, summarize_scores
from .errors import InputError
from .model.estimates import FACTORS, parse_estimate
from .model.portfolio import Portfolio
from .planning import plan_quality
from .planning.constraints import Constraints, PlanningProblem
from .planning.frontier import Frontier, frontier_of, non_dominated
from .planning.milp import SolverError
from .planning.optimization import explain_infeasible, solve
from .planning.plan_quality import OptimalityGap, ReplicationDraws, attach_vss, point_estimate_selection
from .planning.plans import Plan, add_baselines
from .sensitivity import SensitivityReport, analyze, budget_range, budget_sweep
from .settings import Settings

Progress = Callable[[int, int], None]


def apply_settings(portfolio: Portfolio, settings: Settings) -> Portfolio:
    """The portfolio with the settings' edits and overrides applied (settings already checked), then
    the calibration's corrections (`settings.calibration`): an edited estimate is corrected too, as
    it is a person's range like the others. Corrected estimates have new texts, so the engine's
    per-block cache keys change with them and the blocks are drawn again."""
    edits: dict[str, dict] = {}
    for id_, factor, text in settings.edits:
        edits.setdefault(id_, {})[factor] = parse_estimate(text, factor)
    for id_, override in settings.overrides:
        edits.setdefault(id_, {})["moscow"] = "must" if override == "in" else "won't"
    if edits:
        portfolio = portfolio.with_initiatives(replace(ini, **edits[ini.id]) if ini.id in edits else ini
                                               for ini in portfolio)
    if settings.calibration:
        from .calibration.calibration_file import load_calibration  # imported only when one is given
        from .calibration.correction import apply_calibration

        portfolio = apply_calibration(portfolio, load_calibration(settings.calibration), settings.confidence_mode)
    return portfolio


@dataclass(eq=False)
class Outcome:
    """What one portfolio and its settings give: the ranking and the recommended plan (or why not)."""

    settings: Settings  # checked and completed (top k resolved, team names as in the file)
    portfolio: Portfolio  # with the edits and overrides applied
    result: SimulationResult
    evaluation: Scenarios | None  # every figure shown is estimated on these (None: a streamed ranking only)
    selection: Scenarios | None  # plans are chosen on these (None without a budget)
    plan: Plan | None
    problem: PlanningProblem | None
    error: str | None = None  # why there is no plan: no budget, infeasible constraints, solver limits
    failure: Exception | None = None  # the exception behind `error`, for front ends that re-raise it
    seconds: dict[str, float] = field(default_factory=dict)


class LiveEngine:
    """The pipeline, with caches: recomputes outcomes for changing settings, reusing every draw
    and plan it can. `workbench.run` is one call of a fresh engine, so both give the same numbers."""

    def __init__(self, portfolio: Portfolio, *, cache_bytes: int = 256 << 20, cache_plans: int = 256):
        self.portfolio = portfolio
        self.blocks = blocks(portfolio)
        self._draws: OrderedDict = OrderedDict()
        self._results: OrderedDict = OrderedDict()
        self._plans: OrderedDict = OrderedDict()
        # Draws are bounded by memory (kept up to `cache_bytes`), the rest by count: a result
        # holds the score matrix, a plan entry only its selection.
        self.cache_bytes = cache_bytes
        self._limits = {"draws": None, "results": 2, "plans": cache_plans}
        self._draw_bytes = 0
        self._lock = threading.RLock()

    def clear_cache(self) -> None:
        """Forget every cached draw, ranking and plan (e.g. to measure a cold recomputation)."""
        with self._lock:
            for store in (self._draws, self._results, self._plans):
                store.clear()
            self._draw_bytes = 0

    # --- the fast path: the ranking and the plan -----------------------------------------------

    def run(self, settings: Settings, *, plan: bool = True, progress: Progress | None = None) -> Outcome:
        """The ranking and (with a budget, unless plan=False) the recommended plan.

        Raises InputError for settings that do not fit the portfolio; infeasible constraints are
        not an error here but the outcome's `error`. `progress(done, total)` follows a streamed ranking."""
        seconds = {}
        t0 = time.perf_counter()
        s = settings.for_portfolio(self.portfolio, plan=plan)  # limits checked before any draw
        applied = apply_settings(self.portfolio, s)
        eval_keys = self._keys(applied, s, "evaluation", s.samples)
        want_plan = plan and s.budget is not None
        streamed = (s.method != "mc" or s.precision is not None  # the ranking comes from `simulate`
                    or len(applied) * s.samples > min(KEEP_SCORES_LIMIT, limits.MAX_HELD_VALUES))
        # The plan does not depend on the ranking, so its solves run on other cores meanwhile: the
        # point-estimate plan needs no draws, the chosen plan only the (small) selection draws.
        # The caller's context goes along: a dashboard worker's solve time cap holds in the pool too.
        planning = self._start_plan(applied, s) if want_plan else None
        evaluation = value_t = effort_t = None
        if want_plan or not streamed:  # a streamed ranking alone needs no draws held in memory
            value_t, effort_t = self._draw(applied, eval_keys, s, "evaluation", s.samples)
            evaluation = Scenarios(applied, value_t.T, effort_t.T, s.seed, "mc", s.confidence_mode,
                                   s.spread_mapping, "evaluation")
        seconds["draws"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        # A large portfolio counts only the ranks top k needs (`kept_ranks`), so their number is part of the key.
        rank_key = (eval_keys, s.method, s.precision, s.max_samples, s.top_k if streamed else None,
                    kept_ranks(len(applied), s.top_k))
        result = self._cached("results", rank_key,
                              lambda: self._rank(applied, value_t, effort_t, s, streamed, progress))
        result = replace(result, portfolio=applied)
        seconds["ranking"] = time.perf_counter() - t1
        best, problem, failure, selection = None, None, None, None
        if planning is not None:
            best, problem, failure, selection, seconds["plan"] = self._finish_plan(planning, evaluation, s)
        elif plan:
            failure = InputError("budget: a budget is needed to choose a plan")
        seconds["total"] = time.perf_counter() - t0
        return Outcome(s, applied, result, evaluation, selection, best, problem,
                       None if failure is None else str(failure), failure, seconds)

    # --- the roadmap (`workbench.roadmap_pipeline`) -------------------------------------------------

    def roadmap(self, settings: Settings, *, start: int | None = None):
        """The roadmap across quarters of `settings` (see `workbench.roadmap`), reusing cached draws and solves."""
        from .roadmap_pipeline import roadmap_result

        return roadmap_result(self, settings, start=start)

    def scenarios(self, settings: Settings, purpose: str) -> Scenarios:
        """The evaluation (`samples` rows) or selection (`scenarios` rows) draws of checked settings,
        with their edits applied, from the cache when it has them."""
        applied = apply_settings(self.portfolio, settings)
        rows = settings.samples if purpose == "evaluation" else settings.scenarios
        value_t, effort_t = self._draw(applied, self._keys(applied, settings, purpose, rows), settings, purpose, rows)
        return Scenarios(applied, value_t.T, effort_t.T, settings.seed, "mc", settings.confidence_mode,
                         settings.spread_mapping, purpose)

    def remember(self, key, compute: Callable):
        """compute(), or its value cached under `key` with the plans (a solve the caller names)."""
        return self._cached("plans", key, compute)

    def _keys(self, applied: Portfolio, s: Settings, purpose: str, rows: int) -> tuple:
        """One cache key per block: everything its draws depend on."""
        spread = s.spread if s.confidence_mode == "spread" else None
        keys = []
        for block in self.blocks:
            members = tuple((applied.initiatives[i].id, *(applied.initiatives[i].estimate(f) for f in FACTORS))
                            for i in block)
            ids = {m[0] for m in members}
            corr = tuple(c for c in applied.correlations if c.a[0] in ids)
            keys.append((purpose, members, corr, s.confidence_mode, spread, s.seed, rows))
        return tuple(keys)

    def _draw(self, applied: Portfolio, keys: tuple, s: Settings, purpose: str,
              rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Value and effort, initiatives x rows, drawing only the blocks not in the cache."""
        def draw(block):
            return draw_block(applied, block, rows, s.seed, purpose, s.confidence_mode, s.spread_mapping)

        missing = [(block, key) for block, key in zip(self.blocks, keys) if key not in self._draws]
        if len(missing) > 1:
            # numpy's generators release the GIL while filling arrays, and each block has its own
            # stream, so blocks drawn on several threads give exactly the same numbers.
            for (_, key), draws in zip(missing, _pool().map(lambda item: draw(item[0]), missing)):
                self._cached("draws", key, lambda draws=draws: draws)
        n = len(applied)
        value_t, effort_t = np.empty((n, rows)), np.empty((n, rows))
        for block, key in zip(self.blocks, keys):
            value_t[block], effort_t[block] = self._cached("draws", key, lambda block=block: draw(block))
        return value_t, effort_t

    def _rank(self, applied: Portfolio, value_t: np.ndarray | None, effort_t: np.ndarray | None, s: Settings,
              streamed: bool, progress: Progress | None) -> SimulationResult:
        if streamed:
            # --precision samples until reached or max_samples, and never past the work limit.
            most = max(s.samples, min(s.max_samples, limits.MAX_DRAWS // len(applied)))
            return simulate(applied, s.samples, s.seed, s.method, s.confidence_mode, spread=s.spread_mapping,
                            precision=s.precision, top_k=s.top_k, max_samples=most, progress=progress)
        may_tie = PortfolioModel(applied, s.confidence_mode, s.spread_mapping).may_tie
        return summarize_scores(applied, value_t / effort_t, s.seed, s.confidence_mode, may_tie, top_k=s.top_k)

    def _start_plan(self, applied: Portfolio, s: Settings) -> tuple:
        """Draw the selection scenarios and start the two solves of the plan on the pool: the
        chosen plan (on the selection) and the point-estimate plan (for VSS). Returns what
        `_finish_plan` needs; an error building the problem is kept for it."""
        t0 = time.perf_counter()
        sel_keys = self._keys(applied, s, "selection", s.scenarios)
        chosen = point = failure = None
        try:
            problem = planning_problem(applied, s)
        except InputError as exc:  # Infeasible names its cause
            problem, failure = None, exc
        if problem is not None:
            # The point-estimate plan depends on the estimates and the problem's arrays (efforts at
            # the planning quantile move with the spread mapping), not on the draws.
            point_key = ("point", tuple(key[1] for key in sel_keys), s.confidence_mode, problem.effort_q.tobytes(),
                         problem.cost.tobytes(), problem.must.tobytes(), problem.wont.tobytes(), s.budget,
                         s.capacities, s.theme_shares, s.max_count, s.time_limit)
            point = _pool().submit(contextvars.copy_context().run, self._cached, "plans", point_key,
                                   lambda: point_estimate_selection(problem, s.confidence_mode,
                                                                    time_limit=s.time_limit))
        sv, se = self._draw(applied, sel_keys, s, "selection", s.scenarios)
        selection = Scenarios(applied, sv.T, se.T, s.seed, "mc", s.confidence_mode, s.spread_mapping, "selection")
        if problem is not None:
            risk = s.objective != "mean"  # alpha and lambda change the mean-optimal plan not at all
            plan_key = (sel_keys, s.budget, s.budget_column, s.capacities, s.theme_shares, s.max_count,
                        s.effort_quantile, s.objective, s.alpha if risk else None,
                        s.lam if s.objective == "blend" else None, s.overrides, s.time_limit)
            chosen = _pool().submit(contextvars.copy_context().run, self._cached, "plans", plan_key,
                                    lambda: _choose(problem, selection, s))
        return problem, selection, chosen, point, failure, t0

    def _finish_plan(self, planning: tuple, evaluation: Scenarios, s: Settings) -> tuple:
        """(plan, problem, failure, selection, seconds): the recommended plan valued on the
        evaluation draws with its baselines and VSS, or why there is none."""
        problem, selection, chosen, point, failure, t0 = planning
        best = None
        if failure is None:
            try:
                funded, status, gap = chosen.result()
                best = Plan(funded, evaluation, problem, "optimal", s.objective, s.alpha,
                            s.lam if s.objective == "blend" else None, status, gap, selection=selection)
                planned = [ini.planned for ini in problem.portfolio]
                current = np.isin(problem.ids, s.plan) if s.plan else np.array(planned)
                best = add_baselines(best, current)
            except (InputError, SolverError) as exc:  # Infeasible is an InputError naming its cause
                best, failure = None, exc
            try:
                point_selection = point.result()  # waited for even without a plan: nothing left running
                if best is not None:
                    best = attach_vss(best, point_selection)
            except (InputError, SolverError):  # no VSS (the views then say nothing of it) rather than no plan
                pass
        return best, problem, failure, selection, time.perf_counter() - t0

    def _cached(self, cache: str, key, compute):
        """The cached value for key, else compute() (outside the lock) and keep it. The lock makes
        the caches safe for the dashboard's threads and a notebook calling the engine at once."""
        store = getattr(self, f"_{cache}")
        with self._lock:
            if key in store:
                store.move_to_end(key)
                return store[key]
        value = compute()
        with self._lock:
            if key in store:  # another thread computed it meanwhile: keep one copy
                return store[key]
            store[key] = value
            if cache == "draws":
                # Always keep the newest entries a full portfolio needs, even above the byte budget.
                self._draw_bytes += value[0].nbytes + value[1].nbytes
                while self._draw_bytes > self.cache_bytes and len(store) > 2 * len(self.blocks):
                    v, e = store.popitem(last=False)[1]
                    self._draw_bytes -= v.nbytes + e.nbytes
            else:
                while len(store) > self._limits[cache]:
                    store.popitem(last=False)
        return value


# --- the public functions ------------------------------------------------------------------------


def run(portfolio: Portfolio, settings: Settings | None = None, *, plan: bool = True, **changes) -> Outcome:
    """The ranking and the recommended plan of `portfolio` under `settings` (with `changes`)."""
    settings = settings or Settings()
    if changes:
        settings = settings.change(**changes)
    return LiveEngine(portfolio).run(settings, plan=plan)


def roadmap(portfolio: Portfolio, settings: Settings | None = None, *, start: int | None = None, **changes):
    """The roadmap across quarters: when to start each initiative, how likely each lands on time
    and what the slips cost (`workbench.roadmap_pipeline`). start: the whole-number quarter the
    default horizon starts at (`model.quarters`; default the quarter after today)."""
    settings = settings or Settings()
    if changes:
        settings = settings.change(**changes)
    return LiveEngine(portfolio).roadmap(settings, start=start)


def planning_problem(portfolio: Portfolio, s: Settings) -> PlanningProblem:
    """The constraints of the settings as arrays over the portfolio's initiatives (efforts at the
    settings' planning quantile); raises InputError (Infeasible) naming why no plan can exist."""
    constraints = Constraints(float(s.budget), s.capacity, s.theme_share, s.max_count, s.effort_quantile,
                              s.budget_column)
    effort = effort_quantiles(portfolio, s.effort_quantile, s.confidence_mode, s.spread_mapping)
    return PlanningProblem(portfolio, constraints, effort)


def check_plan(portfolio: Portfolio, settings: Settings) -> None:
    """Raise InputError (Infeasible) when the constraints of `settings` (already checked by
    `for_portfolio(portfolio, need_budget=True)`) admit no plan for the portfolio (must-haves over
    the budget, a dependency cycle, ...): no draws, no solver."""
    planning_problem(apply_settings(portfolio, settings), settings)


def _choose(problem: PlanningProblem, selection: Scenarios, s: Settings) -> tuple:
    """(funded mask, solver status, gap) of the best plan on the selection scenarios."""
    sol = solve(problem, selection, s.objective, alpha=s.alpha, lam=s.lam, time_limit=s.time_limit)
    if not sol.has_plan():
        raise explain_infeasible(problem, selection, s.time_limit)
    return sol.funded, sol.status, sol.gap


def _need_plan(outcome: Outcome) -> Plan:
    if outcome.plan is None:
        raise InputError(f"there is no plan to analyze: {outcome.error}")
    return outcome.plan


def frontier(outcome: Outcome, *, progress: Progress | None = None, executor=None) -> Frontier:
    """Expected value vs CVaR of every non-dominated plan, chosen on the selection scenarios and
    valued on the evaluation draws, like the recommended plan. The recommended plan is always among
    the plans, as `recommended`, even when frontier plans beat it as evaluated: `beats` names them
    (the selection scenarios then disagree with the evaluation), nothing is hidden.
    executor: where the independent solves run (`workbench.tasks.run_tasks`: the value range is then
    scanned in segments, `planning.frontier`); None: here."""
    plan, s = _need_plan(outcome), outcome.settings
    front = frontier_of(outcome.problem, outcome.selection, max_solves=s.frontier_points, alpha=s.alpha,
                        time_limit=s.time_limit, progress=progress, evaluate_on=outcome.evaluation,
                        executor=executor)
    # One copy of the recommended plan (it may be on the frontier), kept whatever beats it.
    others = [p for p in front.plans if not np.array_equal(p.funded, plan.funded)]
    kept = [p for p in non_dominated([*others, plan]) if p is not plan]
    plans = sorted([*kept, plan], key=lambda p: (p.expected_value, -p.cvar))
    return Frontier(plans, recommended=plan, solves=front.solves, complete=front.complete)


def optimality_gap(outcome: Outcome, replications: int = 10, *, progress: Progress | None = None,
                   executor=None) -> OptimalityGap:
    """The optimality gap of the recommended plan (Mak, Morton & Wood 1999): `replications` more
    selection sets like the plan's (same seed, confidence mode, spread and scenario count, each on
    its own stream) are solved under the settings' objective; the mean of their optima bounds the
    best plan's objective from above, the plan's objective on the evaluation draws from below.
    executor: where the replications run, one task each (`workbench.tasks.run_tasks`); None: here."""
    plan, s = _need_plan(outcome), outcome.settings
    draws = ReplicationDraws(outcome.portfolio, s.scenarios, s.seed, s.confidence_mode, s.spread_mapping)
    return plan_quality.optimality_gap(plan, draws, replications, time_limit=s.time_limit, progress=progress,
                                       executor=executor)


def sweep_budgets(settings: Settings) -> np.ndarray:
    """The budgets of the sweep: `budget_range`, else 50% to 150% of the budget in 11 steps."""
    if settings.budget_range:
        return budget_range(settings.budget_range)
    return np.linspace(0.5, 1.5, 11) * settings.budget


def sweep(outcome: Outcome, budgets=None, *, progress: Progress | None = None, executor=None) -> pd.DataFrame:
    """The optimal plan at each budget under the settings' objective, valued on the evaluation draws.
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here."""
    _need_plan(outcome)
    s = outcome.settings
    return budget_sweep(outcome.problem, outcome.selection, sweep_budgets(s) if budgets is None else budgets,
                        objective=s.objective, alpha=s.alpha, lam=s.lam, time_limit=s.time_limit,
                        progress=progress, evaluate_on=outcome.evaluation, executor=executor)


def analyses(outcome: Outcome, *, budget_sweep: bool = False, split: bool = False, tornado: bool = False,
             sobol: bool = False, voi: bool = False, progress: Progress | None = None,
             executor=None) -> SensitivityReport:
    """The analyses asked for, of the recommended plan: plans are re-chosen on the selection
    scenarios and valued on the evaluation draws; the tornado, Sobol indices and the value of
    information work on the selection scenarios. executor: where the sweeps' and the value of
    information's independent solves run (`workbench.tasks.run_tasks`); None: here."""
    plan, s = _need_plan(outcome), outcome.settings
    on_selection = Plan(plan.funded, outcome.selection, plan.problem, plan.label, plan.objective, plan.alpha, plan.lam)
    return analyze(on_selection, budgets=sweep_budgets(s) if budget_sweep else None,
                   split=s.split if split else None, tornado=tornado, sobol=sobol, voi=voi, seed=s.seed,
                   progress=progress, evaluate_on=outcome.evaluation, time_limit=s.time_limit, executor=executor)


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One small thread pool per process, for draws and the plan beside the ranking."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=max(4, min(8, os.cpu_count() or 1)),
                                            thread_name_prefix="workbench-engine"))
        return _POOL[0]

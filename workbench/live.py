"""The live engine behind the dashboard: recompute only what an assumption change affects.

Draws are cached per block of initiatives (one initiative, or the initiatives that correlations
tie together), each block on its own random stream derived from the seed and its ids. Editing an
initiative redraws its block only; every other initiative keeps its exact samples (common random
numbers), so what moves on screen is the edit, not Monte Carlo noise. A budget, capacity,
override or risk change reuses every draw and re-solves the plan only.

    engine = LiveEngine(portfolio)
    outcome = engine.run(Assumptions.default_for(portfolio))
    outcome.result.summary(), outcome.plan.metrics()
"""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from .assumptions import Assumptions, apply_assumptions
from .constraints import PlanningProblem
from .errors import InputError
from .estimates import FACTORS
from .optimization import Frontier, SolverError, frontier_of, non_dominated, optimize
from .plans import Plan, add_baselines
from .portfolio import Portfolio
from .results import SimulationResult
from .scenarios import Scenarios
from .sensitivity import SensitivityReport, analyze, budget_sweep
from .simulation import PortfolioModel, summarize_scores

Progress = Callable[[int, int], None]


@dataclass(eq=False)
class Outcome:
    """What one set of assumptions gives: scores and ranks, and the recommended plan (or why not)."""

    assumptions: Assumptions
    portfolio: Portfolio  # with the edits and overrides applied
    result: SimulationResult
    scenarios: Scenarios  # every sample; plans are evaluated on all of them
    plan: Plan | None
    problem: PlanningProblem | None
    error: str | None = None  # why there is no plan: infeasible constraints, solver limits
    seconds: dict[str, float] = field(default_factory=dict)


class LiveEngine:
    """Recomputes outcomes for changing assumptions, reusing every draw and plan it can.

    risk_scenarios: the CVaR and blend objectives are solved on the first this many samples
        (a MILP with one variable per scenario) and evaluated on all of them.
    analysis_scenarios: samples used by the frontier, the budget sweep under a risk objective,
        and the heavy analyses (tornado, Sobol, value of information).
    """

    def __init__(self, portfolio: Portfolio, *, risk_scenarios: int = 1000, analysis_scenarios: int = 500,
                 time_limit: float = 20.0, cache_bytes: int = 256 << 20, cache_plans: int = 256):
        self.portfolio = portfolio
        self.risk_scenarios, self.analysis_scenarios = risk_scenarios, analysis_scenarios
        self.time_limit = time_limit
        self.blocks = _blocks(portfolio)
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

    # --- the fast path: one control change -------------------------------------------------------

    def run(self, a: Assumptions) -> Outcome:
        """Scores, ranks and the recommended plan under `a`. Raises InputError for bad assumptions;
        infeasible constraints are not an error here but the outcome's `error`."""
        seconds = {}
        t0 = time.perf_counter()
        applied = apply_assumptions(self.portfolio, a)
        keys = tuple(self._block_key(applied, block, a) for block in self.blocks)
        value_t, effort_t = self._draw(applied, keys, a)
        t1 = time.perf_counter()
        seconds["draws"] = t1 - t0
        sc = Scenarios(applied, value_t.T, effort_t.T, a.seed, "mc", a.confidence_mode, a.spread_mapping)
        # The plan does not depend on the ranking: solve it on another core meanwhile.
        planned = _pool().submit(self._plan, applied, keys, sc, a)
        result = self._cached("results", keys, lambda: self._rank(applied, value_t, effort_t, a))
        result = replace(result, portfolio=applied)
        seconds["ranking"] = time.perf_counter() - t1
        plan, problem, error, seconds["plan"] = planned.result()
        seconds["total"] = time.perf_counter() - t0
        return Outcome(a, applied, result, sc, plan, problem, error, seconds)

    def _plan(self, applied: Portfolio, keys: tuple, sc: Scenarios, a: Assumptions):
        """(plan, problem, error, seconds): the recommended plan, or why there is none."""
        t0 = time.perf_counter()
        plan, problem, error = None, None, None
        risk = a.objective != "mean"  # alpha and lambda change the mean-optimal plan not at all
        plan_key = (keys, a.budget, a.capacities, a.objective, a.alpha if risk else None,
                    a.lam if a.objective == "blend" else None, a.overrides, self.risk_scenarios)
        try:
            solution = self._cached("plans", plan_key, lambda: self._solve(applied, sc, a))
            plan = self._evaluate(solution, sc, a)
            problem = plan.problem
        except (InputError, SolverError) as exc:  # Infeasible is an InputError naming its cause
            error = str(exc)
        return plan, problem, error, time.perf_counter() - t0

    def _block_key(self, applied: Portfolio, block: list[int], a: Assumptions) -> tuple:
        members = tuple((applied.initiatives[i].id, *(applied.initiatives[i].estimate(f) for f in FACTORS))
                        for i in block)
        ids = {m[0] for m in members}
        corr = tuple(c for c in applied.correlations if c.a[0] in ids)
        spread = a.spread if a.confidence_mode == "spread" else None
        return members, corr, a.confidence_mode, spread, a.seed, a.samples

    def _draw(self, applied: Portfolio, keys: tuple, a: Assumptions) -> tuple[np.ndarray, np.ndarray]:
        """Value and effort, initiatives x samples, drawing only the blocks not in the cache."""
        missing = [(block, key) for block, key in zip(self.blocks, keys) if key not in self._draws]
        if len(missing) > 1:
            # numpy's generators release the GIL while filling arrays, and each block has its own
            # stream, so blocks drawn on several threads give exactly the same numbers.
            drawn = _pool().map(lambda item: _draw_block(applied, item[0], a), missing)
            for (block, key), draws in zip(missing, drawn):
                self._cached("draws", key, lambda draws=draws: draws)
        n = len(applied)
        value_t, effort_t = np.empty((n, a.samples)), np.empty((n, a.samples))
        for block, key in zip(self.blocks, keys):
            value_t[block], effort_t[block] = self._cached("draws", key, lambda: _draw_block(applied, block, a))
        return value_t, effort_t

    def _rank(self, applied: Portfolio, value_t: np.ndarray, effort_t: np.ndarray, a: Assumptions) -> SimulationResult:
        tie_rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(a.seed, spawn_key=(1,))))
        may_tie = PortfolioModel(applied, a.confidence_mode, a.spread_mapping).may_tie
        return summarize_scores(applied, value_t / effort_t, a.seed, a.confidence_mode, tie_rng, may_tie)

    def _solve(self, applied: Portfolio, sc: Scenarios, a: Assumptions) -> tuple:
        """(selection, problem, solver status, gap): what the plan cache keeps."""
        solve_on = sc if a.objective == "mean" else _head(sc, self.risk_scenarios)
        best = optimize(applied, a.budget, a.objective, alpha=a.alpha, lam=a.lam, scenarios=solve_on,
                        capacities=a.capacity, time_limit=self.time_limit, plan=[])
        return best.x, best.problem, best.status, best.gap

    def _evaluate(self, solution: tuple, sc: Scenarios, a: Assumptions) -> Plan:
        """The plan on every sample, compared with greedy-by-RICE and the current plan (if any)."""
        x, problem, status, gap = solution
        plan = Plan(x, sc, problem, "optimal", a.objective, a.alpha, a.lam if a.objective == "blend" else None,
                    status, gap)
        return add_baselines(plan, np.array([ini.planned for ini in problem.portfolio]))

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
                while self._draw_bytes > self.cache_bytes and len(store) > len(self.blocks):
                    v, e = store.popitem(last=False)[1]
                    self._draw_bytes -= v.nbytes + e.nbytes
            else:
                while len(store) > self._limits[cache]:
                    store.popitem(last=False)
        return value

    # --- slower views, run after the fast path ---------------------------------------------------

    def frontier(self, outcome: Outcome, *, points: int = 6, progress: Progress | None = None) -> Frontier:
        """Expected value vs CVaR of the non-dominated plans, solved on `analysis_scenarios`
        samples and evaluated on all of them, like the recommended plan."""
        a, sc = outcome.assumptions, outcome.scenarios
        front = frontier_of(outcome.problem, _head(sc, self.analysis_scenarios), points=points, alpha=a.alpha,
                            time_limit=self.time_limit, progress=progress, evaluate_on=sc)
        # Solved on fewer samples, a frontier plan can be beaten by the recommended plan on all of
        # them: the recommended plan is a candidate too, so the frontier shown is never dominated.
        candidates = front.plans if outcome.plan is None else [*front.plans, outcome.plan]
        return Frontier(non_dominated(candidates))

    def budget_sweep(self, outcome: Outcome, budgets=None, *, progress: Progress | None = None) -> pd.DataFrame:
        """The optimal plan's value from half to one and a half times the budget (11 budgets)."""
        a = outcome.assumptions
        if budgets is None:
            budgets = np.linspace(0.5 * a.budget, 1.5 * a.budget, 11)
        sc = outcome.scenarios if a.objective == "mean" else _head(outcome.scenarios, self.analysis_scenarios)
        return budget_sweep(outcome.problem, sc, budgets, objective=a.objective, alpha=a.alpha, lam=a.lam,
                            time_limit=self.time_limit, progress=progress, evaluate_on=outcome.scenarios)

    def analyze(self, outcome: Outcome, *, tornado: bool = True, sobol: bool = True, voi: bool = True,
                progress: Progress | None = None) -> SensitivityReport:
        """The heavy analyses of the recommended plan, on `analysis_scenarios` samples."""
        if outcome.plan is None:
            raise ValueError(f"there is no plan to analyze: {outcome.error}")
        a, plan = outcome.assumptions, outcome.plan
        on = Plan(plan.x, _head(outcome.scenarios, self.analysis_scenarios), plan.problem, plan.label,
                  plan.objective, plan.alpha, plan.lam)
        return analyze(on, tornado=tornado, sobol=sobol, voi=voi, seed=a.seed, progress=progress)


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """One small thread pool per process, for draws and the plan beside the ranking."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 1)),
                                            thread_name_prefix="workbench-engine"))
        return _POOL[0]


def _head(sc: Scenarios, rows: int) -> Scenarios:
    """The first `rows` samples (a view): the draws are independent, so any prefix is a fair sample."""
    return sc if sc.count <= rows else replace(sc, value=sc.value[:rows], effort=sc.effort[:rows])


def _blocks(portfolio: Portfolio) -> list[list[int]]:
    """Groups of initiative indices tied by correlations (connected components), in portfolio order."""
    parent = list(range(len(portfolio)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for c in portfolio.correlations:
        parent[root(portfolio.index(c.a[0]))] = root(portfolio.index(c.b[0]))
    groups: dict[int, list[int]] = {}
    for i in range(len(portfolio)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _draw_block(applied: Portfolio, block: list[int], a: Assumptions) -> tuple[np.ndarray, np.ndarray]:
    """Value and effort of one block, block-size x samples, on the block's own random stream."""
    members = [replace(applied.initiatives[i], depends_on=(), excludes=()) for i in block]
    ids = {m.id for m in members}
    sub = Portfolio(tuple(members), tuple(c for c in applied.correlations if c.a[0] in ids))
    stream = zlib.crc32("\x1f".join(sorted(ids)).encode())
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(a.seed, spawn_key=(2, stream))))
    model = PortfolioModel(sub, a.confidence_mode, a.spread_mapping)
    return model.value_and_effort(a.samples, rng, None)

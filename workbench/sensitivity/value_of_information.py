"""Value of information for the funding decision: EVPI and per-initiative EVPPI on the scenario matrix.

The prior-optimal plan x* is chosen on one set of scenarios and valued, against the per-scenario
optima, on another (`evaluate_on`, or the held-out half of the scenarios): valued on the scenarios
that chose it, x* looks better than it is (the optimizer's curse) and EVPI comes out too small.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.scenarios import Scenarios, sample_scenarios
from ..errors import InputError, Problem
from ..model.portfolio import Portfolio
from ..planning.constraints import PlanningProblem
from ..planning.optimization import explain_infeasible, scenarios_and_problem, solve
from ..planning.plans import mean_standard_error
from ..rng import stream
from ..tasks import run_tasks
from .one_at_a_time import VALUE_FACTORS

ENUMERATE_LIMIT = 20  # 2^20 candidate plans is the most enumeration may build
_CHUNK = 4_000_000    # values per block of (rows x plans) products
# Objective rows per MILP task: fixed, so that the split of the work (and every count) is the same
# on any number of workers; 25 MILPs outweigh a task's overhead (about 1 ms on dask).
_ROWS_PER_TASK = 25


@dataclass(frozen=True)
class EVPIResult:
    """Expected value of perfect information about every initiative's value.

    value = expected_value_perfect − expected_value_now, with its Monte Carlo standard error; both
    terms are estimated on the same `evaluated_on` scenarios, none of which chose x*.
    """

    value: float
    se: float
    expected_value_now: float      # E[v·x*]: the prior-optimal plan's expected value, out of sample
    expected_value_perfect: float  # E_s[max_x v_s·x]: choosing after the values are known
    scenarios: int                 # scenarios whose per-scenario optimum was computed
    method: str                    # "enumeration" or "milp"
    solves: int                    # MILPs solved
    exact: bool                    # False if a MILP stopped at its time limit (a lower bound was used)
    evaluated_on: str = "evaluation"  # where: "evaluation" (`evaluate_on`) or "held-out half" of the scenarios


# --- the inner optimization: max_x c·x over feasible plans, by enumeration or MILP ----------------


class _Optimizer:
    """max_x c·x over the feasible plans for many objective rows c, optionally with x_i forced in or out.

    Sent to the workers as it is: it keeps one scenario row (a MILP's template), not the matrix."""

    def __init__(self, problem: PlanningProblem, scenarios: Scenarios, enumerate_up_to: int, time_limit: float):
        self.problem, self.time_limit = problem, time_limit
        self.template = scenarios.head(1)
        self.plans = problem.feasible_plans() if len(problem) <= enumerate_up_to else None
        self.method = "milp" if self.plans is None else "enumeration"
        self.solves, self.exact = 0, True
        if self.plans is not None and not len(self.plans):
            raise explain_infeasible(problem, scenarios, time_limit)

    def counting(self) -> _Optimizer:
        """A copy whose solves and exactness count from zero: a task's own, added up by the caller."""
        twin = copy.copy(self)
        twin.solves, twin.exact = 0, True
        return twin

    def best(self, c: np.ndarray, force: tuple[int, bool] | None = None,
             executor=None) -> tuple[np.ndarray, np.ndarray]:
        """Per row of c (rows x initiatives): the best value and a plan reaching it (-inf, no plan if none).
        Enumeration runs here; the MILPs (one per row) run as tasks of _ROWS_PER_TASK rows on `executor`."""
        c = np.atleast_2d(np.asarray(c, float))
        k, n = c.shape
        values, plans = np.full(k, -np.inf), np.zeros((k, n), bool)
        p = self.problem
        if force is not None and (p.wont[force[0]] if force[1] else p.must[force[0]]):
            return values, plans
        if self.plans is not None:
            cand = self.plans if force is None else self.plans[self.plans[:, force[0]] == force[1]]
            if not len(cand):
                return values, plans
            cf = cand.T.astype(float)
            step = max(1, _CHUNK // len(cand))
            for lo in range(0, k, step):
                totals = c[lo:lo + step] @ cf
                arg = totals.argmax(axis=1)
                values[lo:lo + step] = totals[np.arange(arg.size), arg]
                plans[lo:lo + step] = cand[arg]
            return values, plans
        starts = range(0, k, _ROWS_PER_TASK)
        done = run_tasks(_milp_rows, [c[lo:lo + _ROWS_PER_TASK] for lo in starts], shared=(self, force),
                         executor=executor)
        for lo, (v, x, solves, exact) in zip(starts, done):
            values[lo:lo + v.size], plans[lo:lo + v.size] = v, x
            self.solves += solves
            self.exact &= exact
        return values, plans

    def milp(self, c: np.ndarray, force: tuple[int, bool] | None) -> tuple[np.ndarray, np.ndarray]:
        """`best` by one MILP per row of c, counted in solves and exact."""
        k, n = c.shape
        values, plans = np.full(k, -np.inf), np.zeros((k, n), bool)
        forced = self.problem
        if force is not None:
            i, funded = force
            forced = forced.forced(funded=[i]) if funded else forced.forced(unfunded=[i])
        for r in range(k):
            one = dataclasses.replace(self.template, value=c[r:r + 1])
            sol = solve(forced, one, "mean", time_limit=self.time_limit)
            self.solves += 1
            if not sol.has_plan():
                continue
            self.exact &= sol.status == "optimal"
            values[r], plans[r] = c[r] @ sol.funded, sol.funded
        return values, plans


def _milp_rows(opt: _Optimizer, force: tuple[int, bool] | None, c: np.ndarray) -> tuple:
    """One task of `_Optimizer.best`: (values, plans, MILPs solved, all exact) for the rows c."""
    twin = opt.counting()
    values, plans = twin.milp(c, force)
    return values, plans, twin.solves, twin.exact


def _check(problem: PlanningProblem, scenarios: Scenarios, enumerate_up_to: int, time_limit: float) -> list[str]:
    if not isinstance(problem, PlanningProblem):
        raise TypeError(f"problem must be a PlanningProblem (e.g. plan.problem), got {type(problem).__name__}")
    if not isinstance(scenarios, Scenarios):
        raise TypeError(f"scenarios must be a Scenarios (e.g. plan.scenarios), got {type(scenarios).__name__}")
    problems = []
    if scenarios.value.shape[1] != len(problem) or list(scenarios.portfolio.ids) != list(problem.ids):
        problems.append("the scenarios and the planning problem describe different portfolios")
    if not np.isfinite(scenarios.value).all():
        problems.append("the scenario values contain NaN or infinite entries")
    if not 0 <= enumerate_up_to <= ENUMERATE_LIMIT:
        problems.append(f"enumerate_up_to must be between 0 and {ENUMERATE_LIMIT}, got {enumerate_up_to}")
    if not time_limit > 0:
        problems.append(f"the time limit must be > 0 seconds, got {time_limit:g}")
    return problems


def _raise(problems: list[str]) -> None:
    if problems:
        raise InputError([Problem(p) for p in problems])


def _prior_optimum(opt: _Optimizer, mu: np.ndarray, scenarios: Scenarios, executor) -> tuple[float, np.ndarray]:
    value, plan = opt.best(mu, executor=executor)
    if not np.isfinite(value[0]):
        raise explain_infeasible(opt.problem, scenarios, opt.time_limit)
    return float(value[0]), plan[0]


# --- EVPI ---------------------------------------------------------------------------------------


def evpi_of(problem: PlanningProblem, scenarios: Scenarios, *, max_scenarios: int = 500,
            enumerate_up_to: int = 16, time_limit: float = 60.0,
            evaluate_on: Scenarios | None = None, executor=None) -> EVPIResult:
    """EVPI of the expected-value funding decision: E_s[max_x v_s·x] − E[v·x*], x* = argmax_x E[v·x].

    Only value uncertainty is resolved: efforts enter the constraints at their planning
    quantile, so the feasible set is the same in every scenario. The prior optimum x* is chosen
    on `scenarios` and valued on `evaluate_on` (scenarios of the same portfolio from an
    independent stream, e.g. the pipeline's evaluation draws); without it, x* is chosen on a
    random half of `scenarios` and valued on the other half. The per-scenario optima use at most
    `max_scenarios` of the evaluation scenarios (a seeded random subset), each found exactly: by
    enumerating the feasible plans when the portfolio has at most `enumerate_up_to` initiatives,
    else by one MILP per scenario. The standard error is the paired
    sd_s(max_x v_s·x − v_s·x*) / sqrt(scenarios used), on those same scenarios.
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.
    """
    problems = _check(problem, scenarios, enumerate_up_to, time_limit)
    if isinstance(max_scenarios, bool) or not isinstance(max_scenarios, (int, np.integer)) or max_scenarios < 2:
        problems.append(f"max_scenarios must be an integer >= 2, got {max_scenarios!r}")
    if evaluate_on is None and scenarios.count < 4:
        problems.append(f"EVPI needs at least 4 scenarios (half choose the plan, half value it), got {scenarios.count}")
    if evaluate_on is not None:
        problems += [f"evaluate_on: {p}" for p in _check(problem, evaluate_on, 0, 1.0)]
    _raise(problems)
    choose, value_on, where = _split(scenarios, evaluate_on)
    opt = _Optimizer(problem, scenarios, enumerate_up_to, time_limit)
    _, x_star = _prior_optimum(opt, choose.mean(axis=0), scenarios, executor)
    rows = np.arange(value_on.shape[0])
    if rows.size > max_scenarios:
        rows = np.sort(stream(scenarios.seed, "evpi-subset").choice(rows, max_scenarios, replace=False))
    vs = value_on[rows]
    prior = vs @ x_star
    perfect, _ = opt.best(vs, executor=executor)
    gain = np.maximum(perfect, prior) - prior  # x* is feasible: a solver gap never makes the optimum worse
    value, now = float(gain.mean()), float(prior.mean())
    return EVPIResult(value, mean_standard_error(gain), now, now + value, int(rows.size),
                      opt.method, opt.solves, opt.exact, where)


def _split(scenarios: Scenarios, evaluate_on: Scenarios | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(values x* is chosen on, values it is valued on, their name): `scenarios` and `evaluate_on`,
    or a seeded random half of `scenarios` and the other half."""
    if evaluate_on is not None:
        return scenarios.value, evaluate_on.value, evaluate_on.purpose
    order = stream(scenarios.seed, "evpi-subset", "split").permutation(scenarios.count)
    half = scenarios.count // 2
    return scenarios.value[order[:half]], scenarios.value[np.sort(order[half:])], "held-out half"


# --- EVPPI --------------------------------------------------------------------------------------


def value_partners(portfolio: Portfolio) -> list[set[int]]:
    """Per initiative, the others whose value is correlated with its value (a correlation between
    their reach, impact or confidence estimates); effort correlations do not link values."""
    partners: list[set[int]] = [set() for _ in range(len(portfolio))]
    for c in portfolio.correlations:
        (a, fa), (b, fb) = c.a, c.b
        if a != b and fa in VALUE_FACTORS and fb in VALUE_FACTORS and c.rho != 0:
            i, j = portfolio.index(a), portfolio.index(b)
            partners[i].add(j)
            partners[j].add(i)
    return partners


def _bin_edges(x: np.ndarray, k: int) -> np.ndarray:
    """Inner edges of K quantile bins of x; tied values (e.g. the atom at 0 of a failed initiative)
    fall in one bin. A value's bin is `np.searchsorted(edges, value, side="right")`."""
    return np.unique(np.quantile(x, np.linspace(0, 1, k + 1)[1:-1]))


def evppi_of(problem: PlanningProblem, scenarios: Scenarios, *, bins: int | None = None,
             enumerate_up_to: int = 16, time_limit: float = 60.0,
             evaluate_on: Scenarios | None = None, executor=None) -> pd.DataFrame:
    """Per initiative, the expected value of learning its value v_i before committing (EVPPI).

    The decision rules are chosen on `scenarios` and valued on `evaluate_on` (as in `evpi_of`:
    without it, chosen on a random half of `scenarios` and valued on the other half).
    Independent initiative: E[V(x) | v_i] = x_i v_i + Σ_{j≠i} x_j μ_j, so the informed choice is
    between A_i, the best plan with x_i forced in, and B_i, the best without (at most one MILP: the
    other branch is the prior optimum x*): fund A_i iff a_i + v_i > b_i. Initiative correlated with
    others (`value_partners`): E[v_j | v_i] is estimated by binning the choosing scenarios on v_i
    (`bins` quantile bins, default S/50 clipped to 5..20) and a plan is chosen per bin on its
    conditional means (one MILP per bin); the coarsening biases this value down. EVPPI_i is the
    mean over the valuing scenarios of v_s·(informed plan − x*), its se that mean's paired
    standard error. Returns columns id, value, se, p_change (share of valuing scenarios where the
    information changes the plan), correlated_with; sorted by value, largest first. `.attrs` holds
    method, solves, bins, scenarios (valued on) and evaluated_on.
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here.
    """
    problems = _check(problem, scenarios, enumerate_up_to, time_limit)
    if evaluate_on is None and scenarios.count < 4:
        problems.append(f"EVPPI needs at least 4 scenarios (half choose the plans, half value them), "
                        f"got {scenarios.count}")
    if evaluate_on is not None:
        problems += [f"evaluate_on: {p}" for p in _check(problem, evaluate_on, 0, 1.0)]
    choose_count = scenarios.count if evaluate_on is not None else scenarios.count // 2
    if bins is None:
        bins = int(np.clip(choose_count // 50, 5, 20))
    elif isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= choose_count // 2:
        problems.append(f"bins must be an integer from 2 to half the scenarios that choose the plans "
                        f"({choose_count // 2}), got {bins!r}")
    _raise(problems)
    choose, value_on, where = _split(scenarios, evaluate_on)
    opt = _Optimizer(problem, scenarios, enumerate_up_to, time_limit)
    mu = choose.mean(axis=0)
    _, x_star = _prior_optimum(opt, mu, scenarios, executor)
    partners = value_partners(problem.portfolio)
    # The solves, one task per initiative; the labels and gains on the valuing scenarios, here.
    informed = run_tasks(_informed, range(len(problem)), shared=(opt, choose, mu, x_star, partners, bins),
                         executor=executor)
    rows = []
    for i, (plans, rule, solves, exact) in enumerate(informed):
        opt.solves += solves
        opt.exact &= exact
        label = _labels(rule, value_on[:, i])
        # v_s·(plan_s − x*): only the initiatives some plan changes enter the product
        delta = plans.astype(float) - x_star
        moved = delta.any(axis=0)
        gain = (value_on[:, moved] @ delta[:, moved].T)[np.arange(label.size), label]
        changed = delta.any(axis=1)[label]
        rows.append({"id": problem.ids[i], "value": float(gain.mean()),
                     "se": mean_standard_error(gain), "p_change": float(changed.mean()),
                     "correlated_with": ";".join(problem.ids[j] for j in sorted(partners[i]))})
    frame = pd.DataFrame(rows, columns=["id", "value", "se", "p_change", "correlated_with"])
    frame = frame.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs.update(method=opt.method, solves=opt.solves, bins=bins, scenarios=int(value_on.shape[0]),
                       evaluated_on=where)
    return frame


def _informed(opt: _Optimizer, choose: np.ndarray, mu: np.ndarray, x_star: np.ndarray, partners: list[set[int]],
              bins: int, i: int) -> tuple:
    """One EVPPI task: the plans learning v_i chooses among, the rule choosing by v_i (`_labels`),
    and the MILPs it solved (their count, whether all were exact)."""
    twin = opt.counting()
    if partners[i]:
        plans, rule = _binned(twin, choose, mu, x_star, i, sorted(partners[i] | {i}), bins)
    else:
        plans, rule = _exact(twin, mu, x_star, i)
    return plans, rule, twin.solves, twin.exact


def _labels(rule: tuple, v: np.ndarray) -> np.ndarray:
    """Which of the informed plans each valuing scenario takes, by its v_i: ("branch", a, b) takes
    A_i (1) iff a + v_i > b, else B_i (0); ("bins", edges) takes the plan of v_i's bin."""
    if rule[0] == "branch":
        _, a, b = rule
        return (a + v > b).astype(int)  # a branch without any plan is -inf and never taken
    return np.searchsorted(rule[1], v, side="right")


def _exact(opt: _Optimizer, mu: np.ndarray, x_star: np.ndarray, i: int) -> tuple[np.ndarray, tuple]:
    """(plans [B_i, A_i], rule) of learning independent v_i: A_i or B_i, by v_i."""
    c = mu.copy()
    c[i] = 0.0
    rest = float(c @ x_star)
    if x_star[i]:
        (b,), (xb,) = opt.best(c, force=(i, False))
        a, xa = rest, x_star
    else:
        (a,), (xa,) = opt.best(c, force=(i, True))
        b, xb = rest, x_star
    return np.array([xb, xa]), ("branch", a, b)


def _binned(opt: _Optimizer, choose: np.ndarray, mu: np.ndarray, x_star: np.ndarray, i: int, group: list[int],
            bins: int) -> tuple[np.ndarray, tuple]:
    """(plans, rule) of learning v_i when it informs its partners' values: one plan per bin of v_i,
    chosen on the choosing scenarios' conditional means."""
    edges = _bin_edges(choose[:, i], bins)
    labels = np.searchsorted(edges, choose[:, i], side="right")
    k = edges.size + 1
    counts = np.bincount(labels, minlength=k)
    seen = counts > 0
    c = np.tile(mu, (k, 1))
    for j in group:
        c[seen, j] = np.bincount(labels, weights=choose[:, j], minlength=k)[seen] / counts[seen]
    plans = np.tile(x_star, (k, 1))  # a bin no choosing scenario fell in keeps x*
    best, found = opt.best(c[seen])
    better = best > c[seen] @ x_star  # x* is feasible: a solver gap never makes the informed plan worse
    plans[np.flatnonzero(seen)[better]] = found[better]
    return plans, ("bins", edges)


# --- entry points from a portfolio ---------------------------------------------------------------


def evpi(portfolio: Portfolio, budget: float, *, scenarios: int | Scenarios = 1000, seed: int | None = None,
         max_scenarios: int = 500, enumerate_up_to: int = 16, time_limit: float = 60.0,
         evaluate_on: Scenarios | None = None, executor=None, **constraints) -> EVPIResult:
    """EVPI for a portfolio and budget; `constraints` are optimization.scenarios_and_problem's keywords
    (method, confidence_mode, capacities, theme_shares, max_count, effort_quantile, budget_column, spread).

    The prior-optimal plan is chosen on `scenarios` and valued on `evaluate_on`; by default on
    `max_scenarios` draws of the "evaluation" stream when `scenarios` is a count (drawn alike),
    else on the held-out half of the given scenarios (see `evpi_of`).
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here."""
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, **constraints)
    if evaluate_on is None and not isinstance(scenarios, Scenarios):
        evaluate_on = _evaluation_draws(sc, max_scenarios)
    return evpi_of(problem, sc, max_scenarios=max_scenarios, enumerate_up_to=enumerate_up_to, time_limit=time_limit,
                   evaluate_on=evaluate_on, executor=executor)


def evppi(portfolio: Portfolio, budget: float, *, scenarios: int | Scenarios = 1000, seed: int | None = None,
          bins: int | None = None, enumerate_up_to: int = 16, time_limit: float = 60.0,
          evaluate_on: Scenarios | None = None, executor=None, **constraints) -> pd.DataFrame:
    """Per-initiative EVPPI for a portfolio and budget (see `evppi_of`); keywords as in `evpi`. The
    decision rules are valued on `evaluate_on`; by default on as many draws of the "evaluation"
    stream when `scenarios` is a count, else on the held-out half of the given scenarios.
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here."""
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, **constraints)
    if evaluate_on is None and not isinstance(scenarios, Scenarios):
        evaluate_on = _evaluation_draws(sc, sc.count)
    return evppi_of(problem, sc, bins=bins, enumerate_up_to=enumerate_up_to, time_limit=time_limit,
                    evaluate_on=evaluate_on, executor=executor)


def _evaluation_draws(sc: Scenarios, rows: int) -> Scenarios:
    """`rows` scenarios drawn like `sc` on the independent "evaluation" stream."""
    return sample_scenarios(sc.portfolio, rows, sc.seed, sc.method, sc.confidence_mode, sc.spread,
                            purpose="evaluation")

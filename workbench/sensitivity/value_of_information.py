"""Value of information for the funding decision: EVPI and per-initiative EVPPI on the scenario matrix."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.scenarios import Scenarios
from ..errors import InputError, Problem
from ..model.portfolio import Portfolio
from ..planning.constraints import PlanningProblem
from ..planning.optimization import explain_infeasible, scenarios_and_problem, solve
from ..rng import stream
from .one_at_a_time import VALUE_FACTORS

ENUMERATE_LIMIT = 20  # 2^20 candidate plans is the most enumeration may build
_CHUNK = 4_000_000    # values per block of (rows x plans) products


@dataclass(frozen=True)
class EVPIResult:
    """Expected value of perfect information about every initiative's value.

    value = expected_value_perfect − expected_value_now, with its Monte Carlo standard error.
    """

    value: float
    se: float
    expected_value_now: float      # max_x E[v·x]: the best plan's expected value, on all scenarios
    expected_value_perfect: float  # E_s[max_x v_s·x]: choosing after the values are known
    scenarios: int                 # scenarios whose per-scenario optimum was computed
    method: str                    # "enumeration" or "milp"
    solves: int                    # MILPs solved
    exact: bool                    # False if a MILP stopped at its time limit (a lower bound was used)


# --- the inner optimization: max_x c·x over feasible plans, by enumeration or MILP ----------------


class _Optimizer:
    """max_x c·x over the feasible plans for many objective rows c, optionally with x_i forced in or out."""

    def __init__(self, problem: PlanningProblem, scenarios: Scenarios, enumerate_up_to: int, time_limit: float):
        self.problem, self.scenarios, self.time_limit = problem, scenarios, time_limit
        self.plans = problem.feasible_plans() if len(problem) <= enumerate_up_to else None
        self.method = "milp" if self.plans is None else "enumeration"
        self.solves, self.exact = 0, True
        if self.plans is not None and not len(self.plans):
            raise explain_infeasible(problem, scenarios, time_limit)

    def best(self, c: np.ndarray, force: tuple[int, bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per row of c (rows x initiatives): the best value and a plan reaching it (-inf, no plan if none)."""
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
        forced = p
        if force is not None:
            i, funded = force
            forced = p.forced(funded=[i]) if funded else p.forced(unfunded=[i])
        for r in range(k):
            one = dataclasses.replace(self.scenarios, value=c[r:r + 1], effort=self.scenarios.effort[:1])
            sol = solve(forced, one, "mean", time_limit=self.time_limit)
            self.solves += 1
            if not sol.has_plan():
                continue
            self.exact &= sol.status == "optimal"
            values[r], plans[r] = c[r] @ sol.funded, sol.funded
        return values, plans


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


def _prior_optimum(opt: _Optimizer, mu: np.ndarray) -> tuple[float, np.ndarray]:
    value, plan = opt.best(mu)
    if not np.isfinite(value[0]):
        raise explain_infeasible(opt.problem, opt.scenarios, opt.time_limit)
    return float(value[0]), plan[0]


# --- EVPI ---------------------------------------------------------------------------------------


def evpi_of(problem: PlanningProblem, scenarios: Scenarios, *, max_scenarios: int = 500,
            enumerate_up_to: int = 16, time_limit: float = 60.0) -> EVPIResult:
    """EVPI of the expected-value funding decision: E_s[max_x v_s·x] − max_x E[v·x].

    Only value uncertainty is resolved: efforts enter the constraints at their planning
    quantile, so the feasible set is the same in every scenario. The prior optimum x* uses all
    scenarios; the per-scenario optima use at most `max_scenarios` of them (a seeded random
    subset), each found exactly: by enumerating the feasible plans when the portfolio has at
    most `enumerate_up_to` initiatives, else by one MILP per scenario. The standard error is
    sd_s(max_x v_s·x − v_s·x*) / sqrt(scenarios used).
    """
    problems = _check(problem, scenarios, enumerate_up_to, time_limit)
    if isinstance(max_scenarios, bool) or not isinstance(max_scenarios, (int, np.integer)) or max_scenarios < 2:
        problems.append(f"max_scenarios must be an integer >= 2, got {max_scenarios!r}")
    _raise(problems)
    v = scenarios.value
    opt = _Optimizer(problem, scenarios, enumerate_up_to, time_limit)
    now, x_star = _prior_optimum(opt, v.mean(axis=0))
    rows = np.arange(v.shape[0])
    if rows.size > max_scenarios:
        rows = np.sort(stream(scenarios.seed, "evpi-subset").choice(rows, max_scenarios, replace=False))
    vs = v[rows]
    prior = vs @ x_star
    perfect, _ = opt.best(vs)
    gain = np.maximum(perfect, prior) - prior  # x* is feasible: a solver gap never makes the optimum worse
    value = float(gain.mean())
    return EVPIResult(value, float(gain.std(ddof=1) / np.sqrt(gain.size)), now, now + value, int(rows.size),
                      opt.method, opt.solves, opt.exact)


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


def _bins(x: np.ndarray, k: int) -> np.ndarray:
    """Bin labels 0..K-1 by quantiles of x; tied values (e.g. the atom at 0 of a failed initiative) share a bin."""
    edges = np.unique(np.quantile(x, np.linspace(0, 1, k + 1)[1:-1]))
    _, labels = np.unique(np.searchsorted(edges, x, side="right"), return_inverse=True)
    return labels.ravel()


def evppi_of(problem: PlanningProblem, scenarios: Scenarios, *, bins: int | None = None,
             enumerate_up_to: int = 16, time_limit: float = 60.0) -> pd.DataFrame:
    """Per initiative, the expected value of learning its value v_i before committing (EVPPI).

    Independent initiative: E[V(x) | v_i] = x_i v_i + Σ_{j≠i} x_j μ_j, so the informed optimum is
    max(A_i + v_i, B_i), A_i/B_i the best plan with x_i forced in/out (at most one MILP: the other
    branch is the prior optimum x*); EVPPI_i = mean_s max(A_i + v_si, B_i) − max_x μ·x, exact given
    the scenarios. Initiative correlated with others (`value_partners`): E[v_j | v_i] is estimated
    by binning the scenarios on v_i (`bins` quantile bins, default S/50 clipped to 5..20) and the
    plan is re-optimized on each bin's conditional means (one MILP per bin); this regression
    estimate is biased down by the coarsening and up by the noise of the bin means.
    Standard errors are delta-method (the estimated means' own error included). Returns columns
    id, value, se, p_change (share of scenarios where the information strictly improves the
    plan), correlated_with; sorted by value, largest first. `.attrs` holds method, solves, bins.
    """
    problems = _check(problem, scenarios, enumerate_up_to, time_limit)
    v = scenarios.value
    s, n = v.shape
    if bins is None:
        bins = int(np.clip(s // 50, 5, 20))
    elif isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or not 2 <= bins <= s // 2:
        problems.append(f"bins must be an integer from 2 to half the scenarios ({s // 2}), got {bins!r}")
    _raise(problems)
    opt = _Optimizer(problem, scenarios, enumerate_up_to, time_limit)
    mu = v.mean(axis=0)
    _, x_star = _prior_optimum(opt, mu)
    xs = x_star.astype(float)
    scale = max(float(np.abs(mu).max()), 1e-300)
    partners = value_partners(problem.portfolio)
    rows = []
    for i in range(n):
        if partners[i]:
            gain, h = _binned(opt, v, mu, x_star, i, sorted(partners[i] | {i}), bins)
        else:
            gain, h = _exact(opt, v, mu, x_star, i)
        rows.append({"id": problem.ids[i], "value": float(gain.mean()), "se": float(h.std(ddof=1) / np.sqrt(s)),
                     "p_change": float((gain > 1e-9 * scale * max(xs.sum(), 1)).mean()),
                     "correlated_with": ";".join(problem.ids[j] for j in sorted(partners[i]))})
    frame = pd.DataFrame(rows, columns=["id", "value", "se", "p_change", "correlated_with"])
    frame = frame.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)
    frame.attrs.update(method=opt.method, solves=opt.solves, bins=bins, scenarios=s)
    return frame


def _exact(opt: _Optimizer, v: np.ndarray, mu: np.ndarray, x_star: np.ndarray, i: int):
    """Per-scenario gain and influence values (for the SE) of learning independent v_i."""
    c = mu.copy()
    c[i] = 0.0
    rest = float(c @ x_star)
    if x_star[i]:
        (b,), (xb,) = opt.best(c, force=(i, False))
        a, xa = rest, x_star
    else:
        (a,), (xa,) = opt.best(c, force=(i, True))
        b, xb = rest, x_star
    vi = v[:, i]
    take_a = a + vi > b
    informed = np.where(take_a, a + vi, b)
    gain = np.maximum(informed - (x_star[i] * vi + rest), 0.0)
    # d/dμ_j of mean_s max(A + v_si, B) is the share of scenarios choosing a plan with x_j = 1
    w = take_a.mean() * xa + (1 - take_a.mean()) * xb - x_star
    w[i] = 0.0
    return gain, gain + (v - mu) @ w


def _binned(opt: _Optimizer, v: np.ndarray, mu: np.ndarray, x_star: np.ndarray, i: int, group: list[int],
            bins: int):
    """Per-scenario gain and influence values of learning v_i when it informs its partners' values."""
    labels = _bins(v[:, i], bins)
    k = labels.max() + 1
    counts = np.bincount(labels, minlength=k)
    c = np.tile(mu, (k, 1))
    for j in group:
        c[:, j] = np.bincount(labels, weights=v[:, j], minlength=k) / counts
    best, plans = opt.best(c)
    prior = c @ x_star
    plans[best <= prior] = x_star  # x* is feasible: a solver gap never makes the informed plan worse
    gain = np.maximum(best - prior, 0.0)[labels]
    # influence: bin means of the group move with their own scenarios, the others with the global mean
    w = np.tile(counts @ plans / labels.size, (labels.size, 1))
    w[:, group] = plans[labels][:, group]
    return gain, gain + ((w - x_star) * (v - c[labels])).sum(axis=1)


# --- entry points from a portfolio ---------------------------------------------------------------


def evpi(portfolio: Portfolio, budget: float, *, scenarios: int | Scenarios = 1000, seed: int | None = None,
         max_scenarios: int = 500, enumerate_up_to: int = 16, time_limit: float = 60.0,
         **constraints) -> EVPIResult:
    """EVPI for a portfolio and budget; `constraints` are optimization.scenarios_and_problem's keywords
    (method, confidence_mode, capacities, theme_shares, max_count, effort_quantile, budget_column, spread)."""
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, **constraints)
    return evpi_of(problem, sc, max_scenarios=max_scenarios, enumerate_up_to=enumerate_up_to, time_limit=time_limit)


def evppi(portfolio: Portfolio, budget: float, *, scenarios: int | Scenarios = 1000, seed: int | None = None,
          bins: int | None = None, enumerate_up_to: int = 16, time_limit: float = 60.0,
          **constraints) -> pd.DataFrame:
    """Per-initiative EVPPI for a portfolio and budget (see `evppi_of`); keywords as in `evpi`."""
    sc, problem = scenarios_and_problem(portfolio, budget, scenarios=scenarios, seed=seed, **constraints)
    return evppi_of(problem, sc, bins=bins, enumerate_up_to=enumerate_up_to, time_limit=time_limit)

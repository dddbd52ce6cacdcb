"""Plans: a funded set of initiatives, its value and effort distributions, and comparisons.

Every plan is evaluated on the same scenario matrices (common random numbers), so the
difference between two plans is measured scenario by scenario, with its Monte Carlo error.
Every figure carries a standard error: means and shares directly, CVaR through its influence
function (`cvar_terms`), quantiles through order statistics (`quantile_standard_error`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ..engine.scenarios import Scenarios
from .constraints import PlanningProblem


def cvar(values: np.ndarray, alpha: float) -> float:
    """Mean of the worst alpha fraction of equally likely scenarios (fractional at the boundary).

    This is the Rockafellar-Uryasev value max_eta {eta - E[(eta - V)+] / alpha} of the
    empirical distribution, which the optimizer linearizes.
    """
    v = np.sort(np.asarray(values, float))
    k = alpha * v.size
    whole = int(np.floor(k + 1e-9))
    tail = v[:whole].sum() + (k - whole) * (v[whole] if whole < v.size else 0.0)
    return float(tail / k)


Z = 1.959963984540054  # the normal 97.5% point: every "±" is Z standard errors


def _var_index(size: int, alpha: float) -> int:
    """0-based index, in sorted order, of the empirical alpha-quantile that `cvar` stops at."""
    return int(np.clip(np.ceil(alpha * size - 1e-9) - 1, 0, size - 1))


def cvar_terms(values: np.ndarray, alpha: float) -> np.ndarray:
    """Per-scenario influence terms psi_s = q + min(v_s - q, 0) / alpha of the empirical CVaR.

    q is the empirical alpha-quantile (a maximizer of Rockafellar-Uryasev's eta - E[(eta - V)+]/alpha),
    so mean(psi) equals `cvar(values, alpha)` exactly, and psi is the estimator's influence
    function: sqrt(S) (CVaR_hat - CVaR) -> N(0, Var(psi)) (Trindade, Uryasev, Shapiro & Zrazhevsky
    2007; Hong, Hu & Liu 2014, "Monte Carlo methods for value-at-risk and conditional
    value-at-risk", section 3). Paired differences of these terms give errors of CVaR differences.
    """
    v = np.asarray(values, float)
    q = np.partition(v, _var_index(v.size, alpha))[_var_index(v.size, alpha)]
    return q + np.minimum(v - q, 0.0) / alpha


def cvar_standard_error(values: np.ndarray, alpha: float) -> float:
    """Standard error of the empirical CVaR (`cvar`) from its asymptotic variance Var(psi) / S."""
    return mean_standard_error(cvar_terms(values, alpha))


def quantile_standard_error(values: np.ndarray, q: float) -> float:
    """Distribution-free standard error of the empirical q-quantile, from order statistics.

    The count of draws below the true quantile is Binomial(n, q), so the order statistics of
    ranks n q -/+ Z sqrt(n q (1 - q)) bracket it with 95% probability; se = that interval's
    width / (2 Z). Unlike a density-based formula it stays valid on atoms (e.g. the zeros of
    initiatives that fail), where it gives 0 when the interval sits on the atom.
    """
    v = np.asarray(values, float)
    n = v.size
    half = Z * np.sqrt(n * q * (1 - q))
    lo = int(np.clip(np.floor(n * q - half) - 1, 0, n - 1))  # 1-based ranks -> 0-based indices
    hi = int(np.clip(np.ceil(n * q + half) - 1, 0, n - 1))
    part = np.partition(v, (lo, hi))
    return float((part[hi] - part[lo]) / (2 * Z))


def objective_terms(values: np.ndarray, objective: str | None, alpha: float, lam: float | None) -> np.ndarray:
    """Per-scenario terms whose mean is the objective's value: the values for "mean", the CVaR
    influence terms for "cvar", values + lam * CVaR terms for "blend". Differences of two plans'
    terms on the same scenarios give the paired standard error of their objectives' difference."""
    v = np.asarray(values, float)
    objective = objective or "mean"
    if objective == "mean":
        return v
    if objective == "cvar":
        return cvar_terms(v, alpha)
    if objective == "blend":
        return v + (1.0 if lam is None else lam) * cvar_terms(v, alpha)
    raise ValueError(f"unknown objective {objective!r}; expected mean, cvar or blend")


def mean_standard_error(terms: np.ndarray) -> float:
    """Standard error of the mean of independent per-scenario terms (paired: of their differences)."""
    terms = np.asarray(terms, float)
    return float(terms.std(ddof=1) / np.sqrt(terms.size))


def _share_se(p: float, n: int) -> float:
    return float(np.sqrt(p * (1 - p) / n))


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate and its standard error (its 95% half-width is 1.96 x se)."""

    value: float
    se: float


@dataclass(frozen=True)
class Comparison:
    """How a plan fares against another on the same scenarios."""

    against: str
    expected_gain: float
    gain_se: float
    p_better: float
    p_better_se: float


@dataclass(eq=False)
class Plan:
    """A set of funded initiatives, evaluated on common scenarios.

    funded: boolean mask over the portfolio's initiatives (portfolio order); `selected` lists
    their ids. value and effort: the plan's totals per scenario.
    """

    funded: np.ndarray
    scenarios: Scenarios
    problem: PlanningProblem
    label: str = "plan"
    objective: str | None = None
    alpha: float = 0.1
    lam: float | None = None
    status: str = "evaluated"
    gap: float | None = None
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    greedy: Plan | None = None
    current: Plan | None = None
    point: Plan | None = None  # the plan chosen on point estimates (medians), valued like this one
    vss: Estimate | None = None  # value of the stochastic solution: this plan's objective minus `point`'s
    # The scenarios the plan was chosen on, when its figures come from others (`scenarios`, then
    # independent of the choice); analyses re-choose plans on these (`sensitivity.analyze`).
    selection: Scenarios | None = None

    def __post_init__(self) -> None:
        if np.shape(self.funded) != (len(self.problem),):
            raise ValueError(f"funded must be a mask over the {len(self.problem)} initiatives, "
                             f"got shape {np.shape(self.funded)}")
        self.funded = np.asarray(self.funded, bool)
        self.value = self.scenarios.value @ self.funded
        self.effort = self.scenarios.effort @ self.funded

    @property
    def selected(self) -> list[str]:
        """Ids of the funded initiatives, in portfolio order."""
        return [id_ for id_, on in zip(self.problem.ids, self.funded) if on]

    @property
    def expected_value(self) -> float:
        """Mean total value over the scenarios."""
        return float(self.value.mean())

    @property
    def expected_value_se(self) -> float:
        """Monte Carlo standard error of `expected_value`."""
        return mean_standard_error(self.value)

    @cached_property
    def cvar(self) -> float:
        """Mean value of the worst `alpha` fraction of scenarios."""
        return cvar(self.value, self.alpha)

    @cached_property
    def cvar_se(self) -> float:
        """Monte Carlo standard error of `cvar` (asymptotic variance of the empirical CVaR)."""
        return cvar_standard_error(self.value, self.alpha)

    def quantiles(self) -> tuple[float, float, float]:
        """p10, p50 and p90 of the plan's value."""
        return tuple(float(q) for q in np.quantile(self.value, [0.1, 0.5, 0.9]))

    def quantiles_se(self) -> tuple[float, float, float]:
        """Standard errors of p10, p50 and p90 (order-statistic intervals, valid on atoms)."""
        return tuple(quantile_standard_error(self.value, q) for q in (0.1, 0.5, 0.9))

    @property
    def objective_value(self) -> float:
        """The plan's own objective (mean, CVaR or mean + lam CVaR) on its scenarios."""
        return float(self.objective_terms().mean())

    @property
    def objective_se(self) -> float:
        """Monte Carlo standard error of `objective_value`."""
        return mean_standard_error(self.objective_terms())

    def objective_terms(self) -> np.ndarray:
        """Per-scenario terms whose mean is `objective_value` (for paired differences between plans)."""
        return objective_terms(self.value, self.objective, self.alpha, self.lam)

    @property
    def cost(self) -> float:
        """Budget used, at the effort quantile (or in the cost column)."""
        return float(self.problem.cost[self.funded].sum())

    @property
    def p_overrun(self) -> float | None:
        """P(total effort exceeds the budget); None when the budget is on the cost column."""
        constraints = self.problem.constraints
        if constraints.budget_column != "effort":
            return None
        return float((self.effort > constraints.budget).mean())

    @property
    def p_overrun_se(self) -> float | None:
        """Binomial standard error of `p_overrun` (None when that is None)."""
        p = self.p_overrun
        return None if p is None else _share_se(p, self.effort.size)

    def team_overrun(self) -> dict[str, float]:
        """Per team with a capacity: P(the team's effort exceeds it)."""
        out = {}
        for team, cap in self.problem.constraints.capacities.items():
            mask = self.funded & (self.problem.team == team)
            out[team] = float((self.scenarios.effort[:, mask].sum(axis=1) > cap).mean())
        return out

    def team_overrun_se(self) -> dict[str, float]:
        """Per team with a capacity: the binomial standard error of its overrun probability."""
        return {team: _share_se(p, self.effort.size) for team, p in self.team_overrun().items()}

    def violations(self, by_name: bool = False) -> list[str]:
        """Every rule the plan breaks (empty when it is feasible); by_name: initiatives by name, not id."""
        return self.problem.violations(self.funded, by_name=by_name)

    def compare(self, other: Plan) -> Comparison:
        """Paired, scenario by scenario: expected gain over `other` and P(this plan is worth more)."""
        diff = self.value - other.value
        s = diff.size
        better = (diff > 0).mean() + 0.5 * (diff == 0).mean()
        return Comparison(other.label, float(diff.mean()), mean_standard_error(diff),
                          float(better), float(np.sqrt(better * (1 - better) / s)))

    def to_frame(self) -> pd.DataFrame:
        """The funded initiatives and what each contributes."""
        idx = np.flatnonzero(self.funded)
        p = self.problem
        values = self.scenarios.value[:, idx]
        total = self.expected_value

        def text(cells: list) -> pd.Series:
            # object dtype: pandas >= 3 would infer a string dtype that turns None into NaN (a float).
            return pd.Series(cells, dtype=object)

        return pd.DataFrame({
            "id": [p.ids[i] for i in idx],
            "name": [p.portfolio.initiatives[i].name for i in idx],
            "team": text([p.team[i] or None for i in idx]),
            "theme": text([p.theme[i] or None for i in idx]),
            "moscow": text([p.portfolio.initiatives[i].moscow for i in idx]),
            "effort": p.effort_q[idx],
            "budget_used": p.cost[idx],
            "expected_value": values.mean(axis=0),
            "value_share": values.mean(axis=0) / total if total else np.nan,
            "p_delivers": (values > 0).mean(axis=0),
        }).set_index("id")

    def metrics(self) -> dict:
        """The plan's figures as plain values, for JSON and reports."""
        p10, p50, p90 = self.quantiles()
        p10_se, p50_se, p90_se = self.quantiles_se()
        return {"selected": self.selected, "expected_value": self.expected_value,
                "expected_value_se": self.expected_value_se, "p10": p10, "p50": p50, "p90": p90,
                "p10_se": p10_se, "p50_se": p50_se, "p90_se": p90_se,
                "cvar": self.cvar, "cvar_se": self.cvar_se, "alpha": self.alpha, "budget_used": self.cost,
                "effort_mean": float(self.effort.mean()), "effort_mean_se": mean_standard_error(self.effort),
                "p_overrun": self.p_overrun, "p_overrun_se": self.p_overrun_se,
                "team_overrun": self.team_overrun(), "team_overrun_se": self.team_overrun_se(),
                "evaluated_on": self.evaluated_on()}

    def evaluated_on(self) -> dict:
        """Which scenario set the figures come from ("selection" or "evaluation") and how many."""
        return {"scenarios": self.scenarios.purpose, "count": int(self.scenarios.count)}


def add_baselines(plan: Plan, current: np.ndarray | None = None) -> Plan:
    """Attach greedy-by-RICE and, if `current` selects anything, the user's current plan, both
    evaluated on the plan's scenarios, with paired comparisons against each."""
    problem, sc = plan.problem, plan.scenarios
    plan.greedy = Plan(greedy_selection(problem), sc, problem, "greedy by RICE", alpha=plan.alpha)
    plan.comparisons["greedy"] = plan.compare(plan.greedy)
    if current is not None and np.any(current):
        plan.current = Plan(current, sc, problem, "current plan", alpha=plan.alpha)
        plan.comparisons["current"] = plan.compare(plan.current)
    return plan


def greedy_selection(problem: PlanningProblem) -> np.ndarray:
    """Fill the budget in classic RICE order, as a spreadsheet user would, under the same rules.

    Must-haves (and their prerequisites) come first; then each initiative, best RICE first, is
    added with any prerequisites it still lacks if the result breaks no rule.
    """
    x = problem.must.copy()
    for m in np.flatnonzero(problem.must):
        x[list(problem.prerequisites(m))] = True
    rice = np.array([ini.rice() for ini in problem.portfolio])
    for i in np.argsort(-rice, kind="stable"):
        if x[i] or problem.wont[i]:
            continue
        trial = x.copy()
        trial[[i, *problem.prerequisites(i)]] = True
        if not problem.wont[trial].any() and not problem.violations(trial, complete=False):
            x = trial
    return x

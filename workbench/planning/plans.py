"""Plans: a funded set of initiatives, its value and effort distributions, and comparisons.

Every plan is evaluated on the same scenario matrices (common random numbers), so the
difference between two plans is measured scenario by scenario, with its Monte Carlo error.
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
        return float(self.value.std(ddof=1) / np.sqrt(self.value.size))

    @cached_property
    def cvar(self) -> float:
        """Mean value of the worst `alpha` fraction of scenarios."""
        return cvar(self.value, self.alpha)

    def quantiles(self) -> tuple[float, float, float]:
        """p10, p50 and p90 of the plan's value."""
        return tuple(float(q) for q in np.quantile(self.value, [0.1, 0.5, 0.9]))

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

    def team_overrun(self) -> dict[str, float]:
        """Per team with a capacity: P(the team's effort exceeds it)."""
        out = {}
        for team, cap in self.problem.constraints.capacities.items():
            mask = self.funded & (self.problem.team == team)
            out[team] = float((self.scenarios.effort[:, mask].sum(axis=1) > cap).mean())
        return out

    def violations(self) -> list[str]:
        """Every rule the plan breaks (empty when it is feasible)."""
        return self.problem.violations(self.funded)

    def compare(self, other: Plan) -> Comparison:
        """Paired, scenario by scenario: expected gain over `other` and P(this plan is worth more)."""
        diff = self.value - other.value
        s = diff.size
        better = (diff > 0).mean() + 0.5 * (diff == 0).mean()
        return Comparison(other.label, float(diff.mean()), float(diff.std(ddof=1) / np.sqrt(s)),
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
        return {"selected": self.selected, "expected_value": self.expected_value,
                "expected_value_se": self.expected_value_se, "p10": p10, "p50": p50, "p90": p90,
                "cvar": self.cvar, "alpha": self.alpha, "budget_used": self.cost,
                "effort_mean": float(self.effort.mean()), "p_overrun": self.p_overrun,
                "team_overrun": self.team_overrun()}


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

"""One-at-a-time sensitivity of a plan: tornado swings and decision switch points.

Value is R·I·C per initiative (C as the success probability, or multiplier; not in `spread`
mode), so moving one input changes only its initiative's contribution, linearly. Effort does
not change a plan's value; it enters through the budget (see the budget sweep).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..engine.simulation import effective_estimates
from ..errors import InputError, Problem
from ..model.estimates import Estimate
from ..planning.constraints import PlanningProblem
from ..planning.optimization import solve
from ..planning.plans import Plan

VALUE_FACTORS = ("reach", "impact", "confidence")


def _value_factors(mode: str) -> tuple[str, ...]:
    return VALUE_FACTORS if mode != "spread" else ("reach", "impact")


def _inputs(plan: Plan, est: dict | None = None) -> dict[str, tuple[int, str, Estimate]]:
    """Every uncertain value input of the portfolio, named `id.factor` (`est`: the effective
    estimates, when the caller already has them)."""
    sc = plan.scenarios
    est = est or effective_estimates(sc.portfolio, sc.confidence_mode, sc.spread)
    return {f"{id_}.{f}": (i, f, est[f][i]) for i, id_ in enumerate(plan.problem.ids)
            for f in _value_factors(sc.confidence_mode) if not est[f][i].is_point}


def tornado(plan: Plan) -> pd.DataFrame:
    """Each uncertain input of a funded initiative moved from its p10 to its p90, every other
    input at its median: the plan's value at both ends, largest swing first.

    Columns: input, low, high (the input's p10 and p90), value_low, value_high, swing.
    """
    sc = plan.scenarios
    factors = _value_factors(sc.confidence_mode)
    est = effective_estimates(sc.portfolio, sc.confidence_mode, sc.spread)
    med = {f: np.array([e.median() for e in est[f]]) for f in factors}
    contribution = np.prod([med[f] for f in factors], axis=0)
    base = float(contribution[plan.funded].sum())
    rows = []
    for name, (i, f, e) in _inputs(plan, est).items():
        if not plan.funded[i]:
            continue
        low, high = float(e.ppf(0.1)), float(e.ppf(0.9))
        per_unit = contribution[i] / med[f][i] if med[f][i] else 0.0
        rows.append({"input": name, "low": low, "high": high,
                     "value_low": base + per_unit * (low - med[f][i]),
                     "value_high": base + per_unit * (high - med[f][i])})
    frame = pd.DataFrame(rows, columns=["input", "low", "high", "value_low", "value_high"])
    frame["swing"] = (frame["value_high"] - frame["value_low"]).abs()
    return frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def _best_with(problem: PlanningProblem, mu: np.ndarray, sc, i: int, funded: bool, time_limit: float) -> float:
    """Best expected value over feasible plans with initiative i forced in (or out); -inf if none."""
    forced = problem.forced(funded=[i]) if funded else problem.forced(unfunded=[i])
    one = replace(sc, value=mu[None, :], effort=sc.effort[:1])  # the expected values as one scenario
    sol = solve(forced, one, "mean", time_limit=time_limit)
    return float(mu[sol.funded].sum()) if sol.has_plan() else -np.inf


def switch_points(plan: Plan, inputs: list[str] | None = None, top: int = 5,
                  time_limit: float = 60.0) -> pd.DataFrame:
    """For each input, the value at which the expected-value-optimal plan changes.

    With every other input at its expectation, initiative i's expected value is
    mu_i · t / E[input] at input value t. Plans that fund i all shift alike, so the decision
    changes exactly once: where the best plan with i and the best plan without it are worth the
    same. inputs: names `id.factor` (default: the `top` inputs of the tornado).
    Columns: input, expected (E[input]), switch_value, direction, within (inside p1-p99), note.
    """
    available = _inputs(plan)
    if inputs is None:
        inputs = list(tornado(plan)["input"][:top])
    unknown = [n for n in inputs if n not in available]
    if unknown:
        raise InputError(Problem(f"unknown or certain inputs for switch points: {', '.join(unknown)} "
                                 "(expected id.reach, id.impact or id.confidence of an uncertain estimate)"))
    sc, problem = plan.scenarios, plan.problem
    mu = sc.value.mean(axis=0)
    rows = []
    for name in inputs:
        i, f, e = available[name]
        expected, p1, p99 = e.mean(), float(e.ppf(0.01)), float(e.ppf(0.99))
        row = {"input": name, "expected": expected, "switch_value": np.nan, "direction": "", "within": False}
        if problem.must[i] or problem.wont[i]:
            row["note"] = "never: fixed by MoSCoW"
        elif mu[i] <= 0:
            row["note"] = "never: no expected value"
        else:
            with_i = _best_with(problem, mu, sc, i, True, time_limit)
            without_i = _best_with(problem, mu, sc, i, False, time_limit)
            if not np.isfinite(with_i) or not np.isfinite(without_i):
                row["note"] = "never: the constraints fix this initiative"
            else:
                t = expected * (1 + (without_i - with_i) / mu[i])
                funded_now = with_i >= without_i
                row.update(switch_value=t, direction="below" if funded_now else "above",
                           within=bool(p1 <= t <= p99))
                verb = "leaves the plan if it falls below" if funded_now else "enters the plan if it rises above"
                row["note"] = (f"{name.split('.')[0]} {verb} {t:,.4g}" if row["within"]
                               else "never within p1–p99")
        rows.append(row)
    return pd.DataFrame(rows, columns=["input", "expected", "switch_value", "direction", "within", "note"])

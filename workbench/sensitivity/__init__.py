"""Sensitivity of the funding decision: budget sweeps, tornado, Sobol indices, value of information.

Each analysis is a function returning a DataFrame; `analyze` runs the ones asked for on a plan
(the pipeline's recommended plan, or one from `workbench.optimize`) and bundles them for the CLI,
the widgets and the reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..engine.scenarios import Scenarios
from ..planning.plans import Plan
from . import one_at_a_time, sobol_indices, sweeps, value_of_information
from .one_at_a_time import switch_points, tornado
from .sobol_indices import portfolio_sobol, sobol
from .sweeps import budget_range, budget_sweep, entry_budgets, split_sweep
from .value_of_information import evpi, evpi_of, evppi, evppi_of

__all__ = ["SensitivityReport", "analyze", "budget_range", "budget_sweep", "entry_budgets", "evpi", "evpi_of",
           "evppi", "evppi_of", "portfolio_sobol", "sobol", "split_sweep", "switch_points", "tornado"]


@dataclass
class SensitivityReport:
    """The analyses run on one plan; each is None unless it was asked for."""

    plan: Plan
    valued: Plan | None = None  # the plan valued on the evaluation scenarios (None: on its own)
    budget_sweep: pd.DataFrame | None = None
    entry_budgets: pd.DataFrame | None = None
    split_sweep: pd.DataFrame | None = None
    tornado: pd.DataFrame | None = None
    switch_points: pd.DataFrame | None = None
    sobol: pd.DataFrame | None = None
    evpi: dict | None = None
    evppi: pd.DataFrame | None = None

    def to_dict(self) -> dict:
        shown = self.valued or self.plan
        out: dict = {"budget": self.plan.problem.constraints.budget, "selected": self.plan.selected,
                     "expected_value": shown.expected_value, "expected_value_se": shown.expected_value_se,
                     "evaluated_on": shown.evaluated_on(), "scenarios": self.plan.scenarios.count,
                     "seed": self.plan.scenarios.seed}
        if self.budget_sweep is not None:
            out["budget_sweep"] = _records(self.budget_sweep)
            out["entry_budgets"] = _records(self.entry_budgets.reset_index())
        if self.split_sweep is not None:
            out["split_sweep"] = _records(self.split_sweep)
        if self.tornado is not None:
            out["tornado"] = _records(self.tornado)
            out["switch_points"] = _records(self.switch_points)
        if self.sobol is not None:
            out["sobol"] = _records(self.sobol.rename_axis("input").reset_index())
        if self.evpi is not None:
            out["evpi"] = self.evpi
        if self.evppi is not None:
            out["evppi"] = _records(self.evppi)
            out["evppi_evaluated_on"] = {"scenarios": self.evppi.attrs.get("evaluated_on"),
                                         "count": self.evppi.attrs.get("scenarios")}
        return out

    def main_table(self) -> pd.DataFrame:
        """The one table a CSV export holds: the first analysis that was run."""
        for frame in (self.budget_sweep, self.split_sweep, self.tornado, self.sobol, self.evppi):
            if frame is not None:
                out = frame.copy()
                for col in ("selected",):
                    if col in out:
                        out[col] = out[col].map(";".join)
                return out.reset_index() if out.index.name else out
        return pd.DataFrame()


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
            for row in frame.to_dict(orient="records")]


def analyze(plan: Plan, *, budgets=None, split: str | None = None, tornado: bool = False, sobol: bool = False,
            voi: bool = False, seed: int | None = None, sobol_samples: int = 1024,
            progress: Callable[[int, int], None] | None = None,
            evaluate_on: Scenarios | None = None, time_limit: float = 60.0, executor=None) -> SensitivityReport:
    """Run the analyses asked for on a plan (`time_limit`: seconds per solve).

    A plan chosen on other scenarios than it is valued on (`plan.selection`: `workbench.optimize`,
    the pipeline) is analysed on its selection scenarios and valued on its own (unless
    `evaluate_on` is given). The sweeps solve on the plan's scenarios and evaluate on `evaluate_on`
    when given (e.g. the pipeline's independent evaluation draws); the value of information chooses on the plan's
    scenarios and values on `evaluate_on` (else on a held-out half of them); the tornado and
    switch points work on the plan's scenarios; Sobol draws its own (`seed`).
    progress(done, total) is called after each solve or analysis.
    executor: where the independent solves run (`workbench.tasks.run_tasks`); None: here. The
    sweeps and the value of information use it; the tornado, switch points and Sobol run here.
    """
    if plan.selection is not None:  # chosen on other scenarios than it is valued on: re-choose on those
        evaluate_on = plan.scenarios if evaluate_on is None else evaluate_on
        plan = Plan(plan.funded, plan.selection, plan.problem, plan.label, plan.objective, plan.alpha, plan.lam)
    report = SensitivityReport(plan, None if evaluate_on is None else
                               Plan(plan.funded, evaluate_on, plan.problem, plan.label, plan.objective, plan.alpha,
                                    plan.lam))
    problem, sc = plan.problem, plan.scenarios
    kw = dict(objective=plan.objective or "mean", alpha=plan.alpha, lam=plan.lam or 0.0, evaluate_on=evaluate_on,
              time_limit=time_limit, executor=executor)
    n_budgets = 0 if budgets is None else len(budgets)
    steps = [n_budgets, len(sweeps.DEFAULT_SHARES) if split else 0,
             2 if tornado else 0, 1 if sobol else 0, 2 if voi else 0]
    total, done = sum(steps), 0

    def advance(k: int = 1) -> None:
        nonlocal done
        done += k
        if progress is not None:
            progress(done, total)

    def within(offset: int):  # a sweep's own (k, n) progress, as a part of the whole
        return None if progress is None else (lambda k, n: progress(offset + k, total))

    if budgets is not None:
        report.budget_sweep = sweeps.budget_sweep(problem, sc, budgets, progress=within(done), **kw)
        report.entry_budgets = sweeps.entry_budgets(report.budget_sweep, problem.ids)
        done += n_budgets
    if split:
        report.split_sweep = sweeps.split_sweep(problem, sc, split, progress=within(done), **kw)
        done += len(sweeps.DEFAULT_SHARES)
    if tornado:
        report.tornado = one_at_a_time.tornado(plan)
        advance()
        report.switch_points = one_at_a_time.switch_points(plan, time_limit=time_limit)
        advance()
    if sobol:
        report.sobol = sobol_indices.portfolio_sobol(sc.portfolio, selected=plan.selected, n=sobol_samples, seed=seed,
                                                     confidence_mode=sc.confidence_mode, group_by="initiative",
                                                     output="plan", spread=sc.spread)
        advance()
    if voi:
        result = value_of_information.evpi_of(problem, sc, time_limit=time_limit, evaluate_on=evaluate_on,
                                              executor=executor)
        report.evpi = {"value": result.value, "se": result.se, "scenarios": result.scenarios,
                       "method": result.method, "exact": result.exact,
                       "evaluated_on": {"scenarios": result.evaluated_on, "count": result.scenarios}}
        advance()
        report.evppi = value_of_information.evppi_of(problem, sc, time_limit=time_limit, evaluate_on=evaluate_on,
                                                     executor=executor)
        advance()
    return report

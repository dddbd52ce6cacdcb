"""One HiGHS call: the options every solve uses, its time cap, and what it returns.

`master` solves max/min over the plan's n binaries (plus any continuous columns a formulation
adds) with `scipy.optimize.milp`; `Solution` is what a solve returned and `SolverError` what a
solve raises when the solver stopped before finding any plan. `solve_time_cap` bounds every solve
made in a context (the dashboard's workers); nothing here touches file descriptors.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .constraints import PlanningProblem

MIP_REL_GAP = 1e-6


class SolverError(RuntimeError):
    """The solver stopped (time limit, numerical trouble) before finding any feasible plan."""


# How long a solve may take at most, whatever its caller asks, in the current context (a worker's
# solves: modest while wanted, short once cancelled or exiting; pool threads get it through the copied
# context). milp cannot be interrupted, so a cap is all that bounds the wait for a thread inside a solve.
_CONTEXT_CAP: contextvars.ContextVar[Callable[[], float | None] | None] = contextvars.ContextVar(
    "workbench_solve_cap", default=None)


@contextlib.contextmanager
def solve_time_cap(cap: Callable[[], float | None]):
    """Within the block (this thread, or a context copied from it), each solve may take at most
    `cap()` seconds, asked as the solve starts (None: no cap)."""
    token = _CONTEXT_CAP.set(cap)
    try:
        yield
    finally:
        _CONTEXT_CAP.reset(token)


def allowed_time(time_limit: float) -> float:
    """The seconds a solve asked to take at most `time_limit` may take under the context's cap."""
    context_cap = _CONTEXT_CAP.get()
    if context_cap is not None and (seconds := context_cap()) is not None:
        return min(float(time_limit), seconds)
    return float(time_limit)


def milp_options(time_limit: float) -> dict:
    """The options of every HiGHS solve: quiet, to the package's gap, within `time_limit` seconds.

    disp=False (log_to_console) silences HiGHS but for a rare printf; no solve touches the
    process's file descriptors (that would swallow what other threads print): the CLI, which owns
    its process, moves descriptor 1 to stderr while it works."""
    return {"mip_rel_gap": MIP_REL_GAP, "disp": False, "time_limit": time_limit}


@dataclass(frozen=True, eq=False)
class Solution:
    """What one MILP solve returned.

    funded: the best plan found (boolean mask over initiatives), None when there is none.
    status: "optimal", "time limit" (a plan, if any, with its relative `gap`), "infeasible",
        "unbounded" or "error". time_limit: the seconds the solver was allowed.
    """

    funded: np.ndarray | None
    status: str
    gap: float | None
    time_limit: float
    solves: int = 1  # milp calls made (cutting planes: masters and their relaxations)
    x: np.ndarray | None = field(default=None, repr=False)  # the solver's whole vector

    def has_plan(self) -> bool:
        """True with a plan, False when the constraints admit none; raises SolverError when the
        solver stopped without one, since a time limit must never read as "infeasible"."""
        if self.funded is not None:
            return True
        if self.status == "infeasible":
            return False
        raise SolverError(f"the solver stopped without finding any plan (status: {self.status}); "
                          f"allow more time than {self.time_limit:g} s (--time-limit) or use fewer scenarios")


def master(base: tuple, problem: PlanningProblem, cost_x: np.ndarray, extra: tuple | None,
            time_limit: float, relax: bool = False) -> Solution:
    """One milp over the n binaries plus the continuous columns of `extra` (cost, bounds and their
    block of rows: (cost, lb, ub, rows_x, rows_extra, lo, hi)); the rows of `base` cover x only."""
    n = len(problem)
    rows, lo, hi = base
    k = 0 if extra is None else len(extra[0])
    blocks = [sparse.hstack([sparse.csr_matrix(rows.reshape(-1, n)), sparse.csr_matrix((len(lo), k))])]
    cost, lb, ub = cost_x, problem.must.astype(float), (~problem.wont).astype(float)
    if extra is not None:
        e_cost, e_lb, e_ub, rows_x, rows_e, e_lo, e_hi = extra
        blocks.append(sparse.hstack([sparse.csr_matrix(rows_x), sparse.csr_matrix(rows_e)]))
        cost, lb, ub = np.r_[cost_x, e_cost], np.r_[lb, e_lb], np.r_[ub, e_ub]
        lo, hi = np.r_[lo, e_lo], np.r_[hi, e_hi]
    integrality = np.r_[np.full(n, 0 if relax else 1), np.zeros(k)]
    res = milp(cost, integrality=integrality, bounds=Bounds(lb, ub),
               constraints=LinearConstraint(sparse.vstack(blocks).tocsr(), lo, hi),
               options=milp_options(time_limit))
    funded = None if res.x is None else res.x[:n] > 0.5
    status = {0: "optimal", 1: "time limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    gap = getattr(res, "mip_gap", None)
    return Solution(funded, status, None if gap is None or not np.isfinite(gap) else float(gap), time_limit,
                    x=res.x)

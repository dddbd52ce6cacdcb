"""Benchmarks of the risk objectives: the complete frontier and one CVaR solve, against plain
Rockafellar-Uryasev.

Run from the project root:

    .venv/bin/python benchmarks/bench_planning.py           # full run (a few minutes)
    .venv/bin/python benchmarks/bench_planning.py --quick   # one round, a smaller second case

It prints two measurements against a baseline measured in the same run, in interleaved rounds
(min and median of each); goals are reported as PASS/MISS but the exit status is always 0.
The baseline is one CVaR solve written here as the plain Rockafellar-Uryasev MILP (n binaries,
a free eta and one z_s per scenario) and solved by `scipy.optimize.milp`, on the same scenarios
and constraints.

1. The complete frontier of the demo (budget 40, capacities Payments=12, Growth=8, as in
   `make demo`) on 1,000 selection scenarios, from a cold cut pool, against one baseline solve.
   Goal: frontier / baseline <= 3.
2. One CVaR solve at 300 initiatives x 1,000 scenarios (synthetic portfolio, seeded), against the
   baseline on the same: by cutting planes from a cold cut pool, by the default formulation
   ("auto": Rockafellar-Uryasev from a cold pool), and by cutting planes re-solving at another
   budget from the pool a first solve left (the dashboard's case). Goal: <= 0.25.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from workbench import Settings, demo_portfolio, run
from workbench.planning.cvar_cuts import CutPool
from workbench.planning.frontier import frontier_of
from workbench.planning.milp import MIP_REL_GAP
from workbench.planning.optimization import _rows, scenarios_and_problem, solve
from workbench.planning.plans import cvar

from bench_rice import synthetic_portfolio

FRONTIER_GOAL, SOLVE_GOAL = 3.0, 0.25
ALPHA = 0.1
SEED = 2026
ROUNDS = 3


def ru_baseline(problem, scenarios, alpha: float = ALPHA) -> np.ndarray:
    """Max CVaR by the plain Rockafellar-Uryasev MILP; returns the funded mask."""
    n, v = len(problem), scenarios.value
    s = v.shape[0]
    vs = v / max(float(np.abs(v).mean(axis=0).max()), 1e-12)
    rows, lo, hi = _rows(problem, True, ())  # the problem's own constraint rows over x
    cost = np.r_[np.zeros(n), -1.0, np.full(s, 1 / (alpha * s))]
    a = sparse.vstack([sparse.hstack([sparse.csr_matrix(np.array(rows)), sparse.csr_matrix((len(rows), 1 + s))]),
                       sparse.hstack([sparse.csr_matrix(vs), sparse.csr_matrix(-np.ones((s, 1))), sparse.identity(s)])])
    lb = np.r_[problem.must.astype(float), -np.inf, np.zeros(s)]
    ub = np.r_[(~problem.wont).astype(float), np.inf, np.full(s, np.inf)]
    res = milp(cost, integrality=np.r_[np.ones(n), np.zeros(1 + s)], bounds=Bounds(lb, ub),
               constraints=LinearConstraint(a.tocsr(), np.r_[lo, np.zeros(s)], np.r_[hi, np.full(s, np.inf)]),
               options={"mip_rel_gap": MIP_REL_GAP, "disp": False})
    return res.x[:n] > 0.5


def interleaved(fns: dict, rounds: int) -> dict:
    """Wall times (list) and last result of each function, runs alternating so that load from
    other processes affects all alike."""
    times, out = {k: [] for k in fns}, {}
    for r in range(rounds):
        for k, fn in fns.items():
            progress(f"   round {r + 1}/{rounds}: {k}")
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
    return {k: (times[k], out[k]) for k in fns}


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def row(label: str, value: str) -> None:
    print(f"  {label:<44} {value}")


def timing(label: str, times: list) -> None:
    row(label, f"min {min(times):7.2f} s   median {np.median(times):7.2f} s")


def ratios(label: str, num: list, den: list, goal: float) -> None:
    by_min, by_median = min(num) / min(den), float(np.median(num) / np.median(den))
    row(label, f"min {by_min:7.2f}     median {by_median:7.2f}     goal <= {goal:g}   {verdict(by_min <= goal)} (min)"
        f" / {verdict(by_median <= goal)} (median)")


def bench_frontier(scenarios: int, rounds: int) -> None:
    settings = Settings(budget=40, capacities={"Payments": 12, "Growth": 8}, scenarios=scenarios, samples=1000,
                        seed=SEED)
    outcome = run(demo_portfolio(), settings)
    problem, sc = outcome.problem, outcome.selection
    res = interleaved({"frontier": lambda: frontier_of(problem, sc, alpha=ALPHA, pool=CutPool()),
                       "baseline": lambda: ru_baseline(problem, sc)}, rounds)
    (f_times, front), (b_times, best) = res["frontier"], res["baseline"]
    print(f"1. Complete frontier of the demo ({len(problem)} initiatives, budget 40, Payments=12, Growth=8) "
          f"on {sc.count:,} selection scenarios, alpha {ALPHA}")
    timing("frontier_of (cold cut pool)", f_times)
    timing("baseline: one RU CVaR solve (scipy milp)", b_times)
    ratios("ratio frontier / baseline", f_times, b_times, FRONTIER_GOAL)
    row("frontier", f"{len(front.plans)} non-dominated plans, {front.solves} solves "
        f"(|ND| CVaR solves + 1 mean solve), complete: {front.complete}")
    top = max(front.plans, key=lambda p: p.cvar)
    same = abs(top.cvar - cvar(sc.value @ best, ALPHA)) <= 1e-6 * abs(top.cvar)
    row("max CVaR on the frontier = baseline optimum", "yes" if same else "NO")


def bench_solve(n: int, scenarios: int, rounds: int) -> None:
    portfolio = synthetic_portfolio(n)
    total = sum(float(i.effort.median()) for i in portfolio)
    sc, problem = scenarios_and_problem(portfolio, 0.3 * total, scenarios=scenarios, seed=SEED)
    warm = CutPool()
    solve(problem, sc, "cvar", alpha=ALPHA, formulation="cuts", pool=warm)  # as a frontier would leave it
    _, other = scenarios_and_problem(portfolio, 0.25 * total, scenarios=sc)
    res = interleaved({
        "cuts": lambda: solve(problem, sc, "cvar", alpha=ALPHA, formulation="cuts", pool=CutPool()),
        "auto": lambda: solve(problem, sc, "cvar", alpha=ALPHA, pool=CutPool()),
        "warm": lambda: solve(other, sc, "cvar", alpha=ALPHA, formulation="cuts", pool=warm),
        "baseline": lambda: ru_baseline(problem, sc)}, rounds)
    (c_times, sol), (a_times, auto), (w_times, _), (b_times, best) = (res[k] for k in ("cuts", "auto", "warm",
                                                                                      "baseline"))
    print(f"2. One CVaR solve at {n} initiatives x {scenarios:,} scenarios (synthetic_portfolio({n}), "
          f"budget 30% of the total effort), alpha {ALPHA}")
    timing("cutting planes, cold cut pool", c_times)
    timing("default formulation (auto), cold cut pool", a_times)
    timing("cutting planes, warm pool, budget 25%", w_times)
    timing("baseline: RU CVaR solve (scipy milp)", b_times)
    ratios("ratio cutting planes (cold) / baseline", c_times, b_times, SOLVE_GOAL)
    ratios("ratio default (cold) / baseline", a_times, b_times, SOLVE_GOAL)
    ratios("ratio warm re-solve / baseline", w_times, b_times, SOLVE_GOAL)
    want = cvar(sc.value @ best, ALPHA)
    row("milp calls of the cold cutting planes", f"{sol.solves} (relaxations and masters)")
    for label, s in (("cutting planes", sol), ("default", auto)):
        got = cvar(sc.value @ s.funded, ALPHA)
        row(f"{label}: same optimum as the baseline", f"{'yes' if abs(got - want) <= 1e-5 * abs(want) else 'NO'} "
            f"(CVaR {got:,.2f} vs {want:,.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round; 100 initiatives in the second case")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else ROUNDS
    load = os.getloadavg()
    print(f"Planning benchmark{' (--quick: scaled down)' if args.quick else ''}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"  load average at start: {' '.join(f'{x:.2f}' for x in load)} (other processes skew timings)")
    print()
    progress("1/2 the demo's complete frontier and the baseline ...")
    bench_frontier(1000, rounds)
    print()
    progress("2/2 one CVaR solve and the baseline ...")
    bench_solve(100 if args.quick else 300, 1000, rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())

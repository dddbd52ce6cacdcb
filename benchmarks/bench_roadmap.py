"""Benchmark of the roadmap across quarters: time to solve and to simulate 30, 100 and 300
initiatives x 8 quarters x 1,000 scenarios.

Run from the project root:

    .venv/bin/python benchmarks/bench_roadmap.py           # full run (about 15 minutes)
    .venv/bin/python benchmarks/bench_roadmap.py --quick   # one round, 30 and 100 initiatives (about 4)

The larger solves stop at the settings' time limit (60 s), which is most of the run time.

For each size it times, in interleaved rounds (min and median of each; other processes skew
timings alike):
- draws: the 1,000 selection scenarios and the 1,000 evaluation draws (a fresh `LiveEngine`);
- the optimal roadmap's MILP (`solve_roadmap`) on the selection scenarios, objective mean, and
  objective CVaR (alpha 0.1) at 30 and 100 initiatives;
- the delivery simulation of that roadmap on the 1,000 evaluation draws (`simulate_delivery`);
- end to end: `workbench.roadmap` from a fresh engine (draws, solve, the optimal and greedy
  roadmaps simulated, figures);
- two baselines measured in the same run: greedy-by-RICE (`greedy_roadmap`, what a scheduling
  tool draws) and the one-quarter plan's MILP (`planning.optimization.solve`, objective mean) on
  the same scenarios with one quarter's capacities, the problem the roadmap extends over time.
Portfolios are `bench_rice.synthetic_portfolio(n)` (estimates in the demo's proportions) given
teams, dependencies, paces, deadlines and earliest starts by `roadmap_portfolio`, with each team's
capacity 60% of its planned work spread over the 8 quarters, so capacities bind. It closes with
how each time grows with n (the exponent b of time ~ n^b between successive sizes).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_planning import interleaved, progress

import workbench as wb
from workbench.model.portfolio import Portfolio
from workbench.model.quarters import quarter_label
from workbench.planning.delivery import simulate_delivery
from workbench.planning.optimization import scenarios_and_problem, solve
from workbench.planning.roadmap import greedy_roadmap, resolution_gap, solve_roadmap
from workbench.rng import stream
from workbench.roadmap_pipeline import build_problem

from bench_rice import synthetic_portfolio

SEED = 2026
ROUNDS = 3
QUARTERS = 8
FIRST = 2027 * 4  # 2027Q1
SCENARIOS = 1000
ALPHA = 0.1
UTILIZATION = 0.6  # each team's capacity over the horizon: this share of its planned work


def roadmap_portfolio(n: int) -> tuple[Portfolio, dict[str, float]]:
    """n synthetic initiatives on max(3, n // 25) teams, and capacities (person-months a quarter)
    that fit about 60% of each team's planned work in the 8 quarters. About 30% can absorb only
    half their effort a quarter (they span two quarters or more), 10% depend on an earlier
    initiative, 5% have a deadline in the second half of the horizon and 5% an earliest start."""
    rng = stream(SEED, "evaluation", "bench-roadmap", n)
    base = synthetic_portfolio(n)
    teams = [f"Team {k + 1}" for k in range(max(3, n // 25))]
    out = []
    for j, ini in enumerate(base):
        median = float(ini.effort.median())
        extra = {"team": teams[int(rng.integers(len(teams)))]}
        if rng.random() < 0.3:
            extra["max_per_quarter"] = round(max(median / 2, 0.5), 2)
        if j > 0 and rng.random() < 0.1:
            extra["depends_on"] = (base.initiatives[int(rng.integers(j))].id,)
        u = rng.random()
        if u < 0.05:
            extra["deadline"] = quarter_label(FIRST + int(rng.integers(QUARTERS // 2, QUARTERS)))
        elif u < 0.10:
            extra["earliest"] = quarter_label(FIRST + int(rng.integers(1, QUARTERS // 2)))
        out.append(replace(ini, **extra))
    portfolio = Portfolio(tuple(out), source=f"roadmap_portfolio({n})")
    work = {t: sum(float(i.effort.median()) for i in out if i.team == t) for t in teams}
    capacities = {t: round(max(UTILIZATION * w / QUARTERS, 1.0), 1) for t, w in work.items()}
    return portfolio, capacities


def bench_size(n: int, rounds: int, risk: bool) -> dict:
    """Times (lists, seconds) of each step at n initiatives, and facts about the roadmap."""
    portfolio, capacities = roadmap_portfolio(n)
    settings = wb.Settings.from_mapping({
        "quarters": f"{quarter_label(FIRST)}:{quarter_label(FIRST + QUARTERS - 1)}", "capacities": capacities,
        "scenarios": SCENARIOS, "samples": SCENARIOS, "seed": SEED, "alpha": ALPHA})
    checked = settings.for_portfolio(portfolio, plan=True)
    engine = wb.LiveEngine(portfolio)
    selection, evaluation = engine.scenarios(checked, "selection"), engine.scenarios(checked, "evaluation")
    problem, _ = build_problem(selection.portfolio, checked)
    _, one_quarter = scenarios_and_problem(portfolio, sum(capacities.values()), scenarios=selection,
                                           capacities=capacities)

    def draws():
        fresh = wb.LiveEngine(portfolio)
        return fresh.scenarios(checked, "selection"), fresh.scenarios(checked, "evaluation")

    solved = {}
    # The pipeline's gap: one Monte Carlo standard error of the objective (`resolution_gap`); the
    # baseline proves the optimum to the one-quarter plan's 1e-6, what the first version did.
    greedy = greedy_roadmap(problem)
    targets = {obj: resolution_gap(problem, selection.value, greedy, obj, alpha=ALPHA) for obj in ("mean", "cvar")}

    def solve_mean():
        solved["mean"] = solve_roadmap(problem, selection.value, "mean", time_limit=checked.time_limit,
                                       gap=targets["mean"])
        return solved["mean"]

    fns = {  # in this order in every round: the simulation simulates the roadmap just solved
        "draws (selection + evaluation)": draws,
        "solve: mean": solve_mean,
        "simulate one roadmap": lambda: simulate_delivery(problem, solved["mean"][0], evaluation.effort,
                                                          evaluation.value),
        "end to end: workbench.roadmap": lambda: wb.roadmap(portfolio, settings),
        "baseline: greedy by RICE": lambda: greedy_roadmap(problem),
        "baseline: one-quarter plan (mean)": lambda: solve(one_quarter, selection, "mean"),
        "baseline: solve: mean, gap 1e-6": lambda: solve_roadmap(problem, selection.value, "mean",
                                                                 time_limit=checked.time_limit),
    }
    if risk:
        fns["solve: CVaR"] = lambda: solve_roadmap(problem, selection.value, "cvar", alpha=ALPHA,
                                                   time_limit=checked.time_limit, gap=targets["cvar"])
    res = interleaved(fns, rounds)
    start, status, gap = solved["mean"]
    result = res["end to end: workbench.roadmap"][1]
    p_on, _ = result.roadmap.delivery.p_on_time()
    load = problem.load(start)
    facts = {
        "teams": len(problem.teams), "dependencies": len(problem.requires), "starts": int((start >= 0).sum()),
        "status": status, "gap": gap, "binding": float((load >= 0.95 * problem.capacity).mean()),
        "p_on_time": float(np.nanmedian(p_on)),
        "cvar_status": res["solve: CVaR"][1][1] if risk else None,
        "cvar_gap": res["solve: CVaR"][1][2] if risk else None,
        "target": targets["mean"], "cvar_target": targets["cvar"],
        "exact_status": res["baseline: solve: mean, gap 1e-6"][1][1],
        "exact_gap": res["baseline: solve: mean, gap 1e-6"][1][2],
    }
    return {"times": {k: t for k, (t, _) in res.items()}, "facts": facts}


def gap_text(gap: float | None) -> str:
    return "-" if gap is None else f"{gap:.1e}"


def fmt(times: list | None) -> str:
    if not times:
        return f"{'-':>8} {'-':>8}"
    return f"{min(times):8.3f} {float(np.median(times)):8.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one round; 30 and 100 initiatives")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else ROUNDS
    sizes = (30, 100) if args.quick else (30, 100, 300)
    load = os.getloadavg()
    print(f"Roadmap benchmark{' (--quick: scaled down)' if args.quick else ''}: {QUARTERS} quarters, "
          f"{SCENARIOS:,} selection scenarios and {SCENARIOS:,} evaluation draws, {rounds} interleaved round(s)")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"  load average at start: {' '.join(f'{x:.2f}' for x in load)} (other processes skew timings)")
    print()
    out = {}
    for k, n in enumerate(sizes):
        progress(f"{k + 1}/{len(sizes)}: {n} initiatives ...")
        out[n] = bench_size(n, rounds, risk=n <= 100)
    steps = list(out[sizes[0]]["times"])
    steps = [s for s in steps if s != "solve: CVaR"]
    steps.insert(2, "solve: CVaR")
    print("Seconds (min, median)   " + "".join(f"{f'n = {n}':>18}" for n in sizes))
    for step in steps:
        print(f"  {step:<36}" + "".join(f"{fmt(out[n]['times'].get(step)):>18}" for n in sizes))
    print()
    print("The roadmaps")
    for n in sizes:
        f = out[n]["facts"]
        cvar = f" CVaR solve: {f['cvar_status']}, gap {gap_text(f['cvar_gap'])};" if f["cvar_status"] else ""
        print(f"  n = {n:>3}: {f['teams']} teams, {f['dependencies']} dependencies; optimal roadmap starts "
              f"{f['starts']} initiatives (mean solve to {gap_text(f['target'])}: {f['status']}, gap "
              f"{gap_text(f['gap'])}; at 1e-6: {f['exact_status']}, gap {gap_text(f['exact_gap'])});"
              f"{cvar} {f['binding']:.0%} of team-quarters loaded to >= 95% of capacity; median P(on time) "
              f"{f['p_on_time']:.2f}")
    print()
    print("The pipeline's gap against proving the optimum to 1e-6 (median ratio, same run):")
    for n in sizes:
        t = out[n]["times"]
        fast, exact = np.median(t["solve: mean"]), np.median(t["baseline: solve: mean, gap 1e-6"])
        print(f"  n = {n:>3}: solve: mean {fast:.2f} s vs {exact:.2f} s at 1e-6: {exact / fast:.1f}x faster")
    print()
    print("How the time grows: exponent b of time ~ n^b between successive sizes (medians)")
    for step in steps:
        parts = []
        for a, b in zip(sizes, sizes[1:]):
            ta, tb = out[a]["times"].get(step), out[b]["times"].get(step)
            if ta and tb:
                parts.append(f"{a}->{b}: b = {math.log(np.median(tb) / np.median(ta)) / math.log(b / a):5.2f}")
        if parts:
            print(f"  {step:<36}" + "   ".join(parts))
    print(f"  (a solve stopped at the time limit, {wb.Settings().time_limit:g} s, grows no faster than the limit: "
          "its b understates the growth; the status lines above say which did)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

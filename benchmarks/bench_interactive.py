"""Benchmark of the strategy-session dashboard: recompute latency of each control.

Run from the project root:

    .venv/bin/python benchmarks/bench_interactive.py           # 30 and 100 initiatives (a few minutes)
    .venv/bin/python benchmarks/bench_interactive.py --quick   # fewer repetitions

For 30 and 100 initiatives x 20,000 samples, each control is changed REPEATS times to a new
value, from a warm state (the previous settings already computed, as in a session), with BLAS
on one thread as in the dashboard's workers (`single_threaded_blas`). Per control it prints the
min and median of

- engine: `LiveEngine.run`, i.e. scores, P(top-k), quantiles and the recommended plan;
- with views: the same plus building every chart and table the dashboard shows (`Dashboard._compute`).

Baseline, measured in the same run: recomputing everything from scratch for each change
(`workbench.run`: the same pipeline on a fresh engine, no cache), what a non-incremental tool
does; the ratio is printed. Goals, reported as PASS/MISS (the exit status is always 0):

- every control except the risk objectives, at 30 initiatives x 20,000 samples, recomputes
  (engine) in <= 150 ms at the median;
- at 31 initiatives, switching the objective to CVaR and an initiative edit under CVaR each
  recompute (engine) in <= 0.5 s at the median (the risk objectives solve a MILP on the
  selection scenarios). Switching is measured twice: right after a change (cold: nothing solved
  yet on those scenarios) and once the frontier of the current settings is on screen (the
  dashboard computes it in the background after every change; its first step is the max-CVaR
  problem, whose optimum the switch then reuses).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from workbench import LiveEngine, Settings, run
from workbench.interactive.dashboard import Dashboard
from workbench.interactive.workers import single_threaded_blas
from workbench.pipeline import frontier

from bench_rice import synthetic_portfolio

GOAL_MS = 150.0
CVAR_GOAL_MS = 500.0
CVAR_SIZE = 31
SAMPLES = 20_000
TEAMS = ("Core", "Growth", "Platform")


def portfolio_with_teams(n: int):
    p = synthetic_portfolio(n)
    return p.with_initiatives(replace(ini, team=TEAMS[k % len(TEAMS)]) for k, ini in enumerate(p))


def base_settings(p) -> Settings:
    total = sum(ini.effort.median() for ini in p)
    growth = sum(ini.effort.median() for ini in p if ini.team == "Growth")
    return Settings(budget=round(0.4 * total, 1), capacities={"Growth": round(0.5 * growth, 1)},
                    samples=SAMPLES, seed=2026).for_portfolio(p)


def controls(p, base: Settings) -> dict:
    """control -> function k -> (settings before, settings after): one change to a new value."""
    ids = p.ids
    spread = base.change(confidence_mode="spread")
    cvar = base.change(objective="cvar")
    blend = base.change(objective="blend")
    return {
        "budget slider": lambda k: (base, base.change(budget=round(base.budget * (0.8 + 0.027 * k), 2))),
        "team capacity": lambda k: (base, base.change(
            capacities={"Growth": base.capacity["Growth"] * (0.6 + 0.05 * k)})),
        "initiative edit": lambda k: (base, base.with_edit(
            ids[(7 * k) % len(ids)], "reach", f"{100 + 7 * k}..{900 + 9 * k}")),
        "force in / out": lambda k: (base, base.with_override(ids[(5 * k) % len(ids)], "in" if k % 2 else "out")),
        "top k": lambda k: (base, base.change(top_k=1 + k % 10)),
        "confidence mode": lambda k: (base, base.change(
            confidence_mode=("multiplier", "spread")[k % 2], seed=base.seed + k)),
        "spread mapping": lambda k: (spread, spread.change(spread={**spread.spread_mapping, 0.5: 2.0 + 0.1 * k})),
        "samples": lambda k: (base, base.change(samples=SAMPLES - 500 * (k + 1))),
        "seed": lambda k: (base, base.change(seed=base.seed + 1 + k)),
        "objective (to CVaR)": lambda k: (base.change(seed=base.seed + k), cvar.change(seed=base.seed + k)),
        "CVaR alpha": lambda k: (cvar, cvar.change(alpha=round(0.05 + 0.02 * (k + 1), 2))),
        "blend lambda": lambda k: (blend, blend.change(lam=0.25 * (k + 1) + 0.1)),
    }


RISK = {"objective (to CVaR)", "CVaR alpha", "blend lambda"}


def cvar_controls(p, base: Settings) -> dict:
    """The risk-objective changes with a 0.5 s goal: to CVaR, and an edit while under CVaR."""
    ids, cvar = p.ids, base.change(objective="cvar")
    return {
        "switching to CVaR": lambda k: (base.change(seed=base.seed + k), cvar.change(seed=base.seed + k)),
        "... frontier on screen": lambda k: (base.change(seed=base.seed + 100 + k),
                                             cvar.change(seed=base.seed + 100 + k), True),
        "an edit under CVaR": lambda k: (cvar, cvar.with_edit(ids[(7 * k) % len(ids)], "reach",
                                                              f"{100 + 7 * k}..{900 + 9 * k}")),
    }


def measure(dash: Dashboard, before: Settings, after: Settings, with_frontier: bool = False) -> tuple[float, float]:
    """(engine seconds, engine + views seconds) for one change, from a warm `before` (and its
    frontier, as the dashboard computes it in the background, if `with_frontier`), with BLAS on
    one thread as the dashboard's workers run it."""
    dash.engine.clear_cache()  # no help from earlier repetitions: only `before` is warm, as in a session
    with single_threaded_blas():
        shown = dash._compute(before, lambda: None)
        if with_frontier:
            frontier(shown["outcome"])
        t0 = time.perf_counter()
        views = dash._compute(after, lambda: None)
        total = time.perf_counter() - t0
    return views["outcome"].seconds["total"], total


def baseline(p, s: Settings) -> float:
    t0 = time.perf_counter()
    run(p, s)
    return time.perf_counter() - t0


def stats_ms(xs: list[float]) -> tuple[float, float]:
    """(min, median) in milliseconds."""
    return float(np.min(xs) * 1000), float(np.median(xs) * 1000)


HEADER = (f"{'control':22s} {'engine min':>11s} {'engine median':>14s} {'with views min':>15s} "
          f"{'views median':>13s} {'baseline/engine':>16s}")


def table_row(name: str, runs: list[tuple[float, float]], ratio: str) -> float:
    """Print one control's line; returns its engine median (ms)."""
    e_min, e_med = stats_ms([r[0] for r in runs])
    v_min, v_med = stats_ms([r[1] for r in runs])
    print(f"{name:22s} {e_min:8,.0f} ms {e_med:11,.0f} ms {v_min:12,.0f} ms {v_med:10,.0f} ms {ratio:>16s}")
    return e_med


def open_dashboard(n: int) -> tuple:
    p = portfolio_with_teams(n)
    base = base_settings(p)
    dash = Dashboard(p, base, engine=LiveEngine(p), debounce=0.0)
    dash.stop()  # no frontier in the background: only `_compute`, called directly, is measured
    return p, base, dash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke test)")
    parser.add_argument("--sizes", default="30,100", help="initiative counts, comma-separated")
    args = parser.parse_args()
    repeats, risk_repeats = (5, 2) if args.quick else (15, 5)
    print(f"# bench_interactive: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{SAMPLES:,} samples, {repeats} changes per control ({risk_repeats} for risk objectives)")
    for n in (int(s) for s in args.sizes.split(",")):
        p, base, dash = open_dashboard(n)
        base_times = [baseline(p, base.change(seed=base.seed + k)) for k in range(max(3, repeats // 3))]
        base_med = float(np.median(base_times) * 1000)
        print(f"\n## {n} initiatives x {SAMPLES:,} samples (budget {base.budget:g}, Growth capacity "
              f"{base.capacity['Growth']:g})")
        print(f"baseline, everything from scratch (workbench.run): median {base_med:,.0f} ms")
        print(HEADER)
        fast_medians = []
        for name, change in controls(p, base).items():
            runs = [measure(dash, *change(k)) for k in range(risk_repeats if name in RISK else repeats)]
            e_med = float(np.median([r[0] for r in runs]) * 1000)
            # The baseline solves the expected-value plan: no ratio for the risk objectives.
            table_row(name, runs, "n/a" if name in RISK else f"{base_med / e_med:.1f}x")
            if name not in RISK:
                fast_medians.append(e_med)
        if n == 30:
            worst = max(fast_medians)
            print(f"goal: every control except the risk objectives <= {GOAL_MS:.0f} ms (engine median) at 30 "
                  f"initiatives: slowest {worst:,.0f} ms -> {'PASS' if worst <= GOAL_MS else 'MISS'}")
        dash.close()
    p, base, dash = open_dashboard(CVAR_SIZE)
    print(f"\n## CVaR at {CVAR_SIZE} initiatives x {SAMPLES:,} samples ({base.scenarios:,} selection scenarios)")
    print(HEADER)
    medians = {name: table_row(name, [measure(dash, *change(k)) for k in range(risk_repeats)], "n/a")
               for name, change in cvar_controls(p, base).items()}
    for label, names in (("right after a change", ("switching to CVaR", "an edit under CVaR")),
                         ("with the frontier on screen", ("... frontier on screen", "an edit under CVaR"))):
        worst = max(medians[name] for name in names)
        print(f"goal: switching to CVaR ({label}) and an edit under CVaR <= {CVAR_GOAL_MS:.0f} ms (engine "
              f"median) at {CVAR_SIZE} initiatives: slowest {worst:,.0f} ms -> "
              f"{'PASS' if worst <= CVAR_GOAL_MS else 'MISS'}")
    dash.close()


if __name__ == "__main__":
    main()

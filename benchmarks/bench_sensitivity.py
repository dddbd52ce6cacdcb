"""Benchmarks of the sensitivity analyses (`workbench.sensitivity`).

Run from the project root:

    .venv/bin/python benchmarks/bench_sensitivity.py           # full run (under a minute)
    .venv/bin/python benchmarks/bench_sensitivity.py --quick   # scaled-down smoke test

Each part is a `bench_*` function that measures and returns its numbers, and a `report_*`
function that prints them; `main` runs every part in PARTS. The exit status is always 0.

1. Sobol' indices (`workbench.sensitivity.sobol_indices.sobol`) against SALib on the Ishigami
   function (a = 7, b = 0.1, inputs uniform on [-pi, pi]) at the same base sample size n and the
   same number of bootstrap resamples: wall time of the whole pipeline (sampling, the model's
   n * (d + 2) evaluations, the indices and their bootstrap intervals; best of REPEATS) and the
   agreement of S1 and ST with SALib's and with the analytic values.
2. A 40-point budget sweep on 100 synthetic initiatives (those of bench_rice.py).
3. EVPI and per-initiative EVPPI on the demo portfolio (budget 40, 1,000 scenarios).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_rice's synthetic portfolio

from workbench.sensitivity.sobol_indices import BOOTSTRAP, sobol

SEED = 12345
REPEATS = 3  # best of
CONFIDENCE = 0.95

# --- 1. Sobol' indices against SALib -------------------------------------------------------------

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1
ISHIGAMI_NAMES = ("x1", "x2", "x3")
# Analytic indices of Ishigami (a = 7, b = 0.1).
ISHIGAMI_S1 = np.array([0.3139, 0.4424, 0.0])
ISHIGAMI_ST = np.array([0.5576, 0.4424, 0.2437])


def ishigami(x1: np.ndarray, x2: np.ndarray, x3: np.ndarray) -> np.ndarray:
    return np.sin(x1) + ISHIGAMI_A * np.sin(x2) ** 2 + ISHIGAMI_B * x3**4 * np.sin(x1)


def _best_time(run, repeats: int):
    best, result = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - t0)
    return best, result


def workbench_ishigami(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """S1, S1_conf, ST, ST_conf of Ishigami from `workbench.sensitivity.sobol_indices.sobol`."""
    inputs = {name: f"uniform(-{np.pi!r}, {np.pi!r})" for name in ISHIGAMI_NAMES}
    table = sobol(lambda x: ishigami(x["x1"], x["x2"], x["x3"]), inputs, n=n, seed=seed, confidence=CONFIDENCE)
    return tuple(table[c].to_numpy() for c in ("S1", "S1_conf", "ST", "ST_conf"))


def salib_ishigami(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The same with SALib: Saltelli sampling (scrambled Sobol'), then sobol.analyze."""
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    from workbench.rng import stream

    problem = {"num_vars": 3, "names": list(ISHIGAMI_NAMES), "bounds": [[-np.pi, np.pi]] * 3}
    # The generator workbench scrambles its base matrices with: both analyse the same points,
    # so the comparison is of the estimators, not of two samples.
    x = salib_sample.sample(problem, n, calc_second_order=False, seed=stream(seed, "sobol"))
    y = ishigami(x[:, 0], x[:, 1], x[:, 2])
    si = salib_analyze.analyze(problem, y, calc_second_order=False, num_resamples=BOOTSTRAP,
                               conf_level=CONFIDENCE, seed=seed)
    return si["S1"], si["S1_conf"], si["ST"], si["ST_conf"]


def bench_sobol(sizes: tuple[int, ...], repeats: int = REPEATS) -> list[dict]:
    """For each base sample size n: both pipelines' best time and their indices."""
    rows = []
    for n in sizes:
        t_wb, wb = _best_time(lambda n=n: workbench_ishigami(n, SEED), repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SALib's notices about sample sizes and seeds
            t_sa, sa = _best_time(lambda n=n: salib_ishigami(n, SEED), repeats)
        rows.append({"n": n, "evaluations": n * (len(ISHIGAMI_NAMES) + 2), "repeats": repeats, "time_workbench": t_wb,
                     "time_salib": t_sa, "workbench": wb, "salib": sa})
    return rows


def report_sobol(rows: list[dict]) -> None:
    from importlib.metadata import version

    print("1. Sobol' indices: workbench vs SALib on Ishigami (a = 7, b = 0.1)")
    print(f"   SALib {version('SALib')}; both: d = 3, calc_second_order off, {BOOTSTRAP} bootstrap resamples, "
          f"{CONFIDENCE:.0%} intervals, best of {rows[0]['repeats']}")
    print(f"   {'n':>6} {'evals':>7} {'workbench':>10} {'SALib':>9} {'ratio':>6}   "
          f"{'max|dS1|':>8} {'max|dST|':>8}   {'wb-exact S1/ST':>15} {'SALib-exact S1/ST':>18}   "
          f"{'mean conf wb/SALib':>18}")
    for r in rows:
        s1, s1c, st, stc = r["workbench"]
        q1, q1c, qt, qtc = r["salib"]
        ratio = r["time_workbench"] / r["time_salib"]
        d1, dt = np.abs(s1 - q1).max(), np.abs(st - qt).max()
        e_wb = f"{np.abs(s1 - ISHIGAMI_S1).max():.4f}/{np.abs(st - ISHIGAMI_ST).max():.4f}"
        e_sa = f"{np.abs(q1 - ISHIGAMI_S1).max():.4f}/{np.abs(qt - ISHIGAMI_ST).max():.4f}"
        conf = f"{np.r_[s1c, stc].mean():.4f}/{np.r_[q1c, qtc].mean():.4f}"
        print(f"   {r['n']:>6} {r['evaluations']:>7} {r['time_workbench']:>9.3f}s {r['time_salib']:>8.3f}s "
              f"{ratio:>6.2f}   {d1:>8.4f} {dt:>8.4f}   {e_wb:>15} {e_sa:>18}   {conf:>18}")
    last = rows[-1]
    print(f"   indices at n = {last['n']}:")
    columns = f"{'workbench':>16} {'SALib':>16}"
    print(f"   {'input':>6} {'S1 exact':>9} {columns}   {'ST exact':>9} {columns}")
    s1, s1c, st, stc = last["workbench"]
    q1, q1c, qt, qtc = last["salib"]
    for k, name in enumerate(ISHIGAMI_NAMES):
        print(f"   {name:>6} {ISHIGAMI_S1[k]:>9.4f} {s1[k]:>8.4f} ±{s1c[k]:.4f} {q1[k]:>8.4f} ±{q1c[k]:.4f}   "
              f"{ISHIGAMI_ST[k]:>9.4f} {st[k]:>8.4f} ±{stc[k]:.4f} {qt[k]:>8.4f} ±{qtc[k]:.4f}")
    print("   ratio = workbench time / SALib time (< 1: workbench faster); dS1, dST: workbench - SALib;")
    print("   exact: analytic Ishigami indices; conf: half-width of the interval.")


# --- main ----------------------------------------------------------------------------------------


def part_sobol(quick: bool) -> None:
    sizes = (256, 1024) if quick else (1024, 4096, 16384)
    report_sobol(bench_sobol(sizes, repeats=1 if quick else REPEATS))


def bench_sweep(n: int, points: int) -> dict:
    """A `points`-budget sweep of the expected-value plan on `n` synthetic initiatives."""
    import workbench as wb
    from workbench.sensitivity import budget_sweep

    from bench_rice import synthetic_portfolio

    portfolio = synthetic_portfolio(n)
    total = sum(i.effort.median() for i in portfolio)
    t0 = time.perf_counter()
    plan = wb.optimize(portfolio, budget=0.3 * total, scenarios=1000, seed=1)
    t1 = time.perf_counter()
    budgets = np.linspace(0.05, 0.8, points) * total
    sweep = budget_sweep(plan.problem, plan.scenarios, budgets)
    t2 = time.perf_counter()
    return {"n": n, "points": points, "optimize_s": t1 - t0, "sweep_s": t2 - t1,
            "optimal": int((sweep["status"] == "optimal").sum())}


def part_sweep(quick: bool) -> None:
    r = bench_sweep(30 if quick else 100, 10 if quick else 40)
    print(f"2. Budget sweep: {r['points']} budgets, {r['n']} initiatives, 1,000 scenarios, expected-value objective")
    print(f"   first optimize (sampling + one MILP)   {r['optimize_s']:8.2f} s")
    print(f"   sweep ({r['optimal']} of {r['points']} optimal)            {r['sweep_s']:8.2f} s   "
          f"({r['sweep_s'] / r['points'] * 1000:.0f} ms per budget)")


def bench_voi(budget: float = 40.0, scenarios: int = 1000, seed: int = 1) -> dict:
    """Wall-clock seconds of EVPI and EVPPI on the demo portfolio, with the figures they produced."""
    from workbench import demo_portfolio
    from workbench.planning.optimization import scenarios_and_problem
    from workbench.sensitivity import evpi_of, evppi_of

    t0 = time.perf_counter()
    sc, problem = scenarios_and_problem(demo_portfolio(), budget, scenarios=scenarios, seed=seed)
    t1 = time.perf_counter()
    e = evpi_of(problem, sc)
    t2 = time.perf_counter()
    table = evppi_of(problem, sc)
    t3 = time.perf_counter()
    return {"initiatives": len(problem), "scenarios": scenarios, "prepare_s": t1 - t0,
            "evpi_s": t2 - t1, "evpi": e.value, "evpi_se": e.se, "evpi_scenarios": e.scenarios,
            "evpi_solves": e.solves, "evppi_s": t3 - t2, "evppi_solves": table.attrs["solves"],
            "evppi_top": table.iloc[0]["id"], "evppi_top_value": float(table.iloc[0]["value"]),
            "evppi_top_se": float(table.iloc[0]["se"])}


def part_voi(quick: bool) -> None:
    r = bench_voi(scenarios=300 if quick else 1000)
    print(f"3. Value of information: demo portfolio ({r['initiatives']} initiatives), budget 40, "
          f"{r['scenarios']:,} scenarios")
    print(f"   EVPI   {r['evpi_s']:6.2f} s  {r['evpi_solves']} solves on {r['evpi_scenarios']} scenarios: "
          f"{r['evpi']:,.0f} ± {r['evpi_se']:,.0f}")
    print(f"   EVPPI  {r['evppi_s']:6.2f} s  {r['evppi_solves']} solves; top: {r['evppi_top']} "
          f"{r['evppi_top_value']:,.0f} ± {r['evppi_top_se']:,.0f}")


PARTS = (part_sobol, part_sweep, part_voi)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke test)")
    args = parser.parse_args(argv)
    print(f"bench_sensitivity: Python {platform.python_version()}, numpy {np.__version__}, "
          f"{platform.machine()}, {'quick' if args.quick else 'full'} run")
    for part in PARTS:
        print()
        part(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())

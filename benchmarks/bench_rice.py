"""Benchmarks of the Monte Carlo RICE engine (`workbench.simulate`).

Run from the project root:

    .venv/bin/python benchmarks/bench_rice.py           # full run (a few minutes)
    .venv/bin/python benchmarks/bench_rice.py --quick   # scaled-down smoke test

It prints three measurements; goals are reported as PASS/MISS but the exit status is always 0:

1. Speed: simulate() on 200 initiatives x 100,000 samples (mc, success mode) against a baseline
   measured in the same run: the time numpy alone takes to draw the same random numbers
   (every uncertain estimate's distribution drawn natively, plus the Bernoulli success
   uniforms). Rounds alternate engine and baseline; it prints the min and the median of each and
   their ratios. Goal: engine / baseline <= 1.5 (min and median).
2. Precision: samples (and time) each method (mc, lhs, sobol) needs to bring every P(top-5)
   of the demo portfolio to a 95% half-width of 0.01, over 5 seeds.
3. Memory: peak RSS of a child process simulating 1,000 initiatives x 1,000,000 samples
   (mc, success mode). Goal: < 2 GiB. It runs first (see bench_memory); progress goes to
   stderr and the report, in the order above, to stdout at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from workbench import Initiative, Portfolio, demo_portfolio, parse_estimate, simulate
from workbench.engine.simulation import CHUNK_ELEMENTS
from workbench.model.distributions import FAMILIES
from workbench.model.estimates import FACTORS
from workbench.rng import stream

SPEED_RATIO_GOAL = 1.5
MEMORY_GOAL_KIB = 2 * 1024 * 1024  # 2 GiB
PRECISION, TOP_K = 0.01, 5
PORTFOLIO_SEED = 20240601  # generation of the synthetic portfolios
SIM_SEED = 12345  # simulate() and the baseline draws
REPEATS = 5  # interleaved rounds of the speed measurement
PRECISION_SEEDS = tuple(range(SIM_SEED, SIM_SEED + 5))


# --- a synthetic portfolio with a realistic mix of estimates -----------------------------------


def _pick(rng: np.random.Generator, weighted: dict[str, float]) -> str:
    keys = list(weighted)
    p = np.array([weighted[k] for k in keys])
    return keys[rng.choice(len(keys), p=p / p.sum())]


def _num(x: float) -> str:
    return f"{float(f'{x:.2g}'):g}"


def _reach_cell(rng) -> str:
    lo = float(np.exp(rng.uniform(np.log(100), np.log(10_000))))
    if _pick(rng, {"range": 0.95, "point": 0.05}) == "point":
        return f"{_num(lo * 2 / 1000)}k" if lo >= 500 else _num(lo * 2)
    return f"{_num(lo)}..{_num(lo * rng.uniform(2, 5))}"


def _impact_cell(rng) -> str:
    words = ["minimal", "low", "medium", "high", "massive"]
    kind = _pick(rng, {"word": 0.7, "word range": 0.2, "tri": 0.1})
    if kind == "word":
        return words[rng.integers(5)]
    if kind == "word range":
        i = rng.integers(4)
        return f"{words[i]}..{words[min(i + 1 + rng.integers(2), 4)]}"
    return "tri(0.5, 1, 3)" if rng.random() < 0.5 else "tri(0.25, 1, 2)"


def _confidence_cell(rng) -> str:
    kind = _pick(rng, {"percent": 0.6, "word": 0.2, "range": 0.12, "beta": 0.08})
    if kind == "percent":
        return ["80%", "50%", "30%", "90%"][rng.integers(4)]
    if kind == "word":
        return ["low", "medium", "high"][rng.integers(3)]
    if kind == "range":
        return ["30%..70%", "50%..90%", "20%..60%"][rng.integers(3)]
    return ["beta(8, 2)", "beta(5, 5)"][rng.integers(2)]


def _effort_cell(rng) -> str:
    kind = _pick(rng, {"pert": 0.5, "range": 0.2, "tri": 0.1, "point": 0.15, "normal": 0.05})
    mode = float(rng.choice([1, 2, 3, 4, 5, 6, 8, 10]))
    lo, hi = mode * rng.uniform(0.5, 0.8), mode * rng.uniform(1.3, 2.0)
    if kind == "pert":
        return f"pert({_num(lo)}, {_num(mode)}, {_num(hi)})"
    if kind == "tri":
        return f"tri({_num(lo)}, {_num(mode)}, {_num(hi)})"
    if kind == "range":
        return f"{_num(lo)}..{_num(hi)}"
    if kind == "normal":
        return f"normal({_num(mode)}, {_num(mode / 6)})"  # sd small enough to keep effort > 0
    return _num(mode)


def synthetic_portfolio(n: int, seed: int = PORTFOLIO_SEED) -> Portfolio:
    """n initiatives with estimates in the proportions of the demo portfolio, parsed from text."""
    rng = np.random.default_rng(seed)
    cells = {"reach": _reach_cell, "impact": _impact_cell, "confidence": _confidence_cell, "effort": _effort_cell}
    initiatives = [
        Initiative(id=f"init-{j:04d}", name=f"Initiative {j}",
                   **{f: parse_estimate(cell(rng), f) for f, cell in cells.items()})
        for j in range(n)
    ]
    return Portfolio(tuple(initiatives), source=f"synthetic({n}, seed={seed})")


def describe_mix(portfolio: Portfolio) -> str:
    parts = []
    for f in FACTORS:
        counts: dict[str, int] = {}
        for e in portfolio.estimates(f):
            counts[e.family] = counts.get(e.family, 0) + 1
        parts.append(f"{f} " + " ".join(f"{k}:{v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
    return "; ".join(parts)


# --- 1. speed against numpy's own draws --------------------------------------------------------


def _draw_plan(portfolio: Portfolio) -> tuple[list[tuple[type, tuple[np.ndarray, ...], int]], int]:
    """Per factor and family, the stacked parameters of the uncertain columns; plus the Bernoulli count."""
    groups = []
    for f in FACTORS:
        by_family: dict[str, list] = {}
        for e in portfolio.estimates(f):
            if not e.is_point:  # a point estimate draws no random numbers
                by_family.setdefault(e.family, []).append(e.params)
        for family, params in by_family.items():
            stacked = tuple(np.array(col)[None, :] for col in zip(*params))
            groups.append((FAMILIES[family], stacked, len(params)))
    bernoulli = sum(1 for c in portfolio.estimates("confidence") if not (c.is_point and c.median() >= 1))
    return groups, bernoulli


def numpy_draws(portfolio: Portfolio, samples: int, seed: int) -> int:
    """Draw, and only draw, the random numbers simulate() needs; returns how many were drawn.

    Each family's `draw` is numpy's native generator (rng.lognormal, rng.beta for PERT,
    rng.triangular, expit(rng.normal) for logit-normal, ...); the success draws are rng.random.
    Drawn in the engine's chunk size, so the arrays are the same shape as the engine's.
    """
    groups, bernoulli = _draw_plan(portfolio)
    # simulate()'s own mc stream (replicate 0), so the numbers are the engine's own draws.
    rng = stream(seed, "simulate", 0)
    chunk = max(1, CHUNK_ELEMENTS // len(portfolio))
    drawn, left = 0, samples
    while left > 0:
        rows = min(chunk, left)
        for family, params, cols in groups:
            family.draw(rng, (rows, cols), *params)
            drawn += rows * cols
        if bernoulli:
            rng.random((rows, bernoulli))
            drawn += rows * bernoulli
        left -= rows
    return drawn


def interleaved(*fns, repeats: int = REPEATS) -> list[tuple[np.ndarray, np.ndarray, object]]:
    """Wall and CPU times of every round (and the last result) of each function, runs alternating
    so that load from other processes on the machine affects all of them alike."""
    wall, cpu, out = [[] for _ in fns], [[] for _ in fns], [None] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t, c = time.perf_counter(), time.process_time()
            out[k] = fn()
            wall[k].append(time.perf_counter() - t)
            cpu[k].append(time.process_time() - c)
    return [(np.array(w), np.array(c), o) for w, c, o in zip(wall, cpu, out)]


def bench_speed(n: int, samples: int) -> dict:
    portfolio = synthetic_portfolio(n)
    (engine, engine_cpu, result), (numpy_, numpy_cpu, drawn) = interleaved(
        lambda: simulate(portfolio, samples, SIM_SEED, "mc", "success"),
        lambda: numpy_draws(portfolio, samples, SIM_SEED))
    return dict(n=n, samples=samples, mix=describe_mix(portfolio), engine_s=engine.min(),
                engine_med=float(np.median(engine)), numpy_s=numpy_.min(), numpy_med=float(np.median(numpy_)),
                drawn=drawn, ratio=engine.min() / numpy_.min(),
                ratio_med=float(np.median(engine) / np.median(numpy_)),
                ratio_cpu=float(np.median(engine_cpu) / np.median(numpy_cpu)), kept=result.kept_scores is not None)


# --- 2. samples needed for a target precision -----------------------------------------------------


def bench_precision(methods=("mc", "lhs", "sobol"), seeds=PRECISION_SEEDS) -> dict:
    """Per method, the samples simulate(precision=...) stopped at, over several seeds.

    The stopping point depends on the seed (the error estimate is itself random, and lhs/sobol
    grow by doubling), so one seed alone can mislead.
    """
    portfolio = demo_portfolio()
    rows = []
    for method in methods:
        runs = []
        for seed in seeds:
            t = time.perf_counter()
            r = simulate(portfolio, seed=seed, method=method, confidence_mode="success",
                         precision=PRECISION, top_k=TOP_K)
            runs.append((r.samples, r.precision_reached, time.perf_counter() - t))
        samples, reached, seconds = (np.array(x) for x in zip(*runs))
        rows.append(dict(method=method, samples=samples, worst=reached.max(),
                         all_reached=bool((reached <= PRECISION).all()), seconds=seconds))
    return dict(portfolio=portfolio, seeds=seeds, rows=rows)


# --- 3. peak memory of a large run, in a child process ----------------------------------------------
#
# Linux caveat: subprocess starts children with vfork(), and at exec() the kernel records the
# *parent's* peak RSS into the child's ru_maxrss. A child started after the speed benchmark (which
# keeps a 160 MB score matrix) would report the parent's peak, not its own. So main() runs this
# measurement first, while the parent holds only its imports, and cross-checks RUSAGE_CHILDREN
# against the child's own VmHWM (/proc/self/status), which starts afresh at exec().


def _vm_hwm_kib() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def memory_child(n: int, samples: int) -> None:
    """Runs in the child: simulate and print a JSON line with the engine time and own peak RSS."""
    portfolio = synthetic_portfolio(n)
    t = time.perf_counter()
    result = simulate(portfolio, samples, SIM_SEED, "mc", "success")
    seconds = time.perf_counter() - t
    print(json.dumps(dict(simulate_s=seconds, simulated=result.samples, vm_hwm_kib=_vm_hwm_kib(),
                          kept=result.kept_scores is not None)))


def bench_memory(n: int, samples: int) -> dict:
    parent_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the floor a vfork'ed child inherits
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--memory-child", str(n), str(samples)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    out = dict(n=n, samples=samples, wall_s=wall, parent_kib=parent_kib)
    if proc.returncode != 0:
        return dict(out, error=(proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1])
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux; the only child we ran
    return dict(out, peak_kib=peak, **child)


# --- report --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def row(label: str, value: str) -> None:
    print(f"  {label:<36}{value}")


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def report_speed(s: dict) -> None:
    print(f"1. Speed: {s['n']} initiatives x {s['samples']:,} samples, mc, success mode "
          f"({REPEATS} interleaved rounds: min and median)")
    row("portfolio", f"synthetic_portfolio({s['n']}), generation seed {PORTFOLIO_SEED}")
    print(f"    mix: {s['mix']}")
    row("simulate()", f"min {s['engine_s']:7.3f} s, median {s['engine_med']:7.3f} s   "
        f"(score matrix kept: {s['kept']})")
    row("numpy draws only (baseline)", f"min {s['numpy_s']:7.3f} s, median {s['numpy_med']:7.3f} s   "
        f"({s['drawn']:,} random numbers)")
    for label, ratio in (("min", s["ratio"]), ("median", s["ratio_med"])):
        row(f"ratio engine / baseline ({label})", f"{ratio:8.2f}     goal <= {SPEED_RATIO_GOAL:g}   "
            f"{verdict(ratio <= SPEED_RATIO_GOAL)}")
    # Both are single-threaded: on a busy machine CPU time is the steadier comparison (not the goal).
    row("  CPU-time ratio (median)", f"{s['ratio_cpu']:8.2f}     (process CPU time, for a busy machine)")


def report_precision(p: dict) -> None:
    seeds = p["seeds"]
    print(f"2. Samples for every P(top-{TOP_K}) to reach a 95% half-width of {PRECISION} "
          f"(simulate(precision={PRECISION}, top_k={TOP_K}))")
    row("portfolio", f"demo_portfolio(): {len(p['portfolio'])} initiatives, "
        f"{len(p['portfolio'].correlations)} correlations; success mode")
    row("runs", f"{len(seeds)} seeds ({seeds[0]}..{seeds[-1]}) per method")
    print(f"  {'method':<8}{'median samples':>15}{'min':>9}{'max':>9}{'worst half-width':>18}"
          f"{'all reached':>13}{'median time':>13}")
    for r in p["rows"]:
        print(f"  {r['method']:<8}{int(np.median(r['samples'])):>15,}{r['samples'].min():>9,}{r['samples'].max():>9,}"
              f"{r['worst']:>18.4f}{'yes' if r['all_reached'] else 'no':>13}{np.median(r['seconds']):>11.2f} s")
    print("  samples per seed: " + "; ".join(
        f"{r['method']} " + " ".join(f"{x:,}" for x in r["samples"]) for r in p["rows"]))


def report_memory(m: dict) -> None:
    print(f"3. Memory: {m['n']:,} initiatives x {m['samples']:,} samples, mc, success mode (child process)")
    if "error" in m:
        row("child failed", f"after {m['wall_s']:.1f} s: {m['error']}   MISS")
        return
    row("peak RSS (RUSAGE_CHILDREN)", f"{m['peak_kib'] / 1024:8.1f} MiB   goal < 2048 MiB   "
        f"{verdict(m['peak_kib'] < MEMORY_GOAL_KIB)}")
    if m.get("vm_hwm_kib"):
        row("  cross-check: child's own VmHWM", f"{m['vm_hwm_kib'] / 1024:8.1f} MiB")
    row("  parent's peak RSS at launch", f"{m['parent_kib'] / 1024:8.1f} MiB   (a floor the child inherits)")
    row("wall time (child, incl. imports)", f"{m['wall_s']:8.1f} s")
    row("simulate() time in child", f"{m['simulate_s']:8.1f} s   (score matrix kept: {m['kept']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="scaled-down sizes for a smoke test")
    parser.add_argument("--speed-only", action="store_true", help="only measurement 1 (speed)")
    parser.add_argument("--memory-child", nargs=2, type=int, metavar=("N", "SAMPLES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0

    speed_n, speed_samples = (200, 20_000) if args.quick else (200, 100_000)
    mem_n, mem_samples = (1_000, 50_000) if args.quick else (1_000, 1_000_000)
    load = os.getloadavg()

    # Memory first: see the note above bench_memory. The report below keeps the order 1, 2, 3.
    m = p = None
    if not args.speed_only:
        progress(f"3/3 memory: {mem_n:,} x {mem_samples:,} in a child process"
                 f"{' (a few minutes)' if not args.quick else ''} ...")
        m = bench_memory(mem_n, mem_samples)
    progress(f"1/3 speed: {speed_n} x {speed_samples:,}, engine and numpy baseline, {REPEATS} rounds ...")
    s = bench_speed(speed_n, speed_samples)
    if not args.speed_only:
        progress("2/3 precision: mc, lhs, sobol on the demo portfolio ...")
        p = bench_precision()

    print(f"RICE engine benchmark{' (--quick: scaled down)' if args.quick else ''}")
    print(f"  python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"{platform.machine()}; engine chunk = {CHUNK_ELEMENTS:,} values per factor array")
    print(f"  load average at start: {' '.join(f'{x:.2f}' for x in load)} "
          f"(other processes on the machine skew timings)")
    print()
    report_speed(s)
    if not args.speed_only:
        print()
        report_precision(p)
        print()
        report_memory(m)
    return 0


if __name__ == "__main__":
    sys.exit(main())

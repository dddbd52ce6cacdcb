"""Benchmark of report batches on dask.distributed: 12 demo reports on 1 worker vs 2 workers, and
the cost of one task.

Run from the project root (needs the [distributed] extra, which the dev install has):

    .venv/bin/python benchmarks/bench_distributed.py           # 12 reports x 2 rounds (about 25 minutes)
    .venv/bin/python benchmarks/bench_distributed.py --quick   # 4 small reports, one round (about 3)

Two LocalClusters of single-threaded worker processes on loopback stay up for the whole run, so
their start-up is not timed. In interleaved rounds (min and median; other processes skew both
alike) it times `reports.run_batch(..., scheduler=...)` of the same quarterly demo reports (one
quarter each, so twelve distinct reports) on the 1-worker cluster and on the 2-worker cluster, and
prints the ratio (2 workers / 1 worker: 0.5 is perfect scaling on this 2-core machine; each
report's kernel is one process, so a batch scales with workers up to the cores). The per-task
overhead is the time of `tasks.run_tasks` of 1,000 trivial tasks on the 1-worker cluster less the
same loop in process, per task (dask's own figure is about 1 ms).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_planning import interleaved, progress, ratios, row, timing

from workbench.reports import run_batch
from workbench.settings import Settings
from workbench.tasks import run_tasks

GOAL = 0.65  # 2 workers / 1 worker on 2 cores: within 30% of perfect scaling
OVERHEAD_TASKS = 1000


def _nothing(k: int) -> int:
    return k


def batch(address: str, quarters: list[str], settings: Settings) -> float:
    """Run the reports on the cluster at `address` into a fresh folder; the seconds it took."""
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as out:
        t = time.perf_counter()
        written, failures = run_batch("quarterly", [("", q) for q in quarters], settings, {}, out, scheduler=address)
        seconds = time.perf_counter() - t
    if failures or len(written) != len(quarters):
        raise SystemExit(f"the batch failed: {failures}")
    return seconds


def overhead(client) -> tuple[float, float]:
    """(ms a task on the cluster, ms a task in process) over OVERHEAD_TASKS trivial tasks."""
    items = range(OVERHEAD_TASKS)
    run_tasks(_nothing, range(20), executor=client)  # warm: the function shipped once
    t = time.perf_counter()
    run_tasks(_nothing, items, executor=client.get_executor())
    remote = time.perf_counter() - t
    t = time.perf_counter()
    run_tasks(_nothing, items)
    local = time.perf_counter() - t
    return 1e3 * remote / OVERHEAD_TASKS, 1e3 * local / OVERHEAD_TASKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 reports of 2,000 samples, one round")
    parser.add_argument("--reports", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    reports, rounds = (4, 1) if args.quick else (args.reports, args.rounds)
    settings = Settings(budget=40, capacities={"Payments": 12, "Growth": 8},
                        **({"samples": 2000, "scenarios": 200} if args.quick else {}))
    quarters = [f"{2027 + k // 4}Q{k % 4 + 1}" for k in range(reports)]
    print(f"Report batches on dask.distributed: {reports} quarterly demo reports "
          f"({settings.samples:,} samples, {settings.scenarios:,} scenarios), {rounds} round(s)")
    print(f"  machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    clusters = {}
    try:
        for n in (1, 2):
            progress(f"starting a LocalCluster of {n} worker(s)")
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                   silence_logs=50)
            clusters[n] = (cluster, Client(cluster, set_as_default=False))
        res = interleaved({f"{n} worker(s)": (lambda n=n: batch(clusters[n][0].scheduler_address, quarters, settings))
                           for n in (1, 2)}, rounds)
        one, two = res["1 worker(s)"][0], res["2 worker(s)"][0]
        print(f"1. A batch of {reports} reports")
        timing("1 worker", one)
        timing("2 workers", two)
        row("per report, 1 worker", f"{min(one) / reports:7.2f} s")
        ratios("2 workers / 1 worker", two, one, GOAL)
        remote, local = overhead(clusters[1][1])
        print(f"2. Per-task overhead ({OVERHEAD_TASKS:,} trivial tasks, 1 worker)")
        row("a task on the cluster", f"{remote:7.3f} ms")
        row("the same call in process", f"{local:7.4f} ms")
        row("overhead a task", f"{remote - local:7.3f} ms "
            f"({np.round(100 * (remote - local) / 1e3 / (min(one) / reports), 4)}% of one report)")
    finally:
        for cluster, client in clusters.values():
            client.close()
            cluster.close()


if __name__ == "__main__":
    main()

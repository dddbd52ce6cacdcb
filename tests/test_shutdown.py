"""Clean shutdown with solves in flight, and the templates' own parameter check under plain papermill.

A dashboard's workers can be inside HiGHS (GIL released) when Python finalizes; a daemon thread
that re-takes the GIL then unwinds through a noexcept destructor and the process aborts
("terminate called without an active exception", status 134). These tests exit scripts and
shut down and restart real kernels while a CVaR frontier is being solved, including after a
`close()` that timed out, and check every exit status and stderr.
"""

from __future__ import annotations

import subprocess
import sys

import papermill
import pytest
from jupyter_client import KernelManager

from workbench.reports import template_path

# A demo-sized session whose frontier keeps the slow worker solving; `how` says how the script ends.
SESSION = """
import sys, time
import workbench
d = workbench.Dashboard(workbench.demo_portfolio(), objective="cvar", samples=1000, scenarios=200, debounce=0)
d.update(budget=50)  # a new plan, then its frontier: solves on the workers
d._fast.wait()
time.sleep({delay})
if "{how}" == "close":
    d.close(timeout=0)  # times out with a solve in flight: the exit must still join it
"""


def test_scripts_exit_cleanly_with_solves_in_flight():
    # Before the fix, the three that closed with a timeout aborted in 5 of 6 trials.
    runs = [subprocess.Popen([sys.executable, "-c", SESSION.format(delay=delay, how=how)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for delay, how in [(0, "exit"), (0.4, "exit"), (1.2, "exit"), (0, "close"), (0.4, "close"),
                               (1.2, "close")]]
    try:
        for run in runs:
            _, stderr = run.communicate(timeout=300)  # a hang fails here
            assert "terminate called" not in stderr and run.returncode == 0, (run.returncode, stderr[-2000:])
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()


def test_a_workers_solves_get_its_limit_and_a_short_one_once_stale():
    import threading

    from workbench import demo_portfolio
    from workbench.interactive.workers import CANCELLED_SOLVE_LIMIT, LatestOnly
    from workbench.planning.optimization import scenarios_and_problem, solve

    sc, problem = scenarios_and_problem(demo_portfolio(), 40, scenarios=50, seed=1)
    limits, first_done, go_on = [], threading.Event(), threading.Event()

    def work(payload, check):
        limits.append(solve(problem, sc, "mean", time_limit=60).time_limit)
        first_done.set()
        go_on.wait(30)
        limits.append(solve(problem, sc, "mean", time_limit=60).time_limit)  # stale by now

    worker = LatestOnly(work, lambda result: None, name="test-capped", solve_limit=3.0)
    try:
        worker.request(None)
        assert first_done.wait(60)
        worker.cancel()
        go_on.set()
        assert worker.wait(60)
    finally:
        assert worker.close(60)
    assert limits == [3.0, CANCELLED_SOLVE_LIMIT]
    assert solve(problem, sc, "mean", time_limit=60).time_limit == 60  # no cap outside a worker


def _kernel(log) -> KernelManager:
    # A generous wait: this checks how the kernel ends, not how fast a loaded machine finalizes it
    # (past the wait, jupyter_client sends SIGTERM and then SIGKILL, and the status would say so).
    km = KernelManager(kernel_name="python3", shutdown_wait_time=120)
    km.start_kernel(stdout=log, stderr=log)
    return km


def _run(km: KernelManager, code: str) -> None:
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(code, timeout=300, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()


def test_kernels_shut_down_and_restart_cleanly_with_solves_in_flight(tmp_path):
    ended = []  # (what, the kernel process) for every kernel that ended
    log = open(tmp_path / "kernels.log", "w+")
    try:
        for how in ("exit", "close"):  # shutdown, twice
            km = _kernel(log)
            _run(km, SESSION.format(delay=0.3, how=how))
            process = km.provisioner.process
            km.shutdown_kernel()
            ended.append((f"shutdown after {how}", process))
        km = _kernel(log)
        for how in ("exit", "close"):  # restart, twice
            _run(km, SESSION.format(delay=0.3, how=how))
            process = km.provisioner.process
            km.restart_kernel()
            ended.append((f"restart after {how}", process))
        km.shutdown_kernel(now=True)
        log.seek(0)
        stderr = log.read()
    finally:
        log.close()
    assert "terminate called" not in stderr, stderr[-2000:]
    assert [(what, process.returncode) for what, process in ended] == [(what, 0) for what, _ in ended], stderr[-2000:]


@pytest.mark.parametrize("parameters, message", [
    ({"budget": float("inf")}, "budget: expected a finite number below 1e100, got 'inf'"),
    ({"samples": 2}, "samples: must be at least 100, got 2"),
    ({"budgett": 40}, "unknown parameter 'budgett'; did you mean 'budget'?"),
])
def test_plain_papermill_stops_in_the_first_cell_after_the_parameters(tmp_path, parameters, message):
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(str(template_path("quarterly")), str(tmp_path / "out.ipynb"),
                                   parameters=parameters, progress_bar=False, cwd=str(tmp_path))
    error = failed.value
    # Cell 0 holds the parameters, cell 1 papermill's injected values: cell 2 is the check.
    assert (error.cell_index, error.ename, error.evalue) == (2, "InputError", message)
    assert "check_parameters" in error.source

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

from workbench.errors import InputError
from workbench.reports import check_parameters, template_path
from workbench.reports.run import QUARTERLY_ONLY, TEMPLATE_PARAMETERS

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


# A user's own (non-daemon) thread that solves after the main thread has ended, as Python is
# exiting, next to a Dashboard whose workers are being stopped.
USER_THREAD = """
import threading, time
import workbench
from workbench.planning.optimization import scenarios_and_problem, solve

d = workbench.Dashboard(workbench.demo_portfolio(), samples=1000, scenarios=50, debounce=0)
sc, problem = scenarios_and_problem(workbench.demo_portfolio(), 40, scenarios=50, seed=1)

def user_solves():
    threading.main_thread().join()
    time.sleep(0.5)  # the exit hooks have run by now
    print("limit", solve(problem, sc, "mean", time_limit=60).time_limit, flush=True)

threading.Thread(target=user_solves).start()
"""


def test_exit_shortens_the_workers_solves_only_not_a_users_own_thread():
    # Before the fix, the exit set a cap for the whole process and the user's solve got 0.25 s.
    run = subprocess.run([sys.executable, "-c", USER_THREAD], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "terminate called" not in run.stderr, run.stderr[-2000:]
    assert run.stdout.splitlines() == ["limit 60.0"]


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
    # Cell 0 keeps the kernel's names, cell 1 holds the parameters, cell 2 papermill's injected
    # values: cell 3 is the check.
    assert (error.cell_index, error.ename, error.evalue) == (3, "InputError", message)
    assert "check_parameters" in error.source


STARTUP = """
from pathlib import Path
import json as _json


class Helper:
    pass


def helper():
    return Path.cwd()


verbose = True
"""


def test_plain_papermill_ignores_what_ipython_startup_files_define(tmp_path, monkeypatch):
    # A startup file's import, class, function and variable are the kernel's, not parameters: only
    # the name papermill injected is refused (before the fix, every one of them was).
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-helpers.py").write_text(STARTUP)
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    with pytest.raises(papermill.PapermillExecutionError) as failed:
        papermill.execute_notebook(str(template_path("sensitivity")), str(tmp_path / "out.ipynb"),
                                   parameters={"budgett": 40, "samples": 1000}, progress_bar=False, cwd=str(tmp_path))
    error = failed.value
    assert (error.cell_index, error.ename) == (3, "InputError")
    assert error.evalue == "unknown parameter 'budgett'; did you mean 'budget'?"


def _startup_namespace() -> dict:
    """A kernel's globals before the parameters cell: IPython's names and a startup file's."""
    namespace = {"__name__": "__main__", "In": [""], "Out": {}, "get_ipython": lambda: None, "exit": object()}
    exec(compile(STARTUP, "00-helpers.py", "exec"), namespace)  # the test's own constant, as IPython runs it
    return namespace


def _template_globals(before: dict, injected: dict) -> dict:
    """The globals the check cell sees: `before`, the parameters cell, papermill's values, its import."""
    import workbench.reports

    defaults = dict.fromkeys(TEMPLATE_PARAMETERS)
    defaults.update(portfolio="", quarter="2026Q4", settings="", previous_portfolio="")
    return {**before, "_before_parameters": before, **defaults, **injected, "reports": workbench.reports,
            "_i3": "source", "_3": None}


def test_check_parameters_ignores_the_kernels_own_names_and_refuses_unknown_injected_ones():
    before = _startup_namespace()
    assert {"Path", "Helper", "helper", "verbose"} <= before.keys()
    job = check_parameters(_template_globals(before, {"budget": 30, "samples": 1000}), before=dict(before))
    assert (job.quarter, job.settings.budget, job.settings.samples) == ("2026Q4", 30, 1000)
    # An unknown injected name is refused, also when it rebinds a startup file's name.
    with pytest.raises(InputError) as refused:
        check_parameters(_template_globals(before, {"budgett": 30, "verbose": "yes"}), before=dict(before))
    assert [p.message for p in refused.value.problems] == [
        "unknown parameter 'verbose'", "unknown parameter 'budgett'; did you mean 'budget'?"]
    # papermill replacing the template's copy of the namespace is refused, not trusted.
    with pytest.raises(InputError, match="unknown parameter '_before_parameters'"):
        check_parameters(_template_globals(before, {}), before=3)


def test_template_parameters_is_what_the_parameters_cell_sets():
    import ast
    import json

    for kind in ("quarterly", "sensitivity"):
        cells = json.loads(template_path(kind).read_text())["cells"]
        (cell,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
        names = {t.id for node in ast.parse("".join(cell["source"])).body for t in node.targets}
        # actuals and previous_report feed the quarterly report's "Committed vs delivered" only.
        assert names == (TEMPLATE_PARAMETERS if kind == "quarterly" else TEMPLATE_PARAMETERS - QUARTERLY_ONLY), kind


def test_report_messages_quote_at_most_a_clipped_value():
    from workbench.limits import MAX_MESSAGE_VALUE

    huge = "x" * 1_000_000
    with pytest.raises(InputError) as refused:
        check_parameters({"quarter": huge, "portfolio": 10**6, huge: 1, "settings": 5})
    text = str(refused.value)
    assert len(text) < 6 * MAX_MESSAGE_VALUE + 400 and "got '1000000'" in text, text
    assert all(len(line) < MAX_MESSAGE_VALUE + 120 for line in text.splitlines())

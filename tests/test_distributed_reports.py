"""Report batches on a dask.distributed cluster (LocalCluster, worker processes on loopback only):
the same files as the local run, every report written by the client, failures counted, not fatal."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from importlib import resources
from pathlib import Path

import pytest

from workbench import tasks
from workbench.errors import InputError
from workbench.report_command import demo_history
from workbench.reports import run_batch
from workbench.reports.remote import job_inputs, relabel
from workbench.reports.run import check_parameters
from workbench.settings import Settings

from conftest import run_cli

SMALL = {"budget": 40, "samples": 2000, "scenarios": 200}  # a report of the demo in ~10 s


@pytest.fixture
def unit_portfolio(tmp_path) -> Path:
    """The demo portfolio as a file of a business unit's, in a folder with a space in its name
    (paths the report shows are put back to the client's, whatever they hold)."""
    folder = tmp_path / "unit & plans"
    folder.mkdir()
    path = folder / "Unit Q4.yaml"
    path.write_bytes((resources.files("workbench") / "data" / "demo_portfolio.yaml").read_bytes())
    return path


def test_a_batch_on_the_cluster_writes_the_local_reports_byte_for_byte(tmp_path, unit_portfolio, dask_clients):
    client = dask_clients(3)
    pairs = [(str(unit_portfolio), "2026Q4"), (str(unit_portfolio), "2027Q1")]
    settings = Settings.from_mapping(SMALL)
    extra = demo_history()  # last quarter's portfolio, actuals and report: four more files shipped
    progress = []
    local, local_failures = run_batch("quarterly", pairs, settings, extra, tmp_path / "local")
    remote, failures = run_batch("quarterly", pairs, settings, extra, tmp_path / "cluster",
                                 progress=lambda k, n: progress.append((k, n)), scheduler=client.scheduler.address)
    assert local_failures == failures == [] and len(local) == len(remote) == 2
    assert progress == [(1, 2), (2, 2)]
    for name in ("2026Q4-quarterly", "2027Q1-quarterly"):
        mine, theirs = (tmp_path / d / f"{name}.json" for d in ("local", "cluster"))
        assert theirs.read_bytes() == mine.read_bytes()
        record = json.loads(theirs.read_text(encoding="utf-8"))
        assert record["input"] == str(unit_portfolio)  # the client's path, not the worker's copy
        assert record["committed_vs_delivered"]["previous_report"] == extra["previous_report"]
        page = (tmp_path / "cluster" / f"{name}.html").read_text(encoding="utf-8")
        assert "Unit Q4.yaml" in page and "workbench-report-" not in page
        assert (tmp_path / "cluster" / f"{name}.ipynb").is_file()
    assert not list((tmp_path / "cluster").glob("*.failed.ipynb"))


def test_the_inputs_shipped_are_every_file_the_report_reads(tmp_path, unit_portfolio):
    correlations = unit_portfolio.with_name("Unit Q4.correlations.csv")
    correlations.write_text("a,b,rho\n", encoding="utf-8")
    job = check_parameters({**demo_history(), "portfolio": str(unit_portfolio), "quarter": "2026Q4",
                            "settings": SMALL})
    shipped = job_inputs(job)
    assert set(shipped) == {str(unit_portfolio), str(correlations), *demo_history().values()}
    assert shipped[str(unit_portfolio)] == unit_portfolio.read_bytes()


def test_relabel_puts_back_paths_as_each_format_escapes_them():
    staged = {'/home/a & b/"q4".csv': "/tmp/workbench-report-x1/inputs/0/&q4.csv"}
    assert relabel('{"input": "/tmp/workbench-report-x1/inputs/0/&q4.csv"}', staged, "json") == \
        '{"input": "/home/a & b/\\"q4\\".csv"}'
    assert relabel("<code>/tmp/workbench-report-x1/inputs/0/&amp;q4.csv</code>", staged, "html") == \
        "<code>/home/a &amp; b/&quot;q4&quot;.csv</code>"


def test_a_worker_killed_mid_batch_fails_its_report_and_the_others_are_written(tmp_path):
    import dask
    from distributed import Client, LocalCluster

    pairs = [("", q) for q in ("2026Q4", "2027Q1", "2027Q2")]
    settings = Settings.from_mapping(SMALL)
    # No second try on another worker: the killed report must fail (by default dask retries it);
    # one report a worker at a time, so the killed worker held one report (a dying worker fails
    # every task it holds, queued ones too).
    with dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}), \
            LocalCluster(n_workers=3, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                         silence_logs=50) as cluster, Client(cluster, set_as_default=False) as client:
        outcome = {}
        batch = threading.Thread(target=lambda: outcome.update(result=run_batch(
            "quarterly", pairs, settings, {}, tmp_path, scheduler=cluster.scheduler_address)))
        batch.start()
        victim = _busy_worker(client)
        time.sleep(3)  # the report's kernel is running
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        batch.join(timeout=600)
    written, failures = outcome["result"]
    assert len(written) == 2 and len(failures) == 1, failures
    name, message = failures[0]
    assert "KilledWorker" in message and name in {f"{q}-quarterly" for _, q in pairs}
    for _, q in pairs:
        assert (tmp_path / f"{q}-quarterly.json").is_file() == (f"{q}-quarterly" != name)


def _busy_worker(client, timeout: float = 120) -> str:
    """The address of a worker running a task, once one is."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            return busy[0]
        time.sleep(0.1)
    raise AssertionError("no worker started a report")


def test_the_cli_runs_a_batch_on_the_scheduler_of_the_environment(tmp_path, dask_clients):
    address = dask_clients(3).scheduler.address
    env = {**os.environ, tasks.SCHEDULER_VARIABLE: address}
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "workbench", "report", "quarterly", "--demo", "--quarter", "2026Q4",
                           "--budget", "40", "--samples", "2000", "--scenarios", "200", "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "2026Q4-quarterly.json").is_file() and str(tmp_path / "2026Q4-quarterly.html") in done.stdout


def test_scheduler_address_comes_from_the_flag_then_the_environment(monkeypatch):
    monkeypatch.setenv(tasks.SCHEDULER_VARIABLE, "tcp://10.0.0.9:8786")
    assert tasks.scheduler_address("tcp://127.0.0.1:1") == "tcp://127.0.0.1:1"
    assert tasks.scheduler_address(None) == "tcp://10.0.0.9:8786"
    assert tasks.scheduler_address("") is None  # --scheduler "" runs here, whatever the environment says
    monkeypatch.setenv(tasks.SCHEDULER_VARIABLE, "  ")
    assert tasks.scheduler_address(None) is None


def test_an_unreachable_scheduler_is_a_clear_input_error(monkeypatch):
    monkeypatch.setattr(tasks, "CONNECT_TIMEOUT", 1)
    with pytest.raises(InputError) as error, tasks.cluster("tcp://127.0.0.1:9"):
        pass
    message = str(error.value)
    assert "tcp://127.0.0.1:9" in message and "cannot reach the dask scheduler" in message and "dask worker" in message


def test_without_dask_distributed_the_scheduler_option_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(InputError) as error, tasks.cluster("tcp://127.0.0.1:8786"):
        pass
    assert "pip install 'decision-workbench[distributed]'" in str(error.value)


def test_decks_are_not_sent_to_a_cluster():
    done = run_cli("report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "--format", "pptx",
                   "--scheduler", "tcp://127.0.0.1:8786")
    assert done.returncode == 2 and "--scheduler runs HTML report batches" in done.stderr


def test_the_sensitivity_command_on_a_cluster_prints_the_local_numbers(dask_clients):
    address = dask_clients(3).scheduler.address
    args = ("sensitivity", "--demo", "--budget", "40", "--budget-range", "30:50:10", "--voi", "--scenarios", "300",
            "--samples", "2000", "--format", "json")
    here, there = run_cli(*args), run_cli(*args, "--scheduler", address)
    assert here.returncode == there.returncode == 0, there.stderr
    assert there.stdout == here.stdout and json.loads(there.stdout)["evppi"]


def test_the_optimize_command_on_a_cluster_finds_the_same_frontier_and_gap(dask_clients):
    address = dask_clients(3).scheduler.address
    args = ("optimize", "--demo", "--budget", "40", "--frontier", "--gap-replications", "3", "--scenarios", "300",
            "--samples", "2000", "--format", "json")
    here, there = run_cli(*args), run_cli(*args, "--scheduler", address)
    assert here.returncode == there.returncode == 0, there.stderr
    mine, theirs = json.loads(here.stdout), json.loads(there.stdout)
    # The frontier on the cluster is scanned in segments: the same plans, a few more solves.
    assert theirs["frontier"] == mine["frontier"] and len(mine["frontier"]) >= 2
    assert theirs["optimality_gap"] == mine["optimality_gap"] and theirs["selected"] == mine["selected"]


def test_a_worker_behind_a_symlinked_temp_folder_reports_the_clients_paths(tmp_path, unit_portfolio, monkeypatch):
    """The worker's task in process, its temporary folder behind a symbolic link (as on macOS), with
    a calibration and a correlations companion shipped: the JSON is the local run's, byte for byte."""
    import tempfile

    from workbench.calibration import calibrate, save_calibration
    from workbench.reports import run_report
    from workbench.reports.remote import publish_rendered, render_report

    calibration = save_calibration(calibrate().calibration, tmp_path / "calibration.json")
    unit_portfolio.with_name("Unit Q4.correlations.csv").write_text("a,b,rho\n", encoding="utf-8")
    job = check_parameters({"portfolio": str(unit_portfolio), "quarter": "2026Q4",
                            "settings": {**SMALL, "calibration": str(calibration)}})
    real = tmp_path / "real-tmp"
    real.mkdir()
    (tmp_path / "linked-tmp").symlink_to(real)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "linked-tmp"))
    rendered = render_report("quarterly", job, "2026Q4-quarterly", job_inputs(job))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert rendered.error is None and "real-tmp" not in rendered.data and "linked-tmp" not in rendered.data
    remote = publish_rendered(rendered, tmp_path / "cluster")
    local = run_report("quarterly", job, tmp_path / "local", name="2026Q4-quarterly")
    assert remote[2].read_bytes() == local[2].read_bytes()
    record = json.loads(remote[2].read_text(encoding="utf-8"))
    assert record["settings"]["calibration"] == str(calibration) and record["calibration"]["applied"]
    assert not list(real.iterdir())  # the worker's staging folder is gone


def test_a_cluster_without_workers_is_refused(monkeypatch):
    from distributed import LocalCluster

    monkeypatch.setattr(tasks, "CONNECT_TIMEOUT", 1)
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0", silence_logs=50) as empty:
        with pytest.raises(InputError, match="the scheduler has no workers after 1 s"), \
                tasks.cluster(empty.scheduler_address):
            pass


def test_a_worker_of_another_version_is_refused(dask_clients, monkeypatch):
    import workbench

    address = dask_clients(1).scheduler.address
    monkeypatch.setattr(workbench, "__version__", "9.9.9")  # here; the worker imports the real one
    with pytest.raises(InputError) as error, tasks.cluster(address):
        pass
    assert "every worker needs workbench 9.9.9" in str(error.value) and "has 0." in str(error.value)


def _die(k: int) -> int:
    os._exit(1)


def test_a_worker_lost_during_an_analysis_is_a_cluster_error():
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                         silence_logs=50) as cluster, Client(cluster, set_as_default=False) as client:
        with pytest.raises(tasks.ClusterError, match=r"the cluster lost a task \(KilledWorker"):
            tasks.run_tasks(_die, [1], executor=client.get_executor())


def test_the_first_items_error_is_raised_whatever_ended_first(dask_clients):
    with pytest.raises(ZeroDivisionError):  # item 0 fails with ZeroDivisionError, item 2 with KeyError
        tasks.run_tasks(_fails, [0, 1, 2], executor=dask_clients(3))


def _fails(k: int) -> int:
    if k == 0:
        time.sleep(1.0)  # ends last
        return 1 // 0
    if k == 2:
        raise KeyError(k)
    return k

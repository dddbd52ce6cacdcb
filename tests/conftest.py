"""Shared test helpers: build small portfolios in code; a headless Chromium for browser tests."""

from __future__ import annotations

import pytest
from hypothesis import settings

from workbench import Initiative, Portfolio, parse_estimate

from browser import launch_chromium

# Property tests draw the same examples on every run (CI reproducible, never flaky); a test's own
# @settings keep this unless they say otherwise. To explore, run with derandomize=False.
settings.register_profile("workbench", derandomize=True, database=None, deadline=None)
settings.load_profile("workbench")


def initiative(id_: str, reach="100", impact="1", confidence="100%", effort="1", **extra) -> Initiative:
    est = {f: parse_estimate(v, f) for f, v in
           (("reach", reach), ("impact", impact), ("confidence", confidence), ("effort", effort))}
    return Initiative(id=id_, name=extra.pop("name", id_.title()), **est, **extra)


def portfolio(*initiatives: Initiative, correlations=()) -> Portfolio:
    return Portfolio(tuple(initiatives), tuple(correlations), source="test")


@pytest.fixture
def make_initiative():
    return initiative


@pytest.fixture
def make_portfolio():
    return portfolio


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (/usr/bin/chromium) driven by Playwright, shared by the session.

    Pass it to ``open_offline`` from tests/browser.py. Skips when Chromium or playwright is
    missing, but fails when CI=true.
    """
    with launch_chromium() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def dask_clients():
    """clients(n): a dask Client on a LocalCluster of n single-threaded worker processes, on
    loopback only, made once per n for the session. Requires dask.distributed (the dev install has
    it): a missing install fails, it does not skip."""
    from distributed import Client, LocalCluster

    made: dict[int, tuple] = {}

    def clients(n: int):
        if n not in made:
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address="127.0.0.1:0", silence_logs=50)
            made[n] = (cluster, Client(cluster, set_as_default=False))
        return made[n][1]

    yield clients
    for cluster, client in made.values():
        client.close()
        cluster.close()


def run_cli(*args: str, cwd=None):
    """The real `workbench` command in a fresh interpreter, as a user's shell would run it."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          timeout=900, cwd=cwd)


@pytest.fixture
def lab(browser, tmp_path, request):
    """A JupyterLab server rooted at ``tmp_path`` and a watched page on it (tests/lab_harness.py).

    Write or copy notebooks into ``tmp_path``, then ``lab.open_notebook(name)``. The server log is
    ``artifacts/<test name>-jupyterlab.log``. Skips/fails like ``browser``.
    """
    import re

    from browser import ARTIFACTS
    from lab_harness import lab_page, lab_server

    stem = re.sub(r'[^A-Za-z0-9_.-]+', '_', request.node.name)
    with lab_server(tmp_path, log_path=ARTIFACTS / f"{stem}-jupyterlab.log") as server, \
            lab_page(browser, server) as page:
        yield page
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            # What the page showed when the test failed: a screenshot, and the text of every
            # dashboard status line, added to the failure's report so it reaches the CI log.
            page.screenshot(f"{stem}-failure")
            statuses = page.page.locator("[class*='wb-'][class*='status']").all_inner_texts()
            report.sections.append(("dashboard status lines at the failure", "\n".join(statuses) or "(none)"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item (``item.report_call``) for fixtures' teardown."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report

"""Sweeps and value of information on executors (dask LocalClusters of 1 and 3 workers, a process
pool) give the serial run's numbers exactly: same frames, same plans, same solve counts."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from workbench import Correlation
from workbench.engine.scenarios import sample_scenarios
from workbench.planning.optimization import scenarios_and_problem
from workbench.planning.plans import Plan
from workbench.sensitivity import analyze, budget_sweep, evpi, evpi_of, evppi_of, split_sweep

from conftest import initiative, portfolio

BUDGETS = [1.0, 4.0, 6.0, 8.0, 10.0, 12.0, 16.0]  # 1: the must-have does not fit (infeasible)


def _portfolio(n: int = 8):
    """n uncertain initiatives on two teams and two themes, one must-have, one correlated pair
    (i1, i2: EVPPI's binned path) and one exclusion."""
    inis = [initiative(f"i{k}", reach=f"{40 + 25 * k}..{240 + 35 * (k % 5)}", impact=str([0.5, 1, 2][k % 3]),
                       confidence=f"{[60, 80, 100][k % 3]}%", effort=f"{1 + k % 3}..{3 + k % 4}",
                       team="AB"[k % 2], theme="Grow" if k % 3 else "Keep",
                       moscow="must" if k == 0 else "could", excludes=("i4",) if k == 3 else ())
            for k in range(n)]
    return portfolio(*inis, correlations=[Correlation(("i1", "reach"), ("i2", "reach"), 0.7)])


@pytest.fixture(scope="module")
def case():
    """(problem, selection scenarios, evaluation scenarios) of the test portfolio at budget 10."""
    p = _portfolio()
    sc, problem = scenarios_and_problem(p, 10.0, scenarios=300, seed=11)
    return problem, sc, sample_scenarios(p, 200, 11, purpose="evaluation")


@pytest.fixture(params=["1 worker", "3 workers", "3 workers, the Client itself"])
def executor(request, dask_clients):
    client = dask_clients(1 if request.param == "1 worker" else 3)
    return client if request.param.endswith("itself") else client.get_executor()


@pytest.fixture(scope="module")
def process_pool():
    # spawn: forking a test process whose dask clients run threads could copy a held lock
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def _recorder():
    calls: list[tuple[int, int]] = []
    return calls, lambda k, n: calls.append((k, n))


def _assert_progress(calls, total):
    """One call per task, each (done, total), counting up to (total, total)."""
    assert [k for k, _ in calls] == list(range(1, total + 1)) and {n for _, n in calls} == {total}


def _sweeps(case, **kw):
    problem, sc, ev = case
    return (budget_sweep(problem, sc, BUDGETS, evaluate_on=ev, **kw),
            split_sweep(problem, sc, "theme:Grow", evaluate_on=ev, **kw))


def _voi(case, **kw):
    """EVPI by one MILP per scenario (enumerate_up_to=0: 30 rows, tasks of 25 and 5) and EVPPI by MILPs
    (the binned path for i1 and i2) and by enumeration."""
    problem, sc, ev = case
    return (evpi_of(problem, sc, max_scenarios=30, enumerate_up_to=0, evaluate_on=ev, **kw),
            evpi_of(problem, sc, max_scenarios=26, enumerate_up_to=0, **kw),  # valued on the held-out half
            evppi_of(problem, sc, enumerate_up_to=0, evaluate_on=ev, **kw),
            evppi_of(problem, sc, evaluate_on=ev, **kw))


@pytest.fixture(scope="module")
def serial_sweeps(case):
    return _sweeps(case)


@pytest.fixture(scope="module")
def serial_voi(case):
    return _voi(case)


def _assert_same_voi(got, want):
    for a, b in zip(got[:2], want[:2]):
        assert a == b  # every field: value, se, both expectations, scenarios, method, solves, exact
    for a, b in zip(got[2:], want[2:]):
        assert_frame_equal(a, b, check_exact=True)
        assert a.attrs == b.attrs  # method, solves, bins, scenarios, evaluated_on


def test_the_serial_runs_exercise_every_path(serial_sweeps, serial_voi):
    sweep, split = serial_sweeps
    assert sweep["status"].iloc[0] == "infeasible" and (sweep["status"].iloc[1:] == "optimal").all()
    assert len({tuple(s) for s in sweep["selected"]}) > 3 and len({tuple(s) for s in split["selected"]}) > 3
    with_ev, half, by_milp, by_enumeration = serial_voi
    assert with_ev.method == "milp" and with_ev.solves == 31 and with_ev.exact and half.scenarios == 26
    assert by_milp.attrs["method"] == "milp" and by_milp.attrs["solves"] > len(by_milp)
    assert by_enumeration.attrs["method"] == "enumeration" and by_enumeration.attrs["solves"] == 0
    assert set(by_milp.loc[by_milp["correlated_with"] != "", "id"]) == {"i1", "i2"}
    assert (by_milp["value"] > 0).any()


def test_sweeps_on_dask_equal_the_serial_run(case, executor, serial_sweeps):
    calls_b, progress_b = _recorder()
    calls_s, progress_s = _recorder()
    problem, sc, ev = case
    sweep = budget_sweep(problem, sc, BUDGETS, evaluate_on=ev, executor=executor, progress=progress_b)
    split = split_sweep(problem, sc, "theme:Grow", evaluate_on=ev, executor=executor, progress=progress_s)
    assert_frame_equal(sweep, serial_sweeps[0], check_exact=True)
    assert_frame_equal(split, serial_sweeps[1], check_exact=True)
    _assert_progress(calls_b, len(BUDGETS))
    _assert_progress(calls_s, 11)


def test_value_of_information_on_dask_equals_the_serial_run(case, executor, serial_voi):
    _assert_same_voi(_voi(case, executor=executor), serial_voi)


def test_a_process_pool_gives_the_serial_numbers_too(case, process_pool, serial_sweeps, serial_voi):
    for got, want in zip(_sweeps(case, executor=process_pool), serial_sweeps):
        assert_frame_equal(got, want, check_exact=True)
    _assert_same_voi(_voi(case, executor=process_pool), serial_voi)


def test_a_risk_objective_sweep_on_dask_equals_the_serial_run(case, dask_clients):
    problem, sc, ev = case
    kw = dict(objective="blend", alpha=0.2, lam=0.5, evaluate_on=ev)
    serial = budget_sweep(problem, sc, BUDGETS, **kw)
    on_workers = budget_sweep(problem, sc, BUDGETS, executor=dask_clients(3).get_executor(), **kw)
    assert_frame_equal(on_workers, serial, check_exact=True)


def test_the_portfolio_entry_point_passes_the_executor(dask_clients):
    kw = dict(scenarios=200, seed=5, max_scenarios=30, enumerate_up_to=0)
    assert evpi(_portfolio(), 10.0, executor=dask_clients(3), **kw) == evpi(_portfolio(), 10.0, **kw)


def test_analyze_on_dask_equals_the_serial_run(case, dask_clients):
    problem, sc, ev = case
    plan = Plan(np.isin(problem.ids, ["i0", "i1", "i5"]), sc, problem, "test", "mean")
    kw = dict(budgets=BUDGETS[:4], split="team:A", voi=True, evaluate_on=ev)
    serial = analyze(plan, **kw)
    calls, progress = _recorder()
    on_workers = analyze(plan, executor=dask_clients(3).get_executor(), progress=progress, **kw)
    for name in ("budget_sweep", "entry_budgets", "split_sweep", "evppi"):
        assert_frame_equal(getattr(on_workers, name), getattr(serial, name), check_exact=True)
    assert on_workers.evpi == serial.evpi
    total = 4 + 11 + 2
    assert calls[-1] == (total, total) and [k for k, _ in calls] == sorted(k for k, _ in calls)


def test_a_task_that_raises_raises_here(case, dask_clients, process_pool):
    problem, _, _ = case
    other = sample_scenarios(_portfolio(5), 50, 1)  # another portfolio's scenarios: the solver refuses them
    for executor in (dask_clients(3).get_executor(), dask_clients(1), process_pool, None):
        with pytest.raises(ValueError, match="the scenarios hold 5 initiatives, the problem 8"):
            budget_sweep(problem, other, BUDGETS[1:], executor=executor)

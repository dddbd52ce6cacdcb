"""The frontier, the optimality gap and roadmap what-ifs on an executor: the same numbers, digit for
digit, in process and on dask clusters of 1 and 3 workers (and a process pool)."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import workbench as wb
from workbench import pipeline
from workbench.errors import InputError
from workbench.model.quarters import parse_quarter
from workbench.planning import frontier as frontier_module
from workbench.planning.cvar_cuts import CutPool
from workbench.planning.frontier import frontier, frontier_of
from workbench.planning.optimization import scenarios_and_problem
from workbench.planning.plan_quality import ReplicationDraws, optimality_gap
from workbench.roadmap_pipeline import roadmaps

from conftest import initiative, portfolio

Q1 = parse_quarter("2027Q1")


def risk_ladder(n: int = 10, seed: int = 4):
    """n initiatives from safe to risky (more value, less likely, wider ranges), distinct estimates,
    budget for about half: a frontier of several points."""
    rng = np.random.default_rng(seed)
    inis = []
    for i in range(n):
        risk = i / (n - 1)
        mean = 100 * (1 + 2 * risk) * rng.uniform(0.8, 1.2)
        lo, hi = mean / (1.2 + 4 * risk), mean * (1.2 + 4 * risk)
        inis.append(initiative(f"i{i}", reach=f"{lo:.1f}..{hi:.1f}", confidence=f"{round(100 - 70 * risk)}%",
                               effort=f"{rng.uniform(1, 3):.2f}"))
    p = portfolio(*inis)
    return p, round(0.5 * sum(float(x.effort.median()) for x in inis), 2)


def figures(front) -> list:
    """Everything a frontier says, plan by plan."""
    return [(p.funded.tobytes(), p.expected_value, p.expected_value_se, p.cvar, p.cvar_se, p.cost, p.status, p.gap,
             p.label, p.objective) for p in front.plans] + [front.solves, front.complete]


@pytest.fixture(scope="module")
def ladder():
    p, budget = risk_ladder()
    kwargs = dict(scenarios=200, seed=4, samples=1000)
    serial = frontier(p, budget, **kwargs)
    return p, budget, kwargs, serial


def test_the_segmented_frontier_is_the_serial_chains_and_the_same_on_1_and_3_workers(ladder, dask_clients):
    p, budget, kwargs, serial = ladder
    assert serial.complete and len(serial.plans) >= 4  # a frontier worth splitting
    one = frontier(p, budget, executor=dask_clients(1).get_executor(), **kwargs)
    three = frontier(p, budget, executor=dask_clients(3).get_executor(), **kwargs)
    assert figures(one) == figures(three)
    assert one.complete and one.to_frame().equals(three.to_frame())
    # the same non-dominated set as the chain; the segments cost a solve each to reach the next one
    assert [x.funded.tobytes() for x in one.plans] == [x.funded.tobytes() for x in serial.plans]
    assert [(x.expected_value, x.cvar) for x in one.plans] == [(x.expected_value, x.cvar) for x in serial.plans]
    assert serial.solves < one.solves <= serial.solves + frontier_module.SEGMENTS
    # the Client itself and a process pool give the same too
    assert figures(frontier(p, budget, executor=dask_clients(3), **kwargs)) == figures(one)
    with ProcessPoolExecutor(2) as pool:
        assert figures(frontier(p, budget, executor=pool, **kwargs)) == figures(one)


def test_the_segments_find_the_chains_non_dominated_set_on_the_selection_scenarios(ladder, dask_clients):
    p, budget, kwargs, _ = ladder
    sc, problem = scenarios_and_problem(p, budget, scenarios=kwargs["scenarios"], seed=kwargs["seed"])
    chain = frontier_of(problem, sc, pool=CutPool())
    segmented = frontier_of(problem, sc, pool=CutPool(), executor=dask_clients(1).get_executor())
    assert chain.complete and segmented.complete and len(chain.plans) >= 6
    assert [x.funded.tobytes() for x in segmented.plans] == [x.funded.tobytes() for x in chain.plans]
    assert len(chain.plans) + 1 <= chain.solves <= len(chain.plans) + 3  # without an executor: the chain


def test_a_capped_frontier_is_the_chains_whatever_the_executor(ladder, dask_clients):
    p, budget, kwargs, _ = ladder
    sc, problem = scenarios_and_problem(p, budget, scenarios=kwargs["scenarios"], seed=kwargs["seed"])
    for cap in (2, 6):
        serial = frontier_of(problem, sc, max_solves=cap, pool=CutPool())
        for client in (dask_clients(1), dask_clients(3)):
            front = frontier_of(problem, sc, max_solves=cap, pool=CutPool(), executor=client.get_executor())
            assert figures(front) == figures(serial) and front.solves == serial.solves <= cap
            assert not front.complete


def test_the_optimality_gap_is_the_same_in_process_and_on_1_and_3_workers(dask_clients):
    p, budget = risk_ladder(8, seed=5)
    outcome = wb.run(p, budget=budget, seed=4, samples=2000, scenarios=200, objective="cvar")
    s = outcome.settings
    serial = pipeline.optimality_gap(outcome, replications=4)  # today's closure, in process
    draws = ReplicationDraws(outcome.portfolio, s.scenarios, s.seed, s.confidence_mode, s.spread_mapping)
    assert optimality_gap(outcome.plan, draws, 4) == serial
    for client in (dask_clients(1), dask_clients(3)):
        assert optimality_gap(outcome.plan, draws, 4, executor=client.get_executor()) == serial
    assert optimality_gap(outcome.plan, draws, 4, executor=dask_clients(3)) == serial
    done = []
    optimality_gap(outcome.plan, draws, 3, executor=dask_clients(3), progress=lambda k, n: done.append((k, n)))
    assert done == [(1, 3), (2, 3), (3, 3)]


DEMO = dict(capacities={t: 6 for t in ("Data", "Growth", "Mobile", "Payments", "Platform")}, samples=400,
            scenarios=40, quarters="2027Q1:2027Q4")


@pytest.fixture(scope="module")
def variants():
    base = wb.Settings(**DEMO)
    return {"base": base, "lean": base.change(capacities={t: 4 for t in DEMO["capacities"]}),
            "longer": base.change(quarters="2027Q1:2028Q2"), "cvar": base.change(objective="cvar")}


def test_roadmap_variants_are_the_same_in_process_and_on_1_and_3_workers(variants, dask_clients):
    portfolio_ = wb.demo_portfolio()
    serial = roadmaps(portfolio_, variants, start=Q1)
    assert list(serial) == list(variants)
    expected = {name: r.to_dict() for name, r in serial.items()}
    # one shared engine gives what a fresh engine per variant gives
    assert expected["lean"] == wb.roadmap(portfolio_, variants["lean"], start=Q1).to_dict()
    assert expected["base"] != expected["lean"] and expected["base"] != expected["longer"]
    for executor in (dask_clients(1).get_executor(), dask_clients(3).get_executor(), dask_clients(3)):
        got = roadmaps(portfolio_, variants, start=Q1, executor=executor)
        assert list(got) == list(variants)
        assert {name: r.to_dict() for name, r in got.items()} == expected


def test_a_roadmap_result_pickles():
    result = wb.roadmap(wb.demo_portfolio(), wb.Settings(**DEMO))
    again = pickle.loads(pickle.dumps(result))
    assert again.to_dict() == result.to_dict()
    assert again.to_frame().equals(result.to_frame())


def test_every_variants_problems_are_named_before_anything_runs(variants, dask_clients):
    bad = {"good": variants["base"], "typo": variants["base"].change(capacities={"Paymnts": 4}),
           "ids": variants["base"].change(starts={"nope": "2027Q2"})}
    with pytest.raises(InputError) as err:
        roadmaps(wb.demo_portfolio(), bad, start=Q1, executor=dask_clients(1).get_executor())
    messages = [p.message for p in err.value.problems]
    assert any(m.startswith("typo: capacities") for m in messages), messages
    assert any(m.startswith("ids: starts: unknown initiative 'nope'") for m in messages), messages
    assert not any(m.startswith("good") for m in messages)

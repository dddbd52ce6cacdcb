"""The complete frontier and the cutting-plane CVaR, against brute force and Rockafellar-Uryasev."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from workbench.engine.scenarios import sample_scenarios
from workbench.planning.cvar_cuts import CutPool
from workbench.planning.frontier import Frontier, frontier_of, non_dominated
from workbench.planning.optimization import scenarios_and_problem, solve
from workbench.planning.plans import Plan, cvar

from conftest import initiative, portfolio

TEAMS = ("Payments", "Growth")


def random_instance(seed: int, n: int = 14, scenarios: int = 200):
    """A random portfolio of n uncertain initiatives (some dependencies, one capacity), its
    selection scenarios and planning problem."""
    rng = np.random.default_rng(seed)
    inis = []
    for i in range(n):
        deps = (f"i{i - 1}",) if i and rng.random() < 0.1 else ()
        reach, effort = int(rng.integers(50, 1000)), round(float(rng.uniform(0.5, 5)), 2)
        inis.append(initiative(f"i{i}", reach=f"{reach / 3:g}..{reach * 2:g}", impact=str(rng.choice(["0.5", "1", "2"])),
                               confidence=f"{rng.choice([30, 50, 80, 100])}%", effort=str(effort),
                               team=TEAMS[i % 2], depends_on=deps))
    p = portfolio(*inis)
    total = sum(float(ini.effort.median()) for ini in inis)
    sc, problem = scenarios_and_problem(p, round(0.4 * total, 2), scenarios=scenarios, seed=seed,
                                        capacities={"Payments": round(0.3 * total, 2)})
    return sc, problem


def brute_force_front(sc, problem, alpha: float = 0.1) -> list[tuple[float, float, bytes]]:
    """(mean, CVaR, mask) of every non-dominated feasible subset, by enumeration and plans.cvar."""
    n = len(problem)
    x = np.array(list(itertools.product([False, True], repeat=n)))
    ok = np.array([not problem.violations(row) for row in x])
    x = x[ok]
    values = sc.value @ x.T
    means = values.mean(axis=0)
    cvars = np.array([cvar(values[:, j], alpha) for j in range(x.shape[0])])
    front = []
    for j in range(x.shape[0]):
        beaten = (means >= means[j]) & (cvars >= cvars[j]) & ((means > means[j]) | (cvars > cvars[j]))
        if not beaten.any():
            front.append((means[j], cvars[j], x[j].tobytes()))
    return front


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)


@pytest.mark.parametrize("seed", range(8))
def test_the_default_frontier_is_the_brute_force_non_dominated_set(seed):
    sc, problem = random_instance(seed)
    front = frontier_of(problem, sc, pool=CutPool())
    truth = brute_force_front(sc, problem)
    assert front.complete
    got = [(p.expected_value, p.cvar, p.funded.tobytes()) for p in front.plans]
    # Same points; a funded set may differ only where plans tie exactly on both axes.
    points = {(round(m, 6), round(c, 6)) for m, c, _ in truth}
    assert len(got) == len(points)
    for m, c, mask in got:
        assert any(mask == t or _close(m, tm) and _close(c, tc) for tm, tc, t in truth), (m, c)
    for tm, tc, _ in truth:
        assert any(_close(m, tm) and _close(c, tc) for m, c, _ in got), (tm, tc)
    # |ND| CVaR solves and one mean solve; a tie the solver's tie-break misses costs one more
    assert len(points) + 1 <= front.solves <= len(points) + 3


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("objective", ["cvar", "blend"])
def test_cutting_planes_reach_the_rockafellar_uryasev_optimum(seed, objective):
    sc, problem = random_instance(100 + seed, n=18, scenarios=300)
    kwargs = dict(alpha=[0.1, 0.05, 0.137][seed % 3], lam=0.7)
    ru = solve(problem, sc, objective, formulation="ru", **kwargs)
    cuts = solve(problem, sc, objective, formulation="cuts", pool=CutPool(), **kwargs)
    mean_ru = float((sc.value @ ru.funded).mean())
    for min_mean in (None, 0.5 * mean_ru):  # with the epsilon constraint too
        if min_mean is not None:
            ru = solve(problem, sc, objective, formulation="ru", min_mean=min_mean, **kwargs)
            cuts = solve(problem, sc, objective, formulation="cuts", min_mean=min_mean, pool=CutPool(), **kwargs)
        assert ru.status == cuts.status == "optimal"

        def value(sol):
            v = sc.value @ sol.funded
            c = cvar(v, kwargs["alpha"])
            return c if objective == "cvar" else v.mean() + kwargs["lam"] * c

        assert value(cuts) == pytest.approx(value(ru), rel=1e-5)
        if min_mean is not None:
            assert (sc.value @ cuts.funded).mean() >= min_mean * (1 - 1e-9)


def test_the_tiebreak_prefers_the_better_mean_among_cvar_optima():
    # Two initiatives that are worth nothing in the worst 10% and one certain: CVaR ties at 100.
    p = portfolio(initiative("safe", reach="100"), initiative("a", reach="1000", confidence="50%"),
                  initiative("b", reach="2000", confidence="50%"))
    sc = sample_scenarios(p, 200, seed=3)
    _, problem = scenarios_and_problem(p, 2, scenarios=sc)
    v = sc.value
    if cvar(v @ [True, False, True], 0.1) != cvar(v @ [True, True, False], 0.1):
        pytest.skip("these scenarios do not tie")
    sol = solve(problem, sc, "cvar", tiebreak_mean=1e-4, formulation="cuts", pool=CutPool())
    assert sol.funded.tolist() == [True, False, True]


def test_the_cut_pool_is_shared_by_solves_on_the_same_scenarios():
    sc, problem = random_instance(7, n=16, scenarios=300)
    pool = CutPool()
    first = solve(problem, sc, "cvar", formulation="cuts", pool=pool)
    cuts = len(pool)
    again = solve(problem, sc, "cvar", formulation="cuts", pool=pool)
    assert np.array_equal(first.funded, again.funded)
    assert again.solves < first.solves and again.solves <= 2  # one relaxation, one master
    assert len(pool) == cuts  # nothing new to learn
    # another budget on the same scenarios starts from the same cuts: they hold for every plan
    _, tighter = scenarios_and_problem(sc.portfolio, problem.constraints.budget * 0.8, scenarios=sc,
                                       capacities=problem.constraints.capacities)
    fresh, warm = CutPool(), CutPool()
    solve(problem, sc, "cvar", formulation="cuts", pool=warm)
    cold_run = solve(tighter, sc, "cvar", formulation="cuts", pool=fresh)
    warm_run = solve(tighter, sc, "cvar", formulation="cuts", pool=warm)
    assert np.array_equal(cold_run.funded, warm_run.funded) and warm_run.solves < cold_run.solves


def test_the_default_pool_is_found_by_content():
    from workbench.planning.cvar_cuts import cut_pool

    sc, _ = random_instance(3, n=6, scenarios=50)
    copy = sample_scenarios(sc.portfolio, 50, seed=3)
    assert cut_pool(sc) is cut_pool(sc)
    assert (cut_pool(copy) is cut_pool(sc)) == np.array_equal(copy.value, sc.value)


def test_an_edited_scenario_set_starts_from_the_cuts_found_before():
    from dataclasses import replace

    from workbench.planning.cvar_cuts import cut_pool

    sc, problem = random_instance(5, n=10, scenarios=97)  # a lineage (97 scenarios, seed 5) of its own
    before = cut_pool(sc)
    solve(problem, sc, "cvar", formulation="cuts")  # fills the scenarios' own pool
    value = sc.value.copy()
    value[:, 0] = value[::-1, 0] * 1.5  # as if an edit had redrawn initiative i0
    edited = replace(sc, value=value)
    after = cut_pool(edited)
    assert after is not before and after.count(0.1) == before.count(0.1) > 0
    # Recomputed on the new values, every inherited cut still bounds every plan's CVaR from above.
    masks = np.random.default_rng(1).random((200, len(problem))) < 0.5
    bounds = masks.astype(float) @ after.rows(value, 0.1).T
    true = np.array([cvar(value @ x, 0.1) for x in masks])
    assert (bounds >= true[:, None] - 1e-9 * np.abs(true[:, None]).max()).all()
    warm = solve(problem, edited, "cvar", formulation="cuts")
    exact = solve(problem, edited, "cvar", formulation="ru", pool=CutPool())
    assert cvar(value @ warm.funded, 0.1) == pytest.approx(cvar(value @ exact.funded, 0.1), rel=1e-5)


def test_a_cut_added_by_another_solve_meanwhile_is_not_taken_for_optimality():
    # Another thread's solve on the same scenarios may add the cut of this master's plan after the
    # master read the pool: the solve must re-solve with it, not return the plan as optimal.
    sc, problem = random_instance(5, n=10, scenarios=200)
    plans = np.array(list(itertools.product([False, True], repeat=10)))
    plans = plans[[not problem.violations(x) for x in plans]]
    best = max(cvar(sc.value @ x, 0.1) for x in plans)

    class Stale(CutPool):
        """Every feasible plan's cut is in the pool, but the first masters see only one of them."""

        def __init__(self) -> None:
            super().__init__()
            self.add(sc.value, plans[-1], 0.1)
            self.seen = super().rows(sc.value, 0.1).copy()
            for x in plans:
                self.add(sc.value, x, 0.1)
            self.reads = 0

        def rows(self, v, alpha):
            self.reads += 1
            return self.seen if self.reads <= 2 else super().rows(v, alpha)

    sol = solve(problem, sc, "cvar", formulation="cuts", pool=Stale())
    assert sol.status == "optimal" and cvar(sc.value @ sol.funded, 0.1) == pytest.approx(best, rel=1e-6)


def test_beats_names_the_plans_better_on_both_axes():
    sc, problem = random_instance(2)
    front = frontier_of(problem, sc, pool=CutPool())
    assert all(front.beats(p) == [] for p in front.plans)  # non-dominated: nothing beats them
    nothing = Plan(np.zeros(len(problem), bool), sc, problem, "nothing")
    beaten = front.beats(nothing)
    assert beaten and all(p.expected_value > 0 and p.cvar > 0 for p in beaten)
    shown = Frontier([*front.plans, nothing], recommended=nothing)
    assert shown.recommended_beaten_by == beaten
    assert non_dominated([*front.plans, nothing]) == front.plans


def test_records_carry_standard_errors_and_a_cap_stops_early():
    sc, problem = random_instance(4)
    capped = frontier_of(problem, sc, max_solves=2, pool=CutPool())
    assert not capped.complete and capped.solves == 2
    rec = capped.to_records()[0]
    assert {"expected_value", "expected_value_se", "cvar", "cvar_se", "selected"} <= set(rec)
    assert rec["cvar_se"] > 0 and {"expected_value_se", "cvar_se"} <= set(capped.to_frame())


def test_the_pipeline_keeps_the_recommended_plan_and_names_what_beats_it():
    import workbench as wb
    from workbench import pipeline
    from workbench.settings import Settings

    assert Settings().frontier_points is None  # complete by default
    outcome = wb.run(wb.demo_portfolio(), Settings(budget=40, samples=2000, scenarios=150, objective="cvar",
                                                   capacities={"Payments": 12, "Growth": 8}))
    front = pipeline.frontier(outcome)
    assert front.complete and front.recommended is outcome.plan
    assert sum(p is outcome.plan for p in front.plans) == 1
    keys = [p.funded.tobytes() for p in front.plans]
    assert len(keys) == len(set(keys))
    # every plan is valued on the evaluation draws; what beats the recommendation there is named
    assert all(p.scenarios is outcome.evaluation for p in front.plans)
    assert front.recommended_beaten_by == [p for p in front.plans if p.expected_value > outcome.plan.expected_value
                                           and p.cvar > outcome.plan.cvar]
    others = [p for p in front.plans if p is not outcome.plan]
    assert non_dominated(others) == others  # the rest is a frontier as evaluated


def _max_cvar(sc, problem, alpha: float = 0.1) -> float:
    """The largest CVaR of any feasible plan, by enumeration."""
    x = np.array(list(itertools.product([False, True], repeat=len(problem))))
    x = x[[not problem.violations(row) for row in x]]
    values = sc.value @ x.T
    return max(cvar(values[:, j], alpha) for j in range(x.shape[0]))


@pytest.mark.parametrize("seed", range(3))
def test_after_a_frontier_the_cvar_objective_reuses_its_max_cvar_optimum(seed):
    sc, problem = random_instance(100 + seed, n=12)
    pool = CutPool()
    frontier_of(problem, sc, pool=pool)
    reused = solve(problem, sc, "cvar", pool=pool)
    assert reused.solves == 0 and reused.status == "optimal"  # no solver call
    assert _close(cvar(sc.value @ reused.funded, 0.1), _max_cvar(sc, problem))
    # an explicit formulation solves again, to the same optimum
    again = solve(problem, sc, "cvar", pool=pool, formulation="ru")
    assert again.solves == 1 and _close(cvar(sc.value @ again.funded, 0.1), _max_cvar(sc, problem))
    # another problem on the same scenarios (a tighter budget, another alpha) is solved, not reused
    _, tighter = scenarios_and_problem(sc.portfolio, problem.constraints.budget * 0.8, scenarios=sc,
                                       capacities=problem.constraints.capacities)
    assert solve(tighter, sc, "cvar", pool=pool).solves >= 1
    assert solve(problem, sc, "cvar", alpha=0.2, pool=pool).solves >= 1
    assert solve(problem, sc, "blend", pool=pool).solves >= 1


def test_a_pool_keeps_only_optimal_solutions():
    from workbench.planning.milp import Solution

    pool, mask = CutPool(), np.array([True, False])
    pool.keep_optimum(b"stopped", Solution(mask, "time limit", 0.02, 1.0))
    pool.keep_optimum(b"done", Solution(mask, "optimal", 0.0, 1.0))
    assert pool.optimum(b"stopped") is None and pool.optimum(b"done").funded is mask


def test_switching_the_dashboard_engine_to_cvar_after_its_frontier_takes_no_solve(monkeypatch):
    import workbench as wb
    from workbench import pipeline
    from workbench.planning import optimization
    from workbench.settings import Settings

    engine = wb.LiveEngine(wb.demo_portfolio())
    mean = Settings(budget=40, samples=2000, scenarios=150, capacities={"Payments": 12, "Growth": 8}, seed=11)
    pipeline.frontier(engine.run(mean))

    def no_solve(*args, **kwargs):
        raise AssertionError("the max-CVaR problem was solved again")

    with monkeypatch.context() as m:
        m.setattr(optimization, "solve_ru", no_solve)
        m.setattr(optimization, "solve_cuts", no_solve)
        switched = engine.run(mean.change(objective="cvar"))
    sel, problem = switched.selection, switched.problem
    cold = solve(problem, sel, "cvar", formulation="ru", pool=CutPool())  # what a fresh process computes
    assert _close(cvar(sel.value @ switched.plan.funded, 0.1), cvar(sel.value @ cold.funded, 0.1))

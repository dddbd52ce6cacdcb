"""The optimizer against brute-force enumeration, direct CVaR computation and the infeasibility catalogue."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from workbench import InputError, optimize
from workbench.engine.scenarios import sample_scenarios
from workbench.planning.constraints import Infeasible
from workbench.planning.frontier import frontier
from workbench.planning.milp import SolverError
from workbench.planning.plans import cvar

from conftest import initiative, portfolio

TEAMS = ("Payments", "Growth", "Platform")
THEMES = ("Retention", "Expansion")


def random_instance(rng: np.random.Generator, n: int, uncertain: bool = False):
    """A random portfolio with acyclic dependencies, exclusions and MoSCoW tags, plus constraints."""
    inis = []
    for i in range(n):
        deps = [f"i{j}" for j in range(i) if rng.random() < 0.12]
        excl = [f"i{j}" for j in range(i) if rng.random() < 0.06 and f"i{j}" not in deps]
        moscow = rng.choice(["must", "won't", "could", "should"], p=[0.08, 0.08, 0.5, 0.34])
        reach, effort = rng.integers(10, 1000), round(float(rng.uniform(0.5, 6)), 2)
        inis.append(initiative(
            f"i{i}", reach=f"{reach / 2}..{reach * 2}" if uncertain else str(reach),
            impact=str(rng.choice(["0.5", "1", "2", "3"])),
            confidence=f"{rng.choice([50, 80, 100])}%",
            effort=f"pert({effort / 2}, {effort}, {effort * 2})" if uncertain else str(effort),
            team=str(rng.choice(TEAMS)), theme=str(rng.choice(THEMES)), moscow=str(moscow),
            depends_on=tuple(deps), excludes=tuple(excl)))
    # exclusions are symmetric in the constraint model; depending on an excluded one is fine to generate
    p = portfolio(*inis)
    total = sum(float(i.effort.median()) for i in inis)
    kwargs = {"budget": round(float(rng.uniform(0.2, 0.7)) * total, 2)}
    if rng.random() < 0.6:
        kwargs["capacities"] = {str(t): round(float(rng.uniform(0.15, 0.5)) * total, 2)
                                for t in rng.choice(TEAMS, size=int(rng.integers(1, 3)), replace=False)
                                if any(i.team == t for i in inis)}
    if rng.random() < 0.3:
        kwargs["max_count"] = int(rng.integers(2, n))
    if rng.random() < 0.3 and any(i.theme == "Retention" for i in inis):
        kwargs["theme_shares"] = {"Retention": (0.2, 0.8)}
    return p, kwargs


def brute_force(p, value: np.ndarray, effort: np.ndarray, budget, capacities=None, max_count=None, theme_shares=None):
    """Every subset, checked rule by rule; returns (best total value, feasible mask over subsets, subsets)."""
    n = len(p)
    x = np.array(list(itertools.product([False, True], repeat=n)))
    ok = x @ effort <= budget * (1 + 1e-9)
    for team, cap in (capacities or {}).items():
        in_team = np.array([i.team == team for i in p])
        ok &= x @ (effort * in_team) <= cap * (1 + 1e-9)
    ids = p.ids
    for a, ini in enumerate(p):
        for d in ini.depends_on:
            ok &= ~x[:, a] | x[:, ids.index(d)]
        for e in ini.excludes:
            ok &= ~(x[:, a] & x[:, ids.index(e)])
        if ini.moscow == "must":
            ok &= x[:, a]
        if ini.moscow == "won't":
            ok &= ~x[:, a]
    if max_count is not None:
        ok &= x.sum(axis=1) <= max_count
    for theme, (lo, hi) in (theme_shares or {}).items():
        in_theme = np.array([i.theme == theme for i in p])
        spent = x @ effort
        share = np.divide(x @ (effort * in_theme), spent, out=np.zeros_like(spent), where=spent > 0)
        ok &= (spent == 0) | ((share >= lo - 1e-9) & (share <= hi + 1e-9))
    totals = x @ value
    return (totals[ok].max() if ok.any() else None), ok, x


@pytest.mark.parametrize("seed", range(40))
def test_mean_optimum_equals_brute_force_on_point_estimates(seed):
    rng = np.random.default_rng(seed)
    p, kw = random_instance(rng, int(rng.integers(5, 15)))
    # point estimates in multiplier mode: value = R*I*C exactly, effort = E exactly
    value = np.array([i.reach.median() * i.impact.median() * i.confidence.median() for i in p])
    effort = np.array([i.effort.median() for i in p])
    best, _, _ = brute_force(p, value, effort, **kw)
    if best is None:
        with pytest.raises(Infeasible):
            optimize(p, objective="mean", scenarios=4, seed=1, confidence_mode="multiplier", **kw)
        return
    plan = optimize(p, objective="mean", scenarios=4, seed=1, confidence_mode="multiplier", **kw)
    assert plan.status == "optimal"
    assert plan.expected_value == pytest.approx(best, rel=1e-6)
    assert plan.violations() == []
    # greedy respects the same rules (it may miss a theme's minimum share) and never beats the optimum
    broken = plan.greedy.violations()
    assert all("of the spend, outside" in v for v in broken)
    if not broken:
        assert plan.greedy.expected_value <= plan.expected_value * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("objective", ["mean", "cvar", "blend"])
def test_uncertain_optimum_is_feasible_and_best_over_all_subsets(seed, objective):
    rng = np.random.default_rng(1000 + seed)
    p, kw = random_instance(rng, int(rng.integers(5, 11)), uncertain=True)
    sc = sample_scenarios(p, 200, seed=seed)
    try:
        plan = optimize(p, objective=objective, scenarios=sc, alpha=0.1, lam=0.5, **kw)
    except Infeasible:
        plan = None
    effort_q = sc.effort_quantile(0.5)
    _, ok, x = brute_force(p, np.zeros(len(p)), effort_q, **kw)
    if plan is None:
        assert not ok.any()
        return
    assert plan.violations() == []
    chosen = np.flatnonzero((x == plan.funded).all(axis=1))[0]
    assert ok[chosen]  # the independent checker agrees it is feasible
    # objective of every feasible subset, computed directly on the same scenarios
    values = sc.value @ x[ok].T  # scenarios x feasible subsets
    k = int(0.1 * sc.count)
    direct_cvar = np.sort(values, axis=0)[:k].mean(axis=0)
    mean = values.mean(axis=0)
    score = {"mean": mean, "cvar": direct_cvar, "blend": mean + 0.5 * direct_cvar}[objective]
    plan_score = {"mean": plan.expected_value, "cvar": plan.cvar,
                  "blend": plan.expected_value + 0.5 * plan.cvar}[objective]
    assert plan_score == pytest.approx(score.max(), rel=1e-5)


def test_cvar_of_a_plan_equals_the_mean_of_its_worst_scenarios():
    p = portfolio(*(initiative(f"a{i}", reach=f"{100 + 40 * i}..{900 + 40 * i}", confidence="60%", effort="1..3")
                    for i in range(8)))
    plan = optimize(p, budget=8, objective="cvar", alpha=0.1, scenarios=1000, seed=3)
    v = plan.scenarios.value @ plan.funded  # the evaluation draws (20,000): their worst 10% is 2,000
    assert plan.scenarios.purpose == "evaluation" and v.size == 20_000
    assert plan.cvar == pytest.approx(np.sort(v)[:2000].mean(), rel=1e-12)
    assert plan.metrics()["cvar"] == pytest.approx(np.sort(v)[:2000].mean(), rel=1e-12)
    # fractional boundary: alpha * S = 2.5 scenarios
    values = np.array([5.0, 1.0, 3.0, 2.0, 9.0, 7.0, 4.0, 8.0, 6.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
                       16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0])
    assert cvar(values, 0.1) == pytest.approx((1 + 2 + 0.5 * 3) / 2.5)


def test_plan_metrics_and_comparisons():
    p = portfolio(initiative("a", reach="1000", effort="2", team="T"),
                  initiative("b", reach="600", effort="1", team="T"),
                  initiative("c", reach="600", effort="1", team="T"),
                  initiative("d", reach="100", effort="3", planned=True))
    plan = optimize(p, budget=2, scenarios=50, seed=1, confidence_mode="multiplier", capacities={"T": 2})
    # knapsack: b + c (1200) beats a (1000); greedy by RICE takes b and c too (RICE 600 each > 500)
    assert sorted(plan.selected) == ["b", "c"]
    assert plan.expected_value == pytest.approx(1200)
    assert plan.current.selected == ["d"]
    cmp = plan.comparisons["current"]
    assert cmp.expected_gain == pytest.approx(1100) and cmp.p_better == 1
    assert plan.p_overrun == 0 and plan.team_overrun() == {"T": 0.0}
    frame = plan.to_frame()
    assert list(frame.index) == ["b", "c"] and frame["value_share"].sum() == pytest.approx(1)


def test_greedy_by_rice_leaves_value_on_the_table():
    # RICE order: small (ratio 110) first, then it cannot fit big (ratio 100) — the knapsack trap.
    p = portfolio(initiative("small", reach="110", effort="1"), initiative("big", reach="1000", effort="10"))
    plan = optimize(p, budget=10, scenarios=4, seed=1, confidence_mode="multiplier")
    assert plan.selected == ["big"] and plan.greedy.selected == ["small"]
    assert plan.comparisons["greedy"].expected_gain == pytest.approx(890)


def test_effort_quantile_makes_a_conservative_plan():
    p = portfolio(initiative("a", reach="500", effort="2..8"), initiative("b", reach="400", effort="2..8"))
    median_plan = optimize(p, budget=8, scenarios=100, seed=1)
    safe_plan = optimize(p, budget=8, scenarios=100, seed=1, effort_quantile=0.8)
    assert sorted(median_plan.selected) == ["a", "b"]  # medians 4 + 4 fit
    assert safe_plan.selected == ["a"]  # 80th percentiles 5.5 each do not
    assert median_plan.p_overrun > safe_plan.p_overrun


def test_budget_on_the_cost_column():
    p = portfolio(initiative("a", reach="500", effort="1", cost=50.0),
                  initiative("b", reach="400", effort="1", cost=20.0),
                  initiative("c", reach="300", effort="1", cost=20.0))
    plan = optimize(p, budget=40, scenarios=4, seed=1, budget_column="cost", confidence_mode="multiplier")
    assert sorted(plan.selected) == ["b", "c"] and plan.p_overrun is None


def _safe_and_risky(k: int):
    """k certain initiatives and k bets (30%-80% success) of slightly higher expected value."""
    inis = [initiative(f"safe{i}", reach=f"{280 + 15 * i}..{340 + 15 * i}", effort="1") for i in range(k)]
    for i in range(k):
        c = 0.3 + 0.5 * i / k
        median = (330 + 15 * i) / (c * 1.093)
        inis.append(initiative(f"bet{i}", reach=f"{median / 2:.0f}..{2 * median:.0f}", confidence=f"{c:.0%}",
                               effort="1"))
    return portfolio(*inis)


def _brute_force_pareto(sc, k: int, alpha: float = 0.1) -> list[tuple[float, float]]:
    """(expected value, CVaR) of every non-dominated plan, by enumeration.

    Values are never negative and every effort is 1, so a plan that fills all k slots is at
    least as good in every scenario as any of its subsets: only the C(2k, k) full plans matter.
    """
    combos = np.array(list(itertools.combinations(range(2 * k), k)))
    v = sc.value[:, combos].sum(axis=2)  # scenarios x plans
    e, c = v.mean(axis=0), np.sort(v, axis=0)[: int(alpha * sc.count)].mean(axis=0)
    front, best = [], -np.inf
    for j in np.argsort(-e, kind="stable"):
        if c[j] > best:
            front.append((e[j], c[j]))
            best = c[j]
    return sorted(front)


@pytest.mark.parametrize("k, seed", [(7, 6), (9, 16)])  # seed 16: a 10-plan frontier
def test_frontier_equals_the_brute_force_pareto_set(k, seed):
    p = _safe_and_risky(k)
    f = frontier(p, budget=k, scenarios=400, seed=seed, samples=None)  # valued where chosen: the exact scan
    assert f.plans[0].scenarios.purpose == "selection"
    truth = _brute_force_pareto(f.plans[0].scenarios, k)
    got = [(pl.expected_value, pl.cvar) for pl in f.plans]
    assert np.allclose(got, truth, rtol=1e-9)
    if k == 9:
        assert len(f.plans) >= 10
    assert set(f.plans[0].selected) == {f"safe{i}" for i in range(k)}  # most risk-averse: all certain
    assert all(len(pl.selected) == k for pl in f.plans)
    assert len(f.to_frame()) == len(f.plans) and f.to_records()[0]["selected"] == f.plans[0].selected


@pytest.mark.parametrize("build, kwargs, message", [
    (lambda: portfolio(initiative("a", effort="6", moscow="must"), initiative("b", effort="5", moscow="must")),
     {"budget": 10}, "must-haves need 11 person-months (with their prerequisites) but the budget is 10"),
    (lambda: portfolio(initiative("a", depends_on=("b",)), initiative("b", depends_on=("c",)),
                       initiative("c", depends_on=("a",))),
     {"budget": 10}, "dependency cycle: a → b → c → a"),
    (lambda: portfolio(initiative("a", moscow="must", depends_on=("b",)), initiative("b", moscow="won't")),
     {"budget": 10}, "must-have 'a' depends on 'b', which is a won't-have"),
    (lambda: portfolio(initiative("a", moscow="must", excludes=("b",)), initiative("b", moscow="must")),
     {"budget": 10}, "must-haves exclude each other: 'a' excludes 'b'"),
    (lambda: portfolio(initiative("a", team="Payments"), initiative("b", team="Growth")),
     {"budget": 10, "capacities": {"Mobile": 3}},
     "capacity given for team 'Mobile', which no initiative belongs to (teams: Growth, Payments)"),
    (lambda: portfolio(initiative("a"), initiative("b")), {"budget": 0}, "the budget must be > 0, got 0"),
    (lambda: portfolio(initiative("a"), initiative("b")), {"budget": -5}, "the budget must be > 0, got -5"),
    (lambda: portfolio(initiative("a", effort="4", team="T", moscow="must"), initiative("b", team="T")),
     {"budget": 10, "capacities": {"T": 3}}, "must-haves of team 'T' need 4 person-months but its capacity is 3"),
    (lambda: portfolio(initiative("a", theme="Growth", effort="1"),
                       initiative("b", theme="Core", effort="1", moscow="must")),
     {"budget": 1, "theme_shares": {"Growth": (0.5, 1.0)}},
     "no plan meets the theme shares (Growth 50%–100%) together with the budget, capacities, dependencies "
     "and must-haves; widen the shares"),
    (lambda: portfolio(initiative("a", theme="Growth"), initiative("b")),
     {"budget": 5, "theme_shares": {"Fun": (0.1, 0.2)}},
     "theme share given for theme 'Fun', which no initiative belongs to (themes: Growth)"),
    (lambda: portfolio(initiative("a"), initiative("b")), {"budget": 5, "plan": ["a", "zz"]},
     "the plan names unknown initiative ids: zz"),
])
def test_infeasibility_catalogue(build, kwargs, message):
    with pytest.raises(InputError) as info:
        optimize(build(), scenarios=10, seed=1, **kwargs)
    assert str(info.value) == message


def test_unknown_ids_in_dependencies_are_named():
    with pytest.raises(InputError) as info:
        portfolio(initiative("a", depends_on=("ghost",)), initiative("b", excludes=("phantom",)))
    assert str(info.value) == "a: depends_on refers to unknown id 'ghost'\nb: excludes refers to unknown id 'phantom'"


def _fake_milp(monkeypatch, chosen, gap):
    """Stand in for HiGHS: report a time-limit stop (status 1) with `chosen` (None: no plan found)."""
    from types import SimpleNamespace

    import workbench.planning.milp

    calls = []

    def milp(c, **kwargs):
        calls.append(kwargs["options"])
        x = None
        if chosen is not None:
            x = np.zeros(len(c))  # the initiatives first, then any CVaR auxiliaries
            x[:len(chosen)] = chosen
        return SimpleNamespace(status=1, x=x, mip_gap=gap, success=False, message="Time limit reached.")

    monkeypatch.setattr(workbench.planning.milp, "milp", milp)
    return calls


def _three():
    return portfolio(initiative("a", reach="100"), initiative("b", reach="200"), initiative("c", reach="300"))


@pytest.mark.parametrize("objective", ["mean", "cvar"])
def test_a_time_limit_returns_the_best_plan_found_with_its_gap(objective, monkeypatch):
    # The solver stops at its time limit holding {a}: feasible, though {b, c} would be worth more.
    calls = _fake_milp(monkeypatch, [1, 0, 0], gap=0.25)
    plan = optimize(_three(), budget=2, objective=objective, scenarios=20, seed=1, time_limit=0.05)
    assert [o["time_limit"] for o in calls] == [0.05]
    assert plan.status == "time limit" and plan.gap == 0.25
    assert plan.selected == ["a"] and plan.violations() == []


def test_a_time_limit_with_no_plan_found_says_to_allow_more_time(monkeypatch):
    _fake_milp(monkeypatch, None, gap=np.inf)
    with pytest.raises(SolverError) as info:
        optimize(_three(), budget=2, scenarios=20, seed=1, time_limit=0.05)
    assert str(info.value) == ("the solver stopped without finding any plan (status: time limit); "
                               "allow more time than 0.05 s (--time-limit) or use fewer scenarios")


@pytest.mark.parametrize("seed", range(30))  # seeds 18 and 25 have theme shares
def test_vectorized_feasibility_agrees_with_brute_force(seed):
    from workbench.planning.optimization import scenarios_and_problem

    rng = np.random.default_rng(500 + seed)
    p, kw = random_instance(rng, int(rng.integers(4, 10)))
    effort = np.array([i.effort.median() for i in p])  # point estimates: the effort the budget counts
    _, expected, x = brute_force(p, np.zeros(len(p)), effort, **kw)
    try:
        _, problem = scenarios_and_problem(p, scenarios=4, seed=1, **kw)
    except Infeasible:
        assert not expected.any()
        return
    np.testing.assert_array_equal(problem.feasible(x), expected)
    np.testing.assert_array_equal([not problem.violations(row) for row in x], expected)
    assert len(problem.feasible_plans()) == expected.sum()


SILENT_SOLVES = """
import os, threading, time
import numpy as np
from scipy.optimize import Bounds, milp
from workbench import demo_portfolio
from workbench.planning.cvar_cuts import CutPool
from workbench.planning.milp import milp_options
from workbench.planning.optimization import scenarios_and_problem, solve

sc, problem = scenarios_and_problem(demo_portfolio(), 40, scenarios=1500, seed=1)
statuses = []

def solves():
    for objective in ("mean", "cvar", "blend"):
        statuses.append(solve(problem, sc, objective, time_limit=60).status)
    # a fresh pool: the default one keeps the optimum just found, which no time limit undoes
    statuses.append(solve(problem, sc, "cvar", time_limit=0.01, pool=CutPool()).status)
    statuses.append(solve(problem, sc, "mean", min_mean=1e12).status)
    free = milp(np.array([-1.0, 0.0]), integrality=np.array([0, 1]), bounds=Bounds([0, 0], [np.inf, 1]),
                options=milp_options(5))  # unbounded: the options every solve uses
    statuses.append("unbounded" if free.status in (3, 4) else str(free.status))

def prints(stop):
    k = 0
    while not stop.is_set() or k < 200:
        print(f"line {k}", flush=True) if k % 2 else os.write(1, f"line {k}\\n".encode())
        k += 1
        time.sleep(0.002)
    print(f"printed {k}", flush=True)

stop = threading.Event()
printer = threading.Thread(target=prints, args=(stop,))
workers = [threading.Thread(target=solves) for _ in range(2)]
for t in [printer, *workers]:
    t.start()
for t in workers:
    t.join()
stop.set()
printer.join()
assert sorted(set(statuses)) == ["infeasible", "optimal", "time limit", "unbounded"], statuses
"""


def test_solves_print_nothing_and_keep_what_other_threads_print():
    """HiGHS is silent at the descriptor level (optimal, time limit, infeasible, unbounded, CVaR on
    1,500 scenarios), and no solve touches descriptor 1: every line another thread writes while
    solves run on two threads arrives (redirecting it around solves lost most of them)."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", SILENT_SOLVES], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0 and run.stderr == "", run.stderr[-2000:]
    lines = run.stdout.splitlines()
    count = int(lines[-1].removeprefix("printed "))
    assert count >= 200 and lines == [f"line {k}" for k in range(count)] + [f"printed {count}"]


# --- the public planning core: prepare, solve, forced problems, optimize_problem ----------------


def _planning(p, budget, scenarios=20, **constraints):
    from workbench.planning.constraints import Constraints
    from workbench.planning.optimization import prepare

    sc = sample_scenarios(p, scenarios, seed=1, confidence_mode="multiplier")
    return sc, prepare(p, Constraints(budget, **constraints), sc)


def test_solve_says_whether_a_plan_exists_and_never_mistakes_a_time_limit_for_infeasibility(monkeypatch):
    from workbench.planning.optimization import solve

    sc, problem = _planning(_three(), budget=2)
    assert len(problem) == 3 and problem.constraints.budget == 2
    sol = solve(problem, sc, "mean", time_limit=5)
    assert sol.has_plan() and sol.status == "optimal" and sol.funded.tolist() == [False, True, True]
    # all three forced in need 3 person-months, over the budget of 2: no plan, and no exception
    none = solve(problem.forced(funded=[0, 1, 2]), sc)
    assert none.funded is None and none.status == "infeasible" and not none.has_plan()
    _fake_milp(monkeypatch, None, gap=np.inf)
    stopped = solve(problem, sc, time_limit=0.05)
    with pytest.raises(SolverError, match=r"status: time limit.*allow more time than 0.05 s"):
        stopped.has_plan()


def test_forced_problems_are_cheap_copies_that_leave_the_original_alone():
    from workbench.planning.optimization import solve

    p = portfolio(initiative("a", reach="100"), initiative("b", reach="200", depends_on=("a",)),
                  initiative("c", reach="300", effort="2", moscow="must"))
    sc, problem = _planning(p, budget=3)
    assert solve(problem, sc).funded.tolist() == [True, False, True]  # b needs a too: 1 + 1 + 2 > 3
    without_c = problem.forced(unfunded=[2])  # a must-have forced out: an answer (none), not an error
    assert not solve(without_c, sc).has_plan()
    with_b = problem.forced(funded=[1])  # b needs a: the budget no longer fits the must-have c
    assert not solve(with_b, sc).has_plan()
    out_c_in_b = problem.forced(funded=[1], unfunded=[2])
    assert out_c_in_b.must.tolist() == [False, True, True] and out_c_in_b.wont.tolist() == [False, False, True]
    assert problem.must.tolist() == [False, False, True] and not problem.wont.any()  # untouched
    assert with_b.cost is problem.cost and with_b.requires is problem.requires  # shared, not rebuilt
    big = portfolio(initiative("a", effort="5"), initiative("b", effort="1"))
    sc2, relaxed = _planning(big, budget=2)
    over = relaxed.forced(funded=[0])  # more than the budget: no Infeasible at construction
    assert not solve(over, sc2).has_plan()
    with pytest.raises(IndexError, match="0..1"):
        relaxed.forced(funded=[2])


def test_optimize_problem_is_what_optimize_runs_and_evaluates_where_asked():
    from workbench.planning.optimization import explain_infeasible, optimize_problem

    p = portfolio(initiative("a", reach="100..400", effort="1"), initiative("b", reach="250", effort="1"),
                  initiative("c", reach="50..500", effort="1", planned=True))
    sc, problem = _planning(p, budget=2, scenarios=300)
    other = sample_scenarios(p, 500, seed=9, confidence_mode="multiplier")
    plan = optimize_problem(problem, sc, "blend", 0.2, 0.5, 10.0, current=np.array([False, False, True]),
                            evaluate_on=other)
    same = optimize(p, 2, "blend", alpha=0.2, lam=0.5, scenarios=sc, time_limit=10.0, evaluate_on=other)
    assert plan.selected == same.selected and plan.scenarios is other and plan.lam == 0.5
    assert plan.current.selected == ["c"] and plan.comparisons.keys() == {"greedy", "current"}
    assert plan.expected_value == pytest.approx((other.value @ plan.funded).mean())
    with pytest.raises(ValueError, match="different portfolio"):
        optimize_problem(problem, sc, evaluate_on=sample_scenarios(portfolio(initiative("z")), 10, seed=1))
    shares = portfolio(initiative("a", theme="Growth", effort="1"), initiative("b", theme="Core", effort="1"))
    sc3, shared = _planning(shares, budget=1, theme_shares={"Growth": (0.2, 0.8)})
    assert "widen the shares" in str(explain_infeasible(shared, sc3, 5.0))


def test_prepare_takes_constraints_as_one_object():
    from workbench.planning.constraints import Constraints
    from workbench.planning.optimization import prepare

    p = portfolio(initiative("a", effort="2..8"), initiative("b"))
    sc = sample_scenarios(p, 10, seed=1)
    problem = prepare(p, Constraints(4.0, effort_quantile=0.8), sc)
    np.testing.assert_allclose(problem.effort_q, sc.effort_quantile(0.8))
    with pytest.raises(InputError, match="effort quantile must be between 0 and 1"):
        prepare(p, Constraints(4.0, effort_quantile=1.5), sc)
    with pytest.raises(TypeError, match="Constraints"):
        prepare(p, 4.0, sc)

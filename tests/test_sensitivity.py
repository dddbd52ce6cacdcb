"""Budget sweeps, split sweeps, tornado and switch points against brute force and closed forms."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from workbench import InputError, optimize
from workbench.sensitivity.one_at_a_time import switch_points, tornado
from workbench.sensitivity.sweeps import budget_range, budget_sweep, entry_budgets, split_sweep

from conftest import initiative, portfolio

Z90 = stats.norm.ppf(0.9)


def point_portfolio(seed: int, n: int = 9):
    rng = np.random.default_rng(seed)
    inis = []
    for i in range(n):
        deps = (f"i{i - 1}",) if i and rng.random() < 0.2 else ()
        inis.append(initiative(f"i{i}", reach=str(int(rng.integers(10, 500))), impact=str(rng.choice([0.5, 1, 2])),
                               effort=str(round(float(rng.uniform(0.5, 5)), 1)), team=str(rng.choice(["A", "B"])),
                               theme=str(rng.choice(["Grow", "Keep"])), depends_on=deps))
    return portfolio(*inis)


def brute_best(p, budget, inside=None, share=None):
    """Best total value over all subsets within the budget (and a split of it), dependencies kept."""
    n = len(p)
    x = np.array(list(itertools.product([False, True], repeat=n)))
    value = np.array([i.reach.median() * i.impact.median() for i in p])
    effort = np.array([i.effort.median() for i in p])
    ok = x @ effort <= budget + 1e-9
    for a, ini in enumerate(p):
        for d in ini.depends_on:
            ok &= ~x[:, a] | x[:, p.index(d)]
    if inside is not None:
        ok &= x @ (effort * inside) <= share * budget + 1e-9
        ok &= x @ (effort * ~inside) <= (1 - share) * budget + 1e-9
    return (x @ value)[ok].max() if ok.any() else np.nan


@pytest.mark.parametrize("seed", range(6))
def test_budget_sweep_is_optimal_monotone_and_entry_budgets_are_consistent(seed):
    p = point_portfolio(seed)
    plan = optimize(p, budget=10, scenarios=4, seed=1, confidence_mode="multiplier")
    budgets = budget_range("2:20:2")
    sweep = budget_sweep(plan.problem, plan.scenarios, budgets)
    ev = sweep["expected_value"].to_numpy()
    np.testing.assert_allclose(ev, [brute_best(p, b) for b in budgets], rtol=1e-9)
    assert (np.diff(ev) >= -1e-9).all()  # more budget never hurts
    np.testing.assert_allclose(sweep["marginal_value"][1:], np.diff(ev) / 2)
    entry = entry_budgets(sweep, p.ids)
    for id_, row in entry.iterrows():
        funded = [id_ in sel for sel in sweep["selected"]]
        if np.isnan(row.entry_budget):
            assert not any(funded)
        else:
            k = list(budgets).index(row.entry_budget)
            assert funded[k] and not any(funded[:k])


def test_sweep_marks_budgets_the_must_haves_do_not_fit():
    p = portfolio(initiative("m", effort="5", moscow="must"), initiative("x", effort="1"))
    plan = optimize(p, budget=8, scenarios=4, seed=1)
    sweep = budget_sweep(plan.problem, plan.scenarios, [2, 4, 6])
    assert list(sweep["status"]) == ["infeasible", "infeasible", "optimal"]
    assert sweep["selected"].iloc[2] == ["m", "x"]


def test_a_solver_stopped_by_its_time_limit_is_never_reported_as_infeasible(monkeypatch):
    from scipy.optimize import OptimizeResult

    from workbench.planning import milp as solver
    from workbench.planning.frontier import frontier_of
    from workbench.planning.milp import SolverError

    p = portfolio(initiative("a", reach="300..1200", excludes=("b",), team="T"), initiative("b", reach="450"))
    plan = optimize(p, budget=5, scenarios=50, seed=2, confidence_mode="multiplier")
    # From here on, every solve stops at its time limit before finding a plan (HiGHS status 1).
    monkeypatch.setattr(solver, "milp", lambda *a, **k: OptimizeResult(x=None, status=1, mip_gap=np.inf))
    sweep = budget_sweep(plan.problem, plan.scenarios, [2, 4])
    assert list(sweep["status"]) == ["time limit", "time limit"]
    assert list(split_sweep(plan.problem, plan.scenarios, "team:T", shares=[0.5])["status"]) == ["time limit"]
    for run in (lambda: optimize(p, budget=5, scenarios=50, seed=2),
                lambda: frontier_of(plan.problem, plan.scenarios, time_limit=7),
                lambda: switch_points(plan, inputs=["a.reach"], time_limit=7)):
        with pytest.raises(SolverError, match=r"status: time limit.*allow more time than \d+ s"):
            run()


@pytest.mark.parametrize("seed", range(4))
def test_split_sweep_matches_brute_force(seed):
    p = point_portfolio(10 + seed)
    plan = optimize(p, budget=8, scenarios=4, seed=1, confidence_mode="multiplier")
    shares = [0, 0.25, 0.5, 0.75, 1]
    split = split_sweep(plan.problem, plan.scenarios, "theme:Grow", shares)
    inside = np.array([i.theme == "Grow" for i in p])
    expected = [brute_best(p, 8, inside, s) for s in shares]
    np.testing.assert_allclose(split["expected_value"], expected, rtol=1e-9)
    assert not any(p[i].theme == "Grow" for i in split["selected"].iloc[0])  # 0%: nothing for the group
    assert split["group"].iloc[0] == "theme Grow"


def test_tornado_ends_match_the_closed_form():
    # plan value with medians elsewhere: R_a * I_a * C_a + R_b * I_b * C_b (multiplier mode)
    p = portfolio(initiative("a", reach="100..400", impact="2", confidence="80%"),
                  initiative("b", reach="300", impact="low..high", confidence="50%"),
                  initiative("c", reach="50", effort="9"))
    plan = optimize(p, budget=2, scenarios=200, seed=1, confidence_mode="multiplier")
    assert plan.selected == ["a", "b"]
    t = tornado(plan).set_index("input")
    mu, sigma = np.log(200), np.log(4) / (2 * 1.6448536269514722)
    r10, r90 = np.exp(mu - Z90 * sigma), np.exp(mu + Z90 * sigma)
    base = 200 * 2 * 0.8 + 300 * 1 * 0.5
    assert t.loc["a.reach", "low"] == pytest.approx(r10) and t.loc["a.reach", "high"] == pytest.approx(r90)
    assert t.loc["a.reach", "value_low"] == pytest.approx(base + (r10 - 200) * 1.6)
    assert t.loc["a.reach", "value_high"] == pytest.approx(base + (r90 - 200) * 1.6)
    s_i = np.log(4) / (2 * 1.6448536269514722)  # impact low..high = 0.5..2, median 1
    assert t.loc["b.impact", "value_high"] == pytest.approx(base + (np.exp(Z90 * s_i) - 1) * 150)
    assert list(t.index) == sorted(t.index, key=lambda k: -t.loc[k, "swing"])
    assert "c.reach" not in t.index  # not funded, and a point estimate


def test_switch_point_between_two_exclusive_options():
    # a (uncertain reach) or b (certain), not both. With I = 1, C = 1: a wins while E[R_a] > 450.
    p = portfolio(initiative("a", reach="300..1200", excludes=("b",)), initiative("b", reach="450"))
    plan = optimize(p, budget=5, scenarios=20_000, seed=2, confidence_mode="multiplier")
    assert plan.selected == ["a"]
    sp = switch_points(plan, inputs=["a.reach"]).iloc[0]
    mu_a = plan.scenarios.value[:, 0].mean()
    e_r = p["a"].reach.mean()
    # exact on the scenarios: E[value_a | R = t] = t * mu_a / E[R] equals 450 at the switch
    assert sp.switch_value == pytest.approx(450 * e_r / mu_a, rel=1e-9)
    assert sp.switch_value == pytest.approx(450, rel=0.02)  # and close to the exact answer
    assert sp.direction == "below" and sp.within
    assert sp.note == "a leaves the plan if it falls below " + f"{sp.switch_value:,.4g}"
    # b's decision never flips within its range: it is a point estimate, so it is not an input
    with pytest.raises(InputError, match="unknown or certain inputs for switch points: b.reach"):
        switch_points(plan, inputs=["b.reach"])


def test_switch_point_outside_the_range_says_never():
    p = portfolio(initiative("a", reach="900..1100", excludes=("b",)), initiative("b", reach="10"))
    plan = optimize(p, budget=5, scenarios=500, seed=2, confidence_mode="multiplier")
    sp = switch_points(plan, inputs=["a.reach"]).iloc[0]
    assert not sp.within and sp.note == "never within p1–p99"


@pytest.mark.parametrize("text, message", [
    ("20:10:5", "budget range '20:10:5' is empty or reversed: A must be below B"),
    ("10:10:5", "budget range '10:10:5' is empty or reversed: A must be below B"),
    ("10:20:0", "budget range '10:20:0': STEP must be > 0"),
    ("0:20:5", "budget range '0:20:5': every budget must be > 0"),
    ("10-20", "budget range must be A:B:STEP such as 20:120:5, got '10-20'"),
])
def test_bad_budget_ranges(text, message):
    with pytest.raises(InputError) as info:
        budget_range(text)
    assert str(info.value) == message


def test_unknown_split_group_is_named():
    p = portfolio(initiative("a", theme="Grow", team="A"), initiative("b", theme="Keep", team="B"))
    plan = optimize(p, budget=5, scenarios=4, seed=1)
    with pytest.raises(InputError) as info:
        split_sweep(plan.problem, plan.scenarios, "Fun")
    assert str(info.value) == "unknown theme or team 'Fun' for --split (themes: Grow, Keep; teams: A, B)"


def test_analyze_reports_progress_over_every_stage_and_bundles_the_results():
    from workbench.sensitivity import analyze

    p = portfolio(initiative("a", reach="100..400", theme="G"),
                  initiative("b", reach="200..300", confidence="50%", theme="K"),
                  initiative("c", reach="50..90", effort="2", theme="K"))
    plan = optimize(p, budget=2, scenarios=300, seed=1)
    calls = []
    report = analyze(plan, budgets=[1, 2, 3], split="G", tornado=True, sobol=True, voi=True, seed=1, sobol_samples=128,
                     progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 19) for k in range(1, 20)]  # 3 budgets + 11 shares + 2 + 1 + 2
    data = report.to_dict()
    assert {"budget_sweep", "entry_budgets", "split_sweep", "tornado", "switch_points", "sobol", "evpi",
            "evppi"} <= data.keys()
    from workbench.views.text import sensitivity_text

    assert "Budget sweep" in sensitivity_text(report) and "EVPI" in sensitivity_text(report)


def test_sweeps_solve_on_their_scenarios_and_evaluate_on_others():
    from workbench.engine.scenarios import sample_scenarios
    from workbench.sensitivity import analyze

    p = portfolio(initiative("a", reach="100..400", theme="G"), initiative("b", reach="200..300", theme="K"),
                  initiative("c", reach="50..90", theme="K"))
    plan = optimize(p, budget=2, scenarios=200, seed=1)
    other = sample_scenarios(p, 700, seed=5)
    split = split_sweep(plan.problem, plan.scenarios, "G", shares=[0.5], evaluate_on=other)
    alone = split_sweep(plan.problem, plan.scenarios, "G", shares=[0.5])
    assert split["selected"].iloc[0] == alone["selected"].iloc[0]  # the same plan, solved on the same draws
    funded = np.isin(p.ids, split["selected"].iloc[0])
    assert split["expected_value"].iloc[0] == pytest.approx((other.value @ funded).mean())
    assert split["group_value"].iloc[0] == pytest.approx(other.value[:, funded & (np.arange(3) == 0)].sum(1).mean())
    report = analyze(plan, budgets=[1, 2], split="G", evaluate_on=other)
    sweep = budget_sweep(plan.problem, plan.scenarios, [1, 2], evaluate_on=other)
    cols = ["expected_value", "p10", "p90"]
    np.testing.assert_allclose(report.budget_sweep[cols].to_numpy(), sweep[cols].to_numpy())
    np.testing.assert_allclose(report.split_sweep["expected_value"].iloc[5], split["expected_value"].iloc[0])


def test_sweep_rows_carry_errors_and_say_which_scenarios_valued_them():
    from workbench.engine.scenarios import sample_scenarios
    from workbench.sensitivity import analyze

    p = portfolio(initiative("m", effort="2", moscow="must"), initiative("a", reach="100..400", theme="G"),
                  initiative("b", reach="200..300", confidence="50%", theme="K"), initiative("c", reach="50..90"))
    plan = optimize(p, budget=3, scenarios=200, seed=1)
    ev = sample_scenarios(p, 3000, seed=1, purpose="evaluation")
    sweep = budget_sweep(plan.problem, plan.scenarios, [1, 3, 4, 5], evaluate_on=ev)
    assert sweep["status"].iloc[0] == "infeasible" and sweep.iloc[0][["expected_value_se", "cvar_se"]].isna().all()
    values = [ev.value @ np.isin(p.ids, sel) for sel in sweep["selected"]]
    for k in range(1, 4):
        row, v = sweep.iloc[k], np.sort(values[k])
        assert row["expected_value_se"] == pytest.approx(v.std(ddof=1) / np.sqrt(3000))
        # CVaR 10% of 3000: its influence terms around the 300th smallest value
        psi = v[299] + np.minimum(v - v[299], 0) / 0.1
        assert row["cvar"] == pytest.approx(psi.mean()) and row["cvar_se"] == pytest.approx(psi.std(ddof=1) / np.sqrt(3000))
        # p10's 95% interval: the order statistics of ranks 300 -/+ 1.96 sqrt(3000 x 0.1 x 0.9)
        assert row["p10_se"] == pytest.approx((v[332] - v[266]) / (2 * 1.959963984540054))
        assert (row["evaluated_on"], row["evaluated_count"]) == ("evaluation", 3000)
    gain = values[2] - values[1]  # budgets 3 -> 4: the same scenarios, so the error is paired
    assert sweep["marginal_value"].iloc[2] == pytest.approx(gain.mean())
    assert sweep["marginal_value_se"].iloc[2] == pytest.approx(gain.std(ddof=1) / np.sqrt(3000))
    assert np.isnan(sweep["marginal_value_se"].iloc[1])  # no plan at the budget before
    report = analyze(plan, budgets=[3, 4], split="G", evaluate_on=ev)
    data = report.to_dict()
    assert data["evaluated_on"] == {"scenarios": "evaluation", "count": 3000}
    assert data["expected_value"] == pytest.approx((ev.value @ plan.funded).mean())
    for rows in (data["budget_sweep"], data["split_sweep"]):
        assert all({"expected_value_se", "p10_se", "p90_se", "cvar_se", "evaluated_on"} <= r.keys() for r in rows)
    assert all(np.isfinite(r["group_value_se"]) for r in data["split_sweep"] if r["status"] == "optimal")

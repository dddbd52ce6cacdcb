"""The dashboard's engine: assumptions, incremental recomputation, and numbers checked against
closed forms and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import workbench.live as live
from conftest import initiative, portfolio
from workbench import Assumptions, Correlation, InputError, LiveEngine, ScenarioBook, demo_portfolio, load_portfolio
from workbench.assumptions import apply_assumptions, check_assumptions
from workbench.plans import cvar


def lognormal_sigma(lo: float, hi: float) -> tuple[float, float]:
    """mu, sigma of the lognormal whose 5th and 95th percentiles are lo and hi."""
    z = stats.norm.ppf(0.95)
    return (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / (2 * z)


# --- assumptions ------------------------------------------------------------------------------


def test_bad_assumptions_are_all_reported_with_what_was_expected():
    p = portfolio(initiative("a", team="Core"), initiative("b"))
    a = Assumptions(budget=-1, capacities=(("Nope", 3.0),), objective="max", alpha=0, samples=10, top_k=5,
                    edits=(("a", "reach", "lots"), ("zz", "reach", "5"), ("b", "colour", "5")),
                    overrides=(("a", "maybe"),))
    messages = [str(pr) for pr in check_assumptions(p, a)]
    assert "budget must be > 0, got -1" in messages
    assert "capacity for unknown team 'Nope'; teams are Core" in messages
    assert any(m.startswith("objective 'max': expected one of mean, cvar, blend") for m in messages)
    assert any(m.startswith("alpha must be in (0, 1]") for m in messages)
    assert "samples must be a whole number of at least 100, got 10" in messages
    assert "top k must be between 1 and 2, got 5" in messages
    assert any(m.startswith("a reach 'lots': 'lots' is not a number; expected a number") for m in messages)
    assert "edit of unknown initiative 'zz'" in messages
    assert any(m.startswith("b: unknown factor 'colour'") for m in messages)
    assert "a: override 'maybe'; expected one of in, out" in messages
    with pytest.raises(InputError):
        apply_assumptions(p, a)


def test_edits_and_overrides_change_only_what_they_name():
    p = portfolio(initiative("a", moscow="must"), initiative("b"), initiative("c"))
    a = Assumptions(budget=3, top_k=1).with_edit("b", "reach", "200..800").with_override("a", "out").with_override("c", "in")
    out = apply_assumptions(p, a)
    assert str(out["b"].reach) == "200..800" and out["b"].impact == p["b"].impact
    assert out["a"].moscow == "won't" and out["c"].moscow == "must" and out["b"].moscow is None
    assert apply_assumptions(p, a.with_edit("b", "reach", None).with_override("a", None).with_override("c", None)) == p
    assert p["b"].reach.text == "100"  # the input portfolio is never modified


def test_assumptions_round_trip_through_json():
    a = Assumptions(budget=12.5, capacities=(("Core", 4.0),), objective="blend", lam=2.0,
                    edits=(("x", "reach", "1k..2k"),), overrides=(("y", "in"),))
    assert Assumptions.from_json(a.to_json()) == a


# --- numbers against closed forms and brute force -------------------------------------------------


def test_mean_score_matches_the_lognormal_closed_form():
    # Score R*I/E of independent lognormals is lognormal: E = exp(mu_r + mu_i - mu_e + (s_r^2 + s_i^2 + s_e^2)/2).
    p = portfolio(initiative("a", reach="200..800", impact="1..3", confidence="100%", effort="2..6"),
                  initiative("b", reach="100"))
    outcome = LiveEngine(p).run(Assumptions(budget=10, samples=200_000, seed=7, top_k=1))
    (mr, sr), (mi, si), (me, se) = (lognormal_sigma(*b) for b in ((200, 800), (1, 3), (2, 6)))
    exact = np.exp(mr + mi - me + (sr**2 + si**2 + se**2) / 2)
    scores = outcome.result.scores[:, 0]
    assert abs(scores.mean() - exact) < 4 * scores.std() / np.sqrt(scores.size)


def test_p_top_1_matches_the_normal_closed_form():
    # log scores are normal, so P(A outscores B) = Phi((mu_A - mu_B) / sqrt(s_A^2 + s_B^2)).
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="300..600"))
    outcome = LiveEngine(p).run(Assumptions(budget=10, samples=100_000, seed=3, top_k=1))
    (ma, sa), (mb, sb) = lognormal_sigma(200, 800), lognormal_sigma(300, 600)
    exact = stats.norm.cdf((ma - mb) / np.hypot(sa, sb))
    prob, se = outcome.result.p_top_k(1)
    assert abs(prob[0] - exact) < 4 * se[0]


def small_portfolio():
    rng = np.random.default_rng(11)
    inis = []
    for k in range(9):
        lo = float(rng.integers(50, 400))
        inis.append(initiative(f"i{k}", reach=f"{lo:g}..{3 * lo:g}", impact=str(rng.choice([0.5, 1, 2])),
                               confidence=f"{rng.choice([50, 80, 100])}%", effort=f"{rng.integers(1, 5)}",
                               team="A" if k % 2 else "B"))
    return portfolio(*inis)


@pytest.mark.parametrize("objective", ["mean", "cvar"])
def test_the_plan_is_the_brute_force_optimum(objective):
    p = small_portfolio()
    engine = LiveEngine(p, risk_scenarios=400)
    outcome = engine.run(Assumptions(budget=9, capacities=(("A", 5.0),), objective=objective, alpha=0.2,
                                     samples=2_000, seed=5))
    problem = outcome.problem
    plans = problem.feasible_plans()  # every plan that respects budget and capacities
    head = outcome.scenarios.value[:400]  # the risk objective is solved on the first samples
    if objective == "mean":
        scores = (outcome.scenarios.value @ plans.T.astype(float)).mean(axis=0)
    else:
        scores = np.array([cvar(head @ x.astype(float), 0.2) for x in plans])
    best = scores.max()
    chosen = scores[[np.array_equal(x, outcome.plan.x) for x in plans]]
    assert chosen.size == 1 and chosen[0] >= best - 1e-6 * abs(best)
    # Reported on every sample, whatever it was solved on.
    assert outcome.plan.value.size == 2_000


def test_infeasible_constraints_are_an_explained_outcome_not_an_exception():
    p = portfolio(initiative("a", effort="5", moscow="must"), initiative("b"))
    outcome = LiveEngine(p).run(Assumptions(budget=2, samples=500, top_k=1))
    assert outcome.plan is None and "must-have" in outcome.error
    assert outcome.result.samples == 500  # the ranking is still there


# --- incremental recomputation ------------------------------------------------------------------


def test_results_are_reproducible_from_the_seed():
    a = Assumptions(budget=40, samples=5_000, seed=99)
    first, second = LiveEngine(demo_portfolio()).run(a), LiveEngine(demo_portfolio()).run(a)
    np.testing.assert_array_equal(first.result.scores, second.result.scores)
    np.testing.assert_array_equal(first.plan.x, second.plan.x)
    other = LiveEngine(demo_portfolio()).run(a.change(seed=100))
    assert not np.array_equal(first.result.scores, other.result.scores)


def test_an_edit_redraws_only_its_block_and_keeps_every_other_sample(monkeypatch):
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100..900"),
                  initiative("c", reach="50..500"), initiative("d", reach="10..90"),
                  correlations=[Correlation(("a", "reach"), ("b", "reach"), 0.8)])
    engine = LiveEngine(p)
    base = Assumptions(budget=2, samples=20_000, seed=1, top_k=2)
    before = engine.run(base)
    drawn = []
    original = live._draw_block
    monkeypatch.setattr(live, "_draw_block", lambda applied, block, a: drawn.append(block) or original(applied, block, a))
    engine.run(base.change(budget=3))
    assert drawn == []  # a budget change re-solves the plan only
    after = engine.run(base.with_edit("a", "reach", "400..1600"))
    assert drawn == [[0, 1]]  # a and b are correlated: one block
    np.testing.assert_array_equal(before.result.scores[:, 2:], after.result.scores[:, 2:])
    rho = stats.spearmanr(after.scenarios.value[:, 0], after.scenarios.value[:, 1])[0]
    assert abs(rho - 0.8) < 0.02
    # The edited estimate is what was drawn: its median reach doubled.
    ratio = np.median(after.scenarios.value[:, 0]) / np.median(before.scenarios.value[:, 0])
    assert 1.9 < ratio < 2.1


def test_overrides_force_initiatives_in_and_out():
    engine = LiveEngine(demo_portfolio())
    a = Assumptions(budget=40, samples=5_000, seed=2)
    plan = engine.run(a).plan
    funded, left_out = plan.selected[-1], next(i for i in plan.problem.ids if i not in plan.selected)
    assert funded not in engine.run(a.with_override(funded, "out")).plan.selected
    assert left_out in engine.run(a.with_override(left_out, "in")).plan.selected


# --- saved scenarios ------------------------------------------------------------------------------


def test_scenarios_compare_and_export(tmp_path):
    engine = LiveEngine(demo_portfolio())
    book = ScenarioBook(engine)
    base = Assumptions(budget=40, samples=5_000, seed=4)
    book.save("base", base)
    book.save("lean", base.change(budget=25).with_edit("pricing-page", "effort", "3").with_override("tax-engine", "out"))
    diff = book.compare("base", "lean")
    assert sorted(diff.assumptions.values.tolist()) == [["budget", "40", "25"], ["pricing-page effort", "1", "3"],
                                                        ["tax-engine MoSCoW", "could", "won't"]]
    assert diff.top_k == 5 and diff.errors == (None, None)
    assert diff.values.loc["expected value", "difference"] < 0
    dropped = diff.plans[diff.plans["change"] == "dropped"].index
    assert len(dropped) > 0 and "tax-engine" not in set(diff.plans[diff.plans["change"] == "added"].index)
    paths = book.export("lean", tmp_path / "lean.yaml")
    back = load_portfolio(paths[0])
    assert str(back["pricing-page"].effort) == "3" and back["tax-engine"].moscow == "won't"
    assert Assumptions.from_json(paths[-1].read_text()).budget == 25
    with pytest.raises(ValueError, match="1 to 60 characters"):
        book.save("   ", base)
    with pytest.raises(ValueError, match="is a column of the comparison tables"):
        book.save("Difference", base)
    with pytest.raises(ValueError, match="two different scenarios"):
        book.compare("base", "base")


def test_exporting_to_csv_lists_the_correlations_file(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    book.save("base", Assumptions(budget=40, samples=1_000))
    paths = book.export("base", tmp_path / "base.csv")
    assert [p.name for p in paths] == ["base.csv", "base.correlations.csv", "base.assumptions.json"]
    assert all(p.exists() for p in paths)
    assert load_portfolio(paths[0]).correlations == demo_portfolio().correlations


def test_a_bad_report_label_writes_nothing(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    book.save("base", Assumptions(budget=40, samples=1_000))
    with pytest.raises(InputError, match="expected a label such as 2026Q4"):
        book.report("base", tmp_path / "out", quarter="../escaped")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("*.yaml"))


def test_the_draw_cache_stays_within_its_memory_budget():
    p = portfolio(*(initiative(f"i{k}", reach="100..300") for k in range(6)))
    engine = LiveEngine(p, cache_bytes=6 * 2 * 8 * 1_000 * 3)  # three portfolios' worth of draws
    for seed in range(10):
        engine.run(Assumptions(budget=3, samples=1_000, seed=seed, top_k=1))
    assert len(engine._draws) <= 18
    assert engine._draw_bytes == sum(v.nbytes + e.nbytes for v, e in engine._draws.values())


def test_a_saved_scenario_becomes_a_quarterly_report(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    book.save("lean budget", Assumptions(budget=30, capacities=(("Payments", 10.0),), samples=2_000, seed=3)
              .with_edit("pricing-page", "effort", "3"))
    notebook, page = book.report("lean budget", tmp_path, quarter="2027Q1")
    assert page == tmp_path / "2027Q1-lean-budget.html" and notebook.exists()
    text = page.read_text()
    assert "2027Q1" in text and "within the budget of 30 person-months" in text
    exported = load_portfolio(tmp_path / "2027Q1-lean-budget-portfolio.yaml")
    assert str(exported["pricing-page"].effort) == "3"


def test_the_frontier_is_never_dominated_by_the_recommended_plan():
    engine = LiveEngine(demo_portfolio())
    outcome = engine.run(Assumptions(budget=40, samples=5_000, seed=6))
    front = engine.frontier(outcome, points=4)
    chosen = outcome.plan
    assert all(p.value.size == chosen.value.size for p in front.plans)  # all on every sample
    assert not any(chosen.expected_value >= p.expected_value and chosen.cvar >= p.cvar
                   and (chosen.expected_value > p.expected_value or chosen.cvar > p.cvar) for p in front.plans)
    sweep = engine.budget_sweep(outcome)
    at_budget = sweep[sweep["budget"] == 40.0].iloc[0]
    assert at_budget["expected_value"] == pytest.approx(chosen.expected_value)  # same plan, same samples


def test_the_same_edits_and_overrides_in_any_order_are_the_same_assumptions():
    a = Assumptions(budget=10.0)
    one = a.with_override("x", "in").with_override("y", "out").with_edit("x", "reach", "5").with_edit("y", "impact", "2")
    two = a.with_edit("y", "impact", "2").with_edit("x", "reach", "5").with_override("y", "out").with_override("x", "in")
    assert one == two and hash(one) == hash(two)
    assert one.with_edit("x", "reach", "7").edits == (("x", "reach", "7"), ("y", "impact", "2"))
    assert Assumptions.from_json(one.to_json()) == one

"""The session's engine and scenario book: settings, incremental recomputation, numbers checked
against closed forms and brute force, and exported scenarios that reproduce the session exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

import workbench.pipeline as pipeline
from workbench import Correlation, InputError, LiveEngine, ScenarioBook, Settings, cli, demo_portfolio, load_portfolio
from workbench.interactive.session import DIFFERENCE, DIFFERENCE_PM
from workbench.pipeline import apply_settings
from workbench.planning.plans import cvar
from workbench.views.format import half_width

from conftest import initiative, portfolio


def lognormal_sigma(lo: float, hi: float) -> tuple[float, float]:
    """mu, sigma of the lognormal whose 5th and 95th percentiles are lo and hi."""
    z = stats.norm.ppf(0.95)
    return (np.log(lo) + np.log(hi)) / 2, (np.log(hi) - np.log(lo)) / (2 * z)


# --- settings of a session ------------------------------------------------------------------------


def test_bad_edits_overrides_and_names_are_all_reported_with_what_was_expected():
    p = portfolio(initiative("a", team="Core"), initiative("b"))
    with pytest.raises(InputError) as err:
        Settings().change(budget=3, capacities={"Nope": 3}, top_k=5, overrides={"q": "in"},
                          edits=[("a", "reach", "lots"), ("zz", "reach", "5")]).for_portfolio(p)
    messages = [str(pr) for pr in err.value.problems]
    assert "top_k: 5 is more than the 2 initiatives of the portfolio" in messages
    assert "capacities: no initiative belongs to team 'Nope' (teams: Core)" in messages
    assert any(m.startswith("edits: a reach 'lots': 'lots' is not a number; expected a number") for m in messages)
    assert "edits: unknown initiative 'zz'" in messages
    assert any(m.startswith("overrides: unknown initiative 'q'") for m in messages)
    with pytest.raises(InputError) as err:
        Settings().change(overrides={"a": "maybe"}, edits=[("b", "colour", "5")])
    assert [str(pr) for pr in err.value.problems] == ["overrides: expected one of in, out, got 'maybe'",
                                                      "edits: expected one of reach, impact, confidence, effort, "
                                                      "got 'colour'"]


def test_edits_and_overrides_change_only_what_they_name():
    p = portfolio(initiative("a", moscow="must"), initiative("b"), initiative("c"))
    s = Settings(budget=3, top_k=1).with_edit("b", "reach", "200..800")
    s = s.with_override("a", "out").with_override("c", "in")
    out = apply_settings(p, s.for_portfolio(p))
    assert str(out["b"].reach) == "200..800" and out["b"].impact == p["b"].impact
    assert out["a"].moscow == "won't" and out["c"].moscow == "must" and out["b"].moscow is None
    assert apply_settings(p, s.with_edit("b", "reach", None).with_override("a", None).with_override("c", None)) == p
    assert p["b"].reach.text == "100"  # the input portfolio is never modified


def test_settings_with_edits_round_trip_through_json(tmp_path):
    s = Settings(budget=12.5, capacities=(("Core", 4.0),), objective="blend", lam=2.0,
                 edits=(("x", "reach", "1k..2k"),), overrides=(("y", "in"),))
    (tmp_path / "s.json").write_text(s.to_json())
    assert Settings.from_json(tmp_path / "s.json") == s


def test_the_same_edits_and_overrides_in_any_order_are_the_same_settings(tmp_path):
    s = Settings(budget=10.0)
    one = s.with_override("x", "in").with_override("y", "out").with_edit("x", "reach", "5")
    one = one.with_edit("y", "impact", "2")
    two = s.with_edit("y", "impact", "2").with_edit("x", "reach", "5").with_override("y", "out")
    two = two.with_override("x", "in")
    assert one == two and hash(one) == hash(two)
    assert one.with_edit("x", "reach", "7").edits == (("x", "reach", "7"), ("y", "impact", "2"))
    (tmp_path / "one.json").write_text(one.to_json())
    assert Settings.from_json(tmp_path / "one.json") == one


# --- numbers against closed forms and brute force -------------------------------------------------


def test_mean_score_matches_the_lognormal_closed_form():
    # Score R*I/E of independent lognormals is lognormal: E = exp(mu_r + mu_i - mu_e + (s_r^2 + s_i^2 + s_e^2)/2).
    p = portfolio(initiative("a", reach="200..800", impact="1..3", confidence="100%", effort="2..6"),
                  initiative("b", reach="100"))
    outcome = LiveEngine(p).run(Settings(budget=10, samples=200_000, seed=7, top_k=1))
    (mr, sr), (mi, si), (me, se) = (lognormal_sigma(*b) for b in ((200, 800), (1, 3), (2, 6)))
    exact = np.exp(mr + mi - me + (sr**2 + si**2 + se**2) / 2)
    scores = outcome.result.scores[:, 0]
    assert abs(scores.mean() - exact) < 4 * scores.std() / np.sqrt(scores.size)


def test_p_top_1_matches_the_normal_closed_form():
    # log scores are normal, so P(A outscores B) = Phi((mu_A - mu_B) / sqrt(s_A^2 + s_B^2)).
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="300..600"))
    outcome = LiveEngine(p).run(Settings(budget=10, samples=100_000, seed=3, top_k=1))
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
def test_the_plan_is_the_brute_force_optimum_on_the_selection_scenarios(objective):
    p = small_portfolio()
    outcome = LiveEngine(p).run(Settings(budget=9, capacities=(("A", 5.0),), objective=objective, alpha=0.2,
                                         samples=2_000, scenarios=400, seed=5))
    plans = outcome.problem.feasible_plans()  # every plan that respects budget and capacities
    chosen_on = outcome.selection.value  # plans are chosen on the selection scenarios
    assert chosen_on.shape[0] == 400
    if objective == "mean":
        scores = (chosen_on @ plans.T.astype(float)).mean(axis=0)
    else:
        scores = np.array([cvar(chosen_on @ x.astype(float), 0.2) for x in plans])
    best = scores.max()
    chosen = scores[[np.array_equal(x, outcome.plan.funded) for x in plans]]
    assert chosen.size == 1 and chosen[0] >= best - 1e-6 * abs(best)
    # ... and valued on the evaluation draws, an independent set.
    assert outcome.plan.value.size == 2_000


def test_infeasible_constraints_are_an_explained_outcome_not_an_exception():
    p = portfolio(initiative("a", effort="5", moscow="must"), initiative("b"))
    outcome = LiveEngine(p).run(Settings(budget=2, samples=500, top_k=1))
    assert outcome.plan is None and "must-have" in outcome.error
    assert outcome.result.samples == 500  # the ranking is still there


# --- incremental recomputation ------------------------------------------------------------------


def test_results_are_reproducible_from_the_seed():
    s = Settings(budget=40, samples=5_000, seed=99)
    first, second = LiveEngine(demo_portfolio()).run(s), LiveEngine(demo_portfolio()).run(s)
    np.testing.assert_array_equal(first.result.scores, second.result.scores)
    np.testing.assert_array_equal(first.plan.funded, second.plan.funded)
    other = LiveEngine(demo_portfolio()).run(s.change(seed=100))
    assert not np.array_equal(first.result.scores, other.result.scores)


def test_an_edit_redraws_only_its_block_and_keeps_every_other_sample(monkeypatch):
    p = portfolio(initiative("a", reach="200..800"), initiative("b", reach="100..900"),
                  initiative("c", reach="50..500"), initiative("d", reach="10..90"),
                  correlations=[Correlation(("a", "reach"), ("b", "reach"), 0.8)])
    engine = LiveEngine(p)
    base = Settings(budget=2, samples=20_000, seed=1, top_k=2)
    before = engine.run(base)
    drawn = []
    original = pipeline.draw_block
    monkeypatch.setattr(pipeline, "draw_block", lambda *args, **kw: drawn.append((args[1], args[4]))
                        or original(*args, **kw))
    engine.run(base.change(budget=3))
    assert drawn == []  # a budget change re-solves the plan only
    after = engine.run(base.with_edit("a", "reach", "400..1600"))
    # a and b are correlated: one block, drawn again for the ranking and for choosing the plan
    assert sorted(drawn) == [([0, 1], "evaluation"), ([0, 1], "selection")]
    np.testing.assert_array_equal(before.result.scores[:, 2:], after.result.scores[:, 2:])
    rho = stats.spearmanr(after.evaluation.value[:, 0], after.evaluation.value[:, 1])[0]
    assert abs(rho - 0.8) < 0.02
    # The edited estimate is what was drawn: its median reach doubled.
    ratio = np.median(after.evaluation.value[:, 0]) / np.median(before.evaluation.value[:, 0])
    assert 1.9 < ratio < 2.1


def test_overrides_force_initiatives_in_and_out():
    engine = LiveEngine(demo_portfolio())
    s = Settings(budget=40, samples=5_000, seed=2)
    plan = engine.run(s).plan
    funded, left_out = plan.selected[-1], next(i for i in plan.problem.ids if i not in plan.selected)
    assert funded not in engine.run(s.with_override(funded, "out")).plan.selected
    assert left_out in engine.run(s.with_override(left_out, "in")).plan.selected


def test_the_draw_cache_stays_within_its_memory_budget():
    p = portfolio(*(initiative(f"i{k}", reach="100..300") for k in range(6)))
    per_run = 6 * 2 * 2 * 8 * 1_000  # blocks x (evaluation, selection) x (value, effort) x bytes x rows
    engine = LiveEngine(p, cache_bytes=3 * per_run)  # three runs' worth of draws
    for seed in range(10):
        engine.run(Settings(budget=3, samples=1_000, scenarios=1_000, seed=seed, top_k=1))
    assert len(engine._draws) <= 3 * 12
    assert engine._draw_bytes == sum(v.nbytes + e.nbytes for v, e in engine._draws.values())


def test_the_frontier_is_never_dominated_by_the_recommended_plan():
    outcome = LiveEngine(demo_portfolio()).run(Settings(budget=40, samples=5_000, scenarios=300, seed=6,
                                                        frontier_points=4))
    front = pipeline.frontier(outcome)
    chosen = outcome.plan
    assert all(p.value.size == chosen.value.size for p in front.plans)  # all valued on every sample
    assert not any(chosen.expected_value >= p.expected_value and chosen.cvar >= p.cvar
                   and (chosen.expected_value > p.expected_value or chosen.cvar > p.cvar) for p in front.plans)
    sweep = pipeline.sweep(outcome)
    at_budget = sweep[sweep["budget"] == 40.0].iloc[0]
    assert at_budget["expected_value"] == pytest.approx(chosen.expected_value)  # same plan, same samples


# --- saved scenarios ------------------------------------------------------------------------------


def test_scenarios_compare_with_signed_differences_and_their_errors(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    base = Settings(budget=40, samples=5_000, seed=4)
    book.save("base", base)
    book.save("lean", base.change(budget=25).with_edit("pricing-page", "effort", "3")
              .with_override("tax-engine", "out"))
    diff = book.compare("base", "lean")
    assert sorted(diff.settings.values.tolist()) == [["In-house sales tax engine — MoSCoW", "could", "won't"],
                                                     ["Pricing page redesign with calculator — effort", "1", "3"],
                                                     ["budget (person-months)", "40", "25"]]
    # The key settings both share, for context beside what differs.
    assert diff.shared.values.tolist()[:4] == [["objective", "mean"], ["CVaR tail α", "0.1"], ["samples", "5,000"],
                                               ["seed", "4"]]  # a seed is a label: no thousands separator
    assert diff.top_k == 5 and diff.errors == (None, None) and diff.paired
    a, b = book.outcome("base").plan, book.outcome("lean").plan
    ev = diff.values.loc["expected value"]
    assert ev[DIFFERENCE] == pytest.approx(b.expected_value - a.expected_value) and ev[DIFFERENCE] < 0
    d = b.value - a.value  # same seed, same samples: paired scenario by scenario
    assert ev[DIFFERENCE_PM] == pytest.approx(half_width(d.std(ddof=1) / np.sqrt(d.size)))
    assert ev[DIFFERENCE_PM] < np.hypot(ev["± base"], ev["± lean"])  # common draws: a sharper difference
    dropped = diff.plans[diff.plans["change"] == "dropped"].index
    assert len(dropped) > 0 and "tax-engine" not in set(diff.plans[diff.plans["change"] == "added"].index)
    # Different sample counts: independent runs, the half-widths add in quadrature.
    book.save("more samples", base.change(samples=6_000))
    other = book.compare("base", "more samples")
    ev = other.values.loc["expected value"]
    assert not other.paired and ev[DIFFERENCE_PM] == pytest.approx(np.hypot(ev["± base"], ev["± more samples"]))
    with pytest.raises(ValueError, match="1 to 60 characters"):
        book.save("   ", base)
    with pytest.raises(ValueError, match="is a column of the comparison tables"):
        book.save("Difference", base)
    with pytest.raises(ValueError, match="two different scenarios"):
        book.compare("base", "base")


def test_an_exported_scenario_holds_its_edits_and_the_rest_of_its_settings(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    lean = Settings(budget=25, capacities={"payments": 10}, samples=5_000).with_edit("pricing-page", "effort", "3")
    book.save("lean", lean.with_override("tax-engine", "out"))
    paths = book.export("lean", tmp_path / "lean.yaml")
    assert [p.name for p in paths] == ["lean.yaml", "lean.settings.json"]
    back = load_portfolio(paths[0])
    assert str(back["pricing-page"].effort) == "3" and back["tax-engine"].moscow == "won't"
    assert back.correlations == demo_portfolio().correlations
    settings = Settings.from_json(paths[1])
    assert settings.budget == 25 and settings.capacity == {"Payments": 10.0}  # spelled as in the file
    assert settings.edits == () and settings.overrides == ()  # already in the exported portfolio
    assert settings == book.exported_settings("lean")


def test_exporting_to_csv_lists_the_correlations_file(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    book.save("base", Settings(budget=40, samples=1_000))
    paths = book.export("base", tmp_path / "base.csv")
    assert [p.name for p in paths] == ["base.csv", "base.correlations.csv", "base.settings.json"]
    assert all(p.exists() for p in paths)
    assert load_portfolio(paths[0]).correlations == demo_portfolio().correlations


def test_a_bad_report_label_writes_nothing(tmp_path):
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    book.save("base", Settings(budget=40, samples=1_000))
    with pytest.raises(InputError, match="expected a label such as 2026Q4"):
        book.report("base", tmp_path / "out", quarter="../escaped")
    assert not (tmp_path / "out").exists() and not list(tmp_path.rglob("*.yaml"))


def _same_numbers(record: dict, outcome) -> None:
    """The report's JSON against the session's outcome: the same decision, the same figures."""
    plan, result, k = outcome.plan, outcome.result, outcome.settings.top_k
    assert record["plan"]["selected"] == plan.selected
    assert record["plan"]["expected_value"] == pytest.approx(plan.expected_value, rel=1e-9)
    p_top = dict(zip(result.portfolio.ids, result.p_top_k(k)[0]))
    assert {r["id"]: r["p_top_k"] for r in record["ranking"]} == pytest.approx(p_top, rel=1e-9, abs=1e-12)


def test_a_saved_scenario_becomes_a_quarterly_report_with_the_sessions_numbers(tmp_path, capsys):
    """Demo, budget 40, Payments 12, Growth 8: the report of the saved scenario (and of the same
    scenario with an edit and an override, and `workbench report` on its exported files) funds
    the same initiatives with the same expected value and P(top k) as the session."""
    book = ScenarioBook(LiveEngine(demo_portfolio()))
    base = Settings(budget=40, capacities={"Payments": 12, "Growth": 8})
    book.save("base", base)
    plan = book.outcome("base").plan
    left_out = next(i for i in plan.problem.ids
                    if i not in plan.selected and plan.problem.portfolio[i].moscow != "won't")
    # A smaller frontier keeps the second report quick; it changes no figure compared here.
    book.save("lean budget", base.change(frontier_points=2).with_edit("pricing-page", "reach", "2k..6k")
              .with_override(left_out, "in"))
    for name in ("base", "lean budget"):
        notebook, page, data = book.report(name, tmp_path, quarter="2027Q1")
        stem = "2027Q1-" + name.replace(" ", "-")
        assert (notebook.name, page.name, data.name) == (f"{stem}.ipynb", f"{stem}.html", f"{stem}.json")
        record = json.loads(data.read_text())
        assert record["settings"] == book.exported_settings(name).to_dict()
        _same_numbers(record, book.outcome(name))
    assert "within the budget of 40 person-months" in page.read_text()
    exported = tmp_path / "2027Q1-lean-budget-portfolio.yaml"
    assert str(load_portfolio(exported)["pricing-page"].reach) == "2k..6k"
    assert load_portfolio(exported)[left_out].moscow == "must"
    # The command line on the exported files gives the same numbers again.
    out = tmp_path / "cli"
    assert cli.main(["report", "quarterly", "--portfolio", str(exported), "--quarter", "2027Q1",
                     "--settings", str(exported.with_name(f"{exported.stem}.settings.json")), "-o", str(out)]) == 0
    capsys.readouterr()
    _same_numbers(json.loads((out / "2027Q1-quarterly.json").read_text()), book.outcome("lean budget"))

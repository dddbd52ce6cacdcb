"""One decision, one set of numbers: the CLI, the reports and the live engine agree digit for digit."""

import json

import numpy as np
import pytest

import workbench as wb
from workbench import pipeline
from workbench.cli import main
from workbench.settings import Settings

OTHER = """id,name,reach,impact,confidence,effort,team,moscow,planned
alpha,Alpha,200..800,high,80%,2..5,Core,must,true
beta,Beta,1k..3k,medium,50%,"pert(1,2,6)",Core,,
gamma,Gamma,500,low..high,90%,3,Edge,,true
delta,Delta,100..400,massive,60%,1..3,Edge,won't,
eps,Epsilon,2000..2600,low,70%,"tri(2,3,5)",Core,should,
"""


def cli_json(capsys, *args):
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def other(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text(OTHER)
    return path


@pytest.mark.parametrize("case", ["demo", "other"])
def test_cli_and_live_engine_give_the_same_plan_and_ranking(case, other, tmp_path, capsys):
    settings = Settings.from_mapping({"budget": 40 if case == "demo" else 7, "samples": 4000, "scenarios": 300,
                                      "seed": 11, "capacities": {"payments": 12, "Growth": 8} if case == "demo" else {}})
    path = tmp_path / "s.json"
    path.write_text(settings.to_json())
    source = ["--demo"] if case == "demo" else [str(other)]
    portfolio = wb.demo_portfolio() if case == "demo" else wb.load_portfolio(other)

    record = cli_json(capsys, "optimize", *source, "--settings", str(path))
    outcome = wb.LiveEngine(portfolio).run(settings)
    assert record["selected"] == outcome.plan.selected
    assert record["expected_value"] == pytest.approx(outcome.plan.expected_value, rel=1e-9)
    assert record["p_overrun"] == pytest.approx(outcome.plan.p_overrun, rel=1e-9)
    # a second engine, and the one-call function, give the same numbers again
    again = pipeline.run(portfolio, settings)
    assert again.plan.selected == outcome.plan.selected
    assert again.plan.expected_value == outcome.plan.expected_value

    ranking = cli_json(capsys, "score", *source, "--settings", str(path))
    p, se = outcome.result.p_top_k(outcome.settings.top_k)
    by_id = {r["id"]: r for r in ranking["initiatives"]}
    assert np.allclose([by_id[i]["p_top_k"] for i in portfolio.ids], p, rtol=0, atol=1e-12)
    assert np.allclose([by_id[i]["p_top_k_se"] for i in portfolio.ids], se, rtol=0, atol=1e-12)


def test_flags_override_the_settings_file(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(Settings(budget=40, samples=2000, scenarios=200, seed=3).to_json())
    record = cli_json(capsys, "optimize", "--demo", "--settings", str(path), "--budget", "30")
    assert record["budget"] == 30 and record["settings"]["seed"] == 3


def test_an_edit_redraws_only_its_own_block():
    portfolio = wb.demo_portfolio()
    engine = wb.LiveEngine(portfolio)
    base = Settings(budget=40, samples=2000, scenarios=200)
    a = engine.run(base)
    b = engine.run(base.with_edit("pricing-page", "reach", "2k..6k"))
    changed = [i for i, id_ in enumerate(portfolio.ids)
               if not np.array_equal(a.evaluation.value[:, i], b.evaluation.value[:, i])]
    assert changed == [portfolio.index("pricing-page")]


def test_plans_are_chosen_and_valued_on_independent_scenarios():
    outcome = wb.run(wb.demo_portfolio(), Settings(budget=40, samples=2000, scenarios=300))
    assert outcome.selection.count == 300 and outcome.evaluation.count == 2000
    assert outcome.plan.scenarios is outcome.evaluation
    assert not np.array_equal(outcome.selection.value[:5], outcome.evaluation.value[:5])


def test_the_budget_sweep_honours_the_objective():
    outcome = wb.run(wb.demo_portfolio(), Settings(budget=40, samples=2000, scenarios=200, objective="cvar",
                                                   budget_range="38:42:4"))
    sweep = pipeline.sweep(outcome)
    at_40 = wb.run(wb.demo_portfolio(), Settings(budget=42, samples=2000, scenarios=200, objective="cvar"))
    assert sweep["selected"].iloc[-1] == at_40.plan.selected


def test_partial_moscow_column_runs(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text(OTHER)
    assert main(["optimize", str(path), "--budget", "7", "--samples", "1000", "--scenarios", "100"]) == 0
    assert main(["sensitivity", str(path), "--budget", "7", "--samples", "1000", "--scenarios", "100"]) == 0


def test_score_on_a_small_portfolio_needs_no_top_k_flag(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("\n".join(OTHER.splitlines()[:5]) + "\n")  # 4 initiatives
    assert main(["score", str(path), "--samples", "1000"]) == 0
    assert "P(top 4)" in capsys.readouterr().out
    assert main(["score", str(path), "--samples", "1000", "--top-k", "5"]) == 2
    assert "top_k: 5 is more than the 4 initiatives" in capsys.readouterr().err


@pytest.mark.parametrize("flag, message", [
    (["--budget", "800%"], "budget: expected an amount such as 40 or 1.5k, not a percentage ('800%')"),
    (["--budget", "40", "--capacity", "Paymnts=3"], "no initiative belongs to team 'Paymnts'; did you mean 'Payments'?"),
    (["--budget", "40", "--seed", "-1"], "seed: must be at least 0, got -1"),
])
def test_cli_messages_are_the_validators(flag, message, capsys):
    assert main(["optimize", "--demo", *flag]) == 2
    assert message in capsys.readouterr().err


def test_an_override_changes_the_cached_plan():
    engine = wb.LiveEngine(wb.demo_portfolio())
    base = Settings(budget=40, samples=2000, scenarios=200)
    funded = engine.run(base).plan.selected
    assert "sso-saml" in funded
    out = engine.run(base.with_override(funded[-1], "out"))
    assert funded[-1] not in out.plan.selected
    assert engine.run(base).plan.selected == funded


def test_the_frontier_shows_each_plan_once():
    outcome = wb.run(wb.demo_portfolio(), Settings(budget=40, samples=2000, scenarios=150, frontier_points=4))
    front = pipeline.frontier(outcome)
    keys = [p.funded.tobytes() for p in front.plans]
    assert len(keys) == len(set(keys))


def test_a_streamed_ranking_is_cached_per_top_k():
    engine = wb.LiveEngine(wb.demo_portfolio())
    base = Settings(precision=0.05, samples=1000)
    first = engine.run(base.change(top_k=1), plan=False).result
    second = engine.run(base.change(top_k=10), plan=False).result
    assert (first.precision_top_k, second.precision_top_k) == (1, 10)


def test_last_quarters_ranking_ignores_this_quarters_names(tmp_path):
    from workbench.reports import check_parameters

    before = tmp_path / "before.csv"
    before.write_text("\n".join(OTHER.splitlines()[:3]) + "\n")  # 2 initiatives, team Core only
    job = check_parameters({"quarter": "2027Q1", "previous_portfolio": str(before), "budget": 40,
                            "capacities": {"Payments": 12}, "top_k": 5})
    previous = wb.load_portfolio(before)
    from workbench.reports import previous_settings
    assert previous_settings(job.settings, previous).for_portfolio(previous).top_k == 2


def test_team_flags_add_to_the_settings_files_capacities(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(Settings(budget=40, samples=1000, scenarios=100, capacities={"Payments": 12, "Growth": 8}).to_json())
    record = cli_json(capsys, "optimize", "--demo", "--settings", str(path), "--capacity", "growth=6")
    assert record["settings"]["capacities"] == {"Growth": 6.0, "Payments": 12.0}
    assert main(["optimize", "--demo", "--budget", "40", "--capacity", "Growth=5", "--capacity", "growth=6"]) == 2
    assert "team 'Growth' is given twice ('Growth' and 'growth')" in capsys.readouterr().err


def test_a_ranking_alone_streams_without_holding_the_draws():
    outcome = wb.run(wb.demo_portfolio(), Settings(method="sobol", samples=1024), plan=False)
    assert outcome.evaluation is None and outcome.result.samples >= 1024 and outcome.result.method == "sobol"


def test_every_plan_carries_its_vss_and_the_point_plan_is_solved_once(other, monkeypatch):
    from workbench.planning.plan_quality import point_estimate_selection

    calls = []

    def counted(*args, **kwargs):
        calls.append(args)
        return point_estimate_selection(*args, **kwargs)

    monkeypatch.setattr(pipeline, "point_estimate_selection", counted)
    engine = wb.LiveEngine(wb.load_portfolio(other))
    base = Settings(budget=7, samples=2000, scenarios=200, seed=4)
    for objective in ("mean", "cvar", "blend"):
        plan = engine.run(base.change(objective=objective)).plan
        assert plan.point.scenarios is plan.scenarios and plan.point.label == "point estimates"
        assert np.array_equal(plan.point.funded, point_estimate_selection(plan.problem))
        assert plan.vss.se >= 0 and np.isfinite(plan.vss.value)
    assert len(calls) == 1  # the point-estimate plan depends on neither the draws nor the objective
    assert wb.run(wb.load_portfolio(other), base).plan.vss == engine.run(base).plan.vss


def test_the_optimality_gap_is_reproducible_and_drawn_apart_from_the_selection(other):
    outcome = wb.run(wb.load_portfolio(other), Settings(budget=7, samples=2000, scenarios=200, seed=4))
    gap = pipeline.optimality_gap(outcome, replications=3)
    assert gap == pipeline.optimality_gap(outcome, replications=3)
    assert gap.replications == 3 and gap.value >= 0
    assert gap.lower == pytest.approx(outcome.plan.expected_value, rel=1e-12)
    assert gap.lower_se == pytest.approx(outcome.plan.expected_value_se, rel=1e-12)
    # the upper bound comes from new draws: not the selection set's optimum
    from workbench.planning.optimization import solve

    on_selection = solve(outcome.problem, outcome.selection).funded
    assert gap.upper != pytest.approx((outcome.selection.value @ on_selection).mean(), rel=1e-9)

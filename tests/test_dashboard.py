"""The dashboard in-process: controls drive the pipeline, stale results never win, user text stays
text, and a process that built a dashboard exits cleanly while computations are in flight.

The same dashboard in a real JupyterLab and Chromium is tests/test_strategy_session_browser.py.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from workbench import InputError, Settings, demo_portfolio, load_portfolio
from workbench.interactive.dashboard import Dashboard, LatestOnly, default_settings
from workbench.views.format import PM_NOTE

from conftest import initiative, portfolio

# --- the scheduler ------------------------------------------------------------------------------


def test_a_stale_result_never_overwrites_a_newer_one():
    applied, started, release = [], threading.Event(), threading.Event()

    def work(payload, check):
        if payload == "slow":
            started.set()
            assert release.wait(5)  # still computing when the newer request arrives
        return payload

    runner = LatestOnly(work, applied.append)
    runner.request("slow")
    assert started.wait(5)
    runner.request("fast")
    release.set()
    assert runner.wait(10)  # one worker: "fast" runs, so wait() returns, only after "slow" has finished
    assert applied == ["fast"]


def test_requests_within_the_debounce_window_collapse_into_the_last():
    calls, spans = [], []
    runner = LatestOnly(lambda payload, check: calls.append(payload) or payload, lambda r: None, debounce=0.2)
    for k in range(10):  # a slider drag
        spans.append(time.monotonic())
        runner.request(k)
        spans.append(time.monotonic())
        time.sleep(0.01)
    assert runner.wait(10)
    assert calls[-1] == 9 and calls == sorted(set(calls))
    # An earlier request can run only if the next one came a whole debounce window after it
    # (a stalled test thread); without such a stall, calls == [9].
    for k in calls[:-1]:
        assert spans[2 * k + 3] - spans[2 * k] >= 0.2 - 1e-6, (calls, spans)


def test_long_work_stops_when_superseded():
    progress, applied = [], []
    running, superseded = threading.Event(), threading.Event()

    def work(payload, check):
        for step in range(100):
            check()  # raises Superseded once a newer request exists
            progress.append((payload, step))
            if payload == "old" and step == 5:
                running.set()
                assert superseded.wait(5)
        return payload

    runner = LatestOnly(work, applied.append)
    runner.request("old")
    assert running.wait(5)
    runner.request("new")
    superseded.set()
    assert runner.wait(10)
    assert applied == ["new"]
    # "old" stops at its first check after the newer request; "new" runs to the end
    assert progress == [("old", step) for step in range(6)] + [("new", step) for step in range(100)]


def test_a_failing_computation_is_shown_not_lost():
    applied = []
    runner = LatestOnly(lambda payload, check: 1 / 0, applied.append)
    runner.request(None)
    assert runner.wait(10)
    assert isinstance(applied[0], ZeroDivisionError)


def test_a_failing_view_does_not_stop_the_worker():
    shown = []

    def apply(result):
        if result == "bad":
            raise RuntimeError("cannot draw")
        shown.append(result)

    runner = LatestOnly(lambda payload, check: payload, apply)
    runner.request("bad")
    assert runner.wait(10)
    runner.request("good")
    assert runner.wait(10)
    assert shown == ["good"] and isinstance(runner.errors[0], RuntimeError)


def test_close_stops_long_work_at_its_next_check_and_joins_the_thread():
    steps, running = [], threading.Event()

    def work(payload, check):
        for step in range(1000):
            check()
            steps.append(step)
            running.set()
            time.sleep(0.01)

    runner = LatestOnly(work, lambda result: None)
    runner.request(None)
    assert running.wait(5)
    assert runner.close(timeout=10) and not runner.alive
    assert len(steps) < 1000
    with pytest.raises(RuntimeError, match="closed"):
        runner.request(None)


# --- the dashboard -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    # 300 selection scenarios keep the frontier quick; every behaviour checked here is the same on 1,000.
    d = Dashboard(demo_portfolio(), budget=40, capacities={"Payments": 12, "Growth": 8}, samples=5_000,
                  scenarios=300, debounce=0.01, output_dir=str(tmp_path_factory.mktemp("reports")))
    assert d.wait(300)
    yield d
    assert d.close()


def test_the_first_view_is_complete(dash):
    assert "Recommended plan" in dash._plan_headline.value
    assert "P(total effort exceeds the budget) = <b>" in dash._plan_headline.value
    assert "value points" in dash._plan_headline.value and "(value points)" in str(dash._value_chart.spec)  # units
    assert dash.frontier is not None and len(dash.frontier.plans) >= 2 and "(value points)" in str(dash._frontier_chart.spec)
    assert dash.sweep is not None and len(dash.sweep) == 11
    assert dash._ranking_chart.spec and "budget (person-months)" in str(dash._sweep_chart.spec)
    # Each view that shows a "±" says once what it means.
    assert dash._ranking_table.value.count(PM_NOTE) == 1 and dash._plan_headline.value.count(PM_NOTE) == 1


def test_the_dashboard_shows_the_pipelines_numbers(dash):
    from workbench import run

    outcome = run(demo_portfolio(), dash.settings)  # a fresh engine, as the CLI runs it
    assert outcome.plan.selected == dash.outcome.plan.selected
    assert outcome.plan.expected_value == dash.outcome.plan.expected_value


def test_moving_the_budget_slider_changes_the_plan(dash):
    before = dash.outcome.plan
    dash.controls.budget.value = 55.0
    assert dash.wait(300)
    after = dash.outcome.plan
    assert dash.outcome.settings.budget == 55.0
    assert after.expected_value > before.expected_value and len(after.selected) > len(before.selected)
    assert "of 55 person-months" in dash._plan_headline.value
    assert dash.sweep["budget"].iloc[5] == 55.0  # the sweep is centred on the new budget
    assert {"budget": 55.0, "label": "current budget"} in [r for d in dash._sweep_chart.spec["datasets"].values()
                                                          for r in d]


def test_an_invalid_edit_is_explained_inline_and_changes_nothing(dash):
    c, before = dash.controls, dash.settings
    c.pick.value = "pricing-page"
    c.fields["reach"].value = "800..200"
    # A message under the field, not an exception.
    assert "the low end must be below the high end (got 800 &gt;= 200)" in c.field_msg["reach"].value
    c.apply_edit()
    assert "fix the fields marked in red first" in c.edit_status.value
    assert dash.settings == before
    c.load_editor()


def test_an_edit_and_an_override_reach_the_plan(dash):
    c = dash.controls
    candidate = next(i for i in dash.portfolio.ids if i not in dash.outcome.plan.selected
                     and dash.portfolio[i].moscow != "won't")
    c.pick.value = candidate
    assert f"editing <b>{dash.portfolio[candidate].name}</b>" in c.edit_status.value
    assert c.apply.disabled  # nothing to apply yet
    c.fields["reach"].value = "5M"
    assert not c.apply.disabled
    c.fields["confidence"].value = "2"  # invalid: a probability
    assert c.apply.disabled
    c.fields["confidence"].value = "100%"
    assert not c.apply.disabled
    c.apply_edit()
    assert c.apply.disabled  # applied: the fields hold the current estimates
    assert dash.wait(300)
    assert (candidate, "reach", "5M") in dash.outcome.settings.edits
    assert candidate in dash.outcome.plan.selected
    assert dash.portfolio[candidate].name in dash._plan_table.value
    c.override.value = "out"
    assert dash.wait(300)
    assert candidate not in dash.outcome.plan.selected
    c.revert_edit()
    assert dash.wait(300)
    assert not dash.outcome.settings.edits and not dash.outcome.settings.overrides


def test_risk_controls_switch_the_objective(dash):
    c = dash.controls
    c.objective.value = "blend"
    assert not c.lam.disabled
    c.lam.value = 2.0
    assert dash.wait(300)
    assert dash.outcome.plan.objective == "blend" and "expected value + 2 × CVaR 10%" in dash._plan_headline.value
    c.objective.value = "mean"
    assert c.lam.disabled
    assert dash.wait(300)


def test_a_value_the_validator_refuses_is_explained_and_not_applied(dash):
    before = dash.settings
    dash.controls.seed.value = -3
    assert "not applied: seed: must be at least 0, got -3" in dash._status.value
    assert dash.controls.seed.value == before.seed and dash.settings == before


def test_scenarios_save_compare_and_export(dash, tmp_path):
    c = dash.controls
    dash.update(budget=40.0)
    assert dash.wait(300)
    dash.save_scenario("base")
    dash.update(budget=30.0)
    assert dash.wait(300)
    assert c.save.disabled  # no name typed
    c.scenario_name.value = "  "
    assert c.save.disabled
    c.scenario_name.value = "base"
    assert not c.save.disabled and c.save.description == "Replace"
    c.scenario_name.value = "lean"
    assert c.save.description == "Save"
    dash._on_save()
    assert c.scenario_name.value == "" and c.save.disabled
    assert "saved scenario <b>lean</b>" in c.scenario_status.value
    assert list(c.cmp_a.options) == ["base", "lean"]
    c.cmp_a.value, c.cmp_b.value = "base", "lean"
    dash._on_compare()
    view = dash._compare_view.value
    assert "base vs lean" in view and "budget" in view and "dropped" in view
    assert "lean − base" in view and "paired scenario by scenario" in view and view.count(PM_NOTE) == 1
    assert "Difference (B − A)" in view and "A is <b>base</b>, B is <b>lean</b>" in view
    # What changed is highlighted: the budget row, the dropped initiatives, the differences beyond their error.
    assert view.count('<tr class="wb-changed">') >= 3
    assert c.export_path.value == f"{dash.output_dir}/scenario.yaml"  # exports go under output_dir
    c.export_pick.value = "lean"
    c.export_path.value = str(tmp_path / "lean.csv")
    dash._on_export()
    assert "wrote" in c.scenario_status.value
    assert len(load_portfolio(tmp_path / "lean.csv")) == len(dash.portfolio)
    assert Settings.from_json(tmp_path / "lean.settings.json") == dash.book.exported_settings("lean")
    c.export_path.value = str(tmp_path / "lean.txt")
    dash._on_export()
    assert "export failed" in c.scenario_status.value


def test_the_report_button_builds_the_report_under_output_dir(dash):
    from pathlib import Path

    c = dash.controls
    dash.save_scenario("for the report")
    c.export_pick.value, c.quarter.value = "for the report", "2027Q1"
    c.report.click()
    assert "building the quarterly report" in c.scenario_status.value
    deadline = time.monotonic() + 600
    while "building" in c.scenario_status.value and time.monotonic() < deadline:
        time.sleep(0.5)
    page = Path(dash.output_dir) / "2027Q1-for-the-report.html"
    assert "report written" in c.scenario_status.value and str(page) in c.scenario_status.value
    assert page.is_file() and (Path(dash.output_dir) / "2027Q1-for-the-report-portfolio.settings.json").is_file()
    c.quarter.value = "../escaped"
    c.report.click()
    assert "report not started: quarter: expected a label such as 2026Q4" in c.scenario_status.value


def test_heavy_analyses_run_on_a_button(dash):
    dash.run_analyses(wait=True)
    assert "EVPI" in dash._heavy_tables.value and "Which estimate to research first" in dash._heavy_tables.value
    assert dash._heavy_tables.value.count(PM_NOTE) == 1
    assert dash._tornado_chart.spec
    dash.update(budget=41.0)
    assert dash.wait(300)
    assert "for earlier settings" in dash._heavy_status.value


def test_single_numbers_leave_the_analyses_nothing_to_show_and_the_dashboard_says_why():
    p = portfolio(initiative("a", reach="100"), initiative("b", reach="200"), initiative("c"))
    d = Dashboard(p, Settings(budget=2, samples=1_000, scenarios=100, top_k=1), debounce=0.0)
    try:
        assert d.wait(120)
        assert ("No risk–value frontier: every estimate is a single number, so every plan has one certain value "
                "and no bad case to trade against it.") in d._slow_status.value
        d.run_analyses(wait=True)
        shown = d._heavy_tables.value
        assert "No tornado: every estimate is a single number" in shown and "No Sobol indices" in shown
        assert "Give ranges (e.g. reach 800..1500)" in shown and d._tornado_chart.layout.visibility == "hidden"
        assert "nothing to analyse for these settings" in d._heavy_status.value
    finally:
        d.close()


def test_the_sensitivity_tab_shows_human_tables_with_how_to_read_this(dash):
    dash.run_analyses(wait=True)
    shown = dash._heavy_tables.value
    for text in ("How to read this:", "Worth researching (EVPPI, value points)", "Chance the answer changes the plan",
                 "Alone (S1)", "With interactions (ST)", "Decision changes at", "What it means",
                 "Swing (value points)", "(EVPI)"):
        assert text in shown, text
    for raw in ("p_change", "correlated_with", "S1_conf", ">True<", ">False<", "ai-assistant.reach"):
        assert raw not in shown, raw
    assert "AI assistant that drafts invoices from emails — reach" in shown  # inputs by name and factor
    assert not re.search(r"\d\.\d{5,}", shown)  # no six-decimal figures
    assert shown.count(PM_NOTE) == 1


def test_initiative_names_are_shown_as_text():
    evil = "<img src=x onerror=alert(1)>"
    p = portfolio(initiative("a", name=evil, reach="100..300"), initiative("b", name="<script>alert(2)</script>"),
                  initiative("c"))
    d = Dashboard(p, Settings(budget=2, samples=1_000, scenarios=100, top_k=1), debounce=0.0)
    try:
        assert d.wait(120)
        html_shown = (d._ranking_table.value + d._plan_table.value + d._plan_headline.value
                      + d.controls.edit_status.value)
        assert "<img" not in html_shown and "<script" not in html_shown
        assert "&lt;img src=x onerror=alert(1)&gt;" in d._ranking_table.value
        assert dict(d.controls.pick.options)[evil] == "a"  # dropdown labels are plain text in ipywidgets
    finally:
        d.close()


def test_values_beyond_a_control_range_are_kept_not_clamped(dash):
    c = dash.controls
    dash.update(alpha=0.01, samples=3_000, lam=7.5)
    assert dash.wait(300)
    assert c.alpha.value == 0.01 and c.lam.value == 7.5 and c.samples.value == 3_000
    c.budget.value = 42.0  # a person moves another control: the others stay as set
    assert dash.wait(300)
    s = dash.outcome.settings
    assert (s.alpha, s.lam, s.samples, s.budget) == (0.01, 7.5, 3_000, 42.0)
    with pytest.raises(InputError, match="budget: must be > 0"):
        dash.update(budget=-5)
    assert dash.settings.budget == 42.0
    dash.update(alpha=0.1, samples=5_000, lam=1.0)
    assert dash.wait(300)


def test_no_plan_hides_the_charts_of_earlier_settings(dash):
    dash.update(budget=2.0)  # below what the must-haves need
    assert dash.wait(300)
    assert "No plan:" in dash._plan_headline.value and "must-have" in dash._plan_headline.value
    assert dash._value_chart.layout.display == "none" and dash._frontier_chart.layout.display == "none"
    assert dash.frontier is None
    dash.update(budget=40.0)
    assert dash.wait(300)
    assert dash._value_chart.layout.display is None and dash._frontier_chart.layout.display is None


def test_clicking_a_bar_in_the_ranking_chart_opens_that_initiative(dash):
    # What the browser sends when a bar is clicked: the Vega point selection on `id`.
    dash._ranking_chart._vl_selections = {"pick": {"value": {"vlPoint": {"or": [{"id": "scim"}]}}, "store": []}}
    assert dash.controls.pick.value == "scim"
    assert dash.controls.fields["reach"].value == dash.controls.current_text("scim", "reach")  # the estimate in force


def test_a_control_changes_only_what_it_shows():
    # A capacity at the team's total and a spread mapping with points no slider shows, set from
    # code, survive the movement of other controls.
    d = Dashboard(demo_portfolio(), budget=40, capacities={"data": 30}, samples=2_000, scenarios=100, debounce=0.01)
    try:
        data = d.controls.capacity["Data"]
        assert data.value == 30 and data.max > 30  # a limit, not the "no limit" top
        d.controls.seed.value = 7
        assert d.wait(300)
        assert d.outcome.settings.capacity == {"Data": 30.0} and d.outcome.settings.seed == 7
        d.update(spread={1.0: 1.0, 0.5: 2.0})
        d.controls.top_k.value = 3
        assert d.wait(300)
        assert d.outcome.settings.spread_mapping == {1.0: 1.0, 0.5: 2.0} and d.outcome.settings.top_k == 3
        data.value = data.max  # the top: no limit for Data
        assert d.wait(300)
        assert d.outcome.settings.capacity == {}
    finally:
        d.close()


def test_capacities_come_from_the_portfolio_and_none_are_set_by_default():
    p = portfolio(initiative("a", team="Search", effort="2"), initiative("b", team="Ads", effort="4"),
                  initiative("c", effort="6"))
    assert default_settings(p) == Settings(budget=6.0)  # half the total median effort, no capacities
    d = Dashboard(p, samples=1_000, scenarios=100, debounce=0.0)
    try:
        assert sorted(d.controls.capacity) == ["Ads", "Search"] and d.settings.capacities == ()
        assert d.settings.budget == 6.0 and d.outcome.plan is not None
    finally:
        assert d.close() and not any(worker.alive for worker in d._workers)




# --- plan figures with their errors, VSS and frontier disagreement (views on their own, small) ----


@pytest.fixture(scope="module")
def small_outcome():
    """Budget for one: the ranges fund the long shot (mean 1,434), the medians the sure 1,000."""
    from workbench import run

    p = portfolio(initiative("sure", reach="1000", team="T"), initiative("risky", reach="100..5000", team="T"))
    return run(p, Settings.from_mapping({"budget": 1, "capacities": {"T": 1}, "samples": 4000, "scenarios": 200}))


def test_the_headline_gives_every_plan_figure_its_error_and_the_vss(small_outcome):
    from workbench.interactive import dashboard_views as views

    o = small_outcome
    text = views.headline(o)
    assert text.count(" ± ") >= 7  # expected value, p10, p90, CVaR, P(overrun), the team's overrun, VSS
    assert "Planning with the ranges instead of single numbers is worth " in text
    assert "(against the plan chosen on the medians: sure)." in text
    assert "every plan figure is estimated on 4,000 independent evaluation draws" in text
    assert text.count(PM_NOTE) == 1


def test_the_frontier_status_says_when_plans_on_the_curve_beat_the_recommended_plan(small_outcome):
    import numpy as np

    from workbench.interactive import dashboard_views as views
    from workbench.planning.frontier import Frontier
    from workbench.planning.plans import Plan

    o = small_outcome
    # A plan that funds nothing is beaten by the recommended one, never the other way round.
    nothing = Plan(np.zeros(2, bool), o.plan.scenarios, o.problem, alpha=o.plan.alpha)
    assert "beat" not in views.slow_status(o, Frontier([nothing, o.plan], recommended=o.plan))
    both = Plan(np.ones(2, bool), o.plan.scenarios, o.problem, alpha=o.plan.alpha)  # + the sure 1,000 everywhere
    text = views.slow_status(o, Frontier([o.plan, both], recommended=o.plan))
    assert re.search(r"1 plan on the curve beats the recommended plan on both expected value and CVaR \(by up to "
                     r"1,000 ± \S+ and 1,000 ± \S+ value points\); the selection scenarios \(200\) could not "
                     r"separate them: raise scenarios\.", text)


def test_the_scenario_comparison_gives_cvar_and_quantiles_their_errors(small_outcome):
    from workbench import LiveEngine
    from workbench.interactive.dashboard_views import comparison_html
    from workbench.interactive.session import DIFFERENCE, DIFFERENCE_PM, ScenarioBook

    book = ScenarioBook(LiveEngine(small_outcome.portfolio))
    book.save("one", small_outcome.settings)
    book.save("two", Settings.from_mapping({"budget": 2, "capacities": {"T": 2}}, base=small_outcome.settings))
    c = book.compare("one", "two")
    assert c.values.loc[["p10", "p50", "p90", "CVaR 10%", "P(overrun)"], "± one"].notna().all()
    # Budget 2 adds the sure 1,000 to every scenario: CVaR rises by exactly 1,000, and the error of the
    # difference, paired through CVaR's influence terms, vanishes though each CVaR has its own.
    cvar = c.values.loc["CVaR 10%"]
    assert cvar[DIFFERENCE] == pytest.approx(1000) and cvar[DIFFERENCE_PM] < 1e-6 < cvar["± one"]
    assert "value of planning with ranges (VSS)" in c.values.index
    assert "every plan figure is estimated on 4,000 independent evaluation draws" in comparison_html(c)

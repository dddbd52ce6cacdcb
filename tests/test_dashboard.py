"""The dashboard in-process: controls drive the engine, stale results never win, user text stays text.

The same dashboard in a real JupyterLab and Chromium is tests/test_strategy_session_browser.py.
"""

from __future__ import annotations

import threading
import time

import pytest

from conftest import initiative, portfolio
from workbench import Assumptions, demo_portfolio, load_portfolio
from workbench.dashboard import Dashboard, LatestOnly


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


# --- the dashboard -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dash():
    d = Dashboard(demo_portfolio(), budget=40, capacities={"Payments": 12, "Growth": 8}, samples=5_000, debounce=0.01)
    assert d.wait(300)
    return d


def test_the_first_view_is_complete(dash):
    assert "Recommended plan" in dash._plan_headline.value
    assert "P(total effort exceeds the budget) = <b>" in dash._plan_headline.value
    assert dash.frontier is not None and len(dash.frontier.plans) >= 2
    assert dash.sweep is not None and len(dash.sweep) == 11
    assert dash._ranking_chart.spec and dash._frontier_chart.spec and dash._sweep_chart.spec


def test_moving_the_budget_slider_changes_the_plan(dash):
    before = dash.outcome.plan
    dash._budget.value = 55.0
    assert dash.wait(300)
    after = dash.outcome.plan
    assert dash.outcome.assumptions.budget == 55.0
    assert after.expected_value > before.expected_value and len(after.selected) > len(before.selected)
    assert "of 55.0 person-months" in dash._plan_headline.value
    assert dash.sweep["budget"].iloc[5] == 55.0  # the sweep is centred on the new budget
    assert {"budget": 55.0, "label": "current budget"} in [r for d in dash._sweep_chart.spec["datasets"].values()
                                                          for r in d]


def test_an_invalid_edit_is_explained_inline_and_changes_nothing(dash):
    before = dash.assumptions
    dash._pick.value = "pricing-page"
    dash._fields["reach"].value = "800..200"
    # A message under the field, not an exception.
    assert "the low end must be below the high end (got 800 &gt;= 200)" in dash._field_msg["reach"].value
    dash._apply_edit()
    assert "fix the fields marked in red first" in dash._edit_status.value
    assert dash.assumptions == before
    dash._load_editor()


def test_an_edit_and_an_override_reach_the_plan(dash):
    candidate = next(i for i in dash.portfolio.ids if i not in dash.outcome.plan.selected
                     and dash.portfolio[i].moscow != "won't")
    dash._pick.value = candidate
    assert f"editing <b>{dash.portfolio[candidate].name}</b>" in dash._edit_status.value
    assert dash._apply.disabled  # nothing to apply yet
    dash._fields["reach"].value = "5M"
    assert not dash._apply.disabled
    dash._fields["confidence"].value = "2"  # invalid: a probability
    assert dash._apply.disabled
    dash._fields["confidence"].value = "100%"
    assert not dash._apply.disabled
    dash._apply_edit()
    assert dash._apply.disabled  # applied: the fields hold the current estimates
    assert dash.wait(300)
    assert (candidate, "reach", "5M") in dash.outcome.assumptions.edits
    assert candidate in dash.outcome.plan.selected
    assert dash.portfolio[candidate].name in dash._plan_table.value
    dash._override.value = "out"
    assert dash.wait(300)
    assert candidate not in dash.outcome.plan.selected
    dash._revert_edit()
    assert dash.wait(300)
    assert not dash.outcome.assumptions.edits and not dash.outcome.assumptions.overrides


def test_risk_controls_switch_the_objective(dash):
    dash._objective.value = "blend"
    assert not dash._lam.disabled
    dash._lam.value = 2.0
    assert dash.wait(300)
    assert dash.outcome.plan.objective == "blend" and "expected value + 2 × CVaR 10%" in dash._plan_headline.value
    dash._objective.value = "mean"
    assert dash._lam.disabled
    assert dash.wait(300)


def test_scenarios_save_compare_and_export(dash, tmp_path):
    dash.update(budget=40.0)
    assert dash.wait(300)
    dash.save_scenario("base")
    dash.update(budget=30.0)
    assert dash.wait(300)
    assert dash._save.disabled  # no name typed
    dash._scenario_name.value = "  "
    assert dash._save.disabled
    dash._scenario_name.value = "base"
    assert not dash._save.disabled and dash._save.description == "Replace"
    dash._scenario_name.value = "lean"
    assert dash._save.description == "Save"
    dash._on_save()
    assert dash._scenario_name.value == "" and dash._save.disabled
    assert "saved scenario <b>lean</b>" in dash._scenario_status.value
    assert list(dash._cmp_a.options) == ["base", "lean"]
    dash._cmp_a.value, dash._cmp_b.value = "base", "lean"
    dash._on_compare()
    view = dash._compare_view.value
    assert "base vs lean" in view and "budget" in view and "dropped" in view
    dash._export_pick.value = "lean"
    dash._export_path.value = str(tmp_path / "lean.csv")
    dash._on_export()
    assert "wrote" in dash._scenario_status.value
    assert len(load_portfolio(tmp_path / "lean.csv")) == len(dash.portfolio)
    dash._export_path.value = str(tmp_path / "lean.txt")
    dash._on_export()
    assert "export failed" in dash._scenario_status.value


def test_heavy_analyses_run_on_a_button(dash):
    dash.run_analyses(wait=True)
    assert "EVPI" in dash._heavy_tables.value and "Which estimate to research first" in dash._heavy_tables.value
    assert dash._tornado_chart.spec
    dash.update(budget=41.0)
    assert dash.wait(300)
    assert "for earlier assumptions" in dash._heavy_status.value


def test_initiative_names_are_shown_as_text():
    evil = "<img src=x onerror=alert(1)>"
    p = portfolio(initiative("a", name=evil, reach="100..300"), initiative("b", name="<script>alert(2)</script>"),
                  initiative("c"))
    d = Dashboard(p, Assumptions(budget=2, samples=1_000, top_k=1), debounce=0.0)
    assert d.wait(120)
    html_shown = d._ranking_table.value + d._plan_table.value + d._plan_headline.value + d._edit_status.value
    assert "<img" not in html_shown and "<script" not in html_shown
    assert "&lt;img src=x onerror=alert(1)&gt;" in d._ranking_table.value
    assert dict(d._pick.options)[evil] == "a"  # dropdown labels are plain text in ipywidgets


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


def test_values_beyond_a_control_range_are_kept_not_clamped(dash):
    from workbench import InputError

    dash.update(alpha=0.01, samples=3_000, lam=7.5)
    assert dash.wait(300)
    assert dash._alpha.value == 0.01 and dash._lam.value == 7.5 and dash._samples.value == 3_000
    dash._budget.value = 42.0  # a person moves another control: the others stay as set
    assert dash.wait(300)
    a = dash.outcome.assumptions
    assert (a.alpha, a.lam, a.samples, a.budget) == (0.01, 7.5, 3_000, 42.0)
    with pytest.raises(InputError, match="budget must be > 0"):
        dash.update(budget=-5)
    assert dash.assumptions.budget == 42.0
    dash.update(alpha=0.1, samples=5_000, lam=1.0)
    assert dash.wait(300)


def test_no_plan_hides_the_charts_of_earlier_assumptions(dash):
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
    assert dash._pick.value == "scim"
    assert dash._fields["reach"].value == str(dash.portfolio["scim"].reach)


def test_a_control_changes_only_what_it_shows():
    # A capacity at the team's total and a spread mapping with points no slider shows, set from
    # code, survive the movement of other controls.
    d = Dashboard(demo_portfolio(), budget=40, capacities={"Data": 30}, samples=2_000, debounce=0.01)
    try:
        data = d._capacity["Data"]
        assert data.value == 30 and data.max > 30  # a limit, not the "no limit" top
        d._seed.value = 7
        assert d.wait(300)
        assert d.outcome.assumptions.capacity == {"Data": 30.0} and d.outcome.assumptions.seed == 7
        d.update(spread={1.0: 1.0, 0.5: 2.0})
        d._top_k.value = 3
        assert d.wait(300)
        assert d.outcome.assumptions.spread_mapping == {1.0: 1.0, 0.5: 2.0} and d.outcome.assumptions.top_k == 3
        data.value = data.max  # the top: no limit for Data
        assert d.wait(300)
        assert d.outcome.assumptions.capacity == {}
    finally:
        d.close()

"""The strategy-session notebook in a real JupyterLab, driven by headless Chromium.

Runs every cell of notebooks/strategy_session.ipynb, moves the budget slider with the keyboard,
edits one initiative in the editor, and checks that the plan and the charts on screen change
accordingly. Fails on any JavaScript console error or request leaving 127.0.0.1; screenshots
go to artifacts/. The server is stopped by the `lab` fixture whatever happens.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from workbench import LiveEngine, demo_portfolio
from workbench.interactive.dashboard import default_settings
from workbench.views.format import number

from lab_harness import LabPage

ROOT = Path(__file__).resolve().parents[1]
# The notebook's parameters cell names no settings: the dashboard starts from the defaults (half
# the demo's total effort as the budget, no capacities, 20,000 samples, seed 2026).
START = default_settings(demo_portfolio())
STEPS = 20  # ArrowRight presses on the budget slider, 0.5 person-months each
MOVED = START.change(budget=START.budget + 0.5 * STEPS)


def candidate_to_edit() -> tuple[str, str]:
    """An initiative the plan at the moved budget leaves out, and that a huge reach brings in
    (found with the same engine the dashboard runs, from the same seed)."""
    engine = LiveEngine(demo_portfolio())
    funded = set(engine.run(MOVED).plan.selected)
    for ini in demo_portfolio():
        if ini.id in funded or ini.moscow == "won't":
            continue
        edited = MOVED.with_edit(ini.id, "reach", "5M").with_edit(ini.id, "confidence", "100%")
        if ini.id in engine.run(edited).plan.selected:
            return ini.id, ini.name
    raise AssertionError("no initiative to edit")


def test_budget_slider_and_initiative_edit_update_plan_and_charts(lab: LabPage, tmp_path):
    from playwright.sync_api import expect

    edit_id, edit_name = candidate_to_edit()
    shutil.copy(ROOT / "notebooks" / "strategy_session.ipynb", tmp_path / "strategy_session.ipynb")
    notebook = lab.open_notebook("strategy_session.ipynb")
    # More room for the notebook, as a presenter would have: controls and views side by side.
    lab.page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
    lab.run_all_cells(timeout_ms=300_000)

    headline = notebook.locator(".wb-plan-headline")
    plan_table = notebook.locator(".wb-plan-table")
    status = notebook.locator(".wb-status")
    expect(status).to_contain_text("20,000 samples", timeout=60_000)
    notebook.get_by_role("tab", name="Plan").first.click()
    expect(headline).to_contain_text(f"of {number(START.budget)} person-months")
    value_chart = notebook.locator(".wb-value-chart")
    expect(value_chart.locator("canvas, svg.marks").first).to_be_visible()
    before = {"headline": headline.inner_text(), "table": plan_table.inner_text(),
              "chart": value_chart.screenshot()}
    lab.screenshot("strategy-session-start")

    # Move the budget slider: one keyboard step is 0.5 person-months; the dashboard debounces.
    handle = notebook.locator(".wb-budget .noUi-handle")
    handle.focus()
    for _ in range(STEPS):
        handle.press("ArrowRight")
    expect(notebook.locator(".wb-budget .widget-readout")).to_have_text(f"{MOVED.budget:.1f}")
    expect(headline).to_contain_text(f"of {number(MOVED.budget)} person-months", timeout=60_000)
    after_budget = {"headline": headline.inner_text(), "table": plan_table.inner_text()}
    assert _expected_value(after_budget["headline"]) > _expected_value(before["headline"])
    assert after_budget["table"] != before["table"]
    expect(value_chart.locator("canvas, svg.marks").first).to_be_visible()
    assert _redrawn(value_chart.screenshot, before["chart"])  # the value distribution was redrawn
    lab.screenshot("strategy-session-budget-moved")
    assert edit_name not in after_budget["table"]

    # Edit one initiative: huge reach, certain delivery; the plan now funds it.
    ranking_before = _ranking_chart_png(notebook)
    # Each step waits for the kernel's answer: widget state reaches the kernel asynchronously, and
    # a click sent before the kernel has the typed text would act on the old text.
    notebook.locator(".wb-pick select").select_option(label=edit_name)
    edit_status, apply = notebook.locator(".wb-edit-status"), notebook.locator("button.wb-apply")
    expect(edit_status).to_contain_text(f"editing {edit_name}")
    expect(apply).to_be_disabled()  # nothing changed yet
    reach = notebook.locator(".wb-field-reach input")
    reach.fill("5M")
    notebook.locator(".wb-field-confidence input").fill("100%")
    notebook.locator(".wb-field-confidence input").press("Tab")
    apply.click()  # waits until the kernel has enabled it
    expect(edit_status).to_contain_text(f"applied to {edit_name}")
    expect(apply).to_be_disabled()  # applied: nothing left to apply
    notebook.get_by_role("tab", name="Plan").first.click()
    expect(plan_table).to_contain_text(edit_name, timeout=60_000)
    expect(headline).not_to_have_text(after_budget["headline"])
    lab.screenshot("strategy-session-edited")
    assert _redrawn(lambda: _ranking_chart_png(notebook), ranking_before)  # P(top k) moved for the edit
    lab.screenshot("strategy-session-ranking")

    # An invalid edit is answered inline, in red, and changes nothing.
    reach.fill("800..200")
    expect(notebook.locator(".wb-dash")).to_contain_text("the low end must be below the high end")
    lab.screenshot("strategy-session-invalid-edit")

    # The slower views follow the plan: the frontier (current plan marked) and the budget sweep.
    notebook.get_by_role("tab", name="Frontier & budget").first.click()
    # 8 frontier plans chosen on 1,000 selection scenarios: up to a few minutes on a busy machine.
    expect(notebook.locator(".wb-slow-status")).to_contain_text("frontier plans", timeout=300_000)
    expect(notebook.locator(".wb-frontier-chart").locator("canvas, svg.marks").first).to_be_visible()
    expect(notebook.locator(".wb-sweep-chart").locator("canvas, svg.marks").first).to_be_visible()
    lab.screenshot("strategy-session-frontier")

    # Scenarios: save the edited settings, go back to the file's, save again, compare.
    scenario_status, save = notebook.locator(".wb-scenario-status"), notebook.locator("button.wb-save")
    name = notebook.locator(".wb-scenario-name input")
    expect(save).to_be_disabled()  # no name yet
    name.fill("big reach")
    save.click()  # enabled by the kernel once it holds the name
    expect(scenario_status).to_contain_text("saved scenario big reach")
    expect(name).to_have_value("")
    notebook.locator("button.wb-revert").click()
    notebook.get_by_role("tab", name="Plan").first.click()
    expect(plan_table).not_to_contain_text(edit_name, timeout=60_000)
    name.fill("as filed")
    save.click()
    expect(scenario_status).to_contain_text("saved scenario as filed")
    notebook.locator(".wb-compare-a select").select_option(label="big reach")
    notebook.locator(".wb-compare-b select").select_option(label="as filed")
    notebook.locator("button.wb-compare").click()
    compare = notebook.locator(".wb-compare-view")
    expect(compare).to_contain_text("big reach vs as filed", timeout=60_000)
    expect(compare).to_contain_text("dropped")
    expect(compare).to_contain_text("as filed − big reach")
    lab.screenshot("strategy-session-compare", element=compare)

    # Heavy analyses run on a button, with progress, while the controls stay live.
    notebook.get_by_role("tab", name="Sensitivity").first.click()
    notebook.locator("button.wb-heavy-run").click()
    expect(notebook.locator(".wb-heavy-status")).to_contain_text("analyses of the plan", timeout=240_000)
    expect(notebook.locator(".wb-tornado-chart").locator("canvas, svg.marks").first).to_be_visible()
    expect(notebook.locator(".wb-dash")).to_contain_text("EVPI")
    lab.screenshot("strategy-session-sensitivity")

    assert lab.external_requests == []
    assert lab.console_errors == []


def _expected_value(headline: str) -> float:
    match = re.search(r"Expected value ([\d,]+)", headline)
    assert match, headline
    return float(match.group(1).replace(",", ""))


def _redrawn(take: Callable[[], bytes], before: bytes, timeout_s: float = 20.0) -> bool:
    """Whether a screenshot taken by `take` comes to differ from `before`: vega renders a new
    spec asynchronously, so the text beside a chart can change a moment before the chart does."""
    deadline = time.monotonic() + timeout_s
    while take() == before:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def _ranking_chart_png(notebook) -> bytes:
    notebook.get_by_role("tab", name="Ranking").first.click()
    chart = notebook.locator(".wb-ranking-chart")
    chart.locator("canvas, svg.marks").first.wait_for()
    return chart.screenshot()

"""The strategy-session notebook in a real JupyterLab, driven by headless Chromium.

Runs every cell of notebooks/strategy_session.ipynb, moves the budget slider with the keyboard
and types a budget beside it, picks an initiative by clicking its bar (the editor scrolls into
view), edits it, and checks that the plan and the charts on screen change accordingly; then
compares scenarios, runs the sensitivity analyses, shows the roadmap, writes a snapshot and presents the dashboard
(no code on screen). Fails on any JavaScript console error or request leaving 127.0.0.1;
screenshots go to artifacts/, and one per tab (in presentation mode) to artifacts/dashboard-<tab>.png
(docs/dashboard-<tab>.png with WORKBENCH_DOCS=1).
The server is stopped by the `lab` fixture whatever happens.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from workbench import LiveEngine, demo_portfolio
from workbench.interactive.dashboard import default_settings
from workbench.interactive.dashboard_controls import entry_text
from workbench.views.format import number

from lab_harness import LabPage

ROOT = Path(__file__).resolve().parents[1]
# The docs/ pictures are re-made on request only (WORKBENCH_DOCS=1), never by a plain test run.
DOCS = ROOT / ("docs" if os.environ.get("WORKBENCH_DOCS") else "artifacts")
# Runs code in the notebook's kernel, as a cell would (the widgets' state follows over their comms).
_EXECUTE = """(code) => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel
    .requestExecute({code}).done.then(() => true)"""
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


def _nudge(handle, target: float, timeout_s: float = 60.0) -> None:
    """Press ArrowRight on a slider handle until it shows `target`, one press at a time, each
    waiting for the handle to move: presses sent while the kernel echoes an earlier value can be
    lost (the echo puts the handle back), as they would be for a person, who presses again."""
    def shown() -> float:
        return float(handle.get_attribute("aria-valuenow"))

    deadline = time.monotonic() + timeout_s
    handle.focus()
    while shown() < target - 1e-9:
        assert time.monotonic() < deadline, f"the slider stopped at {shown()}, not {target}"
        before = shown()
        handle.press("ArrowRight")
        moved_by = time.monotonic() + 5.0
        while shown() == before and time.monotonic() < moved_by:
            time.sleep(0.05)
    assert shown() == target, f"the slider went past {target} to {shown()}"


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
    _nudge(handle, MOVED.budget)
    entry = notebook.locator(".wb-budget-entry input")
    expect(entry).to_have_value(entry_text(MOVED.budget), timeout=60_000)  # the entry follows the slider
    expect(headline).to_contain_text(f"of {number(MOVED.budget)} person-months", timeout=60_000)
    # A budget typed beside the slider: to the person-month, through the same settings.
    entry.fill(entry_text(MOVED.budget + 1))
    entry.press("Enter")
    expect(headline).to_contain_text(f"of {number(MOVED.budget + 1)} person-months", timeout=60_000)
    entry.fill(entry_text(MOVED.budget))
    entry.press("Enter")
    after_budget = {"headline": headline.inner_text(), "table": plan_table.inner_text()}
    assert _expected_value(after_budget["headline"]) > _expected_value(before["headline"])
    assert after_budget["table"] != before["table"]
    expect(value_chart.locator("canvas, svg.marks").first).to_be_visible()
    assert _redrawn(value_chart.screenshot, before["chart"])  # the value distribution was redrawn
    lab.screenshot("strategy-session-budget-moved")
    assert edit_name not in after_budget["table"]

    # Clicking a bar of the ranking chart opens that initiative in the editor, scrolled into view.
    editor, edit_status = notebook.locator(".wb-editor"), notebook.locator(".wb-edit-status")
    notebook.get_by_role("tab", name="Ranking").first.click()
    bar = notebook.locator(".wb-ranking-chart g.mark-rect path").nth(2)
    bar.wait_for()
    notebook.locator(".wb-ranking-chart").evaluate("el => el.scrollIntoView({block: 'start'})")
    expect(editor).not_to_be_in_viewport(ratio=1)
    shown_before = edit_status.inner_text()
    bar.click()
    expect(edit_status).not_to_have_text(shown_before)
    expect(edit_status).to_contain_text("editing ")
    expect(editor).to_be_in_viewport(ratio=0.95)  # all but a pixel row at the scroll area's edge
    lab.screenshot("strategy-session-picked")

    # Edit one initiative: huge reach, certain delivery; the plan now funds it.
    ranking_before = _ranking_chart_png(notebook)
    # Each step waits for the kernel's answer: widget state reaches the kernel asynchronously, and
    # a click sent before the kernel has the typed text would act on the old text.
    notebook.locator(".wb-pick select").select_option(label=edit_name)
    apply = notebook.locator("button.wb-apply")
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
    expect(compare).to_contain_text("Difference (B − A)")
    expect(compare).to_contain_text("Difference (B − A) is as filed − big reach")
    expect(compare.locator("tr.wb-changed").first).to_be_visible()  # what changed, highlighted
    lab.screenshot("strategy-session-compare", element=compare)

    # Heavy analyses run on a button, with progress, while the controls stay live.
    notebook.get_by_role("tab", name="Sensitivity").first.click()
    notebook.locator("button.wb-heavy-run").click()
    expect(notebook.locator(".wb-heavy-status")).to_contain_text("analyses of the plan", timeout=240_000)
    expect(notebook.locator(".wb-tornado-chart").locator("canvas, svg.marks").first).to_be_visible()
    sensitivity = notebook.locator(".wb-dash")
    for text in ("How to read this", "Which estimate to research first", "Chance the answer changes the plan",
                 "With interactions (ST)", "Decision changes at", "(EVPI)"):
        expect(sensitivity).to_contain_text(text)
    for raw in ("p_change", "correlated_with", "S1_conf", "True", "False"):
        expect(notebook.locator(".wb-heavy-tables")).not_to_contain_text(raw)
    lab.screenshot("strategy-session-sensitivity")

    # The roadmap, computed once its tab is shown: when to start what, shaded by the chance it lands on time.
    notebook.get_by_role("tab", name="Roadmap").first.click()
    expect(notebook.locator(".wb-roadmap-headline")).to_contain_text("The optimal roadmap for", timeout=120_000)
    expect(notebook.locator(".wb-roadmap-gantt").locator("canvas, svg.marks").first).to_be_visible()
    expect(notebook.locator(".wb-roadmap-table")).to_contain_text("When each initiative starts and lands")
    lab.screenshot("strategy-session-roadmap")
    notebook.get_by_role("tab", name="Sensitivity").first.click()  # the tab the presentation below opens on

    # Snapshot: the session as one HTML page under the output folder.
    notebook.locator("button.wb-snapshot").click()
    expect(scenario_status).to_contain_text("snapshot written", timeout=120_000)
    written = re.search(r"snapshot written: (\S+\.html)", scenario_status.inner_text()).group(1)
    assert (tmp_path / written).is_file()

    # Presentation mode, from code as a presenter would call it: no code on screen, the controls are.
    # (The frontier of the settings in force first: the docs show no frontier of earlier settings.)
    expect(notebook.locator(".wb-slow-status")).to_contain_text("frontier plans", timeout=300_000)
    lab.page.evaluate(_EXECUTE, "dashboard.present(show=False)")
    expect(lab.page.locator("body.wb-presenting")).to_have_count(1)
    exit_button = notebook.locator(".wb-stage .wb-exit")
    expect(exit_button).to_be_visible()
    expect(notebook.locator(".wb-budget")).to_be_visible()
    expect(notebook.locator(".wb-tornado-chart")).to_be_visible()
    inputs = notebook.locator(".jp-InputArea")
    assert inputs.count() > 0 and not any(inputs.nth(k).is_visible() for k in range(inputs.count()))
    assert not notebook.locator(".jp-MarkdownCell").first.is_visible()
    lab.page.set_viewport_size({"width": 1440, "height": 1000})  # a projector's screen, for docs/
    DOCS.mkdir(exist_ok=True)
    lab.page.screenshot(path=str(DOCS / "dashboard-presentation.png"))
    for tab, name in [("Ranking", "ranking"), ("Plan", "plan"), ("Frontier & budget", "frontier"),
                      ("Sensitivity", "sensitivity"), ("Compare", "compare"), ("Roadmap", "roadmap")]:
        notebook.get_by_role("tab", name=tab).first.click()
        time.sleep(1.0)  # vega draws a tab's charts once it is shown
        lab.page.screenshot(path=str(DOCS / f"dashboard-{name}.png"))
    notebook.get_by_role("tab", name="Sensitivity").first.click()
    notebook.locator(".wb-heavy-tables").evaluate("el => el.scrollIntoView({block: 'start'})")
    lab.page.screenshot(path=str(DOCS / "dashboard-sensitivity-tables.png"))
    exit_button.click()
    expect(lab.page.locator("body.wb-presenting")).to_have_count(0)
    expect(notebook.locator(".jp-InputArea").first).to_be_visible()
    expect(notebook.locator(".wb-stage .wb-enter")).to_be_visible()

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

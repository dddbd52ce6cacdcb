"""The dashboard for a room, in-process: presentation mode, typed entries beside the sliders, the
editor brought into view by a chart pick, and the snapshot button.

What the browser does with these (no code on screen, the editor scrolled into view) is checked in
a real JupyterLab by tests/test_strategy_session_browser.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from workbench import Settings
from workbench.interactive.dashboard import Dashboard
from workbench.interactive.dashboard_controls import NO_LIMIT, entry_text
from workbench.interactive.presentation import PRESENT_CSS, Stage

from conftest import initiative, portfolio


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    p = portfolio(initiative("a", name="Alpha", reach="100..300", team="Core", effort="2"),
                  initiative("b", name="Beta", reach="200..400", team="Core", effort="3"),
                  initiative("c", name="Gamma", reach="50..900", team="Edge", effort="4"))
    d = Dashboard(p, Settings(budget=5, samples=1_000, scenarios=100, top_k=1), debounce=0.0,
                  output_dir=str(tmp_path_factory.mktemp("out")))
    assert d.wait(120)
    yield d
    assert d.close()


def test_presentation_mode_is_turned_on_and_off_from_code(dash, monkeypatch):
    shown = []
    monkeypatch.setattr(dash, "show", lambda: shown.append(True))
    assert dash._stage.presenting is False
    dash.present()
    assert dash._stage.presenting is True and shown == [True]  # `Dashboard(...).present()` displays it
    dash.end_presentation()
    assert dash._stage.presenting is False
    dash.present(show=False)  # the dashboard already on screen is presented: not displayed again
    assert dash._stage.presenting is True and shown == [True]
    dash.end_presentation()


def test_the_presentation_css_hides_code_only_while_presenting():
    rules = [line for line in PRESENT_CSS.strip().splitlines() if line.strip()]
    assert all(line.startswith("body.wb-presenting ") for line in rules)  # nothing changes outside the mode
    assert ".jp-Cell:not(.wb-present-cell) {display: none !important;}" in PRESENT_CSS  # other cells
    assert ".wb-present-cell .jp-Cell-inputWrapper," in PRESENT_CSS  # the dashboard cell's code
    assert "Exit presentation" in Stage._esm and json.dumps(PRESENT_CSS.strip()) in Stage._esm
    assert "https://" not in Stage._esm  # inline: works offline


def test_a_budget_typed_beside_the_slider_goes_through_the_settings(dash):
    c = dash.controls
    entry = c.entry[c.budget]
    assert entry.value == "5" and c.budget.readout is False  # the entry is the readout
    entry.value = "6"
    assert dash.wait(120)
    assert dash.settings.budget == 6.0 and c.budget.value == 6.0 and "of 6 person-months" in dash._plan_headline.value
    entry.value = "six"  # refused by the settings' own reader, explained, the entry restored
    assert "not applied: budget: expected a number such as 40 or 1.5k, got &#x27;six&#x27;" in dash._status.value
    assert entry.value == "6" and dash.settings.budget == 6.0
    c.budget.value = 5.5  # the slider moves the entry
    assert dash.wait(120)
    assert entry.value == "5.5"
    entry.value = "5"
    assert dash.wait(120)


def test_a_capacity_entry_reads_no_limit_at_the_top_and_takes_a_number(dash):
    c = dash.controls
    core, entry = c.capacity["Core"], c.entry[c.capacity["Core"]]
    assert entry.value == NO_LIMIT and core.value == core.max and dash.settings.capacity == {}
    entry.value = "4"
    assert dash.wait(120)
    assert dash.settings.capacity == {"Core": 4.0} and core.value == 4.0 and core.max > 4.0
    core.value = core.max  # the top: no limit again, and said so
    assert dash.wait(120)
    assert dash.settings.capacity == {} and entry.value == NO_LIMIT
    entry.value = "-1"
    assert "not applied: capacities: a capacity must be &gt;= 0, got Core=-1" in dash._status.value
    assert entry.value == NO_LIMIT and dash.settings.capacity == {}
    entry.value = "9"
    entry.value = NO_LIMIT
    assert dash.wait(120)
    assert dash.settings.capacity == {}


def test_entry_text_is_exact_and_read_back():
    assert [entry_text(x) for x in (40.0, 40.5, 0.05, 1234.5, 3)] == ["40", "40.5", "0.05", "1234.5", "3"]


def test_a_bar_clicked_in_the_chart_brings_the_editor_into_view(dash):
    focus = dash._stage.focus
    dash._ranking_chart._vl_selections = {"pick": {"value": {"vlPoint": {"or": [{"id": "c"}]}}, "store": []}}
    assert dash.controls.pick.value == "c" and dash._stage.focus == focus + 1
    # A click that picks nothing (a double click clears the selection) leaves the page where it is.
    dash._ranking_chart._vl_selections = {"pick": {"value": None, "store": []}}
    assert dash._stage.focus == focus + 1
    assert "wb-editor" in dash.controls.box.children[3]._dom_classes


def test_the_snapshot_button_writes_the_session_under_output_dir(dash):
    c = dash.controls
    dash.save_scenario("one")
    dash.update(budget=7)
    assert dash.wait(120)
    dash.save_scenario("two")
    c.cmp_a.value, c.cmp_b.value = "one", "two"
    dash._on_compare()
    c.snapshot.click()
    deadline = time.monotonic() + 300
    while "snapshot written" not in c.scenario_status.value and time.monotonic() < deadline:
        assert "failed" not in c.scenario_status.value, c.scenario_status.value
        time.sleep(0.2)
    assert "snapshot written" in c.scenario_status.value
    written = [p for p in Path(dash.output_dir).glob("snapshot-*.html")]
    assert len(written) == 1 and str(written[0]) in c.scenario_status.value
    page = written[0].read_text(encoding="utf-8")
    assert "Gamma" in page and "one vs two" in page  # the views and the comparison shown
    assert "<script" not in page  # static: opens in any browser, offline

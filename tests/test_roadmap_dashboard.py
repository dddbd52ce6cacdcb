"""The dashboard's Roadmap tab: computed only when shown, what-ifs reach the roadmap, errors in words."""

from __future__ import annotations

import html
import re
import subprocess
import sys

import pytest

from workbench import demo_portfolio, roadmap
from workbench.interactive.dashboard import Dashboard
from workbench.model.quarters import next_quarter, quarter_label
from workbench.views.explain import explain

ROADMAP_TAB = 5


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    d = Dashboard(demo_portfolio(), budget=40, capacities={"Payments": 12, "Growth": 8}, samples=2_000,
                  scenarios=150, debounce=0.01, output_dir=str(tmp_path_factory.mktemp("reports")))
    assert d.wait(300)
    yield d
    assert d.close()


def shown(dash) -> None:
    """The Roadmap tab on screen, and its roadmap computed."""
    dash._tabs.selected_index = ROADMAP_TAB
    assert dash.roadmap.wait(300)


def table_row(table_html: str, name: str) -> str:
    """The text of the roadmap table's row of one initiative."""
    rows = re.findall(r"<tr>(.*?)</tr>", table_html, flags=re.S)
    row = next(r for r in rows if f">{html.escape(name)}<" in r)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


def test_the_tab_is_computed_only_when_shown_and_then_shows_every_view(dash):
    tab = dash.roadmap
    assert dash._tabs.get_title(ROADMAP_TAB) == "Roadmap"
    assert tab.result is None and tab.worker.generation == 0  # the other tabs paid nothing for it
    shown(dash)
    r = tab.result
    assert r is not None and tab.error is None
    first = next_quarter()  # no horizon set: four quarters from the next
    assert r.quarters == [quarter_label(q) for q in range(first, first + 4)]
    assert html.escape(r.roadmap.label) in tab.headline.value and "value points × quarters" in tab.headline.value
    assert tab.gantt.spec and tab.load.spec and tab.fan.spec
    # The same "How to read this" words as the report's, with the roadmap's unit.
    for view, topic in ((tab.gantt_read, "roadmap"), (tab.load_read, "team_load"), (tab.fan_read, "value_fan")):
        assert html.escape(explain(topic, unit="value points × quarters")) in view.value
    started = r.to_frame().dropna(subset=["start_quarter"])
    assert len(started) >= 2 and "±" in tab.table.value
    for _, row in started.iterrows():  # the table says each initiative's start quarter
        assert row["start_quarter"] in table_row(tab.table.value, row["name"])
    # The same settings give the same roadmap outside the dashboard (a fresh engine, same draws).
    fresh = roadmap(dash.portfolio, tab.settings())
    assert (fresh.roadmap.start == r.roadmap.start).all() and fresh.roadmap.expected_value == r.roadmap.expected_value


def test_forcing_an_initiative_into_the_last_quarter_moves_its_start_and_clear_undoes_it(dash):
    shown(dash)
    tab = dash.roadmap
    frame = tab.result.to_frame()
    last = tab.result.quarters[-1]
    early = frame[frame["start_quarter"].notna() & (frame["start_quarter"] != last)]
    ini_id, name = early.index[0], early["name"].iloc[0]
    before = early["start_quarter"].iloc[0]
    tab.pick.value, tab.quarter.value = ini_id, last
    tab.force_button.click()  # as a person would
    assert tab.wait(300)
    assert tab.result.to_frame().loc[ini_id, "start_quarter"] == last
    assert last in table_row(tab.table.value, name).split()
    assert "forced to start in " + last in tab.whatifs.value
    # Only the roadmap's settings moved: the one-quarter plan's settings are untouched.
    assert dash.settings.starts == () and dict(tab.settings().starts) == {ini_id: last}
    tab.clear_button.click()
    assert tab.wait(300)
    assert tab.settings().starts == () and tab.result.to_frame().loc[ini_id, "start_quarter"] == before


def test_not_before_keeps_an_initiative_out_of_earlier_quarters(dash):
    shown(dash)
    tab = dash.roadmap
    frame = tab.result.to_frame()
    first, second = tab.result.quarters[:2]
    ini_id = frame.index[frame["start_quarter"] == first][0]
    tab.not_before(ini_id, second)
    assert tab.wait(300)
    assert tab.result.to_frame().loc[ini_id, "start_quarter"] in (*tab.result.quarters[1:], None)
    tab.clear()
    assert tab.wait(300) and tab.settings().earliest_starts == ()


def test_an_infeasible_what_if_is_said_in_words_and_hides_the_old_roadmap(dash):
    shown(dash)
    tab = dash.roadmap
    # Payments at 1 person-month a quarter: its largest initiative forced into the last quarter
    # takes several quarters, so it cannot be delivered in the horizon.
    tab.capacity["Payments"].value = "1"  # the dashboard's capacity, typed in the tab
    assert dash.wait(300) and tab.wait(300)
    assert dash.settings.capacity["Payments"] == 1 and dash.controls.entry[dash.controls.capacity["Payments"]].value == "1"
    port = dash.portfolio
    big = max((ini for ini in port if ini.team == "Payments"), key=lambda ini: ini.effort.median())
    tab.force(big.id, tab.result.quarters[-1] if tab.result else tab.quarter.options[-1])
    assert tab.wait(300)
    assert tab.result is None and tab.error
    message = tab.message.value
    assert "No roadmap:" in message and "Traceback" not in message
    assert html.escape(big.id) in message and "quarters" in message  # which initiative, and why in words
    assert tab.gantt.layout.display == "none" and tab.table.value == ""
    tab.clear()
    tab.capacity["Payments"].value = "12"
    assert dash.wait(300) and tab.wait(300)
    assert tab.result is not None and tab.message.value == ""


def test_the_horizon_controls_and_a_refused_value(dash):
    shown(dash)
    tab = dash.roadmap
    tab.horizon.value = "2027Q2:2027Q4"
    assert tab.wait(300)
    assert tab.result.quarters == ["2027Q2", "2027Q3", "2027Q4"]
    assert (tab.first.value, tab.count.value) == ("2027Q2", 3)
    tab.count.value = 5
    assert tab.wait(300) and tab.result.quarters == ["2027Q2", "2027Q3", "2027Q4", "2028Q1", "2028Q2"]
    tab.horizon.value = "2027Q4:2027Q1"
    assert "not applied" in tab.message.value and "2027Q1:2027Q4" in tab.message.value
    assert tab.settings().quarters == "2027Q2:2028Q2"  # refused: the horizon in force stays


def test_changes_elsewhere_wait_until_the_tab_is_shown(dash):
    shown(dash)
    tab = dash.roadmap
    dash._tabs.selected_index = 1  # the Plan tab
    generation = tab.worker.generation
    dash.update(capacities={"Payments": 11, "Growth": 8})
    assert dash.wait(300)
    assert tab.worker.generation == generation  # nothing computed for a hidden tab
    shown(dash)
    assert tab.worker.generation == generation + 1
    assert tab.result.settings.capacity["Payments"] == 11


def test_the_tab_does_not_load_the_reports():
    code = ("import sys, workbench.interactive.dashboard_roadmap; "
            "print(sorted(m for m in sys.modules if m.startswith('workbench.reports')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"

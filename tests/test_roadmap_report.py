"""The quarterly report's roadmap section: shown when every team is bounded, in its JSON, said why when not."""

from __future__ import annotations

import json
import re

from workbench import Settings, demo_portfolio, roadmap
from workbench.cli import main
from workbench.model.quarters import parse_quarter
from workbench.reports import sections
from workbench.reports.content import report_roadmap

FAST = ["--samples", "2000", "--scenarios", "150"]
DEMO_TEAMS = ["Data", "Growth", "Mobile", "Payments", "Platform"]


def test_the_demo_report_shows_the_roadmap_from_its_quarter_and_records_it(tmp_path, capfd):
    out = tmp_path / "reports"  # the Makefile's demo, small samples: one template run
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "--capacity", "Payments=12",
                 "--capacity", "Growth=8", "-o", str(out), *FAST]) == 0
    capfd.readouterr()
    text = (out / "2026Q4-quarterly.html").read_text(encoding="utf-8")
    record = json.loads((out / "2026Q4-quarterly.json").read_text(encoding="utf-8"))
    assert "<h2>Roadmap across quarters</h2>" in text
    for heading in ("Team load per quarter", "Value earned over time", "When each initiative starts and lands"):
        assert f"<h3>{heading}</h3>" in text
    section = text[text.index("Roadmap across quarters"):text.index("What changed since last quarter")]
    assert section.count("How to read this.") == 3 and section.count("<svg") == 3
    road = record["roadmap"]
    # The default horizon: the four quarters after the report's quarter.
    assert road["quarters"] == ["2027Q1", "2027Q2", "2027Q3", "2027Q4"]
    assert {"expected_value", "expected_value_se", "initiatives", "teams", "delivered_value", "lost_to_slips",
            "value_unit"} <= set(road)
    assert len(road["initiatives"]) == 31
    assert {"id", "team", "start_quarter", "delivery_quarter", "p_on_time", "p_on_time_se", "delivery_p50",
            "delivery_p90"} <= set(road["initiatives"][0])
    assert {"team", "quarter", "capacity", "planned_load", "p_over_capacity"} <= set(road["teams"][0])
    caps = {(t["team"], t["quarter"]): t["capacity"] for t in road["teams"]}
    assert caps[("Payments", "2027Q2")] == 12 and caps[("Growth", "2027Q4")] == 8
    # Every initiative the table shows starts in a quarter of the horizon, as the JSON says.
    started = [i for i in road["initiatives"] if i["start_quarter"] is not None]
    assert started and all(i["start_quarter"] in road["quarters"] for i in started)
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("When each initiative starts and lands")[-1], flags=re.S)
    assert len(rows) == len(started)  # one body row per initiative in the roadmap


def test_without_a_capacity_for_every_team_the_section_gives_the_pipelines_reason():
    p = demo_portfolio()
    s = Settings(capacities={"Payments": 12, "Growth": 8})  # no budget: Data, Mobile, Platform unbounded
    result, reason = report_roadmap(p, s, "2026Q4")
    assert result is None
    assert reason.startswith("No roadmap: capacities: a roadmap needs each team's person-months in every quarter; "
                             "none given for 'Data', 'Mobile', 'Platform': give --capacity Data=N --capacity Mobile=N "
                             "--capacity Platform=N")
    html = sections.roadmap_section(None, reason)
    assert "<h2>Roadmap across quarters</h2>" in html and "--capacity Mobile=N" in html and "<svg" not in html
    # A budget in person-months bounds every team's total a quarter: a roadmap then, and with a
    # capacity for every team without a budget.
    fast = {"samples": 500, "scenarios": 50}
    assert report_roadmap(p, s.change(budget=40, **fast), "2026Q4")[1] is None
    assert report_roadmap(p, Settings(capacities={t: 10 for t in DEMO_TEAMS}, **fast), "2026Q4")[1] is None


def test_an_infeasible_roadmap_is_said_in_words_and_a_label_that_is_no_quarter_starts_next_quarter():
    p = demo_portfolio()
    s = Settings(budget=40, capacities={"Payments": 1}, starts={"card-payments": "2027Q4"}, quarters="2027Q1:2027Q4")
    result, reason = report_roadmap(p, s, "2027Q1")
    assert result is None and reason.startswith("No roadmap: ") and "card-payments" in reason
    s = Settings(budget=40, samples=2000, scenarios=150)
    result, reason = report_roadmap(p, s, "session")
    assert reason is None and result.quarters == roadmap(p, s).quarters  # the default: from the next quarter
    result, _ = report_roadmap(p, s, "2028Q3")
    assert result.problem.quarters[0] == parse_quarter("2028Q4") and len(result.quarters) == 4  # the next four

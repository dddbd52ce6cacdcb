"""The quarterly report's "Committed vs delivered": last quarter's plan (its report JSON) against the
actuals, the calibration of that quarter's estimates, the report parameters, and the record's quarter.

Small hand-made quarters check every outcome against what was typed; the bundled history checks the
rendered section against its own files, recounted here with the csv and json modules.
"""

from __future__ import annotations

import csv
import html as html_module
import json
import math
import re
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import InputError
from workbench.io.history import read_actuals
from workbench.reports import check_parameters
from workbench.reports import delivered as dv

from conftest import initiative, portfolio

FAST = ["--samples", "2000", "--scenarios", "150"]


def _record(path: Path, selected, expected=1000.0, se=10.0, p10=600.0, p90=1400.0, quarter="2026Q3") -> Path:
    """A report record as `workbench report quarterly` writes it (the keys the section reads)."""
    data = {"quarter": quarter, "workbench": "test", "settings": {"value_unit": "value points",
                                                                   "confidence_mode": "success"},
            "plan": {"selected": list(selected), "expected_value": expected, "expected_value_se": se,
                     "p10": p10, "p90": p90}}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


ACTUALS = """\
id,quarter,actual_effort,delivered,actual_reach,actual_impact,delivered_quarter
a,2026Q3,2.5,yes,300,2,2026Q3
b,2026Q3,4,yes,100,1,2026Q4
c,2026Q3,1,no,,,
a,2026Q2,9,yes,5,5,2026Q2
"""


@pytest.fixture
def quarter(tmp_path):
    """Last quarter: a on time, b one quarter late, c not delivered, d with no actual; e was not funded."""
    previous = portfolio(initiative("a", reach="200..500", impact="2", confidence="80%", effort="2..3", team="T1"),
                         initiative("b", reach="100", impact="1", confidence="50%", effort="3", team="T1"),
                         initiative("c", reach="50..150", impact="1", effort="1", team="T2"),
                         initiative("d", reach="10", team="T2"), initiative("e", team="T2"))
    actuals = tmp_path / "actuals.csv"
    actuals.write_text(ACTUALS, encoding="utf-8")
    return previous, _record(tmp_path / "q3.json", ["a", "b", "c", "d"]), actuals


def test_each_funded_initiative_is_on_time_late_not_delivered_or_without_an_actual(quarter):
    previous, record, actuals = quarter
    committed = dv.read_previous_report(record)
    assert dv.plan_quarter(committed, "2026Q4") == "2026Q3"
    cvd = dv.committed_vs_delivered(committed, read_actuals(actuals), "2026Q3", previous=previous)
    rows = {r.id: r for r in cvd.rows}
    assert [(rows[i].status, rows[i].late_by) for i in "abcd"] == [
        ("on time", None), ("late", 1), ("not delivered", None), ("no actual yet", None)]
    assert cvd.delivered == 2 and len(cvd.rows) == 4  # e was not funded: not listed
    # The effort planned is the median of last quarter's range (lognormal 2..3: √6), the spent as recorded;
    # the 2026Q2 actual of a (9 person-months) belongs to another quarter.
    assert rows["a"].effort_planned == pytest.approx(math.sqrt(6)) and rows["a"].effort_spent == 2.5
    # Value measured: actual reach × actual impact when delivered, 0 when not, unknown without an actual.
    assert (rows["a"].value_measured, rows["b"].value_measured, rows["c"].value_measured,
            rows["d"].value_measured) == (600, 100, 0, None)
    assert cvd.measured_value() == (700, 2)
    # Value expected: E[reach]·E[impact]·E[confidence]; the lognormal 200..500's mean is its median × e^(σ²/2).
    sigma = math.log(500 / 200) / (2 * 1.6448536)
    assert rows["a"].value_expected == pytest.approx(math.sqrt(200 * 500) * math.exp(sigma ** 2 / 2) * 2 * 0.8,
                                                     rel=1e-6)
    assert dv.summary_sentence(cvd) == ("Last quarter's plan (2026Q3, due then unless noted) funded 4 initiatives: "
                                        "2 delivered (1 on time, 1 late), 1 not delivered, 1 with no actual yet.")
    # 700 is between 600 and 1,400, but d has no actual yet: the total can still grow.
    assert cvd.verdict() == "1 funded initiative with no actual yet: not yet comparable with the forecast's p10–p90 range."
    record = cvd.to_dict()
    assert record["quarter"] == "2026Q3" and record["delivered"] == 2 and record["measured_value"] == 700
    assert record["calibration"]["n"] == 3  # the three 2026Q3 actuals joined with their estimates


def test_the_verdict_says_below_above_and_when_not_every_delivery_is_measured(tmp_path, quarter):
    previous, _, actuals = quarter
    rows = read_actuals(actuals)
    below = dv.read_previous_report(_record(tmp_path / "hi.json", ["a", "b"], p10=800, p90=2000))
    assert dv.committed_vs_delivered(below, rows, "2026Q3").verdict().startswith("Below the forecast's p10–p90")
    above = dv.read_previous_report(_record(tmp_path / "lo.json", ["a", "b"], p10=100, p90=500))
    assert dv.committed_vs_delivered(above, rows, "2026Q3").verdict().startswith("Above the forecast's p10–p90")
    partial = tmp_path / "partial.csv"
    partial.write_text(ACTUALS.replace("b,2026Q3,4,yes,100,1,", "b,2026Q3,4,yes,,1,"), encoding="utf-8")
    cvd = dv.committed_vs_delivered(below, read_actuals(partial), "2026Q3")
    assert cvd.measured_value() == (600, 1)
    assert cvd.verdict().startswith("Measured for 1 of 2 delivered initiatives: not yet comparable")
    # A funded initiative with no actual yet: the total is partial, not "below" the forecast.
    pending = dv.read_previous_report(_record(tmp_path / "pending.json", ["a", "b", "zz"], p10=800, p90=2000))
    assert dv.committed_vs_delivered(pending, rows, "2026Q3").verdict() == (
        "1 funded initiative with no actual yet: not yet comparable with the forecast's p10–p90 range.")
    assert "not measured" in dv.delivered_table(cvd).iloc[1].tolist()
    # Without last quarter's portfolio: ids for names, no calibration, and the line saying what to give.
    assert cvd.rows[0].name == "a" and cvd.calibration is None and "previous_portfolio" in cvd.calibration_note


def test_a_planned_quarter_and_a_quarterly_pace_set_when_an_initiative_is_due(tmp_path):
    # 5 person-months at 2 a quarter from 2026Q3: due by 2026Q5 = 2027Q1, so shipping in 2026Q4 is on time.
    previous = portfolio(initiative("a", effort="5", team="T", planned_quarter="2026Q3", max_per_quarter=2))
    actuals = tmp_path / "a.csv"
    actuals.write_text("id,quarter,delivered,delivered_quarter\na,2026Q3,yes,2026Q4\n", encoding="utf-8")
    cvd = dv.committed_vs_delivered(dv.read_previous_report(_record(tmp_path / "r.json", ["a"])),
                                    read_actuals(actuals), "2026Q3", previous=previous)
    assert (cvd.rows[0].due, cvd.rows[0].status) == ("2027Q1", "on time")


def test_a_file_that_is_not_a_report_record_is_refused_with_every_problem(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"plan": {"selected": "a,b", "expected_value": "lots", "expected_value_se": 1,
                                        "p10": None, "p90": 3}}), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        dv.read_previous_report(bad)
    assert [p.message for p in refused.value.problems] == [
        "previous_report: plan.selected: expected a list of initiative ids, got 'a,b'",
        "previous_report: plan.expected_value: expected a number, got 'lots'"]
    assert all(p.file == str(bad) for p in refused.value.problems)
    broken = tmp_path / "broken.json"
    broken.write_text('{"plan": ', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.json:1: previous_report: not valid JSON"):
        dv.read_previous_report(broken)
    # A record made before the quarter was kept (or labelled "session"): the plan's quarter is the report's − 1.
    old = dv.read_previous_report(_record(tmp_path / "old.json", ["a"], quarter="session"))
    assert old.quarter is None and dv.plan_quarter(old, "2027Q1") == "2026Q4" and dv.plan_quarter(old, "x") is None


def test_report_parameters_report_every_problem_with_the_history_files_at_once(tmp_path, quarter):
    _, record, _ = quarter
    actuals = tmp_path / "typo.csv"
    actuals.write_text("id,quarter,actual_effort,delivered\na,2026Q3,-1,maybe\n", encoding="utf-8")
    notjson = tmp_path / "plan.json"
    notjson.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        check_parameters({"quarter": "2026Q4", "budget": "forty", "actuals": str(actuals),
                          "previous_report": str(notjson)})
    text = str(refused.value)
    assert "budget:" in text and "previous_report: expected a report's JSON record" in text
    assert sum(p.file == str(actuals) for p in refused.value.problems) == 2  # the effort and the delivered cell
    with pytest.raises(InputError) as missing:
        check_parameters({"quarter": "2026Q4", "budget": 40, "actuals": "nowhere.csv", "previous_report": "no.json"})
    assert [str(p) for p in missing.value.problems] == ["nowhere.csv: actuals: file not found",
                                                        "no.json: previous_report: file not found"]
    # A record without a quarter and a report label that is no quarter: no quarter to read the actuals of.
    _record(record, ["a"], quarter=None)
    with pytest.raises(InputError, match="no quarter to read the actuals of"):
        check_parameters({"quarter": "session", "budget": 40, "actuals": str(quarter[2]),
                          "previous_report": str(record)})


def test_an_actual_of_last_quarter_without_its_estimate_stops_the_report_before_any_kernel(tmp_path, quarter):
    previous, record, actuals = quarter
    file = tmp_path / "q3.csv"
    file.write_text("id,name,reach,impact,confidence,effort\na,A,100,1,80%,2\nb,B,100,1,80%,3\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:  # c has a 2026Q3 actual but no estimate in q3.csv
        check_parameters({"quarter": "2026Q4", "budget": 40, "actuals": str(actuals),
                          "previous_report": str(record), "previous_portfolio": str(file)})
    assert any(p.line == 4 and p.file == str(actuals) for p in refused.value.problems)
    job = check_parameters({"quarter": "2026Q4", "budget": 40, "actuals": str(actuals), "previous_report": str(record)})
    assert job.actuals == str(actuals.resolve()) and job.previous_report == str(record.resolve())
    assert job.parameters()["actuals"] == job.actuals
    assert "actuals" not in check_parameters({"quarter": "2026Q4", "budget": 40}).parameters()


def test_without_actuals_or_previous_report_the_section_says_which_to_give():
    job = check_parameters({"quarter": "2026Q4", "budget": 40})
    cvd, missing = dv.for_job(job)
    assert cvd is None and missing.startswith("Give actuals and previous_report ")
    page = dv.committed_section(cvd, missing)
    assert "<h2>Committed vs delivered</h2>" in page and "Give actuals and previous_report" in page


def _delivered(row: dict) -> bool | None:
    """An actuals.csv row's delivered cell as the file means it (blank with a delivery quarter: shipped)."""
    cell = row["delivered"].strip().lower()
    if cell:
        return cell in ("true", "yes", "y", "1")
    return True if row["delivered_quarter"].strip() else None


def test_the_demo_report_compares_last_quarters_plan_with_the_bundled_actuals(tmp_path, capfd):
    from workbench.calibration import calibrate, save_calibration
    from workbench.io.history import bundled_actuals_path, bundled_previous_report_path

    calibration = save_calibration(calibrate().calibration, tmp_path / "calibration.json")
    out = tmp_path / "reports"
    # --demo takes the bundled history's actuals, 2026Q3 report and portfolio; --calibration the ranges learned.
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "--calibration",
                 str(calibration), "-o", str(out), *FAST]) == 0
    capfd.readouterr()
    record = json.loads((out / "2026Q4-quarterly.json").read_text(encoding="utf-8"))
    text = html_module.unescape((out / "2026Q4-quarterly.html").read_text(encoding="utf-8"))
    assert record["quarter"] == "2026Q4"
    # Recount from the bundled files themselves: the plan from the report JSON, what happened from actuals.csv.
    plan = json.loads(bundled_previous_report_path().read_text(encoding="utf-8"))
    selected = plan["plan"]["selected"]
    with bundled_actuals_path().open(encoding="utf-8-sig", newline="") as f:
        rows = {r["id"]: r for r in csv.DictReader(f) if r["quarter"] == plan["quarter"]}
    delivered = [i for i in selected if i in rows and _delivered(rows[i])]
    missing = [i for i in selected if i not in rows]
    not_delivered = [i for i in selected if i in rows and _delivered(rows[i]) is False]
    measured = [float(rows[i]["actual_reach"]) * float(rows[i]["actual_impact"]) for i in delivered
                if rows[i]["actual_reach"].strip() and rows[i]["actual_impact"].strip()]
    cvd = record["committed_vs_delivered"]
    assert (cvd["quarter"], cvd["funded"], cvd["delivered"]) == ("2026Q3", len(selected), len(delivered))
    assert cvd["measured_initiatives"] == len(measured) and cvd["measured_value"] == pytest.approx(sum(measured))
    assert cvd["forecast"]["expected_value"] == plan["plan"]["expected_value"]
    assert sum(r["status"] == "not delivered" for r in cvd["initiatives"]) == len(not_delivered)
    assert sum(r["status"] == "no actual yet" for r in cvd["initiatives"]) == len(missing)
    assert cvd["calibration"]["n"] == len(rows)  # every 2026Q3 actual joined with its estimate in 2026Q3.csv
    section = text[text.index("<h2>Committed vs delivered</h2>"):text.index("<h2>Methods</h2>")]
    assert f"funded {len(selected)} initiatives: {len(delivered)} delivered (" in section
    assert f"Forecast: expected value {plan['plan']['expected_value']:,.0f} ± " in section
    assert "How to read this." in section and "How good were the estimates of 2026Q3?" in section
    assert re.search(r"Effort</td>\s*<td[^>]*>\d+</td>", section)  # the calibration table, one row per factor
    # Calibrated ranges are said in the brief (page 1), the methods appendix and the JSON.
    brief = text[:text.index("How sure is the ranking?")]
    assert "<h3>Calibrated ranges</h3>" in brief and "Calibrated ranges (learned from 8 quarters" in brief
    assert str(calibration) in text[text.index("<h2>Methods</h2>"):]
    assert record["calibration"]["file"] == str(calibration) and record["calibration"]["applied"]
    assert record["settings"]["calibration"] == str(calibration)


def test_the_history_flags_reach_the_report_and_are_given_once(tmp_path):
    from workbench.cli import build_parser
    from workbench.report_command import history_parameters

    args = build_parser().parse_args(["report", "quarterly", "--portfolio", "p.csv", "--quarter", "Q",
                                      "--actuals", "a.csv", "--previous-report", "r.json"])
    assert history_parameters(args, {}, "quarterly") == {"actuals": "a.csv", "previous_report": "r.json"}
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "--actuals", "a.csv",
                 "--param", "actuals=b.csv", "-o", str(tmp_path)]) == 2
    demo = build_parser().parse_args(["report", "quarterly", "--demo", "--quarter", "Q"])
    assert set(history_parameters(demo, {}, "quarterly")) == {"actuals", "previous_report", "previous_portfolio"}
    assert history_parameters(demo, {}, "sensitivity") == {}  # the sensitivity report has no such section

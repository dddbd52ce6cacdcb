"""`workbench roadmap` as a user runs it: JSON/CSV/table output, capacity tables, forced starts, exit 2.

The small portfolio has point efforts on one team of 2 person-months a quarter: every initiative of
effort 2 takes one quarter, so the optimal roadmap over three quarters is by value a quarter,
largest first, and its value is written out by hand: delivered at the end of quarter q of H = 3 it
earns in the H - q later quarters plus the 4 tail quarters.
"""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from workbench.cli import main
from workbench.views.format import half_width, pm

ISSUE_KEYS = {"quarters", "expected_value", "expected_value_se", "initiatives", "teams"}
INITIATIVE_KEYS = {"id", "team", "start_quarter", "delivery_quarter", "p_on_time", "p_on_time_se",
                   "delivery_p50", "delivery_p90"}
TEAM_KEYS = {"team", "quarter", "capacity", "planned_load", "p_over_capacity"}
DEMO_CAPACITY = ["--capacity", "Platform=8", "--capacity", "Payments=8", "--capacity", "Growth=6",
                 "--capacity", "Data=6", "--capacity", "Mobile=4"]
FAST = ["--samples", "1000", "--scenarios", "100", "--seed", "7"]
# value a quarter (reach x impact x confidence) of a, b, c; d (10 person-months) cannot fit
VALUE = {"a": 300, "b": 200, "c": 100}


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,name,reach,impact,confidence,effort,team\n"
                    "a,Alpha,300,1,100%,2,T\nb,Beta,200,1,100%,2,T\nc,<b>bold</b>,100,1,100%,2,T\n"
                    "d,Delta,50,1,100%,10,T\n", encoding="utf-8")
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["roadmap", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def earned(quarter: int, horizon: int = 3, tail: int = 4) -> int:
    """Quarters of value of an initiative delivered at the end of horizon quarter `quarter` (1-based)."""
    return horizon - quarter + tail


def test_json_has_the_issue_keys_with_quarter_labels_and_nulls(capsys, small):
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert ISSUE_KEYS <= data.keys()
    assert data["quarters"] == ["2027Q1", "2027Q2", "2027Q3"]
    rows = {r["id"]: r for r in data["initiatives"]}
    assert all(set(r) == INITIATIVE_KEYS for r in rows.values())
    # by value a quarter, largest first, one a quarter; d (5 quarters of work) is not in the roadmap
    for id_, q in (("a", "2027Q1"), ("b", "2027Q2"), ("c", "2027Q3")):
        assert (rows[id_]["start_quarter"], rows[id_]["delivery_quarter"]) == (q, q)
        assert (rows[id_]["delivery_p50"], rows[id_]["delivery_p90"]) == (q, q)
        assert rows[id_]["p_on_time"] == 1.0  # point efforts: no slip
    assert all(rows["d"][k] is None for k in INITIATIVE_KEYS - {"id", "team"})
    assert data["expected_value"] == pytest.approx(300 * earned(1) + 200 * earned(2) + 100 * earned(3))
    assert data["expected_value_se"] == pytest.approx(0)
    assert [(t["team"], t["quarter"]) for t in data["teams"]] == [("T", "2027Q1"), ("T", "2027Q2"), ("T", "2027Q3")]
    assert all(TEAM_KEYS <= set(t) for t in data["teams"])
    assert all((t["capacity"], t["planned_load"], t["p_over_capacity"]) == (2, 2, 0) for t in data["teams"])
    assert data["settings"]["quarters"] == "2027Q1:2027Q3"


def test_csv_has_one_row_per_initiative_with_the_json_fields(capsys, small):
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--format", "csv")
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out), dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["id", "team", "start_quarter", "delivery_quarter", "p_on_time", "p_on_time_se",
                                   "delivery_p50", "delivery_p90"]
    assert list(frame["id"]) == ["a", "b", "c", "d"]
    assert list(frame["start_quarter"]) == ["2027Q1", "2027Q2", "2027Q3", ""]


def test_csv_cells_cannot_run_as_spreadsheet_formulas(capsys, tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("id,name,reach,impact,confidence,effort,team\na,A,300,1,100%,2,=SUM(1)\n", encoding="utf-8")
    code, out, err = run(capsys, str(path), "--quarters", "2027Q1", "--capacity", "=SUM(1)=2", *FAST,
                         "--format", "csv")
    assert code == 0, err
    assert "'=SUM(1)" in out and ",=SUM" not in out


def test_capacity_table_and_forced_starts_move_the_roadmap(capsys, small, tmp_path):
    table = tmp_path / "capacity.csv"
    table.write_text("team,quarter,capacity\nT,2027-Q2,0\n", encoding="utf-8")
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--capacity-table", str(table), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    starts = {r["id"]: r["start_quarter"] for r in data["initiatives"]}
    assert starts == {"a": "2027Q1", "b": "2027Q3", "c": None, "d": None}  # nothing fits in 2027Q2
    assert [t["capacity"] for t in data["teams"]] == [2, 0, 2]
    assert data["expected_value"] == pytest.approx(300 * earned(1) + 200 * earned(3))
    # forcing c into the first quarter pushes a and b one quarter later
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--start", "c=2027Q1", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert {r["id"]: r["start_quarter"] for r in data["initiatives"]} == {
        "a": "2027Q2", "b": "2027Q3", "c": "2027Q1", "d": None}
    assert data["expected_value"] == pytest.approx(100 * earned(1) + 300 * earned(2) + 200 * earned(3))


def test_earliest_start_and_the_greedy_roadmap(capsys, small):
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--earliest", "a=2027Q3", "--roadmap", "greedy", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["roadmap"] == "greedy-by-RICE roadmap"
    # greedy by RICE: a (best) waits for 2027Q3, b and c take the first free quarters
    assert {r["id"]: r["start_quarter"] for r in data["initiatives"]} == {
        "a": "2027Q3", "b": "2027Q1", "c": "2027Q2", "d": None}


def test_table_says_plus_minus_and_units(capsys):
    args = ["--demo", "--quarters", "2027Q1:2027Q4", *DEMO_CAPACITY, *FAST, "--value-unit", "$ ARR"]
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    code, text, err = run(capsys, *args)
    assert code == 0, err
    assert data["expected_value_se"] > 0
    ev = pm(data["expected_value"], half_width(data["expected_value_se"]))
    lost = pm(data["lost_to_slips"], half_width(data["lost_to_slips_se"]))
    assert f"Expected value as planned: {ev} $ ARR × quarters" in text
    assert f"lost to slips: {lost} $ ARR × quarters" in text
    assert "Against the greedy-by-RICE roadmap (" in text and "): the optimal roadmap is worth " in text
    assert "value counted for 4 quarters after the horizon" in text and "± is a 95% Monte Carlo half-width" in text
    in_roadmap = [r for r in data["initiatives"] if r["start_quarter"]]
    assert f"{len(in_roadmap)} of {len(data['initiatives'])} initiatives in the roadmap" in text
    assert "chance it lands by then" in text and "9 of 10 scenarios" in text
    risky = [t for t in data["teams"] if t["p_over_capacity"] >= 0.05]
    if risky:
        assert "person-months" in text
        assert all(f"{t['team']}  " in text and t["quarter"] in text for t in risky)


def test_output_file_is_written(capsys, small, tmp_path):
    target = tmp_path / "roadmap.json"
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--format", "json", "-o", str(target))
    assert code == 0, err
    assert out == "" and f"wrote {target}" in err
    assert json.loads(target.read_text(encoding="utf-8"))["quarters"] == ["2027Q1", "2027Q2", "2027Q3"]


def test_a_team_without_capacity_exits_2_naming_it(capsys):
    code, out, err = run(capsys, "--demo", "--quarters", "2027Q1:2027Q4", "--capacity", "Platform=8", *FAST)
    assert code == 2 and out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1
    for team in ("Payments", "Growth", "Data", "Mobile"):
        assert team in lines[0] and f"--capacity {team}=N" in lines[0]
    assert "Platform=N" not in lines[0]


@pytest.mark.parametrize("quarters", ["2027Q5:2027Q8", "next year", "2027Q4:2027Q1"])
def test_unparsable_quarters_exit_2_with_a_clear_message(capsys, quarters):
    code, out, err = run(capsys, "--demo", "--quarters", quarters, *DEMO_CAPACITY, *FAST)
    assert code == 2 and out == ""
    assert "Traceback" not in err
    assert err.startswith("quarters: ") and "2027Q1" in err  # what is expected, with an example


def test_bad_capacity_table_exits_2_locating_every_cell(capsys, small, tmp_path):
    table = tmp_path / "capacity.csv"
    table.write_text("team,quarter,capacity\nT,2027Q9,2\nT,2027Q2,lots\n", encoding="utf-8")
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--capacity-table", str(table))
    assert code == 2 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert "2027Q9" in lines[0] and "quarter" in lines[0]
    assert "lots" in lines[1] and "capacity" in lines[1]


def test_a_forced_start_outside_the_horizon_exits_2(capsys, small):
    code, out, err = run(capsys, str(small), "--quarters", "2027Q1:2027Q3", "--capacity", "T=2", *FAST,
                         "--start", "a=2028Q1")
    assert code == 2 and out == "" and "Traceback" not in err
    assert "2028Q1" in err and "outside the horizon" in err

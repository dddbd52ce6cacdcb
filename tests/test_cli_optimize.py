"""`workbench optimize` as a user runs it: JSON contract, tables, infeasibility and bad input."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from workbench.cli import main

from conftest import run_cli

SMALL = """\
initiatives:
  - {id: a, name: Alpha, reach: 1000, impact: 1, confidence: 100%, effort: 2, team: T1, theme: Growth, planned: true}
  - {id: b, name: Beta, reach: 600, impact: 1, confidence: 100%, effort: 1, team: T1, theme: Growth}
  - {id: c, name: Gamma, reach: 600, impact: 1, confidence: 100%, effort: 1, team: T2, theme: Core}
  - {id: d, name: Delta, reach: 300..900, impact: 1, confidence: 50%, effort: 1..2, team: T2, theme: Core, depends_on: c}
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_json_has_the_documented_keys_and_a_feasible_plan(small, capsys):
    code = main(["optimize", str(small), "--budget", "2", "--seed", "1", "--scenarios", "200",
                 "--confidence-mode", "multiplier", "--format", "json", "--frontier"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert {"status", "objective", "budget", "selected", "expected_value", "p10", "p50", "p90", "cvar", "alpha",
            "effort_mean", "p_overrun", "gap", "greedy", "frontier"} <= data.keys()
    assert data["status"] == "optimal" and data["objective"] == "mean" and data["budget"] == 2
    # knapsack: b + c (1200) beat a (1000) within 2 person-months
    assert sorted(data["selected"]) == ["b", "c"] and data["expected_value"] == pytest.approx(1200)
    assert {"selected", "expected_value"} <= data["greedy"].keys()
    assert data["current"]["selected"] == ["a"] and data["current"]["expected_gain"] == pytest.approx(200)
    assert data["frontier"] and all({"expected_value", "cvar", "selected"} <= f.keys() for f in data["frontier"])


def test_json_carries_the_vss_and_the_optimality_gap(small, capsys):
    # b + c (1200) is the best plan by any measure here: no other fits, whatever the draws or the medians.
    code = main(["optimize", str(small), "--budget", "2", "--seed", "1", "--scenarios", "100",
                 "--confidence-mode", "multiplier", "--format", "json", "--gap-replications", "3"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["vss"] == {"value": 0, "se": 0}
    assert data["optimality_gap"] == {"value": 0, "se": 0, "upper": pytest.approx(1200), "upper_se": 0,
                                      "lower": pytest.approx(1200), "lower_se": 0, "replications": 3}


def test_optimality_gap_can_be_skipped_and_needs_two_replications(small, capsys):
    assert main(["optimize", str(small), "--budget", "2", "--scenarios", "20", "--format", "json",
                 "--gap-replications", "0"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data.get("optimality_gap") is None and "vss" in data
    out = run_cli("optimize", str(small), "--budget", "2", "--gap-replications", "1")
    assert out.returncode == 2
    assert "--gap-replications: expected 0 (skip) or at least 2, got 1" in out.stderr


def test_table_shows_plan_risk_and_comparisons(small, capsys):
    assert main(["optimize", str(small), "--budget", "3", "--seed", "2", "--scenarios", "400",
                 "--capacity", "T2=2", "--objective", "blend", "--lambda", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "objective expected value + 0.5 × CVaR (worst 10%)" in out
    assert "Fund " in out and "P(effort exceeds the budget): " in out
    assert "P(team T2 exceeds its capacity of 2): " in out
    assert "Greedy by RICE:" in out and "Your current plan:" in out
    assert "± is a 95% Monte Carlo half-width. Reproduce with --seed 2." in out


def test_csv_lists_the_funded_initiatives(small, capsys):
    assert main(["optimize", str(small), "--budget", "2", "--seed", "1", "--scenarios", "50",
                 "--confidence-mode", "multiplier", "--format", "csv"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert sorted(frame["id"]) == ["b", "c"]
    assert frame["value_share"].sum() == pytest.approx(1)


@pytest.mark.parametrize("extra, message", [
    (["--budget", "0"], "budget: must be > 0, got 0"),
    (["--budget", "5", "--capacity", "Mobile=3"], "capacities: no initiative belongs to team 'Mobile' (teams: T1, T2)"),
    (["--budget", "5", "--capacity", "T1"], "capacities: expected NAME=VALUE pairs such as Payments=12,Growth=8, got 'T1'"),
    (["--budget", "5", "--theme-share", "Growth=0.5"], "theme_shares: expected LO:HI such as 0.3:0.6 or 30%:60%, got '0.5'"),
    (["--budget", "5", "--theme-share", "Growth=0.7:0.2"], "theme_shares: a share must be LO:HI with 0 <= LO <= HI <= 1, got Growth=0.7:0.2"),
    (["--budget", "5", "--plan", "a,zz"], "plan: unknown initiative 'zz'"),
    (["--budget", "5", "--effort-quantile", "1.5"], "effort_quantile: must be between 0 and 1 (e.g. 0.5 or 0.8), got 1.5"),
    (["--budget", "5", "--alpha", "0"], "alpha: must be in (0, 1], e.g. 0.1 for the worst 10% of scenarios; got 0"),
    (["--budget", "5", "--budget-column", "cost"], "the budget is on the cost column, but these initiatives have no cost: a, b, c, d"),
    (["--budget", "x"], "budget: expected a number such as 40 or 1.5k, got 'x'"),
])
def test_bad_settings_exit_2_with_a_clear_message(small, extra, message):
    out = run_cli("optimize", str(small), "--scenarios", "20", "--seed", "1", *extra)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_infeasible_portfolio_names_the_cause(tmp_path):
    path = tmp_path / "musts.csv"
    path.write_text("id,name,reach,impact,confidence,effort,moscow,depends_on\n"
                    "a,A,100,1,1,3,must,\n"
                    "b,B,100,1,1,4,must,c\n"
                    "c,C,100,1,1,2,could,\n", encoding="utf-8")
    out = run_cli("optimize", str(path), "--budget", "6", "--scenarios", "10")
    assert out.returncode == 2
    assert out.stderr.strip() == "must-haves need 9 person-months (with their prerequisites) but the budget is 6"


def test_unknown_dependency_is_reported_with_its_cell(tmp_path):
    path = tmp_path / "deps.csv"
    path.write_text("id,name,reach,impact,confidence,effort,depends_on\n"
                    "a,A,100,1,1,3,ghost\n", encoding="utf-8")
    out = run_cli("optimize", str(path), "--budget", "6")
    assert out.returncode == 2
    assert out.stderr.strip() == f"{path}:2: column 7 (depends_on): 'ghost': depends_on: unknown id 'ghost'"


def test_solver_chatter_on_stdout_does_not_corrupt_json(small, capfd, monkeypatch):
    # HiGHS can print to file descriptor 1 even with disp=False; the JSON must stay parseable.
    import os

    import workbench.planning.milp as solver

    milp = solver.milp

    def noisy(*args, **kwargs):
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
        return milp(*args, **kwargs)

    monkeypatch.setattr(solver, "milp", noisy)
    assert main(["optimize", str(small), "--budget", "2", "--seed", "1", "--scenarios", "20", "--format", "json"]) == 0
    out = capfd.readouterr().out
    assert "Highs" not in out
    assert json.loads(out)["status"] == "optimal"

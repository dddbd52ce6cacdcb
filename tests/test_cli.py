"""`workbench score` as a user runs it: formats, exit codes, messages, atomic output."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re

import numpy as np
import pandas as pd
import pytest

from workbench import demo_portfolio
from workbench.cli import main

from conftest import run_cli

N_DEMO = len(demo_portfolio())

JSON_KEYS = {"id", "name", "rice", "mean", "sd", "p10", "p50", "p90", "p_top_k", "p_top_k_se", "expected_rank"}


def test_score_demo_json_has_the_documented_shape():
    out = run_cli("score", "--demo", "--seed", "5", "--samples", "4000", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"seed", "samples", "method", "confidence_mode", "top_k", "initiatives"} <= data.keys()
    assert (data["seed"], data["samples"], data["method"], data["confidence_mode"], data["top_k"]) == (5, 4000, "mc", "success", 5)
    assert len(data["initiatives"]) == N_DEMO
    # `rank_group` ([first, last] rank of the initiative's statistical tie group) once the CLI uses
    # `views.text.score_record`; tested in test_ranking_ties.
    assert all(JSON_KEYS <= set(i) <= JSON_KEYS | {"rank_group"} for i in data["initiatives"])
    # every sample has exactly five initiatives in its top five
    assert sum(i["p_top_k"] for i in data["initiatives"]) == pytest.approx(5)
    # same seed, same output
    assert run_cli("score", "--demo", "--seed", "5", "--samples", "4000", "--format", "json").stdout == out.stdout


def test_score_table_is_readable(capsys):
    assert main(["score", "--demo", "--seed", "3", "--samples", "2000", "--top-k", "3"]) == 0
    text = capsys.readouterr().out
    assert f"{N_DEMO} initiatives, 2,000 samples (mc, seed 3)" in text
    assert "P(top 3)" in text and "± is a 95% Monte Carlo half-width" in text
    # one row per initiative, headed by its rank: "4", or "10–13" for a statistical tie
    lines = [ln for ln in text.splitlines() if re.fullmatch(r"\d+(–\d+)?", ln.split()[0] if ln.strip() else "")]
    assert len(lines) == N_DEMO and lines[0].split()[0] in ("1", f"1–{lines[0].split()[0][2:]}")


def test_csv_output_is_spreadsheet_safe(tmp_path, capsys):
    src = tmp_path / "p.csv"
    src.write_text("id,name,reach,impact,confidence,effort\n"
                   "a,=HYPERLINK(\"http://x\"),100..300,high,80%,2\n"
                   "b,Plain name,200,medium,50%,1\n", encoding="utf-8")
    assert main(["score", str(src), "--seed", "1", "--samples", "500", "--format", "csv", "--top-k", "1"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame.columns) == ["id", "name", "rice", "mean", "sd", "p10", "p50", "p90", "p_top_k", "p_top_k_se", "expected_rank"]
    assert set(frame["name"]) == {"'=HYPERLINK(\"http://x\")", "Plain name"}


def test_every_bad_cell_is_reported_and_exit_is_2_without_traceback(tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text("id,name,reach,impact,confidence,effort\n"
                   "a,Alpha,2OO,high,80%,0\n"
                   "b,Beta,100,huge,150%,2\n"
                   "a,Gamma,100,high,80%,1\n", encoding="utf-8")
    before = hashlib.sha256(src.read_bytes()).hexdigest()
    out = run_cli("score", str(src))
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith(f"{src}:2: column 3 (reach): '2OO': ")
    assert lines[1] == f"{src}:2: column 6 (effort): '0': effort must be > 0 (got 0)"
    assert lines[2].startswith(f"{src}:3: column 4 (impact): 'huge': unknown impact word 'huge'")
    assert lines[3].startswith(f"{src}:3: column 5 (confidence): '150%': confidence must be > 0% and <= 100%")
    assert lines[4] == f"{src}:4: column 1 (id): 'a': duplicate id (first used on line 2)"
    assert len(lines) == 5
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before  # input never modified


@pytest.mark.parametrize("args, message", [
    (["score"], "give a PORTFOLIO file (.csv, .xlsx, .yaml) or --demo"),
    (["score", "--demo", "x.csv"], "give either a PORTFOLIO file or --demo, not both"),
    (["score", "--demo", "--top-k", "0"], "top_k: must be at least 1, got 0"),
    (["score", "--demo", "--top-k", "40"], f"top_k: 40 is more than the {N_DEMO} initiatives of the portfolio"),
    (["score", "--demo", "--precision", "2"], "precision: a probability half-width between 0 and 0.5 (e.g. 0.01), got 2"),
    (["score", "--demo", "--samples", "many"], "samples: expected a whole number, got 'many'"),
    (["score", "--demo", "--method", "quasi"], "method: expected one of mc, lhs, sobol, got 'quasi'"),
    (["score", "missing.csv"], "missing.csv: file not found"),
])
def test_usage_errors_exit_2_with_a_clear_message(args, message):
    out = run_cli(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr


def test_output_file_is_written_atomically_and_survives_a_failed_run(tmp_path):
    target = tmp_path / "ranking.json"
    assert main(["score", "--demo", "--seed", "1", "--samples", "500", "--format", "json", "-o", str(target)]) == 0
    good = target.read_text(encoding="utf-8")
    assert json.loads(good)["samples"] == 500
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: a\n  name: A\n  reach: lots\n  impact: 1\n  confidence: 1\n  effort: 1\n", encoding="utf-8")
    assert main(["score", str(bad), "--format", "json", "-o", str(target)]) == 2
    assert target.read_text(encoding="utf-8") == good
    assert sorted(os.listdir(tmp_path)) == ["bad.yaml", "ranking.json"]  # no temporary files left behind


def test_names_cannot_inject_terminal_escape_sequences(tmp_path, capsys):
    src = tmp_path / "p.yaml"
    src.write_text('- {id: a, name: "Evil\\e[31mRED\\e[0m", reach: 100, impact: 1, confidence: 1, effort: 1}\n'
                   '- {id: b, name: Good, reach: 50, impact: 1, confidence: 1, effort: 1}\n', encoding="utf-8")
    # The name is refused, located, and the message shows the escape character escaped, never raw.
    assert main(["score", str(src), "--seed", "1", "--samples", "100", "--top-k", "1"]) == 2
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err
    assert "'Evil\\x1b[31mRED\\x1b[0m': U+001B (ESC) at character 5; delete it" in captured.err


def test_precision_run_reports_what_it_reached(capsys):
    assert main(["score", "--demo", "--seed", "2", "--precision", "0.03"]) == 0
    out = capsys.readouterr().out
    assert "Precision target ±0.03: reached; widest half-width ±0.0" in out


def test_reports_of_one_run_never_share_an_output_name():
    from workbench.reports import report_names

    assert report_names([("a.csv", "Q1"), ("b.csv", "Q2")], "quarterly") == ["Q1-quarterly", "Q2-quarterly"]
    assert report_names([("x/a.csv", "Q1"), ("", "Q1")], "sensitivity") == ["Q1-a-sensitivity", "Q1-demo-sensitivity"]
    same_stem = report_names([("x/q.csv", "Q1"), ("y/q.csv", "Q1"), ("z/r.csv", "Q1")], "quarterly")
    assert same_stem == ["Q1-q-quarterly-1", "Q1-q-quarterly-2", "Q1-r-quarterly"]


# --- `workbench optimize`: every plan figure with its error, VSS, gap, frontier disagreement --------

VSS_PORTFOLIO = """\
initiatives:
  - {id: sure, name: Sure thing, reach: 1000, impact: 1, confidence: 100%, effort: 1}
  - {id: risky, name: Long shot, reach: 100..5000, impact: 1, confidence: 100%, effort: 1}
"""


def test_optimize_text_and_json_carry_every_error_the_vss_and_the_gap(tmp_path, capsys):
    # Budget for one: the medians pick the sure 1,000 (median of 100..5000 is 707), the ranges the
    # long shot (lognormal mean 1,434.03), so VSS = E[risky] − 1000 = 434.03 (closed form).
    src = tmp_path / "vss.yaml"
    src.write_text(VSS_PORTFOLIO, encoding="utf-8")
    args = [str(src), "--budget", "1", "--seed", "1", "--scenarios", "400", "--samples", "20000",
            "--gap-replications", "2"]
    assert main(["optimize", *args, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["selected"] == ["risky"] and data["point"]["selected"] == ["sure"]
    assert abs(data["vss"]["value"] - 434.03) < 4 * data["vss"]["se"] and 0 < data["vss"]["se"] < 40
    assert data["evaluated_on"] == {"scenarios": "evaluation", "count": 20000}
    assert {"p10_se", "p50_se", "p90_se", "cvar_se", "p_overrun_se", "effort_mean_se"} <= data.keys()
    assert {"expected_value_se", "cvar_se"} <= data["greedy"].keys()
    assert data["optimality_gap"]["replications"] == 2
    assert main(["optimize", *args]) == 0
    text = capsys.readouterr().out
    assert ("The plan is chosen on 400 selection scenarios; every plan figure is estimated on 20,000 independent "
            "evaluation draws.") in text
    value = next(line for line in text.splitlines() if line.startswith("Value ("))
    assert value.count(" ± ") == 5  # expected value, p10, median, p90 and CVaR
    half = 1.959964 * data["vss"]["se"]
    assert (f"Planning with the ranges instead of single numbers is worth {data['vss']['value']:,.0f} ± {half:.3g} "
            "value points (against the plan chosen on the medians: sure).") in text
    assert "The recommended plan is within " in text and "of the best plan possible (2 independent re-solves)." in text


def test_optimize_text_says_when_frontier_plans_beat_the_recommended_plan():
    from workbench import Settings, run
    from workbench.planning.frontier import Frontier
    from workbench.planning.plans import Plan
    from workbench.views.text import plan_record, plan_text

    from conftest import initiative, portfolio

    o = run(portfolio(initiative("big", reach="2000"), initiative("small", reach="1000")),
            Settings(budget=1, samples=2000, scenarios=50))
    weak = Plan(np.array([False, True]), o.plan.scenarios, o.problem, alpha=0.1)  # as if it had been recommended
    weak.point, weak.vss = None, None
    strong = Plan(np.array([True, False]), o.plan.scenarios, o.problem, alpha=0.1)
    front = Frontier([weak, strong], recommended=weak)
    text = plan_text(weak, o.settings, front)
    # certain values: the margins are exactly 1,000 in expected value and in CVaR, without error
    assert ("On the independent evaluation draws, 1 plan on the curve beats the recommended plan on both expected "
            "value and CVaR (by up to 1,000 ± 0 and 1,000 ± 0 value points); the selection scenarios (50) could "
            "not separate them: raise scenarios.") in text
    rows = {line.split()[-1]: line for line in text.splitlines() if line.endswith((" big", " small"))}
    assert "recommended" in rows["small"] and "beats it" in rows["big"]
    assert plan_record(weak, o.settings, front)["frontier_beats_recommended"] == [1]
    assert "beat" not in plan_text(strong, o.settings, Frontier([weak, strong], recommended=strong))

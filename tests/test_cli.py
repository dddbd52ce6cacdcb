"""`workbench score` as a user runs it: formats, exit codes, messages, atomic output."""

from __future__ import annotations

import hashlib
import io
import json
import os

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
    assert all(set(i) == JSON_KEYS for i in data["initiatives"])
    # every sample has exactly five initiatives in its top five
    assert sum(i["p_top_k"] for i in data["initiatives"]) == pytest.approx(5)
    # same seed, same output
    assert run_cli("score", "--demo", "--seed", "5", "--samples", "4000", "--format", "json").stdout == out.stdout


def test_score_table_is_readable(capsys):
    assert main(["score", "--demo", "--seed", "3", "--samples", "2000", "--top-k", "3"]) == 0
    text = capsys.readouterr().out
    assert f"{N_DEMO} initiatives, 2,000 samples (mc, seed 3)" in text
    assert "P(top 3)" in text and "± is a 95% Monte Carlo half-width" in text
    lines = [ln for ln in text.splitlines() if ln[:3].strip().isdigit()]
    assert len(lines) == N_DEMO and lines[0].split()[0] == "1"


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

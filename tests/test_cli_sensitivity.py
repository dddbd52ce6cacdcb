"""`workbench sensitivity` as a user runs it: JSON keys, defaults and bad input."""

from __future__ import annotations

import json

import pytest

from workbench.cli import main

from conftest import run_cli

SMALL = """\
initiatives:
  - {id: a, name: Alpha, reach: 800..1200, impact: 1, confidence: 80%, effort: 2, team: T1, theme: Growth}
  - {id: b, name: Beta, reach: 500..700, impact: 1, confidence: 100%, effort: 1, team: T1, theme: Growth}
  - {id: c, name: Gamma, reach: 400..900, impact: 1, confidence: 50%, effort: 1, team: T2, theme: Core}
  - {id: d, name: Delta, reach: 300, impact: low..high, confidence: 80%, effort: 1..2, team: T2, theme: Core}
"""


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_json_has_every_analysis_asked_for(small, capsys):
    assert main(["sensitivity", str(small), "--budget", "3", "--seed", "1", "--scenarios", "400", "--format", "json",
                 "--budget-range", "1:5:1", "--split", "Growth", "--tornado", "--sobol", "--voi"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["budget"] for r in data["budget_sweep"]] == [1, 2, 3, 4, 5]
    assert all({"budget", "expected_value", "p10", "p90", "selected"} <= r.keys() for r in data["budget_sweep"])
    assert len(data["split_sweep"]) == 11 and data["split_sweep"][0]["share"] == 0
    assert all({"input", "low", "high", "value_low", "value_high"} <= r.keys() for r in data["tornado"])
    assert all({"input", "S1", "S1_conf", "ST", "ST_conf"} <= r.keys() for r in data["sobol"])
    assert {"value", "se"} <= data["evpi"].keys() and data["evpi"]["value"] >= 0
    assert {r["id"] for r in data["evppi"]} == {"a", "b", "c", "d"}
    assert all({"id", "value", "se"} <= r.keys() for r in data["evppi"])
    assert max(r["value"] for r in data["evppi"]) <= data["evpi"]["value"] + 4 * data["evpi"]["se"]


def test_without_flags_it_runs_a_budget_sweep_and_the_tornado(small, capsys):
    assert main(["sensitivity", str(small), "--budget", "4", "--seed", "1", "--scenarios", "200", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["budget"] for r in data["budget_sweep"]] == pytest.approx([2, 2.4, 2.8, 3.2, 3.6, 4, 4.4, 4.8, 5.2, 5.6, 6])
    assert "tornado" in data and "sobol" not in data and "evpi" not in data


def test_table_output(small, capsys):
    assert main(["sensitivity", str(small), "--budget", "3", "--seed", "1", "--scenarios", "200", "--tornado"]) == 0
    out = capsys.readouterr().out
    assert "Tornado: each input from its p10 to its p90" in out and "Decision switch points" in out


@pytest.mark.parametrize("extra, message", [
    (["--budget-range", "20:10:5"], "budget range '20:10:5' is empty or reversed: A must be below B"),
    (["--budget-range", "5:5:1"], "budget range '5:5:1' is empty or reversed: A must be below B"),
    (["--split", "Mobile"], "split: no initiative belongs to a theme or team 'Mobile' (themes: Core, Growth; teams: T1, T2)"),
    (["--budget", "0"], "budget: must be > 0, got 0"),
    (["--budget", "-3"], "budget: must be > 0, got -3"),
])
def test_bad_input_exits_2_with_a_clear_message(small, extra, message):
    args = ["sensitivity", str(small), "--scenarios", "20", "--seed", "1"]
    if "--budget" not in extra:
        args += ["--budget", "3"]
    out = run_cli(*args, *extra)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr and "Traceback" not in out.stderr

"""Quarterly and sensitivity reports: templates through workbench and papermill, safety, failures."""

from __future__ import annotations

import html as html_module
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from workbench import reports, simulate
from workbench.cli import main
from workbench.reports import template_path

from conftest import initiative, portfolio, run_cli

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--samples", "2000", "--scenarios", "150"]

SMALL = """\
id,name,reach,impact,confidence,effort,team,theme,moscow
a,Alpha,800..1200,1,80%,2,T1,Growth,must
b,Beta,500..700,high,100%,1,T1,Growth,
c,Gamma,400..900,1,50%,1..2,T2,Core,
d,Delta,300,low..high,80%,1,T2,Core,
e,Epsilon,100..400,medium,80%,"pert(1, 2, 4)",T2,Core,
f,Zeta,600..900,low,high,2,T1,Growth,
"""

HOSTILE = SMALL.replace("Alpha", '"<script>alert(""x"")</script>"').replace("Beta", "<b>bold</b> & <img src=x onerror=alert(1)>")


@pytest.fixture
def small(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text(SMALL, encoding="utf-8")
    return path


def _executed_without_errors(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(str(path), as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    return nb


@pytest.mark.parametrize("kind", ["quarterly", "sensitivity"])
def test_templates_run_through_workbench_on_demo_and_a_small_portfolio(kind, small, tmp_path, capfd):
    out = tmp_path / "reports"
    assert main(["report", kind, "--demo", "--quarter", "2026Q4", "--budget", "40", "-o", str(out), *FAST]) == 0
    captured = capfd.readouterr()  # file descriptors: the kernel's own stderr too
    assert "without encryption" not in captured.err and "WARNING" not in captured.err
    printed = captured.out.split()
    html, ipynb, data = (out / f"2026Q4-{kind}{ext}" for ext in (".html", ".ipynb", ".json"))
    assert printed == [str(html), str(ipynb), str(data)]
    _executed_without_errors(ipynb)
    record = json.loads(data.read_text(encoding="utf-8"))
    assert record["settings"]["budget"] == 40 and record["settings"]["samples"] == 2000
    assert set(record["plan"]) >= {"selected", "expected_value", "expected_value_se", "cvar", "p_overrun"}
    assert len(record["ranking"]) == 31 and len(record["input_sha256"]) == 64
    assert {"cvar_se", "p10_se", "p90_se", "p_overrun_se", "evaluated_on", "vss", "point"} <= set(record["plan"])
    assert all(len(r["rank_group"]) == 2 for r in record["ranking"])
    text = html.read_text(encoding="utf-8")
    assert text.count("<svg") == {"quarterly": 9, "sensitivity": 2}[kind] and "<img" not in text  # + 3 roadmap charts
    if kind == "quarterly":
        assert "independent evaluation draws" in text and "the plan chosen on the medians" in text
    assert "cdnjs" not in text and "<script src=" not in text
    assert main(["report", kind, "--portfolio", str(small), "--quarter", "2027Q1", "--budget", "4",
                 "--capacity", "T1=3", "-o", str(out), *FAST]) == 0
    assert (out / f"2027Q1-{kind}.html").is_file()


def test_quarterly_report_says_what_changed_since_last_quarter(small, tmp_path, capsys):
    before = tmp_path / "before.csv"
    before.write_text(SMALL.replace("800..1200", "500..900").replace("f,Zeta,600..900,low,high,2,T1,Growth,\n", "")
                      + "g,Eta,100,1,50%,3,T2,Core,\n", encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["report", "quarterly", "--portfolio", str(small), "--quarter", "2027Q1", "--budget", "4",
                 "--param", f"previous_portfolio={before}", "-o", str(out), *FAST]) == 0
    text = (out / "2027Q1-quarterly.html").read_text(encoding="utf-8")
    assert "<b>New:</b> Zeta. <b>Dropped:</b> Eta." in text
    # The re-estimated initiative by name, in the shared table style: the estimate before and now.
    row = re.search(r"<tr>\s*<td[^>]*>Alpha</td>\s*<td[^>]*>reach</td>\s*<td[^>]*>500..900</td>\s*"
                    r"<td[^>]*>800..1200</td>", text)
    assert row is not None
    assert "New: Zeta. Dropped: Eta. 1 estimate of 1 initiative re-estimated." in html_module.unescape(text)


def test_changes_since_last_quarter_with_no_initiative_in_common():
    # Regression: with no shared ids the rank-movement frame had no columns and changes_html raised KeyError.
    before = portfolio(initiative("old1", reach="100..200"), initiative("old2", reach="300"))
    now = portfolio(initiative("new1", reach="50..150"), initiative("new2", reach="400"), initiative("new3"))
    changes = reports.changes_since(before, now, simulate(before, samples=500, seed=1),
                                    simulate(now, samples=500, seed=2), top_k=2)
    assert changes.new == ["new1", "new2", "new3"] and changes.dropped == ["old1", "old2"]
    assert changes.reestimated.empty and changes.ranks.empty
    assert list(changes.ranks.columns) == ["id", "name", "rank_before", "rank_now", "movement", "p_before", "p_now",
                                           "half_before", "half_now", "matters"]
    page = reports.changes_html(changes)
    # Nothing in common: the counts, and at most three names of each (lists of every name say less).
    assert page == ("<p>No initiative in common with last quarter&#x27;s portfolio: 3 new (New1, New2, New3), "
                    "2 dropped (Old1, Old2).</p>")
    assert "Rank movements" not in page and "Re-estimated" not in page


def test_templates_run_with_the_plain_papermill_cli(small, tmp_path):
    runs = [("quarterly_report.ipynb", ["-p", "portfolio", str(small)]),
            ("budget_sensitivity.ipynb", ["-p", "portfolio", str(small)]),
            ("quarterly_report.ipynb", [])]  # no portfolio: the bundled demo
    for k, (template, source) in enumerate(runs):
        out = tmp_path / f"out-{k}-{template}"
        done = subprocess.run([sys.executable, "-m", "papermill", str(template_path("quarterly" if template.startswith("quarterly") else "sensitivity")), str(out), *source,
                               "-p", "quarter", "2026Q4", "-p", "budget", "60",
                               "-p", "samples", "2000", "-p", "scenarios", "150"],
                              capture_output=True, text=True, timeout=900, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        nb = _executed_without_errors(out)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and "budget = 60" in injected[0].source.splitlines()
        if template == "quarterly_report.ipynb":  # the executed plan used it, not the template's default of 40
            assert any("within the budget of 60 person-months." in o.get("data", {}).get("text/html", "")
                       for c in nb.cells for o in c.get("outputs", []))


def test_user_text_is_escaped_in_the_html(tmp_path, capsys):
    path = tmp_path / "hostile.csv"
    path.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["report", "quarterly", "--portfolio", str(path), "--quarter", "2026Q4", "--budget", "5",
                 "-o", str(out), *FAST]) == 0
    text = (out / "2026Q4-quarterly.html").read_text(encoding="utf-8")
    assert "<script>alert" not in text and "<b>bold</b>" not in text and "<img src=x" not in text
    assert '<li>&lt;script&gt;alert("x")&lt;/script&gt;</li>' in text  # funded, in the brief: escaped text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text


@pytest.mark.parametrize("extra, message", [
    (["--param", "colour=blue"], "unknown parameter 'colour'"),
    (["--param", "samples=many"], "samples: expected a whole number, got 'many'"),
    (["--param", "objective=greedy"], "objective: expected one of mean, cvar, blend, got 'greedy'"),
    (["--budget", "0"], "budget: must be > 0, got 0"),
    (["--budget", "40%"], "budget: expected an amount such as 40 or 1.5k, not a percentage ('40%')"),
    (["--seed", "-1"], "seed: must be at least 0, got -1"),
    (["--capacity", "Nobody=3"], "capacities: no initiative belongs to team 'Nobody'"),
    (["--param", "previous_portfolio=nowhere.csv"], "nowhere.csv: previous_portfolio: file not found"),
    (["--quarter", "Q4 / 2026"], "quarter: expected a label such as 2026Q4"),
    (["--param", "lam=-1"], "lam: the weight of CVaR must be >= 0, got -1"),
])
def test_bad_parameters_exit_2_before_any_kernel_starts(extra, message, tmp_path):
    out = tmp_path / "reports"
    args = ["report", "quarterly", "--demo", "-o", str(tmp_path / "reports")]
    if "--budget" not in extra:
        args += ["--budget", "40"]
    if "--quarter" not in extra:
        args += ["--quarter", "2026Q4"]
    done = run_cli(*args, *extra)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()  # nothing was run or written


def test_a_bad_portfolio_cell_is_reported_before_any_kernel_starts(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,name,reach,impact,confidence,effort\na,A,lots,1,1,1\n", encoding="utf-8")
    done = run_cli("report", "quarterly", "--portfolio", str(path), "--quarter", "Q1", "--budget", "5", "-o", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"{path}:2: column 3 (reach): 'lots': ")


@pytest.fixture
def failing_template(tmp_path, monkeypatch):
    """A template whose cell after the parameters raises, standing in for any failure inside a kernel."""
    real = reports.run.template_path(quarterly := "quarterly")
    nb = nbformat.read(str(real), as_version=4)
    after = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    nb.cells.insert(after, nbformat.v4.new_code_cell("if quarter != '2026Q4': raise RuntimeError('boom in the kernel')"))
    path = tmp_path / "failing.ipynb"
    nbformat.write(nb, str(path))
    monkeypatch.setattr(reports.run, "template_path", lambda kind: path if kind == quarterly else real)
    return path


def test_infeasible_settings_exit_2_before_any_kernel_starts(tmp_path, capsys):
    out = tmp_path / "reports"
    # The demo's must-haves need about 10.5 person-months: a budget of 5 is found infeasible up front.
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "5", "-o", str(out), *FAST]) == 2
    assert "must-haves need 10.51 person-months" in capsys.readouterr().err
    assert not out.exists()


def test_a_failing_cell_exits_1_keeps_the_failed_notebook_and_the_last_good_report(tmp_path, capsys, failing_template):
    out = tmp_path / "reports"
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "-o", str(out), *FAST]) == 0
    good = (out / "2026Q4-quarterly.html").read_bytes()
    (out / "2026Q1-quarterly.html").write_bytes(good)  # a last good report under the name that now fails
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q1", "--budget", "40", "-o", str(out), *FAST]) == 1
    err = capsys.readouterr().err
    assert "quarterly report failed in cell" in err and "RuntimeError: boom in the kernel" in err
    assert "2026Q1-quarterly.failed.ipynb" in err
    assert (out / "2026Q1-quarterly.html").read_bytes() == good
    failed = nbformat.read(str(out / "2026Q1-quarterly.failed.ipynb"), as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in failed.cells for o in c.get("outputs", []))
    assert not list(out.glob(".*"))  # no scratch files left


def test_batch_runs_in_parallel_and_one_failure_does_not_stop_the_others(small, tmp_path, capsys, failing_template):
    out = tmp_path / "reports"
    # the failing template raises for every quarter but 2026Q4 (forked workers inherit the patch)
    code = main(["report", "quarterly", "--portfolio", str(small), "--quarter", "2026Q4", "--quarter", "2027Q1",
                 "--budget", "4", "-o", str(out), *FAST])
    done = capsys.readouterr()
    assert code == 1
    assert str(out / "2026Q4-quarterly.html") in done.out
    assert "1 of 2 reports written" in done.err and "2027Q1-quarterly" in done.err
    assert (out / "2026Q4-quarterly.html").is_file() and not (out / "2027Q1-quarterly.html").exists()


def test_templates_are_committed_without_outputs_and_tagged():
    for template in ("quarterly_report.ipynb", "budget_sensitivity.ipynb"):
        nb = json.loads((ROOT / "workbench" / "templates" / template).read_text(encoding="utf-8"))
        tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1
        assert all(not c.get("outputs") for c in nb["cells"])


def test_report_in_headless_chromium_is_offline_shows_its_charts_and_prints(browser, tmp_path, capsys):
    from browser import open_offline

    path = tmp_path / "hostile.csv"
    path.write_text(HOSTILE, encoding="utf-8")
    out = tmp_path / "reports"
    assert main(["report", "quarterly", "--portfolio", str(path), "--quarter", "2026Q4", "--budget", "5",
                 "-o", str(out), *FAST]) == 0
    page = open_offline(browser, out / "2026Q4-quarterly.html", screenshot=ROOT / "artifacts" / "quarterly-report.png",
                        pdf_path=tmp_path / "report.pdf")
    assert page.external_requests == [] and page.console_errors == [] and page.ok
    # Budget 5 funds the must-haves only: one plan, so no frontier chart but a sentence saying why. The
    # budget bounds every team's quarter, so the roadmap section shows its three charts.
    assert len(page.svg_sizes) == 8 and all(w > 50 and h > 50 for w, h in page.svg_sizes)
    assert "No risk–value frontier: one plan has both the most expected value and the best bad case" in page.text
    assert "Executive brief" in page.text and "Recommendation" in page.text and "How to read this." in page.text
    assert "Roadmap across quarters" in page.text
    assert '<script>alert("x")</script>' in page.text  # the name shown as text, not run as markup
    assert "<b>bold</b>" in page.text
    assert page.pdf_pages >= 2  # prints on A4
    assert "NaN" not in page.text  # every table cell has a value


def test_the_executive_summary_gives_every_plan_figure_its_error_vss_and_gap():
    from workbench import Settings, run
    from workbench.planning.frontier import Frontier
    from workbench.planning.plan_quality import OptimalityGap
    from workbench.reports.content import executive_summary, frontier_note, methods_appendix

    # Budget for one: the ranges fund the long shot (mean 1,434), the medians the sure 1,000.
    o = run(portfolio(initiative("sure", reach="1000"), initiative("risky", reach="100..5000")),
            Settings(budget=1, samples=4000, scenarios=200, top_k=1))
    gap = OptimalityGap(12.0, 5.0, 1450.0, 30.0, 1430.0, 40.0, 4)
    html = executive_summary(o, optimality_gap=gap)
    value = html[html.index("<b>Value.</b>"):html.index("</p>", html.index("<b>Value.</b>"))]
    assert value.count(" ± ") == 4  # expected value, p10, p90, CVaR
    assert "every plan figure is estimated on 4,000 independent evaluation draws" in value
    assert "Planning with the ranges instead of single numbers is worth " in html
    assert "(against the plan chosen on the medians: sure)." in html
    assert "The recommended plan is within 12 ± 9.8 value points of the best plan possible (4 independent re-solves)." in html
    assert "The chance that the funded work needs more effort than the budget is " in html
    assert frontier_note(o, Frontier([o.plan], recommended=o.plan)) == ""
    appendix = methods_appendix(o, "")["value"]
    assert appendix["plan figures estimated on"] == "4,000 evaluation draws, independent of the choice"
    assert appendix["value of planning with ranges (VSS)"].endswith(" value points, against the plan chosen on the medians")
    assert all(len(str(v)) <= 80 for v in appendix)  # the report's table cuts cells at 80 characters


def test_the_brief_says_the_decision_its_value_risk_with_guidance_sensitivity_and_assumptions():
    from workbench import Settings, pipeline, run

    p = portfolio(initiative("a", name="Alpha", reach="1000", effort="1..3"), initiative("b", name="Beta", reach="400..900"),
                  initiative("c", name="Gamma", reach="300", effort="2", planned=True))
    o = run(p, Settings(budget=3, samples=4000, scenarios=200, top_k=1))
    a = pipeline.analyses(o, tornado=True)
    b = reports.brief(o, drivers=a.tornado, switches=a.switch_points)
    assert b.title == "Executive brief" and b.funded == ["Alpha", "Beta"]
    assert b.recommendation == "Fund 2 of the 3 initiatives in test, within the budget of 3 person-months."
    num = r"[\d,.]+ ± [\d,.]+"
    assert re.fullmatch(rf"Expected value {num} value points; in 80% of scenarios between {num} and {num}; "
                        rf"in the worst 10% it averages {num}\.", b.value)
    # P(overrun), then what planning at the 80th effort percentile would do: its risk and its price.
    assert re.fullmatch(r"The funded work needs more effort than the budget \(3 person-months\) with probability "
                        r"\d+% ± [\d.]+%\. Planning with efforts at their 80th percentile \(setting effort_quantile "
                        rf"0\.8\) lowers the overrun risk to \d+% ± [\d.]+% at a cost of {num} value points of "
                        r"expected value\.", b.risk)
    from workbench.views.brief import safer_plan

    safer = safer_plan(o)
    assert safer is not None and safer.p_overrun < o.plan.p_overrun and safer.selected == ["a"]
    assert b.sensitivity.startswith("The assumption that matters most is Beta — reach: between its 10th and 90th "
                                    "percentiles (437 to 823) the plan's value moves by ")
    assert b.assumptions[:3] == ["Budget: 3 person-months, of which the plan uses 2.73.",
                                 "Team capacities: none set (only the total budget limits the plan).",
                                 "Efforts planned at their 50th percentile (the median)."]
    assert re.fullmatch(rf"Against your current plan \(1 initiative\): \+{num} value points of expected value\.",
                        b.assumptions[4])
    page = reports.brief_html(b)
    assert page.count('<div class="brief-row">') == 5 and "<li>Alpha</li>" in page  # no changes row without them
    # Already planned cautiously: guidance without another solve.
    cautious = run(p, Settings(budget=3, samples=2000, scenarios=100, top_k=1, effort_quantile=0.9))
    assert reports.brief(cautious).risk.endswith("Efforts are already planned at their 90th percentile, a cautious "
                                                 "estimate: a lower risk needs a larger budget or fewer initiatives.")


def test_what_changed_lists_only_the_rank_moves_beyond_their_error_and_plan_entries():
    before = portfolio(initiative("a", reach="1000"), initiative("b", reach="100..200"), initiative("c", reach="50"),
                       initiative("d", reach="10..20"))
    now = portfolio(*before.initiatives[:2], initiative("c", reach="400"), before.initiatives[3])
    changes = reports.changes_since(before, now, simulate(before, samples=4000, seed=1),
                                    simulate(now, samples=4000, seed=2), top_k=2, plan_before=["a", "b"],
                                    plan_now=["a", "c"])
    # a (always first) and d (never in the top 2) keep P(top 2) on other draws: not listed.
    assert sorted(changes.moves()["id"]) == ["b", "c"]
    assert changes.ranks.set_index("id")["matters"].to_dict() == {"a": False, "b": True, "c": True, "d": False}
    assert changes.entered == ["c"] and changes.left == ["b"]
    summary = reports.changes_summary(changes)
    assert summary == ("New: none. Dropped: none. 1 estimate of 1 initiative re-estimated. Enters the plan: C; "
                       "leaves it: B. P(top 2) moved beyond its error for B (1.00 → 0.00), C (0.00 → 1.00).")
    page = reports.changes_html(changes)
    assert "<b>Enters the plan:</b> C. <b>Leaves the plan:</b> B." in page
    assert "Chances of being in the top 2 that moved beyond their error" in page
    # Plan entries and exits are among the initiatives of both quarters: a new one funded is new, last
    # quarter's funded work no longer listed was done (or dropped), not taken out of the plan.
    later = portfolio(*now.initiatives[1:], initiative("e", reach="5000"))
    moved = reports.changes_since(now, later, simulate(now, samples=4000, seed=2),
                                  simulate(later, samples=4000, seed=3), top_k=2, plan_before=["a", "c"],
                                  plan_now=["c", "e"])
    assert moved.new == ["e"] and moved.dropped == ["a"] and moved.entered == [] and moved.left == []


def test_a_move_of_less_than_a_point_of_probability_is_not_news():
    # a and b take the top 2; c's range 100..350 beats b (500) with chance 1 - Φ((ln 500 - ln 187.1) / 0.3808)
    # = 0.0049, far beyond its error at 200,000 samples; now c is a single 50: P(top 2) 0.005 -> 0.
    before = portfolio(initiative("a", reach="1000"), initiative("b", reach="500"), initiative("c", reach="100..350"))
    now = portfolio(*before.initiatives[:2], initiative("c", reach="50"))
    changes = reports.changes_since(before, now, simulate(before, samples=200_000, seed=1),
                                    simulate(now, samples=200_000, seed=2), top_k=2)
    row = changes.ranks.set_index("id").loc["c"]
    assert row["p_before"] == pytest.approx(0.0049, abs=0.001) and row["p_now"] == 0
    assert row["p_before"] - row["p_now"] > math.hypot(row["half_before"], row["half_now"])  # beyond its error
    assert changes.moves().empty  # but less than a point of probability: not listed


def test_a_portfolio_of_single_numbers_says_why_there_is_no_tornado_or_frontier(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("id,name,reach,impact,confidence,effort\na,Alpha,1000,1,100%,2\nb,Beta,500,2,100%,1\n"
                    "c,Gamma,400,1,100%,1\nd,Delta,300,1,100%,1\n", encoding="utf-8")
    out = tmp_path / "reports"
    for kind in ("quarterly", "sensitivity"):
        assert main(["report", kind, "--portfolio", str(path), "--quarter", "2026Q4", "--budget", "3",
                     "-o", str(out), *FAST]) == 0
        text = html_module.unescape((out / f"2026Q4-{kind}.html").read_text(encoding="utf-8"))
        assert "No tornado: every estimate is a single number, so no assumption can swing the plan's value." in text
        assert re.search(r'<tbody class="gt_table_body">\s*</tbody>', text) is None  # no header-only table
        assert "Every estimate is a single number, so nothing was tested" in text  # the brief's sensitivity line
        if kind == "quarterly":
            assert "No risk–value frontier: every estimate is a single number" in text
            # ranking, intervals, value, budget sweep and the three roadmap charts: no frontier, no tornado
            assert text.count("<svg") == 7
        else:
            assert "No Sobol indices: every estimate is a single number" in text
            assert "No value of information: every estimate is a single number" in text

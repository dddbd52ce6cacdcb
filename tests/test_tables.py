"""The shared table style and the analysis tables for readers (views/table_style.py, views/tables.py,
views/analysis_tables.py, views/explain.py): human titles, formatted cells, names not ids, units,
escaping, alignment, self-contained HTML, and a sentence when there is nothing to show."""

from __future__ import annotations

import dataclasses
import html
import re

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench import pipeline
from workbench.settings import Settings
from workbench.views import analysis_tables as at
from workbench.views.format import input_label
from workbench.views.tables import plan_frame, plan_html, ranking_frame, ranking_html, ranking_table, table_html

from conftest import initiative, portfolio

NAMES = {"a": "Alpha", "b": "Beta <b>", "c": "Gamma", "d": "Delta", "e": "Epsilon"}
UNIT = "value points"
SIX_DECIMALS = re.compile(r"\d\.\d{4,}")


def rows(frame: pd.DataFrame) -> list[list[str]]:
    return frame.astype(str).to_numpy().tolist()


def cells_by_column(page: str) -> dict[str, set[str]]:
    """Alignment classes of the body cells, by the column id their `headers` attribute names."""
    out: dict[str, set[str]] = {}
    for headers, cls in re.findall(r'<td[^>]*headers="([^"]+)"[^>]*class="gt_row ([^"]+)"', page):
        out.setdefault(headers, set()).add(cls)
    return out


# --- analysis tables on hand-made frames: exact text ---------------------------------------------------


def test_tornado_table_names_inputs_formats_values_and_gives_units():
    frame = pd.DataFrame({"input": ["a.reach", "b.confidence"], "low": [800.0, 0.5], "high": [1500.0, 0.9],
                          "value_low": [9000.0, 9500.4], "value_high": [12000.0, 10100.0], "swing": [3000.0, 599.6]})
    t = at.tornado_table(frame, NAMES, UNIT)
    assert list(t.columns) == ["Assumption", "If low (p10)", "If high (p90)", "Plan value at low (value points)",
                               "Plan value at high (value points)", "Swing (value points)"]
    assert rows(t) == [["Alpha — reach", "800", "1,500", "9,000", "12,000", "3,000"],
                       ["Beta <b> — confidence", "50%", "90%", "9,500", "10,100", "600"]]
    assert t.attrs["numeric"] == tuple(t.columns[1:])
    assert list(t.index) == [0, 1]


def test_switch_table_says_what_each_switch_point_means():
    frame = pd.DataFrame({
        "input": ["a.reach", "b.reach", "c.reach", "a.impact", "c.confidence"],
        "expected": [6607.3, 5494.0, 3662.8, 2.5, 0.6],
        "switch_value": [4279.0, -1778.8, np.nan, 4.0, 1.3],
        "direction": ["below", "below", "", "above", "above"],
        "within": [True, False, False, False, False],
        "note": ["a leaves the plan if it falls below 4,279", "never within p1–p99", "never: fixed by MoSCoW",
                 "never within p1–p99", "never within p1–p99"]})
    t = at.switch_table(frame, NAMES, UNIT)
    assert list(t.columns) == ["Assumption", "Expected", "Decision changes at", "What it means"]
    assert rows(t) == [
        ["Alpha — reach", "6,607", "4,279", "Alpha leaves the plan if its reach falls below 4,279."],
        ["Beta <b> — reach", "5,494", "never", "No reach value changes the decision: Beta <b> stays in the plan even "
                                               "at zero (the break-even point, -1,779, is below zero)."],
        ["Gamma — reach", "3,663", "never", "Never: its MoSCoW category (must-have or won't-have) fixes it in or out."],
        ["Alpha — impact", "2.5", "4", "Alpha enters the plan only if its impact rises above 4: outside its "
                                       "p1–p99 range, unlikely."],
        ["Gamma — confidence", "60%", "never", "No confidence value changes the decision: Gamma stays out even at "
                                               "100% (it would need 130%)."]]
    assert t.attrs["numeric"] == ("Expected", "Decision changes at")
    assert "(expected value, in value points)" in t.attrs["notes"][0]


def test_sobol_table_names_groups_readably_largest_first():
    frame = pd.DataFrame({"S1": [0.0456, 0.9234, 0.001], "S1_conf": [0.0229, 0.1664, 0.003],
                          "ST": [0.0491, 0.863, 0.0014], "ST_conf": [0.009, 0.0674, 0.0002]},
                         index=pd.Index(["d", "a+b+c", "b+e"], name="group"))
    t = at.sobol_table(frame, NAMES)
    assert list(t.columns) == ["Initiative or estimate", "Alone (S1)", "With interactions (ST)"]
    assert rows(t) == [["Alpha and 2 correlated initiatives", "0.92 ± 0.17", "0.86 ± 0.07"],
                       ["Delta", "0.05 ± 0.02", "0.05 ± 0.01"],
                       ["Beta <b> and Epsilon (correlated)", "0.00 ± 0.00", "0.00 ± 0.00"]]
    assert t.attrs["notes"] == ("Alpha and 2 correlated initiatives: Alpha, Beta <b>, Gamma (their estimates are "
                                "correlated, so they are analysed together).",)


def test_sobol_table_says_when_its_intervals_are_not_95_percent():
    frame = pd.DataFrame({"S1": [0.5], "S1_conf": [0.1], "ST": [0.5], "ST_conf": [0.1]}, index=["a.reach"])
    frame.attrs["confidence"] = 0.9
    t = at.sobol_table(frame, NAMES)
    assert rows(t) == [["Alpha — reach", "0.50 ± 0.10", "0.50 ± 0.10"]]
    assert t.attrs["notes"] == ("Here ± is a 90% bootstrap half-width.",)


def test_evppi_table_in_words_with_units():
    frame = pd.DataFrame({"id": ["a", "b"], "value": [2850.7, 0.0], "se": [181.4, 0.0], "p_change": [1.0, 0.0],
                          "correlated_with": ["b;c;d;e", ""]})
    t = at.evppi_table(frame, NAMES, UNIT)
    assert list(t.columns) == ["Initiative", "Worth researching (EVPPI, value points)",
                               "Chance the answer changes the plan", "Also informs (correlated)"]
    assert t.attrs["notes"] == ()
    assert rows(t) == [["Alpha", "2,851 ± 356", "100%", "Beta <b>, Gamma and 2 more"],
                       ["Beta <b>", "0 ± 0", "0%", ""]]
    assert at.evpi_text({"value": 15254.8, "se": 290.9}, UNIT) == (
        "Perfect information on every estimate would add at most 15,255 ± 570 value points to the plan (EVPI).")


def test_sweep_table_shows_budgets_values_and_plan_changes():
    frame = pd.DataFrame({
        "budget": [20.0, 24.000000001, 28.0], "status": ["optimal", "optimal", "infeasible"],
        "expected_value": [25231.0, 28252.4, np.nan], "expected_value_se": [138.27, 282.0, np.nan],
        "marginal_value": [np.nan, 755.37, np.nan], "marginal_value_se": [np.nan, 58.81, np.nan],
        "p10": [17226.05, 16204.8, np.nan], "p90": [32867.7, 43476.0, np.nan],
        "selected": [["a", "b"], ["a", "c"], []]})
    t = at.sweep_table(frame, UNIT, names=NAMES, current=24.0)
    assert list(t.columns) == ["Budget (person-months)", "Expected value (value points)", "p10 – p90 (value points)",
                               "One more person-month adds (value points)", "Plan change"]
    assert rows(t) == [["20", "25,231 ± 271", "17,226 – 32,868", "–", ""],
                       ["24", "28,252 ± 553", "16,205 – 43,476", "755 ± 115", "+ Gamma; − Beta <b>"],
                       ["28", "–", "–", "–", "no plan fits (the must-haves do not fit)"]]
    assert t.attrs["highlight"] == (1,)


# --- the table style -----------------------------------------------------------------------------------


def test_table_html_escapes_every_piece_of_user_text():
    frame = pd.DataFrame({"Initiative <i>": ["<b>x</b> & =1+1"], "Value": ["1"]})
    page = table_html(frame, numeric=("Value",), caption="<script>cap</script>", notes=("a <note> & more",))
    assert "&lt;b&gt;x&lt;/b&gt; &amp; =1+1" in page and "<b>x</b>" not in page
    assert "Initiative &lt;i&gt;" in page and "<i>" not in page
    assert "&lt;script&gt;cap&lt;/script&gt;" in page and "<script" not in page
    assert "a &lt;note&gt; &amp; more" in page


def test_table_html_aligns_numbers_right_and_names_left():
    frame = pd.DataFrame({"Initiative": ["AI assistant that drafts invoices from emails", "Short"],
                          "Team": ["Data", "Growth"], "Value (value points)": ["1,234 ± 5", "2"]})
    page = table_html(frame, numeric=("Value (value points)",))
    table_id = re.search(r'<div id="([^"]+)"', page).group(1)
    assert cells_by_column(page) == {f"{table_id}-Initiative": {"gt_left"}, f"{table_id}-Team": {"gt_left"},
                                     f"{table_id}-Value-value-points": {"gt_right"}}
    assert re.search(r'<th class="[^"]*gt_right"[^>]*>Value \(value points\)</th>', page)
    assert f"#{table_id} .gt_right {{ text-align: right; font-variant-numeric: tabular-nums; }}" in page
    # a long name wraps but keeps a name's width; a short text column never wraps
    assert page.count('style="white-space: normal; min-width: 14em;"') == 2
    assert page.count('style="white-space: nowrap;"') == 2
    assert f"#{table_id} td.gt_right {{ white-space: nowrap; }}" in page


def test_table_html_is_self_contained_scoped_and_prints_rows_whole():
    page = table_html(pd.DataFrame({"A": ["x"], "B": ["1"]}), numeric=("B",), caption="Title", notes=("n",))
    for external in ("http:", "https:", "//fonts", "@import", "url("):
        assert external not in page
    table_id = re.search(r'<div id="([^"]+)"', page).group(1)
    css = re.search(r"<style>(.*)</style>", page, re.S).group(1)
    css = re.sub(r"@media print \{(.*)\}\s*\}", "", css)  # the print rule is checked below
    selectors = [s.strip() for rule in css.split("}") if "{" in rule for s in rule.split("{")[0].split(",")]
    assert selectors and all(s.startswith(f"#{table_id}") for s in selectors), [
        s for s in selectors if not s.startswith(f"#{table_id}")]
    assert f"#{table_id} tr {{ break-inside: avoid; page-break-inside: avoid; }}" in page
    assert f"@media print {{ #{table_id} {{ overflow: visible !important; }} }}" in page
    assert ">Title</td>" in page and ">n</span>" in page


def test_table_html_never_shows_the_index_and_marks_highlighted_rows():
    frame = pd.DataFrame({"Initiative": ["Alpha", "Beta"], "Value": ["1", "2"]},
                         index=pd.Index(["secret-id-1", "secret-id-2"], name="id"))
    page = table_html(frame, numeric=("Value",), highlight=[1])
    assert "secret-id" not in page and ">id<" not in page
    body = page.split('<tbody class="gt_table_body">')[1]
    assert body.count("<tr") == 2 and body.count('<tr class="wb-changed">') == 1
    assert body.index('<tr class="wb-changed">') > body.index(">Alpha<")
    assert body.count("background-color: #fff3cd") == 2  # both cells of the marked row


def test_table_html_reads_hints_from_the_frame_and_rejects_unknown_columns():
    t = at.sweep_table(pd.DataFrame({"budget": [10.0], "status": ["optimal"], "expected_value": [5.0],
                                     "expected_value_se": [0.0], "marginal_value": [np.nan],
                                     "marginal_value_se": [np.nan], "p10": [5.0], "p90": [5.0],
                                     "selected": [["a"]]}), UNIT, current=10)
    page = table_html(t, notes=("extra",))
    assert "gt_right" in page and '<tr class="wb-changed">' in page
    assert page.index("Every budget is planned on the same scenarios") < page.index(">extra<")
    with pytest.raises(ValueError, match="numeric names columns the table does not have"):
        table_html(pd.DataFrame({"A": ["1"]}), numeric=("B",))


def test_table_html_writes_stray_raw_values_for_people():
    page = table_html(pd.DataFrame({"A": [None, float("nan"), True], "B": [1234.56789, 2.0, np.int64(3)]}))
    assert re.findall(r'class="gt_row gt_left">([^<]*)<', page) == ["–", "1,235", "–", "2", "yes", "3"]


def test_table_html_is_the_same_for_the_same_table():
    frame = pd.DataFrame({"A": ["x"], "B": ["1"]})
    assert table_html(frame, numeric=("B",)) == table_html(frame.copy(), numeric=("B",))
    assert re.search(r'id="(wb-t\w+)"', table_html(frame)).group(1) != re.search(
        r'id="(wb-t\w+)"', table_html(frame.assign(B=["2"]))).group(1)


# --- plain words -----------------------------------------------------------------------------------


def test_explain_covers_every_topic_in_at_most_two_sentences():
    for topic in at.TOPICS:
        text = at.explain(topic)
        sentences = re.split(r"(?<=[.])\s+(?=[A-Z'])", text)
        assert text.endswith(".") and 1 <= len(sentences) <= 2, (topic, sentences)
    assert at.explain("ranking", k=5).startswith("P(top 5) is the chance that an initiative ranks among the 5 best")
    assert at.explain("cvar", alpha=0.05, unit="euros").startswith(
        "CVaR 5% is the plan's average value in its worst 5% of simulated futures, in euros")
    with pytest.raises(ValueError, match="unknown topic 'foo'; expected one of ranking, plan, frontier, cvar"):
        at.explain("foo")
    assert at.explain_html("evpi").startswith('<div class="wb-howto" style=')
    assert at.explain("evpi") == ("EVPI is the most the plan's expected value could gain from knowing every estimate "
                                  "exactly before deciding, so the most any research could be worth. If it is small "
                                  "next to the plan's value, decide now.")


def test_nothing_to_show_sentences():
    assert at.nothing_to_show("tornado", "no_ranges") == (
        "No tornado: every estimate is a single number, so no assumption can swing the plan's value. "
        "Give ranges (e.g. reach 800..1500) to see which estimates matter.")
    assert at.nothing_to_show("frontier", "no_ranges") == (
        "No risk–value frontier: every estimate is a single number, so every plan has one certain value and no "
        "bad case to trade against it. Give ranges (e.g. reach 800..1500) to see plans that trade expected value "
        "for a safer bad case.")
    assert at.nothing_to_show("sobol", "no_plan") == (
        "No Sobol indices: no plan fits the budget and the constraints. Raise the budget or relax a constraint.")
    assert at.nothing_to_show("evppi", "nothing_funded") == (
        "No value of information: the plan funds nothing, so there is nothing to analyse. Raise the budget.")
    assert at.nothing_to_show("switch", "no_ranges_funded").startswith(
        "No switch points: every estimate of the funded initiatives is a single number")
    with pytest.raises(ValueError, match="unknown reason 'x'"):
        at.nothing_to_show("tornado", "x")
    with pytest.raises(ValueError, match="unknown analysis 'pie'"):
        at.nothing_to_show("pie", "no_ranges")


# --- on a real outcome -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    """The demo portfolio's plan at budget 40 with its sweep, tornado, switch points and Sobol indices."""
    outcome = workbench.run(workbench.demo_portfolio(), Settings(budget=40, samples=2000, scenarios=200))
    report = pipeline.analyses(outcome, budget_sweep=True, tornado=True, sobol=True)
    return outcome, report, dict(zip(outcome.portfolio.ids, outcome.portfolio.names))


@pytest.fixture(scope="module")
def demo_voi():
    """The value of information on the demo's first 16 initiatives (with their correlations): few
    enough to enumerate the plans (on all 31 it takes MILPs, ~20 s)."""
    full = workbench.demo_portfolio()
    keep = full.initiatives[:16]
    ids = {i.id for i in keep}
    small = dataclasses.replace(full, initiatives=keep, correlations=tuple(
        c for c in full.correlations if c.a[0] in ids and c.b[0] in ids))
    outcome = workbench.run(small, Settings(budget=25, samples=2000, scenarios=200))
    report = pipeline.analyses(outcome, voi=True)
    return outcome, report, dict(zip(outcome.portfolio.ids, outcome.portfolio.names))


def no_raw_values(frame: pd.DataFrame) -> None:
    text = frame.astype(str).to_numpy().ravel().tolist()
    assert all(isinstance(v, str) for v in frame.to_numpy().ravel())
    assert not [v for v in text if SIX_DECIMALS.search(v) or v in ("True", "False", "nan", "None")]


def test_demo_tornado_and_switch_points_read_in_names(demo):
    outcome, report, names = demo
    t = at.tornado_table(report.tornado, names, UNIT)
    assert t["Assumption"].tolist() == [input_label(i, names) for i in report.tornado["input"]]
    assert t["Assumption"].iloc[0] == "AI assistant that drafts invoices from emails — reach"
    assert not any(i in " ".join(t["Assumption"]) for i in ("ai-assistant", "card-payments"))
    no_raw_values(t)
    s = at.switch_table(report.switch_points, names, UNIT)
    no_raw_values(s)
    assert "Card payments on invoices — reach" in s["Assumption"].tolist()  # a must-have: never switches
    assert s.set_index("Assumption").loc["Card payments on invoices — reach", "Decision changes at"] == "never"
    assert all(m.split(" ")[0] in ("Never:", "No") or any(m.startswith(n) for n in names.values())
               for m in s["What it means"])


def test_demo_sobol_groups_are_named_not_joined_ids(demo):
    outcome, report, names = demo
    assert report.sobol.attrs["confidence"] == 0.95  # *_conf are 95% half-widths already
    t = at.sobol_table(report.sobol, names)
    no_raw_values(t)
    labels = t["Initiative or estimate"].tolist()
    assert not any("+" in x for x in labels)
    assert labels[0] == "Guided onboarding checklist and 7 correlated initiatives"
    assert "Card payments on invoices and ACH direct debit (correlated)" in labels
    assert all(re.fullmatch(r"-?\d\.\d\d ± \d\.\d\d", v) for v in t["Alone (S1)"].tolist() + t.iloc[:, 2].tolist())
    assert t.attrs["notes"][0].startswith("Guided onboarding checklist and 7 correlated initiatives: Guided "
                                          "onboarding checklist, 14-day free trial without a card,")


def test_demo_value_of_information(demo_voi):
    outcome, report, names = demo_voi
    e = at.evppi_table(report.evppi, names, UNIT)
    no_raw_values(e)
    assert set(e["Initiative"]) == set(names.values()) and len(e) == 16
    assert all(re.fullmatch(r"\d+%", v) for v in e["Chance the answer changes the plan"])
    assert all(re.fullmatch(r"-?[\d,.]+ ± [\d,.]+", v) for v in e["Worth researching (EVPPI, value points)"])
    negative = (report.evppi["value"] < 0).any()
    assert ("A figure below zero is estimation noise: that information is worth little or nothing."
            in e.attrs["notes"]) == negative
    informs = e.set_index("Initiative")["Also informs (correlated)"]
    assert informs["SAML single sign-on for enterprise plans"] == "SCIM user provisioning"
    for what in ("evpi", "evppi"):
        view = at.analysis_view(what, report, outcome, rows=10)
        assert view.startswith('<div class="wb-howto"') and ("<table" in view) == (what == "evppi"), what
    assert "The first 10 of 16 rows." in at.analysis_view("evppi", report, outcome, rows=10)
    assert re.search(r"<p>Perfect information on every estimate would add at most [\d,]+ ± [\d,.]+ value points "
                     r"to the plan \(EVPI\)\.</p>", at.analysis_view("evpi", report, outcome))


def test_demo_sweep(demo):
    outcome, report, names = demo
    w = at.sweep_table(report.budget_sweep, UNIT, names=names, current=40)
    no_raw_values(w)
    assert w.iloc[list(w.attrs["highlight"]), 0].tolist() == ["40"]
    assert not any(i in " ".join(w["Plan change"]) for i in outcome.portfolio.ids if "-" in i)


def test_demo_analysis_views_explain_and_show_tables(demo):
    outcome, report, names = demo
    for what in ("tornado", "switch", "sobol", "sweep"):
        view = at.analysis_view(what, report, outcome, rows=10)
        assert view.startswith('<div class="wb-howto"') and "<table" in view, what
    assert "The first 10 of 14 rows." in at.analysis_view("tornado", report, outcome, rows=10)
    assert at.analysis_view("evppi", report, outcome) == ""  # not run
    assert at.analysis_view("tornado", report.__class__(report.plan), outcome) == ""  # not run


def test_ranking_and_plan_for_readers(demo):
    outcome, _, names = demo
    frame = ranking_frame(outcome.result, 5)
    assert list(frame.columns) == ["Initiative", "Rank", "P(top 5)", "Score p10 – p90", "Mean score",
                                   "Classic RICE", "Expected rank"]
    assert frame["Initiative"].tolist() == ranking_table(outcome.result, 5)["initiative"].tolist()
    page = ranking_html(outcome.result, 5, caption="Ranking")
    assert ">id<" not in page and ">sso-saml<" not in page and ">SCIM user provisioning<" in page
    assert "A shared rank such as" in page
    plan = plan_frame(outcome.plan, UNIT)
    assert list(plan.columns) == ["Initiative", "Team", "MoSCoW", "Budget (person-months)",
                                  "Expected value (value points)", "Share of value", "Chance it delivers"]
    assert all(re.fullmatch(r"\d+%", v) for v in plan["Chance it delivers"])
    page = plan_html(outcome.plan, UNIT)
    ids = cells_by_column(page)
    assert {k.split("-", 2)[-1]: v for k, v in ids.items()}["Expected-value-value-points"] == {"gt_right"}
    assert ">Card payments on invoices<" in page and ">card-payments<" not in page


# --- nothing to show ------------------------------------------------------------------------------


def test_single_numbers_say_why_there_is_no_tornado_sobol_frontier_or_voi():
    p = portfolio(initiative("a", reach="1000", effort="2", name="Alpha"), initiative("b", reach="500", effort="1"),
                  initiative("c", reach="300", effort="3"))
    outcome = workbench.run(p, Settings(budget=3, samples=500, scenarios=100))
    assert at.empty_reason(outcome) == "no_ranges"
    report = pipeline.analyses(outcome, tornado=True, voi=True)
    assert report.tornado.empty and report.switch_points.empty
    sentence = at.nothing_to_show("tornado", "no_ranges")
    assert at.analysis_view("tornado", report, outcome) == (
        f'<p class="wb-nothing" style="{at.NOTHING_STYLE}">{html.escape(sentence)}</p>')
    for what in ("switch", "evpi", "evppi"):
        view = at.analysis_view(what, report, outcome)
        assert view == at.nothing_html(what, "no_ranges") and "<table" not in view
    with pytest.raises(ValueError, match="no uncertain input"):  # Sobol has nothing to split: callers say so
        pipeline.analyses(outcome, sobol=True)
    front = pipeline.frontier(outcome)  # one dot, and no range to trade: the no-ranges sentence, not a chart
    assert len(front.plans) == 1 and at.frontier_sentence(outcome, front) == at.nothing_to_show("frontier", "no_ranges")
    assert at.tornado_table(report.tornado, {}, UNIT).columns[0] == "Assumption"  # header only, never shown


def test_empty_reason_without_a_plan_or_with_nothing_funded():
    p = portfolio(initiative("a", reach="100..200", effort="5", moscow="must"))
    outcome = workbench.run(p, Settings(budget=3, samples=500, scenarios=100))
    assert outcome.plan is None and at.empty_reason(outcome) == "no_plan"


# --- in a browser, inside a report's page ---------------------------------------------------------------

_CELLS = """() => [...document.querySelectorAll('td.gt_row')].map(td => {
  const cs = getComputedStyle(td), r = td.getBoundingClientRect();
  return {text: td.innerText, cls: td.className, align: cs.textAlign, ws: cs.whiteSpace, width: r.width,
          height: r.height, font: parseFloat(cs.fontSize), bg: cs.backgroundColor,
          marked: td.parentElement.classList.contains('wb-changed')};
})"""


def _lab_css() -> str:
    """The CSS an nbconvert "lab" report (our HTML reports) puts around every output."""
    import os

    from jupyter_core.paths import jupyter_path

    found = [p for d in jupyter_path() if os.path.exists(p := os.path.join(d, "nbconvert", "templates", "lab",
                                                                           "static", "index.css"))]
    assert found, "nbconvert's lab template CSS not found"
    with open(found[0], encoding="utf-8") as f:
        return f.read()


def test_tables_keep_their_style_inside_a_report_page_and_print(browser, tmp_path):
    from browser import ARTIFACTS, open_offline

    tornado = pd.DataFrame({"input": ["a.reach", "b.confidence", "c.impact"], "low": [800.0, 0.5, 1.0],
                            "high": [1500.0, 0.9, 3.0], "value_low": [9000.0, 9500.4, 9900.0],
                            "value_high": [12000.0, 10100.0, 10400.0], "swing": [3000.0, 599.6, 500.0]})
    names = {"a": "AI assistant that drafts invoices from emails", "b": "Guided onboarding checklist",
             "c": "Data warehouse sync (Snowflake, BigQuery)"}
    shown = table_html(at.tornado_table(tornado, names, UNIT), caption="What moves the plan's value", highlight=[1])
    page = tmp_path / "tables.html"
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'><style>{_lab_css()}</style></head><body>"
                    "<div class='jp-RenderedHTMLCommon jp-OutputArea-output' style='width: 640px'>"
                    f"{shown}</div><table border='1' id='plain'><tr><td>another table</td></tr></table>"
                    "</body></html>", encoding="utf-8")
    report = open_offline(browser, page, ARTIFACTS / "test_tables-lab.png", pdf_path=ARTIFACTS / "test_tables.pdf")
    assert report.external_requests == [] and report.console_errors == [] and report.pdf_pages == 1
    context = browser.new_context(viewport={"width": 900, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(page.as_uri())
        cells = tab.evaluate(_CELLS)
        plain_border = tab.evaluate("() => getComputedStyle(document.querySelector('#plain td')).borderTopStyle")
    finally:
        context.close()
    assert len(cells) == 3 * 6
    for c in cells:
        assert c["font"] == 13, c
        assert c["bg"] == ("rgb(255, 243, 205)" if c["marked"] else "rgba(0, 0, 0, 0)"), c  # no zebra, marked row
        if "gt_right" in c["cls"]:
            assert c["align"] == "right" and c["ws"] == "nowrap", c
        else:  # names: left, at least 14em wide, never a column of words
            assert c["align"] == "left" and c["width"] >= 14 * 13, c
            assert c["height"] < 3 * 13 * 1.3 + 8, c  # two lines at most here
    assert plain_border == "inset"  # the page's other tables keep their own style

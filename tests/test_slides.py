"""`workbench report quarterly --format pptx`: the brief and the main charts as a 16:9 deck (deliverable 7)."""

from __future__ import annotations

import io
import sys

import pytest
from pptx import Presentation
from pptx.util import Emu, Pt

import workbench
from workbench import pipeline
from workbench.cli import build_parser, main
from workbench.settings import Settings
from workbench.views.analysis_tables import empty_reason, frontier_sentence
from workbench.views.format import half_width, pm

UNIT = "$k ARR"
ARGS = ["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "--samples", "2000",
        "--scenarios", "100", "--value-unit", UNIT, "--format", "pptx"]


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    out = tmp_path_factory.mktemp("deck")
    capture = pytest.MonkeyPatch()  # capsys is per test; the deck is built once for the module
    stdout = io.StringIO()
    capture.setattr(sys, "stdout", stdout)
    try:
        code = main([*ARGS, "-o", str(out)])
    finally:
        capture.undo()
    return code, stdout.getvalue(), out


def _texts(slide) -> list[str]:
    """Every text on a slide: text boxes and table cells."""
    out = []
    for shape in slide.shapes:
        if shape.has_text_frame and shape.text_frame.text:  # not the title slide's accent bar
            out.append(shape.text_frame.text)
        if shape.has_table:
            out += [cell.text for row in shape.table.rows for cell in row.cells]
    return out


def _expected():
    """The same settings through the public pipeline, independently of the deck."""
    return workbench.run(workbench.demo_portfolio(), Settings(budget=40, samples=2000, scenarios=100, value_unit=UNIT))


def test_the_cli_writes_one_deck_beside_the_reports(deck):
    code, stdout, out = deck
    assert code == 0
    assert stdout == f"{out / '2026Q4-quarterly.pptx'}\n"
    assert sorted(p.name for p in out.iterdir()) == ["2026Q4-quarterly.pptx"]  # written atomically: no scratch


def _plan_slides(slides) -> list:
    return [s for s in slides if s.shapes.title is not None and s.shapes.title.text.startswith("The recommended plan")]


def test_the_deck_is_16_9_with_its_slides_in_order(deck):
    prs = Presentation(str(deck[2] / "2026Q4-quarterly.pptx"))
    assert (prs.slide_width, prs.slide_height) == (Emu(12_192_000), Emu(6_858_000))  # 13.333 x 7.5 in
    slides = list(prs.slides)
    outcome = _expected()
    n = len(outcome.plan.selected)
    tables = -(-n // 13)  # at most 13 plan rows a slide
    # title, brief, plan table(s), P(top k), value, frontier, sweep, tornado, assumptions
    assert len(slides) == 8 + tables and len(_plan_slides(slides)) == tables
    assert _texts(slides[0])[0] == "Quarterly portfolio review 2026Q4"
    assert _texts(slides[0])[1].startswith("demo_portfolio.yaml: 31 initiatives\nBudget 40 person-months · values in "
                                           "$k ARR\n")
    titles = [s.shapes.title.text for s in slides[1:2] + slides[1 + tables:]]
    m = outcome.plan.metrics()
    value = pm(m["expected_value"], half_width(m["expected_value_se"]))
    assert titles[0] == f"Fund {n} of the 31 initiatives in demo_portfolio.yaml, within the budget of 40 person-months."
    assert _plan_slides(slides)[0].shapes.title.text == f"The recommended plan: {n} initiatives, {value} $k ARR expected"
    top = outcome.result.summary(5)["name"].iloc[0]
    assert titles[2].startswith(f"{top} is the surest bet: in the top 5 with probability 0.")
    assert titles[3].startswith(f"The plan is worth {value} $k ARR on average; 80% of outcomes fall between ")
    assert "plan" in titles[4]  # the frontier's takeaway
    assert titles[5].startswith("At 40 person-months one more person-month adds about ") and "$k ARR" in titles[5]
    assert titles[6].startswith("AI assistant that drafts invoices from emails — reach moves the plan's value most: by ")
    assert titles[6].endswith("$k ARR from its p10 to its p90")
    assert titles[7] == "What the plan assumes"


def test_the_brief_and_the_funded_names_are_on_the_slides(deck):
    prs = Presentation(str(deck[2] / "2026Q4-quarterly.pptx"))
    slides = list(prs.slides)
    outcome = _expected()
    brief_text = "\n".join(_texts(slides[1]))
    assert "Value: Expected value " in brief_text and " $k ARR; in 80% of scenarios between " in brief_text
    assert "Delivery risk: The funded work needs more effort than the budget (40 person-months) with probability" \
        in brief_text
    assert "Sensitivity: The assumption that matters most is AI assistant that drafts invoices from emails — reach" \
        in brief_text
    assert "± is a 95% Monte Carlo half-width." in brief_text
    names = []
    for slide in _plan_slides(slides):
        table = next(s for s in slide.shapes if s.has_table).table
        header = [c.text for c in table.rows[0].cells]
        assert header[0] == "Initiative" and "Expected value ($k ARR)" in header and "Budget (person-months)" in header
        names += [row.cells[0].text for row in list(table.rows)[1:]]
    by_id = dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    assert names == [by_id[i] for i in outcome.plan.to_frame().index]  # every funded name in full
    assumptions = "\n".join(_texts(slides[-1]))
    assert "• Budget: 40 person-months, of which the plan uses" in assumptions
    assert "• Against your current plan (6 initiatives): +" in assumptions


def test_charts_are_pictures_and_text_is_readable(deck):
    prs = Presentation(str(deck[2] / "2026Q4-quarterly.pptx"))
    pictures = [sh for s in prs.slides for sh in s.shapes if sh.shape_type == 13]
    assert len(pictures) == 5
    for pic in pictures:
        assert pic.image.content_type == "image/png" and pic.image.size[0] > 600
        assert pic.left + pic.width <= prs.slide_width and pic.top + pic.height <= prs.slide_height
    sizes = [run.font.size for s in prs.slides for sh in s.shapes if sh.has_text_frame
             for p in sh.text_frame.paragraphs for run in p.runs]
    sizes += [run.font.size for s in prs.slides for sh in s.shapes if sh.has_table
              for row in sh.table.rows for c in row.cells for p in c.text_frame.paragraphs for run in p.runs]
    assert sizes and all(size is not None and size >= Pt(14) for size in sizes)
    for s in [s for s in prs.slides if any(sh.shape_type == 13 for sh in s.shapes)]:  # each chart explains itself
        assert any(t.startswith("How to read this. ") for t in _texts(s))


def test_default_format_stays_html_and_bad_input_exits_2(tmp_path, capsys):
    assert build_parser().parse_args(["report", "quarterly", "--demo", "--quarter", "Q"]).report_format == "html"
    assert main(["report", "sensitivity", "--demo", "--quarter", "Q", "--budget", "40", "--format", "pptx",
                 "-o", str(tmp_path)]) == 2
    assert "--format pptx makes the quarterly deck; the sensitivity report is HTML only" in capsys.readouterr().err
    assert main(["report", "quarterly", "--demo", "--quarter", "Q", "--budget", "4000%", "--format", "pptx",
                 "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "budget: expected an amount such as 40 or 1.5k, not a percentage ('4000%')\n"
    assert list(tmp_path.iterdir()) == []


def test_a_portfolio_of_single_numbers_gets_sentences_not_empty_charts(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("id,name,reach,impact,confidence,effort\na,Alpha,1000,1,100%,2\nb,Beta,500,2,100%,1\n"
                    "c,Gamma,400,1,100%,1\nd,Delta,300,1,100%,1\n", encoding="utf-8")
    out = tmp_path / "decks"
    assert main(["report", "quarterly", "--portfolio", str(path), "--quarter", "Q1", "--budget", "3",
                 "--samples", "500", "--scenarios", "50", "--format", "pptx", "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"{out / 'Q1-quarterly.pptx'}\n"
    slides = list(Presentation(str(out / "Q1-quarterly.pptx")).slides)
    text = "\n".join(t for s in slides for t in _texts(s))
    assert "No risk–value frontier: every estimate is a single number" in text
    assert "No tornado: every estimate is a single number" in text
    assert "Every estimate is a single number, so nothing was tested" in text  # the brief's sensitivity line
    pictures = [sh for s in slides for sh in s.shapes if sh.shape_type == 13]
    assert len(pictures) == 3  # P(top k), the plan's value, the budget sweep: no empty frontier or tornado
    assert slides[3].shapes.title.text.startswith("All 4 initiatives are in the top ")  # k covers everyone: no bet


def test_one_plan_best_on_both_axes_is_said_to_leave_no_trade_off(tmp_path, capsys):
    path = tmp_path / "ranges.csv"  # Alpha and Beta alike: tied for the surest bet; the budget funds all three
    path.write_text("id,name,reach,impact,confidence,effort\na,Alpha,900..1100,1,100%,1\nb,Beta,900..1100,1,100%,1\n"
                    "c,Gamma,100..200,1,100%,1\n", encoding="utf-8")
    assert main(["report", "quarterly", "--portfolio", str(path), "--quarter", "Q1", "--budget", "5", "--top-k", "1",
                 "--samples", "500", "--scenarios", "50", "--format", "pptx", "-o", str(tmp_path)]) == 0
    capsys.readouterr()
    slides = list(Presentation(str(tmp_path / "Q1-quarterly.pptx")).slides)
    outcome = workbench.run(workbench.load_portfolio(path), Settings(budget=5, top_k=1, samples=500, scenarios=50))
    front = pipeline.frontier(outcome)
    sentence = ("No risk–value frontier: one plan has both the most expected value and the best bad case (CVaR 10%), "
                "so at this budget there is no trade-off between value and downside to choose.")
    assert empty_reason(outcome) is None and len(front.plans) == 1 and frontier_sentence(outcome, front) == sentence
    text = "\n".join(t for s in slides for t in _texts(s))
    assert sentence in text and "single number" not in text
    assert ("Alpha and Beta are statistically tied for the surest bet: the simulation cannot tell which is likeliest "
            "to be in the top 1") in [s.shapes.title.text for s in slides if s.shapes.title is not None]

"""The session snapshot: one static, offline HTML page of the dashboard's state (deliverable 6)."""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import replace

import pytest

import workbench
from workbench import pipeline
from workbench.interactive.session import ScenarioBook
from workbench.interactive.snapshot import settings_frame, snapshot_html, write_snapshot
from workbench.settings import Settings

from browser import open_offline

HOSTILE = "<img src=x onerror=alert(1)>"
TAKEN = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)
SETTINGS = Settings(budget=40, samples=2000, scenarios=200)


def _portfolio():
    """The demo with a funded initiative named like markup."""
    demo = workbench.demo_portfolio()
    return demo.with_initiatives(replace(i, name=HOSTILE) if i.id == "pricing-page" else i for i in demo)


@pytest.fixture(scope="module")
def session():
    outcome = workbench.run(_portfolio(), SETTINGS)
    front, swept = pipeline.frontier(outcome), pipeline.sweep(outcome)
    report = pipeline.analyses(outcome, tornado=True)
    return outcome, front, swept, report


@pytest.fixture(scope="module")
def page(session, tmp_path_factory):
    outcome, front, swept, report = session
    path = tmp_path_factory.mktemp("snap") / "session.html"
    assert write_snapshot(path, outcome, frontier=front, sweep=swept, analyses=report, taken=TAKEN) == path
    return path


_URL_REFERENCE = re.compile(r"""(?:src|href|xlink:href|action|srcset)\s*=\s*["']?\s*(?:https?:)?//|@import|"""
                            r"""url\(\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_the_page_refers_to_nothing_outside_itself(page):
    text = page.read_text(encoding="utf-8")
    assert _URL_REFERENCE.findall(text) == []
    assert "<script" not in text.lower() and "<link" not in text.lower() and "<iframe" not in text.lower()
    # The only URLs are the SVG namespaces of the inline charts.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert text.count("<svg") >= 6  # P(top k), score intervals, value histogram, frontier, sweep, tornado
    titles = set(re.findall(r"<text[^>]*>([^<]*)</text>", text))  # the charts' axis titles carry their units
    assert {"plan value (value points)", "expected value (value points)", "budget (person-months)"} <= titles


def test_user_text_stays_text(page, session):
    text = page.read_text(encoding="utf-8")
    assert HOSTILE not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert re.search(r"<img\b", text) is None


def test_the_page_states_the_settings_and_the_plan(page, session):
    outcome = session[0]
    text = page.read_text(encoding="utf-8")
    assert "<title>Strategy session: demo_portfolio.yaml</title>" in text
    assert "31 initiatives · budget 40 person-months · values in value points · snapshot taken 2026-11-30 17:00 UTC" \
        in text
    for heading in ("Settings", "Ranking", "Recommended plan", "Frontier and budget", "Sensitivity"):
        assert f"<h2>{heading}</h2>" in text
    assert text.count("How to read this.") >= 7
    assert "AI assistant that drafts invoices from emails — reach" in text  # inputs by name, not id
    visible = re.sub(r"<svg.*?</svg>", "", text, flags=re.S)  # charts keep ids in their tooltips' aria text
    assert "ai-assistant.reach" not in visible
    assert "Executive brief" in text and "Delivery risk" in text
    names = dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    for id_ in outcome.plan.selected:
        assert html.escape(names[id_]) in text


def test_settings_name_edits_and_overrides():
    outcome = workbench.run(workbench.demo_portfolio(), SETTINGS.change(
        edits=(("ai-assistant", "reach", "3000..9000"),), overrides=(("sso-saml", "out"),),
        capacities={"Growth": 12}, value_unit="$k ARR"))
    rows = dict(zip(*settings_frame(outcome).T.values))
    assert rows["Budget"] == "40 person-months"
    assert rows["Team capacities"] == "Growth: 12 person-months"
    assert rows["Objective"] == "the highest expected value (in $k ARR)"
    assert rows["Seed"] == "2026" and rows["Samples"] == "2,000 evaluation draws"
    assert rows["Efforts planned at"] == "their 50th percentile"
    ordinal = dict(zip(*settings_frame(workbench.run(workbench.demo_portfolio(), SETTINGS.change(
        effort_quantile=0.33, samples=200, scenarios=20))).T.values))["Efforts planned at"]
    assert ordinal == "their 33rd percentile"  # not "33th"
    assert rows["Edit"] == "AI assistant that drafts invoices from emails — reach: 3000..9000"
    assert rows["Override"] == "SAML single sign-on for enterprise plans: never funded (as a won't-have)"
    page = snapshot_html(outcome, taken=TAKEN)
    assert "values in $k ARR" in page and "Expected value ($k ARR)" in page
    assert "Frontier and budget" not in page and "Sensitivity</h2>" not in page  # not given, not shown


def test_views_of_earlier_settings_are_left_out_saying_so(session):
    outcome, front, _, report = session
    later = workbench.run(_portfolio(), SETTINGS.change(budget=30))
    page = snapshot_html(later, frontier=front, analyses=report, taken=TAKEN)
    assert "The frontier the session held was for earlier settings, so it is left out." in page
    assert "The analyses the session held were for earlier settings, so they are left out." in page
    assert page.count("<svg") == 3  # ranking (2) and the plan's value only


def test_a_scenario_comparison_is_shown_with_names_escaped():
    engine = pipeline.LiveEngine(workbench.demo_portfolio())
    book = ScenarioBook(engine)
    book.save("<b>base</b>", SETTINGS)
    book.save("lean", SETTINGS.change(budget=30))
    outcome = engine.run(SETTINGS)
    page = snapshot_html(outcome, comparison=book.compare("<b>base</b>", "lean"), taken=TAKEN)
    assert "<h2>Compare scenarios</h2>" in page
    assert "&lt;b&gt;base&lt;/b&gt;" in page and "<b>base</b>" not in page


def test_the_snapshot_opens_offline_in_chromium(browser, page, session, tmp_path):
    outcome = session[0]
    shown = open_offline(browser, page, screenshot=tmp_path / "snapshot.png")
    assert shown.ok, (shown.external_requests, shown.console_errors, shown.failed_requests)
    assert len(shown.svg_sizes) >= 6 and all(w > 100 and h > 100 for w, h in shown.svg_sizes)
    names = dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    for id_ in outcome.plan.selected:  # every funded initiative by name, the hostile one as text
        assert names[id_] in shown.text
    assert HOSTILE in shown.text
    assert "ai-assistant.reach" not in shown.text and "AI assistant that drafts invoices from emails — reach" in shown.text
    assert "Budget\t40 person-months" in shown.text
    assert f"Fund {len(outcome.plan.selected)} of the 31 initiatives" in shown.text
    assert shown.screenshot.stat().st_size > 50_000


def test_without_a_plan_the_page_says_why():
    outcome = workbench.run(workbench.demo_portfolio(), SETTINGS.change(budget=2))  # the must-haves do not fit
    assert outcome.plan is None
    page = snapshot_html(outcome, taken=TAKEN)
    assert '<p class="warn">No plan: ' in page and "Executive brief" not in page
    assert page.count("<svg") == 2  # the ranking still shows

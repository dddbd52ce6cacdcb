"""The roadmap's charts and tables: their data are the roadmap's (recomputed here by brute force from
the start quarters, durations and the simulated draws), every mark has tooltips, user text stays text."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import workbench
from workbench.reports.sections import over_capacity_html
from workbench.views import roadmap_charts as rc
from workbench.views import roadmap_tables as rt
from workbench.views.charts import to_svg
from workbench.views.explain import TOPICS, explain
from workbench.views.format import half_width, pm

from conftest import initiative, portfolio

CAPACITY = {"Platform": 8, "Payments": 8, "Growth": 6, "Data": 6, "Mobile": 4}
DEMO = dict(capacities=CAPACITY, quarters="2027Q1:2027Q4", samples=2000, scenarios=150, seed=11, value_unit="$ ARR")
UNIT = "$ ARR × quarters"


@pytest.fixture(scope="module")
def result():
    return workbench.roadmap(workbench.demo_portfolio(), **DEMO)


@pytest.fixture(scope="module")
def slipping():
    """Two initiatives with wide efforts over two quarters and no tail: in 9 of 10 scenarios Late is
    delivered only after the simulated quarters, Mid two quarters after the horizon."""
    p = portfolio(initiative("x", reach="300", effort="1..400", team="A", name="Late"),
                  initiative("w", reach="100", effort="1..60", team="B", name="Mid"))
    return workbench.roadmap(p, capacities={"A": 20, "B": 10}, quarters="2027Q1:2027Q2", tail_quarters=0,
                             samples=500, scenarios=50, seed=1)


@pytest.fixture(scope="module")
def tagged():
    """Names with markup, on two teams; the second is too big for the horizon."""
    p = portfolio(initiative("x", reach="300", effort="2", team="A", name="<b>bold</b> & co"),
                  initiative("y", reach="200", effort="1..4", team="A", name="<script>alert(1)</script>"),
                  initiative("z", reach="100", effort="40", team="B", name="<i>huge</i>"))
    return workbench.roadmap(p, capacities={"A": 2, "B": 2}, quarters="2027Q1:2027Q2", samples=500,
                             scenarios=50, seed=1)


def leaves(spec: dict, data=None, datasets=None) -> list[dict]:
    """Every leaf layer of a (faceted, layered) spec with its data and filters resolved."""
    datasets = spec.get("datasets", datasets or {})
    data = spec.get("data", data)
    if "spec" in spec:
        return leaves(spec["spec"], data, datasets)
    if "layer" in spec:
        return [leaf for sub in spec["layer"] for leaf in leaves(sub, data, datasets)]
    values = data["values"] if "values" in data else datasets[data["name"]]
    mark = spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]
    return [{"mark": mark, "encoding": spec["encoding"], "values": values, "transform": spec.get("transform", [])}]


def kept(leaf: dict) -> list[dict]:
    """A leaf's rows after its `datum.layer == "..."` filter, if it has one."""
    rows = leaf["values"]
    for t in leaf["transform"]:
        m = re.fullmatch(r"\(datum\.layer === '(\w+)'\)", str(t.get("filter", "")))
        if m:
            rows = [r for r in rows if r["layer"] == m.group(1)]
    return rows


def in_roadmap(result) -> list[int]:
    return [i for i in range(len(result.problem)) if result.roadmap.start[i] >= 0]


def expected_rings(result) -> dict[str, str]:
    """Brute force: id -> the quarter of its ring, for the initiatives whose 9-in-10 delivery
    quarter is later than planned; past the simulated quarters, the last quarter drawn."""
    p, r = result.problem, result.roadmap
    q90 = {i: int(np.sort(r.delivery.quarter[:, i])[int(np.ceil(0.9 * result.samples)) - 1])
           for i in in_roadmap(result)}
    late = {i: q for i, q in q90.items() if q > r.planned_delivery()[i]}
    last = max([p.horizon - 1, *(q for q in late.values() if q < r.delivery.end)])
    return {p.ids[i]: p.label(q if q < r.delivery.end else last) for i, q in late.items()}


def test_gantt_has_a_cell_per_quarter_each_initiative_runs(result):
    chart = rc.gantt_chart(result)
    spec = chart.to_dict()
    assert spec["facet"]["row"]["field"] == "team"
    runs, rings = leaves(spec)
    assert (runs["mark"], rings["mark"]) == ("rect", "point")
    assert all(leaf["encoding"].get("tooltip") for leaf in (runs, rings))
    p, r = result.problem, result.roadmap
    cells = sorted((row["id"], row["quarter"]) for row in kept(runs))
    expected = sorted((p.ids[i], p.label(k)) for i in in_roadmap(result)
                      for k in range(r.start[i], r.start[i] + p.duration[i]))
    assert cells == expected
    # shaded by the chance of landing on time, on a 0-1 scale; quarters in time order
    assert runs["encoding"]["color"]["field"] == "p_on_time"
    assert runs["encoding"]["color"]["scale"]["domain"] == [0, 1]
    on_time = (r.delivery.quarter <= r.planned_delivery()[None, :]).mean(axis=0)
    for row in kept(runs):
        assert row["p_on_time"] == pytest.approx(on_time[p.ids.index(row["id"])])
    order = runs["encoding"]["x"]["sort"]
    assert order[:4] == ["2027Q1", "2027Q2", "2027Q3", "2027Q4"] and runs["encoding"]["x"]["type"] == "ordinal"
    # rings: the quarter reached in 9 of 10 scenarios, only where later than planned
    late = expected_rings(result)
    assert late and {row["id"]: row["quarter"] for row in kept(rings)} == late
    tips = {t["field"] for t in runs["encoding"]["tooltip"]}
    assert {"name", "team", "start_quarter", "delivery_quarter", "p_text", "p50_text", "p90_text"} <= tips
    assert all(" ± " in row["p_text"] or row["p_text"].startswith(("0 (", "1 (")) for row in kept(runs))


def test_value_fan_is_the_cumulative_value_earned(result):
    chart = rc.value_fan_chart(result)
    layers = leaves(chart.to_dict())
    assert all(leaf["encoding"].get("tooltip") for leaf in layers)
    band, median, planned = layers[:3]
    assert (band["mark"], median["mark"], planned["mark"]) == ("area", "line", "line")
    assert band["encoding"]["y"]["title"] == "cumulative value earned ($ ARR × quarters)"
    d = result.roadmap.delivery
    cum = np.cumsum(d.earned(), axis=1)
    rows = band["values"]
    assert len(rows) == result.problem.horizon + result.problem.tail
    assert [row["p10"] for row in rows] == pytest.approx(np.quantile(cum, 0.1, axis=0))
    assert [row["p90"] for row in rows] == pytest.approx(np.quantile(cum, 0.9, axis=0))
    assert [row["p50"] for row in rows] == pytest.approx(np.quantile(cum, 0.5, axis=0))
    # the cumulative value as planned ends at the roadmap's expected value; slips only lower it
    assert rows[-1]["planned"] == pytest.approx(result.roadmap.expected_value)
    assert rows[-1]["mean"] == pytest.approx(result.roadmap.delivered_value)
    assert all(row["mean"] <= row["planned"] + 1e-9 for row in rows)
    se = cum[:, -1].std(ddof=1) / np.sqrt(cum.shape[0])
    assert rows[-1]["mean_text"] == pm(cum[:, -1].mean(), half_width(se))


def test_team_load_is_the_planned_spend_against_capacity(result):
    chart = rc.team_load_chart(result)
    spec = chart.to_dict()
    assert spec["facet"]["field"] == "team"
    bars, ticks = leaves(spec)
    assert (bars["mark"], ticks["mark"]) == ("bar", "tick")
    assert all(leaf["encoding"].get("tooltip") for leaf in (bars, ticks))
    p, r = result.problem, result.roadmap
    load = {}
    for i in in_roadmap(result):  # brute force: each quarter an initiative runs, its spend E / d
        for k in range(r.start[i], r.start[i] + p.duration[i]):
            key = (p.portfolio.initiatives[i].team, p.label(k))
            load[key] = load.get(key, 0.0) + p.effort[i] / p.duration[i]
    for row in bars["values"]:
        assert row["planned_load"] == pytest.approx(load.get((row["team"], row["quarter"]), 0.0))
        assert row["capacity"] == CAPACITY[row["team"]]
        over = r.delivery.over[:, p.teams.index(row["team"]), p.labels.index(row["quarter"])].mean()
        assert row["p_over_capacity"] == pytest.approx(over)
    assert len(bars["values"]) == len(CAPACITY) * 4
    assert ticks["encoding"]["y"]["field"] == "capacity"
    assert {"team", "quarter", "load_text", "capacity_text", "p_text"} <= {
        t["field"] for t in bars["encoding"]["tooltip"]}


def test_charts_render_offline_with_markup_as_text(result, tagged):
    for make in (rc.gantt_chart, rc.value_fan_chart, rc.team_load_chart):
        svg = to_svg(make(result))
        assert svg.startswith("<svg")
    svg = to_svg(rc.gantt_chart(tagged))
    assert "<b>" not in svg and "&lt;b&gt;bold&lt;/b&gt;" in svg


def test_html_tables_escape_names(tagged):
    html = rt.roadmap_html(tagged, caption="<i>Roadmap</i>")
    assert "<b>bold" not in html and "<script>" not in html and "<i>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "&lt;script&gt;" in html
    assert "Not in the roadmap (1): z." in html  # too big for two quarters at 2 person-months
    team = rt.team_load_html(tagged)
    assert "Capacity (person-months)" in team and "<script>" not in team


def test_roadmap_table_rows_follow_the_start_quarters(result):
    frame = rt.roadmap_frame(result)
    p, r = result.problem, result.roadmap
    chosen = in_roadmap(result)
    assert len(frame) == len(chosen)
    assert list(frame["Starts"]) == sorted(frame["Starts"])  # by start quarter
    names = {p.portfolio.initiatives[i].name: i for i in chosen}
    for row in frame.itertuples(index=False):
        i = names[row[0]]
        assert row[2] == p.label(r.start[i]) and row[3] == p.label(r.start[i] + p.duration[i] - 1)
    html = rt.roadmap_html(result)
    body = html.split('<tbody class="gt_table_body">', 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == len(chosen)
    assert "Chance it lands by its planned quarter" in html and "$ ARR a quarter" in html


def test_team_load_html_marks_the_quarters_at_risk(result):
    html = rt.team_load_html(result)
    risky = (result.roadmap.delivery.over.mean(axis=0) >= 0.05).sum()
    assert html.count('class="wb-changed"') == risky


def test_text_lists_the_quarters_at_risk_and_says_plus_minus(result):
    text = rt.roadmap_text(result)
    r = result.roadmap
    assert f"{pm(r.expected_value, half_width(r.expected_value_se))} $ ARR × quarters" in text
    assert f"lost to slips: {pm(r.lost_to_slips, half_width(r.lost_to_slips_se))} $ ARR × quarters" in text
    over = result.roadmap.delivery.over.mean(axis=0)
    p = result.problem
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Team quarters with more work"))
    table = [line.split() for line in lines[start + 4:] if line.strip()][:int((over >= 0.05).sum())]
    assert sorted((t[0], t[1]) for t in table) == sorted(
        (p.teams[g], p.label(k)) for g, k in zip(*np.nonzero(over >= 0.05)))
    for id_ in [p.ids[i] for i in range(len(p)) if r.start[i] < 0]:
        assert id_ in text.split("Not in the roadmap", 1)[1].splitlines()[0]


def test_sentence_counts_in_plain_words(result):
    sentence = rt.roadmap_sentence(result)
    r = result.roadmap
    chosen = in_roadmap(result)
    on_time = (r.delivery.quarter <= r.planned_delivery()[None, :]).mean(axis=0)[chosen]
    assert f"starts {len(chosen)} of {len(result.problem)} initiatives" in sentence
    assert f"{(on_time >= 0.9).sum()} of the {len(chosen)} land by their planned quarter" in sentence
    worst = result.problem.portfolio.initiatives[chosen[int(np.argmin(on_time))]].name
    assert (worst in sentence) == (on_time.min() < 0.9)
    assert "$ ARR × quarters" in sentence and " ± " in sentence


def test_a_delivery_past_the_simulation_is_ringed_at_the_right_edge(slipping):
    runs, rings = leaves(rc.gantt_chart(slipping).to_dict())
    r = slipping.roadmap
    assert (r.start >= 0).all() and r.delivery.delivery_percentile(0.9)[0] >= r.delivery.end  # the case
    expected = expected_rings(slipping)
    assert {row["id"]: row["quarter"] for row in kept(rings)} == expected == {"x": "2028Q1", "w": "2028Q1"}
    assert runs["encoding"]["x"]["sort"] == ["2027Q1", "2027Q2", "2027Q3", "2027Q4", "2028Q1"]
    tips = {row["id"]: row["p90_text"] for row in kept(rings)}
    after = slipping.problem.label(r.delivery.end - 1)
    assert tips == {"x": f"in 9 of 10 scenarios: after {after}", "w": "in 9 of 10 scenarios by 2028Q1"}
    assert "by after" not in str(rc.gantt_chart(slipping).to_dict())


def test_text_names_the_roadmaps_in_sentences_with_units(result):
    text = rt.roadmap_text(result)
    r, greedy = result.roadmap, result.others["greedy"]
    diff = r.planned_values - greedy.planned_values  # paired on the same draws
    ahead = pm(abs(diff.mean()), half_width(diff.std(ddof=1) / math.sqrt(diff.size)))
    assert "optimal roadmap for 2027Q1–2027Q4 (4 quarters, value counted for 4 quarters after the horizon); solver "\
           "optimal" in text
    assert (f"Against the greedy-by-RICE roadmap (with slips {pm(greedy.delivered_value, half_width(greedy.delivered_value_se))}"
            f" {UNIT}): the optimal roadmap is worth {ahead} {UNIT} {'more' if diff.mean() >= 0 else 'less'} as planned"
            ) in text
    for wrong in ("The your", "The the", "Against optimal", "Against greedy", "tail quarters", "by after", "CVaR"):
        assert wrong not in text


def test_the_greedy_roadmap_shown_is_ranked_by_rice_and_compared_with_the_optimal():
    shown = workbench.roadmap(workbench.demo_portfolio(), roadmap="greedy", **DEMO)
    text = rt.roadmap_text(shown)
    assert "greedy-by-RICE roadmap for 2027Q1–2027Q4" in text and "; ranked by RICE; seed 11." in text
    assert "Against the optimal roadmap (" in text and "): the greedy-by-RICE roadmap is worth " in text
    assert rt.roadmap_sentence(shown).startswith("The greedy-by-RICE roadmap for 2027Q1–2027Q4 starts ")


def test_your_roadmap_is_said_without_an_article():
    p = portfolio(initiative("a", reach="300", effort="2", team="T", planned_quarter="2027Q2"),
                  initiative("b", reach="200", effort="2", team="T", planned_quarter="2027Q1"))
    yours = workbench.roadmap(p, capacities={"T": 2}, quarters="2027Q1:2027Q2", roadmap="yours", samples=500,
                              scenarios=50, seed=1)
    text = rt.roadmap_text(yours)
    assert "your roadmap for 2027Q1–2027Q2" in text and "; your own start quarters, not optimized;" in text
    assert "Against the optimal roadmap (" in text and "): your roadmap is worth " in text
    assert rt.roadmap_sentence(yours).startswith("Your roadmap for 2027Q1–2027Q2 starts 2 of 2 initiatives")
    assert "The your" not in text + rt.roadmap_sentence(yours)


def test_a_cvar_objective_is_named_and_each_roadmap_shows_its_worst_tail():
    shown = workbench.roadmap(workbench.demo_portfolio(), objective="cvar", **DEMO)
    text = rt.roadmap_text(shown)
    r, greedy = shown.roadmap, shown.others["greedy"]
    worst = 2000 // 10  # the worst 10% of 2,000 draws: exactly 200 of them

    def tail(values):
        return np.sort(values)[:worst].mean()

    assert r.cvar == pytest.approx(tail(r.planned_values))
    assert "), best for the worst 10% of scenarios (CVaR); solver" in text
    assert f"Average of the worst 10% of scenarios (CVaR), as planned: {pm(r.cvar, half_width(r.cvar_se))} {UNIT}." in text
    gain = tail(r.planned_values) - tail(greedy.planned_values)
    se = math.hypot(r.cvar_se, greedy.cvar_se)
    assert (f"average of the worst 10% of scenarios as planned {pm(greedy.cvar, half_width(greedy.cvar_se))} {UNIT})"
            in text)
    assert (f"its average of the worst 10% of scenarios is {pm(abs(gain), half_width(se))} {UNIT} "
            f"{'higher' if gain >= 0 else 'lower'}") in text
    assert f"(in the worst 10% of scenarios it averages {pm(r.cvar, half_width(r.cvar_se))} {UNIT})" in \
        rt.roadmap_sentence(shown)


def test_slack_advice_gives_the_share_lost_with_its_error():
    shown = workbench.roadmap(workbench.demo_portfolio(), effort_quantile=0.3, **DEMO)
    r = shown.roadmap
    lost = r.planned_values - r.delivered_values
    share = lost.mean() / r.planned_values.mean()
    se = lost.std(ddof=1) / math.sqrt(lost.size) / r.planned_values.mean()
    assert share >= rt.SLACK_SHARE  # the case: planned at the 30th percentile, overruns cost much
    assert rt.slack_advice(shown) == [
        f"Overruns cost {share:.1%} ± {100 * half_width(se):.2g}% of the planned value: the optimal roadmap is planned with "
        "efforts at their 30th percentile; planning at the 80th (--effort-quantile 0.8) leaves slack for them."]


def test_a_certain_overrun_is_bounded_by_the_rule_of_three():
    teams = pd.DataFrame({"team": ["all teams (budget)"], "quarter": ["2027Q1"], "capacity": [10.0],
                          "planned_load": [10.0], "p_over_capacity": [1.0], "p_over_capacity_se": [0.0]})
    stub = SimpleNamespace(teams_frame=lambda: teams, samples=2000)
    assert "all teams (budget) in 2027Q1: 1 (above 0.9985)." in over_capacity_html(stub)


def test_how_to_read_the_roadmap_views_fits_any_roadmap():
    assert {"roadmap", "team_load", "value_fan"} <= set(TOPICS)
    assert f"in {UNIT}: the dashed line as planned" in explain("value_fan", unit=UNIT)
    for topic in ("roadmap", "team_load", "value_fan"):
        assert "roadmap shown" in explain(topic) and "most value" not in explain(topic)


def test_rows_and_record_are_the_json(result):
    record = result.to_dict()
    rows = rt.roadmap_rows(result)
    assert isinstance(rows, pd.DataFrame) and len(rows) == len(result.problem)
    assert list(rows.columns) == list(record["initiatives"][0])
    assert list(rows["id"]) == result.problem.ids

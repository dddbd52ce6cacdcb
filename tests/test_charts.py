"""Charts of plans, the frontier and sensitivity: the specs carry the inputs, and render offline to safe SVG."""

from __future__ import annotations

import re

import altair as alt
import numpy as np
import pytest

import workbench
from workbench import sensitivity
from workbench.planning.frontier import frontier_of
from workbench.views import charts
from workbench.views.format import pm

BUDGETS = [1, 10, 20, 40, 60]


@pytest.fixture(scope="module")
def plan():
    return workbench.optimize(workbench.demo_portfolio(), budget=40, scenarios=300, seed=1)


@pytest.fixture(scope="module")
def frontier(plan):
    return frontier_of(plan.problem, plan.scenarios, max_solves=6)


@pytest.fixture(scope="module")
def sweep(plan):
    return sensitivity.budget_sweep(plan.problem, plan.scenarios, BUDGETS)


def layers(spec: dict, datasets: dict, data=None) -> list[dict]:
    """Every leaf layer of a spec as {mark, encoding, values}, with the data it inherits resolved."""
    data = spec.get("data", data)
    if "layer" in spec:
        return [leaf for sub in spec["layer"] for leaf in layers(sub, datasets, data)]
    values = data["values"] if "values" in data else datasets[data["name"]]
    mark = spec["mark"]["type"] if isinstance(spec["mark"], dict) else spec["mark"]
    return [{"mark": mark, "encoding": spec["encoding"], "values": values}]


def leaves(chart) -> list[dict]:
    spec = chart.to_dict()
    return layers(spec, spec.get("datasets", {}))


def assert_tooltips(leafs):
    for leaf in leafs:
        assert leaf["encoding"].get("tooltip"), f"{leaf['mark']} layer has no tooltip"


def test_plan_value_distribution(plan):
    leafs = leaves(charts.plan_value_distribution(plan, bins=25))
    assert_tooltips(leafs)
    bars = next(l for l in leafs if l["mark"] == "bar")["values"]
    assert len(bars) == 25 and sum(b["scenarios"] for b in bars) == plan.value.size
    assert bars[0]["start"] == pytest.approx(plan.value.min()) and bars[-1]["end"] == pytest.approx(plan.value.max())
    rules = {r["statistic"]: r["value"] for r in next(l for l in leafs if l["mark"] == "rule")["values"]}
    p10, _, p90 = plan.quantiles()
    assert rules == pytest.approx({"expected value": plan.expected_value, "p10": p10, "p90": p90,
                                   "CVaR 10%": plan.cvar})
    # Named with their values in the legend above the plot: no label on the plot crosses a rule.
    assert [l["mark"] for l in leafs] == ["bar", "rule"]
    rule = leafs[1]
    assert rule["encoding"]["color"]["field"] == "label" and rule["encoding"]["color"]["legend"]["orient"] == "top"
    assert {v["label"] for v in rule["values"]} == {f"{v['statistic']} {v['value']:,.0f}" for v in rule["values"]}
    assert any(v["label"].startswith("CVaR 10% ") for v in rule["values"])
    assert leafs[0]["encoding"]["x"]["title"] == "plan value"
    unit = leaves(charts.plan_value_distribution(plan, unit="$ ARR"))[0]["encoding"]["x"]["title"]
    assert unit == "plan value ($ ARR)"
    # every statistic's tooltip carries its 95% half-width (1.96 standard errors)
    rows = {r["statistic"]: r for r in next(l for l in leafs if l["mark"] == "rule")["values"]}
    assert {"statistic", "value_text"} <= {t["field"] for t in leafs[1]["encoding"]["tooltip"]}
    half = 1.959964 * plan.cvar_se
    assert rows["CVaR 10%"]["value_text"] == pm(plan.cvar, half) and half > 0
    assert all(" ± " in r["value_text"] for r in rows.values())


def test_efficient_frontier_marks_a_chosen_plan_on_the_frontier(plan, frontier):
    leafs = leaves(charts.efficient_frontier(frontier, chosen=plan))
    assert_tooltips(leafs)
    line = next(l for l in leafs if l["mark"] == "line")
    assert [v["expected_value"] for v in line["values"]] == pytest.approx([p.expected_value for p in frontier.plans])
    assert [v["cvar"] for v in line["values"]] == pytest.approx([p.cvar for p in frontier.plans])
    assert [v["count"] for v in line["values"]] == [int(p.funded.sum()) for p in frontier.plans]
    assert line["encoding"]["order"]["field"] == "step"
    tips = {t["field"] for t in line["encoding"]["tooltip"]}
    assert {"count", "ids", "ev_text", "cvar_text"} <= tips  # expected value and CVaR, each ± its error
    assert [v["cvar_text"] for v in line["values"]] == [pm(p.cvar, 1.959964 * p.cvar_se) for p in frontier.plans]
    for v, p in zip(line["values"], frontier.plans):  # ids are shortened for the tooltip, with a count
        assert len(v["ids"]) <= 100 and v["ids"].startswith(p.selected[0])
        assert v["ids"].endswith(f"(+{len(p.selected) - v['ids'].count(',')} more)")
    diamond = next(l for l in leafs if l["mark"] == "point" and l["values"][0].get("label") == "recommended")
    (row,) = diamond["values"]
    assert row["expected_value"] == pytest.approx(plan.expected_value) and row["on_frontier"] is True


def test_efficient_frontier_marks_a_chosen_plan_off_the_frontier(plan, frontier):
    assert not any(np.array_equal(p.funded, plan.greedy.funded) for p in frontier.plans)
    leafs = leaves(charts.efficient_frontier(frontier, chosen=plan.greedy, chosen_label="greedy RICE"))
    marked = [l for l in leafs if l["values"] and l["values"][0].get("label") == "greedy RICE"]
    assert {l["mark"] for l in marked} == {"point", "text"}
    assert marked[0]["values"][0]["on_frontier"] is False
    assert marked[0]["values"][0]["cvar"] == pytest.approx(plan.greedy.cvar)
    assert len(leaves(charts.efficient_frontier(frontier))) == 2  # no chosen plan: line and points only


def test_frontier_plans_that_beat_the_chosen_plan_are_marked_and_say_so(plan, frontier):
    weak = plan.current  # the demo's current plan: far below the frontier on both axes
    beaters = frontier.beats(weak)
    assert beaters and all(p.expected_value > weak.expected_value and p.cvar > weak.cvar for p in beaters)
    leafs = leaves(charts.efficient_frontier(frontier, chosen=weak, chosen_label="current"))
    squares = next(l for l in leafs if l["mark"] == "point" and l["values"] and "note" in l["values"][0])
    assert len(squares["values"]) == len(beaters)
    assert {v["note"] for v in squares["values"]} == {"beats the recommended plan on both axes (evaluation draws)"}
    assert "note" in {t["field"] for t in squares["encoding"]["tooltip"]}
    # the recommended plan on its own frontier is beaten by none of the plans there: no squares
    top = max(frontier.plans, key=lambda p: p.expected_value)
    assert not frontier.beats(top)
    assert not any(l["values"] and "note" in l["values"][0] for l in leaves(charts.efficient_frontier(frontier, top)))


def test_budget_sweep_drops_infeasible_budgets(sweep):
    assert (sweep["status"] == "infeasible").any()  # the demo's must-haves do not fit the smallest budgets
    feasible = sweep[sweep["status"] != "infeasible"]
    leafs = leaves(charts.budget_sweep(sweep, current_budget=40))
    assert_tooltips(leafs)
    band = next(l for l in leafs if l["mark"] == "area")
    assert band["encoding"]["y"]["field"] == "p10" and band["encoding"]["y2"]["field"] == "p90"
    values = band["values"]
    assert [v["budget"] for v in values] == list(feasible["budget"])
    assert [v["expected_value"] for v in values] == pytest.approx(list(feasible["expected_value"]))
    assert [v["funded"] for v in values] == [len(s) for s in feasible["selected"]]
    tips = {t["field"] for t in band["encoding"]["tooltip"]}
    assert {"marginal_text", "funded", "ev_text", "p10_text", "p90_text"} <= tips  # figures ± their errors
    assert [v["ev_text"] for v in values] == [pm(e, 1.959964 * se) for e, se in
                                              zip(feasible["expected_value"], feasible["expected_value_se"])]
    rule = next(l for l in leafs if l["mark"] == "rule")
    assert rule["values"] == [{"budget": 40.0, "label": "current budget"}]
    assert not any(l["mark"] == "rule" for l in leaves(charts.budget_sweep(sweep)))


def test_tornado_orders_largest_swing_on_top(plan):
    frame = sensitivity.tornado(plan)
    shuffled = frame.sample(frac=1, random_state=3)
    leafs = leaves(charts.tornado(shuffled, base=plan.expected_value))
    assert_tooltips(leafs)
    bars = next(l for l in leafs if l["mark"] == "bar")
    order = list(frame.sort_values("swing", ascending=False, kind="stable")["input"])
    assert [v["input"] for v in bars["values"]] == order
    assert bars["encoding"]["y"]["field"] == "label" and bars["encoding"]["y"]["sort"] == [v["label"] for v in bars["values"]]
    assert bars["values"][0]["label"] == order[0].replace(".", " — ")  # no names given: the id and the factor
    assert bars["encoding"]["x"]["field"] == "value_low" and bars["encoding"]["x2"]["field"] == "value_high"
    by_input = {v["input"]: v for v in bars["values"]}
    row = frame.iloc[0]
    assert by_input[row["input"]]["value_low"] == pytest.approx(row["value_low"])
    assert by_input[row["input"]]["value_high"] == pytest.approx(row["value_high"])
    rule = next(l for l in leafs if l["mark"] == "rule")
    assert rule["values"][0]["value"] == pytest.approx(plan.expected_value)
    assert [l["mark"] for l in leaves(charts.tornado(frame))] == ["bar"]


def test_tornado_names_inputs_by_initiative_name_and_factor(plan):
    frame = sensitivity.tornado(plan)
    names = {i.id: i.name for i in plan.problem.portfolio}
    bars = leaves(charts.tornado(frame, names=names, unit="value points"))[0]
    top = frame.sort_values("swing", ascending=False, kind="stable").iloc[0]["input"]
    id_, _, factor = top.rpartition(".")
    assert bars["values"][0]["label"] == f"{names[id_]} — {factor}" and bars["values"][0]["input"] == top
    assert bars["encoding"]["x"]["title"] == "plan value (value points): input from its p10 to its p90"
    assert {"label", "input"} <= {t["field"] for t in bars["encoding"]["tooltip"]}


def test_names_on_the_ranking_charts_are_never_cut(plan):
    result = workbench.simulate(plan.problem.portfolio, samples=300, seed=1)
    for chart in (charts.top_k_probability(result, 5), charts.score_intervals(result, 5)):
        y = next(l for l in leaves(chart) if l["mark"] == "bar")["encoding"]["y"]
        assert y["axis"]["labelLimit"] == charts.NAME_LIMIT
    svg = charts.to_svg(charts.top_k_probability(result, 5))
    longest = max((i.name for i in plan.problem.portfolio), key=len)
    assert f">{longest}<" in svg and "…" not in svg


def assert_self_contained_svg(svg: str) -> None:
    assert svg.lstrip().startswith("<svg")
    width, height = (float(v) for v in re.search(r'<svg[^>]*\bwidth="([\d.]+)"[^>]*\bheight="([\d.]+)"', svg).groups())
    assert width > 0 and height > 0
    urls = set(re.findall(r"https?://[^\s\"'<>)]*", svg))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "@font-face" not in svg and "@import" not in svg


def test_every_chart_renders_to_self_contained_svg(plan, frontier, sweep):
    for chart in (charts.plan_value_distribution(plan), charts.efficient_frontier(frontier, plan.greedy),
                  charts.budget_sweep(sweep, 40), charts.tornado(sensitivity.tornado(plan), plan.expected_value)):
        assert_self_contained_svg(charts.to_svg(chart))


def test_svg_escapes_user_text_and_refuses_external_data(make_portfolio, make_initiative):
    evil = "<script>alert(1)</script>"
    result = workbench.simulate(make_portfolio(make_initiative("a", name=evil),
                                               make_initiative("b", name='"><b>bold</b>', reach="50")),
                                samples=200, seed=1)
    composed = charts.score_intervals(result, top_k=1) | charts.top_k_probability(result, top_k=1)
    svg = charts.to_svg(composed)
    assert_self_contained_svg(svg)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "<script" not in svg and "<b>" not in svg
    remote = alt.Chart(alt.UrlData("https://example.com/data.csv")).mark_point().encode(x="a:Q", tooltip="a:Q")
    with pytest.raises(ValueError, match="not allowed"):
        charts.to_svg(remote)

"""Altair charts of simulation results, plans, the frontier and sensitivity analyses.

Each function returns a chart the caller can compose; every mark has tooltips, and user text
(names, ids) enters as data, never as markup. `to_svg` renders any of them offline.

Sizes: each chart is about as wide as the text of an A4 or Letter page (`PRINT_WIDTH` CSS pixels
with its labels), so a report scales it to the full text width without changing its type size;
names on an axis are never cut (`NAME_LIMIT`).

Every text a chart carries passes `safe` first: vl-convert aborts the whole process (a report's
kernel, a notebook's) on a control character such as BEL or NUL in an SVG text, and the readers
refuse them, but a portfolio built in code or a label from elsewhere must never reach it with one.
"""

from __future__ import annotations

import re

import altair as alt
import numpy as np
import pandas as pd

from ..engine.results import SimulationResult, z95
from ..errors import replace_control_characters
from ..planning.frontier import Frontier
from ..planning.plans import Plan
from .format import half_width, input_label, pm


def safe(data):
    """`data` (a frame, a text, or a structure of them) with every control character replaced."""
    if isinstance(data, str):
        return replace_control_characters(data)
    if isinstance(data, pd.DataFrame):
        data = data.copy()
        for col in data.columns:
            if not pd.api.types.is_numeric_dtype(data[col]):  # text, objects, categories: per row, not per sample
                data[col] = data[col].map(lambda v: replace_control_characters(v) if isinstance(v, str) else v)
        return data.rename(columns=safe)
    if isinstance(data, dict):
        return {safe(k): safe(v) for k, v in data.items()}
    if isinstance(data, list):
        return [safe(v) for v in data]
    return data


PRINT_WIDTH = 680  # CSS px: A4's text width at 16 mm margins (178 mm), Letter's is wider
NAME_LIMIT = 330  # px of an axis label before it is cut with "…": the longest names fit whole
NAME_AXIS = alt.Axis(labelLimit=NAME_LIMIT)


def _frame(result: SimulationResult, top_k: int) -> pd.DataFrame:
    s = safe(result.summary(top_k).reset_index())
    half = z95(result.method, len(result.replicate_sizes)) * s["p_top_k_se"]
    return s.assign(lo=(s["p_top_k"] - half).clip(lower=0), hi=(s["p_top_k"] + half).clip(upper=1),
                    p_text=[f"{p:.3f} ± {h:.3f}" for p, h in zip(s["p_top_k"], half)])


def score_intervals(result: SimulationResult, top_k: int = 5) -> alt.Chart:
    """Each initiative's score: 80% interval (p10-p90) as a bar, median as a tick, mean as a dot."""
    data = _frame(result, top_k)
    order = list(data["name"])
    y = alt.Y("name:N", sort=order, title=None, axis=NAME_AXIS)
    tooltip = [alt.Tooltip("name:N", title="initiative"), alt.Tooltip("id:N"),
               alt.Tooltip("rice:Q", format=",.0f", title="classic RICE"),
               alt.Tooltip("mean:Q", format=",.0f"), alt.Tooltip("p10:Q", format=",.0f"),
               alt.Tooltip("p50:Q", format=",.0f"), alt.Tooltip("p90:Q", format=",.0f"),
               alt.Tooltip("p_text:N", title=f"P(top {top_k}) ±95%")]
    base = alt.Chart(data).encode(y=y, tooltip=tooltip)
    bars = base.mark_bar(height=10, opacity=0.45, color="#4c78a8").encode(
        x=alt.X("p10:Q", title="RICE score (bar: 80% interval, tick: median, dot: mean)"), x2="p90:Q")
    median = base.mark_tick(color="#1f3b63", thickness=2, size=14).encode(x="p50:Q")
    mean = base.mark_point(filled=True, color="#e45756", size=30).encode(x="mean:Q")
    return (bars + median + mean).properties(title="Score intervals", width=400, height=alt.Step(15))


def top_k_probability(result: SimulationResult, top_k: int = 5, select: alt.Parameter | None = None) -> alt.Chart:
    """P(rank <= k) per initiative with its 95% Monte Carlo error bar.

    select: a point selection on the `id` field (e.g. to pick an initiative by clicking its bar).
    """
    data = _frame(result, top_k)
    y = alt.Y("name:N", sort=list(data["name"]), title=None, axis=NAME_AXIS)
    tooltip = [alt.Tooltip("name:N", title="initiative"), alt.Tooltip("p_text:N", title=f"P(top {top_k}) ±95%"),
               alt.Tooltip("expected_rank:Q", format=".1f", title="expected rank")]
    bars = alt.Chart(data).mark_bar(color="#54a24b").encode(
        y=y, x=alt.X("p_top_k:Q", title=f"P(in top {top_k})", scale=alt.Scale(domain=[0, 1])), tooltip=tooltip)
    if select is not None:
        bars = bars.add_params(select).encode(opacity=alt.condition(select, alt.value(1.0), alt.value(0.45)))
    errors = alt.Chart(data).mark_rule(color="black").encode(y=y, x="lo:Q", x2="hi:Q", tooltip=tooltip)
    title = f"Probability of being in the top {top_k}"
    if top_k >= len(result.portfolio):  # a column of 1s would read as a finding
        title = alt.TitleParams(title, subtitle=f"every initiative is in the top {top_k} by construction "
                                                f"(k covers all {len(result.portfolio)})")
    return (bars + errors).properties(title=title, width=400, height=alt.Step(15))


# --- Plans, frontier and sensitivity ---------------------------------------------------------------

_BLUE, _DARK, _RED, _ORANGE = "#4c78a8", "#1f3b63", "#e45756", "#f58518"


def _ids_text(ids, limit: int = 6, width: int = 80) -> str:
    """A bounded list of initiative ids for a tooltip: the first few that fit, then how many more."""
    ids, shown = list(ids), []
    for id_ in ids:
        if len(shown) == limit or len(", ".join([*shown, id_])) > width:
            break
        shown.append(id_)
    if ids and not shown:
        shown = [ids[0][:width - 1] + "…"]
    rest = len(ids) - len(shown)
    return ", ".join(shown) + (f", … (+{rest} more)" if rest else "")


def plan_value_distribution(plan: Plan, bins: int = 40, unit: str | None = None) -> alt.LayerChart:
    """Histogram of the plan's value over its scenarios, with rules at the expected value, p10, p90
    and CVaR, named with their values in the legend above the plot (labels on the plot would cross
    the other rules). Scenarios are binned here, so the spec stays small. unit: the value unit,
    for the axis title."""
    counts, edges = np.histogram(plan.value, bins=bins)
    hist = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "scenarios": counts,
                         "share": counts / max(plan.value.size, 1)})
    p10, _, p90 = plan.quantiles()
    p10_se, _, p90_se = plan.quantiles_se()
    marks = pd.DataFrame({"statistic": ["expected value", "p10", "p90", f"CVaR {plan.alpha:.0%}"],
                          "value": [plan.expected_value, p10, p90, plan.cvar],
                          "error": [plan.expected_value_se, p10_se, p90_se, plan.cvar_se]})
    marks = marks.assign(value_text=[pm(v, half_width(e)) for v, e in zip(marks["value"], marks["error"])])
    marks = marks.sort_values("value", kind="stable").reset_index(drop=True)
    marks = marks.assign(label=[f"{s} {v:,.0f}" for s, v in zip(marks["statistic"], marks["value"])])
    title = f"plan value ({safe(unit)})" if unit else "plan value"
    bars = alt.Chart(hist).mark_bar(color=_BLUE, opacity=0.6).encode(
        x=alt.X("start:Q", title=title, scale=alt.Scale(zero=False)), x2="end:Q",
        y=alt.Y("scenarios:Q", title="scenarios"), y2=alt.datum(0),
        tooltip=[alt.Tooltip("start:Q", format=",.0f", title="from"), alt.Tooltip("end:Q", format=",.0f", title="to"),
                 alt.Tooltip("scenarios:Q"), alt.Tooltip("share:Q", format=".1%")])
    color = alt.Color("label:N", sort=list(marks["label"]), title=None,
                      scale=alt.Scale(domain=list(marks["label"]), range=[_RED, _DARK, "#54a24b", "#f58518"]),
                      legend=alt.Legend(orient="top", direction="horizontal", symbolType="stroke",
                                        symbolStrokeWidth=3, labelLimit=260))
    tooltip = [alt.Tooltip("statistic:N"), alt.Tooltip("value_text:N", title="value ± 95%")]
    rules = alt.Chart(marks).mark_rule(strokeWidth=2).encode(x="value:Q", color=color, tooltip=tooltip)
    where = "evaluation draws" if plan.scenarios.purpose == "evaluation" else "scenarios"
    return (bars + rules).properties(
        title=f"Plan value over {plan.value.size:,} {where}", width=PRINT_WIDTH - 80, height=220)


def _frontier_frame(plans, beating: set[bytes] = frozenset()) -> pd.DataFrame:
    rows = [{"step": k, "expected_value": p.expected_value, "cvar": p.cvar, "count": int(p.funded.sum()),
             "budget_used": p.cost, "ids": _ids_text(p.selected),
             "ev_text": pm(p.expected_value, half_width(p.expected_value_se)),
             "cvar_text": pm(p.cvar, half_width(p.cvar_se)),
             "beats": p.funded.tobytes() in beating} for k, p in enumerate(plans)]
    return safe(pd.DataFrame(rows, columns=["step", "expected_value", "cvar", "count", "budget_used", "ids",
                                             "ev_text", "cvar_text", "beats"]))


_BEATS = "beats the recommended plan on both axes (evaluation draws)"


def efficient_frontier(frontier: Frontier, chosen: Plan | None = None,
                       chosen_label: str = "recommended", *, unit: str | None = None) -> alt.LayerChart:
    """Expected value against CVaR of the frontier plans, connected from most risk-averse to most
    value-seeking, each ± its 95% error in the tooltip; `chosen` (e.g. the recommended plan) is
    drawn as a red diamond, on the frontier or not, and frontier plans that beat it on both axes
    on the evaluation draws (`Frontier.beats`) as orange squares that say so. unit: the value unit,
    for the axis titles."""
    beating = {p.funded.tobytes() for p in frontier.beats(chosen)} if chosen is not None else set()
    data = _frontier_frame(frontier.plans, beating)
    alpha = frontier.plans[0].alpha if frontier.plans else (chosen.alpha if chosen is not None else 0.1)
    in_unit = f" ({safe(unit)})" if unit else ""
    x = alt.X("cvar:Q", title=f"CVaR {alpha:.0%}{in_unit}: mean of the worst {alpha:.0%} of scenarios",
              scale=alt.Scale(zero=False))
    y = alt.Y("expected_value:Q", title=f"expected value{in_unit}", scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("ev_text:N", title="expected value ± 95%"), alt.Tooltip("cvar_text:N", title="CVaR ± 95%"),
               alt.Tooltip("count:Q", title="initiatives"),
               alt.Tooltip("budget_used:Q", format=",.1f", title="budget used"), alt.Tooltip("ids:N", title="funded")]
    base = alt.Chart(data).encode(x=x, y=y, tooltip=tooltip)
    chart = (base.mark_line(color=_BLUE).encode(order="step:Q")
             + base.mark_point(filled=True, color=_BLUE, size=50))
    if beating:
        beaters = data[data["beats"]].assign(note=_BEATS)
        chart = chart + alt.Chart(beaters).mark_point(shape="square", filled=True, color=_ORANGE, size=110).encode(
            x=x, y=y, tooltip=[alt.Tooltip("note:N", title="this plan"), *tooltip])
    if chosen is not None:
        on = any(np.array_equal(p.funded, chosen.funded) for p in frontier.plans)
        mark = _frontier_frame([chosen]).drop(columns="step").assign(label=safe(chosen_label), on_frontier=on)
        pick = alt.Chart(mark).encode(x=x, y=y, tooltip=[alt.Tooltip("label:N", title="plan"), *tooltip,
                                                         alt.Tooltip("on_frontier:N", title="on the frontier")])
        chart = (chart + pick.mark_point(shape="diamond", filled=True, color=_RED, size=160)
                 + pick.mark_text(align="left", dx=9, dy=-9, color=_RED).encode(text="label:N"))
    return chart.properties(title="Efficient frontier: expected value vs CVaR", width=PRINT_WIDTH - 80, height=280)


def budget_sweep(sweep: pd.DataFrame, current_budget: float | None = None, *, unit: str | None = None,
                 budget_unit: str | None = None) -> alt.LayerChart:
    """Expected value of the optimal plan per budget with its p10-p90 band; infeasible budgets are
    left out, and a rule marks `current_budget`. unit, budget_unit: for the axis titles."""
    ok = sweep[(sweep["status"] != "infeasible") & sweep["expected_value"].notna()]
    def text(figure: str) -> list[str]:  # the figure ± its 95% half-width, when the sweep has its error
        se = ok[f"{figure}_se"] if f"{figure}_se" in ok else [None] * len(ok)
        return [pm(v, None if e is None or np.isnan(e) else half_width(e)) for v, e in zip(ok[figure], se)]

    data = safe(pd.DataFrame({"budget": ok["budget"], "expected_value": ok["expected_value"], "p10": ok["p10"],
                         "p90": ok["p90"], "cvar": ok["cvar"], "marginal_value": ok["marginal_value"],
                         "ev_text": text("expected_value"), "p10_text": text("p10"), "p90_text": text("p90"),
                         "marginal_text": text("marginal_value"),
                         "funded": [len(s) for s in ok["selected"]], "status": ok["status"]})).reset_index(drop=True)
    x = alt.X("budget:Q", title=f"budget ({safe(budget_unit)})" if budget_unit else "budget")
    tooltip = [alt.Tooltip("budget:Q", format=",.4g"),
               alt.Tooltip("ev_text:N", title="expected value ± 95%"),
               alt.Tooltip("p10_text:N", title="p10 ± 95%"), alt.Tooltip("p90_text:N", title="p90 ± 95%"),
               alt.Tooltip("marginal_text:N", title="marginal value per unit ± 95%"),
               alt.Tooltip("funded:Q", title="initiatives funded"), alt.Tooltip("status:N")]
    base = alt.Chart(data).encode(x=x, tooltip=tooltip)
    chart = (base.mark_area(color=_BLUE, opacity=0.25).encode(y="p10:Q", y2="p90:Q")
             + base.mark_line(color=_DARK).encode(
                 y=alt.Y("expected_value:Q", title=f"plan value{f' ({safe(unit)})' if unit else ''}: "
                                                   "line mean, band p10–p90"))
             + base.mark_point(filled=True, color=_DARK, size=30).encode(y="expected_value:Q"))
    if current_budget is not None:
        now = pd.DataFrame({"budget": [float(current_budget)], "label": ["current budget"]})
        rule = alt.Chart(now).encode(x="budget:Q", tooltip=[alt.Tooltip("label:N", title="marker"),
                                                             alt.Tooltip("budget:Q", format=",.4g")])
        chart = (chart + rule.mark_rule(color=_RED, strokeDash=[4, 3])
                 + rule.mark_text(align="left", dx=4, y=6, color=_RED).encode(text="label:N"))
    return chart.properties(title="Value of the optimal plan by budget", width=PRINT_WIDTH - 80, height=230)


def tornado(frame: pd.DataFrame, base: float | None = None, *, names: dict[str, str] | None = None,
            unit: str | None = None) -> alt.LayerChart:
    """One bar per input from the plan's value with that input at its p10 to the value at its p90,
    largest swing on top; a rule at `base` (the value with every input at its median), if given.
    names: initiative ids to names, to label inputs "AI assistant — reach" (`format.input_label`)
    in a `label` field (ids stay in `input`); unit: the value unit, for the axis title."""
    data = frame.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    data = data[["input", "low", "high", "value_low", "value_high", "swing"]]
    labels = [input_label(i, names or {}) for i in data["input"]]
    labels = [f"{x} ({i})" if labels.count(x) > 1 else x for x, i in zip(labels, data["input"])]  # one bar each
    data = safe(data.assign(label=labels))
    y = alt.Y("label:N", sort=list(data["label"]), title=None, axis=NAME_AXIS)
    tooltip = [alt.Tooltip("label:N", title="input"), alt.Tooltip("input:N", title="id"),
               alt.Tooltip("low:Q", format=",.4g", title="input p10"),
               alt.Tooltip("high:Q", format=",.4g", title="input p90"),
               alt.Tooltip("value_low:Q", format=",.0f", title="value at p10"),
               alt.Tooltip("value_high:Q", format=",.0f", title="value at p90"), alt.Tooltip("swing:Q", format=",.0f")]
    chart = alt.Chart(data).mark_bar(color=_BLUE, height=12).encode(
        y=y, x=alt.X("value_low:Q", scale=alt.Scale(zero=False),
                     title=f"plan value{f' ({safe(unit)})' if unit else ''}: input from its p10 to its p90"),
        x2="value_high:Q", tooltip=tooltip)
    if base is not None:
        ref = pd.DataFrame({"value": [float(base)], "label": ["base (all inputs at median)"]})
        chart = chart + alt.Chart(ref).mark_rule(color=_RED).encode(
            x="value:Q", tooltip=[alt.Tooltip("label:N", title="marker"), alt.Tooltip("value:Q", format=",.0f")])
    return chart.properties(title="Tornado: one input at a time", width=400, height=alt.Step(15))


# --- Rendering ------------------------------------------------------------------------------------

_SVG_NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink")
_EXTERNAL = re.compile(r"https?://[^\s\"'<>)]*|@import|@font-face|url\(\s*['\"]?(?!#)", re.IGNORECASE)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as an inline SVG string, rendered offline by vl-convert for self-contained HTML.

    External data URLs are refused, and the result is checked to hold no external reference
    (no http(s) URL other than the SVG namespaces, no web font, no url() outside the document):
    text uses the viewer's local fonts. Text from the data is XML-escaped by the renderer.
    """
    import vl_convert as vlc

    version = alt.SCHEMA_VERSION.lstrip("v").rsplit(".", 1)[0]
    spec = safe(chart.to_dict())  # a chart made elsewhere gets the same guard
    svg = vlc.vegalite_to_svg(spec, vl_version=version if version in vlc.get_vegalite_versions() else None,
                              allowed_base_urls=[])
    external = [m for m in _EXTERNAL.findall(svg) if m not in _SVG_NAMESPACES]
    if external:
        raise ValueError(f"rendered SVG has external references: {', '.join(sorted(set(external)))[:200]}")
    return svg

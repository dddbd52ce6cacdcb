"""Altair charts of a roadmap across quarters (`workbench.roadmap`'s `RoadmapResult`).

- `gantt_chart`: one row per initiative in the roadmap, grouped by team, a cell in every quarter
  it runs, shaded by the chance it lands by its planned quarter; a ring marks the quarter by
  which it is delivered in 9 of 10 scenarios when that is later.
- `value_fan_chart`: cumulative value earned quarter by quarter, simulated (p10-p90 band, median
  line) against the value as planned (dashed).
- `team_load_chart`: each team's planned person-months per quarter against its capacity (a
  tick), shaded by the chance the team has more work due than capacity.

Quarters are an ordinal axis in time order (labels such as 2027Q1). Every mark has tooltips and
every "±" is a 95% Monte Carlo half-width; user text enters as data (`charts._safe`), never as
markup. Sizes follow `charts.PRINT_WIDTH`, so a report scales them like the other charts.
"""

from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from .charts import _NAME_AXIS, PRINT_WIDTH, _safe
from .format import amount, half_width, number, pm, probability
from .roadmap_tables import value_unit

__all__ = ["gantt_chart", "team_load_chart", "value_fan_chart"]

_DARK, _BLUE, _RED = "#1f3b63", "#4c78a8", "#e45756"
ON_TIME = "chance it lands by its planned quarter"
OVER = "chance of more work due than capacity"


def _chance(p, se, samples: int) -> str:
    """A probability ± its 95% half-width ("–" when missing; the rule of three at 0 or 1)."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return probability(float(p), None if se is None or np.isnan(se) else half_width(float(se)), samples)


def _present(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def _order(result, extra: list[str] = ()) -> list[str]:
    """The quarter labels of the horizon, then any later `extra` labels, in time order."""
    labels = list(result.quarters)
    k = len(labels)
    later = {x for x in extra if isinstance(x, str) and x not in labels and not x.startswith("after")}
    while later:  # labels after the horizon, consecutive, up to the last one needed
        label = result.problem.label(k)
        labels.append(label)
        later.discard(label)
        k += 1
        if k > 4 * len(result.quarters) + 200:  # a label that is no later quarter: stop rather than loop
            break
    return labels


def _initiatives(result) -> pd.DataFrame:
    """The roadmap's initiatives (one row each) with the texts their tooltips show."""
    f = result.to_frame().reset_index()
    f = f[f["start_quarter"].map(_present)].copy()
    f["team"] = f["team"].map(lambda t: t if isinstance(t, str) and t else "(no team)")
    p, r = result.problem, result.roadmap
    index = {id_: i for i, id_ in enumerate(p.ids)}
    f["start_k"] = [int(r.start[index[i]]) for i in f["id"]]
    f["delivery_k"] = [int(r.planned_delivery()[index[i]]) for i in f["id"]]
    f = f.sort_values(["team", "start_k", "delivery_k", "name"], kind="stable").reset_index(drop=True)
    f["p_text"] = [_chance(p_, se, result.samples) for p_, se in zip(f["p_on_time"], f["p_on_time_se"])]
    f["p50_text"] = [f"in half the scenarios by {x}" for x in f["delivery_p50"]]
    f["p90_text"] = [f"in 9 of 10 scenarios by {x}" for x in f["delivery_p90"]]
    f["row"] = [f"{n} ({i})" if list(f["name"]).count(n) > 1 else n for n, i in zip(f["name"], f["id"])]
    return f


def gantt_chart(result) -> alt.FacetChart:
    """The roadmap as a Gantt chart: a row per initiative, grouped by team (one panel each), a cell
    in each quarter it runs (planned start to planned delivery), shaded by P(on time); a ring at
    the quarter by which it is delivered in 9 of 10 scenarios when that is after the planned one."""
    f = _initiatives(result)
    cells = []
    for row in f.itertuples():
        for k in range(row.start_k, row.delivery_k + 1):
            cells.append({"id": row.id, "quarter": result.problem.label(k)})
    cells = pd.DataFrame(cells, columns=["id", "quarter"])
    late = f[f["delivery_p90"] != f["delivery_quarter"]]
    order = _order(result, list(late["delivery_p90"]))
    late = late[late["delivery_p90"].isin(order)]
    keep = ["id", "row", "name", "team", "start_quarter", "delivery_quarter", "p_on_time", "p_text",
            "delivery_p50", "delivery_p90", "p50_text", "p90_text"]
    data = pd.concat([cells.merge(f[keep], on="id").assign(layer="run"),
                      late[keep].assign(quarter=late["delivery_p90"], layer="p90")], ignore_index=True)
    data = _safe(data)
    tooltip = [alt.Tooltip("name:N", title="initiative"), alt.Tooltip("team:N"),
               alt.Tooltip("start_quarter:N", title="starts"),
               alt.Tooltip("delivery_quarter:N", title="planned delivery"),
               alt.Tooltip("p_text:N", title=f"{ON_TIME} ± 95%"),
               alt.Tooltip("p50_text:N", title="delivered (p50)"), alt.Tooltip("p90_text:N", title="delivered (p90)")]
    x = alt.X("quarter:O", sort=order, scale=alt.Scale(domain=order), title="quarter",
              axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("row:N", sort=alt.EncodingSortField("sort", order="ascending"), title=None, axis=_NAME_AXIS)
    data["sort"] = data["id"].map({i: k for k, i in enumerate(f["id"])})
    runs = alt.Chart().mark_rect(stroke="white", strokeWidth=1).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("p_on_time:Q", title=ON_TIME, scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
                        legend=alt.Legend(orient="bottom", format=".0%", gradientLength=200, titleLimit=400))
    ).transform_filter(alt.datum.layer == "run")
    rings = alt.Chart().mark_point(shape="circle", size=90, strokeWidth=2, color=_DARK).encode(
        x=x, y=y, tooltip=tooltip).transform_filter(alt.datum.layer == "p90")
    width = max(160, min(PRINT_WIDTH - 380, 70 * len(order)))
    title = alt.TitleParams(f"Roadmap {order[0]}–{result.quarters[-1]}: {result.roadmap.label}",
                            subtitle="shade: chance it lands by its planned quarter; "
                                     "ring: quarter by which it is delivered in 9 of 10 scenarios, when later")
    return (alt.layer(runs, rings, data=data).properties(width=width, height=alt.Step(16))
            .facet(row=alt.Row("team:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left",
                                                                      labelFontWeight="bold")))
            .resolve_scale(y="independent").properties(title=title))


def value_fan_chart(result) -> alt.LayerChart:
    """Cumulative value earned by the end of each quarter (horizon and tail): the simulated p10-p90
    band and median, and the value as planned (dashed); a rule marks the horizon's last quarter."""
    v = result.value_frame()
    unit = _safe(value_unit(result))
    se = _cumulative_se(result)
    data = _safe(pd.DataFrame({
        "quarter": v["quarter"], "in_horizon": v["in_horizon"],
        "p10": v["cumulative_p10"], "p50": v["cumulative_p50"], "p90": v["cumulative_p90"],
        "mean": v["cumulative_mean"], "planned": v["cumulative_planned"],
        "mean_text": [pm(m, half_width(s)) for m, s in zip(v["cumulative_mean"], se)],
        "band_text": [f"{number(a)} – {number(b)}" for a, b in zip(v["cumulative_p10"], v["cumulative_p90"])]}))
    order = list(data["quarter"])
    x = alt.X("quarter:O", sort=order, scale=alt.Scale(domain=order), title="by the end of quarter",
              axis=alt.Axis(labelAngle=0))
    tooltip = [alt.Tooltip("quarter:N", title="by the end of"),
               alt.Tooltip("planned:Q", format=",.0f", title=f"as planned ({unit})"),
               alt.Tooltip("mean_text:N", title=f"simulated mean ± 95% ({unit})"),
               alt.Tooltip("p50:Q", format=",.0f", title="median (half the scenarios earn more)"),
               alt.Tooltip("band_text:N", title="8 of 10 scenarios between (p10–p90)")]
    base = alt.Chart(data).encode(x=x, tooltip=tooltip)
    band = base.mark_area(color=_BLUE, opacity=0.25).encode(
        y=alt.Y("p10:Q", title=f"cumulative value earned ({unit})"), y2="p90:Q")
    median = base.mark_line(color=_DARK, point=True).encode(y="p50:Q")
    planned = base.mark_line(color=_RED, strokeDash=[5, 3]).encode(y="planned:Q")
    chart = band + median + planned
    if len(order) > len(result.quarters):  # the tail follows: mark where the horizon ends
        end = pd.DataFrame({"quarter": [result.quarters[-1]],
                            "label": [f"end of the horizon; {result.problem.tail} tail quarters follow"]})
        chart = chart + alt.Chart(end).mark_rule(color="#888888", strokeDash=[2, 2]).encode(
            x=x, tooltip=[alt.Tooltip("label:N", title="marker")])
    title = alt.TitleParams("Cumulative value earned", subtitle="band: p10–p90 of the simulated delivery; "
                                                               "line: median; dashed: as planned (no slips)")
    return chart.properties(title=title, width=PRINT_WIDTH - 80, height=240)


def _cumulative_se(result) -> np.ndarray:
    """Standard error of the simulated cumulative mean at each quarter (independent draws)."""
    earned = np.cumsum(result.roadmap.delivery.earned(), axis=1)
    return earned.std(axis=0, ddof=1) / np.sqrt(max(earned.shape[0], 1))


def team_load_chart(result) -> alt.FacetChart:
    """Planned person-months per team and quarter (bars) against the team's capacity (a tick; none
    where only the total budget binds), shaded by the chance of more work due than capacity."""
    t = result.teams_frame()
    data = _safe(t.assign(
        p_text=[_chance(p, se, result.samples) for p, se in zip(t["p_over_capacity"], t["p_over_capacity_se"])],
        capacity_text=[amount(c, "person-months") if _present(c) else "no team limit (the budget binds)"
                       for c in t["capacity"]],
        load_text=[amount(round(x, 2), "person-months") for x in t["planned_load"]]))
    order = list(result.quarters)
    x = alt.X("quarter:O", sort=order, scale=alt.Scale(domain=order), title=None, axis=alt.Axis(labelAngle=-45))
    tooltip = [alt.Tooltip("team:N"), alt.Tooltip("quarter:N"),
               alt.Tooltip("load_text:N", title="planned load"), alt.Tooltip("capacity_text:N", title="capacity"),
               alt.Tooltip("p_text:N", title=f"{OVER} ± 95%")]
    bars = alt.Chart().mark_bar().encode(
        x=x, y=alt.Y("planned_load:Q", title="person-months a quarter"), tooltip=tooltip,
        color=alt.Color("p_over_capacity:Q", title=OVER, scale=alt.Scale(domain=[0, 0.5], clamp=True,
                                                                          range=["#9ecae9", _RED], interpolate="lab"),
                        legend=alt.Legend(orient="bottom", format=".0%", gradientLength=200, titleLimit=400)))
    ticks = alt.Chart().mark_tick(color=_DARK, thickness=2).encode(
        x=x, y="capacity:Q", tooltip=tooltip).transform_filter("isValid(datum.capacity)")
    teams = list(dict.fromkeys(data["team"]))
    columns = min(len(teams), 3) or 1
    width = max(120, (PRINT_WIDTH - 60) // columns - 40)
    title = alt.TitleParams("Team load per quarter", subtitle="bars: planned person-months; tick: capacity; "
                                                             "shade: chance of more work due than capacity")
    return (alt.layer(bars, ticks, data=data).properties(width=width, height=130)
            .facet(facet=alt.Facet("team:N", title=None, sort=teams), columns=columns)
            .properties(title=title))

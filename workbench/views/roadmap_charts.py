"""Altair charts of a roadmap across quarters (`workbench.roadmap`'s `RoadmapResult`).

- `gantt_chart`: one row per initiative in the roadmap, grouped by team, a cell in every quarter
  it runs, shaded by the chance it lands by its planned quarter; a ring marks the quarter by
  which it is delivered in 9 of 10 scenarios when that is later (at the right edge, "after ...",
  when later than the simulated quarters).
- `value_fan_chart`: cumulative value earned quarter by quarter, simulated (p10-p90 band, median
  line) against the value as planned (dashed).
- `team_load_chart`: each team's planned person-months per quarter against its capacity (a
  tick), shaded by the chance the team has more work due than capacity.

Quarters are an ordinal axis in time order (labels such as 2027Q1). Every mark has tooltips and
every "±" is a 95% Monte Carlo half-width; user text enters as data (`charts.safe`), never as
markup. Sizes follow `charts.PRINT_WIDTH`, so a report scales them like the other charts. Titles
and words are those of the tables (`roadmap_tables`).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .charts import NAME_AXIS, PRINT_WIDTH, safe
from .format import amount, half_width, number, pm
from .roadmap_tables import ON_TIME, OVER_CAPACITY, P50_BY, P90_BY, chance, delivered_by, missing, value_unit

__all__ = ["gantt_chart", "team_load_chart", "value_fan_chart"]

_DARK, _BLUE, _RED = "#1f3b63", "#4c78a8", "#e45756"


def _initiatives(result) -> pd.DataFrame:
    """The roadmap's initiatives (one row each) with their start, planned delivery and p90 delivery
    quarter indices and the texts their tooltips show."""
    f = result.to_frame().reset_index()
    r = result.roadmap
    p90 = r.delivery.delivery_percentile(0.9)
    on = r.start >= 0
    f = f.assign(start_k=r.start, delivery_k=r.planned_delivery(), p90_k=p90)[on].copy()
    f["team"] = f["team"].map(lambda t: t if isinstance(t, str) and t else "(no team)")
    f = f.sort_values(["team", "start_k", "delivery_k", "name"], kind="stable").reset_index(drop=True)
    f["p_text"] = [chance(p_, se, result.samples) for p_, se in zip(f["p_on_time"], f["p_on_time_se"])]
    f["p50_text"] = [delivered_by("in half the scenarios", x) for x in f["delivery_p50"]]
    f["p90_text"] = [delivered_by("in 9 of 10 scenarios", x) for x in f["delivery_p90"]]
    f["row"] = [f"{n} ({i})" if list(f["name"]).count(n) > 1 else n for n, i in zip(f["name"], f["id"])]
    return f


def gantt_chart(result) -> alt.FacetChart:
    """The roadmap as a Gantt chart: a row per initiative, grouped by team (one panel each), a cell
    in each quarter it runs (planned start to planned delivery), shaded by P(on time); a ring at
    the quarter by which it is delivered in 9 of 10 scenarios when that is after the planned one
    (at the last quarter drawn, its tooltip saying "after ...", when past the simulated quarters)."""
    f = _initiatives(result)
    p, end = result.problem, result.roadmap.delivery.end
    cells = pd.DataFrame([{"id": row.id, "quarter": p.label(k)} for row in f.itertuples()
                          for k in range(row.start_k, row.delivery_k + 1)], columns=["id", "quarter"])
    late = f[f["p90_k"] > f["delivery_k"]]  # quarter indices, not labels: "after ..." is later too
    seen = late.loc[late["p90_k"] < end, "p90_k"]
    last = max([p.horizon - 1, *seen])
    order = [p.label(k) for k in range(last + 1)]
    ring_k = np.where(late["p90_k"] < end, late["p90_k"], last)  # past the simulation: the right edge
    keep = ["id", "row", "name", "team", "start_quarter", "delivery_quarter", "p_on_time", "p_text",
            "delivery_p50", "delivery_p90", "p50_text", "p90_text"]
    data = pd.concat([cells.merge(f[keep], on="id").assign(layer="run"),
                      late[keep].assign(quarter=[p.label(k) for k in ring_k], layer="p90")], ignore_index=True)
    data["sort"] = data["id"].map({i: k for k, i in enumerate(f["id"])})
    data = safe(data)
    tooltip = [alt.Tooltip("name:N", title="initiative"), alt.Tooltip("team:N"),
               alt.Tooltip("start_quarter:N", title="starts"),
               alt.Tooltip("delivery_quarter:N", title="planned delivery"),
               alt.Tooltip("p_text:N", title=f"{ON_TIME} ± 95%"),
               alt.Tooltip("p50_text:N", title=P50_BY), alt.Tooltip("p90_text:N", title=P90_BY)]
    x = alt.X("quarter:O", sort=order, scale=alt.Scale(domain=order), title="quarter",
              axis=alt.Axis(labelAngle=0, orient="top"))
    y = alt.Y("row:N", sort=alt.EncodingSortField("sort", order="ascending"), title=None, axis=NAME_AXIS)
    runs = alt.Chart().mark_rect(stroke="white", strokeWidth=1).encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("p_on_time:Q", title=ON_TIME, scale=alt.Scale(domain=[0, 1], scheme="redyellowgreen"),
                        legend=alt.Legend(orient="bottom", format=".0%", gradientLength=200, titleLimit=400))
    ).transform_filter(alt.datum.layer == "run")
    rings = alt.Chart().mark_point(shape="circle", size=90, strokeWidth=2, color=_DARK).encode(
        x=x, y=y, tooltip=tooltip).transform_filter(alt.datum.layer == "p90")
    width = max(160, min(PRINT_WIDTH - 380, 70 * len(order)))
    label = result.roadmap.label
    title = alt.TitleParams(safe(f"{label[:1].upper()}{label[1:]}, {order[0]}–{result.quarters[-1]}"),
                            subtitle="shade: chance it lands by its planned quarter; ring: quarter by which it is "
                                     "delivered in 9 of 10 scenarios, when later (at the right edge: later still)")
    return (alt.layer(runs, rings, data=data).properties(width=width, height=alt.Step(16))
            .facet(row=alt.Row("team:N", title=None, header=alt.Header(labelAngle=0, labelAlign="left",
                                                                      labelFontWeight="bold")))
            .resolve_scale(y="independent").properties(title=title))


def value_fan_chart(result) -> alt.LayerChart:
    """Cumulative value earned by the end of each quarter (horizon and tail): the simulated p10-p90
    band and median, and the value as planned (dashed); a rule marks the horizon's last quarter."""
    p, f = result.problem, result.value_frame()
    q10, q90, mean = f["cumulative_p10"], f["cumulative_p90"], f["cumulative_mean"]
    unit = safe(value_unit(result))
    data = safe(pd.DataFrame({
        "quarter": f["quarter"], "in_horizon": f["in_horizon"], "p10": q10, "p50": f["cumulative_p50"], "p90": q90,
        "mean": mean, "planned": f["cumulative_planned"],
        "mean_text": [pm(m, half_width(s)) for m, s in zip(mean, f["cumulative_mean_se"])],
        "band_text": [f"{number(a)} – {number(b)}" for a, b in zip(q10, q90)]}))
    order = list(data["quarter"])
    x = alt.X("quarter:O", sort=order, scale=alt.Scale(domain=order), title="by the end of quarter",
              axis=alt.Axis(labelAngle=0))
    tooltip = [alt.Tooltip("quarter:N", title="by the end of"),
               alt.Tooltip("planned:Q", format=",.0f", title=f"as planned ({unit})"),
               alt.Tooltip("mean_text:N", title=f"simulated mean ± 95% ({unit})"),
               alt.Tooltip("p50:Q", format=",.0f", title=f"median, half the scenarios earn more ({unit})"),
               alt.Tooltip("band_text:N", title=f"8 of 10 scenarios between, p10–p90 ({unit})")]
    base = alt.Chart(data).encode(x=x, tooltip=tooltip)
    band = base.mark_area(color=_BLUE, opacity=0.25).encode(
        y=alt.Y("p10:Q", title=f"cumulative value earned ({unit})"), y2="p90:Q")
    median = base.mark_line(color=_DARK, point=True).encode(y="p50:Q")
    planned_line = base.mark_line(color=_RED, strokeDash=[5, 3]).encode(y="planned:Q")
    chart = band + median + planned_line
    if len(order) > len(result.quarters):  # the tail follows: mark where the horizon ends
        end = pd.DataFrame({"quarter": [result.quarters[-1]],
                            "label": [f"end of the horizon; value counted for {p.tail} quarters after it"]})
        chart = chart + alt.Chart(end).mark_rule(color="#888888", strokeDash=[2, 2]).encode(
            x=x, tooltip=[alt.Tooltip("label:N", title="marker")])
    title = alt.TitleParams("Cumulative value earned", subtitle="band: p10–p90 of the simulated delivery; "
                                                               "line: median; dashed: as planned (no slips)")
    return chart.properties(title=title, width=PRINT_WIDTH - 80, height=240)


def team_load_chart(result) -> alt.FacetChart:
    """Planned person-months per team and quarter (bars) against the team's capacity (a tick; none
    where only the total budget binds), shaded by the chance of more work due than capacity."""
    t = result.teams_frame()
    data = safe(t.assign(
        p_text=[chance(p, se, result.samples) for p, se in zip(t["p_over_capacity"], t["p_over_capacity_se"])],
        capacity_text=[amount(c, "person-months") if not missing(c) else "no team limit (the budget binds)"
                       for c in t["capacity"]],
        load_text=[amount(round(x, 2), "person-months") for x in t["planned_load"]]))
    order = list(result.quarters)
    x = alt.X("quarter:O", sort=order, scale=alt.Scale(domain=order), title=None, axis=alt.Axis(labelAngle=-45))
    tooltip = [alt.Tooltip("team:N"), alt.Tooltip("quarter:N"),
               alt.Tooltip("load_text:N", title="planned load"), alt.Tooltip("capacity_text:N", title="capacity"),
               alt.Tooltip("p_text:N", title=f"{OVER_CAPACITY} ± 95%")]
    bars = alt.Chart().mark_bar().encode(
        x=x, y=alt.Y("planned_load:Q", title="person-months a quarter"), tooltip=tooltip,
        color=alt.Color("p_over_capacity:Q", title=OVER_CAPACITY, scale=alt.Scale(domain=[0, 0.5], clamp=True,
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

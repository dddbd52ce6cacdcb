"""Altair charts of how good past estimates were (`calibration.measures.CalibrationReport`).

- `coverage_chart`: for each factor, how often the actual fell inside the stated 50%, 80% and
  90% ranges (points with 95% error bars) against the share it should be (a dash).
- `pit_histogram`: per factor, where the actuals fell within their estimates (the PIT: the
  estimate's chance of a value below the actual) in ten bins, against the even count calibrated
  ranges give (a line). A U shape: ranges too narrow; a slope: estimates biased.
- `reliability_chart`: stated chance of delivery against the share delivered, per bin, with 95%
  error bars and the diagonal a calibrated estimator follows.

Every mark has tooltips; user text (team names) enters as data (`charts.safe`), never markup.
Titles and words are those of the tables (`calibration_tables`).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from .calibration_tables import FACTORS, LEVELS, share
from .charts import PRINT_WIDTH, safe
from .format import half_width

__all__ = ["coverage_chart", "pit_histogram", "reliability_chart"]

_DARK, _BLUE, _RED = "#1f3b63", "#4c78a8", "#e45756"
_BINS = 10


def _clip(x: float) -> float:
    return float(min(1.0, max(0.0, x)))


def coverage_chart(report) -> alt.LayerChart:
    """Share of actuals inside the stated 50/80/90% ranges, per factor (all teams), ± 95%, against nominal."""
    rows = []
    for factor in FACTORS:
        fc = report.factors.get(factor)
        if fc is None:
            continue
        for level in LEVELS:
            hit = fc.hit_rate.get(level)
            if hit is None or not np.isfinite(hit.value):
                continue
            half = half_width(hit.se) if np.isfinite(hit.se) else 0.0
            rows.append({"factor": factor, "range": f"{level:.0%} range", "nominal": level, "observed": hit.value,
                         "lo": _clip(hit.value - half), "hi": _clip(hit.value + half), "n": fc.n,
                         "observed_text": share(hit), "nominal_text": f"{level:.0%}"})
    data = safe(pd.DataFrame(rows, columns=["factor", "range", "nominal", "observed", "lo", "hi", "n",
                                            "observed_text", "nominal_text"]))
    order = [f"{lv:.0%} range" for lv in LEVELS]
    tooltip = [alt.Tooltip("factor:N"), alt.Tooltip("range:N", title="stated range"),
               alt.Tooltip("observed_text:N", title="actuals inside ± 95%"),
               alt.Tooltip("nominal_text:N", title="calibrated ranges hold"),
               alt.Tooltip("n:Q", title="initiatives")]
    x = alt.X("range:N", sort=order, title="stated range", axis=alt.Axis(labelAngle=0))
    y = alt.Y("observed:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
              title="share of actuals inside the range")
    base = alt.Chart(data).encode(x=x, xOffset=alt.XOffset("factor:N", sort=list(FACTORS)), tooltip=tooltip)
    bars = base.mark_rule(strokeWidth=2).encode(y=alt.Y("lo:Q"), y2="hi:Q", color=alt.Color("factor:N",
                                                                                               sort=list(FACTORS)))
    points = base.mark_point(filled=True, size=60).encode(y=y, color=alt.Color("factor:N", sort=list(FACTORS)))
    nominal = alt.Chart(data).mark_tick(color=_DARK, thickness=2, size=40).encode(
        x=x, y=alt.Y("nominal:Q"), tooltip=[alt.Tooltip("range:N", title="stated range"),
                                             alt.Tooltip("nominal_text:N", title="calibrated ranges hold")])
    return (nominal + bars + points).properties(
        title="How often the actual fell inside the stated range (dash: where it should be)",
        width=PRINT_WIDTH - 200, height=240)


def pit_histogram(report) -> alt.FacetChart:
    """Ten bins of where each actual fell within its estimate, per factor, against the even count."""
    rows = []
    edges = np.linspace(0, 1, _BINS + 1)
    for factor in FACTORS:
        fc = report.factors.get(factor)
        pit = np.asarray(getattr(fc, "pit", ()), float) if fc is not None else np.array([])
        pit = pit[np.isfinite(pit)]
        if not pit.size:
            continue
        counts, _ = np.histogram(pit, bins=edges)
        for k in range(_BINS):
            rows.append({"factor": factor, "lo": edges[k], "hi": edges[k + 1], "count": int(counts[k]),
                         "even": pit.size / _BINS, "bin": f"{edges[k]:.0%} – {edges[k + 1]:.0%}",
                         "p_value": "–" if fc.pit_p_value is None else f"{fc.pit_p_value:.2g}"})
    data = safe(pd.DataFrame(rows, columns=["factor", "lo", "hi", "count", "even", "bin", "p_value"]))
    tooltip = [alt.Tooltip("factor:N"), alt.Tooltip("bin:N", title="estimate's chance below the actual"),
               alt.Tooltip("count:Q", title="initiatives"),
               alt.Tooltip("even:Q", format=".1f", title="calibrated ranges give about"),
               alt.Tooltip("p_value:N", title="uniformity test p")]
    bars = alt.Chart().mark_bar(color=_BLUE, stroke="white").encode(
        x=alt.X("lo:Q", bin="binned", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"),
                title="chance below the actual (PIT)"),
        x2="hi:Q", y=alt.Y("count:Q", title="initiatives"), tooltip=tooltip)
    even = alt.Chart().mark_rule(color=_RED, strokeDash=[4, 3]).encode(
        y="mean(even):Q", tooltip=[alt.Tooltip("mean(even):Q", format=".1f", title="even count (calibrated)")])
    return alt.layer(bars, even, data=data).properties(width=200, height=160).facet(
        column=alt.Column("factor:N", sort=list(FACTORS), title=None)).properties(
        title="Where the actuals fell within their estimates (dashed: calibrated ranges; U shape: too narrow)")


def reliability_chart(report, by_team: bool = False) -> alt.LayerChart:
    """Stated chance of delivery (bins) against the share delivered, ± 95%, with the diagonal: every
    team together, or each team (`by_team`; its bins hold few initiatives, so the bars are wide)."""
    rows = []
    groups = [("all teams", report.delivery)] if report.delivery is not None and not by_team else []
    groups += sorted((t or "(no team)", d) for t, d in report.delivery_by_team.items()) if by_team else []
    for who, d in groups:
        for b in d.reliability:
            se = b.get("observed_se") or 0.0
            half = half_width(se)
            rows.append({"who": who, "stated": b["stated"], "observed": b["observed"], "n": int(b["n"]),
                         "lo": _clip(b["observed"] - half), "hi": _clip(b["observed"] + half),
                         "stated_text": f"{b['stated']:.0%}",
                         "observed_text": f"{b['observed']:.0%} ± {half:.0%}"})
    data = safe(pd.DataFrame(rows, columns=["who", "stated", "observed", "n", "lo", "hi", "stated_text",
                                            "observed_text"]))
    tooltip = [alt.Tooltip("who:N", title="teams"), alt.Tooltip("stated_text:N", title="stated chance"),
               alt.Tooltip("observed_text:N", title="delivered ± 95%"), alt.Tooltip("n:Q", title="initiatives")]
    scale = alt.Scale(domain=[0, 1])
    base = alt.Chart(data).encode(x=alt.X("stated:Q", scale=scale, axis=alt.Axis(format="%"),
                                          title="stated chance of delivery"),
                                  color=alt.Color("who:N", title="teams"), tooltip=tooltip)
    diagonal = alt.Chart(pd.DataFrame({"x": [0.0, 1.0], "label": ["calibrated: delivered as often as stated"] * 2})
                         ).mark_line(color="#888888", strokeDash=[4, 3]).encode(
        x="x:Q", y="x:Q", tooltip=[alt.Tooltip("label:N", title="diagonal")])
    bars = base.mark_rule().encode(y="lo:Q", y2="hi:Q")
    points = base.mark_point(filled=True).encode(
        y=alt.Y("observed:Q", scale=scale, axis=alt.Axis(format="%"), title="share delivered"),
        size=alt.Size("n:Q", title="initiatives", scale=alt.Scale(zero=False, range=[30, 300])))
    return (diagonal + bars + points).properties(
        title="Stated chance of delivery against how often it happened (dashed: calibrated)", width=320, height=320)

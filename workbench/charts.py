"""Altair charts of simulation results; each function returns a chart the caller can compose."""

from __future__ import annotations

import altair as alt
import pandas as pd

from .results import SimulationResult, z95


def _frame(result: SimulationResult, top_k: int) -> pd.DataFrame:
    s = result.summary(top_k).reset_index()
    half = z95(result.method, len(result.replicate_sizes)) * s["p_top_k_se"]
    return s.assign(lo=(s["p_top_k"] - half).clip(lower=0), hi=(s["p_top_k"] + half).clip(upper=1),
                    p_text=[f"{p:.3f} ± {h:.3f}" for p, h in zip(s["p_top_k"], half)])


def score_intervals(result: SimulationResult, top_k: int = 5) -> alt.Chart:
    """Each initiative's score: 80% interval (p10-p90) as a bar, median as a tick, mean as a dot."""
    data = _frame(result, top_k)
    order = list(data["name"])
    y = alt.Y("name:N", sort=order, title=None)
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
    return (bars + median + mean).properties(title="Score intervals", width=520, height=alt.Step(18))


def top_k_probability(result: SimulationResult, top_k: int = 5) -> alt.Chart:
    """P(rank <= k) per initiative with its 95% Monte Carlo error bar."""
    data = _frame(result, top_k)
    y = alt.Y("name:N", sort=list(data["name"]), title=None)
    tooltip = [alt.Tooltip("name:N", title="initiative"), alt.Tooltip("p_text:N", title=f"P(top {top_k}) ±95%"),
               alt.Tooltip("expected_rank:Q", format=".1f", title="expected rank")]
    bars = alt.Chart(data).mark_bar(color="#54a24b").encode(
        y=y, x=alt.X("p_top_k:Q", title=f"P(in top {top_k})", scale=alt.Scale(domain=[0, 1])), tooltip=tooltip)
    errors = alt.Chart(data).mark_rule(color="black").encode(y=y, x="lo:Q", x2="hi:Q", tooltip=tooltip)
    return (bars + errors).properties(title=f"Probability of being in the top {top_k}", width=320, height=alt.Step(18))

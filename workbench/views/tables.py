"""Readable tables for people: the ranking and a plan, every number written by `workbench.views.format`.

Views (the dashboard, the reports) build their tables here rather than from each other, so the
same figure reads the same wherever it is shown. Every "±" is a 95% Monte Carlo half-width
(`format.PM_NOTE`); the view showing a table says so once.
"""

from __future__ import annotations

import pandas as pd

from .format import number, percent, probability


def ranking_table(result, top_k: int) -> pd.DataFrame:
    """The ranking, most likely to be in the top k first: P(top k) ± its 95% half-width, the 80%
    score interval, the mean score, classic RICE and the expected rank; indexed by id."""
    s = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    # At exactly 0 or 1 the half-width says nothing: the rule of three bounds it instead.
    samples = result.samples if result.method == "mc" else None
    return pd.DataFrame({
        "initiative": s["name"],
        f"P(top {top_k})": [probability(p, half[i], samples) for i, p in s["p_top_k"].items()],
        "score p10 – p90": [f"{number(a)} – {number(b)}" for a, b in zip(s["p10"], s["p90"])],
        "mean score": s["mean"].map(number),
        "classic RICE": s["rice"].map(number),
        "expected rank": s["expected_rank"].map(lambda r: f"{r:.1f}"),
    }, index=s.index)


def plan_table(plan, value_unit: str | None = None) -> pd.DataFrame:
    """The funded initiatives and what each contributes, indexed by id. `value_unit` labels the
    expected-value column (e.g. the settings' `value_unit`)."""
    f = plan.to_frame()
    value = f"expected value ({value_unit})" if value_unit else "expected value"
    return pd.DataFrame({
        "initiative": f["name"], "team": f["team"].fillna(""), "MoSCoW": f["moscow"].fillna(""),
        "budget": f["budget_used"].map(number),
        value: f["expected_value"].map(number),
        "share": f["value_share"].map(percent),
        "P(delivers)": f["p_delivers"].map(number),
    }, index=f.index)


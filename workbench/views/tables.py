"""Readable tables for people: the ranking and a plan, every number written by `workbench.views.format`.

Views (the dashboard, the reports) build their tables here rather than from each other, so the
same figure reads the same wherever it is shown. `ranking_table` and `plan_table` are the frames
(indexed by id, for programs and tests); `ranking_frame`/`plan_frame` are the same for readers
(capitalized titles with units, no index) and `ranking_html`/`plan_html` show them in the shared
table style (`table_html`, from `table_style`). Every "±" is a 95% Monte Carlo half-width
(`format.PM_NOTE`); the view showing a table says so once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .format import number, percent, probability
from .table_style import table_html

__all__ = ["RANKING_NUMERIC", "everyone_in_top_k", "plan_frame", "plan_html", "plan_numeric", "plan_table",
           "rank_label", "ranking_frame", "ranking_html", "ranking_note", "ranking_numeric", "ranking_table",
           "ranking_ties", "table_html", "tie_groups"]

TIE_NOTE = ("A shared rank such as {example} means statistically tied: neighbours whose P(top {k}) differ by no "
            "more than their combined 95% Monte Carlo error, so no order among them is shown.")


def tie_groups(p: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last rank (1-based) of each entry's tie group; `p` sorted best first, `half` their
    95% half-widths. Neighbours a, b are tied when |p_a − p_b| ≤ sqrt(half_a² + half_b²) (1.96 ×
    the standard error of the difference of independent estimates); a group is a run of tied
    neighbours, so its ends may differ by more than their error while every step is within it."""
    p, half = np.asarray(p, float), np.asarray(half, float)
    tied_next = np.abs(np.diff(p)) <= np.hypot(half[:-1], half[1:])
    group = np.concatenate([[0], np.cumsum(~tied_next)])  # a new group where the chain breaks
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], p.size] - 1
    return starts[group] + 1, ends[group] + 1


def rank_label(first: int, last: int) -> str:
    """"3" for a rank of its own, "3–5" for a tied group."""
    return str(first) if first == last else f"{first}–{last}"


def ranking_ties(result, top_k: int, summary: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ranking's order (`summary(top_k)`'s, indexed by id; pass it if already computed) with
    each initiative's tie group: columns `first`, `last` (1-based ranks) and `rank` ("3" or "3–5")."""
    s = result.summary(top_k) if summary is None else summary
    half = pd.Series(result.half_width(top_k), index=result.portfolio.ids).loc[s.index].to_numpy()
    first, last = tie_groups(s["p_top_k"].to_numpy(), half)
    return pd.DataFrame({"first": first, "last": last, "rank": [rank_label(a, b) for a, b in zip(first, last)]},
                        index=s.index)


def everyone_in_top_k(result, top_k: int) -> bool:
    """Whether k covers every initiative, so that P(top k) is 1 for each by construction."""
    return top_k >= len(result.portfolio)


def ranking_note(result, top_k: int) -> str:
    """What the ranking's ranks mean, in plain words: the k ≥ n case, or tied groups (empty when
    every rank is its own)."""
    n = len(result.portfolio)
    if everyone_in_top_k(result, top_k):
        return (f"Every initiative is in the top {top_k} by construction (k = {top_k} covers all {n} "
                f"initiatives), so P(top {top_k}) is 1 for each and says nothing; rows follow the expected "
                "rank. Choose a smaller k to compare them.")
    ties = ranking_ties(result, top_k)
    tied = ties[ties["first"] != ties["last"]]
    return TIE_NOTE.format(example=tied["rank"].iloc[0], k=top_k) if len(tied) else ""


def ranking_table(result, top_k: int) -> pd.DataFrame:
    """The ranking, most likely to be in the top k first: its rank (tied groups share one, see
    `ranking_note`), P(top k) ± its 95% half-width, the 80% score interval, the mean score,
    classic RICE and the expected rank; indexed by id. When k covers every initiative, P(top k)
    (1 for each by construction) and the rank are left out: `ranking_note` says why."""
    s = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    # At exactly 0 or 1 the half-width says nothing: the rule of three bounds it instead.
    samples = result.samples if result.method == "mc" else None
    everyone = everyone_in_top_k(result, top_k)
    first = {} if everyone else {"rank": ranking_ties(result, top_k, s)["rank"],
                                 f"P(top {top_k})": [probability(p, half[i], samples)
                                                     for i, p in s["p_top_k"].items()]}
    return pd.DataFrame({
        "initiative": s["name"],
        **first,
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


# --- the same tables for readers, in the shared table style ----------------------------------------

RANKING_TITLES = {"initiative": "Initiative", "rank": "Rank", "score p10 – p90": "Score p10 – p90",
                  "mean score": "Mean score", "classic RICE": "Classic RICE", "expected rank": "Expected rank"}
RANKING_NUMERIC = ("Rank", "Score p10 – p90", "Mean score", "Classic RICE", "Expected rank")
"""`ranking_table`'s columns for readers (plus "P(top k)", numeric too: see `ranking_numeric`)."""


def ranking_numeric(top_k: int) -> tuple[str, ...]:
    """The right-aligned columns of `ranking_html`'s table at this k."""
    return (f"P(top {top_k})", *RANKING_NUMERIC)


def ranking_frame(result, top_k: int) -> pd.DataFrame:
    """`ranking_table` for readers: capitalized titles, no id index."""
    return ranking_table(result, top_k).rename(columns=RANKING_TITLES).reset_index(drop=True)


def ranking_html(result, top_k: int, *, caption: str | None = None, notes: tuple[str, ...] = ()) -> str:
    """The ranking in the shared table style, with its ranking note (ties, or k covering everyone)."""
    note, frame = ranking_note(result, top_k), ranking_frame(result, top_k)
    # With k covering everyone the rank and P(top k) columns are left out (`ranking_table`).
    numeric = tuple(c for c in ranking_numeric(top_k) if c in frame.columns)
    return table_html(frame, numeric=numeric, caption=caption, notes=((note,) if note else ()) + tuple(notes))


def plan_frame(plan, value_unit: str, budget_unit: str = "person-months") -> pd.DataFrame:
    """`plan_table` for readers: titles with units, no id index, no column that is empty for
    every initiative (e.g. no teams)."""
    f = plan_table(plan, value_unit).reset_index(drop=True)
    f = f.rename(columns={"initiative": "Initiative", "team": "Team", "budget": f"Budget ({budget_unit})",
                          f"expected value ({value_unit})": f"Expected value ({value_unit})",
                          "share": "Share of value", "P(delivers)": "Chance it delivers"})
    f["Chance it delivers"] = plan.to_frame()["p_delivers"].map(percent).to_numpy()
    empty = [c for c in ("Team", "MoSCoW") if (f[c] == "").all()]
    return f.drop(columns=empty)


def plan_numeric(value_unit: str, budget_unit: str = "person-months") -> tuple[str, ...]:
    """The right-aligned columns of `plan_frame`."""
    return (f"Budget ({budget_unit})", f"Expected value ({value_unit})", "Share of value", "Chance it delivers")


def plan_html(plan, value_unit: str, *, budget_unit: str = "person-months", caption: str | None = None,
              notes: tuple[str, ...] = ()) -> str:
    """The funded initiatives in the shared table style, values in `value_unit`."""
    frame = plan_frame(plan, value_unit, budget_unit)
    numeric = tuple(c for c in plan_numeric(value_unit, budget_unit) if c in frame.columns)
    return table_html(frame, numeric=numeric, caption=caption, notes=notes)

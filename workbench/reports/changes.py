"""What changed since last quarter: new, dropped and re-estimated initiatives, the plan's entries
and exits, and the moves in P(top k) that are larger than their Monte Carlo error.

A rank move among initiatives whose P(top k) is 0.00 both quarters is noise, so only the moves
that matter are reported: an initiative entering or leaving the plan, or its P(top k) moving by
more than the combined 95% half-width of the two quarters' estimates (independent draws).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..model.portfolio import Portfolio
from ..views.format import probability
from ..views.tables import table_html

MIN_MOVE = 0.01  # a P(top k) move smaller than a point of probability is not listed, whatever its error
RANK_COLUMNS = ["id", "name", "rank_before", "rank_now", "movement", "p_before", "p_now", "half_before", "half_now",
                "matters"]


@dataclass
class Changes:
    """What changed between two quarters' portfolios."""

    new: list[str]
    dropped: list[str]
    reestimated: pd.DataFrame  # id, factor, before, after
    ranks: pd.DataFrame  # RANK_COLUMNS: ranks by P(top k), P(top k) and its 95% half-width each quarter
    top_k: int = 5
    names: dict[str, str] = field(default_factory=dict)  # id -> name, both quarters
    entered: list[str] = field(default_factory=list)  # funded now, not last quarter (when both plans are known)
    left: list[str] = field(default_factory=list)  # funded last quarter, not now

    def moves(self) -> pd.DataFrame:
        """The rank moves that matter (`matters`), largest change of P(top k) first."""
        moved = self.ranks[self.ranks["matters"].astype(bool)]
        return moved.reindex((moved["p_now"] - moved["p_before"]).abs().sort_values(ascending=False).index)

    def name(self, id_: str) -> str:
        return self.names.get(id_, id_)

    def summary(self) -> str:
        """`changes_summary`: what changed in one or two plain sentences (the brief calls it)."""
        return changes_summary(self)


def changes_since(previous: Portfolio, current: Portfolio, result_previous, result_now, top_k: int, *,
                  plan_before: list[str] | None = None, plan_now: list[str] | None = None) -> Changes:
    """New, dropped and re-estimated initiatives; with both quarters' plans (funded ids), which of the
    initiatives listed both quarters enter and leave the plan; and each shared initiative's P(top k)
    both quarters with a `matters` flag: it moved by more than sqrt(half_before² + half_now²), the
    95% half-width of the difference, and by at least MIN_MOVE (0.001 -> 0 is no news)."""
    before, now = set(previous.ids), set(current.ids)
    rows = [{"id": i, "factor": f, "before": str(previous[i].estimate(f)), "after": str(current[i].estimate(f))}
            for i in current.ids if i in before for f in ("reach", "impact", "confidence", "effort")
            if str(previous[i].estimate(f)) != str(current[i].estimate(f))]
    k_before = min(top_k, len(previous))

    def figures(result, k):
        summary = result.summary(k)
        p = dict(zip(result.portfolio.ids, result.p_top_k(k)[0]))
        half = dict(zip(result.portfolio.ids, result.half_width(k)))
        return {i: n + 1 for n, i in enumerate(summary.index)}, p, half

    rank_prev, p_prev, h_prev = figures(result_previous, k_before)
    rank_now, p_now, h_now = figures(result_now, top_k)
    ranks = pd.DataFrame([{"id": i, "name": current[i].name, "rank_before": rank_prev[i], "rank_now": rank_now[i],
                           "movement": rank_prev[i] - rank_now[i], "p_before": p_prev[i], "p_now": p_now[i],
                           "half_before": h_prev[i], "half_now": h_now[i],
                           "matters": bool(abs(p_now[i] - p_prev[i]) > max(np.hypot(h_prev[i], h_now[i]), MIN_MOVE))}
                          for i in current.ids if i in rank_prev], columns=RANK_COLUMNS)
    names = {**{i.id: i.name for i in previous}, **{i.id: i.name for i in current}}
    entered = left = []
    if plan_before is not None and plan_now is not None:
        # Only initiatives of both quarters: a new one funded is "new", and last quarter's funded work
        # that is no longer listed was done or dropped, not taken out of this quarter's plan.
        entered = [i for i in plan_now if i not in plan_before and i in before]
        left = [i for i in plan_before if i not in plan_now and i in now]
    return Changes([i for i in current.ids if i not in before], [i for i in previous.ids if i not in now],
                   pd.DataFrame(rows, columns=["id", "factor", "before", "after"]), ranks, top_k, names,
                   entered, left)


SUMMARY_NAMES = 3  # names the brief lists before "and N more" (the section lists them all)


def _list(changes: Changes, ids: list[str], limit: int | None = None) -> str:
    if not ids:
        return "none"
    names = [changes.name(i) for i in ids]
    if limit is None or len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def _disjoint(changes: Changes) -> bool:
    """No initiative in common with last quarter: every one is new, so plan entries say nothing."""
    return bool(changes.new and changes.dropped) and not len(changes.ranks)


def changes_summary(changes: Changes) -> str:
    """What changed, in one or two plain sentences (for the brief)."""
    if _disjoint(changes):
        return (f"No initiative in common with last quarter's portfolio: {len(changes.new)} new "
                f"({_list(changes, changes.new, SUMMARY_NAMES)}), {len(changes.dropped)} dropped "
                f"({_list(changes, changes.dropped, SUMMARY_NAMES)}).")
    new, dropped = (_list(changes, ids, SUMMARY_NAMES) for ids in (changes.new, changes.dropped))
    if max(len(changes.new), len(changes.dropped)) > SUMMARY_NAMES:  # long lists: counts first
        parts = [f"{len(changes.new)} new ({new}), {len(changes.dropped)} dropped ({dropped})."]
    else:
        parts = [f"New: {new}. Dropped: {dropped}."]
    if len(changes.reestimated):
        n = changes.reestimated["id"].nunique()
        parts.append(f"{len(changes.reestimated)} estimate{'s' if len(changes.reestimated) > 1 else ''} of "
                     f"{n} initiative{'s' if n > 1 else ''} re-estimated.")
    if changes.entered or changes.left:
        parts.append(f"Enters the plan: {_list(changes, changes.entered, SUMMARY_NAMES)}; "
                     f"leaves it: {_list(changes, changes.left, SUMMARY_NAMES)}.")
    moves = changes.moves()
    k = changes.top_k
    if len(moves):
        shown = [f"{r.name} ({r.p_before:.2f} → {r.p_now:.2f})" for r in moves.head(3).itertuples()]
        more = f" and {len(moves) - 3} more" if len(moves) > 3 else ""
        parts.append(f"P(top {k}) moved beyond its error for {', '.join(shown)}{more}.")
    elif len(changes.ranks):
        parts.append(f"No initiative's chance of being in the top {k} moved by more than its error.")
    return " ".join(parts)


def changes_html(changes: Changes) -> str:
    """What changed since last quarter, as escaped HTML: new and dropped initiatives, the
    re-estimated ones, entries and exits of the plan, and the P(top k) moves that matter."""
    def e(text: object) -> str:
        return html.escape(str(text))

    if _disjoint(changes):  # two unrelated lists of every name say less than this
        return f"<p>{e(changes_summary(changes))}</p>"
    parts = [f"<p><b>New:</b> {e(_list(changes, changes.new))}. <b>Dropped:</b> {e(_list(changes, changes.dropped))}."
             "</p>"]
    if (changes.entered or changes.left) and not _disjoint(changes):
        parts.append(f"<p><b>Enters the plan:</b> {e(_list(changes, changes.entered))}. "
                     f"<b>Leaves the plan:</b> {e(_list(changes, changes.left))}.</p>")
    if len(changes.reestimated):
        frame = pd.DataFrame({"Initiative": [changes.name(i) for i in changes.reestimated["id"]],
                              "Estimate": changes.reestimated["factor"].to_numpy(),
                              "Last quarter": changes.reestimated["before"].to_numpy(),
                              "Now": changes.reestimated["after"].to_numpy()})
        parts.append(table_html(frame, numeric=("Last quarter", "Now"), caption="Re-estimated"))
    k, moves = changes.top_k, changes.moves()
    if len(moves):
        frame = pd.DataFrame({
            "Initiative": moves["name"].to_numpy(),
            f"P(top {k}) last quarter": [probability(p, h) for p, h in zip(moves["p_before"], moves["half_before"])],
            f"P(top {k}) now": [probability(p, h) for p, h in zip(moves["p_now"], moves["half_now"])],
            "Rank": [f"{a} → {b}" for a, b in zip(moves["rank_before"], moves["rank_now"])]})
        noise = int(((changes.ranks["movement"] != 0) & ~changes.ranks["matters"]).sum())
        notes = (f"{noise} other rank moves are within the 95% error (noise) and are not listed.",) if noise else ()
        parts.append(table_html(frame, numeric=tuple(frame.columns[1:]), notes=notes,
                                caption=f"Chances of being in the top {k} that moved beyond their error"))
    elif len(changes.ranks):
        parts.append(f"<p>No initiative's P(top {k}) moved by more than its 95% error: the other rank moves "
                     "are noise and are not listed.</p>")
    return "\n".join(parts)


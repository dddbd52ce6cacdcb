"""Delivery simulation: how a roadmap plays out when efforts turn out as the scenarios say.

Any roadmap (start quarters; the optimal one, greedy-by-RICE or the user's own) is simulated on
scenarios of actual efforts, all scenarios at once. Each quarter, every team works through its
committed initiatives in roadmap order (planned start, then planned delivery, then portfolio
order); an initiative takes part from its planned start quarter, once the prerequisites in the
roadmap are delivered, until its actual effort is spent:
1. first, each gets up to its planned spend a quarter (E / d), or, once past its planned delivery
   quarter, up to the most it can absorb (m), while its team's capacity (and the budget over all
   teams) lasts: late work is finished first, and work queued behind an overrun waits;
2. then capacity left over goes, in the same order, to the initiatives still running, up to the
   most they can absorb a quarter (m): finishing early is allowed, starting early is not.
With the planned efforts every initiative lands in its planned quarter (the plan fits the
capacities), so slips come from the effort draws alone. A team-quarter is "over capacity" when
the work due that quarter exceeds the team's capacity: the planned spend of the initiatives
running, and all that is left of those whose delivery quarter it is (or was): then some work slips.

The simulation runs past the horizon (`end` quarters), so a slip beyond it has a quarter too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .roadmap_problem import RoadmapProblem

_DONE = 1e-9  # person-months left that count as nothing (float sums of spends)


@dataclass(frozen=True, eq=False)
class Delivery:
    """One roadmap simulated on S scenarios of efforts (see the module docstring).

    start: (n,) planned start quarters (-1: not in the roadmap).
    quarter: (S, n) the quarter each initiative is delivered in (-1: not in the roadmap; `end`:
        not delivered within the simulated quarters).
    over: (S, teams, H) whether the team had more work due than capacity in the quarter.
    value: (S, n) the scenarios' value a quarter of each initiative once delivered.
    over_budget: (S, H) whether all teams together had more work due than the budget (None
        without a budget).
    """

    problem: RoadmapProblem
    start: np.ndarray
    quarter: np.ndarray
    end: int
    over: np.ndarray
    value: np.ndarray
    over_budget: np.ndarray | None = None

    @property
    def samples(self) -> int:
        return self.quarter.shape[0]

    def planned_delivery(self) -> np.ndarray:
        return self.problem.delivery_quarter(self.start)

    def p_on_time(self) -> tuple[np.ndarray, np.ndarray]:
        """P(delivered by its planned delivery quarter) and its standard error, per initiative
        (nan for those not in the roadmap)."""
        planned = self.planned_delivery()
        p = (self.quarter <= planned[None, :]).mean(axis=0)
        p = np.where(planned >= 0, p, np.nan)
        return p, np.sqrt(p * (1 - p) / self.samples)

    def delivery_percentile(self, q: float) -> np.ndarray:
        """The delivery quarter reached in a share q of the scenarios (e.g. 0.9: in 9 of 10 it is
        delivered by then); -1 for initiatives not in the roadmap, `end` for later than simulated."""
        out = np.quantile(self.quarter, q, axis=0, method="inverted_cdf").astype(int)
        return np.where(self.start >= 0, out, -1)

    def p_over_capacity(self) -> tuple[np.ndarray, np.ndarray]:
        """(teams, H) P(the team has more work due in the quarter than its capacity) and its se."""
        p = self.over.mean(axis=0)
        return p, np.sqrt(p * (1 - p) / self.samples)

    def p_over_budget(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(H,) P(all teams together have more work due in the quarter than the budget) and its
        se; None without a budget."""
        if self.over_budget is None:
            return None
        p = self.over_budget.mean(axis=0)
        return p, np.sqrt(p * (1 - p) / self.samples)

    def earned(self, planned: bool = False) -> np.ndarray:
        """(S, H + tail) the value earned in each quarter, discounted: every initiative delivered
        before the quarter (and within the horizon) earns its value a quarter."""
        p = self.problem
        h, quarters = p.horizon, p.horizon + p.tail
        delivered = np.broadcast_to(self.planned_delivery(), self.quarter.shape) if planned else self.quarter
        counts = (delivered >= 0) & (delivered < h)
        j = np.arange(quarters)
        out = np.empty((self.samples, quarters))
        for k in range(quarters):  # a loop over quarters; every scenario and initiative at once
            out[:, k] = np.where(counts & (delivered < j[k]), self.value, 0.0).sum(axis=1)
        return out * p.quarter_factors()[None, :]

    def total(self, planned: bool = False) -> np.ndarray:
        """(S,) the roadmap's value per scenario, as planned or as simulated."""
        return self.earned(planned).sum(axis=1)


def roadmap_order(problem: RoadmapProblem, start: np.ndarray) -> np.ndarray:
    """The initiatives of a roadmap in the order teams work on them."""
    start = np.asarray(start)
    chosen = np.flatnonzero(start >= 0)
    deliver = problem.delivery_quarter(start)
    return chosen[np.lexsort((chosen, deliver[chosen], start[chosen]))]


def simulate_delivery(problem: RoadmapProblem, start: np.ndarray, effort: np.ndarray, value: np.ndarray,
                      extra_quarters: int | None = None) -> Delivery:
    """Simulate roadmap `start` on scenarios of actual `effort` (S x n) with values `value` (S x n);
    the simulation runs `extra_quarters` past the horizon and tail (default: max(4, H))."""
    p = problem
    start = np.asarray(start, int)
    effort = np.asarray(effort, float)
    s_count, n = effort.shape
    h = p.horizon
    end = h + p.tail + (max(4, h) if extra_quarters is None else int(extra_quarters))
    order = roadmap_order(p, start)
    capacity = p.team_capacity(end)
    total = np.inf if p.total is None else p.total
    remaining = effort[:, order].copy()
    spend, rate, team = p.spend[order], p.rate[order], p.team_of[order]
    last = p.delivery_quarter(start)[order]
    at = {int(i): k for k, i in enumerate(order)}
    needs = [[at[b] for a, b in p.requires if a == i and b in at] for i in order]
    delivered = np.full((s_count, len(order)), end)
    over = np.zeros((s_count, len(p.teams), h), bool)
    over_budget = None if p.total is None else np.zeros((s_count, h), bool)
    for t in range(end):
        open_ = delivered == end
        if not open_.any():
            break
        team_left = np.repeat(capacity[None, :, t], s_count, axis=0)
        total_left = np.full(s_count, total)
        due = np.zeros((s_count, len(p.teams)))
        given = np.zeros_like(remaining)
        active = np.zeros_like(remaining, dtype=bool)
        for k in range(len(order)):
            if start[order[k]] > t:
                continue
            ready = open_[:, k].copy()
            for b in needs[k]:
                ready &= delivered[:, b] < t
            active[:, k] = ready
            # Due this quarter: its planned spend, or, once its delivery quarter has come, all that is left.
            # Late work (past its delivery quarter) goes first with as much as it can absorb: finishing it
            # comes before the work queued behind it; on time, it takes its planned spend like the rest.
            due[:, team[k]] += np.where(ready, remaining[:, k] if t >= last[k] else np.minimum(remaining[:, k],
                                                                                             spend[k]), 0.0)
            want = np.where(ready, np.minimum(remaining[:, k], rate[k] if t > last[k] else spend[k]), 0.0)
            give = np.minimum(want, np.minimum(team_left[:, team[k]], total_left))
            given[:, k] = give
            team_left[:, team[k]] -= give
            total_left -= give
        for k in np.flatnonzero(active.any(axis=0)):  # capacity left over: finish early, never start early
            more = np.minimum(remaining[:, k] - given[:, k], rate[k] - given[:, k])
            more = np.where(active[:, k], np.clip(more, 0.0, None), 0.0)
            more = np.minimum(more, np.minimum(team_left[:, team[k]], total_left))
            given[:, k] += more
            team_left[:, team[k]] -= more
            total_left -= more
        remaining -= given
        delivered[open_ & (remaining <= _DONE)] = t
        if t < h:
            over[:, :, t] = due > capacity[None, :, t] + _DONE
            if over_budget is not None:
                over_budget[:, t] = due.sum(axis=1) > total + _DONE
    quarter = np.full((s_count, n), -1)
    quarter[:, order] = delivered
    return Delivery(p, start, quarter, end, over, np.asarray(value, float), over_budget)

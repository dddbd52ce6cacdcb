"""Roadmaps: when to start what. The optimal roadmap (a time-indexed MILP), the greedy-by-RICE
roadmap a scheduling tool would draw, and the rules any roadmap is held to.

The MILP has a binary x[i, s] for each quarter s in which initiative i may start
(`RoadmapProblem.allowed`), with
- at most one start per initiative (exactly one for must-haves and forced starts);
- per team and quarter, the spend (E / d) of the initiatives running then <= its capacity, and the
  same over every team against the budget, when there is one;
- finish-to-start dependencies, one row per quarter t: a starts by t only if b is delivered before
  t (sum_{s<=t} x[a,s] <= sum_{s+d_b-1 <= t-1} x[b,s]), the tight time-indexed form;
- exclusions: at most one of a pair.
Value is linear in x per scenario (v[k, i] * weight[i, s]), so the objectives are those of the
one-quarter plan on the same selection scenarios: "mean", "cvar" (Rockafellar-Uryasev, through
one continuous value column per initiative so that each scenario row has n entries, not n x H),
or "blend" (mean + lambda x CVaR).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from .milp import MIP_REL_GAP, SolverError, allowed_time, milp_options
from .plans import cvar, cvar_standard_error, mean_standard_error
from .roadmap_problem import RoadmapProblem, explain_infeasible

_EPS = 1e-9
# The solver stops once the roadmap is proven within one Monte Carlo standard error of the objective on
# the selection scenarios (`resolution_gap`): closer than that, the scenarios cannot tell roadmaps apart.
# Proving more took HiGHS a minute at 100 initiatives x 8 quarters for answers 0.1% apart; half a
# standard error (2.5e-3 there) still took 36 s, one (about 5e-3) 6 s (benchmarks/bench_roadmap.py).
GAP_SHARE_OF_SE = 1.0
MAX_GAP = 0.01


def resolution_gap(problem: RoadmapProblem, value: np.ndarray, start: np.ndarray, objective: str = "mean", *,
                   alpha: float = 0.1, lam: float = 1.0) -> float:
    """The relative optimality gap worth proving on scenarios `value`: GAP_SHARE_OF_SE of the
    relative standard error of the objective of roadmap `start` (e.g. greedy-by-RICE's), between
    the exact solver's own gap (deterministic values: no error) and MAX_GAP."""
    weight = problem.weight()
    on = np.asarray(start) >= 0
    multiplier = np.where(on, weight[np.arange(len(problem)), np.maximum(start, 0)], 0.0)
    totals = np.asarray(value, float) @ multiplier
    mean, mean_se = float(totals.mean()), mean_standard_error(totals)
    tail, tail_se = cvar(totals, alpha), cvar_standard_error(totals, alpha)
    level, se = {"mean": (mean, mean_se), "cvar": (tail, tail_se),
                 "blend": (mean + lam * tail, mean_se + lam * tail_se)}[objective]
    if not np.isfinite(se) or abs(level) <= 0:
        return MIP_REL_GAP
    return float(np.clip(GAP_SHARE_OF_SE * se / abs(level), MIP_REL_GAP, MAX_GAP))


def solve_roadmap(problem: RoadmapProblem, value: np.ndarray, objective: str = "mean", *, alpha: float = 0.1,
                  lam: float = 1.0, time_limit: float = 60.0, gap: float = MIP_REL_GAP
                  ) -> tuple[np.ndarray, str, float | None]:
    """(start quarter per initiative, -1 when not in the roadmap; solver status; gap) of the roadmap
    that maximizes `objective` on the scenarios `value` (S x n, value a quarter once delivered),
    proven within the relative `gap` (see `resolution_gap`).
    Raises Infeasible naming why no roadmap fits, SolverError when the solver stopped without one."""
    p = problem
    n = len(p)
    allowed = p.allowed()
    pairs = np.argwhere(allowed)  # (i, s) of every start variable
    i_of, s_of = pairs[:, 0], pairs[:, 1]
    m = len(pairs)
    infeasible = (p.must & ~allowed.any(axis=1)).any()
    if infeasible:
        raise explain_infeasible(p)
    if m == 0:
        return np.full(n, -1), "optimal", 0.0
    value = np.asarray(value, float)
    scale = max(float(np.abs(value).mean(axis=0).max(initial=0.0)), 1e-12)  # coefficients near 1 for HiGHS
    vs = value / scale
    weight = p.weight()[i_of, s_of]
    rows, lo, hi = _rows(p, i_of, s_of)
    w_mean = {"mean": 1.0, "cvar": 0.0, "blend": 1.0}[objective]
    w_cvar = {"mean": 0.0, "cvar": 1.0, "blend": lam}[objective]
    cost = -w_mean * vs.mean(axis=0)[i_of] * weight
    lb, ub = np.zeros(m), np.ones(m)
    if w_cvar > 0:
        # Rockafellar-Uryasev after the m starts: y_i = sum_s weight[i, s] x[i, s] (n columns), eta,
        # and u_k >= eta - sum_i v[k, i] y_i (one per scenario): each scenario row has n + 2 entries.
        s_count = vs.shape[0]
        starts_to_y = sparse.csr_matrix((weight, (i_of, np.arange(m))), shape=(n, m))
        y_rows = sparse.hstack([starts_to_y, -sparse.identity(n), sparse.csr_matrix((n, 1 + s_count))])
        u_rows = sparse.hstack([sparse.csr_matrix((s_count, m)), sparse.csr_matrix(-vs), np.ones((s_count, 1)),
                                -sparse.identity(s_count)])
        rows = sparse.vstack([sparse.hstack([rows, sparse.csr_matrix((rows.shape[0], n + 1 + s_count))]),
                              y_rows, u_rows])
        lo = np.r_[lo, np.zeros(n), np.full(s_count, -np.inf)]
        hi = np.r_[hi, np.zeros(n), np.zeros(s_count)]
        cost = np.r_[cost, np.zeros(n), -w_cvar, np.full(s_count, w_cvar / (alpha * s_count))]
        lb = np.r_[lb, np.zeros(n), -np.inf, np.zeros(s_count)]
        ub = np.r_[ub, np.full(n, np.inf), np.inf, np.full(s_count, np.inf)]
    integrality = np.r_[np.ones(m), np.zeros(len(cost) - m)]
    constraints = LinearConstraint(sparse.csr_matrix(rows), lo, hi) if rows.shape[0] else ()
    res = milp(cost, integrality=integrality, bounds=Bounds(lb, ub), constraints=constraints,
               options={**milp_options(allowed_time(time_limit)), "mip_rel_gap": gap})
    status = {0: "optimal", 1: "time limit", 2: "infeasible", 3: "unbounded"}.get(res.status, "error")
    if res.x is None:
        if status == "infeasible":
            raise explain_infeasible(p)
        raise SolverError(f"the solver stopped without finding any roadmap (status: {status}); allow more time "
                          f"than {time_limit:g} s (--time-limit) or use fewer scenarios")
    start = np.full(n, -1)
    chosen = res.x[:m] > 0.5
    start[i_of[chosen]] = s_of[chosen]
    gap = getattr(res, "mip_gap", None)
    return start, status, None if gap is None or not np.isfinite(gap) else float(gap)


def _rows(p: RoadmapProblem, i_of: np.ndarray, s_of: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """The rules as rows over the start variables (x[j] starts initiative i_of[j] in quarter s_of[j]):
    (matrix, lower, upper). Loops run over quarters, teams and dependencies, never scenarios."""
    n, h, m = len(p), p.horizon, len(i_of)
    blocks, lo, hi = [], [], []

    def add(matrix, lower, upper):
        blocks.append(sparse.csr_matrix(matrix))
        lo.append(np.broadcast_to(lower, matrix.shape[0]))
        hi.append(np.broadcast_to(upper, matrix.shape[0]))

    one_start = sparse.csr_matrix((np.ones(m), (i_of, np.arange(m))), shape=(n, m))
    used = np.asarray(one_start.sum(axis=1)).ravel() > 0
    add(one_start[used], p.must[used].astype(float), 1.0)  # at most one start; exactly one for a must
    quarter = np.arange(h)
    runs = (s_of[:, None] <= quarter) & (quarter <= (s_of + p.duration[i_of] - 1)[:, None])  # m x H
    spend = p.spend[i_of]
    for g in range(len(p.teams)):  # per team and quarter: the spends running then <= capacity
        bound = np.isfinite(p.capacity[g])
        mine = (runs & (p.team_of[i_of] == g)[:, None]).T[bound] * spend
        add(mine, -np.inf, p.capacity[g, bound])
    if p.total is not None:
        add(runs.T * spend, -np.inf, p.total)
    deliver = s_of + p.duration[i_of] - 1
    for a, b in p.requires:  # a starts by t only if b is delivered by t - 1
        matrix = ((i_of == a)[None, :] & (s_of[None, :] <= quarter[:, None])).astype(float)
        matrix -= ((i_of == b)[None, :] & (deliver[None, :] <= quarter[:, None] - 1))
        add(matrix[matrix.max(axis=1) > 0], -np.inf, 0.0)
    for a, b in p.excludes:
        add(((i_of == a) | (i_of == b)).astype(float)[None, :], -np.inf, 1.0)
    return sparse.vstack(blocks).tocsr(), np.concatenate(lo).astype(float), np.concatenate(hi).astype(float)


def greedy_roadmap(problem: RoadmapProblem) -> np.ndarray:
    """The roadmap a scheduling tool draws from a RICE ranking: forced starts, then must-haves,
    then the rest best RICE first (a prerequisite just before its most urgent dependent), each at
    the earliest quarter where its team (and the budget) still has room for its whole run, after
    its prerequisites, by its deadline."""
    p = problem
    n, h = len(p), p.horizon
    allowed = p.allowed()
    rice = np.array([ini.rice() for ini in p.portfolio])
    order = sorted(range(n), key=lambda i: (p.pinned[i] < 0, not p.must[i], -rice[i], i))
    start = np.full(n, -1)
    load = np.zeros((len(p.teams), h))
    total = np.zeros(h)
    needs = {i: [b for a, b in p.requires if a == i] for i in range(n)}
    partners = {i: [b for a, b in p.excludes if a == i] + [a for a, b in p.excludes if b == i] for i in range(n)}
    # A prerequisite takes the priority of its most urgent dependent, so a must-have's groundwork is
    # not left until lower-ranked work has taken the capacity.
    rank = {i: k for k, i in enumerate(order)}
    priority = dict(rank)
    for _ in range(n):
        changed = False
        for a, b in p.requires:
            if priority[a] < priority[b]:
                priority[b], changed = priority[a], True
        if not changed:
            break
    waiting = sorted(order, key=lambda i: (priority[i], rank[i]))
    while waiting:
        # The first initiative, in priority order, whose prerequisites are all placed (or out for good);
        # after each one the search starts again from the top, so priorities hold.
        ready = next((i for i in waiting if not any(b in waiting for b in needs[i])), None)
        if ready is None:  # the rest wait on each other (a cycle is refused before any roadmap)
            break
        i = ready
        waiting.remove(i)
        if any(start[b] < 0 for b in needs[i]) or any(start[j] >= 0 for j in partners[i]):
            continue
        after = max([int(start[b] + p.duration[b]) for b in needs[i]], default=0)
        d, g = int(p.duration[i]), p.team_of[i]
        for s in range(after, h):
            if not allowed[i, s]:
                continue
            run = slice(s, s + d)
            fits = (load[g, run] + p.spend[i] <= p.capacity[g, run] + _EPS).all()
            if p.total is not None:
                fits &= bool((total[run] + p.spend[i] <= p.total + _EPS).all())
            if fits:
                start[i] = s
                load[g, run] += p.spend[i]
                total[run] += p.spend[i]
                break
    return start


def violations(problem: RoadmapProblem, start: np.ndarray) -> list[str]:
    """The rules a roadmap breaks, in words (an empty list for the optimal and greedy ones)."""
    p, out = problem, []
    start = np.asarray(start)
    deliver = p.delivery_quarter(start)
    for i in np.flatnonzero(start >= 0):
        if deliver[i] >= p.horizon:
            out.append(f"{p.ids[i]}: started in {p.label(start[i])}, its {p.duration[i]} quarters end in "
                       f"{p.label(deliver[i])}, after the horizon")
        elif deliver[i] > p.latest[i]:
            out.append(f"{p.ids[i]}: delivered in {p.label(deliver[i])}, after its deadline {p.label(p.latest[i])}")
        if start[i] < p.earliest[i]:
            out.append(f"{p.ids[i]}: starts in {p.label(start[i])}, before its earliest {p.label(p.earliest[i])}")
        if p.wont[i]:
            out.append(f"{p.ids[i]}: is a won't but is in the roadmap")
    for i in np.flatnonzero(p.must & (start < 0)):
        out.append(f"{p.ids[i]}: a must-have left out of the roadmap")
    for a, b in p.requires:
        if start[a] >= 0 and (start[b] < 0 or deliver[b] >= start[a]):
            where = "not in the roadmap" if start[b] < 0 else f"delivered in {p.label(deliver[b])}"
            out.append(f"{p.ids[a]}: starts in {p.label(start[a])} but needs {p.ids[b]}, {where}")
    for a, b in p.excludes:
        if start[a] >= 0 and start[b] >= 0:
            out.append(f"{p.ids[a]} and {p.ids[b]} exclude each other but both are in the roadmap")
    load = p.load(start)
    for g, t in zip(*np.nonzero(load > p.capacity + _EPS)):
        out.append(f"{p.teams[g]} in {p.label(t)}: {load[g, t]:.3g} person-months planned, capacity "
                   f"{p.capacity[g, t]:.3g}")
    if p.total is not None:
        for t in np.flatnonzero(load.sum(axis=0) > p.total + _EPS):
            out.append(f"all teams in {p.label(t)}: {load[:, t].sum():.3g} person-months planned, budget {p.total:.3g}")
    return out


__all__ = ["SolverError", "greedy_roadmap", "resolution_gap", "solve_roadmap", "violations"]

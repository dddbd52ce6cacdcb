"""Funding constraints: budget, team capacities, dependencies, exclusions, MoSCoW, theme shares.

`PlanningProblem` turns a portfolio and `Constraints` into arrays, checks them before any solver
runs, and explains infeasibility by naming its cause (a cycle, a must-have that needs more than
the budget, ...). `violations` checks any selection against every rule, so greedy plans, the
user's own plan and the optimizer's answer are all held to the same standard.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, Problem, exact
from ..model.portfolio import Portfolio

BUDGET_COLUMNS = ("effort", "cost")


class Infeasible(InputError):
    """No plan can satisfy the constraints; the message names the cause."""


@dataclass(frozen=True)
class Constraints:
    """What a plan must respect. Capacities and budgets are in person-months unless
    `budget_column="cost"`, where the budget is in the `cost` column's unit."""

    budget: float
    capacities: dict[str, float] = field(default_factory=dict)
    theme_shares: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_count: int | None = None
    effort_quantile: float = 0.5
    budget_column: str = "effort"


class PlanningProblem:
    """A portfolio's constraints as arrays over initiatives (portfolio order).

    Construction validates the settings and raises `Infeasible` naming the cause when no plan
    can exist; `len(problem)` is the number of initiatives.
    """

    def __init__(self, portfolio: Portfolio, constraints: Constraints, effort_at_quantile: np.ndarray):
        self.portfolio, self.constraints = portfolio, constraints
        self.ids = portfolio.ids
        self._validate_settings()
        self.effort_q = np.asarray(effort_at_quantile, float)
        self.cost = self.effort_q if constraints.budget_column == "effort" else self._cost_column()
        self.unit = "person-months" if constraints.budget_column == "effort" else "cost"
        index = {id_: i for i, id_ in enumerate(self.ids)}
        self.requires = [(i, index[d]) for i, ini in enumerate(portfolio) for d in ini.depends_on]
        self.excludes = sorted({tuple(sorted((i, index[e]))) for i, ini in enumerate(portfolio) for e in ini.excludes})
        self.must = np.array([ini.moscow == "must" for ini in portfolio])
        self.wont = np.array([ini.moscow == "won't" for ini in portfolio])
        self.team = np.array([ini.team or "" for ini in portfolio], dtype=object)
        self.theme = np.array([ini.theme or "" for ini in portfolio], dtype=object)
        self._check_feasible()

    def __len__(self) -> int:
        return len(self.ids)

    def forced(self, funded: Iterable[int] = (), unfunded: Iterable[int] = ()) -> PlanningProblem:
        """The same problem with the initiatives at indices `funded` forced in and `unfunded` out.

        A shallow copy sharing every array but the MoSCoW masks: cheap enough to make once per
        initiative (EVPPI, switch points). It is not validated again: the settings and the
        dependency graph are the parent's, and whether any plan funds (or skips) an initiative
        is the question being asked, not an input error. A forced variant that admits no plan,
        or that forces one initiative both ways, is reported by the solver as infeasible.
        """
        funded, unfunded = (self._indices(k) for k in (funded, unfunded))
        out = copy.copy(self)
        out.must, out.wont = self.must.copy(), self.wont.copy()
        out.must[funded] = True
        out.wont[unfunded] = True
        return out

    def _indices(self, indices: Iterable[int]) -> np.ndarray:
        idx = np.asarray(list(indices), dtype=int)
        if idx.size and not ((idx >= 0) & (idx < len(self))).all():
            raise IndexError(f"initiative indices must be in 0..{len(self) - 1}, got {idx.tolist()}")
        return idx

    # --- validation ------------------------------------------------------------------------

    def _validate_settings(self) -> None:
        c, problems = self.constraints, []
        teams = sorted({ini.team for ini in self.portfolio if ini.team})
        themes = sorted({ini.theme for ini in self.portfolio if ini.theme})
        if not c.budget > 0:
            problems.append(f"the budget must be > 0, got {exact(c.budget)}")
        if c.budget_column not in BUDGET_COLUMNS:
            problems.append(f"unknown budget column {c.budget_column!r}; expected effort or cost")
        if not 0 < c.effort_quantile < 1:
            problems.append(f"the effort quantile must be between 0 and 1 (e.g. 0.5 or 0.8), got {c.effort_quantile:g}")
        for team, cap in c.capacities.items():
            if team not in teams:
                problems.append(f"capacity given for team {team!r}, which no initiative belongs to "
                                f"(teams: {', '.join(teams) or 'none'})")
            elif not cap >= 0:
                problems.append(f"capacity of team {team!r} must be >= 0, got {exact(cap)}")
        for theme, (lo, hi) in c.theme_shares.items():
            if theme not in themes:
                problems.append(f"theme share given for theme {theme!r}, which no initiative belongs to "
                                f"(themes: {', '.join(themes) or 'none'})")
            elif not 0 <= lo <= hi <= 1:
                problems.append(f"theme share of {theme!r} must be LO:HI with 0 <= LO <= HI <= 1, got {lo:g}:{hi:g}")
        if c.max_count is not None and c.max_count < 1:
            problems.append(f"the maximum count must be at least 1, got {c.max_count}")
        if problems:
            raise InputError([Problem(p) for p in problems])

    def _cost_column(self) -> np.ndarray:
        missing = [ini.id for ini in self.portfolio if ini.cost is None]
        if missing:
            raise InputError(Problem(f"the budget is on the cost column, but these initiatives have no cost: "
                                     f"{', '.join(missing)}"))
        return np.array([ini.cost for ini in self.portfolio], float)

    def prerequisites(self, i: int) -> set[int]:
        """All initiatives that i needs, directly or through others."""
        seen, stack = set(), [i]
        while stack:
            k = stack.pop()
            for a, b in self.requires:
                if a == k and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return seen

    def _check_feasible(self) -> None:
        ids, problems = self.ids, []
        cycle = dependency_cycle(self.requires, len(self))
        if cycle:
            raise Infeasible(Problem("dependency cycle: " + " → ".join(ids[i] for i in cycle)))
        musts = np.flatnonzero(self.must)
        needed = set(musts.tolist())
        for m in musts:
            for p in sorted(self.prerequisites(m)):
                if self.wont[p]:
                    problems.append(f"must-have {ids[m]!r} depends on {ids[p]!r}, which is a won't-have")
                needed.add(p)
        for a, b in self.excludes:
            if a in needed and b in needed:
                why = [f"{ids[k]!r}" + ("" if self.must[k] else " (a prerequisite of a must-have)") for k in (a, b)]
                problems.append(f"must-haves exclude each other: {why[0]} excludes {why[1]}")
        if problems:
            raise Infeasible([Problem(p) for p in problems])
        needed_idx = np.array(sorted(needed), dtype=int)
        total = self.cost[needed_idx].sum()
        if total > self.constraints.budget * (1 + 1e-9):
            raise Infeasible(Problem(
                f"must-haves need {exact(total)} {self.unit} (with their prerequisites) "
                f"but the budget is {exact(self.constraints.budget)}"))
        for team, cap in self.constraints.capacities.items():
            in_team = needed_idx[self.team[needed_idx] == team]
            need = self.effort_q[in_team].sum()
            if need > cap * (1 + 1e-9):
                raise Infeasible(Problem(
                    f"must-haves of team {team!r} need {exact(need)} person-months but its capacity is {exact(cap)}"))
        if self.constraints.max_count is not None and len(needed_idx) > self.constraints.max_count:
            raise Infeasible(Problem(
                f"there are {len(needed_idx)} must-haves (with their prerequisites) "
                f"but at most {self.constraints.max_count} initiatives may be funded"))

    # --- checking selections ------------------------------------------------------------------

    def feasible(self, x: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """For each row of x (plans x initiatives, booleans): does the plan break no rule?

        The vectorized counterpart of `violations`, with theme shares in the solver's linear form.
        """
        x = np.atleast_2d(np.asarray(x, bool))
        xf, c = x.astype(float), self.constraints
        ok = xf @ self.cost <= c.budget * (1 + tol)
        for team, cap in c.capacities.items():
            ok &= xf @ (self.effort_q * (self.team == team)) <= cap * (1 + tol)
        for a, b in self.requires:
            ok &= ~x[:, a] | x[:, b]
        for a, b in self.excludes:
            ok &= ~(x[:, a] & x[:, b])
        ok &= (x[:, self.must].all(axis=1)) & ~(x[:, self.wont].any(axis=1))
        for theme, (lo, hi) in c.theme_shares.items():
            in_theme = (self.theme == theme).astype(float)
            ok &= xf @ ((in_theme - lo) * self.cost) >= -tol * c.budget
            ok &= xf @ ((in_theme - hi) * self.cost) <= tol * c.budget
        if c.max_count is not None:
            ok &= x.sum(axis=1) <= c.max_count
        return ok

    def feasible_plans(self) -> np.ndarray:
        """Every feasible plan (plans x initiatives, bool), by enumerating the free initiatives:
        2^(initiatives not fixed by MoSCoW) candidates, so only for small portfolios."""
        free = np.flatnonzero(~self.must & ~self.wont)
        codes = np.arange(2 ** free.size, dtype=np.int64)
        x = np.zeros((codes.size, len(self)), bool)
        x[:, self.must] = True
        x[:, free] = (codes[:, None] >> np.arange(free.size)) & 1 == 1
        return x[self.feasible(x)]


    def violations(self, x: np.ndarray, tol: float = 1e-9, complete: bool = True,
                   by_name: bool = False) -> list[str]:
        """Every rule that selection x (booleans, portfolio order) breaks; empty if it is feasible.

        complete=False checks a plan still being built: missing must-haves and theme shares
        below their minimum are not yet violations. by_name: initiatives named by their names
        (for readers) instead of their ids (for the command line, where ids are typed).
        """
        x = np.asarray(x, bool)
        ids = [ini.name for ini in self.portfolio] if by_name else self.ids
        c, out = self.constraints, []
        spent = self.cost[x].sum()
        if spent > c.budget * (1 + tol):
            out.append(f"uses {exact(spent)} {self.unit}, over the budget of {exact(c.budget)}")
        for team, cap in c.capacities.items():
            used = self.effort_q[x & (self.team == team)].sum()
            if used > cap * (1 + tol):
                out.append(f"team {team!r} needs {exact(used)} person-months, over its capacity of {exact(cap)}")
        out += [f"{ids[a]!r} is funded without its prerequisite {ids[b]!r}"
                for a, b in self.requires if x[a] and not x[b]]
        out += [f"{ids[a]!r} and {ids[b]!r} exclude each other" for a, b in self.excludes if x[a] and x[b]]
        if complete:
            out += [f"must-have {ids[i]!r} is not funded" for i in np.flatnonzero(self.must & ~x)]
        out += [f"won't-have {ids[i]!r} is funded" for i in np.flatnonzero(self.wont & x)]
        for theme, (lo, hi) in c.theme_shares.items():
            share = self.cost[x & (self.theme == theme)].sum() / spent if spent > 0 else 0.0
            if spent > 0 and (share > hi + tol or (complete and share < lo - tol)):
                out.append(f"theme {theme!r} gets {share:.0%} of the spend, outside {lo:.0%}–{hi:.0%}")
        if c.max_count is not None and x.sum() > c.max_count:
            out.append(f"funds {int(x.sum())} initiatives, more than the maximum of {c.max_count}")
        return out


def dependency_cycle(requires, n: int) -> list[int] | None:
    """Indices of a dependency cycle (first repeated at the end) among (a needs b) pairs, or None."""
    graph: dict[int, list[int]] = {}
    for a, b in requires:
        graph.setdefault(a, []).append(b)
    state, path = {}, []

    def visit(v: int) -> list[int] | None:
        state[v] = "open"
        path.append(v)
        for w in graph.get(v, []):
            if state.get(w) == "open":
                return path[path.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = "done"
        path.pop()
        return None

    for v in range(n):
        if v not in state and (found := visit(v)):
            return found
    return None

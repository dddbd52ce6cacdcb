"""The roadmap's model: a horizon of quarters, team capacities per quarter, and what each
initiative needs to be scheduled (duration, spending per quarter, allowed starts, value by
delivery quarter).

Conventions (README, "Roadmaps"): quarters are counted from 0 within the horizon of H quarters.
An initiative with planned effort E (its effort at the planning quantile) and at most m
person-months a quarter (m = min(max_per_quarter, its team's capacity)) runs d = ceil(E / m)
quarters and spends E / d in each; started in quarter s it is delivered at the end of quarter
s + d - 1, which must lie in the horizon and by its deadline. Reach is per quarter, so an
initiative delivered at the end of quarter q earns its value in every later quarter of the
horizon and `tail` quarters beyond it, each discounted by (1 + discount)^-j (j counted from the
horizon's first quarter): delay costs one quarter of value per quarter of delay.

`RoadmapProblem` holds these as arrays; `roadmap_problem` builds it and reports every problem of
the settings at once; `explain_infeasible` names why no roadmap satisfies the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, Problem, quote
from ..model.portfolio import QUARTER_COLUMNS, Portfolio
from ..model.quarters import parse_quarter, quarter_label
from .constraints import Infeasible, dependency_cycle

NO_TEAM = "(no team)"


@dataclass(frozen=True, eq=False)
class RoadmapProblem:
    """A portfolio's roadmap rules as arrays (initiatives in portfolio order, quarters 0..H-1).

    teams: the team names; team_of[i] indexes them (initiatives without a team share NO_TEAM).
    capacity: teams x H person-months (inf: only the total binds); total: person-months a quarter
        over every team (the budget), or None.
    effort: planned effort E; rate: the most a quarter can take (m); duration: d; spend: E / d.
    earliest, latest: the first start and last delivery quarter allowed (latest < earliest: none).
    weight: n x H, the value multiplier of starting in each quarter (0 where no start is allowed).
    requires: (a, b) pairs, a needs b delivered before it starts; excludes: (a, b) pairs.
    pinned: the start quarter forced on an initiative, -1 where none.
    """

    portfolio: Portfolio
    quarters: tuple[int, ...]
    tail: int
    discount: float
    teams: tuple[str, ...]
    team_of: np.ndarray
    capacity: np.ndarray
    total: float | None
    effort: np.ndarray
    rate: np.ndarray
    duration: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    must: np.ndarray
    wont: np.ndarray
    requires: tuple[tuple[int, int], ...]
    excludes: tuple[tuple[int, int], ...]
    pinned: np.ndarray

    def __len__(self) -> int:
        return len(self.portfolio)

    @property
    def horizon(self) -> int:
        return len(self.quarters)

    @property
    def ids(self) -> list[str]:
        return self.portfolio.ids

    @property
    def spend(self) -> np.ndarray:
        """Person-months spent in each quarter an initiative runs (E / d)."""
        return self.effort / np.maximum(self.duration, 1)

    def label(self, k: int) -> str:
        """The label of horizon quarter k (0-based; k >= H names quarters after the horizon)."""
        return quarter_label(self.quarters[0] + int(k))

    @property
    def labels(self) -> list[str]:
        return [self.label(k) for k in range(self.horizon)]

    def earning(self) -> np.ndarray:
        """Value multiplier of delivery at the end of quarter q = 0..H-1: the discounted count of
        the later quarters of the horizon plus the tail."""
        after = np.r_[np.cumsum(self.quarter_factors()[::-1])[::-1], 0.0]  # after[j] = sum of factors j..
        return after[1:self.horizon + 1]

    def quarter_factors(self) -> np.ndarray:
        """The discount factor of each quarter 0..H+tail-1 (value earned in quarter j counts this much)."""
        return (1.0 + self.discount) ** -np.arange(self.horizon + self.tail, dtype=float)

    def allowed(self) -> np.ndarray:
        """n x H: may the initiative start in this quarter (window, deadline, pin, won't)."""
        s = np.arange(self.horizon)[None, :]
        ok = (s >= self.earliest[:, None]) & (s + self.duration[:, None] - 1 <= self.latest[:, None])
        ok &= (self.rate > 0)[:, None] & ~self.wont[:, None]
        pinned = self.pinned >= 0
        ok[pinned] &= s[0] == self.pinned[pinned, None]
        return ok

    def weight(self) -> np.ndarray:
        """n x H: the value multiplier of starting each initiative in each quarter (0: not allowed)."""
        deliver = np.arange(self.horizon)[None, :] + self.duration[:, None] - 1
        earn = self.earning()
        w = np.where(deliver < self.horizon, earn[np.minimum(deliver, self.horizon - 1)], 0.0)
        return np.where(self.allowed(), w, 0.0)

    def team_capacity(self, quarters: int) -> np.ndarray:
        """teams x `quarters` capacities, the last horizon quarter's repeated after the horizon."""
        k = np.minimum(np.arange(quarters), self.horizon - 1)
        return self.capacity[:, k]

    def delivery_quarter(self, start: np.ndarray) -> np.ndarray:
        """Planned delivery quarter of each initiative for start quarters `start` (-1: not in it)."""
        start = np.asarray(start)
        return np.where(start >= 0, start + self.duration - 1, -1)

    def load(self, start: np.ndarray) -> np.ndarray:
        """teams x H planned person-months of a roadmap (start quarters, -1 for not in it)."""
        out = np.zeros((len(self.teams), self.horizon))
        for i in np.flatnonzero(np.asarray(start) >= 0):
            s, d = int(start[i]), int(self.duration[i])
            out[self.team_of[i], s:min(s + d, self.horizon)] += self.spend[i]
        return out


def roadmap_problem(portfolio: Portfolio, quarters: tuple[int, ...], effort: np.ndarray, *,
                    capacities: dict[str, float], table: dict[tuple[str, int], float] | None = None,
                    total: float | None = None, tail: int = 4, discount: float = 0.0,
                    pins: dict[str, int] | None = None, earliest: dict[str, int] | None = None) -> RoadmapProblem:
    """The roadmap problem of a portfolio (edits and overrides applied) over `quarters`.

    effort: each initiative's effort at the planning quantile. capacities: person-months a quarter
    per team; table: (team, quarter) -> person-months for the quarters that differ; total: the
    person-months a quarter over every team (the budget), if any. pins: initiative -> forced
    start quarter; earliest: initiative -> earliest start replacing its `earliest` column.
    Quarters are whole numbers (`model.quarters`). Raises InputError listing every problem.
    """
    problems: list[Problem] = []
    n, h, first = len(portfolio), len(quarters), quarters[0]
    teams = sorted({ini.team or NO_TEAM for ini in portfolio})
    team_of = np.array([teams.index(ini.team or NO_TEAM) for ini in portfolio], dtype=int)
    capacity = np.full((len(teams), h), np.inf)
    for g, team in enumerate(teams):
        if team in capacities:
            capacity[g] = capacities[team]
    for (team, q), value in (table or {}).items():
        if team in teams and first <= q < first + h:
            capacity[teams.index(team), q - first] = value
    # A team is bounded by its capacity (every quarter, from --capacity or the table) or by the budget.
    missing = [] if total is not None else [t for g, t in enumerate(teams)
                                            if t != NO_TEAM and np.isinf(capacity[g]).any()]
    if missing:
        fix = " ".join(f"--capacity {quote(t) if ' ' in t else t}=N" for t in missing)
        problems.append(Problem(f"capacities: a roadmap needs each team's person-months in every quarter; none given "
                                f"for {', '.join(map(quote, missing))}: give {fix} (or rows of --capacity-table, or "
                                "--budget for a total a quarter over every team)"))
    if NO_TEAM in teams and total is None and NO_TEAM not in capacities:
        ids = [ini.id for ini in portfolio if not ini.team]
        problems.append(Problem(f"initiatives without a team ({', '.join(map(quote, ids[:6]))}"
                                f"{', ...' if len(ids) > 6 else ''}) need --budget, the person-months a quarter "
                                "shared by every team, or a team each"))
    effort = np.asarray(effort, float)
    most = np.array([ini.max_per_quarter or np.inf for ini in portfolio], float)
    team_most = np.where(np.isfinite(capacity), capacity, -np.inf).max(axis=1)  # the team's largest quarter
    team_most = np.where(np.isfinite(team_most), team_most, np.inf)
    rate = np.minimum(np.minimum(most, team_most[team_of]), np.inf if total is None else total)
    if np.isinf(rate).any():  # neither a team capacity, a maximum nor a budget bounds it
        rate = np.where(np.isinf(rate), effort, rate)  # all in one quarter
    duration = np.array([max(1, math.ceil(e / r - 1e-9)) if r > 0 else h + 1 for e, r in zip(effort, rate)], int)
    start, latest = np.zeros(n, int), np.full(n, h - 1)
    column_earliest = _quarter_column(portfolio, "earliest")
    column_deadline = _quarter_column(portfolio, "deadline")
    for i, ini in enumerate(portfolio):
        if (q := (earliest or {}).get(ini.id, column_earliest[i])) is not None:
            start[i] = max(0, q - first)
        if column_deadline[i] is not None:
            latest[i] = min(h - 1, column_deadline[i] - first)
    pinned = np.full(n, -1)
    for id_, q in (pins or {}).items():
        if not first <= q < first + h:
            problems.append(Problem(f"starts: {quote(id_)} is forced into {quarter_label(q)}, outside the horizon "
                                    f"{quarter_label(first)}:{quarter_label(first + h - 1)}"))
        else:
            pinned[portfolio.index(id_)] = q - first
    if problems:
        raise InputError(problems)
    index = {id_: i for i, id_ in enumerate(portfolio.ids)}
    requires = tuple((i, index[d]) for i, ini in enumerate(portfolio) for d in ini.depends_on)
    if cycle := dependency_cycle(requires, n):
        raise Infeasible(Problem("dependency cycle: " + " → ".join(portfolio.ids[i] for i in cycle)))
    excludes = tuple(sorted({tuple(sorted((i, index[e]))) for i, ini in enumerate(portfolio) for e in ini.excludes}))
    must = np.array([ini.moscow == "must" for ini in portfolio]) | (pinned >= 0)
    wont = np.array([ini.moscow == "won't" for ini in portfolio]) & (pinned < 0)
    return RoadmapProblem(portfolio, tuple(quarters), int(tail), float(discount), tuple(teams), team_of, capacity,
                          None if total is None else float(total), effort, rate, duration, start, latest, must, wont,
                          requires, excludes, pinned)


def _quarter_column(portfolio: Portfolio, column: str) -> list[int | None]:
    """The whole-number quarters of an optional quarter column (None where empty)."""
    return [ini.quarter(column) for ini in portfolio]


def planned_starts(problem: RoadmapProblem, column: str = "planned_quarter") -> tuple[np.ndarray, list[Problem]]:
    """The user's own roadmap: start quarters read from `column` (a field or an extra column),
    -1 where empty, and the problems of cells that are not quarters of the horizon."""
    first, h = problem.quarters[0], problem.horizon
    start, problems = np.full(len(problem), -1), []
    for i, ini in enumerate(problem.portfolio):
        text = getattr(ini, column) if column in QUARTER_COLUMNS else ini.extra.get(column)
        if text is None or (isinstance(text, str) and not text.strip()):
            continue
        try:
            q = parse_quarter(str(text))
        except ValueError as exc:
            problems.append(Problem(f"{ini.id}: {column}: {exc}"))
            continue
        if not first <= q < first + h:
            problems.append(Problem(f"{ini.id}: {column}: {quarter_label(q)} is outside the horizon "
                                    f"{quarter_label(first)}:{quarter_label(first + h - 1)}; widen --quarters"))
            continue
        start[i] = q - first
    return start, problems


def explain_infeasible(problem: RoadmapProblem) -> Infeasible:
    """Why no roadmap satisfies every rule, in words: an initiative that must be in it but cannot
    fit its window, a team short of person-months in a quarter, a prerequisite left out."""
    p, out = problem, []
    allowed = p.allowed()
    for i in np.flatnonzero(p.must & ~allowed.any(axis=1)):
        out.append(_no_window(p, i))
    for a, b in p.requires:
        if p.must[a] and p.wont[b]:
            out.append(f"{quote(p.ids[a])} must be in the roadmap but needs {quote(p.ids[b])}, which is won't")
    soonest = _soonest_starts(p)
    for a, b in p.requires:
        if p.pinned[a] >= 0 and soonest[b] + p.duration[b] > p.pinned[a]:
            out.append(f"{quote(p.ids[a])} is forced to start in {p.label(p.pinned[a])}, but it needs "
                       f"{quote(p.ids[b])} delivered first, in {p.label(soonest[b] + p.duration[b] - 1)} "
                       "at the soonest")
    for a, b in p.excludes:
        if p.must[a] and p.must[b]:
            out.append(f"{quote(p.ids[a])} and {quote(p.ids[b])} exclude each other, but both must be in the roadmap "
                       "(must-haves or forced starts)")
    for a, b in p.requires:
        if p.must[a] and allowed[a].any() and soonest[b] < p.horizon and soonest[a] + p.duration[a] - 1 > p.latest[a]:
            out.append(f"{quote(p.ids[a])} must be delivered by {p.label(p.latest[a])}, but it needs {quote(p.ids[b])} "
                       f"first, which takes {p.duration[b]} quarter{'s' if p.duration[b] > 1 else ''} from "
                       f"{p.label(soonest[b])} at the soonest: {quote(p.ids[a])} could start in "
                       f"{p.label(soonest[a])} and land in {p.label(soonest[a] + p.duration[a] - 1)}")
    forced = np.where(p.pinned >= 0, p.pinned, -1)
    load = p.load(forced)
    for g, t in zip(*np.nonzero(load > p.capacity + 1e-9)):
        out.append(f"{p.teams[g]} in {p.label(t)}: the initiatives forced into the roadmap need "
                   f"{load[g, t]:.3g} person-months, the capacity is {p.capacity[g, t]:.3g}: "
                   f"{load[g, t] - p.capacity[g, t]:.3g} short")
    for g, team in enumerate(p.teams):
        mine = p.must & (p.team_of == g)
        if not mine.any():
            continue
        last = int(np.clip(p.latest[mine].max(), 0, p.horizon - 1))
        first = int(np.clip(p.earliest[mine].min(), 0, p.horizon - 1))
        need, have = float(p.effort[mine].sum()), float(np.minimum(p.capacity[g, first:last + 1], 1e300).sum())
        if need > have + 1e-9:
            out.append(f"{team}: its must-haves and forced starts need {need:.3g} person-months between "
                       f"{p.label(first)} and {p.label(last)}, the team has {have:.3g}: {need - have:.3g} short")
    if p.total is not None:
        need = float(p.effort[p.must].sum())
        if need > p.total * p.horizon + 1e-9:
            out.append(f"the must-haves need {need:.3g} person-months, the budget allows {p.total:.3g} a quarter, "
                       f"{p.total * p.horizon:.3g} over the horizon: {need - p.total * p.horizon:.3g} short")
    if not out:
        out.append("no roadmap satisfies every rule at once (capacities per quarter, deadlines, dependencies, "
                   "exclusions, must-haves and forced starts); loosen a deadline or a forced start, or add capacity")
    return Infeasible([Problem(m) for m in out])


def _no_window(p: RoadmapProblem, i: int) -> str:
    """Why initiative i (a must-have or a forced start) has no allowed start quarter."""
    name, d, e = quote(p.ids[i]), int(p.duration[i]), p.effort[i]
    runs = f"{e:.3g} person-months at most {p.rate[i]:.3g} a quarter take {d} quarter{'s' if d > 1 else ''}"
    if p.rate[i] <= 0:
        return f"{name} cannot run: its team has no capacity in the horizon"
    if p.pinned[i] >= 0 and p.pinned[i] < p.earliest[i]:
        return (f"{name} is forced to start in {p.label(p.pinned[i])}, before its earliest start "
                f"{p.label(p.earliest[i])}")
    if p.pinned[i] >= 0 and p.pinned[i] + d - 1 > p.latest[i]:
        return (f"{name} is forced to start in {p.label(p.pinned[i])}, but {runs}: it would be delivered in "
                f"{p.label(p.pinned[i] + d - 1)}, after {p.label(p.latest[i])}")
    if d > p.horizon:
        return f"{name} must be in the roadmap, but {runs}, longer than the {p.horizon}-quarter horizon"
    return (f"{name} must be in the roadmap, but {runs}: starting in {p.label(p.earliest[i])} at the earliest it "
            f"is delivered in {p.label(p.earliest[i] + d - 1)}, after {p.label(max(p.latest[i], -1))} "
            "(its deadline or the horizon's end)")


def _soonest_starts(p: RoadmapProblem) -> np.ndarray:
    """The soonest quarter each initiative could start, its prerequisites' runs included."""
    soonest = p.earliest.copy()
    for _ in range(len(p)):  # longest-path relaxation; a cycle is refused before any roadmap
        before = soonest.copy()
        for a, b in p.requires:
            soonest[a] = max(soonest[a], soonest[b] + p.duration[b])
        if (soonest == before).all():
            break
    return soonest

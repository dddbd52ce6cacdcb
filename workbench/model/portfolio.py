"""The portfolio model: initiatives with their estimates, optional correlations, and the
cross-row rules every portfolio obeys.

Files are read by `workbench.io.read` and written by `workbench.io.write`; the readers check
every cell and report located problems before a `Portfolio` is built, so the rest of the package
works on a valid `Portfolio`. Portfolios built in code get the character rules of files: no
control or invisible format character in an id, name, team, theme or id reference, and no control
character but tab and line breaks in notes and other extra columns. The roadmap fields (`ROADMAP`)
are optional: `max_per_quarter` a number of person-months > 0, the quarters canonical labels
(`2027Q1`, see `model.quarters`) with `earliest` not after `deadline`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from ..errors import InputError, Problem, bad_character, clip, quote
from .estimates import FACTORS, Estimate
from .quarters import is_quarter, parse_quarter, quarter_label

# The roadmap's optional columns: person-months an initiative can absorb in one quarter, the first
# quarter it may start, the last by which it must be delivered, the quarter the user's roadmap starts it.
ROADMAP = ("max_per_quarter", "earliest", "deadline", "planned_quarter")
QUARTER_COLUMNS = ROADMAP[1:]  # held as canonical labels, `quarter_label(parse_quarter(cell))`: "2027Q1"
# The columns of a portfolio file, which are also the fields of an `Initiative`.
REQUIRED = ("id", "name", "reach", "impact", "confidence", "effort")
OPTIONAL = ("team", "theme", "moscow", "cost", "depends_on", "excludes", "planned", *ROADMAP)
MOSCOW = ("must", "should", "could", "won't")


@dataclass(frozen=True)
class Initiative:
    """One row of the portfolio."""

    id: str
    name: str
    reach: Estimate
    impact: Estimate
    confidence: Estimate
    effort: Estimate
    team: str | None = None
    theme: str | None = None
    moscow: str | None = None
    cost: float | None = None
    depends_on: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    planned: bool = False
    max_per_quarter: float | None = None
    earliest: str | None = None
    deadline: str | None = None
    planned_quarter: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        # The readers report these with file and line; this catches portfolios built in code, whose
        # names would otherwise reach the chart renderer (which aborts the process on a BEL or NUL).
        labels = [("id", self.id), ("name", self.name), ("team", self.team), ("theme", self.theme)]
        labels += [(col, ref) for col in ("depends_on", "excludes") for ref in getattr(self, col)]
        labels += [(key, text) for key, text in self.extra.items() if isinstance(text, str)]
        for what, text in labels:
            problem = (bad_character(text, free_text=what in self.extra, name=what == "name")
                       if isinstance(text, str) else None)
            if problem:
                raise ValueError(f"initiative {quote(self.id)}: the {what} {quote(text)} has {problem}")
        problem = _roadmap_problem(self)
        if problem:
            raise ValueError(f"initiative {quote(self.id)}: {problem}")

    def quarter(self, column: str) -> int | None:
        """The quarter in `column` (earliest, deadline or planned_quarter) as its whole number
        (`model.quarters`), None when unset."""
        label = getattr(self, column)
        return None if label is None else parse_quarter(label)

    def estimate(self, factor: str) -> Estimate:
        return getattr(self, factor)

    def rice(self) -> float:
        """Classic RICE from each estimate's median, confidence as a multiplier."""
        r, i, c, e = (self.estimate(f).median() for f in FACTORS)
        return r * i * c / e


@dataclass(frozen=True)
class Correlation:
    """A rank correlation between two estimates, each named (initiative id, factor)."""

    a: tuple[str, str]
    b: tuple[str, str]
    rho: float


@dataclass(frozen=True)
class Portfolio:
    """An ordered, validated collection of initiatives (and optional estimate correlations)."""

    initiatives: tuple[Initiative, ...]
    correlations: tuple[Correlation, ...] = ()
    source: str | None = None
    # What reading the file did that the user should hear about once (a synonym read, ids made, statuses).
    notes: tuple[str, ...] = field(default=(), compare=False)
    # (id, name) of the rows whose status is done: left out of the decision, listed as done.
    done: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self):
        _check_portfolio(self)

    def __len__(self) -> int:
        return len(self.initiatives)

    def __iter__(self):
        return iter(self.initiatives)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.initiatives]

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.initiatives]

    def __getitem__(self, id_: str) -> Initiative:
        for ini in self.initiatives:
            if ini.id == id_:
                return ini
        raise KeyError(id_)

    def index(self, id_: str) -> int:
        return self.ids.index(id_)

    def estimates(self, factor: str) -> list[Estimate]:
        return [i.estimate(factor) for i in self.initiatives]

    def with_initiatives(self, initiatives) -> Portfolio:
        return replace(self, initiatives=tuple(initiatives))

    def to_frame(self) -> pd.DataFrame:
        """One row per initiative, estimates shown as the text they were written in."""
        rows = []
        # The roadmap columns only when an initiative sets one: a one-quarter portfolio's table is as it was.
        roadmap = any(getattr(ini, col) is not None for ini in self.initiatives for col in ROADMAP)
        for ini in self.initiatives:
            row = {"id": ini.id, "name": ini.name}
            row.update({f: str(ini.estimate(f)) for f in FACTORS})
            row.update(team=ini.team, theme=ini.theme, moscow=ini.moscow, cost=ini.cost,
                       depends_on=";".join(ini.depends_on), excludes=";".join(ini.excludes),
                       planned=ini.planned, rice=ini.rice())
            if roadmap:
                row.update({col: getattr(ini, col) for col in ROADMAP})
            row.update(ini.extra)
            rows.append(row)
        frame = pd.DataFrame(rows)
        # pandas >= 3 infers a string dtype that turns None into NaN (a float); unset text stays None.
        for col in ("team", "theme", "moscow", *(QUARTER_COLUMNS if roadmap else ())):
            frame[col] = pd.Series([getattr(ini, col) for ini in self.initiatives], dtype=object)
        return frame.set_index("id")


def _roadmap_problem(ini: Initiative) -> str | None:
    """What is wrong with an initiative's roadmap fields (built in code: files get located messages
    earlier), or None: a pace that is no amount > 0, a quarter not in its canonical form, an earliest
    start after the deadline."""
    pace = ini.max_per_quarter
    if pace is not None and (isinstance(pace, bool) or not isinstance(pace, (int, float))
                             or not math.isfinite(pace) or pace <= 0):
        return f"max_per_quarter {pace!r} is not a number of person-months > 0"
    for col in QUARTER_COLUMNS:
        label = getattr(ini, col)
        if label is not None and not (isinstance(label, str) and is_quarter(label)
                                      and quarter_label(parse_quarter(label)) == label):
            fix = f"; write {quarter_label(parse_quarter(label))}" if is_quarter(label) else ""
            return f"{col} {label!r} is not a quarter label such as 2027Q1{fix}"
    if ini.earliest is not None and ini.deadline is not None and ini.quarter("earliest") > ini.quarter("deadline"):
        return f"earliest {ini.earliest} is after the deadline {ini.deadline}"
    return None


def _check_portfolio(p: Portfolio) -> None:
    """Cross-row rules for portfolios built in code (files get located messages earlier)."""
    problems, seen = [], set()
    for ini in p.initiatives:
        if ini.id in seen:
            problems.append(Problem(f"duplicate id {quote(ini.id)}"))
        seen.add(ini.id)
    for ini in p.initiatives:
        for col in ("depends_on", "excludes"):
            for ref in getattr(ini, col):
                if ref not in seen:
                    problems.append(Problem(f"{clip(ini.id)}: {col} refers to unknown id {quote(ref)}"))
    if not p.initiatives:
        problems.append(Problem("the portfolio has no initiatives"))
    if problems:
        raise InputError(problems)

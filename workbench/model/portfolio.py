"""The portfolio model: initiatives with their estimates, optional correlations, and the
cross-row rules every portfolio obeys.

Files are read by `workbench.io.read` and written by `workbench.io.write`; the readers check
every cell and report located problems before a `Portfolio` is built, so the rest of the package
works on a valid `Portfolio`. Portfolios built in code get the character rules of files: no
control or invisible format character in an id, name, team, theme or id reference, and no control
character but tab and line breaks in notes and other extra columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ..errors import InputError, Problem, bad_character, clip, quote
from .estimates import FACTORS, Estimate

# The columns of a portfolio file, which are also the fields of an `Initiative`.
REQUIRED = ("id", "name", "reach", "impact", "confidence", "effort")
OPTIONAL = ("team", "theme", "moscow", "cost", "depends_on", "excludes", "planned")
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
        for ini in self.initiatives:
            row = {"id": ini.id, "name": ini.name}
            row.update({f: str(ini.estimate(f)) for f in FACTORS})
            row.update(team=ini.team, theme=ini.theme, moscow=ini.moscow, cost=ini.cost,
                       depends_on=";".join(ini.depends_on), excludes=";".join(ini.excludes),
                       planned=ini.planned, rice=ini.rice())
            row.update(ini.extra)
            rows.append(row)
        frame = pd.DataFrame(rows)
        # pandas >= 3 infers a string dtype that turns None into NaN (a float); unset text stays None.
        for col in ("team", "theme", "moscow"):
            frame[col] = pd.Series([getattr(ini, col) for ini in self.initiatives], dtype=object)
        return frame.set_index("id")


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

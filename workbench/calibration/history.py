"""A history of estimates and what happened: past quarters' initiatives joined with their actuals.

A `Record` is one initiative of one past quarter: its estimates as they were typed then (an
`Initiative`), who estimated it, and its `Actual` (effort spent, whether it shipped, the reach and
impact measured after launch, the quarter it shipped). A `History` is the records of several
quarters, in quarter order, with the arrays the calibration measures read (`workbench.calibration
.measures`). Reading and joining files is `workbench.io.history`; this module holds no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model.estimates import Estimate
from ..model.portfolio import Initiative

MEASURED = ("effort", "reach", "impact")  # the factors an actual is measured for; confidence via `delivered`
ACTUAL_COLUMNS = ("actual_effort", "delivered", "actual_reach", "actual_impact", "delivered_quarter")


@dataclass(frozen=True)
class Actual:
    """What happened to one initiative of one quarter (None: not recorded), and where it was read."""

    id: str
    quarter: str  # canonical label, "2026Q1"
    actual_effort: float | None = None  # person-months spent
    delivered: bool | None = None
    actual_reach: float | None = None
    actual_impact: float | None = None
    delivered_quarter: str | None = None  # canonical label
    line: int | None = None  # of the actuals file

    def value(self, factor: str) -> float | None:
        """The measured effort, reach or impact (None when not recorded)."""
        return getattr(self, f"actual_{factor}")


@dataclass(frozen=True)
class Record:
    """One past initiative: its estimates as typed that quarter, and what happened."""

    quarter: str  # the quarter of the estimate (canonical label)
    initiative: Initiative
    actual: Actual
    source: str = ""  # the file the estimate came from
    estimator: str | None = None  # who estimated it, when a column names them

    @property
    def team(self) -> str | None:
        return self.initiative.team


@dataclass(frozen=True)
class History:
    """Past records in quarter order (then file order), and what reading them noticed."""

    records: tuple[Record, ...]
    files: tuple[str, ...] = ()
    actuals_file: str = ""
    unmatched: int = 0  # estimates without an actual yet: not an error (the work may be running)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def quarters(self) -> tuple[str, ...]:
        return tuple(sorted({r.quarter for r in self.records}))

    def estimates(self, factor: str) -> list[Estimate]:
        """Each record's estimate of `factor` (reach, impact, confidence or effort)."""
        return [r.initiative.estimate(factor) for r in self.records]

    def actual(self, factor: str) -> np.ndarray:
        """Each record's measured effort, reach or impact; NaN where not recorded."""
        return np.array([np.nan if (v := r.actual.value(factor)) is None else v for r in self.records], float)

    def delivered(self) -> np.ndarray:
        """1.0 delivered, 0.0 not, NaN unknown, per record."""
        return np.array([np.nan if r.actual.delivered is None else float(r.actual.delivered)
                         for r in self.records], float)

    def teams(self) -> np.ndarray:
        """Each record's team ("" when none), as an object array for grouping."""
        return np.array([r.team or "" for r in self.records], dtype=object)

    def estimators(self) -> np.ndarray:
        """Each record's estimator ("" when none), as an object array for grouping."""
        return np.array([r.estimator or "" for r in self.records], dtype=object)

    def subset(self, keep: np.ndarray) -> History:
        """The records where the boolean array `keep` is true (a team's, a quarter's)."""
        chosen = tuple(r for r, k in zip(self.records, np.asarray(keep, bool)) if k)
        return History(chosen, self.files, self.actuals_file, 0, self.notes)

    def of_quarter(self, quarter: str) -> History:
        """The records of one quarter (canonical label)."""
        return self.subset(np.array([r.quarter == quarter for r in self.records], bool))

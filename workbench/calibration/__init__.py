"""Learning from actuals: how good past estimates were, and correcting this quarter's ranges for it.

    result = workbench.calibrate()                                  # the bundled synthetic history
    result = workbench.calibrate(["2026Q1=q1.csv", "q2.csv"], "actuals.csv")
    result.report        # measures.CalibrationReport: hit rates, median ratios, PIT, delivery, schedule
    result.calibration   # correction.Calibration: the shifts and widenings learned, to save and apply

The parts: `history` (records of estimates and actuals), `workbench.io.history` (reading and
joining files), `measures` (how good the ranges were), `correction` (what to do about it). The
names below are imported when first used, so `import workbench` stays light for the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from .history import History

__all__ = ["Calibration", "CalibrationResult", "History", "apply_calibration", "calibrate", "learn",
           "load_calibration", "load_history", "measure", "save_calibration"]

_LAZY = {  # name -> module (relative to the package's parent) that defines it
    "measure": ".calibration.measures", "CalibrationReport": ".calibration.measures",
    "learn": ".calibration.correction", "load_calibration": ".calibration.calibration_file",
    "save_calibration": ".calibration.calibration_file", "apply_calibration": ".calibration.correction",
    "Calibration": ".calibration.correction", "applied": ".calibration.correction",
    "load_history": ".io.history", "bundled_history": ".io.history",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], "workbench"), name)
    raise AttributeError(f"module 'workbench.calibration' has no attribute {name!r}")


@dataclass(frozen=True)
class CalibrationResult:
    """A history, how good its estimates were (`report`) and the correction learned from it."""

    history: History
    report: Any  # measures.CalibrationReport
    calibration: Any  # correction.Calibration

    def to_dict(self) -> dict:
        """The report's JSON document plus "calibration": the calibration file's content."""
        return {**self.report.to_dict(), "calibration": self.calibration.to_dict()}


def calibrate(history: History | Sequence[str | Path] | None = None, actuals: str | Path | None = None, *,
              seed: int = 2026) -> CalibrationResult:
    """Measure a history of estimates against their actuals and learn the correction.

    history: a `History`; or the past portfolio files ("QUARTER=FILE" or files with a quarter
    column, as `load_history` reads them) with `actuals` the actuals file; or None (and actuals
    None) for the bundled synthetic history of the demo company. seed: the bootstrap's (errors of
    the shifts and widenings). Raises InputError listing every problem of the files."""
    from ..io.history import bundled_history, load_history
    from .correction import learn
    from .measures import measure

    if history is None:
        if actuals is not None:
            raise ValueError("give the past portfolio files with the actuals file, or neither (the bundled history)")
        history = bundled_history()
    elif not isinstance(history, History):
        if actuals is None:
            raise ValueError("give the actuals file (CSV or .xlsx with id, quarter and the actual columns)")
        history = load_history(list(history), actuals)
    return CalibrationResult(history, measure(history), learn(history, seed=seed))

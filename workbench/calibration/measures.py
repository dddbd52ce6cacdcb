"""How good past estimates were: interval hit rates, log-ratios, PIT, delivery and schedule calibration.

Definitions (every figure carries its standard error):

- PIT u = F(a), the estimate's CDF at the actual a > 0 (probability integral transform); for a
  calibrated estimator u is uniform on [0, 1] (Gneiting, Balabdaoui & Raftery 2007). Point
  estimates have no PIT: they are counted (`n_point`) and enter the log-ratios only.
- The central p-interval (p = 50%, 80%, 90%) holds the actual iff |u − 0.5| <= p/2; the hit rate
  is the share of records where it does, with its binomial standard error.
- The log-ratio r = ln(a / estimated median): exp(median r) is the typical actual-to-estimate
  ratio (standard error by the delta method, 1.2533·sd/√n on the log scale), its sd the spread.
- Delivery: the stated probability (the confidence estimate's mean) against delivered yes/no: the
  Brier score (mean squared difference) and a reliability table over deciles of the stated value.
- Schedule: how often an initiative shipped by its planned delivery quarter (undelivered = not held).

Which records measure what: effort on records not known to be undelivered (an abandoned
initiative's effort is incomplete); reach and impact on records not known to be undelivered that
have the actual recorded (a measured reach implies a launch). All math is over numpy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..model.distributions import FAMILIES, Z95
from ..model.estimates import Estimate
from ..model.quarters import parse_quarter
from .history import MEASURED, History

LEVELS = (0.5, 0.8, 0.9)
MIN_PIT_TEST = 5  # records below which a uniformity test says nothing
PIT_BINS = 10
MEDIAN_SE_FACTOR = math.sqrt(math.pi / 2)  # 1.2533: the sample median's se is this × sd/√n (normal data)


@dataclass(frozen=True)
class Figure:
    """A number and its standard error (binomial, delta-method or bootstrap)."""

    value: float
    se: float

    def to_dict(self) -> dict:
        return {"value": _num(self.value), "se": _num(self.se)}


def _num(x: float | None) -> float | None:
    """A float for JSON: None for NaN/inf/None (JSON has no NaN)."""
    return None if x is None or not math.isfinite(x) else float(x)


def _level_key(level: float) -> str:
    return f"{round(level * 100):d}"


@dataclass(frozen=True)
class FactorCalibration:
    """The calibration of one factor's estimates over a set of records."""

    factor: str
    n: int  # records measured (with an actual > 0), point estimates included
    n_point: int  # of which point estimates (no PIT, no interval)
    hit_rate: dict[float, Figure]
    median_ratio: Figure
    spread: float  # sd of the log-ratios
    pit: np.ndarray
    pit_p_value: float | None

    def pit_histogram(self, bins: int = PIT_BINS) -> list[int]:
        """Counts of the PIT values in `bins` equal bins of [0, 1] (flat for calibrated estimates)."""
        return np.histogram(self.pit, bins=bins, range=(0.0, 1.0))[0].astype(int).tolist()

    def to_dict(self) -> dict:
        return {"n": self.n, "n_point": self.n_point,
                "hit_rate": {_level_key(p): f.to_dict() for p, f in self.hit_rate.items()},
                "median_ratio": self.median_ratio.to_dict(), "spread": _num(self.spread),
                "pit_p_value": _num(self.pit_p_value), "pit_histogram": self.pit_histogram()}


@dataclass(frozen=True)
class DeliveryCalibration:
    """Stated delivery probabilities against what was delivered."""

    n: int
    brier: Figure  # mean (stated − delivered)²: 0 perfect, 0.25 a coin flip at 50%
    stated_mean: float
    observed: Figure  # the delivered share
    reliability: tuple[dict, ...]  # per non-empty decile: {"stated", "observed", "observed_se", "n"}

    def to_dict(self) -> dict:
        return {"n": self.n, "brier": _num(self.brier.value), "brier_se": _num(self.brier.se),
                "stated_mean": _num(self.stated_mean), "observed": _num(self.observed.value),
                "observed_se": _num(self.observed.se),
                "reliability": [{k: _num(v) if isinstance(v, float) else v for k, v in row.items()}
                                for row in self.reliability]}


@dataclass(frozen=True)
class ScheduleCalibration:
    """How often the planned delivery quarter held."""

    n: int
    held: Figure  # share delivered by the planned delivery quarter
    late_quarters_median: float | None  # among those delivered late: median quarters late
    deadline_n: int
    deadline_met: Figure | None
    basis: str  # "planned_quarter", "quarter of the estimate", or both when mixed

    def to_dict(self) -> dict:
        return {"n": self.n, "held": self.held.to_dict(), "late_quarters_median": _num(self.late_quarters_median),
                "deadline_n": self.deadline_n,
                "deadline_met": None if self.deadline_met is None else self.deadline_met.to_dict(),
                "basis": self.basis}


@dataclass(frozen=True)
class CalibrationReport:
    """Everything measured on a history: overall, per team, per estimator."""

    n: int
    quarters: tuple[str, ...]
    factors: dict[str, FactorCalibration]
    by_team: dict[str, dict[str, FactorCalibration]]
    by_estimator: dict[str, dict[str, FactorCalibration]]
    delivery: DeliveryCalibration | None
    delivery_by_team: dict[str, DeliveryCalibration]
    schedule: ScheduleCalibration | None

    def to_dict(self) -> dict:
        def group(d: dict[str, dict[str, FactorCalibration]]) -> dict:
            return {k: {f: c.to_dict() for f, c in v.items()} for k, v in d.items()}

        out: dict = {"n": self.n, "quarters": list(self.quarters)}
        out.update({f: c.to_dict() for f, c in self.factors.items()})
        out["by_team"] = group(self.by_team)
        out["by_estimator"] = group(self.by_estimator)
        out["delivery"] = None if self.delivery is None else self.delivery.to_dict()
        out["delivery_by_team"] = {t: d.to_dict() for t, d in self.delivery_by_team.items()}
        out["schedule"] = None if self.schedule is None else self.schedule.to_dict()
        return out


# --- vectorized evaluation of a list of estimates ------------------------------------------------


def _by_family(estimates: Sequence[Estimate]) -> dict[str, tuple[np.ndarray, tuple[np.ndarray, ...]]]:
    """Indices and stacked parameter arrays per family, so each family is evaluated in one call."""
    groups: dict[str, list[int]] = {}
    for i, est in enumerate(estimates):
        groups.setdefault(est.family, []).append(i)
    out = {}
    for family, idx in groups.items():
        params = np.array([estimates[i].params for i in idx], float)
        out[family] = (np.array(idx, int), tuple(params.T))
    return out


def _apply(estimates: Sequence[Estimate], fn: str, x: np.ndarray | float) -> np.ndarray:
    """`family.<fn>(x_i, *params_i)` for every estimate i, one vectorized call per family."""
    out = np.full(len(estimates), np.nan)
    x = np.broadcast_to(np.asarray(x, float), (len(estimates),))
    with np.errstate(all="ignore"):
        for family, (idx, params) in _by_family(estimates).items():
            out[idx] = getattr(FAMILIES[family], fn)(x[idx], *params)
    return out


def medians(estimates: Sequence[Estimate]) -> np.ndarray:
    """Each estimate's median."""
    return _apply(estimates, "ppf", 0.5)


def means(estimates: Sequence[Estimate]) -> np.ndarray:
    """Each estimate's mean."""
    out = np.full(len(estimates), np.nan)
    for family, (idx, params) in _by_family(estimates).items():
        out[idx] = FAMILIES[family].mean(*params)
    return out


def log_widths(estimates: Sequence[Estimate]) -> np.ndarray:
    """(ln q95 − ln q05) / (2·1.6449): exactly σ of a lognormal range, the same scale for other
    families, 0 for point estimates (NaN when the 5th percentile is not above 0)."""
    with np.errstate(all="ignore"):
        q05, q95 = _apply(estimates, "ppf", 0.05), _apply(estimates, "ppf", 0.95)
        s = (np.log(q95) - np.log(q05)) / (2 * Z95)
    points = np.array([e.is_point for e in estimates], bool)
    return np.where(points, 0.0, np.where(q05 > 0, s, np.nan))


def pit(estimates: Sequence[Estimate], actual: np.ndarray) -> np.ndarray:
    """u = F(actual) per record; NaN for point estimates and actuals missing or not above 0."""
    actual = np.asarray(actual, float)
    u = _apply(estimates, "cdf", np.where(np.isfinite(actual), actual, 0.0))
    points = np.array([e.is_point for e in estimates], bool)
    return np.where(points | ~(actual > 0), np.nan, u)


def log_ratios(estimates: Sequence[Estimate], actual: np.ndarray) -> np.ndarray:
    """r = ln(actual / estimated median) per record (points included); NaN where there is no actual > 0."""
    actual = np.asarray(actual, float)
    m = medians(estimates)
    with np.errstate(all="ignore"):
        return np.where((actual > 0) & (m > 0), np.log(actual / m), np.nan)


def binomial(hits: np.ndarray) -> Figure:
    """The share of true values in a boolean array, with its binomial standard error."""
    n = hits.size
    if n == 0:
        return Figure(math.nan, math.nan)
    p = float(np.mean(hits))
    return Figure(p, math.sqrt(p * (1 - p) / n))


def hit_rates(u: np.ndarray, levels: Sequence[float] = LEVELS) -> dict[float, Figure]:
    """Share of PIT values inside each central interval (|u − 0.5| <= p/2), binomial se."""
    u = np.asarray(u, float)
    u = u[np.isfinite(u)]
    return {p: binomial(np.abs(u - 0.5) <= p / 2 + 1e-12) for p in levels}


def factor_calibration(factor: str, estimates: Sequence[Estimate], actual: np.ndarray) -> FactorCalibration | None:
    """The calibration of one factor over records (NaN actuals are skipped); None with no data."""
    actual = np.asarray(actual, float)
    r = log_ratios(estimates, actual)
    measured = np.isfinite(r)
    if not measured.any():
        return None
    u_all = pit(estimates, actual)
    u = u_all[measured & np.isfinite(u_all)]
    n_point = int(np.sum(measured & np.array([e.is_point for e in estimates], bool)))
    r = r[measured]
    n = r.size
    med = float(np.median(r))
    sd = float(np.std(r, ddof=1)) if n > 1 else 0.0
    ratio = math.exp(med)
    ratio_se = ratio * MEDIAN_SE_FACTOR * sd / math.sqrt(n)  # delta method: d e^x = e^x dx
    p_value = float(stats.kstest(u, "uniform").pvalue) if u.size >= MIN_PIT_TEST else None
    return FactorCalibration(factor, int(n), n_point, hit_rates(u), Figure(ratio, ratio_se), sd, u, p_value)


def delivery_calibration(stated: np.ndarray, delivered: np.ndarray) -> DeliveryCalibration | None:
    """Stated probabilities against delivered (1/0; NaN unknown is skipped); None with no data."""
    stated, delivered = np.asarray(stated, float), np.asarray(delivered, float)
    keep = np.isfinite(stated) & np.isfinite(delivered)
    s, d = stated[keep], delivered[keep]
    n = s.size
    if n == 0:
        return None
    sq = (s - d) ** 2
    brier = Figure(float(sq.mean()), float(sq.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan)
    bins = np.minimum((s * 10).astype(int), 9)  # deciles of the stated probability
    count = np.bincount(bins, minlength=10)
    stated_sum = np.bincount(bins, weights=s, minlength=10)
    hits = np.bincount(bins, weights=d, minlength=10)
    rows = []
    for b in np.flatnonzero(count):
        rate = hits[b] / count[b]
        rows.append({"stated": float(stated_sum[b] / count[b]), "observed": float(rate),
                     "observed_se": math.sqrt(rate * (1 - rate) / count[b]), "n": int(count[b])})
    return DeliveryCalibration(int(n), brier, float(s.mean()), binomial(d > 0.5), tuple(rows))


def planned_delivery(history: History) -> tuple[np.ndarray, np.ndarray]:
    """Each record's planned delivery quarter (as the quarter's whole number) and whether it came
    from planned_quarter: planned_quarter + ⌈median effort / max_per_quarter⌉ − 1 (one quarter
    without max_per_quarter), else the quarter of the estimate."""
    effort = medians(history.estimates("effort"))
    start = np.array([parse_quarter(r.initiative.planned_quarter or r.quarter) for r in history.records], int)
    has_plan = np.array([r.initiative.planned_quarter is not None for r in history.records], bool)
    cap = np.array([r.initiative.max_per_quarter or np.nan for r in history.records], float)
    with np.errstate(invalid="ignore"):
        duration = np.where(np.isfinite(cap), np.maximum(np.ceil(effort / cap - 1e-9), 1), 1).astype(int)
    return np.where(has_plan, start + duration - 1, start), has_plan


def schedule_calibration(history: History) -> ScheduleCalibration | None:
    """How often the planned delivery quarter held (None without records whose outcome is known:
    delivered with its quarter recorded, or not delivered)."""
    if not len(history):
        return None
    delivered = history.delivered()
    shipped = np.array([math.nan if r.actual.delivered_quarter is None else parse_quarter(r.actual.delivered_quarter)
                        for r in history.records], float)
    known = (delivered == 0) | ((delivered == 1) & np.isfinite(shipped))
    if not known.any():
        return None
    planned, has_plan = planned_delivery(history)
    on_time = (delivered == 1) & (shipped <= planned)
    late = (delivered == 1) & (shipped > planned) & known
    late_by = (shipped - planned)[late]
    deadline = np.array([math.nan if r.initiative.deadline is None else parse_quarter(r.initiative.deadline)
                         for r in history.records], float)
    with_deadline = known & np.isfinite(deadline)
    met = (delivered == 1) & (shipped <= deadline)
    plans = has_plan[known]
    basis = ("planned_quarter" if plans.all() else "quarter of the estimate" if not plans.any()
             else "planned_quarter, else the quarter of the estimate")
    return ScheduleCalibration(int(known.sum()), binomial(on_time[known]),
                               float(np.median(late_by)) if late_by.size else None, int(with_deadline.sum()),
                               binomial(met[with_deadline]) if with_deadline.any() else None, basis)


def measured_actual(history: History, factor: str) -> np.ndarray:
    """The actuals of `factor` that measure its estimates: NaN where not recorded, and where the
    initiative is known not to have been delivered (its effort is incomplete, nothing was launched)."""
    actual = history.actual(factor)
    return np.where(history.delivered() == 0, np.nan, actual)


def _factors(history: History, keep: np.ndarray | None = None) -> dict[str, FactorCalibration]:
    out = {}
    for factor in MEASURED:
        actual = measured_actual(history, factor)
        if keep is not None:
            actual = np.where(keep, actual, np.nan)
        cal = factor_calibration(factor, history.estimates(factor), actual)
        if cal is not None:
            out[factor] = cal
    return out


def stated_delivery(history: History) -> np.ndarray:
    """Each record's stated delivery probability: its confidence estimate's mean."""
    return means(history.estimates("confidence"))


def measure(history: History) -> CalibrationReport:
    """Every calibration measure of a history: overall, per team and per estimator."""
    teams, estimators = history.teams(), history.estimators()
    by_team = {str(t): f for t in sorted(set(teams) - {""}) if (f := _factors(history, teams == t))}
    by_est = {str(e): f for e in sorted(set(estimators) - {""}) if (f := _factors(history, estimators == e))}
    stated, delivered = stated_delivery(history), history.delivered()
    delivery_by_team = {}
    for t in sorted(set(teams) - {""}):
        cal = delivery_calibration(stated[teams == t], delivered[teams == t])
        if cal is not None:
            delivery_by_team[str(t)] = cal
    return CalibrationReport(len(history), history.quarters, _factors(history), by_team, by_est,
                             delivery_calibration(stated, delivered), delivery_by_team,
                             schedule_calibration(history))

"""Correcting this quarter's ranges for how past estimates turned out (`calibration.json`).

Method (`METHOD` says it in plain words): per factor and team, on the log scale, r = ln(actual /
estimated median) and s = (ln q95 − ln q05) / (2·1.6449), σ of a lognormal range. Shift b = median r;
widening by split conformal prediction: scores z = |r − b| / s over the ranges, q̂ their
⌈(n+1)·0.9⌉-th smallest, w = q̂ / 1.6449. A corrected estimate is lognormal with median m·e^b and
log-sd w·s; a point p becomes p·e^b·e^(±h), h the ⌈(n+1)·0.9⌉-th smallest |r − b|. Guarantee: for
estimates exchangeable with the history's, corrected 90% ranges hold the actual with probability
>= 90% (less about 1/n for fitting b on the same records), whatever the errors' shape. Needs
MIN_HISTORY = 9 records; a smaller team gets the factor's pooled correction. Bootstrap standard
errors. Delivery: isotonic regression (pool-adjacent-violators) of delivered on stated probability,
per team with MIN_DELIVERY_HISTORY = 20 records (pulled toward the pooled map as if it added
PRIOR_RECORDS = 10 records), else pooled; piecewise linear, scaled by the nearest end's ratio beyond
the stated chances seen, kept in [1%, 100%]. A team with too few ranges takes every team's widening.
The file itself (writing, reading, validating) is `calibration_file`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np

from ..model.distributions import Z95
from ..model.estimates import Estimate, number_text, parse_estimate
from ..model.portfolio import Portfolio
from ..rng import stream
from .history import MEASURED, History
from .measures import log_ratios, log_widths, measure, measured_actual, medians, stated_delivery

MIN_HISTORY = 9  # the conformal 90% quantile ⌈(n+1)·0.9⌉ exists from n = 9
MIN_DELIVERY_HISTORY = 20
PRIOR_RECORDS = 10  # how strongly a team's delivery map is pulled toward every team's (`delivery_mapping`)
LEVEL = 0.9
BOOTSTRAP = 1000
VERSION = 1
MAPPED_MIN = 0.01  # a mapped delivery probability never goes below 1%

METHOD = (
    "Shift and widening of the log-scale ranges per factor and team, by split conformal prediction: "
    "the shift is the median of log(actual / estimated median) over the past records; the widening "
    "makes the 90% range reach the ⌈(n+1)·0.9⌉-th smallest of the past records' distances from the "
    "shifted median, measured in each range's own width. When next quarter's estimates are like the "
    "history's, corrected 90% ranges hold the actual at least 90% of the time (less about 1/n for "
    "fitting the shift), whatever the shape of the errors. It needs at least 9 past records with an "
    "actual per group; a team with fewer uses the correction pooled over every team. Stated delivery "
    "probabilities are mapped to the observed delivery rates by isotonic regression (at least 20 "
    "records per team, else pooled; a team's map is pulled toward every team's as if that added 10 of its "
    "records, so a few misses do not make a 0% team). Standard errors by bootstrap (1,000 resamples)."
)


@dataclass(frozen=True)
class RangeCorrection:
    """One group's correction: median ×shift, log-width ×widen."""

    factor: str
    team: str | None  # None: every team (the pooled correction)
    n: int
    shift: float  # e^b
    shift_se: float
    widen: float  # w (1.0 with widen_se NaN when under MIN_HISTORY ranges: not learned)
    widen_se: float
    point_half_width: float | None  # h, log scale

    def to_dict(self) -> dict:
        return {k: _num(getattr(self, k)) if isinstance(getattr(self, k), float) else getattr(self, k)
                for k in ("factor", "team", "n", "shift", "shift_se", "widen", "widen_se", "point_half_width")}


@dataclass(frozen=True)
class DeliveryMapping:
    """Stated delivery probability -> observed rate, piecewise linear through the knots."""

    team: str | None
    n: int
    stated: tuple[float, ...]
    observed: tuple[float, ...]

    def __call__(self, p) -> np.ndarray:
        # Beyond the stated chances the history holds, the ratio observed at the nearest end scales the
        # chance (a constant would lift a long shot stated at 30% to the rate seen at 60%).
        p = np.asarray(p, float)
        (x0, x1), (y0, y1) = (self.stated[0], self.stated[-1]), (self.observed[0], self.observed[-1])
        inside = np.interp(p, self.stated, self.observed)
        scaled = np.where(p < x0, p * y0 / x0, np.where(p > x1, p * y1 / x1, inside)) if x0 > 0 and x1 > 0 else inside
        return np.clip(scaled, MAPPED_MIN, 1.0)

    def to_dict(self) -> dict:
        return {"team": self.team, "n": self.n, "stated": list(self.stated), "observed": list(self.observed)}


@dataclass(frozen=True)
class Calibration:
    """A learned correction of ranges and delivery probabilities (the content of calibration.json)."""

    ranges: tuple[RangeCorrection, ...]
    delivery: tuple[DeliveryMapping, ...]
    learned_from: dict
    method: str
    measured: dict | None = None

    def correction(self, factor: str, team: str | None) -> RangeCorrection | None:
        """The team's correction of `factor`, else the pooled one, else None."""
        pooled = None
        for c in self.ranges:
            if c.factor == factor and c.team is not None and c.team == team:
                return c
            if c.factor == factor and c.team is None:
                pooled = c
        return pooled

    def mapping(self, team: str | None) -> DeliveryMapping | None:
        """The team's delivery mapping, else the pooled one, else None."""
        own = [m for m in self.delivery if m.team is not None and m.team == team]
        pooled = [m for m in self.delivery if m.team is None]
        return (own or pooled or [None])[0]

    def to_dict(self) -> dict:
        return {"workbench_calibration": VERSION, "method": self.method, "learned_from": self.learned_from,
                "ranges": [c.to_dict() for c in self.ranges], "delivery": [m.to_dict() for m in self.delivery],
                "measured": self.measured}

    @classmethod
    def from_dict(cls, data: dict, source: str | None = None) -> Calibration:
        """A calibration from its JSON dict; InputError with every problem, located by key path."""
        from .calibration_file import calibration_from_dict  # the file's validator needs these classes

        return calibration_from_dict(data, source)


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


# --- learning --------------------------------------------------------------------------------------


def _rank(n: int, level: float = LEVEL) -> int:
    """The conformal rank ⌈(n+1)·level⌉ (1-based)."""
    return math.ceil((n + 1) * level - 1e-9)


def _range_correction(factor: str, team: str | None, r: np.ndarray, s: np.ndarray,
                      rng: np.random.Generator) -> RangeCorrection | None:
    """The conformal shift and widening of one group (r log-ratios, s log-widths, 0 for points)."""
    n, ranges = r.size, s > 0
    if n < MIN_HISTORY:
        return None
    b = float(np.median(r))
    h = float(np.sort(np.abs(r - b))[_rank(n) - 1])
    if ranges.sum() < MIN_HISTORY:  # mostly point estimates: too few ranges to learn a widening from
        return RangeCorrection(factor, team, int(n), math.exp(b), _shift_se(r, rng), 1.0, math.nan, h)
    scores = np.sort(np.abs(r[ranges] - b) / s[ranges])
    widen = float(scores[_rank(scores.size) - 1] / Z95)
    # Bootstrap: B resamples of the records at once; a point's score is +inf so that the k-th smallest
    # of each row is over that row's ranges only, with k from that row's number of ranges.
    idx = rng.integers(0, n, (BOOTSTRAP, n))
    rb, sb = r[idx], s[idx]
    bb = np.median(rb, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        zb = np.where(sb > 0, np.abs(rb - bb[:, None]) / sb, np.inf)
    count = (sb > 0).sum(axis=1)
    k = np.minimum(np.ceil((count + 1) * LEVEL - 1e-9).astype(int), n) - 1
    qb = np.take_along_axis(np.sort(zb, axis=1), k[:, None], axis=1)[:, 0]
    qb = np.where((count >= MIN_HISTORY) & np.isfinite(qb), qb, np.nan)
    return RangeCorrection(factor, team, int(n), math.exp(b), float(np.std(np.exp(bb), ddof=1)),
                           widen, float(np.nanstd(qb / Z95, ddof=1)), h)


def _shift_se(r: np.ndarray, rng: np.random.Generator) -> float:
    """Bootstrap standard error of e^median(r)."""
    return float(np.std(np.exp(np.median(r[rng.integers(0, r.size, (BOOTSTRAP, r.size))], axis=1)), ddof=1))


def isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool-adjacent-violators fit of y non-decreasing in x: the blocks' mean x, mean y and sizes."""
    order = np.argsort(x, kind="stable")
    x, y = np.asarray(x, float)[order], np.asarray(y, float)[order]
    # Equal x share one fitted value: start from one block per distinct x.
    _, start = np.unique(x, return_index=True)
    w = np.diff(np.append(start, x.size)).astype(float)
    sx, sy = np.add.reduceat(x, start), np.add.reduceat(y, start)
    bw, bx, by = [], [], []  # a stack of blocks (weight, sum x, sum y); the loop is over blocks
    for wi, xi, yi in zip(w, sx, sy):
        bw.append(wi), bx.append(xi), by.append(yi)
        while len(bw) > 1 and by[-2] / bw[-2] >= by[-1] / bw[-1]:  # equal neighbours too: one block per level
            wl, xl, yl = bw.pop(), bx.pop(), by.pop()
            bw[-1] += wl
            bx[-1] += xl
            by[-1] += yl
    return np.array(bx) / np.array(bw), np.array(by) / np.array(bw), np.array(bw)


def delivery_mapping(stated: np.ndarray, delivered: np.ndarray, team: str | None = None,
                     pooled: DeliveryMapping | None = None) -> DeliveryMapping | None:
    """The isotonic map of stated delivery probability to observed rate (None under 20 records).

    With `pooled` (every team's map), a team's outcomes are shrunk toward it as if the pooled map
    added PRIOR_RECORDS records of the team's own: y' = (y + λ·pooled(x)) / (1 + λ), λ = PRIOR_RECORDS / n.
    Twenty yes/no outcomes are too few to trust a 0% or 100% block (a team that missed its three
    60% initiatives is not a team that never delivers); the pull fades as the team's history grows.
    """
    keep = np.isfinite(stated) & np.isfinite(delivered)
    n = int(keep.sum())
    if n < MIN_DELIVERY_HISTORY:
        return None
    x, y = stated[keep], delivered[keep]
    if pooled is not None:
        lam = PRIOR_RECORDS / n
        y = (y + lam * pooled(x)) / (1 + lam)
    mx, my, _ = isotonic(x, y)
    return DeliveryMapping(team, n, tuple(map(float, mx)), tuple(map(float, my)))


def learn(history: History, *, seed: int = 2026) -> Calibration:
    """Learn the range corrections and delivery mappings of a history (see the module docstring)."""
    teams = history.teams()
    groups = [None, *sorted(set(teams) - {""})]
    ranges = []
    for factor in MEASURED:
        estimates = history.estimates(factor)
        r = log_ratios(estimates, measured_actual(history, factor))
        s = log_widths(estimates)
        ok = np.isfinite(r) & np.isfinite(s)
        for team in groups:
            mask = ok if team is None else ok & (teams == team)
            rng = stream(seed, "calibration-bootstrap", factor, team or "")
            corr = _range_correction(factor, team, r[mask], s[mask], rng)
            pooled = next((c for c in ranges if c.factor == factor and c.team is None), None)
            if corr is not None and team is not None and math.isnan(corr.widen_se) and pooled is not None:
                # Too few ranges of its own to learn a widening (mostly single numbers): every team's.
                corr = replace(corr, widen=pooled.widen, widen_se=pooled.widen_se)
            if corr is not None:
                ranges.append(corr)
    stated, delivered = stated_delivery(history), history.delivered()
    pooled = delivery_mapping(stated, delivered)
    mappings = [m for m in [pooled, *(delivery_mapping(stated[teams == t], delivered[teams == t], t, pooled)
                                      for t in groups[1:])] if m is not None]
    learned_from = {"quarters": list(history.quarters), "records": len(history), "files": list(history.files),
                    "actuals": history.actuals_file}
    return Calibration(tuple(ranges), tuple(mappings), learned_from, METHOD, measure(history).to_dict())


# --- applying ----------------------------------------------------------------------------------------


def _sig(x: float, digits: int) -> str:
    return number_text(float(f"{x:.{digits}g}"))


def _range_text(lo: float, hi: float, percent: bool = False) -> str:
    """"lo..hi" to 3 significant digits (more when 3 would make the ends equal)."""
    scale, unit = (100.0, "%") if percent else (1.0, "")
    for digits in range(3, 18):
        a, b = _sig(lo * scale, digits), _sig(hi * scale, digits)
        if float(a) < float(b):
            break
    return f"{a}{unit}..{b}{unit}"


# Cached: the pipeline applies the calibration on every dashboard change, and parsing the corrected text
# costs about a millisecond an estimate; estimates, corrections and mappings are frozen (hashable).
@functools.lru_cache(maxsize=1 << 16)
def correct_estimate(estimate: Estimate, factor: str, correction: RangeCorrection) -> Estimate:
    """The corrected estimate, parsed from the grammar text it is written as (so a saved file reads back
    the very same distribution): a lognormal range with median ×shift and log-width ×widen."""
    m = float(medians([estimate])[0])
    if estimate.is_point:
        h = correction.point_half_width or 0.0
        centre = m * correction.shift
        if not (m > 0 and h > 0):
            return parse_estimate(_sig(centre, 3) if m > 0 else estimate.text or number_text(m), factor)
        return parse_estimate(_range_text(centre * math.exp(-h), centre * math.exp(h)), factor)
    s = float(log_widths([estimate])[0])
    if not (m > 0 and math.isfinite(s) and s > 0):
        return estimate  # no log scale to correct on (a range reaching 0 at its 5th percentile)
    centre, half = m * correction.shift, Z95 * correction.widen * s
    return parse_estimate(_range_text(centre * math.exp(-half), centre * math.exp(half)), factor)


@functools.lru_cache(maxsize=1 << 16)
def correct_confidence(estimate: Estimate, mapping: DeliveryMapping) -> Estimate:
    """A delivery probability mapped to the observed rate: a point g(c); a range g(q05)..g(q95)
    (logit-normal, or pert(g(q05), g(median), g(q95)) when it reaches 100%); a point when they coincide."""
    lo, med, hi = (float(v) for v in mapping(estimate.ppf([0.05, 0.5, 0.95])))
    if estimate.is_point or hi - lo < 1e-3:  # a flat map: one chance, not a range a tenth of a point wide
        return parse_estimate(f"{_sig(med * 100, 3)}%", "confidence")
    # A logit-normal range cannot reach 100%: its 95th percentile stays at 99.5% at most.
    return parse_estimate(_range_text(min(lo, 0.99), min(hi, 0.995), percent=True), "confidence")


def apply_calibration(portfolio: Portfolio, calibration: Calibration, confidence_mode: str = "success") -> Portfolio:
    """The portfolio with every reach, impact and effort corrected (the team's correction, else the
    pooled one) and, in `success` mode, confidence mapped; everything else unchanged."""
    out = []
    for ini in portfolio.initiatives:
        changes = {}
        for factor in MEASURED:
            corr = calibration.correction(factor, ini.team)
            if corr is not None:
                changes[factor] = correct_estimate(ini.estimate(factor), factor, corr)
        mapping = calibration.mapping(ini.team) if confidence_mode == "success" else None
        if mapping is not None:
            changes["confidence"] = correct_confidence(ini.confidence, mapping)
        out.append(replace(ini, **changes) if changes else ini)
    return portfolio.with_initiatives(out)


@dataclass(frozen=True)
class Applied:
    """One correction as used on a portfolio, for the sentence every view shows."""

    factor: str
    team: str | None
    shift: float
    widen: float
    initiatives: int
    pooled: bool


def applied(calibration: Calibration, portfolio: Portfolio, confidence_mode: str = "success") -> tuple[Applied, ...]:
    """The corrections used on `portfolio`, one per (factor, correction) with the initiatives it touched;
    factor "confidence" rows (shift and widen NaN) for the delivery mappings used."""
    counts: dict[tuple, int] = {}
    for ini in portfolio.initiatives:
        for factor in MEASURED:
            corr = calibration.correction(factor, ini.team)
            if corr is not None:
                counts[(factor, corr)] = counts.get((factor, corr), 0) + 1
        mapping = calibration.mapping(ini.team) if confidence_mode == "success" else None
        if mapping is not None:
            counts[("confidence", mapping)] = counts.get(("confidence", mapping), 0) + 1
    out = []
    for (factor, c), count in counts.items():  # a DeliveryMapping has no shift or widening: NaN
        out.append(Applied(factor, c.team, getattr(c, "shift", math.nan), getattr(c, "widen", math.nan), count,
                           c.team is None))
    order = {f: i for i, f in enumerate((*MEASURED, "confidence"))}
    return tuple(sorted(out, key=lambda a: (order[a.factor], a.team is None, a.team or "")))

"""Monte Carlo RICE: sample every estimate, score every initiative, rank them, per scenario.

Layout is samples x initiatives. Work proceeds in chunks of at most `CHUNK_ELEMENTS` values,
so memory stays bounded whatever the sample count; statistics are merged across chunks.
Rank counts are initiatives x ranks: every rank while n² fits `limits.MAX_RANK_MATRIX` (the exact
rank-probability matrix), else the first `kept_ranks` ranks and each initiative's rank sum, so
P(top k) and the mean rank stay exact in memory linear in the number of initiatives.
Quasi-random methods run as independent randomized replicates whose spread gives their error.

Speed (benchmarks/bench_rice.py: about 1.2-1.5x the time numpy takes only to draw the random
numbers): each initiative's draws go in place into its row of buffers reused chunk after chunk,
ranks come from sorting int64 keys (`ranking`), exact quantiles are selected a few rows at a
time. The random numbers, and so every result, are the same as drawing each family's block at
once and argsorting float keys, for the same seed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from .. import limits
from ..model.correlation import copula_factor, correlation_matrix
from ..model.distributions import FAMILIES, Point
from ..model.estimates import FACTORS, Estimate, lognormal_interval
from ..model.portfolio import Portfolio
from ..rng import check_seed, stream
from .ranking import rank_counts, rank_order, rank_sums
from .results import SimulationResult, top_k_probability, z95
from .sample import METHODS, Design

CONFIDENCE_MODES = ("success", "multiplier", "spread")
# Confidence -> multiplicative half-width of the 90% interval in `spread` mode.
DEFAULT_SPREAD = {1.0: 1.0, 0.8: 1.5, 0.5: 3.0, 0.2: 6.0}
CHUNK_ELEMENTS = 1 << 22  # values per factor array in one chunk (32 MiB of float64)
KEEP_SCORES_LIMIT = 1 << 25  # keep the full score matrix up to this many values (256 MiB)
QMC_REPLICATES = 8
MAX_PRECISION_SAMPLES = 10_000_000
QUANTILE_BLOCK = 1 << 17  # values partitioned at once for exact quantiles (1 MiB: stays in cache)
U_EPS = 1e-12  # keeps inverse CDFs finite where a design yields exactly 0
RANKS_KEPT = 20  # ranks counted beyond top k when the full matrix is not kept (the dashboard's slider)


def kept_ranks(n: int, top_k: int | None = None, replicates: int = 1) -> int:
    """How many ranks (columns of the rank counts) a ranking of n initiatives counts: all of them
    while the n x n matrix, once per replicate, fits `limits.MAX_RANK_MATRIX`, else enough for
    P(top k) and a margin."""
    if replicates * n * n <= limits.MAX_RANK_MATRIX:
        return n
    return min(n, max(top_k or 0, RANKS_KEPT))


def spread_factor(confidence: np.ndarray | float, mapping: dict[float, float] | None = None) -> np.ndarray:
    """The x/÷ factor of the 90% interval that `spread` mode gives a single-number estimate.

    Interpolated linearly in log(factor) between the mapping's points, constant beyond them.
    """
    mapping = DEFAULT_SPREAD if mapping is None else mapping
    cs = np.array(sorted(mapping))
    logs = np.log([mapping[c] for c in cs])
    return np.exp(np.interp(confidence, cs, logs))


def effective_estimates(portfolio: Portfolio, confidence_mode: str,
                        spread: dict[float, float] | None = None) -> dict[str, list[Estimate]]:
    """The estimates the engine samples: as written, except that `spread` widens single numbers."""
    est = {f: portfolio.estimates(f) for f in FACTORS}
    if confidence_mode == "spread":
        factors = spread_factor([c.median() for c in est["confidence"]], spread)
        for f in ("reach", "impact", "effort"):
            est[f] = [
                lognormal_interval(e.median() / k, e.median() * k, f"{e.text} (×/÷{k:.2g})")
                if e.is_point and e.median() > 0 and k > 1 else e
                for e, k in zip(est[f], factors)
            ]
    return est


def _median(e: Estimate) -> float:
    """The estimate's median; a point's value read directly (the same number, without a ppf call
    per estimate, which dominated preparing a portfolio of thousands of initiatives)."""
    return float(e.params[0]) if e.is_point else e.median()


@dataclass
class _Group:
    """Initiatives of one factor that share a distribution family, with stacked (k, 1) parameters
    (for inverse CDFs of a block) and each initiative's own scalars (for its row's draws)."""

    family: type
    cols: np.ndarray
    params: tuple[np.ndarray, ...]
    scalars: list[tuple[float, ...]]


def _groups(estimates: list[Estimate]) -> list[_Group]:
    by_family: dict[str, list[int]] = {}
    for j, e in enumerate(estimates):
        by_family.setdefault(e.family, []).append(j)
    out = []
    for family, cols in by_family.items():
        params = tuple(np.array([estimates[j].params[k] for j in cols])[:, None]
                       for k in range(len(estimates[cols[0]].params)))
        scalars = [tuple(float(x) for x in estimates[j].params) for j in cols]
        out.append(_Group(FAMILIES[family], np.array(cols), params, scalars))
    return out


class PortfolioModel:
    """Everything about a portfolio the sampler needs, prepared once per simulation."""

    def __init__(self, portfolio: Portfolio, confidence_mode: str, spread):
        self.n = len(portfolio)
        self.mode = confidence_mode
        est = effective_estimates(portfolio, confidence_mode, spread)
        self.groups = {f: _groups(est[f]) for f in FACTORS}
        # One design dimension per uncertain estimate, plus one per Bernoulli success draw.
        self.dims: dict[str, np.ndarray] = {}
        self.uncertain: dict[str, np.ndarray] = {}
        d = 0
        for f in FACTORS:
            cols = np.array([j for j, e in enumerate(est[f]) if not e.is_point], dtype=int)
            self.uncertain[f], self.dims[f] = cols, np.arange(d, d + cols.size)
            d += cols.size
        conf = est["confidence"]
        drawn = [j for j, c in enumerate(conf) if not (c.is_point and _median(c) >= 1)]
        self.success_cols = np.array(drawn if confidence_mode == "success" else [], dtype=int)
        self.success_dims = np.arange(d, d + self.success_cols.size)
        self.n_dims = d + self.success_cols.size
        self.estimates = est
        self.point_row = {f: np.array([_median(e) if e.is_point else 0.0 for e in est[f]]) for f in FACTORS}
        self.point_cols = {f: np.array([j for j, e in enumerate(est[f]) if e.is_point], dtype=int) for f in FACTORS}
        # Exact ties between positive scores need two initiatives whose score is a fixed number when
        # positive. Confidence enters that number only as a multiplier: in `success` mode it decides
        # whether the initiative delivers, not what a delivered one scores.
        in_score = FACTORS if confidence_mode == "multiplier" else ("reach", "impact", "effort")
        values = [np.prod([_median(est[f][j]) for f in in_score if f != "effort"]) / _median(est["effort"][j])
                  for j in range(self.n) if all(est[f][j].is_point for f in in_score)]
        self.may_tie = len(values) != len(set(values))
        # Correlated (initiative, factor) pairs on uncertain estimates only: a constant has no rank.
        self.corr_vars, self.corr_factor = [], None
        if portfolio.correlations:
            variables, m = correlation_matrix(portfolio)
            keep = [k for k, (j, f) in enumerate(variables) if not est[f][j].is_point]
            if len(keep) > 1:
                self.corr_vars = [variables[k] for k in keep]
                self.corr_factor = copula_factor(m[np.ix_(keep, keep)])
                dim_of = {f: dict(zip(self.uncertain[f].tolist(), self.dims[f].tolist())) for f in FACTORS}
                self.corr_dims = np.array([dim_of[f][j] for j, f in self.corr_vars])

    def fill_factor(self, f: str, out: np.ndarray, rng, u: np.ndarray | None) -> None:
        """Fill `out` (n x rows) with samples of factor f: native draws when u is None, else
        inverse CDFs of u.

        Each initiative is a contiguous row. Native draws go straight into their row, one call
        per initiative in column order: the same numbers as one block draw per family, without
        the block's temporaries and copies (the draws are most of a simulation's time).
        """
        for j in self.point_cols[f]:  # row by row: a fill each, far faster than a fancy-indexed broadcast
            out[j].fill(self.point_row[f][j])
        if u is not None:
            uf = np.empty(out.shape)
            uf[self.uncertain[f]] = u[:, self.dims[f]].T
        for g in self.groups[f]:
            if g.family is Point:
                continue
            if u is None:
                for j, p in zip(g.cols, g.scalars):
                    g.family.draw_into(rng, out[j], *p)
            else:
                out[g.cols] = g.family.ppf(uf[g.cols], *g.params)

    def scores(self, rows: int, rng: np.random.Generator, u: np.ndarray | None,
               out: np.ndarray | None = None, work: np.ndarray | None = None) -> np.ndarray:
        """One chunk of RICE scores, value / effort, as initiatives x rows (into `out` if given;
        `work` as in `value_and_effort`)."""
        value, effort = self.value_and_effort(rows, rng, u, out, work)
        return np.divide(value, effort, out=value)

    def work_buffer(self, rows: int) -> np.ndarray:
        """Scratch for `value_and_effort` chunks of up to `rows` rows, to reuse across chunks."""
        return np.empty(3 * self.n * rows)

    def value_and_effort(self, rows: int, rng: np.random.Generator, u: np.ndarray | None,
                         value: np.ndarray | None = None,
                         work: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One chunk of the RICE numerator (R·I·success, or R·I·C) and of effort, initiatives x rows.

        `u` (rows x n_dims uniforms) is given for lhs/sobol, None for mc. `value` (n x rows, rows
        contiguous) receives the numerator and `work` (from `work_buffer`) holds the other factors;
        both are allocated when None; with `work`, the effort returned is a view of it.
        """
        if value is None:
            value = np.empty((self.n, rows))
        if work is None:  # separate arrays: the effort returned does not keep the others alive
            impact, conf, effort = (np.empty((self.n, rows)) for _ in range(3))
        else:  # contiguous (n, rows) blocks of the flat buffer, whatever the chunk's size
            impact, conf, effort = work[:3 * self.n * rows].reshape(3, self.n, rows)
        corr_u = None
        if self.corr_factor is not None:
            z = (special.ndtri(u[:, self.corr_dims]) if u is not None
                 else rng.standard_normal((rows, len(self.corr_vars))))
            corr_u = np.clip(special.ndtr(z @ self.corr_factor.T), U_EPS, 1 - U_EPS)
            if u is not None:
                u[:, self.corr_dims] = corr_u
        values = dict(zip(FACTORS, (value, impact, conf, effort)))
        for f in FACTORS:
            self.fill_factor(f, values[f], rng, u)
            if u is None and corr_u is not None:
                for k, (j, vf) in enumerate(self.corr_vars):
                    if vf == f:
                        e = self.estimates[f][j]
                        values[f][j] = e.dist.ppf(corr_u[:, k], *e.params)
        value *= impact  # the reach drawn into `value` becomes R·I
        if self.mode == "multiplier":
            value *= conf
        elif self.mode == "success" and self.success_cols.size:
            # Impact's block is free now: the success uniforms go there (the same numbers as one block draw).
            us = (u[:, self.success_dims].T if u is not None
                  else rng.random(out=impact[:self.success_cols.size]))
            # Row by row (a loop over initiatives, each a contiguous vector over samples) avoids
            # gathering and scattering whole blocks.
            for k, j in enumerate(self.success_cols):
                value[j] *= us[k] < conf[j]
        return value, effort


def _quantiles(scores_t: np.ndarray, qs=(0.1, 0.5, 0.9)) -> np.ndarray:
    """Per initiative (row of an initiatives x samples array), linearly interpolated quantiles
    (numpy's default method): qs x initiatives.

    A few rows at a time through one reused buffer of `QUANTILE_BLOCK` values (it stays in
    cache; a copy of the whole matrix did not), partitioned at the lower order statistics only:
    the next one up is the minimum of the part between that point and the next, a cheaper pass
    than selecting it too.
    """
    n, m = scores_t.shape
    pos = np.asarray(qs, dtype=float) * (m - 1)
    lo, hi = np.floor(pos).astype(int), np.ceil(pos).astype(int)
    kth = np.unique(lo)
    ends = dict(zip(kth.tolist(), np.append(kth[1:] + 1, m).tolist()))  # each point's part above it
    low, high = np.empty((len(pos), n)), np.empty((len(pos), n))
    step = max(1, QUANTILE_BLOCK // m)
    buf = np.empty((min(step, n), m))
    for start in range(0, n, step):  # a loop over blocks of initiatives, each vectorized over samples
        stop = min(start + step, n)
        block = buf[:stop - start]
        block[...] = scores_t[start:stop]
        block.partition(kth, axis=1)
        low[:, start:stop] = block[:, lo].T
        for q, (a, b) in enumerate(zip(lo.tolist(), hi.tolist())):
            high[q, start:stop] = block[:, a] if a == b else block[:, a + 1:ends[a]].min(axis=1)
    frac = pos - lo
    return low * (1 - frac)[:, None] + high * frac[:, None]


class _Accumulator:
    """Streaming statistics of scores and ranks, merged chunk by chunk."""

    def __init__(self, n: int, replicates: int, keep_rows: int | None, check_ties: bool = True,
                 ranks: int | None = None):
        self.n, self.count, self.check_ties = n, 0, check_ties
        self.mean, self.m2 = np.zeros(n), np.zeros(n)
        self.ranks = n if ranks is None else min(ranks, n)
        self.counts = np.zeros((replicates, n, self.ranks), dtype=np.int64)
        # Mean ranks come from the counts when every rank is counted, else from these sums.
        self.rank_sum = np.zeros(n, dtype=np.int64) if self.ranks < n else None
        self.rep_count = np.zeros(replicates, dtype=np.int64)
        self.quantile_sum, self.quantile_weight = np.zeros((3, n)), 0
        # The kept score matrix, initiatives x samples, filled chunk by chunk.
        self.kept = np.empty((n, keep_rows)) if keep_rows is not None else None

    def kept_slice(self, rows: int) -> np.ndarray | None:
        """Where the next chunk's scores go when the matrix is kept (grown if sampling goes on)."""
        if self.kept is None:
            return None
        if self.count + rows > self.kept.shape[1]:  # precision mode asked for more samples
            grown = np.empty((self.n, max(2 * self.kept.shape[1], self.count + rows)))
            grown[:, :self.count] = self.kept[:, :self.count]
            self.kept = grown
        return self.kept[:, self.count:self.count + rows]

    def add(self, scores_t: np.ndarray, replicate: int, tie_rng: np.random.Generator,
            scratch: np.ndarray | None = None) -> None:
        """Merge one chunk of scores, given as initiatives x rows; `scratch` (flat, at least
        scores_t.size values) is reused for temporaries instead of allocating them."""
        rows = scores_t.shape[1]
        mean_b = scores_t.mean(axis=1)
        tmp = np.empty(scores_t.shape) if scratch is None else scratch[:scores_t.size].reshape(scores_t.shape)
        np.subtract(scores_t, mean_b[:, None], out=tmp)
        m2_b = np.square(tmp, out=tmp).sum(axis=1)
        total = self.count + rows
        delta = mean_b - self.mean
        self.mean += delta * rows / total
        self.m2 += m2_b + delta**2 * self.count * rows / total
        self.count = total
        # Ranking sorts within each sample: that needs samples as contiguous rows.
        key = None if scratch is None else scratch[:scores_t.size].reshape(rows, self.n)  # tmp is done with
        order = rank_order(scores_t.T, tie_rng, self.check_ties, key=key)
        if self.rank_sum is not None:
            self.rank_sum += rank_sums(order)
        self.counts[replicate] += rank_counts(order, self.ranks, overwrite=True)
        self.rep_count[replicate] += rows
        if self.kept is None:
            self.quantile_sum += rows * _quantiles(scores_t)
            self.quantile_weight += rows


def check_settings(method: str, confidence_mode: str) -> None:
    """Reject an unknown sampling method or confidence mode with the list of valid ones."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if confidence_mode not in CONFIDENCE_MODES:
        raise ValueError(f"unknown confidence mode {confidence_mode!r}; expected one of {', '.join(CONFIDENCE_MODES)}")


def simulate(portfolio: Portfolio, samples: int = 10_000, seed: int | None = None, method: str = "mc",
             confidence_mode: str = "success", *, spread: dict[float, float] | None = None,
             precision: float | None = None, top_k: int = 5, max_samples: int = MAX_PRECISION_SAMPLES,
             keep_scores: bool | None = None,
             progress: Callable[[int, int], None] | None = None) -> SimulationResult:
    """Simulate RICE scores of every initiative.

    samples: scenarios to draw (lhs/sobol round up to whole replicates; sobol to powers of two).
    precision: instead of a fixed count, keep sampling until every P(top-k) has a 95% half-width
        <= precision, or `max_samples` is reached; the result says which.
    keep_scores: keep the samples x initiatives score matrix (default: when it fits in 256 MiB).
    progress: called with (samples done, samples planned) after each chunk.
    """
    check_settings(method, confidence_mode)
    if precision is None and samples < 2:
        raise ValueError("samples must be at least 2")
    if precision is not None and not 0 < precision < 0.5:
        raise ValueError("precision must be a probability half-width between 0 and 0.5, e.g. 0.01")
    if precision is not None and not 1 <= top_k <= len(portfolio):
        raise ValueError(f"top_k must be between 1 and the number of initiatives ({len(portfolio)})")
    seed = check_seed(seed)
    model = PortfolioModel(portfolio, confidence_mode, spread)
    n = model.n
    replicates = 1 if method == "mc" else QMC_REPLICATES
    chunk = max(1, CHUNK_ELEMENTS // n)
    if method == "sobol":
        chunk = 1 << (chunk.bit_length() - 1)

    streams = []
    for r in range(replicates):
        rng = stream(seed, "simulate", r)
        design = None if method == "mc" else Design(method, model.n_dims, rng)
        streams.append((rng, design, stream(seed, "simulate-ties", r)))

    def per_replicate(total: int) -> int:
        m = -(-total // replicates)
        return 1 << (m - 1).bit_length() if method == "sobol" else m

    planned = per_replicate(samples if precision is None else 1024 * replicates) * replicates
    most = planned if precision is None else max(planned, max_samples)
    keep = (most * n <= KEEP_SCORES_LIMIT) if keep_scores is None else keep_scores
    acc = _Accumulator(n, replicates, keep_rows=planned if keep else None, check_ties=model.may_tie,
                       ranks=kept_ranks(n, top_k, replicates))

    buffers: dict = {"rows": 0}  # reused chunk after chunk: no fresh 32 MiB arrays (page faults) each time

    def scratch(rows: int) -> tuple[np.ndarray, np.ndarray]:
        if buffers["rows"] < rows:
            buffers.update(rows=rows, work=model.work_buffer(rows), value=np.empty(n * rows))
        return buffers["work"], buffers["value"][:n * rows].reshape(n, rows)

    def run(rows_per_replicate: int, total_planned: int) -> None:
        for r, (rng, design, tie_rng) in enumerate(streams):
            left = rows_per_replicate
            while left > 0:
                rows = min(chunk, left)
                u = None
                if design is not None:
                    u = np.clip(design.next(rows), U_EPS, 1 - U_EPS)
                work, value = scratch(rows)
                out = acc.kept_slice(rows)
                acc.add(model.scores(rows, rng, u, value if out is None else out, work), r, tie_rng, work)
                left -= rows
                if progress is not None:
                    progress(acc.count, total_planned)

    target = None
    if precision is None:
        run(planned // replicates, planned)
    else:
        target = precision
        run(planned // replicates, planned)
        while True:
            half = _half_width(acc, top_k, method)
            if half.max() <= precision or acc.count >= max_samples:
                break
            p = acc.counts.sum(0)[:, :top_k].sum(1) / acc.count
            if method == "mc":
                need = int(np.ceil((1.96**2 * p * (1 - p)).max() / precision**2))
                more = max(need - acc.count, acc.count // 4, 1)
            else:  # error falls about as 1/N for QMC: double until reached
                more = acc.count
            more = min(more, max_samples - acc.count)
            step = per_replicate(more)
            run(step, acc.count + step * replicates)
    return _result(acc, portfolio, seed, method, confidence_mode, target, top_k if target is not None else None)


def summarize_scores(portfolio: Portfolio, scores_t: np.ndarray, seed: int, confidence_mode: str,
                     check_ties: bool = True, top_k: int | None = None) -> SimulationResult:
    """A plain Monte Carlo result from an initiatives x samples score matrix drawn elsewhere
    (the pipeline's block draws); ties are broken on the seed's "ties" stream.
    check_ties=False when no two positive scores can be equal (see `PortfolioModel.may_tie`).
    top_k: the largest k whose P(top k) a large portfolio must count (see `kept_ranks`)."""
    n, rows = scores_t.shape
    acc = _Accumulator(n, 1, keep_rows=None, check_ties=check_ties, ranks=kept_ranks(n, top_k))
    acc.kept = scores_t  # kept whole: exact quantiles at the end, no per-chunk ones
    acc.add(scores_t, 0, stream(seed, "ties"), scratch=np.empty(scores_t.size))
    return _result(acc, portfolio, seed, "mc", confidence_mode, None, None)


def _result(acc: _Accumulator, portfolio: Portfolio, seed: int, method: str, confidence_mode: str,
            target: float | None, top_k: int | None) -> SimulationResult:
    scores_t = acc.kept[:, :acc.count] if acc.kept is not None else None
    quantiles = _quantiles(scores_t) if scores_t is not None else acc.quantile_sum / acc.quantile_weight
    scores = scores_t.T if scores_t is not None else None  # samples x initiatives (a view)
    return SimulationResult(
        portfolio=portfolio, seed=seed, samples=acc.count, method=method, confidence_mode=confidence_mode,
        mean=acc.mean, sd=np.sqrt(acc.m2 / max(acc.count - 1, 1)), quantiles=quantiles,
        replicate_counts=acc.counts, replicate_sizes=acc.rep_count, kept_scores=scores, rank_sums=acc.rank_sum,
        precision_target=target, precision_top_k=top_k,
    )


def _half_width(acc: _Accumulator, k: int, method: str) -> np.ndarray:
    _, se = top_k_probability(acc.counts, acc.rep_count, k, method)
    return z95(method, acc.counts.shape[0]) * se

"""What a simulation found: score statistics, rank probabilities, and their Monte Carlo errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .. import limits


def top_k_probability(replicate_counts: np.ndarray, replicate_sizes: np.ndarray, k: int,
                      method: str) -> tuple[np.ndarray, np.ndarray]:
    """P(rank <= k) per initiative and its Monte Carlo standard error.

    Plain Monte Carlo uses the binomial error sqrt(p(1-p)/N). Quasi-random methods use the
    spread of the estimate across independent randomized replicates.
    """
    hits = replicate_counts[:, :, :k].sum(axis=2)  # replicates x initiatives
    total = replicate_sizes.sum()
    p = hits.sum(axis=0) / total
    if method == "mc":
        return p, np.sqrt(p * (1 - p) / total)
    p_rep = hits / replicate_sizes[:, None]
    return p, p_rep.std(axis=0, ddof=1) / np.sqrt(len(replicate_sizes))


def z95(method: str, replicates: int) -> float:
    """Multiplier of a standard error for a 95% half-width (Student t across QMC replicates)."""
    return 1.959964 if method == "mc" else float(stats.t.ppf(0.975, replicates - 1))


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Scores of every initiative under uncertainty, and how they rank."""

    portfolio: object
    seed: int
    samples: int
    method: str
    confidence_mode: str
    mean: np.ndarray
    sd: np.ndarray
    quantiles: np.ndarray  # p10, p50, p90 x initiatives
    replicate_counts: np.ndarray  # replicates x initiatives x ranks (the first `ranks_counted` ranks)
    replicate_sizes: np.ndarray
    kept_scores: np.ndarray | None = None
    precision_target: float | None = None
    precision_top_k: int | None = None
    rank_sums: np.ndarray | None = None  # per initiative, the sum of its ranks: when not every rank is counted

    @property
    def ranks_counted(self) -> int:
        """How many ranks were counted: all of them, or (a large portfolio) the first few."""
        return self.replicate_counts.shape[2]

    @property
    def full_rank_matrix(self) -> bool:
        """Whether every rank was counted, so that `rank_probabilities` is available."""
        return self.ranks_counted >= len(self.portfolio)

    @property
    def scores(self) -> np.ndarray:
        """samples x initiatives score matrix, columns in portfolio order."""
        if self.kept_scores is None:
            raise ValueError(
                f"the {self.samples:,} x {len(self.portfolio)} score matrix was not kept (too large); "
                "pass keep_scores=True to simulate() if you have the memory")
        return self.kept_scores

    @property
    def rank_counts(self) -> np.ndarray:
        return self.replicate_counts.sum(axis=0)

    def p_top_k(self, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
        """P(rank <= k) per initiative (portfolio order) and its standard error."""
        self._check_k(k)
        return top_k_probability(self.replicate_counts, self.replicate_sizes, k, self.method)

    def half_width(self, k: int = 5) -> np.ndarray:
        """95% Monte Carlo half-width of each P(top-k)."""
        return z95(self.method, len(self.replicate_sizes)) * self.p_top_k(k)[1]

    @property
    def expected_rank(self) -> np.ndarray:
        if not self.full_rank_matrix:
            return self.rank_sums / self.samples
        n = self.rank_counts.shape[0]
        return self.rank_counts @ np.arange(1, n + 1) / self.samples

    @property
    def precision_reached(self) -> float | None:
        return None if self.precision_target is None else float(self.half_width(self.precision_top_k).max())

    def rank_probabilities(self) -> pd.DataFrame:
        """P(initiative holds rank r), initiatives x ranks 1..n; rows and columns each sum to 1.

        Kept only while n x n fits `limits.MAX_RANK_MATRIX`; beyond, a ValueError says so."""
        n = self.rank_counts.shape[0]
        if not self.full_rank_matrix:
            raise ValueError(
                f"the {n:,} x {n:,} rank-probability matrix was not kept (more than the "
                f"{limits.MAX_RANK_MATRIX:,} values of limits.MAX_RANK_MATRIX); P(top k) for k up to "
                f"{self.ranks_counted} and the mean rank of every initiative are available")
        return pd.DataFrame(self.rank_counts / self.samples, index=pd.Index(self.portfolio.ids, name="id"),
                            columns=pd.Index(range(1, n + 1), name="rank"))

    def pairwise(self) -> pd.DataFrame:
        """P(row initiative outscores column initiative), ties counted as half (a fair tie-break)."""
        s = self.scores
        n = s.shape[1]
        out = np.empty((n, n))
        for j in range(n):  # a loop over initiatives, each comparison vectorized over samples
            col = s[:, j:j + 1]
            out[j] = (col > s).mean(axis=0) + 0.5 * (col == s).mean(axis=0)
        np.fill_diagonal(out, np.nan)
        ids = pd.Index(self.portfolio.ids, name="id")
        return pd.DataFrame(out, index=ids, columns=ids)

    def summary(self, top_k: int = 5) -> pd.DataFrame:
        """One row per initiative, most likely to be in the top k first, indexed by id.

        Columns: name, rice, mean, sd, p10, p50, p90, p_top_k, p_top_k_se, expected_rank.
        """
        p, se = self.p_top_k(top_k)
        frame = pd.DataFrame({
            "id": self.portfolio.ids,
            "name": self.portfolio.names,
            "rice": [ini.rice() for ini in self.portfolio],
            "mean": self.mean, "sd": self.sd,
            "p10": self.quantiles[0], "p50": self.quantiles[1], "p90": self.quantiles[2],
            "p_top_k": p, "p_top_k_se": se,
            "expected_rank": self.expected_rank,
        })
        frame = frame.assign(_order=-frame["p_top_k"]).sort_values(["_order", "expected_rank"], kind="stable")
        return frame.drop(columns="_order").set_index("id")

    def to_dict(self, top_k: int = 5) -> dict:
        """The result as plain data (the CLI's JSON): run settings and one record per initiative."""
        summary = self.summary(top_k).reset_index()
        cols = ["id", "name", "rice", "mean", "sd", "p10", "p50", "p90", "p_top_k", "p_top_k_se", "expected_rank"]
        out = {"seed": self.seed, "samples": self.samples, "method": self.method,
               "confidence_mode": self.confidence_mode, "top_k": top_k,
               "initiatives": [{c: (row[c] if isinstance(row[c], str) else float(row[c])) for c in cols}
                               for _, row in summary.iterrows()]}
        if self.precision_target is not None:
            out["precision"] = {"target": self.precision_target, "reached": self.precision_reached,
                                "top_k": self.precision_top_k}
        return out

    def _check_k(self, k: int) -> None:
        if k < 1:
            raise ValueError(f"top_k must be at least 1, got {k}")
        if k > self.ranks_counted and not self.full_rank_matrix:
            raise ValueError(
                f"P(top {k}) was not counted: for {len(self.portfolio):,} initiatives only the first "
                f"{self.ranks_counted} ranks are counted (limits.MAX_RANK_MATRIX); rank again with top_k={k}")

"""Scenario matrices for portfolio decisions: each initiative's value and effort, per scenario.

Value is the RICE numerator (R·I·success, or R·I·C in `multiplier` mode): portfolios add up
values, never RICE ratios. Every plan is evaluated on the same matrices (common random numbers).

Draws are made per *block*: one initiative, or the initiatives that correlations tie together,
each on its own random stream named by the seed, a purpose and the block's ids
(`workbench.rng.stream`). Editing an initiative therefore redraws its block only, and every
other initiative keeps its exact samples, whichever front end asks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..model.portfolio import Portfolio
from ..rng import check_seed, stream
from .sample import Design
from .simulation import U_EPS, PortfolioModel, check_settings, effective_estimates


@dataclass(frozen=True, eq=False)
class Scenarios:
    """value and effort: scenarios x initiatives, columns in portfolio order."""

    portfolio: Portfolio
    value: np.ndarray
    effort: np.ndarray
    seed: int
    method: str
    confidence_mode: str
    spread: dict | None = None
    purpose: str = "selection"  # which random stream: "selection" (plans chosen) or "evaluation"

    @property
    def count(self) -> int:
        return self.value.shape[0]

    def effort_quantile(self, q: float) -> np.ndarray:
        """Each initiative's effort at quantile q of its estimate (exact, from the distribution)."""
        return effort_quantiles(self.portfolio, q, self.confidence_mode, self.spread)

    def head(self, rows: int) -> Scenarios:
        """The first `rows` scenarios (a view): draws are independent, so a prefix is a fair sample."""
        return self if self.count <= rows else replace(self, value=self.value[:rows], effort=self.effort[:rows])


def effort_quantiles(portfolio: Portfolio, q: float, confidence_mode: str = "success",
                     spread: dict | None = None) -> np.ndarray:
    """Each initiative's effort at quantile q of the estimate the engine samples (exact)."""
    est = effective_estimates(portfolio, confidence_mode, spread)["effort"]
    return np.array([e.ppf(q) for e in est], dtype=float)


def blocks(portfolio: Portfolio) -> list[list[int]]:
    """Groups of initiative indices tied by correlations (connected components), in portfolio order."""
    parent = list(range(len(portfolio)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for c in portfolio.correlations:
        parent[root(portfolio.index(c.a[0]))] = root(portfolio.index(c.b[0]))
    groups: dict[int, list[int]] = {}
    for i in range(len(portfolio)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def draw_block(portfolio: Portfolio, block: list[int], rows: int, seed: int, purpose: str,
               confidence_mode: str = "success", spread: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Value and effort of one block, block-size x rows, on the block's own random stream."""
    members = [replace(portfolio.initiatives[i], depends_on=(), excludes=()) for i in block]
    ids = {m.id for m in members}
    sub = Portfolio(tuple(members), tuple(c for c in portfolio.correlations if c.a[0] in ids))
    model = PortfolioModel(sub, confidence_mode, spread)
    return model.value_and_effort(rows, stream(seed, purpose, *sorted(ids)), None)


def sample_scenarios(portfolio: Portfolio, scenarios: int = 2000, seed: int | None = None, method: str = "mc",
                     confidence_mode: str = "success", spread: dict | None = None,
                     purpose: str = "selection") -> Scenarios:
    """Draw `scenarios` joint outcomes of every initiative's value and effort.

    `mc` draws block by block (the pipeline's layout: the same numbers as `workbench.run` for the
    same seed and purpose); `lhs` and `sobol` map one design's uniforms through inverse CDFs.
    """
    check_settings(method, confidence_mode)
    if scenarios < 2:
        raise ValueError(f"scenarios must be at least 2, got {scenarios}")
    seed = check_seed(seed)
    n = len(portfolio)
    if method == "mc":
        value, effort = np.empty((n, scenarios)), np.empty((n, scenarios))
        for block in blocks(portfolio):
            value[block], effort[block] = draw_block(portfolio, block, scenarios, seed, purpose,
                                                     confidence_mode, spread)
    else:
        model = PortfolioModel(portfolio, confidence_mode, spread)
        rng = stream(seed, purpose)
        u = np.clip(Design(method, model.n_dims, rng).next(scenarios), U_EPS, 1 - U_EPS)
        value, effort = model.value_and_effort(scenarios, rng, u)  # initiatives x scenarios
    return Scenarios(portfolio, np.ascontiguousarray(value.T), np.ascontiguousarray(effort.T), seed, method,
                     confidence_mode, spread, purpose)

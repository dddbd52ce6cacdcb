"""Scenario matrices for portfolio decisions: each initiative's value and effort, per scenario.

Value is the RICE numerator (R·I·success, or R·I·C in `multiplier` mode): portfolios add up
values, never RICE ratios. Every plan is evaluated on the same matrices (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .portfolio import Portfolio
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

    @property
    def count(self) -> int:
        return self.value.shape[0]

    def effort_quantile(self, q: float) -> np.ndarray:
        """Each initiative's effort at quantile q of its estimate (exact, from the distribution)."""
        est = effective_estimates(self.portfolio, self.confidence_mode, self.spread)["effort"]
        return np.array([e.ppf(q) for e in est], dtype=float)


def sample_scenarios(portfolio: Portfolio, scenarios: int = 2000, seed: int | None = None, method: str = "mc",
                     confidence_mode: str = "success", spread: dict | None = None) -> Scenarios:
    """Draw `scenarios` joint outcomes of every initiative's value and effort."""
    check_settings(method, confidence_mode)
    if scenarios < 2:
        raise ValueError(f"scenarios must be at least 2, got {scenarios}")
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    model = PortfolioModel(portfolio, confidence_mode, spread)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))
    u = None
    if method != "mc":
        u = np.clip(Design(method, model.n_dims, rng).next(scenarios), U_EPS, 1 - U_EPS)
    value, effort = model.value_and_effort(scenarios, rng, u)  # initiatives x scenarios
    return Scenarios(portfolio, np.ascontiguousarray(value.T), np.ascontiguousarray(effort.T), seed, method,
                     confidence_mode, spread)


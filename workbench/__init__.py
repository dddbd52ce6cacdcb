"""workbench: probabilistic RICE, portfolio trade-offs and sensitivity for product decisions."""

from .errors import InputError, Problem
from .estimates import Estimate, EstimateError, parse_estimate
from .portfolio import Correlation, Initiative, Portfolio, demo_portfolio, load_portfolio
from .results import SimulationResult
from .simulation import simulate

__version__ = "0.1.0"

__all__ = [
    "Correlation", "Estimate", "EstimateError", "Initiative", "InputError", "Portfolio", "Problem",
    "SimulationResult", "demo_portfolio", "load_portfolio", "parse_estimate", "simulate",
]

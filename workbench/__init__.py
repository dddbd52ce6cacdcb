"""workbench: probabilistic RICE, portfolio trade-offs and sensitivity for product decisions."""

from .errors import InputError, Problem
from .estimates import Estimate, EstimateError, parse_estimate
from .portfolio import Correlation, Initiative, Portfolio, demo_portfolio, load_portfolio
from .results import SimulationResult
from .simulation import simulate
from .optimization import frontier, optimize
from .plans import Plan
from .scenarios import Scenarios, sample_scenarios
from . import sensitivity  # noqa: E402  (needs the modules above)

__version__ = "0.1.0"

__all__ = [
    "Correlation", "Estimate", "EstimateError", "Initiative", "InputError", "Portfolio", "Problem",
    "Plan", "Scenarios", "SimulationResult", "demo_portfolio", "frontier", "load_portfolio", "optimize",
    "parse_estimate", "sample_scenarios", "sensitivity", "simulate",
]

"""workbench: probabilistic RICE, portfolio trade-offs and sensitivity for product decisions."""

__version__ = "0.1.0"

from .errors import InputError, Problem
from .estimates import Estimate, EstimateError, parse_estimate
from .portfolio import Correlation, Initiative, Portfolio, demo_portfolio, load_portfolio
from .results import SimulationResult
from .simulation import simulate
from .optimization import frontier, optimize
from .plans import Plan
from .scenarios import Scenarios, sample_scenarios
from . import sensitivity  # noqa: E402  (needs the modules above)
from .assumptions import Assumptions
from .live import LiveEngine, Outcome
from .session import ScenarioBook


__all__ = [
    "Assumptions", "Correlation", "Dashboard", "Estimate", "EstimateError", "Initiative", "InputError", "Portfolio", "Problem",
    "LiveEngine", "Outcome", "Plan", "ScenarioBook", "Scenarios", "SimulationResult", "demo_portfolio", "frontier", "load_portfolio", "optimize",
    "parse_estimate", "sample_scenarios", "sensitivity", "simulate",
]


def __getattr__(name: str):
    # The dashboard pulls in ipywidgets; the CLI and the reports should not pay for that import.
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")

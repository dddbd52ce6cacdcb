"""workbench: probabilistic RICE, portfolio trade-offs and sensitivity for product decisions."""

__version__ = __import__("importlib.metadata").metadata.version("decision-workbench")  # from pyproject.toml

from .errors import InputError, Problem
from .estimates import Estimate, EstimateError, parse_estimate
from .portfolio import Correlation, Initiative, Portfolio, demo_portfolio, load_portfolio
from .results import SimulationResult
from .simulation import simulate
from .optimization import frontier, optimize
from .plans import Plan
from .scenarios import Scenarios, sample_scenarios
from . import sensitivity  # noqa: E402  (needs the modules above)
from .settings import Settings, load_settings
from .pipeline import LiveEngine, Outcome, run


__all__ = [
    "Correlation", "Dashboard", "Estimate", "EstimateError", "Initiative", "InputError", "LiveEngine", "Outcome",
    "Plan", "Portfolio", "Problem", "ScenarioBook", "Scenarios", "Settings", "SimulationResult", "demo_portfolio",
    "frontier", "load_portfolio", "load_settings", "optimize", "parse_estimate", "run", "sample_scenarios",
    "sensitivity", "simulate",
]


def __getattr__(name: str):
    # The dashboard pulls in ipywidgets, the scenario book the report runner: the CLI should not pay for them.
    if name == "Dashboard":
        from .dashboard import Dashboard

        return Dashboard
    if name == "ScenarioBook":
        from .session import ScenarioBook

        return ScenarioBook
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")

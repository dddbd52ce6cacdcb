"""workbench: probabilistic RICE, portfolio trade-offs and sensitivity for product decisions."""

from importlib.metadata import version as _version

__version__ = _version("decision-workbench")  # one source: pyproject.toml (distribution name; import name workbench)

from . import sensitivity
from .errors import InputError, Problem
from .estimates import Estimate, EstimateError, parse_estimate
from .io import demo_portfolio, load_portfolio
from .optimization import frontier, optimize
from .pipeline import LiveEngine, Outcome, run
from .plans import Plan
from .portfolio import Correlation, Initiative, Portfolio
from .results import SimulationResult
from .scenarios import Scenarios, sample_scenarios
from .settings import Settings, load_settings
from .simulation import simulate

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

"""workbench: probabilistic RICE, portfolio trade-offs and sensitivity for product decisions."""

from importlib.metadata import version as _version

__version__ = _version("decision-workbench")  # one source: pyproject.toml (distribution name; import name workbench)

from . import sensitivity
from .engine.results import SimulationResult
from .engine.scenarios import Scenarios, sample_scenarios
from .engine.simulation import simulate
from .errors import InputError, Problem
from .io import demo_portfolio, load_portfolio
from .model.estimates import Estimate, EstimateError, parse_estimate
from .model.portfolio import Correlation, Initiative, Portfolio
from .pipeline import LiveEngine, Outcome, roadmap, run
from .planning.frontier import frontier
from .planning.optimization import optimize
from .planning.plans import Plan
from .roadmap_pipeline import roadmaps
from .settings import Settings, load_settings

__all__ = [
    "Correlation", "Dashboard", "Estimate", "EstimateError", "Initiative", "InputError", "LiveEngine", "Outcome",
    "Plan", "Portfolio", "Problem", "ScenarioBook", "Scenarios", "Settings", "SimulationResult", "calibrate",
    "demo_portfolio", "frontier", "load_portfolio", "load_settings", "open_session", "optimize", "parse_estimate",
    "roadmap", "roadmaps", "run", "sample_scenarios", "sensitivity", "simulate",
]


def __getattr__(name: str):
    # The dashboard pulls in ipywidgets, the scenario book the report runner: the CLI should not pay for them.
    if name == "Dashboard":
        from .interactive.dashboard import Dashboard

        return Dashboard
    if name == "open_session":
        from .interactive.opening import open_session

        return open_session
    if name == "calibrate":  # learning from actuals: scipy's tests and the history readers
        from .calibration import calibrate

        return calibrate
    if name == "ScenarioBook":
        from .interactive.session import ScenarioBook

        return ScenarioBook
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")

"""Saved scenarios of a strategy session: name a set of assumptions, compare two, export one.

    book = ScenarioBook(engine)
    book.save("base", assumptions); book.save("lean", assumptions.change(budget=30))
    diff = book.compare("base", "lean")        # plans, values, rank changes, what differs
    book.export("lean", "lean.yaml")           # a portfolio file + its assumptions as JSON
    book.report("lean", "reports", quarter="2026Q4")  # the quarterly report of that scenario
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .assumptions import Assumptions, apply_assumptions
from .live import LiveEngine, Outcome
from .output import write_atomic
from .portfolio import Portfolio, correlations_path, save_portfolio

_NAME = re.compile(r"\S(.{0,58}\S)?")
# Column labels of the comparison tables: a scenario named like one would overwrite it.
_RESERVED = {"id", "name", "initiative", "change", "metric", "difference", "setting", "moves up by"}


@dataclass
class ScenarioComparison:
    """Two saved scenarios side by side; columns are the scenario names."""

    names: tuple[str, str]
    top_k: int  # of the second scenario; the ranks table's P(top k) uses it for both
    errors: tuple[str | None, str | None]  # why a scenario has no plan (infeasible, solver limit)
    assumptions: pd.DataFrame  # setting, first, second: only what differs
    values: pd.DataFrame  # metric x (first, ± first, second, ± second, difference); ± = 95% MC half-width
    plans: pd.DataFrame  # initiatives funded in either, with what changed
    ranks: pd.DataFrame  # expected rank and P(top k) ± 95% in both, largest movers first


class ScenarioBook:
    """Named assumptions of one session, evaluated by the session's engine."""

    def __init__(self, engine: LiveEngine):
        self.engine = engine
        self.saved: dict[str, Assumptions] = {}

    def save(self, name: str, assumptions: Assumptions) -> None:
        """Keep `assumptions` under `name` (replacing a scenario of that name)."""
        name = name.strip()
        if not _NAME.fullmatch(name):
            raise ValueError("a scenario name needs 1 to 60 characters, not only spaces")
        if name.lower() in _RESERVED:
            raise ValueError(f"{name!r} is a column of the comparison tables; choose another scenario name")
        self.saved[name] = assumptions

    def assumptions(self, name: str) -> Assumptions:
        if name not in self.saved:
            raise KeyError(f"no saved scenario {name!r}; saved: {', '.join(self.saved) or 'none'}")
        return self.saved[name]

    def outcome(self, name: str) -> Outcome:
        return self.engine.run(self.assumptions(name))

    def portfolio(self, name: str) -> Portfolio:
        """The scenario's portfolio: the engine's with the scenario's edits and overrides applied."""
        return apply_assumptions(self.engine.portfolio, self.assumptions(name))

    def compare(self, first: str, second: str) -> ScenarioComparison:
        if first == second:
            raise ValueError("pick two different scenarios to compare")
        a, b = self.outcome(first), self.outcome(second)
        return ScenarioComparison((first, second), b.assumptions.top_k, (a.error, b.error),
                                  _assumption_changes(a, b, first, second),
                                  _values(a, b, first, second), _plans(a, b, first, second),
                                  _ranks(a, b, first, second))

    def export(self, name: str, path: str | Path) -> list[Path]:
        """The scenario's portfolio (edits and overrides applied) as a portfolio file, and its
        other assumptions (budget, capacities, risk, sampling) in `<stem>.assumptions.json`."""
        portfolio = self.portfolio(name)
        path = Path(save_portfolio(portfolio, path))
        written = [path]
        if portfolio.correlations and path.suffix.lower() in (".csv", ".xlsx"):
            written.append(correlations_path(path))  # CSV and Excel keep correlations beside them
        settings = path.with_name(f"{path.stem}.assumptions.json")
        write_atomic(settings, self.assumptions(name).to_json() + "\n")
        return [*written, settings]

    def report(self, name: str, output_dir: str | Path = "reports", *, quarter: str = "session") -> tuple[Path, Path]:
        """Run the quarterly report template on the scenario; returns the notebook and HTML paths.

        The report re-runs the analysis from the exported portfolio with its own sampling (the
        template's), so its figures agree with the dashboard's within their Monte Carlo errors,
        not digit for digit. The `spread` mode's mapping is not a report parameter: the report
        uses the default mapping.
        """
        from .reports import run_report, validate_parameters

        a = self.assumptions(name)
        params = {"portfolio": "", "quarter": quarter, "budget": a.budget, "capacities": a.capacity,
                  "confidence_mode": a.confidence_mode, "samples": a.samples, "seed": a.seed, "top_k": a.top_k,
                  "objective": a.objective, "alpha": a.alpha, "lam": a.lam}
        validate_parameters(params)  # a bad quarter label must not write anything
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "scenario"
        portfolio_file = out / f"{quarter}-{slug}-portfolio.yaml"  # YAML keeps correlations in one file
        save_portfolio(self.portfolio(name), portfolio_file)
        params["portfolio"] = str(portfolio_file.resolve())
        return run_report("quarterly", params, out, name=f"{quarter}-{slug}")


# --- comparison tables ------------------------------------------------------------------------


def _assumption_changes(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    x, y = a.assumptions, b.assumptions
    text = lambda v: f"{v:,g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)  # noqa: E731
    rows = []
    for setting in ("budget", "confidence_mode", "objective", "alpha", "lam", "samples", "seed", "top_k"):
        if getattr(x, setting) != getattr(y, setting):
            rows.append((setting.replace("_", " "), text(getattr(x, setting)), text(getattr(y, setting))))
    for team in sorted(set(x.capacity) | set(y.capacity)):
        if x.capacity.get(team) != y.capacity.get(team):
            rows.append((f"capacity {team}", text(x.capacity.get(team, "no limit")),
                         text(y.capacity.get(team, "no limit"))))
    if x.spread != y.spread and "spread" in (x.confidence_mode, y.confidence_mode):
        fmt = lambda m: ", ".join(f"{c:.0%}: ×/÷{f:g}" for c, f in m)  # noqa: E731
        rows.append(("spread mapping", fmt(x.spread), fmt(y.spread)))
    for ini_a, ini_b in zip(a.portfolio, b.portfolio):
        for field in ("reach", "impact", "confidence", "effort"):
            if ini_a.estimate(field) != ini_b.estimate(field):
                rows.append((f"{ini_a.id} {field}", str(ini_a.estimate(field)), str(ini_b.estimate(field))))
        if ini_a.moscow != ini_b.moscow:
            rows.append((f"{ini_a.id} MoSCoW", ini_a.moscow or "not set", ini_b.moscow or "not set"))
    return pd.DataFrame(rows, columns=["setting", first, second])


def _metrics(o: Outcome) -> dict[str, tuple[float, float]]:
    """metric -> (value, 95% Monte Carlo half-width or NaN where none is computed)."""
    if o.plan is None:
        return {}
    m, s = o.plan.metrics(), o.plan.value.size
    p = m["p_overrun"]
    return {"expected value": (m["expected_value"], 1.96 * m["expected_value_se"]),
            "p10": (m["p10"], np.nan), "p90": (m["p90"], np.nan), f"CVaR {m['alpha']:.0%}": (m["cvar"], np.nan),
            "P(overrun)": (np.nan, np.nan) if p is None else (p, 1.96 * np.sqrt(p * (1 - p) / s)),
            "budget used": (m["budget_used"], np.nan), "initiatives funded": (float(len(m["selected"])), np.nan)}


def _values(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    ma, mb = _metrics(a), _metrics(b)
    missing = (np.nan, np.nan)
    rows = [(metric, *ma.get(metric, missing), *mb.get(metric, missing),
             mb.get(metric, missing)[0] - ma.get(metric, missing)[0]) for metric in dict.fromkeys([*ma, *mb])]
    return pd.DataFrame(rows, columns=["metric", first, f"± {first}", second, f"± {second}", "difference"]
                        ).set_index("metric")


def _plans(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    in_a = set(a.plan.selected) if a.plan is not None else set()
    in_b = set(b.plan.selected) if b.plan is not None else set()
    rows = [{"id": ini.id, "name": ini.name, first: ini.id in in_a, second: ini.id in in_b,
             "change": "added" if ini.id in in_b - in_a else "dropped" if ini.id in in_a - in_b else "kept"}
            for ini in b.portfolio if ini.id in in_a | in_b]
    return pd.DataFrame(rows, columns=["id", "name", first, second, "change"]).set_index("id")


def _ranks(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    """Expected rank in both (and how many places each initiative moves up), P(top k) with its
    95% half-width in both; largest movers first."""
    k = b.assumptions.top_k
    ka = min(k, len(a.portfolio))
    ra, rb = a.result.expected_rank, b.result.expected_rank
    frame = pd.DataFrame({"id": b.portfolio.ids, "name": b.portfolio.names,
                          f"rank {first}": ra, f"rank {second}": rb, "moves up by": ra - rb,
                          f"P(top {k}) {first}": a.result.p_top_k(ka)[0], f"± {first}": a.result.half_width(ka),
                          f"P(top {k}) {second}": b.result.p_top_k(k)[0], f"± {second}": b.result.half_width(k)})
    order = np.argsort(-np.abs(frame["moves up by"].to_numpy()), kind="stable")
    return frame.iloc[order].set_index("id")

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

from .assumptions import Assumptions
from .live import LiveEngine, Outcome
from .output import write_atomic
from .portfolio import save_portfolio

_NAME = re.compile(r"\S(.{0,58}\S)?")


@dataclass
class ScenarioComparison:
    """Two saved scenarios side by side; columns are the scenario names."""

    names: tuple[str, str]
    assumptions: pd.DataFrame  # setting, first, second: only what differs
    values: pd.DataFrame  # metric x (first, second, difference)
    plans: pd.DataFrame  # initiatives funded in either, with what changed
    ranks: pd.DataFrame  # every initiative's expected rank and P(top k) in both, by movement


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
        self.saved[name] = assumptions

    def outcome(self, name: str) -> Outcome:
        if name not in self.saved:
            raise KeyError(f"no saved scenario {name!r}; saved: {', '.join(self.saved) or 'none'}")
        return self.engine.run(self.saved[name])

    def compare(self, first: str, second: str) -> ScenarioComparison:
        a, b = self.outcome(first), self.outcome(second)
        return ScenarioComparison((first, second), _assumption_changes(a, b, first, second),
                                  _values(a, b, first, second), _plans(a, b, first, second),
                                  _ranks(a, b, first, second))

    def export(self, name: str, path: str | Path) -> list[Path]:
        """The scenario's portfolio (edits and overrides applied) as a portfolio file, and its
        other assumptions (budget, capacities, risk, sampling) in `<stem>.assumptions.json`."""
        outcome = self.outcome(name)
        path = Path(path)
        written = save_portfolio(outcome.portfolio, path)
        written = list(written) if isinstance(written, (list, tuple)) else [Path(written)]
        settings = path.with_name(f"{path.stem}.assumptions.json")
        write_atomic(settings, self.saved[name].to_json() + "\n")
        return [*written, settings]

    def report(self, name: str, output_dir: str | Path = "reports", *, quarter: str = "session") -> tuple[Path, Path]:
        """Run the quarterly report template on the scenario; returns the notebook and HTML paths."""
        from .reports import run_report

        a = self.saved[name]
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "scenario"
        portfolio_file = out / f"{quarter}-{slug}-portfolio.yaml"  # YAML keeps correlations in one file
        save_portfolio(self.outcome(name).portfolio, portfolio_file)
        params = {"portfolio": str(portfolio_file.resolve()), "quarter": quarter, "budget": a.budget,
                  "capacities": a.capacity, "confidence_mode": a.confidence_mode, "samples": a.samples,
                  "seed": a.seed, "top_k": a.top_k, "objective": a.objective, "alpha": a.alpha, "lam": a.lam}
        return run_report("quarterly", params, out, name=f"{quarter}-{slug}")


# --- comparison tables ------------------------------------------------------------------------


def _assumption_changes(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    x, y = a.assumptions, b.assumptions
    rows = []
    for setting in ("budget", "confidence_mode", "objective", "alpha", "lam", "samples", "seed", "top_k"):
        if getattr(x, setting) != getattr(y, setting):
            rows.append((setting, getattr(x, setting), getattr(y, setting)))
    for team in sorted(set(x.capacity) | set(y.capacity)):
        if x.capacity.get(team) != y.capacity.get(team):
            rows.append((f"capacity {team}", x.capacity.get(team, "none"), y.capacity.get(team, "none")))
    if x.spread != y.spread and "spread" in (x.confidence_mode, y.confidence_mode):
        rows.append(("spread mapping", dict(x.spread), dict(y.spread)))
    for ini_a, ini_b in zip(a.portfolio, b.portfolio):
        for field in ("reach", "impact", "confidence", "effort"):
            if ini_a.estimate(field) != ini_b.estimate(field):
                rows.append((f"{ini_a.name}: {field}", str(ini_a.estimate(field)), str(ini_b.estimate(field))))
        if ini_a.moscow != ini_b.moscow:
            rows.append((f"{ini_a.name}: MoSCoW", ini_a.moscow or "none", ini_b.moscow or "none"))
    return pd.DataFrame(rows, columns=["setting", first, second]).astype(str)


def _metrics(o: Outcome) -> dict:
    if o.plan is None:
        return {}
    m = o.plan.metrics()
    return {"expected value": m["expected_value"], "p10": m["p10"], "p90": m["p90"],
            f"CVaR {m['alpha']:.0%}": m["cvar"], "P(overrun)": m["p_overrun"], "budget used": m["budget_used"],
            "initiatives funded": float(len(m["selected"]))}


def _values(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    ma, mb = _metrics(a), _metrics(b)
    rows = []
    for metric in dict.fromkeys([*ma, *mb]):
        va, vb = ma.get(metric, np.nan), mb.get(metric, np.nan)
        va, vb = (np.nan if v is None else v for v in (va, vb))
        rows.append((metric, va, vb, vb - va))
    return pd.DataFrame(rows, columns=["metric", first, second, "difference"]).set_index("metric")


def _plans(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    in_a = set(a.plan.selected) if a.plan is not None else set()
    in_b = set(b.plan.selected) if b.plan is not None else set()
    rows = [{"id": ini.id, "name": ini.name, first: ini.id in in_a, second: ini.id in in_b,
             "change": "added" if ini.id in in_b - in_a else "dropped" if ini.id in in_a - in_b else "kept"}
            for ini in b.portfolio if ini.id in in_a | in_b]
    return pd.DataFrame(rows, columns=["id", "name", first, second, "change"]).set_index("id")


def _ranks(a: Outcome, b: Outcome, first: str, second: str) -> pd.DataFrame:
    k = b.assumptions.top_k
    pa, pb = a.result.p_top_k(min(k, len(a.portfolio)))[0], b.result.p_top_k(k)[0]
    ra, rb = a.result.expected_rank, b.result.expected_rank
    frame = pd.DataFrame({"id": b.portfolio.ids, "name": b.portfolio.names,
                          f"rank {first}": ra, f"rank {second}": rb, "rank change": ra - rb,
                          f"P(top {k}) {first}": pa, f"P(top {k}) {second}": pb})
    order = np.argsort(-np.abs(frame["rank change"].to_numpy()), kind="stable")
    return frame.iloc[order].set_index("id")

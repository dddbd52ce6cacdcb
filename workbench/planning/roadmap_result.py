"""What a roadmap analysis gives: each roadmap with its simulated delivery, labelled tables and
the JSON of `workbench roadmap`.

`Roadmap` is one schedule (start quarters) with its figures on the evaluation draws: its value
as planned and with the simulated slips, each with its standard error; `RoadmapResult` holds the
roadmap shown, the others computed for comparison (paired, on the same draws) and the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .delivery import Delivery
from .plans import cvar, cvar_standard_error, mean_standard_error
from .roadmap_problem import RoadmapProblem

LABELS = {"optimal": "optimal roadmap", "greedy": "greedy-by-RICE roadmap", "yours": "your roadmap"}
PHRASES = {"optimal": "the optimal roadmap", "greedy": "the greedy-by-RICE roadmap", "yours": "your roadmap"}
ALL_TEAMS = "all teams (budget)"  # the teams_frame rows of the budget over every team


@dataclass(eq=False)
class Roadmap:
    """One roadmap and its delivery simulated on the evaluation draws (values in value unit x quarters)."""

    key: str
    start: np.ndarray
    delivery: Delivery
    status: str
    gap: float | None = None
    violations: list[str] = field(default_factory=list)
    alpha: float = 0.1

    def __post_init__(self):
        self.planned_values = self.delivery.total(planned=True)
        self.delivered_values = self.delivery.total(planned=False)
        self.expected_value = float(self.planned_values.mean())
        self.expected_value_se = mean_standard_error(self.planned_values)
        self.delivered_value = float(self.delivered_values.mean())
        self.delivered_value_se = mean_standard_error(self.delivered_values)
        lost = self.planned_values - self.delivered_values
        self.lost_to_slips, self.lost_to_slips_se = float(lost.mean()), mean_standard_error(lost)
        self.cvar = cvar(self.planned_values, self.alpha)
        self.cvar_se = cvar_standard_error(self.planned_values, self.alpha)

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def phrase(self) -> str:
        """The roadmap named inside a sentence, with its article: "the optimal roadmap", "your roadmap"."""
        return PHRASES[self.key]

    @property
    def problem(self) -> RoadmapProblem:
        return self.delivery.problem

    def planned_delivery(self) -> np.ndarray:
        return self.delivery.planned_delivery()

    def count(self) -> int:
        return int((self.start >= 0).sum())


@dataclass(eq=False)
class RoadmapResult:
    """The roadmap shown (`settings.roadmap`), the others for comparison, and their tables."""

    settings: object  # workbench.settings.Settings (not imported: planning sits below settings)
    problem: RoadmapProblem
    roadmap: Roadmap
    others: dict[str, Roadmap]
    selection: int
    notes: list[str] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return self.roadmap.delivery.samples

    @property
    def quarters(self) -> list[str]:
        return self.problem.labels

    @property
    def comparisons(self) -> dict[str, tuple[float, float]]:
        """key -> (shown roadmap's delivered value minus the other's, its se), paired on the draws."""
        return self.differences(planned=False)

    def differences(self, planned: bool = False) -> dict[str, tuple[float, float]]:
        """key -> (shown roadmap's value minus the other's, its se), paired on the evaluation draws:
        as planned, or with the simulated slips (the default)."""
        out = {}
        for key, other in self.others.items():
            mine, theirs = ((self.roadmap.planned_values, other.planned_values) if planned
                            else (self.roadmap.delivered_values, other.delivered_values))
            diff = mine - theirs
            out[key] = (float(diff.mean()), mean_standard_error(diff))
        return out

    def delivery_label(self, k: int) -> str | None:
        """A simulated delivery quarter in words: its label, "after 2029Q4" past the simulation, None if not in it."""
        if k < 0:
            return None
        end = self.roadmap.delivery.end
        return f"after {self.problem.label(end - 1)}" if k >= end else self.problem.label(k)

    def to_frame(self) -> pd.DataFrame:
        """One row per initiative (portfolio order), indexed by id."""
        p, r = self.problem, self.roadmap
        deliver = r.planned_delivery()
        p_on, p_se = r.delivery.p_on_time()
        p50, p90 = r.delivery.delivery_percentile(0.5), r.delivery.delivery_percentile(0.9)
        value = r.delivery.value.mean(axis=0)
        rows = []
        for i, ini in enumerate(p.portfolio):
            on = r.start[i] >= 0
            rows.append({"id": ini.id, "name": ini.name, "team": ini.team,
                         "start_quarter": p.label(r.start[i]) if on else None,
                         "delivery_quarter": p.label(deliver[i]) if on else None,
                         "duration": int(p.duration[i]), "spend": float(p.spend[i]),
                         "p_on_time": float(p_on[i]) if on else None, "p_on_time_se": float(p_se[i]) if on else None,
                         "delivery_p50": self.delivery_label(p50[i]), "delivery_p90": self.delivery_label(p90[i]),
                         "value": float(value[i])})
        return pd.DataFrame(rows).set_index("id")

    def teams_frame(self) -> pd.DataFrame:
        """One row per team and horizon quarter: capacity, planned load, P(over capacity); with a
        budget, rows of ALL_TEAMS for the total of every team against it."""
        p, r = self.problem, self.roadmap
        load = p.load(r.start)
        over, over_se = r.delivery.p_over_capacity()
        rows = [{"team": team, "quarter": p.label(t),
                 "capacity": float(p.capacity[g, t]) if np.isfinite(p.capacity[g, t]) else None,
                 "planned_load": float(load[g, t]), "p_over_capacity": float(over[g, t]),
                 "p_over_capacity_se": float(over_se[g, t])}
                for g, team in enumerate(p.teams) for t in range(p.horizon)]
        if (budget := r.delivery.p_over_budget()) is not None:
            rows += [{"team": ALL_TEAMS, "quarter": p.label(t), "capacity": p.total,
                      "planned_load": float(load[:, t].sum()), "p_over_capacity": float(budget[0][t]),
                      "p_over_capacity_se": float(budget[1][t])} for t in range(p.horizon)]
        return pd.DataFrame(rows)

    def value_frame(self) -> pd.DataFrame:
        """Value earned per quarter (horizon and tail): as planned (mean) and simulated (mean,
        p10, p50, p90), and the same cumulated (with the cumulated mean's standard error)."""
        p, d = self.problem, self.roadmap.delivery
        sim, planned = d.earned(), d.earned(planned=True)
        cum = np.cumsum(sim, axis=1)
        q = np.quantile(sim, [0.1, 0.5, 0.9], axis=0)
        cq = np.quantile(cum, [0.1, 0.5, 0.9], axis=0)
        return pd.DataFrame({
            "quarter": [p.label(k) for k in range(sim.shape[1])],
            "in_horizon": np.arange(sim.shape[1]) < p.horizon,
            "planned": planned.mean(axis=0), "mean": sim.mean(axis=0), "p10": q[0], "p50": q[1], "p90": q[2],
            "cumulative_planned": np.cumsum(planned, axis=1).mean(axis=0), "cumulative_mean": cum.mean(axis=0),
            "cumulative_mean_se": cum.std(axis=0, ddof=1) / np.sqrt(max(cum.shape[0], 1)),
            "cumulative_p10": cq[0], "cumulative_p50": cq[1], "cumulative_p90": cq[2]})

    def to_dict(self) -> dict:
        """The JSON of `workbench roadmap`: quarters as labels, null where not in the roadmap."""
        r = self.roadmap
        frame = self.to_frame().reset_index()
        keys = ["id", "team", "start_quarter", "delivery_quarter", "p_on_time", "p_on_time_se",
                "delivery_p50", "delivery_p90"]
        initiatives = [{k: _plain(row[k]) for k in keys} for row in frame.to_dict("records")]
        teams = [{k: _plain(row[k]) for k in ("team", "quarter", "capacity", "planned_load", "p_over_capacity",
                                              "p_over_capacity_se")}
                 for row in self.teams_frame().to_dict("records")]
        planned = self.differences(planned=True)
        comparisons = [{"roadmap": other.label, "expected_value": other.expected_value,
                        "expected_value_se": other.expected_value_se, "delivered_value": other.delivered_value,
                        "delivered_value_se": other.delivered_value_se, "difference": diff, "difference_se": se,
                        "planned_difference": planned[key][0], "planned_difference_se": planned[key][1]}
                       for key, (diff, se) in self.comparisons.items() for other in [self.others[key]]]
        return {"quarters": self.quarters, "roadmap": r.label, "status": r.status, "gap": r.gap,
                "value_unit": f"{getattr(self.settings, 'value_unit', 'value points')} x quarters",
                "expected_value": r.expected_value, "expected_value_se": r.expected_value_se,
                "delivered_value": r.delivered_value, "delivered_value_se": r.delivered_value_se,
                "lost_to_slips": r.lost_to_slips, "lost_to_slips_se": r.lost_to_slips_se,
                "cvar": r.cvar, "cvar_se": r.cvar_se, "tail_quarters": self.problem.tail,
                "discount": self.problem.discount, "samples": self.samples, "selection_scenarios": self.selection,
                "initiatives": initiatives, "teams": teams, "comparisons": comparisons,
                "violations": list(r.violations), "notes": list(self.notes)}


def _plain(x):
    """JSON-ready scalars: numpy numbers as Python ones, NaN as null."""
    if x is None:
        return None
    if isinstance(x, (np.floating, float)):
        return None if np.isnan(x) else float(x)
    if isinstance(x, np.integer):
        return int(x)
    return x

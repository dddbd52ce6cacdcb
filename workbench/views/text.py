"""Plain-text views for a terminal: the ranking of `workbench score`, the plan of `optimize`.

Every "±" is a 95% Monte Carlo half-width (said once per view); user text goes through
`terminal_text`, so a name can never move the cursor or recolour the terminal.
"""

from __future__ import annotations

import numpy as np

from ..engine.results import SimulationResult
from ..planning.optimization import Frontier
from ..planning.plans import Plan
from ..sensitivity import SensitivityReport
from ..settings import Settings
from .format import PM_NOTE, binomial_half_width, half_width, number, pm, probability
from .output import terminal_text, text_table


def score_table(result: SimulationResult, top_k: int) -> str:
    """The human-readable ranking printed by `workbench score`."""
    s = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    rows = [[str(rank), terminal_text(id_, 24), terminal_text(r["name"], 42), number(r["rice"]), number(r["mean"]),
             f"{number(r['p10'])} – {number(r['p90'])}", probability(r["p_top_k"], half[id_]),
             f"{r['expected_rank']:.1f}"]
            for rank, (id_, r) in enumerate(s.iterrows(), start=1)]
    header = ["#", "id", "initiative", "RICE", "mean score", "80% interval", f"P(top {top_k})", "E[rank]"]
    source = terminal_text(result.portfolio.source or "portfolio")
    lines = [
        f"{source}: {len(result.portfolio)} initiatives, {result.samples:,} samples "
        f"({result.method}, seed {result.seed}), confidence mode '{result.confidence_mode}'",
        "",
        text_table(rows, header, "rllrrrrr"),
        "",
        f"RICE: classic score from the estimates' medians. P(top {top_k}): how often the initiative is among "
        f"the {top_k} best scores. {PM_NOTE}",
        f"80% interval: p10 – p90 of the simulated score. Reproduce with --seed {result.seed}.",
    ]
    if result.precision_target is not None:
        reached = result.precision_reached
        status = "reached" if reached <= result.precision_target else f"NOT reached (sample cap {result.samples:,})"
        lines.append(f"Precision target ±{result.precision_target:g}: {status}; widest half-width ±{reached:.4f}.")
    return "\n".join(lines) + "\n"


def _tail(plan: Plan) -> str:
    return f"(worst {plan.alpha:.0%})"


def plan_text(plan: Plan, settings: Settings, front: Frontier | None = None) -> str:
    """The human-readable plan printed by `workbench optimize`."""
    sc, prob, c = plan.scenarios, plan.problem, plan.problem.constraints
    unit = "person-months" if c.budget_column == "effort" else "(cost)"
    value_unit = terminal_text(settings.value_unit)
    objective = {"mean": "expected value", "cvar": f"CVaR {_tail(plan)}",
                 "blend": f"expected value + {plan.lam or 0:g} × CVaR {_tail(plan)}"}[plan.objective]
    gap = "" if plan.gap is None else f", gap {plan.gap:.2%}"
    source = terminal_text(prob.portfolio.source or "portfolio")
    lines = [f"{source}: budget {number(c.budget)} {unit}, objective {objective}; plan chosen on "
             f"{settings.scenarios:,} scenarios, every figure estimated on {sc.count:,} independent ones "
             f"(seed {settings.seed}), confidence mode '{sc.confidence_mode}'",
             f"Solver: {plan.status}{gap}", ""]
    frame = plan.to_frame()
    rows = [[terminal_text(i, 24), terminal_text(r["name"], 40), terminal_text(r["team"] or "", 12),
             r["moscow"] or "", number(r["budget_used"]), number(r["expected_value"]),
             f"{r['value_share']:.0%}", f"{r['p_delivers']:.2f}"] for i, r in frame.iterrows()]
    lines += [f"Fund {len(frame)} initiatives:", "",
              text_table(rows, ["id", "initiative", "team", "MoSCoW", "budget", "E[value]", "share", "P(delivers)"],
                         "llllrrrr"), ""]
    p10, p50, p90 = plan.quantiles()
    lines.append(f"Value ({value_unit}): expected {pm(plan.expected_value, half_width(plan.expected_value_se))} "
                 f"(80% interval {number(p10)} – {number(p90)}, median {number(p50)}); "
                 f"CVaR {_tail(plan)} {number(plan.cvar)}")
    lines.append(f"Budget used: {number(plan.cost)} of {number(c.budget)} {unit}; "
                 f"total effort mean {number(float(plan.effort.mean()))} person-months")
    if plan.p_overrun is not None:
        lines.append(f"P(effort exceeds the budget): {probability(plan.p_overrun, samples=sc.count)}")
    for team, p in plan.team_overrun().items():
        lines.append(f"P(team {terminal_text(team)} exceeds its capacity of {number(c.capacities[team])}): "
                     f"{probability(p, samples=sc.count)}")
    for key, title in (("greedy", "Greedy by RICE"), ("current", "Your current plan")):
        other = getattr(plan, key)
        if other is None:
            continue
        cmp = plan.comparisons[key]
        lines += ["", f"{title}: {len(other.selected)} initiatives, expected value {number(other.expected_value)}"]
        broken = other.violations()
        if broken:
            lines.append("  breaks: " + "; ".join(terminal_text(b) for b in broken))
        lines.append(f"  the recommended plan gains {pm(cmp.expected_gain, half_width(cmp.gain_se))} {value_unit} "
                     f"in expected value; P(it is worth more) "
                     f"{probability(cmp.p_better, binomial_half_width(cmp.p_better, sc.count))}")
    if front is not None:
        rows = [[str(k + 1), number(p.expected_value), number(p.cvar), str(len(p.selected)),
                 terminal_text(", ".join(p.selected), 90)] for k, p in enumerate(front.plans)]
        lines += ["", f"Efficient frontier ({len(front.plans)} plans, most risk-averse first):", "",
                  text_table(rows, ["#", "E[value]", f"CVaR {_tail(plan)}", "n", "initiatives"], "rrrrl")]
    lines += ["", f"{PM_NOTE} Reproduce with --seed {settings.seed}."]
    return "\n".join(lines) + "\n"


def plan_record(plan: Plan, settings: Settings, front: Frontier | None = None) -> dict:
    """The JSON document of `workbench optimize` (standard errors in `*_se` fields)."""
    c = plan.problem.constraints
    out = {"status": plan.status, "objective": plan.objective, "budget": c.budget,
           "budget_column": c.budget_column, "scenarios": settings.scenarios,
           "evaluation_samples": plan.scenarios.count,
           "seed": settings.seed, "confidence_mode": plan.scenarios.confidence_mode, "value_unit": settings.value_unit,
           **plan.metrics(), "gap": plan.gap}
    if plan.p_overrun is not None:
        out["p_overrun_se"] = float(np.sqrt(plan.p_overrun * (1 - plan.p_overrun) / plan.scenarios.count))
    if plan.lam is not None:
        out["lambda"] = plan.lam
    for key in ("greedy", "current"):
        other: Plan | None = getattr(plan, key)
        if other is not None:
            cmp = plan.comparisons[key]
            out[key] = {"selected": other.selected, "expected_value": other.expected_value, "cvar": other.cvar,
                        "violations": other.violations(), "expected_gain": cmp.expected_gain,
                        "expected_gain_se": cmp.gain_se, "p_optimal_better": cmp.p_better,
                        "p_optimal_better_se": cmp.p_better_se}
    if front is not None:
        out["frontier"] = front.to_records()
    out["settings"] = settings.to_dict()
    return out


def sensitivity_text(report: SensitivityReport, header: str = "") -> str:
    """The analyses of `workbench sensitivity`, readable; header: the plan's table."""
    lines = [header.rstrip(), ""] if header else []
    if report.budget_sweep is not None:
        rows = [[number(r.budget), r.status, number(r.expected_value),
                 "" if np.isnan(r.marginal_value) else number(r.marginal_value),
                 f"{number(r.p10)} – {number(r.p90)}", str(len(r.selected))]
                for r in report.budget_sweep.itertuples()]
        lines += ["Budget sweep (same scenarios at every budget):", "",
                  text_table(rows, ["budget", "status", "E[value]", "per extra unit", "80% interval", "n"],
                             "rlrrrr"), ""]
        entry = report.entry_budgets.dropna().sort_values("entry_budget")
        rows = [[terminal_text(i, 28), number(r.entry_budget), f"{r.funded_share:.0%}"]
                for i, r in entry.iterrows()]
        lines += ["Smallest budget at which each initiative is funded:", "",
                  text_table(rows, ["id", "enters at", "funded after"], "lrr"), ""]
    if report.split_sweep is not None:
        group = report.split_sweep["group"].iloc[0]
        rows = [[f"{r.share:.0%}", r.status, number(r.expected_value), number(r.group_value)]
                for r in report.split_sweep.itertuples()]
        lines += [f"Budget split: share given to {terminal_text(group)}, the rest optimized:", "",
                  text_table(rows, ["share", "status", "E[value]", "of which the group"], "rlrr"), ""]
    if report.tornado is not None:
        rows = [[terminal_text(r.input, 36), f"{number(r.low)} – {number(r.high)}",
                 number(r.value_low), number(r.value_high), number(r.swing)]
                for r in report.tornado.head(15).itertuples()]
        lines += ["Tornado: each input from its p10 to its p90, the others at their medians:", "",
                  text_table(rows, ["input", "p10 – p90", "value at p10", "value at p90", "swing"], "lrrrr"), ""]
        lines += ["Decision switch points (expected-value decision):"]
        lines += [f"  {terminal_text(r.input)}: {terminal_text(r.note)}" for r in report.switch_points.itertuples()]
        lines.append("")
    if report.sobol is not None:
        rows = [[terminal_text(str(name), 36), f"{r.S1:.3f} ± {r.S1_conf:.3f}", f"{r.ST:.3f} ± {r.ST_conf:.3f}"]
                for name, r in report.sobol.iterrows()]
        lines += ["Sobol indices of the plan's value (± 95% confidence):", "",
                  text_table(rows, ["input", "first order S1", "total ST"], "lrr"), ""]
    if report.evpi is not None:
        lines += [f"EVPI (expected value of perfect information about every estimate): "
                  f"{pm(report.evpi['value'], half_width(report.evpi['se']))}", ""]
    if report.evppi is not None:
        rows = [[terminal_text(r.id, 28), pm(r.value, half_width(r.se))]
                for r in report.evppi.head(15).itertuples()]
        lines += ["What to research before committing (EVPPI per initiative):", "",
                  text_table(rows, ["id", "EVPPI"], "lr"), ""]
    if not header:  # the plan's table above already says what ± means
        lines.append(PM_NOTE)
    return "\n".join(lines).rstrip() + "\n"



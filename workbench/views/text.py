"""Plain-text views for a terminal: the ranking of `workbench score`, the plan of `optimize`.

Every "±" is a 95% Monte Carlo half-width (said once per view); user text goes through
`terminal_text`, so a name can never move the cursor or recolour the terminal.
"""

from __future__ import annotations

import numpy as np

from ..engine.results import SimulationResult
from ..planning.frontier import Frontier
from ..planning.plans import Plan
from ..sensitivity import SensitivityReport
from ..settings import Settings
from .format import (
    PM_NOTE,
    beats_sentence,
    binomial_half_width,
    evaluated_on_sentence,
    gap_sentence,
    half_width,
    number,
    objective_label,
    pm,
    probability,
    vss_sentence,
)
from .output import terminal_text, text_table
from .tables import everyone_in_top_k, ranking_note, ranking_ties


def score_table(result: SimulationResult, top_k: int) -> str:
    """The human-readable ranking printed by `workbench score`: tied initiatives share a rank
    ("3–5", `tables.ranking_note`); when k covers every initiative, P(top k) is left out."""
    s = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    everyone = everyone_in_top_k(result, top_k)
    ranks = ranking_ties(result, top_k, s)["rank"]
    samples = result.samples if result.method == "mc" else None  # at 0 or 1: the rule of three
    rows = [[*([] if everyone else [ranks[id_]]), terminal_text(id_, 24), terminal_text(r["name"], 42),
             number(r["rice"]), number(r["mean"]), f"{number(r['p10'])} – {number(r['p90'])}",
             *([] if everyone else [probability(r["p_top_k"], half[id_], samples)]), f"{r['expected_rank']:.1f}"]
            for id_, r in s.iterrows()]
    header = ["#", "id", "initiative", "RICE", "mean score", "80% interval", f"P(top {top_k})", "E[rank]"]
    align = "rllrrrrr"
    if everyone:
        header, align = header[1:6] + header[7:], align[1:6] + align[7:]
    source = terminal_text(result.portfolio.source or "portfolio")
    note = ranking_note(result, top_k)
    lines = [
        f"{source}: {len(result.portfolio)} initiatives, {result.samples:,} samples "
        f"({result.method}, seed {result.seed}), confidence mode '{result.confidence_mode}'",
        "",
        text_table(rows, header, align),
        "",
        *([note] if note else []),
        "RICE: classic score from the estimates' medians. " + (
            "E[rank]: the mean rank over the samples." if everyone else
            f"P(top {top_k}): how often the initiative is among the {top_k} best scores. {PM_NOTE}"),
        f"80% interval: p10 – p90 of the simulated score. Reproduce with --seed {result.seed}.",
    ]
    if result.precision_target is not None:
        reached = result.precision_reached
        status = "reached" if reached <= result.precision_target else f"NOT reached (sample cap {result.samples:,})"
        lines.append(f"Precision target ±{result.precision_target:g}: {status}; widest half-width ±{reached:.4f}.")
    return "\n".join(lines) + "\n"


def score_record(result: SimulationResult, top_k: int) -> dict:
    """The JSON document of `workbench score`: `result.to_dict(top_k)` with each initiative's tie
    group (`rank_group`: [first, last] ranks, equal when it has a rank of its own) and
    `all_in_top_k` (k covers every initiative: P(top k) is 1 by construction)."""
    out = result.to_dict(top_k)
    ties = ranking_ties(result, top_k)
    for record in out["initiatives"]:
        record["rank_group"] = [int(ties.at[record["id"], "first"]), int(ties.at[record["id"], "last"])]
    out["all_in_top_k"] = everyone_in_top_k(result, top_k)
    note = ranking_note(result, top_k)
    if note:
        out["ranking_note"] = note
    return out


def _tail(plan: Plan) -> str:
    return f"(worst {plan.alpha:.0%})"


def _pm(value: float | None, se: float | None) -> str:
    return pm(value, None if se is None else half_width(se))


def _chance(p: float | None, se: float | None, samples: int) -> str:
    return probability(p, None if se is None else half_width(se), samples)


def _baseline_lines(plan: Plan, value_unit: str, samples: int) -> list[str]:
    """Greedy by RICE and the current plan: their figures and the recommended plan's gain over each."""
    lines = []
    for key, title in (("greedy", "Greedy by RICE"), ("current", "Your current plan")):
        other = getattr(plan, key)
        if other is None:
            continue
        cmp = plan.comparisons[key]
        n = len(other.selected)
        lines += ["", f"{title}: {n} initiative{'' if n == 1 else 's'}, expected value "
                      f"{_pm(other.expected_value, other.expected_value_se)}, CVaR {_tail(plan)} "
                      f"{_pm(other.cvar, other.cvar_se)}"]
        broken = other.violations()
        if broken:
            lines.append("  breaks: " + "; ".join(terminal_text(b) for b in broken))
        lines.append(f"  the recommended plan gains {pm(cmp.expected_gain, half_width(cmp.gain_se))} {value_unit} "
                     f"in expected value; P(it is worth more) "
                     f"{probability(cmp.p_better, binomial_half_width(cmp.p_better, samples))}")
    return lines


def _frontier_lines(plan: Plan, front: Frontier, settings: Settings, value_unit: str) -> list[str]:
    """The frontier table (each point ± its errors; the recommended plan and any plan beating it
    marked) and, when plans beat the recommended one, the sentence saying so."""
    beaters = front.beats(plan)
    beating = {p.funded.tobytes() for p in beaters}

    def mark(p: Plan) -> str:
        if np.array_equal(p.funded, plan.funded):
            return "recommended"
        return "beats it" if p.funded.tobytes() in beating else ""

    rows = [[str(k + 1), _pm(p.expected_value, p.expected_value_se), _pm(p.cvar, p.cvar_se), str(len(p.selected)),
             mark(p), terminal_text(", ".join(p.selected), 90)] for k, p in enumerate(front.plans)]
    lines = ["", f"Efficient frontier ({len(front.plans)} plans, most risk-averse first"
                 + ("" if getattr(front, "complete", True) else "; stopped at its cap on solves: may miss plans")
                 + "):", "",
             text_table(rows, ["#", "E[value]", f"CVaR {_tail(plan)}", "n", "", "initiatives"], "rrrrll")]
    sentence = beats_sentence(plan, beaters, settings.scenarios, value_unit)
    return lines + (["", terminal_text(sentence)] if sentence else [])


def plan_text(plan: Plan, settings: Settings, front: Frontier | None = None, optimality_gap=None) -> str:
    """The human-readable plan printed by `workbench optimize`; every figure ± its 95% error.

    optimality_gap: a `plan_quality.OptimalityGap` of the plan, said in one sentence when given."""
    sc, prob, c = plan.scenarios, plan.problem, plan.problem.constraints
    m = plan.metrics()
    unit = "person-months" if c.budget_column == "effort" else "(cost)"
    value_unit = terminal_text(settings.value_unit)
    objective = objective_label(plan.objective, plan.alpha, plan.lam).replace(
        f"CVaR {plan.alpha:.0%}", f"CVaR {_tail(plan)}")
    gap = "" if plan.gap is None else f", gap {plan.gap:.2%}"
    source = terminal_text(prob.portfolio.source or "portfolio")
    lines = [f"{source}: budget {number(c.budget)} {unit}, objective {objective}, seed {settings.seed}, "
             f"confidence mode '{sc.confidence_mode}'",
             evaluated_on_sentence(m["evaluated_on"], settings.scenarios),
             f"Solver: {plan.status}{gap}", ""]
    frame = plan.to_frame()
    rows = [[terminal_text(i, 24), terminal_text(r["name"], 40), terminal_text(r["team"] or "", 12),
             r["moscow"] or "", number(r["budget_used"]), number(r["expected_value"]),
             f"{r['value_share']:.0%}", f"{r['p_delivers']:.2f}"] for i, r in frame.iterrows()]
    lines += [f"Fund {len(frame)} initiative{'' if len(frame) == 1 else 's'}:", "",
              text_table(rows, ["id", "initiative", "team", "MoSCoW", "budget", "E[value]", "share", "P(delivers)"],
                         "llllrrrr"), ""]
    lines.append(f"Value ({value_unit}): expected {_pm(m['expected_value'], m['expected_value_se'])}; "
                 f"p10 {_pm(m['p10'], m['p10_se'])}, median {_pm(m['p50'], m['p50_se'])}, "
                 f"p90 {_pm(m['p90'], m['p90_se'])}; CVaR {_tail(plan)} {_pm(m['cvar'], m['cvar_se'])}")
    lines.append(f"Budget used: {number(plan.cost)} of {number(c.budget)} {unit}; "
                 f"total effort mean {_pm(m['effort_mean'], m['effort_mean_se'])} person-months")
    if m["p_overrun"] is not None:
        lines.append(f"P(effort exceeds the budget): {_chance(m['p_overrun'], m['p_overrun_se'], sc.count)}")
    for team, p in m["team_overrun"].items():
        lines.append(f"P(team {terminal_text(team)} exceeds its capacity of {number(c.capacities[team])}): "
                     f"{_chance(p, m['team_overrun_se'].get(team), sc.count)}")
    quality = [vss_sentence(plan, value_unit, settings.scenarios), gap_sentence(plan, optimality_gap, value_unit)]
    lines += [""] + [terminal_text(q) for q in quality if q] if any(quality) else []
    lines += _baseline_lines(plan, value_unit, sc.count)
    if front is not None:
        lines += _frontier_lines(plan, front, settings, value_unit)
    lines += ["", f"{PM_NOTE} Reproduce with --seed {settings.seed}."]
    return "\n".join(lines) + "\n"


def _plan_figures(plan: Plan) -> dict:
    """A baseline's figures for JSON: what it funds, expected value and CVaR with standard errors."""
    return {"selected": plan.selected, "expected_value": plan.expected_value,
            "expected_value_se": plan.expected_value_se, "cvar": plan.cvar, "cvar_se": plan.cvar_se}


def plan_record(plan: Plan, settings: Settings, front: Frontier | None = None, optimality_gap=None) -> dict:
    """The JSON document of `workbench optimize` (standard errors in `*_se` fields; `evaluated_on`
    says which scenarios the figures come from). `vss`: {value, se} of planning with the ranges
    against the point-estimate plan (`point`); `optimality_gap`: a `plan_quality.OptimalityGap`'s
    fields when given; with a frontier, `frontier_beats_recommended`: the frontier plans (by index)
    that beat the plan on both expected value and CVaR on the evaluation draws."""
    c = plan.problem.constraints
    out = {"status": plan.status, "objective": plan.objective, "budget": c.budget,
           "budget_column": c.budget_column, "scenarios": settings.scenarios,
           "evaluation_samples": plan.scenarios.count,
           "seed": settings.seed, "confidence_mode": plan.scenarios.confidence_mode, "value_unit": settings.value_unit,
           **plan.metrics(), "gap": plan.gap}
    if plan.lam is not None:
        out["lambda"] = plan.lam
    for key in ("greedy", "current"):
        other: Plan | None = getattr(plan, key)
        if other is not None:
            cmp = plan.comparisons[key]
            out[key] = {**_plan_figures(other), "violations": other.violations(),
                        "expected_gain": cmp.expected_gain, "expected_gain_se": cmp.gain_se,
                        "p_optimal_better": cmp.p_better, "p_optimal_better_se": cmp.p_better_se}
    if plan.vss is not None:
        out["vss"] = {"value": plan.vss.value, "se": plan.vss.se}
    if plan.point is not None:
        out["point"] = {**_plan_figures(plan.point), "same_plan": bool(np.array_equal(plan.point.funded, plan.funded))}
    if optimality_gap is not None:
        out["optimality_gap"] = {f: getattr(optimality_gap, f) for f in
                                 ("value", "se", "upper", "upper_se", "lower", "lower_se", "replications")}
    if front is not None:
        out["frontier"] = front.to_records()
        beating = {p.funded.tobytes() for p in front.beats(plan)}
        out["frontier_beats_recommended"] = [k for k, p in enumerate(front.plans) if p.funded.tobytes() in beating]
    out["settings"] = settings.to_dict()
    return out


def _se(row, figure: str) -> float | None:
    """A sweep row's standard error of `figure` (None when the sweep has none, or it is missing)."""
    se = getattr(row, f"{figure}_se", None)
    return None if se is None or np.isnan(se) else float(se)


def _sweep_source(sweep) -> str:
    """"; figures on 20,000 evaluation draws": where a sweep's figures come from, if it says."""
    if "evaluated_on" not in sweep or not len(sweep):
        return ""
    row, count = sweep.iloc[0], f"{int(sweep.iloc[0]['evaluated_count']):,}"
    if row["evaluated_on"] == "evaluation":
        return f"; figures on {count} independent evaluation draws"
    return f"; figures on the same {count} scenarios (in-sample)"


def sensitivity_text(report: SensitivityReport, header: str = "") -> str:
    """The analyses of `workbench sensitivity`, readable; header: the plan's table."""
    lines = [header.rstrip(), ""] if header else []
    if report.budget_sweep is not None:
        sweep = report.budget_sweep
        rows = [[number(r.budget), r.status, _pm(r.expected_value, _se(r, "expected_value")),
                 "" if np.isnan(r.marginal_value) else _pm(r.marginal_value, _se(r, "marginal_value")),
                 f"{_pm(r.p10, _se(r, 'p10'))} – {_pm(r.p90, _se(r, 'p90'))}", str(len(r.selected))]
                for r in sweep.itertuples()]
        lines += [f"Budget sweep (plans chosen on the same scenarios at every budget{_sweep_source(sweep)}):", "",
                  text_table(rows, ["budget", "status", "E[value]", "per extra unit", "80% interval", "n"],
                             "rlrrrr"), ""]
        entry = report.entry_budgets.dropna().sort_values("entry_budget")
        rows = [[terminal_text(i, 28), number(r.entry_budget), f"{r.funded_share:.0%}"]
                for i, r in entry.iterrows()]
        lines += ["Smallest budget at which each initiative is funded:", "",
                  text_table(rows, ["id", "enters at", "funded after"], "lrr"), ""]
    if report.split_sweep is not None:
        group = report.split_sweep["group"].iloc[0]
        rows = [[f"{r.share:.0%}", r.status, _pm(r.expected_value, _se(r, "expected_value")),
                 _pm(r.group_value, _se(r, "group_value"))] for r in report.split_sweep.itertuples()]
        lines += [f"Budget split: share given to {terminal_text(group)}, the rest optimized"
                  f"{_sweep_source(report.split_sweep)}:", "",
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



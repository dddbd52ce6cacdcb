"""The one way numbers are written for people, and the one meaning of "±".

Every "±" the package shows (CLI, reports, dashboard, scenario comparisons) is a 95% Monte
Carlo half-width; each view says so once (`PM_NOTE`). Programs get standard errors instead,
in JSON fields named `*_se`. The sentences about a plan (where its figures come from, the value
of the stochastic solution, the optimality gap, frontier plans that beat it) live here too, so
every view says them in the same words.
"""

from __future__ import annotations

import math

import numpy as np

from ..planning.plans import mean_standard_error, objective_terms

Z95 = 1.959964  # a normal 95% half-width in standard errors
PM_NOTE = "± is a 95% Monte Carlo half-width."


def number(x: float | None) -> str:
    """Compact, readable numbers: 12,345 / 123 / 4.56 / 0.012; "–" for a missing one."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    ax = abs(x)
    if float(x).is_integer() and ax < 1e15:
        return f"{int(x):,}"
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 1:
        return f"{x:.3g}"
    return f"{x:.2g}"


FACTOR_WORDS = {"reach": "reach", "impact": "impact", "confidence": "confidence", "effort": "effort"}


def input_label(input_id: str, names: dict[str, str]) -> str:
    """An analysis input (`id.factor`, as the sensitivity frames name them) in a reader's words:
    "AI assistant — reach". `names` maps initiative ids to names; unknown ids stay as they are."""
    id_, _, factor = str(input_id).rpartition(".")
    if not id_:
        return names.get(str(input_id), str(input_id))
    return f"{names.get(id_, id_)} — {FACTOR_WORDS.get(factor, factor)}"


def percentile_ordinal(q: float) -> str:
    """A quantile as an ordinal percentile: 0.8 → "80th", 0.01 → "1st", 0.33 → "33rd", 0.12 → "12th"."""
    n = round(q * 100)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def half_width(se: float) -> float:
    """The 95% half-width of a normal estimate with standard error `se`."""
    return Z95 * se


def pm(value: float | None, half: float | None = None, *, digits: int | None = None) -> str:
    """A value with its 95% half-width when there is one: "40,360 ± 192", "0.46 ± 0.01"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"

    def fmt(x: float) -> str:
        return f"{x:.{digits}f}" if digits is not None else number(round(x, 12) if abs(x) >= 100 else x)

    if half is None or (isinstance(half, float) and math.isnan(half)):
        return fmt(value)
    return f"{fmt(value)} ± {fmt(half)}"


def probability(p: float | None, half: float | None = None, samples: int | None = None) -> str:
    """A probability with its 95% half-width ("0.462 ± 0.007"). At exactly 0 or 1 from `samples`
    draws the half-width says nothing, so the rule of three bounds it instead."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    if samples and p <= 0:
        return f"0 (below {3 / samples:.1g})"
    if samples and p >= 1:
        return f"1 (above {1 - 3 / samples:.4g})"
    if half is None and samples:
        half = Z95 * math.sqrt(p * (1 - p) / samples)
    return f"{p:.3f}" if half is None else f"{p:.3f} ± {half:.3f}"


def percent(p: float | None, half: float | None = None) -> str:
    """A probability as a percentage with its 95% half-width: "55% ± 1.6%"."""
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "–"
    return f"{p:.0%}" if half is None else f"{p:.0%} ± {half:.1%}"


def binomial_half_width(p: float, samples: int) -> float:
    """95% half-width of a proportion p estimated from `samples` independent draws."""
    return Z95 * math.sqrt(max(p * (1 - p), 0.0) / samples)


def amount(x: float | None, unit: str) -> str:
    """A quantity with its unit: "40,454 value points", "12 person-months"."""
    return f"{number(x)} {unit}".rstrip()


# --- Sentences about a plan, the same in every view (plain text: callers escape it for HTML) -----


def objective_label(objective: str | None, alpha: float, lam: float | None) -> str:
    """ "expected value", "CVaR 10%", "expected value + 1 × CVaR 10%"."""
    return {"mean": "expected value", "cvar": f"CVaR {alpha:.0%}",
            "blend": f"expected value + {lam or 0:g} × CVaR {alpha:.0%}"}[objective or "mean"]


def _in_objective(plan) -> str:
    """" in CVaR 10%" when the plan's objective is not the expected value (the unit alone says it)."""
    if (plan.objective or "mean") == "mean":
        return ""
    return f" in {objective_label(plan.objective, plan.alpha, plan.lam)}"


def evaluated_on_sentence(where: dict, selection: int) -> str:
    """Which scenarios a plan's figures come from: `where` is `Plan.metrics()["evaluated_on"]`,
    `selection` the number of scenarios the plan was chosen on."""
    if where["scenarios"] == "evaluation":
        return (f"The plan is chosen on {selection:,} selection scenarios; every plan figure is estimated on "
                f"{where['count']:,} independent evaluation draws.")
    return (f"Every plan figure is estimated on the {where['count']:,} scenarios the plan was chosen on "
            "(not independent: expect them to flatter the plan).")


def _ids(ids: list[str], limit: int = 6) -> str:
    return ", ".join(ids) if len(ids) <= limit else f"{len(ids)} initiatives"


def vss_sentence(plan, unit: str, selection: int | None = None) -> str | None:
    """The value of the stochastic solution in words (None when the plan has none); when it is
    negative beyond its error, the plan chosen on `selection` scenarios lost to single numbers."""
    if plan.vss is None or plan.point is None:
        return None
    if np.array_equal(plan.point.funded, plan.funded):
        return ("The plan chosen on the medians (single numbers) is the same plan: planning with the ranges "
                "changes nothing here.")
    half = half_width(plan.vss.se)
    if plan.vss.value + half < 0:  # a loss beyond the error: the selection draws could not tell these plans apart
        scale = abs(plan.objective_value)
        share = f", {-plan.vss.value / scale:.1%} of the plan's value" if scale else ""
        few = f"the {selection:,} selection scenarios" if selection else "the selection scenarios"
        return (f"The plan chosen on the medians (single numbers: {_ids(plan.point.selected)}) does slightly "
                f"better on the evaluation draws, by {pm(-plan.vss.value, half)} {unit}{_in_objective(plan)}"
                f"{share}: {few} cannot separate plans this close; raise scenarios to settle it.")
    return (f"Planning with the ranges instead of single numbers is worth {pm(plan.vss.value, half)}"
            f" {unit}{_in_objective(plan)} (against the plan chosen on the medians: {_ids(plan.point.selected)}).")


def gap_sentence(plan, gap, unit: str) -> str | None:
    """The optimality gap (`plan_quality.OptimalityGap`) in words; None without one."""
    if gap is None:
        return None
    return (f"The recommended plan is within {pm(gap.value, half_width(gap.se))} {unit} of the best plan "
            f"possible{_in_objective(plan)} ({gap.replications} independent re-solves).")


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a − b over common scenarios and its paired standard error."""
    return float((a - b).mean()), mean_standard_error(a - b)


def beaten_by(plan, beaters: list) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The largest margins, (difference, se) in expected value and in CVaR, by which `beaters` beat
    `plan` on their common (evaluation) scenarios; None when none does."""
    if not beaters:
        return None
    mine = objective_terms(plan.value, "cvar", plan.alpha, None)
    ev = max((_paired(b.value, plan.value) for b in beaters), key=lambda t: t[0])
    cv = max((_paired(objective_terms(b.value, "cvar", plan.alpha, None), mine) for b in beaters), key=lambda t: t[0])
    return ev, cv


def beats_sentence(plan, beaters: list, selection: int, unit: str) -> str | None:
    """What to say when frontier plans beat the recommended one on both axes (`Frontier.beats`)."""
    margins = beaten_by(plan, beaters)
    if margins is None:
        return None
    (ev, ev_se), (cv, cv_se) = margins
    n = len(beaters)
    return (f"On the independent evaluation draws, {n} plan{'s' if n > 1 else ''} on the curve "
            f"beat{'' if n > 1 else 's'} the recommended plan on both expected value and CVaR (by up to "
            f"{pm(ev, half_width(ev_se))} and {pm(cv, half_width(cv_se))} {unit}); the selection scenarios "
            f"({selection:,}) could not separate them: raise scenarios.")

"""Plain words for every figure: "How to read this" text per topic, and what to say when an
analysis has nothing to show (every estimate a single number, no plan, nothing funded).

Plain text (callers escape it for HTML), the same sentences in the reports and the dashboard.
"""

from __future__ import annotations

import html

TOPICS = ("ranking", "plan", "frontier", "cvar", "sweep", "tornado", "switch", "sobol", "evpi", "evppi",
          "roadmap", "team_load", "value_fan", "calibration", "pit", "reliability", "correction")


def _texts(k: int | None, alpha: float, unit: str) -> dict[str, str]:
    top = f"top {k}" if k else "top k"
    worst = f"{alpha:.0%}"
    return {
        "ranking": (f"P({top}) is the chance that an initiative ranks among the {k or 'k'} best by RICE score "
                    "across all the simulated futures: high means it is a safe bet whatever the estimates turn "
                    "out to be. A shared rank such as 3–5 means the simulation cannot tell those initiatives apart."),
        "plan": ("The plan is the set of initiatives worth the most within the budget and the constraints. Its "
                 f"value is in {unit}, ± the simulation's 95% error; the p10 – p90 band is how far the outcome "
                 "itself may fall or rise."),
        "frontier": ("Each point is a plan with the most expected value for its bad case (CVaR): moving along "
                     "the curve buys more expected value at the price of a worse bad case. A plan below the "
                     "curve is beaten on both."),
        "cvar": (f"CVaR {worst} is the plan's average value in its worst {worst} of simulated futures, in {unit}: "
                 "the bad case to plan for. The higher it is, the safer the plan."),
        "sweep": ("The best plan is chosen again at each budget: the curve shows what each extra person-month "
                  "buys, and where it flattens, more budget stops paying."),
        "tornado": ("Each bar moves one estimate from pessimistic (p10) to optimistic (p90), every other estimate "
                    "at its median: the longest bars are the estimates the plan's value depends on most. It shows "
                    "how much the value moves, not whether the plan changes (see the switch points)."),
        "switch": ("A switch point is the value of one estimate at which the best plan changes: an initiative "
                   "enters or leaves. When it lies outside the estimate's likely range, the decision does not "
                   "hinge on that estimate."),
        "sobol": ("Sobol indices split the uncertainty in the plan's value among the estimates: 'alone' (S1) is "
                  "the share one initiative's estimates explain by themselves, 'with interactions' (ST) adds their "
                  "combined effects. Narrow the estimates with a large share; those near 0 can stay rough."),
        "evpi": ("EVPI is the most the plan's expected value could gain from knowing every estimate exactly "
                 "before deciding, so the most any research could be worth. If it is small next to the plan's "
                 "value, decide now."),
        "evppi": ("EVPPI is what knowing one initiative's value exactly would add, by changing the plan when the "
                  "answer calls for it: research the top rows first. The chance column says how often that "
                  "answer would change what is funded."),
        # The roadmap's views: worded for whichever roadmap is shown (optimal, greedy by RICE, yours).
        "roadmap": ("Each row is an initiative of the roadmap shown, in the quarters it runs, grouped by team and "
                    "shaded by the chance it lands by its planned quarter when efforts overrun as estimated. A ring "
                    "marks the quarter by which it lands in 9 of 10 scenarios when that is later than planned: "
                    "it earns its value every quarter after it lands, so each quarter of delay costs a quarter of "
                    "its value."),
        "team_load": ("Bars are the person-months each team is planned to spend in each quarter of the roadmap "
                      "shown, the tick its capacity. The shade is the chance the team has more work due than "
                      "capacity that quarter, which pushes its later work out."),
        "value_fan": (f"The cumulative value the roadmap shown earns by the end of each quarter, in {unit}: the "
                      "dashed line as planned, the band the p10 to p90 of the simulated deliveries and the line "
                      "their median. The gap between the dashed line and the band is what slips cost."),
        # Learning from actuals (`workbench calibrate`).
        "calibration": ("A 90% range such as effort 3..8 says the actual falls inside it 9 times in 10; here past "
                        "ranges are checked against what happened (inside only half the time: too narrow), with the "
                        "margin a history this size leaves. The actual ÷ median column shows a bias: ×1.3 means the "
                        "work took 30% more than the middle of its estimate."),
        "pit": ("For each past initiative, the estimate's chance of a value below what actually happened: with "
                "calibrated ranges these chances spread evenly from 0% to 100%, every bar near the dashed line. "
                "Tall bars at both ends (a U) mean the ranges were too narrow; bars piling up at one end mean the "
                "estimates were too low or too high."),
        "reliability": ("Each point groups initiatives by the chance of delivery people stated and shows how "
                        "many were delivered. On the dashed diagonal, 80% meant 8 in 10 delivered; points below "
                        "it mean the stated chances were too hopeful."),
        "correction": ("Each team's ranges move by the bias seen (×1.3: medians 30% higher) and widen until 9 in 10 "
                       "past actuals fall inside the 90% range (split conformal prediction; a team with fewer than "
                       "9 past initiatives gets the correction of every team), and stated chances of delivery "
                       "become the rates delivered at that chance. When next quarter's estimates are made like the "
                       "past ones, the corrected 90% ranges hold the actual at least about 9 times in 10."),
    }


def explain(topic: str, *, k: int | None = None, alpha: float = 0.1, unit: str = "value points") -> str:
    """"How to read this" for `topic` (one of `TOPICS`), one or two sentences for a director.
    `k` (the ranking's top k), `alpha` (the CVaR tail) and `unit` (the value unit; for a roadmap's
    value fan, the value unit × quarters) fill in the figures of this decision when given."""
    texts = _texts(k, alpha, unit)
    if topic not in texts:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    return texts[topic]


# --- nothing to show ---------------------------------------------------------------------------------

REASONS = ("no_ranges", "no_ranges_funded", "no_plan", "nothing_funded")
"""Why an analysis is empty: `no_ranges` every estimate is a single number; `no_ranges_funded` every
estimate of the funded initiatives is; `no_plan` no plan fits; `nothing_funded` the plan funds nothing."""

_WHAT = {  # what -> (title, what a single-number portfolio lacks, what ranges would show)
    "tornado": ("No tornado", "no assumption can swing the plan's value", "which estimates matter"),
    "switch": ("No switch points", "there is no uncertain estimate to move",
               "at which values the decision would change"),
    "sobol": ("No Sobol indices", "there is no uncertainty to share out among them",
              "which estimates drive the plan's value"),
    "frontier": ("No risk–value frontier", "every plan has one certain value and no bad case to trade against it",
                 "plans that trade expected value for a safer bad case"),
    "evpi": ("No value of information", "there is nothing left to learn before deciding",
             "which estimate is worth researching"),
    "evppi": ("No value of information", "there is nothing left to learn before deciding",
              "which estimate is worth researching"),
    "sweep": ("No budget sweep", "", ""),
}
_HINT = "Give ranges (e.g. reach 800..1500) to see {benefit}."


def nothing_to_show(what: str, reason: str) -> str:
    """Why the analysis `what` (tornado, switch, sobol, frontier, evpi, evppi, sweep) has nothing
    to show, and how to get it, in plain words; `reason` is one of `REASONS` (see `empty_reason`)."""
    if what not in _WHAT:
        raise ValueError(f"unknown analysis {what!r}; expected one of {', '.join(_WHAT)}")
    if reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}; expected one of {', '.join(REASONS)}")
    title, lacks, benefit = _WHAT[what]
    if reason == "no_plan":
        return f"{title}: no plan fits the budget and the constraints. Raise the budget or relax a constraint."
    if reason == "nothing_funded":
        return f"{title}: the plan funds nothing, so there is nothing to analyse. Raise the budget."
    if what == "sweep":  # a sweep needs a plan, not ranges
        return f"{title}: set a budget range to see what each extra person-month buys."
    which = "every estimate" if reason == "no_ranges" else "every estimate of the funded initiatives"
    return f"{title}: {which} is a single number, so {lacks}. {_HINT.format(benefit=benefit)}"


def empty_reason(outcome) -> str | None:
    """Why analyses of `outcome` (a `pipeline.Outcome`) may have nothing to show: one of `REASONS`,
    or None when its plan has uncertain estimates to analyse."""
    plan = getattr(outcome, "plan", None)
    if plan is None:
        return "no_plan"
    if not plan.funded.any():
        return "nothing_funded"

    def uncertain(i) -> bool:
        return any(not getattr(i, f).is_point for f in ("reach", "impact", "confidence"))

    items = list(outcome.portfolio.initiatives)
    if not any(uncertain(i) or not i.effort.is_point for i in items):
        return "no_ranges"
    if not any(uncertain(i) for i, funded in zip(items, plan.funded) if funded):
        return "no_ranges_funded"
    return None


# --- the same words as HTML ----------------------------------------------------------------------

HOWTO_STYLE = ("margin: 6px 0 10px; padding: 6px 10px; border-left: 3px solid #9aa7b8; background: #f5f7fa; "
               "font-size: 0.92em; break-inside: avoid; page-break-inside: avoid;")
NOTHING_STYLE = ("margin: 6px 0 10px; padding: 6px 10px; border-left: 3px solid #c9a227; background: #fffbea; "
                 "font-size: 0.92em; break-inside: avoid; page-break-inside: avoid;")


def explain_html(topic: str, **figures) -> str:
    """`explain(topic, **figures)` as a "How to read this" box (class "wb-howto", styled inline so
    it looks the same in a report, a widget and a snapshot)."""
    return (f'<div class="wb-howto" style="{HOWTO_STYLE}"><b>How to read this.</b> '
            f"{html.escape(explain(topic, **figures))}</div>")


def nothing_html(what: str, reason: str) -> str:
    """`nothing_to_show(what, reason)` as a short boxed paragraph (class "wb-nothing")."""
    return f'<p class="wb-nothing" style="{NOTHING_STYLE}">{html.escape(nothing_to_show(what, reason))}</p>'

"""The one-page executive brief: the decision, its value and risk, what moves it, what changed.

`brief(outcome)` gathers plain-text sentences (a `Brief`) from the pipeline's outcome, the same
numbers as the CLI and the dashboard: the report templates show it as page 1 (`brief_html`) and
the slides (`--format pptx`) read the same fields. Every value carries the settings' value unit,
every "±" is a 95% Monte Carlo half-width (`PM_NOTE`), inputs are named "AI assistant — reach".

Delivery risk comes with guidance: the plan chosen with efforts at their 80th percentile
(`safer_plan`: one more solve on the same selection scenarios, valued on the same evaluation
draws) and what it would change, overrun risk against expected value.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..planning.milp import SolverError
from ..planning.optimization import solve
from ..planning.plans import Plan
from .format import PM_NOTE, amount, half_width, input_label, number, objective_label, percent, percentile_ordinal, pm

SAFER_QUANTILE = 0.8  # the effort percentile the risk guidance plans at


@dataclass
class Brief:
    """The executive brief as plain text (callers escape it for HTML; `brief_html` does)."""

    title: str
    recommendation: str
    funded: list[str]
    value: str
    risk: str
    sensitivity: str
    changes: str = ""
    assumptions: list[str] = field(default_factory=list)
    calibration: str = ""  # when calibrated ranges were used: which and how (`calibration_note`)
    note: str = PM_NOTE  # what "±" means, said once


def _names(outcome) -> dict[str, str]:
    return {ini.id: ini.name for ini in outcome.portfolio}


def _pm(value: float | None, se: float | None) -> str:
    return pm(value, None if se is None else half_width(se))


def _signed(value: float, se: float) -> str:
    """"+18,700 ± 465", "−68 ± 434": a difference with its sign and 95% half-width."""
    text = pm(abs(value), half_width(se))
    return ("+" if value >= 0 else "−") + text


def safer_plan(outcome, quantile: float = SAFER_QUANTILE) -> Plan | None:
    """The plan chosen with every effort at its `quantile` (the settings' `effort_quantile` raised),
    on the outcome's selection scenarios and valued on its evaluation draws like the recommended
    plan; None when no plan fits the budget that way (or the solver gives none)."""
    from ..pipeline import planning_problem  # the pipeline imports the views; not at import time

    s = outcome.settings.change(effort_quantile=quantile)
    try:
        problem = planning_problem(outcome.portfolio, s)
        sol = solve(problem, outcome.selection, s.objective, alpha=s.alpha, lam=s.lam, time_limit=s.time_limit)
        if not sol.has_plan():
            return None
    except (InputError, SolverError):
        return None
    lam = s.lam if s.objective == "blend" else None
    return Plan(sol.funded, outcome.evaluation, problem, f"efforts at p{round(quantile * 100)}", s.objective,
                s.alpha, lam, sol.status, sol.gap)


def risk_sentence(outcome, safer: Plan | None | bool = True) -> str:
    """Delivery risk in words: P(the funded work overruns the budget) and per team its capacity,
    with one sentence of guidance. safer: the `safer_plan` (True: compute it; False: guidance
    without numbers)."""
    plan = outcome.plan
    m = plan.metrics()
    c = plan.problem.constraints
    parts = []
    if m["p_overrun"] is not None:
        parts.append(f"The funded work needs more effort than the budget ({amount(c.budget, 'person-months')}) "
                     f"with probability {percent(m['p_overrun'], half_width(m['p_overrun_se']))}.")
    for team, p in m["team_overrun"].items():
        parts.append(f"{team} exceeds its capacity of {amount(c.capacities[team], 'person-months')} with "
                     f"probability {percent(p, half_width(m['team_overrun_se'][team]))}.")
    if not parts:
        return "The budget is on the cost column and no team has a capacity: there is no delivery risk to estimate."
    parts.append(_guidance(outcome, safer))
    return " ".join(p for p in parts if p)


def _guidance(outcome, safer: Plan | None | bool) -> str:
    plan, s = outcome.plan, outcome.settings
    at = percentile_ordinal(SAFER_QUANTILE)
    if s.effort_quantile >= SAFER_QUANTILE:
        return (f"Efforts are already planned at their {percentile_ordinal(s.effort_quantile)} percentile, a cautious "
                "estimate: a lower risk needs a larger budget or fewer initiatives.")
    if safer is False:
        return (f"Planning with efforts at their {at} percentile (setting effort_quantile 0.8) funds less but "
                "lowers this risk.")
    if safer is True:
        safer = safer_plan(outcome)
    if safer is None:
        return (f"No plan fits the budget with efforts at their {at} percentile: lowering the risk needs "
                "a larger budget.")
    if np.array_equal(safer.funded, plan.funded):
        return f"Planning with efforts at their {at} percentile chooses the same plan."
    cost = plan.compare(safer)
    risk = (f"lowers the overrun risk to {percent(safer.p_overrun, half_width(safer.p_overrun_se))}"
            if safer.p_overrun is not None else "lowers the teams' overrun risk")
    gain = pm(abs(cost.expected_gain), half_width(cost.gain_se))
    if cost.expected_gain - half_width(cost.gain_se) > 0:
        price = f"at a cost of {gain} {s.value_unit} of expected value"
    elif cost.expected_gain + half_width(cost.gain_se) < 0:
        price = f"and gains {gain} {s.value_unit} of expected value"
    else:
        price = f"for about the same expected value ({_signed(-cost.expected_gain, cost.gain_se)} {s.value_unit})"
    return f"Planning with efforts at their {at} percentile (setting effort_quantile 0.8) {risk} {price}."


def sensitivity_sentence(outcome, drivers: pd.DataFrame | None, switches: pd.DataFrame | None = None) -> str:
    """The decision's sensitivity in one line: the estimate that moves the plan's value most
    (the tornado's top input, named "AI assistant — reach") and where it would change the plan."""
    if drivers is None:
        return ""
    if not len(drivers):
        return ("Every estimate is a single number, so nothing was tested: give estimates ranges "
                "(e.g. 2..5) to see which assumptions move the decision.")
    names, unit = _names(outcome), outcome.settings.value_unit
    top = drivers.iloc[0]
    label = input_label(top["input"], names)
    line = (f"The assumption that matters most is {label}: between its 10th and 90th percentiles "
            f"({number(top['low'])} to {number(top['high'])}) the plan's value moves by {amount(top['swing'], unit)}")
    if switches is not None and len(switches):
        row = switches[switches["input"] == top["input"]]
        if len(row) and bool(row.iloc[0]["within"]) and not pd.isna(row.iloc[0]["switch_value"]):
            r, factor = row.iloc[0], str(top["input"]).rpartition(".")[2]
            line += (f"; the plan would drop this initiative if its expected {factor} fell below "
                     f"{number(r['switch_value'])} (now {number(r['expected'])})" if r["direction"] == "below" else
                     f"; the plan would add this initiative if its expected {factor} rose above "
                     f"{number(r['switch_value'])} (now {number(r['expected'])})")
    return line + "."


def current_plan_sentence(outcome) -> str:
    """The recommended plan against the user's current plan (the `planned` column or the `plan`
    setting), from the plan's own paired comparison, as the CLI says it: "+18,700 ± 465 value
    points of expected value vs your current plan (6 initiatives), which breaks must-have 'SAML single sign-on
    for enterprise plans'" (initiatives by name)."""
    plan, unit = outcome.plan, outcome.settings.value_unit
    if plan.current is None:
        return "No current plan was given (the planned column, or the plan setting), so there is no comparison."
    cmp, n = plan.comparisons["current"], len(plan.current.selected)
    broken = plan.current.violations(by_name=True)
    breaks = ("; your current plan breaks: " + "; ".join(broken)) if broken else ""
    return (f"Against your current plan ({n} initiative{'' if n == 1 else 's'}): "
            f"{_signed(cmp.expected_gain, cmp.gain_se)} {unit} of expected value{breaks}.")


def assumptions(outcome) -> list[str]:
    """What the plan assumed, in words: budget, capacities, effort quantile, objective, current plan."""
    plan, s = outcome.plan, outcome.settings
    c = plan.problem.constraints
    unit = "person-months" if c.budget_column == "effort" else "(cost)"
    out = [f"Budget: {amount(c.budget, unit)}, of which the plan uses {number(plan.cost)}."]
    if c.capacities:
        out.append("Team capacities: " + ", ".join(f"{t} {amount(v, 'person-months')}"
                                                   for t, v in c.capacities.items()) + ".")
    else:
        out.append("Team capacities: none set (only the total budget limits the plan).")
    q = s.effort_quantile
    out.append(f"Efforts planned at their {percentile_ordinal(q)} percentile" + (" (the median)." if q == 0.5 else "."))
    out.append(f"Objective: the highest {objective_label(plan.objective, plan.alpha, plan.lam)} "
               f"(in {s.value_unit}); CVaR {plan.alpha:.0%} is the average of the worst {plan.alpha:.0%} of outcomes.")
    out.append(current_plan_sentence(outcome))
    return out


def calibration_note(outcome) -> str:
    """When the settings name a calibration: the sentence saying that calibrated ranges were used
    and how they changed (`views.calibration_tables.calibration_sentence`); "" without one."""
    s = outcome.settings
    path = getattr(s, "calibration", None)
    if not path:
        return ""
    try:
        from ..calibration.calibration_file import load_calibration
        from .calibration_tables import calibration_sentence
    except ImportError:  # the calibration views are not installed: say at least which file was used
        return f"Calibrated ranges from {Path(path).name} (learned from past quarters' actuals)."
    return calibration_sentence(load_calibration(path), outcome.portfolio, s.confidence_mode)


def changes_sentence(changes) -> str:
    """What changed since last quarter in one or two sentences: the report's `Changes` (its
    `summary()`), or text as is."""
    if changes is None:
        return ""
    return changes if isinstance(changes, str) else changes.summary()


def brief(outcome, *, drivers: pd.DataFrame | None = None, changes=None, switches: pd.DataFrame | None = None,
          title: str | None = None, safer: Plan | None | bool = True) -> Brief:
    """The executive brief of an outcome with a plan. drivers: the tornado frame (the decision's
    sensitivity); switches: its switch points; changes: `content.Changes` since last quarter (or
    a sentence); safer: see `risk_sentence` (False skips the extra solve)."""
    plan, s = outcome.plan, outcome.settings
    if plan is None:
        raise InputError(f"there is no plan to brief: {outcome.error}")
    names = _names(outcome)
    m = plan.metrics()
    c = plan.problem.constraints
    unit_b = "person-months" if c.budget_column == "effort" else "(cost)"
    n = len(plan.selected)
    source = Path(outcome.portfolio.source).name if outcome.portfolio.source else "the portfolio"
    recommendation = (f"Fund {n} of the {len(outcome.portfolio)} initiatives in {source}, within the budget of "
                      f"{amount(c.budget, unit_b)}.")
    value = (f"Expected value {_pm(m['expected_value'], m['expected_value_se'])} {s.value_unit}; "
             f"in 80% of scenarios between {_pm(m['p10'], m['p10_se'])} and {_pm(m['p90'], m['p90_se'])}; "
             f"in the worst {plan.alpha:.0%} it averages {_pm(m['cvar'], m['cvar_se'])}.")
    return Brief(title=title or "Executive brief", recommendation=recommendation,
                 funded=[names[i] for i in plan.selected], value=value, risk=risk_sentence(outcome, safer),
                 sensitivity=sensitivity_sentence(outcome, drivers, switches), changes=changes_sentence(changes),
                 assumptions=assumptions(outcome), calibration=calibration_note(outcome))


def _e(text: object) -> str:
    return html.escape(str(text))


def brief_html(b: Brief) -> str:
    """The brief as escaped HTML in one block (`<section class="brief">`), so it prints on page 1."""
    rows = [("Recommendation", _e(b.recommendation)
             + "<ul class=\"funded\">" + "".join(f"<li>{_e(n)}</li>" for n in b.funded) + "</ul>"),
            ("Value", _e(b.value)), ("Delivery risk", _e(b.risk))]
    if b.sensitivity:
        rows.append(("Sensitivity", _e(b.sensitivity)))
    if b.changes:
        rows.append(("What changed", _e(b.changes)))
    if b.calibration:
        rows.append(("Calibrated ranges", _e(b.calibration)))
    rows.append(("Assumptions", "<ul>" + "".join(f"<li>{_e(a)}</li>" for a in b.assumptions) + "</ul>"))
    body = "".join(f'<div class="brief-row"><h3>{k}</h3><div>{v}</div></div>' for k, v in rows)
    return (f'<section class="brief"><h2>{_e(b.title)}</h2>{body}'
            f'<p class="brief-note"><i>{_e(b.note)}</i></p></section>')

"""What the strategy-session dashboard shows: charts, tables and sentences built from an `Outcome`.

Plain functions from data to altair charts and escaped HTML, with no widgets and no state, so
they run on the dashboard's worker threads and can be tested on their own. Numbers go
through `workbench.views.format`; every "±" is a 95% Monte Carlo half-width, said once per view
(`pm_note`); values carry the settings' `value_unit`.
"""

from __future__ import annotations

import html

import altair as alt
import numpy as np
import pandas as pd

from ..pipeline import Outcome
from ..sensitivity import SensitivityReport
from ..settings import Settings
from ..views import charts
from ..views.format import (
    PM_NOTE,
    beats_sentence,
    evaluated_on_sentence,
    half_width,
    number,
    pm,
    probability,
    vss_sentence,
)
from ..views.tables import plan_table, ranking_note, ranking_table
from .session import DIFFERENCE, DIFFERENCE_PM, ScenarioComparison

_ESC = html.escape

CSS = """<style>
.wb-dash .wb-table {border-collapse: collapse; font-size: 12px; margin: 4px 0;}
.wb-dash .wb-table th {text-align: left; border-bottom: 1px solid #999; padding: 2px 8px;}
.wb-dash .wb-table td {padding: 2px 8px; border-bottom: 1px solid #e5e5e5;}
.wb-dash .wb-headline {font-size: 14px; line-height: 1.5;}
</style>"""


def note(text: str, kind: str = "") -> str:
    """A line of (already escaped) HTML, coloured by kind: error, ok, muted."""
    colour = {"error": "#b00020", "ok": "#1b7f3b", "muted": "#666"}.get(kind, "inherit")
    return f'<div style="color:{colour}; white-space:normal">{text}</div>'


def pm_note() -> str:
    """What "±" means, said once in each view that shows one."""
    return note(f"<i>{PM_NOTE}</i>", "muted")


def table(frame: pd.DataFrame, index: bool = False) -> str:
    """A readable HTML table; every cell is escaped (user text is text, never markup)."""
    return frame.to_html(index=index, escape=True, border=0, classes="wb-table", na_rep="–")


def objective_text(s: Settings) -> str:
    return {"mean": "maximizing expected value", "cvar": f"maximizing CVaR {s.alpha:.0%}",
            "blend": f"expected value + {s.lam:g} × CVaR {s.alpha:.0%}"}[s.objective]


# --- the fast path: ranking and plan ------------------------------------------------------------


def fast_views(outcome: Outcome) -> dict:
    """The ranking's and the plan's charts and tables (built off the kernel's main thread)."""
    r, s = outcome.result, outcome.settings
    pick = alt.selection_point(name="pick", fields=["id"], on="click", clear="dblclick", empty=True)
    views = {"outcome": outcome, "ranking": charts.top_k_probability(r, s.top_k, select=pick),
             "intervals": charts.score_intervals(r, s.top_k),
             "ranking_table": table(ranking_table(r, s.top_k)) + _ranking_note(r, s.top_k) + pm_note()}
    if outcome.plan is not None:
        views["value"] = charts.plan_value_distribution(outcome.plan)
        views["plan_table"] = table(plan_table(outcome.plan, s.value_unit))
        views["headline"] = headline(outcome)
    return views


def _ranking_note(result, top_k: int) -> str:
    text = ranking_note(result, top_k)
    return note(_ESC(text), "muted") if text else ""


def headline(o: Outcome) -> str:
    """The recommended plan in sentences: size, budget, value, risk, overrun, against baselines."""
    plan, s = o.plan, o.settings
    m, n, unit = plan.metrics(), plan.value.size, _ESC(s.value_unit)
    lines = [f"<b>Recommended plan</b> ({_ESC(objective_text(s))}): {len(m['selected'])} initiatives, "
             f"budget used {number(round(m['budget_used'], 1))} of {number(s.budget)} "
             f"{'person-months' if s.budget_column == 'effort' else '(cost column)'}",
             f"Expected value <b>{_pm(m['expected_value'], m['expected_value_se'])}</b> {unit}; "
             f"80% interval {_pm(m['p10'], m['p10_se'])} – {_pm(m['p90'], m['p90_se'])}; "
             f"CVaR {s.alpha:.0%} {_pm(m['cvar'], m['cvar_se'])}"]
    if plan.status != "optimal":
        gap = "" if plan.gap is None else f", within {plan.gap:.2%} of the optimum"
        lines.insert(0, note(f"The solver stopped at its {s.time_limit:g} s limit ({_ESC(plan.status)}{gap}): "
                             "this plan may not be the best.", "error"))
    if m["p_overrun"] is not None:
        lines.append(f"P(total effort exceeds the budget) = "
                     f"<b>{probability(m['p_overrun'], half_width(m['p_overrun_se']), n)}</b>")
    for team, p in m["team_overrun"].items():
        lines.append(f"P({_ESC(team)} exceeds its capacity) = "
                     f"{probability(p, half_width(m['team_overrun_se'][team]), n)}")
    vss = vss_sentence(plan, s.value_unit, s.scenarios)
    if vss:
        lines.append(_ESC(vss))
    for key, c in plan.comparisons.items():
        other = plan.greedy if key == "greedy" else plan.current
        if np.array_equal(other.funded, plan.funded):
            lines.append(f"vs {_ESC(c.against)}: the same plan")
            continue
        lines.append(f"vs {_ESC(c.against)}: gains {pm(c.expected_gain, half_width(c.gain_se))} {unit} of expected "
                     f"value; P(worth more, ties count half) {probability(c.p_better, half_width(c.p_better_se))}")
    lines.append(note(_ESC(evaluated_on_sentence(m["evaluated_on"], s.scenarios)), "muted"))
    return "<div class='wb-headline'>" + "<br>".join(lines) + "</div>" + pm_note()


def _pm(value: float, se: float | None) -> str:
    return pm(value, None if se is None else half_width(se))


def status_line(o: Outcome, elapsed: float) -> str:
    s = o.settings
    return note(f"{number(o.result.samples)} samples, seed {s.seed} · engine {o.seconds['total'] * 1000:.0f} ms, "
                f"shown {elapsed * 1000:.0f} ms after the last change", "muted")


# --- the slower views: frontier and budget sweep ---------------------------------------------------


def slow_views(outcome: Outcome, front, sweep: pd.DataFrame) -> dict:
    return {"outcome": outcome, "frontier": front, "sweep": sweep,
            "frontier_chart": charts.efficient_frontier(front, outcome.plan),
            "sweep_chart": charts.budget_sweep(sweep, outcome.settings.budget)}


def slow_status(outcome: Outcome, front) -> str:
    """Where the frontier's figures come from and, when frontier plans beat the recommended plan on
    both axes on the evaluation draws, a sentence saying so (they are marked on the chart)."""
    s = outcome.settings
    text = note(f"{len(front.plans)} frontier plans, chosen on {number(s.scenarios)} selection scenarios and valued "
                f"on the {number(s.samples)} samples, like the recommended plan (the red diamond)", "muted")
    if outcome.plan is None:
        return text
    beats = beats_sentence(outcome.plan, front.beats(outcome.plan), s.scenarios, s.value_unit)
    return text + (note(_ESC(beats), "error") if beats else "")


# --- heavy analyses ---------------------------------------------------------------------------------


def heavy_views(outcome: Outcome, report: SensitivityReport) -> dict:
    return {"outcome": outcome, "report": report, "tornado": charts.tornado(report.tornado),
            "html": analyses_html(report, outcome)}


def analyses_html(report: SensitivityReport, outcome: Outcome) -> str:
    """EVPI, EVPPI, Sobol indices and switch points, readable."""
    unit, names = _ESC(outcome.settings.value_unit), dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    parts = []
    if report.evpi is not None:
        e = report.evpi
        parts.append(f"<p><b>EVPI</b> (what perfect information on every value is worth at most): "
                     f"{pm(e['value'], half_width(e['se']))} {unit}</p>")
    if report.evppi is not None:
        f = report.evppi.head(10)
        parts.append("<p><b>Which estimate to research first</b> (EVPPI, per initiative):</p>" + table(pd.DataFrame({
            "initiative": f["id"].map(names), f"EVPPI ({outcome.settings.value_unit})":
                [pm(v, half_width(se)) for v, se in zip(f["value"], f["se"])],
            "P(the information changes the plan)": f["p_change"].map(number)})))
    if report.sobol is not None:
        f = report.sobol.head(10)
        parts.append("<p><b>What drives the plan's value</b> (Sobol indices: S1 alone, ST with interactions):</p>"
                     + table(pd.DataFrame({"S1": [pm(v, h) for v, h in zip(f["S1"], f["S1_conf"])],
                                           "ST": [pm(v, h) for v, h in zip(f["ST"], f["ST_conf"])]},
                                          index=f.index), index=True))
    if report.switch_points is not None:
        f = report.switch_points.head(10)
        parts.append("<p><b>Switch points</b>:</p>" + table(pd.DataFrame({
            "input": f["input"], "expected": f["expected"].map(number), "decision changes at": f["note"]})))
    return "".join(parts) + pm_note()


def analyses_status(outcome: Outcome, current: Settings) -> str:
    s = outcome.settings
    stale = s != current
    text = (f"analyses of the plan at budget {number(s.budget)}: tornado, switch points and value of information "
            f"on the {number(s.scenarios)} selection scenarios, Sobol indices on draws of their own"
            + (": the settings have changed since, run them again" if stale else ""))
    return note(text, "error" if stale else "ok")


# --- scenario comparison ------------------------------------------------------------------------


def comparison_html(c: ScenarioComparison) -> str:
    """Two saved scenarios side by side: what differs, plan value, funded initiatives, rank changes."""
    first, second = c.names
    digits = [3 if metric.startswith("P(") else None for metric in c.values.index]
    v = c.values
    values = pd.DataFrame({name: [pm(x, h, digits=d) for x, h, d in zip(v[name], v[f"± {name}"], digits)]
                           for name in (first, second)}, index=v.index)
    values[f"{second} − {first}"] = [pm(x, h, digits=d) for x, h, d in zip(v[DIFFERENCE], v[DIFFERENCE_PM], digits)]
    how = ("paired scenario by scenario (both scenarios have as many samples and share the draws of what they "
           "do not change)" if c.paired else "sqrt(h1² + h2²) of the two half-widths, for independent runs")
    k = c.top_k
    r = c.ranks[c.ranks["moves up by"].abs() >= 0.05].head(10)
    ranks = pd.DataFrame({"initiative": r["name"], f"rank {first}": r[f"rank {first}"].map(lambda x: f"{x:.1f}"),
                          f"rank {second}": r[f"rank {second}"].map(lambda x: f"{x:.1f}"),
                          "moves up by": r["moves up by"].map(lambda x: f"{x:+.1f}"),
                          **{f"P(top {k}) {name}": [probability(p, h) for p, h in zip(r[f"P(top {k}) {name}"],
                                                                                       r[f"± {name}"])]
                             for name in (first, second)}})
    return (
        f"<h4>{_ESC(first)} vs {_ESC(second)}</h4>"
        + "".join(note(f"<b>{_ESC(n)} has no plan:</b> {_ESC(e)}", "error") for n, e in zip(c.names, c.errors) if e)
        + "<p><b>What differs</b></p>"
        + (table(c.settings) if len(c.settings) else note("the same settings", "muted"))
        + "<p><b>Plan value</b></p>" + table(values, index=True)
        + note(f"The last column is {_ESC(second)} minus {_ESC(first)}; its ± is {how}.", "muted")
        + "".join(note(f"{_ESC(n)}: {_ESC(src)}", "muted") for n, src in zip(c.names, c.sources) if src)
        + "<p><b>Funded initiatives</b></p>" + table(c.plans[c.plans["change"] != "kept"].reset_index())
        + f"<p><b>Largest rank changes</b> (expected rank; moving up means a better rank in {_ESC(second)})</p>"
        + (table(ranks) if len(ranks) else note("no initiative moves by 0.05 places or more", "muted"))
        + pm_note())

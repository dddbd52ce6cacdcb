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
from ..views import analysis_tables as at
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
from ..views.tables import plan_html, ranking_html, table_html
from .session import DIFFERENCE, DIFFERENCE_PM, ScenarioComparison

_ESC = html.escape

CSS = """<style>
.wb-dash .wb-table {border-collapse: collapse; font-size: 12px; margin: 4px 0;}
.wb-dash .wb-table th {text-align: left; border-bottom: 1px solid #999; padding: 2px 8px;}
.wb-dash .wb-table td {padding: 2px 8px; border-bottom: 1px solid #e5e5e5;}
.wb-dash .widget-html-content {line-height: 1.45;}
.wb-dash .wb-headline {font-size: 14px; line-height: 1.5;}
.wb-dash .wb-how {background: #f3f6fa; border-left: 3px solid #4c78a8; padding: 4px 8px; margin: 6px 0;
  font-size: 12px; line-height: 1.45; color: #333; white-space: normal;}
.wb-dash h4.wb-section {margin: 14px 0 2px 0;}
</style>"""


def how_to_read(topic: str, **figures) -> str:
    """The "How to read this" box of a view: the same plain words as the reports
    (`analysis_tables.explain`), with this decision's k, α and unit when given."""
    return f'<div class="wb-how"><b>How to read this:</b> {_ESC(at.explain(topic, **figures))}</div>'


def section(title: str, topic: str | None = None, **figures) -> str:
    """A titled part of a view, with its "How to read this" box."""
    return f'<h4 class="wb-section">{_ESC(title)}</h4>' + (how_to_read(topic, **figures) if topic else "")


def note(text: str, kind: str = "") -> str:
    """A line of (already escaped) HTML, coloured by kind: error, ok, muted."""
    colour = {"error": "#b00020", "ok": "#1b7f3b", "muted": "#666"}.get(kind, "inherit")
    return f'<div style="color:{colour}; white-space:normal">{text}</div>'


def pm_note() -> str:
    """What "±" means, said once in each view that shows one."""
    return note(f"<i>{PM_NOTE}</i>", "muted")


def table(frame: pd.DataFrame, index: bool = False) -> str:
    """A plain HTML table, for the problems of a file (`opening`); every cell is escaped (user text
    is text, never markup). The views use the shared style, `tables.table_html`."""
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
             "ranking_table": how_to_read("ranking", k=s.top_k) + ranking_html(r, s.top_k) + pm_note()}
    if outcome.plan is not None:
        views["value"] = charts.plan_value_distribution(outcome.plan, unit=s.value_unit)
        views["plan_table"] = (how_to_read("plan", unit=s.value_unit)
                               + plan_html(outcome.plan, s.value_unit, caption="Funded initiatives")
                               + how_to_read("cvar", alpha=s.alpha, unit=s.value_unit))
        views["headline"] = headline(outcome)
    return views


def headline(o: Outcome) -> str:
    """The recommended plan in sentences: size, budget, value, risk, overrun, against baselines."""
    plan, s = o.plan, o.settings
    m, n, unit = plan.metrics(), plan.value.size, _ESC(s.value_unit)
    lines = [f"<b>Recommended plan</b> ({_ESC(objective_text(s))}): {len(m['selected'])} initiatives, "
             f"budget used {number(round(m['budget_used'], 1))} of {number(s.budget)} "
             f"{budget_unit(s)}",
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


def status_line(o: Outcome, elapsed: float, calibration: str | None = None) -> str:
    """Samples, seed and timing; with a calibration known to the session (`calibration`, its file),
    which ranges are shown: "calibrated ranges (how they changed)" or "ranges as typed"."""
    s = o.settings
    text = _ESC(f"{number(o.result.samples)} samples, seed {s.seed} · engine {o.seconds['total'] * 1000:.0f} ms, "
                f"shown {elapsed * 1000:.0f} ms after the last change")
    if calibration or getattr(s, "calibration", None):
        text += " · " + _ESC(calibration_status(o))
    return note(text, "muted")


def calibration_status(o: Outcome) -> str:
    """Which ranges an outcome was computed with, in words."""
    from ..views.brief import calibration_note

    if not getattr(o.settings, "calibration", None):
        return "ranges as typed"
    sentence = calibration_note(o).rstrip(".")
    head = "Calibrated ranges"  # the sentence's own start: "Calibrated ranges (learned from …): …"
    return "calibrated ranges" + (sentence[len(head):] if sentence.startswith(head) else f" ({sentence})")


# --- the slower views: frontier and budget sweep ---------------------------------------------------


def budget_unit(s: Settings) -> str:
    """The budget's unit: person-months, or the cost column's wording."""
    return "person-months" if s.budget_column == "effort" else "(cost column)"


def slow_views(outcome: Outcome, front, sweep: pd.DataFrame) -> dict:
    s = outcome.settings
    return {"outcome": outcome, "frontier": front, "sweep": sweep,
            "frontier_chart": charts.efficient_frontier(front, outcome.plan, unit=s.value_unit),
            "sweep_chart": charts.budget_sweep(sweep, s.budget, unit=s.value_unit, budget_unit=budget_unit(s))}


def slow_status(outcome: Outcome, front) -> str:
    """Where the frontier's figures come from, why it shows no trade-off when it has fewer than two
    plans (`analysis_tables.frontier_sentence`) and, when frontier plans beat the recommended plan on
    both axes on the evaluation draws, a sentence saying so (they are marked on the chart)."""
    s = outcome.settings
    text = note(f"{len(front.plans)} frontier plans, chosen on {number(s.scenarios)} selection scenarios and valued "
                f"on the {number(s.samples)} samples, like the recommended plan (the red diamond)", "muted")
    if outcome.plan is None:
        return text
    why = at.frontier_sentence(outcome, front)
    if why is not None:
        text += note(_ESC(why), "muted")
    beats = beats_sentence(outcome.plan, front.beats(outcome.plan), s.scenarios, s.value_unit)
    return text + (note(_ESC(beats), "error") if beats else "")


# --- heavy analyses ---------------------------------------------------------------------------------


def heavy_views(outcome: Outcome, report: SensitivityReport) -> dict:
    names = dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    tornado = (None if report.tornado is None or not len(report.tornado)
               else charts.tornado(report.tornado, names=names, unit=outcome.settings.value_unit))
    return {"outcome": outcome, "report": report, "tornado": tornado, "intro": TORNADO_INTRO,
            "html": analyses_html(report, outcome, intro=False)}


def nothing_to_analyse(outcome: Outcome) -> bool:
    """Whether the analyses have nothing to work on: no plan, nothing funded, or every estimate
    that matters a single number (`analysis_tables.empty_reason`)."""
    return at.empty_reason(outcome) is not None


def empty_heavy_views(outcome: Outcome) -> dict:
    """The Sensitivity tab when there is nothing to analyse: each analysis says why, and how to get it."""
    reason = at.empty_reason(outcome)
    parts = [section(title) + note(_ESC(at.nothing_to_show(what, reason)), "muted")
             for title, what in (("What moves the plan's value", "tornado"), ("Where the decision changes", "switch"),
                                 ("What drives the uncertainty", "sobol"),
                                 ("Which estimate to research first", "evppi"))]
    return {"outcome": outcome, "report": None, "tornado": None, "intro": "", "html": "".join(parts)}


TORNADO_INTRO = section("What moves the plan's value", "tornado")
TOP_ROWS = 10  # rows of each analysis table shown in the dashboard (the largest first)


def _top(frame: pd.DataFrame, what: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """The first `TOP_ROWS` rows of a human table, and a note saying how many are left out."""
    if len(frame) <= TOP_ROWS:
        return frame, ()
    shown = frame.head(TOP_ROWS).copy()
    shown.attrs = dict(frame.attrs)
    return shown, (f"The {TOP_ROWS} {what} of {len(frame)}.",)


def _human_table(frame: pd.DataFrame, what: str, caption: str | None = None) -> str:
    shown, notes = _top(frame, what)
    return table_html(shown, caption=caption, notes=notes)


def analyses_html(report: SensitivityReport, outcome: Outcome, intro: bool = True) -> str:
    """The Sensitivity tab: the tornado's figures, switch points, Sobol indices and the value of
    information, as the reports' human tables with their "How to read this" boxes; an analysis with
    nothing to show says why (`analysis_tables.nothing_to_show`). `intro`: begin with the tornado's
    title and box (`TORNADO_INTRO`; the dashboard shows them above its tornado chart instead)."""
    s = outcome.settings
    unit, names = s.value_unit, dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    reason = at.empty_reason(outcome) or "no_ranges"

    def empty(frame) -> bool:
        return frame is None or len(frame) == 0

    def nothing(what: str) -> str:
        return note(_ESC(at.nothing_to_show(what, reason)), "muted")

    parts = [TORNADO_INTRO if intro else ""]
    parts.append(nothing("tornado") if empty(report.tornado) else
                 _human_table(at.tornado_table(report.tornado, names, unit), "largest swings"))
    parts.append(section("Where the decision changes", "switch"))
    parts.append(nothing("switch") if empty(report.switch_points) else
                 _human_table(at.switch_table(report.switch_points, names, unit), "first switch points"))
    parts.append(section("What drives the uncertainty", "sobol"))
    parts.append(nothing("sobol") if empty(report.sobol) else
                 _human_table(at.sobol_table(report.sobol, names), "largest total indices"))
    parts.append(section("Which estimate to research first", "evpi" if report.evpi is not None else None))
    if report.evpi is not None:
        parts.append(f"<p><b>{_ESC(at.evpi_text(report.evpi, unit))}</b></p>")
    parts.append(how_to_read("evppi"))
    parts.append(nothing("evppi") if empty(report.evppi) else
                 _human_table(at.evppi_table(report.evppi, names, unit), "initiatives most worth researching"))
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
    """Two saved scenarios side by side, A and B: their settings (what differs highlighted), plan
    value with the difference B − A and its error, the funded initiatives (added and dropped
    highlighted) and the largest rank changes."""
    first, second = c.names
    digits = [3 if metric.startswith("P(") else None for metric in c.values.index]
    v = c.values
    a_col, b_col, d_col = f"A: {first}", f"B: {second}", "Difference (B − A)"
    values = pd.DataFrame({"Figure": [str(m) for m in v.index],
                           **{col: [pm(x, h, digits=d) for x, h, d in zip(v[name], v[f"± {name}"], digits)]
                              for col, name in ((a_col, first), (b_col, second))},
                           d_col: [_signed(x, h, d) for x, h, d in zip(v[DIFFERENCE], v[DIFFERENCE_PM], digits)]})
    moved = [k for k, (x, h) in enumerate(zip(v[DIFFERENCE], v[DIFFERENCE_PM]))
             if not pd.isna(x) and abs(x) > (0 if pd.isna(h) else h)]
    how = ("paired scenario by scenario (both scenarios have as many samples and share the draws of what they "
           "do not change)" if c.paired else "sqrt(h1² + h2²) of the two half-widths, for independent runs")
    settings = _settings_frame(c, a_col, b_col)
    plans = c.plans.reset_index()  # what changed first, then what both fund
    plans = plans.iloc[sorted(range(len(plans)), key=lambda k: plans["change"].iloc[k] == "kept")]
    funded = pd.DataFrame({"Initiative": plans["name"].astype(str),
                           a_col: ["funded" if x else "–" for x in plans[first]],
                           b_col: ["funded" if x else "–" for x in plans[second]],
                           "Change (A → B)": plans["change"].astype(str)})
    changed = [k for k, change in enumerate(plans["change"]) if change != "kept"]
    k = c.top_k
    r = c.ranks[c.ranks["moves up by"].abs() >= 0.05].head(10)
    ranks = pd.DataFrame({"Initiative": r["name"].astype(str),
                          "Expected rank in A": r[f"rank {first}"].map(lambda x: f"{x:.1f}"),
                          "Expected rank in B": r[f"rank {second}"].map(lambda x: f"{x:.1f}"),
                          "Moves up by": r["moves up by"].map(lambda x: f"{x:+.1f}".replace("-", "−")),
                          **{f"P(top {k}) in {ab}": [probability(p, h) for p, h in zip(r[f"P(top {k}) {name}"],
                                                                                      r[f"± {name}"])]
                             for ab, name in (("A", first), ("B", second))}})
    rank_cols = tuple(c_ for c_ in ranks.columns if c_ != "Initiative")
    return (
        f"<h4>{_ESC(first)} vs {_ESC(second)}</h4>"
        + note(f"A is <b>{_ESC(first)}</b>, B is <b>{_ESC(second)}</b>: every difference is B − A "
               f"({_ESC(second)} − {_ESC(first)}); what changed is highlighted.", "")
        + "".join(note(f"<b>{_ESC(n)} has no plan:</b> {_ESC(e)}", "error") for n, e in zip(c.names, c.errors) if e)
        + (table_html(settings, caption="Settings", highlight=range(len(c.settings)))
           if len(settings) else note("the same settings", "muted"))
        + table_html(values, numeric=(a_col, b_col, d_col), caption="Plan value", highlight=moved,
                     notes=(f"Difference (B − A) is {second} − {first}; its ± is {how}. Highlighted: the "
                            "differences larger than their error.", _units(c)))
        + "".join(note(f"{_ESC(n)}: {_ESC(src)}", "muted") for n, src in zip(c.names, c.sources) if src)
        + (table_html(funded, caption="Funded initiatives", highlight=changed) if len(funded)
           else note("neither scenario funds an initiative", "muted"))
        + (table_html(ranks, numeric=rank_cols, caption="Largest rank changes",
                      notes=(f"Expected rank; moving up means a better rank in B ({second}).",))
           if len(ranks) else note("no initiative moves by 0.05 places or more", "muted"))
        + pm_note())


def _units(c: ScenarioComparison) -> str:
    """The units of the plan-value table's figures, from the value unit both scenarios share."""
    shared = dict(zip(c.shared["setting"], c.shared["value"])) if len(c.shared) else {}
    unit = shared.get("value unit", "each scenario's value unit (see Settings)")
    return (f"Values and quantiles in {unit}; budget used in person-months (or the cost column); "
            "P(overrun) is a probability.")


def _signed(x: float, half: float, digits: int | None) -> str:
    """A difference with its sign shown (+ for B above A) and its ± ("–" when missing)."""
    text = pm(x, half, digits=digits)
    return text if pd.isna(x) or text.startswith(("−", "-", "–")) or x == 0 else f"+{text}"


def _settings_frame(c: ScenarioComparison, a_col: str, b_col: str) -> pd.DataFrame:
    """What differs between the two scenarios (first, highlighted by the caller), then the key
    settings they share, for context."""
    first, second = c.names
    rows = [(str(x), str(y), str(z)) for x, y, z in c.settings[["setting", first, second]].itertuples(index=False)]
    rows += [(str(x), str(y), str(y)) for x, y in c.shared.itertuples(index=False)]
    return pd.DataFrame(rows, columns=["Setting", a_col, b_col])

"""A strategy session as one static page: the dashboard's state, shareable without Python.

    page = snapshot_html(outcome, frontier=front, sweep=swept, analyses=report, comparison=diff)
    write_snapshot("session.html", outcome, frontier=front, sweep=swept)

The page opens in any browser, offline: no script, no stylesheet, font or image from anywhere
else; charts are inline SVG rendered by vl-convert (`charts.to_svg`), tables the shared table
style (`tables.table_html`), each section with its "How to read this" text (`explain`). It shows
the settings (budget with its unit, capacities, objective, seed, samples, edits and overrides by
initiative name), the executive brief, the ranking, the plan, the frontier and the budget sweep,
the sensitivity analyses and a scenario comparison, each only when given. User text (names, ids,
teams, scenario names) is escaped text, never markup.
"""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path

import numpy as np
import pandas as pd

from ..io.files import write_atomic
from ..pipeline import Outcome
from ..planning.frontier import Frontier
from ..sensitivity import SensitivityReport
from ..views import analysis_tables as at
from ..views import charts
from ..views.brief import brief, brief_html
from ..views.format import PM_NOTE, amount, number, objective_label, percent, percentile_ordinal
from ..views.tables import plan_html, ranking_html, table_html

__all__ = ["snapshot_html", "write_snapshot"]

_E = html.escape
BUDGET_UNIT = "person-months"

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #222; margin: 0; background: #fff; line-height: 1.45; }
main { max-width: 1000px; margin: 0 auto; padding: 16px 24px 48px; }
header.top { border-bottom: 2px solid #1f3b63; margin-bottom: 12px; }
header.top h1 { margin: 8px 0 4px; font-size: 24px; color: #1f3b63; }
header.top p { margin: 2px 0 8px; color: #555; }
nav.toc { font-size: 14px; margin: 8px 0 4px; }
nav.toc a { margin-right: 14px; color: #1f3b63; }
section.view { margin: 28px 0; break-inside: auto; }
section.view > h2 { font-size: 20px; border-bottom: 1px solid #ccc; padding-bottom: 4px; break-after: avoid; }
.read { background: #f2f6fb; border-left: 4px solid #4c78a8; padding: 8px 12px; margin: 8px 0 12px;
        font-size: 14px; break-inside: avoid; }
.read b { color: #1f3b63; }
.note { color: #555; font-size: 13px; margin: 6px 0; }
.warn { color: #b00020; font-size: 14px; margin: 6px 0; }
.chart { margin: 10px 0; overflow-x: auto; break-inside: avoid; }
.chart svg { max-width: 100%; height: auto; }
.brief { border: 1px solid #d0d7e2; border-radius: 6px; padding: 4px 16px 8px; background: #fbfcfe; }
.brief h2 { font-size: 20px; color: #1f3b63; }
.brief-row { display: grid; grid-template-columns: 10em 1fr; gap: 12px; border-top: 1px solid #e3e3e3;
             padding: 6px 0; }
.brief-row h3 { font-size: 14px; margin: 2px 0; color: #1f3b63; }
.brief ul { margin: 4px 0; padding-left: 20px; }
.brief-note { color: #555; font-size: 13px; }
footer { color: #666; font-size: 13px; border-top: 1px solid #ccc; margin-top: 32px; padding-top: 8px; }
@media print { nav.toc { display: none; } main { max-width: none; } }
"""


def _read(topic: str, outcome: Outcome) -> str:
    """The "How to read this" box of a topic, with this decision's k, CVaR tail and unit."""
    s = outcome.settings
    text = at.explain(topic, k=s.top_k, alpha=s.alpha, unit=s.value_unit)
    return f'<div class="read"><b>How to read this.</b> {_E(text)}</div>'


def _note(text: str, kind: str = "note") -> str:
    return f'<p class="{kind}">{_E(text)}</p>'


def _chart(chart) -> str:
    """An altair chart as inline SVG (no external reference: `charts.to_svg` checks it)."""
    return f'<div class="chart">{charts.to_svg(chart)}</div>'


def _table(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A human frame from `analysis_tables` in the shared style (its attrs say what to align)."""
    return table_html(frame, caption=caption)  # it reads `numeric`, `notes` and `highlight` from the attrs


def _names(outcome: Outcome) -> dict[str, str]:
    return dict(zip(outcome.portfolio.ids, outcome.portfolio.names))


def _budget_unit(s) -> str:
    """The budget's unit: person-months, or the cost column's wording."""
    return BUDGET_UNIT if s.budget_column == "effort" else "(cost column)"


def _section(anchor: str, title: str, body: str) -> str:
    heading = "" if anchor == "brief" else f"<h2>{_E(title)}</h2>"  # the brief has its own
    return f'<section class="view" id="{anchor}">{heading}{body}</section>'


# --- the settings ------------------------------------------------------------------------------


def settings_frame(outcome: Outcome) -> pd.DataFrame:
    """The settings of the session in a reader's words: one row per setting that matters here,
    edits and overrides by initiative name."""
    s, names = outcome.settings, _names(outcome)
    budget_unit = _budget_unit(s)
    rows = [("Budget", "none (ranking only)" if s.budget is None else amount(s.budget, budget_unit))]
    rows.append(("Team capacities", "; ".join(f"{t}: {amount(v, BUDGET_UNIT)}" for t, v in s.capacities)
                 or "none set (only the total budget limits the plan)"))
    if s.theme_shares:
        rows.append(("Theme shares of the spend", "; ".join(f"{t}: {percent(lo)} to {percent(hi)}"
                                                           for t, (lo, hi) in s.theme_shares)))
    if s.max_count is not None:
        rows.append(("At most", f"{s.max_count} initiatives"))
    rows += [("Objective", f"the highest {objective_label(s.objective, s.alpha, s.lam)} (in {s.value_unit})"),
             ("Efforts planned at", f"their {percentile_ordinal(s.effort_quantile)} percentile"),
             ("Value unit", s.value_unit),
             ("Samples", f"{number(s.samples)} evaluation draws"),
             ("Scenarios", f"{number(s.scenarios)} selection scenarios (plans are chosen on these)"),
             ("Seed", str(s.seed)),
             ("Confidence mode", s.confidence_mode),
             ("Top k of the ranking", str(s.top_k))]
    if s.plan:
        rows.append(("Current plan", ", ".join(names.get(i, i) for i in s.plan)))
    for id_, factor, text in s.edits:
        rows.append(("Edit", f"{names.get(id_, id_)} — {factor}: {text}"))
    for id_, override in s.overrides:
        rows.append(("Override", f"{names.get(id_, id_)}: " + ("always funded (as a must-have)" if override == "in"
                                                                else "never funded (as a won't-have)")))
    if not s.edits and not s.overrides:
        rows.append(("Edits and overrides", "none: the portfolio as in its file"))
    return pd.DataFrame(rows, columns=["Setting", "Value"])


# --- the views ---------------------------------------------------------------------------------


def _brief(outcome: Outcome, analyses: SensitivityReport | None) -> str:

    drivers = switches = None
    if analyses is not None and analyses.tornado is not None:
        drivers, switches = analyses.tornado, analyses.switch_points
    return brief_html(brief(outcome, drivers=drivers, switches=switches, title="Executive brief"))


def _ranking(outcome: Outcome) -> str:
    r, k = outcome.result, outcome.settings.top_k
    return (_read("ranking", outcome) + _chart(charts.top_k_probability(r, k)) + _chart(charts.score_intervals(r, k))
            + ranking_html(r, k, notes=(PM_NOTE,)))


def _plan(outcome: Outcome) -> str:
    if outcome.plan is None:
        return _note(f"No plan: {outcome.error or 'no budget was set'}", "warn")
    unit = outcome.settings.value_unit
    return (_read("plan", outcome) + plan_html(outcome.plan, unit, notes=(PM_NOTE,))
            + _read("cvar", outcome) + _chart(charts.plan_value_distribution(outcome.plan, unit=unit)))


def _frontier(outcome: Outcome, front: Frontier | None, sweep: pd.DataFrame | None) -> str:
    s, parts = outcome.settings, []
    if front is not None:
        if front.recommended is not None and front.recommended is not outcome.plan:
            parts.append(_note("The frontier the session held was for earlier settings, so it is left out.", "warn"))
        elif (why := at.frontier_sentence(outcome, front)) is not None:
            parts.append(_read("frontier", outcome) + _note(why))
        else:
            parts.append(_read("frontier", outcome)
                         + _chart(charts.efficient_frontier(front, outcome.plan, unit=s.value_unit)))
            parts.append(_note(f"{len(front.plans)} frontier plans, chosen on {number(s.scenarios)} selection "
                               f"scenarios and valued on the {number(s.samples)} evaluation draws, like the "
                               "recommended plan (the red diamond)."))
    if sweep is not None:
        names = _names(outcome)
        chart = charts.budget_sweep(sweep, s.budget, unit=s.value_unit, budget_unit=_budget_unit(s))
        parts.append(_read("sweep", outcome) + _chart(chart)
                     + _table(at.sweep_table(sweep, s.value_unit, names=names, current=s.budget), "Budget sweep")
                     + _note(PM_NOTE))
    return "".join(parts)


def _analyses(outcome: Outcome, report: SensitivityReport) -> str:
    s, names, unit = outcome.settings, _names(outcome), outcome.settings.value_unit
    plan, parts = outcome.plan, []
    if plan is None or not np.array_equal(report.plan.funded, plan.funded) or \
            report.plan.problem.constraints.budget != plan.problem.constraints.budget:
        return _note("The analyses the session held were for earlier settings, so they are left out.", "warn")
    reason = at.empty_reason(outcome)
    if report.tornado is not None:
        parts.append(_read("tornado", outcome))
        if len(report.tornado):
            parts.append(_chart(charts.tornado(report.tornado, names=names, unit=unit))
                         + _table(at.tornado_table(report.tornado, names, unit)))
        else:
            parts.append(_note(at.nothing_to_show("tornado", reason or "no_ranges")))
    if report.switch_points is not None and len(report.switch_points):
        parts.append(_read("switch", outcome) + _table(at.switch_table(report.switch_points, names, unit)))
    if report.sobol is not None:
        parts.append(_read("sobol", outcome) + (_table(at.sobol_table(report.sobol, names)) if len(report.sobol)
                                                else _note(at.nothing_to_show("sobol", reason or "no_ranges"))))
    if report.evpi is not None:
        parts.append(_read("evpi", outcome) + _note(at.evpi_text(report.evpi, unit)))
    if report.evppi is not None:
        parts.append(_read("evppi", outcome) + (_table(at.evppi_table(report.evppi, names, unit)) if len(report.evppi)
                                                else _note(at.nothing_to_show("evppi", reason or "no_ranges"))))
    if report.budget_sweep is not None:
        parts.append(_read("sweep", outcome) + _table(at.sweep_table(report.budget_sweep, unit, names=names,
                                                                     current=s.budget)))
    return "".join(parts) + _note(PM_NOTE)


def _comparison(comparison) -> str:
    """A `ScenarioComparison` as the dashboard shows it, or that HTML (built by the dashboard's
    `comparison_html`, which escapes every name) as given."""
    if isinstance(comparison, str):
        return comparison
    from .dashboard_views import CSS, comparison_html

    return CSS + f'<div class="wb-dash">{comparison_html(comparison)}</div>'


def snapshot_html(outcome: Outcome, *, frontier: Frontier | None = None, sweep: pd.DataFrame | None = None,
                  analyses: SensitivityReport | None = None, comparison=None, title: str | None = None,
                  taken: _dt.datetime | None = None) -> str:
    """The session's state as one self-contained, offline HTML page (see the module docstring).

    outcome: the dashboard's outcome (`pipeline.Outcome`); frontier, sweep: `pipeline.frontier`
    and `pipeline.sweep` of it (a frontier of other settings is left out, saying so); analyses:
    `pipeline.analyses` of its plan (left out, saying so, when its plan is another); comparison: a
    `ScenarioComparison` or the HTML `dashboard_views.comparison_html` made of one; title: the
    page's title (escaped); taken: when (default now, UTC)."""
    s = outcome.settings
    taken = taken or _dt.datetime.now(_dt.UTC)
    source = Path(outcome.portfolio.source).name if outcome.portfolio.source else "portfolio"
    title = title or f"Strategy session: {source}"
    views = [("settings", "Settings", table_html(settings_frame(outcome), caption=None))]
    if outcome.plan is not None:
        views.append(("brief", "Executive brief", _brief(outcome, analyses)))
    views += [("ranking", "Ranking", _ranking(outcome)), ("plan", "Recommended plan", _plan(outcome))]
    if frontier is not None or sweep is not None:
        views.append(("frontier", "Frontier and budget", _frontier(outcome, frontier, sweep)))
    if analyses is not None:
        views.append(("sensitivity", "Sensitivity", _analyses(outcome, analyses)))
    if comparison is not None:
        views.append(("compare", "Compare scenarios", _comparison(comparison)))
    toc = "".join(f'<a href="#{a}">{_E(t)}</a>' for a, t, _ in views)
    body = "".join(_section(a, t, b) for a, t, b in views)
    budget = "no budget" if s.budget is None else amount(s.budget, _budget_unit(s))
    when = taken.astimezone(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_E(title)}</title><style>{_CSS}</style></head><body><main>"
            f'<header class="top"><h1>{_E(title)}</h1>'
            f"<p>{len(outcome.portfolio)} initiatives · budget {_E(budget)} · values in {_E(s.value_unit)} · "
            f"snapshot taken {when}</p><nav class=\"toc\">{toc}</nav></header>{body}"
            f"<footer>A static snapshot of a workbench strategy session: it does not recompute. "
            f"{_E(PM_NOTE)} Reproduce it with the same portfolio and settings (seed {s.seed}).</footer>"
            "</main></body></html>\n")


def write_snapshot(path: str | Path, outcome: Outcome, **options) -> Path:
    """Write `snapshot_html(outcome, **options)` to `path` atomically; returns the path."""
    path = Path(path)
    write_atomic(path, snapshot_html(outcome, **options))
    return path

"""The sensitivity analyses as tables for people, shared by the reports and the dashboard.

Each builder takes a frame from `workbench.sensitivity` and returns a human DataFrame: column
titles in a reader's words, every cell a string written by `workbench.views.format`, inputs named
by initiative name and factor, values with their unit, no index worth showing. Each frame carries
in `attrs` what `tables.table_html` needs to show it: `numeric` (the right-aligned columns) and
`notes` (sentences for below the table), so `table_html(tornado_table(...))` is enough.

Every "±" is a 95% Monte Carlo half-width (`format.PM_NOTE`); the view says so once. The plain
words ("How to read this", `explain`) and the sentences for analyses with nothing to show
(`nothing_to_show`) live in `workbench.views.explain` and are re-exported here. `analysis_view`
puts them together: one analysis of a `SensitivityReport` as HTML, its "How to read this" box
and its table, or the sentence saying why there is nothing to show.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from .explain import (
    HOWTO_STYLE,
    NOTHING_STYLE,
    REASONS,
    TOPICS,
    empty_reason,
    explain,
    explain_html,
    nothing_html,
    nothing_to_show,
)
from .format import half_width, input_label, number, percent, pm
from .table_style import table_html

__all__ = ["ANALYSES", "HOWTO_STYLE", "NOTHING_STYLE", "REASONS", "TOPICS", "analysis_view", "empty_reason",
           "evpi_text", "evppi_table", "explain", "explain_html", "frontier_sentence", "group_label", "nothing_html",
           "nothing_to_show", "sobol_table", "sweep_table", "switch_table", "tornado_table"]

BUDGET_UNIT = "person-months"


def _human(frame: pd.DataFrame, numeric: tuple[str, ...], notes: tuple[str, ...] = ()) -> pd.DataFrame:
    """`frame` with a plain 0..n-1 index and the hints `table_html` reads from its attrs."""
    frame = frame.reset_index(drop=True)
    frame.attrs.update(numeric=tuple(numeric), notes=tuple(n for n in notes if n))
    return frame


def _factor(input_id: str) -> str:
    return str(input_id).rpartition(".")[2]


def _input_value(x: float, factor: str) -> str:
    """An input's value in its own terms: a confidence (a probability) as a percentage."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if factor in ("confidence", "success") and 0 <= x <= 1:
        return percent(x)
    return number(x)


# --- tornado and switch points -----------------------------------------------------------------------


def tornado_table(frame: pd.DataFrame, names: dict[str, str], unit: str) -> pd.DataFrame:
    """The tornado (`sensitivity.tornado`), largest swing first: each assumption at its p10 and its
    p90 and the plan's value at both ends, in `unit`. Empty frame in, header-only frame out (say
    why with `nothing_to_show("tornado", ...)`)."""
    low_v, high_v, swing = (f"Plan value at low ({unit})", f"Plan value at high ({unit})", f"Swing ({unit})")
    out = pd.DataFrame({
        "Assumption": [input_label(i, names) for i in frame["input"]],
        "If low (p10)": [_input_value(x, _factor(i)) for i, x in zip(frame["input"], frame["low"])],
        "If high (p90)": [_input_value(x, _factor(i)) for i, x in zip(frame["input"], frame["high"])],
        low_v: [number(x) for x in frame["value_low"]],
        high_v: [number(x) for x in frame["value_high"]],
        swing: [number(x) for x in frame["swing"]],
    }, columns=["Assumption", "If low (p10)", "If high (p90)", low_v, high_v, swing])
    return _human(out, ("If low (p10)", "If high (p90)", low_v, high_v, swing),
                  ("Each row moves one estimate from its p10 to its p90, every other estimate at its median.",))


_NEVER = {
    "never: fixed by MoSCoW": "Never: its MoSCoW category (must-have or won't-have) fixes it in or out.",
    "never: no expected value": "Never: it adds no expected value.",
    "never: the constraints fix this initiative": "Never: the constraints fix this initiative in or out.",
}


def _switch_note(row, name: str) -> str:
    """What a switch point means for the decision, in plain words (the initiative by name)."""
    t, factor = row["switch_value"], _factor(row["input"])
    if t is None or (isinstance(t, float) and math.isnan(t)):
        return _NEVER.get(str(row["note"]), str(row["note"]).capitalize())
    shown = _input_value(float(t), factor)
    if row["direction"] == "below":
        if t <= 0:
            return (f"No {factor} value changes the decision: {name} stays in the plan even at zero "
                    f"(the break-even point, {shown}, is below zero).")
        if row["within"]:
            return f"{name} leaves the plan if its {factor} falls below {shown}."
        return f"{name} leaves the plan only if its {factor} falls below {shown}: outside its p1–p99 range, unlikely."
    if factor == "confidence" and t > 1:
        return (f"No {factor} value changes the decision: {name} stays out even at 100% "
                f"(it would need {number(100 * t)}%).")
    if row["within"]:
        return f"{name} enters the plan if its {factor} rises above {shown}."
    return f"{name} enters the plan only if its {factor} rises above {shown}: outside its p1–p99 range, unlikely."


def switch_table(frame: pd.DataFrame, names: dict[str, str], unit: str) -> pd.DataFrame:
    """Decision switch points (`sensitivity.switch_points`): each assumption's expected value, the
    value at which the best plan changes ("never" when none can: fixed by MoSCoW, or a break-even
    point no value reaches, such as a reach below zero) and what that means, in words. `unit` is the
    plan value's unit (named in the note below the table)."""
    rows = []
    for _, row in frame.iterrows():
        id_ = str(row["input"]).rpartition(".")[0]
        factor = _factor(row["input"])
        t = row["switch_value"]
        impossible = pd.isna(t) or (row["direction"] == "below" and t <= 0) or (
            row["direction"] == "above" and factor == "confidence" and t > 1)
        rows.append({"Assumption": input_label(row["input"], names),
                     "Expected": _input_value(float(row["expected"]), factor),
                     "Decision changes at": "never" if impossible else _input_value(float(t), factor),
                     "What it means": _switch_note(row, names.get(id_, id_))})
    out = pd.DataFrame(rows, columns=["Assumption", "Expected", "Decision changes at", "What it means"])
    return _human(out, ("Expected", "Decision changes at"),
                  ("Each row holds every other estimate at its expected value and finds the value of this one at "
                   f"which the plan worth the most (expected value, in {unit}) changes.",))


# --- Sobol indices -----------------------------------------------------------------------------------


def _members(label: str, names: dict[str, str]) -> list[str] | None:
    """The initiative ids of a Sobol group label ("a+b+c"), None when it is not such a label."""
    if label in names:
        return [label]
    parts = label.split("+")
    return parts if len(parts) > 1 and all(p in names for p in parts) else None


def group_label(label: str, names: dict[str, str]) -> str:
    """A Sobol input or group in a reader's words: "Guided onboarding checklist and 7 correlated
    initiatives" for a group of correlated initiatives (ids joined by "+"), a name for one initiative,
    "Name — reach" for an input."""
    members = _members(str(label), names)
    if members is None:
        return input_label(label, names)
    first = names[members[0]]
    if len(members) == 1:
        return first
    if len(members) == 2:
        return f"{first} and {names[members[1]]} (correlated)"
    return f"{first} and {len(members) - 1} correlated initiatives"


def _no_minus_zero(x: float) -> float:
    """An index that rounds to 0.00 (estimates slightly below zero are noise) shown as 0.00, not -0.00."""
    return 0.0 if abs(x) < 0.005 else float(x)


def sobol_table(frame: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Sobol indices of the plan's value (`sensitivity.portfolio_sobol`, output "plan"), largest
    total index first: what each initiative (or correlated set) explains alone (S1) and with its
    interactions (ST), each ± its 95% half-width (the frame's `*_conf` columns are half-widths at
    its `attrs["confidence"]`, 95% by default). Correlated sets are listed in full in the notes."""
    if isinstance(frame.index, pd.MultiIndex):
        raise ValueError("sobol_table shows the indices of the plan's value (portfolio_sobol output='plan'); "
                         "this frame has one table per score (output='scores'): pass frame.loc[initiative_id]")
    level = 0.95 if frame.attrs.get("confidence") is None else float(frame.attrs["confidence"])
    f = frame.sort_values("ST", ascending=False, kind="stable")
    labels = [str(x) for x in f.index]
    out = pd.DataFrame({
        "Initiative or estimate": [group_label(x, names) for x in labels],
        "Alone (S1)": [pm(_no_minus_zero(v), h, digits=2) for v, h in zip(f["S1"], f["S1_conf"])],
        "With interactions (ST)": [pm(_no_minus_zero(v), h, digits=2) for v, h in zip(f["ST"], f["ST_conf"])],
    }, columns=["Initiative or estimate", "Alone (S1)", "With interactions (ST)"])
    notes = []
    if abs(level - 0.95) > 1e-9:
        notes.append(f"Here ± is a {level:.0%} bootstrap half-width.")
    for x in labels:
        members = _members(x, names)
        if members and len(members) > 2:
            notes.append(f"{group_label(x, names)}: {', '.join(names[m] for m in members)} "
                         "(their estimates are correlated, so they are analysed together).")
    return _human(out, ("Alone (S1)", "With interactions (ST)"), tuple(notes))


# --- value of information ----------------------------------------------------------------------------


def _compact(ids: list[str], names: dict[str, str], limit: int = 2) -> str:
    """"A, B" or "A, B and 5 more"."""
    shown = [names.get(i, i) for i in ids]
    if len(shown) <= limit + 1:
        return ", ".join(shown)
    return f"{', '.join(shown[:limit])} and {len(shown) - limit} more"


def evppi_table(frame: pd.DataFrame, names: dict[str, str], unit: str) -> pd.DataFrame:
    """Per-initiative EVPPI (`sensitivity.evppi_of`), most worth researching first: what learning
    the initiative's value exactly is worth (± its 95% half-width, in `unit`), how often that answer
    changes the plan, and the initiatives whose values it also informs (correlated)."""
    worth = f"Worth researching (EVPPI, {unit})"
    out = pd.DataFrame({
        "Initiative": [names.get(i, i) for i in frame["id"]],
        worth: [pm(v, half_width(se)) for v, se in zip(frame["value"], frame["se"])],
        "Chance the answer changes the plan": [percent(p) for p in frame["p_change"]],
        "Also informs (correlated)": [_compact([c for c in str(w).split(";") if c], names) if isinstance(w, str) else ""
                                      for w in frame["correlated_with"]],
    }, columns=["Initiative", worth, "Chance the answer changes the plan", "Also informs (correlated)"])
    noise = ("A figure below zero is estimation noise: that information is worth little or nothing.",
             ) if (frame["value"] < 0).any() else ()
    return _human(out, (worth, "Chance the answer changes the plan"), noise)


def evpi_text(evpi: dict, unit: str) -> str:
    """The EVPI (`SensitivityReport.evpi`) in one plain sentence, with its unit and 95% half-width."""
    return (f"Perfect information on every estimate would add at most {pm(evpi['value'], half_width(evpi['se']))} "
            f"{unit} to the plan (EVPI).")


# --- budget sweep ------------------------------------------------------------------------------------


def _changes(before: list[str] | None, now: list[str], names: dict[str, str] | None) -> str:
    if before is None:
        return ""
    added = [i for i in now if i not in before]
    dropped = [i for i in before if i not in now]
    label = (lambda i: names.get(i, i)) if names else (lambda i: i)
    parts = [f"+ {label(i)}" for i in added] + [f"− {label(i)}" for i in dropped]
    return "; ".join(parts) if parts else "same plan"


def _budget(x: float) -> str:
    """A sweep's budget (np.arange leaves 48.00000000001 where 48 was meant)."""
    return number(round(float(x), 6))


def sweep_table(frame: pd.DataFrame, unit: str, *, names: dict[str, str] | None = None,
                budget_unit: str = BUDGET_UNIT, current: float | None = None) -> pd.DataFrame:
    """The budget sweep (`sensitivity.budget_sweep`): at each budget (in `budget_unit`), the best
    plan's expected value ± its 95% half-width, its p10 – p90 band and what one more unit of budget
    buys there (all in `unit`), and how the plan changes from the budget before (initiatives named
    by `names`, ids without). `current`: the budget in force, marked in `attrs["highlight"]`."""
    budget = f"Budget ({budget_unit})"
    value, band = f"Expected value ({unit})", f"p10 – p90 ({unit})"
    marginal = f"One more {budget_unit.rstrip('s') if budget_unit == BUDGET_UNIT else 'unit'} adds ({unit})"
    rows, before = [], None
    for _, r in frame.iterrows():
        if pd.isna(r["expected_value"]):
            why = ("no plan fits (the must-haves do not fit)" if r["status"] == "infeasible"
                   else f"no plan ({r['status']})")
            rows.append({budget: _budget(r["budget"]), value: "–", band: "–", marginal: "–", "Plan change": why})
            before = None
            continue
        rows.append({budget: _budget(r["budget"]),
                     value: pm(r["expected_value"], half_width(r["expected_value_se"])),
                     band: f"{number(r['p10'])} – {number(r['p90'])}",
                     marginal: "–" if pd.isna(r["marginal_value"])
                     else pm(r["marginal_value"], half_width(r["marginal_value_se"])),
                     "Plan change": _changes(before, list(r["selected"]), names)})
        before = list(r["selected"])
    out = _human(pd.DataFrame(rows, columns=[budget, value, band, marginal, "Plan change"]),
                 (budget, value, band, marginal),
                 ("Every budget is planned on the same scenarios, so differences between rows come from the "
                  "budget, not from sampling noise.",))
    if current is not None:
        at = np.flatnonzero(np.isclose(frame["budget"].to_numpy(float), float(current)))
        out.attrs["highlight"] = tuple(int(i) for i in at)
    return out


# --- the risk–value frontier ---------------------------------------------------------------------------


def frontier_sentence(outcome, front) -> str | None:
    """Why the risk–value frontier `front` (`pipeline.frontier` of `outcome`) shows no trade-off, in
    one plain sentence; None when it has two plans or more to draw. The same sentence wherever the
    frontier is shown: `nothing_to_show("frontier", ...)` when there is no plan or no range to trade
    against (`empty_reason`), otherwise that one plan is best on both expected value and CVaR."""
    if front is not None and len(front.plans) >= 2:
        return None
    reason = empty_reason(outcome)
    if reason is not None:
        return nothing_to_show("frontier", reason)
    alpha = outcome.settings.alpha
    return (f"No risk–value frontier: one plan has both the most expected value and the best bad case (CVaR "
            f"{alpha:.0%}), so at this budget there is no trade-off between value and downside to choose.")


# --- one analysis, ready to show -----------------------------------------------------------------------

ANALYSES = ("tornado", "switch", "sobol", "evpi", "evppi", "sweep")


def analysis_view(what: str, report, outcome, *, rows: int | None = None, caption: str | None = None,
                  howto: bool = True) -> str:
    """One analysis of `report` (a `sensitivity.SensitivityReport` of `outcome`'s plan) as escaped
    HTML: the "How to read this" box (unless `howto` is False), then its table in the shared style;
    or, when it has nothing to show, only the sentence saying why (`nothing_html`). `rows`: show
    only the first rows (the largest), saying so below the table. Empty string when the analysis
    was not run."""
    if what not in ANALYSES:
        raise ValueError(f"unknown analysis {what!r}; expected one of {', '.join(ANALYSES)}")
    names = dict(zip(outcome.portfolio.ids, outcome.portfolio.names))
    s = outcome.settings
    unit = s.value_unit
    source = {"tornado": report.tornado, "switch": report.switch_points, "sobol": report.sobol,
              "evpi": report.evpi, "evppi": report.evppi, "sweep": report.budget_sweep}[what]
    if source is None:
        return ""
    box = explain_html(what, k=s.top_k, alpha=s.alpha, unit=unit) if howto else ""
    reason = empty_reason(outcome) or "no_ranges_funded"
    if what == "evpi":
        if source["value"] == 0 and source["se"] == 0:
            return nothing_html(what, reason)
        return box + f"<p>{html.escape(evpi_text(source, unit))}</p>"
    if not len(source) or (what == "evppi" and not (source["value"] > 0).any()):
        return nothing_html(what, reason)
    build = {"tornado": lambda f: tornado_table(f, names, unit), "switch": lambda f: switch_table(f, names, unit),
             "sobol": lambda f: sobol_table(f, names), "evppi": lambda f: evppi_table(f, names, unit),
             "sweep": lambda f: sweep_table(f, unit, names=names, current=s.budget)}[what]
    frame = build(source)
    extra = ()
    if rows is not None and len(frame) > rows:
        attrs = dict(frame.attrs)
        frame = frame.head(rows)
        frame.attrs.update(attrs)
        frame.attrs["highlight"] = tuple(r for r in attrs.get("highlight", ()) if r < rows)
        extra = (f"The first {rows} of {len(source)} rows.",)
    return box + table_html(frame, caption=caption, notes=extra)

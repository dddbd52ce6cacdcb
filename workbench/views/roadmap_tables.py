"""A roadmap across quarters for people and programs: tables, the terminal text, one sentence and CSV.

- `roadmap_html`, `team_load_html`: the initiatives by start quarter and the team loads in the
  shared table style (`table_style.table_html`; every text escaped).
- `roadmap_text`: what `workbench roadmap` prints (like `text.plan_text`).
- `roadmap_sentence`: one plain-words summary for the report and the dashboard.
- `roadmap_rows` (CSV: one row per initiative with the JSON's initiative fields; the JSON is
  `RoadmapResult.to_dict`).
- The words, titles and helpers the roadmap's charts share (`roadmap_charts`): `ON_TIME`,
  `OVER_CAPACITY`, `P50_BY`, `P90_BY`, `chance`, `missing`, `delivered_by`, `value_unit`.

Every statistic is said in plain words ("chance it lands by its planned quarter", "in 9 of 10
scenarios by 2027Q3") and every "±" is a 95% Monte Carlo half-width (`format.PM_NOTE`). A
roadmap's value is a value a quarter summed over the quarters it is earned: its unit is the
settings' `value_unit` × quarters. Roadmaps are named by `Roadmap.phrase` in sentences ("the
optimal roadmap", "your roadmap"), capitalized at a sentence's start.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..planning.plans import cvar
from .format import PM_NOTE, half_width, number, percent, percentile_ordinal, pm, probability
from .output import terminal_text, text_table

__all__ = ["ON_TIME", "OVER_CAPACITY", "P50_BY", "P90_BY", "RISK_SHOWN", "SLACK_SHARE", "chance", "delivered_by",
           "missing", "roadmap_frame", "roadmap_html", "roadmap_rows", "roadmap_sentence", "roadmap_text",
           "slack_advice", "team_load_frame", "team_load_html", "value_unit"]

# Column titles, the same in the tables and the charts' legends and tooltips.
ON_TIME = "Chance it lands by its planned quarter"
OVER_CAPACITY = "Chance of more work due than capacity"
P50_BY = "Delivered in half the scenarios by"
P90_BY = "Delivered in 9 of 10 scenarios by"
RISK_SHOWN = 0.05  # team quarters at least this likely to be over capacity are listed in the text
SLACK_SHARE = 0.02  # overruns costing this share of the planned value deserve a word
_STATUS = {"time limit": "stopped at the time limit"}  # solver statuses in plain words


def value_unit(result) -> str:
    """The unit of a roadmap's total value: the value a quarter summed over quarters."""
    return f"{getattr(result.settings, 'value_unit', None) or 'value points'} × quarters"


def _unit_a_quarter(result) -> str:
    return f"{getattr(result.settings, 'value_unit', None) or 'value points'} a quarter"


def missing(x) -> bool:
    """Whether a table cell holds no number (None or NaN)."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def _pm(value: float, se: float | None) -> str:
    return pm(value, None if missing(se) else half_width(se))


def chance(p, se, samples: int) -> str:
    """A probability ± its 95% half-width ("–" when missing); at exactly 0 or 1 the rule of three bounds it."""
    if missing(p):
        return "–"
    return probability(float(p), None if missing(se) else half_width(float(se)), samples)


def delivered_by(share: str, label) -> str:
    """ "in 9 of 10 scenarios by 2027Q3"; past the simulated quarters "in 9 of 10 scenarios: after 2029Q4"."""
    if missing(label):
        return "–"
    return f"{share}: {label}" if str(label).startswith("after") else f"{share} by {label}"


def _cap(text: str) -> str:
    """A phrase at a sentence's start: "the optimal roadmap" -> "The optimal roadmap"."""
    return text[:1].upper() + text[1:]


def _percent(p, se) -> str:
    """"55% ± 1.6%" for sentences."""
    return "–" if missing(p) else percent(float(p), None if missing(se) else half_width(float(se)))


def _in_roadmap(result) -> pd.DataFrame:
    """`to_frame()` of the initiatives in the roadmap, by start quarter, then delivery, team and name."""
    f, r = result.to_frame(), result.roadmap
    f = f.assign(_start=r.start, _deliver=r.planned_delivery(),
                 team=f["team"].map(lambda t: t if isinstance(t, str) else ""))
    return f[f["_start"] >= 0].sort_values(["_start", "_deliver", "team", "name"], kind="stable")


def _left_out(result) -> list[str]:
    """Ids of the initiatives not in the roadmap, in portfolio order."""
    return [i for i, s in zip(result.problem.ids, result.roadmap.start) if s < 0]


def _ids(ids: list[str], limit: int = 8) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


# --- tables for readers (HTML) ---------------------------------------------------------------------


def roadmap_frame(result) -> pd.DataFrame:
    """The initiatives of the roadmap by start quarter, for readers (titles with units, no index)."""
    f = _in_roadmap(result)
    return pd.DataFrame({
        "Initiative": f["name"].to_numpy(), "Team": f["team"].to_numpy(),
        "Starts": f["start_quarter"].to_numpy(), "Planned delivery": f["delivery_quarter"].to_numpy(),
        ON_TIME: [chance(p, se, result.samples) for p, se in zip(f["p_on_time"], f["p_on_time_se"])],
        P50_BY: f["delivery_p50"].to_numpy(), P90_BY: f["delivery_p90"].to_numpy(),
        f"Value once delivered ({_unit_a_quarter(result)})": [number(v) for v in f["value"]],
    })


def roadmap_html(result, *, caption: str | None = None, notes: tuple[str, ...] = ()) -> str:
    """The roadmap's initiatives in the shared table style; a note lists those left out."""
    from .table_style import table_html

    frame = roadmap_frame(result)
    if (frame["Team"] == "").all():
        frame = frame.drop(columns="Team")
    out = _left_out(result)
    left = (f"Not in the roadmap ({len(out)}): {_ids(out)}.",) if out else ()
    numeric = (ON_TIME, f"Value once delivered ({_unit_a_quarter(result)})")
    return table_html(frame, numeric=numeric, caption=caption, notes=(*left, PM_NOTE, *notes))


def team_load_frame(result) -> pd.DataFrame:
    """Each team's quarters for readers: capacity, planned load, chance of more work than capacity."""
    t = result.teams_frame()
    return pd.DataFrame({
        "Team": t["team"].to_numpy(), "Quarter": t["quarter"].to_numpy(),
        "Capacity (person-months)": [number(c) if not missing(c) else "no team limit" for c in t["capacity"]],
        "Planned load (person-months)": [number(round(x, 2)) for x in t["planned_load"]],
        OVER_CAPACITY: [chance(p, se, result.samples) for p, se in zip(t["p_over_capacity"],
                                                                         t["p_over_capacity_se"])],
    })


def team_load_html(result, *, caption: str | None = None, notes: tuple[str, ...] = ()) -> str:
    """Team loads per quarter in the shared table style; quarters at least 5% likely to be over
    capacity are marked."""
    from .table_style import table_html

    t = result.teams_frame()
    risky = np.flatnonzero(t["p_over_capacity"].to_numpy() >= RISK_SHOWN)
    marked = (f"Marked: quarters where the team has more work due than capacity in at least "
              f"{RISK_SHOWN:.0%} of the scenarios (an overrun pushes later work out).",) if len(risky) else ()
    numeric = ("Capacity (person-months)", "Planned load (person-months)", OVER_CAPACITY)
    return table_html(team_load_frame(result), numeric=numeric, caption=caption,
                      notes=(*marked, PM_NOTE, *notes), highlight=list(risky))


# --- programs: JSON and CSV ------------------------------------------------------------------------


def roadmap_rows(result) -> pd.DataFrame:
    """One CSV row per initiative with the JSON's initiative fields (quarters as labels, empty
    where an initiative is not in the roadmap)."""
    return pd.DataFrame(result.to_dict()["initiatives"])


# --- words ----------------------------------------------------------------------------------------


def _tail_words(result) -> str:
    """ "the worst 10% of scenarios" of the settings' CVaR tail."""
    return f"the worst {result.roadmap.alpha:.0%} of scenarios"


def _objective_words(result) -> str:
    """What the optimal roadmap is best for, in words ("" for the expected value, the default)."""
    s = result.settings
    objective = getattr(s, "objective", "mean")
    if objective == "cvar":
        return f"best for {_tail_words(result)} (CVaR)"
    if objective == "blend":
        return (f"best for a blend of expected value and {getattr(s, 'lam', 1.0):g} × the average of "
                f"{_tail_words(result)} (CVaR)")
    return ""


def _status_words(r) -> str:
    """How the roadmap was found, in plain words."""
    if r.status == "greedy":
        return "ranked by RICE"
    if r.status == "given":
        return "your own start quarters, not optimized"
    proven = ("" if r.gap is None else ", proven the best" if r.gap < 5e-5  # would print as 0.00%
              else f", proven within {r.gap:.2%} of the best")
    return f"solver {_STATUS.get(r.status, r.status)}{proven}"


def _comparison_lines(result) -> list[str]:
    """The shown roadmap against each other one, with slips, paired on the same draws; with the
    difference of their worst-alpha averages as planned when the objective is not the mean."""
    unit, lines, r = value_unit(result), [], result.roadmap
    tail = getattr(result.settings, "objective", "mean") != "mean"
    planned = result.differences(planned=True)
    for key, (diff, se) in result.comparisons.items():
        other = result.others[key]
        ahead, ahead_se = planned[key]
        about = f"with slips {_pm(other.delivered_value, other.delivered_value_se)} {unit}"
        worst = ""
        if tail:
            about += f"; average of {_tail_words(result)} as planned {_pm(other.cvar, other.cvar_se)} {unit}"
            # Each tail is its own set of draws, so the difference's se is taken as that of two
            # independent tail means (the pairing could only narrow it).
            gain = cvar(r.planned_values, r.alpha) - cvar(other.planned_values, other.alpha)
            gain_se = math.hypot(r.cvar_se, other.cvar_se)
            worst = (f", its average of {_tail_words(result)} is {pm(abs(gain), half_width(gain_se))} {unit} "
                     f"{'higher' if gain >= 0 else 'lower'}")
        lines.append(f"Against {other.phrase} ({about}): {r.phrase} is worth {pm(abs(ahead), half_width(ahead_se))} "
                     f"{unit} {'more' if ahead >= 0 else 'less'} as planned{worst}, and delivers "
                     f"{pm(abs(diff), half_width(se))} {unit} {'more' if diff >= 0 else 'less'} with the slips.")
    return lines + slack_advice(result)


def slack_advice(result) -> list[str]:
    """A plain suggestion when overruns cost much of a roadmap planned at a low effort percentile."""
    r, q = result.roadmap, result.settings.effort_quantile
    if r.expected_value <= 0:
        return []
    share, share_se = r.lost_to_slips / r.expected_value, r.lost_to_slips_se / r.expected_value
    if share < SLACK_SHARE or q >= 0.8:
        return []
    return [f"Overruns cost {share:.1%} ± {100 * half_width(share_se):.2g}% of the planned value: {r.phrase} is "
            f"planned with efforts at their {percentile_ordinal(q)} percentile; planning at the 80th "
            "(--effort-quantile 0.8) leaves slack for them."]


def _heading(result) -> list[str]:
    r, s = result.roadmap, result.settings
    unit = value_unit(result)
    source = terminal_text(getattr(result.problem.portfolio, "source", None) or "portfolio")
    quarters, objective = result.quarters, _objective_words(result)
    best = f", {objective}" if objective and r.key == "optimal" else ""
    lines = [f"{source}: {r.label} for {quarters[0]}–{quarters[-1]} ({len(quarters)} quarters, value counted for "
             f"{result.problem.tail} quarters after the horizon{_discount(result)}){best}; {_status_words(r)}; "
             f"seed {s.seed}.",
             f"Expected value as planned: {_pm(r.expected_value, r.expected_value_se)} {unit}; with the simulated "
             f"slips: {_pm(r.delivered_value, r.delivered_value_se)} {unit}; lost to slips: "
             f"{_pm(r.lost_to_slips, r.lost_to_slips_se)} {unit}."]
    if objective:
        lines.append(f"Average of {_tail_words(result)} (CVaR), as planned: {_pm(r.cvar, r.cvar_se)} {unit}.")
    chosen = f"is {objective}, chosen" if objective else "is chosen"
    lines.append(f"The optimal roadmap {chosen} on {result.selection:,} selection scenarios; every figure is "
                 f"estimated on {result.samples:,} independent evaluation draws.")
    return lines + _comparison_lines(result)


def _discount(result) -> str:
    d = result.problem.discount
    return f", value discounted {d:.1%} a quarter" if d else ""


def roadmap_text(result) -> str:
    """The roadmap printed by `workbench roadmap`: value as planned and with slips (± 95%), the
    comparisons, the initiatives by start quarter, the team quarters at risk, and what to know."""
    lines = _heading(result) + [""]
    f = _in_roadmap(result)
    rows = [[terminal_text(i, 24), terminal_text(r["name"], 40), terminal_text(r["team"], 12),
             r["start_quarter"], r["delivery_quarter"], chance(r["p_on_time"], r["p_on_time_se"], result.samples),
             r["delivery_p50"], r["delivery_p90"]] for i, r in f.iterrows()]
    n = len(rows)
    lines += [f"{n} of {len(result.problem)} initiative{'' if len(result.problem) == 1 else 's'} in the roadmap, "
              "by start quarter:", "",
              text_table(rows, ["id", "initiative", "team", "start", "delivery", "on time", "p50", "p90"],
                         "lllllrll"), "",
              "delivery: the planned quarter it lands in; on time: the chance it lands by then; p50, p90: it is "
              "delivered by that quarter in half, in 9 of 10 scenarios."]
    out = _left_out(result)
    if out:
        lines.append(terminal_text(f"Not in the roadmap ({len(out)}): {_ids(out, 12)}."))
    t = result.teams_frame()
    risky = t[t["p_over_capacity"] >= RISK_SHOWN]
    if len(risky):
        rows = [[terminal_text(r.team, 20), r.quarter, "no limit" if missing(r.capacity) else number(r.capacity),
                 number(round(r.planned_load, 2)), chance(r.p_over_capacity, r.p_over_capacity_se, result.samples)]
                for r in risky.itertuples()]
        lines += ["", f"Team quarters with more work due than capacity in at least {RISK_SHOWN:.0%} of the scenarios "
                      "(person-months; an overrun pushes the team's later work out):", "",
                  text_table(rows, ["team", "quarter", "capacity", "planned", "P(over capacity)"], "llrrr")]
    else:
        lines += ["", f"No team quarter has more work due than capacity in {RISK_SHOWN:.0%} of the scenarios or more."]
    for roadmap in (result.roadmap, *result.others.values()):
        items = roadmap.violations
        if items:
            lines += ["", f"{_cap(roadmap.phrase)} breaks {len(items)} rule{'' if len(items) == 1 else 's'}:"]
            lines += [f"  {terminal_text(v)}" for v in items]
    if result.notes:
        lines += [""] + [f"Note: {terminal_text(x)}" for x in result.notes]
    lines += ["", f"{PM_NOTE} Reproduce with --seed {result.settings.seed}."]
    return "\n".join(lines) + "\n"


def roadmap_sentence(result) -> str:
    """One plain-words summary of the roadmap shown: what it schedules, its value as planned (and
    its worst-alpha average when the objective is not the mean) and what slips cost, how many land
    on time in 9 of 10 scenarios, and the least likely to."""
    r, unit = result.roadmap, value_unit(result)
    f = _in_roadmap(result)
    quarters = result.quarters
    name = f"{_cap(r.phrase)} for {quarters[0]}–{quarters[-1]}"
    if not len(f):
        return (f"{name} starts none of its {len(result.problem)} "
                f"initiative{'' if len(result.problem) == 1 else 's'}: none fits the capacities and rules in the "
                "horizon.")
    sure = int((f["p_on_time"] >= 0.9).sum())
    worst = f.loc[f["p_on_time"].astype(float).idxmin()]
    tail = (f" (in {_tail_words(result)} it averages {_pm(r.cvar, r.cvar_se)} {unit})"
            if _objective_words(result) else "")
    text = (f"{name} starts {len(f)} of {len(result.problem)} initiatives; as planned it is worth "
            f"{_pm(r.expected_value, r.expected_value_se)} {unit}{tail}, and the simulated effort overruns cost "
            f"{_pm(r.lost_to_slips, r.lost_to_slips_se)} {unit} of it. "
            f"{sure} of the {len(f)} land by their planned quarter in at least 9 of 10 scenarios")
    if worst["p_on_time"] < 0.9:
        late = delivered_by("in 9 of 10 scenarios", worst["delivery_p90"])
        text += (f"; the least likely is {worst['name']} ({_percent(worst['p_on_time'], worst['p_on_time_se'])} "
                 f"chance by {worst['delivery_quarter']}, {late})")
    return text + "."

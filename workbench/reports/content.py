"""What the report templates show: plain sentences, readable tables and the report's JSON record.

Everything is built from the pipeline's `Outcome` (the same numbers as the CLI and the
dashboard), with every piece of user text escaped, values labelled with the settings' value
unit, and every "±" a 95% Monte Carlo half-width.
"""

from __future__ import annotations

import hashlib
import html
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.portfolio import Portfolio
from ..views.format import (
    PM_NOTE,
    beats_sentence,
    evaluated_on_sentence,
    gap_sentence,
    half_width,
    number,
    percent,
    pm,
    probability,
    vss_sentence,
)
from ..views.tables import everyone_in_top_k, ranking_note, ranking_ties
from .changes import Changes, changes_html, changes_since  # noqa: F401  (re-exported)


def input_digest(path: str) -> str:
    """SHA-256 of the input file (of the bundled demo for an empty path), for reproducibility."""
    if path:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return hashlib.sha256((resources.files("workbench") / "data" / "demo_portfolio.yaml").read_bytes()).hexdigest()


def _e(text: object) -> str:
    return html.escape(str(text))


def executive_summary(outcome, drivers: pd.DataFrame | None = None, optimality_gap=None) -> str:
    """Plain sentences for executives, as escaped HTML: the plan, its figures (`plan_figures`), the
    top k, what greedy-by-RICE would have chosen, and the assumptions that matter most."""
    result, plan, s = outcome.result, outcome.plan, outcome.settings
    top_k, unit_v = s.top_k, _e(s.value_unit)
    names = dict(zip(plan.problem.ids, (i.name for i in plan.problem.portfolio)))
    c = plan.problem.constraints
    unit = "person-months" if c.budget_column == "effort" else ""
    items = "".join(f"<li>{_e(names[i])}</li>" for i in plan.selected)
    parts = [f"<p><b>Recommendation.</b> Fund {len(plan.selected)} initiatives within the budget of "
             f"{number(c.budget)} {unit}:</p><ul>{items}</ul>", plan_figures(outcome, optimality_gap)]
    parts.append(_ranking_summary(result, top_k))
    greedy = greedy_html(outcome)
    if greedy:
        parts.append(greedy)
    if drivers is not None and len(drivers):
        lines = "".join(f"<li>{_e(r['input'])}: from {number(r['low'])} to {number(r['high'])} moves the plan's value "
                        f"by {number(r['swing'])} {unit_v}</li>" for _, r in drivers.head(3).iterrows())
        parts.append(f"<p><b>Assumptions that matter most.</b></p><ul>{lines}</ul>")
    parts.append(f"<p><i>{PM_NOTE}</i></p>")
    return "\n".join(parts)


def greedy_html(outcome) -> str:
    """What filling the budget in RICE order (a spreadsheet) would fund instead, and what it would
    give up, as escaped HTML ("" without that baseline)."""
    plan, unit_v = outcome.plan, _e(outcome.settings.value_unit)
    names = dict(zip(plan.problem.ids, (i.name for i in plan.problem.portfolio)))
    greedy, cmp = plan.greedy, plan.comparisons.get("greedy")
    if greedy is None or cmp is None:
        return ""
    missed = [names[i] for i in greedy.selected if i not in plan.selected]
    gained = [names[i] for i in plan.selected if i not in greedy.selected]
    if not missed and not gained:
        return "<p><b>Against a RICE spreadsheet.</b> Filling the budget in RICE order picks the same set.</p>"
    return (f"<p><b>Against a RICE spreadsheet.</b> Filling the budget in RICE order would fund "
            f"{_e(', '.join(missed)) or 'nothing else'} instead of {_e(', '.join(gained)) or 'nothing'}, "
            f"and give up {pm(cmp.expected_gain, half_width(cmp.gain_se))} {unit_v} of expected value.</p>")


def baselines_html(outcome) -> str:
    """The recommended plan against a RICE spreadsheet and against the current plan, escaped HTML."""
    from ..views.brief import current_plan_sentence

    return greedy_html(outcome) + f"<p><b>Against your current plan.</b> {_e(current_plan_sentence(outcome))}</p>"


def entry_table(entry: pd.DataFrame, names: dict[str, str], budget_unit: str = "person-months") -> pd.DataFrame:
    """The smallest budget at which each initiative is funded (`SensitivityReport.entry_budgets`),
    for people: cheapest entry first, initiatives never funded in the sweep left out."""
    f = entry.dropna(subset=["entry_budget"]).sort_values("entry_budget", kind="stable")
    out = pd.DataFrame({"Initiative": [names.get(i, i) for i in f.index],
                        f"Funded from ({budget_unit})": [number(round(float(b), 9)) for b in f["entry_budget"]],
                        "Funded at this share of the budgets swept": [percent(x) for x in f["funded_share"]]})
    out.attrs["numeric"] = tuple(out.columns[1:])
    return out


def split_table(split: pd.DataFrame, unit: str) -> pd.DataFrame:
    """The budget split sweep (`SensitivityReport.split_sweep`) for people, each value ± its 95% error."""
    group = str(split["group"].iloc[0]) if len(split) else "the group"

    def fig(r, name):
        se = r.get(f"{name}_se")
        return pm(r[name], None if se is None or pd.isna(se) else half_width(se))

    status = {"optimal": "best plan", "infeasible": "no plan fits", "time_limit": "best found in the time limit"}
    rows = [{f"Share to {group}": percent(r["share"]), "Plan": status.get(r["status"], r["status"]),
             f"Expected value ({unit})": fig(r, "expected_value"), f"Of which {group} ({unit})": fig(r, "group_value")}
            for _, r in split.iterrows()]
    out = pd.DataFrame(rows, columns=[f"Share to {group}", "Plan", f"Expected value ({unit})",
                                      f"Of which {group} ({unit})"])
    out.attrs["numeric"] = (f"Share to {group}", f"Expected value ({unit})", f"Of which {group} ({unit})")
    return out


def plan_figures(outcome, optimality_gap=None) -> str:
    """The recommended plan's figures as escaped HTML, each ± its 95% error: value, p10 – p90, CVaR,
    which scenarios they come from, what planning with ranges is worth (VSS), how far from the best
    plan it may be (`optimality_gap`, a `plan_quality.OptimalityGap`, when given) and delivery risk."""
    plan, s = outcome.plan, outcome.settings
    m = plan.metrics()
    parts = [f"<p><b>Value.</b> Expected value {_pm(m['expected_value'], m['expected_value_se'])} "
             f"{_e(s.value_unit)}; 80% of scenarios fall between {_pm(m['p10'], m['p10_se'])} and "
             f"{_pm(m['p90'], m['p90_se'])}. In the worst {plan.alpha:.0%} of scenarios it averages "
             f"{_pm(m['cvar'], m['cvar_se'])}. {_e(evaluated_on_sentence(m['evaluated_on'], s.scenarios))}</p>"]
    quality = [vss_sentence(plan, s.value_unit, s.scenarios), gap_sentence(plan, optimality_gap, s.value_unit)]
    if any(quality):
        parts.append("<p><b>How good is this plan?</b> " + " ".join(_e(q) for q in quality if q) + "</p>")
    risks = []
    if m["p_overrun"] is not None:
        risks.append("The chance that the funded work needs more effort than the budget is "
                     f"{percent(m['p_overrun'], half_width(m['p_overrun_se']))}.")
    risks += [f"{_e(team)} exceeds its capacity with probability "
              f"{percent(p, half_width(m['team_overrun_se'][team]))}." for team, p in m["team_overrun"].items()]
    if risks:
        parts.append("<p><b>Delivery risk.</b> " + " ".join(risks) + "</p>")
    return "\n".join(parts)


def _pm(value: float, se: float | None) -> str:
    return pm(value, None if se is None else half_width(se))


def frontier_note(outcome, front) -> str:
    """Escaped HTML under the frontier chart: the frontier plans that beat the recommended plan on
    both axes on the evaluation draws, if any (empty otherwise)."""
    s = outcome.settings
    sentence = beats_sentence(outcome.plan, front.beats(outcome.plan), s.scenarios, s.value_unit)
    return f"<p><b>{_e(sentence)}</b></p>" if sentence else ""


def _ranking_summary(result, top_k: int) -> str:
    """The top k in the executive summary, with shared ranks for statistical ties."""
    if everyone_in_top_k(result, top_k):
        return f"<p><b>Ranking.</b> {_e(ranking_note(result, top_k))}</p>"
    summary = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    ties = ranking_ties(result, top_k)
    shown = summary.head(top_k)
    top = "".join(f"<li>{ties.at[i, 'rank']}. {_e(r['name'])}: P(top {top_k}) {probability(r['p_top_k'], half[i])}</li>"
                  for i, r in shown.iterrows())
    tied = (ties["first"] != ties["last"]).loc[shown.index].any()
    last = ties.iloc[top_k - 1]
    beyond = (f" Ranks {last['rank']} are statistically tied across the cut at {top_k}: which of them make the "
              f"top {top_k} is not settled." if last["last"] > top_k else "")
    note = f" <i>{_e(ranking_note(result, top_k))}</i>" if tied else ""
    return (f"<p><b>Ranking.</b> The initiatives most likely to be in the top {top_k} by RICE score:</p>"
            f"<ul>{top}</ul>" + (f"<p>{beyond.strip()}{note}</p>" if beyond or note else ""))


def title(quarter: str, heading: str, portfolio: Portfolio) -> str:
    """The report's heading, as escaped HTML."""
    source = portfolio.source or "portfolio"
    return (f"<h1>{_e(quarter)}: {_e(heading)}</h1>"
            f"<p>{len(portfolio)} initiatives from <code>{_e(Path(source).name)}</code>.</p>")


def switch_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Decision switch points, readable."""
    return pd.DataFrame({"expected": frame["expected"].map(number).to_numpy(),
                         "decision changes at": frame["note"].to_numpy()},
                        index=pd.Index(frame["input"].to_numpy(), name="input"))


def methods_appendix(outcome, portfolio_path: str) -> pd.DataFrame:
    """How to reproduce the report: settings, seeds, sample sizes, errors, version, input digest."""
    result, plan, s = outcome.result, outcome.plan, outcome.settings
    rows = [
        ("package version", f"workbench {_version()}"),
        ("input file", portfolio_path or "bundled demo portfolio"),
        ("input SHA-256", input_digest(portfolio_path)),
        ("seed", s.seed),
        # Short values: the table cuts cells at 80 characters.
        ("random streams", "one per purpose and block of initiatives, from the seed (see the README)"),
        ("samples (ranking and every figure)", f"{result.samples:,} ({result.method})"),
        ("scenarios (choosing the plan)", f"{s.scenarios:,}, independent of the samples above"),
        ("plan figures estimated on", _evaluated_on(plan)),
        ("confidence mode", result.confidence_mode),
        ("objective", f"{plan.objective} (alpha {plan.alpha:g}" + (f", lambda {plan.lam:g})" if plan.lam else ")")),
        ("capacities", ", ".join(f"{t} {number(v)}" for t, v in s.capacities) or "none"),
        ("value unit", s.value_unit),
        (f"largest 95% error of P(top {s.top_k})", f"± {result.half_width(s.top_k).max():.4f}"),
        ("95% error of the plan's expected value", f"± {number(half_width(plan.expected_value_se))}"),
        ("95% error of the plan's CVaR", f"± {number(half_width(plan.cvar_se))}"),
        ("value of planning with ranges (VSS)", _vss_value(plan, s.value_unit)),
        ("solver", f"HiGHS via scipy.optimize.milp: {plan.status}"
                   + (f", gap {plan.gap:.2%}" if plan.gap is not None else "")),
        ("±", PM_NOTE),
        *_calibration_rows(outcome),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def _calibration_rows(outcome) -> list[tuple[str, str]]:
    """The appendix's "calibration" row (the file, or ranges as typed) and, when a calibration
    was used, "calibrated ranges": how it changed them (`views.brief.calibration_note`)."""
    from ..views.brief import calibration_note

    path = getattr(outcome.settings, "calibration", None)
    if not path:
        return [("calibration", "none: every range as typed")]
    return [("calibration", str(path)), ("calibrated ranges", calibration_note(outcome) or "")]


def _evaluated_on(plan) -> str:
    where = plan.evaluated_on()
    if where["scenarios"] == "evaluation":
        return f"{where['count']:,} evaluation draws, independent of the choice"
    return f"the {where['count']:,} scenarios that chose the plan (not independent)"


def _vss_value(plan, unit: str) -> str:
    if plan.vss is None or plan.point is None:
        return "not computed"
    if np.array_equal(plan.point.funded, plan.funded):
        return "0: the plan chosen on the medians is the same plan"
    return f"{pm(plan.vss.value, half_width(plan.vss.se))} {unit}, against the plan chosen on the medians"


def report_record(outcome, portfolio_path: str, roadmap=None, *, quarter: str | None = None, delivered=None) -> dict:
    """The report's JSON (`<name>.json`): its quarter (the label the report was made for: next
    quarter's report reads it as the plan's quarter), settings, plan and ranking with standard
    errors (`*_se`), package version and input digest, for BI tools and tests; with the roadmap's
    JSON (`RoadmapResult.to_dict`) under "roadmap" when one was computed, last quarter's plan
    against its actuals (`delivered.CommittedVsDelivered.to_dict`) under "committed_vs_delivered"
    when compared, and the calibration used ({"file", "applied"}) under "calibration"."""
    result, plan, s = outcome.result, outcome.plan, outcome.settings
    p, se = result.p_top_k(s.top_k)
    ties = ranking_ties(result, s.top_k)
    extra = {} if roadmap is None else {"roadmap": roadmap.to_dict()}
    if delivered is not None:
        extra["committed_vs_delivered"] = delivered.to_dict()
    if getattr(s, "calibration", None):
        extra["calibration"] = _calibration_record(outcome)
    return {
        "quarter": quarter,
        "workbench": _version(), "input": portfolio_path or "demo", "input_sha256": input_digest(portfolio_path),
        "settings": s.to_dict(),
        "plan": {**plan.metrics(), "value_unit": s.value_unit, **_quality(plan)},
        "ranking": [{"id": i, "p_top_k": float(a), "p_top_k_se": float(b),
                     "rank_group": [int(ties.at[i, "first"]), int(ties.at[i, "last"])]}
                    for i, a, b in sorted(zip(result.portfolio.ids, p, se), key=lambda t: -t[1])],
        "all_in_top_k": everyone_in_top_k(result, s.top_k),
        **extra,
    }


def _calibration_record(outcome) -> dict:
    """{"file", "applied": [...], "sentence"}: the calibration used and each correction as used on the
    portfolio, as every analysis's JSON says it (`views.calibration_tables.calibration_record`)."""
    from ..views.calibration_tables import calibration_record

    s = outcome.settings
    return calibration_record(s.calibration, outcome.portfolio, s.confidence_mode)


# --- the roadmap across quarters -------------------------------------------------------------------


def report_roadmap(portfolio: Portfolio, settings, quarter: str = "") -> tuple[object | None, str | None]:
    """(the roadmap of the report's settings, None), or (None, "No roadmap: " and why, in the
    pipeline's words: a team without capacity, no roadmap that fits, the solver giving up). The
    default horizon is the four quarters after the report's quarter when its label parses
    (`model.quarters`): the 2026Q4 report plans 2027Q1-2027Q4."""
    from ..errors import InputError
    from ..model.quarters import parse_quarter
    from ..pipeline import roadmap
    from ..planning.milp import SolverError

    try:
        start = parse_quarter(quarter) + 1
    except ValueError:  # a label such as "session": the quarter after today
        start = None
    try:
        return roadmap(portfolio, settings, start=start), None
    except (InputError, SolverError) as exc:  # Infeasible is an InputError: its message names why
        return None, f"No roadmap: {exc}"


def _quality(plan) -> dict:
    """VSS ({value, se}) and the baselines' figures with standard errors, for the record."""
    out = {} if plan.vss is None else {"vss": {"value": plan.vss.value, "se": plan.vss.se}}
    for key in ("point", "greedy", "current"):
        other = getattr(plan, key)
        if other is not None:
            out[key] = {"selected": other.selected, "expected_value": other.expected_value,
                        "expected_value_se": other.expected_value_se, "cvar": other.cvar, "cvar_se": other.cvar_se}
    return out


def _version() -> str:
    from .. import __version__

    return __version__

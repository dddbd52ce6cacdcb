"""What the report templates show: plain sentences, readable tables and the report's JSON record.

Everything is built from the pipeline's `Outcome` (the same numbers as the CLI and the
dashboard), with every piece of user text escaped, values labelled with the settings' value
unit, and every "±" a 95% Monte Carlo half-width.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ..model.portfolio import Portfolio
from ..views.format import PM_NOTE, binomial_half_width, half_width, number, percent, pm, probability


def input_digest(path: str) -> str:
    """SHA-256 of the input file (of the bundled demo for an empty path), for reproducibility."""
    if path:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return hashlib.sha256((resources.files("workbench") / "data" / "demo_portfolio.yaml").read_bytes()).hexdigest()


def _e(text: object) -> str:
    return html.escape(str(text))


def executive_summary(outcome, drivers: pd.DataFrame | None = None) -> str:
    """Plain sentences for executives, as escaped HTML: the plan, its value and risk, the top k,
    what greedy-by-RICE would have chosen, and the assumptions that matter most."""
    result, plan, s = outcome.result, outcome.plan, outcome.settings
    top_k, unit_v = s.top_k, _e(s.value_unit)
    names = dict(zip(plan.problem.ids, (i.name for i in plan.problem.portfolio)))
    p10, _, p90 = plan.quantiles()
    c = plan.problem.constraints
    unit = "person-months" if c.budget_column == "effort" else ""
    items = "".join(f"<li>{_e(names[i])}</li>" for i in plan.selected)
    parts = [
        f"<p><b>Recommendation.</b> Fund {len(plan.selected)} initiatives within the budget of "
        f"{number(c.budget)} {unit}:</p>"
        f"<ul>{items}</ul>",
        f"<p><b>Value.</b> Expected value {pm(plan.expected_value, half_width(plan.expected_value_se))} {unit_v}; "
        f"80% of scenarios fall between {number(p10)} and {number(p90)}. In the worst {plan.alpha:.0%} of scenarios "
        f"it averages {number(plan.cvar)}.</p>",
    ]
    if plan.p_overrun is not None:
        half = binomial_half_width(plan.p_overrun, plan.scenarios.count)
        parts.append(f"<p><b>Delivery risk.</b> The chance that the funded work needs more effort than the budget is "
                     f"{percent(plan.p_overrun, half)}.</p>")
    summary = result.summary(top_k)
    half = dict(zip(result.portfolio.ids, result.half_width(top_k)))
    top = "".join(f"<li>{_e(r['name'])}: P(top {top_k}) {probability(r['p_top_k'], half[i])}</li>"
                  for i, r in summary.head(top_k).iterrows())
    parts.append(f"<p><b>Ranking.</b> The initiatives most likely to be in the top {top_k} by RICE score:</p>"
                 f"<ul>{top}</ul>")
    greedy, cmp = plan.greedy, plan.comparisons.get("greedy")
    if greedy is not None and cmp is not None:
        missed = [names[i] for i in greedy.selected if i not in plan.selected]
        gained = [names[i] for i in plan.selected if i not in greedy.selected]
        if not missed and not gained:
            parts.append("<p><b>Against a RICE spreadsheet.</b> Filling the budget in RICE order picks the same "
                         "set.</p>")
        else:
            parts.append(
                f"<p><b>Against a RICE spreadsheet.</b> Filling the budget in RICE order would fund "
                f"{_e(', '.join(missed)) or 'nothing else'} instead of {_e(', '.join(gained)) or 'nothing'}, "
                f"and give up {pm(cmp.expected_gain, half_width(cmp.gain_se))} {unit_v} of expected value.</p>")
    if drivers is not None and len(drivers):
        lines = "".join(f"<li>{_e(r['input'])}: from {number(r['low'])} to {number(r['high'])} moves the plan's value "
                        f"by {number(r['swing'])} {unit_v}</li>" for _, r in drivers.head(3).iterrows())
        parts.append(f"<p><b>Assumptions that matter most.</b></p><ul>{lines}</ul>")
    parts.append(f"<p><i>{PM_NOTE}</i></p>")
    return "\n".join(parts)


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


def changes_html(changes: Changes) -> str:
    """What changed since last quarter, as escaped HTML."""
    def ids(items):
        return _e(", ".join(items)) if items else "none"

    parts = [f"<p><b>New:</b> {ids(changes.new)}. <b>Dropped:</b> {ids(changes.dropped)}.</p>"]
    if len(changes.reestimated):
        rows = "".join(f"<tr><td>{_e(r.id)}</td><td>{_e(r.factor)}</td><td>{_e(r.before)}</td>"
                       f"<td>{_e(r.after)}</td></tr>" for r in changes.reestimated.itertuples())
        parts.append("<p><b>Re-estimated:</b></p><table><tr><th>id</th><th>factor</th><th>before</th><th>now</th></tr>"
                     f"{rows}</table>")
    moved = changes.ranks[changes.ranks["movement"] != 0].sort_values("movement", key=abs, ascending=False)
    if len(moved):
        rows = "".join(f"<tr><td>{_e(r.name)}</td><td>{r.rank_before}</td><td>{r.rank_now}</td>"
                       f"<td>{'▲' if r.movement > 0 else '▼'} {abs(r.movement)}</td></tr>"
                       for r in moved.head(10).itertuples())
        parts.append("<p><b>Rank movements</b> (by P(top k)):</p><table><tr><th>initiative</th><th>before</th>"
                     f"<th>now</th><th>moved</th></tr>{rows}</table>")
    return "\n".join(parts)


@dataclass
class Changes:
    """What changed between two quarters' portfolios."""

    new: list[str]
    dropped: list[str]
    reestimated: pd.DataFrame  # id, factor, before, after
    ranks: pd.DataFrame  # id, name, rank_before, rank_now, movement


def changes_since(previous: Portfolio, current: Portfolio, result_previous, result_now, top_k: int) -> Changes:
    """New, dropped and re-estimated initiatives, and movements in the ranking by P(top k)."""
    before, now = set(previous.ids), set(current.ids)
    rows = [{"id": i, "factor": f, "before": str(previous[i].estimate(f)), "after": str(current[i].estimate(f))}
            for i in current.ids if i in before for f in ("reach", "impact", "confidence", "effort")
            if str(previous[i].estimate(f)) != str(current[i].estimate(f))]
    rank_prev = {i: k + 1 for k, i in enumerate(result_previous.summary(top_k).index)}
    rank_now = {i: k + 1 for k, i in enumerate(result_now.summary(top_k).index)}
    ranks = pd.DataFrame([{"id": i, "name": current[i].name, "rank_before": rank_prev[i], "rank_now": rank_now[i],
                           "movement": rank_prev[i] - rank_now[i]} for i in current.ids if i in rank_prev],
                         columns=["id", "name", "rank_before", "rank_now", "movement"])
    return Changes([i for i in current.ids if i not in before], [i for i in previous.ids if i not in now],
                   pd.DataFrame(rows, columns=["id", "factor", "before", "after"]), ranks)


def methods_appendix(outcome, portfolio_path: str) -> pd.DataFrame:
    """How to reproduce the report: settings, seeds, sample sizes, errors, version, input digest."""
    result, plan, s = outcome.result, outcome.plan, outcome.settings
    rows = [
        ("package version", f"workbench {_version()}"),
        ("input file", portfolio_path or "bundled demo portfolio"),
        ("input SHA-256", input_digest(portfolio_path)),
        ("seed", s.seed),
        ("random streams", "one per purpose and block of initiatives, derived from the seed (see README, "
                           "'How the numbers are made'): the same settings give the same numbers in the CLI, "
                           "this report and the dashboard"),
        ("samples (ranking and every figure)", f"{result.samples:,} ({result.method})"),
        ("scenarios (choosing the plan)", f"{s.scenarios:,}, independent of the samples above"),
        ("confidence mode", result.confidence_mode),
        ("objective", f"{plan.objective} (alpha {plan.alpha:g}" + (f", lambda {plan.lam:g})" if plan.lam else ")")),
        ("capacities", ", ".join(f"{t} {number(v)}" for t, v in s.capacities) or "none"),
        ("value unit", s.value_unit),
        (f"largest 95% error of P(top {s.top_k})", f"± {result.half_width(s.top_k).max():.4f}"),
        ("95% error of the plan's expected value", f"± {number(half_width(plan.expected_value_se))}"),
        ("solver", f"HiGHS via scipy.optimize.milp: {plan.status}"
                   + (f", gap {plan.gap:.2%}" if plan.gap is not None else "")),
        ("±", PM_NOTE),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def report_record(outcome, portfolio_path: str) -> dict:
    """The report's JSON (`<name>.json`): settings, plan and ranking with standard errors (`*_se`),
    package version and input digest, for BI tools and tests."""
    result, plan, s = outcome.result, outcome.plan, outcome.settings
    p, se = result.p_top_k(s.top_k)
    p_over = plan.p_overrun
    return {
        "workbench": _version(), "input": portfolio_path or "demo", "input_sha256": input_digest(portfolio_path),
        "settings": s.to_dict(),
        "plan": {"selected": plan.selected, "expected_value": plan.expected_value,
                 "expected_value_se": plan.expected_value_se, "cvar": plan.cvar, "p_overrun": p_over,
                 "p_overrun_se": (None if p_over is None
                                  else float(np.sqrt(p_over * (1 - p_over) / plan.scenarios.count))),
                 "value_unit": s.value_unit},
        "ranking": [{"id": i, "p_top_k": float(a), "p_top_k_se": float(b)}
                    for i, a, b in sorted(zip(result.portfolio.ids, p, se), key=lambda t: -t[1])],
    }


def _version() -> str:
    from .. import __version__

    return __version__

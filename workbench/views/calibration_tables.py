"""How good past estimates were, and the correction learned, as words and tables.

- `calibration_text(report)`: the terminal view of `workbench calibrate learn` (hit rates of the
  50/80/90% ranges, median actual / median estimate, the PIT test in plain words, delivery and
  schedule); `correction_text(calibration)` the correction learned and its method.
- `calibration_frame(report)`, `calibration_html(report)`, `correction_html(calibration)`: the
  same as human tables in the shared style (`table_style.table_html`) for reports and dashboards.
- `calibration_sentence(calibration, portfolio, mode)`: the sentence every analysis shows when it
  ran on calibrated ranges; `calibration_record(...)`: the JSON "calibration" entry.

Every "±" is a 95% half-width (1.96 standard errors: binomial for hit rates, delta method or
bootstrap for ratios). User text (team names) goes through `terminal_text` here and is escaped by
`table_html` in HTML.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..calibration.history import MEASURED as FACTORS
from ..calibration.measures import LEVELS, MIN_PIT_TEST
from .format import half_width, number
from .output import terminal_text, text_table

RATIO = "actual ÷ estimated median"
EVERY_TEAM = "all teams"


class _Fig:  # a value and se from a JSON-like bin, read like measures.Figure
    def __init__(self, value, se):
        self.value, self.se = value, se


# --- small words --------------------------------------------------------------------------------


MIN_RANGES = MIN_PIT_TEST  # fewer ranges than this: no hit rate shown (nor a PIT test), too few to say anything


def _ok(x) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def share(figure, n: int | None = None) -> str:
    """A rate with its 95% half-width as percentages: "41% ± 9%". At 0% or 100% of `n` the binomial
    margin says nothing, so the rule of three bounds it instead: "100% (≥ 85%)"."""
    if figure is None or not _ok(figure.value):
        return "–"
    if n and figure.value <= 0:
        return f"0% (≤ {min(1.0, 3 / n):.0%})"
    if n and figure.value >= 1:
        return f"100% (≥ {max(0.0, 1 - 3 / n):.0%})"
    if not _ok(figure.se):
        return f"{figure.value:.0%}"
    return f"{figure.value:.0%} ± {half_width(figure.se):.0%}"


def ratio(figure) -> str:
    """A multiplier with its 95% half-width: "×1.31 ± 0.06"."""
    if figure is None or not _ok(figure.value):
        return "–"
    shown = f"×{figure.value:.2f}"
    return shown if not _ok(figure.se) else f"{shown} ± {half_width(figure.se):.2f}"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.2g}"


def pit_words(fc) -> str:
    """The PIT (uniformity) test of one factor's ranges in plain words, with its p-value."""
    if fc.pit_p_value is None:
        return f"too few ranges to test (fewer than {MIN_RANGES})"
    hit = fc.hit_rate.get(0.9)
    outside = 1 - hit.value
    band = half_width(hit.se) if _ok(hit.se) else 0.0
    said = (f"the actual fell outside the 90% range {outside:.0%} of the time "
            f"({_p(fc.pit_p_value)}, uniformity test)")
    if fc.pit_p_value >= 0.05:
        return f"consistent with calibrated ranges: {said}"
    if outside > 0.1 + band:
        return f"ranges too narrow: {said}"
    if outside < 0.1 - band:
        return f"ranges too wide: {said}"
    pit = np.asarray(fc.pit, float)
    above = float(np.nanmean(pit)) > 0.5 if pit.size else fc.median_ratio.value > 1
    where = "above" if above else "below"
    return f"ranges off-centre: actuals mostly {where} the estimated medians; {said}"


def _groups(report, by: str = "team"):
    """(factor, group label, FactorCalibration): all teams first, then each team (or estimator)."""
    groups = report.by_team if by == "team" else report.by_estimator
    for factor in FACTORS:
        if factor in report.factors and by == "team":
            yield factor, EVERY_TEAM, report.factors[factor]
        for name in sorted(groups):
            if factor in groups[name]:
                yield factor, name or f"(no {by})", groups[name][factor]


# --- the measures ----------------------------------------------------------------------------------


def calibration_frame(report, by: str = "team") -> pd.DataFrame:
    """One row per factor and team (all teams first), or per factor and estimator (`by="estimator"`):
    n, the three hit rates, the median ratio, the PIT test. The group's column is named "team" either way."""
    rows = []
    for factor, team, fc in _groups(report, by):
        ranges = fc.n - fc.n_point  # hit rates are over ranges: a single number is never "inside" one
        rows.append({"factor": factor, "team": team, "initiatives": fc.n, "ranges": ranges,
                     **{f"inside {lv:.0%} range": "–" if ranges < MIN_RANGES else share(fc.hit_rate.get(lv), ranges)
                        for lv in LEVELS},
                     f"median {RATIO}": ratio(fc.median_ratio), "PIT test": pit_words(fc)})
    rates = [f"inside {lv:.0%} range" for lv in LEVELS]
    columns = ["factor", "team", "initiatives", "ranges", *rates, f"median {RATIO}", "PIT test"]
    frame = pd.DataFrame(rows, columns=columns)
    frame.attrs["numeric"] = ("initiatives", "ranges", *rates, f"median {RATIO}")
    frame.attrs["notes"] = (
        "A calibrated 90% range holds the actual 9 times in 10, a 50% range half the time. "
        f"± is a 95% margin (binomial for the rates); \"–\" under {MIN_RANGES} ranges (single numbers are not ranges).",
        f"{RATIO}: above ×1 the actuals ran higher than the estimates' medians. "
        "PIT test: the estimate's chance of a value below the actual should be spread evenly from 0 to 1 "
        "(Kolmogorov-Smirnov test).")
    return frame


def delivery_frame(delivery) -> pd.DataFrame:
    """The reliability table: stated chance of delivery (bin mean) vs the share delivered, with n."""
    rows = [{"stated chance of delivery": f"{b['stated']:.0%}",
             "delivered": share(_Fig(b["observed"], b.get("observed_se")), int(b["n"])), "initiatives": int(b["n"])}
            for b in delivery.reliability]
    frame = pd.DataFrame(rows, columns=["stated chance of delivery", "delivered", "initiatives"])
    frame.attrs["numeric"] = tuple(frame.columns)
    return frame


def _delivery_line(label: str, d) -> str:
    return (f"{label}: stated {d.stated_mean:.0%} on average, delivered {share(d.observed)} "
            f"of {d.n:,}; Brier score {number(d.brier.value)} ± {number(half_width(d.brier.se))} "
            "(0 is perfect, 0.25 a coin toss)")


def _schedule_line(s) -> str:
    basis = {"planned_quarter": "their planned delivery quarter",
             "quarter of the estimate": "the quarter of the estimate"}.get(
        s.basis, "their planned delivery quarter (else the quarter of the estimate)")
    line = f"Schedule: {share(s.held)} of {s.n:,} initiatives were delivered by {basis}"
    if s.late_quarters_median is not None:
        line += f"; the late ones {number(s.late_quarters_median)} quarter(s) late (median)"
    if s.deadline_n and s.deadline_met is not None:
        line += f"; deadlines met {share(s.deadline_met)} of {s.deadline_n:,}"
    return line + "."


def calibration_text(report) -> str:
    """The terminal view of how good the ranges were (`workbench calibrate learn`)."""
    quarters = report.quarters
    span = f"{quarters[0]} – {quarters[-1]}" if quarters else "no quarters"
    lines = [f"Calibration of {report.n:,} past initiatives over {len(quarters)} quarters ({span})", ""]
    frame = calibration_frame(report)
    if frame.empty:
        lines.append("No actual effort, reach or impact was recorded for a range estimate: nothing to measure.")
    else:
        body = [[terminal_text(v, 40) if isinstance(v, str) else f"{v:,}" for v in row[:-1]]
                for row in frame.itertuples(index=False)]
        header = ["factor", "team", "n", "ranges", "in 50% range", "in 80% range", "in 90% range", "actual ÷ median"]
        lines += [text_table(body, header, "llrrrrrr"), "", "PIT test (are the ranges calibrated?):"]
        lines += [f"  {f} ({terminal_text(t, 40)}): {w}" for f, t, w in
                  zip(frame["factor"], frame["team"], frame["PIT test"])]
        lines += ["", *frame.attrs["notes"]]
    by_estimator = calibration_frame(report, "estimator") if report.by_estimator else None
    if by_estimator is not None and not by_estimator.empty:
        body = [[terminal_text(v, 40) if isinstance(v, str) else f"{v:,}" for v in row[:-1]]
                for row in by_estimator.itertuples(index=False)]
        header = ["factor", "estimator", "n", "ranges", "in 50% range", "in 80% range", "in 90% range",
                  "actual ÷ median"]
        lines += ["", "By estimator:", "", text_table(body, header, "llrrrrrr")]
    if report.delivery is not None:
        lines += ["", "Delivery (stated chance of delivery vs delivered):",
                  "  " + _delivery_line("all teams", report.delivery)]
        lines += ["  " + _delivery_line(terminal_text(t or "(no team)", 40), d)
                  for t, d in sorted(report.delivery_by_team.items())]
        rel = delivery_frame(report.delivery)
        if not rel.empty:
            table = text_table([list(map(str, r)) for r in rel.itertuples(index=False)], list(rel.columns), "rrr")
            lines += ["", *("  " + x for x in table.splitlines())]
    if report.schedule is not None:
        lines += ["", _schedule_line(report.schedule)]
    return "\n".join(lines) + "\n"


def calibration_html(report) -> str:
    """How good the ranges were as human tables (measures, then delivery), in the shared style."""
    from .table_style import table_html

    parts = [table_html(calibration_frame(report), caption="How often the actuals fell inside the stated ranges")]
    if report.delivery is not None and report.delivery.reliability:
        parts.append(table_html(delivery_frame(report.delivery), caption="Stated chance of delivery vs delivered",
                                notes=(_delivery_line("all teams", report.delivery),)))
    if report.schedule is not None:
        import html

        parts.append(f"<p>{html.escape(_schedule_line(report.schedule))}</p>")
    return "\n".join(parts)


# --- the correction -------------------------------------------------------------------------------


def correction_frame(calibration) -> pd.DataFrame:
    """One row per learned range correction: factor, team, n, shift ×, widening ×, each ± 95%."""
    rows = []
    for c in calibration.ranges:
        rows.append({"factor": c.factor, "team": c.team if c.team is not None else EVERY_TEAM,
                     "initiatives": c.n, "shift": ratio(_Fig(c.shift, c.shift_se)),
                     "widened": (ratio(_Fig(c.widen, c.widen_se)) if _ok(c.widen_se) or c.widen != 1
                                 else "not learned (too few ranges)"),
                     "single numbers become": _point_words(c.point_half_width)})
    frame = pd.DataFrame(rows, columns=["factor", "team", "initiatives", "shift", "widened", "single numbers become"])
    frame.attrs["numeric"] = ("initiatives", "shift", "widened")
    frame.attrs["notes"] = ("shift: the medians are multiplied by it; widened: how many times as wide the ranges "
                            "become on a log scale. ± is a 95% bootstrap margin.",)
    return frame


def _point_words(h: float | None) -> str:
    if h is None:
        return "–"
    return "single numbers" if h < 0.005 else f"ranges ×/÷ {math.exp(h):.2f}"


def _mapping_text(m) -> str:
    return ", ".join(f"{s:.0%} → {o:.0%}" for s, o in zip(m.stated, m.observed))


def correction_text(calibration) -> str:
    """The correction learned (`workbench calibrate learn`), and its method in one paragraph."""
    frame = correction_frame(calibration)
    lines = ["Correction learned (applied with --calibration FILE):"]
    if frame.empty:
        lines.append("  none: no factor has enough history (see the method below).")
    else:
        body = [[terminal_text(v, 40) if isinstance(v, str) else f"{v:,}" for v in row]
                for row in frame.itertuples(index=False)]
        lines += ["", text_table(body, list(frame.columns), "llrrrl"), "", *frame.attrs["notes"]]
    for m in calibration.delivery:
        team = EVERY_TEAM if m.team is None else terminal_text(m.team, 40)
        lines.append(f"Stated chance of delivery, {team} (n = {m.n:,}): {_mapping_text(m)}")
    lines += ["", "Method: " + terminal_text(calibration.method)]
    return "\n".join(lines) + "\n"


def correction_html(calibration) -> str:
    """The correction learned as a human table, its delivery mappings and method as notes."""
    from .table_style import table_html

    notes = tuple(f"Stated chance of delivery, {EVERY_TEAM if m.team is None else m.team} (n = {m.n:,}): "
                  f"{_mapping_text(m)}" for m in calibration.delivery) + ("Method: " + calibration.method,)
    return table_html(correction_frame(calibration), caption="Correction learned from the history", notes=notes)


# --- what every analysis says when it used calibrated ranges ---------------------------------------


def _learned(calibration) -> str:
    info = calibration.learned_from or {}
    quarters, records = len(info.get("quarters", ())), info.get("records")
    parts = [f"{quarters} quarter{'s' if quarters != 1 else ''}"] if quarters else []
    if records is not None:
        parts.append(f"{records:,} past initiatives")
    return f" (learned from {', '.join(parts)})" if parts else ""


def _applied_words(a, others: bool = False) -> str:
    """One correction in words; `others`: a pooled correction beside teams' own (it covers the rest)."""
    if a.team is None:
        who = "the other teams (learned from every team)" if others else "every team"
    else:
        who = f"team {terminal_text(a.team, 40)}"
    if f"{a.widen:.1f}" == "1.0":
        return f"{a.factor} of {who} ×{a.shift:.2f}, width unchanged"
    return f"{a.factor} of {who} ×{a.shift:.2f} and {a.widen:.1f}× as wide"


def _delivery_words(rows, others: bool) -> str:
    """The delivery mappings used, in one phrase: "delivery chances of teams A and B mapped to ..."."""
    teams = [terminal_text(a.team, 40) for a in rows if a.team is not None]
    names = ", ".join(teams[:-1]) + f" and {teams[-1]}" if len(teams) > 1 else "".join(teams)
    who = [f"team{'s' if len(teams) > 1 else ''} {names}"] if teams else []
    if any(a.team is None for a in rows):
        who.append("the other teams" if others else "every team")
    return f"delivery chances of {' and '.join(who)} mapped to the rates observed"


def calibration_sentence(calibration, portfolio, confidence_mode: str = "success") -> str:
    """ "Calibrated ranges (learned from 8 quarters, 160 past initiatives): effort of team Growth ×1.30
    and 1.8× as wide; ..." for `portfolio` (its teams decide which corrections apply)."""
    from ..calibration.correction import applied

    rows = applied(calibration, portfolio, confidence_mode)
    head = f"Calibrated ranges{_learned(calibration)}"
    if not rows:
        return f"{head}: no correction applies to this portfolio's teams and factors."
    own = {a.factor for a in rows if a.team is not None}
    words = [_applied_words(a, a.factor in own) for a in rows if a.factor != "confidence"]
    delivery = [a for a in rows if a.factor == "confidence"]
    if delivery:
        words.append(_delivery_words(delivery, "confidence" in own))
    return f"{head}: " + "; ".join(words) + "."


def calibration_record(path: str | Path, portfolio, confidence_mode: str = "success") -> dict:
    """The JSON entry {"file", "applied": [...], "sentence"} of an analysis run on calibrated ranges."""
    from dataclasses import asdict

    from ..calibration.calibration_file import load_calibration
    from ..calibration.correction import applied

    calibration = load_calibration(path)
    rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(a).items()}
            for a in applied(calibration, portfolio, confidence_mode)]
    return {"file": str(path), "applied": rows,
            "sentence": calibration_sentence(calibration, portfolio, confidence_mode)}


def settings_sentence(settings, portfolio) -> str | None:
    """The sentence for the settings' calibration, or None when the analysis used the ranges as typed."""
    if not getattr(settings, "calibration", None):
        return None
    from ..calibration.calibration_file import load_calibration

    return calibration_sentence(load_calibration(settings.calibration), portfolio, settings.confidence_mode)

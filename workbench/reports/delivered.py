"""Committed vs delivered: last quarter's plan (its report's JSON record) against what happened.

The quarterly report's section after "What changed since last quarter". Last quarter's report
record (`content.report_record`, `<name>.json`) says what was committed: the funded initiatives
(`plan.selected`) and the plan's value forecast (expected value ± its 95% error, p10 and p90).
The actuals file (`io.history.read_actuals`) says what happened. Per funded initiative: delivered
on time, late (by how many quarters), not delivered, or no actual yet; the effort planned (the
median of last quarter's estimate, when its portfolio is given) against the effort spent; the
value expected (E[reach]·E[impact]·E[confidence], the success-mode expectation) against the value
measured (actual reach × actual impact of a delivered initiative). The plan's measured value is
the sum over the delivered ones, and the section says whether it fell inside the forecast's
p10–p90 range. With last quarter's portfolio file, the calibration of that quarter's estimates
(`calibration.measures.measure` on the history of that one quarter) is said in plain words.

The planned delivery quarter follows `calibration.measures`: an initiative with a planned_quarter
is due by planned_quarter + ceil(median effort / max_per_quarter) − 1 (its planned quarter without
max_per_quarter); every other funded initiative is due in the plan's quarter.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import InputError, Problem, clip, quote
from ..model.quarters import parse_quarter, quarter_label
from ..views.calibration_tables import MIN_RANGES, share
from ..views.format import Z95, amount, number, percent, pm

# "How to read this" of the section, used when `views.explain` has no "committed" topic.
READ_TEXT = ("On time: shipped by the quarter it was due. Value measured: reach × impact seen after launch; a "
             "sound forecast has it between p10 and p90 8 quarters in 10, and calibrated 90% ranges hold the actual "
             "9 times in 10.")
ON_TIME, LATE, NOT_DELIVERED, SHIPPED, NO_ACTUAL = ("on time", "late", "not delivered",
                                                    "delivered (quarter not recorded)", "no actual yet")


@dataclass(frozen=True)
class Committed:
    """Last quarter's plan as its report recorded it."""

    source: str  # the report JSON's path
    quarter: str | None  # the record's "quarter" (canonical label), None in records made before it was kept
    selected: tuple[str, ...]
    expected_value: float
    expected_value_se: float
    p10: float | None
    p90: float | None
    value_unit: str = "value points"
    confidence_mode: str = "success"


def read_previous_report(path: str | Path) -> Committed:
    """The plan a report record (`<name>.json` of `workbench report quarterly`) committed to;
    InputError (every problem, located by file and key) when the file is not such a record."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(f"previous_report: cannot read the file ({exc.__class__.__name__})",
                                 file=clip(source))) from None
    except json.JSONDecodeError as exc:
        raise InputError(Problem(f"previous_report: not valid JSON: {exc.msg}", file=clip(source), line=exc.lineno))\
            from None
    if not isinstance(data, dict):
        raise InputError(Problem("previous_report: expected a report's JSON record (an object with \"plan\"), got "
                                 f"a {type(data).__name__}", file=clip(source)))
    problems: list[Problem] = []

    def bad(key: str, expected: str, value) -> None:
        problems.append(Problem(f"previous_report: {key}: expected {expected}, got {quote(value)}",
                                file=clip(source)))

    plan = data.get("plan")
    if not isinstance(plan, dict):
        bad("plan", "the plan's figures (the JSON `workbench report quarterly` writes)",
            "nothing" if plan is None else plan)
        raise InputError(problems)
    selected = plan.get("selected")
    if not isinstance(selected, list) or not all(isinstance(i, str) for i in selected):
        bad("plan.selected", "a list of initiative ids", selected)
    figures = {}
    for key in ("expected_value", "expected_value_se", "p10", "p90"):
        value = plan.get(key)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok and not (key in ("p10", "p90") and value is None):
            bad(f"plan.{key}", "a number", value)
        figures[key] = float(value) if ok else None
    quarter = data.get("quarter")
    try:  # a label that is no quarter ("session", from the dashboard): unknown, the report's quarter − 1
        quarter = quarter_label(parse_quarter(quarter)) if quarter is not None else None
    except ValueError:
        quarter = None
    settings = data.get("settings") if isinstance(data.get("settings"), dict) else {}
    if problems:
        raise InputError(problems)
    return Committed(source, quarter, tuple(selected), figures["expected_value"], figures["expected_value_se"],
                     figures["p10"], figures["p90"], str(plan.get("value_unit") or settings.get("value_unit")
                                                         or "value points"),
                     str(settings.get("confidence_mode") or "success"))


def plan_quarter(committed: Committed, report_quarter: str) -> str | None:
    """The quarter last quarter's plan was for: the record's "quarter", else the one before the
    report's (None when neither is known: the report's label is not a quarter)."""
    if committed.quarter:
        return committed.quarter
    try:
        return quarter_label(parse_quarter(report_quarter) - 1)
    except ValueError:
        return None


@dataclass(frozen=True)
class Delivered:
    """One funded initiative of last quarter's plan and what happened to it."""

    id: str
    name: str
    team: str | None
    due: str  # the quarter it was due by
    status: str  # ON_TIME, LATE, NOT_DELIVERED, SHIPPED or NO_ACTUAL
    late_by: int | None  # quarters, when late
    effort_planned: float | None  # the median of last quarter's estimate (person-months)
    effort_spent: float | None
    value_expected: float | None  # E[reach]·E[impact]·E[confidence], last quarter's estimates
    value_measured: float | None  # actual reach × actual impact (0 when not delivered); None: not measured

    @property
    def delivered(self) -> bool:
        return self.status in (ON_TIME, LATE, SHIPPED)


@dataclass(frozen=True)
class CommittedVsDelivered:
    """Last quarter's plan against its actuals, and the calibration of that quarter's estimates."""

    committed: Committed
    quarter: str
    rows: tuple[Delivered, ...]
    calibration: object | None = None  # calibration.measures.CalibrationReport of that quarter
    calibration_note: str = ""  # why there is no calibration (plain text)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.rows)

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.rows)

    def measured_value(self) -> tuple[float | None, int]:
        """(Σ actual reach × actual impact over the delivered initiatives measured, how many were
        measured); the value is None when none was."""
        measured = [r.value_measured for r in self.rows if r.delivered and r.value_measured is not None]
        return (float(sum(measured)) if measured else None), len(measured)

    def verdict(self) -> str:
        """Whether the measured value fell inside the forecast's p10–p90 range, in words."""
        c = self.committed
        value, n = self.measured_value()
        if c.p10 is None or c.p90 is None:
            return "Last quarter's report has no p10–p90 range to compare with."
        span = "the forecast's p10–p90 range"
        if value is None:
            return f"No delivered initiative has its reach and impact measured yet: not comparable with {span}."
        pending = self.count(NO_ACTUAL)
        if n < self.delivered or pending:
            known = (f"measured for {n} of {self.delivered} delivered initiatives" if n < self.delivered
                     else f"{pending} funded initiative{'s' * (pending > 1)} with no actual yet")
            if value > c.p90:
                return f"{known[0].upper()}{known[1:]}, and already above {span}."
            return f"{known[0].upper()}{known[1:]}: not yet comparable with {span}."
        if value < c.p10:
            return f"Below {span}: the plan was forecast to deliver more 9 quarters in 10."
        if value > c.p90:
            return f"Above {span}: the plan was forecast to deliver less 9 quarters in 10."
        return f"Inside {span}."

    def to_dict(self) -> dict:
        """For the report's JSON record: the plan quarter, the per-initiative outcome, the totals."""
        value, n = self.measured_value()
        c = self.committed
        return {"quarter": self.quarter, "previous_report": c.source,
                "forecast": {"expected_value": c.expected_value, "expected_value_se": c.expected_value_se,
                             "p10": c.p10, "p90": c.p90, "value_unit": c.value_unit},
                "measured_value": value, "measured_initiatives": n, "delivered": self.delivered,
                "funded": len(self.rows),
                "initiatives": [{"id": r.id, "status": r.status, "due": r.due, "late_by": r.late_by,
                                 "effort_planned": r.effort_planned, "effort_spent": r.effort_spent,
                                 "value_expected": r.value_expected, "value_measured": r.value_measured}
                                for r in self.rows],
                "calibration": None if self.calibration is None else self.calibration.to_dict()}


def due_quarter(initiative, quarter: int) -> int:
    """The quarter an initiative funded for `quarter` is due by (see the module's docstring)."""
    if initiative is None or initiative.planned_quarter is None:
        return quarter
    start = parse_quarter(initiative.planned_quarter)
    if not initiative.max_per_quarter:
        return start
    return start + max(math.ceil(initiative.effort.median() / initiative.max_per_quarter), 1) - 1


def _status(actual, due: int) -> tuple[str, int | None]:
    if actual is None:
        return NO_ACTUAL, None
    if actual.delivered is False:
        return NOT_DELIVERED, None
    if actual.delivered_quarter is not None:
        late = parse_quarter(actual.delivered_quarter) - due
        return (LATE, late) if late > 0 else (ON_TIME, None)
    return (SHIPPED, None) if actual.delivered else (NO_ACTUAL, None)


def committed_vs_delivered(committed: Committed, actuals, quarter: str, *, previous=None, names=None,
                           actuals_file: str = "") -> CommittedVsDelivered:
    """Last quarter's plan against the actuals of `quarter` (its canonical label). previous: last
    quarter's `Portfolio` (estimates, teams, the calibration of that quarter); names: id -> name
    for initiatives it does not have (e.g. this quarter's portfolio)."""
    by_id = {a.id: a for a in actuals if a.quarter == quarter}
    initiatives = {} if previous is None else {i.id: i for i in previous}
    names = {**(names or {}), **{i: ini.name for i, ini in initiatives.items()}}
    q = parse_quarter(quarter)
    rows = []
    for id_ in committed.selected:
        ini, actual = initiatives.get(id_), by_id.get(id_)
        due = due_quarter(ini, q)
        status, late = _status(actual, due)
        expected = (None if ini is None or committed.confidence_mode != "success"
                    else ini.reach.mean() * ini.impact.mean() * ini.confidence.mean())
        if status == NOT_DELIVERED:
            measured = 0.0
        elif actual is not None and actual.actual_reach is not None and actual.actual_impact is not None:
            measured = actual.actual_reach * actual.actual_impact
        else:
            measured = None
        rows.append(Delivered(id_, names.get(id_, id_), None if ini is None else ini.team, quarter_label(due),
                              status, late, None if ini is None else ini.effort.median(),
                              None if actual is None else actual.actual_effort, expected, measured))
    calibration, note = None, ""
    if previous is None:
        note = "Give last quarter's portfolio file (parameter previous_portfolio) to see how good its estimates were."
    else:
        calibration, note = quarter_calibration(previous, actuals, quarter, actuals_file)
    return CommittedVsDelivered(committed, quarter, tuple(rows), calibration, note)


def quarter_calibration(previous, actuals, quarter: str, actuals_file: str = "") -> tuple[object | None, str]:
    """(`measure()` of one quarter's history: last quarter's portfolio joined with that quarter's
    actuals, ""), or (None, why not)."""
    from ..calibration.measures import measure
    from ..io.history import join_history

    mine = tuple(a for a in actuals if a.quarter == quarter)
    if not mine:
        return None, f"The actuals file has no row for {quarter}: no calibration of that quarter's estimates."
    history = join_history([(quarter, previous, previous.source or "")], mine, actuals_file)
    if not len(history):
        return None, f"No initiative of last quarter's portfolio has an actual for {quarter}."
    return measure(history), ""


# --- words and HTML ---------------------------------------------------------------------------------

FACTOR_NAMES = {"effort": "Effort", "reach": "Reach", "impact": "Impact"}


def _hit(figure) -> str:
    """A rate with its 95% half-width, both in whole percent: "80% ± 35%"."""
    return f"{figure.value:.0%} ± {Z95 * figure.se:.0%}"


def calibration_table(report) -> pd.DataFrame:
    """The calibration of one quarter's estimates for people, one row per factor measured: how
    often the 90% and 50% ranges held the actual (each ± its 95% error, and whether the 90% ranges
    were too narrow, about right or wider than needed) and the typical actual ÷ the median."""
    rows = []
    for factor, f in report.factors.items():
        hit = f.hit_rate.get(0.9)
        if f.n == 0:
            continue
        ranges = f.n - f.n_point
        held = held50 = "– (single numbers)" if ranges == 0 else f"– (too few ranges to judge: {ranges})"
        if hit is not None and ranges >= MIN_RANGES:
            low, high = hit.value - Z95 * hit.se, hit.value + Z95 * hit.se
            # At 0% or 100% the binomial margin is 0: the rule of three bounds the rate instead.
            if hit.value <= 0 or hit.value >= 1:
                low, high = (0.0, 3 / ranges) if hit.value <= 0 else (1 - 3 / ranges, 1.0)
            judged = "too narrow" if high < 0.9 else "wider than needed" if low > 0.9 else "about right"
            held, held50 = f"{share(hit, ranges)}: {judged}", share(f.hit_rate[0.5], ranges)
        ratio = f.median_ratio
        rows.append({"Estimate": FACTOR_NAMES.get(factor, factor), "Measured": f.n,
                     "90% ranges held the actual (calibrated: 90%)": held,
                     "50% ranges (calibrated: 50%)": held50,
                     "Typical actual ÷ median": f"{pm(ratio.value, Z95 * ratio.se, digits=2)}×"})
    out = pd.DataFrame(rows, columns=["Estimate", "Measured", "90% ranges held the actual (calibrated: 90%)",
                                      "50% ranges (calibrated: 50%)", "Typical actual ÷ median"])
    out.attrs["numeric"] = ("Measured", "Typical actual ÷ median")
    return out


def delivery_line(report) -> str:
    """Stated delivery chances against the delivery rate, and the schedule, in one sentence ("" without)."""
    d, sched = getattr(report, "delivery", None), getattr(report, "schedule", None)
    words = []
    if d is not None and d.n:
        words.append(f"stated chances averaged {percent(d.stated_mean)}; {_hit(d.observed)} of {d.n} delivered")
    if sched is not None and sched.n:
        words.append(f"{_hit(sched.held)} of {sched.n} by the quarter they were due")
    return ("Delivery: " + ", ".join(words) + ".") if words else ""


def _e(text: object) -> str:
    return html.escape(str(text))


def delivered_table(cvd: CommittedVsDelivered) -> pd.DataFrame:
    """One row per funded initiative, for people."""
    unit = cvd.committed.value_unit

    def status(r: Delivered) -> str:
        text = f"late by {r.late_by} quarter{'s' if r.late_by != 1 else ''}" if r.status == LATE else r.status
        return text if r.due == cvd.quarter else f"{text} (due {r.due})"

    out = pd.DataFrame({
        "Initiative": [r.name for r in cvd.rows],
        "Outcome": [status(r) for r in cvd.rows],
        "Effort planned": [number(r.effort_planned) for r in cvd.rows],
        "Effort spent": [number(r.effort_spent) for r in cvd.rows],
        "Value expected": [number(r.value_expected) for r in cvd.rows],
        "Value measured": ["not measured" if r.value_measured is None else number(r.value_measured)
                           for r in cvd.rows]})
    out.attrs["notes"] = (f"Effort in person-months (planned: the range's median); value in {unit} (expected: "
                          "E[reach] × E[impact] × confidence).",)
    out.attrs["numeric"] = tuple(out.columns[2:])
    return out


def summary_sentence(cvd: CommittedVsDelivered) -> str:
    """What happened to last quarter's plan, in one sentence."""
    n = len(cvd.rows)
    parts = [f"{cvd.count(ON_TIME)} on time", f"{cvd.count(LATE)} late"]
    if cvd.count(SHIPPED):
        parts.append(f"{cvd.count(SHIPPED)} delivered in an unrecorded quarter")
    parts += [f"{cvd.count(NOT_DELIVERED)} not delivered", f"{cvd.count(NO_ACTUAL)} with no actual yet"]
    return (f"Last quarter's plan ({cvd.quarter}, due then unless noted) funded {n} initiative{'s' if n != 1 else ''}: "
            f"{cvd.delivered} delivered ({', '.join(parts[:2])}), " + ", ".join(parts[2:]) + ".")


def value_sentence(cvd: CommittedVsDelivered) -> str:
    """The value forecast against the value measured, with the forecast's 95% error."""
    c = cvd.committed
    value, n = cvd.measured_value()
    forecast = (f"Forecast: expected value {pm(c.expected_value, Z95 * c.expected_value_se)} {c.value_unit}, "
                f"p10–p90 {number(c.p10)} to {number(c.p90)}.")
    measured = ("Measured: not measured." if value is None
                else f"Measured: {amount(value, c.value_unit)} (reach × impact after launch).")
    caveat = ("" if c.confidence_mode == "success" else
              f" Last quarter's value counted confidence in {c.confidence_mode} mode, not as the chance of "
              "delivery, so it is not the same quantity as the value measured.")
    return f"{forecast} {measured} {cvd.verdict()}{caveat}"


# --- the report's section ------------------------------------------------------------------------------

TITLE = "Committed vs delivered"


def for_job(job, names: dict[str, str] | None = None) -> tuple[CommittedVsDelivered | None, str]:
    """(last quarter's plan against its actuals, "") for a report job (`run.ReportJob`) with the
    `actuals` and `previous_report` parameters, else (None, the line saying which to give)."""
    from ..io.history import read_actuals
    from ..io.read import load_portfolio

    actuals, previous_report = getattr(job, "actuals", ""), getattr(job, "previous_report", "")
    if not actuals or not previous_report:
        missing = [p for p, v in (("actuals", actuals), ("previous_report", previous_report)) if not v]
        return None, (f"Give {' and '.join(missing)} (last quarter's report JSON and the file of what happened) to "
                      "compare last quarter's plan with what it delivered.")
    committed = read_previous_report(previous_report)
    quarter = plan_quarter(committed, job.quarter)
    if quarter is None:
        return None, (f"The report's quarter {job.quarter!r} is not a quarter and last quarter's report does not say "
                      "its own: no quarter to read the actuals of.")
    previous = load_portfolio(job.previous_portfolio) if job.previous_portfolio else None
    return committed_vs_delivered(committed, read_actuals(actuals), quarter, previous=previous, names=names,
                                  actuals_file=actuals), ""


def read_box() -> str:
    """The section's "How to read this" box: the explain topic "committed" when there is one."""
    from ..views import explain
    from . import sections as sec

    if "committed" in getattr(explain, "TOPICS", ()):
        return sec.read_box("committed")
    return f'<aside class="how-to-read"><b>How to read this.</b> {_e(READ_TEXT)}</aside>'


CHART_HEIGHT = 160  # px: the coverage chart is a summary here, not the page's main figure


def calibration_chart(report) -> str:
    """The coverage chart of `views.calibration_charts` as inline SVG, kept short ("" when that
    module is not available)."""
    try:
        from ..views.calibration_charts import coverage_chart
    except ImportError:
        return ""
    from .sections import chart_html

    chart = coverage_chart(report)
    try:
        chart = chart.properties(height=CHART_HEIGHT)
    except Exception:  # a chart kind that takes no height (a concatenation): as drawn
        pass
    return chart_html(chart)


def committed_section(cvd: CommittedVsDelivered | None, missing: str = "", *, chart: bool = False) -> str:
    """The report's "Committed vs delivered" section as escaped HTML: the outcome of each funded
    initiative, the value forecast against the value measured, and the calibration of that
    quarter's estimates (with `chart`, its coverage chart too: the quarterly report leaves it out,
    the table holds its figures and the report's page budget has no room for both); without the
    inputs, the line saying which parameter to give."""
    from ..views.tables import table_html
    from . import sections as sec

    if cvd is None:
        return sec.section(TITLE, f'<p class="nothing-to-show">{_e(missing)}</p>')
    table = table_html(delivered_table(cvd))
    first = f"<p>{_e(summary_sentence(cvd))} {_e(value_sentence(cvd))}</p>"
    out = sec.section(TITLE, first, table, read=read_box())
    title = f"How good were the estimates of {cvd.quarter}?"
    if cvd.calibration is None:
        return out + sec.sub(title, sec.paragraph(cvd.calibration_note, note=True))
    line = delivery_line(cvd.calibration)
    table = table_html(calibration_table(cvd.calibration), notes=(line,) if line else ())
    return out + sec.sub(title, table, calibration_chart(cvd.calibration) if chart else "")

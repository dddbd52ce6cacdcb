"""The bundled synthetic history: eight quarters of the demo company's planning and what happened.

"Ledgerly" (the demo portfolio's B2B invoicing product) has five teams. Each quarter's file holds
that quarter's candidates (about 28: new ones, a few of last quarter's unfunded ones proposed again,
and in 2026Q3 some of the demo's 2026Q4 candidates as typed then), estimated the way people write
them (mostly 90% ranges `a..b`, some `pert(...)` and single numbers, impact words, confidence as 80%
or a word), with an `estimator` column. The funded ones, marked `planned`, are the workbench's own
recommended plan that quarter (`funded`: a budget of 60% of the fundable candidates' median effort);
only they were worked on, so only they have actuals. The actuals follow a known process, the ground
truth the tests check:

- an actual is the stated estimate's quantile at Φ(b/s + k·Z), Z standard normal, where s is the
  stated range's log-scale spread ((ln q95 − ln q05) / 3.29) and (b, k) the team's bias and
  widening per factor; a point estimate's actual is its value × exp(b + k·s₀·Z) with s₀ a nominal
  spread. So for a lognormal range ln(actual / median) ~ N(b, k·s), and a central p-interval is hit
  with probability P(|b/s + k·Z| ≤ z_p).
- Growth is overconfident: effort b = ln 1.3, k = 2 on ranges stated with s = 0.25 (true σ = 0.5,
  stated σ/2) and on points with s₀ = 0.25; reach b = ln 0.7, k = 2; stated confidence 80-90%,
  delivered about 55% of the time.
- Platform is well calibrated: b = 0, k = 1 (actuals drawn from the stated distributions
  themselves), delivered at the stated rate. Payments, Data and Mobile are mildly off.
- Delivery: with probability g(stated mean confidence), the team's g, by systematic sampling (see
  `_delivers`). A delivered initiative ships in its planned start quarter plus
  ceil(actual effort / pace) − 1 (pace: its max_per_quarter, else the stated 90th percentile of
  effort). One that would ship after the last quarter is, at the time of the data, not delivered
  yet. An undelivered one records the effort spent so far and no reach or impact.
- Measurement is patchy: about 5% of efforts, 20% of reaches and 30% of impacts are blank.

`write_bundled(directory)` writes `<QUARTER>.csv` per quarter, `actuals.csv` and the last quarter's
real report record `<QUARTER>.report.json`; `python -m workbench.calibration.synthetic DIR` does it.
Every draw comes from `rng.stream(seed, "synthetic-history", ...)`."""

from __future__ import annotations

import json
import math
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import special, stats

from ..io.columns import slug
from ..model.estimates import Estimate, parse_estimate
from ..model.portfolio import Initiative, Portfolio
from ..model.quarters import parse_quarter, quarter_label
from ..rng import stream
from .history import ACTUAL_COLUMNS, Actual
from .synthetic_teams import TEAMS, Team

if TYPE_CHECKING:
    from ..settings import Settings

FIRST_QUARTER = "2024Q4"
DEMO_PREVIOUS_QUARTER = "2026Q3"  # the quarter before the demo portfolio's (its candidates for 2026Q4)
BUDGET_SHARE = 0.6  # a quarter's budget: this share of the total median effort of its fundable candidates
PLAN_SAMPLES, PLAN_SCENARIOS = 4_000, 300
# Demo candidates first proposed in DEMO_PREVIOUS_QUARTER and left unfunded there (low priority: won't
# have this time, or could have and not chosen by the plan), as typed then where that differs from the
# demo (re-estimated since); moscow "could" unless given.
RETURNING: dict[str, dict[str, str]] = {
    "data-residency": {"moscow": "won't"},
    "tax-engine": {"effort": "pert(5, 8, 14)", "moscow": "won't"},
    "offline-mode": {"moscow": "won't"},
    "warehouse-sync": {"reach": "200..600"},
    "receipt-scan": {"confidence": "40%"},
    "smart-dunning": {"confidence": "30%", "effort": "2..4"},
    "audit-log": {"confidence": "60%"},
}
Z95 = float(stats.norm.ppf(0.95))
ACTUALS_COLUMNS = ("id", "quarter", *ACTUAL_COLUMNS)


IMPACT_CHOICES = ("massive", "high", "medium", "low", "minimal")
IMPACT_WEIGHTS = (0.1, 0.3, 0.35, 0.2, 0.05)
IMPACT_RANGES = ("low..medium", "low..high", "medium..high", "high..massive", "0.5..2", "1..3")
POINT_SD = {"effort": 0.25, "reach": 0.35, "impact": 0.35}  # true log spread around a single number (k=1)


def _nice(x: float) -> float:
    """`x` to two significant digits (as people write 2.3, 45, 1200)."""
    if x <= 0:
        return x
    digits = 1 - int(math.floor(math.log10(x)))
    return round(x, digits) if digits > 0 else float(round(x, digits))


def _num(x: float, scaled: bool = False) -> str:
    """A number as typed: '2.5', '12', '1.2k' (with `scaled`, thousands as k)."""
    if scaled and x >= 1000:
        return f"{x / 1000:g}k"
    return f"{x:g}"


def _team_counts(per_quarter: int) -> dict[str, int]:
    """Initiatives per team in a quarter: the teams' shares of `per_quarter` (largest remainders)."""
    shares = np.array([t.share for t in TEAMS.values()], float)
    exact = shares / shares.sum() * per_quarter
    counts = np.floor(exact).astype(int)
    counts[np.argsort(-(exact - counts), kind="stable")[: per_quarter - counts.sum()]] += 1
    return dict(zip(TEAMS, counts.tolist()))


def _names(seed: int, team: str, count: int) -> list[str]:
    """`count` initiative names of a team, in a seeded order; a follow-up 'phase 2' when they run out."""
    pool = list(TEAMS[team].names)
    order = stream(seed, "synthetic-history", "names", team).permutation(len(pool))
    shuffled = [pool[i] for i in order]
    return [shuffled[i % len(pool)] + (f" (phase {i // len(pool) + 1})" if i >= len(pool) else "")
            for i in range(count)]


def _effort_text(rng: np.random.Generator, team: Team, median: float) -> tuple[str, float]:
    """An effort as the team writes it, and its stated log spread s (0 for a single number)."""
    s = float(rng.uniform(*team.effort_sd))
    form = rng.choice(3, p=team.forms)
    if form == 0:
        lo, hi = _nice(median * math.exp(-Z95 * s)), _nice(median * math.exp(Z95 * s))
        return f"{_num(lo)}..{_num(hi)}", s
    if form == 1:
        mode = _nice(median)
        lo, hi = _nice(mode * math.exp(-Z95 * s * 0.9)), _nice(mode * math.exp(Z95 * s * 1.5))
        return f"pert({_num(lo)}, {_num(mode)}, {_num(max(hi, mode * 1.2))})", s
    return _num(_nice(median)), 0.0


def _reach_text(rng: np.random.Generator, team: Team, median: float) -> str:
    scaled = bool(rng.random() < 0.4)
    if rng.random() < 0.2:
        return _num(_nice(median), scaled)
    s = float(rng.uniform(*team.reach_sd))
    lo, hi = _nice(median * math.exp(-Z95 * s)), _nice(median * math.exp(Z95 * s))
    return f"{_num(lo, scaled)}..{_num(hi, scaled)}"


def _impact_text(rng: np.random.Generator) -> str:
    if rng.random() < 0.65:
        return str(rng.choice(IMPACT_CHOICES, p=IMPACT_WEIGHTS))
    return str(rng.choice(IMPACT_RANGES))


def _spread(estimate: Estimate) -> float:
    """The stated log-scale spread s = (ln q95 − ln q05) / (2·1.645); 0 for a single number."""
    if estimate.is_point:
        return 0.0
    q05, q95 = estimate.ppf([0.05, 0.95])
    return float((math.log(q95) - math.log(q05)) / (2 * Z95))


def true_value(estimate: Estimate, factor: str, bias: float, widen: float, z: float) -> float:
    """The ground-truth actual of one estimate for a standard normal draw `z` (see the module docstring)."""
    s = _spread(estimate)
    if s == 0:
        return estimate.median() * math.exp(bias + widen * POINT_SD[factor] * z)
    u = special.ndtr(bias / s + widen * z)
    return float(estimate.ppf(min(max(u, 1e-9), 1 - 1e-9)))


def _initiative(rng: np.random.Generator, name: str, team_name: str, quarter: str, last: bool) -> Initiative:
    team = TEAMS[team_name]
    effort_text, _ = _effort_text(rng, team, float(np.clip(rng.lognormal(math.log(3), 0.55), 0.5, 14)))
    effort = parse_estimate(effort_text, "effort")
    extra_fields: dict = {}
    if rng.random() < 0.3:  # a roadmap start, sometimes the next quarter (never beyond the data)
        ahead = 1 if (rng.random() < 0.3 and not last) else 0
        extra_fields["planned_quarter"] = quarter_label(parse_quarter(quarter) + ahead)
    if rng.random() < 0.25:  # work that cannot be parallelized: one or two quarters at the planned pace
        extra_fields["max_per_quarter"] = _nice(max(float(effort.ppf(0.9)) / rng.choice([1, 2]), 0.5))
    moscow = rng.choice(["must", "should", "could", ""], p=[0.15, 0.4, 0.3, 0.15])
    cost = float(_nice(rng.lognormal(math.log(20_000), 0.8))) if rng.random() < 0.1 else None
    return Initiative(
        id=slug(name), name=name,
        reach=parse_estimate(_reach_text(rng, team, float(rng.lognormal(math.log(2500), 0.8))), "reach"),
        impact=parse_estimate(_impact_text(rng), "impact"),
        confidence=parse_estimate(str(rng.choice(team.confidence)), "confidence"),
        effort=effort, team=team_name, theme=str(rng.choice(team.themes)), moscow=str(moscow) or None,
        cost=cost, **extra_fields, extra={"estimator": str(rng.choice(team.estimators))})


def _round_effort(x: float) -> float:
    return max(round(x, 1), 0.1) if x >= 1 else max(round(x, 2), 0.01)


def _delivers(tally: dict[str, float], ini: Initiative) -> bool:
    """Whether `ini` delivers, by systematic sampling within its team: the team's running sum of true
    delivery probabilities (from a uniform start in `tally`) crosses an integer. Each initiative
    delivers with exactly its probability g(stated) (the start is uniform), and a team's count stays
    within one of its expectation, so the demo's delivery rates do not hinge on luck."""
    team = TEAMS[ini.team]
    p = float(np.clip(team.delivery[0] + team.delivery[1] * ini.confidence.mean(), 0.02, 0.98))
    before, tally[ini.team] = tally[ini.team], tally[ini.team] + p
    return math.floor(tally[ini.team]) > math.floor(before)


def _actual(rng: np.random.Generator, ini: Initiative, quarter: str, last_quarter: int, line: int,
            delivers: bool) -> Actual:
    """What happened to `ini` of `quarter`, drawn from its team's ground truth."""
    team = TEAMS[ini.team]
    z = rng.standard_normal(3)
    total = true_value(ini.effort, "effort", *team.effort, z[0])
    reach = true_value(ini.reach, "reach", *team.reach, z[1])
    impact = true_value(ini.impact, "impact", *team.impact, z[2])
    blanks = rng.random(3) < (0.05, 0.2, 0.3)
    spent_share = float(rng.uniform(0.2, 0.9))
    start = parse_quarter(ini.planned_quarter or quarter)
    pace = ini.max_per_quarter or float(ini.effort.ppf(0.9)) * (1.2 if ini.effort.is_point else 1.0)
    duration = max(1, math.ceil(total / pace - 1e-9))
    shipped = start + duration - 1
    if delivers and shipped > last_quarter:  # still running when the data was collected
        delivers, spent_share = False, (last_quarter - start + 1) / duration
    values: dict = {"delivered": bool(delivers)}
    if not blanks[0]:
        values["actual_effort"] = _round_effort(total if delivers else max(total * spent_share, 0.05))
    if delivers:
        values["delivered_quarter"] = quarter_label(shipped)
        if not blanks[1]:
            values["actual_reach"] = float(round(reach))
        if not blanks[2]:
            values["actual_impact"] = round(impact, 2)
    return Actual(ini.id, quarter, line=line, **values)


def plan_settings(portfolio: Portfolio, seed: int = 2026) -> Settings:
    """The settings a quarter's plan was made with: a budget of BUDGET_SHARE of the total median effort
    of the candidates that may be funded (not won't-haves; person-months, rounded), PLAN_SAMPLES draws
    and PLAN_SCENARIOS scenarios."""
    from ..settings import Settings

    budget = float(round(BUDGET_SHARE * sum(i.effort.median() for i in portfolio if i.moscow != "won't")))
    return Settings(budget=budget, samples=PLAN_SAMPLES, scenarios=PLAN_SCENARIOS, seed=seed)


def funded(portfolio: Portfolio, seed: int = 2026) -> tuple[str, ...]:
    """The ids the workbench's recommended plan funds with `plan_settings`: what the team worked on."""
    from .. import run

    return tuple(run(portfolio, plan_settings(portfolio, seed)).plan.selected)


def _returning(seed: int) -> list[Initiative]:
    """The demo's next-quarter candidates already proposed (and left unfunded) in DEMO_PREVIOUS_QUARTER,
    as typed then (RETURNING), without dependencies or exclusions (their targets were not candidates)."""
    from ..io.read import demo_portfolio

    demo, rng = demo_portfolio(), stream(seed, "synthetic-history", "returning")
    out = []
    for id_, typed in RETURNING.items():
        ini = demo[id_]
        estimates = {f: parse_estimate(text, f) for f, text in typed.items() if f != "moscow"}
        out.append(replace(ini, **estimates, moscow=typed.get("moscow", "could"), depends_on=(), excludes=(),
                           planned=False, extra={"estimator": str(rng.choice(TEAMS[ini.team].estimators))}))
    return out


def _carried(rng: np.random.Generator, previous: tuple[Initiative, ...], quarter: str, count: int
             ) -> list[Initiative]:
    """`count` of last quarter's unfunded candidates proposed again (as typed then; a planned start
    in the past moves to this quarter)."""
    left = [i for i in previous if not i.planned and i.id not in RETURNING]
    chosen = [left[j] for j in sorted(rng.choice(len(left), min(count, len(left)), replace=False))]
    now = parse_quarter(quarter)
    return [replace(i, planned_quarter=quarter if i.planned_quarter and parse_quarter(i.planned_quarter) < now
                    else i.planned_quarter) for i in chosen]


def synthetic_history(seed: int = 2026, quarters: int = 8, per_quarter: int = 28
                      ) -> tuple[list[tuple[str, Portfolio]], list[Actual]]:
    """(quarter label, Portfolio) per quarter from 2024Q4 on, and their actuals (lines as in actuals.csv).

    Each quarter holds about `per_quarter` candidates (±2 when 20 or more): new ones, a few of last quarter's
    unfunded ones proposed again, and in DEMO_PREVIOUS_QUARTER the RETURNING demo candidates. The
    funded ones (`funded`: the workbench's recommended plan) are marked `planned`; only they were
    worked on, so only they have actuals."""
    first, last = parse_quarter(FIRST_QUARTER), parse_quarter(FIRST_QUARTER) + quarters - 1
    names = {team: iter(_names(seed, team, 4 * per_quarter * quarters)) for team in TEAMS}
    portfolios: list[tuple[str, Portfolio]] = []
    actuals: list[Actual] = []
    previous: tuple[Initiative, ...] = ()
    tally = {team: float(stream(seed, "synthetic-history", "delivery", team).random()) for team in TEAMS}
    for k in range(quarters):
        quarter = quarter_label(first + k)
        rng = stream(seed, "synthetic-history", "estimates", quarter)
        size = per_quarter + (int(rng.integers(-2, 3)) if per_quarter >= 20 else 0)
        kept = _carried(rng, previous, quarter, per_quarter // 9) if previous else []
        kept += _returning(seed) if quarter == DEMO_PREVIOUS_QUARTER else []
        counts = _team_counts(max(size - len(kept), 1))
        rows = [(team, next(names[team])) for team in TEAMS for _ in range(counts[team])]
        rows = [rows[i] for i in rng.permutation(len(rows))]  # a file's rows are in no team order
        fresh = [_initiative(rng, name, team, quarter, first + k == last) for team, name in rows]
        candidates = [fresh[i] if i < len(fresh) else kept[i - len(fresh)]
                      for i in rng.permutation(len(fresh) + len(kept))]
        chosen = set(funded(Portfolio(tuple(candidates)), seed))
        initiatives = tuple(replace(i, planned=i.id in chosen) for i in candidates)
        portfolios.append((quarter, Portfolio(initiatives, source=f"{quarter}.csv")))
        outcome = stream(seed, "synthetic-history", "actuals", quarter)
        actuals += [_actual(outcome, ini, quarter, last, len(actuals) + 2 + n, _delivers(tally, ini))
                    for n, ini in enumerate(i for i in initiatives if i.planned)]
        previous = initiatives
    return portfolios, actuals


def actuals_csv(actuals: list[Actual]) -> str:
    """The actuals as the CSV text the bundled `actuals.csv` holds."""
    from ..io.write import csv_text

    records = [{c: getattr(a, c) for c in ACTUALS_COLUMNS} for a in actuals]
    return csv_text(list(ACTUALS_COLUMNS), records)


def write_bundled(directory: str | Path, seed: int = 2026) -> list[Path]:
    """Write the synthetic history into `directory`: `<QUARTER>.csv` per quarter, `actuals.csv`, and
    the last quarter's real report record `<QUARTER>.report.json`: the run of that file with the
    `plan_settings` that funded it (input stored as the file name so the directory can move).
    Returns the files written."""
    from .. import run
    from ..io.files import write_atomic
    from ..io.read import load_portfolio
    from ..io.write import save_portfolio
    from ..reports.content import report_record

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    portfolios, actuals = synthetic_history(seed)
    written = [save_portfolio(p, directory / f"{q}.csv") for q, p in portfolios]
    write_atomic(directory / "actuals.csv", actuals_csv(actuals))
    written.append(directory / "actuals.csv")
    quarter, path = portfolios[-1][0], written[len(portfolios) - 1]
    portfolio = load_portfolio(path)
    outcome = run(portfolio, plan_settings(portfolio, seed))
    if set(outcome.plan.selected) != {i.id for i in portfolios[-1][1] if i.planned}:  # the file is not what ran
        raise RuntimeError(f"{path.name}: its plan differs from the funded initiatives the generator drew")
    record = report_record(outcome, str(path))
    record["input"], record["quarter"] = path.name, quarter
    report = directory / f"{quarter}.report.json"
    write_atomic(report, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return [*written, report]


def main(argv: list[str] | None = None) -> int:
    """`python -m workbench.calibration.synthetic DIR`: regenerate the bundled history into DIR."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m workbench.calibration.synthetic DIR", file=sys.stderr)
        return 2
    for path in write_bundled(args[0]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

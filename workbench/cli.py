"""The `workbench` command line: a thin layer over the public API.

Exit codes: 0 success; 2 bad input or usage (one line per problem on stderr, no traceback);
1 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

import numpy as np

from . import __version__
from .errors import InputError
from .output import csv_safe, format_number, terminal_text, text_table, to_json, write_atomic
from .optimization import OBJECTIVES, Frontier, SolverError, frontier_of, optimize
from .plans import Plan
from .portfolio import Portfolio, demo_portfolio, load_portfolio
from .reports import ReportError
from .results import SimulationResult
from .sample import METHODS
from .sensitivity.sweeps import budget_range
from .simulation import CONFIDENCE_MODES, MAX_PRECISION_SAMPLES, simulate


class UsageError(Exception):
    """Wrong combination of arguments; reported like argparse does, exit 2."""


def _positive_int(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", "").replace(",", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def _precision(text: str) -> float:
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a probability half-width such as 0.01, got {text!r}") from None
    if not 0 < value < 0.5:
        raise argparse.ArgumentTypeError(f"must be between 0 and 0.5 (e.g. 0.01), got {text!r}")
    return value


def _fraction(text: str) -> float:
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    return value


def _team_capacity(text: str) -> tuple[str, float]:
    name, sep, value = text.rpartition("=")
    try:
        number = float(value)
    except ValueError:
        number = None
    if not sep or not name.strip() or number is None:
        raise argparse.ArgumentTypeError(f"expected TEAM=N such as Payments=12, got {text!r}")
    return name.strip(), number


def _theme_share(text: str) -> tuple[str, tuple[float, float]]:
    name, sep, value = text.rpartition("=")
    lo, colon, hi = value.partition(":")
    try:
        bounds = (_fraction(lo), _fraction(hi))
    except ValueError:
        bounds = None
    if not sep or not colon or not name.strip() or bounds is None:
        raise argparse.ArgumentTypeError(f"expected THEME=LO:HI such as Growth=0.3:0.6 or Growth=30%:60%, got {text!r}")
    return name.strip(), bounds


def _number(kind: str):
    def parse(text: str) -> float:
        try:
            return _fraction(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
    return parse


def _add_portfolio_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("portfolio", nargs="?", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    p.add_argument("--demo", action="store_true", help="use the bundled demo portfolio")
    p.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx file (default: the first)")
    p.add_argument("--correlations", metavar="FILE", help="CSV of rank correlations (columns a, b, rho)")


def _add_plan_args(p: argparse.ArgumentParser) -> None:
    """The portfolio, the constraints and the objective: shared by optimize and sensitivity."""
    _add_portfolio_args(p)
    p.add_argument("--budget", type=_number("a number"), required=True, metavar="B",
                   help="budget in person-months (or in the cost column's unit with --budget-column cost)")
    p.add_argument("--budget-column", choices=("effort", "cost"), default="effort",
                   help="what the budget limits: effort (default) or the cost column")
    p.add_argument("--objective", choices=OBJECTIVES, default="mean",
                   help="mean: expected value; cvar: mean of the worst alpha scenarios; blend: mean + lambda*CVaR")
    p.add_argument("--alpha", type=_number("a fraction such as 0.1"), default=0.1, metavar="A",
                   help="CVaR tail: the worst A fraction of scenarios (default 0.1)")
    p.add_argument("--lambda", dest="lam", type=_number("a number"), default=1.0, metavar="L",
                   help="weight of CVaR in the blend objective (default 1)")
    p.add_argument("--scenarios", type=_positive_int(2), default=1000, metavar="S", help="scenarios to optimize over (default 1,000)")
    p.add_argument("--seed", type=_positive_int(0), metavar="S", help="random seed (default: a fresh one, printed)")
    p.add_argument("--method", choices=METHODS, default="mc", help="scenario sampling: mc, lhs or sobol")
    p.add_argument("--confidence-mode", choices=CONFIDENCE_MODES, default="success")
    p.add_argument("--capacity", type=_team_capacity, action="append", default=[], metavar="TEAM=N",
                   help="a team's capacity in person-months (repeatable)")
    p.add_argument("--theme-share", type=_theme_share, action="append", default=[], metavar="THEME=LO:HI",
                   help="bounds on a theme's share of the spend, e.g. Growth=0.3:0.6 (repeatable)")
    p.add_argument("--max-count", type=_positive_int(1), metavar="N", help="fund at most N initiatives")
    p.add_argument("--effort-quantile", type=_number("a fraction such as 0.8"), default=0.5, metavar="Q",
                   help="count each effort at this quantile of its estimate (default 0.5; 0.8 = conservative)")
    p.add_argument("--time-limit", type=_number("seconds"), default=60.0, metavar="SEC", help="solver time limit per solve (default 60)")


def _add_output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE (atomically) instead of standard output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Decision-analysis workbench for product portfolios.")
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    score = sub.add_parser("score", help="probabilistic RICE: score intervals and P(top-k) for every initiative",
                           description="Simulate RICE scores under uncertainty and rank the initiatives.")
    _add_portfolio_args(score)
    how_many = score.add_mutually_exclusive_group()
    how_many.add_argument("--samples", type=_positive_int(2), default=10_000, metavar="N", help="scenarios to draw (default 10,000)")
    how_many.add_argument("--precision", type=_precision, metavar="P",
                          help="sample until every P(top-k) has a 95%% half-width <= P (e.g. 0.01)")
    score.add_argument("--max-samples", type=_positive_int(2), default=MAX_PRECISION_SAMPLES, metavar="N",
                       help="cap for --precision (default 10,000,000)")
    score.add_argument("--seed", type=_positive_int(0), metavar="S", help="random seed (default: a fresh one, printed)")
    score.add_argument("--method", choices=METHODS, default="mc", help="mc, lhs (Latin hypercube) or sobol (default mc)")
    score.add_argument("--confidence-mode", choices=CONFIDENCE_MODES, default="success",
                       help="success: Bernoulli(C) delivery; multiplier: classic RICE; spread: C widens estimates")
    score.add_argument("--top-k", type=_positive_int(1), default=5, metavar="K", help="report P(rank <= K) (default 5)")
    _add_output_args(score)
    score.set_defaults(handler=_score)

    opt = sub.add_parser("optimize", help="the best set of initiatives under budget, capacities and risk",
                         description="Choose which initiatives to fund: exact MILP over simulated scenarios.")
    _add_plan_args(opt)
    opt.add_argument("--plan", metavar="IDS", help="your current plan, ids separated by commas (default: the planned column)")
    opt.add_argument("--frontier", action="store_true", help="also compute the efficient frontier of value vs CVaR")
    _add_output_args(opt)
    opt.set_defaults(handler=_optimize)

    sens = sub.add_parser("sensitivity", help="budget sweeps, tornado, Sobol indices and the value of information",
                          description="How the recommended plan depends on the budget and on each assumption.")
    _add_plan_args(sens)
    sens.add_argument("--budget-range", metavar="A:B:STEP", help="optimal plan at each budget, e.g. 20:120:5")
    sens.add_argument("--split", metavar="THEME_OR_TEAM",
                      help="share of the budget given to one theme or team (theme:X / team:X if ambiguous), 0-100%%")
    sens.add_argument("--tornado", action="store_true", help="p10-p90 swings of the plan's value, and switch points")
    sens.add_argument("--sobol", action="store_true", help="Sobol indices of the plan's value, by initiative")
    sens.add_argument("--voi", action="store_true", help="EVPI and per-initiative EVPPI: what to research first")
    _add_output_args(sens)
    sens.set_defaults(handler=_sensitivity)

    rep = sub.add_parser("report", help="quarterly report or budget-sensitivity report (notebook + offline HTML)",
                         description="Run a template notebook with papermill and export it to self-contained HTML.")
    rep.add_argument("kind", choices=("quarterly", "sensitivity"), help="which report")
    rep.add_argument("--portfolio", action="append", default=[], metavar="FILE",
                     help="portfolio file (repeatable: one report per portfolio)")
    rep.add_argument("--demo", action="store_true", help="use the bundled demo portfolio")
    rep.add_argument("--quarter", action="append", required=True, metavar="Q",
                     help="quarter label such as 2026Q4 (repeatable: paired with --portfolio)")
    rep.add_argument("--budget", required=True, metavar="B", help="budget in person-months")
    rep.add_argument("--capacity", type=_team_capacity, action="append", default=[], metavar="TEAM=N",
                     help="a team's capacity in person-months (repeatable)")
    rep.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="any other template parameter, e.g. samples=50000 or objective=cvar (repeatable)")
    rep.add_argument("--output-dir", "-o", default="reports", metavar="DIR", help="where to write (default: reports/)")
    rep.set_defaults(handler=_report)
    return parser


def _portfolio(args) -> Portfolio:
    if args.demo and args.portfolio:
        raise UsageError("give either a PORTFOLIO file or --demo, not both")
    if not args.demo and not args.portfolio:
        raise UsageError("give a PORTFOLIO file (.csv, .xlsx, .yaml) or --demo")
    if args.demo:
        if args.sheet or args.correlations:
            raise UsageError("--sheet and --correlations apply to a PORTFOLIO file, not --demo")
        return demo_portfolio()
    return load_portfolio(args.portfolio, sheet=args.sheet, correlations=args.correlations)


class _Progress:
    """A tqdm bar on standard error when it is a terminal; silent otherwise."""

    def __init__(self, desc: str):
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(desc=desc, unit=" samples", unit_scale=True, file=sys.stderr, leave=False)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.total = max(total, done)
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _score(args) -> str:
    portfolio = _portfolio(args)
    if args.top_k > len(portfolio):
        raise UsageError(f"--top-k {args.top_k} is more than the {len(portfolio)} initiatives of the portfolio")
    progress = _Progress("simulating")
    try:
        result = simulate(portfolio, samples=args.samples, seed=args.seed, method=args.method,
                          confidence_mode=args.confidence_mode, precision=args.precision, top_k=args.top_k,
                          max_samples=args.max_samples, progress=progress)
    finally:
        progress.close()
    if args.format == "json":
        return to_json(result.to_dict(args.top_k))
    if args.format == "csv":
        frame = result.summary(args.top_k).reset_index()
        return csv_safe(frame).to_csv(index=False, lineterminator="\n")
    return score_table(result, args.top_k)


def _optimize(args) -> str:
    portfolio = _portfolio(args)
    plan_ids = [i.strip() for i in args.plan.split(",") if i.strip()] if args.plan else None
    plan = _plan_from_args(args, portfolio, plan_ids)
    front = None
    if args.frontier:
        progress = _Progress("frontier")
        try:
            front = frontier_of(plan.problem, plan.scenarios, alpha=args.alpha, time_limit=args.time_limit,
                                progress=progress)
        finally:
            progress.close()
    if args.format == "json":
        return to_json(plan_record(plan, front))
    if args.format == "csv":
        frame = front.to_frame() if front is not None else plan.to_frame().reset_index()
        return csv_safe(frame).to_csv(index=False, lineterminator="\n")
    return plan_table(plan, front)


def _plan_from_args(args, portfolio: Portfolio, plan_ids=None) -> Plan:
    return optimize(portfolio, args.budget, args.objective, alpha=args.alpha, lam=args.lam, scenarios=args.scenarios,
                    seed=args.seed, method=args.method, confidence_mode=args.confidence_mode,
                    capacities=dict(args.capacity), theme_shares=dict(args.theme_share), max_count=args.max_count,
                    effort_quantile=args.effort_quantile, budget_column=args.budget_column, plan=plan_ids,
                    time_limit=args.time_limit)


def _sensitivity(args) -> str:
    from .sensitivity import analyze

    portfolio = _portfolio(args)
    budgets = budget_range(args.budget_range) if args.budget_range else None
    plan = _plan_from_args(args, portfolio)
    asked = dict(budget_sweep=budgets is not None, split=args.split, tornado=args.tornado,
                 sobol=args.sobol, voi=args.voi)
    if not any(asked.values()):  # nothing asked: the two analyses every session starts with
        budgets = np.linspace(0.5, 1.5, 11) * args.budget
        asked.update(budget_sweep=True, tornado=True)
    progress = _Progress("sensitivity")
    try:
        report = analyze(plan, budgets=budgets if asked["budget_sweep"] else None, split=args.split,
                         tornado=args.tornado or asked["tornado"], sobol=args.sobol, voi=args.voi,
                         seed=plan.scenarios.seed, progress=progress)
    finally:
        progress.close()
    if args.format == "json":
        return to_json(report.to_dict())
    if args.format == "csv":
        return csv_safe(report.main_table()).to_csv(index=False, lineterminator="\n")
    return report.to_text(plan_table(plan))


def report_names(pairs: list[tuple[str, str]], kind: str) -> list[str]:
    """One output name per (portfolio, quarter) job: the quarter; with the portfolio's file name
    when quarters repeat; numbered when even that repeats (a/q.csv and b/q.csv). No two reports
    of one run may share a name, or one would overwrite the other."""
    by_quarter = len({q for _, q in pairs}) == len(pairs)
    names = [f"{q}-{kind}" if by_quarter else f"{q}-{Path(p).stem if p else 'demo'}-{kind}" for p, q in pairs]
    return [f"{n}-{names[:k].count(n) + 1}" if names.count(n) > 1 else n for k, n in enumerate(names)]


def _report(args) -> str:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from .reports import ReportError, run_report, validate_parameters

    if args.demo and args.portfolio:
        raise UsageError("give either --portfolio FILE or --demo, not both")
    portfolios = [""] if args.demo else args.portfolio
    if not portfolios:
        raise UsageError("give --portfolio FILE (repeatable) or --demo")
    quarters = args.quarter
    if len(portfolios) == len(quarters):
        pairs = list(zip(portfolios, quarters))
    elif len(portfolios) == 1 or len(quarters) == 1:
        pairs = [(p, q) for p in portfolios for q in quarters]
    else:
        raise UsageError(f"{len(portfolios)} portfolios and {len(quarters)} quarters: give as many of each, or one of either")
    extra = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        extra[key.strip()] = value
    jobs, problems = [], []
    for (portfolio, quarter), name in zip(pairs, report_names(pairs, args.kind)):
        params = {**extra, "portfolio": portfolio, "quarter": quarter, "budget": args.budget,
                  "capacities": dict(args.capacity)}
        try:  # every job is validated before any kernel starts
            jobs.append((name, validate_parameters(params)))
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    written, failures = [], []
    if len(jobs) == 1:
        name, params = jobs[0]
        try:
            written.append(run_report(args.kind, params, args.output_dir, name=name))
        except ReportError as e:
            failures.append((name, str(e)))
    else:
        progress = _Progress("reports")
        with ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
            futures = {pool.submit(run_report, args.kind, params, args.output_dir, name=name): name for name, params in jobs}
            for k, future in enumerate(as_completed(futures), start=1):
                try:
                    written.append(future.result())
                except Exception as e:  # one failure does not stop the others
                    failures.append((futures[future], str(e)))
                progress(k, len(jobs))
        progress.close()
    lines = [f"{html}\n{nb}" for nb, html in sorted(written)]
    summary = f"{len(written)} of {len(jobs)} reports written to {args.output_dir}"
    if failures:
        if lines:
            print("\n".join(lines), file=sys.stdout)
        raise ReportError(summary + "; failed:\n" + "\n".join(f"  {n}: {m}" for n, m in failures))
    return "\n".join(lines) + "\n" + (summary + "\n" if len(jobs) > 1 else "")


def plan_record(plan: Plan, front: Frontier | None = None) -> dict:
    """The JSON document of `workbench optimize`."""
    c = plan.problem.c
    out = {"status": plan.status, "objective": plan.objective, "budget": c.budget,
           "budget_column": c.budget_column, "scenarios": plan.scenarios.count, "seed": plan.scenarios.seed,
           "confidence_mode": plan.scenarios.confidence_mode, **plan.metrics(), "gap": plan.gap}
    if plan.lam is not None:
        out["lambda"] = plan.lam
    for key in ("greedy", "current"):
        other: Plan | None = getattr(plan, key)
        if other is not None:
            cmp = plan.comparisons[key]
            out[key] = {"selected": other.selected, "expected_value": other.expected_value, "cvar": other.cvar,
                        "violations": other.violations(), "expected_gain": cmp.expected_gain,
                        "expected_gain_se": cmp.gain_se, "p_optimal_better": cmp.p_better,
                        "p_optimal_better_se": cmp.p_better_se}
    if front is not None:
        out["frontier"] = front.to_records()
    return out


def _p(p: float, n: int) -> str:
    """A probability with its Monte Carlo standard error."""
    return f"{p:.3f} ± {np.sqrt(p * (1 - p) / n):.3f}"


def plan_table(plan: Plan, front: Frontier | None = None) -> str:
    """The human-readable plan printed by `workbench optimize`."""
    sc, prob, c = plan.scenarios, plan.problem, plan.problem.c
    unit = "person-months" if c.budget_column == "effort" else "(cost)"
    objective = {"mean": "expected value", "cvar": f"CVaR {c_alpha(plan)}",
                 "blend": f"expected value + {plan.lam or 0:g} × CVaR {c_alpha(plan)}"}[plan.objective]
    gap = "" if plan.gap is None else f", gap {plan.gap:.2%}"
    source = terminal_text(prob.portfolio.source or "portfolio")
    lines = [f"{source}: budget {format_number(c.budget)} {unit}, objective {objective}, {sc.count:,} scenarios "
             f"({sc.method}, seed {sc.seed}), confidence mode '{sc.confidence_mode}'",
             f"Solver: {plan.status}{gap}", ""]
    frame = plan.to_frame()
    rows = [[terminal_text(i, 24), terminal_text(r["name"], 40), terminal_text(r["team"] or "", 12),
             r["moscow"] or "", format_number(r["budget_used"]), format_number(r["expected_value"]),
             f"{r['value_share']:.0%}", f"{r['p_delivers']:.2f}"] for i, r in frame.iterrows()]
    lines += [f"Fund {len(frame)} initiatives:", "",
              text_table(rows, ["id", "initiative", "team", "MoSCoW", "budget", "E[value]", "share", "P(delivers)"],
                         "llllrrrr"), ""]
    p10, p50, p90 = plan.quantiles()
    lines.append(f"Value: expected {format_number(plan.expected_value)} ± {format_number(plan.expected_value_se)} "
                 f"(80% interval {format_number(p10)} – {format_number(p90)}, median {format_number(p50)}); "
                 f"CVaR {c_alpha(plan)} {format_number(plan.cvar)}")
    lines.append(f"Budget used: {format_number(plan.cost)} of {format_number(c.budget)} {unit}; "
                 f"total effort mean {format_number(float(plan.effort.mean()))} person-months")
    if plan.p_overrun is not None:
        lines.append(f"P(effort exceeds the budget): {_p(plan.p_overrun, sc.count)}")
    for team, p in plan.team_overrun().items():
        lines.append(f"P(team {terminal_text(team)} exceeds its capacity of {format_number(c.capacities[team])}): {_p(p, sc.count)}")
    for key, title in (("greedy", "Greedy by RICE"), ("current", "Your current plan")):
        other = getattr(plan, key)
        if other is None:
            continue
        cmp = plan.comparisons[key]
        lines += ["", f"{title}: {len(other.selected)} initiatives, expected value {format_number(other.expected_value)}"]
        broken = other.violations()
        if broken:
            lines.append("  breaks: " + "; ".join(terminal_text(b) for b in broken))
        lines.append(f"  the recommended plan gains {format_number(cmp.expected_gain)} ± {format_number(cmp.gain_se)} "
                     f"in expected value; P(it is worth more) {cmp.p_better:.3f} ± {cmp.p_better_se:.3f}")
    if front is not None:
        rows = [[str(k + 1), format_number(p.expected_value), format_number(p.cvar), str(len(p.selected)),
                 terminal_text(", ".join(p.selected), 90)] for k, p in enumerate(front.plans)]
        lines += ["", f"Efficient frontier ({len(front.plans)} plans, most risk-averse first):", "",
                  text_table(rows, ["#", "E[value]", f"CVaR {c_alpha(plan)}", "n", "initiatives"], "rrrrl")]
    lines += ["", f"± is one Monte Carlo standard error. Reproduce with --seed {sc.seed}."]
    return "\n".join(lines) + "\n"


def c_alpha(plan: Plan) -> str:
    return f"(worst {plan.alpha:.0%})"


def score_table(result: SimulationResult, top_k: int) -> str:
    """The human-readable ranking printed by `workbench score`."""
    s = result.summary(top_k)
    half = result.half_width(top_k)
    half_by_id = dict(zip(result.portfolio.ids, half))
    rows = []
    for rank, (id_, r) in enumerate(s.iterrows(), start=1):
        rows.append([str(rank), terminal_text(id_, 24), terminal_text(r["name"], 42), format_number(r["rice"]),
                     format_number(r["mean"]), f"{format_number(r['p10'])} – {format_number(r['p90'])}",
                     f"{r['p_top_k']:.3f}", f"±{half_by_id[id_]:.3f}", f"{r['expected_rank']:.1f}"])
    header = ["#", "id", "initiative", "RICE", "mean score", "80% interval", f"P(top {top_k})", "±95%", "E[rank]"]
    source = terminal_text(result.portfolio.source or "portfolio")
    lines = [
        f"{source}: {len(result.portfolio)} initiatives, {result.samples:,} samples "
        f"({result.method}, seed {result.seed}), confidence mode '{result.confidence_mode}'",
        "",
        text_table(rows, header, "rllrrrrrr"),
        "",
        f"RICE: classic score from the estimates' medians. ±95%: Monte Carlo half-width of P(top {top_k}).",
        f"80% interval: p10 – p90 of the simulated score. Reproduce with --seed {result.seed}.",
    ]
    if result.precision_target is not None:
        reached = result.precision_reached
        status = "reached" if reached <= result.precision_target else f"NOT reached (sample cap {result.samples:,})"
        lines.append(f"Precision target ±{result.precision_target:g}: {status}; widest half-width ±{reached:.4f}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        text = args.handler(args)
        if getattr(args, "output", None):
            write_atomic(args.output, text)
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    except InputError as e:
        for problem in e.problems:
            print(terminal_text(problem), file=sys.stderr)
        return 2
    except (UsageError, ValueError) as e:
        parser.print_usage(sys.stderr)
        print(f"workbench: error: {terminal_text(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"workbench: error: {terminal_text(e)}", file=sys.stderr)
        return 2
    except (SolverError, ReportError) as e:
        for k, line in enumerate(str(e).splitlines()):
            print(("workbench: " if k == 0 else "") + terminal_text(line), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # an internal bug: say so plainly, traceback only on request
        if os.environ.get("WORKBENCH_DEBUG"):
            traceback.print_exc()
        print(f"workbench: internal error: {type(e).__name__}: {terminal_text(e)} "
              "(set WORKBENCH_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

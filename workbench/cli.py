"""The `workbench` command line: flags become `Settings`, handlers call the pipeline.

Every option that is a setting is read as text and checked by the one validator
(`Settings.from_mapping`), so `--budget 800%` gets the same answer here as in a settings file, a
report parameter or the dashboard. `--settings FILE.json` gives a base; flags override it.

Exit codes: 0 success; 2 bad input or usage (one line per problem on stderr, no traceback);
1 an unexpected internal error or a failed report.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import sys
import traceback

from . import pipeline
from .calibrate_command import add_calibrate_parser, calibration_note
from .errors import InputError
from .io import demo_portfolio, load_portfolio, write_atomic
from .io.files import writable_target
from .model.portfolio import Portfolio
from .planning.milp import SolverError
from .report_command import add_report_arguments, report_command
from .reports import ReportError
from .roadmap_command import add_roadmap_parser
from .settings import FIELDS, Settings
from .tasks import SCHEDULER_VARIABLE, ClusterError, cluster, scheduler_address
from .views.check_text import check_command, init_command
from .views.output import csv_safe, terminal_text, to_json
from .views.text import plan_record, plan_text, score_record, score_table, sensitivity_text

_QUIET = argparse.SUPPRESS  # an option not given is absent, so it does not override --settings


class UsageError(Exception):
    """Wrong combination of arguments; reported like argparse does, exit 2."""


def _version() -> str:
    from . import __version__

    return __version__


# --- options, grouped by what they describe (parent parsers shared by the commands) ----------------


def _input_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--demo", action="store_true", help="use the bundled demo portfolio")
    p.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx file (default: the first)")
    p.add_argument("--correlations", metavar="FILE", help="CSV of rank correlations (columns a, b, rho)")
    p.add_argument("--columns", metavar="FILE", help="column mapping (YAML or JSON, our column: your header); "
                   "default: <portfolio>.columns.yaml beside the file, if there is one")
    p.add_argument("--settings", dest="settings_file", metavar="FILE.json",
                   help="settings file (JSON, e.g. exported by the dashboard); flags override its values")
    p.add_argument("--calibration", default=_QUIET, metavar="FILE",
                   help="calibration file from `workbench calibrate learn`: analyse the corrected ranges")
    return p


def _sampling_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--samples", default=_QUIET, metavar="N",
                   help="samples for the ranking and every figure (default 20,000)")
    p.add_argument("--seed", default=_QUIET, metavar="S", help="random seed (default 2026)")
    p.add_argument("--method", default=_QUIET, metavar="M",
                   help="ranking's sampling design: mc, lhs or sobol (default mc)")
    p.add_argument("--confidence-mode", default=_QUIET, metavar="MODE",
                   help="success: Bernoulli(C) delivery (default); multiplier: classic RICE; "
                        "spread: C widens estimates")
    p.add_argument("--top-k", default=_QUIET, metavar="K",
                   help="report P(rank <= K) (default: 5, or fewer initiatives)")
    p.add_argument("--value-unit", default=_QUIET, metavar="TEXT",
                   help='what a value point is, e.g. "$ ARR" (default: value points)')
    return p


def _planning_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--budget", default=_QUIET, metavar="B",
                   help="budget in person-months (or in the cost column's unit with --budget-column cost); 1.5k ok")
    p.add_argument("--budget-column", default=_QUIET, metavar="COL",
                   help="what the budget limits: effort (default) or cost")
    p.add_argument("--objective", default=_QUIET, metavar="OBJ",
                   help="mean: expected value (default); cvar: mean of the worst alpha scenarios; "
                        "blend: mean + lambda*CVaR")
    p.add_argument("--alpha", default=_QUIET, metavar="A",
                   help="CVaR tail: the worst A fraction of scenarios (default 0.1)")
    p.add_argument("--lambda", dest="lam", default=_QUIET, metavar="L",
                   help="weight of CVaR in the blend objective (default 1)")
    p.add_argument("--scenarios", default=_QUIET, metavar="S", help="scenarios plans are chosen on (default 1,000)")
    p.add_argument("--capacity", dest="capacities", action="append", default=_QUIET, metavar="TEAM=N",
                   help="a team's capacity in person-months (repeatable; team names match in any case)")
    p.add_argument("--theme-share", dest="theme_shares", action="append", default=_QUIET, metavar="THEME=LO:HI",
                   help="bounds on a theme's share of the spend, e.g. Growth=0.3:0.6 (repeatable)")
    p.add_argument("--max-count", default=_QUIET, metavar="N", help="fund at most N initiatives")
    p.add_argument("--effort-quantile", default=_QUIET, metavar="Q",
                   help="count each effort at this quantile of its estimate (default 0.5; 0.8 = conservative)")
    p.add_argument("--plan", default=_QUIET, metavar="IDS", help="your current plan, ids separated by commas "
                   "(default: the planned column)")
    p.add_argument("--frontier-points", default=_QUIET, metavar="N",
                   help="a cap on the frontier's solves (default: none, the complete frontier)")
    p.add_argument("--time-limit", default=_QUIET, metavar="SEC", help="solver time limit per solve (default 60)")
    return p


def _cluster_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the independent solves or reports on the dask.distributed cluster whose scheduler "
                        f"is at ADDRESS (tcp://host:8786; default ${SCHEDULER_VARIABLE}); needs the [distributed] "
                        "extra")
    return p


def _output_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format (default: table)")
    p.add_argument("--output", "-o", metavar="FILE", help="write to FILE (atomically) instead of standard output")
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench",
                                     description="Decision-analysis workbench for product portfolios.")
    parser.add_argument("--version", action="version", version=f"workbench {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    inputs, sampling, planning, output = _input_options(), _sampling_options(), _planning_options(), _output_options()
    remote = _cluster_options()

    score = sub.add_parser("score", parents=[inputs, sampling, output],
                           help="probabilistic RICE: score intervals and P(top-k) for every initiative",
                           description="Simulate RICE scores under uncertainty and rank the initiatives.")
    score.add_argument("portfolio", nargs="?", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    score.add_argument("--precision", default=_QUIET, metavar="P",
                       help="sample until every P(top-k) has a 95%% half-width <= P (e.g. 0.01)")
    score.add_argument("--max-samples", default=_QUIET, metavar="N", help="cap for --precision (default 10,000,000)")
    score.set_defaults(handler=_score)

    opt = sub.add_parser("optimize", parents=[inputs, sampling, planning, output, remote],
                         help="the best set of initiatives under budget, capacities and risk",
                         description="Choose which initiatives to fund: exact MILP over simulated scenarios.")
    opt.add_argument("portfolio", nargs="?", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    opt.add_argument("--frontier", action="store_true", help="also compute the efficient frontier of value vs CVaR")
    opt.add_argument("--gap-replications", type=_replications, default=10, metavar="N",
                     help="independent re-solves that bound how far the plan is from the best one "
                          "(optimality gap; default 10, 0 to skip)")
    opt.set_defaults(handler=_optimize)

    sens = sub.add_parser("sensitivity", parents=[inputs, sampling, planning, output, remote],
                          help="budget sweeps, tornado, Sobol indices and the value of information",
                          description="How the recommended plan depends on the budget and on each assumption.")
    sens.add_argument("portfolio", nargs="?", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    sens.add_argument("--budget-range", default=_QUIET, metavar="A:B:STEP",
                      help="optimal plan at each budget, e.g. 20:120:5")
    sens.add_argument("--split", default=_QUIET, metavar="THEME_OR_TEAM",
                      help="share of the budget given to one theme or team (theme:X / team:X if ambiguous), 0-100%%")
    sens.add_argument("--tornado", action="store_true", help="p10-p90 swings of the plan's value, and switch points")
    sens.add_argument("--sobol", action="store_true", help="Sobol indices of the plan's value, by initiative")
    sens.add_argument("--voi", action="store_true", help="EVPI and per-initiative EVPPI: what to research first")
    sens.set_defaults(handler=_sensitivity)

    rep = sub.add_parser("report", parents=[inputs, sampling, planning, remote],
                         help="quarterly or budget-sensitivity report (notebook, offline HTML, JSON; or pptx slides)",
                         description="Run a template notebook with papermill and export it to self-contained HTML.")
    rep.add_argument("kind", choices=("quarterly", "sensitivity"), help="which report")
    rep.add_argument("--portfolio", action="append", default=[], metavar="FILE",
                     help="portfolio file (repeatable: one report per portfolio)")
    rep.add_argument("--quarter", action="append", required=True, metavar="Q",
                     help="quarter label such as 2026Q4 (repeatable: paired with --portfolio)")
    rep.add_argument("--budget-range", default=_QUIET, metavar="A:B:STEP", help="budgets of the sweep")
    rep.add_argument("--split", default=_QUIET, metavar="THEME_OR_TEAM", help="theme or team of the split sweep")
    rep.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="any other template parameter, e.g. previous_portfolio=q3.csv or samples=50000 (repeatable)")
    rep.add_argument("--output-dir", "-o", default="reports", metavar="DIR", help="where to write (default: reports/)")
    rep.add_argument("--format", dest="report_format", choices=("html", "pptx"), default="html",
                     help="html: notebook + offline HTML + JSON (default); pptx: the quarterly brief and charts "
                          "as slides")
    add_report_arguments(rep)  # --actuals, --previous-report, --previous-portfolio: report_command.py
    rep.set_defaults(handler=report_command)

    add_roadmap_parser(sub, [inputs, sampling, planning, output])  # its options: roadmap_command.py

    add_calibrate_parser(sub)  # learn and apply: calibrate_command.py

    check = sub.add_parser("check", help="every problem of a portfolio file at once, with fixes; --fix -o a copy")
    check.add_argument("portfolio", metavar="FILE", help="portfolio file: .csv, .xlsx or .yaml (never modified)")
    check.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx file (default: the first)")
    check.add_argument("--columns", metavar="FILE", help="column mapping (YAML or JSON, our column: your header)")
    check.add_argument("--default", dest="defaults", action="append", default=[], metavar="COLUMN=VALUE",
                       help="the value of blank cells of a column, e.g. confidence=80%% (repeatable)")
    check.add_argument("--fix", action="store_true", help="write a corrected copy (with -o)")
    check.add_argument("-o", "--output", dest="fixed", metavar="FIXED", help="the corrected copy: .csv, .xlsx or .yaml")
    check.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    check.set_defaults(handler=check_command)

    init = sub.add_parser("init", help="write a portfolio to start from: every column, two example rows")
    init.add_argument("path", metavar="PATH", help="the file to write: .csv, .xlsx or .yaml (never overwritten)")
    init.set_defaults(handler=init_command)
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings the flags describe, over the --settings file if one was given. Repeated team and
    theme flags add to (or replace single entries of) the file's mappings rather than replace them."""
    given = {key: value for key, value in vars(args).items() if key in FIELDS}
    base = Settings.from_json(args.settings_file) if getattr(args, "settings_file", None) else None
    flags = Settings.from_mapping(given)  # each flag read and checked once
    if base is None:
        return flags
    merged = {key: getattr(flags, key) for key in given}
    for key in ("capacities", "theme_shares"):
        if key in given:  # names match in any case: a flag replaces the file's entry of that name
            flagged = dict(getattr(flags, key))
            kept = {k: v for k, v in getattr(base, key) if k.lower() not in {f.lower() for f in flagged}}
            merged[key] = {**kept, **flagged}
    return Settings.from_mapping(merged, base)


def load_input(args) -> Portfolio:
    """The portfolio a command reads: its PORTFOLIO file or the demo (`--demo`), notes on standard
    error. Raises UsageError for both or neither, InputError (with what `check` can fix) for a bad file."""
    if args.demo and args.portfolio:
        raise UsageError("give either a PORTFOLIO file or --demo, not both")
    if not args.demo and not args.portfolio:
        raise UsageError("give a PORTFOLIO file (.csv, .xlsx, .yaml) or --demo")
    if args.demo:
        if args.sheet or args.correlations or args.columns:
            raise UsageError("--sheet, --correlations and --columns apply to a PORTFOLIO file, not --demo")
        return demo_portfolio()
    try:
        portfolio = load_portfolio(args.portfolio, sheet=args.sheet, correlations=args.correlations,
                                   columns=args.columns)
    except InputError as e:  # main() points to `workbench check` when it can fix some of the problems
        from .io.check import check_file

        e.fixable = check_file(args.portfolio, sheet=args.sheet, columns=args.columns).fixable, args.portfolio
        raise
    for note in portfolio.notes:  # once, and never on standard output (JSON or CSV may be there)
        print(f"note: {terminal_text(note)}", file=sys.stderr)
    return portfolio


class Progress:
    """A tqdm bar on standard error when it is a terminal; silent otherwise."""

    def __init__(self, desc: str, unit: str = " steps"):
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(desc=desc, unit=unit, unit_scale=True, file=sys.stderr, leave=False)

    def __call__(self, done: int, total: int) -> None:
        if self.bar is not None:
            self.bar.total = max(total, done)
            self.bar.n = done
            self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _outcome(args, *, plan: bool) -> pipeline.Outcome:
    """Load, validate (every problem at once) and run the pipeline; a plan that cannot be made
    fails the command (infeasible: exit 2; solver limits: exit 1)."""
    portfolio = load_input(args)
    settings = settings_from(args)
    checked = settings.for_portfolio(portfolio, need_budget=plan)  # all problems before any work
    if plan:
        pipeline.check_plan(portfolio, checked)  # constraints no plan can meet, before any draw
    progress = Progress("simulating", " samples")
    try:
        outcome = pipeline.LiveEngine(portfolio).run(settings, plan=plan, progress=progress)
    finally:
        progress.close()
    if plan and outcome.plan is None:
        raise outcome.failure
    return outcome


def _score(args) -> str:
    outcome = _outcome(args, plan=False)
    result, k = outcome.result, outcome.settings.top_k
    if args.format == "json":
        return to_json(_noted({**score_record(result, k), "settings": outcome.settings.to_dict()}, outcome, args))
    if args.format == "csv":
        return _noted(csv_safe(result.summary(k).reset_index()).to_csv(index=False, lineterminator="\n"), outcome, args)
    return _noted(score_table(result, k), outcome, args)


def _noted(out, outcome: pipeline.Outcome, args):
    """The output with the calibration said, when the analysis ran on calibrated ranges."""
    return calibration_note(out, outcome.settings, outcome.portfolio, args.format)


def _replications(text: str) -> int:
    """--gap-replications: 0 (skip) or at least 2 (a standard error needs two)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number such as 10, got {text!r}") from None
    if n < 0 or n == 1:
        raise argparse.ArgumentTypeError(f"expected 0 (skip) or at least 2, got {n}")
    return n


def _optimize(args) -> str:
    outcome = _outcome(args, plan=True)
    front = gap = None
    wanted = args.frontier or (args.gap_replications and args.format != "csv")  # any solves to send out
    with executor_from(args) if wanted else contextlib.nullcontext() as executor:
        if args.frontier:
            progress = Progress("frontier", " solves")
            try:
                front = pipeline.frontier(outcome, progress=progress, executor=executor)
            finally:
                progress.close()
        if args.gap_replications and args.format != "csv":  # the CSV lists the funded initiatives only
            progress = Progress("optimality gap", " solves")
            try:
                gap = pipeline.optimality_gap(outcome, args.gap_replications, progress=progress, executor=executor)
            finally:
                progress.close()
    if args.format == "json":
        return to_json(_noted(plan_record(outcome.plan, outcome.settings, front, optimality_gap=gap), outcome, args))
    if args.format == "csv":
        frame = front.to_frame() if front is not None else outcome.plan.to_frame().reset_index()
        return _noted(csv_safe(frame).to_csv(index=False, lineterminator="\n"), outcome, args)
    return _noted(plan_text(outcome.plan, outcome.settings, front, optimality_gap=gap), outcome, args)


@contextlib.contextmanager
def executor_from(args):
    """The executor of --scheduler (or $WORKBENCH_SCHEDULER): a dask cluster's, or None (here)."""
    address = scheduler_address(getattr(args, "scheduler", None))
    if address is None:
        yield None
        return
    with cluster(address) as client:
        yield client.get_executor()


def _sensitivity(args) -> str:
    outcome = _outcome(args, plan=True)
    s = outcome.settings
    asked = dict(budget_sweep=s.budget_range is not None, split=s.split is not None, tornado=args.tornado,
                 sobol=args.sobol, voi=args.voi)
    if not any(asked.values()):  # nothing asked: the two analyses every session starts with
        asked.update(budget_sweep=True, tornado=True)
    progress = Progress("sensitivity")
    try:
        with executor_from(args) as executor:
            report = pipeline.analyses(outcome, progress=progress, executor=executor, **asked)
    finally:
        progress.close()
    if args.format == "json":
        return to_json(_noted({**report.to_dict(), "settings": s.to_dict()}, outcome, args))
    if args.format == "csv":
        return _noted(csv_safe(report.main_table()).to_csv(index=False, lineterminator="\n"), outcome, args)
    return _noted(sensitivity_text(report, plan_text(outcome.plan, s)), outcome, args)


@contextlib.contextmanager
def _c_level_stdout_to_stderr():
    """While the command works, what C code prints on descriptor 1 goes to standard error.

    HiGHS prints an occasional line with printf whatever its options
    ("HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();"), which would
    corrupt JSON or CSV on standard output. The command owns its process and writes its output
    only once the work is done, so it may move the descriptor meanwhile: nothing is lost (the
    line reaches stderr). The library never does this: in a notebook or the dashboard other
    threads may write to descriptor 1.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no descriptor 1 (embedded): nothing to protect
        yield
        return
    try:
        with contextlib.suppress(OSError):  # no descriptor 2: C's prints stay where they were
            os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        try:
            ctypes.CDLL(None).fflush(None)  # C's buffered stdout goes out before the descriptor moves back
        except (OSError, AttributeError):
            pass
        os.dup2(saved, 1)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if getattr(args, "output", None):
            writable_target(args.output)  # a directory or device is refused before any work, not after
        with _c_level_stdout_to_stderr():
            text = args.handler(args)
        text, code = text if isinstance(text, tuple) else (text, 0)  # check: its report, and exit 2 if problems
        if getattr(args, "output", None):
            write_atomic(args.output, text)
            print(f"wrote {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return code
    except InputError as e:
        for problem in e.problems:
            print(terminal_text(problem), file=sys.stderr)
        fixable, file = getattr(e, "fixable", (0, None))
        if fixable:
            print(terminal_text(f"workbench: `workbench check {file}` shows the fixes for {fixable} of these; "
                                "--fix -o COPY writes a corrected copy"), file=sys.stderr)
        return 2
    except (UsageError, ValueError) as e:
        parser.print_usage(sys.stderr)
        print(f"workbench: error: {terminal_text(e)}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"workbench: error: {terminal_text(e)}", file=sys.stderr)
        return 2
    except (SolverError, ReportError, ClusterError) as e:
        if getattr(e, "written", None):
            sys.stdout.write("\n".join(e.written) + "\n")
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

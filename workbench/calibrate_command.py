"""`workbench calibrate`: how good past estimates were, and this quarter's ranges corrected for it.

    workbench calibrate learn --demo -o calibration.json               # the bundled history
    workbench calibrate learn 2026Q1=q1.csv 2026Q2=q2.xlsx --actuals actuals.csv --format json
    workbench calibrate apply portfolio.csv --calibration calibration.json -o corrected.csv
    workbench optimize portfolio.csv --budget 40 --calibration calibration.json

`learn` reads past portfolio files (`QUARTER=FILE`, or files with a `quarter` column) and an
actuals file, measures the ranges (`calibration.measures`) and learns the correction
(`calibration.correction`); `-o` writes the calibration file atomically. `apply` writes the
corrected portfolio (ranges as text, the input untouched) and says what changed. Any analysis
takes `--calibration FILE` (the `calibration` setting); `calibration_note` adds the sentence to
its text and the "calibration" entry to its JSON. Bad input exits 2 with one line per problem.
"""

from __future__ import annotations

import argparse
import os
import sys


def add_calibrate_parser(sub) -> argparse.ArgumentParser:
    """Register `calibrate learn|apply` on the CLI's subparsers."""
    cal = sub.add_parser("calibrate", help="learn from actuals: how good past ranges were, and correct this "
                                           "quarter's for it",
                         description="Measure past estimates against what happened, learn a correction of the "
                                     "ranges, and apply it to a portfolio.")
    steps = cal.add_subparsers(dest="step", metavar="STEP", required=True)
    learn = steps.add_parser("learn", help="measure a history of estimates against actuals and learn the correction",
                             description="Hit rates of the 50/80/90% ranges, median actual / estimate, the PIT "
                                         "test, delivery and schedule, per factor and team; then the correction.")
    learn.add_argument("history", nargs="*", metavar="HISTORY",
                       help="past portfolio files: QUARTER=FILE (the whole file is that quarter) or FILE with a "
                            "quarter column; .csv, .xlsx or .yaml")
    learn.add_argument("--actuals", metavar="FILE", help="actuals (CSV or .xlsx): id, quarter and any of "
                       "actual_effort, delivered, actual_reach, actual_impact, delivered_quarter")
    learn.add_argument("--demo", action="store_true", help="the bundled history of the demo company (8 quarters)")
    learn.add_argument("--seed", type=int, default=2026, metavar="S",
                       help="seed of the bootstrap errors (default 2026)")
    learn.add_argument("--output", "-o", dest="calibration_out", metavar="calibration.json",
                       help="write the calibration file (JSON, atomically) for --calibration")
    learn.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    learn.set_defaults(handler=learn_command)

    apply = steps.add_parser("apply", help="write a portfolio with corrected ranges (the input untouched)",
                             description="Correct a portfolio's ranges with a calibration file and write the "
                                         "corrected copy, estimates as text to review.")
    apply.add_argument("portfolio", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    apply.add_argument("--calibration", required=True, metavar="FILE", help="calibration file from calibrate learn")
    apply.add_argument("--output", "-o", dest="corrected", required=True, metavar="CORRECTED",
                       help="the corrected portfolio: .csv, .xlsx or .yaml")
    apply.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx file (default: the first)")
    apply.add_argument("--columns", metavar="FILE", help="column mapping (YAML or JSON, our column: your header)")
    apply.add_argument("--confidence-mode", default="success", choices=("success", "multiplier", "spread"),
                       help="delivery chances are mapped only in success mode (default)")
    apply.set_defaults(handler=apply_command)
    return cal


def learn_command(args) -> str:
    """`calibrate learn`: the measures and the correction as a table or JSON; -o writes the calibration."""
    from .calibration import calibrate
    from .calibration.calibration_file import save_calibration
    from .cli import UsageError
    from .io.files import writable_target
    from .views.calibration_tables import calibration_text, correction_text
    from .views.output import to_json

    if args.demo and (args.history or args.actuals):
        raise UsageError("give either HISTORY files with --actuals, or --demo, not both")
    if not args.demo and not (args.history and args.actuals):
        raise UsageError("give past portfolio files (HISTORY ...) and --actuals FILE, or --demo")
    if args.calibration_out:
        writable_target(args.calibration_out)  # a directory or device is refused before any work
    result = calibrate(None if args.demo else args.history, None if args.demo else args.actuals, seed=args.seed)
    if args.calibration_out:
        written = save_calibration(result.calibration, args.calibration_out)
        print(f"wrote the calibration to {written}; use it with --calibration {written}", file=sys.stderr)
    if args.format == "json":
        return to_json(result.to_dict())
    return calibration_text(result.report) + "\n" + correction_text(result.calibration)


def apply_command(args) -> str:
    """`calibrate apply`: the corrected portfolio written to -o, and what changed per factor and team."""
    from .calibration.calibration_file import load_calibration
    from .calibration.correction import apply_calibration
    from .cli import UsageError
    from .io import load_portfolio
    from .io.write import save_portfolio
    from .views.calibration_tables import calibration_sentence
    from .views.output import terminal_text

    if os.path.realpath(args.corrected) == os.path.realpath(args.portfolio):
        raise UsageError("the corrected portfolio must go to another file than the input (the input stays untouched)")
    portfolio = load_portfolio(args.portfolio, sheet=args.sheet, columns=args.columns)
    calibration = load_calibration(args.calibration)
    corrected = apply_calibration(portfolio, calibration, args.confidence_mode)
    save_portfolio(corrected, args.corrected)
    changed = sum(_changed(a, b) for a, b in zip(portfolio.initiatives, corrected.initiatives))
    print(f"wrote {args.corrected}", file=sys.stderr)
    return (f"{terminal_text(calibration_sentence(calibration, portfolio, args.confidence_mode))}\n"
            f"{changed:,} of {len(portfolio):,} initiatives have corrected estimates in "
            f"{terminal_text(args.corrected)} ({terminal_text(args.portfolio)} is unchanged).\n")


def _changed(a, b) -> bool:
    return any(a.estimate(f).text != b.estimate(f).text for f in ("reach", "impact", "confidence", "effort"))


# --- what an analysis on calibrated ranges says --------------------------------------------------


def calibration_note(out, settings, portfolio, fmt: str):
    """An analysis's output (`fmt` table: text; json: a dict; csv: text) with the calibration said:
    the sentence first in a table, a "calibration" entry in JSON, the sentence on standard error for CSV.
    Unchanged when the settings hold no calibration."""
    if not getattr(settings, "calibration", None):
        return out
    from .views.calibration_tables import calibration_record
    from .views.output import terminal_text

    record = calibration_record(settings.calibration, portfolio, settings.confidence_mode)
    if fmt == "json":
        return {**out, "calibration": record}
    if fmt == "csv":
        print(f"note: {terminal_text(record['sentence'])}", file=sys.stderr)
        return out
    return f"{terminal_text(record['sentence'])}\n\n{out}"

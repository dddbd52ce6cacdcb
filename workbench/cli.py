"""The `workbench` command line: a thin layer over the public API.

Exit codes: 0 success; 2 bad input or usage (one line per problem on stderr, no traceback);
1 an unexpected internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from . import __version__
from .errors import InputError
from .output import csv_safe, format_number, terminal_text, text_table, to_json, write_atomic
from .portfolio import Portfolio, demo_portfolio, load_portfolio
from .results import SimulationResult
from .sample import METHODS
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


def _add_portfolio_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("portfolio", nargs="?", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    p.add_argument("--demo", action="store_true", help="use the bundled demo portfolio")
    p.add_argument("--sheet", metavar="NAME", help="sheet of an .xlsx file (default: the first)")
    p.add_argument("--correlations", metavar="FILE", help="CSV of rank correlations (columns a, b, rho)")


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
        if args.output:
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

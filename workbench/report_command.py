"""`workbench report`: its arguments become report jobs; it writes the reports or the slide decks.

    workbench report quarterly --demo --quarter 2026Q4 --budget 40                 # .html, .ipynb, .json
    workbench report quarterly --demo --quarter 2026Q4 --budget 40 --format pptx   # 2026Q4-quarterly.pptx
    workbench report quarterly --portfolio q4.csv --quarter 2026Q4 --budget 40 \
        --previous-report reports/2026Q3-quarterly.json --actuals actuals.csv --previous-portfolio q3.csv

Every job is checked first (`reports.check_parameters`: the same validator and messages as the
template), so bad input stops before any work with exit 2. `--format html` (the default) runs
the templates (`reports.run_batch`), across this machine's cores or, with `--scheduler ADDRESS`
(or $WORKBENCH_SCHEDULER), one task per report on a dask.distributed cluster (`reports.remote`);
`--format pptx` builds the quarterly deck of each job
(`reports.slides.quarterly_deck`: the same pipeline on the same settings as the report), written
atomically as `<name>.pptx` where the report's other files go.

`--actuals FILE` and `--previous-report FILE` give the quarterly report's "Committed vs delivered"
section (`reports.delivered`); `--previous-portfolio FILE` last quarter's estimates (what changed,
and their calibration). With `--demo`, the quarterly report takes each of the three it is not
given from the bundled history (`io.history`): its actuals, the 2026Q3 report and portfolio.
"""

from __future__ import annotations

from pathlib import Path

from .tasks import scheduler_address

HISTORY_FLAGS = {"actuals": "--actuals", "previous_report": "--previous-report",
                 "previous_portfolio": "--previous-portfolio"}
DEMO_QUARTER = "2026Q3"  # the bundled history's last quarter: the demo report's "last quarter"


def add_report_arguments(parser) -> None:
    """The `report` command's options for last quarter: what happened, its report, its portfolio."""
    parser.add_argument("--actuals", metavar="FILE", help="what happened last quarter (CSV/XLSX: id, quarter, "
                        "actual_effort, delivered, actual_reach, actual_impact, delivered_quarter)")
    parser.add_argument("--previous-report", metavar="FILE",
                        help="last quarter's report JSON: its plan, compared with the actuals")
    parser.add_argument("--previous-portfolio", metavar="FILE",
                        help="last quarter's portfolio file: what changed, and how good its estimates were")


def history_parameters(args, extra: dict, kind: str) -> dict:
    """The report parameters for last quarter from the flags (each given once: as a flag or as
    --param), and with --demo the bundled history's for those not given (quarterly report only)."""
    from .cli import UsageError

    out = {}
    for name, flag in HISTORY_FLAGS.items():
        value = getattr(args, name, None)
        if value is not None and name in extra:
            raise UsageError(f"give {name} once: {flag} FILE or --param {name}=FILE")
        if value is not None:
            out[name] = value
    if args.demo and kind == "quarterly":
        for name, path in demo_history().items():
            if name not in extra:
                out.setdefault(name, path)
    return out


def demo_history() -> dict[str, str]:
    """The bundled history's files for the demo report ({} while the package has none)."""
    try:
        from .io.history import bundled_actuals_path, bundled_history_specs, bundled_previous_report_path
    except ImportError:
        return {}
    specs = dict(spec.split("=", 1) for spec in map(str, bundled_history_specs()) if "=" in spec)
    out = {"actuals": str(bundled_actuals_path()), "previous_report": str(bundled_previous_report_path())}
    if DEMO_QUARTER in specs:
        out["previous_portfolio"] = specs[DEMO_QUARTER]
    return {k: v for k, v in out.items() if Path(v).is_file()}


def report_command(args) -> str:
    """The `report` command's handler: the paths written, one a line (the CLI prints them)."""
    from .cli import UsageError, settings_from  # the CLI imports this module: not at import time

    if args.demo and args.portfolio:
        raise UsageError("give either --portfolio FILE or --demo, not both")
    if args.sheet or args.correlations or args.columns:
        raise UsageError("--sheet, --correlations and --columns apply to score, optimize, sensitivity and check; a "
                         "report reads the first sheet, <portfolio>.correlations.csv and <portfolio>.columns.yaml")
    portfolios = [""] if args.demo else args.portfolio
    if not portfolios:
        raise UsageError("give --portfolio FILE (repeatable) or --demo")
    quarters = args.quarter
    if len(portfolios) == len(quarters):
        pairs = list(zip(portfolios, quarters))
    elif len(portfolios) == 1 or len(quarters) == 1:
        pairs = [(p, q) for p in portfolios for q in quarters]
    else:
        raise UsageError(f"{len(portfolios)} portfolios and {len(quarters)} quarters: "
                         "give as many of each, or one of either")
    extra = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param expects NAME=VALUE, got {item!r}")
        extra[key.strip()] = value
    extra.update(history_parameters(args, extra, args.kind))
    if "settings" in extra:  # the same as --settings: a base that the other flags override
        if args.settings_file:
            raise UsageError("give the settings file once: --settings FILE or --param settings=FILE")
        args.settings_file = extra.pop("settings")
    fmt = getattr(args, "report_format", "html")
    if fmt == "pptx" and args.kind != "quarterly":
        raise UsageError("--format pptx makes the quarterly deck; the sensitivity report is HTML only")
    if fmt == "pptx" and getattr(args, "scheduler", None):
        raise UsageError("--scheduler runs HTML report batches on a cluster; decks (--format pptx) are built here")
    settings = settings_from(args)
    if fmt == "pptx":
        return _decks(pairs, settings, extra, args.output_dir)
    scheduler = scheduler_address(getattr(args, "scheduler", None))
    return _reports(args.kind, pairs, settings, extra, args.output_dir, scheduler)


def _reports(kind: str, pairs: list[tuple[str, str]], settings, extra: dict, output_dir: str,
             scheduler: str | None = None) -> str:
    """The HTML reports (with their notebooks and JSON), here or on the dask cluster at `scheduler`."""
    from .cli import Progress
    from .reports import ReportError, run_batch

    progress = Progress("reports", " reports") if len(pairs) > 1 else None
    try:
        written, failures = run_batch(kind, pairs, settings, extra, output_dir, progress=progress,
                                       scheduler=scheduler)
    finally:
        if progress is not None:
            progress.close()
    lines = [f"{html}\n{nb}\n{data}" for nb, html, data in sorted(written)]
    summary = f"{len(written)} of {len(pairs)} reports written to {output_dir}"
    if failures:
        error = ReportError(summary + "; failed:\n" + "\n".join(f"  {n}: {m}" for n, m in failures))
        error.written = lines  # the reports that were written still go to standard output
        raise error
    return "\n".join(lines) + "\n" + (summary + "\n" if len(pairs) > 1 else "")


def _decks(pairs: list[tuple[str, str]], settings, extra: dict, output_dir: str) -> str:
    """One quarterly deck per (portfolio, quarter): every job checked before any is built."""
    from .cli import Progress
    from .errors import InputError
    from .reports import check_parameters, report_names
    from .reports.slides import quarterly_deck

    jobs, problems = [], []
    for (portfolio, quarter), name in zip(pairs, report_names(pairs, "quarterly")):
        try:
            jobs.append((name, check_parameters({**extra, "portfolio": portfolio, "quarter": quarter,
                                                 "settings": settings.to_dict()})))
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, job in jobs:
        progress = Progress(f"slides {name}", " steps")
        try:
            written.append(quarterly_deck(job, out / f"{name}.pptx", progress=progress))
        finally:
            progress.close()
    summary = f"{len(written)} of {len(pairs)} decks written to {output_dir}\n" if len(pairs) > 1 else ""
    return "".join(f"{p}\n" for p in written) + summary

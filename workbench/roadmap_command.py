"""`workbench roadmap`: when to start each initiative across quarters, and how likely each lands on time.

    workbench roadmap --demo --quarters 2027Q1:2027Q4 --capacity Platform=8 --capacity Growth=6 ...
    workbench roadmap portfolio.csv --capacity-table capacity.csv --format json -o roadmap.json

Its options are settings like every command's (read and checked once by `Settings.from_mapping`
through `cli.settings_from`); `--capacity-table FILE` is read by `io.capacity_table` into the
`capacity_table` setting, every bad cell reported at once. Bad input (a team without capacity,
quarters that are not quarters, no roadmap that fits) exits 2 with one line per problem.
"""

from __future__ import annotations

import argparse

_QUIET = argparse.SUPPRESS  # an option not given is absent, so it does not override --settings


def add_roadmap_parser(sub, parents: list[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register `roadmap` on the CLI's subparsers, with the shared option groups `parents`."""
    rm = sub.add_parser("roadmap", parents=parents,
                        help="when to start what across quarters, and how likely each lands on time",
                        description="Schedule initiatives across quarters under team capacities (an exact "
                                    "time-indexed MILP), then simulate how the roadmap holds when efforts overrun.")
    rm.add_argument("portfolio", nargs="?", metavar="PORTFOLIO", help="portfolio file: .csv, .xlsx or .yaml")
    rm.add_argument("--quarters", default=_QUIET, metavar="FIRST:LAST",
                    help="the horizon, e.g. 2027Q1:2027Q4 (default: the four quarters after today's)")
    rm.add_argument("--capacity-table", dest="capacity_table_file", metavar="FILE",
                    help="CSV of team, quarter, capacity (person-months) for quarters that differ from --capacity")
    rm.add_argument("--tail-quarters", default=_QUIET, metavar="N",
                    help="quarters after the horizon in which a delivered initiative still earns (default 4)")
    rm.add_argument("--discount", default=_QUIET, metavar="R",
                    help="discount on value a quarter, e.g. 2%% (default none)")
    rm.add_argument("--plan-column", default=_QUIET, metavar="COL",
                    help="column of your own roadmap's start quarters (default: planned_quarter, if filled)")
    rm.add_argument("--roadmap", default=_QUIET, metavar="WHICH",
                    help="the roadmap shown: optimal (default), greedy (by RICE) or yours (the plan column)")
    rm.add_argument("--start", dest="starts", action="append", default=_QUIET, metavar="ID=QUARTER",
                    help="force an initiative to start in a quarter, e.g. checkout=2027Q2 (repeatable)")
    rm.add_argument("--earliest", dest="earliest_starts", action="append", default=_QUIET, metavar="ID=QUARTER",
                    help="an initiative's earliest start, replacing its earliest column (repeatable)")
    rm.set_defaults(handler=roadmap_command)
    return rm


def roadmap_command(args) -> str:
    """The `roadmap` command's handler: the roadmap as a table, CSV (one row per initiative) or JSON."""
    from . import pipeline
    from .calibrate_command import calibration_note
    from .cli import load_input, settings_from  # the CLI imports this module: not at import time
    from .io.capacity_table import read_capacity_table
    from .views.output import csv_safe, to_json
    from .views.roadmap_tables import roadmap_rows, roadmap_text

    portfolio = load_input(args)
    if getattr(args, "capacity_table_file", None):
        args.capacity_table = read_capacity_table(args.capacity_table_file)  # a setting like the others
    settings = settings_from(args)
    result = pipeline.LiveEngine(portfolio).roadmap(settings)
    if args.format == "json":
        return to_json(calibration_note({**result.to_dict(), "settings": result.settings.to_dict()},
                                        result.settings, portfolio, "json"))
    if args.format == "csv":
        out = csv_safe(roadmap_rows(result)).to_csv(index=False, lineterminator="\n")
    else:
        out = roadmap_text(result)
    return calibration_note(out, result.settings, portfolio, args.format)  # the sentence when calibrated

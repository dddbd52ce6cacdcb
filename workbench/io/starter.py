"""Starter portfolios (`workbench init`): an empty portfolio to fill in, as CSV, .xlsx or YAML.

Each has every column, two example rows that show the estimate grammar (ranges, `k`, `%`, `pert`,
words) and an explanation of each column that still reads back as a valid portfolio: YAML in a
comment above the list, .xlsx on a "Notes" sheet after the portfolio's (the reader takes the first
sheet), CSV (which has no comments) in the `notes` column of the example rows. Nothing is ever
overwritten; the file is written atomically.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from ..errors import InputError, Problem
from .columns import COLUMNS, column_map_path
from .files import write_atomic
from .read import correlations_path
from .write import csv_text  # the CSV writing of save_portfolio (BOM, formula guard)

STARTER_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")

# column -> (required, what to write, examples): the one explanation every format shows.
GUIDE = {
    "id": ("yes", "a short unique name for the row, without ';' or ','", "onboarding-checklist"),
    "name": ("yes", "what people see in reports", "Guided onboarding checklist"),
    "reach": ("yes", "people or events per period: a number or a range", "500, 2.5k, 1.2M, 200..800"),
    "impact": ("yes", "a number on your scale, or massive (3), high (2), medium (1), low (0.5), minimal (0.25)",
               "2, medium, low..high"),
    "confidence": ("yes", "how sure you are: a percentage or high (100%), medium (80%), low (50%)",
                   "80%, medium, 60%..90%"),
    "effort": ("yes", "person-months: a number above 0 or a range", "3, 2..4, pert(1, 2, 5)"),
    "team": ("", "who builds it (team capacities use it)", "Growth"),
    "theme": ("", "a group for theme shares", "Activation"),
    "moscow": ("", "must, should, could or won't", "must"),
    "cost": ("", "a single amount of money, 0 or more", "120000, 2.5k"),
    "depends_on": ("", "ids this one needs, separated by ';'", "onboarding-checklist"),
    "excludes": ("", "ids that cannot be done with this one, separated by ';'", "legacy-reports"),
    "planned": ("", "true when it is in the current plan, else false", "true, false"),
    "max_per_quarter": ("", "roadmap: person-months it can absorb in one quarter (default: its team's capacity)",
                        "4, 4.5"),
    "earliest": ("", "roadmap: the first quarter it may start", "2027Q1, Q1 2027"),
    "deadline": ("", "roadmap: the last quarter by which it must be delivered", "2027Q4"),
    "planned_quarter": ("", "roadmap: the quarter your own roadmap starts it in", "2027Q2"),
    "status": ("", "where it stands: to do, in progress (committed: kept in the plan), done (left out of the "
                   "decision), won't do", "to do, in progress"),
    "notes": ("", "anything else: any other column is kept and ignored", "links, owners"),
}
GRAMMAR = [
    ("500, 2.5k, 1.2M, 80%", "a single number (k = thousand, M = million, % for confidence)"),
    ("200..800", "a 90% range: 90% sure the value is between 200 and 800 (the 5th and 95th percentiles)"),
    ("pert(1, 2, 5)", "lowest, most likely and highest value (a PERT distribution)"),
    ("tri(1, 2, 5), uniform(1, 3)", "triangular and uniform distributions"),
    ("normal(10, 2), beta(2, 5)", "a normal distribution (mean, sd) and a beta distribution"),
    ("low..high", "a range of impact or confidence words"),
]
EXAMPLES = [
    {"id": "onboarding-checklist", "name": "Guided onboarding checklist", "reach": "200..800", "impact": "medium",
     "confidence": "80%", "effort": "pert(1, 2, 5)", "team": "Growth", "theme": "Activation", "moscow": "must",
     "cost": "2.5k", "planned": "true", "status": "in progress"},
    {"id": "usage-reports", "name": "Usage reports for admins", "reach": "1k..3k", "impact": "low..high",
     "confidence": "60%..90%", "effort": "2..4", "team": "Platform", "theme": "Retention", "moscow": "should",
     "depends_on": "onboarding-checklist", "planned": "false", "status": "to do"},
]
# CSV has no comments: the example rows' notes explain the grammar (and read back as notes).
_CSV_NOTES = [
    "An example: replace it. reach 200..800 = 90% sure it is between 200 and 800; impact: a number or massive, "
    "high, medium, low, minimal; confidence: 80% or high, medium, low; effort in person-months, pert(lowest, "
    "most likely, highest)",
    "An example: replace it. k = thousand, M = million; low..high and 60%..90% are ranges too; moscow: must, "
    "should, could or won't; depends_on and excludes: ids separated by ;; cost: one amount such as 2.5k; "
    "planned: true or false; status: to do, in progress, done, won't do",
]


def write_starter(path: str | Path) -> Path:
    """Write a starter portfolio to `path` (.csv, .xlsx or .yaml by its suffix) and return it.

    `InputError` for another suffix, a file that exists already (it is never replaced), a missing
    folder, or a companion file beside it that `load_portfolio` would read with it.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in STARTER_SUFFIXES:
        raise InputError(Problem(f"cannot write a starter portfolio as {suffix or '(no suffix)'!r}; name the file "
                                 ".csv, .xlsx or .yaml", file=str(path)))
    if path.is_dir():
        raise InputError(Problem("is a folder; give the name of the file to write", file=str(path)))
    if path.exists() or path.is_symlink():
        raise InputError(Problem("the file exists already and is left as it is; choose another name", file=str(path)))
    if not path.parent.is_dir():
        raise InputError(Problem(f"there is no folder {str(path.parent)!r}; create it or choose another one",
                                 file=str(path)))
    for companion in (correlations_path(path), column_map_path(path)):
        if companion.is_file():
            raise InputError(Problem(f"{companion.name} is beside it and would be read with it; choose another name",
                                     file=str(path)))
    data = (_csv() if suffix == ".csv" else _xlsx() if suffix == ".xlsx" else _yaml())
    write_atomic(path, data)
    return path


def _csv() -> str:
    records = [{**row, "notes": note} for row, note in zip(EXAMPLES, _CSV_NOTES)]
    return csv_text([*COLUMNS, "notes"], records)


def _xlsx() -> bytes:
    import openpyxl
    from openpyxl.styles import Alignment, Font

    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "Portfolio"  # first: the sheet load_portfolio reads
    notes = wb.create_sheet("Notes")
    columns = [*COLUMNS, "notes"]
    examples = [{**row, "notes": "An example: replace it (the Notes sheet explains each column)"} for row in EXAMPLES]
    _rows(sheet, [columns, *([row.get(c) for c in columns] for row in examples)])
    sheet.freeze_panes = "A2"
    lines = [["column", "required", "what to write", "examples"],
             *([c, *GUIDE[c]] for c in columns), [], ["you write", "it means"], *map(list, GRAMMAR), [],
             ["The Portfolio sheet is read: keep it first, with one header row; these notes are not read."]]
    _rows(notes, lines)
    for ws in (sheet, notes):
        for cell in ws[1]:
            cell.font = Font(bold=True)
    notes.cell(len(columns) + 3, 1).font = Font(bold=True)
    for letter, width in zip("ABCD", (14, 10, 80, 30)):
        notes.column_dimensions[letter].width = width
    for row in notes.iter_rows(min_col=3, max_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    for j, c in enumerate(columns):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(j + 1)].width = max(12, len(c) + 4)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _rows(ws, rows: list[list]) -> None:
    """Write `rows` from A1 down; text always as text (openpyxl would make '=...' a formula); 'true' and
    'false' as Excel's booleans."""
    for r, values in enumerate(rows, start=1):
        for j, value in enumerate(values, start=1):
            if value in ("true", "false") and r > 1:
                ws.cell(r, j, value == "true")
            elif value:
                ws.cell(r, j, value).data_type = "s"


def _yaml() -> str:
    width = max(map(len, COLUMNS))
    lines = ["# A portfolio to fill in: one entry per initiative under `initiatives:`.",
             "# Replace the two examples with your own; `workbench check` lists anything to fix.", "#"]
    for c in COLUMNS:
        text = f"{'(required) ' if GUIDE[c][0] else ''}{GUIDE[c][1]}; e.g. {GUIDE[c][2]}"
        lines += textwrap.wrap(text, 100, break_on_hyphens=False, initial_indent=f"# {c:<{width}}  ",
                               subsequent_indent="#" + " " * (width + 3))
    lines += ["#", "# Estimates (reach, impact, confidence, effort) are a number or a distribution:"]
    lines += [f"#   {text:<28} {meaning}" for text, meaning in GRAMMAR]
    lines += ["# Other keys (notes, links) are kept and ignored.", "", "initiatives:"]
    for row in EXAMPLES:
        first = True
        for c in COLUMNS:
            if c in row:
                lines.append(f"  {'- ' if first else '  '}{c}: {row[c]}")
                first = False
    return "\n".join(lines) + "\n"

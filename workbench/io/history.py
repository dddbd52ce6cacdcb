"""Reading a history of estimates and actuals: past quarters' portfolio files and what happened.

Past portfolio files are read as portfolios are (`read.read_table`, any format, and
`validate.build_portfolio`): a whole file is one quarter when given as `QUARTER=FILE`, else each row
names its quarter in a `quarter` column and the rows of each quarter are validated as one portfolio
(an id may repeat across quarters, not within one). An `estimator` column (or `estimated by`) stays in
`Initiative.extra["estimator"]`. The actuals file (CSV or .xlsx) has columns `id`, `quarter` and any
of `calibration.history.ACTUAL_COLUMNS`; `join_history` joins both by (id, quarter). Every problem of
every file is collected and raised as one `InputError`, each located (file, line, column, value).
The bundled synthetic history of the demo company lives in `workbench/data/history/`
(`workbench.calibration.synthetic` writes it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path

from ..calibration.history import Actual, History, Record
from ..errors import InputError, Problem, did_you_mean, quote
from ..model.portfolio import Portfolio
from ..model.quarters import is_quarter, parse_quarter, quarter_label
from .actuals import cell_text, quarter_cell, read_actuals
from .read import read_table
from .table import Cell, Table
from .validate import build_portfolio

__all__ = ["bundled_actuals_path", "bundled_history", "bundled_history_specs", "bundled_previous_report_path",
           "join_history", "load_history", "read_actuals", "read_history"]

_ESTIMATOR = ("estimator", "estimated_by")  # extra columns read as who estimated a row
_HISTORY = ("data", "history")


# --- past portfolio files --------------------------------------------------------------------------


def _spec(spec: str | Path) -> tuple[str | None, Path]:
    """(quarter label or None, file) of one history argument; ValueError for a bad QUARTER=FILE."""
    if isinstance(spec, Path):
        return None, spec
    text = str(spec)
    left, eq, right = text.partition("=")
    if not eq or Path(text).exists():
        return None, Path(text)
    try:
        return quarter_label(parse_quarter(left)), Path(right.strip())
    except ValueError:
        raise ValueError(f"{quote(left)} before '=' is not a quarter: give a history file as QUARTER=FILE "
                         "(e.g. 2026Q1=q1.csv) or as FILE with a quarter column") from None


def _estimator_column(table: Table) -> None:
    """Rows' 'estimated by' cells stored as the extra column 'estimator'."""
    for row in table.rows:
        if "estimator" not in row and "estimated_by" in row:
            row["estimator"] = row.pop("estimated_by")


def read_history(specs: Sequence[str | Path]) -> tuple[tuple[str, Portfolio, str], ...]:
    """(quarter label, Portfolio, source file) per file and quarter of past portfolio files: each spec
    `QUARTER=FILE` (the whole file is that quarter) or `FILE` with a `quarter` column (its rows grouped
    by quarter, each group validated as one portfolio). One `InputError` with every problem of every file."""
    problems: list[Problem] = []
    out: list[tuple[str, Portfolio, str]] = []
    if not specs:
        raise InputError(Problem("no history files: give past portfolio files as QUARTER=FILE or FILE with a "
                                 "quarter column"))
    given: set[Path] = set()
    for spec in specs:
        try:
            quarter, path = _spec(spec)
        except ValueError as e:
            problems.append(Problem(str(e), value=str(spec)))
            continue
        if path.resolve() in given:
            problems.append(Problem("the file is given twice; give each history file once", file=str(path)))
            continue
        given.add(path.resolve())
        try:
            out += _read_file(quarter, path, problems)
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    return tuple(out)


def _read_file(quarter: str | None, path: Path, problems: list[Problem]) -> list[tuple[str, Portfolio, str]]:
    """The (quarter, portfolio, file) of one history file; cell problems go to `problems`."""
    table = read_table(path)
    _estimator_column(table)
    file = str(path)
    groups: dict[str, list[dict[str, Cell]]] = {}
    has_column = any("quarter" in row for row in table.rows)
    if quarter is None and not has_column:
        problems.append(Problem("no quarter column: give the file's quarter on the command line as QUARTER=FILE "
                                f"(e.g. 2026Q1={path.name}) or add a quarter column", file=file,
                                line=table.header_line))
        return []
    for row in table.rows:
        cell = row.pop("quarter", None)
        text = "" if cell is None else cell_text(cell.value)
        if quarter is not None:  # the command line names the file's quarter; a row may only agree
            if text:
                try:
                    own = quarter_cell(cell.value, "quarter")
                except ValueError as e:
                    own = None
                    problems.append(Problem(str(e), file=file, line=cell.line, column=cell.column, value=text))
                if own is not None and own != quarter:
                    problems.append(Problem(f"the row says {own}, but the file is given as {quarter}={path.name}; "
                                            "correct the one or the other", file=file, line=cell.line,
                                            column=cell.column, value=text))
            groups.setdefault(quarter, []).append(row)
            continue
        if not text:
            line = next(iter(row.values())).line if row else table.header_line
            problems.append(Problem("a quarter is required: the quarter this estimate was made for (e.g. 2027Q1)",
                                    file=file, line=line, column=cell.column if cell else "quarter"))
            continue
        try:
            groups.setdefault(quarter_cell(cell.value, "quarter"), []).append(row)
        except ValueError as e:
            problems.append(Problem(str(e), file=file, line=cell.line, column=cell.column, value=text))
    out = []
    first = True
    for label in sorted(groups, key=parse_quarter) or ([quarter] if quarter else []):
        # The table's own problems (header, quoting) are reported with the first group only.
        part = replace(table, rows=groups.get(label, []), problems=table.problems if first else [],
                       notes=list(table.notes))
        first = False
        try:
            out.append((label, build_portfolio(part, source=file), file))
        except InputError as e:
            problems += e.problems
    if first and table.problems:  # no group at all: the table's problems still count
        problems += table.problems
    return out


# --- joining ---------------------------------------------------------------------------------------


def join_history(estimates: Sequence[tuple[str, Portfolio, str]], actuals: Sequence[Actual],
                 actuals_file: str) -> History:
    """The `History` of `estimates` (from `read_history`) joined with `actuals` by (id, quarter).
    Problems (one `InputError`): an actual with no estimate (with a "did you mean"), the same (id,
    quarter) estimated in two files. Estimates without an actual are counted in `History.unmatched`."""
    problems: list[Problem] = []
    found: dict[tuple[str, str], tuple] = {}
    ordered = sorted(enumerate(estimates), key=lambda t: (parse_quarter(t[1][0]), t[0]))
    for _, (quarter, portfolio, source) in ordered:
        for ini in portfolio:
            key = (ini.id, quarter)
            if key in found:
                problems.append(Problem(f"{quote(ini.id)} of {quarter} is estimated in two files, {found[key][2]} and "
                                        f"{source}; keep one", file=source, column="id", value=ini.id))
                continue
            found[key] = (quarter, ini, source)
    by_key = {(a.id, a.quarter): a for a in actuals}
    quarters_read = sorted({q for q, _, _ in estimates}, key=parse_quarter)
    for a in actuals:
        if (a.id, a.quarter) not in found:
            problems.append(Problem(_no_estimate(a, found, quarters_read), file=actuals_file, line=a.line,
                                    column="id", value=a.id))
    if problems:
        raise InputError(problems)
    records, unmatched = [], 0
    for quarter, ini, source in found.values():
        actual = by_key.get((ini.id, quarter))
        if actual is None:
            unmatched += 1
            continue
        who = ini.extra.get("estimator")
        records.append(Record(quarter, ini, actual, source, cell_text(who) or None))
    notes = (f"{unmatched} estimate{'s' * (unmatched != 1)} without an actual (work still running, or not "
             "recorded): left out",) if unmatched else ()
    files = tuple(dict.fromkeys(source for _, _, source in estimates))
    return History(tuple(records), files, actuals_file, unmatched, notes)


def _no_estimate(a: Actual, found: dict, quarters: list[str]) -> str:
    """Why the actual of `a` has no estimate, with the likeliest mistake."""
    message = f"an actual for {quote(a.id)} in {a.quarter}, but no history file estimates it in {a.quarter}"
    same_quarter = [i for i, q in found if q == a.quarter]
    elsewhere = sorted((q for i, q in found if i == a.id), key=parse_quarter)
    folded = [i for i in same_quarter if i.casefold() == a.id.casefold()]
    if a.quarter not in quarters:
        return (f"{message} (the history files hold {', '.join(quarters) or 'no quarter'})"
                + (f"; did you mean quarter {elsewhere[0]}?" if elsewhere else ""))
    if folded:
        return f"{message}; did you mean {folded[0]!r}? (ids are case-sensitive)"
    if elsewhere:
        return f"{message}; did you mean quarter {', '.join(elsewhere)}? ({quote(a.id)} is estimated there)"
    return message + did_you_mean(a.id, same_quarter)


def load_history(specs: Sequence[str | Path], actuals: str | Path) -> History:
    """Past portfolio files and an actuals file, read and joined; one `InputError` for every problem
    of every file."""
    problems: list[Problem] = []
    estimates, found = (), ()
    try:
        estimates = read_history(specs)
    except InputError as e:
        problems += e.problems
    try:
        found = read_actuals(actuals)
    except InputError as e:
        problems += e.problems
    if problems:
        raise InputError(problems)
    return join_history(estimates, found, str(actuals))


# --- the bundled synthetic history ------------------------------------------------------------------


def _bundled_dir() -> Path:
    return Path(str(resources.files("workbench").joinpath(*_HISTORY)))


def bundled_history_specs() -> list[str]:
    """The bundled history's files as `QUARTER=path` specs, in quarter order."""
    files = sorted(_bundled_dir().glob("*.csv"))
    return [f"{p.stem}={p}" for p in files if p.stem != "actuals" and is_quarter(p.stem)]


def bundled_actuals_path() -> Path:
    """The bundled history's actuals file."""
    return _bundled_dir() / "actuals.csv"


def bundled_previous_report_path() -> Path:
    """The report record (JSON) of the bundled history's last quarter, 2026Q3."""
    return _bundled_dir() / "2026Q3.report.json"


@functools.lru_cache(maxsize=1)
def bundled_history() -> History:
    """The synthetic history shipped with the package (eight quarters of the demo company)."""
    return load_history(bundled_history_specs(), bundled_actuals_path())

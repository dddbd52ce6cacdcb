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

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path

from .. import setting_values as read
from ..calibration.history import ACTUAL_COLUMNS, Actual, History, Record
from ..errors import InputError, Problem, bad_character, did_you_mean, quote
from ..model.estimates import IMPACT_WORDS, number_text
from ..model.portfolio import Portfolio
from ..model.quarters import EXPECTED as QUARTER_EXPECTED
from ..model.quarters import is_quarter, parse_quarter, quarter_label
from .delimited import read_csv
from .read import read_table
from .table import Cell, Table, check_file_size, column_keys, decode_text, normalize_column
from .validate import build_portfolio
from .workbook import read_xlsx

__all__ = ["bundled_actuals_path", "bundled_history", "bundled_history_specs", "bundled_previous_report_path",
           "join_history", "load_history", "read_actuals", "read_history"]

# Header spellings read as the actuals' columns (after `normalize_column` and dropping a unit in brackets).
_ACTUAL_SYNONYMS = {"effort_spent": "actual_effort", "spent_effort": "actual_effort", "shipped": "delivered",
                    "delivered_in": "delivered_quarter", "shipped_quarter": "delivered_quarter",
                    "shipped_in": "delivered_quarter", "measured_reach": "actual_reach",
                    "measured_impact": "actual_impact", "quarter_of_the_estimate": "quarter"}
_ESTIMATOR = ("estimator", "estimated_by")  # extra columns read as who estimated a row
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
_UNIT = re.compile(r"(.*?)\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*")  # 'Actual effort (person-months)'
_DECIMAL_COMMA = re.compile(r"\s*(\d+),(\d{1,2})\s*")  # '2,5': a decimal comma (not '1,200', a thousands one)
_HISTORY = ("data", "history")


# --- actuals ---------------------------------------------------------------------------------------


def _header_name(header: str) -> str:
    """The column a header of the actuals file is read as (or its normalized name)."""
    m = _UNIT.fullmatch(str(header))
    name = normalize_column(m.group(1) if m and m.group(1).strip() else header)
    if name in ("reach", "impact", "effort"):  # 'Effort' alone in an actuals file: what was spent
        name = f"actual_{name}"
    return _ACTUAL_SYNONYMS.get(name, name)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)
    return str(value).strip()


def _quarter(value: object, column: str) -> str:
    """A quarter cell as its canonical label; ValueError saying what is expected."""
    if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        raise ValueError(f"{column} is {QUARTER_EXPECTED}, not {'a date' if isinstance(value, dt.date) else 'a number'}"
                         ": format the column as Text in Excel and type the quarter (e.g. 2027Q1)")
    return quarter_label(parse_quarter(_text(value)))


def _no_decimal_comma(value: object) -> None:
    """Refuse '2,5' (a decimal comma) with the fix '2.5'."""
    if isinstance(value, str) and (m := _DECIMAL_COMMA.fullmatch(value)):
        raise _Fixable(f"a decimal comma in {quote(value.strip())}: write {m[1]}.{m[2]} (a point for decimals)",
                       f"{m[1]}.{m[2]}")


def _effort(value: object) -> float:
    """Person-months spent (>= 0); ValueError saying what is expected."""
    text = _text(value)
    _no_decimal_comma(value)
    if isinstance(value, str) and re.search(r"\d\s*[kKmM]\s*$", text):
        raise ValueError(f"actual_effort is in person-months; write a plain number (e.g. 2.5), not {quote(text)}")
    effort = read.amount(value if not isinstance(value, str) else text)
    if effort < 0:
        raise ValueError("actual_effort must be >= 0 (person-months)")
    return effort


def _measure(value: object, column: str) -> float:
    """A measured reach (>= 0, 2.5k and 1.2M allowed) or impact (>= 0, or an impact word)."""
    text = _text(value)
    if column == "actual_impact" and isinstance(value, str) and text.lower() in IMPACT_WORDS:
        return IMPACT_WORDS[text.lower()]
    _no_decimal_comma(value)
    try:
        number = read.amount(value if not isinstance(value, str) else text)
    except ValueError:
        words = f" or an impact word ({', '.join(IMPACT_WORDS)})" if column == "actual_impact" else ""
        raise ValueError(f"expected a number >= 0 (e.g. 1200 or 1.2k){words}") from None
    if number < 0:
        raise ValueError(f"{column} must be >= 0")
    return number


def _delivered(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError("expected yes or no (true/false, y/n, 1/0)" + did_you_mean(text, ("yes", "no", "true", "false")))


class _Fixable(ValueError):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def _actuals_table(path: Path) -> Table:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(Problem("file not found" if not path.exists() else "not a file", file=str(path)))
    check_file_size(path)
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, None)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise InputError(Problem(f"unknown file type {suffix or '(none)'!r} for actuals; expected .csv or .xlsx",
                                 file=str(path)))
    if not decode_text(path).strip():
        raise InputError(Problem("the file is empty; expected a header row with id, quarter and at least one of "
                                 + ", ".join(ACTUAL_COLUMNS), file=str(path)))
    return read_csv(path)


def read_actuals(path: str | Path) -> tuple[Actual, ...]:
    """The actuals of a CSV or .xlsx file (columns id, quarter and at least one of `ACTUAL_COLUMNS`);
    one `InputError` listing every problem, each located."""
    path = Path(path)
    table = _actuals_table(path)
    file = str(path)
    problems: list[Problem] = list(table.problems)
    names: dict[str, str] = {}  # column key -> our column
    seen: dict[str, str] = {}
    for key, header in zip(column_keys(table.header or []), table.header or []):
        name = _header_name(header)
        if not name:
            continue
        if name in seen and name in ("id", "quarter", *ACTUAL_COLUMNS):
            problems.append(Problem(f"columns {quote(seen[name])} and {quote(header)} are both read as {name}; "
                                    "delete or rename one", file=file, line=table.header_line))
            continue
        seen[name], names[key] = header, name
    found = set(names.values())
    shown = ", ".join(quote(h) for h in (table.header or []) if h.strip()) or "none"
    for column in ("id", "quarter"):
        if column not in found:
            problems.append(Problem(f"missing column {column}; an actuals file needs id, quarter and at least one of "
                                    f"{', '.join(ACTUAL_COLUMNS)} (its columns: {shown})"
                                    + did_you_mean(column, list(seen)), file=file, line=table.header_line))
    if not found & set(ACTUAL_COLUMNS):
        problems.append(Problem(f"no actual column: expected at least one of {', '.join(ACTUAL_COLUMNS)} "
                                f"(its columns: {shown})", file=file, line=table.header_line))
    if problems and not found >= {"id", "quarter"}:
        raise InputError(problems)
    out, first = [], {}
    for raw in table.rows:
        row = {names[k]: c for k, c in raw.items() if k in names}
        if not any(_text(c.value) for c in row.values()):
            continue
        key, actual = _actual_row(row, file, problems)
        line = row["id"].line
        if key in first:  # also when the row has other problems: both are worth saying at once
            problems.append(Problem(f"the actual of {quote(key[0])} in {key[1]} is given twice (line "
                                    f"{first[key]} and line {line}); keep one", file=file, line=line,
                                    column=row["id"].column, value=key[0]))
            continue
        if key is not None:
            first[key] = line
        if actual is not None:
            out.append(actual)
    if problems:
        raise InputError(problems)
    return tuple(out)


def _actual_row(row: dict[str, Cell], file: str, problems: list[Problem]
                ) -> tuple[tuple[str, str] | None, Actual | None]:
    """One row's (id, quarter) key (None when either is unusable) and `Actual` (None when a cell is
    bad); bad cells go to `problems`."""
    line = next(iter(row.values())).line
    before = len(problems)

    def bad(column: str, message: str, fix: str | None = None) -> None:
        cell = row[column]
        shown = _text(cell.value)
        problems.append(Problem(message, file=file, line=cell.line, column=cell.column, value=shown or None, fix=fix))

    for cell in row.values():
        if cell.problem:
            problems.append(Problem(cell.problem, file=file, line=cell.line, column=cell.column))
    id_ = _text(row["id"].value)
    if not id_:
        bad("id", "an id is required (the id of the initiative in that quarter's portfolio file)")
    elif problem := bad_character(id_):
        bad("id", problem)
    quarter = None
    if not _text(row["quarter"].value):
        bad("quarter", "a quarter is required: the quarter whose portfolio file holds the estimate (e.g. 2027Q1)")
    else:
        try:
            quarter = _quarter(row["quarter"].value, "quarter")
        except ValueError as e:
            bad("quarter", str(e))
    values: dict = {}
    for column in ACTUAL_COLUMNS:
        cell = row.get(column)
        if cell is None or cell.problem or (not isinstance(cell.value, bool) and not _text(cell.value)):
            continue
        try:
            if column == "actual_effort":
                values[column] = _effort(cell.value)
            elif column == "delivered":
                values[column] = _delivered(cell.value)
            elif column == "delivered_quarter":
                values[column] = _quarter(cell.value, column)
            else:
                values[column] = _measure(cell.value, column)
        except _Fixable as e:
            bad(column, str(e), e.fix)
        except ValueError as e:
            bad(column, str(e))
    if values.get("delivered") is False and "delivered_quarter" in values:
        bad("delivered_quarter", "delivered is no, but a delivered quarter is given; clear the one or the other")
    elif "delivered_quarter" in values and "delivered" not in values:
        values["delivered"] = True  # a quarter it shipped in says it shipped
    shipped = values.get("delivered_quarter")
    if quarter and shipped and parse_quarter(shipped) < parse_quarter(quarter):
        bad("delivered_quarter", f"delivered in {values['delivered_quarter']}, before the quarter of the estimate "
                                 f"({quarter}); the quarter column is the quarter whose portfolio file holds the "
                                 "estimate")
    if values.get("actual_effort") == 0 and values.get("delivered") is not False:
        bad("actual_effort", "expected person-months > 0 for work that was delivered (or not said to be "
                             "undelivered); 0 only for work that was never started")
    key = (id_, quarter) if id_ and quarter else None
    if len(problems) > before or key is None:
        return key, None
    return key, Actual(id_, quarter, line=line, **values)


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
        text = "" if cell is None else _text(cell.value)
        if quarter is not None:  # the command line names the file's quarter; a row may only agree
            if text:
                try:
                    own = _quarter(cell.value, "quarter")
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
            groups.setdefault(_quarter(cell.value, "quarter"), []).append(row)
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
        records.append(Record(quarter, ini, actual, source, _text(who) or None))
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

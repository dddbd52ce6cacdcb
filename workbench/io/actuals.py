"""Reading an actuals file: what happened to past initiatives (CSV or .xlsx).

Columns `id`, `quarter` and any of `calibration.history.ACTUAL_COLUMNS` (effort spent, delivered,
reach and impact measured after launch, the quarter it shipped); headers are read loosely (case,
spaces, a unit in brackets, a few synonyms such as "effort spent" and "shipped"). Every cell is
checked and every problem reported at once, located by file, line, column and value; a decimal
comma ("2,5") is refused with its fix. `io.history` joins the actuals with past estimates.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from .. import setting_values as read
from ..calibration.history import ACTUAL_COLUMNS, Actual
from ..errors import InputError, Problem, bad_character, did_you_mean, quote
from ..model.estimates import IMPACT_WORDS, number_text
from ..model.quarters import EXPECTED as QUARTER_EXPECTED
from ..model.quarters import parse_quarter, quarter_label
from .delimited import read_csv
from .table import Cell, Table, check_file_size, column_keys, decode_text, normalize_column
from .workbook import read_xlsx

__all__ = ["cell_text", "quarter_cell", "read_actuals"]

# Header spellings read as the actuals' columns (after `normalize_column` and dropping a unit in brackets).
_ACTUAL_SYNONYMS = {"effort_spent": "actual_effort", "spent_effort": "actual_effort", "shipped": "delivered",
                    "delivered_in": "delivered_quarter", "shipped_quarter": "delivered_quarter",
                    "shipped_in": "delivered_quarter", "measured_reach": "actual_reach",
                    "measured_impact": "actual_impact", "quarter_of_the_estimate": "quarter"}
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}
_UNIT = re.compile(r"(.*?)\s*(?:\([^()]*\)|\[[^\[\]]*\])\s*")  # 'Actual effort (person-months)'
_DECIMAL_COMMA = re.compile(r"\s*(\d+),(\d{1,2})\s*")  # '2,5': a decimal comma (not '1,200', a thousands one)


# --- actuals ---------------------------------------------------------------------------------------


def _header_name(header: str) -> str:
    """The column a header of the actuals file is read as (or its normalized name)."""
    m = _UNIT.fullmatch(str(header))
    name = normalize_column(m.group(1) if m and m.group(1).strip() else header)
    if name in ("reach", "impact", "effort"):  # 'Effort' alone in an actuals file: what was spent
        name = f"actual_{name}"
    return _ACTUAL_SYNONYMS.get(name, name)


def cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return number_text(value)
    return str(value).strip()


def quarter_cell(value: object, column: str) -> str:
    """A quarter cell as its canonical label; ValueError saying what is expected."""
    if isinstance(value, (dt.date, dt.datetime)) or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        raise ValueError(f"{column} is {QUARTER_EXPECTED}, not {'a date' if isinstance(value, dt.date) else 'a number'}"
                         ": format the column as Text in Excel and type the quarter (e.g. 2027Q1)")
    return quarter_label(parse_quarter(cell_text(value)))


def _no_decimal_comma(value: object) -> None:
    """Refuse '2,5' (a decimal comma) with the fix '2.5'."""
    if isinstance(value, str) and (m := _DECIMAL_COMMA.fullmatch(value)):
        raise _Fixable(f"a decimal comma in {quote(value.strip())}: write {m[1]}.{m[2]} (a point for decimals)",
                       f"{m[1]}.{m[2]}")


def _effort(value: object) -> float:
    """Person-months spent (>= 0); ValueError saying what is expected."""
    text = cell_text(value)
    _no_decimal_comma(value)
    if isinstance(value, str) and re.search(r"\d\s*[kKmM]\s*$", text):
        raise ValueError(f"actual_effort is in person-months; write a plain number (e.g. 2.5), not {quote(text)}")
    effort = read.amount(value if not isinstance(value, str) else text)
    if effort < 0:
        raise ValueError("actual_effort must be >= 0 (person-months)")
    return effort


def _measure(value: object, column: str) -> float:
    """A measured reach (>= 0, 2.5k and 1.2M allowed) or impact (>= 0, or an impact word)."""
    text = cell_text(value)
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
    text = cell_text(value).lower()
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
        if not any(cell_text(c.value) for c in row.values()):
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
        shown = cell_text(cell.value)
        problems.append(Problem(message, file=file, line=cell.line, column=cell.column, value=shown or None, fix=fix))

    for cell in row.values():
        if cell.problem:
            problems.append(Problem(cell.problem, file=file, line=cell.line, column=cell.column))
    id_ = cell_text(row["id"].value)
    if not id_:
        bad("id", "an id is required (the id of the initiative in that quarter's portfolio file)")
    elif problem := bad_character(id_):
        bad("id", problem)
    quarter = None
    if not cell_text(row["quarter"].value):
        bad("quarter", "a quarter is required: the quarter whose portfolio file holds the estimate (e.g. 2027Q1)")
    else:
        try:
            quarter = quarter_cell(row["quarter"].value, "quarter")
        except ValueError as e:
            bad("quarter", str(e))
    values: dict = {}
    for column in ACTUAL_COLUMNS:
        cell = row.get(column)
        if cell is None or cell.problem or (not isinstance(cell.value, bool) and not cell_text(cell.value)):
            continue
        try:
            if column == "actual_effort":
                values[column] = _effort(cell.value)
            elif column == "delivered":
                values[column] = _delivered(cell.value)
            elif column == "delivered_quarter":
                values[column] = quarter_cell(cell.value, column)
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

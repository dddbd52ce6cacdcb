"""`workbench check`: every problem of a portfolio file at once, and a corrected copy where the fixes are unambiguous.

`check_file` reads the file as `load_portfolio` does (`read.read_table`, then
`validate.build_portfolio`), and on a copy of its cells makes the corrections `--fix` makes: each
cell that does not parse and has one unambiguous reading (`fixes.explain_fix`), a row that repeats
an earlier one cell for cell (dropped), blank cells of the columns given defaults
(`--default confidence=80%`), a header or YAML key a typo away from a missing column (`Efort`,
`efort:`), a totals row (`Total,,,,3`: dropped). Done rows are read for their id and name only, so
their cells get no fix. The report holds the file's problems as they are (each with its fix), the changes, and
what is left after them; `fixed_copy.write_fixed` writes the corrected table only when nothing is left.
The input is never modified; a duplicated id whose rows differ, a comma that may be a decimal one,
a word outside the grammar or effort in weeks stay problems, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import InputError, Problem, clip, did_you_mean, quote
from ..model.estimates import FACTORS, number_text
from ..model.portfolio import Portfolio
from .columns import ColumnMap, column_map_path, read_column_map, status_key
from .fixed_copy import check_output_path, fixed_name, write_fixed
from .fixes import FIXED_COLUMNS, explain_fix, header_units
from .read import correlations_path, read_table
from .table import Cell, Table
from .validate import build_portfolio
from .workbook import sheet_names

__all__ = ["Change", "CheckReport", "check_file", "check_output_path", "fixed_name", "parse_defaults", "write_fixed"]

DEFAULT_COLUMNS = (*FIXED_COLUMNS, "team", "theme")  # the columns --default may fill
TOTALS = ("total", "totals", "sum", "subtotal", "grand total")  # a name cell that makes a row a sheet's sum row


@dataclass(frozen=True)
class Change:
    """One correction of the copy: a cell's text (`column`, `before` -> `after`), or a row dropped
    (`column` and `after` None)."""

    line: int
    column: str | None
    before: str
    after: str | None
    reason: str

    def __str__(self) -> str:
        if self.column is None:
            return f"line {self.line}: row dropped ({self.reason})"
        return f"line {self.line}, column {self.column}: {quote(self.before)} -> {quote(self.after)} ({self.reason})"


@dataclass(frozen=True)
class CheckReport:
    """What `check_file` found: `problems`, the file's as it is (each with its `fix` when `--fix`
    makes one); `changes`, what `--fix` changes; `remaining`, the problems left after the changes;
    `portfolio`, the corrected portfolio when nothing is left; `table`, the corrected table (what
    the copy holds), with `renames` (header as written -> the column it was misspelt for),
    `columns` (the mapping file read: given, or the companion) and `other_sheets` (an .xlsx's sheets not read)."""

    source: str
    problems: list[Problem]
    changes: list[Change] = field(default_factory=list)
    remaining: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    portfolio: Portfolio | None = None
    table: Table | None = field(default=None, compare=False, repr=False)
    renames: dict[str, str] = field(default_factory=dict)
    columns: str | None = None
    other_sheets: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        """The file is a valid portfolio as it is."""
        return not self.problems

    @property
    def fixable(self) -> int:
        """How many of `problems` the changes correct."""
        left = {_where(p) for p in self.remaining}
        return sum(1 for p in self.problems if _where(p) not in left)


def _where(p: Problem) -> tuple:
    return p.file, p.line, p.column, p.message


def check_file(path: str | Path, *, sheet: str | None = None, columns=None,
               defaults: dict[str, str] | None = None) -> CheckReport:
    """Check a portfolio file without simulating: every problem, the unambiguous fixes, and the
    corrected portfolio when they leave no problem. A file that cannot be read at all (not found,
    not UTF-8, broken quoting) gives a report whose problems say why."""
    path = Path(path)
    file = str(path)
    companion_map = column_map_path(path)
    mapping = (str(columns) if isinstance(columns, (str, Path))
               else str(companion_map) if columns is None and companion_map.is_file() else None)
    default_problems = _checked_defaults(defaults or {})
    try:
        table = read_table(path, sheet=sheet, columns=columns)
    except InputError as e:
        return CheckReport(file, [*default_problems, *e.problems], remaining=[*default_problems, *e.problems],
                           columns=mapping)
    table, header_changes, renamed = _with_headers_fixed(table, path, sheet, columns)
    companion = correlations_path(path)
    if companion.is_file():  # as load_portfolio does
        from .delimited import read_correlation_csv

        try:
            table.correlations += read_correlation_csv(companion)
        except InputError as e:
            table.problems += e.problems
    notes = list(dict.fromkeys(table.notes))
    corrected, changes, marks = _corrected(table, defaults or {})
    changes = header_changes + changes
    made = [c for row in corrected.rows for c in row.values() if _made(c)]
    if made:  # the copy carries them, so that it reads back with the same ids
        changes.insert(0, Change(table.header_line, "id", "", "id", "ids made from the names written as column id"))
    # The misspelt headers' problems, then those of every cell (the misspelt columns' cells too: all at once).
    as_is = renamed + _annotated(_problems(table), marks, file)
    try:
        portfolio, remaining = build_portfolio(corrected, source=file), []
    except InputError as e:
        portfolio, remaining = None, _annotated(e.problems, _Marks(marks.fixes, marks.refused), file)
    if default_problems:
        portfolio, remaining = None, [*default_problems, *remaining]
    if portfolio is not None:
        notes = list(dict.fromkeys([*notes, *portfolio.notes]))
    renames = {c.before: c.after for c in header_changes}
    # Cells the fixes make unclear (a bare 0.5 among percentages fixed to 80%) are told now, not after --fix.
    seen = {(p.line, p.column) for p in as_is}
    as_is += [p for p in remaining if _AMONG_PERCENTAGES in p.message and (p.line, p.column) not in seen]
    return CheckReport(file, [*default_problems, *as_is], changes, remaining, notes, portfolio, corrected,
                       renames, mapping, _other_sheets(path, sheet))


def _other_sheets(path: Path, sheet: str | None) -> tuple[str, ...]:
    """The worksheets of an .xlsx other than the one read (the first, without `sheet`); () for other files."""
    names = sheet_names(path)
    read = sheet if sheet is not None else next(iter(names), None)
    return tuple(n for n in names if n.casefold() != (read or "").casefold())


def _with_headers_fixed(table: Table, path: Path, sheet: str | None, columns
                        ) -> tuple[Table, list[Change], list[Problem]]:
    """The table read again with each header a typo away from a missing column (the only one that
    close: its problem names it as value, the column as fix) mapped to that column; the changes,
    and the problems they fix. The table as it is when there is none."""
    fixing = [p for p in table.problems if table.header is not None and p.file == table.file
              and p.line == table.header_line and p.fix in table.missing and isinstance(p.value, str)]
    if not fixing:
        return table, [], []
    renames = {p.fix: p.value for p in fixing}
    base = _column_map(path, columns)
    try:
        mapped = read_table(path, sheet=sheet, columns=ColumnMap({**base.columns, **renames}, base.status,
                                                                 base.source, base.lines))
    except InputError:
        return table, [], []
    mapped.notes = list(table.notes)  # not the second reading's note about the mapping
    return mapped, [Change(table.header_line, col, header, col, "a misspelt header")
                    for col, header in renames.items()], fixing


def parse_defaults(items: list[str]) -> dict[str, str]:
    """`--default COLUMN=VALUE` flags as {column: value}; ValueError for one without '='."""
    defaults = {}
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ValueError(f"--default expects COLUMN=VALUE (e.g. confidence=80%), got {item!r}")
        defaults[column.strip().lower()] = value
    return defaults


def _column_map(path: Path, columns: ColumnMap | str | Path | None) -> ColumnMap:
    """The mapping `read_table` uses for `path` when given `columns` (a YAML's own block aside: it has no header)."""
    if isinstance(columns, ColumnMap):
        return columns
    companion = column_map_path(path)
    chosen = columns if columns is not None else (companion if companion.is_file() else None)
    return read_column_map(chosen) if chosen is not None else ColumnMap()


def _problems(table: Table) -> list[Problem]:
    """The problems of `table` as it is (build_portfolio on a copy: it may add to the table's lists)."""
    try:
        build_portfolio(replace(table, problems=list(table.problems), notes=list(table.notes)), source=table.file)
    except InputError as e:
        return e.problems
    return []


def _checked_defaults(defaults: dict[str, str]) -> list[Problem]:
    """Problems of `--default COLUMN=VALUE` pairs: a column that cannot take a default, a value it cannot hold."""
    problems = []
    for column, value in defaults.items():
        where = f"--default {clip(column)}={clip(value)}"
        if column not in DEFAULT_COLUMNS:
            problems.append(Problem(f"{where}: a default can be given for {', '.join(DEFAULT_COLUMNS)}"
                                    + did_you_mean(clip(column), DEFAULT_COLUMNS)))
        elif not value.strip():
            problems.append(Problem(f"{where}: the default is empty"))
        elif (problem := _value_problem(column, value.strip())) is not None:
            problems.append(Problem(f"{where}: {problem}", fix=explain_fix(column, value)[0]))
    return problems


def _value_problem(column: str, value: str) -> str | None:
    """What `build_portfolio` says of `value` in `column` (in a one-row table), or None when it is valid there."""
    row = {c: Cell(v, 1, c) for c, v in (("id", "x"), ("name", "x"), *((f, "1") for f in FACTORS))}
    row[column] = Cell(value, 1, column)
    try:
        build_portfolio(Table("--default", [row]), source="")
    except InputError as e:
        return e.problems[0].message
    return None


# --- the corrections ---------------------------------------------------------------------------


@dataclass
class _Marks:
    """What the corrections did or refused, by cell (line, column label): the fix or the reason none is made."""

    fixes: dict[tuple[int, str], str] = field(default_factory=dict)
    refused: dict[tuple[int, str], str] = field(default_factory=dict)
    copies: dict[int, int] = field(default_factory=dict)  # line of a dropped row -> the line it repeats
    totals: dict[int, str] = field(default_factory=dict)  # line of a totals row -> its name cell


def _corrected(table: Table, defaults: dict[str, str]) -> tuple[Table, list[Change], _Marks]:
    """A copy of `table` with every unambiguous correction made, the changes, and the marks by cell."""
    changes: list[Change] = []
    marks = _Marks()
    seen: dict[tuple, int] = {}
    rows = []
    reported = {(p.line, p.column): p for p in table.problems if p.fix is not None}
    fixed_problems: list[Problem] = []
    decimal_comma = table.delimiter == ";"  # its commas are decimal commas
    for row in table.rows:
        if not row:
            continue
        line = min(c.line for c in row.values())
        key = tuple(sorted((col, repr(c.value)) for col, c in row.items() if not _made(c)))
        if key in seen:
            marks.copies[line] = seen[key]
            changes.append(Change(line, None, "", None, f"the same as line {seen[key]} in every cell"))
            continue
        seen[key] = line
        if (total := _totals_name(row)) is not None:
            marks.totals[line] = total
            changes.append(Change(line, None, "", None, "a totals row"))
            continue
        new = dict(row)
        for col, cell in row.items():
            typo = reported.get((cell.line, cell.column)) if cell.problem == "" else None
            if typo is not None:  # a key a typo away from a column (YAML): the reader put it there already
                new[col] = replace(cell, problem=None)
                fixed_problems.append(typo)
                changes.append(Change(cell.line, col, _header_of(cell) or cell.column, col, "a misspelt field name"))
        if "status" in row and table.status.get(status_key(row["status"].value)) == "done":
            rows.append(new)  # only its id and name are read: no fix, default or hint for its other cells
            continue
        for col in FIXED_COLUMNS:
            cell = row.get(col)
            if cell is not None and cell.problem is None:
                fix, why = explain_fix(col, cell.value, header_units(_header_of(cell)), decimal_comma=decimal_comma)
                if fix is not None:
                    new[col] = Cell(fix, cell.line, cell.column)
                    marks.fixes[cell.line, cell.column] = fix
                    changes.append(Change(cell.line, col, cell.value.strip(), fix, why))
                elif why:
                    marks.refused[cell.line, cell.column] = why
        for col, value in defaults.items():
            cell = row.get(col)
            if cell is None or (cell.problem is None and _blank(cell.value)):
                label = cell.column if cell is not None else col
                new[col] = Cell(value.strip(), line if cell is None else cell.line, label)
                marks.fixes[new[col].line, label] = value.strip()
                changes.append(Change(new[col].line, col, "", value.strip(), f"blank: --default {col}={value.strip()}"))
        for col in FACTORS:
            cell = row.get(col)
            if col not in defaults and (cell is None or (cell.problem is None and _blank(cell.value))):
                marks.refused[line if cell is None else cell.line, col if cell is None else cell.column] = (
                    f"not fixed: give the value of blank {col} cells with --default {col}=VALUE")
        rows.append(new)
    _mixed_confidence(rows, changes)
    problems = [p for p in table.problems if all(p is not f for f in fixed_problems)]
    missing = set(table.missing) - set(defaults)
    problems = [p for p in problems if not _missing_filled(p, table.missing - missing)]
    return replace(table, rows=rows, problems=problems, notes=list(table.notes), missing=missing), changes, marks


def _totals_name(row: dict[str, Cell]) -> str | None:
    """The name cell of a spreadsheet's sum row ('Total' and most estimates blank), else None."""
    name = row.get("name")
    text = name.value.strip() if name is not None and isinstance(name.value, str) else ""
    if " ".join(text.lower().split()) not in TOTALS:
        return None
    blank = sum(1 for f in FACTORS if f not in row or _blank(row[f].value))
    return text if blank * 2 > len(FACTORS) else None


_AMONG_PERCENTAGES = "among confidences written as plain percentages"


def _mixed_confidence(rows: list[dict[str, Cell]], changes: list[Change]) -> None:
    """When the fixes read bare confidences as percentages (80 -> 80%), a bare 1 or 0.5 in the same
    column is no longer clear (a fraction, or 1%?): it becomes a problem of its own, never guessed."""
    if not any(c.column == "confidence" and c.reason.startswith("a percentage written without %") for c in changes):
        return
    for row in rows:
        cell = row.get("confidence")
        value = cell.value if cell is not None else None
        text = value.strip() if isinstance(value, str) else value
        bare = isinstance(text, (int, float)) and not isinstance(text, bool) or (
            isinstance(text, str) and re.fullmatch(r"\d*\.?\d+", text) is not None)
        if bare and cell.problem is None and 0 < float(text) <= 1:
            v, pct = number_text(float(text)), f"{float(text):.0%}"
            row["confidence"] = replace(cell, problem=(
                f"{v} {_AMONG_PERCENTAGES} (80 for 80%): is it {pct} or {v}%? write it with %"))


def _missing_filled(problem: Problem, filled: set[str]) -> bool:
    """A missing required column's problem, for a column --default gives every row."""
    return any(problem.message.startswith(f"missing required {what} {quote(col)}")
               for col in filled for what in ("column", "field"))


def _made(cell: Cell) -> bool:
    """An id the reader made from the name (it differs between copies of a row)."""
    return cell.column.endswith("(made from the name)")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_of(cell: Cell) -> str:
    """The header a cell's column label shows: '5 (Effort (person-months))' -> 'Effort (person-months)'."""
    m = re.fullmatch(r"[^ ]+ \((.*)\)", cell.column)
    return m.group(1) if m else ""


def _annotated(problems: list[Problem], marks: _Marks, file: str) -> list[Problem]:
    """Problems with the fix `--fix` makes, or the reason it makes none; a copied row's problems
    (those of the row it repeats) replaced by one saying it is dropped."""
    out, said = [], set()
    for p in problems:
        if p.line in marks.totals:
            if p.line not in said:
                said.add(p.line)
                out.append(_totals_problem(p.line, marks.totals[p.line], p.file))
            continue
        copy_of = marks.copies.get(p.line)
        if copy_of is not None:
            if p.line not in said:
                said.add(p.line)
                out.append(Problem(f"the row is the same as line {copy_of} in every cell; --fix drops it",
                                   file=p.file, line=p.line))
            continue
        where = (p.line, p.column)
        if where in marks.fixes and p.fix is None:
            p = replace(p, fix=marks.fixes[where])
        elif where in marks.refused and p.fix is None:
            p = replace(p, message=f"{p.message}; {marks.refused[where]}")
        out.append(p)
    for line, copy_of in marks.copies.items():  # a copy with no problem of its own (ids made from the names)
        if line not in said:
            at = next((i for i, p in enumerate(out) if p.line is not None and p.line > line), len(out))
            out.insert(at, Problem(f"the row is the same as line {copy_of} in every cell; --fix drops it",
                                   file=file, line=line))
    for line, name in marks.totals.items():  # a totals row whose cells all read (made ids, a default)
        if line not in said:
            at = next((i for i, p in enumerate(out) if p.line is not None and p.line > line), len(out))
            out.insert(at, _totals_problem(line, name, file))
    return out


def _totals_problem(line: int, name: str, file: str | None) -> Problem:
    return Problem(f"line {line} looks like a totals row ({clip(name)}): delete it; --fix drops it",
                   file=file, line=line)

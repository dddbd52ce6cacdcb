"""Excel workbooks (.xlsx, .xlsm) read into raw tables, in bounded time and memory.

Nothing in the file is trusted before it is checked: the archive and the parts other than the
sheet are checked and read in `workbook_parts` (every part's declared size within its limit before
anything is inflated). openpyxl reads only the package's small structural parts (the manifest, the
workbook and its relationships: sheet names and where they are). The sheet is streamed with expat
(`workbook_sheet`), holding no XML tree, because openpyxl's read-only mode trusts the sheet's
`<dimension>` (it drops the rows outside it and pads every row to its width: A1:XFD1048576 means
17 billion cells). At most `limits.MAX_COLUMNS` columns are kept (a value beyond is reported) and
at most `limits.MAX_ROWS` rows (the rest are counted). Numbers stay numbers in the `Cell`s.

What Excel shows but a cell's value does not say is reported here: a formula whose result was never
saved (named with its text, instead of "the cell is empty"), merged cells over the table (only the
first holds the value), and, as notes that do not stop the load, hidden rows and columns (read
like any other).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError, Problem, did_you_mean, quote
from ..limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_SHEET_BYTES,
    MAX_STRUCTURE_BYTES,
)
from ..model.portfolio import REQUIRED
from .table import Cell, Table, Unnamed, column_keys, long_cell, normalize_column, too_many_rows
from .workbook_parts import check_archive, check_part, date_styles, mib, problem, shared_strings, stream
from .workbook_sheet import NoResult, Sheet, column_letter

_LISTED = 20  # sheet names, merged ranges, hidden rows named in a message; the rest are counted
_COVER_BUDGET = 1_000_000  # cells of merged ranges and array formulas marked, at most (ranges may overlap)


def read_xlsx(path: Path, sheet: str | None) -> Table:
    """The raw table of a sheet (the first worksheet by default) of an .xlsx workbook."""
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import ExcelReader, _find_workbook_part
    from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS

    sizes = check_archive(path)
    try:
        reader = ExcelReader(path, read_only=True, data_only=True, keep_links=False)
    except Exception as e:
        raise problem(path, f"cannot read as an Excel workbook: {_reason(e)}") from None
    archive, step = reader.archive, "the structure"
    try:
        try:
            reader.read_manifest()
            # The workbook part is parsed whole, with its relationships, under whatever name the
            # manifest gives it: bound it by that name (the names checked before are only the usual ones).
            book = _find_workbook_part(reader.package).PartName[1:]
            for part in (book, get_rels_path(book)):
                check_part(path, sizes, part, MAX_STRUCTURE_BYTES, "MAX_STRUCTURE_BYTES")
            reader.read_workbook()
            found = [(s.name, rel) for s, rel in reader.parser.find_sheets() if rel.target in sizes]
            worksheets = {name: rel.target for name, rel in found if "chartsheet" not in rel.Type}
            if not worksheets:
                raise problem(path, "the workbook has no worksheet; expected a sheet with a header row with "
                                    + ", ".join(REQUIRED))
            if sheet is not None and sheet not in worksheets:  # Excel's sheet names ignore case, so does --sheet
                sheet = next((w for w in worksheets if w.casefold() == sheet.casefold()), sheet)
            if sheet is not None and sheet not in worksheets:
                raise problem(path, _no_sheet(sheet, list(worksheets), {name for name, _ in found}))
            step = "the shared strings"
            part = reader.package.find(SHARED_STRINGS)
            name = part.PartName[1:] if part is not None else None
            check_part(path, sizes, name, MAX_SHARED_STRINGS_BYTES, "MAX_SHARED_STRINGS_BYTES")
            strings = shared_strings(archive, name) if name in sizes else []
            step = "the styles"
            dates, durations = date_styles(archive, ARC_STYLE) if ARC_STYLE in sizes else (set(), set())
        except InputError:
            raise
        except Exception as e:  # openpyxl and expat raise many types for a corrupt file
            raise problem(path, f"cannot read {step} of the workbook: {_reason(e)}") from None
        name = sheet if sheet is not None else next(iter(worksheets))
        if sizes[worksheets[name]] > MAX_SHEET_BYTES:
            raise problem(path, f"sheet {quote(name)} unpacks to {mib(sizes[worksheets[name]])}; at most "
                                 f"{mib(MAX_SHEET_BYTES)} are read (limits.MAX_SHEET_BYTES)")
        handlers = Sheet(strings, dates, durations, reader.wb.epoch, _Beyond(path))
        try:
            rows = stream(archive, worksheets[name], handlers.start, handlers.end, handlers.data, handlers.ready)
            return _table(path, rows, handlers)
        except InputError:
            raise
        except Exception as e:  # truncated or malformed XML, a bad shared-string index, a bad number
            raise problem(path, f"sheet {quote(name)} is damaged ({_reason(e)}); open it in Excel and save it again",
                           line=handlers.row or None) from None
    finally:
        archive.close()


def sheet_names(path: Path) -> list[str]:
    """The worksheets of an .xlsx, in order (chart sheets left out); [] for another file or one that
    cannot be read (its reader says why)."""
    if Path(path).suffix.lower() not in (".xlsx", ".xlsm"):
        return []
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
        names = [ws.title for ws in wb.worksheets]
        wb.close()
    except Exception:  # a damaged file: the reader reports it
        return []
    return names


def _no_sheet(sheet: str, worksheets: list[str], every: set[str]) -> str:
    """Why `--sheet` names no worksheet: the sheets there are (the first `_LISTED`) and the closest name."""
    listed = ", ".join(quote(w) for w in worksheets[:_LISTED])
    if len(worksheets) > _LISTED:
        listed += f" and {len(worksheets) - _LISTED:,} more"
    if sheet in every:
        return f"sheet {quote(sheet)} is a chart, not a table; the sheets with tables are {listed}"
    # Excel's names have at most 31 characters: longer ones (and the edit distance to them) are skipped.
    return f"no sheet named {quote(sheet)}; the sheets are {listed}" + did_you_mean(
        sheet, [w for w in worksheets if len(w) <= 31][:1000])


class _Beyond:
    """Reports the first value beyond `MAX_COLUMNS` (once: the rest are as far out)."""

    def __init__(self, path: Path):
        self.path, self.problems = path, []

    def __call__(self, row: int, column: int, value: object) -> None:
        from openpyxl.utils import get_column_letter

        if not self.problems:
            self.problems.append(Problem(
                f"a value in column {get_column_letter(column)}, beyond column {get_column_letter(MAX_COLUMNS)}; at "
                f"most {MAX_COLUMNS:,} columns are read (limits.MAX_COLUMNS)", file=str(self.path), line=row,
                column=get_column_letter(column), value=str(value)[:80]))


def _table(path: Path, rows_in: Iterator[tuple[int, dict[int, object]]], sheet: Sheet) -> Table:
    """The table of the sheet's rows: the first is the header; at most `MAX_ROWS` data rows. Values
    in a column the header does not name are reported, with what `sheet` met while streaming."""
    file = str(path)
    header, header_line, rows, problems = None, 1, [], []
    count, first_excess, unnamed, by_line, below = 0, None, None, {}, None
    budget = [_COVER_BUDGET]
    for r, values in rows_in:
        if header is None:
            header_line = r
            header = [_text(values.get(j)) for j in range(1, max(values) + 1)]
            problems += [Problem(v.message(), file=file, line=r, column=column_letter(j))
                         for j, v in values.items() if isinstance(v, NoResult)]
            columns = [(j, key, f"{column_letter(j + 1)} ({h})")
                       for j, (h, key) in enumerate(zip(header, column_keys(header))) if normalize_column(h)]
            named = {j + 1 for j, _, _ in columns}
            unnamed = Unnamed(file, header_line)
            continue
        count += 1
        if count == 1 and sum(1 for h in header if h.strip()) == 1:  # a title above the header?
            below = (r, [_text(values.get(j)) for j in range(1, max(values) + 1)])
        if count > MAX_ROWS:
            first_excess = first_excess or r
            continue
        row = {}
        for j, h, label in columns:
            value = values.get(j + 1)
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                problems.append(long_cell(value, file, r, label))
                value = value[:MAX_CELL_CHARS]
            row[h] = Cell(None, r, label, value.message()) if isinstance(value, NoResult) else Cell(value, r, label)
        _array_cells(sheet, r, row, columns, budget)
        rows.append(row)
        by_line[r] = row
        for j in values.keys() - named:  # a value beyond the last name, or under a blank one, would be lost
            unnamed.add(column_letter(j), r, str(values[j]) if isinstance(values[j], NoResult) else values[j])
    if header is None:
        raise problem(path, "the sheet is empty; expected a header row with " + ", ".join(REQUIRED))
    if first_excess is not None:
        problems.append(too_many_rows(count, "sheet", file, first_excess))
    merged = _merged(sheet, file, header, header_line, by_line, budget)
    return Table(file, rows, header_line, header=header, notes=_hidden(sheet, header, header_line),
                 problems=sheet.beyond.problems + sheet.problems + problems + unnamed.problems() + merged,
                 below_title=below)


def _text(value: object) -> str:
    """A header cell as text ("" for an empty one or a formula with no saved result)."""
    return "" if value is None or isinstance(value, NoResult) else str(value)


def _array_cells(sheet: Sheet, r: int, row: dict[str, Cell], columns: list, budget: list[int]) -> None:
    """Mark the empty cells of row `r` that an array formula with no saved result fills (its first
    cell holds the formula, the others nothing)."""
    for r1, c1, r2, c2, formula in sheet.arrays:
        if not r1 <= r <= r2:
            continue
        for j, h, _ in columns:
            if budget[0] <= 0:
                return
            budget[0] -= 1
            cell = row[h]
            if c1 <= j + 1 <= c2 and cell.value is None and cell.problem is None:
                span = f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}"
                cell.problem = NoResult(f"{column_letter(j + 1)}{r}", formula.formula, array=span).message()


def _merged(sheet: Sheet, file: str, header: list[str], header_line: int, by_line: dict[int, dict[str, Cell]],
            budget: list[int]) -> list[Problem]:
    """The merged ranges over the table whose first cell holds a value (Excel shows it across the
    range; the other cells read as empty), at most `_LISTED` of them and how many more. The empty
    cells they cover say nothing more (an empty problem: the range is reported once)."""
    names = {j + 1: key for j, (h, key) in enumerate(zip(header, column_keys(header))) if normalize_column(h)}
    found: list[Problem] = []
    more = sheet.merged_count - len(sheet.merged)  # beyond those kept: not checked, counted
    first_more = None  # the row of the first range not listed
    for r1, c1, r2, c2 in sorted(sheet.merged):  # in the order of the rows
        if r2 < header_line or c1 > len(header) or (r1, c1) == (r2, c2):
            continue
        if r1 == header_line:
            first = header[c1 - 1] or None
        else:
            cell = by_line.get(r1, {}).get(names.get(c1))
            first = None if cell is None else cell.value if cell.problem is None else cell.problem
        if first is None:
            continue  # an empty range: nothing is hidden by the merge
        if len(found) >= _LISTED:
            more, first_more = more + 1, first_more or r1
            continue
        ref, corner = f"{column_letter(c1)}{r1}:{column_letter(c2)}{r2}", f"{column_letter(c1)}{r1}"
        spread = ("the cells to its right read as empty" if r1 == r2 else
                  "the cells below it read as empty" if c1 == c2 else "the other cells read as empty")
        fix = ("unmerge them and give each column its own name" if r1 == header_line
               else "unmerge them and fill each cell")
        label = f"{column_letter(c1)} ({header[c1 - 1]})" if c1 in names else column_letter(c1)
        found.append(Problem(f"cells {ref} are merged: only {corner} holds a value, {spread}; {fix}", file=file,
                             line=r1, column=label, value=first))
        for r in range(max(r1, header_line + 1), r2 + 1):
            if budget[0] <= 0:
                break
            for c in range(c1, min(c2, len(header)) + 1):
                budget[0] -= 1
                cell = by_line.get(r, {}).get(names.get(c))
                if cell is not None and cell.value is None and cell.problem is None:
                    cell.problem = ""  # reported once, with the range
    if more:
        found.append(Problem(f"{more:,} more merged ranges from here on; unmerge them and fill each cell", file=file,
                             line=first_more or header_line))
    return found


def _hidden(sheet: Sheet, header: list[str], header_line: int) -> list[str]:
    """Notes on the hidden rows and columns that hold values: Excel hides them, the reader does not."""
    notes = []
    rows = [r for r in sheet.hidden_rows if r != header_line]
    total = sheet.hidden_row_count - (header_line in sheet.hidden_rows)
    if rows:
        listed = ", ".join(map(str, rows[:_LISTED])) + (f" and {total - _LISTED:,} more" if total > _LISTED else "")
        notes.append(f"row {listed} is hidden in Excel (or filtered out) and is read like any other row; delete it "
                     "if it should not count" if total == 1 else
                     f"rows {listed} are hidden in Excel (or filtered out) and are read like any other row; delete "
                     "them if they should not count")
    columns = [f"{column_letter(j)} ({header[j - 1]})" for j in range(1, len(header) + 1)
               if normalize_column(header[j - 1]) and any(a <= j <= b for a, b in sheet.hidden_columns)]
    if columns:
        notes.append(f"column {columns[0]} is hidden in Excel and is read like any other column; unhide it to "
                     "check what it holds" if len(columns) == 1 else
                     f"columns {', '.join(columns)} are hidden in Excel and are read like any other column; "
                     "unhide them to check what they hold")
    return notes


def _reason(e: Exception) -> str:
    """An exception as a short reason: openpyxl wraps the XML error in a paragraph of advice."""
    cause = e.__cause__ or e
    text = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return text[:200]

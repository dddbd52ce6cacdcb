"""CSV portfolio files (comma, semicolon or tab separated) and correlation CSVs, read into raw tables.

The reader is our own small tokenizer rather than the csv module, for three reasons: a quoting
error must be reported with the line where the open quote started (the csv module silently reads
the rest of the file as one cell), a cell over the csv module's 128 KiB field limit must be a
located problem rather than an exception, and a row must never be materialized wider than the
header (or `limits.MAX_COLUMNS`). It reads what the csv module reads (the excel dialect, not
strict): a cell that starts with a double quote runs to the next lone quote, `""` inside it is
one quote, text after the closing quote is kept, a quote inside an unquoted cell is literal.
Every cell goes through `unguard_formula`, so files the package writes read back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from ..errors import InputError, Problem
from ..limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROWS
from ..model.portfolio import REQUIRED
from .files import unguard_formula
from .table import Cell, Table, Unnamed, column_keys, decode_text, long_cell, normalize_column, too_many_rows

_EOL = re.compile(r"\r\n|\r|\n")
_QUOTED = re.compile(r'"([^"]*+(?:""[^"]*+)*+)"')  # possessive: linear time, however long the cell
_MAX_QUOTE_PROBLEMS = 10  # each costs a scan to the closing quote (or the end): stop after these
_SEPARATOR_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs"}


@lru_cache(maxsize=8)
def _unquoted(delimiter: str) -> re.Pattern:
    """The rest of a cell: everything up to the separator or the end of the line."""
    return re.compile(f"[^{re.escape(delimiter)}\\r\\n]*+")


@lru_cache(maxsize=64)
def _row_like(delimiter: str, separators: int) -> re.Pattern:
    """A line break followed by a line holding at least `separators` separators: a row of its own."""
    d = re.escape(delimiter)
    return re.compile(f"(?:\\r\\n|\\r|\\n)(?:[^{d}\\r\\n]*+{d}){{{separators}}}")


def _breaks(text: str) -> int:
    """The number of line breaks (\\r\\n, \\r or \\n) in `text`."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def sniff_delimiter(text: str) -> str:
    """The CSV separator (comma, semicolon or tab) that splits the first non-blank line into most cells."""
    first = next((m.group() for m in re.finditer(r"[^\r\n]+", text) if m.group().strip()), "")
    counts = {}
    for d in (",", ";", "\t"):
        try:
            counts[d] = _Scanner(first, d, "").record()[2]
        except InputError:  # hopeless quoting: reading the file reports it; count the separators here
            counts[d] = first.count(d) + 1
    return max(counts, key=counts.get)


class _Scanner:
    """The records of a CSV text, one at a time; problems found on the way go to `problems`."""

    def __init__(self, text: str, delimiter: str, file: str):
        self.text, self.delimiter, self.file = text, delimiter, file
        self.pos, self.line = 0, 1
        self.header: list[str] = []
        self.width = 0  # cells a row should have (the header's), once known
        self.cap = MAX_COLUMNS  # cells kept per record; the rest are only counted
        self.narrowest = MAX_COLUMNS + 1  # cells of the narrowest data row so far (rows may leave out empty cells)
        self.problems: list[Problem] = []
        self.quote_trouble: set[int] = set()  # lines where a record with a reported quote starts
        self._quote_problems = 0

    def records(self) -> Iterator[tuple[int, list[str], int, bool]]:
        """(line, cells, number of cells, whether a cell beyond `cap` holds text) per record."""
        while self.pos < len(self.text):
            yield self.record()

    def record(self) -> tuple[int, list[str], int, bool]:
        text, pos, d = self.text, self.pos, self.delimiter
        line = self.line
        m = _EOL.search(text, pos)
        end, after = (m.start(), m.end()) if m else (len(text), len(text))
        if text.find('"', pos, end) < 0:  # no quote: the record is this line (the common case, at C speed)
            cells = text[pos:end].split(d, self.cap)
            rest = cells.pop() if len(cells) > self.cap else None
            count = len(cells) + (rest.count(d) + 1 if rest is not None else 0)
            self.pos, self.line = after, line + 1
            return line, cells, count, rest is not None and rest.replace(d, "").strip() != ""
        return self._quoted_record()

    def _quoted_record(self) -> tuple[int, list[str], int, bool]:
        text, d, n = self.text, self.delimiter, len(self.text)
        rest_of_cell = _unquoted(d)
        start, line, pos = self.line, self.line, self.pos
        cells: list[str] = []
        count, overflow = 0, False
        while True:
            value = None
            if pos < n and text[pos] == '"':
                m = _QUOTED.match(text, pos)
                if self._quote_is_sound(m, start, line, count, pos):
                    value = m.group(1).replace('""', '"')
                    line += _breaks(m.group(1))
                    tail = rest_of_cell.match(text, m.end())  # text after the closing quote is kept
                    value, pos = value + tail.group(), tail.end()
            if value is None:  # unquoted, or a stray quote reported above: read it as plain text
                m = rest_of_cell.match(text, pos)
                value, pos = m.group(), m.end()
            count += 1
            if len(cells) < self.cap:
                cells.append(value)
            elif value.strip():
                overflow = True
            if count > MAX_COLUMNS:  # only quoted rows get here: counting them all could take long
                self.problems.append(Problem(
                    f"the row has more than {MAX_COLUMNS:,} cells; at most {MAX_COLUMNS:,} columns are read "
                    "(limits.MAX_COLUMNS)", file=self.file, line=start))
                raise InputError(self.problems)
            if pos < n and text[pos] == d:
                pos += 1
                continue
            m = _EOL.match(text, pos)
            self.pos, self.line = (m.end() if m else n), line + 1
            return start, cells, count, overflow

    def _quote_is_sound(self, m: re.Match | None, start: int, line: int, index: int, pos: int) -> bool:
        """False (and a problem reported) when the quote opening this cell swallows the rest of the file
        or lines that look like rows of their own."""
        column = self.column_label(index)
        if m is None:
            message = ("a double quote opens this cell and is never closed; the rest of the file would be read "
                       "as one cell; remove the stray quote, or close the cell with another")
        else:
            eol = _EOL.search(self.text, pos)
            width = self.width or self.text.count(self.delimiter, self.pos, eol.start() if eol else None) + 1
            # A row may leave out its trailing empty cells: a line looks like a row once it holds the
            # separators of the required columns (or of the narrowest row seen), not the header's.
            width = min(width, len(REQUIRED), self.narrowest)
            inner = _row_like(self.delimiter, max(1, width - 1)).search(self.text, pos, m.end() - 1)
            if inner is None:
                return True
            row = line + _breaks(self.text[pos:inner.start()]) + 1
            last = line + _breaks(m.group(1))
            message = (f"a double quote opens this cell and it runs on to line {last:,}, over line {row:,} which "
                       f"looks like a row of its own; lines {line:,} to {last:,} would be read as one cell; remove "
                       "the stray quote (inside a quoted cell, write a quote as \"\")")
        self.problems.append(Problem(message, file=self.file, line=line, column=column))
        self.quote_trouble.add(start)
        self._quote_problems += 1
        if self._quote_problems >= _MAX_QUOTE_PROBLEMS:
            raise InputError(self.problems)
        return False

    def column_label(self, index: int) -> str:
        """A column as messages show it: its number and, once the header is read, its name."""
        name = self.header[index] if index < len(self.header) else ""
        return f"{index + 1} ({name})" if name.strip() else str(index + 1)


def _too_wide(scanner: _Scanner, line: int, count: int, what: str = "row") -> Problem:
    return Problem(f"the {what} has {count:,} cells; at most {MAX_COLUMNS:,} columns are read (limits.MAX_COLUMNS)",
                   file=scanner.file, line=line)


def _scan(path: Path, text: str) -> tuple[_Scanner, Iterator[tuple[int, list[str], int, bool]]]:
    scanner = _Scanner(text, sniff_delimiter(text), str(path))
    return scanner, scanner.records()


def _blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _cell_text(scanner: _Scanner, value: str, line: int, index: int) -> str:
    """The cell's text, unguarded; a cell over `MAX_CELL_CHARS` is reported and cut to it."""
    if len(value) > MAX_CELL_CHARS:
        scanner.problems.append(long_cell(value, scanner.file, line, scanner.column_label(index)))
        value = value[:MAX_CELL_CHARS]
    return unguard_formula(value)


def _header(scanner: _Scanner, records) -> tuple[int, list[str]] | None:
    """The first non-blank record, as the header: (line, names); None for a blank file."""
    for line, cells, count, _ in records:
        if _blank(cells):
            continue
        if count > MAX_COLUMNS:
            scanner.problems.append(_too_wide(scanner, line, count, "header"))
            raise InputError(scanner.problems)
        header = [_cell_text(scanner, c, line, j) for j, c in enumerate(cells)]
        scanner.header, scanner.width, scanner.cap = header, len(header), len(header)
        return line, header
    return None


def _data(scanner: _Scanner, records) -> Iterator[tuple[int, list[str]]]:
    """The non-blank records after the header, as (line, cells): at most `MAX_ROWS` of them, at most
    the header's width each; wider rows, longer cells and the rows beyond the limit are reported."""
    rows, wide_reported, first_excess = 0, False, None
    for line, cells, count, overflow in records:
        if _blank(cells) and not overflow:
            continue
        rows += 1
        scanner.narrowest = min(scanner.narrowest, count)
        if rows > MAX_ROWS:
            first_excess = first_excess or line
            continue
        if count > MAX_COLUMNS and not wide_reported:
            scanner.problems.append(_too_wide(scanner, line, count))
            wide_reported = True
        elif overflow and count <= MAX_COLUMNS and line not in scanner.quote_trouble:
            # would be lost: an unquoted separator inside a cell (not the consequence of a stray quote)
            scanner.problems.append(Problem(
                f"the row has {count} cells but the header has {scanner.width}; put cells that contain "
                f"{_SEPARATOR_NAMES[scanner.delimiter]} in double quotes", file=scanner.file, line=line))
        yield line, [c if len(c) <= MAX_CELL_CHARS and c[:1] != "'" else _cell_text(scanner, c, line, j)
                     for j, c in enumerate(cells)]
    if first_excess is not None:
        scanner.problems.append(too_many_rows(rows, "file", scanner.file, first_excess))


def read_csv(path: Path) -> Table:
    """The raw table of a CSV portfolio file; quoting errors, over-long cells, too many rows or
    columns are problems of the table (reported with the cells'). Rows are keyed by the header's own
    names (`table.column_keys`: a repeated one gets a suffix); `read.read_table` checks the header and
    renames the columns. The separator found is `Table.delimiter`."""
    text = decode_text(path)
    if not text.strip():
        raise InputError(Problem("the file is empty; expected a header row with " + ", ".join(REQUIRED),
                                 file=str(path)))
    scanner, records = _scan(path, text)
    header_line, header = _header(scanner, records) or (1, None)
    rows, below = [], None
    if header is not None:
        columns = [(j, key, scanner.column_label(j)) for j, (h, key) in enumerate(zip(header, column_keys(header)))
                   if normalize_column(h)]
        unnamed = Unnamed(str(path), header_line)
        blank = [j for j, h in enumerate(header) if not normalize_column(h)]  # renamed() leaves them out
        titled = sum(1 for h in header if h.strip()) == 1
        for line, cells in _data(scanner, records):
            below = below or ((line, [c.strip() for c in cells]) if titled else None)
            n = len(cells)
            rows.append({h: Cell(cells[j] if j < n else "", line, label) for j, h, label in columns})
            for j in blank:
                if j < n and cells[j].strip():
                    unnamed.add(scanner.column_label(j), line, cells[j])
        scanner.problems += unnamed.problems()
    table = Table(str(path), rows, header_line, problems=scanner.problems, header=header, delimiter=scanner.delimiter)
    table.below_title = below
    return table


def read_correlation_csv(path: Path) -> list:
    """The entries (a, b, rho, line, file) of a correlation CSV with columns a, b, rho."""
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    text = decode_text(path)
    scanner, records = _scan(path, text)
    found = _header(scanner, records)
    header = [normalize_column(h) for h in found[1]] if found else []
    missing = [c for c in ("a", "b", "rho") if c not in header]
    if missing:
        scanner.problems.append(Problem(f"a correlation file needs columns a, b, rho; missing {', '.join(missing)}",
                                        file=str(path), line=found[0] if found else None))
        raise InputError(scanner.problems)
    out = []
    for line, cells in _data(scanner, records):
        r = {h: (cells[j] if j < len(cells) else "") for j, h in enumerate(header)}
        out.append((r.get("a"), r.get("b"), r.get("rho"), line, str(path)))
    if scanner.problems:
        raise InputError(scanner.problems)
    return out


def read_small_csv(path: Path, columns: tuple[str, ...], what: str) -> list[tuple[int, dict[str, str]]]:
    """(line, {column: text}) rows of a small CSV with the given (normalized) columns, such as a
    correlation or capacity table; a missing column or a quoting problem raises InputError."""
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    scanner, records = _scan(path, decode_text(path))
    found = _header(scanner, records)
    header = [normalize_column(h) for h in found[1]] if found else []
    missing = [c for c in columns if c not in header]
    if missing:
        scanner.problems.append(Problem(f"{what} needs columns {', '.join(columns)}; missing {', '.join(missing)}",
                                        file=str(path), line=found[0] if found else None))
        raise InputError(scanner.problems)
    rows = [(line, {h: (cells[j] if j < len(cells) else "") for j, h in enumerate(header)})
            for line, cells in _data(scanner, records)]
    if scanner.problems:
        raise InputError(scanner.problems)
    return rows

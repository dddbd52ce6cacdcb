"""Raw tables read from portfolio files: cells with their locations, before any checking.

Each reader (`delimited` for CSV, `workbook` for .xlsx, `yaml_file` for YAML) turns its format
into a `Table` of `Cell`s keyed by normalized column; `workbench.io.validate` checks the cells.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem
from ..limits import MAX_CELL_CHARS, MAX_FILE_BYTES, MAX_MESSAGE_VALUE, MAX_ROWS


@dataclass
class Cell:
    """One raw value as the file holds it, and where: line and column (as shown to people)."""

    value: object
    line: int
    column: str
    # What the reader found wrong with it (e.g. a formula with no saved result); "" when the problem is
    # already among the table's problems (e.g. a YAML key typo, reported with its fix).
    problem: str | None = None


@dataclass
class Table:
    """Rows of raw cells keyed by normalized column, from any file format."""

    file: str
    rows: list[dict[str, Cell]]
    header_line: int = 1
    correlations: list[tuple[object, object, object, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading, reported with the cells
    header: list[str] | None = None  # CSV and .xlsx: the header row as written (rows keyed by it until renamed)
    notes: list[str] = field(default_factory=list)  # things to tell the user once (e.g. a synonym used)
    missing: set[str] = field(default_factory=set)  # required columns reported missing (not again per row)
    status: dict[str, str] = field(default_factory=dict)  # status value -> done/committed/open/won't
    column_map: object = None  # YAML: the `ColumnMap` of the file's own `columns:`/`status:` block
    delimiter: str | None = None  # CSV: the separator found (',', ';' or a tab); None for .xlsx and YAML
    # CSV and .xlsx, when the header row holds a single name (a title?): the next row's line and texts
    below_title: tuple[int, list[str]] | None = None


def normalize_column(name: object) -> str:
    """Column names are case- and space-insensitive: 'Depends On' == 'depends_on'."""
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower()).strip("_")


def _too_big(path: Path, size: str) -> InputError:
    return InputError(Problem(f"the file is {size}; at most {MAX_FILE_BYTES / 2**20:g} MiB are read "
                              "(limits.MAX_FILE_BYTES)", file=str(path)))


def check_file_size(path: Path) -> int:
    """The file's size; `InputError` when it is over `limits.MAX_FILE_BYTES`, before anything reads it."""
    size = os.stat(path).st_size
    if size > MAX_FILE_BYTES:
        raise _too_big(path, f"{size / 2**20:.1f} MiB")
    return size


def read_bytes(path: Path) -> bytes:
    """The file's bytes, at most `limits.MAX_FILE_BYTES` of them (checked before reading, and while
    reading: a file that grows, or a device that never ends, is cut off and refused)."""
    size = check_file_size(path)
    with open(path, "rb") as f:
        raw = f.read(size + 1)  # read(n) allocates n bytes up front: ask for what the file holds
        if len(raw) > size:  # it grew meanwhile
            raw += f.read(MAX_FILE_BYTES + 1 - len(raw))
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(path, f"over {MAX_FILE_BYTES / 2**20:g} MiB")
    return raw


def decode_text(path: Path) -> str:
    """The file's text (UTF-8, with or without a BOM), read within `limits.MAX_FILE_BYTES`."""
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(Problem(
            f"the file is not UTF-8 (byte 0x{raw[e.start]:02x}); save it as 'CSV UTF-8' from Excel",
            file=str(path), line=line)) from None


def long_cell(value: str, file: str, line: int | None, column: str | None) -> Problem:
    """The problem of a cell over `limits.MAX_CELL_CHARS` (every reader words it alike)."""
    return Problem(f"the cell has {len(value):,} characters; at most {MAX_CELL_CHARS:,} are read "
                   "(limits.MAX_CELL_CHARS)", file=file, line=line, column=column,
                   value=value[: MAX_MESSAGE_VALUE + 1])  # one more: the message shows it is cut


def too_many_rows(count: int, what: str, file: str, line: int) -> Problem:
    """The problem of `count` data rows, over `limits.MAX_ROWS`; `line` is the first one not read."""
    return Problem(f"the {what} has {count:,} rows of data; at most {MAX_ROWS:,} are read (limits.MAX_ROWS); "
                   "split the portfolio into several files", file=file, line=line)


class Unnamed:
    """Values in columns the header gives no name (they would be dropped): one problem per column,
    at its first value, with how many more it holds."""

    def __init__(self, file: str, header_line: int):
        self.file, self.header_line = file, header_line
        self.found: dict[str, list] = {}  # column label -> [line, value, count]

    def add(self, column: str, line: int, value: object) -> None:
        first = self.found.setdefault(column, [line, value, 0])
        first[2] += 1

    def problems(self) -> list[Problem]:
        return [Problem(f"a value in a column with no name in the header (line {self.header_line})"
                        + (f", and {count - 1:,} more below it" if count > 1 else "")
                        + "; give this column a name or delete the value", file=self.file, line=line,
                        column=column, value=value if not isinstance(value, str) else value[: MAX_MESSAGE_VALUE + 1])
                for column, (line, value, count) in self.found.items()]


def column_keys(header: list[str]) -> list[str]:
    """The key each column's cells are stored under: its header as written, and for a header written
    again (Jira writes `Sprint,Sprint` for a field with two values) the header and a private suffix,
    so that no column's cells overwrite another's before `columns.resolve_columns` sees the repeat."""
    keys, seen = [], {}
    for h in header:
        seen[h] = seen.get(h, 0) + 1
        keys.append(h if seen[h] == 1 else f"{h}\x00{seen[h]}")
    return keys


def renamed(table: Table, names: dict[str, str]) -> Table:
    """The table with its rows keyed by the columns `names` reads their keys as (`columns.resolve_columns`);
    keys it leaves out are dropped (their problem or note is the table's)."""
    table.rows = [{names[h]: c for h, c in row.items() if h in names} for row in table.rows]
    return table

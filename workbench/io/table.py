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
from ..limits import MAX_FILE_BYTES
from ..model.portfolio import REQUIRED


@dataclass
class Cell:
    """One raw value as the file holds it, and where: line and column (as shown to people)."""

    value: object
    line: int
    column: str


@dataclass
class Table:
    """Rows of raw cells keyed by normalized column, from any file format."""

    file: str
    rows: list[dict[str, Cell]]
    header_line: int = 1
    correlations: list[tuple[object, object, object, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading, reported with the cells


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


def check_header(table: Table, header: list[str] | None) -> None:
    names = [normalize_column(h) for h in header or []]
    problems = []
    seen: dict[str, str] = {}
    for raw, name in zip(header or [], names):
        if name and name in seen:
            problems.append(Problem(f"column {raw!r} repeats column {seen[name]!r} "
                                    f"(names are case- and space-insensitive)", file=table.file,
                                    line=table.header_line))
        seen.setdefault(name, raw)
    for col in REQUIRED:
        if col not in names:
            found = ", ".join(h for h in header or [] if h)
            problems.append(Problem(f"missing required column {col!r} (found: {found})", file=table.file,
                                    line=table.header_line))
    if problems:
        raise InputError(table.problems + problems)  # with what reading the header found (e.g. a quote)


def renamed(table: Table, header: list[str]) -> Table:
    mapping = {h: normalize_column(h) for h in header}
    table.rows = [{mapping[h]: c for h, c in row.items() if mapping.get(h)} for row in table.rows]
    return table

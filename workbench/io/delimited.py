"""CSV portfolio files (comma, semicolon or tab separated) and correlation CSVs, read into raw tables."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import InputError, Problem
from ..model.portfolio import REQUIRED
from .table import Cell, Table, check_header, decode_text, normalize_column, renamed


def sniff_delimiter(text: str) -> str:
    """The CSV separator (comma, semicolon or tab) that splits the first non-blank line into most cells."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in (",", ";", "\t")}
    return max(counts, key=counts.get)


def read_csv(path: Path) -> Table:
    text = decode_text(path)
    if not text.strip():
        raise InputError(Problem("the file is empty; expected a header row with " + ", ".join(REQUIRED),
                                 file=str(path)))
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header, header_line, rows, start, problems = None, 1, [], 1, []
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in record):
            continue
        if header is None:
            header, header_line = record, line
            continue
        if any(c.strip() for c in record[len(header):]):  # would be lost: an unquoted separator inside a cell
            what = {",": "commas", ";": "semicolons"}.get(delimiter, "tabs")
            problems.append(Problem(f"the row has {len(record)} cells but the header has {len(header)}; "
                                    f"put cells that contain {what} in double quotes", file=str(path), line=line))
        rows.append({h: Cell(record[j] if j < len(record) else "", line, f"{j + 1} ({h})")
                     for j, h in enumerate(header)})
    table = Table(str(path), rows, header_line, problems=problems)
    check_header(table, header)
    return renamed(table, header)


def read_correlation_csv(path: Path) -> list:
    table = _read_csv_plain(path)
    return [(r.get("a"), r.get("b"), r.get("rho"), line, str(path)) for line, r in table]


def _read_csv_plain(path: Path) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    text = decode_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header, out, start = None, [], 1
    for record in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in record):
            continue
        if header is None:
            header = [normalize_column(h) for h in record]
            missing = [c for c in ("a", "b", "rho") if c not in header]
            if missing:
                raise InputError(Problem(f"a correlation file needs columns a, b, rho; missing {', '.join(missing)}",
                                         file=str(path), line=line))
            continue
        out.append((line, {h: (record[j] if j < len(record) else "") for j, h in enumerate(header)}))
    return out

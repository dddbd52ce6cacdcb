"""The corrected copy `workbench check --fix -o COPY` writes: the checked table with its corrections.

The copy is the input with the listed changes and nothing else: the file's own header and column
order, every row in its order (done rows with all their cells, extra columns, the status column as
written), each corrected cell, copied and totals rows dropped, defaults filled, misspelt headers
renamed, and an `id` column at the front when ids were made from the names (so that the copy reads
back with the same ids). It is written as CSV, .xlsx or YAML by the suffix of `-o`, atomically; an
.xlsx copy keeps numbers as numbers and holds the one sheet read. The input, its column mapping and
its correlations file are never overwritten.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem
from .columns import column_map_path
from .files import writable_target, write_atomic
from .table import Cell, Table, normalize_column, read_bytes

if TYPE_CHECKING:
    from .check import CheckReport

SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
MADE_ID = "id (made from the name)"  # the column label `columns.make_ids` gives the ids it makes


def fixed_name(path: str | Path) -> Path:
    """The name suggested for the corrected copy of `path`: `<stem>.fixed.<suffix>` (CSV for .txt, .tsv)."""
    path = Path(path)
    suffix = path.suffix.lower() if path.suffix.lower() in SUFFIXES else ".csv"
    return path.with_name(f"{path.stem}.fixed{suffix}")


def _same(a: Path, b: Path) -> bool:
    return (a.exists() and b.exists() and os.path.samefile(a, b)) or a.resolve() == b.resolve()


def check_output_path(source: str | Path, out: str | Path, columns: str | Path | None = None) -> None:
    """`InputError` when `out` cannot take the corrected copy: a file the check reads (the checked
    file, its `<stem>.columns.yaml`, the `columns` mapping file, its `<stem>.correlations.csv`), a
    suffix other than .csv, .xlsx, .yaml, or a directory or device."""
    from .read import correlations_path

    source, out = Path(source), Path(out)
    if _same(out, source):
        raise InputError(Problem(f"-o names the checked file; the input is never modified: give the corrected "
                                 f"copy another name, e.g. -o {fixed_name(source)}", file=str(out)))
    read = [("the column mapping", column_map_path(source)), ("the correlations file", correlations_path(source))]
    read += [("the column mapping", Path(columns))] if columns is not None else []
    for what, path in read:
        if _same(out, path):
            raise InputError(Problem(f"-o names {what} that the check reads; give the corrected copy another "
                                     f"name, e.g. -o {fixed_name(source)}", file=str(out)))
    writable_target(out)
    if out.suffix.lower() not in SUFFIXES:
        raise InputError(Problem(f"the corrected copy is written as .csv, .xlsx or .yaml, not as "
                                 f"{out.suffix or '(no suffix)'!r}; e.g. -o {fixed_name(source)}", file=str(out)))


def write_fixed(report: CheckReport, out: str | Path) -> Path:
    """Write the corrected table of `report` to `out` (.csv, .xlsx or .yaml, atomically); `InputError`
    listing the problems left when there are any (nothing is written), when `out` cannot take it
    (`check_output_path`), or when a value cannot be written in that format."""
    from .read import correlations_path
    from .write import csv_text, xlsx_bytes, yaml_text

    out = Path(out)
    check_output_path(report.source, out, report.columns)
    if report.remaining or report.portfolio is None or report.table is None:
        raise InputError(report.remaining or Problem("nothing to write: the file could not be checked",
                                                     file=report.source))
    keys, header, records = _grid(report.table, report.renames)
    corr = [tuple(c[:3]) for c in report.table.correlations]
    companion = correlations_path(out)
    suffix = out.suffix.lower()
    problems: list[str] = []
    files: list[tuple[Path, str | bytes]] = []
    try:
        if suffix in (".yaml", ".yml"):
            names = _unique(header)
            status = report.table.column_map.status if report.table.column_map is not None else None
            files.append((out, yaml_text([{names[i]: rec[k] for i, k in enumerate(keys) if rec.get(k) is not None}
                                          for rec in records], corr, status)))
        else:
            files.append((out, csv_text(keys, records, header) if suffix == ".csv"
                          else xlsx_bytes(keys, records, problems, header)))
            if corr:
                files.append((companion, csv_text(["a", "b", "rho"], [dict(zip(("a", "b", "rho"), c)) for c in corr])))
    except ValueError as e:
        problems.append(str(e))
    if companion.is_file() and not (corr and suffix not in (".yaml", ".yml")):
        problems.append(f"{companion} exists and would be read with the copy; remove it or give the copy another name")
    mapping = column_map_path(out)
    if report.columns is not None and suffix not in (".yaml", ".yml"):  # the copy keeps your headers: and their map
        text = read_bytes(Path(report.columns))
        if not mapping.is_file():
            files.append((mapping, text))
        elif read_bytes(mapping) != text:
            problems.append(f"{mapping} exists and would be read with the copy instead of {report.columns}; remove it "
                            "or give the copy another name")
    if problems:
        raise InputError([Problem(p, file=str(out)) for p in problems])
    for target, data in files:
        write_atomic(target, data)
    return out


def _grid(table: Table, renames: dict[str, str]) -> tuple[list[str], list[str], list[dict]]:
    """(record keys, the header row, one record per row): the file's own columns in their order, an id
    column first when ids were made, then any column a default added."""
    slots: dict[object, str] = {}  # where a cell goes -> its header
    made = any(c.column == MADE_ID for row in table.rows for c in row.values())
    if made:
        slots["id"] = "id"
    if table.header is not None:
        slots.update({j: renames.get(h, h) for j, h in enumerate(table.header) if normalize_column(h)})
    records = []
    for row in table.rows:
        rec = {}
        for col, cell in row.items():
            slot = "id" if cell.column == MADE_ID else _slot(cell, table, col)
            slots.setdefault(slot, col)
            rec[slot] = cell.value
        records.append(rec)
    keys = [f"{h}\x00{i}" for i, h in enumerate(slots.values())]  # unique even where headers repeat
    by_slot = dict(zip(slots, keys))
    return keys, list(slots.values()), [{by_slot[s]: v for s, v in rec.items()} for rec in records]


def _slot(cell: Cell, table: Table, col: str) -> object:
    """The header column a cell came from (its index, from its label: '5 (Effort)', 'E (Effort)'), or,
    for YAML and a column a default added, its column name."""
    if table.header is None:
        return col
    m = re.fullmatch(r"(\d+|[A-Z]+)(?: \(.*\))?", cell.column, re.DOTALL)
    if m is None:
        return col
    if m[1].isdigit():
        return int(m[1]) - 1
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(m[1]) - 1


def _unique(names: list[str]) -> list[str]:
    """YAML keys of `names`: a repeated name gets _2, _3 (as the readers name a repeated column)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        key = normalize_column(name)
        seen[key] = seen.get(key, 0) + 1
        out.append(name if seen[key] == 1 else f"{key}_{seen[key]}")
    return out

"""Reading portfolio files: CSV, .xlsx and YAML (plus correlation files), and the bundled demo.

This module picks the reader by the file's suffix: `delimited` (CSV and correlation CSVs),
`workbook` (.xlsx) and `yaml_file` (YAML) each turn their format into a `table.Table` of raw cells
with their locations (problems with the file itself are raised there); `workbench.io.columns` reads
the headers as our columns (mappings, synonyms, ids made from names) and
`workbench.io.validate.build_portfolio` checks the cells and builds the `Portfolio`.
Empty cells come as None (.xlsx, YAML null) or "" (CSV); validation gives both the field's default.
Every file (portfolio and correlation CSV) is refused beyond `limits.MAX_FILE_BYTES` before it is read.
A title row above the header (a CSV or sheet whose line 1 holds one cell, 'Q1 roadmap candidates',
and line 2 the column names) is one problem that says to delete line 1: the reader does not guess
which row is the header.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

from ..errors import InputError, Problem, quote
from ..model.portfolio import REQUIRED, Portfolio
from .columns import ColumnMap, column_map_path, make_ids, read_column_map, resolve_columns, status_words, typo_keys
from .delimited import read_correlation_csv, read_csv, sniff_delimiter
from .table import Table, check_file_size, normalize_column, renamed
from .validate import build_portfolio
from .workbook import read_xlsx, sheet_names
from .yaml_file import read_yaml

__all__ = ["correlations_path", "demo_portfolio", "load_portfolio", "normalize_column", "read_table", "sniff_delimiter"]


def correlations_path(path: str | Path) -> Path:
    """The companion correlation file `load_portfolio` reads beside `path`: `<stem>.correlations.csv`."""
    path = Path(path)
    return path.with_name(path.stem + ".correlations.csv")


def load_portfolio(path: str | Path, *, sheet: str | None = None, correlations: str | Path | None = None,
                   columns: ColumnMap | str | Path | None = None) -> Portfolio:
    """Read a portfolio from CSV, .xlsx or YAML; raise `InputError` listing every problem.

    Correlations come from a YAML file's `correlations:` list, from `correlations` (a CSV with
    columns a, b, rho), or from a companion file `<name>.correlations.csv` beside `path`. Columns
    are read as `read_table` says (`columns`: a `ColumnMap` or a mapping file).
    """
    path = Path(path)
    table = read_table(path, sheet=sheet, columns=columns)
    companion = correlations_path(path)
    corr_path = Path(correlations) if correlations is not None else (companion if companion.is_file() else None)
    if corr_path is not None:  # read_correlation_csv checks its size before reading it
        table.correlations += read_correlation_csv(corr_path)
    return build_portfolio(table, source=str(path))


def read_table(path: str | Path, *, sheet: str | None = None,
               columns: ColumnMap | str | Path | None = None) -> Table:
    """The raw table of a portfolio file (CSV, .xlsx or YAML), its columns named as the package
    names them; `InputError` for a file that cannot be read. Header problems (a missing or ambiguous
    column) are the table's, reported with its cells.

    The column mapping used is `columns` (a `ColumnMap` or a mapping file), else a YAML file's own
    `columns:` block, else a companion `<stem>.columns.yaml` beside the file, else none; built-in
    synonyms apply in every case (see `workbench.io.columns`). With no id column, ids are made from the names.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("file not found" if not path.exists() else "not a file", file=str(path)))
    check_file_size(path)  # before any reader opens it (each reader bounds what it reads as well)
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        table = read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        table = read_xlsx(path, sheet)
    elif suffix in (".yaml", ".yml"):
        table = read_yaml(path)
    elif suffix == ".xls":
        raise InputError(Problem("old Excel .xls files are not supported; save it as .xlsx or CSV UTF-8",
                                 file=str(path)))
    else:
        raise InputError(Problem(f"unknown file type {suffix or '(none)'!r}; expected .csv, .xlsx or .yaml",
                                 file=str(path)))
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise InputError(Problem("--sheet only applies to .xlsx files", file=str(path)))
    cmap = _column_map(path, columns, table)
    _title_row(table, cmap)
    if table.header is not None:  # CSV and .xlsx: one header row names the columns
        names = resolve_columns(table.header, cmap, table)
    elif table.rows:  # YAML: each initiative's keys
        typo_keys(table, cmap)
        keys = list(dict.fromkeys(k for row in table.rows for k in row))
        table.header_line = min((c.line for row in table.rows for c in row.values()), default=1)
        names = resolve_columns(keys, cmap, table, yaml=True)
    else:
        names = {}
    table = renamed(table, names)
    if table.rows and "id" not in names.values():
        if "name" in names.values():
            make_ids(table)
        else:  # no names to make ids from: the missing name column says it, once
            table.missing.add("id")
    table.status = status_words(cmap)
    if table.missing - {"id"} and sheet is None and len(names := sheet_names(path)) > 1:  # a notes sheet first?
        others = ", ".join(quote(n) for n in names[1:11]) + (f" and {len(names) - 11:,} more" * (len(names) > 11))
        table.problems.insert(0, Problem(f"the first sheet, {quote(names[0])}, is read and lacks required columns; the "
                                         f"workbook also has {others}: choose one with --sheet NAME", file=str(path)))
    return table


def _title_row(table: Table, cmap: ColumnMap | None) -> None:
    """Refuse a title above the header ('Q1 roadmap candidates' alone on line 1): when the header row
    holds a single name and is read as no required column, and the next row would be read as all of
    them, one problem says so (instead of a dozen about the wrong header). Not skipped silently: the
    user deletes the line (the reader never guesses which row is the header)."""
    if table.below_title is None or table.header is None:
        return
    line, below = table.below_title
    probe = Table(table.file, [], line)
    if not set(REQUIRED[1:]) <= set(resolve_columns(below, cmap, probe).values()):  # (an id is made from the names)
        return
    title, names = next(h for h in table.header if h.strip()), [quote(h) for h in below if h]
    if set(resolve_columns(table.header, cmap, Table(table.file, [])).values()) & set(REQUIRED):
        return
    raise InputError(Problem(f"line {table.header_line} looks like a title above the header (line {line} holds the "
                             f"column names: {', '.join(names[:6])}{', …' if len(names) > 6 else ''}); delete line "
                             f"{table.header_line}", file=table.file, line=table.header_line, value=title.strip()))


def _column_map(path: Path, columns: ColumnMap | str | Path | None, table: Table) -> ColumnMap | None:
    """The mapping to use: `columns`, the YAML file's own block, or the companion file (a note names
    one that is present but not used)."""
    companion = column_map_path(path)
    found = [m for m in (columns, table.column_map, companion if companion.is_file() else None) if m is not None]
    chosen = [m if isinstance(m, ColumnMap) else read_column_map(m) for m in found[:1]]
    for other in found[1:]:
        shown = other.source if isinstance(other, ColumnMap) else str(other)
        table.notes.append(f"the column mapping in {shown} is not used: {chosen[0].source or 'the one given'} is")
    return chosen[0] if chosen else None


def demo_portfolio() -> Portfolio:
    """The bundled demo: a B2B SaaS product's candidate initiatives for next quarter."""
    with resources.as_file(resources.files("workbench") / "data" / "demo_portfolio.yaml") as p:
        portfolio = load_portfolio(p)
    return replace(portfolio, source="demo_portfolio.yaml")

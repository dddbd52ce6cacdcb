"""Reading portfolio files: CSV, .xlsx and YAML (plus correlation files), and the bundled demo.

This module picks the reader by the file's suffix: `delimited` (CSV and correlation CSVs),
`workbook` (.xlsx) and `yaml_file` (YAML) each turn their format into a `table.Table` of raw cells
with their locations (problems with the file or its header are raised there, header checks live
in `table`); `workbench.io.validate.build_portfolio` checks the cells and builds the `Portfolio`.
Empty cells come as None (.xlsx, YAML null) or "" (CSV); validation gives both the field's default.
Every file (portfolio and correlation CSV) is refused beyond `limits.MAX_FILE_BYTES` before it is read.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from pathlib import Path

from ..errors import InputError, Problem
from ..model.portfolio import Portfolio
from .delimited import read_correlation_csv, read_csv, sniff_delimiter
from .table import Table, check_file_size, check_header, normalize_column, renamed
from .validate import build_portfolio
from .workbook import read_xlsx
from .yaml_file import read_yaml

__all__ = ["correlations_path", "demo_portfolio", "load_portfolio", "normalize_column", "read_table", "sniff_delimiter"]


def correlations_path(path: str | Path) -> Path:
    """The companion correlation file `load_portfolio` reads beside `path`: `<stem>.correlations.csv`."""
    path = Path(path)
    return path.with_name(path.stem + ".correlations.csv")


def load_portfolio(path: str | Path, *, sheet: str | None = None,
                   correlations: str | Path | None = None) -> Portfolio:
    """Read a portfolio from CSV, .xlsx or YAML; raise `InputError` listing every problem.

    Correlations come from a YAML file's `correlations:` list, from `correlations` (a CSV with
    columns a, b, rho), or from a companion file `<name>.correlations.csv` beside `path`.
    """
    path = Path(path)
    table = read_table(path, sheet=sheet)
    companion = correlations_path(path)
    corr_path = Path(correlations) if correlations is not None else (companion if companion.is_file() else None)
    if corr_path is not None:  # read_correlation_csv checks its size before reading it
        table.correlations += read_correlation_csv(corr_path)
    return build_portfolio(table, source=str(path))


def read_table(path: str | Path, *, sheet: str | None = None) -> Table:
    """The raw table of a portfolio file (CSV, .xlsx or YAML), its columns named as the package
    names them; `InputError` for a file that cannot be read or a header that is not usable."""
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
    if table.header is not None:  # CSV and .xlsx: one header row names the columns
        check_header(table, table.header)
        table = renamed(table, table.header)
    return table


def demo_portfolio() -> Portfolio:
    """The bundled demo: a B2B SaaS product's candidate initiatives for next quarter."""
    with resources.as_file(resources.files("workbench") / "data" / "demo_portfolio.yaml") as p:
        portfolio = load_portfolio(p)
    return replace(portfolio, source="demo_portfolio.yaml")

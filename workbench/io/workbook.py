"""Excel workbooks (.xlsx, .xlsm) read into raw tables."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Problem
from ..model.portfolio import REQUIRED
from .table import Cell, Table, check_header, renamed


def read_xlsx(path: Path, sheet: str | None) -> Table:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a corrupt file
        raise InputError(Problem(f"cannot read as an Excel workbook: {e}", file=str(path))) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError(Problem(f"no sheet named {sheet!r}; the sheets are {', '.join(wb.sheetnames)}",
                                     file=str(path)))
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        header, header_line, rows = None, 1, []
        for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            if header is None:
                header, header_line = ["" if v is None else str(v) for v in values], r
                continue
            rows.append({h: Cell(values[j] if j < len(values) else None, r, f"{get_column_letter(j + 1)} ({h})")
                         for j, h in enumerate(header) if h})
    finally:
        wb.close()
    if header is None:
        raise InputError(Problem("the sheet is empty; expected a header row with " + ", ".join(REQUIRED),
                                 file=str(path)))
    table = Table(str(path), rows, header_line)
    check_header(table, header)
    return renamed(table, header)

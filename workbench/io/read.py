"""Reading portfolio files: CSV, .xlsx and YAML (plus correlation files), and the bundled demo.

Each reader turns its format into a `Table` of raw cells with their locations (problems with the
file or its header are raised here); `workbench.io.validate.build_portfolio` checks the cells and
builds the `Portfolio`. Empty cells come as None (.xlsx, YAML null) or "" (CSV); validation gives
both the field's default.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path

from ..errors import InputError, Problem
from ..model.portfolio import REQUIRED, Portfolio
from .validate import Cell, Table, build_portfolio


def normalize_column(name: object) -> str:
    """Column names are case- and space-insensitive: 'Depends On' == 'depends_on'."""
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower()).strip("_")


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
    if not path.is_file():
        raise InputError(Problem("file not found" if not path.exists() else "not a file", file=str(path)))
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        table = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        table = _read_xlsx(path, sheet)
    elif suffix in (".yaml", ".yml"):
        table = _read_yaml(path)
    elif suffix == ".xls":
        raise InputError(Problem("old Excel .xls files are not supported; save it as .xlsx or CSV UTF-8",
                                 file=str(path)))
    else:
        raise InputError(Problem(f"unknown file type {suffix or '(none)'!r}; expected .csv, .xlsx or .yaml",
                                 file=str(path)))
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise InputError(Problem("--sheet only applies to .xlsx files", file=str(path)))
    companion = correlations_path(path)
    corr_path = Path(correlations) if correlations is not None else (companion if companion.is_file() else None)
    if corr_path is not None:
        table.correlations += _read_correlation_csv(corr_path)
    return build_portfolio(table, source=str(path))


def demo_portfolio() -> Portfolio:
    """The bundled demo: a B2B SaaS product's candidate initiatives for next quarter."""
    with resources.as_file(resources.files("workbench") / "data" / "demo_portfolio.yaml") as p:
        portfolio = load_portfolio(p)
    return replace(portfolio, source="demo_portfolio.yaml")


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(Problem(
            f"the file is not UTF-8 (byte 0x{raw[e.start]:02x}); save it as 'CSV UTF-8' from Excel",
            file=str(path), line=line)) from None


def sniff_delimiter(text: str) -> str:
    """The CSV separator (comma, semicolon or tab) that splits the first non-blank line into most cells."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in (",", ";", "\t")}
    return max(counts, key=counts.get)


def _read_csv(path: Path) -> Table:
    text = _decode(path)
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
    _check_header(table, header)
    return _renamed(table, header)


def _read_xlsx(path: Path, sheet: str | None) -> Table:
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
    _check_header(table, header)
    return _renamed(table, header)


def _read_yaml(path: Path) -> Table:
    import yaml

    text = _decode(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise InputError(Problem(f"invalid YAML: {getattr(e, 'problem', e)}", file=str(path),
                                 line=mark.line + 1 if mark else None)) from None
    file = str(path)
    correlations: list = []
    if isinstance(root, yaml.MappingNode):
        sections = {k.value: v for k, v in root.value}
        if "initiatives" not in sections:
            raise InputError(Problem("expected a list of initiatives, or a mapping with an 'initiatives:' list",
                                     file=file, line=1))
        root, corr = sections["initiatives"], sections.get("correlations")
        if corr is not None:
            correlations = _yaml_correlations(corr, file)
    if not isinstance(root, yaml.SequenceNode):
        raise InputError(Problem("expected a list of initiatives", file=file,
                                 line=(root.start_mark.line + 1) if root else 1))
    rows, problems = [], []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem("each initiative must be a mapping of column: value", file=file, line=line))
            continue
        row = {}
        for key, node in item.value:
            name = normalize_column(key.value)
            row[name] = Cell(_yaml_value(node), node.start_mark.line + 1,
                              f"{node.start_mark.column + 1} ({key.value})")
        rows.append(row)
    if problems:
        raise InputError(problems)
    table = Table(file, rows, correlations=correlations)
    missing = [c for c in REQUIRED if not any(c in r for r in rows)]
    if rows and missing:
        raise InputError([Problem(f"missing required field {c!r} in every initiative", file=file) for c in missing])
    return table


def _yaml_value(node) -> object:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return ";".join(str(_yaml_value(n)) for n in node.value)
    if isinstance(node, yaml.MappingNode):
        return {k.value: _yaml_value(v) for k, v in node.value}
    if node.tag.endswith(":null"):
        return None
    if node.tag.endswith(":bool"):
        return node.value.lower() in ("true", "yes", "on")
    return node.value


def _yaml_correlations(node, file: str) -> list:
    import yaml

    out = []
    if not isinstance(node, yaml.SequenceNode):
        raise InputError(Problem("'correlations:' must be a list of [a, b, rho]", file=file,
                                 line=node.start_mark.line + 1))
    for item in node.value:
        line = item.start_mark.line + 1
        value = _yaml_value(item)
        if isinstance(value, dict):
            lowered = {normalize_column(k): v for k, v in value.items()}
            out.append((lowered.get("a"), lowered.get("b"), lowered.get("rho"), line))
        elif isinstance(value, str) and value.count(";") == 2:
            out.append((*value.split(";"), line))
        else:
            out.append((None, None, value, line))
    return out


def _read_correlation_csv(path: Path) -> list:
    table = _read_csv_plain(path)
    return [(r.get("a"), r.get("b"), r.get("rho"), line, str(path)) for line, r in table]


def _read_csv_plain(path: Path) -> list[tuple[int, dict]]:
    if not path.is_file():
        raise InputError(Problem("file not found", file=str(path)))
    text = _decode(path)
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


def _check_header(table: Table, header: list[str] | None) -> None:
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
        raise InputError(problems)


def _renamed(table: Table, header: list[str]) -> Table:
    mapping = {h: normalize_column(h) for h in header}
    table.rows = [{mapping[h]: c for h, c in row.items() if mapping.get(h)} for row in table.rows]
    return table

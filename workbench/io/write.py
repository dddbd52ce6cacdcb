"""Writing portfolio files: `save_portfolio` to CSV, .xlsx or YAML, so that `load_portfolio` reads
the file back equal. No text runs as a spreadsheet formula: CSV text cells are guarded
(`guard_formula`), .xlsx text cells are string cells.

Everything is checked and serialized before the first byte is written; each file is replaced
atomically.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..errors import quote
from ..model.estimates import FACTORS, EstimateError, parse_estimate
from ..model.portfolio import MOSCOW, OPTIONAL, REQUIRED, ROADMAP, Portfolio
from .files import guard_formula, write_atomic
from .read import correlations_path, normalize_column, sniff_delimiter

SAVE_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
_AMOUNTS = ("cost", "max_per_quarter")  # numbers, written as numbers in YAML
_XLSX_MAX_CELL = 32767  # Excel's limit; openpyxl silently truncates longer strings


def save_portfolio(portfolio: Portfolio, path: str | Path) -> Path:
    """Write `portfolio` to `path` (.csv, .xlsx, .yaml or .yml) so that `load_portfolio` reads it back equal.

    Columns are the readers' own: id, name, reach, impact, confidence, effort (each estimate as the
    text it was written in), then team, theme, moscow, cost, depends_on, excludes, planned and the
    roadmap's max_per_quarter, earliest, deadline, planned_quarter when any initiative uses them,
    then the initiatives' `extra` columns. YAML carries the correlations in
    its `correlations:` list. For CSV and .xlsx they go to the companion `<stem>.correlations.csv`
    (`correlations_path(path)`), which `load_portfolio(path)` picks up by itself; pass it as
    `load_portfolio(path, correlations=correlations_path(path))` to be explicit (not for YAML, whose
    inline list would be read twice).

    Every file is replaced atomically (a failed write leaves the old file). Returns `path`. Raises
    ValueError, before writing anything, for an unsupported suffix, for values that would not read
    back as they are, and for a companion file that would otherwise be read back with the portfolio.
    The readers strip spaces around text cells, and CSV reads `extra` values back as text. CSV text
    cells that start with a formula starter get a leading apostrophe (`guard_formula`), which the
    reader drops; .xlsx text is always a string cell, never a formula.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SAVE_SUFFIXES:
        raise ValueError(f"cannot save a portfolio as {suffix or '(no suffix)'!r}; "
                         f"use one of {', '.join(SAVE_SUFFIXES)}")
    problems = _unwritable(portfolio)
    columns, records = _records(portfolio)
    companion = correlations_path(path)
    corr = [(f"{c.a[0]}.{c.a[1]}", f"{c.b[0]}.{c.b[1]}", c.rho) for c in portfolio.correlations]
    # load_portfolio reads the companion beside any portfolio file (YAML too), so one left over
    # from another save would be merged in. It may belong to someone else's file: never delete it.
    if companion.is_file() and (suffix in (".yaml", ".yml") or not corr):
        problems.append(f"{companion} exists and load_portfolio({str(path)!r}) would read its correlations too; "
                        f"remove it or save under another name")
    files: list[tuple[Path, str | bytes]] = []
    if suffix in (".yaml", ".yml"):
        files.append((path, yaml_text(records, corr)))
    else:
        table = csv_text(columns, records) if suffix == ".csv" else xlsx_bytes(columns, records, problems)
        files.append((path, table))
        if corr:
            files.append((companion, csv_text(["a", "b", "rho"], [dict(zip("ab", c[:2]), rho=c[2]) for c in corr])))
    if problems:
        raise ValueError("cannot save the portfolio:\n" + "\n".join(f"  - {p}" for p in problems))
    # Everything is serialized before the first write; the pair is written main file first, and
    # each file is atomic on its own (two files cannot be replaced as one).
    for target, data in files:
        write_atomic(target, data)
    return path


def _unwritable(portfolio: Portfolio) -> list[str]:
    """Values that a saved file would not give back as they are (only portfolios built in code have them)."""
    problems = []
    for ini in portfolio:
        where = f"initiative {quote(ini.id)}"
        if not ini.id or ini.id != ini.id.strip() or ";" in ini.id or "," in ini.id:
            problems.append(f"{where}: an id must be non-empty, without surrounding spaces, ';' or ','")
        if not str(ini.name).strip():
            problems.append(f"{where}: a name is required")
        for factor in FACTORS:
            est = ini.estimate(factor)
            try:
                same = parse_estimate(est.text, factor) == est  # the text is all a file keeps
            except EstimateError:
                same = False
            if not same:
                problems.append(f"{where}: {factor} {quote(str(est))} is not the text of its estimate; "
                                f"build estimates with parse_estimate(text, {factor!r})")
        if ini.moscow is not None and ini.moscow not in MOSCOW:
            problems.append(f"{where}: moscow {quote(ini.moscow)} is not one of {', '.join(MOSCOW)}")
        if ini.cost is not None and not (math.isfinite(ini.cost) and ini.cost >= 0
                                         and _parses_to(_number(ini.cost), ini.cost)):
            problems.append(f"{where}: cost {ini.cost!r} is not a number >= 0 that a file can hold")
        pace = ini.max_per_quarter  # Initiative checks it is > 0 and finite: the text must give it back
        if pace is not None and not _parses_to(_number(pace), pace):
            problems.append(f"{where}: max_per_quarter {pace!r} is not a number that a file can hold")
        for col in ("depends_on", "excludes"):
            refs = getattr(ini, col)
            if ini.id in refs or len(set(refs)) != len(refs):
                problems.append(f"{where}: {col} {refs!r} refers to itself or repeats an id")
        for key in ini.extra:
            if not isinstance(key, str) or not key or normalize_column(key) != key or key in REQUIRED + OPTIONAL:
                problems.append(f"{where}: extra column {quote(key)} would be read back as "
                                f"{normalize_column(key)!r}; use a lower_case name that is not a standard column")
    return problems


def _parses_to(text: str, value: float) -> bool:
    try:
        return parse_estimate(text, "reach").median() == value
    except EstimateError:
        return False


def _number(x: float) -> str:
    """Exact (repr) and short: 12000 rather than 12000.0."""
    x = float(x)
    return str(int(x)) if x.is_integer() and abs(x) < 1e16 else repr(x)


def _records(portfolio: Portfolio) -> tuple[list[str], list[dict]]:
    """The columns to write and one dict per initiative holding only the values it sets."""
    records = []
    for ini in portfolio:
        rec: dict = {"id": ini.id, "name": ini.name}
        rec.update({f: ini.estimate(f).text for f in FACTORS})
        values = {"team": ini.team, "theme": ini.theme, "moscow": ini.moscow, "cost": ini.cost,
                  "depends_on": ";".join(ini.depends_on), "excludes": ";".join(ini.excludes),
                  "planned": ini.planned, **{col: getattr(ini, col) for col in ROADMAP}}
        # The defaults (None, "", False) are what an absent or empty cell reads back as.
        rec.update({k: v for k, v in values.items() if v is not None and v != "" and v is not False})
        rec.update(ini.extra)
        records.append(rec)
    # Done rows are left out of the decision but not out of the file: a saved copy keeps them.
    records += [{"id": id_, "name": name, "status": "done"} for id_, name in portfolio.done]
    used = set().union(*records)
    extras = list(dict.fromkeys(k for ini in portfolio for k in ini.extra))
    return [*REQUIRED, *(c for c in (*OPTIONAL, "status") if c in used), *extras], records


def csv_text(columns: list[str], records: list[dict], header: list[str] | None = None) -> str:
    """CSV text of `records` under `columns`: a BOM, formula-looking text guarded, read back equal.
    `header`: the header row to write, when it differs from the record keys `columns` (repeated names)."""
    buf = io.StringIO()
    # The csv module's default "\r\n" line end makes it quote cells holding "\r" as well as "\n"
    # (with "\n" alone a bare "\r" goes out unquoted and splits the row on reading).
    writer = csv.writer(buf)
    # Text cells (the header too) that a spreadsheet would run as a formula ('=HYPERLINK(…)',
    # '+cmd|…') get a leading apostrophe; the CSV reader drops it again (unguard_formula), so the
    # file reads back equal. Numbers and booleans are never guarded.
    writer.writerow([guard_formula(c) for c in (columns if header is None else header)])
    for rec in records:
        writer.writerow([_csv_cell(rec.get(c, False if c == "planned" else None)) for c in columns])
    text = buf.getvalue()
    if sniff_delimiter(text) != ",":  # a header the reader would split on ';' or tabs
        raise ValueError(f"cannot save as CSV: the reader would not recognize ',' in the header "
                         f"{columns if header is None else header!r}")
    return "\ufeff" + text  # the BOM makes Excel open the file as UTF-8; the reader accepts it


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number(value)
    return guard_formula(value) if isinstance(value, str) else str(value)


def xlsx_bytes(columns: list[str], records: list[dict], problems: list[str], header: list[str] | None = None) -> bytes:
    """An .xlsx workbook (one sheet, "Portfolio") of `records` under `columns` (`header`: the header
    row, when it differs from the keys). Numbers, booleans and dates stay what they are; text is
    always a string cell, never a formula. A value .xlsx cannot hold is added to `problems`."""
    import datetime

    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Portfolio"
    ws.freeze_panes = "A2"
    for r, rec in enumerate([dict(zip(columns, columns if header is None else header)), *records], start=1):
        for j, col in enumerate(columns, start=1):
            value = rec.get(col, False if col == "planned" and r > 1 else None)
            if value is not None and not isinstance(value, (str, bool, int, float, datetime.date, datetime.time)):
                value = str(value)
            # XML reads a carriage return back as "\n", and openpyxl refuses other control characters.
            if isinstance(value, str) and (ILLEGAL_CHARACTERS_RE.search(value) or "\r" in value
                                           or len(value) > _XLSX_MAX_CELL):
                problems.append(f"cell {get_column_letter(j)}{r} ({col}): {value[:40]!r} has a carriage return or "
                                f"control character, or more than {_XLSX_MAX_CELL} characters, which .xlsx cannot "
                                f"hold; save as CSV or YAML")
                continue
            cell = ws.cell(row=r, column=j, value=value)
            if isinstance(value, str):
                # openpyxl makes '=...' a formula and '#N/A' an error value; user text stays text.
                cell.data_type = "s"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def yaml_text(records: list[dict], corr: list[tuple], status: dict[str, str] | None = None) -> str:
    """A YAML portfolio: `initiatives:` (one mapping per record, cost written as a number), the
    correlations `corr` ([a, b, rho] each) and a `status:` block (their status -> ours), when given."""
    import yaml

    class Dumper(yaml.SafeDumper):
        def increase_indent(self, flow: bool = False, indentless: bool = False):
            return super().increase_indent(flow, False)  # "  - id: ..." under its key, as people write it

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        # PyYAML's plain and single-quoted styles fold a NEL (U+0085) into a space; double quotes escape it.
        style = '"' if any(ch in value for ch in "\x85\u2028\u2029") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)

    def plain(value: object) -> object:
        # SafeDumper knows only the exact built-in types (not numpy's, say); the rest is written as text.
        if value is None or type(value) in (str, bool, int, float):
            return value
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return str(value)

    def number(x: float) -> int | float:  # 12000 rather than 12000.0; the reader parses the scalar's text
        return int(x) if float(x).is_integer() and abs(x) < 1e16 else float(x)

    data: dict = {"status": dict(status)} if status else {}
    data["initiatives"] = [{k: (number(v) if k in _AMOUNTS and isinstance(v, (int, float)) else plain(v))
                            for k, v in rec.items()} for rec in records]
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=float("inf"))
    if corr:
        # Leaf lists in flow style: "- [a.reach, b.reach, 0.6]", the form of the bundled demo.
        text += "\n" + yaml.dump({"correlations": [list(c) for c in corr]}, Dumper=Dumper, sort_keys=False,
                                 allow_unicode=True, width=float("inf"), default_flow_style=None)
    return text

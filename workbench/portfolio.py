"""The portfolio: initiatives with their estimates, read from (and saved to) CSV, Excel or YAML files.

Validation lives here, at the boundary: every invalid cell becomes a `Problem` with file,
line, column, value and what was expected, and all of them are raised together as one
`InputError`. The rest of the package works on a valid `Portfolio`.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .estimates import FACTORS, Estimate, EstimateError, parse_estimate
from .output import write_atomic

REQUIRED = ("id", "name", "reach", "impact", "confidence", "effort")
OPTIONAL = ("team", "theme", "moscow", "cost", "depends_on", "excludes", "planned")
MOSCOW = ("must", "should", "could", "won't")
_MOSCOW_ALIASES = {
    "must": "must", "m": "must", "musthave": "must",
    "should": "should", "s": "should", "shouldhave": "should",
    "could": "could", "c": "could", "couldhave": "could",
    "won't": "won't", "wont": "won't", "w": "won't", "won'thave": "won't", "wonthave": "won't",
}
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


@dataclass(frozen=True)
class Initiative:
    """One row of the portfolio."""

    id: str
    name: str
    reach: Estimate
    impact: Estimate
    confidence: Estimate
    effort: Estimate
    team: str | None = None
    theme: str | None = None
    moscow: str | None = None
    cost: float | None = None
    depends_on: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    planned: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    def estimate(self, factor: str) -> Estimate:
        return getattr(self, factor)

    def rice(self) -> float:
        """Classic RICE from each estimate's median, confidence as a multiplier."""
        r, i, c, e = (self.estimate(f).median() for f in FACTORS)
        return r * i * c / e


@dataclass(frozen=True)
class Correlation:
    """A rank correlation between two estimates, each named (initiative id, factor)."""

    a: tuple[str, str]
    b: tuple[str, str]
    rho: float


@dataclass(frozen=True)
class Portfolio:
    """An ordered, validated collection of initiatives (and optional estimate correlations)."""

    initiatives: tuple[Initiative, ...]
    correlations: tuple[Correlation, ...] = ()
    source: str | None = None

    def __post_init__(self):
        _check_portfolio(self)

    def __len__(self) -> int:
        return len(self.initiatives)

    def __iter__(self):
        return iter(self.initiatives)

    @property
    def ids(self) -> list[str]:
        return [i.id for i in self.initiatives]

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.initiatives]

    def __getitem__(self, id_: str) -> Initiative:
        for ini in self.initiatives:
            if ini.id == id_:
                return ini
        raise KeyError(id_)

    def index(self, id_: str) -> int:
        return self.ids.index(id_)

    def estimates(self, factor: str) -> list[Estimate]:
        return [i.estimate(factor) for i in self.initiatives]

    def with_initiatives(self, initiatives) -> "Portfolio":
        return replace(self, initiatives=tuple(initiatives))

    def to_frame(self) -> pd.DataFrame:
        """One row per initiative, estimates shown as the text they were written in."""
        rows = []
        for ini in self.initiatives:
            row = {"id": ini.id, "name": ini.name}
            row.update({f: str(ini.estimate(f)) for f in FACTORS})
            row.update(team=ini.team, theme=ini.theme, moscow=ini.moscow, cost=ini.cost,
                       depends_on=";".join(ini.depends_on), excludes=";".join(ini.excludes),
                       planned=ini.planned, rice=ini.rice())
            row.update(ini.extra)
            rows.append(row)
        return pd.DataFrame(rows).set_index("id")


def _check_portfolio(p: Portfolio) -> None:
    """Cross-row rules for portfolios built in code (files get located messages earlier)."""
    problems, seen = [], set()
    for ini in p.initiatives:
        if ini.id in seen:
            problems.append(Problem(f"duplicate id {ini.id!r}"))
        seen.add(ini.id)
    for ini in p.initiatives:
        for col in ("depends_on", "excludes"):
            for ref in getattr(ini, col):
                if ref not in seen:
                    problems.append(Problem(f"{ini.id}: {col} refers to unknown id {ref!r}"))
    if not p.initiatives:
        problems.append(Problem("the portfolio has no initiatives"))
    if problems:
        raise InputError(problems)


# --- reading files --------------------------------------------------------------------------


def normalize_column(name: object) -> str:
    """Column names are case- and space-insensitive: 'Depends On' == 'depends_on'."""
    return re.sub(r"[\s_\-]+", "_", str(name).strip().lower()).strip("_")


@dataclass
class _Cell:
    value: object
    line: int
    column: str


@dataclass
class _Table:
    """Rows of raw cells keyed by normalized column, from any file format."""

    file: str
    rows: list[dict[str, _Cell]]
    header_line: int = 1
    correlations: list[tuple[object, object, object, int]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # found while reading, reported with the cells


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
        raise InputError(Problem("old Excel .xls files are not supported; save it as .xlsx or CSV UTF-8", file=str(path)))
    else:
        raise InputError(Problem(f"unknown file type {suffix or '(none)'!r}; expected .csv, .xlsx or .yaml", file=str(path)))
    if sheet is not None and suffix not in (".xlsx", ".xlsm"):
        raise InputError(Problem("--sheet only applies to .xlsx files", file=str(path)))
    companion = path.with_name(path.stem + ".correlations.csv")
    corr_path = Path(correlations) if correlations is not None else (companion if companion.is_file() else None)
    if corr_path is not None:
        table.correlations += _read_correlation_csv(corr_path)
    return _build(table, source=str(path))


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


def _sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in (",", ";", "\t")}
    return max(counts, key=counts.get)


def _read_csv(path: Path) -> _Table:
    text = _decode(path)
    if not text.strip():
        raise InputError(Problem("the file is empty; expected a header row with " + ", ".join(REQUIRED), file=str(path)))
    delimiter = _sniff_delimiter(text)
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
        rows.append({h: _Cell(record[j] if j < len(record) else "", line, f"{j + 1} ({h})")
                     for j, h in enumerate(header)})
    table = _Table(str(path), rows, header_line, problems=problems)
    _check_header(table, header)
    return _renamed(table, header)


def _read_xlsx(path: Path, sheet: str | None) -> _Table:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a corrupt file
        raise InputError(Problem(f"cannot read as an Excel workbook: {e}", file=str(path))) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError(Problem(f"no sheet named {sheet!r}; the sheets are {', '.join(wb.sheetnames)}", file=str(path)))
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        header, header_line, rows = None, 1, []
        for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if all(v is None or str(v).strip() == "" for v in values):
                continue
            if header is None:
                header, header_line = ["" if v is None else str(v) for v in values], r
                continue
            rows.append({h: _Cell(values[j] if j < len(values) else None, r, f"{get_column_letter(j + 1)} ({h})")
                         for j, h in enumerate(header) if h})
    finally:
        wb.close()
    if header is None:
        raise InputError(Problem("the sheet is empty; expected a header row with " + ", ".join(REQUIRED), file=str(path)))
    table = _Table(str(path), rows, header_line)
    _check_header(table, header)
    return _renamed(table, header)


def _read_yaml(path: Path) -> _Table:
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
            raise InputError(Problem("expected a list of initiatives, or a mapping with an 'initiatives:' list", file=file, line=1))
        root, corr = sections["initiatives"], sections.get("correlations")
        if corr is not None:
            correlations = _yaml_correlations(corr, file)
    if not isinstance(root, yaml.SequenceNode):
        raise InputError(Problem("expected a list of initiatives", file=file, line=(root.start_mark.line + 1) if root else 1))
    rows, problems = [], []
    for item in root.value:
        line = item.start_mark.line + 1
        if not isinstance(item, yaml.MappingNode):
            problems.append(Problem("each initiative must be a mapping of column: value", file=file, line=line))
            continue
        row = {}
        for key, node in item.value:
            name = normalize_column(key.value)
            row[name] = _Cell(_yaml_value(node), node.start_mark.line + 1, f"{node.start_mark.column + 1} ({key.value})")
        rows.append(row)
    if problems:
        raise InputError(problems)
    table = _Table(file, rows, correlations=correlations)
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
        raise InputError(Problem("'correlations:' must be a list of [a, b, rho]", file=file, line=node.start_mark.line + 1))
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
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
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


def _check_header(table: _Table, header: list[str] | None) -> None:
    names = [normalize_column(h) for h in header or []]
    problems = []
    seen: dict[str, str] = {}
    for raw, name in zip(header or [], names):
        if name and name in seen:
            problems.append(Problem(f"column {raw!r} repeats column {seen[name]!r} (names are case- and space-insensitive)",
                                    file=table.file, line=table.header_line))
        seen.setdefault(name, raw)
    for col in REQUIRED:
        if col not in names:
            problems.append(Problem(f"missing required column {col!r} (found: {', '.join(h for h in header or [] if h)})",
                                    file=table.file, line=table.header_line))
    if problems:
        raise InputError(problems)


def _renamed(table: _Table, header: list[str]) -> _Table:
    mapping = {h: normalize_column(h) for h in header}
    table.rows = [{mapping[h]: c for h, c in row.items() if mapping.get(h)} for row in table.rows]
    return table


# --- building and validating ------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _build(table: _Table, source: str) -> Portfolio:
    problems: list[Problem] = list(table.problems)
    file = table.file

    def report(cell: _Cell, message: str) -> None:
        problems.append(Problem(message, file=file, line=cell.line, column=cell.column, value=_text(cell.value) or None))

    parsed, first_line = [], {}
    for row in table.rows:
        def cell(name: str) -> _Cell:
            line = next(iter(row.values())).line if row else 0
            return row.get(name) or _Cell(None, line, name)

        fields: dict = {}
        id_cell = cell("id")
        id_ = _text(id_cell.value)
        if not id_:
            report(id_cell, "an id is required")
        elif ";" in id_ or "," in id_:
            report(id_cell, "an id cannot contain ';' or ','")
        elif id_ in first_line:
            report(id_cell, f"duplicate id (first used on line {first_line[id_]})")
        else:
            first_line[id_] = id_cell.line
        fields["id"] = id_
        name = _text(cell("name").value)
        if not name:
            report(cell("name"), "a name is required")
        fields["name"] = name
        for factor in FACTORS:
            c = cell(factor)
            try:
                fields[factor] = parse_estimate(c.value if not isinstance(c.value, str) else c.value.strip(), factor)
            except EstimateError as e:
                report(c, str(e))
        fields["team"] = _text(cell("team").value) or None
        fields["theme"] = _text(cell("theme").value) or None
        moscow = _text(cell("moscow").value).lower().replace("’", "'")
        moscow_key = re.sub(r"[\s\-_]+", "", moscow)
        if moscow_key and moscow_key not in _MOSCOW_ALIASES:
            report(cell("moscow"), "expected one of must, should, could, won't (or empty)")
        fields["moscow"] = _MOSCOW_ALIASES.get(moscow_key)
        cost_cell = cell("cost")
        if _text(cost_cell.value):
            try:
                cost = parse_estimate(cost_cell.value, "reach")
                if not cost.is_point:
                    raise EstimateError("expected a single number")
                fields["cost"] = cost.median()
            except EstimateError:
                report(cost_cell, "cost must be a single number >= 0 (e.g. 120000 or 120k)")
        for col in ("depends_on", "excludes"):
            refs = [r.strip() for r in re.split(r"[;,]", _text(cell(col).value)) if r.strip()]
            fields[col] = tuple(dict.fromkeys(refs))
        planned = cell("planned").value
        planned_text = _text(planned).lower()
        if isinstance(planned, bool):
            fields["planned"] = planned
        elif planned_text in _TRUE | _FALSE:
            fields["planned"] = planned_text in _TRUE
        else:
            report(cell("planned"), "expected true or false (or yes/no, 1/0, empty)")
        fields["extra"] = {k: c.value for k, c in row.items() if k not in REQUIRED + OPTIONAL}
        parsed.append((fields, row))

    known = set(first_line)
    for fields, row in parsed:
        for col in ("depends_on", "excludes"):
            for ref in fields[col]:
                c = row.get(col)
                if ref == fields["id"]:
                    report(c, f"{col}: an initiative cannot refer to itself")
                elif ref not in known:
                    report(c, f"{col}: unknown id {ref!r}")
    if not table.rows and not problems:
        problems.append(Problem("the portfolio has no initiatives", file=file))

    correlations = _build_correlations(table, known, problems)
    if problems:
        raise InputError(problems)
    initiatives = tuple(Initiative(**fields) for fields, _ in parsed)
    portfolio = Portfolio(initiatives, tuple(correlations), source)
    if correlations:
        from .correlation import correlation_matrix  # checks positive semi-definiteness

        correlation_matrix(portfolio)
    return portfolio


def _build_correlations(table: _Table, known: set[str], problems: list[Problem]) -> list[Correlation]:
    out, seen = [], {}
    for a, b, rho, line, *source in table.correlations:  # source: the correlation CSV, if not the table's file
        def bad(msg: str, value=None, file=source[0] if source else table.file) -> None:
            problems.append(Problem(msg, file=file, line=line, column="correlations", value=value))

        refs = []
        for ref in (a, b):
            text = _text(ref)
            id_, _, factor = text.rpartition(".")
            factor = factor.lower()
            if not id_ or factor not in FACTORS:
                bad("expected initiative.factor with factor one of reach, impact, confidence, effort", text or None)
            elif id_ not in known:
                bad(f"unknown initiative id {id_!r}", text)
            else:
                refs.append((id_, factor))
        try:
            r = float(_text(rho))
            if not -1 <= r <= 1:
                raise ValueError
        except ValueError:
            bad("expected a rank correlation between -1 and 1", _text(rho) or None)
            continue
        if len(refs) != 2:
            continue
        if refs[0] == refs[1]:
            bad("an estimate cannot be correlated with itself", f"{a}")
            continue
        key = frozenset(refs)
        if key in seen:
            bad(f"this pair was already given on line {seen[key]}", f"{a}, {b}")
            continue
        seen[key] = line
        out.append(Correlation(refs[0], refs[1], r))
    return out


# --- writing files ----------------------------------------------------------------------------

SAVE_SUFFIXES = (".csv", ".xlsx", ".yaml", ".yml")
_XLSX_MAX_CELL = 32767  # Excel's limit; openpyxl silently truncates longer strings


def correlations_path(path: str | Path) -> Path:
    """The companion correlation file `load_portfolio` reads beside `path`: `<stem>.correlations.csv`."""
    path = Path(path)
    return path.with_name(path.stem + ".correlations.csv")


def save_portfolio(portfolio: Portfolio, path: str | Path) -> Path:
    """Write `portfolio` to `path` (.csv, .xlsx, .yaml or .yml) so that `load_portfolio` reads it back equal.

    Columns are the readers' own: id, name, reach, impact, confidence, effort (each estimate as the
    text it was written in), then team, theme, moscow, cost, depends_on, excludes, planned when any
    initiative uses them, then the initiatives' `extra` columns. YAML carries the correlations in
    its `correlations:` list. For CSV and .xlsx they go to the companion `<stem>.correlations.csv`
    (`correlations_path(path)`), which `load_portfolio(path)` picks up by itself; pass it as
    `load_portfolio(path, correlations=correlations_path(path))` to be explicit (not for YAML, whose
    inline list would be read twice).

    Every file is replaced atomically (a failed write leaves the old file). Returns `path`. Raises
    ValueError, before writing anything, for an unsupported suffix, for values that would not read
    back as they are, and for a companion file that would otherwise be read back with the portfolio.
    The readers strip spaces around text cells, and CSV reads `extra` values back as text.
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
        files.append((path, _yaml_text(records, corr)))
    else:
        table = _csv_text(columns, records) if suffix == ".csv" else _xlsx_bytes(columns, records, problems)
        files.append((path, table))
        if corr:
            files.append((companion, _csv_text(["a", "b", "rho"], [dict(zip("ab", c[:2]), rho=c[2]) for c in corr])))
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
        where = f"initiative {ini.id!r}"
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
                problems.append(f"{where}: {factor} {str(est)!r} is not the text of its estimate; "
                                f"build estimates with parse_estimate(text, {factor!r})")
        if ini.moscow is not None and ini.moscow not in MOSCOW:
            problems.append(f"{where}: moscow {ini.moscow!r} is not one of {', '.join(MOSCOW)}")
        if ini.cost is not None and not (math.isfinite(ini.cost) and ini.cost >= 0
                                         and _parses_to(_number(ini.cost), ini.cost)):
            problems.append(f"{where}: cost {ini.cost!r} is not a number >= 0 that a file can hold")
        for col in ("depends_on", "excludes"):
            refs = getattr(ini, col)
            if ini.id in refs or len(set(refs)) != len(refs):
                problems.append(f"{where}: {col} {refs!r} refers to itself or repeats an id")
        for key in ini.extra:
            if not isinstance(key, str) or not key or normalize_column(key) != key or key in REQUIRED + OPTIONAL:
                problems.append(f"{where}: extra column {key!r} would be read back as "
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
                  "planned": ini.planned}
        # The defaults (None, "", False) are what an absent or empty cell reads back as.
        rec.update({k: v for k, v in values.items() if v is not None and v != "" and v is not False})
        rec.update(ini.extra)
        records.append(rec)
    used = set().union(*records)
    extras = list(dict.fromkeys(k for ini in portfolio for k in ini.extra))
    return [*REQUIRED, *(c for c in OPTIONAL if c in used), *extras], records


def _csv_text(columns: list[str], records: list[dict]) -> str:
    buf = io.StringIO()
    # The csv module's default "\r\n" line end makes it quote cells holding "\r" as well as "\n"
    # (with "\n" alone a bare "\r" goes out unquoted and splits the row on reading).
    writer = csv.writer(buf)
    writer.writerow(columns)
    for rec in records:
        # Cells are written raw: no apostrophe before '=' (as csv_safe adds) since the reader would
        # keep it as part of the text.
        writer.writerow([_csv_cell(rec.get(c, False if c == "planned" else None)) for c in columns])
    text = buf.getvalue()
    if _sniff_delimiter(text) != ",":  # a header the reader would split on ';' or tabs
        raise ValueError(f"cannot save as CSV: the reader would not recognize ',' in the header {columns!r}")
    return "\ufeff" + text  # the BOM makes Excel open the file as UTF-8; the reader accepts it


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number(value)
    return str(value)


def _xlsx_bytes(columns: list[str], records: list[dict], problems: list[str]) -> bytes:
    import datetime

    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Portfolio"
    ws.freeze_panes = "A2"
    for r, rec in enumerate([dict(zip(columns, columns)), *records], start=1):
        for j, col in enumerate(columns, start=1):
            value = rec.get(col, False if col == "planned" and r > 1 else None)
            if col == "cost" and r > 1 and value is not None:
                value = float(value)
            elif value is not None and not isinstance(value, (str, bool, int, float, datetime.date, datetime.time)):
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


def _yaml_text(records: list[dict], corr: list[tuple[str, str, float]]) -> str:
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

    data: dict = {"initiatives": [
        {k: (number(v) if k == "cost" else plain(v)) for k, v in rec.items()} for rec in records]}
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=float("inf"))
    if corr:
        # Leaf lists in flow style: "- [a.reach, b.reach, 0.6]", the form of the bundled demo.
        text += "\n" + yaml.dump({"correlations": [list(c) for c in corr]}, Dumper=Dumper, sort_keys=False,
                                 allow_unicode=True, width=float("inf"), default_flow_style=None)
    return text

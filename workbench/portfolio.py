"""The portfolio: initiatives with their estimates, read from CSV, Excel or YAML files.

Validation lives here, at the boundary: every invalid cell becomes a `Problem` with file,
line, column, value and what was expected, and all of them are raised together as one
`InputError`. The rest of the package works on a valid `Portfolio`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .estimates import FACTORS, Estimate, EstimateError, parse_estimate

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

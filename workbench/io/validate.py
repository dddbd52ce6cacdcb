"""Checking the cells of a portfolio file and building the `Portfolio`, whatever the format.

Validation lives here, at the boundary: the readers in `workbench.io.read` turn each format into
a `Table` of raw `Cell`s; `build_portfolio` checks every cell and raises one `InputError` listing
every invalid one (file, line, column, value and what was expected). An empty cell gives the
field's default: None for text and cost, () for id lists, False for planned.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import InputError, Problem
from ..model.correlation import correlation_matrix
from ..model.estimates import FACTORS, EstimateError, parse_estimate
from ..model.portfolio import OPTIONAL, REQUIRED, Correlation, Initiative, Portfolio
from .table import Cell, Table

_MOSCOW_ALIASES = {
    "must": "must", "m": "must", "musthave": "must",
    "should": "should", "s": "should", "shouldhave": "should",
    "could": "could", "c": "could", "couldhave": "could",
    "won't": "won't", "wont": "won't", "w": "won't", "won'thave": "won't", "wonthave": "won't",
}
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


def _text(value: object) -> str:
    """A cell as stripped text: "" when empty; whole floats (Excel numbers) without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell(row: dict[str, Cell], name: str) -> Cell:
    """The row's cell in column `name`; an absent column reads as an empty cell on the row's line."""
    line = next(iter(row.values())).line if row else 0
    return row.get(name) or Cell(None, line, name)


def _parse_row(row: dict[str, Cell], report: Callable[[Cell, str], None]) -> dict:
    """The `Initiative` fields of one row; bad cells go to `report`. Empty cells give the defaults."""
    fields: dict = {}
    id_cell = _cell(row, "id")
    fields["id"] = _text(id_cell.value)
    if not fields["id"]:
        report(id_cell, "an id is required")
    elif ";" in fields["id"] or "," in fields["id"]:
        report(id_cell, "an id cannot contain ';' or ','")
    fields["name"] = _text(_cell(row, "name").value)
    if not fields["name"]:
        report(_cell(row, "name"), "a name is required")
    for factor in FACTORS:
        c = _cell(row, factor)
        try:
            fields[factor] = parse_estimate(c.value if not isinstance(c.value, str) else c.value.strip(), factor)
        except EstimateError as e:
            report(c, str(e))
    fields["team"] = _text(_cell(row, "team").value) or None
    fields["theme"] = _text(_cell(row, "theme").value) or None
    moscow = _text(_cell(row, "moscow").value).lower().replace("’", "'")
    moscow_key = re.sub(r"[\s\-_]+", "", moscow)
    if moscow_key and moscow_key not in _MOSCOW_ALIASES:
        report(_cell(row, "moscow"), "expected one of must, should, could, won't (or empty)")
    fields["moscow"] = _MOSCOW_ALIASES.get(moscow_key)
    cost_cell = _cell(row, "cost")
    if _text(cost_cell.value):
        try:
            cost = parse_estimate(cost_cell.value, "reach")
            if not cost.is_point:
                raise EstimateError("expected a single number")
            fields["cost"] = cost.median()
        except EstimateError:
            report(cost_cell, "cost must be a single number >= 0 (e.g. 120000 or 120k)")
    for col in ("depends_on", "excludes"):
        refs = [r.strip() for r in re.split(r"[;,]", _text(_cell(row, col).value)) if r.strip()]
        fields[col] = tuple(dict.fromkeys(refs))
    planned = _cell(row, "planned").value
    planned_text = _text(planned).lower()
    if isinstance(planned, bool):
        fields["planned"] = planned
    elif planned_text in _TRUE | _FALSE:
        fields["planned"] = planned_text in _TRUE
    else:
        report(_cell(row, "planned"), "expected true or false (or yes/no, 1/0, empty)")
    fields["extra"] = {k: c.value for k, c in row.items() if k not in REQUIRED + OPTIONAL}
    return fields


def build_portfolio(table: Table, source: str) -> Portfolio:
    """Check every cell of `table`; the `Portfolio`, or one `InputError` listing every problem."""
    problems: list[Problem] = list(table.problems)
    file = table.file

    def report(cell: Cell, message: str) -> None:
        problems.append(Problem(message, file=file, line=cell.line, column=cell.column,
                                value=_text(cell.value) or None))

    parsed, first_line = [], {}
    for row in table.rows:
        fields = _parse_row(row, report)
        id_, id_cell = fields["id"], _cell(row, "id")
        if id_ in first_line:
            report(id_cell, f"duplicate id (first used on line {first_line[id_]})")
        elif id_ and ";" not in id_ and "," not in id_:
            first_line[id_] = id_cell.line
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

    correlations = _correlations(table, known, problems)
    if problems:
        raise InputError(problems)
    initiatives = tuple(Initiative(**fields) for fields, _ in parsed)
    portfolio = Portfolio(initiatives, tuple(correlations), source)
    if correlations:
        correlation_matrix(portfolio)  # raises if no joint distribution has these correlations
    return portfolio


def _correlations(table: Table, known: set[str], problems: list[Problem]) -> list[Correlation]:
    """The table's correlation entries (a, b, rho, line[, file]) checked; bad ones go to `problems`."""
    out, seen = [], {}
    for a, b, rho, line, *source in table.correlations:  # source: the correlation CSV, if not the table's file
        file = source[0] if source else table.file

        def bad(msg: str, value=None, file=file, line=line) -> None:  # defaults: this entry's file and line
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

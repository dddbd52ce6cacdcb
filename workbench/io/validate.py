"""Checking the cells of a portfolio file and building the `Portfolio`, whatever the format.

Validation lives here, at the boundary: the readers (`workbench.io.delimited` for CSV,
`workbench.io.workbook` for .xlsx, `workbench.io.yaml_file` for YAML, with the header checks in
`workbench.io.table`) turn each format into a `Table` of raw `Cell`s; `build_portfolio` checks
every cell and raises one `InputError` listing every invalid one (file, line, column, value and
what was expected). An empty cell gives the field's default: None for text and cost, () for id lists, False for planned.

Ids, names, teams, themes and id references may hold no control character and no invisible format
character (a zero-width space would make two ids that look the same differ, and a BEL in a name
crashes the chart renderer); notes and other free-text columns may hold tabs and line breaks.
Number cells (.xlsx, YAML) get the checks of the text they stand for (see `parse_estimate`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from ..errors import InputError, Problem, bad_character, lookalike_problem, quote
from ..limits import MAX_CORRELATED, MAX_INITIATIVES
from ..model.correlation import correlation_matrix, too_many_correlated
from ..model.estimates import FACTORS, EstimateError, number_problem, number_text, parse_estimate, shown_number
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
    """A cell as stripped text: "" when empty; numbers (Excel, YAML) as their exact text (whole ones
    with all their digits and no ".0")."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if number_problem(value):  # str() of a huge int is slow or refused; inf and nan are no id
            return f"<{shown_number(value)}>" if isinstance(value, int) else repr(value)
        return number_text(value, whole=True)  # an id typed as 12345678901234568 keeps its digits
    return str(value).strip()


def _label(row: dict[str, Cell], name: str, report: Callable[[Cell, str], None]) -> str:
    """The text of an id, name, team or theme cell; a control or format character in it is reported."""
    cell = _cell(row, name)
    _check_characters(cell, report, name=name == "name")
    if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) and number_problem(cell.value):
        report(cell, f"expected text (or a number below 1e100) for the {name}")
    return _text(cell.value)


def _check_characters(cell: Cell, report: Callable[[Cell, str], None], free_text: bool = False,
                      name: bool = False) -> None:
    if isinstance(cell.value, str):
        problem = bad_character(cell.value if free_text else cell.value.strip(" \t\r\n"), free_text, name)
        if problem:
            report(cell, problem)


def _cell(row: dict[str, Cell], name: str) -> Cell:
    """The row's cell in column `name`; an absent column reads as an empty cell on the row's line."""
    line = next(iter(row.values())).line if row else 0
    return row.get(name) or Cell(None, line, name)


def _parse_row(row: dict[str, Cell], report: Callable[[Cell, str], None]) -> dict:
    """The `Initiative` fields of one row; bad cells go to `report`. Empty cells give the defaults."""
    fields: dict = {}
    id_cell = _cell(row, "id")
    fields["id"] = _label(row, "id", report)
    if not fields["id"]:
        report(id_cell, "an id is required")
    elif ";" in fields["id"] or "," in fields["id"]:
        report(id_cell, "an id cannot contain ';' or ','")
    fields["name"] = _label(row, "name", report)
    if not fields["name"]:
        report(_cell(row, "name"), "a name is required")
    for factor in FACTORS:
        c = _cell(row, factor)
        try:
            fields[factor] = parse_estimate(c.value if not isinstance(c.value, str) else c.value.strip(), factor)
        except EstimateError as e:
            report(c, str(e))
    fields["team"] = _label(row, "team", report) or None
    fields["theme"] = _label(row, "theme", report) or None
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
            lookalike = lookalike_problem(cost_cell.value) if isinstance(cost_cell.value, str) else None
            report(cost_cell, lookalike or "cost must be a single number >= 0 (e.g. 120000 or 120k)")
    for col in ("depends_on", "excludes"):
        _check_characters(_cell(row, col), report)
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
    for key in fields["extra"]:
        _check_characters(row[key], report, free_text=True)
    return fields


def build_portfolio(table: Table, source: str) -> Portfolio:
    """Check every cell of `table`; the `Portfolio`, or one `InputError` listing every problem."""
    problems: list[Problem] = list(table.problems)
    file = table.file
    if len(table.rows) > MAX_INITIATIVES:  # checked before any row is parsed: the work stays bounded
        raise InputError([*problems, Problem(f"the portfolio has {len(table.rows):,} initiatives; at most "
                                             f"{MAX_INITIATIVES:,} can be analysed (limits.MAX_INITIATIVES)",
                                             file=file)])

    def report(cell: Cell, message: str) -> None:
        if cell.problem is not None:  # the reader's own finding says it better, once
            return
        # A string is shown as written (bar spaces and line breaks around it), so a stray character shows.
        shown = cell.value.strip(" \t\r\n") if isinstance(cell.value, str) else _text(cell.value)
        problems.append(Problem(message, file=file, line=cell.line, column=cell.column, value=shown or None))

    parsed, first_line = [], {}
    for row in table.rows:
        problems += [Problem(c.problem, file=file, line=c.line, column=c.column) for c in row.values() if c.problem]
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
                    report(c, f"{col}: unknown id {quote(ref)}")
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
            problem = bad_character(text)
            if problem:
                bad(problem, text)
                continue
            id_, _, factor = text.rpartition(".")
            factor = factor.lower()
            if not id_ or factor not in FACTORS:
                bad("expected initiative.factor with factor one of reach, impact, confidence, effort", text or None)
            elif id_ not in known:
                bad(f"unknown initiative id {quote(id_)}", text)
            else:
                refs.append((id_, factor))
        try:
            lookalike = lookalike_problem(_text(rho))
            r = float(_text(rho)) if lookalike is None else math.nan  # float() reads '０.５' as 0.5
            if not -1 <= r <= 1:
                raise ValueError
        except ValueError:
            bad(lookalike or "expected a rank correlation between -1 and 1", _text(rho) or None)
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
    correlated = len({ref for c in out for ref in (c.a, c.b)})
    if correlated > MAX_CORRELATED:  # reported before correlation_matrix would allocate d x d
        problems.append(Problem(too_many_correlated(correlated), file=table.file, column="correlations"))
    return out

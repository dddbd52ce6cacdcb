"""Checking the cells of a portfolio file and building the `Portfolio`, whatever the format.

Validation lives here, at the boundary: the readers (`workbench.io.delimited` for CSV,
`workbench.io.workbook` for .xlsx, `workbench.io.yaml_file` for YAML, with the header checks in
`workbench.io.table`) turn each format into a `Table` of raw `Cell`s; `build_portfolio` checks
every cell and raises one `InputError` listing every invalid one (file, line, column, value and
what was expected). An empty cell gives the field's default: None for text, cost and the roadmap
columns, () for id lists, False for planned. The roadmap columns (`max_per_quarter`, one amount > 0
read as cost is; `earliest`, `deadline`, `planned_quarter`, quarters read by
`model.quarters.parse_quarter` and kept as `2027Q1`) are checked cell by cell, and an earliest start
after the deadline is reported on the row's earliest cell.

A `status` column (words in `workbench.io.columns.status_words`) decides what a row is: done rows
are left out (only their id and name are read; `Portfolio.done`), committed rows are must-haves in
the current plan unless their own moscow or planned cell says otherwise, won't rows are won't.
What was done is said in `Portfolio.notes`. A date, time or duration in an estimate or cost cell
(Excel's reading of '3-4') is refused with the reason.

Ids, names, teams, themes and id references may hold no control character and no invisible format
character (a zero-width space would make two ids that look the same differ, and a BEL in a name
crashes the chart renderer); notes and other free-text columns may hold tabs and line breaks.
Number cells (.xlsx, YAML) get the checks of the text they stand for (see `parse_estimate`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable

from ..errors import InputError, Problem, bad_character, clip, did_you_mean, lookalike_problem, quote
from ..limits import MAX_CORRELATED, MAX_INITIATIVES
from ..model.correlation import correlation_matrix, too_many_correlated
from ..model.estimates import FACTORS, EstimateError, number_problem, number_text, parse_estimate, shown_number
from ..model.portfolio import OPTIONAL, QUARTER_COLUMNS, REQUIRED, Correlation, Initiative, Portfolio
from ..model.quarters import EXPECTED as QUARTER_EXPECTED
from ..model.quarters import parse_quarter, quarter_label, quarter_of
from .columns import STATUSES, status_key
from .table import Cell, Table

_MOSCOW_ALIASES = {
    "must": "must", "m": "must", "musthave": "must",
    "should": "should", "s": "should", "shouldhave": "should",
    "could": "could", "c": "could", "couldhave": "could",
    "won't": "won't", "wont": "won't", "w": "won't", "won'thave": "won't", "wonthave": "won't",
}
_READ = frozenset((*REQUIRED, *OPTIONAL, "status"))  # the columns whose cells are checked
_TRUE = {"true", "yes", "y", "1", "x"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")  # YAML dates, CSV exports
_MEANING = {"reach": "a number of people or events per period", "impact": "a number on your impact scale",
            "confidence": "a percentage (e.g. 80%)", "effort": "a number of person-months",
            "cost": "a single amount (e.g. 120000 or 120k)",
            "max_per_quarter": "the person-months it can absorb in one quarter, a single amount > 0 (e.g. 4 or 4.5)",
            "earliest": "the first quarter it may start", "deadline": "the last quarter by which it must be delivered",
            "planned_quarter": "the quarter your roadmap starts it in"}
_FALSE = {"false", "no", "n", "0", ""}
# A number with the grammar's k/M/B scale (as `estimates` tokenizes it): no scale for effort.
# A scaled number, not the tail of another ('.3m' in '2..3m' is 3m; '0.3m' is one number).
_SCALED = re.compile(r"(?<!\w)(?<!\d\.)(\d+(?:\.\d+)?|(?<!\.)\.\d+)(bn|[kmb])(?![a-z_])", re.IGNORECASE)
_SCALE_WORDS = {"k": "thousand", "m": "million", "b": "billion", "bn": "billion"}
_DOTTED = re.compile(r"(?<![\d.])[1-9]\d{0,2}(?:\.\d{3})+(?![\d.,])")  # '1.200', '12.000', '1.200.000'



def _text(value: object) -> str:
    """A cell as stripped text: "" when empty; numbers (Excel, YAML) as their exact text (whole ones
    with all their digits and no ".0")."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():  # a date cell (.xlsx): no 00:00:00
        return value.date().isoformat()
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


def _parse_row(row: dict[str, Cell], report: Callable[..., None], semicolons: bool = False) -> dict:
    """The `Initiative` fields of one row; bad cells go to `report`. Empty cells give the defaults.
    With `semicolons` (a `;`-separated file, where commas are decimal commas), '1.200' is ambiguous."""
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
        if _date_problem(c.value, factor) or (semicolons and _dotted_thousands(c.value)):
            report(c, _date_problem(c.value, factor) or _dotted_thousands(c.value))
            continue
        try:
            fields[factor] = parse_estimate(c.value if not isinstance(c.value, str) else c.value.strip(), factor)
            if factor == "effort" and isinstance(c.value, str) and _SCALED.search(c.value):
                report(c, *_scaled_effort(c.value))
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
    if _date_problem(cost_cell.value, "cost") or (semicolons and _dotted_thousands(cost_cell.value)):
        report(cost_cell, _date_problem(cost_cell.value, "cost") or _dotted_thousands(cost_cell.value))
    elif _text(cost_cell.value):
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
    fields.update(_roadmap(row, report, semicolons))
    fields["extra"] = {k: c.value for k, c in row.items() if k not in (*REQUIRED, *OPTIONAL, "status")}
    for key in fields["extra"]:
        _check_characters(row[key], report, free_text=True)
    return fields


def _roadmap(row: dict[str, Cell], report: Callable[..., None], semicolons: bool) -> dict:
    """The roadmap fields of one row: max_per_quarter (one amount > 0, read as cost is) and the quarters
    in their canonical form (`quarter_label`); bad cells go to `report`, as does an earliest start after
    the deadline. Excel's date or number in a quarter cell is refused with the form expected."""
    fields: dict = {}
    cell = _cell(row, "max_per_quarter")
    if _date_problem(cell.value, "max_per_quarter") or (semicolons and _dotted_thousands(cell.value)):
        report(cell, _date_problem(cell.value, "max_per_quarter") or _dotted_thousands(cell.value))
    elif isinstance(cell.value, str) and "%" in cell.value:
        report(cell, f"max_per_quarter is {_MEANING['max_per_quarter']}, not a percentage")
    elif isinstance(cell.value, str) and any(m[2].lower() != "k" for m in _SCALED.finditer(cell.value)):
        message, fix = _scaled_effort(cell.value)  # '3m': 3 million person-months, or 3 months?
        report(cell, message.replace("effort is", "max_per_quarter is", 1), fix)
    elif _text(cell.value):
        try:
            pace = parse_estimate(cell.value, "reach")
            if not pace.is_point or pace.median() <= 0:
                raise EstimateError("expected a single number > 0")
            fields["max_per_quarter"] = pace.median()
        except EstimateError:
            lookalike = lookalike_problem(cell.value) if isinstance(cell.value, str) else None
            report(cell, lookalike or f"max_per_quarter must be {_MEANING['max_per_quarter']}")
    for col in QUARTER_COLUMNS:
        cell, text = _cell(row, col), _text(_cell(row, col).value)
        if not text:
            continue
        value, kind, advice = cell.value, "a date" if _ISO_DATE.fullmatch(text) else "", ""
        if isinstance(value, str) and not kind:  # an ISO date (YAML, an exported sheet) is named as such
            try:
                fields[col] = quarter_label(parse_quarter(text))
                continue
            except ValueError as e:
                advice = f" ({e})" if str(e).startswith("expected a year") else ""
        elif not isinstance(value, str):  # Excel's reading of the cell: a number, a date, a time or a duration
            kind = ("a date" if isinstance(value, dt.date) else "a time" if isinstance(value, dt.time) else
                    "a duration" if isinstance(value, dt.timedelta) else "a number")
            advice = ": format the column as Text in Excel and type the quarter (e.g. 2027Q1)"
        if isinstance(value, dt.date):  # the quarter that holds the date, as a hint (not a silent reading)
            advice += f" ({quarter_label(quarter_of(value))} holds that date)"
        report(cell, f"{col} is {_MEANING[col]}; expected {QUARTER_EXPECTED}" + (f", not {kind}" if kind else "")
               + advice)
    if parse_quarter(fields.get("earliest") or "1900Q1") > parse_quarter(fields.get("deadline") or "2999Q4"):
        report(_cell(row, "earliest"), f"earliest {fields['earliest']} is after the deadline {fields['deadline']}; "
                                       "an initiative cannot be delivered before it may start")
    return fields


def _scaled_effort(text: str) -> tuple[str, str | None]:
    """Why effort '3m' is refused (3 million person-months), and the fix that drops the m when every
    scaled number has a lowercase m and is at most 120 (ten years: months, surely)."""
    scaled = list(_SCALED.finditer(text))
    months = all(m[2] == "m" and float(m[1]) <= 120 for m in scaled)
    base, word = number_text(float(scaled[0][1])), _SCALE_WORDS[scaled[0][2].lower()]
    advice = (f"write {base} for {base} month{'s' * (base != '1')}" if months else
              "write the person-months as a plain number")
    return (f"effort is in person-months; {quote(scaled[0][0])} reads as {base} {word}: {advice}",
            _SCALED.sub(lambda m: m[1], text.strip()) if months else None)


def _dotted_thousands(value: object) -> str | None:
    """Why '1.200' is ambiguous in a `;`-separated file (European exports group thousands with a point
    and write decimals with a comma): None when no number has point-separated groups of three digits."""
    m = _DOTTED.search(value) if isinstance(value, str) else None
    if m is None:
        return None
    whole, decimal = m[0].replace(".", ""), m[0].rstrip("0").rstrip(".") if m[0].count(".") == 1 else None
    return (f"{quote(m[0])} in a file separated by ';': a thousands point or a decimal point? write {whole}"
            + (f" or {decimal}" if decimal else "") + " (no separators in numbers)")


def _date_problem(value: object, column: str) -> str | None:
    """Why a date, time or duration (Excel's reading of '3-4' or '3:30'; a YAML or exported date) is
    not an estimate or cost; None for anything else."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        kind, shown = "date", value.strip()
    elif isinstance(value, dt.datetime):
        kind, shown = "date", value.date().isoformat() if value.time() == dt.time() else f"{value:%Y-%m-%d %H:%M}"
    elif isinstance(value, dt.date):
        kind, shown = "date", value.isoformat()
    elif isinstance(value, (dt.time, dt.timedelta)):
        kind, shown = ("time" if isinstance(value, dt.time) else "duration"), str(value)
    else:
        return None
    if isinstance(value, str):  # written as a date (YAML, an exported sheet)
        advice = ("type the amount as a number" if column in ("cost", "max_per_quarter") else
                  "type a number, or a range such as 3..4")
    elif kind == "date" and column not in ("cost", "max_per_quarter"):
        advice = "Excel turns '3-4' into a date: type the range as 3..4"
    else:
        advice = "format the column as Number (or Text) in Excel and type the value again"
    return f"a {kind} ({shown}) in the {column} column: {column} is {_MEANING[column]}; {advice}"


def build_portfolio(table: Table, source: str) -> Portfolio:
    """Check every cell of `table`; the `Portfolio`, or one `InputError` listing every problem."""
    problems: list[Problem] = list(table.problems)
    file = table.file
    if len(table.rows) > MAX_INITIATIVES:  # checked before any row is parsed: the work stays bounded
        raise InputError([*problems, Problem(f"the portfolio has {len(table.rows):,} initiatives; at most "
                                             f"{MAX_INITIATIVES:,} can be analysed (limits.MAX_INITIATIVES)",
                                             file=file)])

    def report(cell: Cell, message: str, fix: str | None = None) -> None:
        if cell.problem is not None or cell.column in table.missing:  # said better, or already, elsewhere
            return
        # A string is shown as written (bar spaces and line breaks around it), so a stray character shows.
        shown = cell.value.strip(" \t\r\n") if isinstance(cell.value, str) else _text(cell.value)
        problems.append(Problem(message, file=file, line=cell.line, column=cell.column, value=shown or None, fix=fix))

    parsed, first_line, done, counts, own = [], {}, [], dict.fromkeys(STATUSES, 0), []
    unknown: dict[str, str] = {}  # unknown status -> its message (a column of them costs one did-you-mean each)
    extra_told: set[str] = set()
    for row in table.rows:
        status = _status(row, table.status, report, unknown)
        counts[status] += "status" in row
        if status == "done":  # finished work: only its id and name are read (estimates are often blank)
            row = {k: c for k, c in row.items() if k in ("id", "name", "status")}
        problems += [Problem(c.problem, file=file, line=c.line, column=c.column)
                     for k, c in row.items() if c.problem and k in _READ]
        for k, c in row.items():  # a column the workbench does not read (notes, links): told once, never fatal
            if c.problem and k not in _READ and k not in extra_told:
                extra_told.add(k)
                table.notes.append(f"{c.problem} (column {c.column} is not one the workbench reads: "
                                   "it is left as it is)")
        fields = (_parse_row(row, report, table.delimiter == ";") if status != "done" else
                  {"id": _label(row, "id", report), "name": _label(row, "name", report)})
        id_, id_cell = fields["id"], _cell(row, "id")
        if id_ in first_line:
            report(id_cell, f"duplicate id (first used on line {first_line[id_]})")
        elif id_ and ";" not in id_ and "," not in id_:
            first_line[id_] = id_cell.line
        if status == "done":
            done.append((id_, fields["name"]))
        else:
            own += _apply_status(fields, row, status, report)
            parsed.append((fields, row))

    known, done_ids = set(first_line), {id_ for id_, _ in done}
    met, cut = [], []
    for fields, row in parsed:
        for col in ("depends_on", "excludes"):
            for ref in fields[col]:
                c = row.get(col)
                if ref == fields["id"]:
                    report(c, f"{col}: an initiative cannot refer to itself")
                elif ref not in known:
                    report(c, f"{col}: unknown id {quote(ref)}")
        met += [f"{quote(fields['id'])} on {quote(r)}" for r in fields["depends_on"] if r in done_ids]
        gone = [r for r in fields["excludes"] if r in done_ids]
        fields["depends_on"] = tuple(r for r in fields["depends_on"] if r not in done_ids)
        fields["excludes"] = tuple(r for r in fields["excludes"] if r not in done_ids)
        if gone and fields["moscow"] == "must":
            by_status = "" if _text(_cell(row, "moscow").value) else (
                f" (its status {quote(_text(row['status'].value))} makes it committed)")
            report(row["excludes"], f"excludes: {quote(gone[0])} is done, so this initiative cannot be funded any "
                                    f"more, but it is a must-have{by_status}; remove the one or the other")
        elif gone:
            fields["moscow"] = "won't"
            cut.append(f"{quote(fields['id'])} (excludes {quote(gone[0])})")
    if not parsed and not problems:
        problems.append(Problem("the portfolio has no initiatives" + ("; every row's status is done" if done else ""),
                                file=file))

    table.correlations = [c for c in table.correlations if _text(c[0]).rpartition(".")[0] not in done_ids
                          and _text(c[1]).rpartition(".")[0] not in done_ids]  # a done one is not drawn
    correlations = _correlations(table, known - done_ids, problems)
    if problems:
        raise InputError(problems)
    initiatives = tuple(Initiative(**fields) for fields, _ in parsed)
    notes = [*table.notes, *_status_notes(counts, own, met, cut)]
    portfolio = Portfolio(initiatives, tuple(correlations), source, notes=tuple(notes), done=tuple(done))
    if correlations:
        correlation_matrix(portfolio)  # raises if no joint distribution has these correlations
    return portfolio


def _status(row: dict[str, Cell], words: dict[str, str], report: Callable[[Cell, str], None],
            unknown: dict[str, str]) -> str:
    """The row's status: done, committed, open or won't (an empty or unknown one reads as open; an
    unknown one is reported with the known values and how to map it; `unknown` caches the messages)."""
    cell = _cell(row, "status")
    text = _text(cell.value)
    key = status_key(text)
    if not key or key in words:
        return words.get(key, "open")
    if key not in unknown:
        known = "; ".join(f"{t} ({_examples([w for w, x in words.items() if x == t])})" for t in STATUSES)
        unknown[key] = (f"unknown status{did_you_mean(clip(key), words)}; the statuses read are {known}; to read it "
                        f"as one of them, map it under 'status:' in a column mapping (e.g. {quote(text)}: open)")
    report(cell, unknown[key])
    return "open"


def _examples(words: list[str], shown: int = 4) -> str:
    return ", ".join(words[:shown]) + (", …" if len(words) > shown else "")


def _apply_status(fields: dict, row: dict[str, Cell], status: str, report: Callable[[Cell, str], None]) -> list[str]:
    """Committed: must-have and planned, unless the row's own moscow or planned cell says otherwise (the
    cell wins: its id is returned for the note); won't: moscow won't (a moscow cell that says otherwise
    is a problem)."""
    moscow = _cell(row, "moscow")
    if status == "won't":
        if fields["moscow"] not in (None, "won't"):
            report(moscow, f"the status {quote(_text(row['status'].value))} means won't, but the moscow cell "
                           f"says {fields['moscow']}; change the one or the other")
        fields["moscow"] = "won't"
    if status != "committed":
        return []
    given = not _text(moscow.value), not _text(_cell(row, "planned").value)
    fields["moscow"] = "must" if given[0] else fields["moscow"]
    fields["planned"] = True if given[1] else fields.get("planned", False)  # absent: its cell was reported
    return [fields["id"]] if fields["moscow"] != "must" or not fields["planned"] else []


def _status_notes(counts: dict[str, int], own: list[str], met: list[str], cut: list[str]) -> list[str]:
    """What the status column did, in at most four notes."""
    notes, (done, committed, wont) = [], (counts[s] for s in ("done", "committed", "won't"))
    parts = [f"{done} done (left out of the decision, listed as done)" if done else "",
             f"{committed} committed (must-have, in the current plan)" if committed else "",
             f"{wont} won't" if wont else ""]
    if any(parts):
        notes.append("status: " + ", ".join(p for p in parts if p))
    if own:
        notes.append("committed, but the row's own moscow or planned cell says otherwise (the cell wins): "
                     + _listing([quote(i) for i in own]))
    if met:
        notes.append("dependencies on done initiatives are met and left out: " + _listing(met))
    if cut:
        notes.append("excluded by a done initiative, so they cannot be funded any more (moscow set to won't): "
                     + _listing(cut))
    return notes


def _listing(items: list[str], shown: int = 10) -> str:
    return ", ".join(items[:shown]) + (f" and {len(items) - shown:,} more" if len(items) > shown else "")


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

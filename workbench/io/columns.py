"""Which of a file's columns is which: column mappings, built-in synonyms, statuses and made-up ids.

A file names its columns its own way (`Summary`, `Issue key`, `Custom field (Reach)`,
`Effort (person-months)`). `resolve_columns` reads each header as one of the package's columns:
first a mapping (`ColumnMap`: `--columns FILE`, a companion `<stem>.columns.yaml`, or a YAML
portfolio's own `columns:` block), then the column's own name (case- and space-insensitive),
then a built-in synonym (each one used is reported once as a note). A synonym is used only when no
header names the column itself; two headers read as the same column are a problem naming both.
Header problems are collected with the cell problems (never instead of them); a missing required
column lists the file's headers and the closest one. With no id column, ids are made from the names.
A header written more than once (Jira writes `Sprint,Sprint` for a multi-value field) is kept as
extra columns `sprint`, `sprint_2`, ... with a note, unless it is one of ours (then: which one?).
A synonym whose unit changes the numbers (`Reach (k users)`, `Cost ($k)`, `Effort (SP)`, `Effort
(weeks)`) is a problem until a mapping names that header (the user says: read it as written).

Statuses (`Done`, `In Progress`, `Won't Do`, ...) are read through `status_words`: the defaults
below, to which a mapping's `status:` block adds (or overrides) values.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem, clip, did_you_mean, quote
from ..model.portfolio import OPTIONAL, REQUIRED
from .fixes import OTHER_TIME, header_units
from .table import Cell, Table, column_keys, decode_text, normalize_column

COLUMNS = (*REQUIRED, *OPTIONAL, "status")  # the columns a mapping may name
STATUSES = ("done", "committed", "open", "won't")
DEFAULT_STATUS = {  # the first words of each are the examples an unknown status is told
    "done": "done|closed|resolved|shipped|released|complete|completed|launched",
    "committed": "in progress|committed|in development|in review|doing|started|building|in qa|in testing|ready for qa",
    "won't": "won't do|won't fix|rejected|cancelled|won't|wont|wont do|canceled|declined|abandoned|archived",
    # Blocked or on hold is not being worked on: open to the decision, as is work still being designed.
    "open": "to do|backlog|open|ready for dev|todo|new|selected for development|ready|ready for development|"
            "in design|blocked|on hold|idea|discovery|parking lot",
}
# Headers read as one of our columns without a mapping (keys normalized as `normalize_column` does).
# Not Jira's numeric 'Issue id': links name the 'Issue key'.
SYNONYMS = {"idea": "name", "summary": "name", "title": "name", "feature": "name", "initiative": "name",
            "feature_name": "name", "issue_key": "id", "key": "id",
            # The roadmap's columns. Not 'Start after' (the quarter after it?), 'Target quarter' (a start or a
            # delivery?), 'Quarter' or 'Due date' (common columns of other meanings): a mapping names those.
            **dict.fromkeys(("max_pm_per_quarter", "max_person_months_per_quarter", "max_effort_per_quarter",
                             "max_per_qtr", "max_pm_per_qtr", "max_pace"), "max_per_quarter"),
            **dict.fromkeys(("earliest_start", "earliest_quarter", "earliest_start_quarter", "not_before",
                             "start_no_earlier_than", "no_earlier_than"), "earliest"),
            **dict.fromkeys(("due", "due_quarter", "due_by", "deadline_quarter", "deliver_by", "must_ship_by"),
                            "deadline"),
            **dict.fromkeys(("planned_start", "planned_start_quarter", "start_quarter", "roadmap_quarter",
                             "scheduled_quarter", "plan_quarter"), "planned_quarter")}
_CUSTOM_FIELD = re.compile(r"custom[\s_]*field[\s_]*\((.*)\)", re.IGNORECASE)  # Jira's CSV export
_RICE_PREFIX = re.compile(r"rice\s*[-:–]?\s*(.+)", re.IGNORECASE)
_UNITS = re.compile(r"(.*?)\s*(?:\([^()]*\)|\[[^\[\]]*\])")  # 'Effort (person-months)', 'Confidence [%]'
_MAX_SLUG = 40
_MAX_HEADER = 200  # characters of a header compared with synonyms and typos


@dataclass(frozen=True)
class ColumnMap:
    """A column mapping: our column -> their header, their status value -> one of `STATUSES`."""

    columns: dict[str, str] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    source: str | None = None  # the file it was read from (messages point there)
    lines: dict[str, int] = field(default_factory=dict, compare=False)  # our column -> its line in `source`


def column_map_path(portfolio_path: str | Path) -> Path:
    """The companion mapping `load_portfolio` reads beside a portfolio: `<stem>.columns.yaml`."""
    path = Path(portfolio_path)
    return path.with_name(path.stem + ".columns.yaml")


def read_column_map(path: str | Path) -> ColumnMap:
    """The mapping in a YAML or JSON file (`columns:` and optional `status:`); `InputError` listing
    every problem, located. The file is read within the size limit and composed without constructing
    anything (as portfolio YAML is)."""
    from .yaml_file import compose  # here: yaml_file reads a portfolio's own `columns:` block with this module

    path = Path(path)
    file = str(path)
    if not path.is_file():
        raise InputError(Problem("column mapping file not found" if not path.exists() else "not a file", file=file))
    text = decode_text(path)
    if path.suffix.lower() == ".json":
        text = text.replace("\t", " ")  # JSON may indent with tabs, YAML may not; a JSON string holds none raw
    root, problems = compose(text, file)
    sections: dict[str, object] = {}
    if root is None or root.kind != "map":
        problems.append(Problem("expected a mapping with 'columns:' (our column: your header) and optionally "
                                "'status:' (your status: done, committed, open or won't)", file=file,
                                line=root.line if root else 1))
    else:
        for key, value in root.value:
            if key.value in ("columns", "status"):
                sections[key.value] = value
            else:
                problems.append(Problem(f"unknown section {quote(key.value)}; expected 'columns:' or 'status:'"
                                        + did_you_mean(clip(key.value), ("columns", "status")), file=file,
                                        line=key.line, column=str(key.column)))
    cmap = map_from_nodes(sections.get("columns"), sections.get("status"), file, problems)
    if problems:
        raise InputError(problems)
    return cmap


def map_from_nodes(columns, status, file: str, problems: list[Problem]) -> ColumnMap:
    """The `ColumnMap` of composed YAML nodes (`yaml_file.compose`): a `columns:` and a `status:`
    mapping, either None; problems (unknown column, status word, a header mapped twice) go to `problems`."""
    mapped, lines, by_header = {}, {}, {}
    for key, value in _pairs(columns, "columns", "our column: your header", file, problems):
        ours = normalize_column(key.value)
        where = dict(file=file, line=key.line, column=str(key.column))
        if ours not in COLUMNS:
            problems.append(Problem(f"unknown column {quote(key.value)}; expected one of {', '.join(COLUMNS)}"
                                    + did_you_mean(clip(ours), COLUMNS), **where))
        elif value.kind != "scalar" or not value.value.strip():
            problems.append(Problem(f"expected the header of your column that holds {ours}, as written in your file",
                                    **where))
        elif normalize_column(value.value) in by_header:
            other = by_header[normalize_column(value.value)]
            problems.append(Problem(f"{ours} and {other} are both mapped to {quote(value.value)}; a column can be "
                                    "read as one of them only", **where))
        else:
            mapped[ours], lines[ours] = value.value.strip(), key.line
            by_header[normalize_column(value.value)] = ours
    words = {}
    for key, value in _pairs(status, "status", "your status: done, committed, open or won't", file, problems):
        target = status_key(value.value).replace("'", "") if value.kind == "scalar" else ""
        target = "won't" if target in ("wont", "wont do", "wont have") else target
        if target not in STATUSES:
            shown = value.value if value.kind == "scalar" else "a list or mapping"
            problems.append(Problem(f"status {quote(key.value)} is mapped to {quote(shown)}; expected one of done, "
                                    "committed, open, won't" + did_you_mean(clip(target), STATUSES), file=file,
                                    line=value.line, column=str(value.column)))
        else:
            words[status_key(key.value)] = target
    return ColumnMap(mapped, words, file, lines)


def _pairs(node, section: str, expected: str, file: str, problems: list[Problem]) -> list:
    """The (key, value) nodes of a section that must be a mapping (none when it is absent or is not one)."""
    if node is None or (node.kind == "scalar" and not node.value):
        return []
    if node.kind != "map":
        problems.append(Problem(f"'{section}:' must be a mapping ({expected})", file=file, line=node.line))
        return []
    return node.value


# --- statuses --------------------------------------------------------------------------------------


def status_key(text: object) -> str:
    """A status as compared: case-, space-, '-' and '_'-insensitive, with ’ read as '."""
    return " ".join(re.sub(r"[\s_\-]+", " ", str(text).replace("’", "'").lower()).split())


def status_words(cmap: ColumnMap | None = None) -> dict[str, str]:
    """Status value (as `status_key` makes it) -> done, committed, open or won't: the defaults, and
    the mapping's own words over them."""
    words = {w: target for target, text in DEFAULT_STATUS.items()
             for w in text.split("|")}
    return {**words, **(cmap.status if cmap else {})}


# --- headers ---------------------------------------------------------------------------------------


def synonym(header: str) -> str | None:
    """The column a header stands for by a built-in synonym (`Summary`, `Issue key`, `Custom field
    (Reach)`, `Effort (person-months)`, `Confidence [%]`), or None."""
    text = str(header).strip()
    if len(text) > _MAX_HEADER:  # no synonym is that long (and the patterns stay cheap)
        return None
    custom = _CUSTOM_FIELD.fullmatch(text) or _RICE_PREFIX.fullmatch(text)  # 'RICE - Reach': Productboard's
    text = custom.group(1).strip() if custom else text
    name = normalize_column(text)
    if name in SYNONYMS or (custom and name in COLUMNS):
        return SYNONYMS.get(name, name)
    units = _UNITS.fullmatch(text)
    base = normalize_column(units.group(1)) if units else ""
    return base if base in COLUMNS else SYNONYMS.get(base)


@dataclass
class _Reading:
    header: str  # as written
    column: str  # ours, or its normalized name for an extra column
    tier: int  # 0 mapped, 1 named, 2 synonym, 3 extra
    key: str = ""  # the key its cells are stored under (`table.column_keys`)


def resolve_columns(headers: list[str], cmap: ColumnMap | None, table: Table, *, yaml: bool = False
                    ) -> dict[str, str]:
    """Column key (`table.column_keys`: the header as written, with a suffix when it repeats) -> the
    column it is read as (keys left out are absent). Problems and notes go to the table; required
    columns reported missing go to `table.missing`.

    A header written more than once (Jira writes `Sprint,Sprint` for a field with two values) is
    kept as extra columns `sprint`, `sprint_2`, ... with one note, unless it names one of our columns
    (itself, by a synonym or by the mapping): then it is a problem (which one to read?)."""
    file, line = table.file, table.header_line
    mapped = {normalize_column(h): ours for ours, h in (cmap.columns.items() if cmap else ())}
    readings, first, again = [], {}, {}
    for h, key in zip(headers, column_keys(headers)):
        name = normalize_column(h)
        if not name:
            continue
        if name in first:
            ours = mapped.get(name) or (name if name in COLUMNS else synonym(h))
            if ours is None:  # an extra column written again: keep every one
                again.setdefault(name, [name]).append(_suffixed(name, len(again.get(name, [name])) + 1, first))
                readings.append(_Reading(h, again[name][-1], 3, key))
            elif h == first[name]:
                again.setdefault(name, [ours]).append(ours)
            else:
                table.problems.append(Problem(f"column {quote(h)} repeats column {quote(first[name])} (names are case- "
                                              f"and space-insensitive); {ours} is read from one column: delete or "
                                              "rename the other", file=file, line=line))
            continue
        first[name] = h
        if name in mapped:
            readings.append(_Reading(h, mapped[name], 0, key))
        elif name in COLUMNS:
            readings.append(_Reading(h, name, 1, key))
        else:
            ours = synonym(h)
            readings.append(_Reading(h, ours, 2, key) if ours else _Reading(h, name, 3, key))
    _repeats(again, first, table)
    best = {}
    for r in readings:
        if r.tier < 3 and r.tier < best.get(r.column, _Reading("", "", 3)).tier:
            best[r.column] = r
    out = {}
    for r in readings:
        winner = best.get(r.column)
        if r.tier == 3 or winner is None:
            out[r.key] = r.column
        elif winner is r:
            out[r.key] = r.column
            unit = _unit_problem(r.header, r.column) if r.tier == 2 else None
            if unit:
                table.problems.append(Problem(unit + _map_it(r.column, table), file=file, line=line))
            elif r.tier == 2:
                table.notes.append(f"column {quote(r.header)} read as {r.column}")
        elif r.tier == winner.tier:  # two synonyms of one column: never pick one silently
            table.problems.append(Problem(f"columns {quote(winner.header)} and {quote(r.header)} could both be read "
                                          f"as {r.column}; map the one you mean ({r.column}: <its header>) in a "
                                          "column mapping, or rename the other", file=file, line=line))
        elif r.tier == 1:  # named as our column, which the mapping reads from another header
            table.notes.append(f"column {quote(r.header)} is left out: the column mapping reads {r.column} "
                               f"from {quote(winner.header)}")
        else:
            out[r.key] = normalize_column(r.header)  # a synonym of a column the file names itself: an extra
    if cmap is not None and (cmap.columns or cmap.status):
        table.notes.append("columns read with the mapping given" if not cmap.source else
                           "columns read with the file's own 'columns:' block" if cmap.source == file else
                           f"columns read with the mapping in {cmap.source}")
    _missing(headers, out, cmap, table, yaml)
    return out


def _suffixed(name: str, k: int, taken: dict[str, str]) -> str:
    """`name_k`, or the next free `name_<n>` when the file has a column of that name."""
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _repeats(again: dict[str, list[str]], first: dict[str, str], table: Table) -> None:
    """One note per extra column written more than once, one problem per column of ours written so."""
    for name, columns in again.items():
        n, header = len(columns), quote(first[name])
        if columns[0] != name or columns[1] == name:  # one of ours: which one to read?
            table.problems.append(Problem(
                f"column {header} appears {n} times in the header; {columns[0]} is read from one column: delete or "
                f"rename the other{'s' if n > 2 else ''}", file=table.file, line=table.header_line))
            continue
        kept = ", ".join(columns) if n <= 4 else f"{columns[0]}, {columns[1]}, …, {columns[-1]}"
        table.notes.append(f"column {header} appears {n} times (Jira writes one per value): kept as {kept}")


def _map_it(column: str, table: Table) -> str:
    return (f"map it ('{column}: <its header>' under 'columns:') in {column_map_path(table.file).name} beside the "
            "file or in a file given with --columns")


# Units in a header that scale its numbers (reach, cost) or are no person-months (effort).
_SCALES = {**dict.fromkeys(("k", "thousand", "thousands", "'000", "'000s", "000", "000s", "$k", "k$", "€k", "k€",
                            "£k", "k£", "k users"), ("thousands", "12k")),
           **dict.fromkeys(("m", "mn", "million", "millions", "$m", "m$", "€m", "m€", "£m", "m£"), ("millions", "12M")),
           **dict.fromkeys(("bn", "billion", "billions", "$bn", "€bn"), ("billions", "12B"))}
_POINTS = {"sp": "story points", "story points": "story points", "story point": "story points",
           "points": "points", "point": "points", "pts": "points", "t shirt": "t-shirt sizes",
           "t-shirt": "t-shirt sizes", "t-shirt size": "t-shirt sizes", "t shirt size": "t-shirt sizes",
           "tshirt": "t-shirt sizes"}


def _unit_problem(header: str, column: str) -> str | None:
    """Why the numbers under a synonym header with a unit ('Reach (k users)', 'Effort (SP)', 'Effort
    (weeks)') are not read as written; None when its unit is none of those. The advice ends where
    `_map_it` goes on."""
    units = sorted(header_units(header), key=lambda u: (-len(u), u))  # "story points" before "points"
    if column in ("reach", "cost"):
        scale = next((_SCALES[u] for u in units if u in _SCALES), None)
        if scale:
            return (f"column {quote(header)} counts in {scale[0]}; {column} is read as written: multiply the column "
                    f"(or write {scale[1]}) or, if it holds plain numbers, ")
    elif column in ("effort", "max_per_quarter"):
        if column == "max_per_quarter":  # 'PM per quarter': the quarter is the rate's, not the amount's unit
            units = [u for u in units if OTHER_TIME.get(u) != "quarters"]
        unit = next((OTHER_TIME.get(u) or _POINTS.get(u) for u in units if u in OTHER_TIME or u in _POINTS), None)
        if unit:
            return (f"column {quote(header)} holds {column} in {unit}; {column} is read in person-months: convert "
                    f"the column to person-months, or if it holds person-months, ")
    return None


def _missing(headers: list[str], out: dict[str, str], cmap: ColumnMap | None, table: Table, yaml: bool) -> None:
    """Problems for required columns no header is read as (id is made from the names instead)."""
    shown = ", ".join(quote(h) for h in headers if str(h).strip())
    found = set(out.values())
    unused = list(dict.fromkeys(key.split("\x00")[0] for key, col in out.items() if col not in COLUMNS))  # extras
    present = {normalize_column(h) for h in headers}
    for col, their in (cmap.columns.items() if cmap else ()):
        if normalize_column(their) not in present:
            close = _closest(their, headers)
            table.problems.append(Problem(
                f"the column mapping reads {col} from {quote(their)}, but {Path(table.file).name} has no such "
                f"{'field' if yaml else 'column'} (found: {shown}){_did_you_mean(close)}",
                file=cmap.source, line=cmap.lines.get(col), fix=close[0] if len(close) == 1 else None))
    for col in REQUIRED[1:]:
        if col in found:
            continue
        table.missing.add(col)
        if cmap is not None and col in cmap.columns:  # reported above, at the mapping's line
            continue
        close = _closest(col, unused)
        what = f"field {quote(col)} in every initiative" if yaml else f"column {quote(col)}"
        table.problems.append(Problem(
            f"missing required {what} (found: {shown}); to read one of them as {col}, map it ('{col}: <its header>' "
            f"under 'columns:') in {column_map_path(table.file).name} beside the file or in a file given with "
            f"--columns{_did_you_mean(close)}", file=table.file, line=None if yaml else table.header_line,
            value=close[0] if len(close) == 1 else None, fix=col if len(close) == 1 else None))  # the header to rename


def _closest(word: str, headers: list[str]) -> list[str]:
    """The headers a typo away from `word` (compared without units, 'Custom field (...)' or case)."""
    def bare(h: str) -> str:
        text = str(h).strip()[:_MAX_HEADER]
        custom = _CUSTOM_FIELD.fullmatch(text)
        text = custom.group(1) if custom else text
        units = _UNITS.fullmatch(text)
        return normalize_column(units.group(1) if units and units.group(1) else text)
    key = normalize_column(word)
    return [h for h in headers if normalize_column(h) and did_you_mean(key, [bare(h)])]


def _did_you_mean(close: list[str]) -> str:
    return f"; did you mean {' or '.join(quote(h) for h in close[:3])}?" if close else ""


def typo_keys(table: Table, cmap: ColumnMap | None = None) -> None:
    """YAML: a key a typo away from one of our columns (`efort:`) that the row lacks is a problem with
    the fix, at its line, instead of an extra column, and its cell is marked as reported (so the row
    is not also told that the cell is empty). Beside the column itself (`teams:` and `team:`) the key
    is an extra column, as a CSV header is, and so is the plural of an optional column (`costs:`), with a note."""
    mapped = {normalize_column(h) for h in (cmap.columns.values() if cmap else ())}
    typos: dict[str, str] = {}  # key -> its did-you-mean: the same keys recur in every initiative
    for row in table.rows:
        for key in [k for k in row if k not in COLUMNS and k not in mapped]:
            if key not in typos:
                typos[key] = did_you_mean(key, COLUMNS) if synonym(key) is None else ""
            close = typos[key]
            if not close:
                continue
            col = next(c for c in COLUMNS if repr(c) in close)
            if col in row:
                continue
            if key == col + "s" and col not in REQUIRED:  # 'costs: 3 servers': a column of its own, most likely
                note = f"field {quote(key)} is kept as an extra column ({close.removeprefix('; ')} then rename it)"
                if note not in table.notes:
                    table.notes.append(note)
                continue
            cell = row[key]
            table.problems.append(Problem(f"unknown field {quote(key)}{close}", file=table.file, line=cell.line,
                                          column=cell.column, fix=col))
            del row[key]
            row[col] = Cell(cell.value, cell.line, cell.column, problem="")


# --- ids made from names ---------------------------------------------------------------------------


def slug(name: object) -> str:
    """'Smart search' -> 'smart-search': lowercase ASCII letters and digits joined by '-', accents
    folded, at most 40 characters (cut at a '-' when there is one)."""
    text = unicodedata.normalize("NFKD", "" if name is None else str(name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(text) > _MAX_SLUG:
        cut = text[: _MAX_SLUG + 1]
        text = cut[: cut.rfind("-")] if "-" in cut else text[:_MAX_SLUG]
    return text.strip("-")


def make_ids(table: Table) -> None:
    """Give every row an id made from its name (de-duplicated with -2, -3 in row order; `row-<line>`
    when the name gives none), and say so once."""
    used: set[str] = set()
    example = None
    for row in table.rows:
        line = next(iter(row.values())).line if row else table.header_line
        name = row.get("name")
        base = slug(name.value if name else None) or f"row-{line}"
        made, n = base, 1
        while made in used:
            n += 1
            made = f"{base}-{n}"
        used.add(made)
        row["id"] = Cell(made, line, "id (made from the name)")
        if example is None and name is not None and str(name.value or "").strip():
            example = f" (e.g. {quote(str(name.value).strip())} -> {quote(made)})"
    table.notes.append(f"no id column: ids made from the names{example or ''}")

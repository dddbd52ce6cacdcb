"""YAML portfolio files (a list of initiatives, or a mapping with `initiatives:` and `correlations:`).

The file is read as a stream of parser events (libyaml's parser when PyYAML has it: it is linear
and bounded, where the pure-Python scanner is quadratic in flow nesting) and composed here, without
recursion, into a small tree. Nothing is ever constructed from a tag, and nothing is dropped or
guessed: duplicate keys, a repeated section, merge keys (`<<`), unknown tags, recursive aliases,
aliases that expand beyond `limits.MAX_YAML_NODES` nodes and nesting deeper than
`limits.MAX_YAML_DEPTH` are refused with their line and column. Alias expansion is counted from
each anchor's size while composing (a scalar is one node, and one more per 64 characters), so a
billion-laughs file is refused before anything expands.

Cells keep the scalar's text as written (`team: NO` is the team "NO"; `reach: 1000` is parsed by
the estimate grammar); only `planned` keeps YAML's boolean reading, and null is an empty cell.
An id that YAML would read as something other than text (`id: NO`, `id: 1.10`, `id: 2026-01-01`)
is refused with a suggestion to quote it; a plain integer (`id: 17`) is the text it is written as.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Problem, character_name, clip, did_you_mean, quote
from ..limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_INITIATIVES,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
    MAX_YAML_WRITTEN_NODES,
)
from .columns import map_from_nodes
from .table import Cell, Table, decode_text, long_cell, normalize_column

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp")}
_NOT_TEXT = {_TAG + "bool": "a boolean", _TAG + "null": "empty (null)", _TAG + "float": "a number",
             _TAG + "timestamp": "a date"}
_SECTIONS = ("initiatives", "correlations", "columns", "status")  # columns, status: a column mapping
_MERGE = "merge keys (<<) are not applied by this reader; write the fields out"


class _Node:
    """A composed YAML node: kind 'scalar' (value: str), 'seq' (list of nodes) or 'map' (key, value pairs)."""

    __slots__ = ("kind", "tag", "line", "column", "value", "size", "open", "anchored", "key", "keys", "dropped")

    def __init__(self, kind: str, tag: str, line: int, column: int, value: object):
        self.kind, self.tag, self.line, self.column, self.value = kind, tag, line, column, value
        # Nodes once aliases are expanded (children add theirs as they are attached); a long scalar
        # counts one more per 64 characters, so that aliases to one cannot build gigabytes of text.
        self.size = 1 + (len(value) // 64 if kind == "scalar" else 0)
        self.open = kind != "scalar"  # a collection until its end event: an alias to it would be recursive
        self.anchored = False
        self.key: _Node | None = None  # a mapping's key waiting for its value
        self.keys: dict[str, int] | None = {} if kind == "map" else None  # key texts -> their lines
        self.dropped = 0  # keys beyond `limits.MAX_COLUMNS` (reported at the first)


def compose(text: str, file: str) -> tuple[_Node | None, list[Problem]]:
    """YAML text composed safely and within limits (as portfolio files are): the root node (None when
    empty; nodes have kind 'scalar', 'seq' or 'map', tag, line, column and value) and the problems that
    do not stop reading; `InputError` for those that do. Used for column mapping files too."""
    return _compose(text, file)


def read_yaml(path: Path) -> Table:
    """The `Table` of a YAML portfolio file; `InputError` with every located problem found. Rows are
    keyed by normalized key; `read.read_table` reads the keys as columns (`columns.resolve_columns`)."""
    file = str(path)
    root, problems = _compose(decode_text(path), file)
    column_map = None
    if any(p.message == _MERGE for p in problems):  # the fields it would add are missing: say only why
        raise InputError(problems)
    correlations: list = []
    if root is not None and root.kind == "map":
        sections = {k.value: v for k, v in root.value}
        if "initiatives" not in sections:
            problems.append(Problem("expected a list of initiatives, or a mapping with an 'initiatives:' list",
                                    file=file, line=root.line))
            raise InputError(problems)
        for key, value in root.value:
            if key.value not in _SECTIONS and not value.anchored:  # an anchored one holds values to refer to
                problems.append(Problem(f"unknown section {quote(key.value)}; expected 'initiatives:' or "
                                        "'correlations:'" + did_you_mean(clip(key.value), _SECTIONS), file=file,
                                        line=key.line, column=str(key.column)))
        if "columns" in sections or "status" in sections:
            column_map = map_from_nodes(sections.get("columns"), sections.get("status"), file, problems)
        root, corr = sections["initiatives"], sections.get("correlations")
        if corr is not None:
            correlations = _correlations(corr, file, problems)
    if root is None or root.kind != "seq":
        problems.append(Problem("expected a list of initiatives", file=file, line=root.line if root else 1))
        raise InputError(problems)
    if len(root.value) > MAX_INITIATIVES:
        problems.append(Problem(f"the file has {len(root.value):,} initiatives; at most {MAX_INITIATIVES:,} are "
                                "read (limits.MAX_INITIATIVES)", file=file, line=root.line))
        raise InputError(problems)
    rows, shape_problems = [], []
    for item in root.value:
        if item.kind != "map":
            shape_problems.append(Problem("each initiative must be a mapping of column: value", file=file,
                                          line=item.line))
            continue
        rows.append(_row(item, file, problems))
    if shape_problems:
        raise InputError(problems + shape_problems)
    return Table(file, rows, correlations=correlations, problems=problems, column_map=column_map)


def _row(item: _Node, file: str, problems: list[Problem]) -> dict[str, Cell]:
    """One initiative's cells by normalized column; names that normalize alike are reported."""
    row: dict[str, Cell] = {}
    first: dict[str, _Node] = {}
    for key, node in item.value:
        name = normalize_column(key.value)
        where = f"{node.column} ({key.value})"
        if name in first:
            problems.append(Problem(f"column {quote(key.value)} repeats {quote(first[name].value)} of line "
                                    f"{first[name].line} (names are case- and space-insensitive)", file=file,
                                    line=key.line, column=str(key.column)))
            continue
        first[name] = key
        if name == "id" and node.kind == "scalar" and node.tag in _NOT_TEXT and node.value:
            problems.append(Problem(f"YAML reads this id as {_NOT_TEXT[node.tag]}, not text; put it in quotes: "
                                    f"id: {clip(_quoted(node.value))}", file=file, line=node.line, column=where,
                                    value=node.value))
        value = node.value if name == "id" and node.kind == "scalar" and node.value else _value(node, name == "planned")
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:  # a list's cell is its items joined
            problems.append(long_cell(value, file, node.line, where))
            continue
        row[name] = Cell(value, node.line, where)
    return row


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(node: _Node, boolean: bool = False) -> object:
    """A cell: the scalar's text (None for null; a bool only where `boolean`), a list joined by ';'
    (as in CSV cells), a mapping as a dict of such values. Depth and size are bounded by `_compose`."""
    if node.kind == "seq":
        return ";".join(str(_value(n) or "") for n in node.value)
    if node.kind == "map":
        return {k.value: _value(v) for k, v in node.value}
    if node.tag == _TAG + "null":
        return None
    if boolean and node.tag == _TAG + "bool":
        return node.value.lower() in ("true", "yes", "on", "y")
    return node.value


def _correlations(node: _Node, file: str, problems: list[Problem]) -> list:
    """(a, b, rho, line) per entry of `correlations:`: `[a, b, rho]` or `{a: .., b: .., rho: ..}`."""
    if node.kind != "seq":
        raise InputError(problems + [Problem("'correlations:' must be a list of [a, b, rho]", file=file,
                                             line=node.line)])
    out = []
    for item in node.value:
        if item.kind == "seq" and len(item.value) == 3 and all(n.kind == "scalar" for n in item.value):
            out.append((*(_value(n) for n in item.value), item.line))
        elif item.kind == "map":
            values = {normalize_column(k.value): _value(v) for k, v in item.value}
            for k, _ in item.value:
                if normalize_column(k.value) not in ("a", "b", "rho"):
                    problems.append(Problem(f"unknown key {quote(k.value)} in a correlation; expected a, b, rho",
                                            file=file, line=k.line, column="correlations"))
            out.append((values.get("a"), values.get("b"), values.get("rho"), item.line))
        else:
            out.append((None, None, _value(item), item.line))
    return out


# --- composing parser events, iteratively and within limits ------------------------------------------


def _compose(text: str, file: str) -> tuple[_Node | None, list[Problem]]:
    """The document's root node (None when empty) and the problems that do not stop reading.

    Problems that make the rest meaningless or costly (syntax, nesting, recursive or oversized
    aliases) raise `InputError` at once, with the problems found before them.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", None) if yaml.__with_libyaml__ else None
    resolver, tags = yaml.resolver.Resolver(), {}

    def resolve(value: str) -> str:  # a plain scalar's tag; cached, as the same words recur in every row
        tag = tags.get(value)
        if tag is None:
            tag = tags[value] = resolver.resolve(yaml.ScalarNode, value, (True, False))
        return tag

    problems: list[Problem] = []

    def stop(message: str, line: int, column: int) -> InputError:
        return InputError(problems + [Problem(message, file=file, line=line, column=str(column))])

    stack: list[_Node] = []
    anchors: dict[str, _Node] = {}
    root: _Node | None = None
    documents = expanded = written = 0
    events = yaml.parse(text, Loader=loader or yaml.SafeLoader)
    try:
        for event in events:
            mark = event.start_mark
            line, column = mark.line + 1, mark.column + 1
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise stop("a portfolio file holds one YAML document; remove the second ('---')", line, column)
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                node = stack.pop()
                node.open = False
            elif isinstance(event, yaml.AliasEvent):
                node = anchors.get(event.anchor)
                if node is None:
                    name = clip(event.anchor)
                    raise stop(f"alias *{name} has no anchor &{name} before it", line, column)
                if node.open:
                    raise stop(f"alias *{clip(event.anchor)} refers to a collection that contains it (a recursive "
                               "structure); write the values out", line, column)
                expanded += node.size
                if expanded > MAX_YAML_NODES:
                    raise stop(f"aliases expand to more than {MAX_YAML_NODES:,} nodes (limits.MAX_YAML_NODES); "
                               "write the values out instead of repeating anchors", line, column)
            elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
                written += 1
                if written > MAX_YAML_WRITTEN_NODES:
                    raise stop(f"the file has more than {MAX_YAML_WRITTEN_NODES:,} YAML values (keys, values and "
                               f"lists); at most {MAX_YAML_WRITTEN_NODES:,} are read", line, column)
                node = _start(event, resolve, line, column)
                if node.tag not in _SCALAR_TAGS | {_TAG + "seq", _TAG + "map", _TAG + "merge"}:
                    tag = "!!" + event.tag[len(_TAG):] if event.tag.startswith(_TAG) else event.tag
                    problems.append(Problem(f"the tag {clip(tag)} is not supported (nothing is constructed from "
                                            "tags); remove it", file=file, line=line, column=str(column)))
                    node.tag = _TAG + "str"
                if event.anchor is not None:
                    anchors[event.anchor] = node
                    node.anchored = True
                if node.kind != "scalar":
                    if len(stack) >= MAX_YAML_DEPTH:
                        raise stop(f"nesting deeper than {MAX_YAML_DEPTH} levels (limits.MAX_YAML_DEPTH)",
                                   line, column)
                    stack.append(node)
                    continue
            else:
                continue  # stream start and end, document end
            if stack:
                _attach(stack[-1], node, file, problems, top=len(stack) == 1)
            else:
                root = node
    except yaml.YAMLError as e:
        raise _syntax_error(e, text, file, problems, bytes_=loader is not None) from None
    finally:
        events.close()
    return root, problems


def _start(event, resolve, line: int, column: int) -> _Node:
    """A new node for a scalar or collection start event, its tag resolved as YAML 1.1 (PyYAML) does
    (a plain `<<` resolves to the merge tag, reported by `_attach` when it is a key)."""
    import yaml

    explicit = event.tag not in (None, "!")
    if isinstance(event, yaml.ScalarEvent):
        plain = event.implicit[0] and not explicit
        tag = event.tag if explicit else resolve(event.value) if plain else _TAG + "str"
        if not explicit and tag not in _SCALAR_TAGS and tag != _TAG + "merge":
            tag = _TAG + "str"  # a plain `=` resolves to YAML 1.1's value tag: it is only text here
        return _Node("scalar", tag, line, column, event.value)
    kind = "seq" if isinstance(event, yaml.SequenceStartEvent) else "map"
    return _Node(kind, event.tag if explicit else _TAG + kind, line, column, [])


def _attach(parent: _Node, node: _Node, file: str, problems: list[Problem], top: bool) -> None:
    """Add `node` to the open collection `parent`; a mapping's keys must be text and distinct."""
    parent.size += node.size
    if parent.kind == "seq":
        parent.value.append(node)
        return
    if parent.key is None:
        parent.key = node
        return
    key, parent.key = parent.key, None
    if key.kind != "scalar":
        problems.append(Problem("a key must be text, not a list or mapping", file=file, line=key.line,
                                column=str(key.column)))
        return
    if key.tag == _TAG + "merge":  # `<<: *defaults` would add fields this reader does not see
        problems.append(Problem(_MERGE, file=file, line=key.line, column=str(key.column)))
        return
    if len(parent.keys) >= MAX_COLUMNS:  # an initiative's fields are a table's columns: bounded alike
        parent.dropped += 1
        if parent.dropped == 1:  # once per mapping, at its first key beyond the limit
            problems.append(Problem(f"the mapping on line {parent.line:,} has more than {MAX_COLUMNS:,} keys; at most "
                                    f"{MAX_COLUMNS:,} fields are read (limits.MAX_COLUMNS)", file=file,
                                    line=key.line, column=str(key.column)))
        return
    first = parent.keys.get(key.value)
    if first is not None:
        if top and key.value in _SECTIONS:
            message = f"the section '{key.value}:' is repeated (first on line {first}); merge the two into one"
        else:
            message = f"duplicate key {quote(key.value)} (first on line {first}); YAML would keep only one: remove one"
        problems.append(Problem(message, file=file, line=key.line, column=str(key.column)))
        return
    parent.keys[key.value] = key.line
    parent.value.append((key, node))


def _syntax_error(e, text: str, file: str, problems: list[Problem], bytes_: bool) -> InputError:
    """The parser's error, located; libyaml's nesting guard is reported as our depth limit."""
    import yaml

    if isinstance(e, yaml.reader.ReaderError):  # a character YAML does not allow; libyaml counts UTF-8 bytes
        before = text.encode("utf-8", "surrogatepass")[:e.position].decode("utf-8", "ignore") if bytes_ else \
            text[:e.position]
        line, start = before.count("\n") + 1, before.rfind("\n") + 1
        what = character_name(chr(e.character)) if isinstance(e.character, int) else repr(e.character)
        return InputError(problems + [Problem(f"invalid YAML: the character {what} is not allowed in YAML; delete it",
                                              file=file, line=line, column=str(len(before) - start + 1))])
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e)
    context, at = getattr(e, "context", None), getattr(e, "context_mark", None)
    if "maximum nesting depth" in problem:  # libyaml's own guard (1,000 levels), met before ours in flow style
        problem, context = f"nesting deeper than {MAX_YAML_DEPTH} levels (limits.MAX_YAML_DEPTH)", None
    elif "cannot start any token" in problem and mark is not None and 0 <= mark.index < len(text):
        ch = text[mark.index]  # marks count characters (only a ReaderError's position counts bytes)
        problem = f"found character {quote(ch)} that cannot start any token" + (
            "; indent with spaces, not tabs" if ch == "\t" else "")
    if context and at is not None and mark is not None and (at.line, at.column) != (mark.line, mark.column):
        # where the unclosed bracket or quote began
        problem += f" ({context} that starts on line {at.line + 1}, column {at.column + 1})"
    return InputError(problems + [Problem(f"invalid YAML: {problem}", file=file,
                                          line=mark.line + 1 if mark else None,
                                          column=str(mark.column + 1) if mark else None)])

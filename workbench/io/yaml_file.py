"""YAML portfolio files (a list of initiatives, or a mapping with `initiatives:` and `correlations:`)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError, Problem
from ..model.portfolio import REQUIRED
from .table import Cell, Table, decode_text, normalize_column


def read_yaml(path: Path) -> Table:
    import yaml

    text = decode_text(path)
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

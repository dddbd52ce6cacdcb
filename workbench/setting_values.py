"""How setting values are read from text (a command line, papermill) or JSON and widgets.

Each reader takes a raw value and returns it typed, or raises ValueError saying what was
expected: amounts with k/M but never a percentage, fractions with %, whole numbers, choices with
a "did you mean", mappings (`A=1,B=2`, repeated `A=1` options, dicts, pairs), LO:HI shares,
comma-separated ids, estimate edits and files that must exist (`file_path`).
`workbench.settings.FIELDS` pairs them with checks.
Names are matched to the portfolio's teams and themes (`match_names`, `match_split`).
Numbers, typed or written, get the estimates' checks: below 1e100, finite, ASCII digits and units
only (`１０k` is refused with its ASCII spelling); messages quote at most 80 characters of a value.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sized
from typing import Any

from .errors import Problem, did_you_mean, lookalike_problem, quote
from .limits import MAX_CAPACITY_ENTRIES
from .model.estimates import FACTORS, number_problem, shown_number

_AMOUNT = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKmM]?)")
_SCALE = {"": 1.0, "k": 1e3, "m": 1e6}


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {quote(value)}")
    return value.strip()


def _ascii_number_text(value: Any) -> str:
    """`value` as stripped text, refused when it spells digits or units with look-alike characters."""
    raw = text(value)
    problem = lookalike_problem(raw)
    if problem:
        raise ValueError(problem)
    return raw


def _bounded(number: int | float, value: Any) -> float:
    """`number` as a float, refused when it is not finite or not below 1e100 (as an estimate is)."""
    if isinstance(number, float) and math.isnan(number):
        raise ValueError(f"expected a finite number, got {quote(value)}")
    if number_problem(number):
        shown = shown_number(value) if isinstance(value, (int, float)) else quote(value)
        raise ValueError(f"expected a finite number below 1e100, got {shown}")
    return float(number)


def amount(value: Any) -> float:
    """A number with optional k/M (1.5k, 2M); never a percentage."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return _bounded(value, value)
    raw = _ascii_number_text(value).replace("_", "")
    if raw.endswith("%"):
        raise ValueError(f"expected an amount such as 40 or 1.5k, not a percentage ({quote(value)})")
    m = _AMOUNT.fullmatch(raw)
    if not m:
        raise ValueError(f"expected a number such as 40 or 1.5k, got {quote(value)}")
    return _bounded(float(m.group(1)) * _SCALE[m.group(2).lower()], value)


def fraction(value: Any) -> float:
    """A number, or a percentage (10% = 0.1)."""
    if isinstance(value, str) and _ascii_number_text(value).endswith("%"):
        return amount(value.strip()[:-1]) / 100
    return amount(value)


def whole(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        digits = _ascii_number_text(value).replace("_", "").replace(",", "")
        if re.fullmatch(r"[+-]?[0-9]{1,100}", digits):  # longer is beyond 1e100 (and int() refuses 4,300+ digits)
            value = int(digits)
        elif re.fullmatch(r"[+-]?[0-9]+", digits):
            raise ValueError(f"expected a whole number below 1e100, got {quote(value)}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {quote(value)}")
    _bounded(value, value)
    return value


def choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        raw = text(value).lower()
        if raw not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {quote(value)}{did_you_mean(raw, options)}")
        return raw
    return parse


def pairs(value_parser: Callable[[Any], Any], example: str, most: int = MAX_CAPACITY_ENTRIES,
          limit: str = "MAX_CAPACITY_ENTRIES") -> Callable[[Any], tuple]:
    """A mapping: a dict (JSON, Python), a list of pairs, text `A=1,B=2` (a papermill parameter), or
    a list of `A=1` texts (repeated command-line options); at most `most` entries (`limits.<limit>`)."""
    def parse(value: Any) -> tuple:
        # Counted before any entry is parsed: a million entries would take seconds and hundreds of MiB.
        if isinstance(value, str):
            count = value.strip(" \t\r\n,").count(",") + 1  # an upper bound: `A=1,,B=2` counts 3
        else:
            count = len(value) if isinstance(value, Sized) else 0
        if count > most:
            raise ValueError(f"{count:,} entries, over the limit of {most:,} (limits.{limit})")
        texts = None
        if isinstance(value, str):
            texts = [p for p in (p.strip() for p in value.split(",")) if p]
        elif isinstance(value, (list, tuple)) and value and all(isinstance(p, str) for p in value):
            texts = list(value)  # one NAME=VALUE per repeated option: a name may hold a comma
        if texts is not None:
            items = []
            for part in texts:
                key, sep, v = part.rpartition("=")
                if not sep or not key.strip():
                    raise ValueError(f"expected NAME=VALUE pairs such as {example}, got {quote(part)}")
                items.append((key.strip(), v))
        elif isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
            items = list(value)
        else:
            raise ValueError(f"expected a mapping such as {example}, got {quote(value)}")
        return tuple((str(k).strip(), value_parser(v)) for k, v in items)
    return parse


def share(value: Any) -> tuple[float, float]:
    """LO:HI bounds of a share (text `0.3:0.6` or `30%:60%`, or a pair)."""
    if isinstance(value, str):
        lo, sep, hi = value.partition(":")
        if not sep:
            raise ValueError(f"expected LO:HI such as 0.3:0.6 or 30%:60%, got {quote(value)}")
        value = (lo, hi)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"expected LO:HI such as 0.3:0.6, got {quote(value)}")
    return (fraction(value[0]), fraction(value[1]))


def ids(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(i.strip() for i in value.split(",") if i.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(i, str) for i in value):
        return tuple(i.strip() for i in value)
    raise ValueError(f"expected initiative ids separated by commas, got {quote(value)}")


def edits(value: Any) -> tuple:
    out = []
    for item in value if isinstance(value, (list, tuple)) else [value]:
        if isinstance(item, dict) and set(item) == {"id", "factor", "estimate"}:
            item = (item["id"], item["factor"], item["estimate"])
        if not (isinstance(item, (list, tuple)) and len(item) == 3 and all(isinstance(x, str) for x in item)):
            raise ValueError(f"expected a list of {{\"id\", \"factor\", \"estimate\"}} objects, got {quote(item)}")
        out.append((item[0], choice(FACTORS)(item[1]), item[2]))
    return tuple(out)


def file_path(value: Any) -> str | None:
    """A file that must exist, kept as its absolute path text ("" = none: a report parameter's blank)."""
    raw = text(value)
    if not raw:
        return None
    path = os.path.abspath(os.path.expanduser(raw))
    if not os.path.isfile(path):
        where = "is a directory, not a file" if os.path.isdir(path) else "does not exist"
        raise ValueError(f"{quote(raw)} {where}")
    return path


def quarter_text(value: Any) -> str:
    """A quarter, kept as its canonical label (`2027Q1`)."""
    from .model.quarters import parse_quarter, quarter_label

    return quarter_label(parse_quarter(text(value)))


def horizon(value: Any) -> str:
    """Quarters `FIRST:LAST` (or one quarter), kept canonical: `q1 2027:2027-Q4` -> `2027Q1:2027Q4`."""
    from .model.quarters import quarter_label, quarter_range

    quarters = quarter_range(text(value))
    return f"{quarter_label(quarters[0])}:{quarter_label(quarters[-1])}"


def capacity_rows(value: Any) -> tuple:
    """(team, quarter, person-months) rows: a list of [team, quarter, amount] triples or of
    {"team", "quarter", "capacity"} objects (JSON), or text `Growth:2027Q1=6,Growth:2027Q2=4`."""
    if isinstance(value, str):
        items = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            key, sep, amount_text = part.rpartition("=")
            team, colon, quarter = key.rpartition(":")
            if not sep or not colon or not team.strip():
                raise ValueError(f"expected TEAM:QUARTER=PERSON-MONTHS such as Growth:2027Q1=6, got {quote(part)}")
            items.append((team, quarter, amount_text))
        value = items
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"expected rows of team, quarter and capacity, got {quote(value)}")
    if len(value) > MAX_CAPACITY_ENTRIES:
        raise ValueError(f"{len(value):,} entries, over the limit of {MAX_CAPACITY_ENTRIES:,} "
                         "(limits.MAX_CAPACITY_ENTRIES)")
    out = []
    for item in value:
        if isinstance(item, dict) and set(item) == {"team", "quarter", "capacity"}:
            item = (item["team"], item["quarter"], item["capacity"])
        if not (isinstance(item, (list, tuple)) and len(item) == 3):
            raise ValueError(f"expected [team, quarter, capacity] rows, got {quote(item)}")
        out.append((text(item[0]), quarter_text(item[1]), amount(item[2])))
    return tuple(sorted(out))


# --- names a setting gives, matched to the portfolio's (`Settings.for_portfolio`) ---------------------


def match_names(setting: str, kind: str, pairs: tuple, known: list[str], problems: list[Problem]) -> tuple:
    """Pairs keyed by names matched to `known` case-insensitively, spelled as in the file."""
    by_lower = {k.lower(): k for k in known}
    out, seen = [], {}
    for name, value in pairs:
        canonical = by_lower.get(str(name).strip().lower())
        if canonical in seen:
            problems.append(Problem(f"{setting}: {kind} {quote(canonical)} is given twice "
                                    f"({quote(seen[canonical])} and {quote(name)}); give it once"))
        elif canonical is None:
            problems.append(Problem(f"{setting}: no initiative belongs to {kind} {quote(name)}"
                                    f"{did_you_mean(name, known)} ({kind}s: {', '.join(known) or 'none'})"))
        else:
            seen[canonical] = name
            out.append((canonical, value))
    return tuple(out)


def match_split(split: str, teams: list[str], themes: list[str], problems: list[Problem]) -> str | None:
    """`theme:X`, `team:X` or a plain name of one of them, matched in any case; spelled as in the file."""
    kind, sep, name = split.partition(":")
    if sep and kind.strip().lower() in ("theme", "team"):
        kind = kind.strip().lower()
        found = match_names("split", kind, ((name, None),), themes if kind == "theme" else teams, problems)
        return f"{kind}:{found[0][0]}" if found else None
    lower = split.strip().lower()
    in_themes = [t for t in themes if t.lower() == lower]
    in_teams = [t for t in teams if t.lower() == lower]
    if in_themes and in_teams:
        problems.append(Problem(f"split: {quote(split)} is both a theme and a team; "
                                f"write theme:{split} or team:{split}"))
    elif in_themes or in_teams:
        return f"theme:{in_themes[0]}" if in_themes else f"team:{in_teams[0]}"
    else:
        problems.append(Problem(f"split: no initiative belongs to a theme or team {quote(split)}"
                                f"{did_you_mean(split, [*themes, *teams])} (themes: {', '.join(themes) or 'none'}; "
                                f"teams: {', '.join(teams) or 'none'})"))
    return None

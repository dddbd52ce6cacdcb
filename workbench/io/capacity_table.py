"""Capacity tables: a team's person-months per quarter where they differ from its usual capacity
(hiring, holidays, known commitments). A CSV with columns team, quarter, capacity:

    team,quarter,capacity
    Growth,2027Q1,6
    Growth,2027Q3,10

Every cell is checked and every problem reported at once, located by line and column.
"""

from __future__ import annotations

from pathlib import Path

from .. import setting_values as read
from ..errors import InputError, Problem
from ..limits import MAX_CAPACITY_ENTRIES
from .delimited import read_small_csv

COLUMNS = ("team", "quarter", "capacity")


def read_capacity_table(path: str | Path) -> tuple[tuple[str, str, float], ...]:
    """(team, quarter label, person-months) rows of a capacity CSV, as the `capacity_table` setting."""
    path = Path(path)
    rows = read_small_csv(path, COLUMNS, "a capacity table")
    problems, out, seen = [], [], {}
    if len(rows) > MAX_CAPACITY_ENTRIES:
        raise InputError(Problem(f"{len(rows):,} rows, over the limit of {MAX_CAPACITY_ENTRIES:,} "
                                 "(limits.MAX_CAPACITY_ENTRIES)", file=str(path)))
    for line, row in rows:
        if not any(v.strip() for v in row.values()):
            continue
        team = row["team"].strip()
        if not team:
            problems.append(Problem("expected a team name", file=str(path), line=line, column="team"))
        try:
            quarter = read.quarter_text(row["quarter"])
        except ValueError as exc:
            problems.append(Problem(str(exc), file=str(path), line=line, column="quarter"))
            quarter = None
        try:
            capacity = read.amount(row["capacity"])
            if capacity < 0:
                raise ValueError(f"expected person-months >= 0, got {capacity:g}")
        except ValueError as exc:
            problems.append(Problem(str(exc), file=str(path), line=line, column="capacity"))
            capacity = None
        if team and quarter and capacity is not None:
            key = (team.lower(), quarter)
            if key in seen:
                problems.append(Problem(f"{team} {quarter} is given twice (line {seen[key]} and here); keep one",
                                        file=str(path), line=line, column="quarter"))
            seen[key] = line
            out.append((team, quarter, capacity))
    if problems:
        raise InputError(problems)
    return tuple(out)

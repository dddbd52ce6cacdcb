"""Input problems: every invalid cell reported with file, line, column, value and what was expected."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the source allows."""

    message: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        parts = [where] if where else []
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.value is not None:
            parts.append(repr(_clip(str(self.value))))
        parts.append(self.message)
        return ": ".join(parts)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class InputError(ValueError):
    """Bad input: a list of problems, all of them, not only the first."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(word: str, choices) -> str:
    """"; did you mean 'x'?" for the closest choice by edits (typos), or "" when none is close."""
    word = str(word).lower()
    best = min(choices, key=lambda c: (_edits_between(word, str(c).lower()), str(c)), default=None)
    if best is None or _edits_between(word, str(best).lower()) > max(1, len(word) // 3):
        return ""
    return f"; did you mean {best!r}?"


def _edits_between(a: str, b: str) -> int:
    """Levenshtein distance: insertions, deletions and substitutions turning a into b."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]

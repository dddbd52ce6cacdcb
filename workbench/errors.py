"""Input problems: every invalid cell reported with file, line, column, value and what was expected.

Also the checks every piece of user text shares: `quote` (a value clipped to
`limits.MAX_MESSAGE_VALUE` characters for a message) and `bad_character` (control and invisible
format characters, named with their position, so that look-alike ids and renderer crashes cannot
come from a cell).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .limits import MAX_MESSAGE_VALUE

_MAX_MESSAGE = 2000  # characters of one problem's message (what was expected, a suggestion)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the source allows."""

    message: str
    file: str | None = None
    line: int | None = None
    column: str | None = None
    value: object = None
    fix: str | None = None  # the corrected cell, when one reading is unambiguous (`workbench check --fix`)

    def __str__(self) -> str:
        where = ":".join(str(x) for x in (self.file, self.line) if x is not None)
        parts = [where] if where else []
        if self.column is not None:
            parts.append(f"column {clip(str(self.column))}")
        if self.value is not None:
            parts.append(quote(self.value))
        # Messages quote values through `quote`; the cap is a last defence against one that does not.
        parts.append(clip(str(self.message), _MAX_MESSAGE))
        text = ": ".join(parts)
        return text if self.fix is None else f"{text} (fix: {quote(self.fix)})"


def clip(text: str, width: int = MAX_MESSAGE_VALUE) -> str:
    """`text` cut to `width` characters (the last one an ellipsis) when longer."""
    return text if len(text) <= width else text[: width - 1] + "…"


def quote(value: object, width: int = MAX_MESSAGE_VALUE) -> str:
    """A value as a message quotes it: repr of its text, at most `width` characters of it."""
    return repr(clip(value if isinstance(value, str) else _safe_str(value), width))


def exact(x: float) -> str:
    """A figure in a message, to two decimals without trailing zeros: "10.51", "40", "1,200.5"."""
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def _safe_str(value: object) -> str:
    try:
        return str(value)
    except ValueError:  # a Python int beyond the interpreter's digit limit cannot become text
        return f"<{type(value).__name__} too large to show>"


class InputError(ValueError):
    """Bad input: a list of problems, all of them, not only the first."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, (Problem, str)):
            problems = [problems]
        self.problems = [p if isinstance(p, Problem) else Problem(p) for p in problems]
        super().__init__("\n".join(str(p) for p in self.problems))


# --- characters no id, name, team or theme may hold ---------------------------------------------

_C0_NAMES = ("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB "
             "ESC FS GS RS US").split()
_C1_NAMES = ("PAD HOP BPH NBH IND NEL SSA ESA HTS HTJ VTS PLD PLU RI SS2 SS3 DCS PU1 PU2 STS CCH MW SPA EPA SOS "
             "SGCI SCI CSI ST OSC PM APC").split()
# C0, DEL and C1 controls (the XML of an SVG or .xlsx cannot hold most of them; vl-convert aborts the
# process on them), lone surrogates (no UTF-8 file can hold them), and the line/paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\ufffe\uffff]")
# Free text (notes and other extra columns) may hold tabs and line breaks, and format characters
# such as the zero-width joiner of an emoji sequence.
_FREE_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def character_name(ch: str) -> str:
    """"U+0007 (BEL)", "U+200B (ZERO WIDTH SPACE)": a character as a message names it."""
    code = ord(ch)
    if code < 0x20:
        name = _C0_NAMES[code]
    elif code == 0x7F:
        name = "DEL"
    elif 0x80 <= code <= 0x9F:
        name = _C1_NAMES[code - 0x80]
    else:
        name = unicodedata.name(ch, "surrogate" if 0xD800 <= code <= 0xDFFF else "unassigned")
    return f"U+{code:04X} ({name})"


# Joiners a name may hold: ZWNJ is part of Persian spelling, ZWJ of emoji sequences (👩‍💻). Ids,
# references, teams and themes (identifiers) refuse them: two ids that look the same must be equal.
NAME_JOINERS = frozenset("\u200c\u200d")


def bad_character(text: str, free_text: bool = False, name: bool = False) -> str | None:
    """The first control or invisible format character of `text`, named with its (1-based) position
    and the fix, or None. With `free_text`, tabs, line breaks and format characters are allowed;
    with `name`, the joiners ZWNJ and ZWJ are (bidi overrides, zero-width spaces, BOMs are not)."""
    if free_text:
        m = _FREE_TEXT_CONTROL.search(text)
        pos = m.start() if m else None
    else:
        m = _CONTROL.search(text)
        pos = m.start() if m else None
        # Format characters (zero-width space/joiner, BOM, bidi overrides) make two ids that look the same differ.
        if not text.isascii():
            allowed = NAME_JOINERS if name else ()
            fmt = next((i for i, ch in enumerate(text[:pos])
                        if unicodedata.category(ch) == "Cf" and ch not in allowed), None)
            pos = fmt if fmt is not None else pos
    if pos is None:
        return None
    return f"{character_name(text[pos])} at character {pos + 1}; delete it"


def replace_control_characters(text: str, replacement: str = "\ufffd") -> str:
    """`text` with every control character (and lone surrogate, U+FFFE, U+FFFF) replaced: for output
    that must never hold one, such as the SVG text vl-convert renders."""
    return _CONTROL.sub(replacement, text)




# --- look-alike digits and units --------------------------------------------------------------


def lookalike_problem(text: str, what: str = "numbers and units") -> str | None:
    """Why `text` cannot be read as written when it holds a character other than ASCII and spaces
    (full-width or Arabic-Indic digits, the Kelvin sign, a full-width %), with its ASCII spelling
    when there is one; None for plain text. Python would read `1٠` as 10 and match 'K' (U+212A) as k."""
    if text.isascii():
        return None
    odd = [(i, ch) for i, ch in enumerate(text) if not ch.isascii() and not ch.isspace()]
    if not odd:
        return None
    other = next(((i, ch) for i, ch in odd if not _ascii_spelling(ch).isascii()), None)
    if other is not None:
        i, ch = other
        return f"{quote(text)} has {character_name(ch)} at character {i + 1}; type {what} in ASCII (0-9, k, M, %)"
    kinds = list(dict.fromkeys(_kind(ch) for ch in dict.fromkeys(ch for _, ch in odd)))
    spelled = "".join(_ascii_spelling(ch) if not ch.isascii() and not ch.isspace() else ch for ch in text)
    return f"{quote(text)} uses {' and '.join(kinds[:2])}; type {clip(spelled.strip())}"


def _ascii_spelling(ch: str) -> str:
    """The ASCII character `ch` stands for, or `ch`: digits of any script, full-width forms, the
    Kelvin sign, the small percent sign (not superscripts: 10² is not 102)."""
    if unicodedata.category(ch) == "Nd":
        return str(unicodedata.digit(ch))
    if ch == "\u212a" or unicodedata.name(ch, "").startswith(("FULLWIDTH", "HALFWIDTH", "SMALL PERCENT")):
        return unicodedata.normalize("NFKC", ch)
    return ch


def _kind(ch: str) -> str:
    name = unicodedata.name(ch, "")
    if name.startswith(("FULLWIDTH", "HALFWIDTH")):
        return "full-width characters"
    if unicodedata.category(ch) == "Nd":
        script = name.rsplit(" DIGIT ", 1)[0]
        return f"{script.title()} digits" if script and script != name else "non-ASCII digits"
    return f"the character {character_name(ch)}"


def did_you_mean(word: str, choices) -> str:
    """"; did you mean 'x'?" for the closest choice by edits (typos), or "" when none is close."""
    word = str(word).lower()
    if len(word) > MAX_MESSAGE_VALUE:  # edit distance is quadratic: no long token is a typo of a short word
        return ""
    best = min(choices, key=lambda c: (_edits_between(word, str(c).lower()), str(c)), default=None)
    if best is None or _edits_between(word, str(best).lower()) > max(1, len(word) // 3):
        return ""
    return f"; did you mean {best!r}?"


def _edits_between(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
    neighbouring letters ('nmae' -> 'name' is one edit) turning a into b."""
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]

"""Calendar quarters: how they are written, read and counted.

A quarter is kept as one whole number, `year * 4 + (q - 1)`, so consecutive quarters are
consecutive numbers and "two quarters later" is `+ 2`. It is written `2027Q1`; the reader also
takes `2027-Q1`, `2027 Q1`, `Q1 2027`, `Q1-2027` and `q1/2027` (any case), the spellings that
roadmap tools and spreadsheets export. A horizon is written `2027Q1:2027Q4` (first and last
quarter, both included).
"""

from __future__ import annotations

import datetime as _dt
import re

from ..errors import quote

MAX_HORIZON = 40  # quarters (ten years): beyond it a roadmap is not a plan, and arrays grow for nothing

_YEAR_FIRST = re.compile(r"(\d{4})\s*[-/ ]?\s*[qQ]([1-4])")
_QUARTER_FIRST = re.compile(r"[qQ]([1-4])\s*[-/ ]?\s*(\d{4})")
EXPECTED = "a quarter such as 2027Q1 (or 2027-Q1, Q1 2027)"


def parse_quarter(text: object) -> int:
    """The quarter written in `text` as its whole number; ValueError saying what is expected."""
    if not isinstance(text, str):
        raise ValueError(f"expected {EXPECTED}, got {quote(text)}")
    raw = text.strip()
    if m := _YEAR_FIRST.fullmatch(raw):
        year, q = int(m.group(1)), int(m.group(2))
    elif m := _QUARTER_FIRST.fullmatch(raw):
        q, year = int(m.group(1)), int(m.group(2))
    else:
        raise ValueError(f"expected {EXPECTED}, got {quote(text)}")
    if not 1900 <= year <= 2999:
        raise ValueError(f"expected a year between 1900 and 2999 in {quote(text)}")
    return year * 4 + q - 1


def is_quarter(text: object) -> bool:
    try:
        parse_quarter(text)
    except ValueError:
        return False
    return True


def quarter_label(index: int) -> str:
    """`2027Q1` for the quarter's whole number."""
    return f"{int(index) // 4}Q{int(index) % 4 + 1}"


def quarter_of(day: _dt.date) -> int:
    """The quarter a date falls in."""
    return day.year * 4 + (day.month - 1) // 3


def next_quarter(today: _dt.date | None = None) -> int:
    """The quarter after today's: where a roadmap starts when nothing says otherwise."""
    return quarter_of(today or _dt.date.today()) + 1


def quarter_range(spec: object, default_start: int | None = None, default_length: int = 4) -> tuple[int, ...]:
    """The quarters of a horizon: `2027Q1:2027Q4`, a single quarter, or (spec None or empty)
    `default_length` quarters from `default_start` (default: the next quarter). ValueError
    saying what is expected."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        start = next_quarter() if default_start is None else int(default_start)
        return tuple(range(start, start + default_length))
    if not isinstance(spec, str):
        raise ValueError(f"expected quarters such as 2027Q1:2027Q4, got {quote(spec)}")
    first, sep, last = spec.partition(":")
    try:
        a = parse_quarter(first)
        b = parse_quarter(last) if sep else a
    except ValueError as exc:
        raise ValueError(f"expected quarters such as 2027Q1:2027Q4 (first:last): {exc}") from None
    if b < a:
        raise ValueError(f"the last quarter {quarter_label(b)} comes before the first {quarter_label(a)}; "
                         f"write {quarter_label(b)}:{quarter_label(a)}")
    if b - a + 1 > MAX_HORIZON:
        raise ValueError(f"{b - a + 1} quarters, over the limit of {MAX_HORIZON} (model.quarters.MAX_HORIZON)")
    return tuple(range(a, b + 1))

"""Text for terminals and programs: safe terminal text, plain-text tables, formula-safe CSV, strict JSON."""

from __future__ import annotations

import json
import math
import unicodedata

import pandas as pd

from ..io.files import guard_formula


def terminal_text(text: object, width: int | None = None) -> str:
    """User text made safe for a terminal: control characters (escape sequences) become '?'."""
    s = "".join("?" if unicodedata.category(ch)[0] == "C" else ch for ch in str(text))
    if width is not None and len(s) > width:
        s = s[: width - 1] + "…"
    return s


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe (`guard_formula`),
    the column names too (every cell of the file, not only the body); numbers never do."""
    out = frame.copy()
    for j in range(out.shape[1]):  # by position: column names may repeat
        if not pd.api.types.is_numeric_dtype(out.iloc[:, j]):
            out.isetitem(j, out.iloc[:, j].map(lambda v: guard_formula(v) if isinstance(v, str) else v))
    out.columns = [guard_formula(c) if isinstance(c, str) else c for c in out.columns]
    return out


def to_json(obj: object) -> str:
    """JSON with NaN and infinities as null (strict JSON has no NaN)."""
    def clean(x):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [clean(v) for v in x]
        return x

    return json.dumps(clean(obj), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def text_table(rows: list[list[str]], header: list[str], align: str) -> str:
    """A plain-text table; `align` has one of 'l'/'r' per column."""
    widths = [max(len(h), *(len(r[j]) for r in rows)) if rows else len(h) for j, h in enumerate(header)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    return "\n".join([line(header), line(["─" * w for w in widths])] + [line(r) for r in rows])

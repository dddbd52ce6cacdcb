"""The expat handler of one worksheet (see `workbench.io.workbook`): each row's values as openpyxl
reads them, and what Excel shows that the values alone do not say: formulas whose result was never
saved, merged cells, hidden rows and columns.

A formula's result is only in the file when the program that saved it computed it (Excel and
LibreOffice do; openpyxl and many exporters do not): such a cell becomes a `NoResult`, which the
reader reports by name instead of "the cell is empty". Merged ranges and hidden columns are listed
at the end of the sheet or before its rows; everything kept is bounded (`_MAX_RANGES`,
`_MAX_FORMULA_CHARS`, ...), however many the sheet declares, and the rest counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import Problem, quote
from ..limits import MAX_COLUMNS
from .workbook_parts import NS, Text

_MAX_FORMULA_CHARS = 1_000  # of a formula's text, kept to name it (and translate a shared one)
_MAX_SHARED = 1_000  # shared formulas whose text is kept, to name it in the cells that share it
_MAX_RANGES = 10_000  # merged ranges kept; more are counted
_MAX_ARRAYS = 100  # array formulas with no result whose ranges are kept (each row is checked against them)
_MAX_HIDDEN_ROWS = 21  # hidden rows listed (one more than a note names: the header may be one)
_SAVE = "open and save the file in Excel (it saves the results), or export it as CSV"
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]{1,7})")
_TRUE = ("1", "true")


def column_letter(n: int) -> str:
    """The column's letters ("A", "AB"), or its number beyond Excel's last column."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(n) if 0 < n <= 18_278 else str(n)


def column_number(ref: str) -> int:
    """The column of a cell reference ("B3" -> 2)."""
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif ch.isdigit():
            break
        else:
            raise ValueError(f"bad cell reference {quote(ref)}")
    return n


def cell_range(ref: str) -> tuple[int, int, int, int] | None:
    """(first row, first column, last row, last column) of "B3:D5" or "B3"; None when not a reference."""
    corners = ref.split(":") if len(ref) <= 30 else []
    found = [_REF.fullmatch(c) for c in corners]
    if not 1 <= len(found) <= 2 or not all(found):
        return None
    (c1, r1), (c2, r2) = [(column_number(m[1]), int(m[2])) for m in (found[0], found[-1])]
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


class NoResult:
    """A formula cell whose result the file does not hold (the program that wrote it did not compute it)."""

    def __init__(self, ref: str, formula: str | None, shared_with: str | None = None, array: str | None = None):
        self.ref, self.formula, self.shared_with, self.array = ref, formula, shared_with, array

    def __str__(self) -> str:
        return "=" + self.formula if self.formula is not None else "(a formula)"

    def message(self) -> str:
        """What is wrong, in the words of the cell's own reference."""
        if self.array is not None:
            return (f"{self.ref} is filled by the array formula {quote(str(self))} of {self.array}, which has no "
                    f"saved result: {_SAVE}")
        if self.formula is None:
            return f"{self.ref} holds a formula (shared with {self.shared_with}) with no saved result: {_SAVE}"
        return f"{self.ref} holds the formula {quote(str(self))} with no saved result: {_SAVE}"


def _shared(ref: str, master: tuple[str, str | None] | None) -> NoResult:
    """The cell `ref` sharing the formula of `master` (its first cell and text), translated to `ref` as
    Excel does."""
    if master is None or master[1] is None:
        return NoResult(ref, None, master[0] if master else "another cell")
    origin, text = master
    try:
        from openpyxl.formula.translate import Translator

        translated = Translator("=" + text, origin=origin).translate_formula(ref)[1:]
    except Exception:  # a formula the translator cannot parse: name the cell it comes from instead
        return NoResult(ref, None, origin)
    return NoResult(ref, translated)


class Sheet:
    """expat handlers turning a worksheet into (row number, {column: value}) for each row holding a
    value (a formula with no saved result is a `NoResult`), with the sheet's merged ranges, hidden
    rows and columns, and array formulas with no result (their ranges) on the side."""

    def __init__(self, strings: list[str], dates: set[int], durations: set[int], epoch,
                 beyond: Callable[[int, int, object], None]):
        self.strings, self.dates, self.durations, self.epoch, self.beyond = strings, dates, durations, epoch, beyond
        self.ready: list[tuple[int, dict[int, object]]] = []
        self.problems: list[Problem] = []  # cells written twice
        self.row, self.column, self.values, self.seen = 0, 0, {}, set()
        self.kind, self.style, self.v, self.inline = "n", 0, None, None
        self.texts = Text()
        self.formula: list[str] | None = None  # the text of the cell's <f>, while it is read
        self.formula_attrs: dict[str, str] | None = None
        self.formula_chars = 0
        self.shared: dict[str, tuple[str, str]] = {}  # shared formula index -> (its first cell, its text)
        self.arrays: list[tuple[int, int, int, int, NoResult]] = []  # array formulas with no result
        self.merged: list[tuple[int, int, int, int]] = []
        self.merged_count = 0
        self.hidden_rows: list[int] = []  # rows holding a value
        self.hidden_row_count = 0
        self.hidden_columns: list[tuple[int, int]] = []  # (first, last), within MAX_COLUMNS
        self.row_hidden = False

    def start(self, tag, attrs):
        if tag == NS + "c":
            ref = attrs.get("r")
            self.column = column_number(ref) if ref else self.column + 1
            if self.column in self.seen and len(self.problems) < MAX_COLUMNS:  # one would be lost; bounded
                letter = column_letter(self.column)
                self.problems.append(Problem(
                    f"cell {quote(ref or letter + str(self.row))} is written more than once in the sheet (a cell "
                    "holds one value); open it in Excel and save it again", file=str(self.beyond.path), line=self.row,
                    column=letter))
            self.seen.add(self.column)
            self.kind, self.style, self.v, self.inline = attrs.get("t", "n"), int(attrs.get("s", 0)), None, None
            self.formula = self.formula_attrs = None
        elif tag == NS + "v":
            self.v = []
        elif tag == NS + "f":
            self.formula, self.formula_attrs, self.formula_chars = [], attrs, 0
        elif tag == NS + "is":
            self.inline = []
        elif tag == NS + "row":
            r = attrs.get("r")
            self.row, self.column, self.values, self.seen = (int(r) if r else self.row + 1), 0, {}, set()
            self.row_hidden = attrs.get("hidden") in _TRUE
        elif tag == NS + "mergeCell":
            self.merged_count += 1
            found = cell_range(attrs.get("ref", "")) if len(self.merged) < _MAX_RANGES else None
            if found is not None:
                self.merged.append(found)
        elif tag == NS + "col":
            if attrs.get("hidden") in _TRUE and len(self.hidden_columns) < MAX_COLUMNS:
                first, last = int(attrs.get("min", 0)), int(attrs.get("max", 0))
                if 0 < first <= MAX_COLUMNS:
                    self.hidden_columns.append((first, min(last, MAX_COLUMNS)))
        elif self.inline is not None:
            self.texts.start(tag)

    def end(self, tag):
        if tag == NS + "c":
            value = self.value()
            if self.formula_attrs is not None and self.no_result():
                value = self.no_result_cell()
            if value is not None and not (isinstance(value, str) and not value.strip()):
                if self.column <= MAX_COLUMNS:
                    self.values[self.column] = value
                else:
                    self.beyond(self.row, self.column, value)
        elif tag == NS + "v" and isinstance(self.v, list):
            self.v = "".join(self.v)
        elif tag == NS + "f" and isinstance(self.formula, list):
            self.formula = "".join(self.formula)
        elif tag == NS + "row":
            if self.values:
                self.ready.append((self.row, self.values))
                if self.row_hidden:
                    self.hidden_row_count += 1
                    if len(self.hidden_rows) < _MAX_HIDDEN_ROWS:
                        self.hidden_rows.append(self.row)
        elif self.inline is not None:
            t = self.texts.end(tag)
            if t is not None:
                self.inline.append(t)

    def data(self, data):
        if isinstance(self.v, list):
            self.v.append(data)
        elif isinstance(self.formula, list):
            if self.formula_chars <= _MAX_FORMULA_CHARS:  # one more: the text shows it was cut
                self.formula.append(data)
                self.formula_chars += len(data)
        elif self.inline is not None:
            self.texts.data(data)

    def no_result(self) -> bool:
        """Whether the formula cell just read has no saved result: no <v>, or an empty one where only
        text may be empty (openpyxl writes `<v/>`; an empty text result is a result)."""
        return self.v is None or (self.v == "" and self.kind not in ("str", "inlineStr"))

    def no_result_cell(self) -> NoResult:
        """The formula cell just read, with no saved result, named by its text; a shared formula's first
        cell and an array formula's range are remembered for the cells that follow."""
        ref = column_letter(self.column) + str(self.row)
        attrs, text = self.formula_attrs, self.formula if isinstance(self.formula, str) else ""
        whole = len(text) <= _MAX_FORMULA_CHARS  # the text was cut beyond: it names the cell, never translates
        if attrs.get("t") == "shared":
            si = attrs.get("si", "")
            if not text:  # a cell sharing the formula written in full in the first one
                return _shared(ref, self.shared.get(si))
            if len(self.shared) < _MAX_SHARED:
                self.shared[si] = (ref, text if whole else None)
        cell = NoResult(ref, text[:_MAX_FORMULA_CHARS])
        span = cell_range(attrs.get("ref", "")) if attrs.get("t") in ("array", "dataTable") else None
        if span is not None and span[:2] != span[2:] and len(self.arrays) < _MAX_ARRAYS:
            self.arrays.append((*span, cell))
        return cell

    def value(self) -> object:
        """The cell's value as openpyxl reads it (data_only): numbers, dates, booleans, text."""
        from openpyxl.utils.datetime import from_excel, from_ISO8601

        kind, v = self.kind, self.v
        if kind == "inlineStr":
            return "".join(self.inline) if self.inline is not None else None
        if not v:
            return None
        if kind == "s":
            index = int(v)
            if not 0 <= index < len(self.strings):  # Python would read -1 as the last string
                raise ValueError(f"shared string {index} does not exist")
            return self.strings[index]
        if kind == "b":
            return bool(int(v))
        if kind == "d":
            return from_ISO8601(v)
        if kind != "n":  # "str" (a formula's text), "e" (an error value such as #N/A)
            return v
        number = float(v) if "." in v or "e" in v.lower() else int(v)
        if self.style in self.dates:
            try:
                return from_excel(number, self.epoch, timedelta=self.style in self.durations)
            except (OverflowError, ValueError):
                return "#VALUE!"  # as openpyxl: a date out of range is an error value
        return number

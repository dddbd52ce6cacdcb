"""Excel workbooks (.xlsx, .xlsm) read into raw tables, in bounded time and memory.

Nothing in the file is trusted before it is checked. The zip directory's declared sizes are
checked before anything is inflated (Python's zipfile inflates no part beyond its declared size):
all parts within `limits.MAX_UNZIPPED_BYTES`, and each part that is read within a bound of its
own (below). openpyxl reads only the package's small structural parts (the manifest, the
workbook and its relationships: sheet names and where they are). The shared strings, the styles
(which cells are dates) and the sheet are streamed with expat, holding no XML tree, because
openpyxl's read-only mode trusts the sheet's `<dimension>` (it drops the rows outside it and pads
every row to its width: A1:XFD1048576 means 17 billion cells), keeps every XML element of the
shared strings until the end, and builds an object per style. At most `limits.MAX_COLUMNS`
columns are kept (a value beyond is reported) and at most `limits.MAX_ROWS` rows (the rest are
counted). Numbers stay numbers in the `Cell`s.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from xml.parsers import expat

from ..errors import InputError, Problem, quote
from ..limits import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_SHARED_STRINGS_BYTES,
    MAX_SHEET_BYTES,
    MAX_STRUCTURE_BYTES,
    MAX_STYLES_BYTES,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_PARTS,
)
from ..model.portfolio import REQUIRED
from .table import Cell, Table, Unnamed, long_cell, normalize_column, too_many_rows

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "  # expat: "namespace local-name"
_CHUNK = 1 << 16
_ENTRY_BYTES = 46 + 256  # a central-directory entry with a generous name: bounds the directory zipfile reads


def _problem(path: Path, message: str, **where) -> InputError:
    return InputError(Problem(message, file=str(path), **where))


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _count_parts(path: Path) -> int | None:
    """The number of parts zipfile would list, counted in the zip's central directory before
    `zipfile` builds an object per part (None when there is no end record: zipfile then reports the
    file as not a zip). zipfile lists every entry within the directory's declared byte size, whatever
    count the end record declares, so the entries are walked here; a directory too large for
    `limits.MAX_ZIP_PARTS` entries is refused unread."""
    with open(path, "rb") as f:
        f.seek(0, 2)
        start = max(0, f.tell() - (22 + 65_535))  # the end record, then a comment of at most 64 KiB
        f.seek(start)
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return None
        count = int.from_bytes(tail[at + 10: at + 12], "little")
        size = int.from_bytes(tail[at + 12: at + 16], "little")
        directory_end = start + at
        if tail[max(0, at - 20): at - 16] == b"PK\x06\x07":  # zip64: zipfile takes the zip64 record's values
            record = tail[max(0, at - 76): at - 20]
            if record[:4] != b"PK\x06\x06":
                return None
            count, size = int.from_bytes(record[32:40], "little"), int.from_bytes(record[40:48], "little")
            directory_end -= 76
        if count > MAX_ZIP_PARTS:
            return count
        if size > MAX_ZIP_PARTS * _ENTRY_BYTES:
            raise _problem(path, f"the workbook's zip directory is {size:,} bytes, room for more than "
                                 f"{MAX_ZIP_PARTS:,} parts; at most {MAX_ZIP_PARTS:,} are read (limits.MAX_ZIP_PARTS)")
        if size > directory_end:
            return None  # zipfile reports it as damaged
        f.seek(directory_end - size)
        directory = f.read(size)
    parts, pos = 0, 0
    while pos + 46 <= len(directory) and directory[pos: pos + 4] == b"PK\x01\x02":  # as zipfile walks it
        parts += 1
        pos += 46 + sum(int.from_bytes(directory[pos + k: pos + k + 2], "little") for k in (28, 30, 32))
    return parts


def _check_archive(path: Path) -> dict[str, int]:
    """The declared size of each part; refuse a file that is not a zip, or whose parts would unpack
    beyond the limits."""
    parts = _count_parts(path)
    if parts is not None and parts > MAX_ZIP_PARTS:
        raise _problem(path, f"the workbook has {parts:,} parts; at most {MAX_ZIP_PARTS:,} are read "
                             "(limits.MAX_ZIP_PARTS)")
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = {p.filename: p.file_size for p in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise _problem(path, f"cannot read as an Excel workbook: {e}") from None
    total = sum(sizes.values())
    if total > MAX_UNZIPPED_BYTES:
        raise _problem(path, f"the workbook's parts unpack to {_mib(total)}; at most {_mib(MAX_UNZIPPED_BYTES)} are "
                             "read (limits.MAX_UNZIPPED_BYTES)")
    for name in sizes:
        base = name.rsplit("/", 1)[-1]
        bound, what = ((MAX_STRUCTURE_BYTES, "MAX_STRUCTURE_BYTES") if base.endswith(".rels")
                       or base.startswith(("workbook", "[Content_Types]")) else
                       (MAX_SHARED_STRINGS_BYTES, "MAX_SHARED_STRINGS_BYTES") if base.startswith("sharedStrings") else
                       (MAX_STYLES_BYTES, "MAX_STYLES_BYTES") if base.startswith("styles") else (None, ""))
        if bound is not None:
            _check_part(path, sizes, name, bound, what)
    return sizes


def _check_part(path: Path, sizes: dict[str, int], name: str | None, bound: int, what: str) -> None:
    """Refuse part `name` when it unpacks beyond `bound` (the limit named `what`)."""
    if name is not None and sizes.get(name, 0) > bound:
        raise _problem(path, f"the workbook's part {quote(name)} unpacks to {_mib(sizes[name])}; at most "
                             f"{_mib(bound)} are read (limits.{what})")


def _stream(archive: zipfile.ZipFile, name: str, start: Callable, end: Callable, text: Callable | None,
            ready: list | None = None) -> Iterator:
    """Feed part `name` to expat with these handlers; between chunks, yield what `ready` collected."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    if text is not None:
        parser.CharacterDataHandler = text
    with archive.open(name) as src:
        while chunk := src.read(_CHUNK):
            parser.Parse(chunk, False)
            if ready:
                yield from ready
                ready.clear()
        parser.Parse(b"", True)
    if ready:
        yield from ready


class _Text:
    """The text of <t> elements under the current string (<si> or <is>), except phonetic runs (<rPh>)."""

    def __init__(self):
        self.parts: list[str] | None = None  # collecting when not None
        self.phonetic = 0

    def start(self, name: str) -> None:
        if name == _NS + "rPh":
            self.phonetic += 1
        elif name == _NS + "t" and not self.phonetic:
            self.parts = []

    def end(self, name: str) -> str | None:
        """The text of a <t> that ends here (to be added to the string), else None."""
        if name == _NS + "rPh":
            self.phonetic -= 1
        elif name == _NS + "t" and self.parts is not None:
            text, self.parts = "".join(self.parts), None
            return text
        return None

    def data(self, data: str) -> None:
        if self.parts is not None:
            self.parts.append(data)


def _shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    strings: list[str] = []
    texts, current = _Text(), []

    def start(tag, attrs):
        if tag == _NS + "si":
            current.clear()
        texts.start(tag)

    def end(tag):
        t = texts.end(tag)
        if t is not None:
            current.append(t)
        elif tag == _NS + "si":
            strings.append("".join(current).replace("x005F_", ""))  # as openpyxl reads them

    for _ in _stream(archive, name, start, end, texts.data):
        pass
    return strings


@lru_cache(maxsize=256)
def _kind(code: str) -> tuple[bool, bool]:
    from openpyxl.styles.numbers import is_date_format, is_timedelta_format

    return is_date_format(code), is_timedelta_format(code)


def _date_styles(archive: zipfile.ZipFile, name: str) -> tuple[set[int], set[int]]:
    """The cell styles (indices into cellXfs) whose number format is a date, and a duration."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    custom: dict[int, str] = {}
    dates: set[int] = set()
    durations: set[int] = set()
    where = {"xfs": False, "index": 0}

    def start(tag, attrs):
        if tag == _NS + "numFmt":
            custom[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "General")
        elif tag == _NS + "cellXfs":
            where["xfs"] = True
        elif tag == _NS + "xf" and where["xfs"]:
            fmt = int(attrs.get("numFmtId", 0))
            date, duration = _kind(custom.get(fmt) or BUILTIN_FORMATS.get(fmt, "General"))
            if date:
                dates.add(where["index"])
            if duration:
                durations.add(where["index"])
            where["index"] += 1

    def end(tag):
        if tag == _NS + "cellXfs":
            where["xfs"] = False

    for _ in _stream(archive, name, start, end, None):
        pass
    return dates, durations


def _column_number(ref: str) -> int:
    n = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            n = n * 26 + ord(ch) - 64
        elif ch.isdigit():
            break
        else:
            raise ValueError(f"bad cell reference {quote(ref)}")
    return n


class _Sheet:
    """expat handlers turning a worksheet into (row number, {column: value}) for each row holding a value."""

    def __init__(self, strings: list[str], dates: set[int], durations: set[int], epoch,
                 beyond: Callable[[int, int, object], None]):
        self.strings, self.dates, self.durations, self.epoch, self.beyond = strings, dates, durations, epoch, beyond
        self.ready: list[tuple[int, dict[int, object]]] = []
        self.problems: list[Problem] = []  # cells written twice
        self.row, self.column, self.values, self.seen = 0, 0, {}, set()
        self.kind, self.style, self.v, self.inline = "n", 0, None, None
        self.texts = _Text()

    def start(self, tag, attrs):
        if tag == _NS + "c":
            ref = attrs.get("r")
            self.column = _column_number(ref) if ref else self.column + 1
            if self.column in self.seen and len(self.problems) < MAX_COLUMNS:  # one would be lost; bounded
                from openpyxl.utils import get_column_letter

                letter = get_column_letter(self.column) if self.column <= 18_278 else str(self.column)
                self.problems.append(Problem(
                    f"cell {quote(ref or letter + str(self.row))} is written more than once in the sheet (a cell "
                    "holds one value); open it in Excel and save it again", file=str(self.beyond.path), line=self.row,
                    column=letter))
            self.seen.add(self.column)
            self.kind, self.style, self.v, self.inline = attrs.get("t", "n"), int(attrs.get("s", 0)), None, None
        elif tag == _NS + "v":
            self.v = []
        elif tag == _NS + "is":
            self.inline = []
        elif tag == _NS + "row":
            r = attrs.get("r")
            self.row, self.column, self.values, self.seen = (int(r) if r else self.row + 1), 0, {}, set()
        elif self.inline is not None:
            self.texts.start(tag)

    def end(self, tag):
        if tag == _NS + "c":
            value = self.value()
            if value is not None and not (isinstance(value, str) and not value.strip()):
                if self.column <= MAX_COLUMNS:
                    self.values[self.column] = value
                else:
                    self.beyond(self.row, self.column, value)
        elif tag == _NS + "v" and isinstance(self.v, list):
            self.v = "".join(self.v)
        elif tag == _NS + "row":
            if self.values:
                self.ready.append((self.row, self.values))
        elif self.inline is not None:
            t = self.texts.end(tag)
            if t is not None:
                self.inline.append(t)

    def data(self, data):
        if isinstance(self.v, list):
            self.v.append(data)
        elif self.inline is not None:
            self.texts.data(data)

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


def read_xlsx(path: Path, sheet: str | None) -> Table:
    """The raw table of a sheet (the first worksheet by default) of an .xlsx workbook."""
    from openpyxl.packaging.relationship import get_rels_path
    from openpyxl.reader.excel import ExcelReader, _find_workbook_part
    from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS

    sizes = _check_archive(path)
    try:
        reader = ExcelReader(path, read_only=True, data_only=True, keep_links=False)
    except Exception as e:
        raise _problem(path, f"cannot read as an Excel workbook: {_reason(e)}") from None
    archive, step = reader.archive, "the structure"
    try:
        try:
            reader.read_manifest()
            # The workbook part is parsed whole, with its relationships, under whatever name the
            # manifest gives it: bound it by that name (the names checked before are only the usual ones).
            book = _find_workbook_part(reader.package).PartName[1:]
            for part in (book, get_rels_path(book)):
                _check_part(path, sizes, part, MAX_STRUCTURE_BYTES, "MAX_STRUCTURE_BYTES")
            reader.read_workbook()
            worksheets = {s.name: rel.target for s, rel in reader.parser.find_sheets()
                          if rel.target in sizes and "chartsheet" not in rel.Type}
            if not worksheets:
                raise _problem(path, "the workbook has no worksheet; expected a sheet with a header row with "
                                     + ", ".join(REQUIRED))
            if sheet is not None and sheet not in worksheets:
                raise _problem(path, f"no sheet named {quote(sheet)}; the sheets are "
                                     + ", ".join(quote(w) for w in worksheets))
            step = "the shared strings"
            part = reader.package.find(SHARED_STRINGS)
            name = part.PartName[1:] if part is not None else None
            _check_part(path, sizes, name, MAX_SHARED_STRINGS_BYTES, "MAX_SHARED_STRINGS_BYTES")
            strings = _shared_strings(archive, name) if name in sizes else []
            step = "the styles"
            dates, durations = _date_styles(archive, ARC_STYLE) if ARC_STYLE in sizes else (set(), set())
        except InputError:
            raise
        except Exception as e:  # openpyxl and expat raise many types for a corrupt file
            raise _problem(path, f"cannot read {step} of the workbook: {_reason(e)}") from None
        name = sheet if sheet is not None else next(iter(worksheets))
        if sizes[worksheets[name]] > MAX_SHEET_BYTES:
            raise _problem(path, f"sheet {quote(name)} unpacks to {_mib(sizes[worksheets[name]])}; at most "
                                 f"{_mib(MAX_SHEET_BYTES)} are read (limits.MAX_SHEET_BYTES)")
        beyond = _Beyond(path)
        handlers = _Sheet(strings, dates, durations, reader.wb.epoch, beyond)
        try:
            rows = _stream(archive, worksheets[name], handlers.start, handlers.end, handlers.data, handlers.ready)
            return _table(path, rows, lambda: beyond.problems + handlers.problems)
        except InputError:
            raise
        except Exception as e:  # truncated or malformed XML, a bad shared-string index, a bad number
            raise _problem(path, f"sheet {quote(name)} is damaged ({_reason(e)}); open it in Excel and save it again",
                           line=handlers.row or None) from None
    finally:
        archive.close()


class _Beyond:
    """Reports the first value beyond `MAX_COLUMNS` (once: the rest are as far out)."""

    def __init__(self, path: Path):
        self.path, self.problems = path, []

    def __call__(self, row: int, column: int, value: object) -> None:
        from openpyxl.utils import get_column_letter

        if not self.problems:
            self.problems.append(Problem(
                f"a value in column {get_column_letter(column)}, beyond column {get_column_letter(MAX_COLUMNS)}; at "
                f"most {MAX_COLUMNS:,} columns are read (limits.MAX_COLUMNS)", file=str(self.path), line=row,
                column=get_column_letter(column), value=str(value)[:80]))


def _table(path: Path, rows_in: Iterator[tuple[int, dict[int, object]]], found: Callable[[], list[Problem]]) -> Table:
    """The table of the sheet's rows: the first is the header; at most `MAX_ROWS` data rows. Values
    in a column the header does not name are reported; `found()` are the problems met while streaming."""
    from openpyxl.utils import get_column_letter

    file = str(path)
    header, header_line, rows, problems = None, 1, [], []
    count, first_excess, unnamed = 0, None, None
    for r, values in rows_in:
        if header is None:
            header_line = r
            header = ["" if values.get(j) is None else str(values[j]) for j in range(1, max(values) + 1)]
            columns = [(j, h, f"{get_column_letter(j + 1)} ({h})") for j, h in enumerate(header) if normalize_column(h)]
            named = {j + 1 for j, _, _ in columns}
            unnamed = Unnamed(file, header_line)
            continue
        count += 1
        if count > MAX_ROWS:
            first_excess = first_excess or r
            continue
        row = {}
        for j, h, label in columns:
            value = values.get(j + 1)
            if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
                problems.append(long_cell(value, file, r, label))
                value = value[:MAX_CELL_CHARS]
            row[h] = Cell(value, r, label)
        rows.append(row)
        for j in values.keys() - named:  # a value beyond the last name, or under a blank one, would be lost
            unnamed.add(get_column_letter(j), r, values[j])
    if header is None:
        raise _problem(path, "the sheet is empty; expected a header row with " + ", ".join(REQUIRED))
    if first_excess is not None:
        problems.append(too_many_rows(count, "sheet", file, first_excess))
    return Table(file, rows, header_line, problems=found() + problems + unnamed.problems(), header=header)


def _reason(e: Exception) -> str:
    """An exception as a short reason: openpyxl wraps the XML error in a paragraph of advice."""
    cause = e.__cause__ or e
    text = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return text[:200]

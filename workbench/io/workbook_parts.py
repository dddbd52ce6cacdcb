"""The parts of an .xlsx package other than the sheet: the zip archive checked before anything is
inflated, and the shared strings and styles streamed with expat (see `workbench.io.workbook`).

The zip directory's declared sizes are checked before anything is inflated (Python's zipfile
inflates no part beyond its declared size): all parts within `limits.MAX_UNZIPPED_BYTES`, and each
part that is read within a bound of its own. The shared strings and the styles (which cells are
dates) are streamed, holding no XML tree: openpyxl keeps every element of the shared strings until
the end and builds an object per style.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from xml.parsers import expat

from ..errors import InputError, Problem, quote
from ..limits import (
    MAX_SHARED_STRINGS_BYTES,
    MAX_STRUCTURE_BYTES,
    MAX_STYLES_BYTES,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_PARTS,
)

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main "  # expat: "namespace local-name"
_CHUNK = 1 << 16
_ENTRY_BYTES = 46 + 256  # a central-directory entry with a generous name: bounds the directory zipfile reads


def problem(path: Path, message: str, **where) -> InputError:
    """An `InputError` of one problem with the workbook at `path`."""
    return InputError(Problem(message, file=str(path), **where))


def mib(n: int) -> str:
    """A byte count in MiB, as the limits' messages give it."""
    return f"{n / 2**20:,.0f} MiB"


def count_parts(path: Path) -> int | None:
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
            raise problem(path, f"the workbook's zip directory is {size:,} bytes, room for more than "
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


def check_archive(path: Path) -> dict[str, int]:
    """The declared size of each part; refuse a file that is not a zip, or whose parts would unpack
    beyond the limits."""
    parts = count_parts(path)
    if parts is not None and parts > MAX_ZIP_PARTS:
        raise problem(path, f"the workbook has {parts:,} parts; at most {MAX_ZIP_PARTS:,} are read "
                             "(limits.MAX_ZIP_PARTS)")
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = {p.filename: p.file_size for p in archive.infolist()}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise problem(path, f"cannot read as an Excel workbook: {e}") from None
    total = sum(sizes.values())
    if total > MAX_UNZIPPED_BYTES:
        raise problem(path, f"the workbook's parts unpack to {mib(total)}; at most {mib(MAX_UNZIPPED_BYTES)} are "
                             "read (limits.MAX_UNZIPPED_BYTES)")
    for name in sizes:
        base = name.rsplit("/", 1)[-1]
        bound, what = ((MAX_STRUCTURE_BYTES, "MAX_STRUCTURE_BYTES") if base.endswith(".rels")
                       or base.startswith(("workbook", "[Content_Types]")) else
                       (MAX_SHARED_STRINGS_BYTES, "MAX_SHARED_STRINGS_BYTES") if base.startswith("sharedStrings") else
                       (MAX_STYLES_BYTES, "MAX_STYLES_BYTES") if base.startswith("styles") else (None, ""))
        if bound is not None:
            check_part(path, sizes, name, bound, what)
    return sizes


def check_part(path: Path, sizes: dict[str, int], name: str | None, bound: int, what: str) -> None:
    """Refuse part `name` when it unpacks beyond `bound` (the limit named `what`)."""
    if name is not None and sizes.get(name, 0) > bound:
        raise problem(path, f"the workbook's part {quote(name)} unpacks to {mib(sizes[name])}; at most "
                             f"{mib(bound)} are read (limits.{what})")


def stream(archive: zipfile.ZipFile, name: str, start: Callable, end: Callable, text: Callable | None,
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


class Text:
    """The text of <t> elements under the current string (<si> or <is>), except phonetic runs (<rPh>)."""

    def __init__(self):
        self.parts: list[str] | None = None  # collecting when not None
        self.phonetic = 0

    def start(self, name: str) -> None:
        if name == NS + "rPh":
            self.phonetic += 1
        elif name == NS + "t" and not self.phonetic:
            self.parts = []

    def end(self, name: str) -> str | None:
        """The text of a <t> that ends here (to be added to the string), else None."""
        if name == NS + "rPh":
            self.phonetic -= 1
        elif name == NS + "t" and self.parts is not None:
            text, self.parts = "".join(self.parts), None
            return text
        return None

    def data(self, data: str) -> None:
        if self.parts is not None:
            self.parts.append(data)


def shared_strings(archive: zipfile.ZipFile, name: str) -> list[str]:
    """The workbook's shared strings, in order (a string cell holds an index into them)."""
    strings: list[str] = []
    texts, current = Text(), []

    def start(tag, attrs):
        if tag == NS + "si":
            current.clear()
        texts.start(tag)

    def end(tag):
        t = texts.end(tag)
        if t is not None:
            current.append(t)
        elif tag == NS + "si":
            strings.append("".join(current).replace("x005F_", ""))  # as openpyxl reads them

    for _ in stream(archive, name, start, end, texts.data):
        pass
    return strings


@lru_cache(maxsize=256)
def _kind(code: str) -> tuple[bool, bool]:
    from openpyxl.styles.numbers import is_date_format, is_timedelta_format

    return is_date_format(code), is_timedelta_format(code)


def date_styles(archive: zipfile.ZipFile, name: str) -> tuple[set[int], set[int]]:
    """The cell styles (indices into cellXfs) whose number format is a date, and a duration."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS

    custom: dict[int, str] = {}
    dates: set[int] = set()
    durations: set[int] = set()
    where = {"xfs": False, "index": 0}

    def start(tag, attrs):
        if tag == NS + "numFmt":
            custom[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "General")
        elif tag == NS + "cellXfs":
            where["xfs"] = True
        elif tag == NS + "xf" and where["xfs"]:
            fmt = int(attrs.get("numFmtId", 0))
            date, duration = _kind(custom.get(fmt) or BUILTIN_FORMATS.get(fmt, "General"))
            if date:
                dates.add(where["index"])
            if duration:
                durations.add(where["index"])
            where["index"] += 1

    def end(tag):
        if tag == NS + "cellXfs":
            where["xfs"] = False

    for _ in stream(archive, name, start, end, None):
        pass
    return dates, durations

"""Catalogue: the CSV and .xlsx readers never lose a row and never exhaust the machine.

Each malicious file is built here, in tmp_path (crafted workbooks: a real one from openpyxl with
parts rewritten through zipfile). Boundedness is proven by the time and the tracemalloc peak of
the read, under an alarm that interrupts a read that would run away (as it did before).
"""

from __future__ import annotations

import datetime
import io
import re
import signal
import time
import tracemalloc
import zipfile
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest

from workbench import cli, limits
from workbench.errors import InputError, Problem
from workbench.io import delimited
from workbench.io import table as table_module
from workbench.io import workbook as workbook_module
from workbench.io.read import load_portfolio

HEADER = "id,name,reach,impact,confidence,effort,notes"
MB = 2**20


def rows(n: int, start: int = 0) -> str:
    return "".join(f"i{k},Name {k},{100 + k},1,80%,2,ok\n" for k in range(start, start + n))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(InputError) as info:
        load_portfolio(path, **kwargs)
    return [str(p) for p in info.value.problems]


@contextmanager
def bounded(seconds: float, megabytes: float):
    """Fail when the block takes longer than `seconds` (interrupting it) or allocates a peak of more
    than `megabytes` (tracemalloc)."""
    def alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / MB
        tracemalloc.stop()
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert elapsed < seconds and peak < megabytes, (elapsed, peak)


def run(args: list[str], capsys) -> tuple[int, str]:
    """`workbench ARGS` in this process (the CLI's own main): exit code and stderr."""
    code = cli.main(args)
    return code, capsys.readouterr().err


# --- CSV: quoting errors are reported, never swallowed -----------------------------------------


def test_a_stray_quote_that_is_never_closed_is_reported_where_it_opens(tmp_path):
    body = rows(50).splitlines(keepends=True)
    body[2] = body[2].replace(",ok", ',"oops, a stray quote')  # i2 on line 4: the rest of the file is one cell
    path = write(tmp_path / "p.csv", HEADER + "\n" + "".join(body))
    assert problems(path) == [
        f"{path}:4: column 7 (notes): a double quote opens this cell and is never closed; the rest of the file "
        "would be read as one cell; remove the stray quote, or close the cell with another"
    ]


def test_a_quote_that_swallows_rows_is_reported_with_the_lines(tmp_path):
    body = rows(50).splitlines(keepends=True)
    body[2] = body[2].replace(",ok", ',"oops')  # closed by the quote on line 12
    body[10] = body[10].replace(",ok", ',he said "hi" twice')
    path = write(tmp_path / "p.csv", HEADER + "\n" + "".join(body))
    assert problems(path) == [
        f"{path}:4: column 7 (notes): a double quote opens this cell and it runs on to line 12, over line 5 which "
        "looks like a row of its own; lines 4 to 12 would be read as one cell; remove the stray quote (inside a "
        'quoted cell, write a quote as "")'
    ]


def test_legitimate_quoted_cells_still_read(tmp_path):
    text = (HEADER + "\n"
            + 'a,"Alpha, the first",1,1,1,"pert(1, 2, 4)","a note\non three lines, with a comma\nand ""quotes"""\n'
            + 'b,B,2,1,1,1,"said ""hi"" then"left\n'
            + "c,C,3,1,1,1,6\" tall\n")
    p = load_portfolio(write(tmp_path / "p.csv", text))
    assert p.ids == ["a", "b", "c"]
    assert p["a"].name == "Alpha, the first"
    assert p["a"].effort.params == (1, 2, 4)
    assert p["a"].extra["notes"] == 'a note\non three lines, with a comma\nand "quotes"'
    assert p["b"].extra["notes"] == 'said "hi" thenleft'  # as the csv module reads it
    assert p["c"].extra["notes"] == '6" tall'


# --- CSV: limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [limits.MAX_CELL_CHARS + 1, 200_000])  # the second is over the csv module's limit
def test_a_cell_over_the_limit_is_located(tmp_path, length):
    path = write(tmp_path / "p.csv", HEADER + "\n" + rows(2) + "z,Z,1,1,1,1," + "x" * length + "\n")
    with bounded(2, 50):
        found = problems(path)
    assert found == [str(Problem(f"the cell has {length:,} characters; at most {limits.MAX_CELL_CHARS:,} are read "
                                 "(limits.MAX_CELL_CHARS)", file=str(path), line=4, column="7 (notes)", value="x" * 81))]


def small_row_limit(monkeypatch, rows: int = 100) -> int:
    """The readers' row limit made small, so that the test needs not build and validate 20,000 rows."""
    for module in (delimited, workbook_module, table_module):
        monkeypatch.setattr(module, "MAX_ROWS", rows, raising=False)  # absent before the limit existed
    return rows


def test_too_many_rows_are_reported_once_with_the_count(tmp_path, monkeypatch):
    limit = small_row_limit(monkeypatch)
    path = write(tmp_path / "p.csv", HEADER + "\n" + rows(limit + 5))
    found = problems(path)
    assert found == [f"{path}:{limit + 2}: the file has {limit + 5:,} rows of data; at most "
                     f"{limit:,} are read (limits.MAX_ROWS); split the portfolio into several files"]


def test_too_many_columns_are_reported_once_with_the_count(tmp_path):
    wide_header = write(tmp_path / "h.csv", HEADER + "," * 600 + "\n" + rows(1))
    assert problems(wide_header) == [f"{wide_header}:1: the header has 607 cells; at most {limits.MAX_COLUMNS:,} "
                                     "columns are read (limits.MAX_COLUMNS)"]
    wide_rows = write(tmp_path / "r.csv", HEADER + "\n" + rows(1) + "".join(f"{k},A,1,1,1,1,x" + ",y" * 2_000_000 + "\n" for k in "ab"))
    with bounded(2, 100):  # ~4 MB of separators: never split into 2 million cells
        found = problems(wide_rows)
    assert found == [f"{wide_rows}:3: the row has 2,000,007 cells; at most {limits.MAX_COLUMNS:,} columns are read "
                     "(limits.MAX_COLUMNS)"]


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as f:
        f.truncate(size)  # no data written: the file system holds a hole
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".yaml"])
def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path, suffix):
    path = sparse(tmp_path / f"p{suffix}", limits.MAX_FILE_BYTES + 1)
    with bounded(1, 5):  # nothing read: 50 MiB would show in the peak
        assert problems(path) == [f"{path}: the file is 50.0 MiB; at most 50 MiB are read (limits.MAX_FILE_BYTES)"]


def test_a_correlation_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "\n" + rows(2))
    corr = sparse(tmp_path / "p.correlations.csv", limits.MAX_FILE_BYTES + 1)
    with bounded(1, 5):
        assert problems(path) == [f"{corr}: the file is 50.0 MiB; at most 50 MiB are read (limits.MAX_FILE_BYTES)"]


def test_a_stray_quote_in_a_correlation_file_is_reported(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "\n" + rows(3))
    corr = write(tmp_path / "p.correlations.csv", 'a,b,rho\ni0.reach,i1.reach,"0.5\ni1.reach,i2.reach,0.3\n')
    assert problems(path) == [
        f"{corr}:2: column 3 (rho): a double quote opens this cell and is never closed; the rest of the file would "
        "be read as one cell; remove the stray quote, or close the cell with another"
    ]


# --- CSV: formula guards of files the package writes are read back --------------------------------


def test_guarded_cells_read_back_unchanged(tmp_path):
    text = (HEADER + ",link\n"
            "a,'=HYPERLINK(\"http://x.test\"),1,1,1,1,'+cmd|' /C calc'!A0,'@SUM(1)\n"
            "b,'-minus,1,1,1,1,''quoted,it's plain\n")
    p = load_portfolio(write(tmp_path / "p.csv", text))
    assert p["a"].name == '=HYPERLINK("http://x.test")'
    assert p["a"].extra == {"notes": "+cmd|' /C calc'!A0", "link": "@SUM(1)"}
    assert p["b"].name == "-minus"
    assert p["b"].extra == {"notes": "'quoted", "link": "it's plain"}


# --- XLSX -------------------------------------------------------------------------------------------

SHEET = "xl/worksheets/sheet1.xml"
XLSX_HEADER = ["id", "name", "reach", "impact", "confidence", "effort"]


def workbook(n: int = 10) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(XLSX_HEADER)
    for k in range(n):
        ws.append([f"i{k}", f"Name {k}", 100 + k, 1, 0.8, 2])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rewrite(data: bytes, path: Path, parts: dict[str, bytes]) -> Path:
    """The workbook `data` with some parts replaced or added, written to `path`."""
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename not in parts:
                out.writestr(info.filename, src.read(info.filename))
        for name, content in parts.items():
            out.writestr(name, content)
    return path


def sheet_xml(data: bytes) -> str:
    """The first sheet's XML, its empty value elements written `<v />` whichever serializer
    openpyxl used (its own writes `<v />`; with lxml installed it writes `<v></v>`)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return re.sub(r"<v\s*/>|<v></v>", "<v />", z.read("xl/worksheets/sheet1.xml").decode())


def with_dimension(xml: str, ref: str) -> str:
    changed = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>', xml)
    assert changed != xml
    return changed


@pytest.mark.parametrize("ref", ["A1:C2", "A1:F2"])  # the second dropped 9 rows silently
def test_xlsx_rows_outside_the_declared_dimension_are_read(tmp_path, ref):
    data = workbook(10)
    path = rewrite(data, tmp_path / "p.xlsx", {SHEET: with_dimension(sheet_xml(data), ref).encode()})
    p = load_portfolio(path)
    assert p.ids == [f"i{k}" for k in range(10)]
    assert [i.reach.median() for i in p] == [100 + k for k in range(10)]


def test_xlsx_declared_as_the_whole_sheet_reads_in_bounded_time(tmp_path):
    data = workbook(10)
    last = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is></c></row></sheetData>'
    xml = with_dimension(sheet_xml(data), "A1:XFD1048576").replace("</sheetData>", last)
    path = rewrite(data, tmp_path / "p.xlsx", {SHEET: xml.encode()})
    assert path.stat().st_size < 10_000
    with bounded(2, 50):  # a million rows padded to 16,384 cells each before
        p = load_portfolio(path)
    assert len(p) == 10


def test_xlsx_values_beyond_the_column_limit_are_reported(tmp_path):
    data = workbook(3)
    xml = sheet_xml(data).replace('</row><row r="3"',
                                  '<c r="XFD2" t="inlineStr"><is><t>far out</t></is></c></row><row r="3"')
    path = rewrite(data, tmp_path / "p.xlsx", {SHEET: with_dimension(xml, "A1:XFD4").encode()})
    with bounded(2, 50):
        found = problems(path)
    assert found == [str(Problem(f"a value in column XFD, beyond column SR; at most {limits.MAX_COLUMNS:,} columns "
                                 "are read (limits.MAX_COLUMNS)", file=str(path), line=2, column="XFD", value="far out"))]


SHARED_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def with_shared_strings(data: bytes, path: Path, sst: bytes, sheet: str | None = None) -> Path:
    """The workbook with a shared-strings part declared in its manifest (openpyxl loads it with the workbook)."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        types = z.read("[Content_Types].xml").decode().replace(
            "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SHARED_TYPE}"/></Types>')
    parts = {"xl/sharedStrings.xml": sst, "[Content_Types].xml": types.encode()}
    return rewrite(data, path, parts | ({SHEET: sheet.encode()} if sheet else {}))


@pytest.mark.parametrize("part, bound", [("xl/sharedStrings.xml", "MAX_SHARED_STRINGS_BYTES"),
                                         ("xl/styles.xml", "MAX_STYLES_BYTES")])
def test_xlsx_string_and_style_bombs_are_refused_before_loading(tmp_path, part, bound):
    data = workbook(2)
    limit = getattr(workbook_module, bound, 32 * MB if "Strings" in part else 8 * MB)
    if "Strings" in part:
        item = "<si><t>a</t></si>"
        xml = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + item * (limit // len(item))
               + item + "</sst>").encode()
        path = with_shared_strings(data, tmp_path / "p.xlsx", xml)
    else:  # a style per cell format: openpyxl builds an object for each
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            styles = z.read(part).decode()
        item = '<xf numFmtId="14"/>'
        xml = re.sub(r'<cellXfs count="\d+">', lambda m: m.group() + item * (limit // len(item) + 1), styles).encode()
        path = rewrite(data, tmp_path / "p.xlsx", {part: xml})
    assert path.stat().st_size < 200_000
    with bounded(2, 50):
        found = problems(path)
    assert found == [f"{path}: the workbook's part {part!r} unpacks to {len(xml) / MB:,.0f} MiB; at most "
                     f"{limit / MB:,.0f} MiB are read (limits.{bound})"]


def test_xlsx_values_read_as_openpyxl_reads_them(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(XLSX_HEADER + ["due", "flag", "ratio", "note"])
    ws.append(["a", "Alpha", 1_234_567, 2, 0.8, 1.5, datetime.date(2026, 3, 31), True, 1e-7, "x"])
    ws.append(["b", "Beta", 10, 1, 1, 2, datetime.datetime(2026, 1, 2, 3, 4), False, 12.5, "y"])
    buf = io.BytesIO()
    wb.save(buf)
    xml = sheet_xml(buf.getvalue())
    # names and notes as shared strings (as Excel writes them), one with rich-text runs and a phonetic run
    sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Alpha</t></si>'
           '<si><r><t>Be</t></r><r><rPr><b/></rPr><t xml:space="preserve">ta </t></r><rPh sb="0" eb="1"><t>ベ</t>'
           "</rPh></si></sst>").encode()
    xml = xml.replace('<c r="B2" t="inlineStr"><is><t>Alpha</t></is></c>', '<c r="B2" t="s"><v>0</v></c>')
    xml = xml.replace('<c r="B3" t="inlineStr"><is><t>Beta</t></is></c>', '<c r="B3" t="s"><v>1</v></c>')
    path = with_shared_strings(buf.getvalue(), tmp_path / "p.xlsx", sst, xml)
    table = workbook_module.read_xlsx(path, None)
    full = openpyxl.load_workbook(path, data_only=True).active  # not read-only: the oracle
    expected = [[c.value for c in row] for row in full.iter_rows(min_row=2)]
    assert [[row[h].value if h in row else None for h in full_header(full)] for row in table.rows] == expected
    assert table.rows[1]["name"].value == "Beta "  # the runs, not the phonetic reading
    assert type(table.rows[0]["reach"].value) is int and table.rows[0]["reach"].value == 1_234_567


def full_header(ws) -> list[str]:
    return [c.value for c in next(ws.iter_rows(max_row=1))]


def declare_size(path: Path, name: str, size: int) -> Path:
    """Rewrite the uncompressed size the zip's central directory declares for part `name`."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")
    while raw[at + 46: at + 46 + int.from_bytes(raw[at + 28: at + 30], "little")] != name.encode():
        at = raw.index(b"PK\x01\x02", at + 4)
    raw[at + 24: at + 28] = size.to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    return path


def test_xlsx_whose_parts_unpack_beyond_the_limit_is_refused(tmp_path):
    path = rewrite(workbook(2), tmp_path / "p.xlsx", {})
    declare_size(path, SHEET, limits.MAX_UNZIPPED_BYTES + MB)  # what an inflating bomb declares
    with bounded(2, 50):
        found = problems(path)
    assert len(found) == 1 and found[0].startswith(f"{path}: the workbook's parts unpack to 201 MiB; at most 200 MiB")
    declare_size(path, SHEET, 65 * MB)  # within the total, but beyond what one sheet may hold
    with bounded(2, 50):
        assert problems(path) == [
            f"{path}: sheet 'Sheet' unpacks to 65 MiB; at most 64 MiB are read (limits.MAX_SHEET_BYTES)"]


def test_xlsx_damaged_inside_is_a_located_problem(tmp_path):
    data = workbook(10)
    xml = sheet_xml(data)
    inside_row_6 = xml.index("<c ", xml.index('<row r="6"')) + 5
    cut = rewrite(data, tmp_path / "cut.xlsx", {SHEET: xml[:inside_row_6].encode()})
    found = problems(cut)
    assert len(found) == 1 and re.fullmatch(
        rf"{re.escape(str(cut))}:6: sheet 'Sheet' is damaged \(.+\); open it in Excel and save it again", found[0])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book = z.read("xl/workbook.xml").decode()
    no_sheet = rewrite(data, tmp_path / "none.xlsx",
                       {"xl/workbook.xml": re.sub(r"<sheets>.*</sheets>", "<sheets/>", book).encode()})
    assert problems(no_sheet) == [f"{no_sheet}: the workbook has no worksheet; expected a sheet with a header row "
                                  "with id, name, reach, impact, confidence, effort"]


def test_xlsx_rows_count_towards_the_row_limit(tmp_path, monkeypatch):
    limit = small_row_limit(monkeypatch)
    data = workbook(1)
    xml = sheet_xml(data)
    head, tail = xml.split("<sheetData>")[0], xml.split("</sheetData>")[1]
    cells = "".join(f'<c r="{c}{{r}}" t="inlineStr"><is><t>{v}</t></is></c>' for c, v in zip("ABCDEF", XLSX_HEADER))
    body = [f'<row r="1">{cells.format(r=1)}</row>']
    body += [f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>i{r}</t></is></c><c r="B{r}" t="inlineStr"><is><t>N'
             f'</t></is></c><c r="C{r}"><v>1</v></c><c r="D{r}"><v>1</v></c><c r="E{r}"><v>1</v></c><c r="F{r}"><v>1'
             f"</v></c></row>" for r in range(2, limit + 4)]
    path = rewrite(data, tmp_path / "p.xlsx",
                   {SHEET: (head + "<sheetData>" + "".join(body) + "</sheetData>" + tail).encode()})
    assert problems(path) == [f"{path}:{limit + 2}: the sheet has {limit + 2:,} rows of data; at "
                              f"most {limit:,} are read (limits.MAX_ROWS); split the portfolio into several "
                              "files"]


# --- through the CLI: exit 2 and the located message, never "internal error" -----------------------


def test_the_cli_reports_reader_problems_with_exit_2(tmp_path, capsys):
    big = write(tmp_path / "big.csv", HEADER + "\n" + rows(1) + "z,Z,1,1,1,1," + "x" * 200_000 + "\n")
    code, err = run(["score", str(big)], capsys)
    assert (code, err.splitlines()) == (2, [str(Problem(
        "the cell has 200,000 characters; at most 32,767 are read (limits.MAX_CELL_CHARS)", file=str(big), line=3,
        column="7 (notes)", value="x" * 81))])
    data = workbook(10)
    xml = sheet_xml(data)
    cut = rewrite(data, tmp_path / "cut.xlsx", {SHEET: xml[: len(xml) // 2].encode()})
    code, err = run(["score", str(cut)], capsys)
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"{cut}:")
    assert "sheet 'Sheet' is damaged" in err and "internal error" not in err


def test_xlsx_with_more_parts_than_the_limit_is_refused_before_listing_them(tmp_path):
    """zipfile builds an object per part: a 50 MB zip of empty parts (~1M) would take ~300 MB before
    any size check, so the count in the zip's end record is checked first."""
    import tracemalloc

    from workbench.limits import MAX_ZIP_PARTS

    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(MAX_ZIP_PARTS + 1):
            z.writestr(f"x/{i}", b"")
    tracemalloc.start()
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(info.value) == f"{path}: the workbook has {MAX_ZIP_PARTS + 1:,} parts; at most {MAX_ZIP_PARTS:,} are read (limits.MAX_ZIP_PARTS)"
    assert peak < 2 * 2**20


# --- review fixes: rows that leave out empty cells, lying zip directories, renamed parts, lost cells ---


def test_a_stray_quote_over_rows_that_leave_out_trailing_empty_cells_is_reported(tmp_path):
    """The rows after the stray quote have 6 cells of the header's 8: they still look like rows."""
    text = ("id,name,reach,impact,confidence,effort,notes,team\n"
            'a,A,100,1,0.8,2,"oops\n'
            "b,B,100,1,0.8,2\n"
            "c,C,100,1,0.8,2\n"
            'd,D,100,1,0.8,2,"n"\n')
    path = write(tmp_path / "p.csv", text)
    assert problems(path) == [
        f"{path}:2: column 7 (notes): a double quote opens this cell and it runs on to line 5, over line 3 which "
        "looks like a row of its own; lines 2 to 5 would be read as one cell; remove the stray quote (inside a "
        'quoted cell, write a quote as "")']
    fixed = write(tmp_path / "ok.csv", text.replace('"oops', "oops"))
    assert load_portfolio(fixed).ids == ["a", "b", "c", "d"]


def test_a_value_under_a_blank_csv_header_is_reported(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,reach,impact,confidence,effort,,notes\n"
                                     "a,A,1,1,1,1,,n\nb,B,1,1,1,1,lost,n\nc,C,1,1,1,1,also lost,n\n")
    assert problems(path) == [
        f"{path}:3: column 7: 'lost': a value in a column with no name in the header (line 1), and 1 more below "
        "it; give this column a name or delete the value"]


def test_a_header_name_with_a_line_break_is_quoted_in_one_line(tmp_path):
    path = write(tmp_path / "p.csv", 'id,name,"re\nach",impact,confidence,effort\na,A,1,1,1,1\n')
    assert problems(path) == [f"{path}:1: 're\\nach': missing required column 'reach' (found: 'id', 'name', "
                              "'re\\nach', 'impact', 'confidence', 'effort'); to read one of them as reach, map it "
                              "('reach: <its header>' under 'columns:') in p.columns.yaml beside the file or in a file "
                              "given with --columns; did you mean 're\\nach'? (fix: 'reach')"]


def end_record_count(path: Path, count: int) -> Path:
    """Rewrite the number of parts the zip's end record declares (on this disk and in all)."""
    raw = bytearray(path.read_bytes())
    at = raw.rindex(b"PK\x05\x06")
    raw[at + 8: at + 12] = count.to_bytes(2, "little") * 2
    path.write_bytes(bytes(raw))
    return path


def test_xlsx_whose_end_record_understates_its_parts_is_refused(tmp_path):
    """zipfile lists every entry within the directory's byte size, whatever count the end record says."""
    path = tmp_path / "parts.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for i in range(20_009):
            z.writestr(f"x/{i}", b"")
    end_record_count(path, 9)
    with bounded(5, 4):
        found = problems(path)
    assert found == [f"{path}: the workbook has 20,009 parts; at most {limits.MAX_ZIP_PARTS:,} are read "
                     "(limits.MAX_ZIP_PARTS)"]


def test_xlsx_whose_zip_directory_is_too_large_for_the_part_limit_is_refused_unread(tmp_path):
    path = tmp_path / "names.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:  # 3,000 parts with 2,000-character names
        for i in range(3_000):
            z.writestr(f"{i:05}" + "n" * 2_000, b"")
    end_record_count(path, 9)
    size = 3_000 * (46 + 2_005)
    with bounded(5, 4):
        found = problems(path)
    assert found == [f"{path}: the workbook's zip directory is {size:,} bytes, room for more than "
                     f"{limits.MAX_ZIP_PARTS:,} parts; at most {limits.MAX_ZIP_PARTS:,} are read (limits.MAX_ZIP_PARTS)"]


def renamed_book(data: bytes, path: Path, pad: int) -> Path:
    """The workbook with its workbook part renamed to xl/book.xml (manifest and relationships updated),
    padded with `pad` spaces."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        book, book_rels = z.read("xl/workbook.xml").decode(), z.read("xl/_rels/workbook.xml.rels")
        types = z.read("[Content_Types].xml").decode().replace("/xl/workbook.xml", "/xl/book.xml")
        rels = z.read("_rels/.rels").decode().replace("xl/workbook.xml", "xl/book.xml")
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename not in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml",
                                     "_rels/.rels"):
                out.writestr(info.filename, src.read(info.filename))
        out.writestr("[Content_Types].xml", types)
        out.writestr("_rels/.rels", rels)
        out.writestr("xl/_rels/book.xml.rels", book_rels)
        out.writestr("xl/book.xml", book.replace("<sheets>", " " * pad + "<sheets>", 1))
    return path


def test_xlsx_workbook_part_under_another_name_is_bounded(tmp_path):
    data = workbook(2)
    assert load_portfolio(renamed_book(data, tmp_path / "ok.xlsx", 0)).ids == ["i0", "i1"]
    path = renamed_book(data, tmp_path / "p.xlsx", 3 * MB)
    with bounded(5, 20):
        found = problems(path)
    assert len(found) == 1 and found[0].startswith(
        f"{path}: the workbook's part 'xl/book.xml' unpacks to 3 MiB; at most 2 MiB are read "
        "(limits.MAX_STRUCTURE_BYTES)")


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def test_xlsx_values_in_columns_the_header_does_not_name_are_reported(tmp_path):
    data = workbook(3)
    xml = sheet_xml(data)
    xml = xml.replace("</row>", cell("H1", "notes") + "</row>", 1)  # G1 is blank
    xml = xml.replace('</row><row r="3"', cell("G2", "under a blank") + '</row><row r="3"')
    xml = xml.replace('</row><row r="4"', cell("G3", "again") + cell("K3", "beyond") + '</row><row r="4"')
    path = rewrite(data, tmp_path / "p.xlsx", {SHEET: xml.encode()})
    assert problems(path) == [
        f"{path}:2: column G: 'under a blank': a value in a column with no name in the header (line 1), and 1 more "
        "below it; give this column a name or delete the value",
        f"{path}:3: column K: 'beyond': a value in a column with no name in the header (line 1); give this column "
        "a name or delete the value"]


def test_xlsx_cell_written_twice_is_reported(tmp_path):
    data = workbook(2)
    xml = sheet_xml(data).replace('</row><row r="3"', cell("F2", "9") + '</row><row r="3"')
    path = rewrite(data, tmp_path / "p.xlsx", {SHEET: xml.encode()})
    assert problems(path) == [f"{path}:2: column F: cell 'F2' is written more than once in the sheet (a cell holds "
                              "one value); open it in Excel and save it again"]


def test_xlsx_negative_shared_string_index_is_a_problem(tmp_path):
    data = workbook(2)
    xml = sheet_xml(data).replace('<c r="B2" t="inlineStr"><is><t>Name 0</t></is></c>', '<c r="B2" t="s"><v>-1</v></c>')
    sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>first</t></si>'
           b"<si><t>last</t></si></sst>")
    path = with_shared_strings(data, tmp_path / "p.xlsx", sst, xml)
    assert problems(path) == [f"{path}:2: sheet 'Sheet' is damaged (shared string -1 does not exist); open it in "
                              "Excel and save it again"]

"""What Excel shows that a cell's value does not say: formulas with no saved result, merged cells,
hidden rows and columns, and `--sheet` naming a sheet that is not there. Each message exact."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from test_hardened_readers import SHEET, bounded, problems, rewrite, sheet_xml
from test_reader_fuzz import check, mutated

from workbench.io.read import load_portfolio, read_table

HEADER = ["id", "name", "reach", "impact", "confidence", "effort"]
SAVE = "open and save the file in Excel (it saves the results), or export it as CSV"


def book(rows: list[list], setup=None) -> bytes:
    """A workbook of `rows` under HEADER (openpyxl writes a formula with no saved result, as many tools do)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    if setup is not None:
        setup(ws)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def save(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path


def patched(data: bytes, path: Path, *changes: tuple[str, str]) -> Path:
    """The workbook with its sheet's XML changed (each change must apply)."""
    xml = sheet_xml(data)
    for old, new in changes:
        assert old in xml, old
        xml = xml.replace(old, new)
    return rewrite(data, path, {SHEET: xml.encode()})


def row(k: int, effort: object = 2) -> list:
    return [f"i{k}", f"Name {k}", 100, 1, 0.8, effort]


# --- formulas -----------------------------------------------------------------------------------


def test_a_formula_with_no_saved_result_is_named_instead_of_empty(tmp_path):
    path = save(book([row(0, "=2+1"), row(1, "=F2*2")]), tmp_path / "p.xlsx")
    assert problems(path) == [
        f"{path}:2: column F (effort): F2 holds the formula '=2+1' with no saved result: {SAVE}",
        f"{path}:3: column F (effort): F3 holds the formula '=F2*2' with no saved result: {SAVE}"]


def test_a_column_of_formulas_with_no_result_gives_one_located_problem_a_cell(tmp_path):
    path = save(book([row(k, f"=1+{k}") for k in range(15)]), tmp_path / "p.xlsx")
    found = problems(path)
    assert found == [f"{path}:{k + 2}: column F (effort): F{k + 2} holds the formula '=1+{k}' with no saved "
                     f"result: {SAVE}" for k in range(15)]


def test_a_formula_with_a_saved_result_reads_the_result(tmp_path):
    data = book([row(0, "=2+1"), row(1, 4)])
    path = patched(data, tmp_path / "p.xlsx", ("<f>2+1</f><v />", "<f>2+1</f><v>3</v>"))
    assert [i.effort.median() for i in load_portfolio(path)] == [3, 4]


def test_a_formula_whose_saved_result_is_empty_text_is_an_empty_cell(tmp_path):
    data = book([row(0) + ["=T(0)"]], lambda ws: ws.cell(1, 7, "team"))
    path = patched(data, tmp_path / "p.xlsx", ('<c r="G2"><f>T(0)</f><v /></c>', '<c r="G2" t="str"><f>T(0)</f><v></v></c>'))
    assert load_portfolio(path)["i0"].team is None


def shared(master: str, dependent: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """Patches making F2's formula `D2*2` shared down to F3, as Excel writes a filled-down formula."""
    return (('<c r="F2"><f>D2*2</f><v /></c>', f'<c r="F2"><f t="shared" ref="F2:F3" si="0">D2*2</f>{master}</c>'),
            ('<c r="F3"><f>D3*2</f><v /></c>', f'<c r="F3"><f t="shared" si="0"/>{dependent}</c>'))


def test_shared_formulas_with_saved_results_read_the_results(tmp_path):
    data = book([row(0, "=D2*2"), row(1, "=D3*2")])
    path = patched(data, tmp_path / "p.xlsx", *shared("<v>2</v>", "<v>2.5</v>"))
    assert [i.effort.median() for i in load_portfolio(path)] == [2, 2.5]


def test_shared_formulas_with_no_result_are_named_as_each_cell_reads_them(tmp_path):
    data = book([row(0, "=D2*2"), row(1, "=D3*2")])
    path = patched(data, tmp_path / "p.xlsx", *shared("", ""))
    assert problems(path) == [
        f"{path}:2: column F (effort): F2 holds the formula '=D2*2' with no saved result: {SAVE}",
        f"{path}:3: column F (effort): F3 holds the formula '=D3*2' with no saved result: {SAVE}"]


def test_a_cell_sharing_a_formula_it_cannot_find_names_the_sharing(tmp_path):
    data = book([row(0, 2), row(1, "=D3*2")])
    path = patched(data, tmp_path / "p.xlsx", ('<c r="F3"><f>D3*2</f><v /></c>', '<c r="F3"><f t="shared" si="7"/></c>'))
    assert problems(path) == [f"{path}:3: column F (effort): F3 holds a formula (shared with another cell) with no "
                              f"saved result: {SAVE}"]


def array(master: str, covered: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """Patches making F2:F3 one array formula `D2:D3*2` (its text in F2 only, as Excel writes it)."""
    return (('<c r="F2"><f>1</f><v /></c>', f'<c r="F2"><f t="array" ref="F2:F3">D2:D3*2</f>{master}</c>'),
            ('<c r="F3"><f>1</f><v /></c>', f'<c r="F3">{covered}</c>'))


def test_array_formulas_with_saved_results_read_the_results(tmp_path):
    data = book([row(0, "=1"), row(1, "=1")])
    path = patched(data, tmp_path / "p.xlsx", *array("<v>2</v>", "<v>3</v>"))
    assert [i.effort.median() for i in load_portfolio(path)] == [2, 3]


def test_an_array_formula_with_no_result_names_every_cell_it_fills(tmp_path):
    data = book([row(0, "=1"), row(1, "=1")])
    path = patched(data, tmp_path / "p.xlsx", *array("", ""))
    assert problems(path) == [
        f"{path}:2: column F (effort): F2 holds the formula '=D2:D3*2' with no saved result: {SAVE}",
        f"{path}:3: column F (effort): F3 is filled by the array formula '=D2:D3*2' of F2:F3, which has no saved "
        f"result: {SAVE}"]


def test_a_header_formula_with_no_result_is_named(tmp_path):
    data = book([row(0)], lambda ws: ws.cell(1, 7, '="no"&"tes"'))
    path = save(data, tmp_path / "p.xlsx")
    assert problems(path) == [f"{path}:1: column G: G1 holds the formula '=\"no\"&\"tes\"' with no saved result: "
                              f"{SAVE}"]


def test_a_formula_of_a_megabyte_is_named_within_bounds(tmp_path):
    data = book([row(0, "=1")])
    path = patched(data, tmp_path / "p.xlsx", ("<f>1</f>", "<f>" + "1+" * 500_000 + "1</f>"))
    with bounded(5, 50):
        found = problems(path)
    assert found == [f"{path}:2: column F (effort): F2 holds the formula '=" + "1+" * 39 + "…' with no saved "
                     f"result: {SAVE}"]


# --- merged cells --------------------------------------------------------------------------------


def merged(*refs: str):
    def setup(ws):
        for ref in refs:
            ws.merge_cells(ref)
    return setup


def test_merged_cells_over_rows_are_reported_once_instead_of_each_empty_cell(tmp_path):
    # openpyxl empties the other cells of a merged range, as Excel does
    path = save(book([row(0), row(1), row(2), row(3)], merged("B3:B4")), tmp_path / "p.xlsx")
    assert problems(path) == [f"{path}:3: column B (name): 'Name 1': cells B3:B4 are merged: only B3 holds a value, "
                              "the cells below it read as empty; unmerge them and fill each cell"]


def test_merged_cells_across_columns_and_blocks_are_reported(tmp_path):
    path = save(book([row(0), row(1), row(2)], merged("C2:D2", "B3:C4")), tmp_path / "p.xlsx")
    assert problems(path) == [
        f"{path}:2: column C (reach): '100': cells C2:D2 are merged: only C2 holds a value, the cells to its right "
        "read as empty; unmerge them and fill each cell",
        f"{path}:3: column B (name): 'Name 1': cells B3:C4 are merged: only B3 holds a value, the other cells read "
        "as empty; unmerge them and fill each cell"]


def test_a_merged_header_is_reported_with_the_values_it_leaves_unnamed(tmp_path):
    data = book([row(0) + ["a", "b"]], lambda ws: (ws.cell(1, 7, "notes"), ws.cell(1, 8, "more"),
                                                  ws.merge_cells("G1:H1")))
    path = save(data, tmp_path / "p.xlsx")
    assert problems(path) == [
        f"{path}:2: column H: 'b': a value in a column with no name in the header (line 1); give this column a name "
        "or delete the value",
        f"{path}:1: column G (notes): 'notes': cells G1:H1 are merged: only G1 holds a value, the cells to its right "
        "read as empty; unmerge them and give each column its own name"]


def test_merged_ranges_that_hide_no_value_are_not_reported(tmp_path):
    # an empty range (nothing is shown across it) and a range beside the table
    data = book([row(0), row(1)], merged("A5:B6", "J2:K3"))
    assert len(load_portfolio(save(data, tmp_path / "p.xlsx"))) == 2


def test_many_merged_ranges_are_reported_in_bounded_time_and_memory(tmp_path):
    data = book([row(0), row(1)])
    many = '<mergeCell ref="B2:B3"/>' * 30_000  # beyond the 10,000 kept; 300,000 read in 1.2 s (untraced)
    path = patched(data, tmp_path / "p.xlsx", ("</sheetData>", f'</sheetData><mergeCells count="30000">{many}'
                                                               "</mergeCells>"))
    with bounded(10, 60):
        found = problems(path)
    one = (f"{path}:2: column B (name): 'Name 0': cells B2:B3 are merged: only B2 holds a value, the cells below "
           "it read as empty; unmerge them and fill each cell")
    assert found == [one] * 20 + [f"{path}:2: 29,980 more merged ranges from here on; unmerge them and fill each cell"]


# --- hidden rows and columns ----------------------------------------------------------------------


def hide(rows=(), columns=()):
    def setup(ws):
        for r in rows:
            ws.row_dimensions[r].hidden = True
        for c in columns:
            ws.column_dimensions[c].hidden = True
    return setup


def test_hidden_rows_and_columns_are_read_and_noted_once(tmp_path):
    data = book([row(k) for k in range(5)], hide(rows=(3, 5, 9), columns=("E", "K")))  # row 9 and K are empty
    path = save(data, tmp_path / "p.xlsx")
    assert len(load_portfolio(path)) == 5
    assert read_table(path).notes == [
        "rows 3, 5 are hidden in Excel (or filtered out) and are read like any other row; delete them if they "
        "should not count",
        "column E (confidence) is hidden in Excel and is read like any other column; unhide it to check what it holds"]


def test_one_hidden_row_and_many_hidden_columns_are_worded_for_their_number(tmp_path):
    data = book([row(k) for k in range(3)], hide(rows=(4,), columns=("C", "D")))
    assert read_table(save(data, tmp_path / "p.xlsx")).notes == [
        "row 4 is hidden in Excel (or filtered out) and is read like any other row; delete it if it should not count",
        "columns C (reach), D (impact) are hidden in Excel and are read like any other column; unhide them to check "
        "what they hold"]


def test_many_hidden_rows_are_counted_beyond_the_first_twenty(tmp_path):
    data = book([row(k) for k in range(30)], hide(rows=range(2, 32)))
    listed = ", ".join(str(r) for r in range(2, 22))
    assert read_table(save(data, tmp_path / "p.xlsx")).notes == [
        f"rows {listed} and 10 more are hidden in Excel (or filtered out) and are read like any other row; delete "
        "them if they should not count"]


# --- --sheet ------------------------------------------------------------------------------------------


def sheets(path: Path, names: list[str], chart: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = names[0]
    wb.active.append(HEADER)
    for name in names[1:]:
        wb.create_sheet(name)
    if chart is not None:
        from openpyxl.chart import BarChart

        wb.create_chartsheet(chart).add_chart(BarChart())
    wb.save(path)
    return path


def test_a_sheet_not_found_lists_the_sheets_and_the_closest_name(tmp_path):
    path = sheets(tmp_path / "p.xlsx", ["Backlog", "Q4 plan"])
    assert problems(path, sheet="Q4 plam") == [f"{path}: no sheet named 'Q4 plam'; the sheets are 'Backlog', 'Q4 "
                                               "plan'; did you mean 'Q4 plan'?"]
    assert problems(path, sheet="backlgo") == [f"{path}: no sheet named 'backlgo'; the sheets are 'Backlog', 'Q4 "
                                               "plan'; did you mean 'Backlog'?"]
    assert problems(path, sheet="Roadmap") == [f"{path}: no sheet named 'Roadmap'; the sheets are 'Backlog', 'Q4 "
                                               "plan'"]


def test_a_chart_sheet_is_not_a_table(tmp_path):
    path = sheets(tmp_path / "p.xlsx", ["Backlog"], chart="Chart")
    assert problems(path, sheet="Chart") == [f"{path}: sheet 'Chart' is a chart, not a table; the sheets with tables "
                                             "are 'Backlog'"]


def test_many_sheets_are_listed_up_to_twenty(tmp_path):
    path = sheets(tmp_path / "p.xlsx", [f"S{k}" for k in range(25)])
    listed = ", ".join(f"'S{k}'" for k in range(20))
    found = problems(path, sheet="Nope")
    assert found == [f"{path}: no sheet named 'Nope'; the sheets are {listed} and 5 more"]


# --- any sheet with these elements gives a portfolio or located problems ---------------------------


def _fuzz_base() -> tuple[bytes, bytes]:
    """A workbook with a formula of each kind and no saved results, merged cells, a hidden row and
    column; and its sheet's XML."""
    data = book([row(0, "=D2*2"), row(1, "=D3*2"), row(2, "=1"), row(3, "=1"), row(4)],
                lambda ws: (ws.cell(1, 7, "notes"), merged("B5:B6", "G1:H1")(ws), hide((3,), ("E",))(ws)))
    xml = sheet_xml(data)
    for old, new in (*shared("", ""),
                     ('<c r="F4"><f>1</f><v /></c>', '<c r="F4"><f t="array" ref="F4:F5">D4:D5*2</f></c>'),
                     ('<c r="F5"><f>1</f><v /></c>', '<c r="F5"/>')):
        assert old in xml, old
        xml = xml.replace(old, new)
    return data, xml.encode()


FUZZ_BOOK, FUZZ_SHEET = _fuzz_base()


@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated(FUZZ_SHEET))
def test_any_sheet_with_formulas_merges_and_hidden_parts_gives_a_portfolio_or_located_problems(xml):
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(FUZZ_BOOK)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for name in src.namelist():
            out.writestr(name, xml if name == SHEET else src.read(name))
    check(buf.getvalue(), ".xlsx")


def test_the_fuzz_seed_reads_with_each_kind_of_problem(tmp_path):
    path = rewrite(FUZZ_BOOK, tmp_path / "p.xlsx", {SHEET: FUZZ_SHEET})
    assert problems(path) == [
        f"{path}:1: column G (notes): 'notes': cells G1:H1 are merged: only G1 holds a value, the cells to its right "
        "read as empty; unmerge them and give each column its own name",
        f"{path}:5: column B (name): 'Name 3': cells B5:B6 are merged: only B5 holds a value, the cells below it read "
        "as empty; unmerge them and fill each cell",
        f"{path}:2: column F (effort): F2 holds the formula '=D2*2' with no saved result: {SAVE}",
        f"{path}:3: column F (effort): F3 holds the formula '=D3*2' with no saved result: {SAVE}",
        f"{path}:4: column F (effort): F4 holds the formula '=D4:D5*2' with no saved result: {SAVE}",
        f"{path}:5: column F (effort): F5 is filled by the array formula '=D4:D5*2' of F4:F5, which has no saved "
        f"result: {SAVE}"]
    assert read_table(path).notes == [
        "row 3 is hidden in Excel (or filtered out) and is read like any other row; delete it if it should not count",
        "column E (confidence) is hidden in Excel and is read like any other column; unhide it to check what it holds"]


def test_sheet_names_ignore_case_as_in_excel(tmp_path):
    from workbench.io.read import load_portfolio

    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["Read the Backlog sheet"])
    ws = wb.create_sheet("Backlog")
    ws.append(["id", "name", "reach", "impact", "confidence", "effort"])
    ws.append(["a", "A", 100, 1, "80%", 2])
    wb.save(tmp_path / "p.xlsx")
    assert load_portfolio(tmp_path / "p.xlsx", sheet="backlog").ids == ["a"]


def test_a_notes_sheet_first_points_at_the_other_sheets(tmp_path):
    import pytest

    from workbench.errors import InputError
    from workbench.io.read import load_portfolio

    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["How to read this workbook"])
    wb.create_sheet("Backlog").append(["id", "name", "reach", "impact", "confidence", "effort"])
    wb.save(tmp_path / "p.xlsx")
    with pytest.raises(InputError) as info:
        load_portfolio(tmp_path / "p.xlsx")
    assert str(info.value.problems[0]) == (f"{tmp_path / 'p.xlsx'}: the first sheet, 'Notes', is read and lacks "
                                           "required columns; the workbook also has 'Backlog': choose one with "
                                           "--sheet NAME")

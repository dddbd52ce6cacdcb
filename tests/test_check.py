"""`workbench.io.fixes` and `workbench.io.check`: the fixes proposed, the ones refused (with why),
the corrected copy, and the real-world-shaped exports of tests/data/byo going to valid portfolios."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.errors import InputError
from workbench.io.check import Change, check_file, fixed_name, parse_defaults, write_fixed
from workbench.io.fixes import explain_fix, header_units, propose_fix
from workbench.io.read import load_portfolio
from workbench.model.estimates import EstimateError, parse_estimate

BYO = Path(__file__).parent / "data" / "byo"
EXPECTED = ("a number (500, 2.5k, 1.2M, 80%), a 90% range (200..800), or pert(min, mode, max), "
            "tri(min, mode, max), uniform(a, b), normal(mean, sd), beta(a, b)")
COMMA = ("contains a comma; write numbers without thousands separators or decimal commas "
         "(1200 or 1.2k, not 1,200; 2.5, not 2,5)")


def _copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(BYO / name, tmp_path / name))


def _csv(tmp_path: Path, text: str, name: str = "p.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- fixes.py ----------------------------------------------------------------------------------

@pytest.mark.parametrize("column, text, units, fix, reason", [
    ("effort", "2-4", (), "2..4", "a range written with a dash"),
    ("effort", "2 - 4", (), "2..4", "a range written with a dash"),
    ("effort", "2–4", (), "2..4", "a range written with a dash"),
    ("reach", "200 to 800", (), "200..800", "a range written with to"),
    ("reach", "2k-4k", (), "2k..4k", "a range written with a dash"),
    ("reach", "1,200", (), "1200", "a thousands separator"),
    ("reach", "12,000,000", (), "12000000", "a thousands separator"),
    ("reach", "1,200.5", (), "1200.5", "a thousands separator"),
    ("cost", "1,200", (), "1200", "a thousands separator"),
    ("effort", "3 months", (), "3", "a unit in the cell"),
    ("effort", "3 Months", (), "3", "a unit in the cell"),
    ("effort", "3 person-months", (), "3", "a unit in the cell"),
    ("effort", "3 pm", (), "3", "a unit in the cell"),
    ("effort", "3 mo", (), "3", "a unit in the cell"),
    ("effort", "3m", (), "3", "m for months"),  # '3m' would read as 3 million person-months
    ("effort", "2-3m", (), "2..3", "m for months; a range written with a dash"),
    ("effort", "2..3m", (), "2..3", "m for months"),
    ("effort", "pert(1, 2m, 3m)", (), "pert(1, 2, 3)", "m for months"),
    ("effort", "2-4 months", (), "2..4", "a unit in the cell; a range written with a dash"),
    ("confidence", "80 percent", (), "80%", "'percent' written as %"),
    ("confidence", "80 pct", (), "80%", "'pct' written as %"),
    ("confidence", "80", {"%"}, "80%", "a percentage written without %"),
    ("confidence", "80", {"percent"}, "80%", "a percentage written without %"),
    ("confidence", "60-90", {"%"}, "60%..90%", "a percentage written without %; a range written with a dash"),
    ("reach", "1200 users", {"users/qtr", "users", "qtr"}, "1200", "a unit in the cell"),
    ("reach", "1,200-2,400 users", {"users"}, "1200..2400",
     "a thousands separator; a unit in the cell; a range written with a dash"),
    ("cost", "$1,200", {"$"}, "1200", "a thousands separator; a unit in the cell"),
    # A scale on the high end only: the low end has it too when the bare numbers rise (2 < 4), not otherwise.
    ("reach", "2-4k", (), "2k..4k", "a range written with a dash"),
    ("reach", "2 - 4M", (), "2M..4M", "a range written with a dash"),
    ("confidence", "50-80%", (), "50%..80%", "a range written with a dash"),
    ("reach", "500-2k", (), "500..2k", "a range written with a dash"),
])
def test_each_fix_and_its_reason(column, text, units, fix, reason):
    assert explain_fix(column, text, units) == (fix, reason)
    assert propose_fix(column, text, units) == fix
    parse_estimate(fix, "reach" if column == "cost" else column)  # every proposal parses


@pytest.mark.parametrize("column, text, units", [
    ("effort", "-2-4", ()),  # a negative number: no range is meant
    ("effort", "0-4", ()),  # the fix would not parse (a range's low end must be > 0)
    ("reach", "high", ()),  # a word outside the grammar: never guessed
    ("reach", "1200 users", ()),  # a unit the header does not carry
    ("effort", "300m", ()),  # 300 months? 25 years of work: never guessed
    ("effort", "2-3M", ()),  # millions of person-months: no reading
    ("effort", "2k-3k", ()),
    ("confidence", "150", ()),
    ("confidence", "80% percent", ()),
    ("effort", "6 weeks", {"weeks"}),  # a header in weeks does not make weeks months
    # Cells that parse already are left as they are.
    ("confidence", "80 %", ()), ("reach", "2.5k", ()), ("confidence", "80%", ()), ("effort", "2..4", ()),
    ("team", "2-4", ()),  # not an estimate column
])
def test_no_fix_where_the_reading_is_not_unambiguous(column, text, units):
    assert propose_fix(column, text, units) is None


def test_refused_fixes_say_why():
    comma = ("not fixed: the comma does not separate groups of three digits, so it may be a decimal comma; "
             "type the number with a point or without the comma")
    assert explain_fix("effort", "1,5") == (None, comma)
    assert explain_fix("reach", "1,20") == (None, comma)
    assert explain_fix("effort", "1.200,5") == (None, comma)
    assert explain_fix("effort", "6 weeks") == (None, "not fixed: effort is in person-months, and weeks are not "
                                                      "converted (that depends on the team); type the effort in "
                                                      "person-months")
    assert explain_fix("effort", "2 sprints")[1].startswith("not fixed: effort is in person-months, and sprints")
    assert explain_fix("effort", "10 days")[1].startswith("not fixed: effort is in person-months, and days")
    assert explain_fix("effort", "4-2") == (None, "not fixed: 4 is not below 2, so this is no range low..high")
    assert explain_fix("reach", "4k-2k") == (None, "not fixed: 4k is not below 2k, so this is no range low..high")
    assert explain_fix("reach", "high") == (None, "")
    # 7 under 'Confidence (1-10)' is 70%, not 7%: only a header that says % makes a bare number a percentage
    scale = ("not fixed: a confidence without % may be a percentage or a score on another scale (such as 1 to "
             "10); write it as a percentage (80%) or a fraction (0.8)")
    assert explain_fix("confidence", "7", {"1-10"}) == (None, scale)
    assert explain_fix("confidence", "80") == (None, scale)


def test_in_a_semicolon_file_a_comma_is_a_decimal_comma():
    refused = (None, "not fixed: in a file separated by ';' a comma is a decimal comma")
    assert explain_fix("effort", "2,5", decimal_comma=True) == ("2.5", "a decimal comma")
    assert explain_fix("confidence", "0,7", decimal_comma=True) == ("0.7", "a decimal comma")
    assert explain_fix("reach", "1,2345", decimal_comma=True) == ("1.2345", "a decimal comma")
    assert explain_fix("reach", "1,200", decimal_comma=True) == refused  # 1.2 or 1200: never guessed
    assert explain_fix("reach", "1,200-2,400", decimal_comma=True) == refused
    assert explain_fix("confidence", "2,5", decimal_comma=True) == refused  # 2.5 is no confidence
    assert explain_fix("reach", "1,200") == ("1200", "a thousands separator")  # in a ',' file, as before


_SCALES = {"k": 1e3, "M": 1e6, "B": 1e9, "%": 0.01}


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 999), st.integers(1, 999), st.sampled_from(sorted(_SCALES)),
       st.sampled_from(["-", " - ", "–", " to "]))
def test_a_fix_keeps_the_magnitude_meant(a, b, scale, dash):
    """'2-4k' means 2k..4k (the bare numbers rise), '500-2k' means 500..2k: the fix's median lies between
    the two numbers as meant, and its digits are the cell's."""
    column = "confidence" if scale == "%" else "reach"
    fix = propose_fix(column, f"{a}{dash}{b}{scale}")
    if fix is None:
        return
    low, high = (a * _SCALES[scale] if a < b else a * (0.01 if scale == "%" else 1)), b * _SCALES[scale]
    assert low <= parse_estimate(fix, column).median() <= high
    assert "".join(ch for ch in fix if ch.isdigit()) == f"{a}{b}"


def test_header_units():
    assert header_units("Reach (users/qtr)") == {"users/qtr", "users", "qtr"}
    assert header_units("Cost [$]") == {"$"}
    assert header_units("Effort") == set()


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["reach", "impact", "confidence", "effort", "cost"]),
       st.text(alphabet="0123456789,.-– %kmpersontwhaus", max_size=14))
def test_any_cell_gets_a_parsing_fix_or_none(column, text):
    fix, reason = explain_fix(column, text, {"users"})
    if fix is not None:
        assert reason
        parse_estimate(fix, "reach" if column == "cost" else column)
        with pytest.raises(EstimateError):  # only cells that do not parse get a fix
            est = parse_estimate(text, "reach" if column == "cost" else column)
            if column == "cost" and not est.is_point:
                raise EstimateError("a range is no cost")
            if column == "effort" and reason == "m for months":  # parses as millions; the reader refuses it
                raise EstimateError("3m in effort")


# --- check_file and write_fixed ------------------------------------------------------------------

def test_sheets_export_problems_all_at_once_with_their_fixes(tmp_path):
    path = _copy(tmp_path, "sheets_export.csv")
    report = check_file(path)
    f = str(path)
    assert [str(p) for p in report.problems] == [
        f"{f}:3: column 2 (Reach (users/qtr)): '1,200': '1,200' {COMMA} (fix: '1200')",
        f"{f}:5: column 5 (Effort (person-months)): '2-4': '2-4' is not an estimate; for a 90% range write 2..4 "
        "(fix: '2..4')",
        f"{f}:6: column 4 (Confidence): the cell is empty; expected {EXPECTED}; not fixed: give the value of blank "
        "confidence cells with --default confidence=VALUE",
        f"{f}:8: column 5 (Effort (person-months)): '3 months': unexpected 'months' after the estimate; expected "
        f"{EXPECTED} (fix: '3')",
        f"{f}:23: the row is the same as line 3 in every cell; --fix drops it",
    ]
    assert report.fixable == 4 and report.portfolio is None and not report.valid
    assert [str(p) for p in report.remaining] == [str(report.problems[2]).replace(" (fix: '80%')", "")]


def test_sheets_export_fixed_with_a_default(tmp_path):
    path = _copy(tmp_path, "sheets_export.csv")
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    report = check_file(path, defaults={"confidence": "80%"})
    assert [str(c) for c in report.changes] == [
        "line 1, column id: '' -> 'id' (ids made from the names written as column id)",
        "line 3, column reach: '1,200' -> '1200' (a thousands separator)",
        "line 5, column effort: '2-4' -> '2..4' (a range written with a dash)",
        "line 6, column confidence: '' -> '80%' (blank: --default confidence=80%)",
        "line 8, column effort: '3 months' -> '3' (a unit in the cell)",
        "line 23: row dropped (the same as line 3 in every cell)",
    ]
    assert report.remaining == [] and report.fixable == len(report.problems) == 5
    assert report.problems[2].fix == "80%"
    assert "column 'Idea' read as name" in report.notes
    out = write_fixed(report, tmp_path / "fixed.csv")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the input is never modified
    fixed = load_portfolio(out)
    assert len(fixed) == 22 == len(report.portfolio)  # 25 rows, one copy dropped, two done left out
    assert [i.id for i in report.portfolio.initiatives][:2] == ["smart-search", "saved-filters"]
    again = check_file(out)
    assert again.valid and again.changes == []


def test_jira_export_goes_to_a_valid_portfolio(tmp_path):
    path = _copy(tmp_path, "jira_export.csv")
    report = check_file(path)
    assert [str(c) for c in report.changes] == [
        "line 2, column reach: '12,000' -> '12000' (a thousands separator)",
        "line 3, column effort: '2-3' -> '2..3' (a range written with a dash)",
        "line 7, column confidence: '50 percent' -> '50%' ('percent' written as %)",
        "line 7, column effort: '3 pm' -> '3' (a unit in the cell)",
    ]
    assert len(report.problems) == report.fixable == 4
    out = write_fixed(report, tmp_path / "fixed.xlsx")
    fixed = load_portfolio(out)
    assert [i.id for i in fixed.initiatives] == ["PD-101", "PD-102", "PD-103", "PD-104", "PD-106", "PD-107", "PD-108"]
    assert fixed.initiatives[0].reach.text == "12000"


def test_yaml_typos_go_to_a_valid_portfolio(tmp_path):
    path = _copy(tmp_path, "typos.yaml")
    report = check_file(path)
    f = str(path)
    assert [str(p) for p in report.problems] == [
        f"{f}:14: column 12 (efort): unknown field 'efort'; did you mean 'effort'? (fix: 'effort')",
        f"{f}:19: column 17 (confidense): unknown field 'confidense'; did you mean 'confidence'? (fix: 'confidence')",
    ]
    assert [str(c) for c in report.changes] == [
        "line 14, column effort: 'efort' -> 'effort' (a misspelt field name)",
        "line 19, column confidence: 'confidense' -> 'confidence' (a misspelt field name)",
    ]
    fixed = load_portfolio(write_fixed(report, tmp_path / "fixed.yaml"))
    assert [(i.id, i.effort.median(), i.confidence.median()) for i in fixed.initiatives][1:3] == [
        ("filters", 1.0, 0.5), ("export", 2.0, 0.8)]


def test_a_misspelt_header_is_read_as_the_column_and_its_cells_are_checked_too(tmp_path):
    path = _csv(tmp_path, "id,name,reach,impact,confidence,Efort\na,A,100,high,80%,2-4\nb,B,100,low,50%,6 weeks\n")
    report = check_file(path)
    f = str(path)
    assert [str(p) for p in report.problems][1:] == [
        f"{f}:2: column 6 (Efort): '2-4': '2-4' is not an estimate; for a 90% range write 2..4 (fix: '2..4')",
        f"{f}:3: column 6 (Efort): '6 weeks': unexpected 'weeks' after the estimate; expected {EXPECTED}; not fixed: "
        "effort is in person-months, and weeks are not converted (that depends on the team); type the effort in "
        "person-months",
    ]
    assert report.problems[0].fix == "effort" and report.problems[0].value == "Efort"
    assert [str(c) for c in report.changes] == ["line 1, column effort: 'Efort' -> 'effort' (a misspelt header)",
                                                "line 2, column effort: '2-4' -> '2..4' (a range written with a dash)"]
    assert len(report.remaining) == 1 and report.fixable == 2


def test_ambiguous_cells_stay_problems_with_the_reason(tmp_path):
    path = _csv(tmp_path, 'id,name,reach,impact,confidence,effort\na,A,"1,5",high,80%,1\nb,B,high,low,50%,1\n')
    report = check_file(path, defaults={"confidence": "80%"})
    f = str(path)
    assert [str(p) for p in report.remaining] == [
        f"{f}:2: column 3 (reach): '1,5': '1,5' {COMMA}; not fixed: the comma does not separate groups of three "
        "digits, so it may be a decimal comma; type the number with a point or without the comma",
        f"{f}:3: column 3 (reach): 'high': 'high' is not a number; expected {EXPECTED}",
    ]
    assert report.changes == [] and report.fixable == 0
    with pytest.raises(InputError) as e:
        write_fixed(report, tmp_path / "out.csv")
    assert e.value.problems == report.remaining
    assert not (tmp_path / "out.csv").exists()
    unread = check_file(tmp_path / "missing.csv")
    unread.remaining.clear()  # as if nothing were left: there is still no table to write
    with pytest.raises(InputError) as e:
        write_fixed(unread, tmp_path / "out.csv")
    assert str(e.value) == f"{tmp_path / 'missing.csv'}: nothing to write: the file could not be checked"


def test_a_duplicated_id_with_different_cells_is_not_dropped(tmp_path):
    path = _csv(tmp_path, "id,name,reach,impact,confidence,effort\na,A,1,1,80%,1\na,A,2,1,80%,1\na,A,1,1,80%,1\n")
    report = check_file(path)
    assert [str(p) for p in report.problems] == [
        f"{path}:3: column 1 (id): 'a': duplicate id (first used on line 2)",
        f"{path}:4: the row is the same as line 2 in every cell; --fix drops it",
    ]
    assert [str(c) for c in report.changes] == ["line 4: row dropped (the same as line 2 in every cell)"]
    assert [str(p) for p in report.remaining] == [report.problems[0].__str__()]


def test_defaults_are_checked(tmp_path):
    path = _csv(tmp_path, "id,name,reach,impact,confidence,effort\na,A,1,1,,1\n")
    report = check_file(path, defaults={"confidnce": "80%", "reach": "1,5", "effort": "3 months", "team": " "})
    assert [str(p) for p in report.problems[:4]] == [
        "--default confidnce=80%: a default can be given for reach, impact, confidence, effort, cost, team, theme; "
        "did you mean 'confidence'?",
        f"--default reach=1,5: '1,5' {COMMA}",
        f"--default effort=3 months: unexpected 'months' after the estimate; expected {EXPECTED} (fix: '3')",
        "--default team= : the default is empty",
    ]
    assert report.portfolio is None and len(report.remaining) == 5  # and the blank confidence
    with pytest.raises(ValueError, match=r"^--default expects COLUMN=VALUE \(e\.g\. confidence=80%\), got 'x'$"):
        parse_defaults(["x"])
    assert parse_defaults(["Confidence=80%", "team=Core=1"]) == {"confidence": "80%", "team": "Core=1"}


def test_a_default_fills_a_missing_column(tmp_path):
    path = _csv(tmp_path, "id,name,reach,impact,effort\na,A,1,1,1\nb,B,2,1,1\n")
    report = check_file(path, defaults={"confidence": "80%"})
    assert report.remaining == [] and len(report.problems) == 1 and report.fixable == 1
    assert [i.confidence.text for i in report.portfolio.initiatives] == ["80%", "80%"]


def test_extra_columns_are_kept_and_the_output_is_never_the_input(tmp_path):
    path = _csv(tmp_path, "id,name,reach,impact,confidence,effort,Notes,Link\na,A,\"1,000\",1,80%,1,call Ann,"
                          "http://x\n")
    report = check_file(path)
    fixed = load_portfolio(write_fixed(report, tmp_path / "copy.csv"))
    assert fixed.initiatives[0].extra == {"notes": "call Ann", "link": "http://x"}
    with pytest.raises(InputError) as e:
        write_fixed(report, path)
    assert str(e.value) == (f"{path}: -o names the checked file; the input is never modified: give the corrected "
                            f"copy another name, e.g. -o {tmp_path / 'p.fixed.csv'}")
    assert fixed_name("a/q3.xlsx") == Path("a/q3.fixed.xlsx") and fixed_name("q3.tsv") == Path("q3.fixed.csv")


def test_a_semicolon_file_gets_decimal_comma_fixes_and_no_thousands_fix(tmp_path):
    path = _csv(tmp_path, "Name;Reach;Impact;Confidence;Effort\nA;1,200;2;80%;2,5\nB;900;1;0,7;2\n")
    report = check_file(path)
    assert [str(c) for c in report.changes] == [
        "line 1, column id: '' -> 'id' (ids made from the names written as column id)",
        "line 2, column effort: '2,5' -> '2.5' (a decimal comma)",
        "line 3, column confidence: '0,7' -> '0.7' (a decimal comma)"]
    assert [str(p) for p in report.remaining] == [
        f"{path}:2: column 2 (Reach): '1,200': '1,200' {COMMA}; not fixed: in a file separated by ';' a comma is a "
        "decimal comma"]


def test_a_totals_row_is_dropped_and_done_rows_get_no_fix(tmp_path):
    path = _csv(tmp_path, "name,reach,impact,confidence,effort,status,Sprint\nA,,1,80%,2 pm,Done,S3\n"
                          "B,\"1,000\",1,,2,To Do,\nTotal,,,,4,,\nSum,100,1,80%,1,,\n")
    report = check_file(path, defaults={"confidence": "80%"})
    assert [str(c) for c in report.changes] == [
        "line 1, column id: '' -> 'id' (ids made from the names written as column id)",
        "line 3, column reach: '1,000' -> '1000' (a thousands separator)",
        "line 3, column confidence: '' -> '80%' (blank: --default confidence=80%)",
        "line 4: row dropped (a totals row)"]  # not the done row's '2 pm'; 'Sum' with its cells is an initiative
    assert [str(p) for p in report.problems] == [
        f"{path}:3: column 2 (reach): '1,000': '1,000' {COMMA} (fix: '1000')",
        f"{path}:3: column 4 (confidence): the cell is empty; expected {EXPECTED} (fix: '80%')",
        f"{path}:4: line 4 looks like a totals row (Total): delete it; --fix drops it"]
    assert [i.id for i in report.portfolio] == ["b", "sum"] and report.portfolio.done == (("a", "A"),)
    assert [str(p) for p in check_file(path).problems][-1] == (
        f"{path}:4: line 4 looks like a totals row (Total): delete it; --fix drops it")  # no --default hint


def test_an_unreadable_file_is_a_report_not_an_exception(tmp_path):
    report = check_file(tmp_path / "missing.csv")
    assert [str(p) for p in report.problems] == [f"{tmp_path / 'missing.csv'}: file not found"]
    assert report.remaining == report.problems and report.portfolio is None


def test_change_text():
    assert str(Change(4, "effort", "3 months", "3", "a unit in the cell")) == \
        "line 4, column effort: '3 months' -> '3' (a unit in the cell)"
    assert str(Change(9, None, "", None, "the same as line 3 in every cell")) == \
        "line 9: row dropped (the same as line 3 in every cell)"


_ROW = st.tuples(st.sampled_from(["Search", "Export", "SSO", "Search", "=cmd"]),
                 st.sampled_from(["100", "\"1,200\"", "2-4", "100"]),
                 st.sampled_from(["1", "high", "2 - 4", "1"]),
                 st.sampled_from(["80%", "80", "", "80 percent"]),
                 st.sampled_from(["2", "3 months", "2-4", "2"]),
                 st.sampled_from(["To Do", "In Progress", "", "Done", "To Do"]))
_BAD = st.tuples(st.sampled_from(["", "Search"]), st.sampled_from(['"1,5"', "high", "1,20"]),
                 st.sampled_from(["x", "1"]), st.sampled_from(["150", ""]), st.sampled_from(["6 weeks", "4-2"]),
                 st.sampled_from(["Maybe", "Done"]))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(_ROW, _ROW, _ROW, _BAD), min_size=1, max_size=5),
       st.sampled_from(["name,reach,impact,confidence,effort,status",
                        "Idea,Reach (users),Impact,Confidence,Effort (pm),Status",
                        "Summary,Custom field (Reach),Custom field (Impact),Custom field (Confidence),Efort,Status"]),
       st.sampled_from([{}, {"confidence": "80%"}]), st.sampled_from([",", ";"]))
def test_any_table_gives_a_report_and_a_copy_that_reads_back(rows, header, defaults, sep):
    """Whatever the cells and separator, a report (never an exception); when nothing is left, the copy
    reads back equal."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.csv"
        path.write_text("\n".join([header.replace(",", sep), *(sep.join(r) for r in rows)]) + "\n", encoding="utf-8")
        before = path.read_bytes()
        report = check_file(path, defaults=defaults)
        assert all(isinstance(c, Change) for c in report.changes)
        if report.remaining:
            assert report.portfolio is None
            with pytest.raises(InputError):
                write_fixed(report, Path(d) / "out.csv")
        else:
            out = write_fixed(report, Path(d) / "out.csv")
            copy = load_portfolio(out)
            assert (copy.initiatives, copy.done) == (report.portfolio.initiatives, report.portfolio.done)
            assert check_file(out).valid
        assert path.read_bytes() == before


def test_an_xlsx_is_fixed_into_a_copy_and_left_as_it_is(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["Title", "Reach (users/qtr)", "Impact", "Confidence", "Effort (person-months)", "Notes"],
                ["Search", "1,200 users", 2, 0.8, "2-4", "ask Ann"], ["Export", 900, "low", "80 percent", 3, None]):
        ws.append(row)
    path = tmp_path / "roadmap.xlsx"
    wb.save(path)
    before = path.read_bytes()
    report = check_file(path)
    assert [str(c) for c in report.changes] == [
        "line 1, column id: '' -> 'id' (ids made from the names written as column id)",
        "line 2, column reach: '1,200 users' -> '1200' (a thousands separator; a unit in the cell)",
        "line 2, column effort: '2-4' -> '2..4' (a range written with a dash)",
        "line 3, column confidence: '80 percent' -> '80%' ('percent' written as %)",
    ]
    fixed = load_portfolio(write_fixed(report, tmp_path / "roadmap.fixed.xlsx"))
    assert [(i.id, i.reach.text, i.effort.text, i.extra.get("notes")) for i in fixed] == [
        ("search", "1200", "2..4", "ask Ann"), ("export", "900", "3", None)]
    assert path.read_bytes() == before


def test_a_bare_fraction_among_plain_percentages_is_never_guessed(tmp_path):
    path = tmp_path / "pct.csv"
    path.write_text("name,reach,impact,Confidence (%),effort\nA,1,1,80,2\nB,1,1,0.5,2\nC,1,1,50%,2\n")
    report = check_file(path)
    assert [str(p) for p in report.problems][1:] == [
        f"{path}:3: column 4 (Confidence (%)): 0.5 among confidences written as plain percentages (80 for 80%): "
        "is it 50% or 0.5%? write it with %"]
    assert [p.line for p in report.remaining] == [3] and report.portfolio is None  # --fix writes nothing
    path.write_text("name,reach,impact,Confidence (%),effort\nA,1,1,0.5,2\n")  # no percentage: a fraction
    assert check_file(path).portfolio["a"].confidence.median() == 0.5

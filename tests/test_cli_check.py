"""`workbench check`, `workbench init` and `--columns` as a user runs them: output, exit codes, files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import InputError
from workbench.io.check import check_file, parse_defaults, write_fixed
from workbench.io.fixed_copy import check_output_path
from workbench.io.read import load_portfolio

BYO = Path(__file__).parent / "data" / "byo"
NOTES = ["note: column 'Idea' read as name", "note: column 'Reach (users/qtr)' read as reach",
         "note: column 'Effort (person-months)' read as effort",
         "note: no id column: ids made from the names (e.g. 'Smart search' -> 'smart-search')"]


def _copy(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(BYO / name, tmp_path / name))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_lists_every_problem_and_a_summary(tmp_path, capsys):
    path = _copy(tmp_path, "sheets_export.csv")
    assert main(["check", str(path)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[:4] == NOTES
    assert out[4].startswith(f"{path}:3: column 2 (Reach (users/qtr)): '1,200': ") and out[4].endswith("(fix: '1200')")
    assert out[-2] == f"{path}:23: the row is the same as line 3 in every cell; --fix drops it"
    assert out[-1] == "5 problems; 4 can be fixed with --fix"
    assert len(out) == 4 + 5 + 1


def test_check_fix_writes_a_valid_copy_and_lists_each_change(tmp_path, capsys):
    path = _copy(tmp_path, "sheets_export.csv")
    before = _digest(path)
    fixed = tmp_path / "sheets.fixed.csv"
    assert main(["check", str(path), "--default", "confidence=80%", "--fix", "-o", str(fixed)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[5:] == [
        "line 1, column id: '' -> 'id' (ids made from the names written as column id)",
        "line 3, column reach: '1,200' -> '1200' (a thousands separator)",
        "line 5, column effort: '2-4' -> '2..4' (a range written with a dash)",
        "line 6, column confidence: '' -> '80%' (blank: --default confidence=80%)",
        "line 8, column effort: '3 months' -> '3' (a unit in the cell)",
        "line 23: row dropped (the same as line 3 in every cell)",
        f"6 changes; wrote {fixed}: 22 initiatives, valid (and 2 done initiatives, kept with status done)",
    ]
    assert _digest(path) == before
    assert len(load_portfolio(fixed)) == 22
    assert main(["check", str(fixed)]) == 0
    assert capsys.readouterr().out.splitlines() == [  # the copy keeps the headers and statuses as written
        *NOTES[:3], "note: status: 2 done (left out of the decision, listed as done), 3 committed (must-have, in the "
        "current plan)", f"{fixed}: 22 initiatives (2 done initiatives left out), valid"]
    assert load_portfolio(fixed).done == (("onboarding-checklist", "Onboarding checklist"),
                                          ("pricing-page-test", "Pricing page test"))  # nothing lost


@pytest.mark.parametrize("name, extra, written, changes, count", [
    ("jira_export.csv", [], "jira.fixed.xlsx", 4, 7),
    ("typos.yaml", [], "typos.fixed.yaml", 2, 4),
    ("sheets_export.csv", ["--default", "confidence=80%"], "sheets.fixed.csv", 6, 22),
    ("euro_export.csv", [], "euro.fixed.csv", 5, 6),  # ';' and decimal commas
    ("totals_export.csv", [], "totals.fixed.yaml", 4, 4),  # a totals row, 2-4k, 50-80%
])
def test_each_export_goes_to_a_valid_portfolio(tmp_path, capsys, name, extra, written, changes, count):
    """Each real-world-shaped export goes to a valid portfolio with check --fix, every change listed."""
    path = _copy(tmp_path, name)
    before = _digest(path)
    assert main(["check", str(path), *extra, "--fix", "-o", str(tmp_path / written)]) == 0
    out = capsys.readouterr().out.splitlines()
    listed = [line for line in out if line.startswith("line ")]
    report = check_file(path, defaults=parse_defaults(extra[1:]))
    assert listed == [str(c) for c in sorted(report.changes, key=lambda c: c.line)] and len(listed) == changes
    assert out[-1].startswith(f"{changes} changes; wrote {tmp_path / written}: {count} initiatives")
    _same(load_portfolio(tmp_path / written), report.portfolio)
    assert _digest(path) == before


def test_a_mapping_file_and_check_fix(tmp_path, capsys):
    path = tmp_path / "roadmap.csv"
    path.write_text("Feature name,Users,Value,Certainty,Dev months,Owner\n"
                    "Search,\"2,000\",2,80%,2-3,Core\nExport,500,1,50%,1 month,Data\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  name: Feature name\n  reach: Users\n  impact: Value\n  confidence: Certainty\n"
                       "  effort: Dev months\n  team: Owner\n", encoding="utf-8")
    fixed = tmp_path / "roadmap.fixed.csv"
    assert main(["check", str(path), "--columns", str(mapping), "--fix", "-o", str(fixed)]) == 0
    out = capsys.readouterr().out
    assert "line 2, column reach: '2,000' -> '2000' (a thousands separator)\n" in out
    assert "line 3, column effort: '1 month' -> '1' (a unit in the cell)\n" in out
    assert out.endswith(f"wrote {fixed}: 2 initiatives, valid; it keeps your headers, read with the mapping copied "
                        "beside it (roadmap.fixed.columns.yaml)\n")
    assert (tmp_path / "roadmap.fixed.columns.yaml").read_bytes() == mapping.read_bytes()
    # the copy reads as it is: its mapping beside it
    assert [(i.id, i.team) for i in load_portfolio(fixed)] == [("search", "Core"), ("export", "Data")]
    assert main(["score", str(fixed), "--samples", "1000"]) == 0


def test_problems_left_after_fix_nothing_written(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text('id,name,reach,impact,confidence,effort\na,A,"1,200",1,80%,6 weeks\n', encoding="utf-8")
    assert main(["check", str(path), "--fix", "-o", str(tmp_path / "out.csv")]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "line 2, column reach: '1,200' -> '1200' (a thousands separator)"
    assert out[1].startswith(f"{path}:2: column 6 (effort): '6 weeks': ")
    assert out[1].endswith("; not fixed: effort is in person-months, and weeks are not converted (that depends on "
                           "the team); type the effort in person-months")
    assert out[2] == "1 problem left after 1 change; nothing written"
    assert not (tmp_path / "out.csv").exists()


def test_fix_without_output_and_output_equal_to_input(tmp_path, capsys):
    path = _copy(tmp_path, "jira_export.csv")
    before = _digest(path)
    assert main(["check", str(path), "--fix"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"workbench: error: --fix writes a corrected copy and never changes {path}: give the copy's name with -o, "
        f"e.g. -o {tmp_path / 'jira_export.fixed.csv'}")
    assert main(["check", str(path), "-o", str(tmp_path / "x.csv")]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == "workbench: error: -o names the corrected copy: add --fix"
    assert main(["check", str(path), "--fix", "-o", str(path)]) == 2
    assert capsys.readouterr().err == (f"{path}: -o names the checked file; the input is never modified: give the "
                                       f"corrected copy another name, e.g. -o {tmp_path / 'jira_export.fixed.csv'}\n")
    assert main(["check", str(path), "--default", "confidence"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "workbench: error: --default expects COLUMN=VALUE (e.g. confidence=80%), got 'confidence'")
    assert _digest(path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["jira_export.csv"]


def test_check_json_shape(tmp_path, capsys):
    path = _copy(tmp_path, "jira_export.csv")
    assert main(["check", str(path), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"valid", "problems", "changes", "notes", "initiatives", "written"}
    assert data["valid"] is False and data["initiatives"] is None and data["written"] is None
    assert data["problems"][0] == {
        "file": str(path), "line": 2, "column": "15 (Custom field (Reach))", "value": "12,000",
        "message": "'12,000' contains a comma; write numbers without thousands separators or decimal commas "
                   "(1200 or 1.2k, not 1,200; 2.5, not 2,5)", "fix": "12000"}
    assert data["changes"][3] == {"line": 7, "column": "effort", "before": "3 pm", "after": "3",
                                  "reason": "a unit in the cell"}
    assert "column 'Issue key' read as id" in data["notes"]
    fixed = tmp_path / "fixed.csv"
    assert main(["check", str(path), "--format", "json", "--fix", "-o", str(fixed)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["valid"], data["problems"], data["initiatives"], data["written"]) == (True, [], 7, str(fixed))


def test_an_unreadable_file_is_reported_by_check(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none.csv")]) == 2
    assert capsys.readouterr().out == f"{tmp_path / 'none.csv'}: file not found\n1 problem; none can be fixed with --fix\n"


def test_columns_on_score_and_notes_on_stderr(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("Title,Users,impact,confidence,effort\nSearch,100,1,80%,1\nExport,200,2,50%,2\n", encoding="utf-8")
    mapping = tmp_path / "m.json"
    mapping.write_text('{"columns": {"reach": "Users"}}', encoding="utf-8")
    assert main(["score", str(path), "--columns", str(mapping), "--samples", "200", "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert sorted(i["id"] for i in json.loads(captured.out)["initiatives"]) == ["export", "search"]
    notes = captured.err.splitlines()
    assert "note: column 'Title' read as name" in notes and all(n.startswith("note: ") for n in notes)
    assert len(notes) == len(set(notes))  # each once


def test_a_failed_load_points_to_check(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("id,name,reach,impact,confidence,effort\na,A,2-4,1,80%,1\nb,B,1,1,80%,1,5\n", encoding="utf-8")
    assert main(["score", str(path)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"workbench: `workbench check {path}` shows the fixes for 1 of these; --fix -o COPY writes a corrected copy")
    path.write_text("id,name,reach,impact,confidence,effort\na,A,high,1,80%,1\n", encoding="utf-8")
    assert main(["score", str(path)]) == 2
    assert "workbench check" not in capsys.readouterr().err  # nothing it could fix


def test_columns_usage_errors(capsys):
    assert main(["score", "--demo", "--columns", "m.yaml"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "workbench: error: --sheet, --correlations and --columns apply to a PORTFOLIO file, not --demo")
    assert main(["report", "quarterly", "--demo", "--quarter", "2026Q4", "--columns", "m.yaml"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "workbench: error: --sheet, --correlations and --columns apply to score, optimize, sensitivity and check; "
        "a report reads the first sheet, <portfolio>.correlations.csv and <portfolio>.columns.yaml")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".yaml"])
def test_init_writes_a_starter_that_check_reads(tmp_path, capsys, suffix):
    path = tmp_path / f"portfolio{suffix}"
    assert main(["init", str(path)]) == 0
    assert capsys.readouterr().out == (
        f"wrote {path}: every column, two example rows and how to fill them in\n"
        f"next: replace the examples with your initiatives, then run: workbench check {path}\n")
    before = _digest(path)
    assert main(["check", str(path)]) == 0
    assert capsys.readouterr().out.endswith(f"{path}: 2 initiatives, valid\n")
    assert main(["init", str(path)]) == 2  # never overwritten
    assert capsys.readouterr().err.startswith(str(path)) and _digest(path) == before


def test_summary_words():
    from workbench.errors import Problem
    from workbench.io.check import CheckReport
    from workbench.views.check_text import summary

    a, b = Problem("x", line=2), Problem("y", line=3)
    assert summary(CheckReport("f", [a])) == "1 problem; 1 can be fixed with --fix"
    assert summary(CheckReport("f", [a], remaining=[a])) == "1 problem; none can be fixed with --fix"
    assert summary(CheckReport("f", [a, b])) == "2 problems; all can be fixed with --fix"
    assert summary(CheckReport("f", [a, b], remaining=[b])) == "2 problems; 1 can be fixed with --fix"


def test_the_copy_must_be_a_portfolio_file(tmp_path, capsys):
    path = _copy(tmp_path, "jira_export.csv")
    (tmp_path / "folder").mkdir()
    assert main(["check", str(path), "--fix", "-o", str(tmp_path / "folder")]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'folder'}: is a directory; give a file name\n"
    assert main(["check", str(path), "--fix", "-o", str(tmp_path / "out.txt")]) == 2
    assert capsys.readouterr().err == (f"{tmp_path / 'out.txt'}: the corrected copy is written as .csv, .xlsx or "
                                       f".yaml, not as '.txt'; e.g. -o {tmp_path / 'jira_export.fixed.csv'}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "jira_export.csv"]


def _same(copy, portfolio) -> None:
    assert (copy.initiatives, copy.done, copy.correlations) == (portfolio.initiatives, portfolio.done,
                                                                 portfolio.correlations)


@pytest.mark.parametrize("name, suffix", [
    ("jira_export.csv", ".csv"), ("jira_export.csv", ".xlsx"), ("jira_export.csv", ".yaml"),
    ("sheets_export.csv", ".csv"), ("sheets_export.csv", ".xlsx"), ("typos.yaml", ".yaml"), ("typos.yaml", ".csv"),
    ("euro_export.csv", ".csv"), ("totals_export.csv", ".xlsx"),
])
def test_the_copy_reads_back_as_the_checked_portfolio(tmp_path, name, suffix):
    report = check_file(_copy(tmp_path, name), defaults={"confidence": "80%"})
    _same(load_portfolio(write_fixed(report, tmp_path / f"copy{suffix}")), report.portfolio)


def test_the_copy_is_the_input_with_the_changes_and_nothing_else(tmp_path):
    path = tmp_path / "st.csv"
    path.write_text("ID,Name,Reach,impact,confidence,effort,Status,depends_on,Sprint,Labels,Labels\n"
                    "a,A,,1,80%,2 pm,Done,,Sprint 3,x,y\n"
                    "b,B,\"1,000\",1,80%,2,In Progress,,Sprint 4,,\n"
                    "d,D,100,1,80%,2,,a,,=cmd,\n"
                    "b,B,\"1,000\",1,80%,2,In Progress,,Sprint 4,,\n", encoding="utf-8")
    report = check_file(path)
    out = write_fixed(report, tmp_path / "st.fixed.csv")
    assert out.read_bytes().decode("utf-8") == (
        "\ufeffID,Name,Reach,impact,confidence,effort,Status,depends_on,Sprint,Labels,Labels\r\n"
        "a,A,,1,80%,2 pm,Done,,Sprint 3,x,y\r\n"  # a done row as it was: all its cells, unfixed
        "b,B,1000,1,80%,2,In Progress,,Sprint 4,,\r\n"
        "d,D,100,1,80%,2,,a,,'=cmd,\r\n")  # the copied row dropped; formula-looking text guarded
    _same(load_portfolio(out), report.portfolio)
    assert load_portfolio(out).initiatives[1].extra == {"sprint": "", "labels": "=cmd", "labels_2": ""}


def test_an_xlsx_copy_keeps_numbers_and_says_the_other_sheets_are_not_copied(tmp_path, capsys):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Roadmap"
    for row in (["Title", "Reach", "Impact", "Confidence", "Effort"], ["Search", "1,200", 2, 0.8, "2-4"],
                ["Export", 900, "low", "80%", 3]):
        ws.append(row)
    wb.create_sheet("Notes")
    wb.create_sheet("Old")
    wb.save(tmp_path / "r.xlsx")
    fixed = tmp_path / "r.fixed.xlsx"
    assert main(["check", str(tmp_path / "r.xlsx"), "--fix", "-o", str(fixed)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"3 changes; wrote {fixed}: 2 initiatives, valid; the copy holds this sheet only, not the 2 other sheets "
        "('Notes', 'Old')")
    rows = list(openpyxl.load_workbook(fixed).active.iter_rows(values_only=True))
    assert rows == [("id", "Title", "Reach", "Impact", "Confidence", "Effort"), ("search", "Search", "1200", 2, 0.8,
                                                                                  "2..4"),
                    ("export", "Export", 900, "low", "80%", 3)]


def test_the_copy_never_overwrites_what_the_check_reads(tmp_path):
    path = tmp_path / "j3.csv"
    path.write_text("name,reach,impact,confidence,effort\nA,1,1,80%,1\n", encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    for out, what in ((tmp_path / "j3.columns.yaml", "the column mapping"), (mapping, "the column mapping"),
                      (tmp_path / "j3.correlations.csv", "the correlations file")):
        with pytest.raises(InputError) as e:
            check_output_path(path, out, mapping)
        assert str(e.value) == (f"{out}: -o names {what} that the check reads; give the corrected copy another "
                                f"name, e.g. -o {tmp_path / 'j3.fixed.csv'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j3.csv"]


def test_fund_one_initiative_is_singular(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_text("id,name,reach,impact,confidence,effort\na,A,100,1,100%,1\nb,B,100,1,100%,5\n", encoding="utf-8")
    assert main(["optimize", str(path), "--budget", "1", "--scenarios", "50", "--seed", "1"]) == 0
    assert "Fund 1 initiative:" in capsys.readouterr().out.splitlines()


def test_problems_and_changes_print_in_file_order():
    from workbench.errors import Problem
    from workbench.io.check import Change, CheckReport
    from workbench.views.check_text import check_text

    problems = [Problem("merged", file="f", line=6, column="J"), Problem("late", file="f", line=6, column="10 (Team)"),
                Problem("early", file="f", line=3, column="9 (Effort)"), Problem("first", file="f", line=6,
                                                                                 column="2 (Reach)"),
                Problem("whole file", file="f")]
    assert check_text(CheckReport("f", problems, remaining=problems)).splitlines()[:-1] == [
        "f: whole file", "f:3: column 9 (Effort): early", "f:6: column 2 (Reach): first",
        "f:6: column 10 (Team): late", "f:6: column J: merged"]
    changes = [Change(7, "reach", "1,2", "12", "x"), Change(4, "effort", "2-4", "2..4", "y"),
               Change(4, "reach", "1,000", "1000", "z")]
    assert check_text(CheckReport("f", [], changes, problems), fixed=True).splitlines()[:3] == [
        "line 4, column effort: '2-4' -> '2..4' (y)", "line 4, column reach: '1,000' -> '1000' (z)",
        "line 7, column reach: '1,2' -> '12' (x)"]

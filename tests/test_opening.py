"""Opening a strategy session on a file (`workbench.open_session`): the dashboard, or the file's
problems as `workbench check` gives them, as escaped HTML instead of a traceback."""

from __future__ import annotations

import workbench as wb
from workbench.interactive.opening import open_session

SHEET = ("Idea,Reach (users/qtr),Impact,Confidence,Effort (person-months),Team\n"
         "Smart search,4000,high,80%,3,Discovery\n"
         "<b>Bulk</b> export,\"1,200\",low,80%,3 months,Platform\n")


def test_a_file_with_problems_shows_them_with_their_fixes(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_text(SHEET + "Nav,<b>lots</b>,low,80%,2,Core\n", encoding="utf-8")
    opened = open_session(str(path), output_dir=str(tmp_path))
    assert opened.dashboard is None and opened.report is not None
    page = opened.html()
    assert (f"<b>{path}</b>: 3 problems; 2 can be fixed with --fix; in a terminal, <code>workbench check {path} "
            f"--fix -o {tmp_path / 'sheet.fixed.csv'}</code> writes a corrected copy. Fix the file and run this cell "
            "again.") in page
    assert "<td>1200</td>" in page and "<td>3</td>" in page  # the fixes, in their column
    assert "<td>&lt;b&gt;lots&lt;/b&gt;</td>" in page and "<b>lots" not in page  # user text is never markup


def test_an_unreadable_file_or_settings_file_is_a_problem_not_a_traceback(tmp_path):
    missing = open_session(str(tmp_path / "nope.csv"), output_dir=str(tmp_path))
    assert missing.dashboard is None
    assert "nope.csv</b>: 1 problem; none can be fixed with --fix. Fix the file" in missing.html()
    assert "<td>file not found</td>" in missing.html()
    path = tmp_path / "p.csv"
    path.write_text(SHEET.replace('"1,200"', "1200").replace("3 months", "3"), encoding="utf-8")
    bad = tmp_path / "s.json"
    bad.write_text("{budget: 40}", encoding="utf-8")
    opened = open_session(str(path), settings_path=str(bad), output_dir=str(tmp_path))
    assert opened.dashboard is None
    assert "These problems stop the session." in opened.html() and "not valid JSON" in opened.html()
    assert "Note: column &#x27;Idea&#x27; read as name" in opened.html()  # the file's notes, still told


def test_a_valid_file_opens_the_dashboard_with_its_notes(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(SHEET.replace('"1,200"', "1200").replace("3 months", "3"), encoding="utf-8")
    opened = wb.open_session(str(path), output_dir=str(tmp_path))
    try:
        assert isinstance(opened.dashboard, wb.Dashboard)
        assert opened.notes[0] == "column 'Idea' read as name"
        assert [i.id for i in opened.dashboard.portfolio] == ["smart-search", "b-bulk-b-export"]
    finally:
        opened.dashboard.close()

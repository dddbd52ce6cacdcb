"""Reading other people's columns: mappings, built-in synonyms, "did you mean", ids made from names,
and dates where an estimate belongs.

Files are built in tmp_path in the shapes product tools export (Jira's CSV, a Sheets CSV, a YAML
with a typo); every message is asserted in full (the messages are the spec).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.errors import InputError, did_you_mean
from workbench.io.columns import COLUMNS, ColumnMap, column_map_path, read_column_map, slug, synonym
from workbench.io.read import load_portfolio, read_table
from workbench.model.portfolio import Portfolio

ROWS = "a,A,1,1,50%,2\nb,B,1,1,50%,3\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(InputError) as info:
        load_portfolio(path, **kwargs)
    return [str(p) for p in info.value.problems]


def test_a_jira_export_loads_without_a_mapping(tmp_path):
    path = write(tmp_path / "jira.csv",
                 "Issue key,Summary,Status,Custom field (Reach),Custom field (Impact),Custom field (Confidence),"
                 "Custom field (Effort)\n"
                 "PD-1,Smart search,In Progress,500,2,80%,3\n"
                 "PD-2,Dark mode,Done,,,,\n"
                 "PD-3,Export to PDF,To Do,200..800,1,50%,2\n")
    p = load_portfolio(path)
    assert p.ids == ["PD-1", "PD-3"]
    assert p.done == (("PD-2", "Dark mode"),)
    assert p["PD-3"].reach.median() == pytest.approx(400)  # geometric midpoint of the 90% range
    assert p.notes == (
        "column 'Issue key' read as id",
        "column 'Summary' read as name",
        "column 'Custom field (Reach)' read as reach",
        "column 'Custom field (Impact)' read as impact",
        "column 'Custom field (Confidence)' read as confidence",
        "column 'Custom field (Effort)' read as effort",
        "status: 1 done (left out of the decision, listed as done), 1 committed (must-have, in the current plan)",
    )


def test_a_sheets_export_without_ids_gets_ids_from_its_names(tmp_path):
    path = write(tmp_path / "sheet.csv",
                 "Idea,Reach (users/qtr),Impact,Confidence,Effort (person-months),Team,Status\n"
                 "Smart search,500,2,80%,3,Core,Backlog\n"
                 "Smart search,600,2,80%,3,Core,\n"
                 "Crème brûlée menu,100,1,50%,2,Growth,Ready\n"
                 "???,100,1,50%,2,Growth,Ready\n")
    p = load_portfolio(path)
    assert p.ids == ["smart-search", "smart-search-2", "creme-brulee-menu", "row-5"]
    assert p["smart-search-2"].reach.median() == 600 and p["row-5"].team == "Growth"
    assert p.notes == ("column 'Idea' read as name", "column 'Reach (users/qtr)' read as reach",
                       "column 'Effort (person-months)' read as effort",
                       "no id column: ids made from the names (e.g. 'Smart search' -> 'smart-search')")


def test_slugs_are_short_ascii_and_stable():
    assert slug("Smart search") == "smart-search"
    assert slug("  Ünïcödé & Co. (v2)! ") == "unicode-co-v2"
    assert slug("Überprüfung der Zahlungsabwicklung für alle Länder") == "uberprufung-der-zahlungsabwicklung-fur"
    assert slug("x" * 50) == "x" * 40
    assert slug("日本語") == "" and slug(None) == ""


@pytest.mark.parametrize("header, column", [
    ("Idea", "name"), ("Summary", "name"), ("Title", "name"), ("Feature", "name"), ("Initiative", "name"),
    ("Issue key", "id"), ("Key", "id"), ("Issue id", None), ("Custom field (Reach)", "reach"),
    ("Custom field (Effort (pm))", "effort"), ("Effort (person-months)", "effort"), ("Confidence [%]", "confidence"),
    ("Reach (users/qtr)", "reach"), ("custom field (Status)", "status"), ("Custom field (Summary)", "name"),
    ("Notes", None), ("Effort per team", None), ("(pm)", None), ("Custom field ()", None),
])
def test_synonyms(header, column):
    assert synonym(header) == column


def test_a_column_named_as_ours_wins_over_a_synonym(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,Title,reach,impact,confidence,effort\na,A,Long title,1,1,1,1\n")
    p = load_portfolio(path)
    assert p["a"].name == "A" and p["a"].extra == {"title": "Long title"}
    assert p.notes == ()


def test_two_synonyms_of_one_column_are_a_problem_and_the_cells_are_still_checked(tmp_path):
    path = write(tmp_path / "p.csv", "id,Summary,Title,reach,impact,confidence,effort\na,A,B,x,1,1,1\n")
    assert problems(path) == [
        f"{path}:1: columns 'Summary' and 'Title' could both be read as name; map the one you mean "
        "(name: <its header>) in a column mapping, or rename the other",
        f"{path}:2: column 4 (reach): 'x': 'x' is not a number; expected a number (500, 2.5k, 1.2M, 80%), a 90% "
        "range (200..800), or pert(min, mode, max), tri(min, mode, max), uniform(a, b), normal(mean, sd), beta(a, b)",
    ]


def test_a_missing_column_names_the_closest_header_and_the_fix(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,reach,impact,confidence,Efort (pm)\n" + ROWS.replace("50%", "x"))
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    first = info.value.problems[0]
    assert (first.value, first.fix) == ("Efort (pm)", "effort")
    assert [str(p) for p in info.value.problems] == [
        f"{path}:1: 'Efort (pm)': missing required column 'effort' (found: 'id', 'name', 'reach', 'impact', "
        "'confidence', 'Efort (pm)'); to read one of them as effort, map it ('effort: <its header>' under "
        "'columns:') in p.columns.yaml beside the file or in a file given with --columns; did you mean "
        "'Efort (pm)'? (fix: 'effort')",
        # the header problem does not hide the cells (and the missing column is not reported row by row)
        f"{path}:2: column 5 (confidence): 'x': unknown confidence word 'x'; expected a number or one of high (1), "
        "medium (0.8), low (0.5)",
        f"{path}:3: column 5 (confidence): 'x': unknown confidence word 'x'; expected a number or one of high (1), "
        "medium (0.8), low (0.5)",
    ]


def test_two_close_headers_are_both_named_without_a_fix(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,reach,impact,confidence,Efort,Effrt\na,A,1,1,1,1,1\n")
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    assert [(p.value, p.fix) for p in info.value.problems] == [(None, None)]
    assert str(info.value).endswith("did you mean 'Efort' or 'Effrt'?")


MAPPING = """\
columns:            # our column: their header
  id: Ticket
  name: What
  effort: PM
status:
  Parked: won't
  In Progress: open
"""


def test_a_mapping_file_given_explicitly(tmp_path):
    path = write(tmp_path / "p.csv", "Ticket,What,reach,impact,confidence,PM,Status\n"
                                     "T-1,A,1,1,1,2,In progress\nT-2,B,1,1,1,2,parked\n")
    mapping = write(tmp_path / "map.yaml", MAPPING)
    assert read_column_map(mapping) == ColumnMap({"id": "Ticket", "name": "What", "effort": "PM"},
                                                 {"parked": "won't", "in progress": "open"}, str(mapping))
    p = load_portfolio(path, columns=mapping)
    assert [(i.id, i.moscow, i.planned) for i in p] == [("T-1", None, False), ("T-2", "won't", False)]
    assert p.notes == (f"columns read with the mapping in {mapping}", "status: 1 won't")
    assert load_portfolio(path, columns=read_column_map(mapping)) == p


def test_a_json_mapping_file(tmp_path):
    mapping = write(tmp_path / "map.json", '{\n\t"columns": {"name": "What"},\n\t"status": {"Parked": "done"}\n}\n')
    assert read_column_map(mapping) == ColumnMap({"name": "What"}, {"parked": "done"}, str(mapping))


def test_a_companion_mapping_is_found_and_an_explicit_one_wins(tmp_path):
    path = write(tmp_path / "p.csv", "Ticket,What,reach,impact,confidence,PM\nT-1,A,1,1,1,2\n")
    companion = write(column_map_path(path), MAPPING)
    assert companion == tmp_path / "p.columns.yaml"
    assert load_portfolio(path).notes == (f"columns read with the mapping in {companion}",)
    explicit = write(tmp_path / "other.yaml", "columns:\n  id: Ticket\n  name: What\n  effort: PM\n")
    assert load_portfolio(path, columns=explicit).notes == (
        f"the column mapping in {companion} is not used: {explicit} is",
        f"columns read with the mapping in {explicit}")


def test_a_yaml_portfolio_with_its_own_columns_block(tmp_path):
    path = write(tmp_path / "p.yaml", "columns:\n  name: Title\n  effort: Effort PM\nstatus:\n  Parked: won't\n"
                 "initiatives:\n"
                 "  - {Key: a, Title: A, reach: 1, impact: 1, confidence: 50%, Effort PM: 2, status: Parked}\n"
                 "  - {Key: b, Title: B, reach: 1, impact: 1, confidence: 50%, Effort PM: 2}\n")
    p = load_portfolio(path)
    assert [(i.id, i.name, i.moscow) for i in p] == [("a", "A", "won't"), ("b", "B", None)]
    assert p.notes == ("column 'key' read as id", "columns read with the file's own 'columns:' block",
                       "status: 1 won't")


def test_a_yaml_key_typo_gets_did_you_mean_and_no_empty_cell_message(tmp_path):
    path = write(tmp_path / "p.yaml", "- id: a\n  name: A\n  reach: 1\n  impact: 1\n  confidence: 50%\n  efort: 2\n"
                                      "- {id: b, name: B, reach: 1, impact: 1, confidence: 50%, effort: 1, teams: X, "
                                      "notes: kept}\n")
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:6: column 10 (efort): unknown field 'efort'; did you mean 'effort'? (fix: 'effort')",
    ]
    path.write_text(path.read_text().replace("efort", "effort"))
    assert load_portfolio(path).notes == ("field 'teams' is kept as an extra column (did you mean 'team'? then rename "
                                          "it)",)


def test_a_yaml_without_a_required_field_says_how_to_map_it(tmp_path):
    path = write(tmp_path / "p.yaml", "- {id: a, name: A, reach: 1, impact: 1, confidence: 1, Effort in months: 2}\n")
    assert problems(path) == [
        f"{path}: missing required field 'effort' in every initiative (found: 'id', 'name', 'reach', 'impact', "
        "'confidence', 'effort_in_months'); to read one of them as effort, map it ('effort: <its header>' under "
        "'columns:') in p.columns.yaml beside the file or in a file given with --columns"]
    write(column_map_path(path), "columns:\n  effort: Effort in months\n")
    assert load_portfolio(path)["a"].effort.median() == 2


def test_a_mapped_header_that_is_not_in_the_file(tmp_path):
    path = write(tmp_path / "p.csv", "Ticket,What,reach,impact,confidence,PMs\nT-1,A,1,1,1,2\n")
    mapping = write(tmp_path / "map.yaml", MAPPING)
    assert problems(path, columns=mapping) == [
        f"{mapping}:4: the column mapping reads effort from 'PM', but p.csv has no such column (found: 'Ticket', "
        "'What', 'reach', 'impact', 'confidence', 'PMs'); did you mean 'PMs'? (fix: 'PMs')"]


def test_the_mapping_wins_over_a_column_named_as_ours(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,What,reach,impact,confidence,effort\na,old,new,1,1,1,1\n")
    p = load_portfolio(path, columns=ColumnMap({"name": "What"}))
    assert p["a"].name == "new" and p["a"].extra == {}
    assert p.notes == ("column 'name' is left out: the column mapping reads name from 'What'",
                       "columns read with the mapping given")


def test_mapping_file_problems_are_all_located(tmp_path):
    mapping = write(tmp_path / "map.yaml", "colums: {}\ncolumns:\n  efort: PM\n  name: What\n  id: what\n"
                                           "  reach: [a, b]\nstatus:\n  Parked: wont do\n  Shipped: finished\n")
    with pytest.raises(InputError) as info:
        read_column_map(mapping)
    assert [str(p) for p in info.value.problems] == [
        f"{mapping}:1: column 1: unknown section 'colums'; expected 'columns:' or 'status:'; did you mean 'columns'?",
        f"{mapping}:3: column 3: unknown column 'efort'; expected one of id, name, reach, impact, confidence, effort, "
        "team, theme, moscow, cost, depends_on, excludes, planned, max_per_quarter, earliest, deadline, "
        "planned_quarter, status; did you mean 'effort'?",
        f"{mapping}:5: column 3: id and name are both mapped to 'what'; a column can be read as one of them only",
        f"{mapping}:6: column 3: expected the header of your column that holds reach, as written in your file",
        f"{mapping}:9: column 12: status 'Shipped' is mapped to 'finished'; expected one of done, committed, open, "
        "won't",
    ]


@pytest.mark.parametrize("text, message", [
    ("- a\n", "1: expected a mapping with 'columns:' (our column: your header) and optionally 'status:' (your "
              "status: done, committed, open or won't)"),
    ("columns: [a]\n", "1: 'columns:' must be a mapping (our column: your header)"),
    ("columns: {id: !!python/object x}\n", "1: column 15: the tag !!python/object is not supported (nothing is "
                                           "constructed from tags); remove it"),
])
def test_a_mapping_file_that_is_not_a_mapping(tmp_path, text, message):
    mapping = write(tmp_path / "map.yaml", text)
    with pytest.raises(InputError) as info:
        read_column_map(mapping)
    assert [str(p) for p in info.value.problems] == [f"{mapping}:{message}"]


def test_a_missing_mapping_file(tmp_path):
    with pytest.raises(InputError, match="column mapping file not found"):
        load_portfolio(write(tmp_path / "p.csv", "id,name,reach,impact,confidence,effort\n" + ROWS),
                       columns=tmp_path / "nope.yaml")


# --- dates where an estimate belongs ------------------------------------------------------------


def test_dates_times_and_durations_in_an_excel_sheet(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name", "reach", "impact", "confidence", "effort", "cost"])
    ws.append(["a", "A", dt.datetime(2026, 3, 4), 1, 1, dt.time(3, 30), dt.date(2026, 4, 3)])
    ws.append(["b", "B", 1, dt.timedelta(days=2), 1, dt.datetime(2026, 3, 4, 12, 30), None])
    wb.save(tmp_path / "p.xlsx")
    path = tmp_path / "p.xlsx"
    assert problems(path) == [
        f"{path}:2: column C (reach): '2026-03-04': a date (2026-03-04) in the reach column: reach is a "
        "number of people or events per period; Excel turns '3-4' into a date: type the range as 3..4",
        f"{path}:2: column F (effort): '03:30:00': a time (03:30:00) in the effort column: effort is a number of "
        "person-months; format the column as Number (or Text) in Excel and type the value again",
        f"{path}:2: column G (cost): '2026-04-03': a date (2026-04-03) in the cost column: cost is a single "
        "amount (e.g. 120000 or 120k); format the column as Number (or Text) in Excel and type the value again",
        f"{path}:3: column D (impact): '2 days, 0:00:00': a duration (2 days, 0:00:00) in the impact column: impact "
        "is a number on your impact scale; format the column as Number (or Text) in Excel and type the value again",
        f"{path}:3: column F (effort): '2026-03-04 12:30:00': a date (2026-03-04 12:30) in the effort column: effort "
        "is a number of person-months; Excel turns '3-4' into a date: type the range as 3..4",
    ]


def test_a_date_written_in_yaml_or_csv(tmp_path):
    path = write(tmp_path / "p.yaml", "- {id: a, name: A, reach: 1, impact: 1, confidence: 2026-03-04, effort: 1}\n")
    assert problems(path) == [
        f"{path}:1: column 53 (confidence): '2026-03-04': a date (2026-03-04) in the confidence column: confidence "
        "is a percentage (e.g. 80%); type a number, or a range such as 3..4"]
    path = write(tmp_path / "p.csv", "id,name,reach,impact,confidence,effort,cost\na,A,1,1,1,1,2026-03-04\n")
    assert problems(path) == [
        f"{path}:2: column 7 (cost): '2026-03-04': a date (2026-03-04) in the cost column: cost is a single amount "
        "(e.g. 120000 or 120k); type the amount as a number"]


# --- any header, any cell: a portfolio or located problems ------------------------------------------

HEADER_WORDS = st.sampled_from(["id", "name", "Summary", "Title", "Issue key", "Key", "reach", "Reach (users)",
                                "Custom field (Impact)", "impact", "confidence", "Confidence [%]", "effort",
                                "Effort (pm)", "efort", "Status", "status", "moscow", "planned", "depends_on",
                                "excludes", "team", "cost", "", " ", "(", ")", "[x]", "Custom field (", "Idea"])
CELLS = st.one_of(st.sampled_from(["", "1", "2..4", "80%", "Done", "In Progress", "won't", "x", "a", "b", "Idea",
                                   "2026-03-04", "must", "yes", "a;b"]), st.text(max_size=12))


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.one_of(HEADER_WORDS, st.text(max_size=20)), min_size=1, max_size=9),
       rows=st.lists(st.lists(CELLS, max_size=9), max_size=4))
def test_any_header_and_cells_give_a_portfolio_or_problems(tmp_path, header, rows):
    path = tmp_path / "p.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    try:
        result = load_portfolio(path)
    except InputError as e:
        assert e.problems and all(str(p) for p in e.problems)
    else:
        assert isinstance(result, Portfolio) and len(result) + len(result.done) > 0
        assert len(set(result.ids)) == len(result)


def test_read_table_names_the_columns_as_ours(tmp_path):
    path = write(tmp_path / "p.csv", "Key,Idea,Reach [users],Impact,Confidence,Effort (pm),Notes\nK,A,1,1,1,1,n\n")
    table = read_table(path)
    assert list(table.rows[0]) == ["id", "name", "reach", "impact", "confidence", "effort", "notes"]


def test_a_mapped_optional_column_that_is_not_in_the_file(tmp_path):
    path = write(tmp_path / "p.csv", "Ticket,name,reach,impact,confidence,effort,State\nT-1,A,1,1,1,2,Done\n")
    mapping = write(tmp_path / "map.yaml", "columns:\n  id: Tickets\n  status: Workflow\n")
    assert problems(path, columns=mapping) == [
        f"{mapping}:2: the column mapping reads id from 'Tickets', but p.csv has no such column (found: 'Ticket', "
        "'name', 'reach', 'impact', 'confidence', 'effort', 'State'); did you mean 'Ticket'? (fix: 'Ticket')",
        f"{mapping}:3: the column mapping reads status from 'Workflow', but p.csv has no such column (found: "
        "'Ticket', 'name', 'reach', 'impact', 'confidence', 'effort', 'State')"]


def test_effort_in_weeks_is_not_read_as_person_months(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("Idea,Reach,Impact,Confidence,Effort (weeks)\nSearch,100,1,80%,6\n")
    with pytest.raises(InputError) as e:
        load_portfolio(path)
    assert [str(p) for p in e.value.problems] == [
        f"{path}:1: column 'Effort (weeks)' holds effort in weeks; effort is read in person-months: convert the "
        "column to person-months, or if it holds person-months, map it ('effort: <its header>' under 'columns:') in "
        "p.columns.yaml beside the file or in a file given with --columns"]
    (tmp_path / "p.columns.yaml").write_text("columns:\n  effort: Effort (weeks)\n")  # the user says: months
    assert load_portfolio(path)["search"].effort.median() == 6


# --- repeated headers (Jira writes one column per value of a multi-value field) -----------------------

JIRA_HEADER = ["Summary", "Issue key", "Issue id", "Parent id", "Issue Type", "Status", "Sprint", "Sprint", "Labels",
               "Labels", "Labels", "Custom field (Reach)", "Custom field (Impact)", "Custom field (Confidence)",
               "Custom field (Effort)"]
JIRA_ROWS = [["Smart search", "PROD-101", "10001", "", "Story", "To Do", "Sprint 14", "", "search", "growth", "",
              "4000", "2", "80%", "3"],
             ["Dark mode", "PROD-102", "10002", "10001", "Story", "Done", "Sprint 13", "Sprint 14", "ui", "", "",
              "", "", "", ""]]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_real_jira_export_keeps_repeated_headers_as_extra_columns(tmp_path, suffix):
    path = tmp_path / f"jira.{suffix}"
    if suffix == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([JIRA_HEADER, *JIRA_ROWS])
    else:
        wb = openpyxl.Workbook()
        for row in [JIRA_HEADER, *JIRA_ROWS]:
            wb.active.append([v or None for v in row])
        wb.save(path)
    p = load_portfolio(path)
    assert p.ids == ["PROD-101"] and p.done == (("PROD-102", "Dark mode"),)
    assert p["PROD-101"].extra == {"issue_id": "10001", "parent_id": None if
                                   suffix == "xlsx" else "", "issue_type": "Story", "sprint": "Sprint 14",
                                   "sprint_2": None if suffix == "xlsx" else "", "labels": "search",
                                   "labels_2": "growth", "labels_3": None if suffix == "xlsx" else ""}
    assert p.notes[:4] == (
        "column 'Sprint' appears 2 times (Jira writes one per value): kept as sprint, sprint_2",
        "column 'Labels' appears 3 times (Jira writes one per value): kept as labels, labels_2, labels_3",
        "column 'Summary' read as name",
        "column 'Issue key' read as id")


def test_a_repeated_header_of_our_column_is_a_problem(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,reach,impact,confidence,effort,Reach,Summary,Summary\n"
                                     "a,A,1,1,1,1,2,x,y\n")
    assert problems(path) == [
        f"{path}:1: column 'Reach' repeats column 'reach' (names are case- and space-insensitive); reach is read from "
        "one column: delete or rename the other",
        f"{path}:1: column 'Summary' appears 2 times in the header; name is read from one column: delete or rename "
        "the other"]


@pytest.mark.parametrize("header, message", [
    ("Reach (k users)", "column 'Reach (k users)' counts in thousands; reach is read as written: multiply the column "
                        "(or write 12k) or, if it holds plain numbers, "),
    ("Reach (thousands)", "column 'Reach (thousands)' counts in thousands; reach is read as written: multiply the "
                          "column (or write 12k) or, if it holds plain numbers, "),
    ("Reach (M users)", "column 'Reach (M users)' counts in millions; reach is read as written: multiply the column "
                        "(or write 12M) or, if it holds plain numbers, "),
    ("Effort (SP)", "column 'Effort (SP)' holds effort in story points; effort is read in person-months: convert the "
                    "column to person-months, or if it holds person-months, "),
    ("Effort (points)", "column 'Effort (points)' holds effort in points; effort is read in person-months: convert "
                        "the column to person-months, or if it holds person-months, "),
    ("Effort (story points)", "column 'Effort (story points)' holds effort in story points; effort is read in "
                              "person-months: convert the column to person-months, or if it holds person-months, "),
])
def test_header_units_that_scale_or_change_the_value_are_a_problem_until_mapped(tmp_path, header, message):
    columns = ["name", "reach", "impact", "confidence", "effort"]
    columns[1 if header.startswith("Reach") else 4] = header
    path = write(tmp_path / "p.csv", ",".join(columns) + "\nSearch,12,1,80%,3\n")
    assert problems(path) == [f"{path}:1: {message}map it ('{header.split()[0].lower()}: <its header>' under "
                              "'columns:') in p.columns.yaml beside the file or in a file given with --columns"]
    write(tmp_path / "p.columns.yaml", f"columns:\n  {header.split()[0].lower()}: {header}\n")
    assert load_portfolio(path)["search"].reach.median() == 12


@pytest.mark.parametrize("header", ["Cost ($k)", "Cost (k€)"])
def test_a_cost_in_thousands_is_a_problem(tmp_path, header):
    path = write(tmp_path / "p.csv", f"name,reach,impact,confidence,effort,{header}\nSearch,12,1,80%,3,50\n")
    assert problems(path) == [
        f"{path}:1: column {header!r} counts in thousands; cost is read as written: multiply the column (or write 12k) "
        "or, if it holds plain numbers, map it ('cost: <its header>' under 'columns:') in p.columns.yaml beside the "
        "file or in a file given with --columns"]


def test_a_yaml_key_close_to_a_column_the_row_has_is_an_extra(tmp_path):
    path = write(tmp_path / "p.yaml", "initiatives:\n  - {id: a, name: A, reach: 100, impact: 1, confidence: 80%, "
                                      "effort: 2, team: Core, teams: 'Core, Growth', cost: 5, costs: 3 servers}\n")
    p = load_portfolio(path)
    assert p["a"].team == "Core" and p["a"].cost == 5
    assert p["a"].extra == {"teams": "Core, Growth", "costs": "3 servers"}


def test_did_you_mean_counts_swapped_letters_as_one_edit(tmp_path):
    assert did_you_mean("nmae", COLUMNS) == "; did you mean 'name'?"
    assert did_you_mean("confidnece", COLUMNS) == "; did you mean 'confidence'?"
    assert did_you_mean("eamt", COLUMNS) == ""  # two swaps from 'team': too far for four letters
    path = write(tmp_path / "p.yaml", "- {id: a, nmae: A, reach: 1, impact: 1, confidence: 50%, effort: 2}\n")
    assert problems(path) == [f"{path}:1: column 17 (nmae): unknown field 'nmae'; did you mean 'name'? (fix: 'name')"]


# --- effort with a scale, numbers in a ';' file ---------------------------------------------------------


def test_effort_with_a_scale_is_refused_and_3m_gets_the_fix(tmp_path):
    path = write(tmp_path / "p.csv", "name,reach,impact,confidence,effort\nA,100,1,80%,3m\nB,100,1,80%,2k\n"
                                     "C,1,1,80%,2m..4m\n")
    assert problems(path) == [
        f"{path}:2: column 5 (effort): '3m': effort is in person-months; '3m' reads as 3 million: write 3 for 3 "
        "months (fix: '3')",
        f"{path}:3: column 5 (effort): '2k': effort is in person-months; '2k' reads as 2 thousand: write the "
        "person-months as a plain number",
        f"{path}:4: column 5 (effort): '2m..4m': effort is in person-months; '2m' reads as 2 million: write 2 for 2 "
        "months (fix: '2..4')"]


def test_a_semicolon_file_records_its_separator_and_refuses_dotted_thousands(tmp_path):
    path = write(tmp_path / "euro.csv", "Name;Reach;Impact;Confidence;Effort;Cost\nA;1.200;2;80%;2;1.200.000\n"
                                        "B;12.000;1;70%;0.125;\nC;1.5;1;70%;2;\n")
    assert read_table(path).delimiter == ";"
    assert problems(path) == [
        f"{path}:2: column 2 (Reach): '1.200': '1.200' in a file separated by ';': a thousands point or a decimal "
        "point? write 1200 or 1.2 (no separators in numbers)",
        f"{path}:2: column 6 (Cost): '1.200.000': '1.200.000' in a file separated by ';': a thousands point or a "
        "decimal point? write 1200000 (no separators in numbers)",
        f"{path}:3: column 2 (Reach): '12.000': '12.000' in a file separated by ';': a thousands point or a decimal "
        "point? write 12000 or 12 (no separators in numbers)"]
    comma = write(tmp_path / "p.csv", "name,reach,impact,confidence,effort\nA,1.200,1,80%,2\n")
    assert read_table(comma).delimiter == "," and load_portfolio(comma)["a"].reach.median() == 1.2


# --- a title above the header ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_title_row_above_the_header_is_one_problem(tmp_path, suffix):
    rows = [["Q1 roadmap candidates", "", "", "", ""], ["Idea", "Reach", "Impact", "Confidence", "Effort"],
            ["Search", "100", "1", "80%", "2"]]
    path = tmp_path / f"p.{suffix}"
    if suffix == "csv":
        with open(path, "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
    else:
        wb = openpyxl.Workbook()
        for row in rows:
            wb.active.append([v or None for v in row])
        wb.save(path)
    assert problems(path) == [
        f"{path}:1: 'Q1 roadmap candidates': line 1 looks like a title above the header (line 2 holds the column "
        "names: 'Idea', 'Reach', 'Impact', 'Confidence', 'Effort'); delete line 1"]


YAML_KEYS = st.sampled_from(["id", "name", "nmae", "reach", "impact", "confidence", "effort", "efort", "status",
                             "planned", "moscow", "team", "teams", "cost", "costs", "depends_on", "excludes", "notes"])
YAML_VALUES = st.one_of(st.sampled_from(["", "1", "3m", "80%", "Done", "In Progress", "Won't Do", "maybe", "80",
                                         "must", "yes", "a", "b", "2026-03-04", "1.200"]), st.integers(-2, 100))
STATUS_VALUES = st.sampled_from(["", "Done", "In Progress", "Won't Do", "To Do", "Parked"])


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.dictionaries(YAML_KEYS, YAML_VALUES, max_size=10),
                                st.fixed_dictionaries({"status": STATUS_VALUES, "planned": YAML_VALUES,
                                                       "moscow": YAML_VALUES})), min_size=1, max_size=4))
def test_any_yaml_keys_and_statuses_give_a_portfolio_or_problems(tmp_path, rows):
    path = tmp_path / "p.yaml"  # every row has a status, planned and moscow cell: they interact
    path.write_text("initiatives:\n" + "".join(
        "  - {" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in {**row, **given}.items()) + "}\n"
        for row, given in rows),
        encoding="utf-8")
    try:
        result = load_portfolio(path)
    except InputError as e:
        assert e.problems and all(str(p) for p in e.problems)
    else:
        assert isinstance(result, Portfolio) and len(result) + len(result.done) > 0


def test_a_productboard_export_reads_without_a_mapping(tmp_path):
    path = write(tmp_path / "pb.csv", "Feature name,Feature description,Status,Owner,RICE - Reach,RICE - Impact,"
                                      "RICE - Confidence,RICE - Effort,Release\n"
                                      "Smart search,Find anything,Ready for QA,Ann,4000,2,80%,3,Q3\n")
    p = load_portfolio(path)
    assert [(i.id, i.name, i.reach.median(), i.planned) for i in p] == [("smart-search", "Smart search", 4000, True)]
    assert p.notes[:2] == ("column 'Feature name' read as name", "column 'RICE - Reach' read as reach")


def test_no_id_and_no_name_column_is_one_problem(tmp_path):
    path = write(tmp_path / "p.csv", "reach,impact,confidence,effort\n1,1,80%,2\n2,1,80%,2\n")
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:1: missing required column 'name' (found: 'reach', 'impact', 'confidence', 'effort'); to read one "
        "of them as name, map it ('name: <its header>' under 'columns:') in p.columns.yaml beside the file or in a "
        "file given with --columns"]


def test_a_formula_without_result_in_a_column_not_read_is_a_note(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["id", "name", "reach", "impact", "confidence", "effort", "notes"])
    wb.active.append(["a", "A", 100, 1, "80%", 2, "=1+1"])  # openpyxl saves no result
    wb.save(tmp_path / "p.xlsx")
    assert load_portfolio(tmp_path / "p.xlsx").notes == (
        "G2 holds the formula '=1+1' with no saved result: open and save the file in Excel (it saves the results), "
        "or export it as CSV (column G (notes) is not one the workbench reads: it is left as it is)",)

"""The status column: done work is left out (and listed), in-progress work is committed, won't-do is
won't; values as product tools write them, or as a column mapping's `status:` block says.

Every note and message is asserted in full (they are the spec).
"""

from __future__ import annotations

import pytest
from test_columns import problems, write

from workbench.io.columns import ColumnMap, status_key, status_words
from workbench.io.read import load_portfolio

HEADER = "id,name,reach,impact,confidence,effort,status,moscow,planned,depends_on,excludes\n"


def test_done_committed_wont_and_open(tmp_path):
    path = write(tmp_path / "p.csv", HEADER +
                 "a,A,1,1,1,1,Done,,,,\n"
                 "b,B,,,,x,Closed,,,,\n"  # finished work: its estimates are not read (often blank)
                 "c,C,1,1,1,1,In Progress,,,a,\n"
                 "d,D,1,1,1,1,in   progress,could,no,,\n"
                 "e,E,1,1,1,1,Won’t Do,,,,\n"
                 "f,F,1,1,1,1,todo,,,,b\n"
                 "g,G,1,1,1,1,,must,,,\n")
    p = load_portfolio(path)
    assert p.done == (("a", "A"), ("b", "B"))
    assert [(i.id, i.moscow, i.planned, i.depends_on, i.excludes) for i in p] == [
        ("c", "must", True, (), ()),  # committed: must-have, in the current plan; its dependency on done 'a' is met
        ("d", "could", False, (), ()),  # committed, but its own cells say otherwise: the cells win
        ("e", "won't", False, (), ()),
        ("f", "won't", False, (), ()),  # it excludes 'b', which is done: it cannot be funded any more
        ("g", "must", False, (), ()),
    ]
    assert p.notes == (
        "status: 2 done (left out of the decision, listed as done), 2 committed (must-have, in the current plan), "
        "1 won't",
        "committed, but the row's own moscow or planned cell says otherwise (the cell wins): 'd'",
        "dependencies on done initiatives are met and left out: 'c' on 'a'",
        "excluded by a done initiative, so they cannot be funded any more (moscow set to won't): 'f' (excludes 'b')",
    )


def test_an_unknown_status_lists_the_known_ones_and_how_to_map_it(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "a,A,1,1,1,1,Shiped,,,,\nb,B,1,1,1,1,Parked,,,,\n")
    known = ("the statuses read are done (done, closed, resolved, shipped, …); committed (in progress, committed, "
             "in development, in review, …); open (to do, backlog, open, ready for dev, …); won't (won't do, won't "
             "fix, rejected, cancelled, …)")
    assert problems(path) == [
        f"{path}:2: column 7 (status): 'Shiped': unknown status; did you mean 'shipped'?; {known}; to read it as one "
        "of them, map it under 'status:' in a column mapping (e.g. 'Shiped': open)",
        f"{path}:3: column 7 (status): 'Parked': unknown status; {known}; to read it as one of them, map it under "
        "'status:' in a column mapping (e.g. 'Parked': open)",
    ]
    mapping = write(tmp_path / "m.yaml", "status:\n  Parked: wont\n  Shiped: done\n")
    p = load_portfolio(path, columns=mapping)
    assert p.done == (("a", "A"),) and p["b"].moscow == "won't"


def test_the_mapping_overrides_a_default(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "a,A,1,1,1,1,In Progress,,,,\nb,B,1,1,1,1,Doing,,,,\n")
    p = load_portfolio(path, columns=ColumnMap(status={"in progress": "open"}))
    assert [(i.id, i.moscow, i.planned) for i in p] == [("a", None, False), ("b", "must", True)]
    assert status_words(ColumnMap(status={"in progress": "open"}))["in progress"] == "open"
    assert status_key(" Won’t_Do ") == "won't do"


def test_wont_do_with_another_moscow_is_a_problem(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "a,A,1,1,1,1,Won't Fix,should,,,\nb,B,1,1,1,1,Rejected,won't,,,\n")
    assert problems(path) == [
        f"{path}:2: column 8 (moscow): 'should': the status \"Won't Fix\" means won't, but the moscow cell says "
        "should; change the one or the other"]


def test_a_must_have_that_excludes_done_work_is_a_problem(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "a,A,1,1,1,1,Shipped,,,,\nb,B,1,1,1,1,,must,,,a\n"
                                              "c,C,1,1,1,1,Doing,,,,a\n")
    assert problems(path) == [
        f"{path}:3: column 11 (excludes): 'a': excludes: 'a' is done, so this initiative cannot be funded any more, "
        "but it is a must-have; remove the one or the other",
        f"{path}:4: column 11 (excludes): 'a': excludes: 'a' is done, so this initiative cannot be funded any more, "
        "but it is a must-have (its status 'Doing' makes it committed); remove the one or the other",
    ]


def test_a_done_row_keeps_its_id_and_checks_it(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "a,A,1,1,1,1,Done,,,,\na,B,1,1,1,1,,,,,\nc,C,1,1,1,1,,,,zzz,\n")
    assert problems(path) == [f"{path}:3: column 1 (id): 'a': duplicate id (first used on line 2)",
                              f"{path}:4: column 10 (depends_on): 'zzz': depends_on: unknown id 'zzz'"]


def test_every_row_done_is_no_decision_but_not_an_error(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "a,A,,,,,Released,,,,\n")
    assert problems(path) == [f"{path}: the portfolio has no initiatives; every row's status is done"]


def test_status_in_yaml_and_correlations_with_done_work(tmp_path):
    path = write(tmp_path / "p.yaml", "initiatives:\n"
                 "  - {id: a, name: A, reach: 1, impact: 1, confidence: 1, effort: 1, status: Complete}\n"
                 "  - {id: b, name: B, reach: 1, impact: 1, confidence: 1, effort: 1, status: Backlog}\n"
                 "correlations:\n  - [a.reach, b.reach, 0.5]\n")
    p = load_portfolio(path)
    assert p.ids == ["b"] and p.done == (("a", "A"),) and p.correlations == ()
    assert "status" not in p["b"].extra


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".yaml"])
def test_a_saved_copy_keeps_the_done_rows(tmp_path, suffix):
    from workbench.io.write import save_portfolio

    path = write(tmp_path / "p.csv", HEADER + "a,A,1,1,1,1,Done,,,,\n" "c,C,1,1,1,1,To do,,,,\n")
    saved = save_portfolio(load_portfolio(path), tmp_path / f"copy{suffix}")
    again = load_portfolio(saved)
    assert again.done == (("a", "A"),)  # nothing lost: done work stays in the file, out of the decision
    assert [i.id for i in again] == ["c"]


@pytest.mark.parametrize("status", ["Ready for Dev", "ready for development", "In Design", "Blocked", "On hold"])
def test_more_default_statuses_are_open(tmp_path, status):
    path = write(tmp_path / "p.csv", HEADER + f"a,A,1,1,1,1,{status},,,,\n")
    assert [(i.moscow, i.planned) for i in load_portfolio(path)] == [(None, False)]


@pytest.mark.parametrize("suffix", ["csv", "yaml"])
def test_a_committed_row_with_a_bad_planned_cell_reports_the_cell(tmp_path, suffix):
    if suffix == "csv":
        path = write(tmp_path / "p.csv", "name,reach,impact,confidence,effort,planned,status\nA,1,1,80%,1,maybe,"
                                         "In Progress\n")
        where = "2: column 6 (planned): 'maybe'"
    else:
        path = write(tmp_path / "p.yaml", "- {id: a, name: A, reach: 1, impact: 1, confidence: 80%, effort: 1, "
                                          "planned: 80, status: In Progress}\n")
        where = "1: column 78 (planned): '80'"
    assert problems(path) == [f"{path}:{where}: expected true or false (or yes/no, 1/0, empty)"]

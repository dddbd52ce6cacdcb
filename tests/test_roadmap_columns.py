"""The roadmap's optional columns (max_per_quarter, earliest, deadline, planned_quarter): read from
CSV, .xlsx and YAML, every bad cell located, quarters normalized, written back equal, found by synonyms.

Expected values are written out by hand (what the cells say), never taken from the code under test.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from workbench.errors import InputError
from workbench.io.columns import ColumnMap, synonym
from workbench.io.read import load_portfolio
from workbench.io.write import save_portfolio
from workbench.model.portfolio import OPTIONAL, Initiative, Portfolio
from workbench.model.quarters import parse_quarter

BASE = ["id", "name", "reach", "impact", "confidence", "effort"]
ROADMAP = ["max_per_quarter", "earliest", "deadline", "planned_quarter"]
# id -> (max_per_quarter, earliest, deadline, planned_quarter) as written, and as read
ROWS = {
    "a": (("4", "2027Q1", "2027Q4", "2027Q2"), (4.0, "2027Q1", "2027Q4", "2027Q2")),
    "b": (("4.5", "q1 2027", "2027-Q3", "Q2-2027"), (4.5, "2027Q1", "2027Q3", "2027Q2")),
    "c": (("1.5k", "", "Q1 2027", ""), (1500.0, None, "2027Q1", None)),
    "d": (("", "2028 q2", "", "q4/2027"), (None, "2028Q2", None, "2027Q4")),
    "e": (("", "", "", ""), (None, None, None, None)),
}


def grid(rows: dict[str, tuple], header: list[str] = BASE + ROADMAP) -> list[list]:
    return [header, *([id_, f"Name {id_}", "100", "1", "80%", "2", *cells] for id_, cells in rows.items())]


def write(tmp_path: Path, fmt: str, lines: list[list], name: str = "p") -> Path:
    """The grid as a CSV, an .xlsx (empty cells left untouched) or a YAML list of initiatives."""
    path = tmp_path / f"{name}.{fmt}"
    header, *body = lines
    if fmt == "csv":
        path.write_text("".join(",".join(str(c) for c in line) + "\n" for line in lines), encoding="utf-8")
    elif fmt == "xlsx":
        wb = openpyxl.Workbook()
        for line in lines:
            wb.active.append([None if c == "" else c for c in line])
        wb.save(path)
    else:
        items = []
        for line in body:
            fields = "".join(f"    {h}: {c!s}\n" if not isinstance(c, str) else f"    {h}: \"{c}\"\n"
                             for h, c in zip(header, line) if c != "")
            items.append("  - " + fields[4:])
        path.write_text("initiatives:\n" + "".join(items), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "yaml"])
def test_the_four_columns_are_read_and_quarters_normalized(tmp_path, fmt):
    p = load_portfolio(write(tmp_path, fmt, grid({k: v[0] for k, v in ROWS.items()})))
    for id_, (_, expected) in ROWS.items():
        got = tuple(getattr(p[id_], col) for col in ROADMAP)
        assert got == expected, id_
        assert [type(v) for v in got] == [type(v) for v in expected], id_
    assert p["b"].quarter("earliest") == 2027 * 4 and p["d"].quarter("earliest") == 2028 * 4 + 1
    assert p["e"].quarter("deadline") is None


BAD = {  # cell -> the words its problem must hold
    "max_per_quarter": {"2..4": "single amount > 0", "0": "> 0", "-2": "max_per_quarter", "50%": "not a percentage",
                        "2027-01-01": "a date", "3m": "person-months", "lots": "max_per_quarter"},
    "earliest": {"Q5 2027": "2027Q1", "2027": "2027Q1", "next year": "2027Q1", "2027-02-01": "not a date"},
    "deadline": {"Q1": "2027Q1", "1800Q1": "a year between 1900 and 2999"},
    "planned_quarter": {"2027Q0": "2027Q1", "soon": "2027Q1"},
}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "yaml"])
def test_every_bad_cell_is_reported_at_once_with_line_and_column(tmp_path, fmt):
    rows, where = {}, {}
    for col, cases in BAD.items():
        for k, cell in enumerate(cases):
            id_ = f"{col}-{k}"
            cells = ["", "", "", ""]
            cells[ROADMAP.index(col)] = cell
            rows[id_] = cells
            where[id_] = (len(rows) + 1, col, cell, cases[cell])  # line: the header is line 1
    path = write(tmp_path, fmt, grid(rows))
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    found = info.value.problems
    assert len(found) == len(rows), found
    for id_, (line, col, cell, words) in where.items():
        if fmt == "yaml":  # a YAML cell is located on the line of its field; each item has id..effort first
            line = 2 + (line - 2) * 7 + 6
        hits = [p for p in found if (p.file, p.line, p.value) == (str(path), line, cell) and f"({col})" in p.column]
        assert len(hits) == 1 and words in hits[0].message, (id_, line, found)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "yaml"])
def test_an_earliest_start_after_the_deadline_is_located(tmp_path, fmt):
    path = write(tmp_path, fmt, grid({"a": ("", "2027Q3", "2027 Q2", ""), "b": ("", "2027Q2", "2027Q2", "")}))
    found = problems(path)
    assert len(found) == 1 and "earliest 2027Q3 is after the deadline 2027Q2" in found[0], found
    line = 2 if fmt != "yaml" else 8  # row a; in YAML its earliest field (lines 2..7 hold id..effort)
    assert found[0].startswith(f"{path}:{line}: column ") and "(earliest): '2027Q3'" in found[0], found


def test_excel_dates_and_numbers_in_quarter_cells_are_refused_with_the_form_expected(tmp_path):
    lines = grid({"a": ("", dt.datetime(2027, 2, 1), 2027, ""), "b": (dt.datetime(2027, 1, 4), "", "", 2027.5)})
    found = problems(write(tmp_path, "xlsx", lines))
    assert len(found) == 4, found
    by_column = {f.split("(")[1].split(")")[0]: f for f in found}
    assert "a date" in by_column["earliest"] and "2027Q1 holds that date" in by_column["earliest"]
    assert ":2: " in by_column["earliest"] and "format the column as Text" in by_column["earliest"]
    assert "a number" in by_column["deadline"] and "'2027'" in by_column["deadline"]
    assert ":3: " in by_column["planned_quarter"] and "a number" in by_column["planned_quarter"]
    assert "a date" in by_column["max_per_quarter"] and "format the column as Number" in by_column["max_per_quarter"]


@pytest.mark.parametrize("read_fmt", ["csv", "xlsx", "yaml"])
@pytest.mark.parametrize("write_fmt", ["csv", "xlsx", "yaml"])
def test_writers_round_trip(tmp_path, read_fmt, write_fmt):
    first = load_portfolio(write(tmp_path, read_fmt, grid({k: v[0] for k, v in ROWS.items()})))
    saved = save_portfolio(first, tmp_path / f"saved.{write_fmt}")
    again = load_portfolio(saved)
    assert again.initiatives == first.initiatives
    assert [again[i].max_per_quarter for i in ROWS] == [v[1][0] for v in ROWS.values()]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "yaml"])
def test_a_portfolio_without_the_columns_is_unchanged(tmp_path, fmt):
    plain = {k: () for k in "abc"}
    p = load_portfolio(write(tmp_path, fmt, grid(plain, BASE)))
    assert all(getattr(ini, col) is None for ini in p for col in ROADMAP)
    assert not set(ROADMAP) & set(p.to_frame().columns)
    saved = save_portfolio(p, tmp_path / f"saved.{fmt}")
    header = (openpyxl.load_workbook(saved).active[1] if fmt == "xlsx" else None)
    text = saved.read_text(encoding="utf-8-sig") if fmt != "xlsx" else " ".join(str(c.value) for c in header)
    assert not any(col in text for col in ROADMAP), text


def test_to_frame_shows_the_columns_when_an_initiative_sets_one(tmp_path):
    p = load_portfolio(write(tmp_path, "csv", grid({k: v[0] for k, v in ROWS.items()})))
    frame = p.to_frame()
    assert frame.loc["b", "earliest"] == "2027Q1" and frame.loc["e", "earliest"] is None
    assert frame.loc["c", "max_per_quarter"] == 1500.0


@pytest.mark.parametrize("header, column", [
    ("Max per quarter", "max_per_quarter"), ("Max PM per quarter", "max_per_quarter"),
    ("Max per quarter (PM/quarter)", "max_per_quarter"), ("Earliest start", "earliest"), ("Not before", "earliest"),
    ("Earliest quarter", "earliest"), ("Deadline", "deadline"), ("Due", "deadline"), ("Due quarter", "deadline"),
    ("Custom field (Deadline)", "deadline"), ("Planned quarter", "planned_quarter"),
    ("Start quarter", "planned_quarter"), ("Planned start", "planned_quarter"),
])
def test_the_column_mapping_finds_the_synonyms(tmp_path, header, column):
    assert synonym(header) in (column, None)  # None: the column's own name, read without a synonym
    cells = {"earliest": "Q1 2027", "deadline": "2027q4", "planned_quarter": "2027-Q2", "max_per_quarter": "3"}
    path = write(tmp_path, "csv", [[*BASE, header], ["a", "A", "1", "1", "80%", "2", cells[column]]])
    got = getattr(load_portfolio(path)["a"], column)
    assert got == {"earliest": "2027Q1", "deadline": "2027Q4", "planned_quarter": "2027Q2", "max_per_quarter": 3.0}[
        column]


@pytest.mark.parametrize("header", ["Quarter", "Target quarter", "Due date", "Start after"])
def test_ambiguous_headers_stay_extra_columns(tmp_path, header):
    path = write(tmp_path, "csv", [[*BASE, header], ["a", "A", "1", "1", "80%", "2", "whenever"]])
    ini = load_portfolio(path)["a"]
    assert all(getattr(ini, col) is None for col in ROADMAP) and list(ini.extra.values()) == ["whenever"]


def test_a_mapping_reads_an_ambiguous_header_as_a_roadmap_column(tmp_path):
    path = write(tmp_path, "csv", [[*BASE, "Target quarter"], ["a", "A", "1", "1", "80%", "2", "Q3 2027"]])
    assert load_portfolio(path, columns=ColumnMap({"deadline": "Target quarter"}))["a"].deadline == "2027Q3"


def test_a_pace_header_in_weeks_is_a_problem_until_mapped(tmp_path):
    path = write(tmp_path, "csv", [[*BASE, "Max per quarter (weeks)"], ["a", "A", "1", "1", "80%", "2", "6"]])
    assert any("holds max_per_quarter in weeks" in f for f in problems(path))


def test_the_columns_are_optional_columns_of_the_model():
    assert set(ROADMAP) <= set(OPTIONAL)


def test_initiatives_built_in_code_are_checked():
    from workbench.model.estimates import parse_estimate

    def make(**kw) -> Initiative:
        return Initiative("a", "A", *(parse_estimate(t, f) for t, f in
                                      zip(("1", "1", "80%", "2"), ("reach", "impact", "confidence", "effort"))), **kw)

    ok = make(max_per_quarter=2.5, earliest="2027Q1", deadline="2027Q1", planned_quarter="2027Q1")
    assert Portfolio((ok,)).initiatives[0].quarter("deadline") == parse_quarter("2027Q1")
    for bad, words in [(dict(max_per_quarter=0.0), "> 0"), (dict(max_per_quarter=float("nan")), "> 0"),
                       (dict(earliest="Q1 2027"), "write 2027Q1"), (dict(deadline="soon"), "2027Q1"),
                       (dict(earliest="2027Q2", deadline="2027Q1"), "after the deadline 2027Q1")]:
        with pytest.raises(ValueError, match=words.replace("(", r"\(")):
            make(**bad)
    assert replace(ok, planned_quarter=None).planned_quarter is None

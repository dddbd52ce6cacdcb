"""`write_starter` (`workbench init`): a starter portfolio in each format that reads back as two
initiatives showing the grammar, with every column explained, and never replaces a file."""

from __future__ import annotations

import os

import openpyxl
import pytest

from workbench.errors import InputError
from workbench.io.columns import COLUMNS
from workbench.io.read import load_portfolio, read_table
from workbench.io.starter import write_starter

FORMATS = ["csv", "xlsx", "yaml", "yml"]


def messages(call) -> list[str]:
    with pytest.raises(InputError) as info:
        call()
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("suffix", FORMATS)
def test_each_starter_reads_back_as_two_initiatives_showing_the_grammar(tmp_path, suffix):
    path = write_starter(tmp_path / f"portfolio.{suffix}")
    assert path == tmp_path / f"portfolio.{suffix}"
    p = load_portfolio(path)
    assert p.ids == ["onboarding-checklist", "usage-reports"]
    first, second = p
    assert [first.estimate(f).text for f in ("reach", "impact", "confidence", "effort")] == [
        "200..800", "medium", "80%", "pert(1, 2, 5)"]
    assert [second.estimate(f).text for f in ("reach", "impact", "confidence", "effort")] == [
        "1k..3k", "low..high", "60%..90%", "2..4"]
    assert (first.cost, first.moscow, first.planned, first.team) == (2500, "must", True, "Growth")
    assert (second.depends_on, second.moscow, second.planned) == (("onboarding-checklist",), "should", False)


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_header_has_every_column(tmp_path, suffix):
    table = read_table(write_starter(tmp_path / f"p.{suffix}"))
    assert [h.lower() for h in table.header] == [*COLUMNS, "notes"]


def test_yaml_explains_every_key_in_its_header_comment(tmp_path):
    text = write_starter(tmp_path / "p.yaml").read_text(encoding="utf-8")
    comment, body = text.split("\ninitiatives:\n")
    assert all(line.startswith("#") or not line for line in comment.splitlines())
    for column in COLUMNS:
        assert f"\n# {column} " in comment
    for form in ("200..800", "2.5k", "80%", "pert(1, 2, 5)", "must, should, could or won't", "depends_on"):
        assert form in comment
    assert body.startswith("  - id: onboarding-checklist\n")


def test_xlsx_explains_every_column_on_a_notes_sheet_after_the_portfolio(tmp_path):
    wb = openpyxl.load_workbook(write_starter(tmp_path / "p.xlsx"))
    assert wb.sheetnames == ["Portfolio", "Notes"]
    notes = [[c.value for c in row] for row in wb["Notes"].iter_rows()]
    assert notes[0] == ["column", "required", "what to write", "examples"]
    assert [row[0] for row in notes[1:len(COLUMNS) + 2]] == [*COLUMNS, "notes"]
    assert [row[1] for row in notes[1:7]] == ["yes"] * 6
    grammar = [row[0] for row in notes if row[0]]
    assert {"200..800", "pert(1, 2, 5)", "500, 2.5k, 1.2M, 80%", "low..high"} <= set(grammar)
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert cells and all(c.data_type in ("s", "b") for c in cells)  # text and booleans, never a formula
    assert wb["Portfolio"]["M2"].value is True and wb["Portfolio"]["M3"].value is False  # planned


def test_csv_explains_the_grammar_in_the_example_rows_notes(tmp_path):
    p = load_portfolio(write_starter(tmp_path / "p.csv"))
    notes = " ".join(ini.extra["notes"] for ini in p)
    for form in ("200..800", "k = thousand", "80%", "pert(", "must, should, could or won't", "depends_on"):
        assert form in notes
    assert all(ini.extra["notes"].startswith("An example: replace it.") for ini in p)


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "yaml"])
def test_an_existing_file_is_never_replaced(tmp_path, suffix):
    path = tmp_path / f"mine.{suffix}"
    path.write_bytes(b"my own work")
    before = os.stat(path)
    assert messages(lambda: write_starter(path)) == [
        f"{path}: the file exists already and is left as it is; choose another name"]
    assert path.read_bytes() == b"my own work" and os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert sorted(os.listdir(tmp_path)) == [path.name]  # no temporary file left


def test_a_symlink_is_never_written_through(tmp_path):
    target = tmp_path / "target.csv"
    target.write_text("keep", encoding="utf-8")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert messages(lambda: write_starter(link)) == [
        f"{link}: the file exists already and is left as it is; choose another name"]
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    assert messages(lambda: write_starter(dangling)) == [
        f"{dangling}: the file exists already and is left as it is; choose another name"]
    assert target.read_text(encoding="utf-8") == "keep" and not (tmp_path / "nowhere.csv").exists()


def test_an_unknown_suffix_lists_the_three(tmp_path):
    assert messages(lambda: write_starter(tmp_path / "p.json")) == [
        f"{tmp_path / 'p.json'}: cannot write a starter portfolio as '.json'; name the file .csv, .xlsx or .yaml"]
    assert messages(lambda: write_starter(tmp_path / "p")) == [
        f"{tmp_path / 'p'}: cannot write a starter portfolio as '(no suffix)'; name the file .csv, .xlsx or .yaml"]
    assert os.listdir(tmp_path) == []


def test_a_folder_or_a_missing_folder_is_refused(tmp_path):
    folder = tmp_path / "plans.csv"
    folder.mkdir()
    assert messages(lambda: write_starter(folder)) == [f"{folder}: is a folder; give the name of the file to write"]
    missing = tmp_path / "nowhere" / "p.csv"
    assert messages(lambda: write_starter(missing)) == [
        f"{missing}: there is no folder {str(tmp_path / 'nowhere')!r}; create it or choose another one"]


@pytest.mark.parametrize("companion", ["p.correlations.csv", "p.columns.yaml"])
def test_a_companion_file_that_would_be_read_with_it_is_refused(tmp_path, companion):
    (tmp_path / companion).write_text("a,b,rho\n", encoding="utf-8")
    assert messages(lambda: write_starter(tmp_path / "p.csv")) == [
        f"{tmp_path / 'p.csv'}: {companion} is beside it and would be read with it; choose another name"]
    assert not (tmp_path / "p.csv").exists()

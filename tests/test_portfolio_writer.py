"""Saving portfolios: every format reads back into an equal portfolio, user text stays data, writes are atomic.

The expected values are the portfolios that were saved; `load_portfolio` (tested on its own in
test_portfolio_files.py) is the judge of what a saved file means.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
import yaml

from workbench.io.read import correlations_path, demo_portfolio, load_portfolio
from workbench.io.write import save_portfolio
from workbench.model.estimates import FACTORS, Estimate
from workbench.model.portfolio import OPTIONAL, Correlation, Portfolio

from conftest import initiative, portfolio

FORMATS = ["csv", "xlsx", "yaml"]

NASTY = [
    "Commas, everywhere, here",
    'She said "ship it"',
    "two\nlines",
    "semi;colon; list",
    "Zürich – 東京 – Ωmega 🚀",
    "=HYPERLINK(\"http://x.test\", \"click\")",
    "=1+2",
    "+1 for this",
    "-5 days",
    "@SUM(A1:A9)",
    "#N/A",
    "'leading apostrophe",
    "tab\tinside",
    "yes",
    "null",
    "~",
    "1e3",
    "12:30",
    "- not a list",
    "key: value # not a comment",
    "[not, a, list]",
    "won't",
    "next\x85line",
    "para\u2029graph",
]


@pytest.fixture(scope="module")
def demo() -> Portfolio:
    return demo_portfolio()


def built() -> Portfolio:
    """A portfolio built in code, with every optional column, extras and correlations."""
    return portfolio(
        initiative("a", "200..800", "high", "80%", "pert(1, 2, 4)", team="Core", theme="Growth", moscow="must",
                   cost=12000.0, planned=True, extra={"notes": "first", "link": "https://x.test/a"}),
        initiative("b", "1.2k", "low..high", "60%..90%", "normal(3, 0.5)", moscow="won't", cost=0.5,
                   depends_on=("a",), excludes=("c",), extra={"notes": "second"}),
        initiative("c", "uniform(10, 20)", "0.25", "beta(8, 2)", "tri(1, 2, 6)", cost=0.0, excludes=("b",),
                   depends_on=("a",), extra={"notes": "", "link": "l"}),
        initiative("d.v2", "2.5M", "massive", "medium", "1.5"),
        correlations=[Correlation(("a", "reach"), ("b", "reach"), 0.6),
                      Correlation(("b", "effort"), ("c", "effort"), -0.25),
                      Correlation(("d.v2", "impact"), ("a", "impact"), 0.1)],
    )


def assert_same(saved: Portfolio, loaded: Portfolio) -> None:
    assert loaded.ids == saved.ids
    for s, got in zip(saved, loaded):
        assert got.name == s.name
        for f in FACTORS:
            a, b = s.estimate(f), got.estimate(f)
            assert (b.text, b.family) == (a.text, a.family), (s.id, f)
            assert b.params == pytest.approx(a.params, rel=1e-15), (s.id, f)
            assert b.median() == pytest.approx(a.median(), rel=1e-15), (s.id, f)
        assert (got.team, got.theme, got.moscow, got.cost) == (s.team, s.theme, s.moscow, s.cost)
        assert (got.depends_on, got.excludes, got.planned) == (s.depends_on, s.excludes, s.planned)
    assert loaded.initiatives == saved.initiatives  # every compared field, exactly
    assert loaded.correlations == saved.correlations


def header(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return next(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    if path.suffix == ".xlsx":
        return [c.value for c in next(openpyxl.load_workbook(path).active.iter_rows())]
    # YAML leaves out what an initiative does not set: its columns, in the order of the tables.
    items = yaml.safe_load(path.read_text(encoding="utf-8"))["initiatives"]
    order = ["id", "name", *FACTORS, *OPTIONAL, *(k for item in items for k in item)]
    return sorted({k for item in items for k in item}, key=order.index)


# --- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_demo_round_trip(tmp_path, demo, fmt):
    path = tmp_path / f"demo.{fmt}"
    assert save_portfolio(demo, path) == path
    assert demo.correlations
    assert_same(demo, load_portfolio(path))  # the companion file is found beside the portfolio
    if fmt != "yaml":
        assert_same(demo, load_portfolio(path, correlations=correlations_path(path)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_built_portfolio_round_trip(tmp_path, fmt):
    p = built()
    path = save_portfolio(p, str(tmp_path / f"plan.{fmt}"))  # str paths too
    assert path == tmp_path / f"plan.{fmt}"
    loaded = load_portfolio(path)
    assert_same(p, loaded)
    assert loaded["a"].extra["notes"] == "first" and loaded["a"].extra["link"] == "https://x.test/a"
    assert loaded["b"].extra["notes"] == "second"
    assert loaded["c"].extra["link"] == "l"


def test_yml_suffix_and_upper_case_suffix(tmp_path):
    p = built()
    assert_same(p, load_portfolio(save_portfolio(p, tmp_path / "plan.yml")))
    upper = save_portfolio(p, tmp_path / "PLAN.CSV")
    assert correlations_path(upper) == tmp_path / "PLAN.correlations.csv" and correlations_path(upper).is_file()
    assert_same(p, load_portfolio(upper))


def test_round_trip_is_stable(tmp_path, demo):
    """Saving what was loaded gives the same bytes: nothing drifts from save to save."""
    for fmt in ("csv", "yaml"):
        (tmp_path / fmt).mkdir()  # one.yaml beside one.correlations.csv would read it as well
        first = save_portfolio(demo, tmp_path / fmt / f"one.{fmt}")
        second = save_portfolio(load_portfolio(first), tmp_path / fmt / f"two.{fmt}")
        assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "csv" / "one.correlations.csv").read_bytes() == \
        (tmp_path / "csv" / "two.correlations.csv").read_bytes()


def test_csv_and_yaml_of_one_stem_share_the_companion(tmp_path):
    """plan.yaml next to plan.correlations.csv would read those correlations on top of its own."""
    save_portfolio(built(), tmp_path / "plan.csv")
    with pytest.raises(ValueError, match="plan.correlations.csv exists and load_portfolio"):
        save_portfolio(built(), tmp_path / "plan.yaml")
    assert not (tmp_path / "plan.yaml").exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_nasty_text_round_trips_exactly(tmp_path, fmt):
    # Control characters are refused in every cell (tests/test_hardened_cells.py), but tabs and line
    # breaks stay allowed in notes; names, teams and themes hold no line break or tab either.
    notes = [text.replace("\x85", " ") for text in NASTY]
    labels = [re.sub(r"[\n\t\u2029]", " ", text) for text in notes]
    p = portfolio(*[initiative(f"i{k}", name=label, team=label, theme=label, extra={"notes": text})
                    for k, (label, text) in enumerate(zip(labels, notes))])
    loaded = load_portfolio(save_portfolio(p, tmp_path / f"nasty.{fmt}"))
    assert loaded.names == labels
    assert [i.team for i in loaded] == labels and [i.theme for i in loaded] == labels
    assert [i.extra["notes"] for i in loaded] == notes
    assert_same(p, loaded)


def test_csv_keeps_carriage_returns_and_tabs_in_notes(tmp_path):
    # Other control characters are refused in every cell (tests/test_hardened_cells.py).
    texts = ["cr\ronly", "crlf\r\nend", "tab\tend"]
    p = portfolio(*[initiative(f"i{k}", extra={"notes": t}) for k, t in enumerate(texts)])
    for fmt in ("csv", "yaml"):
        assert [i.extra["notes"] for i in load_portfolio(save_portfolio(p, tmp_path / f"p.{fmt}"))] == texts


def test_xlsx_text_is_never_a_formula(tmp_path):
    p = portfolio(initiative("f", name="=1+2", team="@SUM(A1)", extra={"notes": "#DIV/0!"}))
    path = save_portfolio(p, tmp_path / "p.xlsx")
    ws = openpyxl.load_workbook(path).active
    cells = {c.value: c.data_type for row in ws.iter_rows() for c in row if c.value is not None}
    assert cells["=1+2"] == cells["@SUM(A1)"] == cells["#DIV/0!"] == "s"
    assert cells["100"] == cells["100%"] == "s"  # estimates are written as their text too
    assert load_portfolio(path).names == ["=1+2"]


def test_xlsx_refuses_text_it_cannot_hold(tmp_path):
    existing = save_portfolio(built(), tmp_path / "p.xlsx")
    before = existing.read_bytes()
    p = portfolio(initiative("a", extra={"notes": "cr\rlf"}), initiative("b", extra={"notes": "crlf\r\n"}))
    with pytest.raises(ValueError) as info:
        save_portfolio(p, existing)
    assert "cell G2 (notes): 'cr\\rlf'" in str(info.value) and "cell G3 (notes): 'crlf\\r\\n'" in str(info.value)
    assert existing.read_bytes() == before


# --- layout ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_unused_optional_columns_are_not_written(tmp_path, fmt):
    p = portfolio(initiative("a", team="Core"), initiative("b", cost=0.0, extra={"notes": "n"}))
    path = save_portfolio(p, tmp_path / f"p.{fmt}")
    assert header(path) == ["id", "name", "reach", "impact", "confidence", "effort", "team", "cost", "notes"]
    assert_same(p, load_portfolio(path))


@pytest.mark.parametrize("fmt", FORMATS)
def test_all_columns_in_reader_vocabulary_and_order(tmp_path, fmt):
    path = save_portfolio(built(), tmp_path / f"p.{fmt}")
    assert header(path) == ["id", "name", "reach", "impact", "confidence", "effort", "team", "theme", "moscow",
                            "cost", "depends_on", "excludes", "planned", "notes", "link"]


def test_csv_layout(tmp_path):
    path = save_portfolio(built(), tmp_path / "p.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfid,name,reach,")  # a BOM, so Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0]["effort"] == "pert(1, 2, 4)" and rows[1]["effort"] == "normal(3, 0.5)"
    assert [r["cost"] for r in rows] == ["12000", "0.5", "0", ""]
    assert [r["planned"] for r in rows] == ["true", "false", "false", "false"]
    assert rows[1]["depends_on"] == "a" and rows[1]["excludes"] == "c"


def test_yaml_layout(tmp_path):
    path = save_portfolio(built(), tmp_path / "p.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["correlations"] == [["a.reach", "b.reach", 0.6], ["b.effort", "c.effort", -0.25],
                                    ["d.v2.impact", "a.impact", 0.1]]
    d = data["initiatives"][3]
    assert d == {"id": "d.v2", "name": "D.V2", "reach": "2.5M", "impact": "massive", "confidence": "medium",
                 "effort": "1.5"}  # unset optional fields are left out
    assert data["initiatives"][0]["cost"] == 12000 and data["initiatives"][0]["planned"] is True
    assert not correlations_path(path).exists()


# --- correlations -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_correlations_go_to_a_companion_csv(tmp_path, fmt):
    p = built()
    path = save_portfolio(p, tmp_path / f"plan.{fmt}")
    companion = tmp_path / "plan.correlations.csv"
    assert correlations_path(path) == companion
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted([path.name, companion.name])
    rows = list(csv.reader(io.StringIO(companion.read_text(encoding="utf-8-sig"))))
    assert rows == [["a", "b", "rho"], ["a.reach", "b.reach", "0.6"], ["b.effort", "c.effort", "-0.25"],
                    ["d.v2.impact", "a.impact", "0.1"]]
    # Moved elsewhere under another name, the pair loads with correlations=.
    moved = tmp_path / "sub"
    moved.mkdir()
    (moved / f"renamed.{fmt}").write_bytes(path.read_bytes())
    (moved / "corr.csv").write_bytes(companion.read_bytes())
    assert load_portfolio(moved / f"renamed.{fmt}").correlations == ()
    assert_same(p, load_portfolio(moved / f"renamed.{fmt}", correlations=moved / "corr.csv"))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_no_companion_without_correlations(tmp_path, fmt):
    p = portfolio(initiative("a"), initiative("b"))
    save_portfolio(p, tmp_path / f"plan.{fmt}")
    assert [f.name for f in tmp_path.iterdir()] == [f"plan.{fmt}"]


def test_companion_is_replaced_when_saving_correlations_again(tmp_path):
    p = built()
    path = save_portfolio(p, tmp_path / "plan.csv")
    fewer = Portfolio(p.initiatives, p.correlations[:1])
    save_portfolio(fewer, path)
    assert load_portfolio(path).correlations == fewer.correlations


@pytest.mark.parametrize("target, correlated", [("plan.csv", False), ("plan.xlsx", False), ("plan.yaml", True),
                                                ("plan.yaml", False)])
def test_a_companion_that_would_be_read_back_is_refused_not_deleted(tmp_path, target, correlated):
    companion = tmp_path / "plan.correlations.csv"
    companion.write_text("a,b,rho\nx.reach,y.reach,0.5\n", encoding="utf-8")
    p = built() if correlated else portfolio(initiative("a"), initiative("b"))
    with pytest.raises(ValueError, match="plan.correlations.csv exists"):
        save_portfolio(p, tmp_path / target)
    assert sorted(f.name for f in tmp_path.iterdir()) == ["plan.correlations.csv"]
    assert companion.read_text(encoding="utf-8") == "a,b,rho\nx.reach,y.reach,0.5\n"


# --- errors and atomicity -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plan.txt", "plan.xls", "plan.json", "plan.tsv", "plan"])
def test_unknown_suffix(tmp_path, name):
    with pytest.raises(ValueError) as info:
        save_portfolio(built(), tmp_path / name)
    assert ".csv, .xlsx, .yaml, .yml" in str(info.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_failed_write_leaves_the_existing_file(tmp_path, monkeypatch, fmt):
    path = save_portfolio(built(), tmp_path / f"plan.{fmt}")
    files = {f: f.read_bytes() for f in tmp_path.iterdir()}

    def disk_full(fd):  # the new content is written to the temporary file, then this fails
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    other = built()
    other = other.with_initiatives([replace(i, name=f"Renamed {i.name}") for i in other])
    with pytest.raises(OSError, match="No space left"):
        save_portfolio(other, path)
    monkeypatch.undo()
    assert {f: f.read_bytes() for f in tmp_path.iterdir()} == files  # same files, same bytes, no temporaries
    assert_same(built(), load_portfolio(path))


def test_input_file_is_never_modified(tmp_path):
    source = tmp_path / "in.yaml"
    source.write_text("initiatives:\n  - {id: a, name: A, reach: 1, impact: 1, confidence: 1, effort: 1}\n",
                      encoding="utf-8")
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    p = load_portfolio(source)
    for fmt in FORMATS:
        save_portfolio(p, tmp_path / f"out.{fmt}")
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before


def test_values_a_file_cannot_give_back_are_refused(tmp_path):
    bad = portfolio(
        initiative("a", moscow="Must"),
        initiative("b", cost=float("nan"), extra={"Notes": "x", "team ": "y"}),
        initiative("c", depends_on=("c",)),
    )
    textless = replace(initiative("d"), effort=Estimate("point", (2.0,)))  # built without parse_estimate
    bad = bad.with_initiatives((*bad.initiatives, textless))
    with pytest.raises(ValueError) as info:
        save_portfolio(bad, tmp_path / "p.csv")
    message = str(info.value)
    assert "initiative 'a': moscow 'Must'" in message
    assert "initiative 'b': cost nan" in message
    assert "extra column 'Notes' would be read back as 'notes'" in message
    assert "extra column 'team ' would be read back as 'team'" in message
    assert "initiative 'c': depends_on ('c',) refers to itself" in message
    assert "initiative 'd': effort 'point(2.0,)' is not the text of its estimate" in message
    assert list(tmp_path.iterdir()) == []


def test_atomic_writes_get_the_mode_a_plain_open_would_give(tmp_path):
    from workbench.io.files import write_atomic

    plain, fresh = tmp_path / "plain.txt", tmp_path / "fresh.txt"
    plain.write_text("x")  # created under this process's umask
    write_atomic(fresh, "new")
    assert fresh.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 != 0o600  # not mkstemp's private mode
    kept = tmp_path / "kept.txt"
    kept.write_text("old")
    kept.chmod(0o664)
    write_atomic(kept, b"new")
    assert kept.stat().st_mode & 0o777 == 0o664 and kept.read_text() == "new"


def test_the_public_writers_keep_a_header_row_apart_from_the_record_keys():
    """`csv_text`, `xlsx_bytes` and `yaml_text` as the corrected copy of `workbench check` uses them:
    a repeated header (Jira's Labels, Labels), numbers kept as numbers, text never a formula."""
    from workbench.io.write import csv_text, xlsx_bytes, yaml_text

    keys, header = ["a", "b", "c"], ["Labels", "Labels", "Reach"]
    records = [{"a": "=x", "b": None, "c": 1200}, {"a": "ok", "b": "y", "c": 2.5}]
    assert csv_text(keys, records, header) == "\ufeffLabels,Labels,Reach\r\n'=x,,1200\r\nok,y,2.5\r\n"
    problems: list[str] = []
    ws = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(keys, records, problems, header))).active
    assert problems == [] and list(ws.iter_rows(values_only=True)) == [
        ("Labels", "Labels", "Reach"), ("=x", None, 1200), ("ok", "y", 2.5)]
    assert ws["A2"].data_type == "s"  # text, not a formula
    assert yaml.safe_load(yaml_text([{"id": "a", "cost": 3.0}], [("a.reach", "b.reach", 0.5)], {"in flight": "committed"})) == {
        "status": {"in flight": "committed"}, "initiatives": [{"id": "a", "cost": 3}],
        "correlations": [["a.reach", "b.reach", 0.5]]}

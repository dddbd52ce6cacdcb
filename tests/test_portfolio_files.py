"""Reading portfolios from CSV, Excel and YAML files, and reporting every bad cell with its location.

Files are built in tmp_path; expected values come from the files' contents (and closed forms for
distribution medians), expected messages are the spec.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from workbench.errors import InputError, Problem
from workbench.io.read import demo_portfolio, load_portfolio
from workbench.model.estimates import CONFIDENCE_WORDS, IMPACT_WORDS

HEADER = "id,name,reach,impact,confidence,effort"
EXPECTED = (
    "a number (500, 2.5k, 1.2M, 80%), a 90% range (200..800), "
    "or pert(min, mode, max), tri(min, mode, max), uniform(a, b), normal(mean, sd), beta(a, b)"
)


def write(path: Path, text: str, *, newline: str = "\n", bom: bool = False) -> Path:
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def problems(path: Path, **kwargs) -> list[str]:
    with pytest.raises(InputError) as info:
        load_portfolio(path, **kwargs)
    assert all(isinstance(p, Problem) for p in info.value.problems)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return [str(p) for p in info.value.problems]


def pert_mean(lo, mode, hi):
    return (lo + 4 * mode + hi) / 6


# --- CSV dialects ------------------------------------------------------------------------------

FULL_CSV = """\
id,name,reach,impact,confidence,effort,team,theme,moscow,cost,depends_on,excludes,planned,notes,link
sso,Single sign-on,200..800,high,80%,"pert(1, 2, 4)",Platform,Enterprise,must,12k,,,yes,ask legal,https://x.test/1
scim,SCIM provisioning,1.2k,low..high,60%..90%,3,Platform,Enterprise,should,,sso,,no,,
cards,Card payments,2500,massive,medium,2..4,Payments,Growth,won't,"120000",,tax,,"quoted, with comma",
tax,Tax engine,500,0.5,"beta(8, 2)","tri(1, 2, 6)",Payments,Efficiency,could,0,"sso; scim",cards,TRUE,,
"""


def check_full(p, path: Path) -> None:
    assert p.ids == ["sso", "scim", "cards", "tax"]
    assert p.names == ["Single sign-on", "SCIM provisioning", "Card payments", "Tax engine"]
    assert p.source == str(path)
    sso, scim, cards, tax = (p[i] for i in p.ids)

    assert sso.reach.family == "lognormal"
    assert sso.reach.median() == pytest.approx(math.sqrt(200 * 800), rel=1e-12)
    assert (sso.impact.family, sso.impact.median()) == ("point", 2.0)
    assert (sso.confidence.family, sso.confidence.median()) == ("point", 0.8)
    assert sso.effort.family == "pert"
    assert sso.effort.params == (1, 2, 4)
    assert sso.effort.mean() == pytest.approx(pert_mean(1, 2, 4))
    assert (sso.team, sso.theme, sso.moscow, sso.cost, sso.planned) == ("Platform", "Enterprise", "must", 12000.0, True)
    assert sso.depends_on == () and sso.excludes == ()
    assert sso.extra == {"notes": "ask legal", "link": "https://x.test/1"}

    assert scim.reach.median() == 1200.0
    assert scim.impact.family == "lognormal"
    assert scim.impact.median() == pytest.approx(math.sqrt(0.5 * 2), rel=1e-12)
    assert scim.confidence.family == "logitnormal"
    logit = lambda q: math.log(q / (1 - q))  # noqa: E731
    assert scim.confidence.median() == pytest.approx(1 / (1 + math.exp(-(logit(0.6) + logit(0.9)) / 2)), rel=1e-12)
    assert (scim.moscow, scim.cost, scim.planned, scim.depends_on) == ("should", None, False, ("sso",))

    assert cards.impact.median() == 3.0
    assert cards.confidence.median() == 0.8
    assert cards.effort.family == "lognormal"
    assert cards.effort.median() == pytest.approx(math.sqrt(8), rel=1e-12)
    assert (cards.moscow, cards.cost, cards.excludes, cards.planned) == ("won't", 120000.0, ("tax",), False)
    assert cards.extra == {"notes": "quoted, with comma", "link": ""}

    assert tax.confidence.family == "beta"
    assert tax.confidence.mean() == pytest.approx(0.8)
    assert tax.effort.family == "tri"
    assert tax.effort.mean() == pytest.approx((1 + 2 + 6) / 3)
    assert (tax.moscow, tax.cost, tax.planned) == ("could", 0.0, True)
    assert tax.depends_on == ("sso", "scim")
    assert tax.excludes == ("cards",)
    assert tax.team == "Payments" and tax.theme == "Efficiency"


def test_csv_with_bom_and_crlf(tmp_path):
    path = write(tmp_path / "p.csv", FULL_CSV, newline="\r\n", bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid,")
    assert b"\r\n" in path.read_bytes()
    check_full(load_portfolio(path), path)


def test_plain_csv(tmp_path):
    path = write(tmp_path / "p.csv", FULL_CSV)
    check_full(load_portfolio(path), path)


def test_semicolon_csv(tmp_path):
    text = """\
id;name;reach;impact;confidence;effort;depends_on;notes
a;Alpha;200..800;high;80%;pert(1, 2, 4);;commas, are fine here
b;Beta;1.5k;medium;50%;uniform(1, 3);a;
c;Gamma;100;low;high;tri(1,2,3);a,b;
"""
    path = write(tmp_path / "p.csv", text)
    p = load_portfolio(path)
    assert p.ids == ["a", "b", "c"]
    assert p["a"].effort.params == (1, 2, 4)
    assert p["a"].extra == {"notes": "commas, are fine here"}
    assert p["b"].reach.median() == 1500.0
    assert p["b"].effort.mean() == 2.0
    assert p["c"].depends_on == ("a", "b")
    assert p["c"].confidence.median() == 1.0


def test_decimal_comma_in_semicolon_csv_is_explained(tmp_path):
    path = write(tmp_path / "p.csv", "id;name;reach;impact;confidence;effort\na;A;1,5;1;1;1\n")
    assert problems(path) == [
        f"{path}:2: column 3 (reach): '1,5': '1,5' contains a comma; write numbers without thousands separators "
        "or decimal commas (1200 or 1.2k, not 1,200; 2.5, not 2,5)"
    ]


@pytest.mark.parametrize("suffix", [".tsv", ".txt", ".csv"])
def test_tab_separated(tmp_path, suffix):
    text = ("id\tname\treach\timpact\tconfidence\teffort\tteam\n"
            "a\tAlpha, Inc.\t2.5k\tminimal\t0.9\tnormal(10, 1)\tCore\n")
    path = write(tmp_path / f"p{suffix}", text)
    p = load_portfolio(path)
    assert p.ids == ["a"]
    a = p["a"]
    assert a.name == "Alpha, Inc."
    assert a.reach.median() == 2500.0
    assert a.impact.median() == 0.25
    assert a.confidence.median() == 0.9
    assert a.effort.family == "normal"
    assert a.effort.params == (10, 1, 0, math.inf)
    assert a.team == "Core"


def test_headers_are_case_and_space_insensitive(tmp_path):
    text = """\
ID, Name ,REACH,Impact ,Confidence,EFFORT,Depends On,MoSCoW,Team,Theme,Cost,Excludes,Planned,Notes,Link
a,Alpha,100,1,1,1,,Must,T1,Th1,1.5k,,Yes,n-a,l-a
b,Beta,200,2,0.5,2,a,won't,T2,Th2,,c,N,,
c,Gamma,300,3,0.5,3,"a;b",W,T2,Th2,,b,x,,
d,Delta,300,3,0.5,3,,Should have,T2,Th2,,,0,,
e,Eps,300,3,0.5,3,,Won’t,T2,Th2,,,1,,
f,Phi,300,3,0.5,3,,c,T2,Th2,,,,,
"""
    p = load_portfolio(write(tmp_path / "p.csv", text))
    assert p.ids == ["a", "b", "c", "d", "e", "f"]
    assert [i.name for i in p] == ["Alpha", "Beta", "Gamma", "Delta", "Eps", "Phi"]
    assert [i.moscow for i in p] == ["must", "won't", "won't", "should", "won't", "could"]
    assert [i.planned for i in p] == [True, False, True, False, True, False]
    assert [i.depends_on for i in p] == [(), ("a",), ("a", "b"), (), (), ()]
    assert [i.excludes for i in p] == [(), ("c",), ("b",), (), (), ()]
    assert [i.team for i in p] == ["T1", "T2", "T2", "T2", "T2", "T2"]
    assert p["a"].cost == 1500.0
    assert [i.reach.median() for i in p] == [100, 200, 300, 300, 300, 300]
    assert p["a"].extra == {"notes": "n-a", "link": "l-a"}


def test_blank_lines_and_multiline_cells_keep_physical_line_numbers(tmp_path):
    # Line breaks are kept in notes (free text); a name may not hold one (tests/test_hardened_cells.py).
    text = 'id,name,reach,impact,confidence,effort,notes\n\na,Alpha,1,1,1,1,"first\nsecond line"\n\n\nb,Beta,1,1,1,0,\n'
    path = write(tmp_path / "p.csv", text, newline="\r\n")
    assert problems(path) == [f"{path}:7: column 6 (effort): '0': effort must be > 0 (got 0)"]
    fixed = write(tmp_path / "q.csv", text.replace(",0,\n", ",1,\n"), newline="\r\n")
    assert load_portfolio(fixed)["a"].extra["notes"] == "first\r\nsecond line"


# --- Excel -------------------------------------------------------------------------------------


def make_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Q3"
    ws.append(["ID", "Name", "Reach", "Impact", "Confidence", "Effort", "Cost", "Planned", "Depends On", "MoSCoW",
               "Notes"])
    ws.append(["a", "Alpha", 1000, "high", 0.8, 2, 12000, True, None, "Must", "first"])
    ws.append([None] * 11)  # an empty row is skipped
    ws.append([7, "Seven", "200..800", 0.5, "80%", "pert(1, 2, 4)", "12k", False, "a", "won't", None])
    ws["E2"].number_format = "0%"  # shown as 80%, stored as 0.8
    ws2 = wb.create_sheet("Q4")
    ws2.append(["id", "name", "reach", "impact", "confidence", "effort", "team"])
    ws2.append(["q", "Q", "10..20", "massive", "low", "uniform(1, 2)", "Mobile"])
    wb.save(path)
    return path


def test_xlsx_first_sheet(tmp_path):
    path = make_workbook(tmp_path / "p.xlsx")
    p = load_portfolio(path)
    assert p.ids == ["a", "7"]
    a, seven = p["a"], p["7"]
    assert (a.reach.family, a.reach.median()) == ("point", 1000.0)
    assert a.impact.median() == 2.0
    assert a.confidence.median() == 0.8
    assert a.effort.median() == 2.0
    assert (a.cost, a.planned, a.moscow, a.depends_on) == (12000.0, True, "must", ())
    assert a.extra == {"notes": "first"}
    assert seven.name == "Seven"
    assert seven.reach.median() == pytest.approx(400.0, rel=1e-12)
    assert seven.impact.median() == 0.5
    assert seven.confidence.median() == 0.8
    assert seven.effort.mean() == pytest.approx(pert_mean(1, 2, 4))
    assert (seven.cost, seven.planned, seven.moscow, seven.depends_on) == (12000.0, False, "won't", ("a",))


def test_xlsx_named_sheet(tmp_path):
    path = make_workbook(tmp_path / "p.xlsx")
    p = load_portfolio(path, sheet="Q4")
    assert p.ids == ["q"]
    q = p["q"]
    assert q.reach.median() == pytest.approx(math.sqrt(200), rel=1e-12)
    assert q.impact.median() == 3.0
    assert q.confidence.median() == 0.5
    assert q.effort.params == (1, 2)
    assert q.team == "Mobile"


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path):
    path = make_workbook(tmp_path / "p.xlsx")
    assert problems(path, sheet="Nope") == [f"{path}: no sheet named 'Nope'; the sheets are 'Q3', 'Q4'"]


def test_xlsx_bad_cells_are_located_by_column_letter(tmp_path):
    path = tmp_path / "bad.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name", "reach", "impact", "confidence", "effort", "cost", "planned", "depends_on"])
    ws.append(["a", "Alpha", 1, 1, 1, 1, None, None, None])
    ws.append(["b", "Bad", "abc", 2, 80, 0, -3, "maybe", "zz"])
    wb.save(path)
    assert problems(path) == [
        f"{path}:3: column C (reach): 'abc': 'abc' is not a number; expected {EXPECTED}",
        f"{path}:3: column E (confidence): '80': confidence must be > 0% and <= 100% (got 80); write 80% or 0.8",
        f"{path}:3: column F (effort): '0': effort must be > 0 (got 0)",
        f"{path}:3: column G (cost): '-3': cost must be a single number >= 0 (e.g. 120000 or 120k)",
        f"{path}:3: column H (planned): 'maybe': expected true or false (or yes/no, 1/0, empty)",
        f"{path}:3: column I (depends_on): 'zz': depends_on: unknown id 'zz'",
    ]


def test_sheet_only_applies_to_xlsx(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "\na,A,1,1,1,1\n")
    assert problems(path, sheet="Q3") == [f"{path}: --sheet only applies to .xlsx files"]


def test_corrupt_xlsx(tmp_path):
    path = tmp_path / "p.xlsx"
    path.write_bytes(b"this is not a zip archive")
    assert problems(path) == [f"{path}: cannot read as an Excel workbook: File is not a zip file"]


def test_empty_xlsx(tmp_path):
    path = tmp_path / "p.xlsx"
    openpyxl.Workbook().save(path)
    assert problems(path) == [
        f"{path}: the sheet is empty; expected a header row with id, name, reach, impact, confidence, effort"
    ]


# --- YAML --------------------------------------------------------------------------------------


def test_yaml_list_form(tmp_path):
    text = """\
- id: a
  name: Alpha
  reach: 200..800
  impact: high
  confidence: 80%
  effort: pert(1, 2, 4)
  team: Core
  theme: Growth
  moscow: must
  cost: 12k
  planned: yes
  notes: keep me
- id: b
  name: Beta
  reach: 1000
  impact: 0.5
  confidence: 0.8
  effort: 3
  depends_on: [a]
  excludes: a
  planned: false
  link: https://x.test
"""
    path = write(tmp_path / "p.yaml", text)
    p = load_portfolio(path)
    assert p.ids == ["a", "b"]
    a, b = p["a"], p["b"]
    assert a.reach.median() == pytest.approx(400.0, rel=1e-12)
    assert a.impact.median() == 2.0 and a.confidence.median() == 0.8
    assert a.effort.mean() == pytest.approx(pert_mean(1, 2, 4))
    assert (a.team, a.theme, a.moscow, a.cost, a.planned) == ("Core", "Growth", "must", 12000.0, True)
    assert a.extra == {"notes": "keep me"}
    assert (b.reach.median(), b.impact.median(), b.confidence.median(), b.effort.median()) == (1000, 0.5, 0.8, 3)
    assert (b.depends_on, b.excludes, b.planned, b.moscow) == (("a",), ("a",), False, None)
    assert b.extra == {"link": "https://x.test"}
    assert p.correlations == ()


def test_yaml_mapping_form_with_correlations(tmp_path):
    text = """\
initiatives:
  - {id: a, name: Alpha, reach: 100..300, impact: medium, confidence: high, effort: 1..2}
  - {id: b, name: Beta, reach: 200..400, impact: low..medium, confidence: 50%..90%, effort: 2}
  - {id: c, name: Gamma, reach: 50, impact: massive, confidence: low, effort: "tri(1, 2, 3)", depends_on: [a, b]}
correlations:
  - [a.reach, b.reach, 0.6]
  - {a: b.impact, b: a.Effort, rho: -0.3}
"""
    p = load_portfolio(write(tmp_path / "p.yml", text))
    assert p.ids == ["a", "b", "c"]
    assert p["c"].depends_on == ("a", "b")
    assert p["b"].confidence.family == "logitnormal"
    assert [(c.a, c.b, c.rho) for c in p.correlations] == [
        (("a", "reach"), ("b", "reach"), 0.6),
        (("b", "impact"), ("a", "effort"), -0.3),
    ]


def test_yaml_bad_cells_are_located(tmp_path):
    text = "- id: a\n  name: A\n  reach: abc\n  impact: 1\n  confidence: 1\n  effort: 0\n"
    path = write(tmp_path / "p.yaml", text)
    assert problems(path) == [
        f"{path}:3: column 10 (reach): 'abc': 'abc' is not a number; expected {EXPECTED}",
        f"{path}:6: column 11 (effort): '0': effort must be > 0 (got 0)",
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("initiatives:\n  - id: [a\n", "3: column 1: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts on line 2, column 9)"),
        ("hello\n", "1: expected a list of initiatives"),
        ("foo: 1\n", "1: expected a list of initiatives, or a mapping with an 'initiatives:' list"),
        ("- 1\n", "1: each initiative must be a mapping of column: value"),
        ("- {id: a, name: A, reach: 1, impact: 1, confidence: 1}\n",
         " missing required field 'effort' in every initiative (found: 'id', 'name', 'reach', 'impact', 'confidence')"
         "; to read one of them as effort, map it ('effort: <its header>' under 'columns:') in p.columns.yaml beside "
         "the file or in a file given with --columns"),
        ("[]\n", " the portfolio has no initiatives"),
        ("- {id: 'a;b', name: A, reach: 1, impact: 1, confidence: 1, effort: 1}\n",
         "1: column 8 (id): 'a;b': an id cannot contain ';' or ','"),
    ],
)
def test_bad_yaml(tmp_path, text, message):
    path = write(tmp_path / "p.yaml", text)
    assert problems(path) == [f"{path}:{message}"]


# --- correlations --------------------------------------------------------------------------------

TWO = HEADER + "\na,A,100..200,1,1,1\nb,B,100..200,1,1,1..3\nc,C,100..200,1,1,1\n"


def test_companion_correlation_file_is_picked_up(tmp_path):
    path = write(tmp_path / "plan.csv", TWO)
    write(tmp_path / "plan.correlations.csv", "a,b,rho\na.reach,b.reach,0.5\nb.effort,c.reach,-0.25\n")
    p = load_portfolio(path)
    assert [(c.a, c.b, c.rho) for c in p.correlations] == [
        (("a", "reach"), ("b", "reach"), 0.5),
        (("b", "effort"), ("c", "reach"), -0.25),
    ]


def test_explicit_correlation_file(tmp_path):
    path = write(tmp_path / "plan.csv", TWO)
    corr = write(tmp_path / "elsewhere.csv", "A;B;Rho\na.reach;c.reach;0.7\n")
    p = load_portfolio(path, correlations=corr)
    assert [(c.a, c.b, c.rho) for c in p.correlations] == [(("a", "reach"), ("c", "reach"), 0.7)]
    assert load_portfolio(path).correlations == ()  # no companion file next to plan.csv


def test_problems_in_a_correlation_file_point_at_that_file(tmp_path):
    path = write(tmp_path / "plan.csv", TWO)
    corr = write(tmp_path / "plan.correlations.csv", "a,b,rho\na.reach,b.reach,0.5\na.reach,zz.reach,0.3\n")
    assert problems(path) == [f"{corr}:3: column correlations: 'zz.reach': unknown initiative id 'zz'"]


def test_correlation_file_needs_its_columns(tmp_path):
    path = write(tmp_path / "plan.csv", TWO)
    corr = write(tmp_path / "c.csv", "x,y,rho\n")
    assert problems(path, correlations=corr) == [f"{corr}:1: a correlation file needs columns a, b, rho; missing a, b"]
    assert problems(path, correlations=tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: file not found"]


def test_bad_correlations_are_all_reported(tmp_path):
    text = """\
initiatives:
  - {id: a, name: A, reach: 1..2, impact: 1, confidence: 1, effort: 1}
  - {id: b, name: B, reach: 1..2, impact: 1, confidence: 1, effort: 1}
correlations:
  - [a.reach, zz.reach, 0.5]
  - [a.reach, b.reach, 1.5]
  - [a.reach, b.size, 0.5]
  - [a.reach, a.reach, 0.5]
  - [a.impact, b.impact, -1.01]
  - [b.effort, a.effort, 0.2]
  - [a.effort, b.effort, 0.3]
  - [a.reach, b.reach, lots]
"""
    path = write(tmp_path / "p.yaml", text)
    assert problems(path) == [
        f"{path}:5: column correlations: 'zz.reach': unknown initiative id 'zz'",
        f"{path}:6: column correlations: '1.5': expected a rank correlation between -1 and 1",
        f"{path}:7: column correlations: 'b.size': expected initiative.factor with factor one of "
        "reach, impact, confidence, effort",
        f"{path}:8: column correlations: 'a.reach': an estimate cannot be correlated with itself",
        f"{path}:9: column correlations: '-1.01': expected a rank correlation between -1 and 1",
        f"{path}:11: column correlations: 'a.effort, b.effort': this pair was already given on line 10",
        f"{path}:12: column correlations: 'lots': expected a rank correlation between -1 and 1",
    ]


def test_inconsistent_correlations_are_rejected(tmp_path):
    text = """\
initiatives:
  - {id: a, name: A, reach: 1..2, impact: 1, confidence: 1, effort: 1}
  - {id: b, name: B, reach: 1..2, impact: 1, confidence: 1, effort: 1}
  - {id: c, name: C, reach: 1..2, impact: 1, confidence: 1, effort: 1}
correlations:
  - [a.reach, b.reach, 0.9]
  - [b.reach, c.reach, 0.9]
  - [a.reach, c.reach, -0.9]
"""
    # Independent check: Spearman rho -> Pearson 2 sin(pi rho / 6) on the normal scale.
    r = 2 * math.sin(math.pi * 0.9 / 6)
    smallest = np.linalg.eigvalsh(np.array([[1, r, -r], [r, 1, r], [-r, r, 1]]))[0]
    assert smallest == pytest.approx(1 - 2 * r) and smallest < 0
    path = write(tmp_path / "p.yaml", text)
    assert problems(path) == [
        f"{path}: column correlations: the correlations are inconsistent: their matrix is not positive "
        f"semi-definite (smallest eigenvalue {smallest:.3f}); check the pairs among a.reach, b.reach, c.reach"
    ]
    # the same magnitudes with a consistent sign pattern are fine
    ok = write(tmp_path / "ok.yaml", text.replace("-0.9", "0.9"))
    assert len(load_portfolio(ok).correlations) == 3


# --- bad files: every problem, with file, line and column ---------------------------------------


def test_all_invalid_cells_are_reported(tmp_path):
    text = """\
id,name,reach,impact,confidence,effort,moscow,cost,planned
a,Alpha,abc,huge,150%,0,must,10k,yes
b,Beta,200-800,high,80,"normal(3, 2)",maybe,-5,perhaps
c,,1k,medium,50%,2,,,
d,Delta,1k,medium,50%,2,,"1,200",
"""
    path = write(tmp_path / "p.csv", text)
    got = problems(path)
    assert got == [
        f"{path}:2: column 3 (reach): 'abc': 'abc' is not a number; expected {EXPECTED}",
        f"{path}:2: column 4 (impact): 'huge': unknown impact word 'huge'; expected a number or one of "
        "massive (3), high (2), medium (1), low (0.5), minimal (0.25)",
        f"{path}:2: column 5 (confidence): '150%': confidence must be > 0% and <= 100% (got 150%)",
        f"{path}:2: column 6 (effort): '0': effort must be > 0 (got 0)",
        f"{path}:3: column 3 (reach): '200-800': '200-800' is not an estimate; for a 90% range write 200..800",
        f"{path}:3: column 5 (confidence): '80': confidence must be > 0% and <= 100% (got 80); write 80% or 0.8",
        f"{path}:3: column 6 (effort): 'normal(3, 2)': effort must be > 0, but 'normal(3, 2)' puts 6.68% of its "
        "mass outside; use a range such as 0.75..6.3 (lognormal, always positive) or pert(min, mode, max)",
        f"{path}:3: column 7 (moscow): 'maybe': expected one of must, should, could, won't (or empty)",
        f"{path}:3: column 8 (cost): '-5': cost must be a single number >= 0 (e.g. 120000 or 120k)",
        f"{path}:3: column 9 (planned): 'perhaps': expected true or false (or yes/no, 1/0, empty)",
        f"{path}:4: column 2 (name): a name is required",
        f"{path}:5: column 8 (cost): '1,200': cost must be a single number >= 0 (e.g. 120000 or 120k)",
    ]


def test_problem_fields(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "\na,A,1,1,1,0\n")
    with pytest.raises(InputError) as info:
        load_portfolio(path)
    (p,) = info.value.problems
    assert (p.file, p.line, p.column, p.value) == (str(path), 2, "6 (effort)", "0")
    assert p.message == "effort must be > 0 (got 0)"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("a,A,1,1,1,1\nb,B,1,1,1,1\na,C,1,1,1,1\n", ["4: column 1 (id): 'a': duplicate id (first used on line 2)"]),
        (",A,1,1,1,1\n", ["2: column 1 (id): an id is required"]),
        ("a,A,1,1,1,\n", [f"2: column 6 (effort): the cell is empty; expected {EXPECTED}"]),
    ],
)
def test_bad_rows(tmp_path, body, expected):
    path = write(tmp_path / "p.csv", HEADER + "\n" + body)
    assert problems(path) == [f"{path}:{e}" for e in expected]


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("moscow", "maybe", "expected one of must, should, could, won't (or empty)"),
        ("planned", "perhaps", "expected true or false (or yes/no, 1/0, empty)"),
        ("cost", "lots", "cost must be a single number >= 0 (e.g. 120000 or 120k)"),
        ("cost", "100..200", "cost must be a single number >= 0 (e.g. 120000 or 120k)"),
        ("cost", "-5", "cost must be a single number >= 0 (e.g. 120000 or 120k)"),
        ("depends_on", "zzz", "depends_on: unknown id 'zzz'"),
        ("excludes", "b; zzz", "excludes: unknown id 'zzz'"),
        ("depends_on", "a", "depends_on: an initiative cannot refer to itself"),
        ("excludes", "a", "excludes: an initiative cannot refer to itself"),
    ],
)
def test_bad_optional_columns(tmp_path, column, value, message):
    path = write(tmp_path / "p.csv", f"{HEADER},{column}\na,A,1,1,1,1,{value}\nb,B,1,1,1,1,\n")
    assert problems(path) == [f"{path}:2: column 7 ({column}): '{value}': {message}"]


def test_missing_required_column(tmp_path):
    path = write(tmp_path / "p.csv", "id,name,reach,impact,effort,notes\na,A,1,1,1,x\n")
    assert problems(path) == [
        f"{path}:1: missing required column 'confidence' (found: 'id', 'name', 'reach', 'impact', 'effort', 'notes'); "
        "to read one of them as confidence, map it ('confidence: <its header>' under 'columns:') in p.columns.yaml "
        "beside the file or in a file given with --columns"]


def test_missing_required_columns_are_all_reported(tmp_path):
    path = write(tmp_path / "p.csv", "\nID,Title\na,A\n")
    assert problems(path) == [
        f"{path}:2: missing required column {c!r} (found: 'ID', 'Title'); to read one of them as {c}, map it "
        f"('{c}: <its header>' under 'columns:') in p.columns.yaml beside the file or in a file given with --columns"
        for c in ("reach", "impact", "confidence", "effort")  # 'ID' is read as id, 'Title' as name
    ]


def test_repeated_column(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + ",Effort \na,A,1,1,1,1,2\n")
    assert problems(path) == [
        f"{path}:1: column 'Effort ' repeats column 'effort' (names are case- and space-insensitive); effort is "
        "read from one column: delete or rename the other"
    ]


def test_unquoted_separator_inside_a_cell_is_reported(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + ",depends_on\nb,B,1,1,1,1,\na,A,1,1,1,pert(1,2,3),b\n")
    assert problems(path) == [
        f"{path}:3: the row has 9 cells but the header has 7; put cells that contain commas in double quotes",
        f"{path}:3: column 6 (effort): 'pert(1': expected ')' to close pert(min, mode, max) but the cell ends",
        f"{path}:3: column 7 (depends_on): '2': depends_on: unknown id '2'",
    ]
    # in a ;-separated file, an unquoted 'a;b' would silently lose 'b'
    semi = write(tmp_path / "s.csv", "id;name;reach;impact;confidence;effort;depends_on\n"
                                     "a;A;1;1;1;1;\nb;B;1;1;1;1;\nc;C;1;1;1;1;a;b\n")
    assert problems(semi) == [
        f"{semi}:4: the row has 8 cells but the header has 7; put cells that contain semicolons in double quotes"
    ]
    # trailing empty cells (as spreadsheets export them) are fine
    trailing = write(tmp_path / "t.csv", HEADER + "\na,A,1,1,1,1,,,\n")
    assert load_portfolio(trailing).ids == ["a"]


def test_non_utf8_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_bytes((HEADER + "\na,Café,1,1,1,1\n").encode("latin-1"))
    assert problems(path) == [f"{path}:2: the file is not UTF-8 (byte 0xe9); save it as 'CSV UTF-8' from Excel"]
    yml = tmp_path / "p.yaml"
    yml.write_bytes(b"- id: a\n  name: Caf\xe9\n")
    assert problems(yml) == [f"{yml}:2: the file is not UTF-8 (byte 0xe9); save it as 'CSV UTF-8' from Excel"]


@pytest.mark.parametrize("content", ["", "\n\n  \r\n", "\ufeff"])
def test_empty_file(tmp_path, content):
    path = write(tmp_path / "p.csv", content)
    assert problems(path) == [
        f"{path}: the file is empty; expected a header row with id, name, reach, impact, confidence, effort"
    ]


def test_header_only(tmp_path):
    path = write(tmp_path / "p.csv", HEADER + "\n")
    assert problems(path) == [f"{path}: the portfolio has no initiatives"]


def test_xls_extension(tmp_path):
    path = tmp_path / "p.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    assert problems(path) == [f"{path}: old Excel .xls files are not supported; save it as .xlsx or CSV UTF-8"]


def test_unknown_extension(tmp_path):
    path = write(tmp_path / "p.json", "{}")
    assert problems(path) == [f"{path}: unknown file type '.json'; expected .csv, .xlsx or .yaml"]
    bare = write(tmp_path / "portfolio", HEADER)
    assert problems(bare) == [f"{bare}: unknown file type '(none)'; expected .csv, .xlsx or .yaml"]


def test_missing_file_and_directory(tmp_path):
    assert problems(tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: file not found"]
    (tmp_path / "dir.csv").mkdir()
    assert problems(tmp_path / "dir.csv") == [f"{tmp_path / 'dir.csv'}: not a file"]


# --- the input is only read ----------------------------------------------------------------------


def test_input_files_are_never_modified(tmp_path):
    csv_path = write(tmp_path / "p.csv", FULL_CSV, newline="\r\n", bom=True)
    write(tmp_path / "p.correlations.csv", "a,b,rho\nsso.reach,scim.reach,0.5\n")
    bad_path = write(tmp_path / "bad.csv", HEADER + "\na,A,abc,1,1,0\n")
    xlsx_path = make_workbook(tmp_path / "x.xlsx")
    yaml_path = write(tmp_path / "y.yaml",
                      "initiatives:\n  - {id: a, name: A, reach: 1, impact: 1, confidence: 1, effort: 1}\n")
    files = sorted(tmp_path.iterdir())
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}

    load_portfolio(csv_path)
    load_portfolio(xlsx_path)
    load_portfolio(xlsx_path, sheet="Q4")
    load_portfolio(yaml_path)
    with pytest.raises(InputError):
        load_portfolio(bad_path)

    assert sorted(tmp_path.iterdir()) == files  # nothing created either
    assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files} == before


# --- the demo ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return demo_portfolio()


def test_demo_size_teams_themes(demo):
    assert len(demo) >= 25
    assert len(set(demo.ids)) == len(demo)
    assert len({i.team for i in demo if i.team}) >= 4
    assert len({i.theme for i in demo if i.theme}) >= 3
    assert demo.source == "demo_portfolio.yaml"


def test_demo_uses_every_kind_of_estimate(demo):
    estimates = [i.estimate(f) for i in demo for f in ("reach", "impact", "confidence", "effort")]
    families = {e.family for e in estimates}
    assert {"lognormal", "pert", "point"} <= families
    assert any(".." in e.text for e in estimates)
    words = set(IMPACT_WORDS) | set(CONFIDENCE_WORDS)
    assert any(i.impact.text.lower() in IMPACT_WORDS for i in demo)
    assert any(i.confidence.text.lower() in CONFIDENCE_WORDS for i in demo)
    assert any(any(w in e.text.lower() for w in words) and ".." in e.text for e in estimates)  # a word range


def test_demo_priorities_costs_and_links(demo):
    moscow = {i.moscow for i in demo}
    assert {"must", "won't"} <= moscow
    assert any(i.cost for i in demo)
    assert all(i.cost is None or i.cost >= 0 for i in demo)
    ids = set(demo.ids)
    deps = [(i.id, d) for i in demo for d in i.depends_on]
    assert deps and all(d in ids and d != a for a, d in deps)
    pairs = {(i.id, e) for i in demo for e in i.excludes}
    assert any((b, a) in pairs for a, b in pairs)  # a symmetric excludes pair
    assert all(e in ids for _, e in pairs)
    assert any(i.planned for i in demo)


def test_demo_correlations(demo):
    assert demo.correlations
    ids = set(demo.ids)
    for c in demo.correlations:
        assert c.a[0] in ids and c.b[0] in ids
        assert c.a != c.b
        assert -1 <= c.rho <= 1


# --- optional columns filled in for some rows only (the normal case) -------------------------

SPARSE_CSV = """\
id,name,reach,impact,confidence,effort,team,theme,moscow,cost,depends_on,excludes,planned
a,Alpha,800..1200,high,80%,2,Core,Growth,must,12k,,,yes
b,Beta,500..700,medium,100%,1,,,,,a,,
c,Gamma,400..900,low,50%,1,Payments,,should,,,d,
d,Delta,300,high,80%,1..2,,Core,,5000,,,no
"""

SPARSE_YAML = """\
- {id: a, name: Alpha, reach: 800..1200, impact: high, confidence: 80%, effort: 2, team: Core, theme: Growth,
   moscow: must, cost: 12k, planned: yes}
- {id: b, name: Beta, reach: 500..700, impact: medium, confidence: 100%, effort: 1, depends_on: [a]}
- {id: c, name: Gamma, reach: 400..900, impact: low, confidence: 50%, effort: 1, team: Payments, moscow: should,
   excludes: d, theme: ~}
- {id: d, name: Delta, reach: 300, impact: high, confidence: 80%, effort: 1..2, team: "", theme: Core, moscow: ~,
   cost: 5000, planned: no}
"""

#          team        theme     moscow    cost     depends_on excludes planned
SPARSE = {"a": ("Core", "Growth", "must", 12000.0, (), (), True),
          "b": (None, None, None, None, ("a",), (), False),
          "c": ("Payments", None, "should", None, (), ("d",), False),
          "d": (None, "Core", None, 5000.0, (), (), False)}
SPARSE_COLUMNS = ("team", "theme", "moscow", "cost", "depends_on", "excludes", "planned")


def write_sparse(tmp_path: Path, fmt: str) -> Path:
    if fmt == "csv":
        return write(tmp_path / "sparse.csv", SPARSE_CSV)
    if fmt == "yaml":
        return write(tmp_path / "sparse.yaml", SPARSE_YAML)
    wb = openpyxl.Workbook()
    for line in SPARSE_CSV.splitlines():
        # Excel leaves an untouched cell empty (None); a cell whose text was deleted reads as "".
        wb.active.append([None if v == "" and j % 2 else v for j, v in enumerate(line.split(","))])
    wb.save(tmp_path / "sparse.xlsx")
    return tmp_path / "sparse.xlsx"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "yaml"])
def test_optional_columns_filled_in_for_some_rows_read_as_their_defaults(tmp_path, fmt):
    p = load_portfolio(write_sparse(tmp_path, fmt))
    for id_, expected in SPARSE.items():
        got = tuple(getattr(p[id_], col) for col in SPARSE_COLUMNS)
        assert got == expected, id_
        assert [type(v) for v in got] == [type(v) for v in expected], id_  # None itself, never NaN or ""
    frame = p.to_frame()
    for col in ("team", "theme", "moscow"):
        assert frame[col].tolist() == [SPARSE[i][SPARSE_COLUMNS.index(col)] for i in p.ids], col


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "yaml"])
def test_optimize_and_sensitivity_run_when_moscow_is_set_for_some_rows(tmp_path, fmt, capsys):
    # Regression: both commands died with "internal error: TypeError: object of type 'float' has no
    # len()": the plan's table turned an unset moscow (None) into NaN under pandas >= 3.
    import workbench
    from workbench.cli import main

    path = write_sparse(tmp_path, fmt)
    plan = workbench.optimize(load_portfolio(path), budget=4, scenarios=200, seed=1)
    frame = plan.to_frame()
    assert "a" in frame.index and frame["moscow"].isna().any()  # the must-have and an unset one are funded
    for col in ("team", "theme", "moscow"):
        assert all(v is None or isinstance(v, str) for v in frame[col]), (col, frame[col].tolist())
    for command in ("optimize", "sensitivity"):
        assert main([command, str(path), "--budget", "4", "--seed", "1", "--scenarios", "200"]) == 0, command
        captured = capsys.readouterr()
        assert "internal error" not in captured.err and "nan" not in captured.out.lower(), captured.out

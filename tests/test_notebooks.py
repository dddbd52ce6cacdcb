"""Notebooks under notebooks/ execute top to bottom on a fresh kernel."""

from __future__ import annotations

import csv
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from workbench.io.history import bundled_actuals_path

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["tour.ipynb"])
def test_notebook_executes(name, tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", force_raise_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on any cell error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "samples; widest 95% half-width" in text
    assert "optimal: fund " in text and "vs greedy by RICE: gain" in text
    assert "no research can be worth more than this" in text
    assert "column 3 (reach): '800-2000'" in text  # the bad-input cell reports line and column
    assert "The optimal roadmap for 2027Q1–2027Q4 starts " in text
    # Learning from actuals: the bundled history measured, corrected, and the plan with and without.
    with open(bundled_actuals_path(), newline="", encoding="utf-8") as f:  # one row per past initiative
        past = sum(1 for _ in csv.DictReader(f))
    assert f"{past} past initiatives over 8 quarters (2024Q4–2026Q3)" in text
    assert "effort: the 90% ranges held the actual " in text
    assert "Calibrated ranges (learned from 8 quarters" in text
    assert "  ranges as typed: fund " in text and "calibrated ranges: fund " in text
    charts = [o for o in outputs if any("vegalite" in k for k in o.get("data", {}))
              or "vegaEmbed" in str(o.get("data", {}).get("text/html", ""))]
    assert len(charts) == 5  # top-k and score intervals; the roadmap's Gantt and value fan; calibration coverage


def test_strategy_session_executes_headlessly(tmp_path):
    nb = nbformat.read(ROOT / "notebooks" / "strategy_session.ipynb", as_version=4)
    assert "parameters" in nb.cells[1].metadata.get("tags", [])  # papermill can point it at another portfolio
    NotebookClient(nb, timeout=600, kernel_name="python3", force_raise_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # raises on any cell error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1  # the dashboard, as one widget tree
    text = "\n".join(str(o.get("text", "")) for o in outputs)
    assert "initiatives funded, expected value" in text


def test_strategy_session_works_on_any_portfolio(tmp_path):
    # Teams other than the demo's, none with a capacity: the notebook names no team of its own.
    import papermill as pm

    path = tmp_path / "other.csv"
    path.write_text("id,name,reach,impact,confidence,effort,team\n"
                    "a,Alpha,200..800,high,80%,2..5,Core\nb,Beta,1k..3k,medium,50%,2,Edge\n"
                    "c,Gamma,500,low..high,90%,3,Edge\n", encoding="utf-8")
    out = tmp_path / "session.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "strategy_session.ipynb"), str(out), cwd=str(tmp_path),
                        parameters={"portfolio_path": str(path), "output_dir": str(tmp_path / "reports")},
                        kernel_name="python3", progress_bar=False)
    text = "\n".join(str(o.get("text", "")) for c in nbformat.read(str(out), as_version=4).cells
                     for o in c.get("outputs", []))
    assert "initiatives funded, expected value" in text
    source = (ROOT / "notebooks" / "strategy_session.ipynb").read_text(encoding="utf-8")
    assert "Payments" not in source and "Growth" not in source


def test_strategy_session_on_a_file_with_problems_shows_them(tmp_path):
    # The check's answer in the notebook (every problem, its fix, the command), not a traceback.
    import papermill as pm

    path = tmp_path / "sheet.csv"
    path.write_text("Idea,Reach (users/qtr),Impact,Confidence,Effort (person-months)\n"
                    "Smart search,\"1,200\",high,80%,3 months\n", encoding="utf-8")
    out = tmp_path / "session.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "strategy_session.ipynb"), str(out), cwd=str(tmp_path),
                        parameters={"portfolio_path": str(path), "output_dir": str(tmp_path / "reports")},
                        kernel_name="python3", progress_bar=False)  # raises on any cell error
    outputs = [o for c in nbformat.read(str(out), as_version=4).cells for o in c.get("outputs", [])]
    page = "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert f"<b>{path}</b>: 2 problems; all can be fixed with --fix" in page
    assert "<td>1200</td>" in page and "<td>3</td>" in page
    text = "\n".join(str(o.get("text", "")) for o in outputs)
    assert "No dashboard: fix the problems shown above and run the cells again." in text

"""The JupyterLab harness (tests/lab_harness.py): ipywidgets and altair's JupyterChart, offline.

A smoke test of the whole chain a notebook test relies on: a real ``jupyter lab`` server, a
kernel, the ipywidgets and anywidget lab extensions, and comms in both directions (the slider's
new value travels to the kernel, whose observer sends the label's new text back).
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lab_harness import LabPage

SLIDER_CELL = """\
import ipywidgets as widgets

slider = widgets.IntSlider(value=3, min=0, max=10, description="n")
slider.add_class("harness-slider")
label = widgets.Label(f"value is {slider.value}")
label.add_class("harness-label")

def show(change):
    label.value = f"value is {change['new']}"

slider.observe(show, names="value")
widgets.VBox([slider, label])
"""

CHART_CELL = """\
import altair as alt

# Without this JupyterChart imports vega from a CDN; offline it bundles it with vl-convert.
alt.JupyterChart.enable_offline()
data = alt.Data(values=[{"k": "a", "v": 3}, {"k": "b", "v": 7}, {"k": "c", "v": 5}])
chart = alt.JupyterChart(alt.Chart(data).mark_bar().encode(x="k:N", y="v:Q"))
chart.add_class("harness-chart")
chart
"""


def _smoke_notebook() -> nbformat.NotebookNode:
    notebook = new_notebook(cells=[
        new_markdown_cell("# Harness smoke test"),
        new_code_cell(SLIDER_CELL),
        new_code_cell(CHART_CELL),
    ])
    # A notebook without a kernelspec makes JupyterLab ask which kernel to start.
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def test_widgets_and_jupyterchart_render_and_respond_offline(lab: LabPage, tmp_path):
    from playwright.sync_api import expect  # the `lab` fixture has made sure it is installed

    nbformat.write(_smoke_notebook(), tmp_path / "smoke.ipynb")
    notebook = lab.open_notebook("smoke.ipynb")
    lab.run_all_cells()

    slider = notebook.locator(".harness-slider")
    label = notebook.locator(".harness-label")
    expect(slider).to_be_visible()
    expect(label).to_have_text("value is 3")
    # vega-embed draws into a canvas by default (an svg with the "svg" renderer).
    marks = notebook.locator(".harness-chart").locator("canvas, svg.marks").first
    expect(marks).to_be_visible()
    box = marks.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0, box
    lab.screenshot("lab-harness-chart", element=notebook.locator(".harness-chart"))
    lab.screenshot("lab-harness-rendered")

    # The keyboard moves noUiSlider's handle one step per key; the kernel's observer answers.
    handle = slider.locator(".noUi-handle")
    handle.focus()
    for _ in range(4):
        handle.press("ArrowRight")
    expect(slider.locator(".widget-readout")).to_have_text("7")
    expect(label).to_have_text("value is 7")
    lab.screenshot("lab-harness-slider-moved")

    assert lab.external_requests == []
    assert lab.console_errors == []
    assert lab.dialogs_dismissed == []  # news toast and kernel choice are configured away

"""The building blocks of a report's sections, as escaped HTML: a heading kept with its first content.

nbconvert puts every cell (and every output) in a block of its own, and Chromium does not reliably
keep a heading in one block with the content in the next when it paginates. So a section's
heading, its "How to read this" box and its first content (a chart, a table, a sentence) are one
HTML output in one block (`section`), which the print CSS (`html.PRINT_CSS`) keeps together;
charts are inline SVG (`chart_html`), scaled to the full text width in print.
"""

from __future__ import annotations

import html

import pandas as pd

from ..views import charts
from ..views.analysis_tables import explain, nothing_to_show
from ..views.tables import table_html


def _e(text: object) -> str:
    return html.escape(str(text))


def chart_html(chart) -> str:
    """An altair chart as an inline SVG (rendered offline by vl-convert), in a `div.chart`."""
    return f'<div class="chart">{charts.to_svg(chart)}</div>'


def read_box(topic: str, outcome=None) -> str:
    """The "How to read this" box of a topic (`analysis_tables.explain`), with this decision's k,
    CVaR tail and value unit when the outcome is given."""
    kw = {}
    if outcome is not None:
        s = outcome.settings
        kw = {"k": s.top_k, "unit": s.value_unit,
              "alpha": outcome.plan.alpha if outcome.plan is not None else s.alpha}
    return f'<aside class="how-to-read"><b>How to read this.</b> {_e(explain(topic, **kw))}</aside>'


def nothing(what: str, reason: str) -> str:
    """Why an analysis has nothing to show (`analysis_tables.nothing_to_show`), as a paragraph."""
    return f'<p class="nothing-to-show">{_e(nothing_to_show(what, reason))}</p>'


def section(title: str, first: str = "", rest: str = "", *, read: str = "", level: int = 2) -> str:
    """A section: its heading, "How to read this" box (`read`, see `read_box`) and `first` content
    in one unbreakable block (`div.wb-keep`), then `rest` (free to break across pages)."""
    return (f'<section class="wb-section"><div class="wb-keep"><h{level}>{_e(title)}</h{level}>{read}{first}</div>'
            f"{rest}</section>")


def sub(title: str, first: str = "", rest: str = "", *, read: str = "") -> str:
    """A sub-section (h3), kept with its first content like `section`."""
    return section(title, first, rest, read=read, level=3)


def paragraph(text: str, *, note: bool = False) -> str:
    """Plain text as an escaped paragraph (in italics as a note)."""
    return f"<p><i>{_e(text)}</i></p>" if note else f"<p>{_e(text)}</p>"


def key_value_html(frame: pd.DataFrame, titles: tuple[str, str] = ("Item", "Value"), caption: str | None = None) -> str:
    """A two-column table of an indexed frame's first column (e.g. the methods appendix)."""
    human = pd.DataFrame({titles[0]: [str(i) for i in frame.index], titles[1]: [str(v) for v in frame.iloc[:, 0]]})
    return table_html(human, caption=caption)

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


def read_box(topic: str, outcome=None, *, unit: str | None = None) -> str:
    """The "How to read this" box of a topic (`views.explain.explain`), with this decision's k,
    CVaR tail and value unit when the outcome is given; `unit` overrides the value unit (a
    roadmap's value is in the value unit × quarters)."""
    kw = {}
    if outcome is not None:
        s = outcome.settings
        kw = {"k": s.top_k, "unit": s.value_unit,
              "alpha": outcome.plan.alpha if outcome.plan is not None else s.alpha}
    if unit is not None:
        kw["unit"] = unit
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


def roadmap_section(result, reason: str | None = None) -> str:
    """The report's "Roadmap across quarters": the roadmap's sentence and Gantt chart, the team
    loads, the cumulative value fan and the table, each with its "How to read this" box; or,
    without a roadmap (`result` None), the sentence saying why (`reason`)."""
    from ..views import roadmap_charts as rc
    from ..views import roadmap_tables as rt

    title = "Roadmap across quarters"
    if result is None:
        return section(title, f'<p class="nothing-to-show">{_e(reason or "No roadmap.")}</p>')
    unit = rt.value_unit(result)
    notes = "".join(paragraph(n, note=True) for n in result.notes)
    # The Gantt chart of a large portfolio is about a page tall: kept in one block with the heading it
    # would leave most of the page before it empty, so the heading stays with the sentence instead.
    first = f"<p>{_e(rt.roadmap_sentence(result))}</p>"
    return (section(title, first, chart_html(rc.gantt_chart(result)) + notes, read=read_box("roadmap", unit=unit))
            + sub("Team load per quarter", chart_html(rc.team_load_chart(result)),
                  over_capacity_html(result), read=read_box("team_load", unit=unit))
            + sub("Value earned over time", chart_html(rc.value_fan_chart(result)),
                  read=read_box("value_fan", unit=unit))
            + sub("When each initiative starts and lands", rt.roadmap_html(result)))


def over_capacity_html(result) -> str:
    """The team quarters at risk of more work due than capacity (at least `roadmap_tables.RISK_SHOWN`
    of the scenarios), each with its chance ± 95%, as a paragraph: the chart shows every quarter, and
    the full table (`roadmap_tables.team_load_html`, in the dashboard) would add a page to the report."""
    from ..views import roadmap_tables as rt
    from ..views.format import half_width, probability

    t = result.teams_frame()
    risky = t[t["p_over_capacity"] >= rt.RISK_SHOWN]
    if not len(risky):
        return paragraph(f"No team has more work due than capacity in {rt.RISK_SHOWN:.0%} of the scenarios or more "
                         "in any quarter.", note=True)
    items = "; ".join(f"{r.team} in {r.quarter}: "
                      f"{probability(r.p_over_capacity, half_width(r.p_over_capacity_se), result.samples)}"
                      for r in risky.itertuples())
    return paragraph(f"Chance of more work due than capacity, where it is {rt.RISK_SHOWN:.0%} or more (an overrun "
                     f"pushes the team's later work out): {items}.")

"""The one table style of the reports and the dashboard: a human DataFrame as an HTML table.

Rendered with great-tables (`great_tables.GT`): numbers right-aligned in tabular figures, names
left-aligned and never wrapped into a column of words, thin rules, a bold header, no zebra
stripes, a title above and notes below, marked rows on a light background. The HTML is one
self-contained fragment (its CSS scoped to the table's own id: nothing leaks to the page, no
external font or stylesheet) that works in a notebook cell (`display(HTML(...))`), in an
ipywidgets `HTML` and in print (rows never split across pages, the header repeated on each page).
"""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pandas as pd

from .format import number

HIGHLIGHT = "#fff3cd"  # marked rows (e.g. what changed): a light amber
RULE, HAIRLINE, INK = "#8c8c8c", "#e3e3e3", "#222222"
NAME_MIN_WIDTH = "14em"  # a text column with long cells wraps, but never narrower than this
NOWRAP_UP_TO = 24  # text columns whose cells are all this short never wrap

# CSS added to every table, scoped to its id ({id}); braces of the rules are doubled for format().
_EXTRA_CSS = """
#{id} .gt_table {{ width: 100%; table-layout: auto; }}
#{id} thead {{ display: table-header-group; }}
#{id} tr {{ break-inside: avoid; page-break-inside: avoid; }}
#{id} .gt_title {{ font-weight: bold; }}
#{id} .gt_heading {{ break-after: avoid; page-break-after: avoid; }}
#{id} tbody tr, #{id} tbody tr:hover, #{id} tbody tr:nth-child(odd), #{id} tbody tr:nth-child(even) {{
  background-color: transparent; }}
#{id} .gt_col_heading {{ white-space: normal; vertical-align: bottom; }}
#{id} td.gt_row {{ vertical-align: top; }}
#{id} td.gt_right {{ white-space: nowrap; }}
#{id} .gt_sourcenote {{ white-space: normal; }}
@media print {{ #{id} {{ overflow: visible !important; }} }}
"""


def _cell(value) -> str:
    """A cell as text: a missing one as "–", a stray number written by `format.number`, a boolean
    as "yes"/"no" (cells should come formatted; this keeps raw values from reaching a reader)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return number(float(value))
    return str(value)


def _table_id(frame: pd.DataFrame, caption, notes) -> str:
    """A stable id from the table's content (the same table gets the same id on every render)."""
    digest = hashlib.sha1(repr((list(frame.columns), frame.to_numpy().tolist(), caption, notes)).encode())
    return f"wb-t{digest.hexdigest()[:10]}"


def _scope(html: str, table_id: str) -> str:
    """Scope great-tables' two unscoped rules ("#id thead, tbody, … { border-style: none }" and
    " tr { background-color: transparent }"), which would restyle every table on the page."""
    html = html.replace(f"#{table_id} thead, tbody, tfoot, tr, td, th {{",
                        ", ".join(f"#{table_id} {t}" for t in ("thead", "tbody", "tfoot", "tr", "td", "th")) + " {")
    return re.sub(r"(?m)^ tr \{ background-color: transparent; \}",
                  f"#{table_id} tr {{ background-color: transparent; }}", html)


def _mark_rows(html: str, rows: set[int]) -> str:
    """Add class "wb-changed" to the body rows at `rows` (0-based), for callers and tests to find."""
    head, sep, rest = html.partition('<tbody class="gt_table_body">')
    if not sep or not rows:
        return html
    count = -1

    def mark(m: re.Match) -> str:
        nonlocal count
        count += 1
        return '<tr class="wb-changed">' if count in rows else m.group(0)

    body, end, tail = rest.partition("</tbody>")
    return head + sep + re.sub(r"<tr>", mark, body) + end + tail


def table_html(frame: pd.DataFrame, *, numeric: tuple[str, ...] = (), caption: str | None = None,
               notes: tuple[str, ...] = (), highlight=None) -> str:
    """A human table (column titles and cells already written for people) in the shared style.

    numeric: the columns to right-align (tabular figures, never wrapped); the others are text,
        left-aligned. caption: a title above the table. notes: sentences below it. highlight: row
        positions (0-based) to mark on a light background, with class "wb-changed".
    A frame built by `analysis_tables` carries its own `numeric`, `notes` and `highlight` in
    `frame.attrs`; arguments given here take precedence (notes: the frame's first, then these).
    The index is never shown: put what it holds in a column first. All text is escaped.
    """
    from great_tables import GT, loc, style  # imported when a table is drawn: the CLI's text output never pays it

    numeric = tuple(numeric) or tuple(frame.attrs.get("numeric", ()))
    notes = tuple(frame.attrs.get("notes", ())) + tuple(notes or ())
    if highlight is None:
        highlight = frame.attrs.get("highlight")
    marked = {int(r) for r in (highlight or ())}
    data = pd.DataFrame({str(c): [_cell(v) for v in frame.iloc[:, j]] for j, c in enumerate(frame.columns)},
                        columns=[str(c) for c in frame.columns])
    if data.columns.duplicated().any():
        raise ValueError(f"table columns must be unique, got {list(data.columns)}")
    unknown = [c for c in numeric if str(c) not in data.columns]
    if unknown:
        raise ValueError(f"numeric names columns the table does not have: {unknown}; columns: {list(data.columns)}")
    numeric_cols = [str(c) for c in numeric]
    text_cols = [c for c in data.columns if c not in numeric_cols]
    table_id = _table_id(data, caption, notes)

    gt = (GT(data, id=table_id, auto_align=False)
          .tab_options(table_width="100%", table_font_size="13px", table_font_color=INK,
                       table_border_top_style="solid", table_border_top_width="1px", table_border_top_color=RULE,
                       table_border_bottom_style="solid", table_border_bottom_width="1px",
                       table_border_bottom_color=RULE, heading_align="left", heading_title_font_size="110%",
                       heading_title_font_weight="bold", heading_padding="4px",
                       heading_border_bottom_style="none", column_labels_font_weight="bold",
                       column_labels_border_top_style="solid", column_labels_border_top_width="1px",
                       column_labels_border_top_color=RULE, column_labels_border_bottom_style="solid",
                       column_labels_border_bottom_width="1px", column_labels_border_bottom_color=RULE,
                       column_labels_padding="4px", table_body_hlines_style="solid", table_body_hlines_width="1px",
                       table_body_hlines_color=HAIRLINE, table_body_border_top_width="1px",
                       table_body_border_bottom_style="solid", table_body_border_bottom_width="1px",
                       table_body_border_bottom_color=RULE, data_row_padding="3px",
                       source_notes_font_size="90%", source_notes_padding="2px",
                       container_padding_y="4px", table_margin_left="0", table_margin_right="0",
                       table_additional_css=_EXTRA_CSS.format(id=table_id)))
    if numeric_cols:
        gt = gt.cols_align("right", columns=numeric_cols)
    if text_cols:
        gt = gt.cols_align("left", columns=text_cols)
    for c in text_cols:
        longest = max((len(v) for v in data[c]), default=0)
        wrap = "normal" if longest > NOWRAP_UP_TO else "nowrap"
        rule = f"white-space: {wrap};" + (f" min-width: {NAME_MIN_WIDTH};" if wrap == "normal" else "")
        gt = gt.tab_style(style.css(rule), loc.body(columns=c))
    if caption:
        gt = gt.tab_header(title=caption)
    for n in notes:
        gt = gt.tab_source_note(str(n))
    rows = sorted(r for r in marked if 0 <= r < len(data))
    if rows:
        gt = gt.tab_style(style.fill(HIGHLIGHT), loc.body(rows=rows))
    html = _scope(gt.as_raw_html(), table_id)
    html = html.replace('<table class="gt_table"', '<table class="gt_table wb-table"', 1)
    return _mark_rows(html, set(rows))

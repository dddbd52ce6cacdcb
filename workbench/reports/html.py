"""A report notebook as one self-contained HTML file: outputs only, charts as inline SVG, no CDN.

`REPORT_CSS` lays the report out for reading and printing, on A4 and on Letter alike (`@page`
size auto, 16 mm margins): the executive brief (`div.wb-page1`) is page 1 and ends it; each
section's heading, "How to read this" box and first content (`div.wb-keep`, see
`reports.sections`) never split; headings stay with what follows; table rows never split; charts
fill the text width. No cell as a whole avoids breaks: a tall one would leave a page blank.
"""

from __future__ import annotations

import base64
import copy
import re


def to_html(notebook, remove_tags: tuple[str, ...] = ()) -> str:
    """Self-contained HTML without code: displayed outputs only (no printed text), no script or
    stylesheet from a CDN. Cells tagged with one of `remove_tags` (the report's data cell) are left out."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(remove_tags), enabled=True), enabled=True)
    # Printed text (a library's log line, a warning) is for the notebook, not for the reader:
    # the HTML shows what the cells display. The executed .ipynb keeps every output.
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("output_type") != "stream"]
    for url in ("mathjax_url", "require_js_url", "jquery_url", "mermaid_js_url", "mermaid_layout_elk_js_url",
                "jupyter_widgets_base_url", "widget_renderer_url"):
        setattr(exporter, url, "")
    body, _ = exporter.from_notebook_node(notebook)
    # The report must open offline: no script may load code from elsewhere. The lab template's
    # mermaid loader imports from a CDN (only for diagrams, which reports have none of).
    mermaid = r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*</script>'
    body = re.sub(mermaid, "", body, flags=re.S)
    body = re.sub(r'<script[^>]*\bsrc="(?:https?://[^"]*)?"[^>]*>\s*</script>', "", body)
    body = re.sub(r'<img[^>]*\bsrc="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"[^>]*>', _inline_svg, body)
    body = re.sub(r'<link[^>]*\bhref="https?://[^"]*"[^>]*>', "", body)
    return body.replace("</head>", f"<style>{REPORT_CSS}</style></head>", 1)


REPORT_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.jp-Notebook { max-width: 60rem; margin: 0 auto; }
.chart svg { display: block; width: 100%; max-width: 100%; height: auto; }
.chart { margin: 0.4em 0 0.8em; }
.wb-section h2 { margin: 1.1em 0 0.4em; padding-bottom: 0.15em; border-bottom: 1px solid #c9d3e0; }
.wb-section h3 { margin: 0.9em 0 0.3em; }
.how-to-read { border-left: 3px solid #4c78a8; background: #f3f6fa; padding: 0.35em 0.7em; margin: 0.3em 0 0.7em;
  font-size: 92%; line-height: 1.4; }
.nothing-to-show { border-left: 3px solid #b0b0b0; background: #f6f6f6; padding: 0.35em 0.7em; }
.wb-page1 h1 { margin: 0 0 0.1em; font-size: 1.7em; }
.brief h2 { margin: 0.6em 0 0.3em; border-bottom: 2px solid #1f3b63; padding-bottom: 0.15em; }
.brief-row { display: grid; grid-template-columns: 8.5em 1fr; column-gap: 0.9em; padding: 0.4em 0;
  border-bottom: 1px solid #e3e3e3; line-height: 1.4; }
.brief-row h3 { margin: 0; font-size: 1em; color: #1f3b63; }
.brief-row ul { margin: 0.2em 0 0; padding-left: 1.2em; }
.brief-row ul.funded { columns: 2; column-gap: 2em; }
.brief-note { font-size: 90%; color: #555; margin-top: 0.4em; }
@page { size: auto; margin: 16mm; }
@media print {
  body { font-size: 10pt; }
  .jp-Notebook { max-width: none; padding: 0 !important; }
  .jp-Cell, .jp-Cell-outputWrapper, .jp-OutputArea-child, .jp-OutputArea-output { padding: 0 !important; margin: 0; }
  .jp-Cell { break-inside: auto; }
  /* The lab template makes each output an unbreakable, clipped table cell: a tall table or chart
     then jumps whole to the next page. Outputs flow and break like any block instead. */
  .jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output, .jp-Cell-outputWrapper {
    display: block !important; overflow: visible !important; break-inside: auto !important; }
  .wb-page1 { break-after: page; }
  .wb-keep, .brief-row, .chart, .how-to-read, .nothing-to-show { break-inside: avoid; }
  h1, h2, h3, h4, caption, .gt_heading { break-after: avoid; }
  tr, li { break-inside: avoid; }
  thead { display: table-header-group; }
  /* A table's notes (great-tables puts them in tfoot) stay with its last row: a repeated footer
     would otherwise carry a repeated header onto a page of its own, with no row under it. */
  tfoot { display: table-row-group; }
  tfoot tr:first-child { break-before: avoid; }
  p { orphans: 3; widows: 3; }
  a { color: inherit; text-decoration: none; }
}
"""


def _inline_svg(match: re.Match) -> str:
    """An SVG chart inline instead of as an <img>: real text, selectable and printable, and
    measurable by the browser test. vl-convert writes user text into it as escaped XML text."""
    svg = base64.b64decode(match.group(1)).decode("utf-8")
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"^\s*<!DOCTYPE[^>]*>\s*", "", svg)
    return f'<div class="chart">{svg}</div>'

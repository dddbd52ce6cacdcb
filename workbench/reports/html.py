"""A report notebook as one self-contained HTML file: outputs only, charts as inline SVG, no CDN."""

from __future__ import annotations

import base64
import re


def to_html(notebook, remove_tags: tuple[str, ...] = ()) -> str:
    """Self-contained HTML without code: outputs only, no script or stylesheet from a CDN.
    Cells tagged with one of `remove_tags` (the report's data cell) are left out."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(remove_tags), enabled=True), enabled=True)
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
    print_css = ("<style>@media print { body { font-size: 10pt; } .jp-Cell { break-inside: avoid; } "
                 "svg { max-width: 100%; height: auto; } }</style>")
    return body.replace("</head>", print_css + "</head>", 1)


def _inline_svg(match: re.Match) -> str:
    """An SVG chart inline instead of as an <img>: real text, selectable and printable, and
    measurable by the browser test. vl-convert writes user text into it as escaped XML text."""
    svg = base64.b64decode(match.group(1)).decode("utf-8")
    svg = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"^\s*<!DOCTYPE[^>]*>\s*", "", svg)
    return f'<div class="chart">{svg}</div>'

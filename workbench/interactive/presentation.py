"""The dashboard's stage: presentation mode and scrolling the editor into view, in the browser.

`Stage` is a small anywidget living in the dashboard's header. Its JavaScript (inline: no CDN,
works offline) does what Python cannot do from the kernel:

* **Presentation mode** (`presenting`): the page hides every notebook cell but the one showing
  the dashboard, and that cell's code and prompts, so a room sees the controls and the views
  only. A "Present" button turns it on (or `Dashboard.present()`), a visible "Exit presentation"
  button restores the notebook. The CSS is scoped to `body.wb-presenting`, so nothing changes
  outside the mode; it works in JupyterLab and Notebook 7 (their `.jp-Cell` markup).
* **Focus** (`focus`, a counter): each increase scrolls the dashboard's initiative editor
  (`.wb-editor`) into view, e.g. when an initiative is picked by clicking its bar in a chart.
"""

from __future__ import annotations

import json

import anywidget
import traitlets

PRESENT_CSS = """
body.wb-presenting .jp-Notebook .jp-Cell:not(.wb-present-cell) {display: none !important;}
body.wb-presenting .wb-present-cell .jp-Cell-inputWrapper,
body.wb-presenting .wb-present-cell .jp-OutputPrompt,
body.wb-presenting .wb-present-cell .jp-OutputArea-prompt,
body.wb-presenting .wb-present-cell .jp-Collapser,
body.wb-presenting .wb-present-cell .jp-cell-toolbar {display: none !important;}
body.wb-presenting .wb-present-cell .jp-OutputArea-output {width: 100%;}
body.wb-presenting .wb-present-cell {padding: 0 !important;}
"""

_ESM = """
const STYLE_ID = "wb-presentation-style";
const CSS = %s;

function ensureStyle() {
  if (document.getElementById(STYLE_ID)) return;
  const style = document.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  document.head.appendChild(style);
}

function views(model) {
  model.__wbViews = (model.__wbViews || []).filter((el) => el.isConnected);
  return model.__wbViews;
}

function apply(model) {
  const on = Boolean(model.get("presenting"));
  ensureStyle();
  document.querySelectorAll(".wb-present-cell").forEach((c) => c.classList.remove("wb-present-cell"));
  let cell = null;
  if (on) {  // the last view of this dashboard on the page is the one presented
    const shown = views(model);
    const last = shown[shown.length - 1];
    cell = last ? last.closest(".jp-Cell") : null;
    if (cell) cell.classList.add("wb-present-cell");
  }
  document.body.classList.toggle("wb-presenting", on);
  for (const el of views(model)) {
    el.querySelector(".wb-enter").style.display = on ? "none" : "";
    el.querySelector(".wb-exit").style.display = on ? "" : "none";
  }
  if (cell) cell.scrollIntoView({block: "start"});
}

function button(text, cls, title) {
  const b = document.createElement("button");
  b.className = `jupyter-widgets jupyter-button widget-button ${cls}`;
  b.textContent = text;
  b.title = title;
  return b;
}

export default {
  render({ model, el }) {
    el.classList.add("wb-stage");
    const enter = button("Present", "wb-enter", "show only the dashboard: no code, no other cells");
    const exit = button("Exit presentation", "wb-exit mod-warning", "show the notebook again");
    el.append(enter, exit);
    const set = (on) => { model.set("presenting", on); model.save_changes(); apply(model); };
    enter.addEventListener("click", () => set(true));
    exit.addEventListener("click", () => set(false));
    views(model).push(el);
    const onPresenting = () => apply(model);
    const onFocus = () => {
      const dash = el.closest(".wb-dash");
      const editor = dash ? dash.querySelector(".wb-editor") : null;
      if (editor && editor.offsetParent !== null) editor.scrollIntoView({block: "nearest", behavior: "smooth"});
    };
    model.on("change:presenting", onPresenting);
    model.on("change:focus", onFocus);
    // Drawn after the element is attached, so that the presented cell can be found.
    requestAnimationFrame(() => apply(model));
    return () => {
      model.off("change:presenting", onPresenting);
      model.off("change:focus", onFocus);
    };
  },
};
"""


class Stage(anywidget.AnyWidget):
    """Presentation mode and editor focus for one dashboard (see the module docstring)."""

    _esm = _ESM % json.dumps(PRESENT_CSS.strip())
    _css = ".wb-stage {display: flex; gap: 6px; align-items: center;}"
    presenting = traitlets.Bool(False).tag(sync=True)
    focus = traitlets.Int(0).tag(sync=True)

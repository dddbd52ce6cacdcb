"""The strategy-session dashboard: ipywidgets controls over the live engine, altair views that update in place.

    dash = workbench.Dashboard(portfolio, budget=40, capacities={"Payments": 12})
    dash.show()

Every control change becomes new `Assumptions`; a `LatestOnly` worker recomputes them off the
kernel's main thread, debounced, and drops any result a newer change has superseded. Scores,
ranks and the plan come first (the fast path); the frontier and the budget sweep follow; Sobol,
value of information and the tornado run on a button. Everything here is a thin layer over
`LiveEngine`, `ScenarioBook` and `workbench.charts`, the API a notebook user calls directly.
"""

from __future__ import annotations

import html
import threading
import time
from typing import Any, Callable

import altair as alt
import ipywidgets as w
import numpy as np
import pandas as pd

from . import charts
from .assumptions import Assumptions, check_assumptions, check_estimate
from .errors import InputError
from .estimates import FACTORS
from .live import LiveEngine, Outcome
from .portfolio import Portfolio
from .reports import plan_table, ranking_table
from .session import ScenarioBook
from .simulation import CONFIDENCE_MODES

SAMPLE_CHOICES = (2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
_ESC = html.escape


class Superseded(Exception):
    """Raised inside a computation that a newer request has made pointless."""


class LatestOnly:
    """Run `work(payload, check)` on a daemon thread for the newest request only.

    Requests arriving within `debounce` seconds of each other collapse into the last one. A
    result is applied only if no newer request came in while it was computed, so a slow, stale
    computation can never overwrite a newer one; `check()` raises `Superseded` inside long work.
    """

    def __init__(self, work: Callable[[Any, Callable[[], None]], Any], apply: Callable[[Any], None],
                 debounce: float = 0.0, name: str = "workbench-worker"):
        self.work, self.apply, self.debounce = work, apply, debounce
        self.generation = 0
        self._cv = threading.Condition()
        self._pending: tuple[int, Any] | None = None
        self._due = 0.0
        self._busy = False
        self._closed = False
        self.errors: list[BaseException] = []  # failures of apply() itself, kept for inspection
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def request(self, payload: Any, delay: float | None = None) -> int:
        with self._cv:
            self.generation += 1
            self._pending = (self.generation, payload)
            self._due = time.monotonic() + (self.debounce if delay is None else delay)
            self._cv.notify_all()
            return self.generation

    def cancel(self) -> None:
        """Drop the pending request and make the running one stale."""
        with self._cv:
            self.generation += 1
            self._pending = None
            self._cv.notify_all()

    def close(self) -> None:
        """Stop the worker thread (after the work in progress, whose result is dropped)."""
        with self._cv:
            self._closed = True
            self.generation += 1
            self._pending = None
            self._cv.notify_all()

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until nothing is pending or running; False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending is None and not self._busy, timeout)

    @property
    def busy(self) -> bool:
        with self._cv:
            return self._busy or self._pending is not None

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (self._pending is None or time.monotonic() < self._due):
                    self._cv.wait(None if self._pending is None else max(self._due - time.monotonic(), 0.0))
                if self._closed:
                    return
                generation, payload = self._pending
                self._pending, self._busy = None, True

            def check(generation=generation) -> None:
                if generation != self.generation:
                    raise Superseded

            try:
                result = self.work(payload, check)
            except Superseded:
                result = Superseded
            except Exception as exc:  # shown to the user by `apply`, never lost in a thread
                result = exc
            with self._cv:
                try:
                    if result is not Superseded and generation == self.generation:
                        self.apply(result)
                except Exception as exc:  # a failing view must not stop the worker
                    self.errors.append(exc)
                finally:
                    self._busy = False
                    self._cv.notify_all()


def _html(text: str, kind: str = "") -> str:
    colour = {"error": "#b00020", "ok": "#1b7f3b", "muted": "#666"}.get(kind, "inherit")
    return f'<div style="color:{colour}; white-space:normal">{text}</div>'


def _prob(p: float, samples: int) -> str:
    """A probability with its 95% Monte Carlo error; at 0 or 1 the rule of three bounds it."""
    if p <= 0:
        return f"0 (below {3 / samples:.1g})"
    if p >= 1:
        return f"1 (above {1 - 3 / samples:.4g})"
    return f"{p:.3f} ± {1.96 * np.sqrt(p * (1 - p) / samples):.3f}"


def _pm(value: float, half: float = float("nan"), digits: int | None = None) -> str:
    """A number with its 95% half-width when there is one: 40,360 ± 192, 0.46 ± 0.01."""
    if pd.isna(value):
        return "–"
    def fmt(x: float) -> str:
        if digits is not None:
            return f"{x:.{digits}f}"
        return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"
    return fmt(value) if pd.isna(half) else f"{fmt(value)} ± {fmt(half)}"


def _table(frame: pd.DataFrame, index: bool = False) -> str:
    """A readable HTML table; every cell is escaped (user text is text, never markup)."""
    return frame.to_html(index=index, escape=True, border=0, classes="wb-table", na_rep="–")


_CSS = """<style>
.wb-dash .wb-table {border-collapse: collapse; font-size: 12px; margin: 4px 0;}
.wb-dash .wb-table th {text-align: left; border-bottom: 1px solid #999; padding: 2px 8px;}
.wb-dash .wb-table td {padding: 2px 8px; border-bottom: 1px solid #e5e5e5;}
.wb-dash .wb-headline {font-size: 14px; line-height: 1.5;}
</style>"""


def _capacity_top(team_total: float, capacity: float | None) -> float:
    """A capacity slider's top, which means "no limit": above any limit actually set."""
    return team_total if capacity is None else max(team_total, capacity + 0.5)


class Dashboard:
    """Interactive strategy-session dashboard for one portfolio.

    budget, capacities and any other `Assumptions` field may be given as keywords; the rest
    default from `Assumptions.default_for(portfolio)`. `debounce` is the quiet time (seconds)
    after the last control change before recomputing.
    """

    def __init__(self, portfolio: Portfolio, assumptions: Assumptions | None = None, *, debounce: float = 0.25,
                 engine: LiveEngine | None = None, **settings):
        alt.JupyterChart.enable_offline()  # vega from vl-convert's bundle: no CDN, works offline
        self.portfolio = portfolio
        self.engine = engine or LiveEngine(portfolio)
        self.book = ScenarioBook(self.engine)
        if assumptions is None:
            assumptions = Assumptions.default_for(portfolio)
        self.assumptions = assumptions.change(**settings) if settings else assumptions
        self.outcome: Outcome | None = None
        self.frontier = None
        self.sweep: pd.DataFrame | None = None
        self.analysis = None
        self._syncing = False  # True while code (not a person) sets control values
        self._heavy_result_for: Assumptions | None = None  # the assumptions the analyses shown are for
        self._build_controls()
        self._build_views()
        def shown(show):
            return self._reporting(self._status, show, "could not show the result")
        self._fast = LatestOnly(self._compute, shown(self._show_outcome), debounce, "workbench-fast")
        self._slow = LatestOnly(self._compute_slow, shown(self._show_slow), 0.0, "workbench-slow")
        self._heavy = LatestOnly(self._compute_heavy, shown(self._show_heavy), 0.0, "workbench-heavy")
        self._requested_at = time.perf_counter()
        self._show_outcome(self._compute(self.assumptions, lambda: None))  # the first view, at once
        # Side by side when there is room, the views below the controls when there is not.
        body = w.HBox([self._controls, self._views], layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.widget = w.VBox([w.HTML(_CSS), self._header, body], layout=w.Layout(width="100%"))
        self.widget.add_class("wb-dash")

    # --- public API ---------------------------------------------------------------------------

    def show(self):
        """Display the dashboard in the notebook (also what the cell's last expression shows)."""
        from IPython.display import display

        display(self.widget)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def update(self, **changes) -> None:
        """Change assumptions from code, as if the controls had been moved (controls follow).
        Invalid values raise InputError and change nothing."""
        self._set_checked(self.assumptions.change(**changes))

    def edit(self, id_: str, factor: str, text: str | None) -> None:
        """Replace one estimate (None: back to the file's); invalid text raises InputError."""
        self._set_checked(self.assumptions.with_edit(id_, factor, text))

    def _set_checked(self, changed: Assumptions) -> None:
        problems = check_assumptions(self.portfolio, changed)  # before any state changes
        if problems:
            raise InputError(problems)
        self._set_assumptions(changed, sync_controls=True)

    def close(self) -> None:
        """Stop the dashboard's worker threads and close its widgets (e.g. before re-running the cell)."""
        for worker in (self._fast, self._slow, self._heavy):
            worker.close()
        self.widget.close()

    @staticmethod
    def _reporting(status: w.HTML, action: Callable[..., None], failed: str = "failed") -> Callable[..., None]:
        """`action`, with any exception of its own shown in `status` (and re-raised to the log): a
        view or a button that silently does nothing is worse than an error message."""
        def reported(*args):
            try:
                action(*args)
            except Exception as exc:
                status.value = _html(f"{failed}: {_ESC(repr(exc))}", "error")
                raise
        return reported

    def wait(self, timeout: float = 300.0) -> bool:
        """Block until every pending recomputation (not the heavy analyses) has been shown."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._fast.wait(deadline - time.monotonic()) or not self._slow.wait(deadline - time.monotonic()):
                return False
            if not (self._fast.busy or self._slow.busy):
                return True
        return False

    def run_analyses(self, wait: bool = False) -> None:
        """Start the heavy analyses (tornado, Sobol, EVPI/EVPPI) of the current plan."""
        self._heavy_progress.value, self._heavy_progress.layout.visibility = 0, "visible"
        self._heavy_status.value = _html("running the tornado, Sobol indices and value of information…", "muted")
        self._heavy.request(self.outcome)
        if wait:
            self._heavy.wait(timeout=3600)

    def save_scenario(self, name: str) -> None:
        self.book.save(name, self.assumptions)
        names = list(self.book.saved)
        for dd in (self._cmp_a, self._cmp_b, self._export_pick):
            dd.options = names
        self._scenario_status.value = _html(f"saved scenario <b>{_ESC(name.strip())}</b>", "ok")
        self._on_scenario_name()  # the name typed may now be one to replace

    # --- controls -----------------------------------------------------------------------------

    def _build_controls(self) -> None:
        a, p = self.assumptions, self.portfolio
        total = float(sum(ini.effort.median() for ini in p))
        style, wide = {"description_width": "120px"}, w.Layout(width="330px")

        def slider(cls, description, value, lo, hi, step, **kw):
            # A range that holds the value: a slider silently clamps what it cannot show.
            return cls(value=value, min=min(lo, value), max=max(hi, value), step=step, description=description,
                       style=style,
                       layout=wide, continuous_update=True, **kw)

        self._budget = slider(w.FloatSlider, "Budget (PM)", a.budget, 1.0, max(np.ceil(total), a.budget), 0.5,
                              readout_format=".1f")
        self._capacity: dict[str, w.FloatSlider] = {}
        for team in sorted({ini.team for ini in p if ini.team}):
            team_total = float(np.ceil(sum(ini.effort.median() for ini in p if ini.team == team)))
            value = a.capacity.get(team, team_total)
            self._capacity[team] = slider(w.FloatSlider, team, value, 0.0, _capacity_top(team_total, a.capacity.get(team)),
                                          0.5, readout_format=".1f")
        self._objective = w.ToggleButtons(options=[("mean", "mean"), ("CVaR", "cvar"), ("blend", "blend")],
                                          tooltips=["maximize the expected value", "maximize the CVaR: the mean of "
                                                    "the worst α of scenarios", "maximize mean + λ × CVaR"],
                                          value=a.objective, description="Optimize", style={"button_width": "104px",
                                                                                            **style})
        self._alpha = slider(w.FloatSlider, "CVaR tail α", a.alpha, 0.05, 0.5, 0.05, readout_format=".2f")
        self._lam = slider(w.FloatSlider, "Risk weight λ", a.lam, 0.0, 5.0, 0.25, readout_format=".2f")
        self._mode = w.Dropdown(options=CONFIDENCE_MODES, value=a.confidence_mode, description="Confidence as",
                                style=style, layout=wide)
        self._spread = {c: slider(w.FloatSlider, f"×/÷ at {c:.0%}", f, 1.0, 10.0, 0.1, readout_format=".1f")
                        for c, f in a.spread}
        self._samples = w.Dropdown(options=[(f"{s:,}", s) for s in sorted({*SAMPLE_CHOICES, a.samples})],
                                   value=a.samples, description="Samples", style=style, layout=wide)
        self._seed = w.IntText(value=a.seed, description="Seed", style=style, layout=wide)
        self._top_k = slider(w.IntSlider, "Top k", a.top_k, 1, min(len(p), 15), 1)

        self._pick = w.Dropdown(options=[(ini.name, ini.id) for ini in p], description="Initiative", style=style,
                                layout=wide)
        self._fields = {f: w.Text(description=f.capitalize(), style=style, layout=wide, continuous_update=True)
                        for f in FACTORS}
        self._field_msg = {f: w.HTML() for f in FACTORS}
        self._override = w.Dropdown(options=[("as in the file (MoSCoW)", "none"), ("force into every plan", "in"),
                                             ("force out of every plan", "out")],
                                    value="none", description="In the plan", style=style, layout=wide)
        self._apply = w.Button(description="Apply edit", button_style="primary", icon="check", disabled=True,
                               tooltip="enabled once a field differs from the current estimate and all are valid")
        self._revert = w.Button(description="Back to file", icon="undo")
        self._edit_status = w.HTML()

        self._scenario_name = w.Text(placeholder="scenario name", layout=w.Layout(width="200px"))
        self._save = w.Button(description="Save", icon="save", layout=w.Layout(width="110px"), disabled=True,
                              tooltip="keep the current assumptions under this name")
        self._cmp_a = w.Dropdown(options=[], description="Compare", style={"description_width": "60px"},
                                 layout=w.Layout(width="200px"))
        self._cmp_b = w.Dropdown(options=[], description="with", style={"description_width": "40px"},
                                 layout=w.Layout(width="180px"))
        self._compare = w.Button(description="Compare", icon="columns", layout=w.Layout(width="110px"))
        self._export_pick = w.Dropdown(options=[], description="Scenario", style=style, layout=wide)
        self._export_path = w.Text(value="scenario.yaml", description="Export to", style=style, layout=wide)
        self._export = w.Button(description="Export file", icon="download")
        self._quarter = w.Text(value="session", description="Report label", style=style, layout=wide)
        self._report = w.Button(description="Quarterly report", icon="file")
        self._scenario_status = w.HTML()

        for control in [self._budget, *self._capacity.values(), self._objective, self._alpha, self._lam, self._mode,
                        *self._spread.values(), self._samples, self._seed, self._top_k]:
            control.observe(self._on_control, names="value")
        self._pick.observe(lambda _: self._load_editor(), names="value")
        for f, field in self._fields.items():
            field.observe(lambda change, f=f: self._on_field(f), names="value")
        self._scenario_name.observe(lambda _: self._on_scenario_name(), names="value")
        self._override.observe(self._on_override, names="value")
        self._apply.on_click(self._reporting(self._edit_status, lambda _: self._apply_edit()))
        self._revert.on_click(self._reporting(self._edit_status, lambda _: self._revert_edit()))
        self._save.on_click(self._reporting(self._scenario_status, lambda _: self._on_save()))
        self._compare.on_click(self._reporting(self._scenario_status, lambda _: self._on_compare()))
        self._export.on_click(lambda _: self._on_export())
        self._report.on_click(lambda _: self._on_report())
        self._load_editor()
        self._enable_dependent()
        # Stable hooks for browser tests and custom CSS.
        for name, widget in [("budget", self._budget), ("objective", self._objective), ("pick", self._pick),
                             ("apply", self._apply), ("override", self._override), ("save", self._save),
                             ("revert", self._revert), ("scenario-name", self._scenario_name),
                             ("edit-status", self._edit_status), ("scenario-status", self._scenario_status),
                             ("compare-a", self._cmp_a), ("compare-b", self._cmp_b), ("compare", self._compare),
                             *[(f"field-{f}", x) for f, x in self._fields.items()],
                             *[(f"capacity-{t}", x) for t, x in self._capacity.items()]]:
            widget.add_class(f"wb-{name}")

        def section(title, *children):
            return w.VBox([w.HTML(f"<b>{title}</b>"), *children], layout=w.Layout(margin="4px 0 8px 0"))

        self._controls = w.VBox([
            section("Budget and capacity", self._budget,
                    w.HTML(_html("Team capacities in person-months; the rightmost position means no limit.", "muted")),
                    *self._capacity.values()),
            section("Risk preference", self._objective, self._alpha, self._lam),
            section("Uncertainty", self._mode, *self._spread.values(), self._samples, self._seed, self._top_k),
            section("Edit an initiative", self._pick, *[x for f in FACTORS for x in (self._fields[f], self._field_msg[f])],
                    self._override, w.HBox([self._apply, self._revert]), self._edit_status),
            section("Scenarios", w.HBox([self._scenario_name, self._save]), w.HBox([self._cmp_a, self._cmp_b]),
                    self._compare, self._export_pick, self._export_path, w.HBox([self._export, self._report]),
                    self._quarter, self._scenario_status),
        ], layout=w.Layout(width="350px", min_width="350px", flex="0 0 350px", margin="0 12px 0 0"))

    def _moved(self, control: w.Widget, value) -> Assumptions:
        """The assumptions with only what `control` sets changed: the rest (e.g. a capacity or a
        spread point set from code that no slider shows) stays as it is."""
        a = self.assumptions
        for team, s in self._capacity.items():
            if control is s:
                caps = {t: v for t, v in a.capacity.items() if t != team}
                if value < s.max:  # the slider's top means "no limit"
                    caps[team] = float(value)
                return a.change(capacities=caps)
        for c, s in self._spread.items():
            if control is s:
                return a.change(spread={**a.spread_mapping, c: float(value)})
        field = {self._budget: "budget", self._objective: "objective", self._alpha: "alpha", self._lam: "lam",
                 self._mode: "confidence_mode", self._samples: "samples", self._seed: "seed",
                 self._top_k: "top_k"}[control]
        return a.change(**{field: value})

    def _sync_controls(self) -> None:
        a = self.assumptions

        def put(slider, value):  # widen the range first: a slider clamps what it cannot show
            slider.min, slider.max = min(slider.min, value), max(slider.max, value)
            slider.value = value

        self._syncing = True
        try:
            put(self._budget, a.budget)
            for team, s in self._capacity.items():
                if team in a.capacity:  # a limit must never sit on the "no limit" position
                    s.max = _capacity_top(s.max, a.capacity[team])
                put(s, a.capacity.get(team, s.max))
            self._objective.value = a.objective
            put(self._alpha, a.alpha)
            put(self._lam, a.lam)
            put(self._top_k, a.top_k)
            if a.samples not in [v for _, v in self._samples.options]:
                self._samples.options = [(f"{v:,}", v) for v in sorted({a.samples, *(v for _, v in self._samples.options)})]
            self._mode.value, self._samples.value, self._seed.value = a.confidence_mode, a.samples, a.seed
            for c, s in self._spread.items():
                put(s, a.spread_mapping.get(c, s.value))
            self._load_editor()
        finally:
            self._syncing = False
        self._enable_dependent()

    def _enable_dependent(self) -> None:
        self._lam.disabled = self._objective.value != "blend"
        self._alpha.disabled = False  # alpha also sets the frontier's and the report's CVaR
        for s in self._spread.values():
            s.disabled = self._mode.value != "spread"

    def _on_control(self, change) -> None:
        if self._syncing:
            return
        self._enable_dependent()
        self._set_assumptions(self._moved(change["owner"], change["new"]))

    def _set_assumptions(self, a: Assumptions, sync_controls: bool = False) -> None:
        if a == self.assumptions and self.outcome is not None and self.outcome.assumptions == a:
            return
        self.assumptions = a
        if sync_controls:
            self._sync_controls()
        self._slow.cancel()  # its frontier is for assumptions that no longer hold
        self._requested_at = time.perf_counter()
        self._status.value = _html("updating…", "muted")
        self._fast.request(a)

    # --- the initiative editor ------------------------------------------------------------------

    def _current_text(self, id_: str, factor: str) -> str:
        for e_id, e_factor, text in self.assumptions.edits:
            if (e_id, e_factor) == (id_, factor):
                return text
        return str(self.portfolio[id_].estimate(factor))

    def _load_editor(self) -> None:
        id_ = self._pick.value
        for f, field in self._fields.items():
            field.value = self._current_text(id_, f)
            self._field_msg[f].value = ""
        overrides = dict(self.assumptions.overrides)
        self._syncing, was = True, self._syncing
        try:
            self._override.value = overrides.get(id_, "none")
        finally:
            self._syncing = was
        moscow = self.portfolio[id_].moscow or "not set"
        self._edit_status.value = _html(f"editing <b>{_ESC(self.portfolio[id_].name)}</b> · MoSCoW in the file: "
                                        f"{_ESC(moscow)}", "muted")
        self._refresh_apply()

    def _on_field(self, factor: str) -> None:
        self._validate_field(factor)
        self._refresh_apply()

    def _refresh_apply(self) -> None:
        """Apply is live only for a valid change: what the kernel enables is what it has received,
        so a click can never apply text the kernel has not seen yet."""
        id_ = self._pick.value
        valid = all(check_estimate(self._fields[f].value, f) is None for f in FACTORS)
        changed = any(self._fields[f].value.strip() != self._current_text(id_, f) for f in FACTORS)
        self._apply.disabled = not (valid and changed)

    def _validate_field(self, factor: str) -> str | None:
        message = check_estimate(self._fields[factor].value, factor)
        self._field_msg[factor].value = "" if message is None else _html(_ESC(message), "error")
        return message

    def _apply_edit(self) -> None:
        id_ = self._pick.value
        if any(self._validate_field(f) is not None for f in FACTORS):
            self._edit_status.value = _html("fix the fields marked in red first", "error")
            return
        a = self.assumptions
        for f in FACTORS:
            text = self._fields[f].value.strip()
            original = str(self.portfolio[id_].estimate(f))
            a = a.with_edit(id_, f, None if text == original else text)
        self._set_assumptions(a)
        self._refresh_apply()
        self._edit_status.value = _html(f"applied to {_ESC(self.portfolio[id_].name)}", "ok")

    def _revert_edit(self) -> None:
        id_ = self._pick.value
        a = self.assumptions
        for f in FACTORS:
            a = a.with_edit(id_, f, None)
        self._set_assumptions(a.with_override(id_, None))
        self._load_editor()

    def _on_override(self, change) -> None:
        if self._syncing:
            return
        value = None if change["new"] == "none" else change["new"]
        self._set_assumptions(self.assumptions.with_override(self._pick.value, value))

    def _on_pick(self, change) -> None:
        """An initiative clicked in the P(top k) chart opens in the editor."""
        picked = [row.get("id") for row in (change["new"].value or []) if isinstance(row, dict)]
        if picked and picked[0] in self.portfolio.ids:
            self._pick.value = picked[0]

    # --- views --------------------------------------------------------------------------------

    def _build_views(self) -> None:
        self._header = w.HTML()
        self._status = w.HTML()
        self._ranking_chart = alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
        self._intervals_chart = alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
        self._ranking_table = w.HTML()
        self._plan_headline = w.HTML()
        self._plan_table = w.HTML()
        self._value_chart = alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
        self._frontier_chart = alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
        self._sweep_chart = alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
        self._slow_status = w.HTML()
        self._slow_progress = w.IntProgress(min=0, max=1, layout=w.Layout(width="300px", visibility="hidden"))
        self._heavy_button = w.Button(description="Run sensitivity", icon="play", button_style="info")
        self._heavy_cancel = w.Button(description="Cancel", icon="stop")
        self._heavy_progress = w.IntProgress(min=0, max=1, layout=w.Layout(width="300px", visibility="hidden"))
        self._heavy_status = w.HTML(_html("Tornado, Sobol indices and value of information take a few seconds "
                                          "to a minute; the controls stay live meanwhile.", "muted"))
        self._tornado_chart = alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
        self._tornado_chart.layout.visibility = "hidden"
        self._heavy_tables = w.HTML()
        self._compare_view = w.HTML(_html("Save two scenarios, then compare them here.", "muted"))
        self._heavy_button.on_click(lambda _: self.run_analyses())
        self._heavy_cancel.on_click(lambda _: self._cancel_heavy())

        tabs = w.Tab(children=[
            w.VBox([self._ranking_chart, self._intervals_chart, self._ranking_table]),
            w.VBox([self._plan_headline, self._value_chart, self._plan_table]),
            w.VBox([w.HBox([self._slow_progress, self._slow_status]), self._frontier_chart, self._sweep_chart]),
            w.VBox([w.HBox([self._heavy_button, self._heavy_cancel, self._heavy_progress]), self._heavy_status,
                    self._tornado_chart, self._heavy_tables]),
            w.VBox([self._compare_view]),
        ])
        for k, title in enumerate(["Ranking", "Plan", "Frontier & budget", "Sensitivity", "Compare"]):
            tabs.set_title(k, title)
        self._tabs = tabs
        for name, widget in [("status", self._status), ("plan-headline", self._plan_headline),
                             ("plan-table", self._plan_table), ("ranking-chart", self._ranking_chart),
                             ("value-chart", self._value_chart), ("frontier-chart", self._frontier_chart),
                             ("sweep-chart", self._sweep_chart), ("slow-status", self._slow_status),
                             ("heavy-run", self._heavy_button), ("heavy-status", self._heavy_status),
                             ("tornado-chart", self._tornado_chart), ("compare-view", self._compare_view)]:
            widget.add_class(f"wb-{name}")
        self._views = w.VBox([self._status, tabs], layout=w.Layout(flex="1 1 560px", min_width="560px"))
        source = self.portfolio.source or "portfolio"
        self._header.value = (f"<h3 style='margin:4px 0'>Strategy session: {len(self.portfolio)} initiatives "
                              f"<span style='font-weight:normal;color:#666'>({_ESC(str(source))})</span></h3>")

    def _compute(self, a: Assumptions, check) -> dict:
        """The fast path, off the main thread: engine outcome plus the chart specs to show."""
        outcome = self.engine.run(a)
        check()
        r, k = outcome.result, a.top_k
        pick = alt.selection_point(name="pick", fields=["id"], on="click", clear="dblclick", empty=True)
        ranking = charts.top_k_probability(r, k, select=pick)
        views = {"outcome": outcome, "ranking": ranking, "intervals": charts.score_intervals(r, k),
                 "ranking_table": _table(ranking_table(r, k).reset_index(drop=True))}
        if outcome.plan is not None:
            views["value"] = charts.plan_value_distribution(outcome.plan)
            views["plan_table"] = _table(plan_table(outcome.plan).reset_index(drop=True))
        return views

    def _show_outcome(self, views) -> None:
        if isinstance(views, Exception):
            self._status.value = _html(f"could not recompute: {_ESC(str(views))}", "error")
            return
        outcome: Outcome = views["outcome"]
        self.outcome = outcome
        self._ranking_chart.chart = views["ranking"]
        # A new chart brings a new selections object: listen to it for clicks on bars.
        self._ranking_chart.selections.observe(self._on_pick, names=["pick"])
        self._intervals_chart.chart = views["intervals"]
        self._ranking_table.value = views["ranking_table"]
        if outcome.plan is None:
            self._plan_headline.value = _html(f"<b>No plan:</b> {_ESC(outcome.error or '')}", "error")
            self._plan_table.value = ""
            self._value_chart.layout.display = "none"  # never leave charts of earlier assumptions on screen
            self._hide_slow_views()
        else:
            self._plan_headline.value = self._headline(outcome)
            self._value_chart.chart = views["value"]
            self._value_chart.layout.display = None
            self._plan_table.value = views["plan_table"]
        elapsed = time.perf_counter() - self._requested_at
        engine_ms = outcome.seconds["total"] * 1000
        self._status.value = _html(
            f"{outcome.result.samples:,} samples, seed {outcome.assumptions.seed} · engine {engine_ms:.0f} ms, "
            f"shown {elapsed * 1000:.0f} ms after the last change", "muted")
        if self._heavy_result_for is not None and self._heavy_result_for != outcome.assumptions:
            self._heavy_status.value = _html("The analyses below are for earlier assumptions: run them again.",
                                             "error")
        if outcome.plan is not None:
            self._slow_progress.value, self._slow_progress.layout.visibility = 0, "visible"
            self._slow_status.value = _html("solving the frontier and the budget sweep…", "muted")
            self._slow.request(outcome)
        else:
            self._slow_status.value = _html("no plan, so no frontier", "muted")

    def _headline(self, o: Outcome) -> str:
        plan, a = o.plan, o.assumptions
        m = plan.metrics()
        s = plan.value.size
        half = 1.96 * m["expected_value_se"]
        lines = [f"<b>Recommended plan</b> ({_ESC(self._objective_text(a))}): {len(m['selected'])} initiatives, "
                 f"budget used {m['budget_used']:,.1f} of {a.budget:,.1f} person-months",
                 f"Expected value <b>{m['expected_value']:,.0f}</b> ± {half:,.0f} (95%); 80% interval "
                 f"{m['p10']:,.0f} – {m['p90']:,.0f}; CVaR {a.alpha:.0%} {m['cvar']:,.0f}"]
        if plan.status != "optimal":
            gap = "" if plan.gap is None else f", within {plan.gap:.2%} of the optimum"
            lines.insert(0, _html(f"The solver stopped at its {self.engine.time_limit:g} s limit ({_ESC(plan.status)}"
                                  f"{gap}): this plan may not be the best.", "error"))
        if m["p_overrun"] is not None:
            lines.append(f"P(total effort exceeds the budget) = <b>{_prob(m['p_overrun'], s)}</b>")
        for team, p in m["team_overrun"].items():
            lines.append(f"P({_ESC(team)} exceeds its capacity) = {_prob(p, s)}")
        for key, c in plan.comparisons.items():
            other = plan.greedy if key == "greedy" else plan.current
            if np.array_equal(other.x, plan.x):
                lines.append(f"vs {_ESC(c.against)}: the same plan")
                continue
            lines.append(f"vs {_ESC(c.against)}: {c.expected_gain:+,.0f} ± {1.96 * c.gain_se:,.0f} expected value; "
                         f"P(worth more, ties count half) {_prob(c.p_better, s)}")
        return "<div class='wb-headline'>" + "<br>".join(lines) + "</div>"

    @staticmethod
    def _objective_text(a: Assumptions) -> str:
        return {"mean": "maximizing expected value", "cvar": f"maximizing CVaR {a.alpha:.0%}",
                "blend": f"expected value + {a.lam:g} × CVaR {a.alpha:.0%}"}[a.objective]

    # --- slower views: frontier and budget sweep --------------------------------------------------

    def _compute_slow(self, outcome: Outcome, check) -> dict:
        def progress(k, n, base=0, total=2):
            check()
            self._slow_progress.max, self._slow_progress.value = n * total, base * n + k

        front = self.engine.frontier(outcome, progress=progress)
        check()
        sweep = self.engine.budget_sweep(outcome, progress=lambda k, n: progress(k, n, 1))
        check()
        return {"outcome": outcome, "frontier": front, "sweep": sweep,
                "frontier_chart": charts.efficient_frontier(front, outcome.plan),
                "sweep_chart": charts.budget_sweep(sweep, outcome.assumptions.budget)}

    def _hide_slow_views(self) -> None:
        """No frontier or sweep of earlier assumptions stays on screen (while a new one is being
        solved, the old one stays, under a status line saying so)."""
        self.frontier = self.sweep = None
        self._frontier_chart.layout.display = self._sweep_chart.layout.display = "none"

    def _show_slow(self, views) -> None:
        self._slow_progress.layout.visibility = "hidden"
        if isinstance(views, Exception):
            self._slow_status.value = _html(f"frontier not available: {_ESC(str(views))}", "error")
            self._hide_slow_views()
            return
        self.frontier, self.sweep = views["frontier"], views["sweep"]
        self._frontier_chart.chart = views["frontier_chart"]
        self._sweep_chart.chart = views["sweep_chart"]
        self._frontier_chart.layout.display = self._sweep_chart.layout.display = None
        n = self.engine.analysis_scenarios
        self._slow_status.value = _html(f"{len(self.frontier.plans)} frontier plans (solved on {n:,} samples, "
                                        f"evaluated on all); the red diamond is the recommended plan", "muted")

    # --- heavy analyses on a button -------------------------------------------------------------

    def _compute_heavy(self, outcome: Outcome, check) -> dict:
        def progress(k, n):
            check()
            self._heavy_progress.max, self._heavy_progress.value = n, k

        report = self.engine.analyze(outcome, progress=progress)
        return {"outcome": outcome, "report": report, "tornado": charts.tornado(report.tornado)}

    def _show_heavy(self, views) -> None:
        self._heavy_progress.layout.visibility = "hidden"
        if isinstance(views, Exception):
            self._heavy_status.value = _html(f"analysis failed: {_ESC(str(views))}", "error")
            return
        report, outcome = views["report"], views["outcome"]
        self.analysis, self._heavy_result_for = report, outcome.assumptions
        self._tornado_chart.chart = views["tornado"]
        self._tornado_chart.layout.visibility = "visible"
        parts = []
        if report.evpi is not None:
            e = report.evpi
            parts.append(f"<p><b>EVPI</b> (what perfect information on every value is worth at most): "
                         f"{e['value']:,.0f} ± {1.96 * e['se']:,.0f}</p>")
        if report.evppi is not None:
            parts.append("<p><b>Which estimate to research first</b> (EVPPI, per initiative):</p>"
                         + _table(report.evppi.head(10).round(1)))
        if report.sobol is not None:
            parts.append("<p><b>What drives the plan's value</b> (Sobol indices):</p>"
                         + _table(report.sobol.head(10).round(3), index=True))
        if report.switch_points is not None:
            parts.append("<p><b>Switch points</b>:</p>" + _table(report.switch_points.head(10)))
        self._heavy_tables.value = "".join(parts)
        stale = outcome.assumptions != self.assumptions
        self._heavy_status.value = _html(
            f"analyses of the plan at budget {outcome.assumptions.budget:g}, on {self.engine.analysis_scenarios:,} "
            "samples" + (": the assumptions have changed since, run them again" if stale else ""),
            "error" if stale else "ok")

    def _cancel_heavy(self) -> None:
        self._heavy.cancel()
        self._heavy_progress.layout.visibility = "hidden"
        self._heavy_status.value = _html("cancelled", "muted")

    # --- scenarios ----------------------------------------------------------------------------

    def _on_scenario_name(self) -> None:
        # Save is enabled by the kernel once it holds the typed name, so a click saves that name.
        name = self._scenario_name.value.strip()
        self._save.disabled = not name
        self._save.description = "Replace" if name in self.book.saved else "Save"

    def _on_save(self) -> None:
        try:
            self.save_scenario(self._scenario_name.value)
        except ValueError as exc:
            self._scenario_status.value = _html(_ESC(str(exc)), "error")
            return
        self._scenario_name.value = ""

    def _on_compare(self) -> None:
        first, second = self._cmp_a.value, self._cmp_b.value
        if not first or not second:
            self._scenario_status.value = _html("save two scenarios to compare", "error")
            return
        try:
            c = self.book.compare(first, second)
        except ValueError as exc:
            self._scenario_status.value = _html(_ESC(str(exc)), "error")
            return
        digits = [3 if metric.startswith("P(") else None for metric in c.values.index]
        values = pd.DataFrame({name: [_pm(v, h, dg) for v, h, dg in zip(c.values[name], c.values[f"± {name}"], digits)]
                               for name in (first, second)}, index=c.values.index)
        values["difference"] = [_pm(v, digits=dg) for v, dg in zip(c.values["difference"], digits)]
        ranks = c.ranks[c.ranks["moves up by"].abs() >= 0.05].head(10)
        k = c.top_k
        ranks = pd.DataFrame({"initiative": ranks["name"], f"rank {first}": ranks[f"rank {first}"].round(1),
                              f"rank {second}": ranks[f"rank {second}"].round(1),
                              "moves up by": ranks["moves up by"].round(1),
                              **{f"P(top {k}) {name}": [_pm(v, h, 2) for v, h in zip(ranks[f"P(top {k}) {name}"],
                                                                                       ranks[f"± {name}"])]
                                 for name in (first, second)}})
        self._compare_view.value = (
            f"<h4>{_ESC(first)} vs {_ESC(second)}</h4>"
            + "".join(_html(f"<b>{_ESC(n)} has no plan:</b> {_ESC(e)}", "error") for n, e in zip(c.names, c.errors) if e)
            + "<p><b>What differs</b></p>"
            + (_table(c.assumptions) if len(c.assumptions) else _html("the same assumptions", "muted"))
            + "<p><b>Plan value</b> (± 95% Monte Carlo error)</p>" + _table(values, index=True)
            + "<p><b>Funded initiatives</b></p>" + _table(c.plans[c.plans["change"] != "kept"].reset_index())
            + "<p><b>Largest rank changes</b> (expected rank)</p>"
            + (_table(ranks) if len(ranks) else _html("no initiative moves by 0.05 places or more", "muted")))
        self._tabs.selected_index = 4

    def _on_export(self) -> None:
        try:
            paths = self.book.export(self._export_pick.value, self._export_path.value)
        except Exception as exc:  # a bad path or format: say so in the dashboard
            self._scenario_status.value = _html(f"export failed: {_ESC(str(exc))}", "error")
            return
        self._scenario_status.value = _html("wrote " + ", ".join(_ESC(str(p)) for p in paths), "ok")

    def _on_report(self) -> None:
        name = self._export_pick.value
        if not name:
            self._scenario_status.value = _html("save a scenario first", "error")
            return
        self._scenario_status.value = _html(f"building the quarterly report of {_ESC(name)}…", "muted")

        def build():
            try:
                _, page = self.book.report(name, "reports", quarter=self._quarter.value.strip() or "session")
                self._scenario_status.value = _html(f"report written: {_ESC(str(page))}", "ok")
            except Exception as exc:
                self._scenario_status.value = _html(f"report failed: {_ESC(str(exc))}", "error")

        threading.Thread(target=build, name="workbench-report", daemon=True).start()

"""The strategy-session dashboard: ipywidgets controls over the pipeline, altair views that update in place.

    dash = workbench.Dashboard(portfolio, budget=40, capacities={"Payments": 12})
    dash.show()

Every control change becomes new `Settings` (`dashboard_controls`); a `LatestOnly` worker
recomputes them off the kernel's main thread, debounced, and drops any result a newer change
has superseded. The ranking and the plan come first (`LiveEngine.run`, the fast path); the
frontier and the budget sweep follow (`pipeline.frontier`, `pipeline.sweep`); the tornado, Sobol
indices and value of information run on a button (`pipeline.analyses`). `dashboard_views` builds
what is shown; the same settings give the same numbers in the CLI and the reports. The scenario
buttons (save, compare, export, report, snapshot) are `dashboard_scenarios.ScenarioActions`;
presentation mode and scrolling the editor into view are the browser-side `presentation.Stage`.

Closing: `Dashboard.close()` stops and joins the worker threads; at exit (a kernel shutdown or
restart too) Python stops every dashboard still open and joins any worker left running before
daemon threads are killed, so no thread is inside the solver as the interpreter finalizes (see
`workbench.interactive.workers`). Worker solves take at most `INTERACTIVE_SOLVE_LIMIT` s (a plan
cut short shows its gap), a fraction of a second once stale: that bounds the wait.
"""

from __future__ import annotations

import atexit
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from typing import Any

import altair as alt
import ipywidgets as w
import pandas as pd

from ..errors import InputError
from ..model.portfolio import Portfolio
from ..pipeline import LiveEngine, Outcome, analyses, frontier, sweep
from ..settings import Settings
from . import dashboard_views as views
from .dashboard_controls import Controls, reporting
from .dashboard_roadmap import RoadmapTab
from .dashboard_scenarios import ScenarioActions
from .presentation import Stage
from .session import ScenarioBook
from .workers import EXIT_WAIT, LatestOnly, Superseded, single_threaded_blas

__all__ = ["Dashboard", "LatestOnly", "Superseded", "default_settings"]

_ESC = views._ESC
INTERACTIVE_SOLVE_LIMIT = 10.0  # seconds per solve in a session (HiGHS stops there and reports its gap)
_OPEN: weakref.WeakSet[Dashboard] = weakref.WeakSet()


def default_settings(portfolio: Portfolio) -> Settings:
    """The settings a session starts from: half the portfolio's total median effort as the budget,
    no capacities, every other setting at its default (the CLI's)."""
    total = sum(ini.effort.median() for ini in portfolio)
    return Settings(budget=float(max(1, round(total / 2))))


class Dashboard(ScenarioActions):
    """Interactive strategy-session dashboard for one portfolio.

    settings: where the session starts (default: `default_settings(portfolio)`, whose budget also
    fills in a missing one); `changes`: settings changed on top, validated like the CLI's flags.
    `debounce`: seconds of quiet before recomputing; exports, reports and snapshots go under `output_dir`.
    `present()` shows it to a room: the controls and views without the notebook's code.
    """

    def __init__(self, portfolio: Portfolio, settings: Settings | None = None, *, debounce: float = 0.25,
                 engine: LiveEngine | None = None, output_dir: str = "reports", **changes):
        alt.JupyterChart.enable_offline()  # vega from vl-convert's bundle: no CDN, works offline
        self.portfolio, self.output_dir = portfolio, str(output_dir)
        self.engine = engine or LiveEngine(portfolio)
        self.book = ScenarioBook(self.engine)
        settings = settings or default_settings(portfolio)
        if settings.budget is None:
            changes.setdefault("budget", default_settings(portfolio).budget)
        self.settings = (settings.change(**changes) if changes else settings).for_portfolio(portfolio)
        self.outcome: Outcome | None = None
        self.frontier = None
        self.sweep: pd.DataFrame | None = None
        self.analysis = None
        self._analysis_for: Settings | None = None  # the settings the analyses shown are for
        self._report_process: subprocess.Popen | None = None
        self._comparison = None  # the last scenario comparison shown (a snapshot includes it)
        self._snapshot_thread = None
        self.controls = Controls(portfolio, lambda: self.settings, self._from_controls, self._refused, self.output_dir)
        # The Roadmap tab (`dashboard_roadmap`): its own worker, computing only while the tab is shown.
        self.roadmap = RoadmapTab(self.engine, lambda: self.settings, lambda caps: self.update(capacities=caps),
                                  debounce=debounce, solve_limit=INTERACTIVE_SOLVE_LIMIT)
        self._build_views()
        self._wire_scenarios()

        def shown(show):
            return reporting(self._status, show, "could not show the result")
        limit = INTERACTIVE_SOLVE_LIMIT
        self._fast = LatestOnly(self._compute, shown(self._show_outcome), debounce, "workbench-fast", limit)
        self._slow = LatestOnly(self._compute_slow, shown(self._show_slow), 0.0, "workbench-slow", limit)
        self._heavy = LatestOnly(self._compute_heavy, shown(self._show_heavy), 0.0, "workbench-heavy", limit)
        self._workers = (self._fast, self._slow, self._heavy, self.roadmap.worker)
        _OPEN.add(self)
        # Side by side when there is room, the views below the controls when there is not.
        body = w.HBox([self.controls.box, self._views],
                      layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        top = w.HBox([self._header, self._stage], layout=w.Layout(justify_content="space-between",
                                                                  align_items="center", width="100%"))
        self.widget = w.VBox([w.HTML(views.CSS), top, body], layout=w.Layout(width="100%"))
        self.widget.add_class("wb-dash")
        self._requested_at = time.perf_counter()
        try:  # the first view, at once, single-threaded BLAS like the workers' views
            with single_threaded_blas():
                self._show_outcome(self._compute(self.settings, lambda: None))
        except BaseException:
            self.close()  # no worker thread outlives a dashboard that failed to start
            raise

    # --- public API ---------------------------------------------------------------------------

    def show(self) -> None:
        """Display the dashboard in the notebook (also what the cell's last expression shows)."""
        from IPython.display import display

        display(self.widget)

    def present(self, show: bool = True) -> None:
        """Presentation mode: the notebook shows only the dashboard, without code cells or prompts,
        until "Exit presentation" is clicked (or `end_presentation()`). `show`: display the
        dashboard in this cell (`Dashboard(...).present()` on its own); with False, the dashboard
        already on screen is presented."""
        self._stage.presenting = True
        if show:
            self.show()

    def end_presentation(self) -> None:
        """Back to the notebook: code cells and prompts shown again."""
        self._stage.presenting = False

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def update(self, **changes) -> None:
        """Change settings from code, as if the controls had been moved (controls follow).
        Invalid values raise InputError and change nothing."""
        self._set_settings(self.settings.change(**changes).for_portfolio(self.portfolio), sync_controls=True)

    def edit(self, id_: str, factor: str, text: str | None) -> None:
        """Replace one estimate (None: back to the file's); invalid text raises InputError."""
        self._set_settings(self.settings.with_edit(id_, factor, text).for_portfolio(self.portfolio),
                           sync_controls=True)

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
        """Start the heavy analyses (tornado, switch points, Sobol, EVPI/EVPPI) of the current plan."""
        self._heavy_progress.value, self._heavy_progress.layout.visibility = 0, "visible"
        self._heavy_status.value = views.note("running the tornado, Sobol indices and value of information…", "muted")
        self._heavy.request(self.outcome)
        if wait:
            self._heavy.wait(timeout=3600)

    def close(self, timeout: float = EXIT_WAIT) -> bool:
        """Stop the dashboard and close its widgets (e.g. before re-running the notebook cell):
        see `stop`. True when every worker thread has ended."""
        ended = self.stop(timeout)
        self.widget.close()
        return ended

    def stop(self, timeout: float = EXIT_WAIT) -> bool:
        """Stop the computations and join the worker threads (a solve in progress finishes first,
        up to `timeout` seconds), and stop a report being built. True when every thread has ended."""
        _OPEN.discard(self)
        for worker in self._workers:  # every one stale at once, so they all wind down together
            worker.cancel()
        process = self._report_process
        if process is not None and process.poll() is None:
            process.terminate()  # its kernel follows its parent; the last good report stays
        deadline = time.monotonic() + timeout
        return all([worker.close(max(deadline - time.monotonic(), 0.0)) for worker in self._workers])

    # --- settings in, outcome out --------------------------------------------------------------

    def _from_controls(self, changed: Settings) -> None:
        try:
            checked = changed.for_portfolio(self.portfolio)
        except InputError as exc:
            self._refused(exc)
            return
        self._set_settings(checked)

    def _refused(self, exc: InputError) -> None:
        """A control asked for settings the validator refuses: say why, show those in force."""
        self._status.value = views.note(f"not applied: {_ESC(str(exc))}", "error")
        self.controls.sync(self.settings)

    def _set_settings(self, s: Settings, sync_controls: bool = False) -> None:
        if s == self.settings and self.outcome is not None and self.outcome.settings == s:
            return
        self.settings = s
        if sync_controls:
            self.controls.sync(s)
        self._slow.cancel()  # its frontier is for settings that no longer hold
        self._requested_at = time.perf_counter()
        self._status.value = views.note("updating…", "muted")
        self._fast.request(s)
        self.roadmap.settings_changed()

    def _compute(self, s: Settings, check: Callable[[], None]) -> dict:
        """The fast path, off the main thread: the outcome and the charts and tables it shows."""
        outcome = self.engine.run(s)
        check()
        return views.fast_views(outcome)

    def _show_outcome(self, shown: dict | Exception) -> None:
        if isinstance(shown, Exception):
            self._status.value = views.note(f"could not recompute: {_ESC(str(shown))}", "error")
            return
        outcome: Outcome = shown["outcome"]
        self.outcome = outcome
        self._ranking_chart.chart = shown["ranking"]
        # A new chart brings a new selections object: listen to it for clicks on bars.
        self._ranking_chart.selections.observe(self._on_chart_pick, names=["pick"])
        self._intervals_chart.chart = shown["intervals"]
        self._ranking_table.value = shown["ranking_table"]
        if outcome.plan is None:
            self._plan_headline.value = views.note(f"<b>No plan:</b> {_ESC(outcome.error or '')}", "error")
            self._plan_table.value = ""
            self._value_chart.layout.display = "none"  # never leave charts of earlier settings on screen
            self._hide_slow_views()
        else:
            self._plan_headline.value = shown["headline"]
            self._value_chart.chart = shown["value"]
            self._value_chart.layout.display = None
            self._plan_table.value = shown["plan_table"]
        self._status.value = views.status_line(outcome, time.perf_counter() - self._requested_at,
                                               self.controls.calibration_path)
        if self._analysis_for is not None and self._analysis_for != outcome.settings:
            self._heavy_status.value = views.note("The analyses below are for earlier settings: run them again.",
                                                  "error")
        if outcome.plan is not None:
            self._slow_progress.value, self._slow_progress.layout.visibility = 0, "visible"
            self._slow_status.value = views.note("solving the frontier and the budget sweep…", "muted")
            self._slow.request(outcome)
        else:
            self._slow_status.value = views.note("no plan, so no frontier", "muted")

    def _on_chart_pick(self, change) -> None:
        """An initiative clicked in a chart opens in the editor, scrolled into view."""
        if self.controls.on_pick(change):
            self._stage.focus += 1

    # --- slower views: frontier and budget sweep --------------------------------------------------

    def _compute_slow(self, outcome: Outcome, check: Callable[[], None]) -> dict:
        def progress(k, n, part=0, parts=2):
            check()  # stops between solves once the settings have moved on
            self._slow_progress.max, self._slow_progress.value = n * parts, part * n + k

        front = frontier(outcome, progress=progress)
        check()
        swept = sweep(outcome, progress=lambda k, n: progress(k, n, 1))
        check()
        return views.slow_views(outcome, front, swept)

    def _hide_slow_views(self) -> None:
        """No frontier or sweep of earlier settings stays on screen (while a new one is being
        solved, the old one stays, under a status line saying so)."""
        self.frontier = self.sweep = None
        self._frontier_chart.layout.display = self._sweep_chart.layout.display = "none"

    def _show_slow(self, shown: dict | Exception) -> None:
        self._slow_progress.layout.visibility = "hidden"
        if isinstance(shown, Exception):
            self._slow_status.value = views.note(f"frontier not available: {_ESC(str(shown))}", "error")
            self._hide_slow_views()
            return
        self.frontier, self.sweep = shown["frontier"], shown["sweep"]
        self._frontier_chart.chart = shown["frontier_chart"]
        self._sweep_chart.chart = shown["sweep_chart"]
        self._frontier_chart.layout.display = self._sweep_chart.layout.display = None
        self._slow_status.value = views.slow_status(shown["outcome"], self.frontier)

    # --- heavy analyses on a button -------------------------------------------------------------

    def _compute_heavy(self, outcome: Outcome, check: Callable[[], None]) -> dict:
        def progress(k, n):
            check()
            self._heavy_progress.max, self._heavy_progress.value = n, k

        if views.nothing_to_analyse(outcome):  # single numbers, no plan: say why instead of failing
            return views.empty_heavy_views(outcome)
        return views.heavy_views(outcome, analyses(outcome, tornado=True, sobol=True, voi=True, progress=progress))

    def _show_heavy(self, shown: dict | Exception) -> None:
        self._heavy_progress.layout.visibility = "hidden"
        if isinstance(shown, Exception):
            self._heavy_status.value = views.note(f"analysis failed: {_ESC(str(shown))}", "error")
            return
        outcome = shown["outcome"]
        self.analysis, self._analysis_for = shown["report"], outcome.settings
        if shown["tornado"] is None:
            self._tornado_chart.layout.visibility = "hidden"
        else:
            self._tornado_chart.chart = shown["tornado"]
            self._tornado_chart.layout.visibility = "visible"
        self._heavy_intro.value, self._heavy_tables.value = shown["intro"], shown["html"]
        self._heavy_status.value = (views.analyses_status(outcome, self.settings) if shown["report"] is not None
                                    else views.note("nothing to analyse for these settings: see why below", "muted"))

    def _cancel_heavy(self) -> None:
        self._heavy.cancel()
        self._heavy_progress.layout.visibility = "hidden"
        self._heavy_status.value = views.note("cancelled", "muted")

    # --- the views ------------------------------------------------------------------------------

    def _build_views(self) -> None:
        def chart(**embed_options) -> alt.JupyterChart:
            return alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point(), embed_options=embed_options or None)

        self._header, self._status, self._stage = w.HTML(), w.HTML(), Stage()
        # SVG: its bars are elements (clickable by a test, crisp when zoomed on a projector).
        self._ranking_chart, self._intervals_chart, self._ranking_table = chart(renderer="svg"), chart(), w.HTML()
        self._plan_headline, self._plan_table, self._value_chart = w.HTML(), w.HTML(), chart()
        self._frontier_chart, self._sweep_chart, self._slow_status = chart(), chart(), w.HTML()
        self._slow_progress = w.IntProgress(min=0, max=1, layout=w.Layout(width="300px", visibility="hidden"))
        self._heavy_button = w.Button(description="Run sensitivity", icon="play", button_style="info")
        self._heavy_cancel = w.Button(description="Cancel", icon="stop")
        self._heavy_progress = w.IntProgress(min=0, max=1, layout=w.Layout(width="300px", visibility="hidden"))
        self._heavy_status = w.HTML(views.note("Tornado, Sobol indices and value of information take a few "
                                               "seconds to a minute; the controls stay live meanwhile.", "muted"))
        self._tornado_chart = chart()
        self._tornado_chart.layout.visibility = "hidden"
        self._heavy_intro, self._heavy_tables = w.HTML(), w.HTML()
        self._compare_view = w.HTML(views.note("Save two scenarios, then compare them here.", "muted"))
        self._heavy_button.on_click(lambda _: self.run_analyses())
        self._heavy_cancel.on_click(lambda _: self._cancel_heavy())

        tabs = w.Tab(children=[
            w.VBox([self._ranking_chart, self._intervals_chart, self._ranking_table]),
            w.VBox([self._plan_headline, self._value_chart, self._plan_table]),
            w.VBox([w.HBox([self._slow_progress, self._slow_status]), self._frontier_chart,
                    w.HTML(views.how_to_read("frontier")), self._sweep_chart, w.HTML(views.how_to_read("sweep"))]),
            w.VBox([w.HBox([self._heavy_button, self._heavy_cancel, self._heavy_progress]), self._heavy_status,
                    self._heavy_intro, self._tornado_chart, self._heavy_tables]),
            w.VBox([self._compare_view]),
            self.roadmap.widget,
        ])
        for k, title in enumerate(["Ranking", "Plan", "Frontier & budget", "Sensitivity", "Compare", "Roadmap"]):
            tabs.set_title(k, title)
        tabs.observe(lambda c: self.roadmap.set_visible(c["new"] == 5), names="selected_index")
        self._tabs = tabs
        for name, widget in [("status", self._status), ("plan-headline", self._plan_headline),
                             ("plan-table", self._plan_table), ("ranking-chart", self._ranking_chart),
                             ("ranking-table", self._ranking_table), ("value-chart", self._value_chart),
                             ("frontier-chart", self._frontier_chart), ("sweep-chart", self._sweep_chart),
                             ("slow-status", self._slow_status), ("heavy-run", self._heavy_button),
                             ("heavy-status", self._heavy_status), ("tornado-chart", self._tornado_chart),
                             ("heavy-tables", self._heavy_tables), ("compare-view", self._compare_view)]:
            widget.add_class(f"wb-{name}")
        self._views = w.VBox([self._status, tabs], layout=w.Layout(flex="1 1 560px", min_width="560px"))
        source = self.portfolio.source or "portfolio"
        self._header.value = (f"<h3 style='margin:4px 0'>Strategy session: {len(self.portfolio)} initiatives "
                              f"<span style='font-weight:normal;color:#666'>({_ESC(str(source))})</span></h3>")


def close_all(timeout: float = EXIT_WAIT) -> bool:
    """Close every open dashboard, all at once, within `timeout` seconds in all. Registered with
    `atexit` (before daemon threads are killed); the workers' own handler then joins any left."""
    open_now: list[Any] = list(_OPEN)
    for dash in open_now:  # every worker stale first: their solves wind down in parallel
        for worker in dash._workers:
            worker.cancel()
    deadline, ended = time.monotonic() + timeout, True
    for dash in open_now:  # only the threads and report processes: at exit the widgets' comms may be gone
        try:
            ended = dash.stop(max(deadline - time.monotonic(), 0.0)) and ended
        except Exception as exc:  # one dashboard's failure must not leave the others' threads running
            print(f"workbench: could not stop a dashboard at exit: {exc}", file=sys.stderr)
            ended = False
    return ended


atexit.register(close_all)

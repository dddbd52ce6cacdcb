"""The dashboard's Roadmap tab: when to start what across quarters, and how likely each lands on time.

    dash = workbench.Dashboard(portfolio, budget=40, capacities={"Payments": 12})
    dash.roadmap.force("checkout", "2027Q4")        # or the tab's "Force start" button
    dash.roadmap.wait()

The tab's own controls (horizon, tail quarters, which roadmap, and drag-free what-ifs: an
initiative's earliest quarter or a forced start) are settings the tab keeps on top of the
dashboard's (`changes`): they change the roadmap only, so moving them never re-solves the
one-quarter plan, its frontier or its sweep. Team capacities are the dashboard's own
`capacities` (a quarter's person-months per team, the same numbers as the plan's), shown here
too and written back through the dashboard, so both columns always agree; the budget bounds
every team's total a quarter.

The roadmap is recomputed by a `LatestOnly` worker of its own, debounced like the plan, through
`LiveEngine.roadmap` (cached draws and solves), and only while the tab is on screen: a change made
elsewhere marks it stale and it is recomputed when the tab is shown. A roadmap that cannot be
made (a team without capacity, an infeasible forced start) is said in words in the tab.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace

import altair as alt
import ipywidgets as w
import pandas as pd

from ..errors import InputError
from ..model.quarters import MAX_HORIZON, next_quarter, parse_quarter, quarter_label, quarter_range
from ..pipeline import LiveEngine
from ..planning.milp import SolverError
from ..settings import Settings
from .dashboard_views import how_to_read, note
from .workers import LatestOnly

__all__ = ["RoadmapTab", "roadmap_views"]

_ESC = html.escape
NO_LIMIT = "budget only"  # a team capacity entry left empty: only the budget bounds the team
_FIRST_CHOICES = 12  # quarters offered as a horizon's first, from the current one
_STYLE = {"description_width": "120px"}


def roadmap_views(result) -> dict:
    """What the tab shows for a `RoadmapResult` (off the main thread): the sentence, the charts and
    the tables (`views.roadmap_charts`, `views.roadmap_tables`), as altair charts and escaped HTML."""
    from ..views import roadmap_charts as rc
    from ..views import roadmap_tables as rt

    unit = rt.value_unit(result)
    r = result.roadmap
    lines = [f"<b>{_ESC(rt.roadmap_sentence(result))}</b>"]
    if r.status not in ("optimal", "greedy", "given"):
        gap = "" if r.gap is None else f", proven within {r.gap:.2%} of the best"
        lines.append(note(f"The solver stopped at its time limit{gap}: this roadmap may not be the best.", "error"))
    lines += [note(f"Breaks: {_ESC(v)}", "error") for v in r.violations]
    lines += [note(_ESC(n), "muted") for n in result.notes]
    return {"result": result, "headline": "<div class='wb-headline'>" + "<br>".join(lines) + "</div>",
            "gantt": rc.gantt_chart(result), "load": rc.team_load_chart(result), "fan": rc.value_fan_chart(result),
            "gantt_read": how_to_read("roadmap", unit=unit), "load_read": how_to_read("team_load", unit=unit),
            "fan_read": how_to_read("value_fan", unit=unit),
            "load_table": rt.team_load_html(result, caption="Team load"),
            "table": rt.roadmap_html(result, caption="When each initiative starts and lands")}


def _pairs_text(pairs: tuple, verb: str, names: dict[str, str]) -> list[str]:
    return [f"{_ESC(names.get(i, i))}: {verb} {_ESC(q)}" for i, q in pairs]


class RoadmapTab:
    """The Roadmap tab: its controls, its views and the worker that recomputes it.

    settings(): the dashboard's settings in force; on_capacities(mapping): set the dashboard's team
    capacities (raises InputError for a value refused). `widget` is the tab's content."""

    def __init__(self, engine: LiveEngine, settings: Callable[[], Settings],
                 on_capacities: Callable[[dict], None], *, debounce: float = 0.25, solve_limit: float | None = None):
        self.engine, self.base, self.on_capacities = engine, settings, on_capacities
        self.changes: dict = {}  # roadmap settings set in this tab, on top of the dashboard's
        self.result = None  # the RoadmapResult shown (None: none yet, or an error shown)
        self.error: str | None = None  # why there is no roadmap, in words
        self.visible, self.syncing = False, False
        self._requested: Settings | None = None
        p = engine.portfolio
        self.names = {ini.id: ini.name for ini in p}
        wide = w.Layout(width="380px")
        now = next_quarter() - 1
        self.first = w.Dropdown(options=[quarter_label(q) for q in range(now, now + _FIRST_CHOICES)],
                                description="First quarter", style=_STYLE, layout=wide)
        self.count = w.BoundedIntText(value=4, min=1, max=MAX_HORIZON, description="Quarters", style=_STYLE,
                                      layout=wide)
        self.horizon = w.Text(description="or type", placeholder="2027Q1:2027Q4", continuous_update=False,
                              style=_STYLE, layout=wide)
        self.tail = w.BoundedIntText(value=4, min=0, max=MAX_HORIZON, description="Tail quarters", style=_STYLE,
                                     layout=wide, tooltip="quarters after the horizon in which delivered work still "
                                                          "earns its value")
        self.which = w.Dropdown(options=[("optimal", "optimal"), ("greedy by RICE", "greedy"),
                                         ("yours (planned_quarter)", "yours")], description="Roadmap shown",
                                style=_STYLE, layout=wide)
        self.capacity = {team: w.Text(description=team, placeholder=NO_LIMIT, continuous_update=False, style=_STYLE,
                                      layout=wide) for team in sorted({ini.team for ini in p if ini.team})}
        self.pick = w.Dropdown(options=[(ini.name, ini.id) for ini in p], description="Initiative", style=_STYLE,
                               layout=wide)
        self.quarter = w.Dropdown(options=[], description="Quarter", style=_STYLE, layout=wide)
        self.not_before_button = w.Button(description="Not before", icon="step-forward",
                                          tooltip="its earliest start: the roadmap may start it then or later")
        self.force_button = w.Button(description="Force start", icon="thumb-tack",
                                     tooltip="start it in this quarter, whatever it costs the rest")
        self.clear_button = w.Button(description="Clear", icon="eraser", tooltip="drop this initiative's what-ifs")
        self.reset_button = w.Button(description="Reset all", icon="undo", tooltip="drop every what-if")
        self.whatifs, self.message, self.status, self.headline = w.HTML(), w.HTML(), w.HTML(), w.HTML()
        self.gantt_read, self.load_read, self.fan_read = w.HTML(), w.HTML(), w.HTML()
        self.load_table, self.table = w.HTML(), w.HTML()
        self.gantt, self.load, self.fan = (alt.JupyterChart(alt.Chart(pd.DataFrame()).mark_point())
                                           for _ in range(3))
        self.sync()
        for control in (self.first, self.count):
            control.observe(lambda _: self._on_first_count(), names="value")
        self.horizon.observe(lambda c: self._guard(self._typed_horizon, c["new"]), names="value")
        self.tail.observe(lambda c: self._guard(self._set, "tail_quarters", c["new"]), names="value")
        self.which.observe(lambda c: self._guard(self._set, "roadmap", c["new"]), names="value")
        for team, entry in self.capacity.items():
            entry.observe(lambda c, team=team: self._guard(self._typed_capacity, team, c["new"]), names="value")
        self.not_before_button.on_click(lambda _: self._guard(self.not_before, self.pick.value, self.quarter.value))
        self.force_button.on_click(lambda _: self._guard(self.force, self.pick.value, self.quarter.value))
        self.clear_button.on_click(lambda _: self._guard(self.clear, self.pick.value))
        self.reset_button.on_click(lambda _: self._guard(self.clear))
        self.worker = LatestOnly(self._compute, self._apply, debounce, "workbench-roadmap", solve_limit)
        self.widget = self._layout()
        self._hide_views()
        self.status.value = note("The roadmap is computed when this tab is shown.", "muted")

    # --- public API -----------------------------------------------------------------------------

    def settings(self) -> Settings:
        """The settings the roadmap is computed with: the dashboard's, with this tab's on top."""
        return replace(self.base(), **self.changes)

    def set_visible(self, visible: bool) -> None:
        """The tab was shown (recompute if stale) or hidden (nothing is computed meanwhile)."""
        self.visible = visible
        self.refresh()

    def settings_changed(self) -> None:
        """The dashboard's settings changed: show its capacities, recompute if on screen."""
        self.sync()
        self.refresh()

    def set_horizon(self, text: str | None) -> None:
        """The horizon as FIRST:LAST (e.g. 2027Q1:2027Q4); None: four quarters from the next."""
        self._set("quarters", text)

    def not_before(self, id_: str, quarter: str) -> None:
        """What-if: `id_` starts in `quarter` at the earliest (replacing its `earliest` column)."""
        self._what_if(self.settings().with_start(id_, quarter, earliest=True))

    def force(self, id_: str, quarter: str) -> None:
        """What-if: `id_` is forced to start in `quarter`."""
        self._what_if(self.settings().with_start(id_, quarter))

    def clear(self, id_: str | None = None) -> None:
        """Drop the what-ifs of one initiative, or (None) every what-if."""
        s = self.settings()
        if id_ is None:
            self._what_if(replace(s, starts=(), earliest_starts=()))
        else:
            self._what_if(s.with_start(id_, None).with_start(id_, None, earliest=True))

    def wait(self, timeout: float = 300.0) -> bool:
        """Block until the roadmap asked for has been shown; False on timeout."""
        return self.worker.wait(timeout)

    # --- controls to settings ---------------------------------------------------------------------

    def _guard(self, action: Callable, *args) -> None:
        """Run a control's action; a value the settings refuse is said in the tab, the controls
        go back to the settings in force."""
        if self.syncing:
            return
        try:
            action(*args)
        except InputError as exc:
            self.message.value = note(f"not applied: {_ESC(str(exc))}", "error")
            self.sync()

    def _set(self, name: str, value) -> None:
        """One roadmap setting changed, read and checked like the CLI's flag."""
        checked = self.settings().change(**{name: value}).for_portfolio(self.engine.portfolio)
        self.changes[name] = getattr(checked, name)
        self.message.value = ""
        self.sync()
        self.refresh()

    def _what_if(self, s: Settings) -> None:
        s = s.for_portfolio(self.engine.portfolio)  # unknown ids, bad quarters: InputError
        self.changes.update(starts=s.starts, earliest_starts=s.earliest_starts)
        self.message.value = ""
        self.sync()
        self.refresh()

    def _on_first_count(self) -> None:
        if self.syncing:
            return
        first = parse_quarter(self.first.value)
        self._guard(self._set, "quarters", f"{self.first.value}:{quarter_label(first + self.count.value - 1)}")

    def _typed_horizon(self, text: str) -> None:
        self._set("quarters", text.strip() or None)

    def _typed_capacity(self, team: str, text: str) -> None:
        caps: dict = {t: v for t, v in self.base().capacity.items() if t != team}
        if text.strip().lower() not in ("", NO_LIMIT, "none", "no limit"):
            caps[team] = text.strip()
        self.on_capacities(caps)  # the dashboard validates, applies and calls `settings_changed`

    def sync(self) -> None:
        """Show the settings in force on the tab's controls (without recomputing)."""
        s = self.settings()
        quarters = quarter_range(s.quarters)
        labels = [quarter_label(q) for q in quarters]
        self.syncing = True
        try:
            first = labels[0]
            if first not in self.first.options:
                self.first.options = sorted({*self.first.options, first}, key=parse_quarter)
            self.first.value, self.count.value = first, len(labels)
            self.horizon.value = s.quarters or ""
            self.tail.value, self.which.value = s.tail_quarters, s.roadmap
            for team, entry in self.capacity.items():
                entry.value = "" if team not in s.capacity else f"{s.capacity[team]:g}"
            keep = self.quarter.value
            self.quarter.options = labels
            self.quarter.value = keep if keep in labels else labels[-1]
        finally:
            self.syncing = False
        items = (_pairs_text(s.starts, "forced to start in", self.names)
                 + _pairs_text(s.earliest_starts, "not before", self.names))
        self.whatifs.value = note("What-ifs: " + ("; ".join(items) if items else "none"), "muted")

    # --- recomputing ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask for the roadmap of the settings in force, if the tab is on screen and it is not the
        one shown or coming."""
        if not self.visible:
            return
        s = self.settings()
        if s == self._requested:
            return
        self._requested = s
        self.status.value = note("updating the roadmap…", "muted")
        self.worker.request(s)

    def _compute(self, s: Settings, check: Callable[[], None]) -> dict:
        try:
            result = self.engine.roadmap(s)
        except (InputError, SolverError) as exc:  # no capacity, an infeasible what-if, the solver gave up: in words
            return {"error": str(exc)}
        check()
        return roadmap_views(result)

    def _apply(self, shown: dict | Exception) -> None:
        try:
            self._show(shown)
        except Exception as exc:  # a failing view is said, never silent
            self.status.value = note(f"could not show the roadmap: {_ESC(str(exc))}", "error")
            raise

    def _show(self, shown: dict | Exception) -> None:
        if isinstance(shown, Exception) or "error" in shown:
            text = str(shown) if isinstance(shown, Exception) else shown["error"]
            self.result, self.error = None, text
            self.message.value = note(f"<b>No roadmap:</b> {_ESC(text)}", "error")
            self.status.value = ""
            self._hide_views()
            return
        self.result, self.error = shown["result"], None
        self.message.value = ""
        self.headline.value = shown["headline"]
        self.gantt.chart, self.load.chart, self.fan.chart = shown["gantt"], shown["load"], shown["fan"]
        for name in ("gantt_read", "load_read", "fan_read", "load_table", "table"):
            getattr(self, name).value = shown[name]
        for view in (self.gantt, self.load, self.fan):
            view.layout.display = None
        r = self.result
        self.status.value = note(f"{r.quarters[0]}–{r.quarters[-1]}, chosen on {r.selection:,} selection scenarios, "
                                 f"simulated on {r.samples:,} samples", "muted")

    def _hide_views(self) -> None:
        """No roadmap of earlier settings stays on screen beside an error."""
        for view in (self.gantt, self.load, self.fan):
            view.layout.display = "none"
        for html_view in (self.headline, self.gantt_read, self.load_read, self.fan_read, self.load_table,
                          self.table):
            html_view.value = ""

    def _layout(self) -> w.VBox:
        def group(title: str, *children) -> w.VBox:
            return w.VBox([w.HTML(f"<b>{title}</b>"), *children], layout=w.Layout(margin="0 16px 8px 0"))

        capacity_help = note("Person-months a quarter, the same as the plan's team capacities; empty: only the "
                             "budget bounds the team.", "muted")
        controls = w.HBox([
            group("Horizon", self.first, self.count, self.horizon, self.tail, self.which),
            group("Capacity per team and quarter", w.HTML(capacity_help), *self.capacity.values()),
            group("What if", self.pick, self.quarter, w.HBox([self.not_before_button, self.force_button]),
                  w.HBox([self.clear_button, self.reset_button]), self.whatifs),
        ], layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        for name, widget in [("roadmap-status", self.status), ("roadmap-message", self.message),
                             ("roadmap-headline", self.headline), ("roadmap-table", self.table),
                             ("roadmap-force", self.force_button), ("roadmap-not-before", self.not_before_button),
                             ("roadmap-pick", self.pick), ("roadmap-quarter", self.quarter),
                             ("roadmap-gantt", self.gantt), ("roadmap-fan", self.fan)]:
            widget.add_class(f"wb-{name}")
        return w.VBox([controls, self.status, self.message, self.headline, self.gantt_read, self.gantt,
                       self.load_read, self.load, self.load_table, self.fan_read, self.fan, self.table])


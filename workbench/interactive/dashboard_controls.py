"""The strategy-session dashboard's controls, and how each one turns into `Settings`.

Every control change goes through `Settings.change` (or `with_edit` / `with_override`, checked
by `Settings.for_portfolio`): the same validator as the CLI's flags and the report parameters,
so a value is accepted, refused and explained the same way everywhere. A control changes only
the setting it shows: a capacity or a spread point set from code that no slider shows survives
the movement of another control.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as w
import numpy as np

from ..engine.simulation import CONFIDENCE_MODES
from ..errors import InputError
from ..model.estimates import FACTORS
from ..model.portfolio import Portfolio
from ..settings import Settings, check_estimate
from .dashboard_views import note

SAMPLE_CHOICES = (2_000, 5_000, 10_000, 20_000, 50_000, 100_000)
_ESC = html.escape


def reporting(status: w.HTML, action: Callable[..., None], failed: str = "failed") -> Callable[..., None]:
    """`action`, with any exception of its own shown in `status` (and re-raised to the log): a view
    or a button that silently does nothing is worse than an error message."""
    def reported(*args):
        try:
            action(*args)
        except Exception as exc:
            status.value = note(f"{failed}: {_ESC(str(exc))}", "error")
            raise
    return reported


def _capacity_top(team_total: float, capacity: float | None) -> float:
    """A capacity slider's top, which means "no limit": above any limit actually set."""
    return team_total if capacity is None else max(team_total, capacity + 0.5)


NO_LIMIT = "no limit"  # a capacity entry's text at the slider's top, and what a person may type there
_WIDTH, _ENTRY = 420, 76  # the controls column and a typed entry, in px


def _with_capacity(s: Settings, team: str, limit: float | str | None) -> Settings:
    """`s` with `team`'s capacity set to `limit` (a number, or text the settings read), None: no limit."""
    caps: dict[str, float | str] = {t: v for t, v in s.capacity.items() if t != team}
    if limit is not None:
        caps[team] = limit
    return s.change(capacities=caps)


def entry_text(value: float) -> str:
    """A slider's value as its typed entry shows it: in full (no thousands separator), in a form
    the settings read back, e.g. 40, 40.5, 0.05, 1234.5."""
    if isinstance(value, int):
        return str(value)
    return f"{round(float(value), 6):.6f}".rstrip("0").rstrip(".")


class Controls:
    """The dashboard's left column: budget, capacities, risk, uncertainty, the initiative editor
    and the scenario buttons.

    `settings()` gives the settings currently in force; `on_settings(new)` receives the settings
    a person asked for by moving a control (the dashboard then recomputes), `on_refused(error)`
    the InputError of a value the validator refuses (e.g. a negative seed typed).
    """

    def __init__(self, portfolio: Portfolio, settings: Callable[[], Settings],
                 on_settings: Callable[[Settings], None], on_refused: Callable[[InputError], None],
                 output_dir: str):
        self.portfolio, self.settings = portfolio, settings
        self.on_settings, self.on_refused = on_settings, on_refused
        self.syncing = False  # True while code (not a person) sets control values
        s, p = settings(), portfolio
        total = float(sum(ini.effort.median() for ini in p))
        style, wide = {"description_width": "120px"}, w.Layout(width=f"{_WIDTH - 20}px")
        self.entry: dict[w.Widget, w.Text] = {}  # each slider's typed entry

        def slider(cls, description, value, lo, hi, step, width=_WIDTH - _ENTRY - 24, **kw):
            # A range that holds the value: a slider silently clamps what it cannot show. No readout:
            # the typed entry beside it shows the value, and takes one.
            control = cls(value=value, min=min(lo, value), max=max(hi, value), step=step, description=description,
                          style=style, layout=w.Layout(width=f"{width}px"), continuous_update=True, readout=False,
                          **kw)
            self.entry[control] = w.Text(layout=w.Layout(width=f"{_ENTRY}px"), continuous_update=False,
                                         tooltip=f"type a value for {description or 'the budget'}, then press Enter")
            return control

        # The budget has a row of its own: the whole column's width for the range of the portfolio.
        self.budget = slider(w.FloatSlider, "", s.budget, 1.0, max(np.ceil(total), s.budget), 0.5,
                             width=_WIDTH - 20)
        self.capacity: dict[str, w.FloatSlider] = {}
        for team in sorted({ini.team for ini in p if ini.team}):  # the portfolio's teams, whatever they are
            team_total = float(np.ceil(sum(ini.effort.median() for ini in p if ini.team == team)))
            value = s.capacity.get(team, team_total)
            self.capacity[team] = slider(w.FloatSlider, team, value, 0.0,
                                         _capacity_top(team_total, s.capacity.get(team)), 0.5)
        self.objective = w.ToggleButtons(
            options=[("mean", "mean"), ("CVaR", "cvar"), ("blend", "blend")], value=s.objective,
            tooltips=["maximize the expected value", "maximize the CVaR: the mean of the worst α of scenarios",
                      "maximize mean + λ × CVaR"], description="Optimize", style={"button_width": "104px", **style})
        self.alpha = slider(w.FloatSlider, "CVaR tail α", s.alpha, 0.05, 0.5, 0.05)
        self.lam = slider(w.FloatSlider, "Risk weight λ", s.lam, 0.0, 5.0, 0.25)
        self.mode = w.Dropdown(options=CONFIDENCE_MODES, value=s.confidence_mode, description="Confidence as",
                               style=style, layout=wide)
        self.spread = {c: slider(w.FloatSlider, f"×/÷ at {c:.0%}", f, 1.0, 10.0, 0.1) for c, f in s.spread}
        self.samples = w.Dropdown(options=[(f"{n:,}", n) for n in sorted({*SAMPLE_CHOICES, s.samples})],
                                  value=s.samples, description="Samples", style=style, layout=wide)
        self.seed = w.IntText(value=s.seed, description="Seed", style=style, layout=wide)
        self.top_k = slider(w.IntSlider, "Top k", s.top_k, 1, min(len(p), 15), 1)
        # Calibrated ranges (`Settings.calibration`): shown once a calibration file is known; off
        # sets the setting to None (ranges as typed), on back to the file. Its own Layout: hiding it
        # must not hide the widgets that share `wide`.
        self.calibration_path: str | None = getattr(s, "calibration", None)
        self.calibrated = w.Checkbox(value=bool(self.calibration_path), description="calibrated ranges",
                                     indent=False, layout=w.Layout(width=wide.width),
                                     tooltip="ranges corrected by what past quarters' actuals showed "
                                             "(off: every range as typed)")
        self._show_calibrated()

        self.pick = w.Dropdown(options=[(ini.name, ini.id) for ini in p], description="Initiative", style=style,
                               layout=wide)
        self.fields = {f: w.Text(description=f.capitalize(), style=style, layout=wide, continuous_update=True)
                       for f in FACTORS}
        self.field_msg = {f: w.HTML() for f in FACTORS}
        self.override = w.Dropdown(options=[("as in the file (MoSCoW)", "none"), ("force into every plan", "in"),
                                            ("force out of every plan", "out")],
                                   value="none", description="In the plan", style=style, layout=wide)
        self.apply = w.Button(description="Apply edit", button_style="primary", icon="check", disabled=True,
                              tooltip="enabled once a field differs from the current estimate and all are valid")
        self.revert = w.Button(description="Back to file", icon="undo")
        self.edit_status = w.HTML()

        self.scenario_name = w.Text(placeholder="scenario name", layout=w.Layout(width="200px"))
        self.save = w.Button(description="Save", icon="save", layout=w.Layout(width="110px"), disabled=True,
                             tooltip="keep the current settings under this name")
        self.cmp_a = w.Dropdown(options=[], description="Compare", style={"description_width": "60px"},
                                layout=w.Layout(width="200px"))
        self.cmp_b = w.Dropdown(options=[], description="with", style={"description_width": "40px"},
                                layout=w.Layout(width="180px"))
        self.compare = w.Button(description="Compare", icon="columns", layout=w.Layout(width="110px"))
        self.export_pick = w.Dropdown(options=[], description="Scenario", style=style, layout=wide)
        self.export_path = w.Text(value=f"{output_dir}/scenario.yaml", description="Export to", style=style,
                                  layout=wide)
        self.export = w.Button(description="Export file", icon="download")
        self.quarter = w.Text(value="session", description="Report label", style=style, layout=wide)
        self.report = w.Button(description="Quarterly report", icon="file")
        self.snapshot = w.Button(description="Snapshot", icon="camera",
                                 tooltip="write this session (settings, edits, every view) as one HTML page "
                                         "that opens in any browser, without Python")
        self.scenario_status = w.HTML()

        for control in self.setting_controls():
            control.observe(self._on_control, names="value")
        for control, entry in self.entry.items():
            self._show(control, s)  # before observing: showing a value is not typing one
            entry.observe(lambda change, control=control: self._on_entry(control, change["new"]), names="value")
        self.pick.observe(lambda _: self.load_editor(), names="value")
        for f, field in self.fields.items():
            field.observe(lambda change, f=f: self._on_field(f), names="value")
        self.override.observe(self._on_override, names="value")
        self.apply.on_click(reporting(self.edit_status, lambda _: self.apply_edit()))
        self.revert.on_click(reporting(self.edit_status, lambda _: self.revert_edit()))
        self.load_editor()
        self.enable_dependent()
        self._add_classes()
        self.box = self._layout()

    def setting_controls(self) -> list[w.Widget]:
        """The controls that each set one setting."""
        return [self.budget, *self.capacity.values(), self.objective, self.alpha, self.lam, self.mode,
                *self.spread.values(), self.samples, self.seed, self.top_k, self.calibrated]

    def _add_classes(self) -> None:
        # Stable hooks for browser tests and custom CSS.
        for name, widget in [("budget", self.budget), ("budget-entry", self.entry[self.budget]),
                             ("objective", self.objective), ("pick", self.pick),
                             ("apply", self.apply), ("override", self.override), ("save", self.save),
                             ("revert", self.revert), ("scenario-name", self.scenario_name),
                             ("edit-status", self.edit_status), ("scenario-status", self.scenario_status),
                             ("compare-a", self.cmp_a), ("compare-b", self.cmp_b), ("compare", self.compare),
                             ("export", self.export), ("report", self.report), ("snapshot", self.snapshot),
                             ("calibrated", self.calibrated),
                             *[(f"field-{f}", x) for f, x in self.fields.items()],
                             *[(f"capacity-{t}", x) for t, x in self.capacity.items()],
                             *[(f"capacity-{t}-entry", self.entry[x]) for t, x in self.capacity.items()]]:
            widget.add_class(f"wb-{name}")

    def _layout(self) -> w.VBox:
        def section(title, *children):
            return w.VBox([w.HTML(f"<b>{title}</b>"), *children], layout=w.Layout(margin="4px 0 8px 0"))

        def row(control):
            return w.HBox([control, self.entry[control]], layout=w.Layout(align_items="center"))

        capacity_help = (f"Team capacities in person-months; the rightmost position means {NO_LIMIT} "
                         f"(type a number, or “{NO_LIMIT}”)." if self.capacity
                         else "No initiative names a team: no capacities to set.")
        budget = w.HBox([w.HTML("Budget (person-months)", layout=w.Layout(width=f"{_WIDTH - _ENTRY - 24}px")),
                         self.entry[self.budget]], layout=w.Layout(align_items="center"))
        editor = section("Edit an initiative", self.pick,
                         *[x for f in FACTORS for x in (self.fields[f], self.field_msg[f])],
                         self.override, w.HBox([self.apply, self.revert]), self.edit_status)
        editor.add_class("wb-editor")
        return w.VBox([
            section("Budget and capacity", budget, self.budget, w.HTML(note(capacity_help, "muted")),
                    *map(row, self.capacity.values())),
            section("Risk preference", self.objective, row(self.alpha), row(self.lam)),
            section("Uncertainty", self.mode, *map(row, self.spread.values()), self.samples, self.seed,
                    row(self.top_k), self.calibrated),
            editor,
            section("Scenarios", w.HBox([self.scenario_name, self.save]), w.HBox([self.cmp_a, self.cmp_b]),
                    self.compare, self.export_pick, self.export_path, w.HBox([self.export, self.report]),
                    self.quarter, self.snapshot, self.scenario_status),
        ], layout=w.Layout(width=f"{_WIDTH}px", min_width=f"{_WIDTH}px", flex=f"0 0 {_WIDTH}px",
                           margin="0 12px 0 0"))

    # --- controls to settings, settings to controls -----------------------------------------------

    def _setting(self, control: w.Widget) -> str:
        return {self.budget: "budget", self.objective: "objective", self.alpha: "alpha", self.lam: "lam",
                self.mode: "confidence_mode", self.samples: "samples", self.seed: "seed", self.top_k: "top_k"}[control]

    def _team(self, control: w.Widget) -> str | None:
        return next((team for team, slider in self.capacity.items() if slider is control), None)

    def _spread_point(self, control: w.Widget) -> float | None:
        return next((c for c, slider in self.spread.items() if slider is control), None)

    def moved(self, control: w.Widget, value, s: Settings) -> Settings:
        """`s` with only what `control` sets changed, validated (InputError)."""
        if isinstance(control, w.FloatSlider):
            value = round(float(value), 9)  # a browser's steps of 0.5 can arrive as 75.00000000000001
        team = self._team(control)
        if team is not None:  # the slider's top means "no limit"
            return _with_capacity(s, team, None if value >= control.max else float(value))
        point = self._spread_point(control)
        if point is not None:
            return s.change(spread={**s.spread_mapping, point: float(value)})
        if control is self.calibrated:
            return s.change(calibration=self.calibration_path if value else None)
        return s.change(**{self._setting(control): value})

    def typed(self, control: w.Widget, text: str, s: Settings) -> Settings:
        """`s` with what `control` sets changed to the text typed in its entry, read and checked by
        the settings like a CLI flag (InputError); a capacity also takes "no limit" (or nothing)."""
        text = text.strip()
        team = self._team(control)
        if team is not None:
            return _with_capacity(s, team, None if text.lower() in ("", NO_LIMIT, "none") else text)
        point = self._spread_point(control)
        if point is not None:
            return s.change(spread={**s.spread_mapping, point: text})
        return s.change(**{self._setting(control): text})

    def _show(self, control: w.Widget, s: Settings) -> None:
        """Put the value `s` gives a slider on it and on its entry (call with `syncing` set)."""
        def put(value):  # widen the range first: a slider clamps what it cannot show
            control.min, control.max = min(control.min, value), max(control.max, value)
            control.value = value

        team, point = self._team(control), self._spread_point(control)
        if team is not None and team not in s.capacity:
            put(control.max)
            self.entry[control].value = NO_LIMIT
            return
        if team is not None:  # a limit must never sit on the "no limit" position
            control.max = _capacity_top(control.max, s.capacity[team])
            value = s.capacity[team]
        elif point is not None:
            value = s.spread_mapping.get(point, control.value)
        else:
            value = getattr(s, self._setting(control))
        put(value)
        self.entry[control].value = entry_text(value)

    def sync(self, s: Settings) -> None:
        """Show `s` on the controls (without triggering a recomputation)."""
        self.syncing = True
        try:
            for control in self.entry:
                self._show(control, s)
            self.objective.value = s.objective
            shown = {v for _, v in self.samples.options}
            if s.samples not in shown:
                self.samples.options = [(f"{v:,}", v) for v in sorted({s.samples, *shown})]
            self.mode.value, self.samples.value, self.seed.value = s.confidence_mode, s.samples, s.seed
            if getattr(s, "calibration", None):  # a file set from code: the one the checkbox turns on
                self.calibration_path = s.calibration
            self.calibrated.value = bool(getattr(s, "calibration", None))
            self._show_calibrated()
            self.load_editor()
        finally:
            self.syncing = False
        self.enable_dependent()

    def _show_calibrated(self) -> None:
        """The checkbox only when there is a calibration to turn on."""
        self.calibrated.layout.display = None if self.calibration_path else "none"

    def enable_dependent(self) -> None:
        self.lam.disabled = self.objective.value != "blend"
        self.alpha.disabled = False  # alpha also sets the frontier's and the report's CVaR
        for slider in self.spread.values():
            slider.disabled = self.mode.value != "spread"

    def _on_control(self, change) -> None:
        if self.syncing:
            return
        self.enable_dependent()
        control = change["owner"]
        try:
            changed = self.moved(control, change["new"], self.settings())
        except InputError as exc:
            self.on_refused(exc)
            return
        self.on_settings(changed)
        self._follow(control)

    def _on_entry(self, control: w.Widget, text: str) -> None:
        """A value typed beside a slider (Enter or leaving the field): through the settings like a
        slider's, then the slider follows; a refused value is explained and the entry restored."""
        if self.syncing:
            return
        try:
            changed = self.typed(control, text, self.settings())
        except InputError as exc:
            self.on_refused(exc)
            return
        self.on_settings(changed)
        self._follow(control)

    def _follow(self, control: w.Widget) -> None:
        """The slider and its entry show the setting now in force (the one applied, or the one
        kept when the dashboard refused the change)."""
        if control in self.entry:
            self.syncing, was = True, self.syncing
            try:
                self._show(control, self.settings())
            finally:
                self.syncing = was

    # --- the initiative editor ----------------------------------------------------------------------

    def current_text(self, id_: str, factor: str) -> str:
        """The estimate in force: the edit's text, else the file's."""
        for e_id, e_factor, text in self.settings().edits:
            if (e_id, e_factor) == (id_, factor):
                return text
        return str(self.portfolio[id_].estimate(factor))

    def load_editor(self) -> None:
        id_ = self.pick.value
        for f, field in self.fields.items():
            field.value = self.current_text(id_, f)
            self.field_msg[f].value = ""
        self.syncing, was = True, self.syncing
        try:
            self.override.value = self.settings().override.get(id_, "none")
        finally:
            self.syncing = was
        moscow = self.portfolio[id_].moscow or "not set"
        self.edit_status.value = note(f"editing <b>{_ESC(self.portfolio[id_].name)}</b> · MoSCoW in the file: "
                                      f"{_ESC(moscow)}", "muted")
        self.refresh_apply()

    def _on_field(self, factor: str) -> None:
        self.validate_field(factor)
        self.refresh_apply()

    def refresh_apply(self) -> None:
        """Apply is live only for a valid change: what the kernel enables is what it has received,
        so a click can never apply text the kernel has not seen yet."""
        id_ = self.pick.value
        valid = all(check_estimate(self.fields[f].value, f) is None for f in FACTORS)
        changed = any(self.fields[f].value.strip() != self.current_text(id_, f) for f in FACTORS)
        self.apply.disabled = not (valid and changed)

    def validate_field(self, factor: str) -> str | None:
        """The field's problem (shown under it, in red), or None."""
        message = check_estimate(self.fields[factor].value, factor)
        self.field_msg[factor].value = "" if message is None else note(_ESC(message), "error")
        return message

    def apply_edit(self) -> None:
        id_ = self.pick.value
        if any(self.validate_field(f) is not None for f in FACTORS):
            self.edit_status.value = note("fix the fields marked in red first", "error")
            return
        s = self.settings()
        for f in FACTORS:
            text = self.fields[f].value.strip()
            s = s.with_edit(id_, f, None if text == str(self.portfolio[id_].estimate(f)) else text)
        self.on_settings(s)
        self.refresh_apply()
        self.edit_status.value = note(f"applied to {_ESC(self.portfolio[id_].name)}", "ok")

    def revert_edit(self) -> None:
        id_ = self.pick.value
        s = self.settings()
        for f in FACTORS:
            s = s.with_edit(id_, f, None)
        self.on_settings(s.with_override(id_, None))
        self.load_editor()

    def _on_override(self, change) -> None:
        if self.syncing:
            return
        value = None if change["new"] == "none" else change["new"]
        self.on_settings(self.settings().with_override(self.pick.value, value))

    def on_pick(self, change) -> bool:
        """An initiative clicked in the P(top k) chart opens in the editor; True when one did."""
        picked = [row.get("id") for row in (change["new"].value or []) if isinstance(row, dict)]
        if picked and picked[0] in self.portfolio.ids:
            self.pick.value = picked[0]
            return True
        return False

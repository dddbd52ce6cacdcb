"""The dashboard's scenario actions: save, compare, export, the quarterly report and the snapshot.

A mixin of `Dashboard` (`workbench.interactive.dashboard`): the buttons of the controls' Scenarios
section, wired in `_wire_scenarios`. Saved scenarios live in a `ScenarioBook` (`session`); files
go under the dashboard's `output_dir`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import InputError
from . import dashboard_views as views
from .dashboard_controls import reporting

_ESC = views._ESC


class ScenarioActions:
    """Scenario buttons of a `Dashboard` (which provides `controls`, `book`, `settings`, `outcome`,
    `frontier`, `sweep`, `analysis`, `output_dir`, and the views these buttons fill)."""

    def save_scenario(self, name: str) -> None:
        """Keep the current settings as a named scenario (ValueError for a bad name)."""
        self.book.save(name, self.settings)
        names = list(self.book.saved)
        for dropdown in (self.controls.cmp_a, self.controls.cmp_b, self.controls.export_pick):
            dropdown.options = names
        self.controls.scenario_status.value = views.note(f"saved scenario <b>{_ESC(name.strip())}</b>", "ok")
        self._on_scenario_name()  # the name typed may now be one to replace

    # --- scenarios ----------------------------------------------------------------------------

    def _wire_scenarios(self) -> None:
        c = self.controls
        c.scenario_name.observe(lambda _: self._on_scenario_name(), names="value")
        for button, action in [(c.save, self._on_save), (c.compare, self._on_compare),
                               (c.export, self._on_export), (c.report, self._on_report),
                               (c.snapshot, self._on_snapshot)]:
            button.on_click(reporting(c.scenario_status, lambda _, action=action: action()))

    def _scenario_note(self, text: str, kind: str = "") -> None:
        self.controls.scenario_status.value = views.note(text, kind)

    def _on_scenario_name(self) -> None:
        # Save is enabled by the kernel once it holds the typed name, so a click saves that name.
        name = self.controls.scenario_name.value.strip()
        self.controls.save.disabled = not name
        self.controls.save.description = "Replace" if name in self.book.saved else "Save"

    def _on_save(self) -> None:
        try:
            self.save_scenario(self.controls.scenario_name.value)
        except ValueError as exc:
            self._scenario_note(_ESC(str(exc)), "error")
            return
        self.controls.scenario_name.value = ""

    def _on_compare(self) -> None:
        first, second = self.controls.cmp_a.value, self.controls.cmp_b.value
        if not first or not second:
            self._scenario_note("save two scenarios to compare", "error")
            return
        try:
            comparison = self.book.compare(first, second)
        except ValueError as exc:
            self._scenario_note(_ESC(str(exc)), "error")
            return
        self._comparison = comparison
        self._compare_view.value = views.comparison_html(comparison)
        self._tabs.selected_index = 4

    def _on_export(self) -> None:
        name = self.controls.export_pick.value
        if not name:
            self._scenario_note("save a scenario first", "error")
            return
        try:
            paths = self.book.export(name, self.controls.export_path.value.strip())
        except Exception as exc:  # a bad path or format: say so in the dashboard
            self._scenario_note(f"export failed: {_ESC(str(exc))}", "error")
            return
        self._scenario_note("wrote " + ", ".join(_ESC(str(p)) for p in paths), "ok")

    def _on_report(self) -> None:
        """Build the scenario's quarterly report in a separate process: a kernel restart or
        `close()` stops it cleanly, and the session stays responsive meanwhile."""
        name = self.controls.export_pick.value
        if not name:
            self._scenario_note("save a scenario first", "error")
            return
        if self._report_process is not None and self._report_process.poll() is None:
            self._scenario_note("a report is being built; wait for it to finish", "error")
            return
        try:
            params, report_name = self.book.report_parameters(
                name, self.output_dir, quarter=self.controls.quarter.value.strip() or "session")
        except (InputError, ValueError) as exc:
            self._scenario_note(f"report not started: {_ESC(str(exc))}", "error")
            return
        self._scenario_note(f"building the quarterly report of {_ESC(name)}…", "muted")
        script = ("import json, sys; from workbench.reports import run_report; "
                  "print(run_report('quarterly', json.loads(sys.argv[1]), sys.argv[2], name=sys.argv[3])[1])")
        # The package this kernel runs, even when it was put on sys.path by hand rather than installed.
        package_root = str(Path(__file__).resolve().parents[len(__package__.split("."))])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
        process = subprocess.Popen([sys.executable, "-c", script, json.dumps(params), self.output_dir, report_name],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self._report_process = process

        def finished() -> None:
            out, err = process.communicate()
            if process.returncode == 0:
                self._scenario_note(f"report written: {_ESC(out.strip())}", "ok")
            elif process.returncode > 0:  # not stopped by close()
                reason = (err.strip().splitlines() or ["no message"])[-1]
                self._scenario_note(f"report failed: {_ESC(reason)}", "error")

        threading.Thread(target=finished, name="workbench-report", daemon=True).start()

    # --- the snapshot ----------------------------------------------------------------------------

    def snapshot(self, path: str | Path | None = None) -> Path:
        """Write the session as it stands (settings, edits, every view shown: ranking, plan,
        frontier and sweep, the analyses when they are for the settings in force, the last
        comparison) to one static HTML page that opens in any browser, offline; returns its path.
        Default path: `<output_dir>/snapshot-<UTC date and time>.html`."""
        from .snapshot import write_snapshot

        if self.outcome is None:
            raise ValueError("nothing to snapshot yet: the first result is still being computed")
        if path is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
            path = Path(self.output_dir) / f"snapshot-{stamp}.html"
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        outcome = self.outcome
        current = self.frontier is not None and self.frontier.recommended is outcome.plan
        return write_snapshot(path, outcome, frontier=self.frontier if current else None,
                              sweep=self.sweep if current else None,
                              analyses=self.analysis if self._analysis_for == outcome.settings else None,
                              comparison=self._comparison)

    def _on_snapshot(self) -> None:
        """The Snapshot button: the page is written off the kernel's main thread (charts are
        rendered to SVG, a few seconds), then its path is shown."""
        if self._snapshot_thread is not None and self._snapshot_thread.is_alive():
            self._scenario_note("a snapshot is being written; wait for it to finish", "error")
            return
        self._scenario_note("writing the snapshot…", "muted")

        def write() -> None:
            try:
                path = self.snapshot()
            except Exception as exc:  # a bad output folder, a full disk: say so in the dashboard
                self._scenario_note(f"snapshot failed: {_ESC(str(exc))}", "error")
                return
            self._scenario_note(f"snapshot written: <code>{_ESC(str(Path(path).resolve()))}</code> "
                                "(open it in any browser)", "ok")

        self._snapshot_thread = threading.Thread(target=write, name="workbench-snapshot", daemon=True)
        self._snapshot_thread.start()

"""Opening a strategy session on a file: the dashboard, or what is wrong with the file.

`open_session` reads the portfolio (with a column mapping when one is given or found beside it)
and the settings file. A file with problems gets the answer `workbench check` gives, as a table in
the notebook: every problem at once, the fix proposed where one is unambiguous and the command
that writes a corrected copy, instead of a traceback. The notes a file gives (columns read by a
synonym, ids made from the names, done work left out) are shown above the dashboard.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from ..errors import InputError, Problem
from ..io import demo_portfolio, load_portfolio
from ..io.check import CheckReport, check_file
from ..settings import Settings
from ..views.check_text import fix_command, problems_frame, summary
from .dashboard import Dashboard, default_settings
from .dashboard_views import CSS, note, table

_ESC = html.escape


@dataclass
class Opened:
    """What opening a session gave: the `dashboard`, or None with the `report` of the portfolio
    file's problems or the `problems` of a file that cannot be read (the portfolio's, the
    settings'); `notes` to tell once."""

    dashboard: Dashboard | None
    report: CheckReport | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()

    def html(self) -> str:
        """The notes, or the problems, as escaped HTML (user text is text, never markup)."""
        parts = [note(_ESC(f"Note: {n}"), "muted") for n in self.notes]
        if self.report is not None:
            fixable = f"; in a terminal, <code>{_ESC(fix_command(self.report))}</code> writes a corrected copy" \
                if self.report.fixable else ""
            parts += [note(f"<b>{_ESC(self.report.source)}</b>: {_ESC(summary(self.report))}{fixable}. "
                           "Fix the file and run this cell again.", "error"),
                      table(problems_frame(self.report.problems))]
        if self.problems:
            parts += [note("These problems stop the session. Fix them and run this cell again.", "error"),
                      table(problems_frame(list(self.problems)))]
        return f'{CSS}<div class="wb-dash">{"".join(parts)}</div>'

    def show(self) -> None:
        """Display the notes and the dashboard, or the problems, in the notebook."""
        from IPython.display import HTML, display

        if self.notes or self.dashboard is None:
            display(HTML(self.html()))
        if self.dashboard is not None:
            self.dashboard.show()


def open_session(portfolio_path: str = "", *, settings_path: str = "", columns: str | None = None,
                 sheet: str | None = None, output_dir: str = "reports") -> Opened:
    """A strategy session on `portfolio_path` (CSV, .xlsx or YAML; empty: the bundled demo), starting
    from the settings in `settings_path` (JSON; empty: `default_settings`). `columns`: a column
    mapping file (default: `<portfolio>.columns.yaml` beside it, if any)."""
    if not portfolio_path:
        portfolio = demo_portfolio()
    else:
        try:
            portfolio = load_portfolio(portfolio_path, sheet=sheet or None, columns=columns or None)
        except InputError:  # the same problems, with the fixes `workbench check` proposes
            try:
                report = check_file(portfolio_path, sheet=sheet or None, columns=columns or None)
            except InputError as e:  # a file that cannot be read at all (not found, not a portfolio)
                return Opened(None, problems=tuple(e.problems))
            return Opened(None, report=report)
    try:
        settings = Settings.from_json(settings_path) if settings_path else default_settings(portfolio)
    except InputError as e:
        return Opened(None, problems=tuple(e.problems), notes=portfolio.notes)
    return Opened(Dashboard(portfolio, settings, output_dir=output_dir), notes=portfolio.notes)

"""Running reports: parameters checked before any kernel starts, papermill, offline HTML, JSON.

`check_parameters` is the boundary: it reads a template's parameters (individual settings such
as `budget`, and one `settings` file or mapping) with the same validator as the CLI and the
dashboard (`Settings.from_mapping`) and checks them against the portfolio, so a bad value is
reported at once, in the same words, and no kernel starts. The templates call it too, in the
first cell after the parameters, so the plain papermill CLI gets the same checks (on the names
the parameters cell and papermill set, not on what the kernel's startup files define).

`run_report` executes a template and writes `<name>.ipynb`, `<name>.html` and `<name>.json`
atomically: a failed run keeps the last good report and leaves `<name>.failed.ipynb` beside it.
Two runs into one directory never interfere: scratch files are unique per run (and swept when a
killed run left them), and the three files are published under a lock on the directory, so the
set always comes from one run (the last to finish).
"""

from __future__ import annotations

import json
import os
import re
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from ..errors import InputError, Problem, clip, did_you_mean, quote
from ..io.files import publish_lock, scratch_name, sweep_stale, write_atomic
from ..io.read import demo_portfolio, load_portfolio
from ..model.portfolio import Portfolio
from ..pipeline import check_plan
from ..settings import FIELDS, Settings
from .html import to_html

TEMPLATES = {"quarterly": "quarterly_report.ipynb", "sensitivity": "budget_sensitivity.ipynb"}
REPORT_PARAMETERS = ("portfolio", "quarter", "previous_portfolio", "settings", "actuals", "previous_report")
FILE_PARAMETERS = ("portfolio", "previous_portfolio", "actuals", "previous_report")  # paths, "" = none
# The names the templates' parameters cell sets (tests/test_shutdown.py keeps the two in step); the
# sensitivity template does not set QUARTERLY_ONLY (it accepts them, injected, and ignores them).
TEMPLATE_PARAMETERS = frozenset({*REPORT_PARAMETERS, "budget", "capacities", "confidence_mode", "samples", "scenarios",
                                 "seed", "top_k", "objective", "alpha", "lam", "budget_range", "split", "value_unit"})
QUARTERLY_ONLY = frozenset({"actuals", "previous_report"})
BEFORE_PARAMETERS = "_before_parameters"  # the template's copy of its globals before the parameters cell
DATA_TAG = "report-data"  # the cell whose output is the report's JSON (not shown in the HTML)


class ReportError(RuntimeError):
    """A template cell failed; the message names the cell and the error."""


@dataclass(frozen=True)
class ReportJob:
    """One report's validated inputs: what the template runs on."""

    portfolio: str  # absolute path, or "" for the bundled demo
    quarter: str
    previous_portfolio: str
    settings: Settings  # checked against the portfolio and complete
    actuals: str = ""  # absolute path of what happened last quarter (`io.history.read_actuals`), "" none
    previous_report: str = ""  # absolute path of last quarter's report JSON, "" none

    def parameters(self) -> dict:
        """The papermill parameters that reproduce this job exactly (complete settings as one mapping);
        `actuals` and `previous_report` only when given (the sensitivity template does not set them)."""
        extra = {k: v for k, v in (("actuals", self.actuals), ("previous_report", self.previous_report)) if v}
        return {"portfolio": self.portfolio, "quarter": self.quarter, "previous_portfolio": self.previous_portfolio,
                "settings": self.settings.to_dict(), **extra}

    def load(self) -> Portfolio:
        return load_portfolio(self.portfolio) if self.portfolio else demo_portfolio()


def template_namespace(namespace: dict, before: object) -> dict:
    """The parameters in a template's `globals()`: the names its parameters cell sets and every name
    papermill injected after it (it sets any name it is given). `before` is the namespace as it was
    before the parameters cell (the template's first cell keeps a copy): a name bound then (by
    IPython or a startup file: imports, classes, variables) counts only if it was bound again
    since. Private names and modules (the template's own imports) never count."""
    if not isinstance(before, dict):  # the copy itself was replaced by an injected value
        raise InputError(Problem(f"unknown parameter {quote(BEFORE_PARAMETERS)}: the template's own name"))
    return {k: v for k, v in namespace.items()
            if not k.startswith("_") and not isinstance(v, types.ModuleType)
            and (k in TEMPLATE_PARAMETERS or k not in before or before[k] is not v)}


def check_parameters(params: dict, *, before: object = None) -> ReportJob:
    """Every problem with a report's parameters at once (InputError); the job when there is none.

    before: given, `params` is a template's `globals()` as papermill left them and `before` its
    globals before the parameters cell (see `template_namespace`). None stands for a parameter not given.
    """
    if before is not None:
        params = template_namespace(params, before)
    problems = [Problem(f"unknown parameter {quote(name)}{did_you_mean(name, [*REPORT_PARAMETERS, *FIELDS])}")
                for name in params if name not in REPORT_PARAMETERS and name not in FIELDS]
    quarter = params.get("quarter")
    if not isinstance(quarter, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,40}", quarter):
        problems.append(Problem("quarter: expected a label such as 2026Q4 (letters, digits, . _ -), "
                                f"got {'nothing' if quarter is None else quote(quarter)}"))
    paths = {}
    for name in FILE_PARAMETERS:
        value = params.get(name) or ""
        if not isinstance(value, (str, os.PathLike)):
            problems.append(Problem(f"{name}: expected a file path, got {quote(value)}"))
            continue
        if value and not _is_file(value):
            problems.append(Problem(f"{name}: file not found", file=clip(str(value))))
            continue
        paths[name] = str(Path(value).resolve()) if value else ""
    history, history_problems = _history_files(paths, quarter)
    problems += history_problems
    settings = None
    try:
        settings = Settings.from_mapping({k: v for k, v in params.items() if k in FIELDS and v is not None},
                                         _base_settings(params.get("settings")))
    except InputError as exc:
        problems += exc.problems
    if problems:
        raise InputError(problems)
    # The files must parse too, and the settings fit the portfolio: every problem now, not in a kernel.
    portfolio = load_portfolio(paths["portfolio"]) if paths["portfolio"] else demo_portfolio()
    checked = settings.for_portfolio(portfolio, need_budget=True)
    check_plan(portfolio, checked)
    if paths["previous_portfolio"]:
        previous = load_portfolio(paths["previous_portfolio"])
        previous_settings(checked, previous).for_portfolio(previous)
        if history is not None:  # every actual of last quarter has its estimate in last quarter's file
            _join_last_quarter(previous, *history, paths["actuals"])
    return ReportJob(paths["portfolio"], quarter, paths["previous_portfolio"], checked,
                     paths.get("actuals", ""), paths.get("previous_report", ""))


def _history_files(paths: dict, quarter) -> tuple[tuple | None, list[Problem]]:
    """The `actuals` and `previous_report` files read (each one's problems, all of them): ((the
    actuals, the quarter of last quarter's plan), []) when both are given and read; (None, problems)."""
    from ..io.history import read_actuals
    from .delivered import plan_quarter, read_previous_report

    problems, actuals, committed = [], None, None
    if paths.get("actuals"):
        try:
            actuals = read_actuals(paths["actuals"])
        except InputError as exc:
            problems += exc.problems
    if paths.get("previous_report"):
        try:
            committed = read_previous_report(paths["previous_report"])
        except InputError as exc:
            problems += exc.problems
    if actuals is None or committed is None:
        return None, problems
    last = plan_quarter(committed, quarter if isinstance(quarter, str) else "")
    if last is None:
        problems.append(Problem(f"previous_report: the record has no quarter and the report's quarter {quote(quarter)} "
                                "is not one (such as 2026Q4): no quarter to read the actuals of",
                                file=clip(paths["previous_report"])))
        return None, problems
    return (actuals, last), problems


def _join_last_quarter(previous: Portfolio, actuals: tuple, quarter: str, actuals_file: str) -> None:
    """InputError (every mismatch, at the actual's line) when an actual of `quarter` has no estimate
    in last quarter's portfolio: the section's calibration joins the two."""
    from ..io.history import join_history

    mine = tuple(a for a in actuals if a.quarter == quarter)
    if mine:
        join_history([(quarter, previous, previous.source or "")], mine, actuals_file)


def previous_settings(settings: Settings, previous: Portfolio) -> Settings:
    """The settings last quarter's ranking is made with: the same sampling, none of this quarter's
    edits, overrides, plan or team and theme names (last quarter may not have them)."""
    return replace(settings, edits=(), overrides=(), plan=(), capacities=(), theme_shares=(), split=None,
                   budget_range=None, top_k=min(settings.top_k or 5, len(previous)))


def _base_settings(value) -> Settings | None:
    """The `settings` parameter: empty, a JSON file's path, or a mapping (JSON object or text)."""
    if value in (None, "", {}):
        return None
    if isinstance(value, dict):
        return Settings.from_mapping(value)
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            return Settings.from_mapping(json.loads(value))
        except json.JSONDecodeError as exc:
            raise InputError(Problem(f"settings: not valid JSON: {exc.msg}")) from None
    if isinstance(value, (str, os.PathLike)):
        if not _is_file(value):
            raise InputError(Problem("settings: file not found", file=clip(str(value))))
        return Settings.from_json(value)
    raise InputError(Problem(f"settings: expected a JSON file or a mapping, got {quote(value)}"))


def _is_file(value: str | os.PathLike) -> bool:
    """Whether a user's path names a file; False (not an exception) for a NUL or an overlong name."""
    try:
        return Path(value).is_file()
    except (OSError, ValueError):
        return False


def template_path(kind: str) -> Path:
    """The template notebook of a kind of report (package data)."""
    if kind not in TEMPLATES:
        raise InputError(Problem(f"unknown report {quote(kind)}; expected one of {', '.join(TEMPLATES)}"))
    return Path(str(resources.files("workbench") / "templates" / TEMPLATES[kind]))


def run_report(kind: str, params: dict | ReportJob, output_dir: str | Path = "reports", *, name: str | None = None,
               kernel_name: str = "python3") -> tuple[Path, Path, Path]:
    """Execute a template with papermill; write `<name>.ipynb`, `.html` and `.json` atomically.

    On a failing cell: the failed notebook is written as `<name>.failed.ipynb`, the previous good
    report is left untouched, and `ReportError` names the cell and the error.
    """
    import nbformat
    import papermill as pm

    job = params if isinstance(params, ReportJob) else check_parameters(params)
    template = template_path(kind)
    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or f"{job.quarter}-{kind}"
    ipynb, html_path, data_path = (out_dir / f"{name}{ext}" for ext in (".ipynb", ".html", ".json"))
    failed = out_dir / f"{name}.failed.ipynb"
    # Unique per run (pid in the name): two runs into one directory never share a scratch file,
    # and one a killed run left is swept by the next run (only if its process is gone).
    sweep_stale(out_dir)
    scratch = out_dir / scratch_name(name, "running.ipynb")
    try:
        pm.execute_notebook(str(template), str(scratch), parameters=job.parameters(), kernel_name=kernel_name,
                            progress_bar=False, log_output=False, cwd=str(out_dir),
                            # The kernel talks to us over loopback only; its warning that TCP is not
                            # encrypted is noise in every report run (errors still show).
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except pm.PapermillExecutionError as e:
        with publish_lock(out_dir):
            scratch.replace(failed)
        raise ReportError(f"{kind} report failed in cell {e.exec_count} ({e.ename}: {e.evalue}); "
                          f"the failed notebook is {failed}") from None
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    try:
        # Everything is made before the lock; the three files are then published under it, so two
        # runs into one directory never interleave: the last to finish wins whole.
        notebook = nbformat.read(str(scratch), as_version=4)
        data = json.dumps(report_data(notebook), indent=2, ensure_ascii=False) + "\n"
        page = to_html(notebook, remove_tags=(DATA_TAG,))
        with publish_lock(out_dir):
            write_atomic(data_path, data)
            write_atomic(html_path, page)
            scratch.replace(ipynb)
            failed.unlink(missing_ok=True)
    finally:
        scratch.unlink(missing_ok=True)
    return ipynb, html_path, data_path


def report_data(notebook) -> dict:
    """The JSON record the template's `report-data` cell displayed."""
    for cell in notebook.cells:
        if DATA_TAG in cell.get("metadata", {}).get("tags", []):
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "application/json" in data:
                    value = data["application/json"]
                    return json.loads(value) if isinstance(value, str) else value
    raise ReportError(f"the template has no '{DATA_TAG}' cell with a JSON output")


def report_names(pairs: list[tuple[str, str]], kind: str) -> list[str]:
    """One output name per (portfolio, quarter) job: the quarter; with the portfolio's file name
    when quarters repeat; numbered when even that repeats (a/q.csv and b/q.csv). No two reports
    of one run may share a name, or one would overwrite the other."""
    by_quarter = len({q for _, q in pairs}) == len(pairs)
    names = [f"{q}-{kind}" if by_quarter else f"{q}-{Path(p).stem if p else 'demo'}-{kind}" for p, q in pairs]
    return [f"{n}-{names[:k].count(n) + 1}" if names.count(n) > 1 else n for k, n in enumerate(names)]


def run_batch(kind: str, pairs: list[tuple[str, str]], settings: Settings, extra: dict, output_dir: str | Path,
              progress: Callable[[int, int], None] | None = None, *,
              scheduler: str | None = None) -> tuple[list, list]:
    """Reports for (portfolio, quarter) pairs: every job validated before any kernel starts, then
    run across cores, or one task per report on the dask cluster at `scheduler` (`reports.remote`);
    one failure does not stop the others. Returns (written, failures)."""
    from concurrent.futures import ProcessPoolExecutor

    jobs, problems = [], []
    for (portfolio, quarter), name in zip(pairs, report_names(pairs, kind)):
        params = {**extra, "portfolio": portfolio, "quarter": quarter, "settings": settings.to_dict()}
        try:
            jobs.append((name, check_parameters(params)))
        except InputError as e:
            problems += e.problems
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    if scheduler:
        from .remote import run_on_cluster
        return run_on_cluster(kind, jobs, output_dir, scheduler, progress)
    if len(jobs) == 1:
        name, job = jobs[0]
        try:
            return [run_report(kind, job, output_dir, name=name)], []
        except ReportError as e:
            return [], [(name, str(e))]
    with ProcessPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        futures = {pool.submit(run_report, kind, job, output_dir, name=name): name for name, job in jobs}
        return collect_reports(futures, lambda paths: paths, progress)


def collect_reports(futures: dict, publish: Callable, progress: Callable[[int, int], None] | None) -> tuple[list, list]:
    """(written, failures) of report futures ({future: name}) as they end: `publish(result)` gives
    a report's paths; any exception is that report's failure (named), and the others go on."""
    from concurrent.futures import as_completed

    written, failures = [], []
    for k, future in enumerate(as_completed(futures), start=1):
        try:
            written.append(publish(future.result()))
        except ReportError as e:
            failures.append((futures[future], str(e)))
        except Exception as e:  # a worker lost, a disk full: this report fails, the others go on
            failures.append((futures[future], f"{type(e).__name__}: {e}"))
        if progress is not None:
            progress(k, len(futures))
    return written, failures

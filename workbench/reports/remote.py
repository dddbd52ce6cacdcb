"""Reports on a dask cluster: the inputs travel with the task, the outputs come back as text.

A worker may not share the client's disk, so one report is one task (`render_report`) that
carries the bytes of every file the report reads (the portfolio and its companion files, last
quarter's portfolio, actuals and report, the calibration), stages them in a private temporary
directory, runs the ordinary `run_report` there and returns the executed notebook, the HTML and
the JSON as text. The client then writes them atomically where a local run would
(`publish_rendered`, under the same lock), so a report from the cluster is the local report, byte
for byte: the staged paths are put back to the client's paths in what the report shows
(`relabel`), and everything else is computed from the same bytes and settings.
"""

from __future__ import annotations

import html
import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from ..io.columns import column_map_path
from ..io.files import publish_lock, write_atomic
from ..io.read import correlations_path
from .run import FILE_PARAMETERS, ReportError, ReportJob, collect_reports, run_report


@dataclass(frozen=True)
class Rendered:
    """One report as a worker made it: its three files as text, or the failed notebook and why."""

    name: str
    notebook: str | None     # the executed notebook (.ipynb), or the failed one (None: no cell ran)
    html: str | None = None
    data: str | None = None  # the report's JSON
    error: str | None = None  # "quarterly report failed in cell N (...)" when a cell failed


def run_on_cluster(kind: str, jobs: list[tuple[str, ReportJob]], output_dir: str | Path, scheduler: str,
                   progress=None) -> tuple[list, list]:
    """(written, failures) of checked jobs ([(name, job)]) run as one task each on the dask
    cluster at `scheduler`, each report written here as its task ends. A worker that dies while
    running a report is retried on another as dask allows (`distributed.scheduler.allowed-failures`),
    then that report fails with KilledWorker; the others go on."""
    from ..tasks import cluster

    with cluster(scheduler) as client:
        pool = client.get_executor(pure=False)  # a report run twice is run twice
        futures = {pool.submit(render_report, kind, job, name, job_inputs(job)): name for name, job in jobs}
        return collect_reports(futures, lambda rendered: publish_rendered(rendered, output_dir), progress)


def job_inputs(job: ReportJob) -> dict[str, bytes]:
    """The bytes of every file the job reads, by its absolute path on this machine: the file
    parameters, the companion files beside each portfolio, and the calibration."""
    paths = [getattr(job, name) for name in FILE_PARAMETERS if getattr(job, name)]
    for portfolio in (job.portfolio, job.previous_portfolio):
        if portfolio:
            paths += [str(p) for p in (correlations_path(portfolio), column_map_path(portfolio)) if p.is_file()]
    if job.settings.calibration:
        paths.append(str(job.settings.calibration))
    return {path: Path(path).read_bytes() for path in dict.fromkeys(paths)}


def render_report(kind: str, job: ReportJob, name: str, inputs: dict[str, bytes]) -> Rendered:
    """The task a worker runs: stage `inputs`, run the report, return its files as text (the
    client's paths in place of the staged ones). A failing cell is a result, not an exception:
    the client writes the failed notebook beside the others and counts the failure."""
    with tempfile.TemporaryDirectory(prefix="workbench-report-") as tmp:
        # Resolved: the report shows resolved paths (`check_parameters`), and a temporary folder may
        # lie behind a symbolic link (macOS: /var -> /private/var), which `relabel` must match.
        root = Path(tmp).resolve()
        staged = _stage(inputs, root / "inputs")
        out = root / "out"
        try:
            ipynb, page, data = run_report(kind, _relocate(job, staged), out, name=name)
        except ReportError as exc:
            reason = str(exc).split("; the failed notebook is ", 1)[0]
            failed = out / f"{name}.failed.ipynb"
            notebook = failed.read_text(encoding="utf-8") if failed.is_file() else None
            return Rendered(name, notebook and relabel(notebook, staged, "json"), error=relabel(reason, staged, "text"))
        return Rendered(name, relabel(ipynb.read_text(encoding="utf-8"), staged, "json"),
                        relabel(page.read_text(encoding="utf-8"), staged, "html"),
                        relabel(data.read_text(encoding="utf-8"), staged, "json"))


def publish_rendered(rendered: Rendered, output_dir: str | Path) -> tuple[Path, Path, Path]:
    """Write a worker's report where `run_report` writes one, atomically and under the directory's
    lock; ReportError (after writing `<name>.failed.ipynb`, the last good report untouched) when
    a cell failed. Returns the (.ipynb, .html, .json) paths."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    ipynb, page, data = (out / f"{rendered.name}{ext}" for ext in (".ipynb", ".html", ".json"))
    failed = out / f"{rendered.name}.failed.ipynb"
    with publish_lock(out):
        if rendered.error is not None:
            if rendered.notebook is not None:
                write_atomic(failed, rendered.notebook)
        else:
            write_atomic(data, rendered.data)
            write_atomic(page, rendered.html)
            write_atomic(ipynb, rendered.notebook)
            failed.unlink(missing_ok=True)
    if rendered.error is not None:
        raise ReportError(rendered.error + (f"; the failed notebook is {failed}" if rendered.notebook else ""))
    return ipynb, page, data


def relabel(text: str, staged: dict[str, str], kind: str) -> str:
    """`text` with each staged path put back to the client's path, both escaped as `kind` ("json",
    "html" or "text") writes them. Staged paths lie under a fresh temporary directory of their
    own, so nothing else in a report matches them."""
    escape = {"json": lambda s: json.dumps(s, ensure_ascii=False)[1:-1], "html": html.escape,
              "text": lambda s: s}[kind]
    for original, path in sorted(staged.items(), key=lambda kv: -len(kv[1])):  # longest first
        text = text.replace(escape(path), escape(original))
        if path != escape(path):  # the same path shown unescaped (in a notebook's code, say)
            text = text.replace(path, original)
    return text


def _stage(inputs: dict[str, bytes], root: Path) -> dict[str, str]:
    """Write the inputs under `root`, one folder per folder of the client's (so a portfolio keeps
    its companion files beside it), each file under its own name; {client path: staged path}."""
    folders: dict[str, Path] = {}
    staged = {}
    for original, content in inputs.items():
        parent = str(Path(original).parent)
        folder = folders.setdefault(parent, root / str(len(folders)))
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(original).name
        target.write_bytes(content)
        staged[original] = str(target)
    return staged


def _relocate(job: ReportJob, staged: dict[str, str]) -> ReportJob:
    """The job with each of its files at its staged path."""
    moved = {name: staged[getattr(job, name)] for name in FILE_PARAMETERS if getattr(job, name)}
    settings = job.settings
    if settings.calibration:
        settings = replace(settings, calibration=staged[str(settings.calibration)])
    return replace(job, settings=settings, **moved)

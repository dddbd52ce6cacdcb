"""The set-up contract: README quick start, .ci/run, pip/conda dependency lists in step, and a
wheel that works on its own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda_names == pip_names
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip_section  # the package itself, from the checkout


def test_readme_quick_start_has_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S).group(1)
    commands = [ln.split("#")[0].strip() for ln in block.splitlines() if ln.split("#")[0].strip()]
    assert commands == ["make demo", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: \$\(STAMP\)", makefile, re.M) and re.search(r"^test: \$\(STAMP\)", makefile, re.M)


def test_notebooks_are_committed_without_outputs():
    notebooks = list((ROOT / "notebooks").glob("*.ipynb")) + list((ROOT / "workbench" / "templates").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            assert not cell.get("outputs") and not cell.get("execution_count"), path.name


def test_make_lab_opens_the_strategy_session_with_the_widget_extensions():
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^lab: \$\(STAMP\)\n\t(.*)$", makefile, re.M)
    assert recipe and "jupyter lab notebooks/strategy_session.ipynb" in recipe.group(1)
    assert "make lab" in (ROOT / "README.md").read_text(encoding="utf-8")
    # The environment's JupyterLab renders ipywidgets and anywidget (altair's JupyterChart) out of the box.
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"], capture_output=True,
                            text=True, timeout=120)
    text = listed.stdout + listed.stderr
    for extension in ("@jupyter-widgets/jupyterlab-manager", "anywidget"):
        line = next((ln for ln in text.splitlines() if extension in ln), "")
        assert "enabled" in line and "OK" in line, text


def test_make_test_runs_ruff_first_and_ruff_is_configured():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: \$\(STAMP\) lint$", makefile, re.M)
    assert re.search(r"^lint: \$\(STAMP\)\n\t\$\(BIN\)/ruff check workbench tests benchmarks$", makefile, re.M)
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["line-length"] == 120


def test_version_and_distribution_name_come_from_pyproject():
    from importlib.metadata import version

    import workbench

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "decision-workbench"  # "workbench" on PyPI is another project
    assert workbench.__version__ == version(project["name"]) == project["version"]
    assert project["license"] == "MIT" and project["scripts"] == {"workbench": "workbench.cli:main"}


def _run(*args: object, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done


def test_the_wheel_carries_its_data_and_runs_a_report_outside_the_checkout(tmp_path):
    """Build the wheel, install it in a fresh venv and write the demo report from a directory
    that has nothing to do with the checkout: what a user of the published package gets."""
    # Build from a copy of the files git tracks (what a clean clone has, not what happens to lie in
    # the working tree), so that the checkout gets no build/ or egg-info either.
    src = tmp_path / "src"
    tracked = subprocess.run(["git", "ls-files", "pyproject.toml", "README.md", "workbench"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    # No build isolation: setuptools comes from the dev extra, so no index is needed.
    build = _run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                 "-w", tmp_path / "dist", src, cwd=tmp_path)
    # -v shows setuptools' own output, where a `license = {text = ...}` table gets a deprecation warning.
    assert not re.search(r"BuildBackendWarning|DeprecationWarning", build.stdout + build.stderr)
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.startswith("decision_workbench-")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"workbench/data/demo_portfolio.yaml", "workbench/templates/quarterly_report.ipynb",
            "workbench/templates/budget_sensitivity.ipynb", "workbench/io/read.py"} <= names

    # The new venv sees the project environment's packages (numpy, papermill, ...) through a .pth
    # path line; .pth files in that directory, such as the editable install's hook to the checkout,
    # are not processed. (`venv --system-site-packages` would give the base interpreter's packages.)
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path)
                .stdout.strip())
    paths = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "project_environment.pth").write_text("".join(f"{p}\n" for p in paths))
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall", wheel, cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # nbconvert's HTML templates are data files of the project environment, not packages.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    where = Path(_run(python, "-c", "import workbench; print(workbench.__file__)", cwd=elsewhere, env=env)
                 .stdout.strip())
    assert where.is_relative_to(venv) and not where.is_relative_to(ROOT), where
    _run(venv / "bin" / "workbench", "report", "quarterly", "--demo", "--quarter", "2026Q4", "--budget", "40",
         "-o", "out", cwd=elsewhere, env=env)
    html = elsewhere / "out" / "2026Q4-quarterly.html"
    assert html.is_file() and html.stat().st_size > 0

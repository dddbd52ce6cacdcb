"""The set-up contract: README quick start, .ci/run, and pip/conda dependency lists in step."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]} | {_name(r) for r in project["optional-dependencies"]["dev"]}
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
    notebooks = list((ROOT / "notebooks").glob("*.ipynb")) + list((ROOT / "templates").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            assert not cell.get("outputs") and not cell.get("execution_count"), path.name


def test_make_lab_opens_the_strategy_session_with_the_widget_extensions():
    import subprocess
    import sys

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

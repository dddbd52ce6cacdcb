# One entry point: `make demo` runs the main job, `make test` lint (ruff) and the whole suite.
# Both create or refresh .venv (re-installed whenever pyproject.toml changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo lint test lab bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "workbench needs Python >= 3.11; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/workbench report quarterly --demo --quarter 2026Q4 --budget 40 \
		--capacity Payments=12 --capacity Growth=8 -o reports

lint: $(STAMP)
	$(BIN)/ruff check workbench tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest

# JupyterLab on the strategy-session notebook (ipywidgets and anywidget come with the .venv).
# Extra options go in LAB_ARGS, e.g. make lab LAB_ARGS="--no-browser --port 8890".
lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/strategy_session.ipynb $(LAB_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_rice.py
	$(BIN)/python benchmarks/bench_sensitivity.py
	$(BIN)/python benchmarks/bench_interactive.py
	$(BIN)/python benchmarks/bench_planning.py
	$(BIN)/python benchmarks/bench_roadmap.py
	$(BIN)/python benchmarks/bench_distributed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info

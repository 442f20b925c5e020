# Two commands set everything up on a fresh machine with Python 3.11+ and make:
#   make run    installs the runtime requirements into .venv, compiles the default sweep
#               once into the compilation cache, and starts the app
#   make test   installs runtime + development requirements, lints, runs every test
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8501
# Two workers, one test file each: compilation is single-threaded, so this halves the wall time.
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=15
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PREWARM_STAMP := $(VENV)/.prewarmed

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(RUNTIME_STAMP)

# Once after install (and after the engine changes): compile the default view's sweep into
# the persistent compilation cache, so the first visitor does not wait for the compiler.
$(PREWARM_STAMP): $(RUNTIME_STAMP) $(wildcard gmm_core/*.py)
	$(BIN)/python -m gmm_app.prewarm || echo "prewarm failed: the server compiles on first use"
	touch $@

run: $(RUNTIME_STAMP) $(PREWARM_STAMP)
	$(BIN)/python -m gmm_app.serve --server.port $(PORT) --server.address localhost \
		--server.showEmailPrompt false

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The real-browser tests time what a visitor sees, so they run after the rest, alone.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not browser"
	$(BIN)/python -m pytest -p no:xdist -m browser --durations=10

bench: $(RUNTIME_STAMP) $(DEV_STAMP)
	$(BIN)/python -m gmm_core.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

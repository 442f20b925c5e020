# Two commands set everything up on a fresh machine with Python 3.12+ and make:
#   make run    installs the runtime requirements into .venv, compiles the default sweep
#               once into the compilation cache, and starts the app
#   make test   installs runtime + development requirements, lints, runs the fast suite
#   make check  everything make test does, then the long checks and the real-browser tests
# jaxlib 0.12 is built for Python 3.12 and newer: take the first such interpreter found.
PYTHON ?= $(shell for p in python3.12 python3.13 $(HOME)/.pyenv/versions/3.12*/bin/python3 \
	$(HOME)/.pyenv/versions/3.13*/bin/python3 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' \
	2>/dev/null && { command -v $$p; break; }; done)
VENV ?= .venv
PORT ?= 8501
# Two workers, one test file each: compilation is single-threaded, so this halves the wall time.
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=15
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
PREWARM_STAMP := $(VENV)/.prewarmed

.PHONY: run test check lint bench clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "GMM Explorer needs Python 3.12 or newer (jax 0.12): install python3.12 or python3.13, or run make PYTHON=/path/to/python3.12"; exit 1; }
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

# The fast suite: every module, without the long checks (marked slow) and the real browser.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow and not browser"

# Everything: the fast suite, the long checks (load, soak, shape grid, benchmark beside
# scikit-learn), then, alone, the real-browser tests, which time what a visitor sees.
check: test
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "slow and not browser"
	$(BIN)/python -m pytest -p no:xdist -m browser --durations=10

bench: $(RUNTIME_STAMP) $(DEV_STAMP)
	$(BIN)/python -m gmm_core.bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

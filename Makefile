# stcoord: `make run` sets everything up and serves http://127.0.0.1:8000; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_NPM := node_modules/.installed
VENDOR := src/stcoord/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev db seed lint typecheck check bench clean vendor messages

run: install vendor db
	$(BIN)/stcoord seed --demo-users --demo-data
	$(BIN)/stcoord serve --host $(HOST) --port $(PORT)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP_RUN): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(STAMP_DEV): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

# Front-end libraries come from npm (package-lock.json) and are served by the app itself.
$(STAMP_NPM): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

vendor: $(STAMP_NPM)
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/
	cp node_modules/vega/build/vega.min.js node_modules/vega-lite/build/vega-lite.min.js node_modules/vega-embed/build/vega-embed.min.js $(VENDOR)/

db: install
	$(BIN)/stcoord db upgrade

seed: db
	$(BIN)/stcoord seed --demo-users --demo-data

test: install-dev vendor
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadgroup

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

# The translation template the catalogues follow (a test fails when a new message is missing).
messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output \
		-o src/stcoord/locale/messages.pot src/stcoord

bench: install-dev
	$(BIN)/python benchmarks/bench_mechanism_load.py
	$(BIN)/python benchmarks/bench_diagnosis.py
	$(BIN)/python benchmarks/bench_consensus.py
	$(BIN)/python benchmarks/bench_consensus_vs_red_dwarf.py
	$(BIN)/python benchmarks/bench_advisory.py
	$(BIN)/python benchmarks/bench_portfolio_import.py
	$(BIN)/python benchmarks/bench_screen.py compare 100000
	$(BIN)/python benchmarks/bench_screen.py scale 1000000
	$(BIN)/python benchmarks/bench_votes.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var

# fluz-client developer commands. Every target works from a fresh clone with only
# the package registries reachable: `make test` installs what it needs itself.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install codegen schema lint typecheck drift test demo sandbox bench soak mutate clean

help:
	@echo "make demo      sandbox + a real purchase -> reveal flow through FluzClient"
	@echo "make test      install if needed, then lint, typecheck, drift check and pytest"
	@echo "make install   create $(VENV) and install the project (editable, dev, sandbox, redis and otel extras)"
	@echo "make codegen   regenerate generated/fluz_graphql from schema/ + queries/"
	@echo "make schema    introspect FLUZ_SCHEMA_URL into schema/fluz.graphql and report changes"
	@echo "make soak      fault injection, bad-input corpus, secret canaries, cancellation,"
	@echo "               10,000 pending reveals, 8 workers on Redis: minutes; prints a summary table"
	@echo "make mutate    mutation score per money-path module (mutmut, 1 mutant in 5: ~30 min)"
	@echo "make lint | typecheck | drift | sandbox | bench"

# Re-runs pip only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,sandbox,redis,otel]'
	touch $(STAMP)

install: $(STAMP)

codegen: $(STAMP)
	$(BIN)/python -m fluz._codegen.generate

schema: $(STAMP)
	$(BIN)/python -m fluz._codegen.fetch_schema

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy --config-file generated/mypy.ini generated/fluz_graphql

drift: $(STAMP)
	$(BIN)/python -m fluz._codegen.generate --check

test: $(STAMP) lint typecheck drift
	$(BIN)/python -m pytest

sandbox: $(STAMP)
	$(BIN)/python -m fluz.sandbox

demo: $(STAMP)
	$(BIN)/python examples/demo.py

# The bench's reference column, gql's client, is installed only where the bench runs (a
# developer tool, not an extra users install). gql 4 needs graphql-core 3.3, which
# ariadne-codegen 0.19 refuses; gql 3.5.3 wants graphql-core < 3.2.7, below what the sandbox
# runs on (pyproject.toml): with the lower bound repeated here, pip takes an earlier gql 3.5
# instead of downgrading graphql-core under the sandbox (which then refuses to start).
GQL_REQUIREMENTS := 'gql[httpx]>=3.5,<4' 'graphql-core>=3.2.7,<3.3'
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(GQL_REQUIREMENTS)
	$(BIN)/python -m tests.bench

# Reliability at scale (a few minutes): faults, bad input, secrets, cancellation,
# 10,000 pending reveals; prints the summary table. `make test` runs short versions.
soak: $(STAMP)
	$(BIN)/python -m tests.soak

# Mutation testing of the money path (not part of `make test`): the score per module and
# every survivor; tests/mutation/SURVIVORS.md explains the ones left. One mutant in
# SAMPLE (by number) is run: 5 fits ~30 min on 2 cores; SAMPLE=1 runs all (~2 h).
MUTMUT_VERSION := 3.8.1
SAMPLE ?= 5
mutate: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check mutmut==$(MUTMUT_VERSION)
	$(BIN)/python -m tests.mutation.run --sample $(SAMPLE) $(MODULES)

clean:
	rm -rf $(VENV) mutants dist build .mypy_cache .ruff_cache .pytest_cache

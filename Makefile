# ARGUS: `make run` runs one nowcast cycle, `make test` runs the test suite.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# Replay recorded snapshots instead of the live CWC site:
#   make run REPLAY=DIR AT=2026-08-01T12:00+05:30 [VILLAGES=FILE] [JSON=1]
REPLAY ?=
AT ?=
VILLAGES ?=
JSON ?=

.PHONY: run test setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

# Only the cycle's summary goes to standard output, so JSON=1 output parses.
run: $(STAMP)
ifneq ($(VILLAGES),)
	@$(BIN)/argus villages import "$(VILLAGES)" >&2
endif
ifneq ($(REPLAY),)
	@test -n "$(AT)" || { echo "make run: REPLAY needs AT, e.g. AT=2026-08-01T12:00+05:30" >&2; exit 2; }
	@$(BIN)/argus run --replay "$(REPLAY)" --at "$(AT)" $(if $(JSON),--json)
else
	@$(BIN)/argus run $(if $(JSON),--json)
endif

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache

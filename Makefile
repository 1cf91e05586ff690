# One command each for the README contract: `make run`, `make test`, `make bench`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Built-in drivers are plugin packages of their own, installed like third-party ones.
DRIVERS := $(wildcard plugins/*/pyproject.toml)

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml $(DRIVERS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]' $(foreach d,$(DRIVERS),-e $(dir $(d)))
	touch $@

run: $(STAMP)
	$(BIN)/oned -f

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	command -v ab >/dev/null || (apt-get update -qq && apt-get install -y -qq apache2-utils)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info

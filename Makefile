# The README's two commands: `make run` and `make test`. Everything else hangs off them.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BIND   ?= 127.0.0.1:8000
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint typecheck pytest chromium bench docs clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Spyne 2.14 needs Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/qbwc-service db upgrade
	$(BIN)/qbwc-service serve --bind $(BIND)

# Debian's chromium for the Playwright browser tests (Playwright's own browser download
# is not used). Installs only when missing and when we may (root with apt-get).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and cannot be installed here: browser tests will skip"; fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check qbwc_service qbxml_builders tests bench migrations
	$(BIN)/ruff format --check qbwc_service qbxml_builders tests bench migrations

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

test: $(STAMP) chromium lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/roundtrip.py

# The generated documents: docs/qbxml.md and the settings table of README.md (tests check both).
docs: $(STAMP)
	$(BIN)/python -m qbxml_builders._docgen > docs/qbxml.md
	$(BIN)/python -m qbwc_service._docgen

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache

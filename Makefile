# The README's two commands: `make demo` and `make test`. Each sets itself up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PIP     = $(VENV)/bin/pip
STAMP   = $(VENV)/.installed

.PHONY: demo test lint bench chromium tables

$(STAMP): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Debian's Chromium renders JavaScript boards (Playwright cannot download its own browser offline).
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -n "$$LINKWATCH_CHROMIUM" ] || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "linkwatch: install Chromium (apt-get install chromium) or set LINKWATCH_CHROMIUM" >&2; exit 1; fi; }

demo: $(STAMP) chromium
	$(VENV)/bin/linkwatch demo $(ARGS)

test: $(STAMP) chromium
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# make bench NAME=extract|ingest|crawl|query|check|serve|volatile|freshness|alerts|instructions [ARGS="--runs 7"]
bench: $(STAMP)
	@test -n "$(NAME)" || { echo "usage: make bench NAME=extract|ingest|crawl|query|check" >&2; exit 2; }
	$(VENV)/bin/python -m bench.$(NAME) $(ARGS)

# Re-derive the extractor's stored Unicode tables (after a change to what they hold; a test says when)
tables: $(STAMP)
	$(VENV)/bin/python -c "from linkwatch.extract.tablegen import write; print(write())"

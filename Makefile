# Kinerja: two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
KPI_DB ?= data/kpi
PORT ?= 8501
export KPI_DB

.PHONY: run test check lint venv dev-deps system-deps store bench clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PIP) install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

dev-deps: $(VENV)/.dev-installed system-deps

# Debian's chromium drives the browser tests and plotly's static image export; WeasyPrint (the
# review pack's PDF) needs pango, and the pack is set in Liberation Sans (DejaVu for symbols).
SYSTEM_PACKAGES := chromium fonts-dejavu-core fonts-liberation libpango-1.0-0 libpangoft2-1.0-0
system-deps:
	@{ command -v chromium >/dev/null 2>&1 && ldconfig -p | grep -q libpangoft2-1.0 \
	   && fc-list | grep -q LiberationSans; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; fi; }

# Create the store with the demo city when there is none yet.
store: venv
	@test -e $(KPI_DB) || { $(PY) -m kpi init && $(PY) -m kpi demo; }

run: store
	$(VENV)/bin/streamlit run dashboard.py --server.port $(PORT)

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .

test: dev-deps
	$(VENV)/bin/python -m pytest -q

check: lint test

# Benchmarks (minutes; they generate 10 million events under bench/data/).
bench: $(VENV)/.dev-installed
	$(PY) bench/bench_import.py
	$(PY) bench/bench_engine.py

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache .ruff_cache

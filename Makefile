# Kinerja: two commands on a fresh machine: `make run` and `make test` (`make test-fast`: the
# inner loop, no Debian packages, servers or browsers).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
KPI_DB ?= data/kpi
PORT ?= 8501
export KPI_DB

.PHONY: run test test-fast check lint lock venv dev-deps system-deps store bench clean

# Installs come from the locks (every package of the environment, pinned with its hashes);
# `make lock` regenerates them from requirements.txt and requirements-dev.txt.
UV_COMPILE := $(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu

# uv installs them (hash-checked as pip would, with parallel downloads and installs); uv itself
# comes in first through pip, from its own pinned and hashed entry in requirements-dev.lock.
UV := $(VENV)/bin/uv
UV_INSTALL := $(UV) pip install --quiet --python $(PY) --require-hashes

$(UV):
	test -x $(PY) || python3 -m venv $(VENV)
	awk '/^uv==/ {keep = 1; print; next} keep && /^ / {print; next} {keep = 0}' \
	  requirements-dev.lock > $(VENV)/uv.lock
	$(PIP) install -q --disable-pip-version-check --require-hashes -r $(VENV)/uv.lock

# The checkout itself goes in editable (no download: the setuptools that Python 3.11 puts in
# every venv builds it), so that `python -m kpi` and the `kinerja` script work from any folder.
$(VENV)/.installed: requirements.lock pyproject.toml | $(UV)
	$(UV_INSTALL) -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.lock
	$(UV_INSTALL) -r requirements-dev.lock
	touch $@

# The full development environment is resolved first; the runtime lock is held to its
# versions, so the dashboard runs on exactly what the tests ran on.
lock: | $(UV)
	$(UV_COMPILE) requirements-dev.txt -o requirements-dev.lock
	$(UV_COMPILE) requirements.txt -c requirements-dev.lock -o requirements.lock

venv: $(VENV)/.installed

dev-deps: $(VENV)/.dev-installed system-deps

# Debian's chromium drives the browser tests and plotly's static image export; WeasyPrint (the
# review pack's PDF) needs pango, and the pack is set in Liberation Sans (DejaVu for symbols).
# The shared-store tests start a throwaway cluster of Debian's postgresql.
SYSTEM_PACKAGES := chromium fonts-dejavu-core fonts-liberation libpango-1.0-0 libpangoft2-1.0-0 \
	postgresql
system-deps:
	@{ command -v chromium >/dev/null 2>&1 && ldconfig -p | grep -q libpangoft2-1.0 \
	   && fc-list | grep -q LiberationSans && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; fi; }

# Create the store with the demo city when there is none yet.
store: venv
	@test -e $(KPI_DB) || { $(PY) -m kpi init && $(PY) -m kpi demo; }

# app.py: the dashboard and, beside it, the public SKM form and published results (web/).
run: store
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# ruff (style and the banned-api layering rule), mypy (kpi/, ui/ and web/), import-linter (the layers,
# and no import cycle in kpi/).
lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# One pytest run on every core (pytest-xdist). The tests marked `serial` (servers on ports,
# browsers, timed waits) are in three xdist groups ("browser", "signin", "services"): one worker
# runs a group's tests one after the other while the others take the rest, each test on a
# temporary store of its own (the e-mail tests add a "mail" group). `.ci/run` from a fresh clone,
# 977 tests on an idle 2-CPU machine: 12 min 42 s, tests 12 min 19 s (2026-12-07; 547 tests took
# 7 min 47 s - 8 min 30 s before the last two rounds; bench/README.md, "Tests in tiers").
# `make test-fast` is the inner loop.
test: dev-deps
	$(VENV)/bin/python -m pytest -q -n auto --dist loadgroup

# The inner loop: the engine, the contract's worked example and the main pages' AppTest tests
# (tests marked `fast`, tests/conftest.py FAST_MODULES), from the virtualenv alone: no Debian
# packages, no servers, no browsers. Measured in bench/README.md ("Tests").
test-fast: $(VENV)/.dev-installed
	$(VENV)/bin/python -m pytest -q -n auto --dist loadgroup -m fast

check: lint test

# Benchmarks (minutes; they generate 10 million events under bench/data/).
bench: $(VENV)/.dev-installed
	$(PY) bench/bench_import.py
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_pages.py

clean:
	rm -rf $(VENV) tests/artifacts .pytest_cache .ruff_cache

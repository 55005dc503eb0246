# govtech — the two front-door commands are `make demo` and `make test`.
PYTHON_BIN ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKSUM := $(shell cat pyproject.toml requirements.lock requirements-dev.lock | cksum | cut -d' ' -f1)
STAMP := $(VENV)/.installed-dev-$(CHECKSUM)
DEMO_STAMP := $(VENV)/.installed-demo-$(CHECKSUM)

.PHONY: demo test test-fast lint typecheck format messages install install-demo system-deps \
	demo-deps clean

# Installs come from the lock files, every file checked against its hash (pip's
# --require-hashes), so a fresh machine gets exactly the tested releases; the project
# itself is then installed without resolving anything again. `make lock` rewrites them.
# The project with its development tools (tests, lint, types); it includes the demo's.
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements-dev.lock
	$(PY) -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@ $(DEMO_STAMP)

# The project alone: what the demo runs (no pytest, Playwright, mypy, ruff); nothing to
# do when the development install of these files is there.
$(DEMO_STAMP): pyproject.toml requirements.lock
	test -e $(STAMP) || { test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV); \
	  $(PY) -m pip install -q --upgrade pip \
	  && $(PY) -m pip install -q --require-hashes -r requirements.lock \
	  && $(PY) -m pip install -q --no-deps -e .; }
	rm -f $(VENV)/.installed-demo-*
	touch $@

# After a change to pyproject.toml's dependencies: pin every release with its hashes.
# Releases already pinned stay (pip-compile keeps them unless pyproject excludes them).
.PHONY: lock
lock: install
	for extra in "" dev; do \
	  out=requirements$${extra:+-$$extra}.lock; \
	  CUSTOM_COMPILE_COMMAND="make lock" $(VENV)/bin/pip-compile -q --generate-hashes --strip-extras --allow-unsafe \
	    --no-emit-index-url --no-emit-find-links \
	    $${extra:+--extra $$extra} -o $$out pyproject.toml; \
	done

install: $(STAMP)
install-demo: $(DEMO_STAMP)

# What the tests need from Debian: PostgreSQL, Redis, Chromium, fonts, gettext.
system-deps:
	PYTHON_BIN=$(PYTHON_BIN) bash .ci/services.sh install

# What the demo needs from Debian: gettext (compilemessages) and python3-venv, no servers.
demo-deps:
	PYTHON_BIN=$(PYTHON_BIN) bash .ci/services.sh install demo

messages: install-demo
	$(PY) manage.py compilemessages --ignore=.venv -v 0

# The embedded default: SQLite, filesystem Celery transport, simulator on; served by
# gunicorn with a Celery worker and beat (logs in var/log/). URLs and logins come last.
demo: demo-deps messages
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo -v 0
	$(PY) manage.py rundemo

# The full suite against throwaway PostgreSQL and Redis; lint and migrations checked first.
test: system-deps install messages
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run -v 1
	$(MAKE) --no-print-directory typecheck
	bash -c 'set -euo pipefail; trap "bash .ci/services.sh stop" EXIT; \
	  services=$$(bash .ci/services.sh start); set -a; eval "$$services"; set +a; \
	  $(PY) -m pytest $(PYTEST_ARGS)'

# Webhook acknowledgement next to a bare view, and conversation turns per second, on
# throwaway PostgreSQL and Redis of its own (other ports than `make test`'s, so both can run).
# Prints a table; the figures go to artifacts/bench.json. BENCH_ARGS: see python -m tests.bench -h
# (BENCH_ARGS=--rush: only issue 21's rush, 5,000 residents booking one facility in 60 s).
.PHONY: bench
bench: system-deps install messages
	bash -c 'set -euo pipefail; \
	  export GOVTECH_SERVICES_DIR="$${TMPDIR:-/tmp}/govtech-bench-services" TEST_PG_PORT=55442 TEST_REDIS_PORT=56389; \
	  trap "bash .ci/services.sh stop" EXIT; \
	  services=$$(bash .ci/services.sh start); set -a; eval "$$services"; set +a; \
	  $(PY) -m tests.bench $(BENCH_ARGS)'

# Quick loop on SQLite, no servers (PostgreSQL/Redis/browser tests skip themselves).
test-fast: install
	$(PY) -m pytest -m "not postgres and not redis and not browser and not slow" $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(MAKE) --no-print-directory typecheck

# mypy on services, selectors, tasks and the conversation engine (STYLE.md rule 11).
TYPECHECK_PATHS := \
	reports/home.py reports/admin.py govtech/jsonlimits.py \
	govtech/services.py govtech/tasks.py govtech/ratelimit.py \
	procedures/services.py procedures/selectors.py procedures/tasks.py \
	procedures/catalog/services.py procedures/catalog/selectors.py \
	procedures/reservations/services.py procedures/reservations/selectors.py \
	procedures/reservations/tasks.py procedures/reservations/notices.py \
	procedures/residents/services.py procedures/residents/tasks.py \
	procedures/residents/registry.py procedures/steptypes.py procedures/reservations/binding.py \
	procedures/languages.py procedures/residents/chat.py procedures/residents/selectors.py \
	procedures/builder/translations.py \
	procedures/builder/services.py procedures/builder/selectors.py \
	procedures/engine procedures/runtime.py procedures/webform \
	procedures/casework/services.py procedures/casework/selectors.py \
	procedures/casework/tasks.py procedures/casework/chat.py procedures/casework/workflow.py \
	procedures/casework/answers.py procedures/casework/media.py \
	procedures/incidents/duplicates.py procedures/incidents/map.py \
	procedures/incidents/photos.py procedures/incidents/categories.py procedures/images.py \
	reports/exports reports/dashboards reports/surveys reports/tasks.py \
	reports/open311 reports/public procedures/incidents/intake.py \
	reports/backoffice reports/apikeys.py \
	delivery/services.py delivery/selectors.py delivery/tasks.py \
	delivery/outbound.py delivery/friends.py delivery/notices.py \
	delivery/broadcasts/services.py delivery/broadcasts/selectors.py \
	delivery/broadcasts/tasks.py delivery/broadcasts/attributes.py delivery/broadcasts/profile.py \
	delivery/broadcasts/testers.py \
	delivery/simulator/services.py delivery/simulator/selectors.py delivery/simulator_adapter.py \
	delivery/inbox.py delivery/line_api.py \
	delivery/spots/services.py delivery/spots/standard.py delivery/spots/selectors.py \
	delivery/spots/chat.py procedures/incidents/services.py \
	delivery/faq/matching.py delivery/faq/services.py delivery/faq/chat.py delivery/faq/vocabulary.py \
	delivery/disaster/services.py delivery/disaster/selectors.py delivery/disaster/chat.py \
	delivery/disaster/console.py \
	delivery/richmenus/services.py delivery/richmenus/selectors.py delivery/richmenus/tasks.py \
	delivery/richmenus/linking.py delivery/richmenus/publishing.py delivery/richmenus/line.py \
	delivery/richmenus/layouts.py delivery/richmenus/images.py

typecheck: install
	$(PY) -m mypy $(TYPECHECK_PATHS)

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

clean:
	rm -rf var .pytest_cache .ruff_cache .hypothesis

# Branchwork: two commands on a fresh machine with only Python >= 3.11.
#   make run    virtualenv, install, migrate, demo data, then the site (http://127.0.0.1:8000) and a
#               Celery worker with the beat scheduler; Ctrl-C stops them all.
#   make test   virtualenv with the dev extras, then the whole test suite.
# Without DATABASE_URL / REDIS_URL both use SQLite and a filesystem Celery broker under var/broker;
# with them set they use PostgreSQL and Redis.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium
BEAT_SCHEDULER := django_celery_beat.schedulers:DatabaseScheduler

.PHONY: help run test install install-dev chromium lint format ci clean

help:
	@echo "make run     set up everything and start the site at http://$(HOST):$(PORT) with worker + beat"
	@echo "make test    set up the dev environment and run the whole test suite (PYTEST_ARGS=... to pass options)"
	@echo "make lint    ruff check + ruff format --check"
	@echo "make format  ruff format + ruff check --fix"
	@echo "make ci      the full CI run (.ci/run): PostgreSQL, Redis, lint, deploy checks, tests"
	@echo "make clean   remove the virtualenv and everything under var/ (database, broker, media)"

# --- virtualenv -----------------------------------------------------------------------------
# The stamps depend on pyproject.toml, so a changed dependency list reinstalls on the next run.
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Branchwork needs Python >= 3.11; run make PYTHON=/path/to/python3.11 ...")'
	echo "==> $(PYTHON) -m venv $(VENV)"
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create $(VENV) (on Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml | $(PY)
	@echo "==> pip install -e ."
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	@echo "==> pip install -e '.[dev]'"
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# --- make run -------------------------------------------------------------------------------
# The site and the worker each start in their own process group (set -m just for them), so on
# Ctrl-C, on TERM, or when one of them dies, `stop` ends both groups (runserver's reloader child,
# the worker's pool and its embedded beat included): no orphans. A second Ctrl-C skips the grace time.
# The demo logins are printed by seed_demo and again once the site answers.
run: $(VENV)/.installed
	@mkdir -p var/broker/queue var/broker/processed var/media
	echo "==> migrate"
	$(PY) manage.py migrate --noinput
	echo "==> demo data"
	$(PY) manage.py seed_demo | tee var/demo-logins.txt
	$(PY) manage.py refresh_stats
	pids=""
	force=""
	stop() {
		trap 'force=1' INT TERM
		trap - EXIT
		[ -n "$$pids" ] || return 0
		echo; echo "Stopping the site and the worker..."
		# TERM to the leaders (runserver, the worker's main process) lets them stop their own children;
		# whatever is left of their groups after 10 s (or a second Ctrl-C) is killed.
		for pid in $$pids; do kill -TERM "$$pid" 2>/dev/null || true; done
		for _ in $$(seq 1 50); do
			alive=""; for pid in $$pids; do kill -0 -- "-$$pid" 2>/dev/null && alive=1; done
			[ -n "$$alive" ] && [ -z "$$force" ] || break
			sleep 0.2
		done
		for pid in $$pids; do kill -KILL -- "-$$pid" 2>/dev/null || true; done
		wait 2>/dev/null || true
	}
	trap 'stop; exit 130' INT
	trap 'stop; exit 143' TERM
	trap stop EXIT
	set -m
	$(PY) manage.py runserver $(HOST):$(PORT) </dev/null &
	web=$$!
	pids="$$web"
	$(VENV)/bin/celery -A config worker --beat --scheduler $(BEAT_SCHEDULER) --loglevel INFO --concurrency 2 </dev/null &
	worker=$$!
	pids="$$pids $$worker"
	set +m
	for _ in $$(seq 1 60); do
		kill -0 "$$web" 2>/dev/null || break
		$(PY) -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' http://$(HOST):$(PORT)/healthz 2>/dev/null && break
		sleep 0.5
	done
	if kill -0 "$$web" 2>/dev/null; then
		echo
		echo "================================================================================"
		echo " Branchwork is running at http://$(HOST):$(PORT)/  (Ctrl-C stops the site, worker and beat)"
		echo " API docs: http://$(HOST):$(PORT)/api/docs/   Demo logins (also in var/demo-logins.txt):"
		sed 's/^/   /' var/demo-logins.txt
		echo "================================================================================"
	fi
	while kill -0 "$$web" 2>/dev/null && kill -0 "$$worker" 2>/dev/null; do sleep 1; done
	echo "The site or the worker stopped; stopping the other." >&2
	exit 1

# --- make test ------------------------------------------------------------------------------
test: $(VENV)/.installed-dev chromium
	@$(PY) -m pytest $(PYTEST_ARGS)

# Browser tests need Debian's Chromium. Installed with apt-get when we are root and apt exists;
# otherwise those tests skip with a reason (and fail under CI=true).
chromium:
	@if [ -x $(CHROMIUM) ]; then exit 0; fi
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "Installing Chromium for the browser tests (apt-get)..."
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq --no-install-recommends chromium >/dev/null \
			|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
			|| echo "Could not install Chromium: the browser tests will be skipped."
	else
		echo "$(CHROMIUM) is missing and cannot be installed here (needs root + apt-get): browser tests will be skipped."
	fi

# --- helpers --------------------------------------------------------------------------------
lint: $(VENV)/.installed-dev
	@$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	@$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ci:
	.ci/run

clean:
	rm -rf $(VENV) var *.egg-info

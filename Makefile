# SmartMkt: `make demo` sets everything up and serves; `make test` runs the tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# make serve listens on this address; HOST=0.0.0.0 to accept other machines (e.g. behind a proxy).
HOST ?= 127.0.0.1
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 7
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/smartmkt_test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
REQUIREMENTS := requirements/base.txt requirements/ml.txt requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) 2>/dev/null | sha1sum | cut -c1-12)

.PHONY: help install demo demo-setup serve worker beat test test-fast lint format bench clean

help:
	@echo "make demo    set up everything (venv, packages, database, demo shop, models) and serve"
	@echo "make test    run the test suite against PostgreSQL and Redis"
	@echo "make serve   gunicorn on \$$HOST:\$$PORT (default 127.0.0.1:8000), DEBUG off"
	@echo "make worker  Celery worker on every queue (QUEUES=... to narrow)"
	@echo "make lint    ruff, mypy, import contracts, Django checks"
	@echo "make bench   benchmark scripts; results go to docs/benchmarks.md"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) $(REQUIREMENTS)
	$(PY) -m pip install --quiet -r requirements/dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Everything a newcomer needs, on the embedded defaults (SQLite, in-process tasks).
demo-setup: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py sync_roles
	$(PY) manage.py demo_data --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED) --if-empty
	$(PY) manage.py train --all --wait
	$(PY) manage.py clv store
	$(PY) manage.py rfm apply
	$(PY) manage.py predict score --kind all
	$(PY) manage.py campaign demo
	$(PY) manage.py insights categories --seed
	$(PY) manage.py insights analyze
	$(PY) manage.py insights topics
	$(PY) manage.py forecasts refresh --wait
	$(PY) manage.py create_admin --email admin@smartmkt.local --password $${ADMIN_PASSWORD:-smartmkt-demo}

demo: demo-setup
	@if [ -n "$$NO_SERVE" ]; then echo "NO_SERVE set: not serving"; else \
		echo "Serving SmartMkt on http://127.0.0.1:$(PORT)  (login: admin@smartmkt.local / $${ADMIN_PASSWORD:-smartmkt-demo})"; \
		$(PY) manage.py runserver 127.0.0.1:$(PORT); fi

serve: install
	DJANGO_SETTINGS_MODULE=smartmkt.settings.production $(PY) manage.py migrate --noinput
	DJANGO_SETTINGS_MODULE=smartmkt.settings.production $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=smartmkt.settings.production $(VENV)/bin/gunicorn smartmkt.wsgi \
		--bind $(HOST):$(PORT) --worker-class gthread --workers $${WEB_CONCURRENCY:-$$(nproc)} \
		--threads $${WEB_THREADS:-8} --keep-alive 30 --backlog 2048 --access-logfile - \
		--max-requests 20000 --max-requests-jitter 2000

worker: install
	DJANGO_SETTINGS_MODULE=smartmkt.settings.production workers/start-all.sh

beat: install
	DJANGO_SETTINGS_MODULE=smartmkt.settings.production $(VENV)/bin/celery -A smartmkt beat -l info

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest -m "not slow and not browser and not worker" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var

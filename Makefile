# Tuneboard: `make run` starts everything on this machine, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# One stamp per layer, each depending on the files it installs: `make test` after `make serve`
# still installs the development layer.
PROD_STAMP := $(VENV)/.installed-production
DEV_STAMP := $(VENV)/.installed-development

.PHONY: run test serve install install-production requirements migrate static lint bench clean

run: install
	$(PY) scripts/run.py

test: install
	scripts/run-tests

serve: install-production static migrate
	$(VENV)/bin/gunicorn dashboard.wsgi --bind $${BIND:-0.0.0.0:8000} --workers $${WEB_CONCURRENCY:-3} --access-logfile -

# Development: the app plus tests, sandbox, benchmarks and linters.
install: $(DEV_STAMP)

# Production: only what the app imports at run time.
install-production: $(PROD_STAMP)

$(DEV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	touch $(DEV_STAMP)

$(PROD_STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt
	touch $(PROD_STAMP)

# Re-pin both layers after editing a .in file; existing pins are kept unless ARGS says
# otherwise (e.g. ARGS="--upgrade-package django").
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(ARGS)

requirements: install
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

migrate: install-production
	$(PY) manage.py migrate --noinput

static: install-production
	$(PY) manage.py collectstatic --noinput

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

bench: install
	@for script in $(filter-out bench/benchdb.py,$(wildcard bench/*.py)); do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles artifacts

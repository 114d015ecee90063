# Tuneboard: `make run` starts everything on this machine, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-requirements

.PHONY: run test serve install migrate static lint bench clean

run: install
	$(PY) scripts/run.py

test: install
	scripts/run-tests

serve: install static migrate
	$(VENV)/bin/gunicorn dashboard.wsgi --bind $${BIND:-0.0.0.0:8000} --workers $${WEB_CONCURRENCY:-3} --access-logfile -

install: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

static: install
	$(PY) manage.py collectstatic --noinput

lint: install
	$(VENV)/bin/ruff check .

bench: install
	@for script in $(filter-out bench/benchdb.py,$(wildcard bench/*.py)); do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) staticfiles artifacts

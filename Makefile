# PetitionDesk: `make run` serves the app with Celery; `make test` runs every check.
# Both need only Python 3.11 and git: the rest is installed into .venv.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run dev test manage bench lint messages clean-data

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "[petitiondesk] installing dependencies into $(VENV) (log: $(VENV)/pip.log)" >&2
	@$(PY) -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/pip.log 2>&1 \
	  && $(PY) -m pip install --disable-pip-version-check -e '.[dev]' >> $(VENV)/pip.log 2>&1 \
	  || (tail -30 $(VENV)/pip.log >&2; echo "[petitiondesk] installation failed" >&2; exit 1)
	@touch $@

# gunicorn, a Celery worker, Celery beat and the embedded Redis under supervisord,
# which restarts whichever of them dies; Ctrl-C stops them all.
run: $(STAMP)
	@$(PY) scripts/stack.py run

# The same with Django's autoreloading development server in place of gunicorn.
dev: $(STAMP)
	@$(PY) scripts/stack.py dev

test: $(STAMP)
	@$(VENV)/bin/ruff check .
	@$(PY) scripts/stack.py test

# Migrates first (silently when there is nothing to apply), so it works before `make run`.
manage: $(STAMP)
	@$(PY) scripts/stack.py manage $(ARGS)

bench: $(STAMP)
	@$(PY) scripts/stack.py bench $(ARGS)

lint: $(STAMP)
	@$(VENV)/bin/ruff check .

# Refresh the zh-hans catalogue after changing user-facing strings (needs GNU gettext).
messages: $(STAMP)
	@$(PY) scripts/stack.py manage makemessages -l zh_Hans --ignore=.venv --ignore=.data --ignore=static/vendor --no-obsolete

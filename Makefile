# ShopAuto — the two commands of the README:
#   make run    install, migrate, load the demo shop, start web + worker + beat (embedded)
#   make test   the whole test suite (PostgreSQL + Redis on this machine)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

# The embedded run is plain http on localhost: no https redirect, no secure-only cookies.
EMBEDDED_ENV := SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} SESSION_COOKIE_SECURE=$${SESSION_COOKIE_SECURE:-false} \
	CSRF_COOKIE_SECURE=$${CSRF_COOKIE_SECURE:-false} SECURE_HSTS_SECONDS=$${SECURE_HSTS_SECONDS:-0} \
	SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} PORT=$(PORT)
# Tests default to the local PostgreSQL and Redis; `make test-embedded` uses SQLite and
# the filesystem broker instead.
TEST_ENV := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/shopauto} \
	REDIS_URL=$${REDIS_URL-redis://127.0.0.1:6379/15}

.PHONY: run test test-proof test-embedded install lint migrate demo clean translations messages

$(STAMP): requirements.txt
	@echo "==> Creating the virtualenv in $(VENV) and installing requirements"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --upgrade pip > $(VENV)/pip.log 2>&1 || true
	@echo "    (pip log: $(VENV)/pip.log)"
	@$(BIN)/pip install --progress-bar off -r requirements.txt >> $(VENV)/pip.log 2>&1 \
		|| { grep -v '^WARNING: Location' $(VENV)/pip.log | tail -30; exit 1; }
	@grep -E '^Successfully installed' $(VENV)/pip.log | tail -1 || echo "    requirements already satisfied"
	@touch $(STAMP)

install: $(STAMP)

# Compiled catalogs (.mo) are built, never committed: Babel compiles them, no GNU gettext needed.
translations: install
	@$(BIN)/python manage.py compile_translations -v 0

# Developer step: extract new portal strings into locale/*/LC_MESSAGES/django.po and list
# what is untranslated (pure Python: no xgettext). Fill with --export/--import, see README.
messages: install
	@$(BIN)/python manage.py update_translations

run: install translations
	@echo "==> Migrating the database"
	@$(EMBEDDED_ENV) $(BIN)/python manage.py migrate --noinput
	@echo "==> Loading the demo shop"
	@$(EMBEDDED_ENV) $(BIN)/python manage.py demo_data
	@$(EMBEDDED_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	@echo ""
	@echo "==> ShopAuto is starting: web + Celery worker + Celery beat (Ctrl-C stops all three)"
	@echo "    Portal    http://127.0.0.1:$(PORT)/"
	@echo "    Admin     http://127.0.0.1:$(PORT)/admin/"
	@echo "    API docs  http://127.0.0.1:$(PORT)/api/docs/"
	@echo ""
	@$(EMBEDDED_ENV) $(BIN)/honcho start -f Procfile

test: install translations
	@$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS)

# The proof alone (also part of `make test`): browser journeys, API fuzzing + isolation sweep, faults.
test-proof: install translations
	@$(TEST_ENV) $(BIN)/python -m pytest -m "e2e or fuzz or faults" $(PYTEST_ARGS)

test-embedded: install translations
	@DATABASE_URL=sqlite:///$(CURDIR)/var/test-embedded.sqlite3 REDIS_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	@$(BIN)/ruff check .
	@DATABASE_URL=sqlite:///$(CURDIR)/var/lint.sqlite3 REDIS_URL= $(BIN)/python manage.py makemigrations --check --dry-run >/dev/null

clean:
	rm -rf var .pytest_cache

# mfagate — `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
DEMO ?= 1
# Two test workers (pytest-xdist): `make test PYTEST_ARGS=` runs the suite in one process.
PYTEST_ARGS ?= -n 2

.PHONY: run serve test install install-dev chromium redis-server oidc-idp migrate demo demo-reset bench bench-http bench-tools clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamps: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e . >$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	$(PY) -c "import django, allauth, django_otp, webauthn, gunicorn" && touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[dev]" >$(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	$(PY) -c "import django, allauth, django_otp, webauthn, gunicorn, pytest, pytest_django, hypothesis, pyotp, playwright, cloudflare, schemathesis, xdist" && touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

# The demo goes into a new database only: what an admin changed survives a restart.
demo: migrate
	$(PY) manage.py seed_demo --if-empty

# On purpose: put the demo back as seeded (it says what it reset).
demo-reset: migrate
	$(PY) manage.py seed_demo

run: demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo
	@echo "mfagate is serving on http://$(HOST):$(PORT)  (WebAuthn needs a name: open http://localhost:$(PORT))"
	@echo "Admin console: http://localhost:$(PORT)/admin/  (admin@demo.test)"
	@echo
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production-like (README "Deployment"): gunicorn with $(WORKERS) workers and DEBUG off, against
# DATABASE_URL and REDIS_URL (environment or .env). `check --deploy` prints what is not set for
# production and stops on errors; the demo goes only into an empty database (DEMO=0: never).
serve: export DEBUG = false
serve: install
	$(PY) manage.py check --deploy --fail-level ERROR
	$(PY) manage.py migrate --noinput
	$(if $(filter 1,$(DEMO)),$(PY) manage.py seed_demo --if-empty)
	$(PY) manage.py collectstatic --noinput -v0
	@echo
	@echo "mfagate (gunicorn, $(WORKERS) workers) is serving on http://$(HOST):$(PORT)  (behind your TLS proxy: its https address)"
	@echo
	exec $(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers $(WORKERS)

# Browser tests drive Debian's Chromium; install it when it is missing (never `playwright install`).
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The cache, channel and fault tests start Redis servers of their own (never the shared one).
redis-server:
	@test -x /usr/bin/redis-server || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null)

# The enterprise sign-in tests run a real OpenID Connect IdP under Node (tests/oidc_idp).
oidc-idp:
	@test -d tests/oidc_idp/node_modules || npm ci --prefix tests/oidc_idp --no-audit --no-fund

test: install-dev chromium redis-server oidc-idp
	$(PY) -m pytest $(PYTEST_ARGS)

# The benchmarks start a redis-server of their own; the HTTP one drives wrk (both from Debian).
bench-tools:
	@command -v redis-server >/dev/null 2>&1 && command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server wrk >/dev/null)

bench: install-dev bench-tools
	$(PY) bench/enforcement.py

bench-http: install-dev bench-tools
	$(PY) bench/http_load.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var .pytest_cache .hypothesis test-artifacts tests/oidc_idp/node_modules

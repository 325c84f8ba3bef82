# Qiyue: `make run` and `make test` work on a fresh machine with Python >= 3.11 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
QIYUE_DATA_DIR ?= $(CURDIR)/var
export QIYUE_DATA_DIR
PYTEST_ARGS ?=

.PHONY: run install install-dev system-deps test test-pg test-browser lint lock messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Debian packages: Chromium for the browser tests, Noto CJK for Chinese in screenshots and
# watermarks, Tesseract (chi_sim + eng) for OCR of scans, gettext for the translation
# catalogue check (root, apt-get).
SYSTEM_PACKAGES = chromium fonts-noto-cjk tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng gettext
system-deps:
	@if command -v chromium >/dev/null && command -v tesseract >/dev/null && command -v xgettext >/dev/null \
		&& tesseract --list-langs 2>/dev/null | grep -q chi_sim && fc-list :lang=zh | grep -q .; then \
		echo "system packages present"; \
	else \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES); \
	fi

run: install
	$(BIN)/qiyue migrate --no-input
	$(BIN)/qiyue demo
	$(BIN)/qiyue serve --host $(HOST) --port $(PORT)

# The whole suite on SQLite (the browser tests skip themselves without Chromium).
test: install-dev
	env -u DATABASE_URL QIYUE_DATA_DIR=$(CURDIR)/var/test $(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The whole suite on PostgreSQL: DATABASE_URL=postgres://user@host:5432/dbname make test-pg
test-pg: install-dev
	@test -n "$(DATABASE_URL)" || (echo "set DATABASE_URL to a PostgreSQL URL" && exit 2)
	QIYUE_DATA_DIR=$(CURDIR)/var/test-pg $(BIN)/pytest -n 2 -m "not browser" $(PYTEST_ARGS)

test-browser: install-dev
	QIYUE_DATA_DIR=$(CURDIR)/var/test-browser $(BIN)/pytest -m browser -p no:xdist $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Re-pin dependencies after editing pyproject.toml.
lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --strip-extras -o requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --extra dev -o requirements-dev.lock pyproject.toml

messages: install-dev
	cd src/qiyue && ../../$(BIN)/django-admin makemessages -l zh_Hans --no-obsolete --ignore "*/migrations/*"
	cd src/qiyue && ../../$(BIN)/django-admin compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

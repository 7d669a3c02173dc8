# Everything runs from the project's own virtualenv, made by `make install`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INDEX ?= index
SOURCES ?= seeds
HOST ?= 127.0.0.1
PORT ?= 8000
SHARED ?= ../shared

.PHONY: install index merge run stamped-index serve dev test test-fast bench eval clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The distribution was called mixed-script-search: its files (the zhsearch
	@# command among them) would otherwise stay beside zhsearch's.
	$(PY) -m pip uninstall --quiet --yes mixed-script-search 2>/dev/null || true
	$(PY) -m pip install --quiet -e '.[test,formats,fast]' || $(PY) -m pip install --quiet -e '.[test,formats]'
	touch $@

install: $(VENV)/.installed

# `make index` updates the live index in place: only files that are new or
# changed are read, documents of files gone are deleted.  FULL=1 rebuilds it
# from scratch.  Exit status 3 means "done, but some files were skipped"
# (listed above): the index is usable, so make carries on.  Sources with no
# document do not empty the index (exit 1) unless ALLOW_EMPTY=1; a build with
# fewer than half the live index's documents, or an update deleting more than
# half of them, is refused unless FORCE=1.  FOLLOW_LINKS=1 follows symbolic
# links that lead out of a source folder.
index: install
	$(PY) -m search index $(SOURCES) --index $(INDEX) $(if $(filter 1 yes true,$(FULL)),--full) $(if $(filter 1 yes true,$(ALLOW_EMPTY)),--allow-empty) $(if $(filter 1 yes true,$(FORCE)),--force) $(if $(filter 1 yes true,$(FOLLOW_LINKS)),--follow-links) || [ $$? -eq 3 ]

# Merge the index's segments as the merge policy says; ALL=1 merges them into one.
merge: install
	$(PY) -m search merge --index $(INDEX) $(if $(filter 1 yes true,$(ALL)),--all)

# `make run` updates the index first only when it is missing or a source
# changed since the last time it did: a file or folder under SOURCES newer
# than the stamp beside the index (an edit, a file added, renamed or
# deleted), or other SOURCES than then.  A second `make run` serves at once.
# `make index` always updates.
INDEX_STAMP = $(dir $(patsubst %/,%,$(INDEX))).$(notdir $(patsubst %/,%,$(INDEX))).made
INDEX_STALE = $(shell [ -e '$(INDEX)/current' ] \
	&& [ "$$(cat '$(INDEX_STAMP)' 2>/dev/null)" = '$(SOURCES)' ] \
	&& [ -z "$$(find $(SOURCES) -newer '$(INDEX_STAMP)' -print -quit 2>/dev/null)" ] \
	|| echo stale)

run: $(if $(INDEX_STALE),stamped-index) serve

# The stamp is made before the update starts, so that a source changed while
# it runs is read by the next `make run`.
stamped-index:
	echo '$(SOURCES)' > '$(INDEX_STAMP).next'
	$(MAKE) --no-print-directory index
	mv '$(INDEX_STAMP).next' '$(INDEX_STAMP)'

serve: install
	$(PY) -m search serve --index $(INDEX) --host $(HOST) --port $(PORT)

# Flask's debug server, with reloading: for development only.
dev: install
	SEARCH_INDEX=$(INDEX) $(VENV)/bin/flask --app webui:create_app run --debug --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

# The benchmark's extra (bench.tantivy_peer's tantivy and rjieba), apart from
# `make install` so that the tests and CI do without it.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[bench]'
	touch $@

bench: install $(VENV)/.bench-installed
	$(PY) -m bench.run $(BENCH_ARGS)

# Build and queries at 50,000, 332,878 and 1,000,000 documents, with growth
# exponents and where this machine stops (bench/curve.py; BENCHMARKS.md, "The curve").
.PHONY: bench-curve
bench-curve: install
	nice -n 5 $(PY) -m bench.curve $(CURVE_ARGS)

# Relevance (relevance-dev), then regions (regional-dev, beside a conventional build),
# then pinyin typed with typos (on the seeds, or TYPOS_INDEX=path).
eval: install
	$(PY) -m search.eval $(EVAL_ARGS)
	$(PY) -m bench.regional
	$(PY) -m bench.pinyin_typos $(if $(TYPOS_INDEX),--index $(TYPOS_INDEX))

clean:
	rm -rf $(INDEX) '$(INDEX_STAMP)' .pytest_cache tests/screenshots

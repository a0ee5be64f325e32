# Unrolled: one-command setup, run and test.
#   make run    start the app on http://127.0.0.1:8501
#   make test   install what is missing (and requirements-test.txt: Ray), then run the whole test suite
# pip is configured with find-links=/opt/wheels here, so torch==2.13.0 resolves to the local CPU wheel.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp
TEST_STAMP := $(VENV)/.stamp-test
CHROMIUM := /usr/bin/chromium

.PHONY: venv run dev test test-fast browser lint

venv: $(STAMP)

# Installs a requirements file. pip compiles every installed module to bytecode on one core; compileall does it on
# all of them (a fresh install: 99 s instead of 124 s on two cores). Its status is ignored: bytecode is only a cache,
# and a few of torch's test files use newer syntax than this Python and never compile (pip skips them the same way).
install = $(PY) -m pip install --disable-pip-version-check -q --no-compile -r $(1) && \
	{ $(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null 2>&1 || true; }

# The stamp is newer than requirements.txt once the pinned set is installed, so re-runs are instant.
$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(call install,requirements.txt)
	@touch $(STAMP)

# The test suite's extras (Ray, for the sweep tests' ray backend) on top of the app's pinned set.
$(TEST_STAMP): $(STAMP) requirements-test.txt
	$(call install,requirements-test.txt)
	@touch $(TEST_STAMP)

# No file watcher: a person using the app edits no source, and the default watcher puts an inotify watch on every
# folder under the repo, .venv's ~5,000 included (folderWatchBlacklist filters reloads, not watches), which
# overflows the inotify queue (thousands of "Inotify queue overflowed" lines).
run: venv
	$(VENV)/bin/streamlit run streamlit_app.py --server.address 127.0.0.1 --server.port 8501 \
		--server.fileWatcherType none

# For editing the app: reload on save. The poll watcher stats only the app's own module files (a few hundred,
# folderWatchBlacklist in .streamlit/config.toml keeps .venv's out), where inotify would watch every folder.
dev: venv
	$(VENV)/bin/streamlit run streamlit_app.py --server.address 127.0.0.1 --server.port 8501 --server.runOnSave true \
		--server.fileWatcherType poll

# Two passes keep the whole run under 20 minutes on two cores. First every test but the "quiet" ones, in two worker
# processes: the browser tests one after another in one of them (one app server and one chromium at a time), the
# rest beside them. Then the quiet tests, which measure response times (Stop in every phase, a fresh session, 20
# sessions at once), alone. Both passes always run; the slowest tests are listed after each.
test: venv $(TEST_STAMP) browser
	@status=0; \
	$(PY) -m pytest -m "not quiet" -n 2 --dist loadfile --durations=20 || status=$$?; \
	$(PY) -m pytest -m quiet --durations=5 || status=$$?; \
	exit $$status

# Everything but the browser and slow tests (every test over ~5 s is marked slow), in two worker processes: the
# quick check while working.
test-fast: venv $(TEST_STAMP)
	$(PY) -m pytest -m "not browser and not slow" -q -n 2 --dist loadfile

# Browser tests drive Debian's chromium through Playwright (no browser download needed).
browser:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = "0" ]; then \
		echo "Installing chromium (apt-get)..."; \
		apt-get update && apt-get install -y chromium; \
	fi
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$${CI:-}" = "true" ]; then \
			echo "ERROR: $(CHROMIUM) is missing and CI=true: browser tests cannot run. Install it with 'apt-get install -y chromium' (as root)." >&2; \
			exit 1; \
		else \
			echo "WARNING: $(CHROMIUM) not found; browser tests will be skipped. Install it with 'sudo apt-get install -y chromium'." >&2; \
		fi; \
	fi

# ruff (rules in pyproject.toml) and mypy over rnn_core and app (settings in pyproject.toml).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

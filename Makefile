# ReflexArc: `make demo` and `make test` work on a fresh machine; everything else builds on them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROTO_SRC := $(wildcard protos/reflexarc/v1/*.proto)

.PHONY: setup demo test bench proto lint clean system-deps

setup: $(STAMP) system-deps

# Reinstall only when the dependency declaration changes, so a second `make test` is quick.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# espeak-ng and sox synthesise test utterances; they come from Debian, not PyPI.
system-deps:
	@missing=""; for tool in espeak-ng sox; do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null) \
	      || { echo "error: apt-get install$$missing failed"; exit 1; }; \
	  else \
	    echo "error: missing$$missing; install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

demo: setup
	$(VENV)/bin/reflexarc demo fetch-cup --voice

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) -m reflexarc.bench_report

proto: $(STAMP)
	$(PY) -m reflexarc.protogen

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

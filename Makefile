# The two set-up commands: `make run` and `make test`. Each creates the
# project virtual environment on first use and reuses it afterwards.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench bench-etl bench-quality bench-functions clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m etl_job local

test: $(STAMP)
	$(PY) -m pytest -q

bench: bench-etl bench-quality bench-functions

bench-etl: $(STAMP)
	$(PY) bench/etl_bench.py

bench-quality: $(STAMP)
	$(PY) bench/ratings_small_quality.py

clean:
	rm -rf .local .pytest_cache

bench-functions: $(STAMP)
	$(PY) bench/functions_bench.py

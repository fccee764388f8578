# The two set-up commands: `make run` and `make test`. Each creates the
# project virtual environment on first use and reuses it afterwards.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
CDK_CLI := infra/node_modules/.bin/cdk
# jsii (the CDK's Python bridge) warns on every call that this machine's Node 20 is past end of life.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: run test spark-deps lint mutation layers synth bench bench-etl bench-scale bench-engines bench-spark-als bench-quality bench-topn bench-functions bench-movies bench-similar fuzz load audit clean

# What the local run needs (requirements.txt), then what the tests, the CDK app and the audits add. uv
# installs them: about 6 s for the run's requirements on a fresh machine, where pip takes about 40 s. The
# repository itself goes on the environment's path through a .pth file (what an editable install amounts to,
# without building one).
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
UV_INSTALL := $(UV) pip install --quiet --python $(PY)

$(STAMP): requirements.txt etl_job/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --quiet uv==$(UV_VERSION)
	$(UV_INSTALL) --upgrade pip -r requirements.txt
	$(PY) -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "streamlens.pth").write_text(sys.argv[1] + "\n")' "$(CURDIR)"
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(UV_INSTALL) -r requirements-dev.txt
	touch $(DEV_STAMP)

# The Spark engine's requirements (python -m etl_job run --engine spark and tests/spark): never needed by `make run`.
SPARK_STAMP := $(VENV)/.installed-spark
$(SPARK_STAMP): $(DEV_STAMP) requirements-spark.txt
	$(UV_INSTALL) -r requirements-spark.txt
	touch $(SPARK_STAMP)

spark-deps: $(SPARK_STAMP)

$(CDK_CLI): infra/package.json infra/package-lock.json
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	touch $(CDK_CLI)

run: $(STAMP)
	$(PY) -m local_run

# The suite on TEST_WORKERS processes (pytest-xdist), whole test files to each so that a module's release is
# built once; two workers fit the two cores CI has (TEST_WORKERS=0 runs it in this process). Then, alone on
# the machine, the tests marked `alone` (the load test), without coverage's tracing.
TEST_WORKERS ?= 2
test: $(DEV_STAMP) $(CDK_CLI)
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not alone"
	$(PY) -m pytest -q -m alone --no-cov

layers: $(STAMP)
	$(PY) layers/build.py

synth: layers $(DEV_STAMP) $(CDK_CLI)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(CDK_CLI) synth --quiet $(if $(STAGE),-c stage=$(STAGE))

bench: bench-etl bench-quality bench-topn bench-functions bench-movies bench-similar

bench-etl: $(STAMP)
	$(PY) bench/etl_bench.py

bench-scale: $(STAMP)
	$(PY) bench/etl_scale.py

bench-engines: $(SPARK_STAMP)
	$(PY) bench/engines.py

bench-spark-als: $(SPARK_STAMP)
	$(PY) bench/spark_als.py

bench-quality: $(STAMP)
	$(PY) bench/ratings_small_quality.py

bench-topn: $(STAMP)
	$(PY) bench/topn_eval.py

clean:
	rm -rf .local .pytest_cache cdk.out layers/build

bench-functions: $(DEV_STAMP)
	$(PY) bench/functions_bench.py

bench-movies: $(STAMP)
	$(PY) bench/movies_bench.py

bench-similar: $(STAMP)
	$(PY) bench/similar_weights.py

audit: $(DEV_STAMP)
	$(PY) .ci/audit.py

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

mutation: $(DEV_STAMP)
	$(PY) -m mutmut run --max-children 2
	$(PY) -m mutmut results

fuzz: $(DEV_STAMP)
	STREAMLENS_FUZZ_EXAMPLES=$${EXAMPLES:-500} $(PY) -m pytest -q tests/integration/test_fuzz.py -p no:cacheprovider

load: $(DEV_STAMP)
	$(PY) bench/load_test.py

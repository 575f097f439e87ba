# Switchboard: every target bootstraps .venv from requirements.lock first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV_VERSION := 0.13.9

# No telemetry, no network beyond the package registries; Prefect in local mode.
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export UV_PYTHON_DOWNLOADS := never
export PREFECT_HOME := $(CURDIR)/.prefect

.PHONY: demo test test-fast test-spark spark-setup bench lint lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --compile-bytecode requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)  ## generate the demo org, route it end to end, print the summary
	$(BIN)/switchboard demo

# Two workers (this machine's two cores); whole files per worker, so module fixtures that
# build a warehouse are built once.
PYTEST_WORKERS ?= 2
LINT_PY := switchboard flows tests bench

test: $(STAMP)  ## the whole suite (unit, dbt, e2e)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not spark"

test-fast: $(STAMP)  ## unit tests that build no warehouse with dbt
	$(BIN)/python -m pytest -m "not e2e and not slow and not dbt and not spark"

# The Spark target (docs/OPERATIONS.md "Past one machine"): pyspark and dbt-spark from
# requirements-spark.lock (the same pins as requirements.lock plus the Spark packages) and
# a headless Java runtime from the OS packages, which needs root.
SPARK_STAMP := $(VENV)/.spark-installed
JAVA_PACKAGE := openjdk-17-jre-headless

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	@if ! command -v java >/dev/null 2>&1; then \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "spark-setup: Java 17 or later is needed and 'java' is not on PATH." >&2; \
	    echo "  Installing it needs root: sudo apt-get install -y $(JAVA_PACKAGE)" >&2; \
	    echo "  (or any JDK/JRE 17+), then run 'make spark-setup' again." >&2; \
	    exit 1; \
	  fi; \
	  echo "spark-setup: installing $(JAVA_PACKAGE) from the OS packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(JAVA_PACKAGE); \
	fi
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements-spark.lock
	@touch $(SPARK_STAMP)

spark-setup: $(SPARK_STAMP)  ## Java and the Spark extras (pyspark, dbt-spark[session])

test-spark: $(SPARK_STAMP)  ## the Spark target's tests (local SparkSession, no cluster)
	$(BIN)/python -m pytest -m spark

bench: $(STAMP)  ## scale scenarios; writes bench/RESULTS.md
	$(BIN)/python bench/run.py

# The same checks .pre-commit-config.yaml runs; .ci/run runs this before the tests.
lint: $(STAMP)  ## ruff (check and format), sqlfluff on the dbt project, mypy
	$(BIN)/ruff check $(LINT_PY)
	$(BIN)/ruff format --check $(LINT_PY)
	cd dbt_project && ../$(BIN)/sqlfluff lint models snapshots tests
	$(BIN)/mypy switchboard flows

lock:  ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python $(BIN)/python -o requirements.lock --no-header
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark -c requirements.lock \
		--python $(BIN)/python -o requirements-spark.lock --no-header

clean:
	rm -rf $(VENV) .prefect warehouse.duckdb outbox demo_org dbt_project/target dbt_project/logs \
		build dist switchboard.egg-info

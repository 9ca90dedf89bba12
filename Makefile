# The one interface for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DBT_MANIFEST := dbt_project/target/manifest.json
# dbt for the Spark target, in a virtualenv of its own (pyproject.toml says why); same pins (requirements.lock)
SPARK_VENV := .venv-spark
SPARK_STAMP := $(SPARK_VENV)/.installed
# DuckDB 1.5.0 beside the pinned one: the tests open the published BI file with it (what BI connectors bundle).
DUCKDB_15 := $(VENV)/duckdb-1.5.0
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# Demo data parameters (make run): province 19 = Kepulauan Bangka Belitung, 12 months.
PROVINSI ?= 19
BULAN    ?= 2024-01..2024-12
SEED     ?= 7

export DAGSTER_HOME := $(CURDIR)/dagster_home
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)/dbt_project
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := 1

DBT_SOURCES := $(shell find dbt_project -path dbt_project/target -prune -o -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' -o -name '*.md' \) -print 2>/dev/null)

.PHONY: help install run demo-data test dev lint bench clean postgres-server spark-env java browser docs

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) $(DBT_MANIFEST) ## Create the virtualenv and install pinned dependencies (only when they changed)

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

$(DBT_MANIFEST): $(STAMP) $(DBT_SOURCES)
	cd dbt_project && KKB_WAREHOUSE_DIR=$(CURDIR)/warehouse ../$(BIN)/dbt parse --quiet --no-partial-parse --profiles-dir .  # partial parsing misses selectors.yml
	@touch $@

demo-data: $(STAMP) ## Generate the demo source files into raw/ (only if raw/ is empty)
	$(BIN)/kkb synth --if-empty --provinsi $(PROVINSI) --bulan $(BULAN) --seed $(SEED)

run: install demo-data ## Install, generate the demo data, run the whole pipeline, print a summary
	$(BIN)/kkb run --demo-key-if-generated

test: install spark-env postgres-server java browser $(DUCKDB_15)/.installed ## Run the test suite
	$(BIN)/python -m pytest -q

postgres-server: ## Install Debian's PostgreSQL server when missing (tests start their own throwaway cluster)
	@if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then echo "PostgreSQL server: present"; else \
	  echo "PostgreSQL server: installing Debian's postgresql package"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql; fi

spark-env: $(SPARK_STAMP) ## The virtualenv with dbt-spark and pyspark, for `kkb dbt --target spark` (.venv-spark)

$(SPARK_STAMP): requirements.lock
	@test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(SPARK_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
	  dbt-core 'dbt-spark[session]' pyspark
	@touch $@

java: ## Install Debian's Java 17 when missing (pyspark runs the dbt project's Spark target on it, in local mode)
	@if command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then echo "java: present"; else \
	  echo "java: installing Debian's openjdk-17-jre-headless"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; fi

browser: ## Install Debian's chromium when missing (the browser tests drive it; Playwright downloads nothing)
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: present"; else \
	  echo "chromium: installing Debian's chromium package"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; fi

$(DUCKDB_15)/.installed: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --upgrade --target $(DUCKDB_15) duckdb==1.5.0
	@touch $@

# dbt on PATH: under `dagster dev`, dagster-dbt re-parses the project with the `dbt` it finds on PATH
dev: install ## Start the Dagster UI and daemon (schedules, sensors) on http://127.0.0.1:3000
	@if [ -z "$$KKB_PII_KEY" ] && [ -f raw/ground_truth.json ]; then \
	  echo "KKB_PII_KEY is not set and raw/ holds the generated demo data: runs use the PUBLIC demo key"; \
	  export KKB_DEMO=1; fi; \
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

docs: install ## Build the dbt docs site and the Data Docs index into warehouse/docs/ (offline; after make run)
	$(BIN)/kkb docs

SCALE ?= province
bench: install ## Time every stage at SCALE=province|tenth|national; writes warehouse/bench/<scale>.json and .md
	$(BIN)/kkb bench --scale $(SCALE)

lint: install ## ruff (Python), sqlfluff (dbt SQL), mypy (pipelines/)
	$(BIN)/ruff check pipelines tests
	$(BIN)/ruff format --check pipelines tests
	$(BIN)/sqlfluff lint dbt_project/models
	$(BIN)/mypy pipelines

clean: ## Remove generated data, the warehouse and run history (keeps the virtualenv)
	rm -rf warehouse/kampung_kb.duckdb* warehouse/landing warehouse/quarantine warehouse/reference warehouse/.staging \
	  warehouse/bi warehouse/data_docs warehouse/spark
	find raw -mindepth 1 ! -name README.md -delete
	find dagster_home -mindepth 1 ! -name dagster.yaml -delete

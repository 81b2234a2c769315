# Set-up and entry points. `make demo` and `make test` work on a fresh machine: they
# install the system packages they need that are missing (scripts/system-packages.sh:
# Java; for the tests also Chromium, its driver and a CJK font; root or sudo), create
# .venv from requirements.lock (every package pinned, with hashes) and the Airflow
# metadata DB with its `spark` pool.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export AIRFLOW_HOME := $(CURDIR)
export SPARK_LOCAL_IP := 127.0.0.1
export GX_ANALYTICS_ENABLED := false
export PYTHONUNBUFFERED := 1

DEMO_DIR ?= $(CURDIR)/demo
DEMO_PERSONS ?= 3000
DEMO_SEED ?= 7
DEMO_BASELINE ?= 2026-03-02
DEMO_DAYS ?= 5

.PHONY: venv system-demo system-test airflow-db demo test test-fast lint serve evaluate test-stack bench model-demo cluster-demo clean airflow-up airflow-down airflow-status airflow-env backfill

UV_VERSION := 0.13.9

venv: $(VENV)/.installed

system-demo:
	@scripts/system-packages.sh demo

system-test:
	@scripts/system-packages.sh test

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode --require-hashes -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	# pyspark is a source distribution: each time the registry calls uv's copy stale, uv
	# downloads and builds it into a new entry of its shared cache (1.4 GB) and keeps the
	# old one. Every fresh clone's install added one until the disk was full (stop 34,
	# 67 GiB). Prune drops the entries nothing refers to; this venv's files are its own.
	$(BIN)/uv cache prune --quiet
	$(BIN)/python -c "import pyspark, sys; v = pyspark.__version__; sys.exit(0 if v.startswith('4.3') else f'pyspark {v} installed, 4.3 expected')"
	touch $@

airflow-db: $(VENV)/.installed
	$(BIN)/airflow db migrate > /dev/null
	$(BIN)/fraudctl --log-level WARNING airflow pool

demo: system-demo airflow-db
	rm -rf $(DEMO_DIR)
	$(BIN)/fraudctl synth --out $(DEMO_DIR)/landing --persons $(DEMO_PERSONS) --seed $(DEMO_SEED) \
		--baseline $(DEMO_BASELINE) --days $(DEMO_DAYS)
	ds=$$($(BIN)/python -c "import json; print(json.load(open('$(DEMO_DIR)/landing/_truth/truth.json'))['final_date'])"); \
	FRAUD_LANDING=$(DEMO_DIR)/landing FRAUD_WAREHOUSE=$(DEMO_DIR)/warehouse FRAUD_TASK_RETRIES=0 FRAUD_LATE_AFTER=0 \
		$(BIN)/airflow dags test fraud_nightly $$ds > $(DEMO_DIR)/airflow-dags-test.log 2>&1 \
		|| { tail -40 $(DEMO_DIR)/airflow-dags-test.log; exit 1; }; \
	echo "fraud_nightly ran for $$ds (log: $(DEMO_DIR)/airflow-dags-test.log)"; \
	echo "outputs:    $(DEMO_DIR)/warehouse/outputs/$$ds/"; \
	echo "manifest:   $(DEMO_DIR)/warehouse/outputs/$$ds/run_manifest.json"; \
	echo "quarantine: $(DEMO_DIR)/warehouse/quarantine/"; \
	echo "data docs:  $(DEMO_DIR)/warehouse/runs/$$ds/data_docs/"; \
	ls $(DEMO_DIR)/warehouse/outputs/$$ds/; \
	echo; echo "against the generator's truth (fraudctl evaluate):"; \
	$(BIN)/fraudctl --log-level WARNING evaluate --truth $(DEMO_DIR)/landing \
		--outputs $(DEMO_DIR)/warehouse/outputs/$$ds --json $(DEMO_DIR)/evaluation.json; \
	echo; echo "the report, to open first: $(DEMO_DIR)/warehouse/outputs/$$ds/report/index.html"

# The workbench's tests also run on PostgreSQL (installed by system-test): required here.
# The 25 slowest tests are listed at the end: where the suite's time goes.
# TEST_WORKERS processes share the tests a module at a time (pytest-xdist, loadfile), each
# with its own Spark session (a heap of up to 6 GiB) and at times a pipeline run in a
# subprocess (4 GiB more): 2 fit this 2-core, 24 GiB machine, and 3 were slower
# (docs/decisions.md); TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= 2
TEST_PARALLEL := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
test: system-test airflow-db lint
	FRAUD_TEST_POSTGRES=required $(BIN)/pytest -q $(TEST_PARALLEL) --durations=25

# The pure functions alone: no JVM (Java is made unreachable), no PostgreSQL, no
# browser (tests/conftest.py marks the tests that need them `jvm` or `services`).
test-fast: airflow-db
	FRAUD_TEST_TIER=fast $(BIN)/pytest -q $(TEST_PARALLEL) -m 'not jvm and not services and not stack'

# Ruff's linter and formatter (pyproject.toml) and the import layers of
# docs/ARCHITECTURE.md (import-linter; tests/test_architecture.py shows it catching an
# import that points up).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

# The backfill of three nights through the real scheduler, with login and notifications
# (tests/ops/test_stack.py); left out of `make test` for its length.
test-stack: system-demo airflow-db
	$(BIN)/pytest -q -m stack tests/ops/test_stack.py

# The investigators' workbench on the demo's warehouse (docs/workbench.md). The first time,
# one demo user per role is added with a random password, printed here once.
serve: venv
	@test -d $(DEMO_DIR)/warehouse/outputs || { echo "no demo warehouse: run make demo first" >&2; exit 2; }
	@if ! $(BIN)/fraudctl --log-level WARNING users list --warehouse $(DEMO_DIR)/warehouse | grep -q .; then \
		for role in investigator supervisor auditor; do \
			password=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(12))"); \
			echo "$$password" | $(BIN)/fraudctl --log-level WARNING users add demo-$$role --role $$role \
				--warehouse $(DEMO_DIR)/warehouse > /dev/null; \
			echo "demo user demo-$$role, password $$password"; \
		done; \
	fi
	$(BIN)/fraudctl --log-level WARNING serve --warehouse $(DEMO_DIR)/warehouse

# The model lifecycle on generated data: rules-only night, champion, promotion, a refused
# challenger, a re-run of an old night with its pinned model, and the evaluation of
# rules alone / model alone / combined (scripts/model_lifecycle.sh).
MODEL_DEMO_DIR ?= $(CURDIR)/demo-model
MODEL_DEMO_PERSONS ?= 20000
MODEL_DEMO_SEED ?= 123
model-demo: system-demo airflow-db
	set -o pipefail; BIN=$(BIN) bash scripts/model_lifecycle.sh $(MODEL_DEMO_DIR) $(MODEL_DEMO_PERSONS) $(MODEL_DEMO_SEED) \
		| tee $(MODEL_DEMO_DIR).log

# Issue #18's figures on both worlds: the project's generator and the holdout world
# written from the contract alone (simulation/holdout), EVAL_PERSONS each, one night run
# on the final drop date of each; prints them side by side (fraudctl evaluate).
EVAL_DIR ?= $(CURDIR)/eval
EVAL_PERSONS ?= 20000
EVAL_SEED ?= 1
evaluate: system-demo venv
	set -e; for world in synth holdout; do \
		rm -rf $(EVAL_DIR)/$$world; \
		$(BIN)/fraudctl synth --generator $$world --out $(EVAL_DIR)/$$world/landing --persons $(EVAL_PERSONS) \
			--seed $(EVAL_SEED) --baseline $(DEMO_BASELINE) --days $(DEMO_DAYS) --no-progress; \
		ds=$$($(BIN)/python -c "import json; print(json.load(open('$(EVAL_DIR)/'+'$$world'+'/landing/_truth/truth.json'))['final_date'])"); \
		$(BIN)/fraudctl --log-level WARNING run --landing $(EVAL_DIR)/$$world/landing \
			--warehouse $(EVAL_DIR)/$$world/warehouse --ds $$ds --no-progress; \
		echo "$(EVAL_DIR)/$$world/warehouse/outputs/$$ds" > $(EVAL_DIR)/$$world/outputs.path; \
	done; \
	$(BIN)/fraudctl --log-level WARNING evaluate \
		--name synth --truth $(EVAL_DIR)/synth/landing --outputs $$(cat $(EVAL_DIR)/synth/outputs.path) \
		--name holdout --truth $(EVAL_DIR)/holdout/landing --outputs $$(cat $(EVAL_DIR)/holdout/outputs.path) \
		--json $(EVAL_DIR)/evaluation.json | tee $(EVAL_DIR)/evaluation.txt

# Long measurements live here, never in the timed test suite. The pipeline at each of
# BENCH_SIZES persons (bench/results.md), then connected components (bench/components.txt),
# then what a Spark job and a Py4J call cost here (bench/spark_costs.txt).
BENCH_SIZES ?= 10000 100000 300000
BENCH_NIGHTLY_AT ?=
COMPONENT_SIZES ?= 10000 100000 1000000
bench: system-demo venv
	$(BIN)/python bench/pipeline_bench.py --sizes $(BENCH_SIZES) $(if $(BENCH_NIGHTLY_AT),--nightly-at $(BENCH_NIGHTLY_AT))
	$(BIN)/python bench/components_bench.py --sizes $(COMPONENT_SIZES) | tee bench/components.txt
	$(BIN)/python bench/spark_costs.py | tee bench/spark_costs.txt

# The demo on a Spark standalone cluster (a master and two workers on loopback), by
# configuration alone; prints the evidence that the work ran on the workers.
cluster-demo: system-demo airflow-db
	scripts/cluster-demo.sh

# The Airflow stack (scheduler, DAG processor, API server) on loopback; docs/operations.md "The Airflow stack".
airflow-up: airflow-db
	$(BIN)/fraudctl airflow up

airflow-down:
	$(BIN)/fraudctl airflow down

airflow-status:
	$(BIN)/fraudctl airflow status

airflow-env:
	@$(BIN)/fraudctl airflow env

# make backfill FROM=2026-03-03 TO=2026-03-05: one run per night (23:00 KST), in date order.
backfill:
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make backfill FROM=YYYY-MM-DD TO=YYYY-MM-DD" >&2; exit 2; }
	eval "$$($(BIN)/fraudctl airflow env)" && $(BIN)/airflow backfill create --dag-id fraud_nightly \
		--from-date $(FROM)T23:00:00+09:00 --to-date $(TO)T23:00:00+09:00 --max-active-runs 1

clean:
	rm -rf $(DEMO_DIR) $(MODEL_DEMO_DIR) $(EVAL_DIR) logs airflow.db .pytest_cache .cluster

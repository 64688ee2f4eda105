# chromoflow — developer entry points. Every target sets up what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-out
# Nextflow: the one on PATH if any, else a pinned one from Maven Central in .tools/.
NEXTFLOW := $(or $(shell command -v nextflow 2>/dev/null),$(BIN)/nextflow)
# The newest Nextflow on Maven Central, for the strict-syntax run, and the newest working linter.
NEXTFLOW_STRICT := $(BIN)/nextflow-strict
NEXTFLOW_LINT   := $(BIN)/nextflow-lint
# nf-core tools and MultiQC in a venv of their own (their dependencies are not chromoflow's), outside
# the repository: nf-core's pipeline lint reads every file under it, its own templates included.
NFCORE_VENV ?= $(HOME)/.cache/chromoflow/venv-nfcore
NFCORE      := $(NFCORE_VENV)/.installed

.PHONY: setup lint test test-fast demo bench clean

setup: $(STAMP) $(NEXTFLOW) $(NEXTFLOW_STRICT) $(NEXTFLOW_LINT) $(NFCORE)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

$(BIN)/nextflow: tools/nextflow/pom.xml tools/nextflow/install.sh | $(STAMP)
	tools/nextflow/install.sh .tools/nextflow $(BIN)

$(NEXTFLOW_STRICT): tools/nextflow-strict/pom.xml tools/nextflow/install.sh
	tools/nextflow/install.sh .tools/nextflow-strict $(BIN) tools/nextflow-strict nextflow-strict

$(NEXTFLOW_LINT): tools/nextflow-lint/pom.xml tools/nextflow/install.sh
	tools/nextflow/install.sh .tools/nextflow-lint $(BIN) tools/nextflow-lint nextflow-lint

$(NFCORE): tools/nfcore-requirements.txt
	$(PYTHON) -m venv $(NFCORE_VENV)
	$(NFCORE_VENV)/bin/pip install --quiet --upgrade pip
	$(NFCORE_VENV)/bin/pip install --quiet -r tools/nfcore-requirements.txt
	touch $(NFCORE)

# ruff's checks and formatting (configured in pyproject.toml); the first thing CI runs.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Unit and CLI tests that start no Nextflow engine and train no model end to end: minutes, not half an hour.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not nextflow"

# Every test: lint, unit and CLI tests, the pipeline on the pinned Nextflow, each module's stub, the test
# profile under the strict parser on the newest Nextflow, nextflow lint, nf-core's schema and pipeline lints, MultiQC.
test: lint setup
	PATH="$(CURDIR)/$(BIN):$$PATH" CHROMOFLOW_REQUIRE_NEXTFLOW=1 \
		CHROMOFLOW_NEXTFLOW_STRICT="$(CURDIR)/$(NEXTFLOW_STRICT)" CHROMOFLOW_NEXTFLOW_LINT="$(CURDIR)/$(NEXTFLOW_LINT)" \
		CHROMOFLOW_NFCORE_BIN="$(NFCORE_VENV)/bin" $(BIN)/pytest -q --durations=20

# The science in one command: simulate a 2,000-gene cell-type pair with planted
# enhancers, then the pipeline (4 models, regression, held-out fold 1 of each
# sample, in-silico knockouts, report) in $(DEMO)/; open $(DEMO)/summary/report.html.
demo: setup $(DEMO)/data/samplesheet.csv
	PATH="$(CURDIR)/$(BIN):$$PATH" $(NEXTFLOW) run . -profile demo --outdir $(DEMO) \
		--input $(DEMO)/data/samplesheet.csv --genes $(DEMO)/data/genes.gtf --truth $(DEMO)/data/interactions.bedpe

$(DEMO)/data/samplesheet.csv: | $(STAMP)
	$(BIN)/chromoflow simulate --genes 2000 --seed 1 --no-cool -o $(DEMO)/data

bench: setup
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/python benchmarks/bench_dataset.py
	$(BIN)/python benchmarks/bench_pcres.py
	$(BIN)/python benchmarks/bench_train.py

clean:
	rm -rf $(DEMO) results results-test results-test-real work .nextflow .nextflow.log* benchmarks/out .pytest_cache

# chromoflow — developer entry points. Every target sets up what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-out
# Nextflow: the one on PATH if any, else a pinned one from Maven Central in .tools/.
NEXTFLOW := $(or $(shell command -v nextflow 2>/dev/null),$(BIN)/nextflow)

.PHONY: setup test demo bench clean

setup: $(STAMP) $(NEXTFLOW)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

$(BIN)/nextflow: tools/nextflow/pom.xml tools/nextflow/install.sh | $(STAMP)
	tools/nextflow/install.sh .tools/nextflow $(BIN)

test: setup
	PATH="$(CURDIR)/$(BIN):$$PATH" CHROMOFLOW_REQUIRE_NEXTFLOW=1 $(BIN)/pytest -q

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

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
# The runtime image, built here from this repository (no registry needed), outside the checkout:
# a folder (Charliecloud) and the same root as an Apptainer/Singularity image file. The pipeline's
# charliecloud, apptainer and singularity profiles use these paths by default.
VERSION          := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
CHROMOFLOW_IMAGES ?= $(HOME)/.cache/chromoflow/images
IMAGE            := $(CHROMOFLOW_IMAGES)/chromoflow-$(VERSION)
SIF              := $(CHROMOFLOW_IMAGES)/chromoflow-$(VERSION).sif
APPTAINER_PREFIX ?= $(HOME)/.cache/chromoflow/apptainer-1.4.1

.PHONY: setup lint test test-fast demo bench clean hpc-tools apptainer image sif

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

# Debian packages for the container and cluster tests: Slurm + munge, Charliecloud, debootstrap, Podman,
# Apptainer's build dependencies (root; does nothing when they are installed).
hpc-tools:
	tools/hpc-tools.sh

# Apptainer 1.4.1 from source (the Go module proxy), linked into .venv/bin; a site's Apptainer >= 1.4 on
# PATH is linked instead. Skip it where your site provides Apptainer or Singularity.
apptainer: hpc-tools | $(STAMP)
	tools/apptainer/install.sh $(APPTAINER_PREFIX) $(BIN)

# The runtime image as a folder: debootstrap bookworm + containers/install.sh (rebuilt when the recipe,
# constraints or src/ change). Needs root.
image: hpc-tools
	containers/build-root.sh $(IMAGE)

# The same image as a SIF for -profile apptainer/singularity.
sif: image apptainer
	PATH="$(CURDIR)/$(BIN):$$PATH" containers/build-sif.sh $(IMAGE) $(SIF)

# ruff's checks and formatting (configured in pyproject.toml); the first thing CI runs.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Unit and CLI tests that start no Nextflow engine and train no model end to end: minutes, not half an hour.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow and not nextflow"

# Every test: lint, unit and CLI tests, the pipeline on the pinned Nextflow, each module's stub, the test
# profile under the strict parser on the newest Nextflow, nextflow lint, nf-core's schema and pipeline lints, MultiQC;
# the test profile in the image (Charliecloud, Apptainer, Singularity) and on a real one-node Slurm.
test: lint setup sif
	PATH="$(CURDIR)/$(BIN):$$PATH" CHROMOFLOW_REQUIRE_NEXTFLOW=1 CHROMOFLOW_REQUIRE_HPC=1 \
		CHROMOFLOW_IMAGE="$(IMAGE)" CHROMOFLOW_SIF="$(SIF)" \
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

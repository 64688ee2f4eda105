# chromoflow — developer entry points. Every target sets up what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= demo-out

.PHONY: setup test demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

test: setup
	$(BIN)/pytest -q

# The main job on bundled synthetic data: simulate a cell-type pair, find pCREs
# in its Hi-C map, and build both samples' datasets.
demo: setup
	$(BIN)/chromoflow simulate --genes 1000 --seed 0 -o $(DEMO)/sim
	$(BIN)/chromoflow genes --gtf $(DEMO)/sim/genes.gtf --gene-type protein_coding -o $(DEMO)/genes.tsv
	$(BIN)/chromoflow pcres --genes $(DEMO)/genes.tsv --contacts $(DEMO)/sim/contacts.mcool::resolutions/5000 --max-distance 1000000 -o $(DEMO)/pcres.tsv
	for s in cellA cellB; do \
	  $(BIN)/chromoflow dataset --sample $$s --genes $(DEMO)/genes.tsv --pcres $(DEMO)/pcres.tsv \
	    $$(for m in H3K4me1 H3K4me3 H3K9me3 H3K27me3 H3K36me3 H3K27ac H3K9ac; do printf -- '--track %s=%s ' $$m $(DEMO)/sim/$$s-$$m.bw; done) \
	    --expression $(DEMO)/sim/expression.tsv -o $(DEMO)/$$s.h5 || exit 1; \
	done

bench: setup
	$(BIN)/python benchmarks/bench_dataset.py

clean:
	rm -rf $(DEMO) benchmarks/out .pytest_cache

"""Every lab's files: DeepChrome/AttentiveChrome binned CSVs, other genomes end to end, browser tracks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chromoflow.data.dataset import GeneDataset
from chromoflow.errors import ChromoflowError
from chromoflow.prep.binned import BINNED_MARKS, import_binned

from conftest import run

EXTERNAL = Path(__file__).parent / "data" / "external"
TOY = EXTERNAL / "attentivechrome_toy_test.csv"


def test_real_attentivechrome_csv_equals_an_independent_parse(tmp_path):
    """The real AttentiveChrome toy test set (4 genes x 100 bins x 5 marks) read into a dataset, values unchanged."""
    res = run("import-binned", "--csv", TOY, "--sample", "Toy", "-o", tmp_path / "toy.h5")
    assert res.exit_code == 0, res.output
    ds = GeneDataset.load(tmp_path / "toy.h5")
    raw = np.loadtxt(TOY, delimiter=",")
    genes = [str(int(g)) for g in raw[::100, 0]]
    assert ds.genes.gene_id.tolist() == genes and ds.marks == BINNED_MARKS
    np.testing.assert_array_equal(ds.promoter[100], raw[:, 2:7].reshape(4, 100, 5).astype(np.float32))
    assert ds.genes.label.tolist() == raw[::100, 7].astype(int).tolist() == [0, 1, 0, 1]
    assert ds.bin_sizes == [100] and ds.window == 10_000 and (ds.genes.fold == 1).all()
    logged = tmp_path / "log.h5"
    assert run("import-binned", "--csv", TOY, "--transform", "log1p", "-o", logged).exit_code == 0
    np.testing.assert_allclose(GeneDataset.load(logged).promoter[100], np.log1p(raw[:, 2:7].reshape(4, 100, 5)), rtol=1e-6)


def export_binned(ds: GeneDataset, genes: np.ndarray, path: Path, marks) -> None:
    """A chromoflow dataset's central 100 bins of 100 bp as counts, in the DeepChrome/AttentiveChrome layout."""
    idx = [ds.marks.index(m) for m in marks]
    counts = np.round(np.expm1(ds.promoter[100][genes][:, 150:250][:, :, idx]) * 10)  # ln(1 + depth) back to read-like counts
    rows = []
    for k, g in enumerate(genes):
        for b in range(100):
            rows.append(",".join([ds.genes.gene_id.iat[g], str(b + 1), *map(str, counts[k, b].astype(int)), str(ds.genes.label.iat[g])]))
    path.write_text("\n".join(rows) + "\n")


def test_baselines_learn_from_imported_csvs_with_the_original_split(sim_datasets, tmp_path):
    ds = GeneDataset.load(sim_datasets["cellA"])
    rng = np.random.default_rng(0)
    order = rng.permutation(len(ds))
    parts = np.array_split(order, [int(0.6 * len(ds)), int(0.8 * len(ds))])
    for name, genes in zip(("train", "valid", "test"), parts):
        export_binned(ds, genes, tmp_path / f"{name}.csv", BINNED_MARKS)
    res = run("import-binned", *[a for n in ("train", "valid", "test") for a in ("--csv", tmp_path / f"{n}.csv")], "--transform", "log1p", "-o", tmp_path / "cellA.h5")
    assert res.exit_code == 0, res.output
    assert "fold 3 = test.csv" in res.output
    out = tmp_path / "run"
    res = run("train", "--dataset", tmp_path / "cellA.h5", "--model", "attentivechrome", "--task", "classification", "--fold", 3, "--val-fold", 2, "--config", "tiny", "-o", out)
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_heldout"] == len(parts[2]) and metrics["n_val"] == len(parts[1]) and metrics["n_train"] == len(parts[0])
    assert metrics["heldout"]["roc_auc"] > 0.75, metrics["heldout"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,1,0,0,0\n", "not a multiple of 100"),
        ("1,1,0,0,x,0\n" * 100, "column 5 must be a finite number, got 'x'"),
        ("".join(f"1,{b},0,0,0,2\n" for b in range(1, 101)), "label must be 0 or 1"),
        ("".join(f"1,{b if b != 7 else 9},0,0,0,1\n" for b in range(1, 101)), "expected bin 7 of gene '1'"),
        ("".join(f"1,{b},0,-1,0,1\n" for b in range(1, 101)), "read counts must be >= 0"),
        ("".join(f"1,{b},0,0,{b % 2}\n" for b in range(1, 101)), "different labels"),
        ("1,1,0\n", "expected gene_id, bin_id, at least one mark and a label"),
    ],
)
def test_bad_binned_csv(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ChromoflowError, match=message):
        import_binned([path], tmp_path / "x.h5")
    assert not (tmp_path / "x.h5").exists()


def test_binned_files_must_split_the_genes(tmp_path):
    with pytest.raises(ChromoflowError, match="in more than one --csv file"):
        import_binned([TOY, TOY], tmp_path / "x.h5")
    with pytest.raises(ChromoflowError, match="5 mark columns, but 4 marks are named"):
        import_binned([TOY], tmp_path / "x.h5", marks=["a", "b", "c", "d"])


# ------------------------------------------------------------------ other genomes


MOUSE_COOL = EXTERNAL / "Scc1-control.chr1-40Mb.10000.cool"


def test_real_mouse_gtf_and_sparse_cooler_min_count(tmp_path):
    """Real mouse files: StringTie GTF (no gene records) + a sparse 10 kb Hi-C (mm9): O/E against cooler's own API."""
    import cooler

    assert run("genes", "--gtf", EXTERNAL / "B16.stringtie.head.gtf", "-o", tmp_path / "genes.tsv").exit_code == 0
    genes = pd.read_csv(tmp_path / "genes.tsv", sep="\t")
    assert (genes.chrom == "chr1").all() and len(genes) > 50
    for min_count, name in ((1, "all.tsv"), (5, "five.tsv")):
        res = run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", MOUSE_COOL, "--max-length", 10_000, "--min-count", min_count, "-o", tmp_path / name)
        assert res.exit_code == 0, res.output
        assert "normalisation weight, resolution 10000 bp" in res.output
    every, strict = (pd.read_csv(tmp_path / n, sep="\t") for n in ("all.tsv", "five.tsv"))
    clr = cooler.Cooler(str(MOUSE_COOL))
    raw = clr.matrix(balance=False).fetch("chr1")
    bal = clr.matrix(balance=True).fetch("chr1")
    band = 2_000_000 // 10_000 + 1
    expected = np.array([np.nanmean(np.diagonal(bal, d)) for d in range(band + 1)])
    reads = raw[(every.groupby("gene_id").head(1).merge(genes, on="gene_id").tss // 10_000).to_numpy(), (every.groupby("gene_id").head(1).start // 10_000).to_numpy()]
    assert (reads < 2).mean() > 0.5  # sparse map: without --min-count most top partners are single reads
    # Independent: the best partner of each gene by O/E among pixels with >= 5 reads, from dense matrices.
    checked = 0
    for g in genes.itertuples():
        first = {}  # partner -> score from the first TSS (longest transcript first) that contacts it
        for tss in map(int, str(g.tss_all).split(",")):
            row = min(tss // 10_000, raw.shape[0] - 1)
            for j in range(max(0, row - band), min(raw.shape[0], row + band + 1)):
                if j != row and raw[row, j] >= 5 and np.isfinite(bal[row, j]):
                    first.setdefault(j, bal[row, j] / expected[abs(j - row)])
        scores = sorted(((v, f"chr1:{j * 10_000}-{j * 10_000 + 10_000}") for j, v in first.items() if v > 1.5), key=lambda t: (-t[0], t[1]))[:8]
        mine = strict[strict.gene_id == g.gene_id]
        assert [f"{c}:{s}-{e}" for c, s, e in zip(mine.chrom, mine.start, mine.end)] == [t[1] for t in scores], g.gene_id
        np.testing.assert_allclose(mine.score, [t[0] for t in scores], rtol=1e-5)  # pcres.tsv keeps 6 digits
        checked += len(mine)
    assert checked > 20


def test_mouse_genome_end_to_end(tmp_path):
    """A mouse-shaped genome through every step: the fold scheme is chosen for it, and said."""
    sim = tmp_path / "mm"
    assert run("simulate", "--genes", 200, "--assembly", "mm10", "--seed", 3, "-o", sim).exit_code == 0
    assert run("genes", "--gtf", sim / "genes.gtf", "-o", tmp_path / "genes.tsv").exit_code == 0
    assert run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", f"{sim}/contacts.mcool::resolutions/5000", "--max-distance", 1_000_000, "-o", tmp_path / "pcres.tsv").exit_code == 0
    tracks = [a for m in BINNED_MARKS + ["H3K27ac", "H3K9ac"] for a in ("--track", f"{m}={sim / f'cellA-{m}.bw'}")]
    res = run("dataset", "--sample", "cellA", "--genes", tmp_path / "genes.tsv", "--pcres", tmp_path / "pcres.tsv", *tracks, "--expression", sim / "expression.tsv", "-o", tmp_path / "mm.h5")
    assert res.exit_code == 0, res.output
    assert "folds: chrom:4 (auto: not a human genome (main chromosomes 1, 2, 3" in res.output
    ds = GeneDataset.load(tmp_path / "mm.h5")
    assert ds.attrs["folds"] == "chrom:4" and set(ds.genes.fold) == {1, 2, 3, 4}
    assert ds.genes.groupby("chrom").fold.nunique().max() == 1
    res = run("train", "--dataset", tmp_path / "mm.h5", "--model", "chromoformer", "--task", "regression", "--fold", 2, "--config", "tiny", "--epochs", 3, "-o", tmp_path / "run")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["heldout"]["pearson_r"] > 0.3


def test_chromosome_spelling_mismatch_names_both_and_the_fix(tmp_path):
    genes = tmp_path / "genes.tsv"
    genes.write_text("gene_id\tchrom\ttss\tstrand\nA\t1\t5000000\t+\nB\t1\t9000000\t-\n")
    res = run("pcres", "--genes", genes, "--contacts", MOUSE_COOL, "--max-length", 10_000, "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1
    assert "chromosome names differ" in res.output and "(e.g. '1')" in res.output and "(e.g. 'chr1')" in res.output
    assert "add a 'chr' prefix to the names in" in res.output

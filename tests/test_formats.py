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

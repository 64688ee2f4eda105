"""Every lab's files: DeepChrome/AttentiveChrome binned CSVs, other genomes end to end, browser tracks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run

from chromoflow.data.dataset import GeneDataset
from chromoflow.errors import ChromoflowError
from chromoflow.prep.binned import BINNED_MARKS, import_binned

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
    np.testing.assert_allclose(
        GeneDataset.load(logged).promoter[100], np.log1p(raw[:, 2:7].reshape(4, 100, 5)), rtol=1e-6
    )


def export_binned(ds: GeneDataset, genes: np.ndarray, path: Path, marks) -> None:
    """A chromoflow dataset's central 100 bins of 100 bp as counts, in the DeepChrome/AttentiveChrome layout."""
    idx = [ds.marks.index(m) for m in marks]
    counts = np.round(
        np.expm1(ds.promoter[100][genes][:, 150:250][:, :, idx]) * 10
    )  # ln(1 + depth) back to read-like counts
    rows = []
    for k, g in enumerate(genes):
        for b in range(100):
            rows.append(
                ",".join(
                    [
                        ds.genes.gene_id.iat[g],
                        str(b + 1),
                        *map(str, counts[k, b].astype(int)),
                        str(ds.genes.label.iat[g]),
                    ]
                )
            )
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.slow
def test_baselines_learn_from_imported_csvs_with_the_original_split(sim_datasets, tmp_path):
    ds = GeneDataset.load(sim_datasets["cellA"])
    rng = np.random.default_rng(0)
    order = rng.permutation(len(ds))
    parts = np.array_split(order, [int(0.6 * len(ds)), int(0.8 * len(ds))])
    for name, genes in zip(("train", "valid", "test"), parts):
        export_binned(ds, genes, tmp_path / f"{name}.csv", BINNED_MARKS)
    res = run(
        "import-binned",
        *[a for n in ("train", "valid", "test") for a in ("--csv", tmp_path / f"{n}.csv")],
        "--transform",
        "log1p",
        "-o",
        tmp_path / "cellA.h5",
    )
    assert res.exit_code == 0, res.output
    assert "fold 3 = test.csv" in res.output
    out = tmp_path / "run"
    res = run(
        "train",
        "--dataset",
        tmp_path / "cellA.h5",
        "--model",
        "attentivechrome",
        "--task",
        "classification",
        "--fold",
        3,
        "--val-fold",
        2,
        "--config",
        "tiny",
        "-o",
        out,
    )
    assert res.exit_code == 0, res.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        metrics["n_heldout"] == len(parts[2])
        and metrics["n_val"] == len(parts[1])
        and metrics["n_train"] == len(parts[0])
    )
    assert metrics["heldout"]["roc_auc"] > 0.75, metrics["heldout"]


# The original QData/AttentiveChrome v2PyTorch loop (train.py at 871ec37, models.py at fca2617, data.py; seed
# set with torch.manual_seed(seed) where it calls torch.manual_seed(1)) run on its toy data with torch 2.15 on
# the CPU prints these "best test avgAUC" values and selects these epochs (of 30).
ORIGINAL_ATTENTIVECHROME = {1: (5 / 21, 12), 2: (6 / 21, 30), 3: (8 / 21, 17)}


@pytest.fixture(scope="module")
def toy_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("toy") / "Toy.h5"
    files = [
        a for name in ("train", "valid", "test") for a in ("--csv", EXTERNAL / "attentivechrome_toy" / f"{name}.csv")
    ]
    assert run("import-binned", *files, "-o", out).exit_code == 0
    return out


@pytest.mark.parametrize("seed", sorted(ORIGINAL_ATTENTIVECHROME))
@pytest.mark.slow
def test_official_attentivechrome_is_the_original_loop(toy_dataset, tmp_path, seed):
    """10/10/10 toy genes (fewer than one batch): every epoch runs, the partial batch is kept, the last epoch whose
    validation AUC is at least the best so far is kept, and its test AUC is the original's, exactly."""
    res = run(
        "train",
        "--dataset",
        toy_dataset,
        "--model",
        "attentivechrome",
        "--task",
        "classification",
        "--fold",
        3,
        "--val-fold",
        2,
        "--config",
        "official",
        "--seed",
        seed,
        "-o",
        tmp_path / "r",
    )
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    auc, epoch = ORIGINAL_ATTENTIVECHROME[seed]
    assert metrics["epochs_run"] == 30 and metrics["selected_epoch"] == epoch and metrics["selection"] == "best-latest"
    assert metrics["heldout"]["roc_auc"] == pytest.approx(auc, abs=1e-12)
    history = pd.read_csv(tmp_path / "r" / "history.tsv", sep="\t")
    assert (
        len(history) == 30 and history["heldout_roc_auc"].notna().all()
    )  # the test AUC of every epoch, as the original prints it
    assert history["heldout_roc_auc"].iloc[epoch - 1] == pytest.approx(auc, abs=1e-6)  # history.tsv keeps 6 digits
    val = history["val_roc_auc"].to_numpy()
    assert val[epoch - 1] >= np.max(val[: epoch - 1], initial=-1) and (val[epoch:] < np.max(val[:epoch])).all()


def test_official_deepchrome_runs_every_epoch_and_keeps_the_last(toy_dataset, tmp_path):
    res = run(
        "train",
        "--dataset",
        toy_dataset,
        "--model",
        "deepchrome",
        "--task",
        "classification",
        "--fold",
        3,
        "--config",
        "official",
        "--epochs",
        12,
        "-o",
        tmp_path / "r",
    )
    assert res.exit_code == 0, res.output
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert (
        metrics["epochs_run"] == metrics["selected_epoch"] == 12
        and metrics["selection"] == "last"
        and metrics["n_val"] == 0
    )
    t = metrics["config"]["training"]
    assert (t["optimizer"], t["batch_size"], t["lr_decay"], t["patience"], t["drop_last"]) == (
        "sgd",
        1,
        1e-7,
        None,
        False,
    )
    assert pd.read_csv(tmp_path / "r" / "history.tsv", sep="\t")["heldout_roc_auc"].notna().all()


def test_default_preset_keeps_chromoflows_safeguards(toy_dataset, tmp_path):
    """The default protocol refuses a training set smaller than one batch (drop_last); official keeps it."""
    res = run(
        "train",
        "--dataset",
        toy_dataset,
        "--model",
        "attentivechrome",
        "--task",
        "classification",
        "--fold",
        3,
        "--val-fold",
        2,
        "-o",
        tmp_path / "r",
    )
    assert res.exit_code == 1 and "fewer than one batch of 16 (drop_last)" in res.output


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,1,0,0,0\n", "line 1: gene '1' has 1 rows \\(bins\\); each gene needs 100"),
        (
            "".join(f"7,{b},0,0,0,1\n" for b in range(1, 101)) + "".join(f"G2,{b},0,0,0,1\n" for b in range(1, 100)),
            "line 101: gene 'G2' has 99 rows",
        ),
        (
            "".join(f"1,{b},0,{'NA' if b == 5 else 0},0,1\n" for b in range(1, 101)),
            "line 5: column 4 must be a finite number, got 'NA'",
        ),
        ("".join(f"{'' if b == 3 else 'G'},{b},0,0,0,1\n" for b in range(1, 101)), "line 3: empty gene id ''"),
        (
            "".join(f"G,{b},0,0,0,1\n" for b in range(1, 101))
            + "".join(f"H,{b},0,0,0,1\n" for b in range(1, 101))
            + "".join(f"G,{b},0,0,0,1\n" for b in range(1, 101)),
            "line 201: gene 'G' appears twice",
        ),
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
        res = run(
            "pcres",
            "--genes",
            tmp_path / "genes.tsv",
            "--contacts",
            MOUSE_COOL,
            "--max-length",
            10_000,
            "--min-count",
            min_count,
            "-o",
            tmp_path / name,
        )
        assert res.exit_code == 0, res.output
        assert "normalisation weight, resolution 10000 bp" in res.output
    every, strict = (pd.read_csv(tmp_path / n, sep="\t") for n in ("all.tsv", "five.tsv"))
    clr = cooler.Cooler(str(MOUSE_COOL))
    raw = clr.matrix(balance=False).fetch("chr1")
    bal = clr.matrix(balance=True).fetch("chr1")
    band = 2_000_000 // 10_000 + 1
    expected = np.array([np.nanmean(np.diagonal(bal, d)) for d in range(band + 1)])
    reads = raw[
        (every.groupby("gene_id").head(1).merge(genes, on="gene_id").tss // 10_000).to_numpy(),
        (every.groupby("gene_id").head(1).start // 10_000).to_numpy(),
    ]
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
        scores = sorted(
            ((v, f"chr1:{j * 10_000}-{j * 10_000 + 10_000}") for j, v in first.items() if v > 1.5),
            key=lambda t: (-t[0], t[1]),
        )[:8]
        mine = strict[strict.gene_id == g.gene_id]
        assert [f"{c}:{s}-{e}" for c, s, e in zip(mine.chrom, mine.start, mine.end)] == [t[1] for t in scores], (
            g.gene_id
        )
        np.testing.assert_allclose(mine.score, [t[0] for t in scores], rtol=1e-5)  # pcres.tsv keeps 6 digits
        checked += len(mine)
    assert checked > 20


@pytest.mark.slow
def test_mouse_genome_end_to_end(tmp_path):
    """A mouse-shaped genome through every step: the fold scheme is chosen for it, and said."""
    sim = tmp_path / "mm"
    assert run("simulate", "--genes", 200, "--assembly", "mm10", "--seed", 3, "-o", sim).exit_code == 0
    assert run("genes", "--gtf", sim / "genes.gtf", "-o", tmp_path / "genes.tsv").exit_code == 0
    assert (
        run(
            "pcres",
            "--genes",
            tmp_path / "genes.tsv",
            "--contacts",
            f"{sim}/contacts.mcool::resolutions/5000",
            "--max-distance",
            1_000_000,
            "-o",
            tmp_path / "pcres.tsv",
        ).exit_code
        == 0
    )
    tracks = [a for m in BINNED_MARKS + ["H3K27ac", "H3K9ac"] for a in ("--track", f"{m}={sim / f'cellA-{m}.bw'}")]
    res = run(
        "dataset",
        "--sample",
        "cellA",
        "--genes",
        tmp_path / "genes.tsv",
        "--pcres",
        tmp_path / "pcres.tsv",
        *tracks,
        "--expression",
        sim / "expression.tsv",
        "-o",
        tmp_path / "mm.h5",
    )
    assert res.exit_code == 0, res.output
    assert "folds: chrom:4 (auto: not a human genome (main chromosomes 1, 2, 3" in res.output
    ds = GeneDataset.load(tmp_path / "mm.h5")
    assert ds.attrs["folds"] == "chrom:4" and set(ds.genes.fold) == {1, 2, 3, 4}
    assert ds.genes.groupby("chrom").fold.nunique().max() == 1
    res = run(
        "train",
        "--dataset",
        tmp_path / "mm.h5",
        "--model",
        "chromoformer",
        "--task",
        "regression",
        "--fold",
        2,
        "--config",
        "tiny",
        "--epochs",
        3,
        "-o",
        tmp_path / "run",
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["heldout"]["pearson_r"] > 0.3


def test_chromosome_spelling_mismatch_names_both_and_the_fix(tmp_path):
    genes = tmp_path / "genes.tsv"
    genes.write_text("gene_id\tchrom\ttss\tstrand\nA\t1\t5000000\t+\nB\t1\t9000000\t-\n")
    res = run("pcres", "--genes", genes, "--contacts", MOUSE_COOL, "--max-length", 10_000, "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1
    assert "chromosome names differ" in res.output and "(e.g. '1')" in res.output and "(e.g. 'chr1')" in res.output
    assert "add a 'chr' prefix to the names in" in res.output


# ------------------------------------------------------------------ expression tables as the tools write them

from chromoflow.prep.expression import read_expression  # noqa: E402

# Layouts from each tool's own documentation and code: nf-core/rnaseq's merged Salmon/RSEM tables, Salmon's
# quant.genes.sf, featureCounts' output (comment line, annotation columns, samples named by their BAM files),
# GTEx's GCT (version line, dimensions line, Name/Description), and a GENCODE <= v43 table with a _PAR_Y copy.
LAYOUTS = {
    "salmon.merged.gene_tpm.tsv": "gene_id\tgene_name\tcellA\tcellB\nENSG00000002586.20\tCD99\t12.5\t3\nENSG00000002586.20_PAR_Y\tCD99\t0\t0\nENSG00000141510.18\tTP53\t40\t7.25\n",
    "rsem.merged.gene_tpm.tsv": (
        "gene_id\ttranscript_id(s)\tcellA\tcellB\nENSG00000002586.20\tENST00000381192.10,ENST00000482405.6\t12.5\t3\n"
        "ENSG00000002586.20_PAR_Y\tENST00000381192.10_PAR_Y\t0\t0\nENSG00000141510.18\tENST00000269305.9\t40\t7.25\n"
    ),
    "quant.genes.sf": "Name\tLength\tEffectiveLength\tTPM\tNumReads\nENSG00000002586.20\t1200\t1000.5\t12.5\t100\nENSG00000141510.18\t2500\t2300\t40\t900\n",
    "counts.txt": (
        '# Program:featureCounts v2.0.6; Command:"featureCounts" "-a" "genes.gtf" "-o" "counts.txt" "/data/cellA.sorted.bam" "/data/cellB.sorted.bam"\n'
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/cellA.sorted.bam\t/data/cellB.sorted.bam\n"
        "ENSG00000002586.20\tchrX\t2691133\t2741309\t+\t1200\t12.5\t3\nENSG00000141510.18\tchr17\t7661779\t7687538\t-\t2500\t40\t7.25\n"
    ),
    "gtex.gct": "#1.2\n2\t2\nName\tDescription\tcellA\tcellB\nENSG00000002586.20\tCD99\t12.5\t3\nENSG00000141510.18\tTP53\t40\t7.25\n",
    "excel-bom.tsv": "\ufeffgene_id\tcellA\tcellB\r\nENSG00000002586\t12.5\t3\r\nENSG00000141510\t40\t7.25\r\n",
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_expression_tables_as_the_tools_write_them(tmp_path, name):
    path = tmp_path / name
    path.write_text(LAYOUTS[name], encoding="utf-8")
    sample = "TPM" if name == "quant.genes.sf" else "cellA"
    values = read_expression(path, sample)
    assert values.to_dict() == {"ENSG00000002586": 12.5, "ENSG00000141510": 40.0}


def test_expression_table_from_nf_core_builds_a_dataset(tmp_path, demo):
    """The real demo genes with an nf-core/rnaseq-style table (gene_id, gene_name, sample; versions, a _PAR_Y row)."""
    from conftest import track_args

    expr = pd.read_csv(demo / "expression.tsv", sep="\t")
    table = pd.DataFrame({"gene_id": expr.gene_id + ".7", "gene_name": "x", "E003": expr.E003})
    table = pd.concat(
        [table, pd.DataFrame({"gene_id": [expr.gene_id.iat[0] + ".7_PAR_Y"], "gene_name": ["x"], "E003": [0.0]})]
    )
    table.to_csv(tmp_path / "salmon.merged.gene_tpm.tsv", sep="\t", index=False)
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    res = run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        tmp_path / "genes.tsv",
        *track_args(demo, "E003"),
        "--expression",
        tmp_path / "salmon.merged.gene_tpm.tsv",
        "--folds",
        "random:3",
        "-j",
        1,
        "-o",
        tmp_path / "E003.h5",
    )
    assert res.exit_code == 0, res.output
    assert "1 _PAR_Y rows skipped" in res.output
    ds = GeneDataset.load(tmp_path / "E003.h5")
    want = expr.set_index("gene_id").E003.reindex(ds.genes.gene_id).to_numpy()
    np.testing.assert_allclose(ds.genes.expression.to_numpy(), want)


def test_expression_table_errors_name_the_row(tmp_path):
    path = tmp_path / "e.tsv"
    path.write_text("# a comment\n\ngene_id\tcellA\nENSG00000002586.20\t1\nENSG00000002586.21\t2\n")
    with pytest.raises(
        ChromoflowError,
        match=r"e.tsv line 5: duplicate gene_id 'ENSG00000002586' \(as 'ENSG00000002586.21' without its version\)",
    ):
        read_expression(path, "cellA")
    path.write_text("gene_id\tcellA\n\tNA\n")
    with pytest.raises(ChromoflowError, match="e.tsv line 2: empty gene id"):
        read_expression(path, "cellA")

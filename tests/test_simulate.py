import numpy as np
import pandas as pd
from conftest import run

from chromoflow.data.dataset import GeneDataset
from chromoflow.prep.tracks import BigWigTrack


def test_same_seed_same_files(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 3), (b, 3), (c, 4)):
        assert run("simulate", "--genes", 40, "--seed", seed, "--no-cool", "-o", folder).exit_code == 0
    for name in ("expression.tsv", "interactions.bedpe", "genes.gtf", "truth.tsv", "samplesheet.csv", "chrom.sizes"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "expression.tsv").read_bytes() != (c / "expression.tsv").read_bytes()
    ta, tb = BigWigTrack(a / "cellA-H3K27ac.bw"), BigWigTrack(b / "cellA-H3K27ac.bw")
    for chrom, size in ta.chroms.items():
        assert np.array_equal(ta.values(chrom, 0, size), tb.values(chrom, 0, size))
    assert not (a / "contacts.mcool").exists()


def test_expression_depends_on_promoter_and_distal_terms(sim):
    truth = pd.read_csv(sim / "truth.tsv", sep="\t")
    for s in ("cellA", "cellB"):
        y = truth[f"log2_expression_{s}"]
        assert np.corrcoef(y, truth[f"promoter_{s}"])[0, 1] > 0.5
        assert np.corrcoef(y, truth[f"distal_{s}"])[0, 1] > 0.3
    # The cell types differ, so fold change has signal.
    assert (truth.log2_expression_cellA - truth.log2_expression_cellB).abs().gt(1).mean() > 0.1


def test_marks_encode_the_answer(sim, sim_datasets):
    truth = pd.read_csv(sim / "truth.tsv", sep="\t").set_index("gene_id")
    ds = GeneDataset.load(sim_datasets["cellA"])
    promoter = truth.promoter_cellA.reindex(ds.genes.gene_id).to_numpy()
    k4me3_at_tss = ds.promoter[100][:, 195:210, ds.marks.index("H3K4me3")].mean(1)
    assert np.corrcoef(k4me3_at_tss, promoter)[0, 1] > 0.6
    # H3K36me3 lies downstream of the TSS in transcription direction: after the strand flip, on the right.
    k36 = ds.promoter[100][:, :, ds.marks.index("H3K36me3")]
    active = promoter > 1
    assert k36[active, 210:].mean() > 5 * k36[active, :190].mean()


def test_mcool_is_balanced(sim):
    import cooler

    for res in (5000, 10000):
        clr = cooler.Cooler(f"{sim}/contacts.mcool::resolutions/{res}")
        assert clr.binsize == res
        weights = clr.bins()[:]["weight"].to_numpy()
        assert np.isfinite(weights).mean() > 0.99
        pix = clr.pixels()[:]
        keep = (pix.bin2_id - pix.bin1_id) >= 2
        v = pix["count"][keep] * weights[pix.bin1_id[keep]] * weights[pix.bin2_id[keep]]
        marg = np.bincount(pix.bin1_id[keep], v, len(weights)) + np.bincount(pix.bin2_id[keep], v, len(weights))
        marg = marg[marg > 0]
        assert marg.std() / marg.mean() < 0.01

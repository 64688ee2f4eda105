import os

import h5py
import numpy as np
import pandas as pd
import pytest
from conftest import MARKS, copy_demo, run, track_args, write_bam

from chromoflow.data.dataset import GeneDataset
from chromoflow.data.layout import left_pad, n_bins
from chromoflow.errors import ChromoflowError
from chromoflow.prep.tracks import BamTrack, BigWigTrack


def official_items(demo, tmp_path, meta):
    """Inputs as the official package builds them, from per-region .npy dumps of the bigWigs."""
    pytest.importorskip("chromoformer")
    from chromoformer.data import ChromoformerDataset

    npy = tmp_path / "npy"
    npy.mkdir()
    tracks = [BigWigTrack(demo / f"E003-{m}.bw") for m in MARKS]

    def dump(chrom, s, e):
        # The official .npy layout: (marks, bases) float16 per-base depth.
        np.save(npy / f"{chrom}:{s}-{e}.npy", np.stack([t.values(chrom, s, e) for t in tracks]).astype(np.float16))

    for r in meta.itertuples():
        dump(r.chrom, r.start - 20_000, r.start + 20_000)
        if isinstance(r.neighbors, str):
            for n in r.neighbors.split(";"):
                c, se = n.split(":")
                s, e = map(int, se.split("-"))
                dump(c, s, e)
    meta_path = tmp_path / "meta.csv"
    meta.to_csv(meta_path, index=False)
    ds = ChromoformerDataset(str(meta_path), str(npy), meta.gene_id.tolist())
    return [ds[i] for i in range(len(meta))]


def test_dataset_equals_official_loader(demo, demo_dataset, tmp_path):
    """Same promoter/pCRE tensors, masks and interaction frequencies as chromoformer 1.1.3."""
    meta = pd.read_csv(demo / "demo_meta.csv")
    items = official_items(demo, tmp_path, meta)
    ds = GeneDataset.load(demo_dataset)
    order = pd.Series(np.arange(len(ds)), index=ds.genes.gene_id)
    batch = ds.batch(order.loc[meta.gene_id].to_numpy())
    dense = batch.dense_pcres()
    for k, item in enumerate(items):
        for b in (2000, 500, 100):
            S = 40_000 // b
            np.testing.assert_allclose(batch.promoter[b][k], item["promoter_feats"][b][0].numpy(), atol=1e-5)
            np.testing.assert_allclose(dense[b][k], item["pcre_feats"][b].numpy(), atol=1e-5)
            # Masks follow from the stored lengths alone.
            length = batch.pcre_length[k]
            n, lp = n_bins(length, b), left_pad(n_bins(length, b), S)
            pos = np.arange(S)
            valid = (pos >= lp[:, None]) & (pos < (lp + n)[:, None]) & (length[:, None] > 0)
            official_blocked = item["pcre_pad_masks"][b][:, 0].numpy()  # (8, S, S)
            assert (official_blocked == ~np.broadcast_to(valid[:, None, :], official_blocked.shape)).all()
            n_p = int((length > 0).sum())
            assert (item["interaction_masks"][b][0, : n_p + 1, : n_p + 1].numpy() == 0).all()
        np.testing.assert_allclose(batch.pcre_score[k], item["interaction_freq"][0, 1:].numpy(), atol=1e-4)
        # (Labels differ by design: the official ones use the median of all 18,955 genes.)


def test_gene_without_pcres_equals_official(demo, tmp_path):
    """A gene with no pCRE (official: empty 'neighbors') gets all-zero pCRE slots."""
    gene = "ENSG00000119715"
    meta = pd.read_csv(demo / "demo_meta.csv")
    meta.loc[meta.gene_id == gene, ["neighbors", "scores"]] = np.nan
    items = official_items(demo, tmp_path, meta[meta.gene_id == gene].reset_index(drop=True))
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    genes = pd.read_csv(tmp_path / "genes.tsv", sep="\t")
    genes[genes.gene_id == gene].to_csv(tmp_path / "one.tsv", sep="\t", index=False)
    res = run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        tmp_path / "one.tsv",
        *track_args(demo, "E003"),
        "-o",
        tmp_path / "one.h5",
    )
    assert res.exit_code == 0, res.output
    ds = GeneDataset.load(tmp_path / "one.h5")
    batch = ds.batch([0])
    dense = batch.dense_pcres()
    assert (batch.pcre_length == 0).all()
    for b in (2000, 500, 100):
        np.testing.assert_allclose(batch.promoter[b][0], items[0]["promoter_feats"][b][0].numpy(), atol=1e-5)
        assert not dense[b].any() and not items[0]["pcre_feats"][b].numpy().any()
    assert ds.genes.label.iat[0] == -1  # no --expression: labels unknown


def test_labels_targets_folds_and_attributes(demo, demo_dataset):
    ds = GeneDataset.load(demo_dataset)
    expr = pd.read_csv(demo / "expression.tsv", sep="\t").set_index("gene_id").E003
    values = expr.reindex(ds.genes.gene_id).to_numpy()
    median = np.median(values)
    assert ds.attrs["label_threshold"] == pytest.approx(median)
    assert (ds.genes.label.to_numpy() == (values >= median)).all()
    np.testing.assert_allclose(ds.genes.target, np.log2(values + 1), rtol=1e-6)
    assert (ds.genes.fold == 1).all()  # chr8 and chr14 are official fold 1
    assert ds.attrs["folds"] == "official" and ds.marks == MARKS and ds.bin_sizes == [2000, 500, 100]
    assert ds.attrs["window"] == 40_000 and ds.attrs["chromoflow_version"]
    assert ds.attrs["sources"]  # JSON of input files
    with h5py.File(demo_dataset) as h5:
        assert "masks" not in h5 and all("mask" not in k for k in h5["pcres"].keys())


def test_minus_strand_promoter_is_reversed(demo, demo_dataset):
    ds = GeneDataset.load(demo_dataset)
    track = BigWigTrack(demo / "E003-H3K4me3.bw")
    for i in range(len(ds)):
        tss, strand = int(ds.genes.tss.iat[i]), ds.genes.strand.iat[i]
        raw = track.values(ds.genes.chrom.iat[i], tss - 20_000, tss + 20_000).reshape(20, 2000).mean(1)
        want = np.log1p(raw)[:: 1 if strand == "+" else -1]
        np.testing.assert_allclose(ds.promoter[2000][i, :, 1], want, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_folds_schemes(sim_datasets, sim, tmp_path):
    base = ["dataset", "--sample", "cellA", "--genes", sim_datasets["genes"], *track_args(sim, "cellA", MARKS[:1])]
    for scheme in ("chrom:3", "random:5"):
        out = tmp_path / f"{scheme.replace(':', '')}.h5"
        assert run(*base, "--folds", scheme, "--seed", 3, "-o", out).exit_code == 0
        genes = GeneDataset.load(out).genes
        sizes = np.bincount(genes.fold, minlength=int(scheme[-1]) + 1)[1:]
        assert (sizes > 0).all()
        if scheme.startswith("chrom"):
            assert genes.groupby("chrom").fold.nunique().max() == 1  # whole chromosomes
            assert sizes.max() - sizes.min() < 0.2 * len(genes)  # balanced by gene count
        else:
            assert sizes.max() - sizes.min() <= 1
    again = tmp_path / "again.h5"
    assert run(*base, "--folds", "random:5", "--seed", 3, "-o", again).exit_code == 0
    assert (GeneDataset.load(again).genes.fold == GeneDataset.load(tmp_path / "random5.h5").genes.fold).all()
    assert run(*base, "--folds", "bogus", "-o", tmp_path / "b.h5").exit_code == 1


@pytest.mark.slow
def test_deterministic_and_parallel_identical(sim_datasets, sim, tmp_path):
    args = [
        "dataset",
        "--sample",
        "cellB",
        "--genes",
        sim_datasets["genes"],
        "--pcres",
        sim_datasets["pcres"],
        *track_args(sim, "cellB"),
        "--expression",
        sim / "expression.tsv",
    ]
    assert run(*args, "-j", 2, "-o", tmp_path / "par.h5").exit_code == 0
    a, b = GeneDataset.load(sim_datasets["cellB"]), GeneDataset.load(tmp_path / "par.h5")
    for s in a.bin_sizes:
        assert np.array_equal(a.promoter[s], b.promoter[s])
        assert np.array_equal(a.pcre_features[s], b.pcre_features[s])
    assert a.genes.equals(b.genes) and a.pcres.equals(b.pcres)


def test_batches_place_pcres_centred(sim_datasets):
    ds = GeneDataset.load(sim_datasets["cellA"])
    idx = np.flatnonzero(ds.genes.pcre_count.to_numpy() > 0)[:16]
    batch = ds.batch(idx)
    dense = batch.dense_pcres()
    for k, g in enumerate(idx):
        first = ds.genes.pcre_offset.iat[g]
        for slot in range(ds.genes.pcre_count.iat[g]):
            p = first + slot
            length = ds.pcres.end.iat[p] - ds.pcres.start.iat[p]
            assert batch.pcre_length[k, slot] == length
            for b in ds.bin_sizes:
                n, S = int(n_bins(length, b)), ds.slots(b)
                lp = int(left_pad(n, S))
                o = ds.pcre_bin_offset[b][p]
                row = dense[b][k, slot]
                np.testing.assert_array_equal(row[lp : lp + n], ds.pcre_features[b][o : o + n])
                assert not row[:lp].any() and not row[lp + n :].any()
    empty = ds.batch(idx, pcres=False)
    assert (
        not any(x.any() for x in empty.dense_pcres().values())
        and not empty.pcre_length.any()
        and not len(empty.pcre_slots)
    )


@pytest.mark.slow
def test_bam_depth_and_bam_dataset_equals_bigwig(tmp_path, demo):
    rng = np.random.default_rng(1)
    sizes = {"chr1": 249_250_621, "chr14": 107_349_540, "chr8": 146_364_022}
    genes = pd.read_csv(demo / "genes.bed", sep="\t", header=None)
    reads = []
    for chrom, tss in zip(genes[0], genes[1]):
        for s in rng.integers(tss - 25_000, tss + 25_000, 400):
            reads.append((chrom, int(s), 36, 0, int(rng.integers(0, 40))))
    reads += [("chr14", 21_852_000, 36, 0x400, 60), ("chr14", 21_852_000, 36, 0x4 | 0, 60)]  # duplicate, unmapped
    bam = tmp_path / "H3K4me3.bam"
    write_bam(bam, sizes, reads)
    track = BamTrack(bam)
    want = np.zeros(60_000)
    for chrom, s, length, flag, _ in reads:
        if chrom == "chr14" and not flag & (0x400 | 0x4):
            a, b = max(s - 21_820_000, 0), min(s + length - 21_820_000, 60_000)
            if b > a:
                want[a:b] += 1
    np.testing.assert_array_equal(track.values("chr14", 21_820_000, 21_880_000), want)
    # MAPQ filter.
    filtered = BamTrack(bam, min_mapq=20).values("chr14", 21_820_000, 21_880_000)
    assert filtered.sum() < want.sum()
    # BAM -> bigWig, then both tracks give the same dataset.
    assert run("coverage", "--bam", bam, "-o", tmp_path / "H3K4me3.bw").exit_code == 0
    np.testing.assert_array_equal(BigWigTrack(tmp_path / "H3K4me3.bw").values("chr14", 21_820_000, 21_880_000), want)
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    for name, f in (("bam", bam), ("bw", tmp_path / "H3K4me3.bw")):
        assert (
            run(
                "dataset",
                "--sample",
                "E003",
                "--genes",
                tmp_path / "genes.tsv",
                "--track",
                f"H3K4me3={f}",
                "--folds",
                "official",
                "-o",
                tmp_path / f"{name}.h5",
            ).exit_code
            == 0
        )
    a, b = GeneDataset.load(tmp_path / "bam.h5"), GeneDataset.load(tmp_path / "bw.h5")
    for s in a.bin_sizes:
        np.testing.assert_array_equal(a.promoter[s], b.promoter[s])
    assert a.promoter[100].max() > 0


def test_window_past_chromosome_end_is_zero_filled(tmp_path, demo):
    genes = tmp_path / "genes.tsv"
    genes.write_text("gene_id\tchrom\ttss\tstrand\nEDGE\tchr14\t5000\t+\nEND\tchr14\t107349000\t-\n")
    res = run("dataset", "--sample", "E003", "--genes", genes, *track_args(demo, "E003"), "-o", tmp_path / "edge.h5")
    assert res.exit_code == 0, res.output
    ds = GeneDataset.load(tmp_path / "edge.h5")
    assert ds.promoter[2000].shape == (2, 20, 7) and np.isfinite(ds.promoter[100]).all()
    edge, end = (int(np.flatnonzero(ds.genes.gene_id == g)[0]) for g in ("EDGE", "END"))
    # EDGE (+): [tss - 20 kb, tss + 20 kb) starts 15 kb before the chromosome: 150 bins of nothing.
    assert not ds.promoter[100][edge, :150].any()
    # END (-): bases from the chromosome end (107,349,540) on are empty; reversed, they come first.
    size, start = 107_349_540, 107_349_000 - 20_000
    first_outside = -(-(size - start) // 100)  # reference bins from here on lie past the end
    assert not ds.promoter[100][end, : 400 - first_outside].any()


# ------------------------------------------------------------------ bad inputs


def dataset_args(folder, out, genes=None, extra=()):
    return [
        "dataset",
        "--sample",
        "E003",
        "--genes",
        genes or folder / "genes.tsv",
        *track_args(folder, "E003"),
        *extra,
        "-o",
        out,
    ]


@pytest.fixture
def demo_copy(tmp_path, demo):
    folder = copy_demo(tmp_path)
    assert run("genes", "--bed", folder / "genes.bed", "-o", folder / "genes.tsv").exit_code == 0
    assert (
        run(
            "pcres", "--genes", folder / "genes.tsv", "--contacts", folder / "pcres.bedpe", "-o", folder / "pcres.tsv"
        ).exit_code
        == 0
    )
    return folder


def expect_error(args, *fragments, out=None):
    res = run(*args)
    assert res.exit_code == 1, res.output
    lines = [line for line in res.output.strip().splitlines() if line.startswith("Error")]
    assert len(lines) == 1 and "Traceback" not in res.output, res.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    if out is not None:
        assert not os.path.exists(out)
        assert not [p for p in os.listdir(os.path.dirname(out)) if p.endswith(".part")]
    return lines[0]


def test_error_chromosome_naming_mismatch(demo_copy):
    genes = pd.read_csv(demo_copy / "genes.tsv", sep="\t")
    genes["chrom"] = genes.chrom.str.replace("chr", "")
    genes.to_csv(demo_copy / "ens.tsv", sep="\t", index=False)
    out = demo_copy / "x.h5"
    expect_error(
        dataset_args(demo_copy, out, demo_copy / "ens.tsv"),
        "chromosome names differ",
        "ens.tsv (e.g. '1')",
        "(e.g. 'chr1')",
        out=out,
    )


def test_error_track_without_gene_chromosomes(demo_copy):
    genes = demo_copy / "odd.tsv"
    genes.write_text("gene_id\tchrom\ttss\tstrand\nA\tchrUn_gl000220\t100\t+\n")
    out = demo_copy / "x.h5"
    expect_error(dataset_args(demo_copy, out, genes), "none of the genes' chromosomes", out=out)


def test_missing_chromosome_needs_flag(demo_copy):
    genes = pd.read_csv(demo_copy / "genes.tsv", sep="\t")
    extra = pd.DataFrame({"gene_id": ["MT1"], "chrom": ["chrM"], "tss": [100], "strand": ["+"]})
    pd.concat([genes, extra]).to_csv(demo_copy / "m.tsv", sep="\t", index=False)
    out = demo_copy / "x.h5"
    expect_error(
        dataset_args(demo_copy, out, demo_copy / "m.tsv"), "no chromosome chrM", "--allow-missing-chroms", out=out
    )
    assert run(*dataset_args(demo_copy, out, demo_copy / "m.tsv", ["--allow-missing-chroms"])).exit_code == 0
    ds = GeneDataset.load(out)
    assert not ds.promoter[100][ds.genes.gene_id.to_numpy() == "MT1"].any()


def test_error_duplicate_gene_ids(demo_copy):
    text = (demo_copy / "genes.tsv").read_text().splitlines()
    (demo_copy / "dup.tsv").write_text("\n".join(text + [text[1]]) + "\n")
    out = demo_copy / "x.h5"
    expect_error(dataset_args(demo_copy, out, demo_copy / "dup.tsv"), "line 21: duplicate gene_id", out=out)


def test_error_expression_without_sample(demo_copy):
    out = demo_copy / "x.h5"
    line = expect_error(
        dataset_args(demo_copy, out, extra=["--expression", demo_copy / "expression.tsv", "--sample", "E004"]),
        "no column for sample 'E004'",
        out=out,
    )
    assert "E003" in line
    bad = demo_copy / "bad_expr.tsv"
    bad.write_text("gene_id\tE003\nENSG00000092201\tlots\n")
    expect_error(
        dataset_args(demo_copy, out, extra=["--expression", bad]), "bad_expr.tsv line 2", "not a finite number", out=out
    )


def test_error_pcres(demo_copy):
    out = demo_copy / "x.h5"
    pc = pd.read_csv(demo_copy / "pcres.tsv", sep="\t")
    trans = pc.copy()
    trans.loc[0, "chrom"] = "chr14" if trans.chrom[0] == "chr8" else "chr8"
    trans.to_csv(demo_copy / "trans.tsv", sep="\t", index=False)
    expect_error(
        dataset_args(demo_copy, out, extra=["--pcres", demo_copy / "trans.tsv"]),
        "not on the gene's chromosome",
        out=out,
    )
    other = pc.assign(gene_id="NOPE")
    other.to_csv(demo_copy / "other.tsv", sep="\t", index=False)
    expect_error(
        dataset_args(demo_copy, out, extra=["--pcres", demo_copy / "other.tsv"]), "none of its gene_ids", out=out
    )
    (demo_copy / "broken.tsv").write_text("gene_id\trank\tchrom\tstart\tend\tscore\nA\t1\tchr14\tten\t20\t2\n")
    expect_error(
        dataset_args(demo_copy, out, extra=["--pcres", demo_copy / "broken.tsv"]),
        "broken.tsv line 2: start must be an integer",
        out=out,
    )


def test_error_bad_track_and_spec(demo_copy):
    out = demo_copy / "x.h5"
    (demo_copy / "fake.bw").write_text("not a bigwig")
    expect_error(
        [
            "dataset",
            "--sample",
            "E003",
            "--genes",
            demo_copy / "genes.tsv",
            "--track",
            f"H3K4me3={demo_copy / 'fake.bw'}",
            "-o",
            out,
        ],
        "fake.bw: not a bigWig or BAM",
        out=out,
    )
    expect_error(
        ["dataset", "--sample", "E003", "--genes", demo_copy / "genes.tsv", "--track", "H3K4me3", "-o", out],
        "expected MARK=FILE",
        out=out,
    )
    expect_error(
        [
            "dataset",
            "--sample",
            "E003",
            "--genes",
            demo_copy / "genes.tsv",
            "--track",
            f"H3K4me3={demo_copy / 'missing.bw'}",
            "-o",
            out,
        ],
        "missing.bw: track file does not exist",
        out=out,
    )


def test_failure_keeps_previous_output(demo_copy):
    out = demo_copy / "x.h5"
    assert run(*dataset_args(demo_copy, out)).exit_code == 0
    before = out.read_bytes()
    expect_error(
        dataset_args(demo_copy, out, extra=["--expression", demo_copy / "expression.tsv", "--sample", "nope"]),
        "no column",
    )
    assert out.read_bytes() == before


# ------------------------------------------------------------------ folds and labels


HG19_MAIN = [f"chr{i}" for i in range(1, 23)] + ["chrX", "chrY"]


@pytest.mark.parametrize(
    "chroms, scheme",
    [
        (HG19_MAIN, "official"),
        (HG19_MAIN[:-1], "official"),  # no chrY
        (HG19_MAIN + ["chrM", "chrUn_gl000220", "chr1_gl000191_random", "chr6_apd_hap1"], "official"),
        ([c[3:] for c in HG19_MAIN] + ["MT", "GL000192.1", "KI270728.1"], "official"),  # Ensembl names
        ([f"chr{i}" for i in range(1, 20)] + ["chrX", "chrY", "chrM"], "chrom:4"),  # mouse
        (["chr2L", "chr2R", "chr3L", "chr3R", "chr4", "chrX", "chrY", "chrM"], "chrom:4"),  # fly
        (["chrI", "chrII", "chrIII", "chrM"], "chrom:4"),  # yeast
        (["chr8", "chr14"], "chrom:4"),  # too few chromosomes to call it human
    ],
)
def test_auto_fold_scheme(chroms, scheme):
    from chromoflow.prep.folds import resolve_scheme

    assert resolve_scheme("auto", chroms)[0] == scheme


def test_official_folds_with_contigs_and_random_folds_beyond_int8():
    from chromoflow.prep.folds import assign_folds

    genes = pd.DataFrame({"chrom": ["chr1", "chrX", "chrUn_gl000220", "chrM", "chr21"] * 60})
    folds, scheme, why = assign_folds(genes, "auto", genome=HG19_MAIN + ["chrUn_gl000220", "chrM"])
    assert scheme == "official" and "human" in why
    assert folds[:5].tolist() == [1, 4, 0, 0, 2]
    many, _, _ = assign_folds(genes, "random:200", seed=1)
    assert many.dtype == np.int32 and many.min() == 1 and many.max() == 200
    with pytest.raises(ChromoflowError, match="more folds than the 300 genes"):
        assign_folds(genes, "random:500")
    with pytest.raises(ChromoflowError, match="K must be between 2 and 1000"):
        assign_folds(genes, "random:5000")


def test_median_zero_labels_rule(caplog):
    from chromoflow.prep.expression import labels_and_targets

    expr = np.array([0, 0, 0, 0, 0, 0, 3.0, 8.0, 0.5, np.nan])
    with caplog.at_level("WARNING", logger="chromoflow"):
        label, target, threshold = labels_and_targets(expr, source="x.tsv (S)")
    assert threshold == 0 and label.tolist() == [0, 0, 0, 0, 0, 0, 1, 1, 1, -1]
    assert "labelling genes high when above it" in caplog.text
    usual, _, t = labels_and_targets(np.array([1.0, 2.0, 3.0, 4.0]))
    assert t == 2.5 and usual.tolist() == [0, 0, 1, 1]


def test_many_pcre_slots_do_not_overflow(demo_copy, tmp_path):
    out = tmp_path / "wide.h5"
    assert (
        run(
            "pcres",
            "--genes",
            demo_copy / "genes.tsv",
            "--contacts",
            demo_copy / "pcres.bedpe",
            "--max-pcres",
            200,
            "-o",
            tmp_path / "p.tsv",
        ).exit_code
        == 0
    )
    res = run(
        *dataset_args(demo_copy, out, extra=["--pcres", tmp_path / "p.tsv", "--max-pcres", 200, "--folds", "random:3"])
    )
    assert res.exit_code == 0, res.output
    ds = GeneDataset.load(out)
    assert ds.max_pcres == 200 and ds.genes.pcre_count.min() >= 0 and ds.genes.pcre_count.max() == 8


# ------------------------------------------------------------------ chromosome aliases

HG19_ALIASES = "# ucsc\tassembly\tgenbank\trefseq\nchr1\t1\tCM000663.1\tNC_000001.10\nchr8\t8\tCM000670.1\tNC_000008.10\nchr14\t14\tCM000676.1\tNC_000014.8\n"
OLD_TABLE = "NC_000001.10\tchr1\trefseq\nNC_000008.10\tchr8\trefseq\n8\tchr8\tensembl\nNC_000014.8\tchr14\trefseq\n14\tchr14\tensembl\n"


@pytest.mark.parametrize("layout", [HG19_ALIASES, OLD_TABLE], ids=["chromAlias.txt", "chromAlias-table"])
def test_refseq_named_genes_with_ucsc_named_tracks_and_contacts(demo, demo_dataset, tmp_path, layout):
    """The real demo genes named as RefSeq names chromosomes, with the UCSC-named bigWigs and pcHi-C list: the same
    pCREs and features as with UCSC names, given the assembly's chromAlias file; a clear error without it."""
    (tmp_path / "aliases.txt").write_text(layout)
    refseq = {"chr1": "NC_000001.10", "chr8": "NC_000008.10", "chr14": "NC_000014.8"}
    bed = pd.read_csv(demo / "genes.bed", sep="\t", header=None)
    bed[0] = bed[0].map(refseq)
    bed.to_csv(tmp_path / "genes.bed", sep="\t", header=False, index=False)
    assert run("genes", "--bed", tmp_path / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    res = run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1 and "--chrom-aliases" in res.output
    res = run(
        "pcres",
        "--genes",
        tmp_path / "genes.tsv",
        "--contacts",
        demo / "pcres.bedpe",
        "--chrom-aliases",
        tmp_path / "aliases.txt",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0, res.output
    res = run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        tmp_path / "genes.tsv",
        "--pcres",
        tmp_path / "p.tsv",
        *track_args(demo, "E003"),
        "--expression",
        demo / "expression.tsv",
        "-j",
        1,
        "-o",
        tmp_path / "x.h5",
    )
    assert res.exit_code == 1 and "--chrom-aliases" in res.output
    res = run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        tmp_path / "genes.tsv",
        "--pcres",
        tmp_path / "p.tsv",
        *track_args(demo, "E003"),
        "--expression",
        demo / "expression.tsv",
        "--chrom-aliases",
        tmp_path / "aliases.txt",
        "-j",
        1,
        "-o",
        tmp_path / "x.h5",
    )
    assert res.exit_code == 0, res.output
    ours, theirs = GeneDataset.load(tmp_path / "x.h5"), GeneDataset.load(demo_dataset)
    order = (
        pd.Series(np.arange(len(ours)), index=ours.genes.gene_id).reindex(theirs.genes.gene_id).to_numpy()
    )  # RefSeq names sort otherwise
    assert (
        ours.genes.chrom.map({v: k for k, v in refseq.items()}).to_numpy()[order].tolist()
        == theirs.genes.chrom.tolist()
    )
    assert (
        ours.genes.fold.to_numpy()[order].tolist() == theirs.genes.fold.tolist()
    )  # the published split, from the tracks' names
    a = ours.batch(order)
    b = theirs.batch(np.arange(len(theirs)))
    for size in theirs.bin_sizes:
        np.testing.assert_array_equal(a.promoter[size], b.promoter[size])
        np.testing.assert_array_equal(a.dense_pcres()[size], b.dense_pcres()[size])
    np.testing.assert_array_equal(a.pcre_score, b.pcre_score)

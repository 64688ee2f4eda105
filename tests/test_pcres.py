import gzip
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run

from chromoflow.errors import ChromoflowError
from chromoflow.prep.genes import genes_from_gtf, write_genes
from chromoflow.prep.pcres import PcreRules, find_pcres, read_pcres

EXTERNAL = Path(__file__).parent / "data" / "external"
GENES = pd.DataFrame(
    {
        "gene_id": ["G1", "G2", "G3"],
        "chrom": ["chr1", "chr1", "chr2"],
        "tss": [100_000, 500_000, 50_000],
        "strand": ["+", "-", "+"],
    }
)


def test_pcres_equal_the_official_metadata(demo, tmp_path):
    """All 19 real demo genes, including a partner that contains its gene's TSS and a tied score."""
    out = tmp_path / "pcres.tsv"
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    assert run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", out).exit_code == 0
    pcres = read_pcres(out)
    meta = pd.read_csv(demo / "demo_meta.csv")
    assert len(meta) == 19
    for row in meta.itertuples():
        mine = pcres[pcres.gene_id == row.gene_id]
        assert [f"{c}:{s}-{e}" for c, s, e in zip(mine.chrom, mine.start, mine.end)] == row.neighbors.split(";"), (
            row.gene_id
        )
        assert np.allclose(mine.score, [float(s) for s in row.scores.split(";")])
        assert mine["rank"].tolist() == list(range(1, len(mine) + 1))
    own = pcres[(pcres.gene_id == "ENSG00000020633") & (pcres.start == 25266898)]
    assert len(own) == 1 and own["rank"].iat[0] == 6  # contains the TSS 25291501: kept, as published


def write_bedpe(path, rows):
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))


def test_bedpe_published_rules(tmp_path):
    path = tmp_path / "x.bedpe"
    write_bedpe(
        path,
        [
            ("chr1", 99_000, 101_000, "chr1", 300_000, 305_000, "a", 3.0, "+", "+"),  # kept
            (
                "chr1",
                200_000,
                210_000,
                "chr1",
                99_500,
                100_500,
                "b",
                4.0,
                "+",
                "+",
            ),  # anchor 2 on the TSS: not G1's bait
            (
                "chr1",
                99_000,
                101_000,
                "chr1",
                300_000,
                305_000,
                "dup",
                5.0,
                "+",
                "+",
            ),  # same TSS, same interval: best score
            ("chr1", 99_000, 101_000, "chr1", 400_000, 402_000, "low", 1.5, "+", "+"),  # score not > 1.5
            ("chr1", 99_000, 101_000, "chr1", 600_000, 650_000, "long", 9.0, "+", "+"),  # longer than 40 kb
            ("chr1", 99_000, 101_000, "chr2", 10_000, 12_000, "trans", 9.0, "+", "+"),  # other chromosome: skipped
            ("chr1", 99_000, 101_000, "chr1", 99_900, 100_100, "self", 2.5, "+", "+"),  # contains the TSS: kept
            ("chr1", 99_000, 101_000, "chr1", 2_500_000, 2_505_000, "far", 9.0, "+", "+"),  # > 2 Mb: kept (no cap)
            ("chr2", 49_000, 51_000, "chr2", 80_000, 81_000, "g3", 2.0, "+", "+"),
        ],
    )
    notes = []
    pcres = find_pcres(GENES, str(path), notes=notes)
    g1 = pcres[pcres.gene_id == "G1"]
    assert list(zip(g1.start, g1.score)) == [(2_500_000, 9.0), (300_000, 5.0), (99_900, 2.5)]
    assert pcres[pcres.gene_id == "G3"].start.tolist() == [80_000]
    assert "G2" not in set(pcres.gene_id)
    assert any("anchors: first" in n for n in notes) and any("skipped 1 inter-chromosomal" in n for n in notes)
    capped = find_pcres(GENES, str(path), PcreRules(max_pcres=1, max_distance=1_000_000))
    assert capped[capped.gene_id == "G1"].start.tolist() == [300_000]
    either = find_pcres(GENES, str(path), PcreRules(anchors="either"))
    assert 200_000 in set(either[either.gene_id == "G1"].start)  # undirected: anchor 2 on the TSS counts too


def test_ties_break_on_interval_text_not_position(tmp_path):
    """The official priority queue compares 'chrom:start-end' strings: 'chr1:1000000-…' < 'chr1:900000-…'."""
    path = tmp_path / "t.bedpe"
    write_bedpe(
        path,
        [
            ("chr1", 99_000, 101_000, "chr1", 900_000, 905_000, "a", 2.0, "+", "."),
            ("chr1", 99_000, 101_000, "chr1", 1_000_000, 1_005_000, "b", 2.0, "+", "."),
            ("chr1", 99_000, 101_000, "chr1", 300_000, 305_000, "c", 2.0, "+", "."),
        ],
    )
    pcres = find_pcres(GENES, str(path), PcreRules(max_pcres=2))
    assert pcres.start.tolist() == [1_000_000, 300_000]


def test_partners_pooled_over_all_tss_first_tss_scores(tmp_path):
    """A gene with two TSSs: partners of both, top 8 overall; an interval listed by both keeps the first TSS's score."""
    genes = pd.DataFrame(
        {
            "gene_id": ["G"],
            "chrom": ["chr1"],
            "tss": [100_000],
            "strand": ["+"],
            "gene_name": [""],
            "tss_all": ["150000,100000"],
        }
    )
    rows = [
        ("chr1", 149_000, 151_000, "chr1", 600_000 + 10_000 * k, 605_000 + 10_000 * k, "t0", 2.0 + k / 10, "+", ".")
        for k in range(5)
    ]
    rows += [
        ("chr1", 99_000, 101_000, "chr1", 300_000 + 10_000 * k, 305_000 + 10_000 * k, "t1", 3.0 + k / 10, "+", ".")
        for k in range(5)
    ]
    rows += [
        ("chr1", 99_000, 101_000, "chr1", 600_000, 605_000, "shared", 9.0, "+", ".")
    ]  # also listed by TSS 0 with 2.0
    path = tmp_path / "m.bedpe"
    write_bedpe(path, rows)
    pcres = find_pcres(genes, str(path))
    assert pcres.start.tolist() == [340_000, 330_000, 320_000, 310_000, 300_000, 640_000, 630_000, 620_000]
    everything = find_pcres(genes, str(path), PcreRules(max_pcres=20))
    assert len(everything) == 10  # 11 rows, one interval listed by both TSSs
    shared = everything[everything.start == 600_000]
    assert shared.score.tolist() == [2.0]  # the first TSS (longest transcript) lists it first


def test_ibed_directional_and_multi_tss(tmp_path):
    path = tmp_path / "x.ibed"
    path.write_text(
        "bait_chr\tbait_start\tbait_end\tbait_name\totherEnd_chr\totherEnd_start\totherEnd_end\totherEnd_name\tN_reads\tscore\n"
        "chr1\t98000\t102000\tG1\tchr1\t150000\t155000\t.\t20\t7.5\n"
        "chr1\t98000\t102000\tG1\tchr1\t160000\t161000\t.\t15\t5.2\n"
        "chr1\t498000\t502000\tG2\tchr1\t98000\t102000\tG1\t9\t8.0\n"  # G2's bait lists G1's fragment: not G1's partner
        "chr1\t498000\t502000\tG2\tchr1\t700000\t710000\t.\t9\t4.0\n"
        "chr1\t98000\t102000\tG1\tchr5\t1000\t2000\t.\t9\t9.0\n"
    )
    pcres = find_pcres(GENES, str(path), PcreRules(min_score=5))
    assert list(zip(pcres.gene_id, pcres.start, pcres.score)) == [
        ("G1", 150_000, 7.5),
        ("G1", 160_000, 5.2),
        ("G2", 98_000, 8.0),
    ]


# ------------------------------------------------------------------ loop lists


def test_real_hiccups_loops_unscored_nearest_first(tmp_path):
    """Real HiCCUPS loops (Rao 2014, mouse CH12; 6 columns): undirected, unscored, nearest first."""
    loops = pd.read_csv(EXTERNAL / "CH12_loops_Rao.bedpe", sep="\t", header=None)
    anchor = loops.iloc[0]
    genes = pd.DataFrame({"gene_id": ["A"], "chrom": [anchor[0]], "tss": [anchor[1] + 5_000], "strand": ["+"]})
    notes = []
    pcres = find_pcres(genes, str(EXTERNAL / "CH12_loops_Rao.bedpe"), PcreRules(max_length=10_000), notes=notes)
    assert any("anchors: either" in n for n in notes) and any("no score column" in n for n in notes)
    # Independent: every loop with an anchor on the TSS, the other anchor, nearest first.
    tss = genes.tss.iat[0]
    on1 = loops[(loops[0] == anchor[0]) & (loops[1] <= tss) & (tss < loops[2])][[3, 4, 5]].to_numpy()
    on2 = loops[(loops[3] == anchor[0]) & (loops[4] <= tss) & (tss < loops[5])][[0, 1, 2]].to_numpy()
    want = pd.DataFrame(np.concatenate([on1, on2]), columns=["chrom", "start", "end"]).drop_duplicates()
    want["d"] = ((want.start + want.end) // 2 - tss).abs()
    want = want.sort_values(["d", "start"]).head(8)
    assert len(want) >= 1
    assert pcres.start.tolist() == want.start.astype(int).tolist() and (pcres.score == 1.0).all()


@pytest.mark.parametrize("gz", [False, True])
def test_loop_list_with_header_and_named_columns(tmp_path, gz):
    text = (
        "#chr1\tx1\tx2\tchr2\ty1\ty2\tname\tscore\tstrand1\tstrand2\tcolor\tobserved\texpectedDonut\tfdrDonut\n"
        "# juicer_tools version 1.22\n"
        "chr1\t300000\t310000\tchr1\t95000\t105000\t.\t.\t.\t.\t0,255,255\t40\t10\t1e-6\n"
        "chr1\t95000\t105000\tchr1\t700000\t710000\t.\t.\t.\t.\t0,255,255\t30\t15\t0.01\n"
        "chr1\t95000\t105000\tchr2\t700000\t710000\t.\t.\t.\t.\t0,255,255\t30\t15\t0.01\n"
    )
    path = tmp_path / ("loops.bedpe.gz" if gz else "loops.bedpe")
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    oe = find_pcres(GENES, str(path), PcreRules(score_column="observed/expectedDonut", max_length=20_000))
    assert list(zip(oe.start, oe.score)) == [(300_000, 4.0), (700_000, 2.0)]
    fdr = find_pcres(GENES, str(path), PcreRules(score_column="fdrDonut", max_length=20_000))
    assert fdr.start.tolist() == [300_000, 700_000] and fdr.score.tolist() == pytest.approx([6.0, 2.0])
    by_number = find_pcres(GENES, str(path), PcreRules(score_column="12", max_length=20_000, min_score=35))
    assert by_number.start.tolist() == [300_000]
    unscored = find_pcres(GENES, str(path), PcreRules(max_length=20_000))  # the 'score' column is '.'
    assert unscored.start.tolist() == [300_000, 700_000]
    with pytest.raises(ChromoflowError, match="no such column"):
        find_pcres(GENES, str(path), PcreRules(score_column="qvalue"))


def test_mustache_style_plain_header(tmp_path):
    path = tmp_path / "m.bedpe"
    path.write_text(
        "BIN1_CHR\tBIN1_START\tBIN1_END\tBIN2_CHROMOSOME\tBIN2_START\tBIN2_END\tFDR\tDETECTION_SCALE\n"
        "chr1\t95000\t105000\tchr1\t400000\t405000\t0.001\t1.5\n"
        "chr1\t95000\t105000\tchr1\t200000\t205000\t0.04\t1.5\n"
    )
    pcres = find_pcres(GENES, str(path), PcreRules(score_column="FDR"))
    assert pcres.start.tolist() == [400_000] and pcres.score.iat[0] == pytest.approx(3.0)  # -log10(0.04) < 1.5


# ------------------------------------------------------------------ matrices


def make_cooler(path, counts: dict, chroms=None, res=10_000, balance=True):
    """A tiny cooler from {(i, j): count} (upper triangle), optionally with given weights (chroms: {"chr1": 100_000})."""
    chroms = chroms or {"chr1": 100_000}
    import cooler

    bins = cooler.binnify(pd.Series(chroms), res)
    ij = sorted(counts)
    pixels = pd.DataFrame(
        {"bin1_id": [i for i, _ in ij], "bin2_id": [j for _, j in ij], "count": [counts[k] for k in ij]}
    )
    cooler.create_cooler(str(path), bins, pixels)
    if balance is not False:
        import h5py

        with h5py.File(path, "r+") as h5:
            h5["bins"].create_dataset("weight", data=np.asarray(balance, float))


def test_cool_observed_over_expected(tmp_path):
    # 10 bins of 10 kb; TSS of G1 at 35 kb -> bin 3.
    counts = {(i, i + 1): 10 for i in range(9)}
    counts.update({(i, i + 2): 4 for i in range(8)})
    counts[(3, 5)] = 16  # a loop two bins away
    counts[(1, 3)] = 2
    weights = np.full(10, 0.5)
    weights[7] = np.nan  # a masked bin
    path = tmp_path / "m.cool"
    make_cooler(path, counts, balance=weights)
    genes = pd.DataFrame({"gene_id": ["G1"], "chrom": ["chr1"], "tss": [35_000], "strand": ["+"]})
    pcres = find_pcres(genes, str(path), PcreRules(min_score=0.0, max_length=10_000, min_count=0))
    # Expected at d=2: balanced pixels (i, i+2) with both bins unmasked: i = 0..7, minus pairs touching bin 7 (5-7, 7-9).
    valid2 = [i for i in range(8) if 7 not in (i, i + 2)]
    e2 = sum(counts[(i, i + 2)] * 0.25 for i in valid2) / len(valid2)
    e1 = sum(counts[(i, i + 1)] * 0.25 for i in range(9) if 7 not in (i, i + 1)) / 7
    got = {(s, e): sc for s, e, sc in zip(pcres.start, pcres.end, pcres.score)}
    assert got[(50_000, 60_000)] == pytest.approx(16 * 0.25 / e2, rel=1e-4)
    assert got[(10_000, 20_000)] == pytest.approx(2 * 0.25 / e2, rel=1e-4)
    assert got[(20_000, 30_000)] == pytest.approx(10 * 0.25 / e1, rel=1e-4)
    assert pcres.start.iloc[0] == 50_000  # the loop ranks first
    assert (30_000, 40_000) not in got  # the TSS bin's own diagonal is never a partner
    few = find_pcres(genes, str(path), PcreRules(min_score=0.0, max_length=10_000, min_count=5))
    assert (10_000, 20_000) not in set(zip(few.start, few.end)) and (50_000, 60_000) in set(zip(few.start, few.end))


def test_cool_errors(tmp_path):
    genes = GENES
    path = tmp_path / "u.cool"
    make_cooler(path, {(0, 1): 3}, balance=False)
    with pytest.raises(ChromoflowError, match="no normalisation.*--no-balance"):
        find_pcres(genes, str(path))
    find_pcres(genes, str(path), PcreRules(balance=False))  # raw counts allowed on request
    with pytest.raises(ChromoflowError, match="no normalisation 'KR'"):
        find_pcres(genes, str(path), PcreRules(normalization="KR"))
    coarse = tmp_path / "c.cool"
    make_cooler(coarse, {(0, 1): 3}, res=50_000, balance=np.ones(2))
    with pytest.raises(ChromoflowError, match="resolution 50000 bp is coarser than --max-length 40000"):
        find_pcres(genes, str(coarse))
    ens = tmp_path / "e.cool"
    make_cooler(ens, {(0, 1): 3}, chroms={"1": 100_000, "2": 100_000}, balance=np.ones(20))
    with pytest.raises(ChromoflowError, match="chromosome names differ.*'chr1'.*'1'"):
        find_pcres(genes, str(ens))


def test_hic_and_its_mcool_give_the_same_pcres(tmp_path):
    """The real .hic of the hictkpy test suite and its .mcool conversion (hic2cool): same pCREs, values too."""
    import hictkpy

    f = hictkpy.File(str(EXTERNAL / "hic_test_file.hic"), 100_000)
    chroms = f.chromosomes()
    rows = [
        (f"g{c}{k}", c, int(p), "+")
        for c in ("chr2L", "chr3R", "chrX")
        for k, p in enumerate(np.linspace(1e6, chroms[c] - 1e6, 6))
    ]
    genes = pd.DataFrame(rows, columns=["gene_id", "chrom", "tss", "strand"])
    rules = PcreRules(max_length=100_000, min_count=0)
    hic = find_pcres(
        genes, f"{EXTERNAL}/hic_test_file.hic", PcreRules(max_length=100_000, min_count=0, normalization="ICE")
    )
    cool = find_pcres(
        genes,
        f"{EXTERNAL}/cooler_test_file.mcool::resolutions/100000",
        PcreRules(max_length=100_000, min_count=0, normalization="weight"),
    )
    assert len(hic) > 50
    pd.testing.assert_frame_equal(hic.drop(columns="score"), cool.drop(columns="score"))
    np.testing.assert_allclose(hic.score, cool.score, rtol=1e-5)
    # An independent O/E for one gene, from cooler's own API (dense balanced matrix).
    import cooler

    clr = cooler.Cooler(f"{EXTERNAL}/cooler_test_file.mcool::resolutions/100000")
    mat = clr.matrix(balance="weight").fetch("chrX")
    n = mat.shape[0]
    band = rules.matrix_max_distance // 100_000 + 1
    expected = np.array([np.nanmean(np.diagonal(mat, d)) for d in range(band + 1)])
    g = genes[genes.chrom == "chrX"].iloc[2]
    row = int(g.tss // 100_000)
    oe = {
        j * 100_000: mat[row, j] / expected[abs(j - row)]
        for j in range(max(0, row - band), min(n, row + band + 1))
        if j != row and np.isfinite(mat[row, j])
    }
    top = sorted(
        ((v, f"chrX:{s}-{min(s + 100_000, clr.chromsizes['chrX'])}") for s, v in oe.items() if v > 1.5),
        key=lambda t: (-t[0], t[1]),
    )[:8]
    mine = cool[cool.gene_id == g.gene_id]
    assert [f"chrX:{s}-{e}" for s, e in zip(mine.start, mine.end)] == [t[1] for t in top]
    np.testing.assert_allclose(mine.score, [t[0] for t in top], rtol=1e-6)


YEAST = EXTERNAL / "yeast.10kb.cool"


def yeast_genes(strands="+-"):
    import cooler

    sizes = cooler.Cooler(str(YEAST)).chromsizes
    rows = [
        (f"y{c}{k}", c, int(p), strands[k % len(strands)])
        for c in ("chrII", "chrIV", "chrXII")
        for k, p in enumerate(np.linspace(60_000, sizes[c] - 60_000, 7))
    ]
    return pd.DataFrame(rows, columns=["gene_id", "chrom", "tss", "strand"])


def independent_oe_pcres(uri, genes, min_count=5, min_score=1.5, top=8):
    """pCREs by the published rules from cooler's own dense matrices: O/E of each TSS bin's row, expected = mean
    balanced contact per diagonal over pairs of valid bins (NaN-masked), partners with >= min_count raw reads."""
    import cooler

    clr = cooler.Cooler(str(uri))
    res, out = clr.binsize, {}
    band = PcreRules().matrix_max_distance // res + 1
    for chrom, sub in genes.groupby("chrom"):
        bal, raw = clr.matrix(balance=True).fetch(chrom), clr.matrix(balance=False).fetch(chrom)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a diagonal of masked bins only: no expected value
            expected = [np.nanmean(np.diagonal(bal, d)) for d in range(min(band, len(bal) - 1) + 1)]
        for g in sub.itertuples():
            t = min(g.tss // res, len(bal) - 1)
            cand = [
                (bal[t, j] / expected[abs(j - t)], j)
                for j in range(max(0, t - band), min(len(bal), t + band + 1))
                if j != t and np.isfinite(bal[t, j]) and raw[t, j] >= min_count
            ]
            keys = sorted(
                (
                    (v, f"{chrom}:{j * res}-{min((j + 1) * res, clr.chromsizes[chrom])}")
                    for v, j in cand
                    if v > min_score
                ),
                key=lambda x: (-x[0], x[1]),
            )
            out[g.gene_id] = keys[:top]
    return out


def test_cooler_format_version_2_is_read_and_scored_as_cooler_does(tmp_path):
    """cooler's own 10 kb yeast map (format-version 2, cooler 0.5.3; hictkpy refuses it): read through the cooler
    package, O/E equal to an independent computation; a format-version 3 .cool and an .mcool of the same data,
    read through hictkpy, give identical pCREs."""
    import cooler
    import h5py
    import hictkpy

    from chromoflow.prep.contacts import ContactMatrix, _CoolerMatrix, _HictkMatrix

    with h5py.File(YEAST) as h5:
        assert h5.attrs["format-version"] == 2
    with pytest.raises(RuntimeError):
        hictkpy.File(str(YEAST))
    genes = yeast_genes()
    rules = PcreRules(max_length=10_000)
    with ContactMatrix(str(YEAST)) as m:
        assert isinstance(m._matrix, _CoolerMatrix) and m.normalization == "weight"
    pcres = find_pcres(genes, str(YEAST), rules)
    want = independent_oe_pcres(YEAST, genes)
    assert sum(len(v) for v in want.values()) > 60
    for gene, top in want.items():
        mine = pcres[pcres.gene_id == gene]
        assert [f"{c}:{s}-{e}" for c, s, e in zip(mine.chrom, mine.start, mine.end)] == [k for _, k in top], gene
        np.testing.assert_allclose(mine.score, [v for v, _ in top], rtol=1e-6)
    clr = cooler.Cooler(str(YEAST))
    bins, pixels = clr.bins()[:], clr.pixels()[:]
    cooler.create_cooler(str(tmp_path / "v3.cool"), bins, pixels)
    cooler.create_cooler(f"{tmp_path}/v3.mcool::resolutions/10000", bins, pixels)
    for uri in (str(tmp_path / "v3.cool"), f"{tmp_path}/v3.mcool::resolutions/10000"):
        with ContactMatrix(uri) as m:
            assert isinstance(m._matrix, _HictkMatrix)
        again = find_pcres(genes, uri, rules)
        pd.testing.assert_frame_equal(again.drop(columns="score"), pcres.drop(columns="score"))
        np.testing.assert_allclose(again.score, pcres.score, rtol=1e-6)
    assert (
        run(
            "pcres",
            "--genes",
            write_genes_tsv(genes, tmp_path),
            "--contacts",
            YEAST,
            "--max-length",
            10_000,
            "-o",
            tmp_path / "p.tsv",
        ).exit_code
        == 0
    )


def write_genes_tsv(genes, folder):
    write_genes(genes.assign(gene_name="", tss_all=genes.tss.astype(str)), folder / "genes.tsv")
    return folder / "genes.tsv"


def test_hic_errors(tmp_path):
    with pytest.raises(ChromoflowError, match="no resolution 5000 .available: 100000"):
        find_pcres(GENES, f"{EXTERNAL}/hic_test_file.hic::resolutions/5000")
    with pytest.raises(ChromoflowError, match="no normalisation 'KR' in the file .available: ICE"):
        find_pcres(GENES, f"{EXTERNAL}/hic_test_file.hic", PcreRules(max_length=100_000, normalization="KR"))
    with pytest.raises(ChromoflowError, match="none of the genes' chromosomes"):
        find_pcres(GENES, f"{EXTERNAL}/hic_test_file.hic", PcreRules(max_length=100_000))
    junk = tmp_path / "junk.hic"
    junk.write_bytes(b"HIC\0" + b"\x07" * 200)
    with pytest.raises(ChromoflowError, match="junk.hic: cannot read it as a .hic file"):
        find_pcres(GENES, str(junk))


def test_mcool_needs_resolution(sim, tmp_path):
    res = run("pcres", "--genes", tmp_path / "nope.tsv", "--contacts", sim / "contacts.mcool", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1
    assert "nope.tsv" in res.output
    write_genes(genes_from_gtf(sim / "genes.gtf"), tmp_path / "genes.tsv")
    res = run(
        "pcres", "--genes", tmp_path / "genes.tsv", "--contacts", sim / "contacts.mcool", "-o", tmp_path / "p.tsv"
    )
    assert res.exit_code == 1 and "multi-resolution file: pick one" in res.output and "5000, 10000" in res.output
    assert not (tmp_path / "p.tsv").exists()


def test_simulated_loops_are_recovered(sim_datasets, sim):
    """The best-scoring cooler partner of a gene is one of its planted enhancers."""
    pcres = read_pcres(sim_datasets["pcres"])
    truth = pd.read_csv(sim / "interactions.bedpe", sep="\t", header=None)
    truth = truth[truth[7] >= 3.0]  # planted loops (decoys score < 3)
    best = pcres[pcres["rank"] == 1].set_index("gene_id")
    hits = total = 0
    for gene, rows in truth.groupby(6):
        if gene not in best.index:
            continue
        total += 1
        s, e = best.loc[gene, "start"], best.loc[gene, "end"]
        hits += bool(((rows[4] < e) & (rows[5] > s)).any())
    assert total > 100
    assert hits / total > 0.9


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "no BEDPE rows"),
        ("chr1\t1\t2\tchr1\t5\n", "line 1: expected at least 6"),
        ("chr1\t1\t2\tchr1\t5\t6\tn\thigh\t+\t+\n", "line 1: score \\(column 8\\) must be a finite number"),
        ("chr1\t1\t2\tchr1\t5\t6\tn\tinf\t+\t+\n", "line 1: score \\(column 8\\) must be a finite number"),
        ("chr1\t10\t5\tchr1\t5\t6\tn\t2\t+\t+\n", "line 1: invalid anchor 1 interval 10-5"),
        ("chr1\t1\t2\tchr1\t5\tx\tn\t2\t+\t+\n", "line 1: end2 must be an integer"),
    ],
)
def test_bad_bedpe(tmp_path, content, message):
    path = tmp_path / "bad.bedpe"
    path.write_text(content)
    with pytest.raises(ChromoflowError, match=message):
        find_pcres(GENES, str(path))


def test_unknown_format(tmp_path):
    with pytest.raises(ChromoflowError, match="x.txt: no such file"):
        find_pcres(GENES, str(tmp_path / "x.txt"))
    (tmp_path / "x.txt").write_text("chr1\t100\t200\n")
    with pytest.raises(ChromoflowError, match="unknown contact format"):
        find_pcres(GENES, str(tmp_path / "x.txt"))


# ------------------------------------------------------------------ loop lists as callers write them


def mouse_genes_at_anchors(loops, n=60):
    """Genes with a TSS inside the first anchor of every other loop (as a gene table would hold some anchors)."""
    rows = [
        (f"m{k}", r[0], int(r[1]) + 1000, "+") for k, r in enumerate(loops.iloc[: 2 * n : 2].itertuples(index=False))
    ]
    return pd.DataFrame(rows, columns=["gene_id", "chrom", "tss", "strand"])


def test_headerless_scored_loop_list_is_undirected(tmp_path):
    """Real HiCCUPS loops written as Peakachu writes its output (headerless; probability and score in columns 7 and
    8): the 8th column no longer makes it directional; the same pCREs as --anchors either, and the log says why."""
    loops = pd.read_csv(EXTERNAL / "CH12_loops_Rao.bedpe", sep="\t", header=None)
    rng = np.random.default_rng(0)
    peakachu = loops.assign(prob=rng.uniform(0.8, 1, len(loops)).round(4), score=rng.uniform(2, 9, len(loops)).round(3))
    # the loops swapped at random, as a caller that does not order anchors by TSS writes them
    flip = rng.random(len(loops)) < 0.5
    peakachu.loc[flip, [0, 1, 2, 3, 4, 5]] = peakachu.loc[flip, [3, 4, 5, 0, 1, 2]].to_numpy()
    path = tmp_path / "peakachu.bedpe"
    peakachu.to_csv(path, sep="\t", header=False, index=False)
    genes = mouse_genes_at_anchors(loops)
    rules = PcreRules(max_length=10_000, min_score=0)
    notes = []
    auto = find_pcres(genes, str(path), rules, notes=notes)
    either = find_pcres(genes, str(path), PcreRules(max_length=10_000, min_score=0, anchors="either"))
    first = find_pcres(genes, str(path), PcreRules(max_length=10_000, min_score=0, anchors="first"))
    assert any(n.startswith("anchors: either (anchor 1 holds a TSS in") for n in notes), notes
    pd.testing.assert_frame_equal(auto, either)
    assert len(first) < 0.75 * len(auto)


def test_capture_list_is_directional_from_the_evidence(demo, tmp_path):
    """The real demo pcHi-C list: anchor 1 (the bait) holds a TSS in every row, anchor 2 rarely: directional."""
    from chromoflow.prep.genes import read_genes

    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    notes = []
    find_pcres(read_genes(tmp_path / "genes.tsv"), str(demo / "pcres.bedpe"), notes=notes)
    assert any(n.startswith("anchors: first (anchor 1 holds a TSS in 100% of the rows") for n in notes), notes


@pytest.mark.parametrize("name", ["loops.tsv", "x.interactions_FitHiC_Q0.01.bed", "GSM1234_pchic.ibed.txt.gz"])
def test_lists_are_recognised_by_content(demo, tmp_path, name):
    """Mustache .tsv, FitHiChIP .bed and GEO .ibed.txt.gz names: read by content (or the name's inner .ibed)."""
    from chromoflow.prep.genes import read_genes

    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    genes = read_genes(tmp_path / "genes.tsv")
    text = (demo / "pcres.bedpe").read_text()
    path = tmp_path / name
    if name.endswith(".ibed.txt.gz"):
        rows = [line.split("\t") for line in text.splitlines()]
        ibed = "bait_chr\tbait_start\tbait_end\tbait_name\totherEnd_chr\totherEnd_start\totherEnd_end\totherEnd_name\tN_reads\tscore\n"
        ibed += "".join("\t".join([r[0], r[1], r[2], "b", r[3], r[4], r[5], "o", "10", r[7]]) + "\n" for r in rows)
        with gzip.open(path, "wt") as fh:
            fh.write(ibed)
    else:
        path.write_text("chr1\tx1\tx2\tchr2\ty1\ty2\tname\tscore\tstrand1\tstrand2\n" + text)
    want = find_pcres(genes, str(demo / "pcres.bedpe"), PcreRules(anchors="first"))
    got = find_pcres(genes, str(path), PcreRules(anchors="first"))
    pd.testing.assert_frame_equal(got, want)


def test_warnings_for_contacts_that_silently_give_less(demo, tmp_path, caplog):
    """A score column of NaN only, contacts missing some of the genes' chromosomes, and matrix options with a list:
    each is said, in one warning line."""
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    rows = [line.split("\t") for line in (demo / "pcres.bedpe").read_text().splitlines()]
    (tmp_path / "nan.bedpe").write_text("".join("\t".join(r[:7] + ["NaN"] + r[8:]) + "\n" for r in rows))
    res = run(
        "pcres", "--genes", tmp_path / "genes.tsv", "--contacts", tmp_path / "nan.bedpe", "-o", tmp_path / "p.tsv"
    )
    assert res.exit_code == 0 and "the score column (column 8) holds no numbers" in res.output, res.output
    (tmp_path / "chr14.bedpe").write_text("".join("\t".join(r) + "\n" for r in rows if r[0] == "chr14"))
    res = run(
        "pcres",
        "--genes",
        tmp_path / "genes.tsv",
        "--contacts",
        tmp_path / "chr14.bedpe",
        "--min-count",
        2,
        "--no-balance",
        "-o",
        tmp_path / "p.tsv",
    )
    assert res.exit_code == 0, res.output
    assert "no contacts on 2 of the genes' chromosomes (chr1, chr8): their 9 genes get no pCREs" in res.output
    assert "--min-count, --no-balance apply to Hi-C matrices only; ignored for this interaction list" in res.output


def test_hic_sharing_few_chromosomes_warns(tmp_path):
    """The real dm6 .hic with genes on its chromosomes and on chromosomes it lacks."""
    genes = pd.DataFrame(
        {
            "gene_id": ["a", "b", "c"],
            "chrom": ["chr2L", "chr2R", "chr5"],
            "tss": [2_000_000, 2_000_000, 100],
            "strand": ["+", "+", "+"],
        }
    )
    write_genes(genes.assign(gene_name="", tss_all=genes.tss.astype(str)), tmp_path / "genes.tsv")
    res = run(
        "pcres",
        "--genes",
        tmp_path / "genes.tsv",
        "--contacts",
        EXTERNAL / "hic_test_file.hic",
        "--max-length",
        100_000,
        "--min-count",
        0,
        "-o",
        tmp_path / "p.tsv",
    )
    assert (
        res.exit_code == 0
        and "no contacts on 1 of the genes' chromosomes (chr5): their 1 genes get no pCREs" in res.output
    ), res.output

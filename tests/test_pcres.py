import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chromoflow.errors import ChromoflowError
from chromoflow.prep.genes import genes_from_bed, genes_from_gtf, write_genes
from chromoflow.prep.pcres import PcreRules, find_pcres, read_pcres

from conftest import run

EXTERNAL = Path(__file__).parent / "data" / "external"
GENES = pd.DataFrame(
    {"gene_id": ["G1", "G2", "G3"], "chrom": ["chr1", "chr1", "chr2"], "tss": [100_000, 500_000, 50_000], "strand": ["+", "-", "+"]}
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
        assert [f"{c}:{s}-{e}" for c, s, e in zip(mine.chrom, mine.start, mine.end)] == row.neighbors.split(";"), row.gene_id
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
            ("chr1", 200_000, 210_000, "chr1", 99_500, 100_500, "b", 4.0, "+", "+"),  # anchor 2 on the TSS: not G1's bait
            ("chr1", 99_000, 101_000, "chr1", 300_000, 305_000, "dup", 5.0, "+", "+"),  # same TSS, same interval: best score
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
    genes = pd.DataFrame({"gene_id": ["G"], "chrom": ["chr1"], "tss": [100_000], "strand": ["+"], "gene_name": [""], "tss_all": ["150000,100000"]})
    rows = [("chr1", 149_000, 151_000, "chr1", 600_000 + 10_000 * k, 605_000 + 10_000 * k, "t0", 2.0 + k / 10, "+", ".") for k in range(5)]
    rows += [("chr1", 99_000, 101_000, "chr1", 300_000 + 10_000 * k, 305_000 + 10_000 * k, "t1", 3.0 + k / 10, "+", ".") for k in range(5)]
    rows += [("chr1", 99_000, 101_000, "chr1", 600_000, 605_000, "shared", 9.0, "+", ".")]  # also listed by TSS 0 with 2.0
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
    assert list(zip(pcres.gene_id, pcres.start, pcres.score)) == [("G1", 150_000, 7.5), ("G1", 160_000, 5.2), ("G2", 98_000, 8.0)]


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


def make_cooler(path, counts: dict, chroms={"chr1": 100_000}, res=10_000, balance=True):
    """A tiny cooler from {(i, j): count} (upper triangle), optionally with given weights."""
    import cooler

    bins = cooler.binnify(pd.Series(chroms), res)
    ij = sorted(counts)
    pixels = pd.DataFrame({"bin1_id": [i for i, _ in ij], "bin2_id": [j for _, j in ij], "count": [counts[k] for k in ij]})
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
    rows = [(f"g{c}{k}", c, int(p), "+") for c in ("chr2L", "chr3R", "chrX") for k, p in enumerate(np.linspace(1e6, chroms[c] - 1e6, 6))]
    genes = pd.DataFrame(rows, columns=["gene_id", "chrom", "tss", "strand"])
    rules = PcreRules(max_length=100_000, min_count=0)
    hic = find_pcres(genes, f"{EXTERNAL}/hic_test_file.hic", PcreRules(max_length=100_000, min_count=0, normalization="ICE"))
    cool = find_pcres(genes, f"{EXTERNAL}/cooler_test_file.mcool::resolutions/100000", PcreRules(max_length=100_000, min_count=0, normalization="weight"))
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
    oe = {j * 100_000: mat[row, j] / expected[abs(j - row)] for j in range(max(0, row - band), min(n, row + band + 1)) if j != row and np.isfinite(mat[row, j])}
    top = sorted(((v, f"chrX:{s}-{min(s + 100_000, clr.chromsizes['chrX'])}") for s, v in oe.items() if v > 1.5), key=lambda t: (-t[0], t[1]))[:8]
    mine = cool[cool.gene_id == g.gene_id]
    assert [f"chrX:{s}-{e}" for s, e in zip(mine.start, mine.end)] == [t[1] for t in top]
    np.testing.assert_allclose(mine.score, [t[0] for t in top], rtol=1e-6)


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
    res = run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", sim / "contacts.mcool", "-o", tmp_path / "p.tsv")
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
    with pytest.raises(ChromoflowError, match="unknown contact format"):
        find_pcres(GENES, str(tmp_path / "x.txt"))

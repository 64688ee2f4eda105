import numpy as np
import pandas as pd
import pytest

from chromoflow.errors import ChromoflowError
from chromoflow.prep.pcres import PcreRules, find_pcres, read_pcres

from conftest import run

GENES = pd.DataFrame(
    {"gene_id": ["G1", "G2", "G3"], "chrom": ["chr1", "chr1", "chr2"], "tss": [100_000, 500_000, 50_000], "strand": ["+", "-", "+"]}
)


def test_bedpe_matches_official_metadata(demo, tmp_path):
    out = tmp_path / "pcres.tsv"
    assert run("genes", "--bed", demo / "genes.bed", "-o", tmp_path / "genes.tsv").exit_code == 0
    assert run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", out).exit_code == 0
    pcres = read_pcres(out)
    meta = pd.read_csv(demo / "demo_meta.csv")
    for row in meta.itertuples():
        mine = pcres[pcres.gene_id == row.gene_id]
        assert [f"{c}:{s}-{e}" for c, s, e in zip(mine.chrom, mine.start, mine.end)] == row.neighbors.split(";")
        assert np.allclose(mine.score, [float(s) for s in row.scores.split(";")])
        assert mine["rank"].tolist() == list(range(1, len(mine) + 1))


def write_bedpe(path, rows):
    path.write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))


def test_bedpe_rules(tmp_path):
    path = tmp_path / "x.bedpe"
    write_bedpe(
        path,
        [
            ("chr1", 99_000, 101_000, "chr1", 300_000, 305_000, "a", 3.0, "+", "+"),  # kept
            ("chr1", 200_000, 210_000, "chr1", 99_500, 100_500, "b", 4.0, "+", "+"),  # anchor 2 on TSS: kept, pCRE = anchor 1
            ("chr1", 99_000, 101_000, "chr1", 300_000, 305_000, "dup", 5.0, "+", "+"),  # duplicate interval: max score wins
            ("chr1", 99_000, 101_000, "chr1", 400_000, 402_000, "low", 1.5, "+", "+"),  # score not > 1.5
            ("chr1", 99_000, 101_000, "chr1", 600_000, 650_000, "long", 9.0, "+", "+"),  # longer than 40 kb
            ("chr1", 99_000, 101_000, "chr2", 10_000, 12_000, "trans", 9.0, "+", "+"),  # other chromosome
            ("chr1", 99_000, 101_000, "chr1", 99_900, 100_100, "self", 9.0, "+", "+"),  # contains the TSS
            ("chr1", 99_000, 101_000, "chr1", 2_500_000, 2_505_000, "far", 9.0, "+", "+"),  # > 2 Mb
            ("chr2", 49_000, 51_000, "chr2", 80_000, 81_000, "g3", 2.0, "+", "+"),
        ],
    )
    pcres = find_pcres(GENES, str(path))
    g1 = pcres[pcres.gene_id == "G1"]
    assert list(zip(g1.start, g1.score)) == [(300_000, 5.0), (200_000, 4.0)]
    assert pcres[pcres.gene_id == "G3"].start.tolist() == [80_000]
    assert "G2" not in set(pcres.gene_id)
    capped = find_pcres(GENES, str(path), PcreRules(max_pcres=1, min_score=0.5, max_distance=3_000_000))
    assert capped[capped.gene_id == "G1"].start.tolist() == [2_500_000]  # best score 9.0 once > 2 Mb is allowed


def test_ibed(tmp_path):
    path = tmp_path / "x.ibed"
    path.write_text(
        "bait_chr\tbait_start\tbait_end\tbait_name\totherEnd_chr\totherEnd_start\totherEnd_end\totherEnd_name\tN_reads\tscore\n"
        "chr1\t98000\t102000\tG1\tchr1\t150000\t155000\t.\t20\t7.5\n"
        "chr1\t98000\t102000\tG1\tchr1\t160000\t161000\t.\t15\t5.2\n"
        "chr1\t150000\t155000\t.\tchr1\t98000\t102000\tG1\t20\t7.5\n"
        "chr1\t498000\t502000\tG2\tchr1\t700000\t710000\t.\t9\t4.0\n"
    )
    pcres = find_pcres(GENES, str(path), PcreRules(min_score=5))
    assert list(zip(pcres.gene_id, pcres.start, pcres.score)) == [("G1", 150_000, 7.5), ("G1", 160_000, 5.2)]


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
    pcres = find_pcres(genes, str(path), PcreRules(min_score=0.0, max_length=10_000))
    # Expected at d=2: balanced pixels (i, i+2) with both bins unmasked: i = 0..7, minus pairs touching bin 7 (5-7, 7-9).
    valid2 = [i for i in range(8) if 7 not in (i, i + 2)]
    e2 = sum(counts[(i, i + 2)] * 0.25 for i in valid2) / len(valid2)
    e1 = sum(counts[(i, i + 1)] * 0.25 for i in range(9) if 7 not in (i, i + 1)) / 7
    got = {(s, e): sc for s, e, sc in zip(pcres.start, pcres.end, pcres.score)}
    assert got[(50_000, 60_000)] == pytest.approx(16 * 0.25 / e2, rel=1e-4)
    assert got[(10_000, 20_000)] == pytest.approx(2 * 0.25 / e2, rel=1e-4)
    assert got[(20_000, 30_000)] == pytest.approx(10 * 0.25 / e1, rel=1e-4)
    assert pcres.start.iloc[0] == 50_000  # the loop ranks first
    assert (30_000, 40_000) not in got  # the TSS bin itself is never a partner


def test_cool_errors(tmp_path):
    genes = GENES
    path = tmp_path / "u.cool"
    make_cooler(path, {(0, 1): 3}, balance=False)
    with pytest.raises(ChromoflowError, match="not balanced.*--no-balance"):
        find_pcres(genes, str(path))
    find_pcres(genes, str(path), balance=False)  # raw counts allowed on request
    coarse = tmp_path / "c.cool"
    make_cooler(coarse, {(0, 1): 3}, res=50_000, balance=np.ones(2))
    with pytest.raises(ChromoflowError, match="resolution 50000 bp is coarser than --max-length 40000"):
        find_pcres(genes, str(coarse))
    ens = tmp_path / "e.cool"
    make_cooler(ens, {(0, 1): 3}, chroms={"1": 100_000, "2": 100_000}, balance=np.ones(20))
    with pytest.raises(ChromoflowError, match="chromosome names differ"):
        find_pcres(genes, str(ens))


def test_mcool_needs_resolution(sim, tmp_path):
    res = run("pcres", "--genes", tmp_path / "nope.tsv", "--contacts", sim / "contacts.mcool", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1
    assert "nope.tsv" in res.output
    from chromoflow.prep.genes import genes_from_gtf, write_genes

    write_genes(genes_from_gtf(sim / "genes.gtf"), tmp_path / "genes.tsv")
    res = run("pcres", "--genes", tmp_path / "genes.tsv", "--contacts", sim / "contacts.mcool", "-o", tmp_path / "p.tsv")
    assert res.exit_code == 1 and "multi-resolution cooler: pick one" in res.output and "5000, 10000" in res.output
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
        ("chr1\t1\t2\tchr1\t5\t6\n", "line 1: expected at least 8"),
        ("chr1\t1\t2\tchr1\t5\t6\tn\thigh\t+\t+\n", "line 1: score \\(column 8\\) must be a number"),
        ("chr1\t10\t5\tchr1\t5\t6\tn\t2\t+\t+\n", "line 1: invalid interval 10-5"),
    ],
)
def test_bad_bedpe(tmp_path, content, message):
    path = tmp_path / "bad.bedpe"
    path.write_text(content)
    with pytest.raises(ChromoflowError, match=message):
        find_pcres(GENES, str(path))


def test_unknown_format(tmp_path):
    with pytest.raises(ChromoflowError, match="unknown contact format"):
        find_pcres(GENES, str(tmp_path / "x.hic"))

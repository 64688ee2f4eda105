import gzip

import numpy as np

import pandas as pd
import pytest

from chromoflow.errors import ChromoflowError
from chromoflow.prep.genes import genes_from_bed, genes_from_gtf, read_genes

from conftest import run

GTF = """##format: gtf
chr1\tHAVANA\tgene\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; gene_type "transcribed_unprocessed_pseudogene"; gene_name "DDX11L1";
chr1\tHAVANA\ttranscript\t11869\t14409\t.\t+\t.\tgene_id "ENSG00000223972.5"; transcript_id "ENST00000456328.2"; gene_type "transcribed_unprocessed_pseudogene";
chr1\tHAVANA\tgene\t65419\t71585\t.\t+\t.\tgene_id "ENSG00000186092.7"; gene_type "protein_coding"; gene_name "OR4F5";
chr1\tHAVANA\tgene\t944203\t959309\t.\t-\t.\tgene_id "ENSG00000188976.11"; gene_type "protein_coding"; gene_name "NOC2L";
chrX\tHAVANA\tgene\t276322\t303356\t.\t+\t.\tgene_id "ENSG00000182378.14"; gene_type "protein_coding"; gene_name "PLCXD1";
chrY\tHAVANA\tgene\t276322\t303356\t.\t+\t.\tgene_id "ENSG00000182378.14_PAR_Y"; gene_type "protein_coding"; gene_name "PLCXD1";
chr10\tHAVANA\tgene\t100\t200\t.\t-\t.\tgene_id "ENSG00000000010.1"; gene_type "protein_coding";
"""


def test_gtf_tss_strand_versions_par_and_order(tmp_path):
    path = tmp_path / "a.gtf.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(GTF)
    genes = genes_from_gtf(path)
    # Natural chromosome order (chr1 < chr10 < chrX), then TSS; PAR_Y copy dropped.
    assert genes.gene_id.tolist() == ["ENSG00000223972", "ENSG00000186092", "ENSG00000188976", "ENSG00000000010", "ENSG00000182378"]
    tss = dict(zip(genes.gene_id, genes.tss))
    assert tss["ENSG00000223972"] == 11868  # + strand: 1-based start 11869 -> 0-based 11868
    assert tss["ENSG00000188976"] == 959308  # - strand: 1-based end 959309 -> 0-based 959308
    assert tss["ENSG00000000010"] == 199


def test_gtf_biotype_filter(tmp_path):
    path = tmp_path / "a.gtf"
    path.write_text(GTF)
    genes = genes_from_gtf(path, ["protein_coding"])
    assert "ENSG00000223972" not in set(genes.gene_id)
    assert len(genes) == 4


def test_gtf_without_gene_records_uses_transcript_span(tmp_path):
    path = tmp_path / "ucsc.gtf"
    path.write_text(
        'chr2\tucsc\texon\t1001\t1100\t.\t-\t.\tgene_id "G1"; transcript_id "T1";\n'
        'chr2\tucsc\texon\t1501\t2000\t.\t-\t.\tgene_id "G1"; transcript_id "T1";\n'
        'chr2\tucsc\texon\t3001\t3100\t.\t+\t.\tgene_id "G2"; transcript_id "T2";\n'
    )
    genes = genes_from_gtf(path)
    assert dict(zip(genes.gene_id, genes.tss)) == {"G1": 1999, "G2": 3000}


def test_bed_tss(demo):
    genes = genes_from_bed(demo / "genes.bed")
    assert len(genes) == 19
    row = genes.set_index("gene_id").loc["ENSG00000092201"]  # - strand, BED 21852178-21852179
    assert (row.chrom, row.tss, row.strand) == ("chr14", 21852178, "-")
    # The official metadata's TSS ('start') for every demo gene.
    meta = pd.read_csv(demo / "demo_meta.csv").set_index("gene_id")
    assert (genes.set_index("gene_id").tss == meta.start.reindex(genes.gene_id).to_numpy()).all()


@pytest.mark.parametrize(
    "text, message",
    [
        ("chr1\t10\t20\tG1\t0\n", "line 1: expected 6"),
        ("chr1\t10\t20\tG1\t0\t+\nchr1\tx\t20\tG2\t0\t+\n", "line 2: start/end must be integers"),
        ("chr1\t10\t20\tG1\t0\t+\nchr1\t30\t40\tG1\t0\t-\n", "'G1' occurs more than once (lines 1, 2)"),
        ("chr1\t10\t20\tG1\t0\t.\n", "strand must be"),
    ],
)
def test_bad_bed_rows(tmp_path, text, message):
    path = tmp_path / "g.bed"
    path.write_text(text)
    with pytest.raises(ChromoflowError, match=message.replace("(", r"\(").replace(")", r"\)")):
        genes_from_bed(path)


def test_cli_genes_and_errors(tmp_path, demo):
    out = tmp_path / "genes.tsv"
    res = run("genes", "--bed", demo / "genes.bed", "-o", out)
    assert res.exit_code == 0
    back = read_genes(out)
    assert list(back.columns) == ["gene_id", "chrom", "tss", "strand", "gene_name", "tss_all"] and len(back) == 19
    assert (back.tss_all == back.tss.astype(str)).all()  # BED: one TSS per gene
    bad = tmp_path / "bad.gtf"
    bad.write_text("chr1\tx\tgene\t1\t10\t.\t+\n")
    res = run("genes", "--gtf", bad, "-o", tmp_path / "g2.tsv")
    assert res.exit_code == 1
    assert "bad.gtf line 1: expected 9 tab-separated GTF columns" in res.output
    assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "g2.tsv").exists()
    assert run("genes", "-o", tmp_path / "x.tsv").exit_code == 2  # neither --gtf nor --bed


def test_read_genes_rejects_duplicates(tmp_path):
    path = tmp_path / "genes.tsv"
    path.write_text("gene_id\tchrom\ttss\tstrand\nA\tchr1\t10\t+\nA\tchr1\t20\t-\n")
    with pytest.raises(ChromoflowError, match="line 3: duplicate gene_id 'A'"):
        read_genes(path)


EXTERNAL = __import__("pathlib").Path(__file__).parent / "data" / "external"


def test_all_tss_of_a_real_ensembl_gtf_equal_an_independent_parse():
    """Every transcript start, longest transcript first, as the published preprocessing lists them."""
    path = EXTERNAL / "ensembl_grch37.head.gtf.gz"
    genes = genes_from_gtf(path).set_index("gene_id")
    # Independent: pandas over the transcript records.
    gtf = pd.read_csv(path, sep="\t", comment="#", header=None)
    tx = gtf[gtf[2] == "transcript"].copy()
    tx["gene_id"] = tx[8].str.extract(r'gene_id "([^"]+)"')[0]
    tx["tss"] = np.where(tx[6] == "+", tx[3] - 1, tx[4] - 1)
    tx["length"] = tx[4] - tx[3] + 1
    n_multi = 0
    for gid, sub in tx.groupby("gene_id", sort=False):
        sub = sub.sort_values("length", ascending=False, kind="stable")
        want = list(dict.fromkeys(sub["tss"].tolist()))
        got = [int(x) for x in genes.loc[gid, "tss_all"].split(",")]
        assert got == want, gid
        n_multi += len(want) > 1
    assert n_multi >= 10  # the file has genes with several TSSs
    g = gtf[gtf[2] == "gene"].copy()
    g["gene_id"] = g[8].str.extract(r'gene_id "([^"]+)"')[0]
    g["tss"] = np.where(g[6] == "+", g[3] - 1, g[4] - 1)
    assert (genes.loc[g.gene_id, "tss"].to_numpy() == g.tss.to_numpy()).all()  # the gene record's 5' end
    assert (genes.loc[g.gene_id, "gene_name"].to_numpy() == g[8].str.extract(r'gene_name "([^"]+)"')[0].to_numpy()).all()


def test_real_stringtie_gtf_without_gene_records():
    """A real mouse StringTie GTF (no gene records): transcripts grouped per gene, names from ref_gene_name."""
    path = EXTERNAL / "B16.stringtie.head.gtf"
    genes = genes_from_gtf(path).set_index("gene_id")
    gtf = pd.read_csv(path, sep="\t", comment="#", header=None)
    tx = gtf[(gtf[2] == "transcript") & (gtf[6] != ".")].copy()  # unstranded transcripts have no TSS
    tx["gene_id"] = tx[8].str.extract(r'gene_id "([^"]+)"')[0]
    assert set(genes.index) == set(tx.gene_id) and len(genes) > 50
    for gid, sub in tx.groupby("gene_id"):
        plus = sub[6].iat[0] == "+"
        assert genes.loc[gid, "tss"] == (sub[3].min() - 1 if plus else sub[4].max() - 1)
        assert genes.loc[gid, "chrom"] == "chr1"
    assert genes.loc["STRG.1", "gene_name"] == "Mrpl15"


def test_gtf_id_on_several_loci_keeps_one_and_warns(tmp_path, caplog):
    path = tmp_path / "split.gtf"
    path.write_text(
        'chr1\tx\ttranscript\t1001\t2000\t.\t+\t.\tgene_id "G"; transcript_id "T1";\n'
        'chr5\tx\ttranscript\t5001\t9000\t.\t-\t.\tgene_id "G"; transcript_id "T2";\n'
        'chr5\tx\ttranscript\t5501\t8000\t.\t-\t.\tgene_id "G"; transcript_id "T3";\n'
    )
    with caplog.at_level("WARNING", logger="chromoflow"):
        genes = genes_from_gtf(path)
    row = genes.set_index("gene_id").loc["G"]
    # Two transcripts on chr5 - beat one on chr1; the span is chr5's only (not chr1..chr5).
    assert (row.chrom, row.strand, row.tss, row.tss_all) == ("chr5", "-", 8999, "8999,7999")
    assert "occur on several chromosomes/strands" in caplog.text and "chr1 +" in caplog.text


def test_gtf_multi_tss_order_and_gene_record_centre(tmp_path):
    path = tmp_path / "m.gtf"
    path.write_text(
        'chr2\tx\tgene\t1001\t9000\t.\t+\t.\tgene_id "ENSG00000000001.3"; gene_type "protein_coding"; gene_name "Gee";\n'
        'chr2\tx\ttranscript\t3001\t5000\t.\t+\t.\tgene_id "ENSG00000000001.3"; transcript_id "A";\n'
        'chr2\tx\ttranscript\t1001\t9000\t.\t+\t.\tgene_id "ENSG00000000001.3"; transcript_id "B";\n'
        'chr2\tx\ttranscript\t3001\t4000\t.\t+\t.\tgene_id "ENSG00000000001.3"; transcript_id "C";\n'
        'chr2\tx\ttranscript\t6001\t9000\t.\t+\t.\tgene_id "ENSG00000000001.3"; transcript_id "D";\n'
    )
    row = genes_from_gtf(path).iloc[0]
    assert (row.gene_id, row.tss, row.gene_name) == ("ENSG00000000001", 1000, "Gee")
    assert row.tss_all == "1000,6000,3000"  # by transcript length: B (8000), D (3000), A (2000; C's TSS is A's)

import gzip

import numpy as np
import pandas as pd
import pytest
from conftest import run

from chromoflow.errors import ChromoflowError
from chromoflow.prep.genes import genes_from_bed, genes_from_gtf, read_genes

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
    assert genes.gene_id.tolist() == [
        "ENSG00000223972",
        "ENSG00000186092",
        "ENSG00000188976",
        "ENSG00000000010",
        "ENSG00000182378",
    ]
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
    assert (
        genes.loc[g.gene_id, "gene_name"].to_numpy() == g[8].str.extract(r'gene_name "([^"]+)"')[0].to_numpy()
    ).all()


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


# ------------------------------------------------------------------ GFF3, and transcripts on chrX and chrY

from pathlib import Path  # noqa: E402

EXTERNAL = Path(__file__).parent / "data" / "external"


def independent_gff3_genes(path):
    """Genes of a GENCODE GFF3 parsed here: the gene records' 5' ends, their transcripts' TSSs longest first."""
    genes, tx = {}, {}
    for line in Path(path).read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        f = line.split("\t")
        attrs = dict(kv.split("=", 1) for kv in f[8].split(";") if kv)
        start, end = int(f[3]) - 1, int(f[4])
        tss = start if f[6] == "+" else end - 1
        if f[2] == "gene":
            genes[attrs["ID"].split(".")[0]] = (f[0], tss, f[6], attrs["gene_name"])
        elif f[2] == "transcript":
            tx.setdefault(attrs["Parent"].split(".")[0], []).append((end - start, tss))
    return {
        g: (*v, ",".join(map(str, dict.fromkeys(t for _, t in sorted(tx.get(g, []), key=lambda x: -x[0])))))
        for g, v in genes.items()
    }


def test_real_gencode_gff3(tmp_path):
    """The head of GENCODE v28's GFF3 (pyranges' test data): ids, TSSs, names, biotypes, every transcript's TSS."""
    path = EXTERNAL / "gencode_v28.head.gff3"
    genes = genes_from_gtf(path)
    want = independent_gff3_genes(path)
    assert len(genes) == len(want) == 10
    for g in genes.itertuples():
        assert (g.chrom, g.tss, g.strand, g.gene_name, g.tss_all) == want[g.gene_id], g.gene_id
    assert genes_from_gtf(path, ["protein_coding"]).gene_id.tolist() == ["ENSG00000186092"]
    assert run("genes", "--gtf", path, "-o", tmp_path / "g.tsv").exit_code == 0


NCBI_GFF3 = """##gff-version 3
#!genome-build GRCh38.p14
NC_000017.11\tRefSeq\tregion\t1\t83257441\t.\t+\t.\tID=NC_000017.11:1..83257441;Dbxref=taxon:9606;Name=17;chromosome=17
NC_000017.11\tBestRefSeq\tgene\t7661779\t7687546\t.\t-\t.\tID=gene-TP53;Dbxref=GeneID:7157,HGNC:HGNC:11998;Name=TP53;gbkey=Gene;gene=TP53;gene_biotype=protein_coding
NC_000017.11\tBestRefSeq\tmRNA\t7661779\t7687538\t.\t-\t.\tID=rna-NM_000546.6;Parent=gene-TP53;Dbxref=GeneID:7157;Name=NM_000546.6;gbkey=mRNA;gene=TP53
NC_000017.11\tBestRefSeq\texon\t7687377\t7687538\t.\t-\t.\tID=exon-NM_000546.6-1;Parent=rna-NM_000546.6;gbkey=mRNA;gene=TP53
NC_000017.11\tBestRefSeq\tmRNA\t7661779\t7676594\t.\t-\t.\tID=rna-NM_001126115.2;Parent=gene-TP53;gbkey=mRNA;gene=TP53
NC_000017.11\tBestRefSeq%2CGnomon\tgene\t7668421\t7687490\t.\t+\t.\tID=gene-WRAP53;Name=WRAP53;gbkey=Gene;gene=WRAP53;gene_biotype=protein_coding
NC_000017.11\tBestRefSeq\tlnc_RNA\t7668421\t7687490\t.\t+\t.\tID=rna-NR_1;Parent=gene-WRAP53;gbkey=ncRNA;gene=WRAP53
"""

ENSEMBL_GFF3 = """##gff-version 3
17\tensembl_havana\tgene\t7661779\t7687538\t.\t-\t.\tID=gene:ENSG00000141510;Name=TP53;biotype=protein_coding;gene_id=ENSG00000141510;version=19
17\tensembl_havana\tmRNA\t7661779\t7687538\t.\t-\t.\tID=transcript:ENST00000269305;Parent=gene:ENSG00000141510;Name=TP53-201;biotype=protein_coding
17\thavana\tncRNA_gene\t7700000\t7700500\t.\t+\t.\tID=gene:ENSG00000999999;biotype=lncRNA;gene_id=ENSG00000999999
17\thavana\tlnc_RNA\t7700100\t7700500\t.\t+\t.\tID=transcript:ENST00000999999;Parent=gene:ENSG00000999999
"""


def test_ncbi_and_ensembl_gff3(tmp_path):
    (tmp_path / "ncbi.gff").write_text(NCBI_GFF3)
    genes = genes_from_gtf(tmp_path / "ncbi.gff").set_index("gene_id")
    assert genes.loc["TP53", ["chrom", "tss", "strand", "gene_name"]].tolist() == ["NC_000017.11", 7687545, "-", "TP53"]
    assert genes.loc["TP53", "tss_all"] == "7687537,7676593" and genes.loc["WRAP53", "tss_all"] == "7668420"
    assert len(genes_from_gtf(tmp_path / "ncbi.gff", ["protein_coding"])) == 2
    (tmp_path / "ens.gff3").write_text(ENSEMBL_GFF3)
    ens = genes_from_gtf(tmp_path / "ens.gff3").set_index("gene_id")
    assert (
        ens.index.tolist() == ["ENSG00000141510", "ENSG00000999999"]
        and ens.loc["ENSG00000141510", "gene_name"] == "TP53"
    )
    assert genes_from_gtf(tmp_path / "ens.gff3", ["lncRNA"]).gene_id.tolist() == ["ENSG00000999999"]


def test_transcript_id_on_chrx_and_chry_keeps_the_first_locus_with_a_warning(tmp_path, caplog):
    """A UCSC-style GTF (no gene records) with one transcript id on both PAR copies: one transcript per locus, the
    tie goes to the first locus in the file, and the warning names both."""
    path = tmp_path / "ucsc.gtf"
    path.write_text(
        'chrX\tucsc\ttranscript\t624344\t659411\t.\t+\t.\tgene_id "SHOX"; transcript_id "NM_000451";\n'
        'chrX\tucsc\texon\t624344\t625000\t.\t+\t.\tgene_id "SHOX"; transcript_id "NM_000451";\n'
        'chrY\tucsc\ttranscript\t624344\t659411\t.\t+\t.\tgene_id "SHOX"; transcript_id "NM_000451";\n'
        'chrY\tucsc\texon\t624344\t625000\t.\t+\t.\tgene_id "SHOX"; transcript_id "NM_000451";\n'
    )
    with caplog.at_level("WARNING", logger="chromoflow"):
        genes = genes_from_gtf(path)
    assert genes.chrom.tolist() == ["chrX"] and genes.tss.tolist() == [624343]
    assert "'SHOX' on chrX +, chrY +" in caplog.text

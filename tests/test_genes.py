import gzip

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
    assert len(genes) == 18
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
    assert list(back.columns) == ["gene_id", "chrom", "tss", "strand"] and len(back) == 18
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

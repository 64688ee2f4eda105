"""A battery of bad inputs across every subcommand.

Each case must end with exit status != 0, exactly one ``Error:`` line that
names the file or option and the problem, no traceback, and nothing written
to the output folder (no result, no temporary file, no new folder).
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from conftest import MARKS, run, track_args, write_bam

DEMO = Path(__file__).parent / "data" / "chromoformer-demo-E003"
EXTERNAL = Path(__file__).parent / "data" / "external"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Valid inputs to break one at a time: demo genes, pCREs, a dataset, a trained model, a BAM."""
    d = tmp_path_factory.mktemp("env")
    shutil.copytree(DEMO, d / "demo")
    demo = d / "demo"
    assert run("genes", "--bed", demo / "genes.bed", "-o", d / "genes.tsv").exit_code == 0
    assert (
        run("pcres", "--genes", d / "genes.tsv", "--contacts", demo / "pcres.bedpe", "-o", d / "pcres.tsv").exit_code
        == 0
    )
    res = run(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        d / "genes.tsv",
        "--pcres",
        d / "pcres.tsv",
        *track_args(demo, "E003"),
        "--expression",
        demo / "expression.tsv",
        "--folds",
        "random:3",
        "-j",
        1,
        "-o",
        d / "E003.h5",
    )
    assert res.exit_code == 0, res.output
    res = run(
        "train",
        "--dataset",
        d / "E003.h5",
        "--model",
        "deepchrome",
        "--task",
        "classification",
        "--fold",
        1,
        "--config",
        "tiny",
        "--epochs",
        1,
        "--batch-size",
        4,
        "-o",
        d / "run",
    )
    assert res.exit_code == 0, res.output
    sizes = {"chr1": 249_250_621, "chr8": 146_364_022, "chr14": 107_349_540}
    write_bam(d / "reads.bam", sizes, [("chr14", 21_852_000 + 10 * i, 36, 0, 30) for i in range(50)])
    return d


def write(path: Path, data) -> Path:
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data)
    return path


def gz_truncated(path: Path, text: str) -> Path:
    blob = gzip.compress(text.encode())
    path.write_bytes(blob[: len(blob) // 2])
    return path


def truncated_copy(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


NON_UTF8 = b"chr1\t\xff\xfe\x00\x81bad\n"
GTF_LINE = 'chr1\tx\tgene\t1001\t2000\t.\t+\t.\tgene_id "G1"; gene_type "protein_coding";\n'
BEDPE_ROW = "chr14\t21852178\t21852179\tchr14\t21682583\t21690388\tG\t2.5\t-\t.\n"
GENES_HEAD = "gene_id\tchrom\ttss\tstrand\n"


def genes_args(e, t, **kw):
    return ["genes", *kw.get("src", ["--bed", e / "demo" / "genes.bed"]), "-o", kw.get("out", t / "genes.tsv")]


def pcres_args(e, t, contacts=None, genes=None, extra=()):
    return [
        "pcres",
        "--genes",
        genes or e / "genes.tsv",
        "--contacts",
        contacts or e / "demo" / "pcres.bedpe",
        *extra,
        "-o",
        t / "p.tsv",
    ]


def dataset_args(e, t, tracks=None, extra=(), genes=None):
    return [
        "dataset",
        "--sample",
        "E003",
        "--genes",
        genes or e / "genes.tsv",
        *(tracks if tracks is not None else track_args(e / "demo", "E003")),
        "-j",
        1,
        *extra,
        "-o",
        t / "x.h5",
    ]


def train_args(e, t, dataset=None, extra=()):
    return [
        "train",
        "--dataset",
        dataset or e / "E003.h5",
        "--model",
        "deepchrome",
        "--task",
        "classification",
        "--fold",
        1,
        "--config",
        "tiny",
        "--epochs",
        1,
        "--batch-size",
        4,
        *extra,
        "-o",
        t / "run",
    ]


def predict_args(e, t, checkpoint=None, dataset=None, extra=()):
    return [
        "predict",
        "--dataset",
        dataset or e / "E003.h5",
        "--checkpoint",
        checkpoint or e / "run" / "model.pt",
        *extra,
        "-o",
        t / "p.tsv",
    ]


def damaged_h5(e, t, mutate):
    path = t / "damaged.h5"
    shutil.copy(e / "E003.h5", path)
    with h5py.File(path, "r+") as h5:
        mutate(h5)
    return path


def bigwig_with(e, t, value):
    import pyBigWig

    path = t / "odd.bw"
    bw = pyBigWig.open(str(path), "w")
    bw.addHeader([("chr1", 249_250_621), ("chr8", 146_364_022), ("chr14", 107_349_540)])
    bw.addEntries(["chr14"], [21_852_000], ends=[21_852_100], values=[value])
    bw.close()
    return track_args(e / "demo", "E003", MARKS[1:]) + ["--track", f"H3K4me1={path}"]


def stale_bam(e, t):
    shutil.copy(e / "reads.bam", t / "s.bam")
    shutil.copy(e / "reads.bam.bai", t / "s.bam.bai")
    old = time.time() - 3600
    os.utime(t / "s.bam.bai", (old, old))
    return t / "s.bam"


def manifest(t, text, **files):
    for name, content in files.items():
        write(t / name, content)
    return write(t / "manifest.tsv", text)


CASES = {
    # ---------------------------------------------------------------- genes
    "gtf-empty": lambda e, t: (genes_args(e, t, src=["--gtf", write(t / "a.gtf", "")]), "no genes found"),
    "gtf-comments-only": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", "##format: gtf\n#x\n")]),
        "no genes found",
    ),
    "gtf-non-utf8": lambda e, t: (genes_args(e, t, src=["--gtf", write(t / "a.gtf", NON_UTF8)]), "not UTF-8"),
    "gtf-binary": lambda e, t: (genes_args(e, t, src=["--gtf", write(t / "a.gtf", bytes(range(256)) * 4)]), "a.gtf"),
    "gtf-truncated-gzip": lambda e, t: (
        genes_args(
            e,
            t,
            src=[
                "--gtf",
                gz_truncated(t / "a.gtf.gz", "".join(GTF_LINE.replace('"G1"', f'"G{i}"') for i in range(3000))),
            ],
        ),
        "damaged or truncated",
    ),
    "gtf-ragged": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", "chr1\tx\tgene\t1\t10\t.\t+\n")]),
        "line 1: expected 9",
    ),
    "gtf-start-not-int": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", GTF_LINE.replace("1001", "1k"))]),
        "line 1: start/end must be integers",
    ),
    "gtf-end-before-start": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", GTF_LINE.replace("2000", "900"))]),
        "line 1: invalid interval",
    ),
    "gtf-bad-strand": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", GTF_LINE.replace("\t+\t", "\t*\t"))]),
        "line 1: strand must be",
    ),
    "gtf-no-gene-id": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", GTF_LINE.replace('gene_id "G1"; ', ""))]),
        "line 1: no gene_id",
    ),
    "gtf-biotype-no-match": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", GTF_LINE), "--gene-type", "lncRNA"]),
        "no genes found",
    ),
    "gtf-no-biotypes": lambda e, t: (
        genes_args(
            e, t, src=["--gtf", write(t / "a.gtf", 'chr1\tx\tgene\t1\t10\t.\t+\t.\tgene_id "G";\n'), "--gene-type", "x"]
        ),
        "no gene_type/gene_biotype",
    ),
    "gtf-duplicate-gene": lambda e, t: (
        genes_args(e, t, src=["--gtf", write(t / "a.gtf", GTF_LINE * 2)]),
        "second 'gene' record",
    ),
    "bed-empty": lambda e, t: (genes_args(e, t, src=["--bed", write(t / "a.bed", "")]), "no genes found"),
    "bed-five-columns": lambda e, t: (
        genes_args(e, t, src=["--bed", write(t / "a.bed", "chr1\t1\t2\tG\t0\n")]),
        "line 1: expected 6",
    ),
    "bed-negative": lambda e, t: (
        genes_args(e, t, src=["--bed", write(t / "a.bed", "chr1\t-5\t2\tG\t0\t+\n")]),
        "line 1: invalid interval",
    ),
    "bed-duplicate": lambda e, t: (
        genes_args(e, t, src=["--bed", write(t / "a.bed", "chr1\t1\t2\tG\t0\t+\nchr1\t5\t6\tG\t0\t+\n")]),
        "occurs more than once",
    ),
    "bed-non-utf8": lambda e, t: (genes_args(e, t, src=["--bed", write(t / "a.bed", NON_UTF8)]), "not UTF-8"),
    "genes-both-sources": lambda e, t: (
        genes_args(e, t, src=["--bed", e / "demo" / "genes.bed", "--gtf", e / "demo" / "genes.bed"]),
        "exactly one of --gtf or --bed",
    ),
    "genes-missing-file": lambda e, t: (genes_args(e, t, src=["--bed", t / "nope.bed"]), "nope.bed: no such file"),
    "genes-input-is-folder": lambda e, t: (genes_args(e, t, src=["--bed", t]), "is a directory"),
    "genes-output-folder-missing": lambda e, t: (genes_args(e, t, out=t / "no" / "genes.tsv"), "output folder"),
    "genes-output-is-folder": lambda e, t: (genes_args(e, t, out=e), "is a directory"),
    # ---------------------------------------------------------------- pcres
    "genes-tsv-missing-column": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", "gene_id\tchrom\ttss\nA\tchr1\t5\n")),
        "missing column(s) strand",
    ),
    "genes-tsv-empty": lambda e, t: (pcres_args(e, t, genes=write(t / "g.tsv", "")), "empty file"),
    "genes-tsv-header-only": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", GENES_HEAD)),
        "no rows below the header",
    ),
    "genes-tsv-ragged": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", GENES_HEAD + "A\tchr1\t5\n")),
        "line 2: 3 tab-separated fields",
    ),
    "genes-tsv-bad-tss": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", GENES_HEAD + "A\tchr1\t-5\t+\n")),
        "line 2: tss must be a non-negative integer",
    ),
    "genes-tsv-float-tss": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", GENES_HEAD + "A\tchr1\t5.5\t+\n")),
        "line 2: tss must be",
    ),
    "genes-tsv-bad-strand": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", GENES_HEAD + "A\tchr1\t5\t?\n")),
        "line 2: strand",
    ),
    "genes-tsv-bad-tss-all": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", "gene_id\tchrom\ttss\tstrand\ttss_all\nA\tchr1\t5\t+\t5;9\n")),
        "line 2: tss_all",
    ),
    "genes-tsv-empty-id": lambda e, t: (
        pcres_args(e, t, genes=write(t / "g.tsv", GENES_HEAD + " \tchr1\t5\t+\n")),
        "line 2: empty gene_id",
    ),
    "bedpe-empty": lambda e, t: (pcres_args(e, t, contacts=write(t / "c.bedpe", "")), "no BEDPE rows"),
    "bedpe-header-only": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", "#chr1\tx1\tx2\tchr2\ty1\ty2\n")),
        "empty but for its header",
    ),
    "bedpe-five-columns": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", "chr14\t1\t2\tchr14\t5\n")),
        "line 1: expected at least 6",
    ),
    "bedpe-score-text": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", BEDPE_ROW + BEDPE_ROW.replace("2.5", "high"))),
        "line 2: score (column 8) must be a finite number",
    ),
    "bedpe-score-inf": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", BEDPE_ROW.replace("2.5", "inf"))),
        "must be a finite number",
    ),
    "bedpe-score-nan": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", BEDPE_ROW + BEDPE_ROW.replace("2.5", "nan"))),
        "line 2: score",
    ),
    "bedpe-bad-interval": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", BEDPE_ROW.replace("21690388", "21000000"))),
        "invalid anchor 2 interval",
    ),
    "bedpe-non-utf8": lambda e, t: (pcres_args(e, t, contacts=write(t / "c.bedpe", NON_UTF8)), "not UTF-8"),
    "bedpe-truncated-gzip": lambda e, t: (
        pcres_args(e, t, contacts=gz_truncated(t / "c.bedpe.gz", BEDPE_ROW * 5000)),
        "damaged or truncated",
    ),
    "bedpe-other-genome": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", BEDPE_ROW.replace("chr14", "chr2L"))),
        "none of the genes' chromosomes",
    ),
    "bedpe-ensembl-names": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.bedpe", BEDPE_ROW.replace("chr14", "14"))),
        "chromosome names differ",
    ),
    "bedpe-score-column-unknown": lambda e, t: (
        pcres_args(e, t, extra=["--score-column", "qvalue"]),
        "no header line naming its columns",
    ),
    "bedpe-score-column-out-of-range": lambda e, t: (
        pcres_args(e, t, extra=["--score-column", "40"]),
        "the file has 10 columns",
    ),
    "ibed-missing-columns": lambda e, t: (
        pcres_args(
            e, t, contacts=write(t / "c.ibed", "bait_chr\tbait_start\tx\ty\tz\tw\tv\n" + "chr1\t1\t2\t3\t4\t5\t6\n")
        ),
        "not a CHiCAGO ibed",
    ),
    "ibed-ragged": lambda e, t: (
        pcres_args(
            e,
            t,
            contacts=write(
                t / "c.ibed",
                "bait_chr\tbait_start\tbait_end\tbait_name\totherEnd_chr\totherEnd_start\totherEnd_end\totherEnd_name\tN_reads\tscore\n"
                + "chr14\t1\t2\tx\tchr14\t5\t6\n",
            ),
        ),
        "line 2",
    ),
    "cool-unbalanced": lambda e, t: (pcres_args(e, t, contacts=_cool(t, balance=False)), "no normalisation"),
    "cool-random-bytes": lambda e, t: (pcres_args(e, t, contacts=write(t / "c.cool", os.urandom(4096))), "c.cool"),
    "cool-truncated": lambda e, t: (pcres_args(e, t, contacts=truncated_copy(_cool(t), t / "cut.cool")), "cut.cool"),
    "mcool-no-resolution": lambda e, t: (
        pcres_args(e, t, contacts=EXTERNAL / "cooler_test_file.mcool"),
        "multi-resolution file: pick one",
    ),
    "mcool-wrong-resolution": lambda e, t: (
        pcres_args(e, t, contacts=f"{EXTERNAL}/cooler_test_file.mcool::resolutions/5000"),
        "no resolution 5000",
    ),
    "mcool-bad-suffix": lambda e, t: (
        pcres_args(e, t, contacts=f"{EXTERNAL}/cooler_test_file.mcool::res5000"),
        "expected FILE::resolutions/N",
    ),
    "hic-junk": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.hic", b"HIC\0" + os.urandom(500))),
        "c.hic: cannot read it",
    ),
    "hic-truncated": lambda e, t: (
        pcres_args(e, t, contacts=truncated_copy(EXTERNAL / "hic_test_file.hic", t / "cut.hic", 0.3)),
        "cut.hic",
    ),
    "hic-coarser-than-max-length": lambda e, t: (
        pcres_args(e, t, contacts=EXTERNAL / "hic_test_file.hic"),
        "coarser than --max-length",
    ),
    "contacts-missing": lambda e, t: (pcres_args(e, t, contacts=t / "gone.bedpe"), "gone.bedpe: no such file"),
    "contacts-unknown-format": lambda e, t: (
        pcres_args(e, t, contacts=write(t / "c.txt", "chr14\t1\t2\n")),
        "unknown contact format",
    ),
    "pcres-max-pcres-zero": lambda e, t: (pcres_args(e, t, extra=["--max-pcres", 0]), "--max-pcres"),
    "pcres-min-score-nan": lambda e, t: (
        pcres_args(e, t, extra=["--min-score", "nan"]),
        "--min-score nan: must be a finite number",
    ),
    "pcres-distance-window-empty": lambda e, t: (
        pcres_args(e, t, extra=["--max-distance", 10, "--min-distance", 100]),
        "--max-distance 10 is below --min-distance 100",
    ),
    "pcres-normalization-absent": lambda e, t: (
        pcres_args(e, t, contacts=_cool(t), extra=["--normalization", "KR"]),
        "no normalisation 'KR'",
    ),
    # ---------------------------------------------------------------- dataset
    "track-missing": lambda e, t: (
        dataset_args(e, t, tracks=["--track", f"H3K4me1={t / 'no.bw'}"]),
        "no.bw: track file does not exist",
    ),
    "track-text": lambda e, t: (
        dataset_args(e, t, tracks=["--track", f"H3K4me1={write(t / 'a.bw', 'chr1 1 2 3')}"]),
        "not a bigWig or BAM",
    ),
    "track-bigwig-truncated": lambda e, t: (
        dataset_args(
            e, t, tracks=["--track", f"H3K4me1={truncated_copy(e / 'demo' / 'E003-H3K4me1.bw', t / 'cut.bw', 0.6)}"]
        ),
        "cut.bw",
    ),
    "track-negative-values": lambda e, t: (
        dataset_args(e, t, tracks=bigwig_with(e, t, -2.0)),
        "tracks must hold read depth",
    ),
    "track-infinite-values": lambda e, t: (
        dataset_args(e, t, tracks=bigwig_with(e, t, float("inf"))),
        "tracks must hold read depth",
    ),
    "bam-without-index": lambda e, t: (
        dataset_args(e, t, tracks=["--track", f"H3K4me1={shutil.copy(e / 'reads.bam', t / 'n.bam')}"]),
        "BAM has no index",
    ),
    "bam-stale-index": lambda e, t: (
        dataset_args(e, t, tracks=["--track", f"H3K4me1={stale_bam(e, t)}"]),
        "older than s.bam (stale)",
    ),
    "bam-truncated": lambda e, t: (
        dataset_args(e, t, tracks=["--track", f"H3K4me1={truncated_copy(e / 'reads.bam', t / 'cut.bam', 0.5)}"]),
        "cut.bam",
    ),
    "track-spec-no-equals": lambda e, t: (
        dataset_args(e, t, tracks=["--track", str(e / "demo" / "E003-H3K4me1.bw")]),
        "expected MARK=FILE",
    ),
    "track-mark-twice": lambda e, t: (
        dataset_args(e, t, tracks=track_args(e / "demo", "E003", MARKS[:1]) * 2),
        "given twice",
    ),
    "expression-no-sample": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE004\nENSG00000092201\t3\n")]),
        "no column for sample 'E003'",
    ),
    "expression-text-value": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\nENSG00000092201\tlots\n")]),
        "line 2: expression",
    ),
    "expression-infinite": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\nENSG00000092201\tinf\n")]),
        "not a finite number",
    ),
    "expression-negative": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\nENSG00000092201\t-1\n")]),
        "is negative",
    ),
    "expression-ragged": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\nENSG00000092201\t1\t2\n")]),
        "line 2: 3 tab-separated fields",
    ),
    "expression-empty": lambda e, t: (dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "")]), "empty file"),
    "expression-header-only": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\n")]),
        "no rows below the header",
    ),
    "expression-non-utf8": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", b"gene_id\tE003\n\xff\xfe\t1\n")]),
        "not UTF-8",
    ),
    "expression-no-matching-genes": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\nOTHER\t1\n")]),
        "no gene of the genes table",
    ),
    "pcres-tsv-missing-column": lambda e, t: (
        dataset_args(e, t, extra=["--pcres", write(t / "p.tsv", "gene_id\trank\tchrom\tstart\tend\n")]),
        "missing column(s) score",
    ),
    "pcres-tsv-inf-score": lambda e, t: (
        dataset_args(
            e,
            t,
            extra=[
                "--pcres",
                write(t / "p.tsv", "gene_id\trank\tchrom\tstart\tend\tscore\nENSG00000092201\t1\tchr14\t1\t5\tinf\n"),
            ],
        ),
        "line 2: score must be a finite number",
    ),
    "pcres-tsv-unknown-genes": lambda e, t: (
        dataset_args(
            e,
            t,
            extra=["--pcres", write(t / "p.tsv", "gene_id\trank\tchrom\tstart\tend\tscore\nX\t1\tchr14\t1\t5\t2\n")],
        ),
        "none of its gene_ids",
    ),
    "pcres-tsv-too-long": lambda e, t: (
        dataset_args(
            e,
            t,
            extra=[
                "--pcres",
                write(t / "p.tsv", "gene_id\trank\tchrom\tstart\tend\tscore\nENSG00000092201\t1\tchr14\t1\t90000\t2\n"),
            ],
        ),
        "longer than the 40000 bp window",
    ),
    "pcres-tsv-trans": lambda e, t: (
        dataset_args(
            e,
            t,
            extra=[
                "--pcres",
                write(t / "p.tsv", "gene_id\trank\tchrom\tstart\tend\tscore\nENSG00000092201\t1\tchr8\t1\t500\t2\n"),
            ],
        ),
        "not on the gene's chromosome",
    ),
    "bin-sizes-text": lambda e, t: (
        dataset_args(e, t, extra=["--bin-sizes", "big"]),
        "expected comma-separated integers",
    ),
    "bin-sizes-not-dividing": lambda e, t: (
        dataset_args(e, t, extra=["--bin-sizes", "3000"]),
        "does not divide the --window 40000",
    ),
    "folds-bogus": lambda e, t: (dataset_args(e, t, extra=["--folds", "thirds"]), "--folds 'thirds'"),
    "folds-one": lambda e, t: (dataset_args(e, t, extra=["--folds", "random:1"]), "K must be between 2"),
    "folds-more-chromosomes-than-exist": lambda e, t: (
        dataset_args(e, t, extra=["--folds", "chrom:5"]),
        "only 3 chromosome(s) carry genes",
    ),
    "folds-more-than-genes": lambda e, t: (
        dataset_args(e, t, extra=["--folds", "random:50"]),
        "more folds than the 19 genes",
    ),
    "jobs-zero": lambda e, t: (dataset_args(e, t, extra=["-j", 0]), "-j"),
    "dataset-output-folder-missing": lambda e, t: (dataset_args(e, t)[:-1] + [t / "no" / "x.h5"], "output folder"),
    "dataset-max-pcres-zero": lambda e, t: (dataset_args(e, t, extra=["--max-pcres", 0]), "--max-pcres"),
    # ---------------------------------------------------------------- train
    "train-dataset-missing": lambda e, t: (train_args(e, t, dataset=t / "no.h5"), "no.h5: dataset file does not exist"),
    "train-dataset-text": lambda e, t: (
        train_args(e, t, dataset=write(t / "d.h5", "hello")),
        "not a readable HDF5 file",
    ),
    "train-dataset-truncated": lambda e, t: (
        train_args(e, t, dataset=truncated_copy(e / "E003.h5", t / "cut.h5", 0.5)),
        "cut.h5",
    ),
    "train-dataset-missing-group": lambda e, t: (
        train_args(e, t, dataset=damaged_h5(e, t, lambda h: h.__delitem__("promoter"))),
        "damaged dataset",
    ),
    "train-dataset-nan-features": lambda e, t: (
        train_args(e, t, dataset=damaged_h5(e, t, _nan_feature)),
        "NaN or infinite",
    ),
    "train-dataset-not-chromoflow": lambda e, t: (train_args(e, t, dataset=_plain_h5(t)), "not a chromoflow dataset"),
    "train-fold-absent": lambda e, t: (train_args(e, t, extra=["--fold", 9]), "fold 9 has no genes"),
    "train-config-missing": lambda e, t: (train_args(e, t, extra=["--config", t / "c.yaml"]), "neither a preset"),
    "train-config-broken-yaml": lambda e, t: (
        train_args(e, t, extra=["--config", write(t / "c.yaml", "training: [1\n")]),
        "not valid YAML",
    ),
    "train-config-wrong-type": lambda e, t: (
        train_args(e, t, extra=["--config", write(t / "c.yaml", "training:\n  lr: fast\n")]),
        "training.lr must be a number",
    ),
    "train-fold-change-no-reference": lambda e, t: (
        [
            "train",
            "--dataset",
            e / "E003.h5",
            "--model",
            "deepchrome",
            "--task",
            "fold-change",
            "--fold",
            1,
            "-o",
            t / "run",
        ],
        "needs --reference",
    ),
    "train-reference-for-classification": lambda e, t: (
        train_args(e, t, extra=["--reference", e / "E003.h5"]),
        "--reference is only for --task fold-change",
    ),
    "train-epochs-zero": lambda e, t: (train_args(e, t, extra=["--epochs", 0]), "--epochs"),
    "train-seed-negative": lambda e, t: (train_args(e, t, extra=["--seed", -3]), "--seed"),
    "train-device-cuda-absent": lambda e, t: (train_args(e, t, extra=["--device", "cuda"]), "no CUDA device"),
    "train-device-unknown": lambda e, t: (train_args(e, t, extra=["--device", "tpu"]), "--device 'tpu'"),
    "train-batch-larger-than-data": lambda e, t: (
        train_args(
            e,
            t,
            extra=[
                "--batch-size",
                500,
                "--config",
                write(t / "c.yaml", "preset: tiny\ntraining:\n  drop_last: true\n"),
            ],
        ),
        "fewer than one batch",
    ),
    "train-output-is-file": lambda e, t: (train_args(e, t)[:-1] + [write(t / "afile", "x")], "is a file"),
    "train-resume-damaged-checkpoint": lambda e, t: (
        train_args(e, t, extra=["--resume"])[:-1] + [_damaged_run(t)],
        "checkpoint.pt",
    ),
    "train-no-expression": lambda e, t: (
        train_args(e, t, dataset=damaged_h5(e, t, _no_expression)),
        "no gene has labels",
    ),
    # ---------------------------------------------------------------- predict
    "predict-checkpoint-missing": lambda e, t: (
        predict_args(e, t, checkpoint=t / "no.pt"),
        "checkpoint file does not exist",
    ),
    "predict-checkpoint-empty": lambda e, t: (
        predict_args(e, t, checkpoint=write(t / "e.pt", b"")),
        "not a PyTorch checkpoint",
    ),
    "predict-checkpoint-random": lambda e, t: (
        predict_args(e, t, checkpoint=write(t / "r.pt", os.urandom(2048))),
        "not a PyTorch checkpoint",
    ),
    "predict-checkpoint-truncated": lambda e, t: (
        predict_args(e, t, checkpoint=truncated_copy(e / "run" / "model.pt", t / "cut.pt", 0.5)),
        "cut.pt",
    ),
    "predict-checkpoint-pickled-code": lambda e, t: (predict_args(e, t, checkpoint=_evil(t)), "refused to load"),
    "predict-checkpoint-unknown-dict": lambda e, t: (
        predict_args(e, t, checkpoint=_saved(t, {"weights": torch.zeros(2)})),
        "neither a chromoflow model",
    ),
    "predict-checkpoint-not-dict": lambda e, t: (
        predict_args(e, t, checkpoint=_saved(t, [1, 2, 3])),
        "expected a checkpoint dict",
    ),
    "predict-official-wrong-shapes": lambda e, t: (
        predict_args(
            e,
            t,
            checkpoint=_saved(
                t, {"net": {"embed.2000.lin_proj.weight": torch.zeros(3, 3), "fc_head.2.weight": torch.zeros(2, 3)}}
            ),
        ),
        "weights do not fit",
    ),
    "predict-marks-missing": lambda e, t: (predict_args(e, t, dataset=_one_mark_dataset(e, t)), "needs marks"),
    "predict-fold-absent": lambda e, t: (predict_args(e, t, extra=["--fold", 7]), "fold 7 has no genes"),
    "predict-attention-deepchrome": lambda e, t: (
        predict_args(e, t, extra=["--attention", t / "a.bedpe"]),
        "deepchrome has no",
    ),
    "predict-heldout-fold-chromoflow": lambda e, t: (
        predict_args(e, t, extra=["--heldout-fold", 2]),
        "--heldout-fold is for official checkpoints",
    ),
    "predict-heldout-fold-out-of-range": lambda e, t: (
        predict_args(e, t, extra=["--heldout-fold", 5]),
        "--heldout-fold",
    ),
    "predict-reference-classification": lambda e, t: (
        predict_args(e, t, extra=["--reference", e / "E003.h5"]),
        "--reference is only for fold-change",
    ),
    "predict-dataset-damaged": lambda e, t: (
        predict_args(e, t, dataset=damaged_h5(e, t, lambda h: h["genes"].__delitem__("tss"))),
        "damaged dataset",
    ),
    "predict-batch-size-zero": lambda e, t: (predict_args(e, t, extra=["--batch-size", 0]), "--batch-size"),
    # ---------------------------------------------------------------- summarize
    "summarize-manifest-missing": lambda e, t: (
        ["summarize", "--manifest", t / "m.tsv", "-o", t / "s"],
        "m.tsv: no such file",
    ),
    "summarize-manifest-empty": lambda e, t: (
        ["summarize", "--manifest", write(t / "m.tsv", ""), "-o", t / "s"],
        "empty file",
    ),
    "summarize-manifest-columns": lambda e, t: (
        ["summarize", "--manifest", write(t / "m.tsv", "sample\tpredictions\nA\tp.tsv\n"), "-o", t / "s"],
        "missing column(s) task, model, fold",
    ),
    "summarize-predictions-missing": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(t, "sample\ttask\tmodel\tfold\tpredictions\nA\tauto\tm\t1\tgone.tsv\n"),
            "-o",
            t / "s",
        ],
        "line 2: predictions file",
    ),
    "summarize-predictions-ragged": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\nA\tauto\tm\t1\tp.tsv\n",
                **{"p.tsv": "gene_id\tprediction\tlabel\nA\t0.5\n"},
            ),
            "-o",
            t / "s",
        ],
        "p.tsv line 2",
    ),
    "summarize-predictions-text": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\nA\tauto\tm\t1\tp.tsv\n",
                **{"p.tsv": "gene_id\tprediction\tlabel\nA\thigh\t1\n"},
            ),
            "-o",
            t / "s",
        ],
        "column 'prediction': must be a finite number, got 'high'",
    ),
    "summarize-predictions-no-truth": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\nA\tauto\tm\t1\tp.tsv\n",
                **{"p.tsv": "gene_id\tprediction\nA\t0.5\n"},
            ),
            "-o",
            t / "s",
        ],
        "no label or target column",
    ),
    "summarize-metrics-json-broken": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\tmetrics\nA\tauto\tm\t1\tp.tsv\tm.json\n",
                **{"p.tsv": "gene_id\tprediction\tlabel\nA\t0.5\t1\n", "m.json": "{not json"},
            ),
            "-o",
            t / "s",
        ],
        "not valid JSON",
    ),
    "summarize-unknown-task": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\nA\tfoo\tm\t1\tp.tsv\n",
                **{"p.tsv": "gene_id\tprediction\tlabel\nA\t0.5\t1\n"},
            ),
            "-o",
            t / "s",
        ],
        "line 2, column 'task': unknown task 'foo'",
    ),
    "summarize-regression-over-labels": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\nA\tregression\tm\t1\tp.tsv\n",
                **{"p.tsv": "gene_id\tprediction\tlabel\nA\t0.5\t1\n"},
            ),
            "-o",
            t / "s",
        ],
        "a regression run needs a 'target' column",
    ),
    "summarize-prediction-empty": lambda e, t: (
        [
            "summarize",
            "--manifest",
            manifest(
                t,
                "sample\ttask\tmodel\tfold\tpredictions\nA\tauto\tm\t1\tp.tsv\n",
                **{"p.tsv": "gene_id\tprediction\tlabel\nA\t\t1\n"},
            ),
            "-o",
            t / "s",
        ],
        "p.tsv line 2, column 'prediction': must be a finite number",
    ),
    # ---------------------------------------------------------------- report
    "report-summary-missing": lambda e, t: (report_args(t, None), "no metrics.tsv"),
    "report-metrics-unknown-task": lambda e, t: (
        report_args(t, {"metrics.tsv": METRICS.replace("classification", "foo")}),
        "metrics.tsv line 2, column 'task': 'foo' is not one of",
    ),
    "report-metrics-text-value": lambda e, t: (
        report_args(t, {"metrics.tsv": METRICS.replace("0.81", "high")}),
        "metrics.tsv line 2, column 'roc_auc': must be a finite number, got 'high'",
    ),
    "report-metrics-no-headline": lambda e, t: (
        report_args(t, {"metrics.tsv": "sample\ttask\tmodel\tfold\tstatus\nA\tclassification\tm\t1\tscored\n"}),
        "scored classification runs but no roc_auc column",
    ),
    "report-predictions-ragged": lambda e, t: (
        report_args(t, {"predictions.tsv": PREDICTIONS + "A\tclassification\n"}),
        "predictions.tsv line 4: 2 tab-separated fields",
    ),
    "report-predictions-empty": lambda e, t: (report_args(t, {"predictions.tsv": ""}), "predictions.tsv: empty file"),
    "report-predictions-no-prediction": lambda e, t: (
        report_args(t, {"predictions.tsv": PREDICTIONS.replace("prediction", "pred")}),
        "missing column(s) prediction",
    ),
    "report-run-info-broken": lambda e, t: (
        report_args(t, {}, ["--run-info", write(t / "run.json", "{samples: [")]),
        "run.json: not a readable JSON run description",
    ),
    "report-run-info-not-object": lambda e, t: (
        report_args(t, {}, ["--run-info", write(t / "run.json", "[1, 2]")]),
        "must be an object",
    ),
    "report-truth-missing": lambda e, t: (report_args(t, {}, ["--truth", t / "truth.bedpe"]), "--truth"),
    "report-truth-few-columns": lambda e, t: (
        report_args(t, {}, ["--truth", write(t / "truth.bedpe", "chr1\t1\t2\tchr1\t5\t6\tG\n")]),
        "truth.bedpe line 1: expected at least 8 tab-separated",
    ),
    "report-effects-ragged": lambda e, t: (
        report_args(
            t, {}, ["--interpretation", interpretation(t, {"effects.tsv": "gene_id\tkind\tdelta\nA\tknockout\n"})]
        ),
        "effects.tsv line 2: 2 tab-separated fields",
    ),
    "report-effects-empty": lambda e, t: (
        report_args(t, {}, ["--interpretation", interpretation(t, {"effects.tsv": ""})]),
        "effects.tsv: empty file",
    ),
    "report-links-no-effect": lambda e, t: (
        report_args(t, {}, ["--interpretation", interpretation(t, {"links.bedpe": LINKS.replace("effect", "gain")})]),
        "links.bedpe: missing column(s) effect",
    ),
    "report-links-text-rank": lambda e, t: (
        report_args(
            t, {}, ["--interpretation", interpretation(t, {"links.bedpe": LINKS.replace("\t1\t0.2", "\tfirst\t0.2")})]
        ),
        "links.bedpe line 2, column 'rank'",
    ),
    "report-profile-text": lambda e, t: (
        report_args(
            t,
            {},
            ["--interpretation", interpretation(t, {"tracks/attribution_profile.tsv": "position\tH3K4me3\n0\tbig\n"})],
        ),
        "attribution_profile.tsv line 2, column 'H3K4me3'",
    ),
    "report-versions-missing": lambda e, t: (report_args(t, {}, ["--versions", t / "v.yml"]), "--versions"),
    # ---------------------------------------------------------------- perturb and predict: every destination checked first
    "perturb-links-folder-missing": lambda e, t: (
        perturb_args(e, t, ["--links", t / "no" / "l.bedpe"]),
        "output folder",
    ),
    "perturb-interact-folder-missing": lambda e, t: (
        perturb_args(e, t, ["--interact", t / "no" / "l.interact"]),
        "output folder",
    ),
    "perturb-tracks-under-a-file": lambda e, t: (
        perturb_args(e, t, ["--tracks", write(t / "f", "x") / "tracks"]),
        "is not a folder",
    ),
    "perturb-output-folder-missing": lambda e, t: (perturb_args(e, t, [], out=t / "no" / "e.tsv"), "output folder"),
    "perturb-silence-pcres-of-a-baseline": lambda e, t: (
        perturb_args(e, t, ["--silence", "H3K4me3", "--silence-at", "pcres"]),
        "--silence-at pcres: deepchrome reads no pCREs",
    ),
    "perturb-precision-unknown": lambda e, t: (perturb_args(e, t, ["--precision", "fp8"]), "--precision"),
    "perturb-checkpoint-missing-keys": lambda e, t: (
        perturb_args(e, t, [], checkpoint=_stripped(e, t, "model_config")),
        "c.pt: a damaged chromoflow model file (missing model_config)",
    ),
    "perturb-checkpoint-unknown-model": lambda e, t: (
        perturb_args(e, t, [], checkpoint=_renamed_model(e, t)),
        "c.pt: unknown model 'bert'",
    ),
    "predict-attention-folder-missing": lambda e, t: (
        predict_args(e, t, extra=["--attention", t / "no" / "a.tsv"]),
        "output folder",
    ),
    "predict-bed-folder-missing": lambda e, t: (
        predict_args(e, t, extra=["--bed", t / "no" / "p.bed"]),
        "output folder",
    ),
    "predict-info-folder-missing": lambda e, t: (
        predict_args(e, t, extra=["--info", t / "no" / "i.json"]),
        "output folder",
    ),
    "predict-checkpoint-missing-keys": lambda e, t: (
        predict_args(e, t, checkpoint=_stripped(e, t, "dataset")),
        "c.pt: a damaged chromoflow model file (missing dataset)",
    ),
    "predict-checkpoint-unknown-model": lambda e, t: (
        predict_args(e, t, checkpoint=_renamed_model(e, t)),
        "c.pt: unknown model 'bert'",
    ),
    # ---------------------------------------------------------------- options that name themselves
    "dataset-bin-sizes-twice": lambda e, t: (dataset_args(e, t, extra=["--bin-sizes", "100,100"]), "--bin-sizes"),
    "dataset-seed-negative": lambda e, t: (dataset_args(e, t, extra=["--seed", "-1"]), "--seed"),
    "simulate-seed-negative": lambda e, t: (["simulate", "--seed", "-1", "--genes", 20, "-o", t / "sim"], "--seed"),
    "pcres-min-count-nan": lambda e, t: (
        pcres_args(e, t, contacts=_cool(t), extra=["--min-count", "nan"]),
        "--min-count nan: must be a finite number",
    ),
    "chrom-aliases-empty": lambda e, t: (
        pcres_args(e, t, extra=["--chrom-aliases", write(t / "a.txt", "")]),
        "empty chromosome alias file",
    ),
    "chrom-aliases-one-name-each": lambda e, t: (
        dataset_args(e, t, extra=["--chrom-aliases", write(t / "a.txt", "chr1\nchr2\n")]),
        "no chromosome with two names",
    ),
    "chrom-aliases-missing": lambda e, t: (
        pcres_args(e, t, extra=["--chrom-aliases", t / "a.txt"]),
        "a.txt: no such file",
    ),
    "expression-empty-gene-id": lambda e, t: (
        dataset_args(e, t, extra=["--expression", write(t / "e.tsv", "gene_id\tE003\nNA\t1\n")]),
        "line 2: empty gene id",
    ),
    "expression-featurecounts-other-sample": lambda e, t: (
        dataset_args(
            e,
            t,
            extra=[
                "--expression",
                write(t / "e.tsv", "# Program:featureCounts v2\nGeneid\tChr\t/d/E004.bam\nENSG00000092201\tchr14\t5\n"),
            ],
        ),
        "no column for sample 'E003'",
    ),
    "gff3-gene-without-id": lambda e, t: (
        genes_args(
            e, t, src=["--gtf", write(t / "a.gff3", "##gff-version 3\nchr1\tx\tgene\t1\t10\t.\t+\t.\tName=A\n")]
        ),
        "line 2: a gene record with neither a gene_id nor an ID",
    ),
    "import-binned-na-count": lambda e, t: (
        [
            "import-binned",
            "--csv",
            write(t / "a.csv", "".join(f"G,{b},0,{'NA' if b == 9 else 0},0,0,0,1\n" for b in range(1, 101))),
            "-o",
            t / "b.h5",
        ],
        "line 9: column 4 must be a finite number, got 'NA'",
    ),
    "import-binned-short-gene": lambda e, t: (
        [
            "import-binned",
            "--csv",
            write(t / "a.csv", "".join(f"G,{b},0,0,0,0,0,1\n" for b in range(1, 100))),
            "-o",
            t / "b.h5",
        ],
        "gene 'G' has 99 rows",
    ),
    # ---------------------------------------------------------------- coverage, simulate
    "coverage-bam-missing": lambda e, t: (
        ["coverage", "--bam", t / "no.bam", "-o", t / "c.bw"],
        "track file does not exist",
    ),
    "coverage-not-bam": lambda e, t: (
        ["coverage", "--bam", write(t / "x.bam", "text"), "-o", t / "c.bw"],
        "not a readable BAM",
    ),
    "coverage-no-index": lambda e, t: (
        ["coverage", "--bam", shutil.copy(e / "reads.bam", t / "n.bam"), "-o", t / "c.bw"],
        "BAM has no index",
    ),
    "coverage-truncated": lambda e, t: (
        ["coverage", "--bam", truncated_copy(e / "reads.bam", t / "cut.bam", 0.5), "-o", t / "c.bw"],
        "cut.bam",
    ),
    "coverage-output-folder-missing": lambda e, t: (
        ["coverage", "--bam", e / "reads.bam", "-o", t / "no" / "c.bw"],
        "output folder",
    ),
    "simulate-too-few-genes": lambda e, t: (["simulate", "--genes", 5, "-o", t / "sim"], "--genes"),
    "simulate-outdir-is-file": lambda e, t: (
        ["simulate", "--genes", 20, "--no-cool", "-o", write(t / "f", "x")],
        "is a file",
    ),
    # ---------------------------------------------------------------- the command itself
    "unknown-subcommand": lambda e, t: (["bogus"], "No such command 'bogus'"),
    "unknown-option": lambda e, t: (["genes", "--gff", "x", "-o", t / "g.tsv"], "No such option"),
}


METRICS = "sample\ttask\tmodel\tfold\tstatus\troc_auc\tn\nA\tclassification\tchromoformer\t1\tscored\t0.81\t30\n"
PREDICTIONS = "sample\ttask\tmodel\trun\tgene_id\tprediction\tlabel\theldout\nA\tclassification\tchromoformer\tfold1\tg1\t0.9\t1\t1\nA\tclassification\tchromoformer\tfold1\tg2\t0.2\t0\t1\n"
LINKS = (
    "#chrom1\tstart1\tend1\tchrom2\tstart2\tend2\tname\tscore\tstrand1\tstrand2\tgene_name\trank\teffect\tinteraction_score\tattention\tbaseline\tknocked_out\n"
    "chr1\t100\t101\tchr1\t5000\t6000\tg1\t0.2\t+\t.\tA\t1\t0.2\t3\t0.1\t0.9\t0.7\n"
)


def report_args(t: Path, files: dict | None, extra=()):
    """A summarize folder (valid metrics and predictions unless ``files`` replaces them; None: no folder)."""
    folder = t / "summary"
    if files is not None:
        folder.mkdir(exist_ok=True)
        for name, text in {"metrics.tsv": METRICS, "predictions.tsv": PREDICTIONS, **files}.items():
            write(folder / name, text)
    return ["report", "--summary", folder, *extra, "-o", t / "report.html"]


def interpretation(t: Path, files: dict) -> Path:
    folder = t / "interp"
    (folder / "tracks").mkdir(parents=True, exist_ok=True)
    for name, text in {
        "effects.tsv": "gene_id\tkind\tdelta\ng1\tknockout\t0.2\n",
        "links.bedpe": LINKS,
        "run.json": '{"sample": "A", "task": "classification", "model": "chromoformer"}',
        **files,
    }.items():
        write(folder / name, text)
    return folder


def perturb_args(e, t, extra, checkpoint=None, out=None):
    return [
        "perturb",
        "--dataset",
        e / "E003.h5",
        "--checkpoint",
        checkpoint or e / "run" / "model.pt",
        "--silence",
        "H3K4me3",
        *extra,
        "-o",
        out or t / "e.tsv",
    ]


def _stripped(e: Path, t: Path, key: str) -> Path:
    ck = torch.load(e / "run" / "model.pt", weights_only=True)
    del ck[key]
    torch.save(ck, t / "c.pt")
    return t / "c.pt"


def _renamed_model(e: Path, t: Path) -> Path:
    ck = torch.load(e / "run" / "model.pt", weights_only=True)
    ck["model"] = "bert"
    torch.save(ck, t / "c.pt")
    return t / "c.pt"


def _cool(t: Path, balance=True) -> Path:
    import cooler
    import pandas as pd

    path = t / ("b.cool" if balance else "u.cool")
    bins = cooler.binnify(pd.Series({"chr14": 107_349_540}), 10_000_000)
    cooler.create_cooler(str(path), bins, pd.DataFrame({"bin1_id": [0, 0], "bin2_id": [0, 1], "count": [5, 3]}))
    if balance:
        with h5py.File(path, "r+") as h5:
            h5["bins"].create_dataset("weight", data=np.ones(len(bins)))
    return path


def _nan_feature(h5):
    x = h5["promoter/100"][()]
    x[0, 0, 0] = np.nan
    h5["promoter/100"][...] = x


def _no_expression(h5):
    h5["genes/label"][...] = -1
    h5["genes/target"][...] = np.nan


def _plain_h5(t: Path) -> Path:
    with h5py.File(t / "plain.h5", "w") as h5:
        h5["x"] = np.zeros(3)
    return t / "plain.h5"


def _saved(t: Path, obj) -> Path:
    torch.save(obj, t / "c.pt")
    return t / "c.pt"


def _evil(t: Path) -> Path:
    class Payload:
        def __reduce__(self):
            return (os.system, ("touch PWNED",))

    torch.save({"net": {"embed.2000.lin_proj.weight": torch.zeros(1)}, "x": Payload()}, t / "evil.pt")
    return t / "evil.pt"


def _damaged_run(t: Path) -> Path:
    (t / "run").mkdir()
    write(t / "run" / "checkpoint.pt", b"\x00" * 100)
    return t / "run"


def _one_mark_dataset(e: Path, t: Path) -> Path:
    out = t / "inputs" / "one.h5"
    out.parent.mkdir(exist_ok=True)
    assert (
        run(
            "dataset",
            "--sample",
            "E003",
            "--genes",
            e / "genes.tsv",
            *track_args(e / "demo", "E003", MARKS[1:2]),
            "--folds",
            "random:3",
            "-o",
            out,
        ).exit_code
        == 0
    )
    return out


def _listing(folder: Path) -> set:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(env, tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args, fragment = CASES[case](env, tmp_path)
    before = _listing(tmp_path)
    env_before = _listing(env)
    res = run(*args)
    assert res.exit_code not in (0, None), f"{case}: exit 0\n{res.output}"
    errors = [line for line in res.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in res.output, f"{case}:\n{res.output}"
    print(errors[0])
    assert fragment in errors[0], f"{case}: {fragment!r} not in {errors[0]!r}"
    after = _listing(tmp_path)
    assert after == before, f"{case}: left {sorted(after - before)}"
    assert _listing(env) == env_before, f"{case}: wrote into the shared inputs"
    assert not (tmp_path / "PWNED").exists()


def test_the_battery_is_large():
    assert len(CASES) >= 190


# ------------------------------------------------------------------ signals and full disks


def _chromoflow(*args, **kw):
    exe = Path(sys.executable).with_name("chromoflow")
    return subprocess.Popen(
        [str(exe), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signals_leave_nothing_behind(tmp_path, sig):
    """A simulation killed mid-write: one line, exit 128 + signal, no partial or temporary file."""
    out = tmp_path / "sim"
    proc = _chromoflow("simulate", "--genes", 3000, "--no-cool", "-o", out)
    deadline = time.time() + 120
    while time.time() < deadline and not any(p.name.endswith(".part") for p in out.glob(".*")):
        time.sleep(0.05)
    assert any(p.name.endswith(".part") for p in out.glob(".*")), "the simulation never started writing"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert not [p for p in out.glob(".*") if p.name.endswith(".part")]
    assert not list(out.glob("*.bw")) or all(p.stat().st_size > 0 for p in out.glob("*.bw"))


@pytest.fixture
def tiny_disk(tmp_path):
    """A 300 kB tmpfs: writing anything sizeable fills it (needs root and mount rights; else skipped)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(mnt)], capture_output=True).returncode
        != 0
    ):
        pytest.skip("cannot mount a small tmpfs here (not root)")
    yield mnt
    subprocess.run(["umount", str(mnt)], capture_output=True)


@pytest.mark.parametrize(
    "make_args",
    [
        lambda e, d: ["simulate", "--genes", 60, "--no-cool", "-o", d / "sim"],
        lambda e, d: ["coverage", "--bam", e / "reads.bam", "-o", d / "c.bw"],
        lambda e, d: [
            "dataset",
            "--sample",
            "E003",
            "--genes",
            e / "genes.tsv",
            "--pcres",
            e / "pcres.tsv",
            *track_args(e / "demo", "E003"),
            "--expression",
            e / "demo" / "expression.tsv",
            "-j",
            2,
            "-o",
            d / "x.h5",
        ],
        lambda e, d: [
            "train",
            "--dataset",
            e / "E003.h5",
            "--model",
            "chromoformer",
            "--task",
            "classification",
            "--fold",
            1,
            "--config",
            "tiny",
            "--epochs",
            1,
            "--batch-size",
            4,
            "-o",
            d / "run",
        ],
        lambda e, d: [
            "perturb",
            "--dataset",
            e / "E003.h5",
            "--checkpoint",
            e / "run" / "model.pt",
            "--silence",
            "all",
            "--tracks",
            d / "tracks",
            "-o",
            d / "e.tsv",
        ],
        lambda e, d: [
            "import-binned",
            "--csv",
            DEMO.parent / "external" / "attentivechrome_toy" / "train.csv",
            "-o",
            d / "b.h5",
        ],
        lambda e, d: ["summarize", "--manifest", _run_manifest(e), "-o", d / "summary"],
    ],
    ids=["simulate", "coverage", "dataset", "train", "perturb-tracks", "import-binned", "summarize"],
)
@pytest.mark.slow
def test_full_disk_is_one_line_and_no_partial_file(env, tiny_disk, make_args):
    fd = os.open(tiny_disk / "filler", os.O_WRONLY | os.O_CREAT)  # fill the disk to the last block
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    args = make_args(env, tiny_disk)
    proc = _chromoflow(*args)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1, err
    lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "disk" in lines[0].lower() or "space" in lines[0].lower(), lines[0]
    left = sorted(p.name for p in tiny_disk.rglob("*") if p.is_file() and p.name != "filler")
    assert not [n for n in left if n.endswith(".part")], left
    if args[0] == "coverage":
        assert not (tiny_disk / "c.bw").exists()
    if args[0] == "dataset":
        assert not (tiny_disk / "x.h5").exists()
    assert not [n for n in left if not n.startswith(".")], left  # no output at all: every command writes all or nothing


def _run_manifest(e: Path) -> Path:
    """A manifest of the env's training run (its held-out predictions and metrics), for summarize."""
    path = e / "manifest.tsv"
    if not path.exists():
        path.write_text(
            f"sample\ttask\tmodel\tfold\tpredictions\tmetrics\nE003\tclassification\tdeepchrome\t1\t{e / 'run' / 'heldout.tsv'}\t{e / 'run' / 'metrics.json'}\n"
        )
    return path


@pytest.mark.slow
def test_a_failed_hdf5_write_after_the_space_check_is_one_line_and_no_crash(env, tiny_disk):
    """The disk fills while the dataset is written (the up-front space check passed): one line, exit 1, no
    signal 11 from the HDF5 library's teardown, nothing left."""
    code = (
        "import sys; import chromoflow.prep.featurize as d; d.require_space = lambda *a, **k: None; "
        "from chromoflow.cli import main; sys.argv = ['chromoflow'] + sys.argv[1:]; main()"
    )
    args = [
        "dataset",
        "--sample",
        "E003",
        "--genes",
        env / "genes.tsv",
        "--pcres",
        env / "pcres.tsv",
        *track_args(env / "demo", "E003"),
        "--expression",
        env / "demo" / "expression.tsv",
        "-j",
        1,
        "-o",
        tiny_disk / "x.h5",
    ]
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr and "space" in lines[0].lower(), proc.stderr
    assert list(tiny_disk.iterdir()) == []


def test_a_damaged_bigwig_is_one_line_on_stderr(env, tmp_path):
    """libBigWig's own messages ([bwOpen] ...) stay off the terminal: the one line is chromoflow's."""
    cut = truncated_copy(env / "demo" / "E003-H3K4me1.bw", tmp_path / "cut.bw", 0.6)
    proc = _chromoflow(
        "dataset",
        "--sample",
        "E003",
        "--genes",
        env / "genes.tsv",
        "--track",
        f"H3K4me1={cut}",
        "-j",
        1,
        "-o",
        tmp_path / "x.h5",
    )
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and err.strip().splitlines() == [f"Error: {cut}: not a readable bigWig file"], err


def test_sigterm_while_tracks_are_written_leaves_nothing(env, tmp_path, monkeypatch):
    """SIGTERM arrives after two attribution bigWigs are complete: neither they nor effects.tsv remain."""
    from chromoflow.cli._base import Interrupted
    from chromoflow.prep import bigwig

    done = []
    real = bigwig._verify

    def verify_then_stop(path, chroms, bases, final=None):
        real(path, chroms, bases, final)
        done.append(final)
        if len(done) == 2:
            raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(bigwig, "_verify", verify_then_stop)
    res = run(
        "perturb",
        "--dataset",
        env / "E003.h5",
        "--checkpoint",
        env / "run" / "model.pt",
        "--silence",
        "all",
        "--tracks",
        tmp_path / "tracks",
        "-o",
        tmp_path / "e.tsv",
    )
    assert res.exit_code == 128 + signal.SIGTERM and "stopped by SIGTERM" in res.output and len(done) == 2
    assert list(tmp_path.iterdir()) == []


def test_write_errors_become_one_line(tmp_path, monkeypatch):
    """Without mount rights: a write that fails with ENOSPC inside an atomic output is one clear error."""
    import errno

    from chromoflow._io import atomic_output
    from chromoflow.errors import ChromoflowError

    with pytest.raises(ChromoflowError, match="No space left on device"):
        with atomic_output(tmp_path / "x.txt") as tmp:
            tmp.write_text("partial")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert list(tmp_path.iterdir()) == []

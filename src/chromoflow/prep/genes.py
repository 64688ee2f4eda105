"""One transcription start site (TSS) per gene, from a GTF or a BED6 file.

Output table (``genes.tsv``)::

    gene_id  chrom  tss  strand
    ENSG…    chr1   11868  +

``tss`` is 0-based: the first transcribed base on ``+``, the last base of the
gene's reference span on ``-``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import open_text, write_tsv
from ..errors import ChromoflowError, at_line
from ..genome import chrom_sort_key

GENE_COLUMNS = ["gene_id", "chrom", "tss", "strand"]

_VERSION = re.compile(r"\.\d+(_PAR_Y)?$")
_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')


def strip_version(gene_id: str) -> str:
    """``ENSG00000141510.18`` → ``ENSG00000141510``."""
    return _VERSION.sub("", gene_id)


def _finish(rows: list[tuple], source) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=GENE_COLUMNS + ["line"])
    if frame.empty:
        raise ChromoflowError(f"{source}: no genes found (check the file and any --gene-type filter)")
    dup = frame.duplicated("gene_id", keep=False)
    if dup.any():
        first = frame[dup].iloc[0]
        lines = frame.loc[frame.gene_id == first.gene_id, "line"].tolist()
        raise ChromoflowError(
            f"{source}: gene_id {first.gene_id!r} occurs more than once (lines "
            f"{', '.join(map(str, lines[:3]))}): gene IDs must be unique"
        )
    frame = frame.drop(columns="line")
    order = sorted(range(len(frame)), key=lambda i: (chrom_sort_key(frame.chrom.iat[i]), frame.tss.iat[i], frame.gene_id.iat[i]))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["tss"] = frame["tss"].astype(np.int64)
    return frame


def genes_from_bed(path: str | os.PathLike) -> pd.DataFrame:
    """TSSs from a BED6 file: ``chrom, start, end, gene_id, score, strand``."""
    rows = []
    with open_text(path) as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            f = line.rstrip("\n\r").split("\t")
            if len(f) < 6:
                raise at_line(path, no, f"expected 6 tab-separated BED columns (chrom, start, end, gene_id, score, strand), got {len(f)}")
            chrom, start, end, name, strand = f[0], f[1], f[2], f[3], f[5]
            try:
                start, end = int(start), int(end)
            except ValueError:
                raise at_line(path, no, f"start/end must be integers, got {f[1]!r}, {f[2]!r}") from None
            if start < 0 or end <= start:
                raise at_line(path, no, f"invalid interval {start}-{end} (need 0 <= start < end)")
            if strand not in ("+", "-"):
                raise at_line(path, no, f"strand must be '+' or '-', got {strand!r}")
            tss = start if strand == "+" else end - 1
            rows.append((name, chrom, tss, strand, no))
    return _finish(rows, path)


def genes_from_gtf(path: str | os.PathLike, gene_types: tuple[str, ...] | list[str] | None = None) -> pd.DataFrame:
    """TSSs from a GTF (Ensembl/GENCODE, plain or gzipped).

    The ``gene`` record's 5' end is used; GTFs without ``gene`` records (e.g.
    UCSC's) fall back to the span of the gene's transcripts/exons. Version
    suffixes are dropped from gene IDs; GENCODE's ``_PAR_Y`` copies of
    pseudo-autosomal genes are skipped (their chrX copy is kept).
    """
    wanted = set(gene_types or ())
    genes: dict[str, list] = {}  # id -> [chrom, start, end, strand, biotype, line, from_gene_record]
    saw_biotype = False
    with open_text(path) as fh:
        for no, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n\r").split("\t")
            if len(f) != 9:
                raise at_line(path, no, f"expected 9 tab-separated GTF columns, got {len(f)}")
            feature = f[2]
            if feature not in ("gene", "transcript", "exon"):
                continue
            attrs = dict(_ATTR.findall(f[8]))
            raw_id = attrs.get("gene_id")
            if raw_id is None:
                raise at_line(path, no, "no gene_id attribute")
            if raw_id.endswith("_PAR_Y"):
                continue
            try:
                start, end = int(f[3]) - 1, int(f[4])  # to 0-based half-open
            except ValueError:
                raise at_line(path, no, f"start/end must be integers, got {f[3]!r}, {f[4]!r}") from None
            strand = f[6]
            if strand not in ("+", "-"):
                raise at_line(path, no, f"strand must be '+' or '-', got {strand!r}")
            biotype = attrs.get("gene_type", attrs.get("gene_biotype"))
            saw_biotype |= biotype is not None
            gid = strip_version(raw_id)
            rec = genes.get(gid)
            if feature == "gene":
                if rec is not None and rec[6]:
                    raise at_line(path, no, f"gene_id {gid!r} has a second 'gene' record (first at line {rec[5]}): gene IDs must be unique")
                genes[gid] = [f[0], start, end, strand, biotype, no, True]
            elif rec is None:
                genes[gid] = [f[0], start, end, strand, biotype, no, False]
            elif not rec[6]:
                rec[1], rec[2] = min(rec[1], start), max(rec[2], end)
    if wanted and not saw_biotype:
        raise ChromoflowError(f"{path}: --gene-type given but the GTF has no gene_type/gene_biotype attribute")
    rows = [
        (gid, chrom, start if strand == "+" else end - 1, strand, no)
        for gid, (chrom, start, end, strand, biotype, no, _) in genes.items()
        if not wanted or biotype in wanted
    ]
    return _finish(rows, path)


def read_genes(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a ``genes.tsv`` written by :func:`genes_from_gtf`/``_bed``."""
    path = Path(path)
    with open_text(path) as fh:
        header = fh.readline().rstrip("\n\r").split("\t")
    missing = [c for c in GENE_COLUMNS if c not in header]
    if missing:
        raise ChromoflowError(f"{path}: missing column(s) {', '.join(missing)}; expected a TSV with header {' '.join(GENE_COLUMNS)} (make one with 'chromoflow genes')")
    frame = pd.read_csv(path, sep="\t", dtype={"gene_id": str, "chrom": str, "strand": str}, keep_default_na=False)
    tss = pd.to_numeric(frame["tss"], errors="coerce")
    bad = tss.isna() | (tss < 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, i + 2, f"tss must be a non-negative integer, got {frame['tss'].iat[i]!r}")
    frame["tss"] = tss.astype(np.int64)
    bad = ~frame["strand"].isin(["+", "-"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, i + 2, f"strand must be '+' or '-', got {frame['strand'].iat[i]!r}")
    dup = frame.duplicated("gene_id")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise at_line(path, i + 2, f"duplicate gene_id {frame['gene_id'].iat[i]!r}: gene IDs must be unique")
    if frame.empty:
        raise ChromoflowError(f"{path}: no genes")
    return frame[GENE_COLUMNS].reset_index(drop=True)


def write_genes(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    write_tsv(frame[GENE_COLUMNS], path)

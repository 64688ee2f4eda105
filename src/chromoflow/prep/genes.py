"""Genes and their transcription start sites (TSSs), from a GTF or a BED6 file.

Output table (``genes.tsv``)::

    gene_id  chrom  tss    strand  gene_name  tss_all
    ENSG…    chr1   11868  +       DDX11L1    11868,12009

- ``tss`` (0-based) centres the gene's promoter window: the 5' end of the
  ``gene`` record (first base on ``+``, last base on ``-``);
- ``tss_all`` lists every distinct TSS of the gene's transcripts (0-based,
  comma-separated), longest transcript first, as the published Chromoformer
  preprocessing orders them (``prepare_ensg2tss.py``). pCREs are pooled over
  all of them (:mod:`chromoflow.prep.pcres`). A BED6 gene has one TSS.
- ``gene_name`` is the annotation's ``gene_name`` (or StringTie's
  ``ref_gene_name``), empty when it has none.

``tss_all`` and ``gene_name`` are optional when reading: a table with only
the first four columns means one TSS per gene and no names.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import open_text, write_tsv
from .._tables import lines, read_table, row_line
from ..errors import ChromoflowError, at_line
from ..genome import chrom_sort_key
from ..log import warn

GENE_COLUMNS = ["gene_id", "chrom", "tss", "strand"]
OPTIONAL_COLUMNS = ["gene_name", "tss_all"]

# Ensembl/GENCODE stable IDs carry a version (ENSG00000141510.18, ENSMUSG00000025902.13);
# other IDs may legitimately end in '.N' (StringTie's STRG.1, RefSeq's NM_000546.6 is a transcript).
_VERSION = re.compile(r"^(ENS[A-Z]*\d{6,})\.\d+(_PAR_Y)?$")
_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')


def strip_version(gene_id: str) -> str:
    """``ENSG00000141510.18`` → ``ENSG00000141510``; IDs that are not Ensembl's are kept as they are."""
    return _VERSION.sub(r"\1", gene_id)


def _finish(rows: list[tuple], source) -> pd.DataFrame:
    """rows: (gene_id, chrom, tss, strand, gene_name, tss_all, line)."""
    frame = pd.DataFrame(rows, columns=GENE_COLUMNS + OPTIONAL_COLUMNS + ["line"])
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
    order = sorted(
        range(len(frame)), key=lambda i: (chrom_sort_key(frame.chrom.iat[i]), frame.tss.iat[i], frame.gene_id.iat[i])
    )
    frame = frame.iloc[order].reset_index(drop=True)
    frame["tss"] = frame["tss"].astype(np.int64)
    return frame


def genes_from_bed(path: str | os.PathLike) -> pd.DataFrame:
    """TSSs from a BED6 file: ``chrom, start, end, gene_id, score, strand`` (one TSS per gene)."""
    rows = []
    for no, f in lines(path, comments=("#", "track", "browser")):
        if len(f) < 6:
            raise at_line(
                path,
                no,
                f"expected 6 tab-separated BED columns (chrom, start, end, gene_id, score, strand), got {len(f)}",
            )
        chrom, start, end, name, strand = f[0], f[1], f[2], f[3], f[5]
        try:
            start, end = int(start), int(end)
        except ValueError:
            raise at_line(path, no, f"start/end must be integers, got {f[1]!r}, {f[2]!r}") from None
        if start < 0 or end <= start:
            raise at_line(path, no, f"invalid interval {start}-{end} (need 0 <= start < end)")
        if strand not in ("+", "-"):
            raise at_line(path, no, f"strand must be '+' or '-', got {strand!r}")
        if not name:
            raise at_line(path, no, "empty gene_id (column 4)")
        tss = start if strand == "+" else end - 1
        rows.append((name, chrom, tss, strand, "", str(tss), no))
    return _finish(rows, path)


def _tss(start: int, end: int, strand: str) -> int:
    return start if strand == "+" else end - 1


_GFF3_GENES = {"gene", "ncRNA_gene", "pseudogene"}  # GENCODE/NCBI: gene; Ensembl GFF3 also ncRNA_gene, pseudogene


def _gff3_attrs(text: str) -> dict:
    from urllib.parse import unquote

    out = {}
    for part in text.strip().strip(";").split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = unquote(value.strip())
    return out


def _is_gff3(path) -> bool:
    """GFF3 (``key=value`` attributes) rather than GTF (``key "value"``), from the header or the first record."""
    with open_text(path) as fh:
        for line in fh:
            if line.startswith("##gff-version"):
                return line.split()[1].startswith("3") if len(line.split()) > 1 else False
            if line.startswith("#") or not line.strip():
                continue
            f = line.rstrip("\n\r").split("\t")
            attrs = f[8] if len(f) == 9 else ""
            return "=" in attrs and '"' not in attrs
    return False


def _annotation_records(path, gff3: bool):
    """(line, feature, gene_id, transcript_id, fields, attrs) of the gene, transcript and exon records of a GTF or GFF3.

    GFF3 is mapped onto the GTF view: a ``gene``-type record's ``gene_id``
    attribute (GENCODE, Ensembl) or its ``ID`` without a ``gene:``/``gene-``
    prefix (Ensembl, NCBI) is the gene id; any record whose ``Parent`` is a
    gene (``transcript``, ``mRNA``, ``lnc_RNA``, …) is one of its transcripts.
    Exons add nothing there: GFF3 always has the transcript records.
    """
    gene_of: dict[str, str] = {}  # GFF3 ID of a gene record -> gene id
    for no, f in lines(path, comments=("#",)):
        if len(f) != 9:
            raise at_line(path, no, f"expected 9 tab-separated {'GFF3' if gff3 else 'GTF'} columns, got {len(f)}")
        if not gff3:
            if f[2] not in ("gene", "transcript", "exon"):
                continue
            attrs = dict(_ATTR.findall(f[8]))
            gid = attrs.get("gene_id")
            if not gid:
                raise at_line(path, no, "no gene_id attribute")
            yield no, f[2], gid, attrs.get("transcript_id"), f, attrs
            continue
        attrs = _gff3_attrs(f[8])
        if f[2] in _GFF3_GENES and "Parent" not in attrs:
            gid = attrs.get("gene_id") or re.sub(r"^gene[:-]", "", attrs.get("ID", ""))
            if not gid:
                raise at_line(path, no, "a gene record with neither a gene_id nor an ID attribute")
            if "ID" in attrs:
                gene_of[attrs["ID"]] = gid
            attrs.setdefault("gene_name", attrs.get("Name", attrs.get("gene", "")))
            attrs.setdefault("gene_type", attrs.get("gene_biotype", attrs.get("biotype")))
            if attrs["gene_type"] is None:
                del attrs["gene_type"]
            yield no, "gene", gid, None, f, attrs
            continue
        parent = attrs.get("Parent", "").split(",")[0]
        if parent in gene_of:
            yield (
                no,
                "transcript",
                gene_of[parent],
                attrs.get("ID") or f"{parent}:{no}",
                f,
                {k: v for k, v in attrs.items() if k in ("gene_type", "gene_biotype", "gene_name")},
            )


def _read_annotation(path, gff3: bool):
    """(gene records, per-gene [biotype, name, first line], per-gene transcripts, whether any record has a biotype)
    from the gene, transcript and exon records (see :func:`genes_from_gtf`)."""
    gene_rec: dict[str, tuple] = {}  # id -> (chrom, start, end, strand, line)
    info: dict[str, list] = {}  # id -> [biotype, name, first line]
    tx: dict[
        str, dict[tuple, list]
    ] = {}  # id -> (transcript id, chrom, strand) -> [chrom, start, end, strand, from_record]
    saw_biotype = False
    unstranded = 0
    try:
        for no, feature, raw_id, tid, f, attrs in _annotation_records(path, gff3):
            if raw_id.endswith("_PAR_Y"):
                continue
            try:
                start, end = int(f[3]) - 1, int(f[4])  # to 0-based half-open
            except ValueError:
                raise at_line(path, no, f"start/end must be integers, got {f[3]!r}, {f[4]!r}") from None
            if start < 0 or end <= start:
                raise at_line(path, no, f"invalid interval {f[3]}-{f[4]} (need 1 <= start <= end)")
            strand, chrom = f[6], f[0]
            if strand == ".":  # unstranded (e.g. StringTie single-exon transcripts): no TSS
                unstranded += 1
                continue
            if strand not in ("+", "-"):
                raise at_line(path, no, f"strand must be '+', '-' or '.', got {strand!r}")
            gid = strip_version(raw_id)
            biotype = attrs.get("gene_type", attrs.get("gene_biotype"))
            saw_biotype |= biotype is not None
            meta = info.setdefault(gid, [biotype, attrs.get("gene_name", attrs.get("ref_gene_name", "")), no])
            if meta[0] is None and biotype is not None:
                meta[0] = biotype
            if feature == "gene":
                if gid in gene_rec:
                    raise at_line(
                        path,
                        no,
                        f"gene_id {gid!r} has a second 'gene' record (first at line {gene_rec[gid][4]}): gene IDs must be unique",
                    )
                gene_rec[gid] = (chrom, start, end, strand, no)
                if attrs.get("gene_name"):
                    meta[1] = attrs["gene_name"]
                continue
            key = (tid or gid, chrom, strand)
            rec = tx.setdefault(gid, {}).get(key)
            if feature == "transcript":
                tx[gid][key] = [chrom, start, end, strand, True]
            elif rec is None:
                tx[gid][key] = [chrom, start, end, strand, False]
            elif not rec[4]:
                rec[1], rec[2] = min(rec[1], start), max(rec[2], end)
    except UnicodeDecodeError as exc:
        raise ChromoflowError(
            f"{path}: not a text {'GFF3' if gff3 else 'GTF'} file ({exc.reason} at byte {exc.start}); is it compressed with something other than gzip?"
        ) from None
    if unstranded:
        warn(f"{path}: {unstranded} records without a strand ('.') skipped: their TSS is undefined")
    return gene_rec, info, tx, saw_biotype


def genes_from_gtf(path: str | os.PathLike, gene_types: tuple[str, ...] | list[str] | None = None) -> pd.DataFrame:
    """Genes and all their TSSs from a GTF (Ensembl/GENCODE/UCSC/StringTie) or GFF3 (GENCODE/Ensembl/NCBI), plain or gzipped.

    The ``gene`` record's 5' end is the gene's ``tss``; ``tss_all`` holds the
    TSS of every transcript (``transcript`` records, or the span of each
    transcript's exons when there are none). GTFs without ``gene`` records
    (UCSC, StringTie) group a gene's transcripts by chromosome and strand; an
    ID found on several chromosomes/strands keeps the locus with the most
    transcripts, with a warning (a transcript id repeated on chrX and chrY is
    one transcript at each). Version suffixes are dropped from gene IDs;
    GENCODE's ``_PAR_Y`` copies of pseudo-autosomal genes are skipped. GFF3:
    see :func:`_annotation_records`.
    """
    wanted = set(gene_types or ())
    gff3 = _is_gff3(path)
    gene_rec, info, tx, saw_biotype = _read_annotation(path, gff3)
    if wanted and not saw_biotype:
        raise ChromoflowError(
            f"{path}: --gene-type given but the {'GFF3' if gff3 else 'GTF'} has no gene_type/gene_biotype attribute"
        )
    rows, split_ids = [], []
    for gid, (biotype, name, first_line) in info.items():
        if wanted and biotype not in wanted:
            continue
        transcripts = list(tx.get(gid, {}).values())
        if gid not in gene_rec and not transcripts:
            continue  # only unstranded records
        if gid in gene_rec:
            chrom, start, end, strand, first_line = gene_rec[gid]
            transcripts = [t for t in transcripts if t[0] == chrom and t[3] == strand]
        else:
            loci: dict[tuple, list] = {}
            for t in transcripts:
                loci.setdefault((t[0], t[3]), []).append(t)
            if len(loci) > 1:
                split_ids.append((gid, list(loci)))
            # The locus with the most transcripts; the first one in the file on a tie.
            (chrom, strand), transcripts = max(loci.items(), key=lambda kv: len(kv[1]))
            start, end = min(t[1] for t in transcripts), max(t[2] for t in transcripts)
        tss = _tss(start, end, strand)
        ordered = sorted(transcripts, key=lambda t: -(t[2] - t[1]))  # longest first; stable for ties
        all_tss = list(dict.fromkeys(_tss(t[1], t[2], t[3]) for t in ordered)) or [tss]
        rows.append((gid, chrom, tss, strand, name, ",".join(map(str, all_tss)), first_line))
    if split_ids:
        gid, loci = split_ids[0]
        warn(
            f"{path}: {len(split_ids)} gene_id(s) without a 'gene' record occur on several chromosomes/strands "
            f"(e.g. {gid!r} on {', '.join(f'{c} {s}' for c, s in loci)}); each keeps its locus with the most transcripts (the first in the file on a tie)"
        )
    return _finish(rows, path)


def read_genes(path: str | os.PathLike) -> pd.DataFrame:
    """Read and validate a ``genes.tsv`` written by :func:`genes_from_gtf`/``_bed``."""
    path = Path(path)
    frame = read_table(
        path,
        GENE_COLUMNS,
        "genes table",
        hint="make one with 'chromoflow genes'",
        dtype={"gene_id": str, "chrom": str, "strand": str, "gene_name": str, "tss_all": str},
    )
    tss = pd.to_numeric(frame["tss"], errors="coerce")
    bad = tss.isna() | (tss < 0) | (tss != tss.round())
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, row_line(frame, i), f"tss must be a non-negative integer, got {frame['tss'].iat[i]!r}")
    frame["tss"] = tss.astype(np.int64)
    for col in ("gene_id", "chrom"):
        bad = frame[col].str.strip() == ""
        if bad.any():
            raise at_line(path, row_line(frame, int(np.flatnonzero(bad.to_numpy())[0])), f"empty {col}")
    bad = ~frame["strand"].isin(["+", "-"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise at_line(path, row_line(frame, i), f"strand must be '+' or '-', got {frame['strand'].iat[i]!r}")
    dup = frame.duplicated("gene_id")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise at_line(
            path, row_line(frame, i), f"duplicate gene_id {frame['gene_id'].iat[i]!r}: gene IDs must be unique"
        )
    if "gene_name" not in frame.columns:
        frame["gene_name"] = ""
    if "tss_all" not in frame.columns:
        frame["tss_all"] = ""
    empty = frame["tss_all"].str.strip().isin(["", "nan", "NA"])
    frame.loc[empty, "tss_all"] = frame.loc[empty, "tss"].astype(str)
    frame["tss_all"] = frame["tss_all"].str.replace(
        r"\.0(?=,|$)", "", regex=True
    )  # integers a spreadsheet wrote as floats
    ok = frame["tss_all"].str.fullmatch(r"\d+(,\d+)*")
    if not ok.all():
        i = int(np.flatnonzero(~ok.to_numpy())[0])
        raise at_line(
            path,
            row_line(frame, i),
            f"tss_all must be comma-separated non-negative integers, got {frame['tss_all'].iat[i]!r}",
        )
    return frame[GENE_COLUMNS + OPTIONAL_COLUMNS].reset_index(drop=True)


def all_tss(genes: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every TSS of every gene: ``(gene_index, position, order)``.

    ``order`` is the TSS's place in the gene's ``tss_all`` list (0 = the
    longest transcript's). Genes without ``tss_all`` have their ``tss`` only.
    """
    if "tss_all" not in genes.columns:
        n = len(genes)
        return np.arange(n, dtype=np.int64), genes["tss"].to_numpy(np.int64), np.zeros(n, np.int64)
    lists = genes["tss_all"].astype(str).str.split(",")
    counts = lists.str.len().to_numpy(np.int64)
    position = np.fromiter((int(x) for xs in lists for x in xs), dtype=np.int64, count=int(counts.sum()))
    gene_index = np.repeat(np.arange(len(genes), dtype=np.int64), counts)
    order = np.arange(len(position), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    return gene_index, position, order


def write_genes(frame: pd.DataFrame, path: str | os.PathLike) -> None:
    out = frame.copy()
    for col in OPTIONAL_COLUMNS:
        if col not in out.columns:
            out[col] = out["tss"].astype(str) if col == "tss_all" else ""
    write_tsv(out[GENE_COLUMNS + OPTIONAL_COLUMNS], path)

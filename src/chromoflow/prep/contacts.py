"""Candidate promoter partners from a 3D-contact source.

Every reader returns the same candidate table, one row per (gene TSS, partner)::

    gene_index  chrom  start  end  score  tss_order

``gene_index`` points into the genes table, ``tss_order`` is the place of the
contacting TSS in the gene's ``tss_all`` list (0 = its longest transcript's);
the partner interval is the putative cis-regulatory element (pCRE). A gene
is looked up by **every** one of its TSSs. Filtering, deduplication and
ranking happen in :mod:`chromoflow.prep.pcres`, identically for every source.

Sources (:func:`contact_format` decides by the file name, or by the content where the name does not say):

- **BEDPE** (``.bedpe[.gz]``): ``chrom1 start1 end1 chrom2 start2 end2`` then
  any columns, with or without a header line (``#chr1 x1 …`` as HiCCUPS
  writes it, or a plain one as Mustache does). The score is column 8 (or the
  ``score`` column of a header), or ``--score-column NAME|N|A/B``; p-value,
  q-value and FDR columns become ``-log10(value)``. A list without a numeric
  score is *unscored*: every loop passes the score rule and pCREs are ranked
  nearest first. ``--anchors first``: anchor 1 is the bait (the gene's TSS
  fragment), as pcHi-C interaction lists are written; ``either``: an
  undirected loop list, either anchor may hold the TSS. ``auto`` (default):
  decided from the evidence, not the columns: ``first`` when anchor 1 holds
  one of the genes' TSSs in at least half the rows and at least three
  times as often as anchor 2 (a capture list's baits), else ``either``; the
  log says which and why.
- **CHiCAGO** ``.ibed[.gz]``: its header names the bait and other-end
  columns; only a gene's own baits contribute (directional).
- **Hi-C/Micro-C matrices**: ``.cool``, ``.mcool::resolutions/N``,
  ``.hic`` or ``.hic::resolutions/N`` (read with hictkpy; coolers of the
  older format versions 1 and 2 with the ``cooler`` package). Each TSS bin's
  cis row is scored observed/expected on the normalised matrix (expected =
  mean normalised contact at that diagonal over the chromosome, counting
  only pairs of bins with a valid weight); the partner bin is the pCRE; the
  TSS bin itself (the diagonal) is never a partner. Pixels with fewer than
  ``--min-count`` raw reads are not partners (sparse maps make most
  top-ranked O/E pixels single reads).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._arrays import expand_ranges
from .._tables import column, read_rows
from ..errors import ChromoflowError
from ..genome import ALIAS_HINT, ChromAliases, missing_chroms, sort_chroms
from ..log import info, warn
from ..progress import progress
from .genes import all_tss

CANDIDATE_COLUMNS = ["gene_index", "chrom", "start", "end", "score", "tss_order"]
MATRIX_NORMALIZATIONS = ("weight", "SCALE", "KR", "ICE", "VC_SQRT", "VC")
ANCHORS = ("auto", "first", "either")
_PVALUE = re.compile(r"(fdr|q[-_. ]?val(ue)?|p[-_. ]?val(ue)?|padj)", re.I)


@dataclass
class Candidates:
    """Candidate partners plus what the reader decided and skipped, for the log."""

    table: pd.DataFrame
    scored: bool = True
    notes: list[str] = field(default_factory=list)


def contact_format(source: str) -> str:
    """``bedpe``, ``ibed``, ``cool`` or ``hic``: from the file name where it says (``.bedpe``, ``.ibed``, ``.cool``,
    ``.mcool``, ``.hic``, also inside names such as ``x.ibed.txt.gz``), else from the content (an HDF5 or .hic
    header; a CHiCAGO header line; six or more tab-separated columns), as Mustache ``.tsv``, FitHiChIP ``.bed``
    and GEO ``.txt`` lists come."""
    text = str(source).split("::")[0]
    name = Path(text).name.lower()
    for ext, kind in ((".mcool", "cool"), (".cool", "cool"), (".hic", "hic"), (".bedpe", "bedpe"), (".ibed", "ibed")):
        if name.endswith(ext) or name.endswith(ext + ".gz") or f"{ext}." in name:
            return kind
    kind = _sniff(Path(text))
    if kind is None:
        raise ChromoflowError(
            f"{source}: unknown contact format; expected a loop/interaction list (BEDPE: 6 or more tab-separated columns), "
            f"CHiCAGO ibed, or a Hi-C matrix (.cool, .mcool::resolutions/N, .hic[::resolutions/N])"
        )
    return kind


def _sniff(path: Path) -> str | None:
    from .._io import open_text

    if not path.is_file():
        raise ChromoflowError(f"{path}: no such file")
    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic.startswith(b"\x89HDF"):
        return "cool"
    if magic.startswith(b"HIC\0"):
        return "hic"
    try:
        with open_text(path) as fh:
            for _, line in zip(range(200), fh):
                if not line.strip() or line.startswith(("track", "browser")):
                    continue
                fields = line.rstrip("\n\r").split("\t")
                if "bait_chr" in fields and "otherEnd_chr" in fields:
                    return "ibed"
                if line.startswith("#") and len(fields) < 6:
                    continue
                return "bedpe" if len(fields) >= 6 else None
    except ChromoflowError:
        return None
    return None


def candidates(genes: pd.DataFrame, source: str, rules, aliases: ChromAliases | None = None) -> Candidates:
    """Dispatch on the format of ``source``; ``rules`` is a :class:`~chromoflow.prep.pcres.PcreRules`; ``aliases``
    renames the source's chromosomes to the genes' names (the candidates come in the genes' names)."""
    kind = contact_format(source)
    if kind == "bedpe":
        return bedpe_candidates(genes, source, anchors=rules.anchors, score_column=rules.score_column, aliases=aliases)
    if kind == "ibed":
        return ibed_candidates(genes, source, aliases=aliases)
    with ContactMatrix(source, normalization=rules.normalization, balance=rules.balance) as matrix:
        return matrix_candidates(
            genes,
            matrix,
            max_distance=rules.matrix_max_distance,
            max_length=rules.max_length,
            min_count=rules.min_count,
            aliases=aliases,
        )


class _TssIndex:
    """Every TSS of every gene, per chromosome, for 'which TSSs lie in [start, end)' queries."""

    def __init__(self, genes: pd.DataFrame):
        gene_index, position, order = all_tss(genes)
        chrom = genes["chrom"].to_numpy()[gene_index]
        self.by_chrom: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for c in np.unique(chrom):
            sel = np.flatnonzero(chrom == c)
            srt = sel[np.argsort(position[sel], kind="stable")]
            self.by_chrom[c] = (position[srt], gene_index[srt], order[srt])

    def overlaps(self, chrom: np.ndarray, start: np.ndarray, end: np.ndarray):
        """(row, gene_index, tss_order) for every TSS in [start[row], end[row])."""
        rows_out, genes_out, order_out = [], [], []
        for c in np.unique(chrom):
            if c not in self.by_chrom:
                continue
            tss, gidx, order = self.by_chrom[c]
            rows = np.flatnonzero(chrom == c)
            lo = np.searchsorted(tss, start[rows], side="left")
            hi = np.searchsorted(tss, end[rows], side="left")
            n = hi - lo
            hit = expand_ranges(lo, n)
            rows_out.append(np.repeat(rows, n))
            genes_out.append(gidx[hit])
            order_out.append(order[hit])
        if not rows_out:
            z = np.zeros(0, np.int64)
            return z, z, z
        return np.concatenate(rows_out), np.concatenate(genes_out), np.concatenate(order_out)


def _rename(chroms: np.ndarray, genes: pd.DataFrame, aliases: ChromAliases | None) -> np.ndarray:
    return aliases.rename(chroms, set(genes["chrom"])) if aliases is not None else chroms


def _check_chroms(genes: pd.DataFrame, chroms, source) -> None:
    """Refuse contacts on none of the genes' chromosomes; warn when they miss some of the main ones."""
    from .folds import main_chromosomes

    gene_chroms = set(genes["chrom"])
    missing = missing_chroms(gene_chroms, set(chroms), "the genes table", str(source))
    main_missing = sort_chroms(c for c in missing if main_chromosomes([c]))
    if main_missing and missing != gene_chroms:
        n_genes = int(genes["chrom"].isin(missing).sum())
        warn(
            f"{source}: no contacts on {len(main_missing)} of the genes' chromosomes ({', '.join(main_missing[:5])}{' …' if len(main_missing) > 5 else ''}): their {n_genes} genes get no pCREs"
        )
    if missing == gene_chroms:
        raise ChromoflowError(
            f"{source}: none of the genes' chromosomes occurs in the contacts (genes are on e.g. {sorted(gene_chroms)[0]!r}, "
            f"the contacts on e.g. {sorted(set(chroms))[0] if len(chroms) else 'nothing'!r}); {ALIAS_HINT}"
        )


def _check_intervals(path, lines, start, end, what: str) -> None:
    bad = (start < 0) | (end <= start)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ChromoflowError(
            f"{path} line {lines[i]}: invalid {what} interval {start[i]}-{end[i]} (need 0 <= start < end)"
        )


def _frame(gidx, order, chrom, start, end, score) -> pd.DataFrame:
    return pd.DataFrame(
        {"gene_index": gidx, "chrom": chrom, "start": start, "end": end, "score": score, "tss_order": order}
    )


# --------------------------------------------------------------------------- pair lists


def _score_column(head, ncols: int, wanted: str | None, path):
    """(how to compute the score, its description): a column index, a ratio of two, or None (unscored)."""
    names = [h.lstrip("#").strip() for h in head] if head else None

    def index_of(name):
        if name.isdigit():
            k = int(name) - 1
            if not 0 <= k < ncols:
                raise ChromoflowError(f"{path}: --score-column {name}: the file has {ncols} columns")
            return k
        if names is None:
            raise ChromoflowError(
                f"{path}: --score-column {name!r}: the file has no header line naming its columns; give a column number instead"
            )
        if name not in names:
            raise ChromoflowError(f"{path}: --score-column {name!r}: no such column (columns: {', '.join(names)})")
        return names.index(name)

    if wanted:
        if "/" in wanted and not wanted.isdigit():
            a, b = wanted.split("/", 1)
            return ("ratio", index_of(a.strip()), index_of(b.strip())), f"{a.strip()}/{b.strip()}"
        k = index_of(wanted.strip())
        return ("col", k), (names[k] if names else f"column {k + 1}")
    if names is not None and "score" in names:
        return ("col", names.index("score")), "score"
    if names is None and ncols >= 8:
        return ("col", 7), "column 8"
    return None, None


def _parse_scores(rows, lines, how, label: str, path) -> np.ndarray | None:
    """The score of every row; None when the chosen column holds no numbers at all (an unscored list)."""

    def numbers(k):
        raw = [r[k] for r in rows]
        val = pd.to_numeric(pd.Series(raw), errors="coerce").to_numpy(np.float64)
        return raw, val

    if how is None:
        return None
    if how[0] == "ratio":
        raw_a, a = numbers(how[1])
        raw_b, b = numbers(how[2])
        raw = raw_a
        with np.errstate(divide="ignore", invalid="ignore"):
            val = a / b
        bad = ~np.isfinite(a) | ~np.isfinite(b) | (b <= 0)
    else:
        raw, val = numbers(how[1])
        bad = ~np.isfinite(val)
    if bad.all() and how[0] == "col" and all(v in ("", ".", "NA", "NaN", "nan", "NA.") for v in raw[:1000]):
        return None  # '.' everywhere: no score
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ChromoflowError(
            f"{path} line {lines[i]}: score ({label}) must be a finite number{' with a positive denominator' if how[0] == 'ratio' else ''}, got {raw[i]!r}"
        )
    if how[0] == "col" and _PVALUE.search(label):
        if (val < 0).any() or (val > 1).any():
            i = int(np.flatnonzero((val < 0) | (val > 1))[0])
            raise ChromoflowError(f"{path} line {lines[i]}: {label} must lie in [0, 1], got {raw[i]!r}")
        return -np.log10(np.maximum(val, 1e-300))
    return val


def _read_pairs(path):
    """(header fields | None, rows, line numbers) of a BEDPE-like list; '#' header lines are recognised."""
    from .._tables import lines as table_lines

    head, rows, lines = None, [], []
    pending = None
    for no, f in table_lines(path, comments=("track", "browser")):
        if f[0].startswith("#"):
            if not rows and len(f) >= 6:
                pending = f
            continue
        if not rows and head is None:
            if len(f) >= 6 and not (f[1].strip().lstrip("-").isdigit()):
                head = f  # a plain header line (e.g. Mustache)
                continue
            head = pending
        if len(f) < 6:
            raise ChromoflowError(
                f"{path} line {no}: expected at least 6 tab-separated BEDPE columns (chrom1, start1, end1, chrom2, start2, end2), got {len(f)}"
            )
        rows.append(f)
        lines.append(no)
    if not rows:
        raise ChromoflowError(
            f"{path}: no BEDPE rows (the file is empty{' but for its header' if head or pending else ''})"
        )
    return head, rows, np.asarray(lines)


def bedpe_candidates(
    genes: pd.DataFrame,
    path: str | os.PathLike,
    anchors: str = "auto",
    score_column: str | None = None,
    aliases: ChromAliases | None = None,
) -> Candidates:
    """Partners from a BEDPE interaction or loop list (see the module docstring)."""
    if anchors not in ANCHORS:
        raise ChromoflowError(f"--anchors {anchors!r}: expected one of {', '.join(ANCHORS)}")
    head, rows, lines = _read_pairs(path)
    ncols = min(len(r) for r in rows)
    how, label = _score_column(head, ncols, score_column, path)
    score = _parse_scores(rows, lines, how, label, path)
    notes = []
    if score is None:
        if how is not None:
            warn(
                f"{path}: the score column ({label}) holds no numbers (all '.', NA or NaN): read as an unscored loop list"
            )
        notes.append(
            "no score column: every loop passes --min-score and pCREs are ranked nearest first (score written as 1)"
        )
        score = np.full(len(rows), np.nan)
    else:
        notes.append(f"score: {label}" + (f" as -log10({label})" if how[0] == "col" and _PVALUE.search(label) else ""))
    c1 = _rename(np.array([r[0] for r in rows], dtype=object), genes, aliases)
    c2 = _rename(np.array([r[3] for r in rows], dtype=object), genes, aliases)
    s1, e1 = column(rows, lines, 1, path, "start1"), column(rows, lines, 2, path, "end1")
    s2, e2 = column(rows, lines, 4, path, "start2"), column(rows, lines, 5, path, "end2")
    _check_intervals(path, lines, s1, e1, "anchor 1")
    _check_intervals(path, lines, s2, e2, "anchor 2")
    _check_chroms(genes, np.concatenate([np.unique(c1), np.unique(c2)]), path)
    trans = c1 != c2
    if trans.any():
        notes.append(f"skipped {int(trans.sum())} inter-chromosomal rows")
    cis = np.flatnonzero(~trans)
    index = _TssIndex(genes)
    if anchors == "auto":
        anchors, why = _anchors_from_evidence(index, cis, (c1, s1, e1), (c2, s2, e2))
        notes.append(f"anchors: {anchors} ({why})")
    directions = [((c1, s1, e1), (c2, s2, e2))]
    if anchors == "either":
        directions.append(((c2, s2, e2), (c1, s1, e1)))
    parts = []
    for (tc, ts, te), (pc, ps, pe) in directions:
        r, g, o = index.overlaps(tc[cis], ts[cis], te[cis])
        r = cis[r]
        parts.append(_frame(g, o, pc[r], ps[r], pe[r], score[r]))
    return Candidates(pd.concat(parts, ignore_index=True), scored=bool(np.isfinite(score).any()), notes=notes)


def _anchors_from_evidence(index: _TssIndex, cis: np.ndarray, first, second) -> tuple[str, str]:
    """``first`` when anchor 1 is where the genes' TSSs are, as in a capture (pcHi-C) list whose anchor 1 is the
    bait, else ``either``. The evidence: the share of cis rows with a TSS in anchor 1 against that in anchor 2 (a
    loop caller's anchors hold TSSs about equally often, whatever its columns)."""
    held = []
    for c, s, e in (first, second):
        rows, _, _ = index.overlaps(c[cis], s[cis], e[cis])
        held.append(len(np.unique(rows)) / max(len(cis), 1))
    one, two = held
    if one >= 0.5 and two <= one / 3:
        return (
            "first",
            f"anchor 1 holds a TSS in {one:.0%} of the rows, anchor 2 in {two:.0%}: anchor 1 is the bait, as in capture Hi-C lists; --anchors either for undirected loops",
        )
    return (
        "either",
        f"anchor 1 holds a TSS in {one:.0%} of the rows, anchor 2 in {two:.0%}: not a capture list's pattern, so either anchor may hold the TSS; --anchors first if anchor 1 is always the bait",
    )


IBED_COLUMNS = ["bait_chr", "bait_start", "bait_end", "otherEnd_chr", "otherEnd_start", "otherEnd_end", "score"]


def ibed_candidates(genes: pd.DataFrame, path: str | os.PathLike, aliases: ChromAliases | None = None) -> Candidates:
    """Partners from a CHiCAGO ``.ibed``: a bait on one of the gene's TSSs, the other end is the pCRE."""
    head, rows, lines = read_rows(path, len(IBED_COLUMNS), "ibed", header="yes")
    if head is None:
        raise ChromoflowError(f"{path}: empty file; expected a CHiCAGO ibed with header {' '.join(IBED_COLUMNS)}")
    missing = [c for c in IBED_COLUMNS if c not in head]
    if missing:
        raise ChromoflowError(f"{path}: not a CHiCAGO ibed: header lacks {', '.join(missing)}")
    short = [i for i, r in enumerate(rows) if len(r) < len(head)]
    if short:
        raise ChromoflowError(
            f"{path} line {lines[short[0]]}: {len(rows[short[0]])} tab-separated fields, the header has {len(head)}"
        )
    col = {name: head.index(name) for name in IBED_COLUMNS}
    bc = _rename(np.array([r[col["bait_chr"]] for r in rows], dtype=object), genes, aliases)
    oc = _rename(np.array([r[col["otherEnd_chr"]] for r in rows], dtype=object), genes, aliases)
    bs, be = (
        column(rows, lines, col["bait_start"], path, "bait_start"),
        column(rows, lines, col["bait_end"], path, "bait_end"),
    )
    os_, oe = (
        column(rows, lines, col["otherEnd_start"], path, "otherEnd_start"),
        column(rows, lines, col["otherEnd_end"], path, "otherEnd_end"),
    )
    score = column(rows, lines, col["score"], path, "score", kind=float)
    bad = ~np.isfinite(score)
    if bad.any():
        raise ChromoflowError(f"{path} line {lines[int(np.flatnonzero(bad)[0])]}: score must be a finite number")
    _check_intervals(path, lines, bs, be, "bait")
    _check_intervals(path, lines, os_, oe, "other-end")
    _check_chroms(genes, np.concatenate([np.unique(bc), np.unique(oc)]), path)
    trans = bc != oc
    notes = [f"skipped {int(trans.sum())} inter-chromosomal rows"] if trans.any() else []
    cis = np.flatnonzero(~trans)
    r, g, o = _TssIndex(genes).overlaps(bc[cis], bs[cis], be[cis])
    r = cis[r]
    return Candidates(_frame(g, o, oc[r], os_[r], oe[r], score[r]), notes=notes)


# --------------------------------------------------------------------------- matrices


def _split_uri(uri: str) -> tuple[Path, int | None]:
    text = str(uri)
    path, _, suffix = text.partition("::")
    if not suffix:
        return Path(path), None
    m = re.fullmatch(r"/?resolutions/(\d+)", suffix)
    if not m:
        raise ChromoflowError(f"{uri}: expected FILE::resolutions/N after the file name")
    return Path(path), int(m.group(1))


class _HictkMatrix:
    """A matrix read through hictkpy (``.hic``, and coolers in cooler's current format)."""

    def __init__(self, file):
        self._file = file
        self.resolution = int(file.resolution() or 0)
        self.chroms = {str(k): int(v) for k, v in file.chromosomes().items()}

    def normalizations(self) -> list[str]:
        return [str(n) for n in self._file.avail_normalizations() if str(n) != "NONE"]

    def divisive_weights(self, name: str):
        w = self._file.weights(name, divisive=True)
        return None if w is None else np.asarray(w, np.float64)

    def pixels(self, chrom: str, a: int, z: int, max_diag: int):
        """Raw counts of the pixels with bin1 in [a, z) and 0 <= bin2 - bin1 <= max_diag: (bin1, bin2, count), chromosome bins."""
        res, size = self.resolution, self.chroms[chrom]
        r1 = f"{chrom}:{a * res}-{min(z * res, size)}"
        r2 = f"{chrom}:{a * res}-{min((z + max_diag) * res, size)}"
        coo = self._file.fetch(r1, r2, normalization="NONE", count_type="float", diagonal_band_width=max_diag).to_coo()
        return coo.row.astype(np.int64) + a, coo.col.astype(np.int64) + a, np.asarray(coo.data, np.float64)

    def close(self) -> None:
        self._file.close()


class _CoolerMatrix:
    """A cooler read through the ``cooler`` package: every format version it reads (hictkpy reads only the current one)."""

    def __init__(self, uri: str):
        import cooler

        self._cooler = cooler.Cooler(uri)
        self.resolution = int(self._cooler.binsize or 0)
        self.chroms = {str(k): int(v) for k, v in self._cooler.chromsizes.items()}
        self._bins = self._cooler.bins()[:]
        offsets = self._cooler._load_dset("indexes/chrom_offset")
        self._offset = {c: int(o) for c, o in zip(self.chroms, offsets[:-1])}

    def normalizations(self) -> list[str]:
        return [c for c in self._bins.columns if c not in ("chrom", "start", "end") and self._bins[c].dtype.kind == "f"]

    def divisive_weights(self, name: str):
        """Weights as divisors: cooler's own ``weight`` multiplies counts, columns marked ``divisive_weights`` (hic2cool's) divide."""
        with self._cooler.open("r") as grp:
            divisive = bool(grp["bins"][name].attrs.get("divisive_weights", False))
        w = self._bins[name].to_numpy(np.float64)
        if divisive:
            return w
        with np.errstate(divide="ignore"):
            return np.where(w > 0, 1.0 / w, np.nan)

    def pixels(self, chrom: str, a: int, z: int, max_diag: int):
        res, size = self.resolution, self.chroms[chrom]
        r1 = (chrom, a * res, min(z * res, size))
        r2 = (chrom, a * res, min((z + max_diag) * res, size))
        px = self._cooler.matrix(balance=False, as_pixels=True, join=False).fetch(r1, r2)
        off = self._offset[chrom]
        return (
            px["bin1_id"].to_numpy(np.int64) - off,
            px["bin2_id"].to_numpy(np.int64) - off,
            px["count"].to_numpy(np.float64),
        )

    def close(self) -> None:
        pass


class ContactMatrix:
    """A Hi-C/Micro-C contact matrix: ``.cool``, ``.mcool::resolutions/N``, ``.hic[::resolutions/N]``.

    Read through hictkpy; a cooler hictkpy cannot open (cooler's format
    versions 1 and 2, written by cooler < 0.8 and common in early 4DN and
    GEO files) is read through the ``cooler`` package instead, with the same
    observed/expected rules. ``normalization``: the balancing weights to use
    (``auto``: the cooler's ``weight`` column, else the first of SCALE, KR,
    ICE, VC_SQRT, VC the file has); ``balance=False`` scores raw counts.
    """

    def __init__(self, uri: str, normalization: str = "auto", balance: bool = True):
        self.uri = str(uri)
        path, resolution = _split_uri(uri)
        if not path.is_file():
            raise ChromoflowError(f"{path}: contacts file does not exist")
        kind = contact_format(str(path))
        if kind == "cool" and not _is_hdf5(path):
            raise ChromoflowError(f"{path}: not a readable cooler (an HDF5 file): damaged, truncated or another format")
        resolutions = _resolutions(path) if kind == "hic" else (_mcool_resolutions(path) if _is_mcool(path) else None)
        if resolutions is not None:
            if resolution is None:
                if len(resolutions) > 1:
                    raise ChromoflowError(
                        f"{path}: multi-resolution file: pick one, e.g. {path}::resolutions/{resolutions[0]} (available: {', '.join(map(str, resolutions))})"
                    )
                resolution = int(resolutions[0])
            elif resolution not in resolutions:
                raise ChromoflowError(
                    f"{path}: no resolution {resolution} (available: {', '.join(map(str, resolutions))})"
                )
        elif resolution is not None:
            raise ChromoflowError(f"{uri}: a single-resolution .cool takes no ::resolutions/N suffix")
        self._matrix = _open_matrix(path, kind, resolution, resolutions is not None, self.uri)
        self.resolution = self._matrix.resolution
        if not self.resolution:
            raise ChromoflowError(f"{uri}: variable-size bins are not supported; use a fixed-resolution matrix")
        self.chroms = self._matrix.chroms
        self.balance = balance
        self.normalization = None
        if balance:
            available = self._matrix.normalizations()
            if normalization == "auto":
                chosen = next((n for n in MATRIX_NORMALIZATIONS if n in available), None)
                if chosen is None:
                    how = (
                        "compute them with 'hictk balance' or juicer_tools addNorm"
                        if kind == "hic"
                        else "run 'cooler balance' on it"
                    )
                    raise ChromoflowError(
                        f"{uri}: the matrix has no normalisation (balancing weights): {how}, or pass --no-balance to score raw counts"
                    )
            else:
                if normalization not in available:
                    raise ChromoflowError(
                        f"{uri}: no normalisation {normalization!r} in the file (available: {', '.join(available) or 'none'}); pass --no-balance to score raw counts"
                    )
                chosen = normalization
            self.normalization = chosen
            weights = self._matrix.divisive_weights(chosen)
            if weights is None:
                raise ChromoflowError(f"{uri}: normalisation {chosen!r} has no weights")
            self._weights = weights
        offsets = np.concatenate([[0], np.cumsum([-(-size // self.resolution) for size in self.chroms.values()])])
        self._offset = dict(zip(self.chroms, offsets[:-1].astype(np.int64)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        m, self._matrix = getattr(self, "_matrix", None), None
        if m is not None:
            m.close()

    def n_bins(self, chrom: str) -> int:
        return -(-self.chroms[chrom] // self.resolution)

    def weights(self, chrom: str) -> np.ndarray:
        """Divisive weights of ``chrom``'s bins (NaN or 0 = masked); ones without balancing."""
        n = self.n_bins(chrom)
        if not self.balance:
            return np.ones(n)
        a = self._offset[chrom]
        return self._weights[a : a + n]

    def band(self, chrom: str, max_diag: int, block: int = 4000):
        """Upper-triangle pixels with bin2 - bin1 <= ``max_diag``, in row blocks: (bin1, bin2, raw count)."""
        n = self.n_bins(chrom)
        for a in range(0, n, block):
            z = min(a + block, n)
            try:
                i, j, count = self._matrix.pixels(chrom, a, z, max_diag)
            except (RuntimeError, OSError, KeyError, ValueError) as exc:
                raise ChromoflowError(
                    f"{self.uri}: cannot read {chrom} ({_first_line(exc)}); the file may be damaged"
                ) from None
            keep = (j >= i) & (j - i <= max_diag)
            yield i[keep], j[keep], count[keep]


def _resolutions(path: Path) -> list[int]:
    import hictkpy

    try:
        return [int(r) for r in hictkpy.MultiResFile(str(path)).resolutions()]
    except RuntimeError as exc:
        raise ChromoflowError(f"{path}: cannot read it as a .hic file ({_first_line(exc)})") from None


def _mcool_resolutions(path: Path) -> list[int]:
    """The resolutions of an .mcool, from its layout (any cooler format version)."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            return sorted(int(r) for r in h5["resolutions"].keys() if str(r).isdigit())
    except (OSError, KeyError) as exc:
        raise ChromoflowError(f"{path}: cannot read it as a cooler file ({_first_line(exc)})") from None


def _open_matrix(path: Path, kind: str, resolution: int | None, multires: bool, uri: str):
    """hictkpy where it opens the file, else (coolers of older format versions) the cooler package."""
    import hictkpy

    try:
        if kind == "hic":
            return _HictkMatrix(hictkpy.File(str(path), resolution))
        return _HictkMatrix(hictkpy.File(f"{path}::/resolutions/{resolution}" if multires else str(path)))
    except RuntimeError as exc:
        if kind == "hic":
            raise ChromoflowError(f"{uri}: cannot open it as a contact matrix ({_first_line(exc)})") from None
        problem = _first_line(exc)
    try:
        return _CoolerMatrix(f"{path}::resolutions/{resolution}" if multires else str(path))
    except Exception as exc:  # noqa: BLE001 - cooler raises many types for files it cannot read
        raise ChromoflowError(
            f"{uri}: cannot open it as a contact matrix ({problem}; cooler: {_first_line(exc)})"
        ) from None


def _is_hdf5(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r"):
            return True
    except OSError:
        return False


def _is_mcool(path: Path) -> bool:
    if path.suffix.lower() == ".mcool":
        return True
    try:
        import h5py

        with h5py.File(path, "r") as h5:
            return "resolutions" in h5
    except OSError:
        return False


def _first_line(exc) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def _valid_pairs_per_diagonal(valid: np.ndarray, max_diag: int) -> np.ndarray:
    """n[d] = number of bin pairs (i, i+d) with both bins valid."""
    v = valid.astype(np.float64)
    n = np.zeros(max_diag + 1, np.int64)
    for d in range(min(max_diag, len(v) - 1) + 1):
        n[d] = int(np.dot(v[: len(v) - d], v[d:]))
    return n


def matrix_candidates(
    genes: pd.DataFrame,
    matrix: ContactMatrix,
    *,
    max_distance: int,
    max_length: int,
    min_count: float = 0,
    aliases: ChromAliases | None = None,
) -> Candidates:
    """Partners from a contact matrix: observed/expected in each TSS bin's cis row (see the module docstring)."""
    res = matrix.resolution
    if res > max_length:
        raise ChromoflowError(
            f"{matrix.uri}: resolution {res} bp is coarser than --max-length {max_length}: partner bins would exceed the pCRE length limit; pick a finer resolution (e.g. ::resolutions/5000)"
        )
    name_of = {
        c: aliases.translate(c, set(genes["chrom"])) if aliases else c for c in matrix.chroms
    }  # the genes' name for each
    _check_chroms(genes, list(name_of.values()), matrix.uri)
    notes = [
        f"{'normalisation ' + matrix.normalization if matrix.balance else 'raw counts (--no-balance)'}, resolution {res} bp, pixels with >= {min_count:g} reads, band {max_distance} bp"
    ]
    max_diag = max_distance // res + 1
    gene_index, position, order = all_tss(genes)
    gene_chrom = genes["chrom"].to_numpy()[gene_index]
    parts, single_reads = [], 0
    chroms = [c for c in matrix.chroms if name_of[c] in set(genes["chrom"])]
    for chrom in progress(chroms, desc="contacts", unit="chrom"):
        n_bins = matrix.n_bins(chrom)
        w = matrix.weights(chrom)
        valid = np.isfinite(w) & (w > 0)
        sel = np.flatnonzero(gene_chrom == name_of[chrom])
        tss_bin = np.minimum(position[sel] // res, n_bins - 1)
        is_tss = np.zeros(n_bins, bool)
        is_tss[tss_bin] = True
        diag_sum = np.zeros(max_diag + 1)
        hits = []
        for b1, b2, cnt in matrix.band(chrom, max_diag):
            d = b2 - b1
            ok = valid[b1] & valid[b2]
            val = np.where(ok, cnt / np.where(ok, w[b1] * w[b2], 1.0), np.nan)
            ok &= np.isfinite(val)
            diag_sum += np.bincount(d[ok], weights=val[ok], minlength=max_diag + 1)
            hit = ok & (d > 0) & (is_tss[b1] | is_tss[b2])
            single_reads += int((hit & (cnt < 2)).sum())
            hit &= cnt >= min_count
            hits.append((b1[hit], b2[hit], val[hit], d[hit]))
        n_pairs = _valid_pairs_per_diagonal(valid, max_diag)
        with np.errstate(invalid="ignore", divide="ignore"):
            expected = np.where(n_pairs > 0, diag_sum / np.maximum(n_pairs, 1), np.nan)
        i, j, v, d = (np.concatenate(x) for x in zip(*hits))
        oe = v / expected[d.astype(np.int64)]
        # Each stored (upper-triangle) pixel serves both of its bins as the TSS side.
        tss_side = np.concatenate([i, j]).astype(np.int64)
        partner = np.concatenate([j, i]).astype(np.int64)
        score = np.concatenate([oe, oe])
        keep = is_tss[tss_side] & np.isfinite(score)
        tss_side, partner, score = tss_side[keep], partner[keep], score[keep]
        srt = np.argsort(tss_bin, kind="stable")
        sorted_bins = tss_bin[srt]
        lo = np.searchsorted(sorted_bins, tss_side, "left")
        n = np.searchsorted(sorted_bins, tss_side, "right") - lo
        rep = np.repeat(np.arange(len(tss_side)), n)
        which = sel[srt][expand_ranges(lo, n)]
        pb = partner[rep]
        start = pb * res
        parts.append(
            _frame(
                gene_index[which],
                order[which],
                np.full(len(pb), name_of[chrom], dtype=object),
                start,
                np.minimum(start + res, matrix.chroms[chrom]),
                score[rep],
            )
        )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    if out.empty:
        warn(f"{matrix.uri}: no contacts in any gene's TSS bin")
    if single_reads:
        info(f"{matrix.uri}: {single_reads} TSS-row pixels hold a single read")
    return Candidates(out, notes=notes)

"""Cross-validation folds: by chromosome (the published split, or balanced) or at random.

Fold numbers are 1..K. Fold 0 marks genes outside every fold (e.g. chrM or
an unplaced contig under the official split): they are neither trained on
nor evaluated, but still get predictions.

``auto`` picks the published 4-fold split when the genome's main
chromosomes are human (1–22 and X, Y optional; extra contigs such as
``chrUn_…``, ``…_random``, ``GL…``, ``KI…`` and chrM do not matter) and
``chrom:4`` (whole chromosomes balanced by gene count) for every other
genome (mouse, fly, …). The genome is what the tracks' headers list, so a
gene table covering a few human chromosomes still counts as human.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import ChromoflowError
from ..genome import canonical, chrom_sort_key
from ..log import warn

# Lee, Yang & Kim 2022 (Chromoformer), 4 folds by chromosome.
OFFICIAL_FOLDS = {
    1: ["1", "5", "6", "8", "14", "Y"],
    2: ["7", "10", "11", "12", "15", "21"],
    3: ["2", "3", "4", "16", "18", "20"],
    4: ["9", "13", "17", "19", "22", "X"],
}
_OFFICIAL = {c: k for k, chroms in OFFICIAL_FOLDS.items() for c in chroms}
MAX_FOLDS = 1000

_SCHEME = re.compile(r"^(official|auto|chrom:(\d+)|random:(\d+))$")
_HUMAN_AUTOSOMES = {str(i) for i in range(1, 23)}
_SEX = {"X", "Y", "W", "Z"}


def main_chromosomes(chroms) -> set[str]:
    """Canonical names of the assembled chromosomes among ``chroms``: numbered ones and sex chromosomes.

    Unplaced/unlocalised contigs, alternate haplotypes and the mitochondrion
    are left out (``chrUn_…``, ``chr1_…_random``, ``GL000…``, ``KI270…``, chrM).
    """
    out = set()
    for c in chroms:
        core = canonical(str(c))
        if core.isdigit() or core.upper() in _SEX:
            out.add(core.upper() if not core.isdigit() else str(int(core)))
    return out


def looks_human(chroms) -> bool:
    """True when the main chromosomes are exactly human: 1–22 and X, optionally Y."""
    main = main_chromosomes(chroms)
    numbered = {c for c in main if c.isdigit()}
    sex = main - numbered
    return numbered == _HUMAN_AUTOSOMES and "X" in sex and sex <= {"X", "Y"}


def parse_scheme(scheme: str) -> str:
    m = _SCHEME.match(scheme or "")
    if not m:
        raise ChromoflowError(f"--folds {scheme!r}: expected auto, official, chrom:K or random:K (K >= 2)")
    if ":" in scheme:
        k = int(scheme.split(":")[1])
        if not 2 <= k <= MAX_FOLDS:
            raise ChromoflowError(f"--folds {scheme!r}: K must be between 2 and {MAX_FOLDS}")
    return scheme


def resolve_scheme(scheme: str, chroms) -> tuple[str, str]:
    """(scheme, why): ``auto`` -> ``official`` for a human genome, else ``chrom:4``."""
    scheme = parse_scheme(scheme)
    if scheme != "auto":
        return scheme, "as requested"
    if looks_human(chroms):
        return "official", "auto: human chromosomes 1-22, X; the published split"
    main = sorted(main_chromosomes(chroms), key=chrom_sort_key)
    shown = ", ".join(main[:6]) + (" …" if len(main) > 6 else "") if main else "none"
    return (
        "chrom:4",
        f"auto: not a human genome (main chromosomes {shown}); 4 folds of whole chromosomes balanced by gene count",
    )


def assign_folds(genes: pd.DataFrame, scheme: str = "auto", seed: int = 0, genome=None) -> tuple[np.ndarray, str, str]:
    """Fold (int32) for every gene, the resolved scheme name, and why it was chosen.

    ``genome``: the chromosome names of the assembly (e.g. a track's header);
    the genes' own chromosomes are added to it.
    """
    chroms = set(genes["chrom"].unique()) | set(genome or ())
    scheme, why = resolve_scheme(scheme, chroms)
    chrom = genes["chrom"].to_numpy()
    if scheme == "official":
        folds = np.array([_OFFICIAL.get(canonical(c), 0) for c in chrom], np.int32)
        outside = sorted({c for c, f in zip(chrom, folds) if f == 0}, key=chrom_sort_key)
        if outside:
            warn(
                f"{int((folds == 0).sum())} genes on chromosomes outside the official folds ({', '.join(outside[:5])}) get fold 0: predicted, never trained on or evaluated"
            )
        return folds, scheme, why
    k = int(scheme.split(":")[1])
    if scheme.startswith("random"):
        if k > len(genes):
            raise ChromoflowError(f"--folds {scheme}: more folds than the {len(genes)} genes")
        rng = np.random.default_rng(seed)
        folds = np.empty(len(genes), np.int32)
        folds[rng.permutation(len(genes))] = np.arange(len(genes)) % k + 1
        return folds, scheme, why
    # chrom:K: whole chromosomes, largest gene count first, each to the lightest fold.
    counts = genes.groupby("chrom").size()
    names = sorted(counts.index, key=lambda c: (-counts[c], chrom_sort_key(c)))
    if len(names) < k:
        raise ChromoflowError(
            f"--folds {scheme} ({why}): only {len(names)} chromosome(s) carry genes; use --folds random:{k} (or fewer chromosome folds)"
        )
    load = np.zeros(k, np.int64)
    fold_of = {}
    for c in names:
        f = int(np.argmin(load))
        fold_of[c] = f + 1
        load[f] += counts[c]
    return np.array([fold_of[c] for c in chrom], np.int32), scheme, why

"""Cross-validation folds: by chromosome (the published split, or balanced) or at random.

Fold numbers are 1..K. Fold 0 marks genes outside every fold (e.g. chrM under
the official split): they are neither trained on nor evaluated, but still get
predictions.
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

_SCHEME = re.compile(r"^(official|auto|chrom:(\d+)|random:(\d+))$")


_HUMAN = {str(i) for i in range(1, 23)} | {"X", "Y", "M"}


def looks_human(chroms) -> bool:
    """True when every chromosome is named like a human one (chr1..chr22, X, Y, M; UCSC or Ensembl)."""
    names = {canonical(c) for c in chroms}
    return bool(names) and names <= _HUMAN


def parse_scheme(scheme: str) -> str:
    if not _SCHEME.match(scheme or ""):
        raise ChromoflowError(f"--folds {scheme!r}: expected official, chrom:K or random:K (K >= 2)")
    if ":" in scheme and int(scheme.split(":")[1]) < 2:
        raise ChromoflowError(f"--folds {scheme!r}: K must be at least 2")
    return scheme


def resolve_scheme(scheme: str, chroms) -> str:
    """``auto`` -> ``official`` for human chromosome names, else ``chrom:4``."""
    scheme = parse_scheme(scheme)
    if scheme == "auto":
        return "official" if looks_human(chroms) else "chrom:4"
    return scheme


def assign_folds(genes: pd.DataFrame, scheme: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """Fold (int8) for every gene and the resolved scheme name."""
    scheme = resolve_scheme(scheme, genes["chrom"].unique())
    chrom = genes["chrom"].to_numpy()
    if scheme == "official":
        folds = np.array([_OFFICIAL.get(canonical(c), 0) for c in chrom], np.int8)
        outside = sorted({c for c, f in zip(chrom, folds) if f == 0}, key=chrom_sort_key)
        if outside:
            warn(f"{int((folds == 0).sum())} genes on chromosomes outside the official folds ({', '.join(outside[:5])}) get fold 0: predicted, never trained on or evaluated")
        return folds, scheme
    k = int(scheme.split(":")[1])
    if scheme.startswith("random"):
        rng = np.random.default_rng(seed)
        folds = np.empty(len(genes), np.int8)
        folds[rng.permutation(len(genes))] = np.arange(len(genes)) % k + 1
        return folds, scheme
    # chrom:K: whole chromosomes, largest gene count first, each to the lightest fold.
    counts = genes.groupby("chrom").size()
    names = sorted(counts.index, key=lambda c: (-counts[c], chrom_sort_key(c)))
    if len(names) < k:
        raise ChromoflowError(f"--folds {scheme}: only {len(names)} chromosome(s) carry genes; use fewer folds or random:{k}")
    load = np.zeros(k, np.int64)
    fold_of = {}
    for c in names:
        f = int(np.argmin(load))
        fold_of[c] = f + 1
        load[f] += counts[c]
    return np.array([fold_of[c] for c in chrom], np.int8), scheme

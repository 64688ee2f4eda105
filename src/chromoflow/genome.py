"""Chromosome names: ordering, and catching ``chr1`` vs ``1`` mismatches between files."""

from __future__ import annotations

import re
from typing import Iterable

from .errors import ChromoflowError

_NUM = re.compile(r"(\d+)")


def chrom_sort_key(name: str):
    """Natural order: chr1, chr2, …, chr10, …, chrX, chrY, chrM, then other contigs."""
    core = name[3:] if name.lower().startswith("chr") else name
    if core.isdigit():
        return (0, int(core), "")
    special = {"X": 1, "Y": 2, "M": 3, "MT": 3}
    if core.upper() in special:
        return (1, special[core.upper()], "")
    parts = tuple(int(p) if p.isdigit() else p for p in _NUM.split(core))
    return (2, 0, str(parts))


def sort_chroms(names: Iterable[str]) -> list[str]:
    return sorted(set(names), key=chrom_sort_key)


def canonical(name: str) -> str:
    """Name without a ``chr`` prefix, with ``MT`` spelled ``M``: for comparisons only."""
    core = name[3:] if name.lower().startswith("chr") else name
    return "M" if core.upper() == "MT" else core


def style(names: Iterable[str]) -> str:
    """Describe a naming style by example, e.g. "'chr1'" or "'1'"."""
    names = sort_chroms(names)
    return repr(names[0]) if names else "no chromosomes"


def missing_chroms(
    needed: Iterable[str], available: Iterable[str], needed_src: str, available_src: str
) -> set[str]:
    """Chromosomes in ``needed`` that ``available`` lacks.

    Raises a clear error when *none* of them is available but they would match
    after adding/removing the ``chr`` prefix: the classic UCSC vs Ensembl mix-up.
    """
    needed, available = set(needed), set(available)
    missing = needed - available
    if not missing:
        return missing
    canon_available = {canonical(c) for c in available}
    renamable = {c for c in missing if canonical(c) in canon_available}
    if renamable and (len(renamable) >= len(missing) / 2 or not (needed & available)):
        example = sort_chroms(renamable)[0]
        partner = next(a for a in sort_chroms(available) if canonical(a) == canonical(example))
        fix = "add a 'chr' prefix to" if partner.lower().startswith("chr") else "remove the 'chr' prefix from"
        raise ChromoflowError(
            f"chromosome names differ between {needed_src} (e.g. {example!r}) and "
            f"{available_src} (e.g. {partner!r}): use one naming style (UCSC 'chr1' or "
            f"Ensembl '1') in all inputs, e.g. {fix} the names in {needed_src}"
        )
    return missing

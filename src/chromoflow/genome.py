"""Chromosome names: ordering, and catching ``chr1`` vs ``1`` mismatches between files."""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

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


def missing_chroms(needed: Iterable[str], available: Iterable[str], needed_src: str, available_src: str) -> set[str]:
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


ALIAS_HINT = (
    "if the files name chromosomes differently (RefSeq 'NC_000001.11' or GenBank 'CM000663.2' vs UCSC 'chr1'), "
    "pass --chrom-aliases with UCSC's chromAlias.txt for the assembly"
)


_ALIAS_SOURCES = {"ucsc", "refseq", "genbank", "ensembl", "assembly", "ncbi", "gencode", "custom"}


class ChromAliases:
    """Other names of the same chromosomes, from a UCSC ``chromAlias`` file, to match files named differently.

    Two layouts, as UCSC distributes them:

    - ``hg38.chromAlias.txt`` (hgdownload): a ``#`` header naming the
      sources (``# ucsc assembly genbank refseq``), then one line per
      chromosome with its names (``chr1  1  CM000663.2  NC_000001.11``);
    - the older ``chromAlias`` table: ``alias  chrom  source`` lines
      (``NC_000001.11  chr1  refseq``).

    Any name of a chromosome (RefSeq, GenBank, Ensembl, UCSC) then finds the
    spelling another file uses (:meth:`translate`).
    """

    def __init__(self, groups: list[list[str]], source: str = "aliases"):
        self.source = source
        self._group: dict[str, tuple[str, ...]] = {}
        for names in groups:
            names = tuple(dict.fromkeys(n for n in names if n))
            for n in names:
                self._group[n] = names

    @classmethod
    def read(cls, path) -> ChromAliases:
        from ._tables import lines

        rows = [f for _, f in lines(path)]
        if not rows:
            raise ChromoflowError(
                f"{path}: empty chromosome alias file; expected UCSC's chromAlias.txt for the assembly"
            )
        header = rows[0][0].startswith("#")
        body = rows[1:] if header else rows
        body = [r for r in body if not r[0].startswith("#")]
        table_layout = (
            not header
            and all(len(r) == 3 for r in body)
            and sum(r[2].strip().lower() in _ALIAS_SOURCES for r in body) >= len(body) / 2
        )
        if table_layout:
            by_chrom: dict[str, list[str]] = {}
            for alias, chrom, _ in body:
                by_chrom.setdefault(chrom, [chrom]).append(alias)
            groups = list(by_chrom.values())
        else:
            groups = [[x.strip() for x in r] for r in body]
        if not groups or all(len(g) < 2 for g in groups):
            raise ChromoflowError(
                f"{path}: no chromosome with two names; expected UCSC's chromAlias.txt (a '# ucsc ...' header and one line per chromosome, or alias/chrom/source lines)"
            )
        return cls(groups, str(path))

    def translate(self, name: str, available) -> str:
        """``name`` if ``available`` has it, else the alias of it that ``available`` has (else ``name``)."""
        if name in available:
            return name
        return next((a for a in self._group.get(name, ()) if a in available), name)

    def rename(self, names, available) -> np.ndarray:
        """:meth:`translate` for every entry of ``names``."""
        names = np.asarray(names, dtype=object)
        table = {n: self.translate(n, available) for n in set(names.tolist())}
        return np.array([table[n] for n in names.tolist()], dtype=object)

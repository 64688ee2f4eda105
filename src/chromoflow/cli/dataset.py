import os

import click

from ..genome import ChromAliases
from ..prep.featurize import DEFAULT_BIN_SIZES, Layout, build_dataset, parse_tracks
from ..prep.genes import read_genes
from ..prep.pcres import read_pcres
from ._base import command


def _bin_sizes(ctx, param, value):
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected comma-separated integers, e.g. 2000,500,100") from None
    if not sizes or any(s <= 0 for s in sizes):
        raise click.BadParameter(f"{value!r}: bin sizes must be positive")
    if len(set(sizes)) != len(sizes):
        raise click.BadParameter(f"{value!r}: a bin size is listed twice; give each resolution once")
    return sizes


@command("dataset")
@click.option("--sample", required=True, help="Sample name; also the expression column to use.")
@click.option(
    "--genes", "genes_path", required=True, type=click.Path(dir_okay=False), help="genes.tsv from 'chromoflow genes'."
)
@click.option(
    "--pcres", "pcres_path", type=click.Path(dir_okay=False), help="pcres.tsv from 'chromoflow pcres' (omit: no pCREs)."
)
@click.option(
    "--track",
    "tracks",
    multiple=True,
    required=True,
    metavar="MARK=FILE",
    help="One histone-mark track (bigWig or indexed BAM); repeat per mark. Order = channel order.",
)
@click.option("--expression", type=click.Path(dir_okay=False), help="TSV with gene_id and one column per sample.")
@click.option(
    "--folds",
    default="auto",
    show_default=True,
    help="official | chrom:K | random:K | auto (official for human chromosome names, else chrom:4).",
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Seed for --folds random:K.")
@click.option(
    "--window",
    default=40_000,
    show_default=True,
    type=click.IntRange(1),
    help="Promoter window around the TSS and pCRE slot width (bp).",
)
@click.option(
    "--bin-sizes",
    default=",".join(map(str, DEFAULT_BIN_SIZES)),
    show_default=True,
    callback=_bin_sizes,
    help="Comma-separated bin sizes (bp).",
)
@click.option("--max-pcres", default=8, show_default=True, type=click.IntRange(1, 10_000), help="pCRE slots per gene.")
@click.option(
    "--min-mapq",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="BAM tracks: ignore reads below this mapping quality.",
)
@click.option(
    "--allow-missing-chroms", is_flag=True, help="Read chromosomes a track lacks as zero signal instead of failing."
)
@click.option(
    "--chrom-aliases",
    type=click.Path(dir_okay=False),
    help="UCSC chromAlias.txt of the assembly: match genes and tracks whose chromosome names differ (RefSeq, GenBank, Ensembl, UCSC).",
)
@click.option(
    "-j",
    "--jobs",
    default=min(4, os.cpu_count() or 1),
    show_default=True,
    type=click.IntRange(1),
    help="Worker processes.",
)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output HDF5 dataset (NAME.h5).")
def command(
    sample,
    genes_path,
    pcres_path,
    tracks,
    expression,
    folds,
    seed,
    window,
    bin_sizes,
    max_pcres,
    min_mapq,
    allow_missing_chroms,
    chrom_aliases,
    jobs,
    output,
):
    """Build one sample's training-ready HDF5 dataset."""
    marks, files = parse_tracks(tracks)
    layout = Layout(window=window, bin_sizes=bin_sizes, max_pcres=max_pcres)
    genes = read_genes(genes_path)
    pcres = read_pcres(pcres_path) if pcres_path else None
    sources = {"genes": genes_path, "pcres": pcres_path, "expression": expression, "tracks": dict(zip(marks, files))}
    summary = build_dataset(
        output,
        sample,
        genes,
        marks,
        files,
        pcres=pcres,
        expression=expression,
        folds=folds,
        seed=seed,
        layout=layout,
        jobs=jobs,
        min_mapq=min_mapq,
        allow_missing_chroms=allow_missing_chroms,
        sources=sources,
        aliases=ChromAliases.read(chrom_aliases) if chrom_aliases else None,
    )
    click.echo(
        f"{output}: {summary['genes']} genes, {summary['pcres']} pCREs, {summary['marks']} marks, folds {summary['folds']}",
        err=True,
    )

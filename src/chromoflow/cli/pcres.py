import click

from ..genome import ChromAliases
from ..log import note, warn
from ..prep.contacts import contact_format
from ..prep.genes import read_genes
from ..prep.pcres import MATRIX_BAND, PcreRules, find_pcres, write_pcres
from ._base import command


@command("pcres")
@click.option(
    "--genes", "genes_path", required=True, type=click.Path(dir_okay=False), help="genes.tsv from 'chromoflow genes'."
)
@click.option(
    "--contacts",
    required=True,
    help="Loop/interaction list: BEDPE (.bedpe[.gz]; 6+ columns, header optional) or CHiCAGO .ibed[.gz]; "
    "or a Hi-C/Micro-C matrix: .cool, .mcool::resolutions/N, .hic or .hic::resolutions/N.",
)
@click.option(
    "--min-score",
    default=1.5,
    show_default=True,
    type=float,
    help="Keep partners with score above this (list score; observed/expected for matrices).",
)
@click.option(
    "--max-pcres",
    default=8,
    show_default=True,
    type=click.IntRange(1, 10_000),
    help="At most this many pCREs per gene, best score first.",
)
@click.option(
    "--max-length",
    default=40_000,
    show_default=True,
    type=click.IntRange(1),
    help="Maximum pCRE length (bp); must not exceed the dataset window.",
)
@click.option(
    "--max-distance",
    type=click.IntRange(0),
    help=f"Maximum TSS-to-pCRE-midpoint distance (bp). Default: no cap for lists (the published rule); {MATRIX_BAND:,} for matrices.",
)
@click.option(
    "--min-distance",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Minimum TSS-to-pCRE-midpoint distance (bp).",
)
@click.option(
    "--anchors",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "first", "either"]),
    help="BEDPE: 'first' = anchor 1 is the bait (pcHi-C lists); 'either' = undirected loops; 'auto' = first for headerless scored lists, either for loop lists.",
)
@click.option(
    "--score-column",
    help=(
        "BEDPE: the score column, by header NAME, 1-based number N, or a ratio A/B (e.g. observed/expectedDonut); "
        "p/q-value and FDR columns become -log10. Default: 'score' or column 8; none = unscored."
    ),
)
@click.option(
    "--min-count",
    default=5,
    show_default=True,
    type=click.FloatRange(0),
    help="Matrices: minimum raw reads in a partner pixel (sparse maps make most top O/E pixels single reads).",
)
@click.option(
    "--normalization",
    default="auto",
    show_default=True,
    help="Matrices: balancing weights (cooler column or .hic normalisation: weight, KR, SCALE, ICE, VC, …); auto = weight, else SCALE, KR, ICE, VC_SQRT, VC.",
)
@click.option(
    "--no-balance", is_flag=True, help="Matrices: score raw counts (observed/expected) instead of normalised ones."
)
@click.option(
    "--chrom-aliases",
    type=click.Path(dir_okay=False),
    help="UCSC chromAlias.txt of the assembly: match contacts and genes whose chromosome names differ (RefSeq, GenBank, Ensembl, UCSC).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output pcres.tsv (gene_id, rank, chrom, start, end, score).",
)
def command(
    genes_path,
    contacts,
    min_score,
    max_pcres,
    max_length,
    max_distance,
    min_distance,
    anchors,
    score_column,
    min_count,
    normalization,
    no_balance,
    chrom_aliases,
    output,
):
    """Putative cis-regulatory elements (pCREs) of each gene from 3D contacts.

    Partners of all of a gene's TSSs are pooled; the published Chromoformer
    rules apply (score > --min-score, length <= --max-length, cis, no distance
    cap, best --max-pcres by score, ties by interval text). See the README's
    "Input formats" for every accepted contact format.
    """
    genes = read_genes(genes_path)
    rules = PcreRules(
        min_score=min_score,
        max_pcres=max_pcres,
        max_length=max_length,
        max_distance=max_distance,
        min_distance=min_distance,
        min_count=min_count,
        anchors=anchors,
        score_column=score_column,
        balance=not no_balance,
        normalization=normalization,
    )
    matrix_only = [
        f"--{k}"
        for k, v, default in (
            ("min-count", min_count, 5),
            ("normalization", normalization, "auto"),
            ("no-balance", no_balance, False),
        )
        if v != default
    ]
    if matrix_only and contact_format(contacts) in ("bedpe", "ibed"):
        warn(f"{contacts}: {', '.join(matrix_only)} apply to Hi-C matrices only; ignored for this interaction list")
    notes: list[str] = []
    pcres = find_pcres(
        genes, contacts, rules, notes=notes, aliases=ChromAliases.read(chrom_aliases) if chrom_aliases else None
    )
    for line in notes:
        note(f"{contacts}: {line}")
    write_pcres(pcres, output)
    n_with = pcres["gene_id"].nunique() if len(pcres) else 0
    click.echo(f"{output}: {len(pcres)} pCREs for {n_with} of {len(genes)} genes", err=True)

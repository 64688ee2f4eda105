import click

from ..prep.simulate import simulate
from ._base import command


@command("simulate")
@click.option(
    "--genes",
    "n_genes",
    default=1000,
    show_default=True,
    type=click.IntRange(20),
    help="Number of genes (genome size scales with it: ~150 kb per gene).",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(0),
    help="Random seed; the same seed gives the same files.",
)
@click.option(
    "--cool/--no-cool",
    default=True,
    show_default=True,
    help="Write contacts.mcool (skip for very large genomes; interactions.bedpe is always written).",
)
@click.option(
    "--assembly",
    default="hg19",
    show_default=True,
    type=click.Choice(["hg19", "mm10"]),
    help="Shape the genome's chromosomes like this assembly's (human or mouse).",
)
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="Output folder.")
def command(n_genes, seed, cool, assembly, outdir):
    """Write a synthetic cell-type pair with a known answer (tracks, contacts, GTF, expression)."""
    genome = simulate(outdir, n_genes=n_genes, seed=seed, cool=cool, assembly=assembly)
    click.echo(
        f"{outdir}: {len(genome.genes)} genes, {len(genome.enhancers)} looped enhancers, {len(genome.chroms)} chromosomes",
        err=True,
    )

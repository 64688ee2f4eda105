import click

from ..prep.genes import genes_from_bed, genes_from_gtf, write_genes
from ._base import command


@command("genes")
@click.option("--gtf", type=click.Path(dir_okay=False), help="GTF annotation (Ensembl/GENCODE; .gz ok).")
@click.option("--bed", type=click.Path(dir_okay=False), help="BED6: chrom, start, end, gene_id, score, strand.")
@click.option(
    "--gene-type",
    "gene_types",
    multiple=True,
    help="Keep genes of this biotype (gene_type/gene_biotype), e.g. protein_coding; repeatable. GTF only.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output genes.tsv (gene_id, chrom, tss, strand).",
)
def command(gtf, bed, gene_types, output):
    """One TSS per gene from a GTF or BED6 annotation (0-based TSS, strand-aware)."""
    if bool(gtf) == bool(bed):
        raise click.UsageError("give exactly one of --gtf or --bed")
    if bed and gene_types:
        raise click.UsageError("--gene-type needs --gtf (BED files carry no biotype)")
    genes = genes_from_gtf(gtf, gene_types) if gtf else genes_from_bed(bed)
    write_genes(genes, output)
    click.echo(f"{output}: {len(genes)} genes on {genes['chrom'].nunique()} chromosomes", err=True)

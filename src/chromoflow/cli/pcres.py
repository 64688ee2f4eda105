import click

from ..prep.genes import read_genes
from ..prep.pcres import PcreRules, find_pcres, write_pcres


@click.command("pcres")
@click.option("--genes", "genes_path", required=True, type=click.Path(dir_okay=False), help="genes.tsv from 'chromoflow genes'.")
@click.option("--contacts", required=True, help="BEDPE (.bedpe[.gz]), CHiCAGO .ibed[.gz], .cool or .mcool::resolutions/N.")
@click.option("--min-score", default=1.5, show_default=True, type=float, help="Keep partners with score above this (BEDPE/ibed score; observed/expected for coolers).")
@click.option("--max-pcres", default=8, show_default=True, type=click.IntRange(1), help="At most this many pCREs per gene, best score first.")
@click.option("--max-distance", default=2_000_000, show_default=True, type=click.IntRange(0), help="Maximum TSS-to-pCRE-midpoint distance (bp).")
@click.option("--min-distance", default=0, show_default=True, type=click.IntRange(0), help="Minimum TSS-to-pCRE-midpoint distance (bp).")
@click.option("--max-length", default=40_000, show_default=True, type=click.IntRange(1), help="Maximum pCRE length (bp); must not exceed the dataset window.")
@click.option("--no-balance", is_flag=True, help="Coolers: score raw counts (observed/expected) instead of requiring a balanced matrix.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output pcres.tsv (gene_id, rank, chrom, start, end, score).")
def command(genes_path, contacts, min_score, max_pcres, max_distance, min_distance, max_length, no_balance, output):
    """Putative cis-regulatory elements (pCREs) of each gene from 3D contacts."""
    genes = read_genes(genes_path)
    rules = PcreRules(min_score=min_score, max_pcres=max_pcres, max_distance=max_distance, max_length=max_length, min_distance=min_distance)
    pcres = find_pcres(genes, contacts, rules, balance=not no_balance)
    write_pcres(pcres, output)
    n_with = pcres["gene_id"].nunique() if len(pcres) else 0
    click.echo(f"{output}: {len(pcres)} pCREs for {n_with} of {len(genes)} genes", err=True)

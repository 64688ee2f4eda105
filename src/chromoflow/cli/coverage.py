import click

from ..prep.coverage import bam_to_bigwig
from ._base import command


@command("coverage")
@click.option("--bam", required=True, type=click.Path(dir_okay=False), help="Indexed BAM of one histone-mark ChIP-seq.")
@click.option(
    "--min-mapq", default=0, show_default=True, type=click.IntRange(0), help="Ignore reads below this mapping quality."
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output bigWig of per-base read depth."
)
def command(bam, min_mapq, output):
    """Per-base read depth of a BAM as a bigWig (unmapped, secondary, supplementary, duplicate and QC-fail reads skipped)."""
    n = bam_to_bigwig(bam, output, min_mapq=min_mapq)
    click.echo(f"{output}: {n} depth runs", err=True)

import click

from ._base import command


@command("summarize")
@click.option(
    "--manifest",
    required=True,
    type=click.Path(dir_okay=False),
    help="TSV: sample, task, model, fold, predictions[, metrics] (paths relative to --base).",
)
@click.option(
    "--base",
    type=click.Path(file_okay=False),
    help="Folder the manifest's paths are relative to (default: the manifest's folder).",
)
@click.option(
    "-o",
    "--outdir",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder: metrics.tsv, metrics_by_model.tsv, predictions.tsv, metrics.png.",
)
def command(manifest, base, outdir):
    """One metrics table over samples x tasks x models x folds (scored from the predictions)."""
    from ..evaluate.summary import summarize

    table = summarize(manifest, outdir, base)
    click.echo(f"{outdir}: {len(table)} runs summarised", err=True)

import click

from ._base import command


@command("report")
@click.option(
    "--summary",
    required=True,
    type=click.Path(file_okay=False),
    help="The folder 'chromoflow summarize' wrote (metrics.tsv, predictions.tsv, metrics.png).",
)
@click.option(
    "--interpretation",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A folder with 'chromoflow perturb' outputs (effects.tsv, links.bedpe, tracks/); repeatable.",
)
@click.option(
    "--run-info",
    type=click.Path(dir_okay=False),
    help="JSON describing the run: samples, marks, folds, models, tasks, parameters, versions, outputs.",
)
@click.option(
    "--versions", type=click.Path(dir_okay=False), help="software_versions.yml of the run, shown in the overview."
)
@click.option(
    "--truth",
    type=click.Path(dir_okay=False),
    help="Simulated data: its interactions.bedpe, to score the recovery of planted enhancers.",
)
@click.option("--title", default="chromoflow report", show_default=True)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="report.html (self-contained: figures embedded).",
)
def command(summary, interpretation, run_info, versions, truth, title, output):
    """One self-contained HTML report: metrics, the gain from 3D contacts, curves, links and attribution."""
    from ..evaluate.report import write_report

    write_report(
        summary, output, interpretation=interpretation, run_info=run_info, truth=truth, title=title, versions=versions
    )
    click.echo(f"{output}: written", err=True)

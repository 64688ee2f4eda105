import click

from ..prep.binned import BINNED_MARKS, import_binned
from ._base import command


@command("import-binned")
@click.option(
    "--csv",
    "csvs",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False),
    help="A DeepChrome/AttentiveChrome CSV (gene_id,bin_id,marks…,label; 100 bins per gene); repeat for train, valid, test: each file is one fold, in order.",
)
@click.option(
    "--marks",
    help=f"Comma-separated names of the mark columns (default: {','.join(BINNED_MARKS)} for 5 columns, as the originals order them).",
)
@click.option("--sample", help="Sample name (default: the CSV's folder name, e.g. E003).")
@click.option(
    "--transform",
    default="raw",
    show_default=True,
    type=click.Choice(["raw", "log1p"]),
    help="Keep read counts as they are (the originals) or store ln(1 + count) (chromoflow's own datasets).",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Output chromoflow dataset (NAME.h5)."
)
def command(csvs, marks, sample, transform, output):
    """A chromoflow dataset from DeepChrome/AttentiveChrome binned CSVs (±5 kb, 100 x 100 bp).

    Train the baselines on it with the original split, e.g.
    chromoflow train --dataset E003.h5 --model attentivechrome --task classification --fold 3 --val-fold 2.
    """
    summary = import_binned(
        list(csvs), output, marks=marks.split(",") if marks else None, sample=sample, transform=transform
    )
    folds = ", ".join(f"fold {k + 1} = {name} ({n} genes)" for k, (name, n) in enumerate(summary["folds"].items()))
    click.echo(f"{output}: {summary['genes']} genes, marks {','.join(summary['marks'])}; {folds}", err=True)

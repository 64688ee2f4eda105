import click

from ._base import command


@command("predict")
@click.option("--dataset", required=True, type=click.Path(dir_okay=False), help="NAME.h5 from 'chromoflow dataset'.")
@click.option(
    "--checkpoint",
    required=True,
    type=click.Path(dir_okay=False),
    help="model.pt from 'chromoflow train', or an official Chromoformer checkpoint (.pt with 'net').",
)
@click.option("--reference", type=click.Path(dir_okay=False), help="Second sample's dataset, for fold-change models.")
@click.option("--fold", type=click.IntRange(0), help="Only genes of this fold (default: all genes).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda[:N].")
@click.option(
    "--precision",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "bf16", "fp32"]),
    help="auto = bf16 mixed precision on CUDA, fp32 on CPU.",
)
@click.option("--batch-size", default=256, show_default=True, type=click.IntRange(1))
@click.option(
    "--attention",
    type=click.Path(dir_okay=False),
    help="Also write attention: BEDPE of promoter-to-pCRE attention (chromoformer) or mark/bin attention TSV (attentivechrome).",
)
@click.option(
    "--heldout-fold",
    type=click.IntRange(1, 4),
    help="Official checkpoints: the published fold (1-4) it was not trained on, when its file name does not say (…-fold{K}.pt).",
)
@click.option(
    "--info",
    "info_path",
    type=click.Path(dir_okay=False),
    help="Also write a JSON of the checkpoint's origin and held-out rule (for 'chromoflow summarize').",
)
@click.option(
    "--bed",
    type=click.Path(dir_okay=False),
    help="Also write the predictions at each TSS for genome browsers: bedGraph if the name ends in .bedgraph/.bg, else BED6 (score = prediction scaled to 0-1000) + prediction + gene name.",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="predictions.tsv: gene_id, prediction, fold, label/target.",
)
def command(
    dataset, checkpoint, reference, fold, device, precision, batch_size, attention, heldout_fold, info_path, bed, output
):
    """Predict expression (class probability, level or fold change) for a dataset's genes."""
    from ..evaluate.predict import predict

    frame = predict(
        dataset,
        checkpoint,
        output,
        device=device,
        precision=precision,
        reference=reference,
        fold=fold,
        attention=attention,
        batch_size=batch_size,
        heldout_fold=heldout_fold,
        info_path=info_path,
        bed=bed,
    )
    click.echo(f"{output}: {len(frame)} predictions", err=True)
